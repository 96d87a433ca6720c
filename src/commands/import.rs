//! `ampsecret import FILE`: store a dotenv or JSON file's secrets in a scope. The whole file is
//! parsed and checked before anything is written, the plan is shown (names only) and
//! confirmed, and the change is one vault update.

use super::Context;
use crate::cli::{ImportArgs, ImportFormat};
use crate::error::{Error, Result};
use crate::formats::{self, Entry, Problem, dotenv, json};
use crate::prompt;
use crate::scope::ScopeKey;
use crate::secret::STANDARD_TIER_MAX;
use serde_json::json;
use std::io::Read;
use std::path::Path;
use zeroize::Zeroizing;

/// Problems listed in the one-line error before "and N more".
const SHOWN_PROBLEMS: usize = 5;

/// What importing one entry does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Added,
    Changed,
    Unchanged,
}

pub fn run(cx: &Context, args: ImportArgs) -> Result<()> {
    let scope = cx.scope(&args.scope)?;
    let vault = cx.open_vault()?;
    let shown = args.file.display().to_string();
    let text = read_input(&args.file)?;
    let format = args.format.unwrap_or_else(|| guess_format(&args.file));
    let entries = match format {
        ImportFormat::Dotenv => dotenv::parse(&text),
        ImportFormat::Json => json::parse(&text),
    }
    .map_err(|problems| refuse(&shown, &problems))?;
    drop(text);
    let problems = formats::check_entries(&entries);
    if !problems.is_empty() {
        return Err(refuse(&shown, &problems));
    }
    if entries.is_empty() {
        return Err(Error::Invalid(format!(
            "{shown} holds no secrets; nothing was imported"
        )));
    }
    // The full SSM name must be valid too (length, depth), as `set` checks.
    let parameter_scope = scope.parameter_scope(&cx.app_identity(Some(&vault))?)?;
    for entry in &entries {
        super::checked_parameter(&parameter_scope, &scope, &entry.name)?;
    }

    let key = cx.unlock(&vault)?;
    let plan = plan(&vault, &key, &scope, &entries)?;
    let count = |c: Change| plan.iter().filter(|(_, change)| *change == c).count();
    let pending = count(Change::Added) + count(Change::Changed);

    if args.dry_run || pending == 0 {
        report(cx, &scope, &shown, &plan, false);
        return Ok(());
    }
    if !args.yes {
        if !cx.interactive {
            return Err(Error::Usage(
                "import asks for confirmation, and there is no terminal to ask on: pass --yes (or --dry-run to see the plan)".into(),
            ));
        }
        print_plan(&scope, &shown, &plan);
        let question = format!("Import {pending} secret(s) into {scope}?");
        if !prompt::confirm(&question, false)? {
            return Err(Error::Cancelled);
        }
    }
    for entry in &entries {
        if entry.value.len() > STANDARD_TIER_MAX {
            super::warn_advanced_tier(&entry.name, entry.value.len());
        }
    }
    let now = super::now();
    vault.update(&key, |v| {
        for (entry, (_, change)) in entries.iter().zip(&plan) {
            if *change != Change::Unchanged {
                v.set(&scope, &entry.name, entry.value.clone(), now);
            }
        }
        Ok(())
    })?;
    report(cx, &scope, &shown, &plan, true);
    Ok(())
}

/// `-` is standard input; anything else a file, read whole into wiped memory.
fn read_input(path: &Path) -> Result<Zeroizing<String>> {
    let mut bytes = Zeroizing::new(Vec::new());
    let shown = path.display();
    if path == Path::new("-") {
        std::io::stdin()
            .lock()
            .read_to_end(&mut bytes)
            .map_err(|e| Error::Other(format!("cannot read standard input: {e}")))?;
    } else {
        let mut file = std::fs::File::open(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::NotFound(format!("no file {shown}")),
            _ => Error::io("cannot open", path)(e),
        })?;
        file.read_to_end(&mut bytes)
            .map_err(Error::io("cannot read", path))?;
    }
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| Error::Invalid(format!("{shown} is not UTF-8 text; nothing was imported")))?;
    Ok(Zeroizing::new(text.to_owned()))
}

fn guess_format(path: &Path) -> ImportFormat {
    match path.extension().and_then(|e| e.to_str()) {
        Some(ext) if ext.eq_ignore_ascii_case("json") => ImportFormat::Json,
        _ => ImportFormat::Dotenv,
    }
}

/// One line naming the first problems and how many more there are.
fn refuse(shown: &str, problems: &[Problem]) -> Error {
    let mut listed: Vec<String> = problems
        .iter()
        .take(SHOWN_PROBLEMS)
        .map(ToString::to_string)
        .collect();
    if problems.len() > SHOWN_PROBLEMS {
        listed.push(format!("and {} more", problems.len() - SHOWN_PROBLEMS));
    }
    Error::Invalid(format!(
        "cannot import {shown}: {}; nothing was imported",
        listed.join("; ")
    ))
}

/// What each entry would do to the scope, in file order.
fn plan<'e>(
    vault: &crate::vault::VaultDir,
    key: &crate::vault::Key,
    scope: &ScopeKey,
    entries: &'e [Entry],
) -> Result<Vec<(&'e str, Change)>> {
    let plaintext = vault.read(key)?;
    let view = plaintext.view()?;
    Ok(entries
        .iter()
        .map(|entry| {
            let change = match view.get(scope, &entry.name) {
                None => Change::Added,
                Some(existing) if existing.value() == entry.value => Change::Unchanged,
                Some(_) => Change::Changed,
            };
            (entry.name.as_str(), change)
        })
        .collect())
}

fn print_plan(scope: &ScopeKey, shown: &str, plan: &[(&str, Change)]) {
    eprintln!("Import into {scope} from {shown}:");
    for (name, change) in plan {
        let (mark, what) = match change {
            Change::Added => ('+', "new"),
            Change::Changed => ('~', "changed"),
            Change::Unchanged => ('=', "unchanged"),
        };
        eprintln!("  {mark} {name} ({what})");
    }
}

fn report(cx: &Context, scope: &ScopeKey, shown: &str, plan: &[(&str, Change)], applied: bool) {
    let names = |c: Change| -> Vec<&str> {
        plan.iter()
            .filter(|(_, change)| *change == c)
            .map(|(name, _)| *name)
            .collect()
    };
    let (added, changed, unchanged) = (
        names(Change::Added),
        names(Change::Changed),
        names(Change::Unchanged),
    );
    if cx.global.json {
        super::print_json(&json!({
            "scope": scope.to_string(),
            "file": shown,
            "added": added,
            "changed": changed,
            "unchanged": unchanged,
            "applied": applied,
        }));
        return;
    }
    let counts = format!(
        "{} new, {} changed, {} unchanged",
        added.len(),
        changed.len(),
        unchanged.len()
    );
    if applied {
        eprintln!("Imported into {scope}: {counts}.");
    } else if added.is_empty() && changed.is_empty() {
        eprintln!("Nothing to import into {scope}: {counts}.");
    } else {
        print_plan(scope, shown, plan);
        eprintln!("Dry run: {counts}; nothing was changed.");
    }
}
