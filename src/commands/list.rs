//! `ampsecret list`: names, scopes and times; never values. With `--effective`, what a
//! deployment of the scope resolves and where each value comes from.

use super::Context;
use crate::cli::ListArgs;
use crate::effective;
use crate::error::Result;
use crate::scope::ScopeKey;
use crate::vault::VaultView;
use serde_json::json;
use std::io::Write;

pub fn run(cx: &Context, args: ListArgs) -> Result<()> {
    let only = if args.all {
        None
    } else {
        Some(cx.scope(&args.scope)?)
    };
    let vault = cx.open_vault()?;
    let key = cx.unlock(&vault)?;
    let plaintext = vault.read(&key)?;
    let view = plaintext.view()?;
    // Paths are shown where the app's identity is known; listing works without it.
    let app = cx.app_identity(Some(&vault)).unwrap_or_default();

    if let (true, Some(scope)) = (args.effective, &only) {
        let rows = effective_rows(&view, scope, &app);
        if cx.global.json {
            super::print_json(&serde_json::Value::Array(rows));
        } else if rows.is_empty() {
            eprintln!("No secrets in {scope} or shared. Add one with 'ampsecret set NAME'.");
        } else {
            print_effective_table(&rows);
        }
        return Ok(());
    }

    let scopes: Vec<_> = view
        .scopes
        .iter()
        .filter(|s| only.as_ref().is_none_or(|key| *key == s.key))
        .map(|s| (s, s.key.to_string(), s.key.parameter_scope(&app).ok()))
        .collect();
    // Typed rows borrowing from the decrypted vault: a 10,000-secret list stays small.
    let rows: Vec<Row<'_>> = scopes
        .iter()
        .flat_map(|(scope, label, parameter_scope)| {
            scope.secrets.iter().map(move |entry| Row {
                name: entry.name,
                scope: label,
                path: parameter_scope
                    .as_ref()
                    .filter(|_| cx.global.json)
                    .map(|p| p.parameter_name(entry.name)),
                created: entry.created,
                updated: entry.updated,
                synced: entry.sync.is_some(),
            })
        })
        .collect();

    if cx.global.json {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer(&mut out, &rows)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out))
            .map_err(|e| crate::Error::Other(format!("cannot write to standard output: {e}")))?;
    } else if rows.is_empty() {
        eprintln!("{}", empty_message(only.as_ref()));
    } else {
        print_table(&rows)?;
    }
    Ok(())
}

/// One secret in `list`'s output (`--json` shape: name, scope, path, created, updated, synced).
#[derive(serde::Serialize)]
struct Row<'a> {
    name: &'a str,
    scope: &'a str,
    path: Option<String>,
    #[serde(serialize_with = "rfc3339")]
    created: u64,
    #[serde(serialize_with = "rfc3339")]
    updated: u64,
    synced: bool,
}

fn rfc3339<S: serde::Serializer>(
    secs: &u64,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    serializer.collect_str(&super::timestamp(*secs))
}

/// One row per effective name: where its value comes from, and whether it hides a shared one.
fn effective_rows(
    view: &VaultView<'_>,
    scope: &ScopeKey,
    app: &crate::scope::AppIdentity,
) -> Vec<serde_json::Value> {
    let own = scope.parameter_scope(app).ok();
    effective::resolve_all(view, scope)
        .iter()
        .map(|r| {
            json!({
                "name": r.name,
                "scope": scope.to_string(),
                "source": r.source_scope(scope).to_string(),
                "path": own.as_ref().map(|own| r.parameter_name(own)),
                "shadows_shared": r.shadows_shared,
                "updated": super::timestamp(r.entry.updated),
            })
        })
        .collect()
}

fn print_effective_table(rows: &[serde_json::Value]) {
    let cell = |row: &serde_json::Value, key: &str| row[key].as_str().unwrap_or("").to_owned();
    let width = |key: &str, min: usize| {
        rows.iter()
            .map(|r| cell(r, key).len())
            .max()
            .unwrap_or(min)
            .max(min)
    };
    let (name_width, source_width) = (width("name", 4), width("source", 6));
    println!("{:name_width$}  {:source_width$}  NOTE", "NAME", "SOURCE");
    for row in rows {
        let note = if row["shadows_shared"] == true {
            "shadows shared"
        } else {
            ""
        };
        let line = format!(
            "{:name_width$}  {:source_width$}  {note}",
            cell(row, "name"),
            cell(row, "source"),
        );
        println!("{}", line.trim_end());
    }
}

fn empty_message(only: Option<&ScopeKey>) -> String {
    match only {
        Some(scope) => format!("No secrets in {scope}. Add one with 'ampsecret set NAME'."),
        None => "The vault is empty. Add a secret with 'ampsecret set NAME'.".into(),
    }
}

fn print_table(rows: &[Row<'_>]) -> Result<()> {
    let name_width = rows.iter().map(|r| r.name.len()).max().unwrap_or(0).max(4);
    let scope_width = rows.iter().map(|r| r.scope.len()).max().unwrap_or(0).max(5);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut write = || -> std::io::Result<()> {
        writeln!(
            out,
            "{:name_width$}  {:scope_width$}  UPDATED",
            "NAME", "SCOPE"
        )?;
        for row in rows {
            let updated = super::timestamp(row.updated);
            writeln!(
                out,
                "{:name_width$}  {:scope_width$}  {updated}",
                row.name, row.scope
            )?;
        }
        out.flush()
    };
    write().map_err(|e| crate::Error::Other(format!("cannot write to standard output: {e}")))
}
