//! `ampsecret push`: write a scope's secrets to SSM.

use super::{ApiCalls, ScopeReport, emit_per_scope};
use crate::cli::{PushArgs, Tier};
use crate::error::{Error, Result};
use crate::output::{Change, Output, Plan, Render, Style, Tally, count};
use crate::secret::needs_advanced_tier;
use crate::session::Context;
use crate::ssm::engine::Outcome;
use crate::ssm::execute::{Done, WriteOptions, execute};
use crate::ssm::governor::{Governor, Limits};
use crate::ssm::plan::{self, Action, Direction, Status, Step};
use crate::ssm::remote::LazyRemote;
use crate::ssm::setup::Target;
use crate::ssm::sync::{self, SyncSession};
use crate::ssm::tags::{self, TagStep, Tags};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, Write};

pub fn run(cx: &Context, out: &Output, args: PushArgs) -> Result<()> {
    let remote = LazyRemote::new(&args.sync.aws);
    let want_tags = tags::wanted(&cx.require_vault_dir()?.config.tags, &args.tags)?;
    let plans: Vec<ScopePlan> = sync::plan_each(
        cx,
        &args.sync,
        &remote,
        Direction::Push,
        |statuses, decisions| plan::plan_push(statuses, args.prune, decisions),
    )?
    .into_iter()
    .map(|(session, steps)| {
        let tags = tags::plan_tags(&session, &steps, &want_tags)?;
        Ok(ScopePlan {
            session,
            steps,
            tags,
        })
    })
    .collect::<Result<_>>()?;

    let changes: usize = plans
        .iter()
        .map(|p| p.changes().count() + p.tags.iter().filter(|t| !t.change.add.is_empty()).count())
        .sum();
    let needs_confirmation = changes > 0 && !args.sync.dry_run;
    if needs_confirmation {
        cx.require_consent(args.sync.yes, "push", true)?;
    }
    sync::show_target(out, &remote);
    if !out.json {
        for plan in &plans {
            out.print(&PlanView {
                plan,
                tier: args.tier,
            })?;
        }
    }
    if args.sync.dry_run {
        return finish(out, &plans, &[], true, args.sync.all);
    }
    if needs_confirmation {
        let target = match plans.as_slice() {
            [one] => one.session.prefix.clone(),
            _ => format!("{} scopes", plans.len()),
        };
        let question = format!("Apply {} to {target}?", count(changes, "change"));
        cx.confirm(args.sync.yes, "push", true, &question)?;
    }

    // One governor for the whole run: SSM's write budget is per account and Region, not
    // per prefix, so every scope's writes share it.
    let governor = Governor::new(Limits::writes(args.max_tps));
    let options = WriteOptions {
        tier: args.tier,
        kms_key_id: args.kms_key_id.as_deref(),
        concurrency: usize::from(args.concurrency),
        show_progress: !out.json,
    };
    let mut outcomes = Vec::new();
    for plan in &plans {
        outcomes.push(execute(
            &plan.session,
            &plan.steps,
            &plan.tags,
            &governor,
            options,
        )?);
    }
    finish(out, &plans, &outcomes, false, args.sync.all)
}

/// One scope's push, planned.
struct ScopePlan<'a> {
    session: SyncSession<'a>,
    steps: Vec<Step>,
    /// Tags to add (none read or planned when no tag is wanted).
    tags: Vec<TagStep>,
}

impl ScopePlan<'_> {
    /// The steps that change SSM, or the vault where SSM's value was chosen.
    fn changes(&self) -> impl Iterator<Item = &Step> {
        self.steps
            .iter()
            .filter(|s| matches!(s.action, Action::Put | Action::Delete | Action::Store))
    }
}

/// The plan a person confirms: one line per change.
struct PlanView<'a> {
    plan: &'a ScopePlan<'a>,
    tier: Option<Tier>,
}

impl Render for PlanView<'_> {
    fn render(&self, _: &mut dyn Write, err: &mut dyn Write) -> io::Result<()> {
        let session = &self.plan.session;
        let changes: Vec<&Step> = self.plan.changes().collect();
        if changes.is_empty() && self.plan.tags.is_empty() {
            return writeln!(
                err,
                "Nothing to push: {} matches the vault's {}.",
                session.prefix, session.scope
            );
        }
        let mut plan = Plan::new(format!("Plan for {} ({}):", session.prefix, session.scope));
        for step in changes {
            let change = change_of(step);
            let what = match (step.action, step.status) {
                (Action::Delete, Status::OnlyRemote) => "delete (only in SSM)".to_owned(),
                (Action::Delete, _) => "delete (removed here)".to_owned(),
                (Action::Store, status) => format!(
                    "keep SSM's value: store it in the vault ({})",
                    status.describe()
                ),
                (_, Status::AddedHere) => "create (new)".to_owned(),
                (_, status) => format!("{} ({})", change.verb(), status.describe()),
            };
            let advanced = session
                .local
                .get(&step.name)
                .is_some_and(|(v, _)| needs_advanced_tier(v.len()));
            let note = if advanced && self.tier.is_none() {
                "; Advanced tier: value over 4 KB"
            } else {
                ""
            };
            plan.line(change, &step.name, format!("{what}{note}"));
        }
        for step in &self.plan.tags {
            if step.change.add.is_empty() {
                plan.marked("=", Style::Quiet, &step.name, step.change.describe());
            } else {
                let what = format!("tag {}", step.change.describe());
                plan.marked("#", Style::Changed, &step.name, what);
            }
        }
        plan.write(err)
    }
}

