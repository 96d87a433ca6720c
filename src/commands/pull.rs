//! `ampsecret pull`: bring a scope's secrets from SSM into the vault.

use super::{ApiCalls, ScopeReport, emit_per_scope};
use crate::cli::PullArgs;
use crate::error::{Error, Result};
use crate::output::{Output, Render, count};
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
        for (_, steps, _) in &plans {
            out.print(&PlanView(steps))?;
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
    Ok(Pulled {
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
struct PlanView<'a>(&'a [Step]);

impl Render for PlanView<'_> {
    fn render(&self, _: &mut dyn Write, err: &mut dyn Write) -> io::Result<()> {
        for step in self.0 {
            let name = &step.name;
            let status = step.status.describe();
            match (step.action, step.status) {
                (Action::Store, _) => writeln!(err, "  < {name}  {status}")?,
                (Action::RemoveLocal, _) => {
                    writeln!(err, "  - {name}  {status}: remove it from the vault")?
                }
                (Action::Put, _) => writeln!(
                    err,
                    "  > {name}  {status}: keep the vault's value and write it to SSM"
                )?,
                (Action::Delete, _) => {
                    writeln!(err, "  x {name}  {status}: delete it from SSM too")?
                }
                (Action::Skip, Status::RemovedHere) => writeln!(
                    err,
                    "  = {name}  removed here; not brought back (--keep-remote brings it back; push deletes it from SSM)"
                )?,
                (Action::Skip, _) => writeln!(err, "  = {name}  kept: {status}")?,
                _ => {}
            }
        }
        Ok(())
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
        for refused in &self.refused {
            writeln!(err, "  ! {}  not stored: {}", refused.name, refused.reason)?;
        }
        for failed in &self.failed {
            writeln!(
                err,
                "  ! {}  writing to SSM failed: {}",
                failed.name, failed.error
            )?;
        }
        if !self.written.is_empty() {
            writeln!(
                err,
                "Wrote the vault's value of {} to {}.",
                self.written.join(", "),
                self.prefix
            )?;
        }
        if !self.removed.is_empty() {
            writeln!(
                err,
                "Removed {} from {} (removed in SSM).",
                self.removed.join(", "),
                self.scope
            )?;
        }
        for name in &self.changed_meanwhile {
            writeln!(
                err,
                "  ! {name}  changed in the vault during the pull; kept"
            )?;
        }
        let verb = if self.dry_run {
            "Would store"
        } else {
            "Stored"
        };
        writeln!(
            err,
            "{verb} {} from {} in {}.",
            count(self.planned.len(), "secret"),
            self.prefix,
            self.scope
        )
    }
}
