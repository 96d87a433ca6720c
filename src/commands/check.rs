//! `ampsecret check`: does every `secret('NAME')` of the Amplify backend have an effective
//! value in the scope? Missing names are listed with file:line and the exit code is 3, so CI
//! can stop a deploy. Literal credentials in function environments are warned about.

use super::Context;
use crate::backend::{self, Location, Scan};
use crate::cli::CheckArgs;
use crate::effective;
use crate::error::{Error, Result};
use crate::project;
use crate::scope::ScopeKey;
use serde_json::json;
use std::collections::BTreeMap;

pub fn run(cx: &Context, args: CheckArgs) -> Result<()> {
    let scope = cx.scope(&args.scope)?;
    if args.remote {
        return Err(remote_unavailable());
    }
    let root = backend::find_root(&cx.cwd)
        .or_else(|| project::find_root(&cx.cwd))
        .unwrap_or_else(|| cx.cwd.clone());
    let scan = backend::scan(&root)?;
    let vault = cx.open_vault()?;
    let key = cx.unlock(&vault)?;
    let plaintext = vault.read(&key)?;
    let view = plaintext.view()?;
    let own = cx
        .app_identity(Some(&vault))
        .ok()
        .and_then(|app| scope.parameter_scope(&app).ok());

    // Each name once, with every place that uses it.
    let mut uses: BTreeMap<&str, Vec<&Location>> = BTreeMap::new();
    for secret in &scan.secrets {
        uses.entry(&secret.name).or_default().push(&secret.at);
    }
    let mut rows = Vec::new();
    let mut missing = Vec::new();
    for (name, locations) in &uses {
        let resolved = effective::resolve(&view, &scope, name);
        if resolved.is_none() {
            missing.push(*name);
        }
        rows.push(json!({
            "name": name,
            "found": resolved.is_some(),
            "source": resolved.as_ref().map(|r| r.source_scope(&scope).to_string()),
            "path": match (&resolved, &own) {
                (Some(r), Some(own)) => Some(r.parameter_name(own)),
                _ => None,
            },
            "references": locations.iter().map(|l| json!({ "file": l.file, "line": l.line })).collect::<Vec<_>>(),
        }));
    }

    if cx.global.json {
        print_json(&scope, &scan, rows, &missing);
    } else {
        print_text(&scope, &scan, &uses, &missing);
    }
    if missing.is_empty() {
        return Ok(());
    }
    let fallback = if scope == ScopeKey::Shared {
        ""
    } else {
        " nor in shared"
    };
    Err(Error::NotFound(format!(
        "{} of {} secrets used by the backend have no value in {scope}{fallback}: {}",
        missing.len(),
        uses.len(),
        missing.join(", ")
    )))
}

fn print_json(scope: &ScopeKey, scan: &Scan, rows: Vec<serde_json::Value>, missing: &[&str]) {
    let location = |l: &Location| json!({ "file": l.file, "line": l.line });
    super::print_json(&json!({
        "scope": scope.to_string(),
        "files": scan.files,
        "secrets": rows,
        "missing": missing,
        "dynamic": scan.dynamic.iter().map(location).collect::<Vec<_>>(),
        "warnings": scan.credentials.iter().map(|c| json!({
            "file": c.at.file,
            "line": c.at.line,
            "key": c.key,
            "reason": c.reason,
        })).collect::<Vec<_>>(),
    }));
}

fn print_text(
    scope: &ScopeKey,
    scan: &Scan,
    uses: &BTreeMap<&str, Vec<&Location>>,
    missing: &[&str],
) {
    for credential in &scan.credentials {
        eprintln!(
            "warning: {}: environment {} holds a literal string and {}; Amplify writes environment values in plaintext into build artifacts: store it with 'ampsecret set {}' and use secret('{}')",
            credential.at, credential.key, credential.reason, credential.key, credential.key
        );
    }
    for at in &scan.dynamic {
        eprintln!("warning: {at}: secret() with a computed name cannot be checked");
    }
    let fallback = if *scope == ScopeKey::Shared {
        String::new()
    } else {
        " nor in shared".to_owned()
    };
    for name in missing {
        for at in &uses[name] {
            println!("{at}: {name} has no value in {scope}{fallback}");
        }
    }
    if missing.is_empty() {
        eprintln!(
            "All {} secrets used by the backend ({} files) have a value in {scope}.",
            uses.len(),
            scan.files
        );
    }
}

// HOOK(--remote): needs the SSM client of src/ssm, which is not in this build yet. What it
// must do: for the names in `uses`, GetParameters (WithDecryption off, at most 10 names per
// call) on the scope's own paths (`ParameterScope::parameter_name`), then, for the names SSM
// reports as invalid, on the fallback paths (`effective::fallback_parameter_scope`), and
// report a name as missing remotely when neither exists, with exit 3 like the local check.
fn remote_unavailable() -> Error {
    Error::Usage(
        "--remote needs the SSM client, which is not in this build yet; run 'ampsecret check' without --remote".into(),
    )
}
