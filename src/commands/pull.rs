//! `ampsecret pull`: bring a scope's secrets from SSM into the vault.

use super::{ApiCalls, ScopeReport, emit_per_scope};
use crate::cli::PullArgs;
use crate::error::{Error, Result};
use crate::output::{Change, Output, Plan, Render, Tally, count};
use crate::session::Context;
use crate::ssm::engine::Outcome;
use crate::ssm::execute::{WriteOptions, execute};
use crate::ssm::governor::{Governor, Limits};
use crate::ssm::plan::{self, Action, Direction, Status, Step};
use crate::ssm::remote::LazyRemote;
use crate::ssm::setup::Target;
use crate::ssm::sync::{self, SyncSession};
use serde::Serialize;
use std::io::{self, Write};

pub fn run(cx: &Context, out: &Output, args: PullArgs) -> Result<()> {
    let remote = LazyRemote::new(&args.sync.aws);
    let plans: Vec<_> = sync::plan_each(cx, &args.sync, &remote, Direction::Pull, plan::plan_pull)?
        .into_iter()
        .map(|(session, steps)| {
            let (steps, refused) = refuse_invalid(&session, steps);
            (session, steps, refused)
        })
        .collect();
    let planned: usize = plans
        .iter()
        .map(|(_, steps, _)| changes(steps).count())
        .sum();

    let needs_confirmation = !args.sync.dry_run && planned > 0;
    if needs_confirmation {
        cx.require_consent(args.sync.yes, "pull", true)?;
    }
    sync::show_target(out, &remote);
    if !out.json {
        for (session, steps, _) in &plans {
            out.print(&PlanView { session, steps })?;
        }
    }
    if needs_confirmation {
        let question = match plans.as_slice() {
            [(session, _, _)] => format!(
                "Apply {} from {} to {}?",
                count(planned, "change"),
                session.prefix,
                session.scope
            ),
            _ => format!(
                "Apply {} from SSM to {} scopes?",
                count(planned, "change"),
                plans.len()
            ),
        };
        cx.confirm(args.sync.yes, "pull", true, &question)?;
    }

    // Keeping the vault's value of a conflict writes it to SSM: paced like a push.
    let governor = Governor::new(Limits::writes(10.0));
    let options = WriteOptions {
        tier: None,
        kms_key_id: None,
        concurrency: 4,
        show_progress: !out.json,
    };
    let mut reports = Vec::new();
    for (session, steps, refused) in plans.iter() {
        reports.push(pull_scope(
            session,
            steps,
            refused.clone(),
            args.sync.dry_run,
            &governor,
            options,
        )?);
    }
    let api_calls = plans
        .first()
        .map(|(session, _, _)| session.remote.ssm().calls())
        .unwrap_or_default();
    let failed: Vec<String> = reports
        .iter()
        .flat_map(|r| r.failed.iter().map(|f| f.name.clone()))
        .collect();
    let landed = reports
        .iter()
        .any(|r| !r.written.is_empty() || !r.stored.is_empty());
    emit_per_scope(out, "pull", args.sync.all, reports, api_calls)?;
    if crate::sys::interrupt::requested() {
        return Err(crate::ssm::execute::interrupted(&failed));
    }
    match (failed.is_empty(), landed) {
        (true, _) => Ok(()),
        (false, false) => Err(Error::Remote(format!(
            "no change was applied; writing {} to SSM failed; fix the cause and re-run",
            failed.join(", ")
        ))),
        (false, true) => Err(Error::Partial(format!(
            "writing {} to SSM failed; the rest was applied; re-run to retry",
            failed.join(", ")
        ))),
    }
}

/// The steps that change either side.
fn changes(steps: &[Step]) -> impl Iterator<Item = &Step> {
    steps.iter().filter(|s| {
        matches!(
            s.action,
            Action::Store | Action::RemoveLocal | Action::Put | Action::Delete
        )
    })
}

/// The names a pull stores.
fn stored_by(steps: &[Step]) -> impl Iterator<Item = &str> {
    steps
        .iter()
        .filter(|s| s.action == Action::Store)
        .map(|s| s.name.as_str())
}

/// What SSM holds enters the vault only if `set` would take it too: the steps that would
/// store anything else are dropped and reported (names and reasons, never values).
fn refuse_invalid(session: &SyncSession<'_>, steps: Vec<Step>) -> (Vec<Step>, Vec<Refused>) {
    let mut refused = Vec::new();
    let steps = steps
        .into_iter()
        .filter(|step| {
            if step.action != Action::Store {
                return true;
            }
            match session.parameters[&step.name].value.validate() {
                Ok(_) => true,
                Err(reason) => {
                    refused.push(Refused {
                        name: step.name.clone(),
                        reason: reason.to_string(),
                    });
                    false
                }
            }
        })
        .collect();
    (steps, refused)
}

