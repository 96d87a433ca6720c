//! `ampsecret check`: does every `secret('NAME')` of the Amplify backend have an effective
//! value in the scope? Missing names are listed with file:line and the exit code is 3, so CI
//! can stop a deploy. Literal credentials in function environments are warned about.

use super::Context;
use crate::amplify::ParameterScope;
use crate::backend::{self, Location, Scan};
use crate::cli::{AwsArgs, CheckArgs};
use crate::effective;
use crate::error::{Error, Result};
use crate::project;
use crate::scope::ScopeKey;
use serde_json::json;
use std::collections::BTreeMap;

pub fn run(cx: &Context, args: CheckArgs) -> Result<()> {
    let scope = cx.scope(&args.scope)?;
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
    let names: Vec<&str> = uses.keys().copied().collect();
    let missing_remote = match (args.remote, &own) {
        (false, _) => None,
        (true, Some(own)) => Some(missing_remotely(&args.aws, own, &names)?),
        (true, None) => {
            return Err(Error::Usage(format!(
                "--remote needs the SSM path of {scope}: pass --app-id (or --app-name for a sandbox)"
            )));
        }
    };
    let mut rows = Vec::new();
    let mut missing = Vec::new();
    for (name, locations) in &uses {
        let resolved = effective::resolve(&view, &scope, name);
        let remote_found = missing_remote.as_ref().map(|m| !m.contains(name));
        if resolved.is_none() || remote_found == Some(false) {
            missing.push(*name);
        }
        rows.push(json!({
            "remote": remote_found,
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
        print_text(&scope, &scan, &uses, &missing, missing_remote.as_deref());
    }
    if missing.is_empty() {
        return Ok(());
    }
    let fallback = if scope == ScopeKey::Shared {
        ""
    } else {
        " nor in shared"
    };
    let where_ = if args.remote {
        " (in the vault or in SSM)"
    } else {
        ""
    };
    Err(Error::NotFound(format!(
        "{} of {} secrets used by the backend have no value in {scope}{fallback}{where_}: {}",
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
    missing_remote: Option<&[&str]>,
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
        let side = match missing_remote {
            Some(remote) if remote.contains(name) => " in SSM",
            _ => "",
        };
        for at in &uses[name] {
            println!("{at}: {name} has no value{side} in {scope}{fallback}");
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

/// The names SSM has neither at the scope's own path nor at the shared path Amplify falls
/// back to (GetParameters in batches of ten; values are not read).
fn missing_remotely<'a>(
    aws: &AwsArgs,
    own: &ParameterScope,
    names: &[&'a str],
) -> Result<Vec<&'a str>> {
    let (runtime, ssm) = super::sync::connect(aws)?;
    let fallback = effective::fallback_parameter_scope(own);
    let lookup = |scope: &ParameterScope, names: &[&'a str]| -> Result<Vec<&'a str>> {
        let paths: Vec<String> = names.iter().map(|n| scope.parameter_name(n)).collect();
        let found = runtime
            .block_on(ssm.existing(&paths))
            .map_err(|e| Error::Remote(format!("cannot read {} from SSM: {e}", scope.prefix())))?;
        Ok(names
            .iter()
            .zip(&paths)
            .filter(|(_, path)| !found.contains(*path))
            .map(|(name, _)| *name)
            .collect())
    };
    let not_own = lookup(own, names)?;
    if not_own.is_empty() || fallback == *own {
        return Ok(not_own);
    }
    lookup(&fallback, &not_own)
}
