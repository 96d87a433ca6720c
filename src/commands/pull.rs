//! `ampsecret pull`: bring a scope's secrets from SSM into the vault.

use super::Context;
use super::sync::{self, Session, count};
use crate::cli::PullArgs;
use crate::error::Result;
use crate::ssm::plan::{self, Action, Decisions, Planned, Resolution, Status};
use serde_json::json;

pub fn run(cx: &Context, args: PullArgs) -> Result<()> {
    let session = Session::load(cx, &args.scope, &args.aws)?;
    let compared = session.compare();
    let statuses: Vec<(&str, Status)> = compared.iter().map(|(n, s)| (n.as_str(), *s)).collect();
    let default = sync::flag_resolution(&args.conflicts, Resolution::KeepRemote);
    let steps = match plan::plan_pull(&statuses, default, &Decisions::new()) {
        Planned::Ready(steps) => steps,
        Planned::Undecided(names) => {
            let decisions = sync::decide(cx, &names, &compared, "pulling")?;
            match plan::plan_pull(&statuses, default, &decisions) {
                Planned::Ready(steps) => steps,
                Planned::Undecided(_) => unreachable!("every undecided name was decided"),
            }
        }
    };

    let mut stored = Vec::new();
    let mut changed_meanwhile = Vec::new();
    if !args.dry_run {
        session.vault.update(&session.key, |vault| {
            let now = super::now();
            for step in steps
                .iter()
                .filter(|s| matches!(s.action, Action::Store | Action::RecordSync))
            {
                let remote = &session.remote[&step.name];
                let digest = remote.value.digest();
                // The plan saw the vault as it was when the pull started; a secret set since
                // then is left alone rather than overwritten.
                let planned = session.local.get(&step.name).map(|(_, l)| l.digest);
                let current = vault
                    .get(&session.scope, &step.name)
                    .map(|e| e.value.digest());
                if current != planned {
                    changed_meanwhile.push(step.name.clone());
                    continue;
                }
                if step.action == Action::Store {
                    vault.set(&session.scope, &step.name, remote.value.clone(), now);
                    stored.push(step.name.clone());
                } else if session.sync_recorded(&step.name, digest) {
                    continue;
                }
                let record = session.sync_state(&step.name, digest, remote.version);
                vault.set_sync(&session.scope, &step.name, Some(record));
            }
            Ok(())
        })?;
    }

    let planned: Vec<&str> = steps
        .iter()
        .filter(|s| s.action == Action::Store)
        .map(|s| s.name.as_str())
        .collect();
    if cx.global.json {
        super::print_json(&json!({
            "scope": session.scope.to_string(),
            "prefix": session.prefix,
            "dry_run": args.dry_run,
            "planned": planned,
            "stored": stored,
            "skipped": steps.iter().filter(|s| s.action == Action::Skip).map(|s| json!({"name": s.name, "status": s.status.as_str()})).collect::<Vec<_>>(),
            "changed_meanwhile": changed_meanwhile,
            "api_calls": session.ssm.calls(),
        }));
    } else {
        for step in &steps {
            match step.action {
                Action::Store => eprintln!("  < {}  {}", step.name, step.status.describe()),
                Action::Skip => eprintln!("  = {}  kept: {}", step.name, step.status.describe()),
                _ => {}
            }
        }
        for name in &changed_meanwhile {
            eprintln!("  ! {name}  changed in the vault during the pull; kept");
        }
        let verb = if args.dry_run {
            "Would store"
        } else {
            "Stored"
        };
        eprintln!(
            "{verb} {} from {} in {}.",
            count(planned.len(), "secret"),
            session.prefix,
            session.scope
        );
    }
    Ok(())
}
