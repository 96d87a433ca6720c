//! `ampsecret push`: write a scope's secrets to SSM.

use super::Context;
use super::sync::{self, Session, count};
use crate::cli::{PushArgs, Tier};
use crate::error::{Error, Result};
use crate::prompt;
use crate::secret::STANDARD_TIER_MAX;
use crate::ssm::engine::{Apply, Outcome, PutJob};
use crate::ssm::governor::{Governor, Limits};
use crate::ssm::plan::{self, Action, Decisions, Planned, Resolution, Status, Step};
use aws_sdk_ssm::types::ParameterTier;
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub fn run(cx: &Context, args: PushArgs) -> Result<()> {
    let session = Session::load(cx, &args.scope, &args.aws)?;
    let compared = session.compare();
    let statuses: Vec<(&str, Status)> = compared.iter().map(|(n, s)| (n.as_str(), *s)).collect();
    let default = sync::flag_resolution(&args.conflicts, Resolution::KeepLocal);
    let steps = match plan::plan_push(&statuses, args.prune, default, &Decisions::new()) {
        Planned::Ready(steps) => steps,
        Planned::Undecided(names) => {
            let decisions = sync::decide(cx, &names, &compared, "pushing")?;
            match plan::plan_push(&statuses, args.prune, default, &decisions) {
                Planned::Ready(steps) => steps,
                Planned::Undecided(_) => unreachable!("every undecided name was decided"),
            }
        }
    };

    let changes: Vec<&Step> = steps
        .iter()
        .filter(|s| matches!(s.action, Action::Put | Action::Delete))
        .collect();
    let needs_confirmation = !changes.is_empty() && !args.yes && !args.dry_run;
    if needs_confirmation && !cx.interactive {
        return Err(Error::Usage(
            "push changes SSM and there is no terminal to confirm on: pass --yes (or --dry-run to preview)".into(),
        ));
    }
    if !cx.global.json {
        print_plan(&session, &changes, args.tier);
    }
    if args.dry_run {
        let report = report(&session, &steps, &[], true);
        return finish(cx, &session, report, &[]);
    }
    if needs_confirmation {
        let question = format!(
            "Apply {} to {}?",
            count(changes.len(), "change"),
            session.prefix
        );
        if !prompt::confirm(&question, false)? {
            return Err(Error::Cancelled);
        }
    }

    let jobs: Vec<PutJob> = changes
        .iter()
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
    let deletes: Vec<(String, String)> = changes
        .iter()
        .filter(|s| s.action == Action::Delete)
        .map(|s| (s.name.clone(), session.parameter(&s.name)))
        .collect();
    let governor = Governor::new(Limits::writes(args.max_tps));
    let apply = Apply {
        ssm: &session.ssm,
        governor: &governor,
        concurrency: usize::from(args.concurrency),
        kms_key_id: args.kms_key_id.as_deref(),
        show_progress: !cx.global.json,
    };
    let outcomes = session.runtime.block_on(apply.run(jobs, deletes));
    record_sync(&session, &steps, &outcomes)?;
    let report = report(&session, &steps, &outcomes, false);
    finish(cx, &session, report, &outcomes)
}

/// SSM tier for a value: the flag, else Advanced when the value needs it, else none sent
/// (the account default, as Amplify does).
fn tier_for(flag: Option<Tier>, len: usize) -> Option<ParameterTier> {
    match flag {
        Some(Tier::Standard) => Some(ParameterTier::Standard),
        Some(Tier::Advanced) => Some(ParameterTier::Advanced),
        Some(Tier::IntelligentTiering) => Some(ParameterTier::IntelligentTiering),
        None if len > STANDARD_TIER_MAX => Some(ParameterTier::Advanced),
        None => None,
    }
}

fn print_plan(session: &Session, changes: &[&Step], tier: Option<Tier>) {
    if changes.is_empty() {
        eprintln!(
            "SSM {} matches the vault's {}; nothing to push.",
            session.prefix, session.scope
        );
        return;
    }
    eprintln!("Plan for {} ({}):", session.prefix, session.scope);
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
            .is_some_and(|(v, _)| v.len() > STANDARD_TIER_MAX);
        let note = if advanced && tier.is_none() {
            ", Advanced tier: value over 4 KB"
        } else {
            ""
        };
        eprintln!("  {mark} {}  {what}{note}", step.name);
    }
}

