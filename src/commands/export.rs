//! `ampsecret export`: a scope's secrets (or its effective values, from the vault or with
//! `--remote` from SSM) as dotenv, shell, JSON or GitHub Actions environment, on stdout.

use super::values;
use crate::cli::{ExportArgs, ExportFormat};
use crate::error::{Error, Result};
use crate::formats::{self, dotenv, github, json, shell};
use crate::output::{Output, Render};
use crate::secret::SecretValue;
use crate::session::Context;
use std::io::{self, Write};

/// The secrets in an export format (with `--json`, the JSON format).
struct Exported {
    format: ExportFormat,
    secrets: Vec<(String, SecretValue)>,
    empty_warning: Option<String>,
}

impl Render for Exported {
    fn render(&self, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<()> {
        if let Some(warning) = &self.empty_warning {
            writeln!(err, "{warning}")?;
        }
        let items = self
            .secrets
            .iter()
            .map(|(name, value)| (name.as_str(), value.expose()));
        let text = match self.format {
            ExportFormat::Dotenv => dotenv::render(items),
            ExportFormat::Shell => shell::render(items),
            ExportFormat::Json => json::render(items),
            ExportFormat::Github => {
                let rendered = github::render(items);
                // The masks on stderr: the runner registers them without writing them into
                // the env file.
                err.write_all(rendered.masks.as_bytes())?;
                rendered.env
            }
        };
        out.write_all(text.as_bytes())
    }
}

pub fn run(cx: &Context, out: &Output, args: ExportArgs) -> Result<()> {
    let format = match (args.format, out.json) {
        (Some(format), false) => format,
        (None, false) => ExportFormat::Dotenv,
        (None | Some(ExportFormat::Json), true) => ExportFormat::Json,
        (Some(_), true) => {
            return Err(Error::Usage(
                "--json exports JSON; leave out --format, or leave out --json".into(),
            ));
        }
    };
    let values = values::gather(cx, &args.scope, &args.values, args.effective)?;
    check_names(format, values.secrets.iter().map(|(name, _)| name.as_str()))?;
    let empty_warning = values.secrets.is_empty().then(|| {
        let fallback = match &values.lookup.fallback {
            Some(fallback) => format!(" or {fallback}"),
            None => String::new(),
        };
        let place = if args.values.remote { " in SSM" } else { "" };
        format!(
            "warning: no secrets{place} in {}{fallback}; nothing to export",
            values.lookup.scope
        )
    });
    out.print(&Exported {
        format,
        secrets: values.secrets,
        empty_warning,
    })
}

/// Refuses names the format's consumer cannot hold as variables, naming them all.
fn check_names<'a>(format: ExportFormat, names: impl Iterator<Item = &'a str>) -> Result<()> {
    let (fits, rule, label): (fn(&str) -> bool, &str, &str) = match format {
        ExportFormat::Shell => (
            formats::is_shell_name,
            "shell variables are letters, digits and '_', not starting with a digit",
            "shell",
        ),
        ExportFormat::Dotenv => (
            dotenv::is_name,
            "dotenv names are letters, digits, '_' and '.', not starting with a digit",
            "dotenv",
        ),
        ExportFormat::Json | ExportFormat::Github => return Ok(()),
    };
    let bad: Vec<&str> = names.filter(|name| !fits(name)).collect();
    if bad.is_empty() {
        return Ok(());
    }
    Err(Error::Invalid(format!(
        "{} cannot be exported as {label}: {rule}; use --format json",
        bad.join(", ")
    )))
}
