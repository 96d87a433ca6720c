//! `ampsecret pull`: bring a scope's secrets from SSM into the vault.

use crate::cli::PullArgs;
use crate::error::Result;
use crate::output::{Output, Render, count};
use crate::session::Context;
use crate::ssm::plan::{self, Action, Direction, Status, Step};
use crate::ssm::sync::{self, SyncSession};
use serde::Serialize;
use std::io::{self, Write};

pub fn run(cx: &Context, out: &Output, args: PullArgs) -> Result<()> {
    let session = SyncSession::load(cx, &args.sync.scope, &args.sync.aws)?;
    let compared = session.compare();
    let statuses: Vec<(&str, Status)> = compared.iter().map(|(n, s)| (n.as_str(), *s)).collect();
    let decisions = sync::decide(cx, &statuses, Direction::Pull, &args.sync.conflicts)?;
    let steps = plan::plan_pull(&statuses, &decisions);
    // What SSM holds enters the vault only if `set` would take it too.
    let refused: Vec<Refused> = steps
        .iter()
        .filter(|s| s.action == Action::Store)
        .filter_map(|s| {
            let reason = session.parameters[&s.name].value.validate().err()?;
            Some(Refused {
                name: s.name.clone(),
                reason: reason.to_string(),
            })
        })
        .collect();
    let is_refused = |name: &str| refused.iter().any(|r| r.name == name);
    let steps: Vec<Step> = steps.into_iter().filter(|s| !is_refused(&s.name)).collect();
    let planned: Vec<&str> = steps
        .iter()
        .filter(|s| s.action == Action::Store)
        .map(|s| s.name.as_str())
        .collect();

    let needs_confirmation = !args.sync.dry_run && !planned.is_empty();
    if needs_confirmation {
        cx.require_consent(args.sync.yes, "pull", true)?;
    }
    if !out.json {
        out.print(&PlanView(&steps))?;
    }
    if needs_confirmation {
        let question = format!(
            "Store {} from {} in {}?",
            count(planned.len(), "secret"),
            session.prefix,
            session.scope
        );
        cx.confirm(args.sync.yes, "pull", true, &question)?;
    }

    let mut stored = Vec::new();
    let mut changed_meanwhile = Vec::new();
    if !args.sync.dry_run {
        let vault = &session.vault;
        vault.dir.update(vault.key, |v| {
            let now = crate::vault::now();
            for step in steps
                .iter()
                .filter(|s| matches!(s.action, Action::Store | Action::RecordSync))
            {
                let remote = &session.parameters[&step.name];
                let digest = remote.value.digest();
                // The plan saw the vault as it was when the pull started; a secret set since
                // then is left alone rather than overwritten.
                let planned = session.local.get(&step.name).map(|(_, l)| l.digest);
                let current = v.get(&session.scope, &step.name).map(|e| e.value.digest());
                if current != planned {
                    changed_meanwhile.push(step.name.clone());
                    continue;
                }
                if step.action == Action::Store {
                    v.set(&session.scope, &step.name, remote.value.clone(), now);
                    stored.push(step.name.clone());
                } else if session.sync_recorded(&step.name, digest) {
                    continue;
                }
                let record = session.sync_state(&step.name, digest, remote.version);
                v.set_sync(&session.scope, &step.name, Some(record));
            }
            Ok(())
        })?;
    }

    out.emit(&Pulled {
        scope: session.scope.to_string(),
        prefix: session.prefix.clone(),
        dry_run: args.sync.dry_run,
        planned: planned.iter().map(|n| (*n).to_owned()).collect(),
        stored,
        skipped: steps
            .iter()
            .filter(|s| s.action == Action::Skip)
            .map(|s| Skipped {
                name: s.name.clone(),
                status: s.status.as_str(),
            })
            .collect(),
        changed_meanwhile,
        refused,
        api_calls: session.remote.ssm().calls(),
    })
}

/// What a pull will do, one line per name it stores or keeps.
struct PlanView<'a>(&'a [Step]);

impl Render for PlanView<'_> {
    fn render(&self, _: &mut dyn Write, err: &mut dyn Write) -> io::Result<()> {
        for step in self.0 {
            match step.action {
                Action::Store => writeln!(err, "  < {}  {}", step.name, step.status.describe())?,
                Action::Skip => {
                    writeln!(err, "  = {}  kept: {}", step.name, step.status.describe())?
                }
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
    dry_run: bool,
    planned: Vec<String>,
    stored: Vec<String>,
    skipped: Vec<Skipped>,
    changed_meanwhile: Vec<String>,
    /// Values in SSM that `set` would refuse: not stored (names and reasons, never values).
    refused: Vec<Refused>,
    api_calls: std::collections::BTreeMap<&'static str, u64>,
}

#[derive(Serialize)]
struct Refused {
    name: String,
    reason: String,
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
