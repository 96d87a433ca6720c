//! `ampsecret pull`: bring a scope's secrets from SSM into the vault.

use super::{ApiCalls, ScopeReport, emit_per_scope};
use crate::cli::PullArgs;
use crate::error::Result;
use crate::output::{Output, Render, count};
use crate::session::Context;
use crate::ssm::plan::{self, Action, Direction, Step};
use crate::ssm::remote::LazyRemote;
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
        .map(|(_, steps, _)| stored_by(steps).count())
        .sum();

    let needs_confirmation = !args.sync.dry_run && planned > 0;
    if needs_confirmation {
        cx.require_consent(args.sync.yes, "pull", true)?;
    }
    if !out.json {
        for (_, steps, _) in &plans {
            out.print(&PlanView(steps))?;
        }
    }
    if needs_confirmation {
        let question = match plans.as_slice() {
            [(session, _, _)] => format!(
                "Store {} from {} in {}?",
                count(planned, "secret"),
                session.prefix,
                session.scope
            ),
            _ => format!(
                "Store {} from SSM in {} scopes?",
                count(planned, "secret"),
                plans.len()
            ),
        };
        cx.confirm(args.sync.yes, "pull", true, &question)?;
    }

    let mut reports = Vec::new();
    for (session, steps, refused) in plans.iter() {
        reports.push(store(session, steps, refused.clone(), args.sync.dry_run)?);
    }
    let api_calls = plans
        .first()
        .map(|(session, _, _)| session.remote.ssm().calls())
        .unwrap_or_default();
    emit_per_scope(out, "pull", args.sync.all, reports, api_calls)
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

/// Applies one scope's pull to the vault (unless `dry_run`) and reports it.
fn store(
    session: &SyncSession<'_>,
    steps: &[Step],
    refused: Vec<Refused>,
    dry_run: bool,
) -> Result<Pulled> {
    let mut stored = Vec::new();
    let mut changed_meanwhile = Vec::new();
    if !dry_run {
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
    Ok(Pulled {
        scope: session.scope.to_string(),
        prefix: session.prefix.clone(),
        dry_run,
        planned: stored_by(steps).map(str::to_owned).collect(),
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
        api_calls: None,
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
