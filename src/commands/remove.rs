//! `ampsecret remove NAME`: delete a secret from the vault, after confirming.

use crate::cli::RemoveArgs;
use crate::error::{Error, Result};
use crate::output::{Output, Render};
use crate::scope::ScopeKey;
use crate::session::{self, Context};
use serde::Serialize;
use std::io::{self, Write};

/// `--json`: `{"name","scope","removed":true}`.
#[derive(Serialize)]
struct Removed {
    name: String,
    #[serde(serialize_with = "crate::output::display")]
    scope: ScopeKey,
    removed: bool,
}

impl Render for Removed {
    fn render(&self, _: &mut dyn Write, err: &mut dyn Write) -> io::Result<()> {
        writeln!(err, "Removed {} from {}.", self.name, self.scope)
    }
}

pub fn run(cx: &Context, out: &Output, args: RemoveArgs) -> Result<()> {
    let scope = cx.scope(&args.scope)?;
    session::check_name(&args.name)?;
    let vault = cx.vault()?;
    let not_found = || Error::SecretNotFound {
        scope: scope.clone(),
        name: args.name.clone(),
        fallback: None,
    };
    if vault.view()?.get(&scope, &args.name).is_none() {
        return Err(not_found());
    }
    let question = format!("Remove {} from {scope}?", args.name);
    cx.confirm(args.yes, "remove", false, &question)?;
    vault.dir.update(vault.key, |v| {
        v.remove(&scope, &args.name).map(drop).ok_or_else(not_found)
    })?;
    out.emit(&Removed {
        name: args.name,
        scope,
        removed: true,
    })
}