/// Carries out one scope's pull (unless `dry_run`) and reports it.
fn pull_scope(
    session: &SyncSession<'_>,
    steps: &[Step],
    refused: Vec<Refused>,
    dry_run: bool,
    governor: &Governor,
    options: WriteOptions<'_>,
) -> Result<Pulled> {
    let done = if dry_run {
        Default::default()
    } else {
        execute(session, steps, &[], governor, options)?
    };
    let mut written = Vec::new();
    let mut failed = Vec::new();
    for (name, outcome) in &done.remote {
        match outcome {
            Outcome::Failed(error) => failed.push(Failed {
                name: name.clone(),
                error: error.to_string(),
            }),
            _ => written.push(name.clone()),
        }
    }
    written.sort();
    failed.sort_by(|a, b| a.name.cmp(&b.name));
    let mut tally = Tally::default();
    let by_name = |name: &str| {
        steps
            .iter()
            .find(|s| s.name == name)
            .map_or(Change::Keep, change_of)
    };
    if dry_run {
        changes(steps).for_each(|step| tally.add(change_of(step)));
    } else {
        let landed = done.stored.iter().chain(&done.removed).chain(&written);
        landed.for_each(|name| tally.add(by_name(name)));
    }
    Ok(Pulled {
        tally,
        scope: session.scope.to_string(),
        prefix: session.prefix.clone(),
        target: session.remote.target(),
        dry_run,
        planned: stored_by(steps).map(str::to_owned).collect(),
        stored: done.stored,
        removed: done.removed,
        written,
        failed,
        skipped: steps
            .iter()
            .filter(|s| s.action == Action::Skip)
            .map(|s| Skipped {
                name: s.name.clone(),
                status: s.status.as_str(),
            })
            .collect(),
        changed_meanwhile: done.changed_meanwhile,
        refused,
        api_calls: None,
    })
}

/// What a pull will do, one line per name it stores or keeps.
struct PlanView<'a> {
    session: &'a SyncSession<'a>,
    steps: &'a [Step],
}

/// A pull's step in the one vocabulary of reports (the vault is what changes, except when
/// the vault's value is kept and written to SSM).
fn change_of(step: &Step) -> Change {
    match (step.action, step.status) {
        (Action::Store, Status::OnlyRemote | Status::RemovedHere) => Change::Create,
        (Action::Store, _) => Change::Update,
        (Action::RemoveLocal | Action::Delete, _) => Change::Delete,
        (Action::Put, _) => Change::Write,
        _ => Change::Keep,
    }
}

impl Render for PlanView<'_> {
    fn render(&self, _: &mut dyn Write, err: &mut dyn Write) -> io::Result<()> {
        let session = self.session;
        let mut plan = Plan::new(format!(
            "Plan for {} from {}:",
            session.scope, session.prefix
        ));
        for step in self.steps {
            let name = &step.name;
            let status = step.status.describe();
            let change = change_of(step);
            let what = match (step.action, step.status) {
                (Action::Store, Status::OnlyRemote) => "create (new in SSM)".to_owned(),
                (Action::Store, _) => format!("{} ({status})", change.verb()),
                (Action::RemoveLocal, _) => format!("delete from the vault ({status})"),
                (Action::Put, _) => {
                    format!("keep the vault's value: write it to SSM ({status})")
                }
                (Action::Delete, _) => format!("delete from SSM too ({status})"),
                (Action::Skip, Status::RemovedHere) => {
                    "kept removed here (--keep-remote brings it back; push deletes it from SSM)"
                        .to_owned()
                }
                (Action::Skip, _) => format!("kept ({status})"),
                _ => continue,
            };
            plan.line(change, name, what);
        }
        plan.write(err)
    }
}

/// `--json`: `{"scope","prefix","dry_run","planned","stored","skipped","changed_meanwhile","refused","api_calls"}`.
#[derive(Serialize)]
struct Pulled {
    scope: String,
    prefix: String,
    target: Target,
    dry_run: bool,
    planned: Vec<String>,
    stored: Vec<String>,
    /// Secrets removed from the vault because they were removed in SSM.
    removed: Vec<String>,
    /// Secrets whose vault value was written to SSM (a conflict settled for the vault).
    written: Vec<String>,
    failed: Vec<Failed>,
    skipped: Vec<Skipped>,
    changed_meanwhile: Vec<String>,
    /// Values in SSM that `set` would refuse: not stored (names and reasons, never values).
    refused: Vec<Refused>,
    /// Per scope for one scope; for `--all`, once for the whole run.
    #[serde(skip_serializing_if = "Option::is_none")]
    api_calls: Option<ApiCalls>,
    /// What was planned (a dry run) or done, counted for the last line.
    #[serde(skip)]
    tally: Tally,
}

impl ScopeReport for Pulled {
    fn set_api_calls(&mut self, calls: ApiCalls) {
        self.api_calls = Some(calls);
    }
}

#[derive(Serialize, Clone)]
struct Refused {
    name: String,
    reason: String,
}

#[derive(Serialize)]
struct Failed {
    name: String,
    error: String,
}

#[derive(Serialize)]
struct Skipped {
    name: String,
    status: &'static str,
}

impl Render for Pulled {
    fn render(&self, _: &mut dyn Write, err: &mut dyn Write) -> io::Result<()> {
        let mut problems = Plan::new(String::new());
        for refused in &self.refused {
            problems.problem(&refused.name, format!("not stored: {}", refused.reason));
        }
        for failed in &self.failed {
            problems.problem(
                &failed.name,
                format!("writing to SSM failed: {}", failed.error),
            );
        }
        for name in &self.changed_meanwhile {
            problems.problem(
                name,
                "changed in the vault during the pull; kept".to_owned(),
            );
        }
        problems.write_lines(err)?;
        let target = format!("{} from {}", self.scope, self.prefix);
        let nothing = format!(
            "Nothing to pull: the vault's {} matches {}.",
            self.scope, self.prefix
        );
        let summary = if self.tally.changes() == 0 && !self.refused.is_empty() {
            format!(
                "Applied no change to {target}; {} not stored.",
                count(self.refused.len(), "value")
            )
        } else {
            self.tally
                .summary(self.dry_run, self.failed.len(), &target, &nothing)
        };
        writeln!(err, "{summary}")
    }
}
