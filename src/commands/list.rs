//! `ampsecret list`: names, scopes and times; never values.

use super::Context;
use crate::cli::ListArgs;
use crate::error::Result;
use crate::scope::ScopeKey;
use serde_json::json;

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

    let scopes = view
        .scopes
        .iter()
        .filter(|s| only.as_ref().is_none_or(|key| *key == s.key));
    let mut rows = Vec::new();
    for scope in scopes {
        let parameter_scope = scope.key.parameter_scope(&app).ok();
        for entry in &scope.secrets {
            rows.push(json!({
                "name": entry.name,
                "scope": scope.key.to_string(),
                "path": parameter_scope.as_ref().map(|p| p.parameter_name(entry.name)),
                "created": super::timestamp(entry.created),
                "updated": super::timestamp(entry.updated),
                "synced": entry.sync.is_some(),
            }));
        }
    }

    if cx.global.json {
        super::print_json(&serde_json::Value::Array(rows));
    } else if rows.is_empty() {
        eprintln!("{}", empty_message(only.as_ref()));
    } else {
        print_table(&rows);
    }
    Ok(())
}

fn empty_message(only: Option<&ScopeKey>) -> String {
    match only {
        Some(scope) => format!("No secrets in {scope}. Add one with 'ampsecret set NAME'."),
        None => "The vault is empty. Add a secret with 'ampsecret set NAME'.".into(),
    }
}

fn print_table(rows: &[serde_json::Value]) {
    let cell = |row: &serde_json::Value, key: &str| row[key].as_str().unwrap_or("").to_owned();
    let name_width = rows
        .iter()
        .map(|r| cell(r, "name").len())
        .max()
        .unwrap_or(4)
        .max(4);
    let scope_width = rows
        .iter()
        .map(|r| cell(r, "scope").len())
        .max()
        .unwrap_or(5)
        .max(5);
    println!("{:name_width$}  {:scope_width$}  UPDATED", "NAME", "SCOPE");
    for row in rows {
        println!(
            "{:name_width$}  {:scope_width$}  {}",
            cell(row, "name"),
            cell(row, "scope"),
            cell(row, "updated")
        );
    }
}
