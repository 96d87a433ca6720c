//! `ampsecret export`: a scope's secrets (or its effective values, from the vault or with
//! `--remote` from SSM) as dotenv (for Node or for python-dotenv), shell, JSON or GitHub
//! Actions environment, on stdout. Everything is rendered first: a value the format's readers
//! cannot carry stops the export with nothing written.

use super::values;
use crate::cli::{ExportArgs, ExportFormat};
use crate::error::{Error, Result};
use crate::formats::{self, Refused, dotenv, github, json, python_dotenv, shell};
use crate::output::{Output, Render};
use crate::secret::SecretValue;
use crate::session::Context;
use std::io::{self, Write};
use zeroize::Zeroizing;

/// The secrets rendered in an export format (with `--json`, the JSON format).
struct Exported {
    text: Zeroizing<String>,
    /// GitHub's `::add-mask::` lines, for stderr.
    masks: Option<Zeroizing<String>>,
    empty_warning: Option<String>,
}

impl Render for Exported {
    fn render(&self, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<()> {
        if let Some(warning) = &self.empty_warning {
            writeln!(err, "{warning}")?;
        }
        // The masks on stderr: the runner registers them without writing them into the env
        // file.
        if let Some(masks) = &self.masks {
            err.write_all(masks.as_bytes())?;
        }
        out.write_all(self.text.as_bytes())
    }
}

/// Renders everything before anything is written, so a refused value leaves no partial file.
fn render(format: ExportFormat, secrets: &[(String, SecretValue)]) -> Result<Exported> {
    let items = secrets
        .iter()
        .map(|(name, value)| (name.as_str(), value.expose()));
    let (text, masks) = match format {
        ExportFormat::Dotenv => (dotenv::render(items).map_err(refuse(format))?, None),
        ExportFormat::PythonDotenv => (python_dotenv::render(items).map_err(refuse(format))?, None),
        ExportFormat::Shell => (shell::render(items), None),
        ExportFormat::Json => (json::render(items), None),
        ExportFormat::Github => {
            let rendered = github::render(items);
            (rendered.env, Some(rendered.masks))
        }
    };
    Ok(Exported {
        text,
        masks,
        empty_warning: None,
    })
}

/// One line naming every refused secret, why, and the formats that carry any value.
fn refuse(format: ExportFormat) -> impl Fn(Vec<Refused>) -> Error {
    move |refused| {
        let listed: Vec<String> = refused.iter().map(ToString::to_string).collect();
        Error::Invalid(format!(
            "cannot export as {}: {}; export {} with --format json or --format shell, which carry any value; nothing was written",
            format.label(),
            listed.join("; "),
            if refused.len() == 1 { "it" } else { "them" },
        ))
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
    let mut exported = render(format, &values.secrets)?;
    drop(values);
    exported.empty_warning = empty_warning;
    out.print(&exported)
}

/// Refuses names the format's consumer cannot hold as variables, naming them all.
fn check_names<'a>(format: ExportFormat, names: impl Iterator<Item = &'a str>) -> Result<()> {
    let (fits, rule, label): (fn(&str) -> bool, &str, &str) = match format {
        ExportFormat::Shell => (
            formats::is_shell_name,
            "shell variables are letters, digits and '_', not starting with a digit",
            "shell",
        ),
        ExportFormat::Dotenv | ExportFormat::PythonDotenv => (
            dotenv::is_name,
            "dotenv names are letters, digits, '_' and '.', not starting with a digit",
            format.label(),
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
