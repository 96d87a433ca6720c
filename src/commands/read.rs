//! `ampsecret get NAME`: print one value.

use super::Context;
use crate::amplify;
use crate::cli::NameArgs;
use crate::error::{Error, Result};
use crate::scope::ScopeKey;
use serde_json::json;
use std::io::{IsTerminal, Write};

pub fn get(cx: &Context, args: NameArgs) -> Result<()> {
    let scope = cx.scope(&args.scope)?;
    amplify::validate_secret_name(&args.name)
        .map_err(|e| Error::Invalid(format!("secret name '{}': {e}", args.name)))?;
    let vault = cx.open_vault()?;
    let key = cx.unlock(&vault)?;
    let plaintext = vault.read(&key)?;
    let view = plaintext.view()?;
    let entry = view
        .get(&scope, &args.name)
        .ok_or_else(|| not_found(&scope, &args.name))?;
    let value = entry.value();
    if cx.global.json {
        let path = cx
            .parameter(Some(&vault), &scope, &args.name)
            .ok()
            .map(|(_, path)| path);
        let document = zeroize::Zeroizing::new(
            json!({
                "name": args.name,
                "scope": scope.to_string(),
                "path": path,
                "value": value.expose(),
                "created": super::timestamp(entry.created),
                "updated": super::timestamp(entry.updated),
            })
            .to_string(),
        );
        write_stdout(document.as_bytes(), true)
    } else {
        write_stdout(value.expose().as_bytes(), std::io::stdout().is_terminal())
    }
}

fn write_stdout(bytes: &[u8], newline: bool) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| {
            if newline {
                out.write_all(b"\n")
            } else {
                Ok(())
            }
        })
        .and_then(|()| out.flush())
        .map_err(|e| Error::Other(format!("cannot write to standard output: {e}")))
}

/// The error for a secret that is not in a scope, with the command that shows what is.
pub fn not_found(scope: &ScopeKey, name: &str) -> Error {
    Error::NotFound(format!(
        "no secret {name} in {scope}; 'ampsecret list --all' shows what the vault holds"
    ))
}
