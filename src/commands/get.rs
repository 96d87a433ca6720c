//! `ampsecret get NAME`: print one value, the scope's own or (with `--effective`) the one a
//! deployment resolves.

use crate::cli::GetArgs;
use crate::effective::{self, Lookup, Resolved, Source};
use crate::error::Result;
use crate::output::{self, Output, Render};
use crate::scope::ScopeKey;
use crate::secret::SecretValue;
use crate::session::Context;
use serde::Serialize;
use std::io::{self, IsTerminal, Write};

/// `--json`: `{"name","scope","path","created","updated"[,"source","shadows_shared"],"value"}`.
#[derive(Serialize)]
struct Got<'a> {
    name: &'a str,
    scope: String,
    path: Option<String>,
    #[serde(serialize_with = "output::rfc3339")]
    created: u64,
    #[serde(serialize_with = "output::rfc3339")]
    updated: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    shadows_shared: Option<bool>,
    #[serde(serialize_with = "output::expose")]
    value: SecretValue,
}

impl Render for Got<'_> {
    /// The value exactly, piped. For a person at a terminal, what a terminal would act on
    /// (a value could retitle, clear or rewrite it) is shown escaped, lines and tabs kept,
    /// and a newline ends it.
    fn render(&self, out: &mut dyn Write, _: &mut dyn Write) -> io::Result<()> {
        if !io::stdout().is_terminal() {
            return out.write_all(self.value.expose().as_bytes());
        }
        let shown = zeroize::Zeroizing::new(
            crate::text::escape_keeping_lines(self.value.expose()).into_owned(),
        );
        out.write_all(shown.as_bytes())?;
        out.write_all(b"\n")
    }
}

pub fn run(cx: &Context, out: &Output, args: GetArgs) -> Result<()> {
    let name = &args.target.name;
    let scope = cx.scope(&args.target.scope)?;
    if let Some(note) = crate::cli::usage::bare_scope_flag_note(name) {
        out.message(format_args!("{note}"));
    }
    crate::session::check_name(name)?;
    let vault = cx.vault()?;
    let lookup = if args.effective {
        cx.lookup(scope.clone())?
    } else {
        Lookup {
            scope: scope.clone(),
            fallback: None,
        }
    };
    // Only the blocks that can hold the name are decrypted.
    let wanted: Vec<(&ScopeKey, &str)> = std::iter::once(&scope)
        .chain(&lookup.fallback)
        .map(|s| (s, name.as_str()))
        .collect();
    let part = vault.part(&wanted, &[])?;
    let view = part.view()?;
    // Not found: the hint looks through the whole vault.
    let not_found = || match vault.view() {
        Ok(whole) => {
            crate::session::secret_not_found(&whole, &scope, name, lookup.fallback.as_ref())
        }
        Err(e) => e,
    };
    let resolved = if args.effective {
        effective::resolve(&view, &lookup, name).ok_or_else(not_found)?
    } else {
        let entry = view.get(&scope, name).ok_or_else(not_found)?;
        Resolved {
            name: entry.name,
            entry,
            source: Source::Own,
            shadows_shared: false,
        }
    };
    // Shown in JSON only (a sandbox's path reads package.json).
    let path = out
        .json
        .then(|| cx.parameter(&scope, name).ok())
        .flatten()
        .map(|(own, _)| resolved.parameter_name(&own));
    out.emit(&Got {
        name,
        scope: scope.to_string(),
        path,
        created: resolved.entry.created,
        updated: resolved.entry.updated,
        source: args
            .effective
            .then(|| lookup.source_scope(resolved.source).to_string()),
        shadows_shared: args.effective.then_some(resolved.shadows_shared),
        value: resolved.entry.value(),
    })
}
