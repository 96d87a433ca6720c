//! `ampsecret export`: a scope's secrets (or its effective values) as dotenv, shell, JSON or
//! GitHub Actions environment, on stdout.

use super::Context;
use super::read::write_stdout;
use crate::cli::{ExportArgs, ExportFormat};
use crate::effective;
use crate::error::{Error, Result};
use crate::formats::{self, dotenv, github, json, shell};
use crate::secret::SecretValue;
use std::io::Write;

pub fn run(cx: &Context, args: ExportArgs) -> Result<()> {
    let format = match (args.format, cx.global.json) {
        (Some(format), false) => format,
        (None, false) => ExportFormat::Dotenv,
        (None | Some(ExportFormat::Json), true) => ExportFormat::Json,
        (Some(_), true) => {
            return Err(Error::Usage(
                "--json exports JSON; leave out --format, or leave out --json".into(),
            ));
        }
    };
    let scope = cx.scope(&args.scope)?;
    let vault = cx.open_vault()?;
    let key = cx.unlock(&vault)?;
    let plaintext = vault.read(&key)?;
    let view = plaintext.view()?;
    let secrets: Vec<(&str, SecretValue)> = if args.effective {
        effective::resolve_all(&view, &scope)
            .iter()
            .map(|r| (r.name, r.entry.value()))
            .collect()
    } else {
        view.scope(&scope).map_or_else(Vec::new, |s| {
            s.secrets.iter().map(|e| (e.name, e.value())).collect()
        })
    };
    check_names(format, secrets.iter().map(|(name, _)| *name))?;
    if secrets.is_empty() {
        let fallback = if args.effective { " or shared" } else { "" };
        eprintln!("warning: no secrets in {scope}{fallback}; nothing to export");
    }
    let items = secrets.iter().map(|(name, value)| (*name, value.expose()));
    let text = match format {
        ExportFormat::Dotenv => dotenv::render(items),
        ExportFormat::Shell => shell::render(items),
        ExportFormat::Json => json::render(items),
        ExportFormat::Github => {
            let rendered = github::render(items);
            // The masks first, on stderr: the runner registers them before anything else.
            let mut err = std::io::stderr().lock();
            err.write_all(rendered.masks.as_bytes())
                .and_then(|()| err.flush())
                .map_err(|e| Error::Other(format!("cannot write to standard error: {e}")))?;
            rendered.env
        }
    };
    write_stdout(text.as_bytes(), false)
}

/// Refuses names the format's consumer cannot hold as variables, naming them all.
fn check_names<'a>(format: ExportFormat, names: impl Iterator<Item = &'a str>) -> Result<()> {
    let (fits, rule): (fn(&str) -> bool, &str) = match format {
        ExportFormat::Shell => (
            formats::is_shell_name,
            "shell variables are letters, digits and '_', not starting with a digit",
        ),
        ExportFormat::Dotenv => (
            dotenv::is_name,
            "dotenv names are letters, digits, '_' and '.', not starting with a digit",
        ),
        ExportFormat::Json | ExportFormat::Github => return Ok(()),
    };
    let bad: Vec<&str> = names.filter(|name| !fits(name)).collect();
    if bad.is_empty() {
        return Ok(());
    }
    Err(Error::Invalid(format!(
        "{} cannot be exported as {}: {rule}; use --format json",
        bad.join(", "),
        match format {
            ExportFormat::Shell => "shell",
            _ => "dotenv",
        }
    )))
}
