//! `ampsecret push`: write a scope's secrets to SSM.

use super::{ApiCalls, ScopeReport, emit_per_scope};
use crate::cli::{PushArgs, Tier};
use crate::error::{Error, Result};
use crate::output::{Output, Render, count};
use crate::secret::needs_advanced_tier;
use crate::session::Context;
use crate::ssm::engine::{Apply, Outcome, PutJob};
use crate::ssm::governor::{Governor, Limits};
use crate::ssm::plan::{self, Action, Direction, Status, Step};
use crate::ssm::remote::LazyRemote;
use crate::ssm::sync::{self, SyncSession};
use aws_sdk_ssm::types::ParameterTier;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, Write};

pub fn run(cx: &Context, out: &Output, args: PushArgs) -> Result<()> {
    let remote = LazyRemote::new(&args.sync.aws);
    let plans: Vec<ScopePlan> = sync::plan_each(
        cx,
        &args.sync,
        &remote,
        Direction::Push,
        |statuses, decisions| plan::plan_push(statuses, args.prune, decisions),
    )?
    .into_iter()
    .map(|(session, steps)| ScopePlan { session, steps })
    .collect();

    let changes: usize = plans.iter().map(|p| p.changes().count()).sum();
    let needs_confirmation = changes > 0 && !args.sync.dry_run;
    if needs_confirmation {
        cx.require_consent(args.sync.yes, "push", true)?;
    }
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
    let mut outcomes = Vec::new();
    for plan in &plans {
        let applied = apply(plan, &args, &governor, out.json);
        record_sync(&plan.session, &plan.steps, &applied)?;
        outcomes.push(applied);
    }
    finish(out, &plans, &outcomes, false, args.sync.all)
}

/// One scope's push, planned.
struct ScopePlan<'a> {
    session: SyncSession<'a>,
    steps: Vec<Step>,
}

impl ScopePlan<'_> {
    /// The steps that change SSM.
    fn changes(&self) -> impl Iterator<Item = &Step> {
        self.steps
            .iter()
            .filter(|s| matches!(s.action, Action::Put | Action::Delete))
    }
}

/// Applies one scope's changes, paced by the run's governor.
fn apply(
    plan: &ScopePlan<'_>,
    args: &PushArgs,
    governor: &Governor,
    json: bool,
) -> Vec<(String, Outcome)> {
    let session = &plan.session;
    let jobs: Vec<PutJob> = plan
        .changes()
        .filter(|s| s.action == Action::Put)
        .map(|s| {
            let value = session.local[&s.name].0.clone();
            PutJob {
                parameter: session.parameter(&s.name),
                tier: tier_for(args.tier, value.len()),
                name: s.name.clone(),
                value,
            }
        })
        .collect();
    let deletes: Vec<(String, String)> = plan
        .changes()
        .filter(|s| s.action == Action::Delete)
        .map(|s| (s.name.clone(), session.parameter(&s.name)))
        .collect();
    if jobs.is_empty() && deletes.is_empty() {
        return Vec::new();
    }
    let apply = Apply {
        ssm: session.remote.ssm(),
        governor,
        concurrency: usize::from(args.concurrency),
        kms_key_id: args.kms_key_id.as_deref(),
        show_progress: !json,
    };
    session.remote.run(apply.run(jobs, deletes))
}

/// SSM tier for a value: the flag, else Advanced when the value needs it, else none sent
/// (the account default, as Amplify does).
fn tier_for(flag: Option<Tier>, len: usize) -> Option<ParameterTier> {
    match flag {
        Some(Tier::Standard) => Some(ParameterTier::Standard),
        Some(Tier::Advanced) => Some(ParameterTier::Advanced),
        Some(Tier::IntelligentTiering) => Some(ParameterTier::IntelligentTiering),
        None if needs_advanced_tier(len) => Some(ParameterTier::Advanced),
        None => None,
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
        if changes.is_empty() {
            return writeln!(
                err,
                "SSM {} matches the vault's {}; nothing to push.",
                session.prefix, session.scope
            );
        }
        writeln!(err, "Plan for {} ({}):", session.prefix, session.scope)?;
        for step in changes {
            let (mark, what) = match (step.action, step.status) {
                (Action::Delete, _) => ("-", "delete (only in SSM)".to_owned()),
                (_, Status::AddedHere) => ("+", "create".to_owned()),
                (_, Status::DeletedRemote) => (
                    "+",
                    "re-create (deleted in SSM since the last sync)".to_owned(),
                ),
                (_, status) => ("~", format!("update ({})", status.describe())),
            };
            let advanced = session
                .local
                .get(&step.name)
                .is_some_and(|(v, _)| needs_advanced_tier(v.len()));
            let note = if advanced && self.tier.is_none() {
                ", Advanced tier: value over 4 KB"
            } else {
                ""
            };
            writeln!(err, "  {mark} {}  {what}{note}", step.name)?;
        }
        Ok(())
    }
}

