//! `ampsecret remove NAME`: delete a secret from the vault, after confirming.

use super::Context;
use super::read::not_found;
use crate::cli::RemoveArgs;
use crate::error::{Error, Result};
use crate::prompt;
use serde_json::json;

pub fn run(cx: &Context, args: RemoveArgs) -> Result<()> {
    let scope = cx.scope(&args.scope)?;
    super::check_secret_name(&args.name)?;
    let vault = cx.open_vault()?;
    let key = cx.unlock(&vault)?;
    if vault.read(&key)?.view()?.get(&scope, &args.name).is_none() {
        return Err(not_found(&scope, &args.name));
    }
    if !args.yes {
        if !cx.interactive {
            return Err(Error::Usage(
                "remove asks for confirmation, and there is no terminal to ask on: pass --yes"
                    .into(),
            ));
        }
        if !prompt::confirm(&format!("Remove {} from {scope}?", args.name), false)? {
            return Err(Error::Cancelled);
        }
    }
    vault.update(&key, |v| {
        v.remove(&scope, &args.name)
            .map(drop)
            .ok_or_else(|| not_found(&scope, &args.name))
    })?;
    if cx.global.json {
        super::print_json(
            &json!({ "name": args.name, "scope": scope.to_string(), "removed": true }),
        );
    } else {
        eprintln!("Removed {} from {scope}.", args.name);
    }
    Ok(())
}
