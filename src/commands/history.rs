//! `ampsecret history`: a secret's versions in the vault and in SSM, side by side, each SSM
//! version marked with the vault version whose value it holds (matched by digest). Never
//! a value.

use crate::cli::HistoryArgs;
use crate::error::{Error, Result};
use crate::output::{Output, Render, rfc3339, timestamp};
use crate::session::Context;
use crate::ssm::client::RemoteVersion;
use crate::ssm::remote::Remote;
use serde::Serialize;
use std::io::{self, Write};

/// `--json`: `{"name","scope","local":[{"version","updated","by"}],
/// "remote":[{"version","modified","user","matches_local"}]}`, newest first.
#[derive(Serialize)]
struct History {
    name: String,
    scope: String,
    /// The SSM parameter; not in the JSON shape.
    #[serde(skip)]
    parameter: Option<String>,
    local: Vec<LocalVersion>,
    /// Empty with `--local` (SSM was not asked).
    remote: Vec<SsmVersion>,
    #[serde(skip)]
    asked_ssm: bool,
}

#[derive(Serialize)]
struct LocalVersion {
    version: u32,
    #[serde(serialize_with = "rfc3339")]
    updated: u64,
    by: String,
    #[serde(skip)]
    digest: [u8; 32],
}

#[derive(Serialize)]
struct SsmVersion {
    version: i64,
    #[serde(serialize_with = "optional_rfc3339")]
    modified: Option<u64>,
    user: Option<String>,
    /// The vault version holding the same value (the newest, if several do).
    matches_local: Option<u32>,
}

fn optional_rfc3339<S: serde::Serializer>(
    secs: &Option<u64>,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    match secs {
        Some(secs) => rfc3339(secs, serializer),
        None => serializer.serialize_none(),
    }
}

pub fn run(cx: &Context, out: &Output, args: HistoryArgs) -> Result<()> {
    crate::session::check_name(&args.name)?;
    let scope = cx.scope(&args.scope)?;
    let vault = cx.vault()?;
    let view = vault.view()?;
    let local = local_versions(&view, &scope, &args.name);
    let (parameter, remote) = if args.local {
        (None, Vec::new())
    } else {
        let (_, parameter) = cx.parameter(&scope, &args.name)?;
        let remote = Remote::connect(&args.aws)?;
        let versions = remote
            .run(remote.ssm().history(&parameter))
            .map_err(|e| Error::Remote(format!("cannot read the history of {parameter}: {e}")))?;
        (Some(parameter), versions)
    };
    if local.is_empty() && remote.is_empty() {
        return Err(crate::session::secret_not_found(
            &view, &scope, &args.name, None,
        ));
    }
    let remote = remote
        .into_iter()
        .map(|version| matched(version, &local))
        .collect();
    out.emit(&History {
        name: args.name,
        scope: scope.to_string(),
        parameter,
        local,
        remote,
        asked_ssm: !args.local,
    })
}

/// The vault's current version of `name` and the past ones it keeps, newest first.
fn local_versions(
    view: &crate::vault::VaultView<'_>,
    scope: &crate::scope::ScopeKey,
    name: &str,
) -> Vec<LocalVersion> {
    let Some(entry) = view.get(scope, name) else {
        return Vec::new();
    };
    let current = LocalVersion {
        version: entry.version,
        updated: entry.updated,
        by: entry.by.to_owned(),
        digest: entry.value().digest(),
    };
    std::iter::once(current)
        .chain(
            view.history_of(scope, name)
                .iter()
                .map(|past| LocalVersion {
                    version: past.version,
                    updated: past.updated,
                    by: past.by.clone(),
                    digest: past.value.digest(),
                }),
        )
        .collect()
}

/// An SSM version, with the newest vault version whose value has the same digest.
fn matched(version: RemoteVersion, local: &[LocalVersion]) -> SsmVersion {
    SsmVersion {
        matches_local: local
            .iter()
            .find(|l| l.digest == version.digest)
            .map(|l| l.version),
        version: version.version,
        modified: version.modified,
        user: version.user,
    }
}

impl Render for History {
    fn render(&self, out: &mut dyn Write, _: &mut dyn Write) -> io::Result<()> {
        let location = self
            .parameter
            .as_ref()
            .map_or_else(String::new, |p| format!(" ({p})"));
        writeln!(out, "{} in {}{location}", self.name, self.scope)?;
        let left: Vec<String> = self
            .local
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let current = if i == 0 { "  current" } else { "" };
                // Who wrote it, as the vault says: shown escaped, like any name.
                format!(
                    "v{}  {}  {}{current}",
                    l.version,
                    timestamp(l.updated),
                    crate::text::escape(&l.by)
                )
            })
            .collect();
        let right: Vec<String> = self
            .remote
            .iter()
            .map(|r| {
                let when = r.modified.map_or_else(|| "-".to_owned(), timestamp);
                let user = r.user.as_deref().map_or("-".into(), crate::text::escape);
                let matches = r.matches_local.map_or_else(
                    || "no vault version".to_owned(),
                    |v| format!("= vault v{v}"),
                );
                format!("v{}  {when}  {user}  {matches}", r.version)
            })
            .collect();
        let mut vault_heading = "VAULT".to_owned();
        if left.is_empty() {
            vault_heading.push_str(" (not in the vault)");
        }
        let ssm_heading = if !self.asked_ssm {
            "SSM (not asked: --local)"
        } else if right.is_empty() {
            "SSM (no such parameter)"
        } else {
            "SSM"
        };
        let width = left
            .iter()
            .map(|l| l.chars().count())
            .chain([vault_heading.chars().count()])
            .max()
            .unwrap_or(0);
        let pad = |text: &str| {
            let fill = width.saturating_sub(text.chars().count());
            format!("{text}{}", " ".repeat(fill))
        };
        writeln!(out, "  {}    {ssm_heading}", pad(&vault_heading))?;
        for row in 0..left.len().max(right.len()) {
            let l = left.get(row).map_or("", String::as_str);
            let r = right.get(row).map_or("", String::as_str);
            let line = format!("  {}    {r}", pad(l));
            writeln!(out, "{}", line.trim_end())?;
        }
        Ok(())
    }
}