/// A planned change in the one vocabulary of reports.
fn change_of(step: &Step) -> Change {
    match (step.action, step.status) {
        (Action::Delete, _) => Change::Delete,
        (Action::Store, _) => Change::Store,
        (_, Status::AddedHere | Status::DeletedRemote) => Change::Create,
        _ => Change::Update,
    }
}

/// `--json`: what was planned, applied, skipped and failed, and the API calls made.
#[derive(Serialize)]
struct Pushed {
    scope: String,
    prefix: String,
    target: Target,
    dry_run: bool,
    planned: Vec<Planned>,
    applied: Vec<Applied>,
    /// Secrets whose SSM value was kept and stored in the vault.
    stored: Vec<String>,
    /// Tags planned: only those a parameter lacks.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<PlannedTags>,
    /// Parameters whose tags were added.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tagged: Vec<String>,
    skipped: Vec<Skipped>,
    failed: Vec<Failed>,
    /// Changes not made because the run was interrupted (Ctrl-C, SIGTERM).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    not_applied: Vec<String>,
    /// Secrets the vault changed while the push ran: left alone.
    changed_meanwhile: Vec<String>,
    /// Per scope for one scope; for `--all`, once for the whole run.
    #[serde(skip_serializing_if = "Option::is_none")]
    api_calls: Option<ApiCalls>,
}

impl ScopeReport for Pushed {
    fn set_api_calls(&mut self, calls: ApiCalls) {
        self.api_calls = Some(calls);
    }
}

#[derive(Serialize)]
struct Planned {
    name: String,
    status: &'static str,
    action: Change,
}

#[derive(Serialize)]
struct PlannedTags {
    name: String,
    /// Tags to add.
    tags: Tags,
    /// Values those tags replace.
    #[serde(skip_serializing_if = "Tags::is_empty")]
    replaced: Tags,
    /// Defaults not applied: the parameter holds another value (SSM's value by key).
    #[serde(skip_serializing_if = "Tags::is_empty")]
    kept: Tags,
}

#[derive(Serialize)]
struct Applied {
    name: String,
    action: Change,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<i64>,
}

#[derive(Serialize)]
struct Skipped {
    name: String,
    status: &'static str,
}

#[derive(Serialize)]
struct Failed {
    name: String,
    action: &'static str,
    error: String,
}

impl Render for Pushed {
    fn render(&self, _: &mut dyn Write, err: &mut dyn Write) -> io::Result<()> {
        let mut problems = Plan::new(String::new());
        for failed in &self.failed {
            problems.problem(
                &failed.name,
                format!("{} failed: {}", failed.action, failed.error),
            );
        }
        for name in &self.changed_meanwhile {
            problems.problem(
                name,
                "changed in the vault during the push; kept".to_owned(),
            );
        }
        problems.write_lines(err)?;
        let mut tally = Tally::default();
        let planned = if self.dry_run {
            self.planned.iter().map(|p| p.action).collect::<Vec<_>>()
        } else {
            self.applied
                .iter()
                .map(|a| a.action)
                .chain(self.stored.iter().map(|_| Change::Store))
                .collect()
        };
        for change in planned {
            tally.add(change);
        }
        // A push with nothing planned already said so in its plan (tags aside).
        if !self.planned.is_empty() || !self.failed.is_empty() {
            let summary = tally.summary(self.dry_run, self.failed.len(), &self.prefix, "");
            writeln!(err, "{summary}")?;
        }
        if !self.tagged.is_empty() {
            writeln!(
                err,
                "Tagged {} in {}.",
                count(self.tagged.len(), "parameter"),
                self.prefix
            )?;
        }
        Ok(())
    }
}

