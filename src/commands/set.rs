//! `ampsecret set NAME`: store a value from a hidden prompt, stdin or a file.

use super::Context;
use crate::cli::SetArgs;
use crate::error::{Error, Result};
use crate::prompt;
use crate::secret::{ADVANCED_TIER_MAX, SecretValue};
use serde_json::json;
use std::io::Read;
use zeroize::Zeroizing;

pub fn run(cx: &Context, args: SetArgs) -> Result<()> {
    let scope = cx.scope(&args.scope)?;
    let existing = match cx.open_vault() {
        Ok(vault) => Some(vault),
        Err(Error::NotFound(_)) if cx.interactive => None,
        Err(e) => return Err(e),
    };
    let (_, parameter) = cx.parameter(existing.as_ref(), &scope, &args.name)?;

    // Unlock and ask about overwriting before the value is typed, not after.
    let unlocked = match existing {
        Some(vault) => {
            let key = cx.unlock(&vault)?;
            if cx.interactive && !args.yes {
                let exists = vault.read(&key)?.view()?.get(&scope, &args.name).is_some();
                if exists
                    && !prompt::confirm(
                        &format!("{} already exists in {scope}. Overwrite it?", args.name),
                        false,
                    )?
                {
                    return Err(Error::Cancelled);
                }
            }
            Some((vault, key))
        }
        None => None,
    };

    let value = read_value(cx, &args)?;
    let advanced = value
        .validate()
        .map_err(|e| Error::Invalid(format!("value for {}: {e}", args.name)))?;
    if advanced {
        super::warn_advanced_tier(&args.name, value.len());
    }

    let (vault, key) = match unlocked {
        Some(unlocked) => unlocked,
        None => {
            let question = format!("No vault at {}. Create one?", cx.vault_dir().display());
            if !prompt::confirm(&question, true)? {
                return Err(Error::Cancelled);
            }
            let (vault, key, _) = super::init::create(cx, false)?;
            (vault, key)
        }
    };

    let created = vault.update(&key, |v| Ok(v.set(&scope, &args.name, value, super::now())))?;
    if cx.global.json {
        super::print_json(&json!({
            "name": args.name,
            "scope": scope.to_string(),
            "path": parameter,
            "created": created,
        }));
    } else {
        let verb = if created { "Stored" } else { "Updated" };
        eprintln!("{verb} {} in {scope}.", args.name);
    }
    Ok(())
}

/// The value, from `--stdin`, `--file` or a hidden prompt; never from argv.
fn read_value(cx: &Context, args: &SetArgs) -> Result<SecretValue> {
    let bytes = if args.stdin {
        let mut bytes = read_capped(std::io::stdin().lock(), "standard input")?;
        let newline = if bytes.ends_with(b"\r\n") {
            2
        } else {
            usize::from(bytes.ends_with(b"\n"))
        };
        let len = bytes.len() - newline;
        bytes.truncate(len);
        bytes
    } else if let Some(path) = &args.file {
        let file = std::fs::File::open(path)
            .map_err(|e| Error::NotFound(format!("cannot open --file {}: {e}", path.display())))?;
        read_capped(file, &path.display().to_string())?
    } else if cx.interactive {
        return prompt::hidden_value(&args.name);
    } else {
        return Err(Error::Usage(
            "no value given and no terminal to ask on: pipe it with --stdin or use --file PATH (values are never taken from the command line)".into(),
        ));
    };
    let mut bytes = bytes;
    SecretValue::from_utf8(std::mem::take(&mut *bytes))
        .map_err(|e| Error::Invalid(format!("value for {}: {e}", args.name)))
}

/// Reads at most a little more than SSM's limit into a buffer that never regrows, so no
/// unwiped copy of the value is left behind in freed memory.
fn read_capped(source: impl Read, what: &str) -> Result<Zeroizing<Vec<u8>>> {
    let cap = ADVANCED_TIER_MAX + 2; // room for one trailing CRLF
    let mut bytes = Zeroizing::new(Vec::with_capacity(cap + 1));
    source
        .take(cap as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::Other(format!("cannot read {what}: {e}")))?;
    if bytes.len() > cap {
        return Err(Error::Invalid(format!(
            "the value from {what} is larger than SSM's limit of {ADVANCED_TIER_MAX} bytes"
        )));
    }
    Ok(bytes)
}
