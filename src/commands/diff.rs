//! `ampsecret diff`: how the vault and SSM differ, per name; never values.

use crate::cli::DiffArgs;
use crate::error::{Result, exit};
use crate::output::{Output, Plan, Render, Stream, Style};
use crate::session::Context;
use crate::ssm::plan::Status;
use crate::ssm::remote::LazyRemote;
use crate::ssm::setup::Target;
use crate::ssm::sync::{self, SyncSession};
use crate::ssm::tags::{self, TagChange, Tags};
use serde::Serialize;
use std::io::{self, Write};

/// `--json`: `{"scope","prefix","target","secrets":[{"name","status","path","remote_version"}]}`.
#[derive(Serialize)]
struct Differences {
    scope: String,
    prefix: String,
    target: Target,
    secrets: Vec<Difference>,
}

#[derive(Serialize)]
struct Difference {
    name: String,
    #[serde(serialize_with = "status_name")]
    status: Status,
    path: String,
    remote_version: Option<i64>,
    /// A removed member could read it: rotate it at its source.
    to_rotate: bool,
    /// config.toml's `[tags]` the SSM parameter lacks (a push adds them).
    #[serde(skip_serializing_if = "Tags::is_empty")]
    tags_missing: Tags,
    /// config.toml's `[tags]` the SSM parameter holds with another value (its value): a
    /// push keeps it unless `--tag` replaces it.
    #[serde(skip_serializing_if = "Tags::is_empty")]
    tags_other: Tags,
    #[serde(skip)]
    tags: TagChange,
}

fn status_name<S: serde::Serializer>(status: &Status, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(status.as_str())
}

impl Render for Differences {
    fn render(&self, out: &mut dyn Write, _: &mut dyn Write) -> io::Result<()> {
        let mut lines = Plan::new(format!("{} ({})", self.prefix, self.scope));
        for secret in &self.secrets {
            let (mark, style) = match secret.status {
                Status::Unchanged | Status::Gone => ("=", Style::Quiet),
                Status::AddedHere | Status::DeletedRemote => ("+", Style::Added),
                Status::OnlyRemote => ("-", Style::Removed),
                Status::ChangedHere => ("~", Style::Changed),
                Status::ChangedThere => ("<", Style::Changed),
                Status::Conflict | Status::RemovedHereChangedThere => ("!", Style::Problem),
                Status::RemovedHere => ("x", Style::Removed),
            };
            let note = if secret.to_rotate { "; to rotate" } else { "" };
            let tags = if secret.tags.is_empty() {
                String::new()
            } else {
                format!("; tags: {}", secret.tags.describe())
            };
            lines.marked(
                mark,
                style,
                &secret.name,
                format!("{}{note}{tags}", secret.status.describe()),
            );
        }
        lines.write_on(out, Stream::Out)?;
        if self.secrets.is_empty() {
            writeln!(out, "  (no secrets on either side)")?;
        }
        Ok(())
    }
}

/// Shows the differences; `Ok` holds the exit status (with `--exit-code`, whether the
/// sides are in sync, differ or conflict).
pub fn run(cx: &Context, out: &Output, args: DiffArgs) -> Result<i32> {
    let remote = LazyRemote::new(&args.aws);
    let want_tags = tags::wanted(&cx.require_vault_dir()?.config.tags, &[])?;
    let mut reports = Vec::new();
    for scope in sync::targets(cx, &args.scope, args.all)? {
        let session = SyncSession::load(cx, scope, &remote)?;
        let view = session.vault.view()?;
        let to_rotate = |name: &str| {
            view.team
                .to_rotate
                .iter()
                .any(|n| n.scope == session.scope && n.name == name)
        };
        // Tags are compared where a push would put them: parameters SSM and the vault both
        // have; none are read when no tag is wanted.
        let tagged: Vec<String> = session
            .parameters
            .keys()
            .filter(|name| !want_tags.is_empty() && session.local.contains_key(*name))
            .map(|name| session.parameter(name))
            .collect();
        let have_tags = tags::read_tags(&session, &tagged)?;
        let secrets = session
            .compare()
            .into_iter()
            .map(|(name, status)| {
                let tags = have_tags
                    .get(&session.parameter(&name))
                    .map(|have| tags::change(&want_tags, have))
                    .unwrap_or_default();
                Difference {
                    tags_missing: tags.add.clone(),
                    tags_other: tags
                        .held
                        .iter()
                        .map(|(k, (old, _))| (k.clone(), old.clone()))
                        .collect(),
                    tags,
                    to_rotate: to_rotate(&name),
                    path: session.parameter(&name),
                    remote_version: session.parameters.get(&name).map(|r| r.version),
                    name,
                    status,
                }
            })
            .collect();
        reports.push(Differences {
            scope: session.scope.to_string(),
            prefix: session.prefix.clone(),
            target: session.remote.target(),
            secrets,
        });
    }
    let statuses = || {
        reports
            .iter()
            .flat_map(|r| r.secrets.iter().map(|s| s.status))
    };
    let tags_differ = reports
        .iter()
        .any(|r| r.secrets.iter().any(|s| !s.tags.is_empty()));
    let code = if !args.exit_code || (statuses().all(Status::in_sync) && !tags_differ) {
        exit::SUCCESS
    } else if statuses().any(Status::is_conflict) {
        exit::CONFLICT
    } else {
        exit::DIFFERENT
    };
    sync::show_target(out, &remote);
    if args.all {
        out.emit(&AllDifferences(reports))?;
    } else {
        reports.iter().try_for_each(|report| out.emit(report))?;
    }
    Ok(code)
}

/// `--all`: one report per scope, in a JSON array.
#[derive(Serialize)]
#[serde(transparent)]
struct AllDifferences(Vec<Differences>);

impl Render for AllDifferences {
    fn render(&self, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<()> {
        if self.0.is_empty() {
            return writeln!(err, "The vault has no scopes; nothing to compare.");
        }
        self.0.iter().try_for_each(|report| report.render(out, err))
    }
}