/// Prints the report (one per scope) and turns failures into the exit code: partial (7)
/// when anything was applied, remote (6) when nothing was.
fn finish(
    out: &Output,
    plans: &[ScopePlan<'_>],
    outcomes: &[Done],
    dry_run: bool,
    all: bool,
) -> Result<()> {
    let nothing = Done::default();
    let reports: Vec<Pushed> = plans
        .iter()
        .enumerate()
        .map(|(i, plan)| report(plan, outcomes.get(i).unwrap_or(&nothing), dry_run))
        .collect();
    let failed: Vec<String> = reports
        .iter()
        .flat_map(|r| r.failed.iter().map(move |f| failure_label(r, f, all)))
        .collect();
    let applied: usize = reports
        .iter()
        .map(|r| r.applied.len() + r.tagged.len())
        .sum();
    let api_calls = plans
        .first()
        .map(|p| p.session.remote.ssm().calls())
        .unwrap_or_default();
    let not_applied: Vec<String> = reports
        .iter()
        .flat_map(|r| r.not_applied.iter().cloned())
        .collect();
    emit_per_scope(out, "push", all, reports, api_calls)?;
    if crate::sys::interrupt::requested() {
        return Err(crate::ssm::execute::interrupted(&not_applied));
    }
    match (failed.len(), applied) {
        (0, _) => Ok(()),
        (_, 0) => Err(Error::Remote(format!(
            "no change was applied; {} failed ({}); fix the cause and re-run",
            failed.len(),
            failed.join(", ")
        ))),
        (n, applied) => Err(Error::Partial(format!(
            "{n} of {} changes failed ({}); the rest were applied; re-run to retry",
            n + applied,
            failed.join(", ")
        ))),
    }
}

/// A failed name, with its scope when a run covers several.
fn failure_label(report: &Pushed, failed: &Failed, all: bool) -> String {
    if all {
        format!("{} in {}", failed.name, report.scope)
    } else {
        failed.name.clone()
    }
}

/// One scope's report: what was planned, applied, skipped and failed.
fn report(plan: &ScopePlan<'_>, done: &Done, dry_run: bool) -> Pushed {
    let (session, steps) = (&plan.session, &plan.steps);
    let by_name: BTreeMap<&str, &Step> = steps.iter().map(|s| (s.name.as_str(), s)).collect();
    let change = |name: &str| {
        by_name
            .get(name)
            .map_or(Change::Update, |step| change_of(step))
    };
    let mut applied = Vec::new();
    let mut failed = Vec::new();
    let mut not_applied = Vec::new();
    for (name, outcome) in &done.remote {
        match outcome {
            Outcome::Written { version } => applied.push(Applied {
                name: name.clone(),
                action: change(name),
                version: Some(*version),
            }),
            Outcome::Deleted => applied.push(Applied {
                name: name.clone(),
                action: Change::Delete,
                version: None,
            }),
            Outcome::Failed(error) if error.is_interrupted() => not_applied.push(name.clone()),
            Outcome::Failed(error) => failed.push(Failed {
                name: name.clone(),
                action: change(name).verb(),
                error: error.to_string(),
            }),
        }
    }
    let mut tagged = Vec::new();
    for (name, result) in &done.tagged {
        match result {
            Ok(()) => tagged.push(name.clone()),
            Err(error) if error.is_interrupted() => not_applied.push(name.clone()),
            Err(error) => failed.push(Failed {
                name: name.clone(),
                action: "tag",
                error: error.to_string(),
            }),
        }
    }
    tagged.sort();
    applied.sort_by(|a, b| a.name.cmp(&b.name));
    failed.sort_by(|a, b| a.name.cmp(&b.name));
    not_applied.sort();
    Pushed {
        not_applied,
        scope: session.scope.to_string(),
        prefix: session.prefix.clone(),
        target: session.remote.target(),
        dry_run,
        planned: plan
            .changes()
            .map(|s| Planned {
                name: s.name.clone(),
                status: s.status.as_str(),
                action: change_of(s),
            })
            .collect(),
        skipped: steps
            .iter()
            .filter(|s| matches!(s.action, Action::Skip | Action::RecordSync))
            .map(|s| Skipped {
                name: s.name.clone(),
                status: s.status.as_str(),
            })
            .collect(),
        api_calls: None,
        applied,
        stored: done.stored.clone(),
        tags: plan
            .tags
            .iter()
            .map(|t| PlannedTags {
                name: t.name.clone(),
                tags: t.change.add.clone(),
                replaced: t.change.replaced.clone(),
                kept: t
                    .change
                    .held
                    .iter()
                    .map(|(k, (old, _))| (k.clone(), old.clone()))
                    .collect(),
            })
            .collect(),
        tagged,
        failed,
        changed_meanwhile: done.changed_meanwhile.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(action: Action, status: Status) -> Step {
        Step {
            name: "K".into(),
            status,
            action,
        }
    }

    #[test]
    fn a_delete_is_reported_as_a_delete_whatever_its_outcome() {
        assert_eq!(
            change_of(&step(Action::Delete, Status::OnlyRemote)).verb(),
            "delete"
        );
        assert_eq!(
            change_of(&step(Action::Put, Status::AddedHere)).verb(),
            "create"
        );
        assert_eq!(
            change_of(&step(Action::Put, Status::DeletedRemote)).verb(),
            "create"
        );
        assert_eq!(
            change_of(&step(Action::Put, Status::ChangedHere)).verb(),
            "update"
        );
        assert_eq!(
            change_of(&step(Action::Put, Status::Conflict)).verb(),
            "update"
        );
    }
}
