//! `ampsecret get NAME`: print one value, the scope's own or (with `--effective`) the one a
//! deployment resolves.

use super::Context;
use crate::cli::GetArgs;
use crate::effective::{self, Source};
use crate::error::{Error, Result};
use crate::scope::ScopeKey;
use serde_json::json;
use std::io::{IsTerminal, Write};

pub fn get(cx: &Context, args: GetArgs) -> Result<()> {
    let name = &args.target.name;
    let scope = cx.scope(&args.target.scope)?;
    super::check_secret_name(name)?;
    let vault = cx.open_vault()?;
    let key = cx.unlock(&vault)?;
    let plaintext = vault.read(&key)?;
    let view = plaintext.view()?;
    let resolved = if args.effective {
        effective::resolve(&view, &scope, name).ok_or_else(|| not_found_effective(&scope, name))?
    } else {
        let entry = view
            .get(&scope, name)
            .ok_or_else(|| not_found(&scope, name))?;
        effective::Resolved {
            name: entry.name,
            entry,
            source: Source::Own,
            shadows_shared: false,
        }
    };
    let entry = resolved.entry;
    let value = entry.value();
    if cx.global.json {
        let path = cx
            .parameter(Some(&vault), &scope, name)
            .ok()
            .map(|(own, _)| resolved.parameter_name(&own));
        let mut document = json!({
            "name": name,
            "scope": scope.to_string(),
            "path": path,
            "created": super::timestamp(entry.created),
            "updated": super::timestamp(entry.updated),
        });
        if args.effective {
            document["source"] = json!(resolved.source_scope(&scope).to_string());
            document["shadows_shared"] = json!(resolved.shadows_shared);
        }
        document["value"] = json!(value.expose());
        let text = zeroize::Zeroizing::new(document.to_string());
        drop(document);
        write_stdout(text.as_bytes(), true)
    } else {
        write_stdout(value.expose().as_bytes(), std::io::stdout().is_terminal())
    }
}

/// Writes `bytes` (a value, or a document holding values) to stdout, and flushes.
pub fn write_stdout(bytes: &[u8], newline: bool) -> Result<()> {
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

/// The error for a name with no effective value: neither in the scope nor shared.
pub fn not_found_effective(scope: &ScopeKey, name: &str) -> Error {
    if *scope == ScopeKey::Shared {
        return not_found(scope, name);
    }
    Error::NotFound(format!(
        "no secret {name} in {scope} nor in shared; 'ampsecret list --all' shows what the vault holds"
    ))
}