/// Records what SSM now holds for every name written or already equal, unless the vault
/// changed that secret meanwhile (then its next push will tell).
fn record_sync(session: &Session, steps: &[Step], outcomes: &[(String, Outcome)]) -> Result<()> {
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
                session.remote[&step.name].version,
            ));
        }
    }
    if records.is_empty() {
        return Ok(());
    }
    session.vault.update(&session.key, |vault| {
        for (name, digest, version) in records {
            let unchanged_meanwhile = vault
                .get(&session.scope, &name)
                .is_some_and(|e| e.value.digest() == digest);
            if unchanged_meanwhile {
                vault.set_sync(
                    &session.scope,
                    &name,
                    Some(session.sync_state(&name, digest, version)),
                );
            }
        }
        Ok(())
    })
}

/// The machine-readable account of a push: applied, skipped and failed names.
fn report(
    session: &Session,
    steps: &[Step],
    outcomes: &[(String, Outcome)],
    dry_run: bool,
) -> Value {
    let by_name: BTreeMap<&str, &Step> = steps.iter().map(|s| (s.name.as_str(), s)).collect();
    let mut applied = Vec::new();
    let mut failed = Vec::new();
    for (name, outcome) in outcomes {
        let action = by_name
            .get(name.as_str())
            .map_or("update", |step| action_label(step));
        match outcome {
            Outcome::Written { version } => {
                applied.push(json!({"name": name, "action": action, "version": version}))
            }
            Outcome::Deleted => applied.push(json!({"name": name, "action": "delete"})),
            Outcome::Failed(error) => {
                failed.push(json!({"name": name, "action": action, "error": error.to_string()}));
            }
        }
    }
    let sort = |v: &mut Vec<Value>| v.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    sort(&mut applied);
    sort(&mut failed);
    let skipped: Vec<Value> = steps
        .iter()
        .filter(|s| matches!(s.action, Action::Skip | Action::RecordSync))
        .map(|s| json!({"name": s.name, "status": s.status.as_str()}))
        .collect();
    let planned: Vec<Value> = steps
        .iter()
        .filter(|s| matches!(s.action, Action::Put | Action::Delete))
        .map(|s| json!({"name": s.name, "status": s.status.as_str(), "action": if s.action == Action::Delete { "delete" } else { "put" }}))
        .collect();
    json!({
        "scope": session.scope.to_string(),
        "prefix": session.prefix,
        "dry_run": dry_run,
        "planned": planned,
        "applied": applied,
        "skipped": skipped,
        "failed": failed,
        "api_calls": session.ssm.calls(),
    })
}

/// Prints the report and turns failures into the exit code: partial (7) when anything was
/// applied, remote (6) when nothing was.
/// What a planned change does to SSM, as the report names it.
fn action_label(step: &Step) -> &'static str {
    match (step.action, step.status) {
        (Action::Delete, _) => "delete",
        (_, Status::AddedHere | Status::DeletedRemote) => "create",
        _ => "update",
    }
}

fn finish(
    cx: &Context,
    session: &Session,
    report: Value,
    outcomes: &[(String, Outcome)],
) -> Result<()> {
    let mut failed: Vec<&str> = outcomes
        .iter()
        .filter(|(_, o)| matches!(o, Outcome::Failed(_)))
        .map(|(name, _)| name.as_str())
        .collect();
    failed.sort_unstable();
    let applied = outcomes.len() - failed.len();
    if cx.global.json {
        super::print_json(&report);
    } else {
        for (name, outcome) in outcomes {
            if let Outcome::Failed(error) = outcome {
                eprintln!("  ! {name}  failed: {error}");
            }
        }
        if !outcomes.is_empty() {
            eprintln!(
                "Applied {} to {}; {} failed.",
                count(applied, "change"),
                session.prefix,
                failed.len()
            );
        }
    }
    match (failed.len(), applied) {
        (0, _) => Ok(()),
        (_, 0) => Err(Error::Remote(format!(
            "no change was applied; {} failed ({}); fix the cause and re-run",
            failed.len(),
            failed.join(", ")
        ))),
        (n, _) => Err(Error::Partial(format!(
            "{n} of {} changes failed ({}); the rest were applied; re-run to retry",
            n + applied,
            failed.join(", ")
        ))),
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