/// Records what SSM now holds for every name written or already equal, unless the vault
/// changed that secret meanwhile (then its next push will tell).
fn record_sync(
    session: &SyncSession<'_>,
    steps: &[Step],
    outcomes: &[(String, Outcome)],
) -> Result<()> {
    let mut records = Vec::new();
    for (name, outcome) in outcomes {
        if let Outcome::Written { version } = outcome {
            let digest = session.local[name].1.digest;
            records.push((name.clone(), digest, *version));
        }
    }
    for step in steps.iter().filter(|s| s.action == Action::RecordSync) {
        let digest = session.local[&step.name].1.digest;
        if !session.sync_recorded(&step.name, digest) {
            records.push((
                step.name.clone(),
                digest,
                session.parameters[&step.name].version,
            ));
        }
    }
    if records.is_empty() {
        return Ok(());
    }
    let vault = &session.vault;
    vault.dir.update(vault.key, |v| {
        for (name, digest, version) in records {
            let unchanged_meanwhile = v
                .get(&session.scope, &name)
                .is_some_and(|e| e.value.digest() == digest);
            if unchanged_meanwhile {
                v.set_sync(
                    &session.scope,
                    &name,
                    Some(session.sync_state(&name, digest, version)),
                );
            }
        }
        Ok(())
    })
}

/// What a planned change does to SSM, as the plan and the report name it.
fn action_label(step: &Step) -> &'static str {
    match (step.action, step.status) {
        (Action::Delete, _) => "delete",
        (_, Status::AddedHere | Status::DeletedRemote) => "create",
        _ => "update",
    }
}

/// `--json`: what was planned, applied, skipped and failed, and the API calls made.
#[derive(Serialize)]
struct Pushed {
    scope: String,
    prefix: String,
    dry_run: bool,
    planned: Vec<Planned>,
    applied: Vec<Applied>,
    skipped: Vec<Skipped>,
    failed: Vec<Failed>,
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
    action: &'static str,
}

#[derive(Serialize)]
struct Applied {
    name: String,
    action: &'static str,
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
        for failed in &self.failed {
            writeln!(err, "  ! {}  failed: {}", failed.name, failed.error)?;
        }
        let attempted = self.applied.len() + self.failed.len();
        if attempted > 0 {
            writeln!(
                err,
                "Applied {} to {}; {} failed.",
                count(self.applied.len(), "change"),
                self.prefix,
                self.failed.len()
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
    outcomes: &[Vec<(String, Outcome)>],
    dry_run: bool,
    all: bool,
) -> Result<()> {
    let reports: Vec<Pushed> = plans
        .iter()
        .enumerate()
        .map(|(i, plan)| report(plan, outcomes.get(i).map_or(&[], Vec::as_slice), dry_run))
        .collect();
    let failed: Vec<String> = reports
        .iter()
        .flat_map(|r| r.failed.iter().map(move |f| failure_label(r, f, all)))
        .collect();
    let applied: usize = reports.iter().map(|r| r.applied.len()).sum();
    let api_calls = plans
        .first()
        .map(|p| p.session.remote.ssm().calls())
        .unwrap_or_default();
    emit_per_scope(out, "push", all, reports, api_calls)?;
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
fn report(plan: &ScopePlan<'_>, outcomes: &[(String, Outcome)], dry_run: bool) -> Pushed {
    let (session, steps) = (&plan.session, &plan.steps);
    let by_name: BTreeMap<&str, &Step> = steps.iter().map(|s| (s.name.as_str(), s)).collect();
    let label = |name: &str| {
        by_name
            .get(name)
            .map_or("update", |step| action_label(step))
    };
    let mut applied = Vec::new();
    let mut failed = Vec::new();
    for (name, outcome) in outcomes {
        match outcome {
            Outcome::Written { version } => applied.push(Applied {
                name: name.clone(),
                action: label(name),
                version: Some(*version),
            }),
            Outcome::Deleted => applied.push(Applied {
                name: name.clone(),
                action: "delete",
                version: None,
            }),
            Outcome::Failed(error) => failed.push(Failed {
                name: name.clone(),
                action: label(name),
                error: error.to_string(),
            }),
        }
    }
    applied.sort_by(|a, b| a.name.cmp(&b.name));
    failed.sort_by(|a, b| a.name.cmp(&b.name));
    Pushed {
        scope: session.scope.to_string(),
        prefix: session.prefix.clone(),
        dry_run,
        planned: plan
            .changes()
            .map(|s| Planned {
                name: s.name.clone(),
                status: s.status.as_str(),
                action: action_label(s),
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
        failed,
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
            action_label(&step(Action::Delete, Status::OnlyRemote)),
            "delete"
        );
        assert_eq!(
            action_label(&step(Action::Put, Status::AddedHere)),
            "create"
        );
        assert_eq!(
            action_label(&step(Action::Put, Status::DeletedRemote)),
            "create"
        );
        assert_eq!(
            action_label(&step(Action::Put, Status::ChangedHere)),
            "update"
        );
        assert_eq!(action_label(&step(Action::Put, Status::Conflict)), "update");
    }
}
