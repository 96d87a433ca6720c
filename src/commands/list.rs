//! `ampsecret list`: names, scopes and times; never values. With `--effective`, what a
//! deployment of the scope resolves and where each value comes from.

use crate::cli::ListArgs;
use crate::effective;
use crate::error::Result;
use crate::output::{self, Output, Render, Stream, Style, Table};
use crate::scope::ScopeKey;
use crate::session::Context;
use serde::Serialize;
use std::io::{self, Write};

/// One secret (`--json` shape: name, scope, path, created, updated, synced). Rows borrow
/// from the decrypted vault: a 10,000-secret list stays small.
#[derive(Serialize)]
struct Row<'a> {
    name: &'a str,
    scope: &'a str,
    path: Option<String>,
    #[serde(serialize_with = "output::rfc3339")]
    created: u64,
    #[serde(serialize_with = "output::rfc3339")]
    updated: u64,
    synced: bool,
    /// A removed member could read it: rotate it at its source.
    to_rotate: bool,
}

/// One effective name (`--json`: name, scope, source, path, shadows_shared, updated).
#[derive(Serialize)]
struct EffectiveRow<'a> {
    name: &'a str,
    scope: &'a str,
    source: String,
    path: Option<String>,
    shadows_shared: bool,
    #[serde(serialize_with = "output::rfc3339")]
    updated: u64,
}

#[derive(Serialize)]
#[serde(transparent)]
struct Listing<'a> {
    rows: Vec<Row<'a>>,
    #[serde(skip)]
    only: Option<&'a ScopeKey>,
    /// Secrets the vault holds in scopes other than `only`.
    #[serde(skip)]
    elsewhere: usize,
}

#[derive(Serialize)]
#[serde(transparent)]
struct EffectiveListing<'a> {
    rows: Vec<EffectiveRow<'a>>,
    #[serde(skip)]
    lookup: &'a effective::Lookup,
}

impl Render for Listing<'_> {
    fn render(&self, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<()> {
        if self.rows.is_empty() {
            return match self.only {
                Some(scope) => writeln!(
                    err,
                    "No secrets in {scope}{}. Add one with 'ampsecret set NAME'.",
                    match self.elsewhere {
                        0 => String::new(),
                        n => format!(
                            " (the vault has {} in other scopes: 'ampsecret list --all')",
                            output::count(n, "secret")
                        ),
                    }
                ),
                None => writeln!(
                    err,
                    "The vault is empty. Add a secret with 'ampsecret set NAME'."
                ),
            };
        }
        // SYNCED: whether SSM has had this value (a push or pull since its last change).
        let mut table = Table::new();
        // A NOTE column only when a row has a note.
        let noted = self.rows.iter().any(|r| r.to_rotate);
        table.heading(&[
            "NAME",
            "SCOPE",
            "UPDATED",
            "SYNCED",
            if noted { "NOTE" } else { "" },
        ]);
        for row in &self.rows {
            let (synced, style) = if row.synced {
                ("yes", None)
            } else {
                ("no", Some(Style::Changed))
            };
            let note = if row.to_rotate { "to rotate" } else { "" };
            table.styled_row(vec![
                (row.name.to_owned(), None),
                (row.scope.to_owned(), None),
                (output::timestamp(row.updated), None),
                (synced.to_owned(), style),
                (note.to_owned(), row.to_rotate.then_some(Style::Problem)),
            ]);
        }
        table.write(out, Stream::Out)
    }
}

impl Render for EffectiveListing<'_> {
    fn render(&self, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<()> {
        if self.rows.is_empty() {
            let fallback = match &self.lookup.fallback {
                Some(fallback) => format!(" or {fallback}"),
                None => String::new(),
            };
            return writeln!(
                err,
                "No secrets in {}{fallback}. Add one with 'ampsecret set NAME'.",
                self.lookup.scope
            );
        }
        let mut table = Table::new();
        table.heading(&["NAME", "SOURCE", "NOTE"]);
        for row in &self.rows {
            let note = if row.shadows_shared {
                "shadows shared"
            } else {
                ""
            };
            table.row([row.name, row.source.as_str(), note]);
        }
        table.write(out, Stream::Out)
    }
}

pub fn run(cx: &Context, out: &Output, args: ListArgs) -> Result<()> {
    let only = if args.all {
        None
    } else {
        Some(cx.scope(&args.scope)?)
    };
    let vault = cx.vault()?;
    let view = vault.view()?;
    // Paths are shown where the app's identity is known; listing works without it.
    let app = cx.app_identity().unwrap_or_default();

    if let (true, Some(scope)) = (args.effective, &only) {
        let own = scope.parameter_scope(&app).ok();
        let label = scope.to_string();
        let lookup = cx.lookup(scope.clone())?;
        let rows = effective::resolve_all(&view, &lookup)
            .iter()
            .map(|r| EffectiveRow {
                name: r.name,
                scope: &label,
                source: lookup.source_scope(r.source).to_string(),
                path: own.as_ref().map(|own| r.parameter_name(own)),
                shadows_shared: r.shadows_shared,
                updated: r.entry.updated,
            })
            .collect();
        return out.emit(&EffectiveListing {
            rows,
            lookup: &lookup,
        });
    }

    let scopes: Vec<_> = view
        .scopes
        .iter()
        .filter(|s| only.as_ref().is_none_or(|key| *key == s.key))
        .map(|s| (s, s.key.to_string(), s.key.parameter_scope(&app).ok()))
        .collect();
    let to_rotate: std::collections::HashSet<(&ScopeKey, &str)> = view
        .team
        .to_rotate
        .iter()
        .map(|n| (&n.scope, n.name.as_str()))
        .collect();
    let to_rotate = &to_rotate;
    let rows = scopes
        .iter()
        .flat_map(|(scope, label, parameter_scope)| {
            scope.secrets.iter().map(move |entry| Row {
                to_rotate: to_rotate.contains(&(&scope.key, entry.name)),
                name: entry.name,
                scope: label,
                path: parameter_scope
                    .as_ref()
                    .filter(|_| out.json)
                    .map(|p| p.parameter_name(entry.name)),
                created: entry.created,
                updated: entry.updated,
                synced: entry.sync.is_some(),
            })
        })
        .collect();
    out.emit(&Listing {
        rows,
        elsewhere: view
            .scopes
            .iter()
            .filter(|s| only.as_ref().is_some_and(|key| *key != s.key))
            .map(|s| s.secrets.len())
            .sum(),
        only: only.as_ref(),
    })
}
