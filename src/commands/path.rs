//! `ampsecret path NAME`: the SSM parameter name Amplify uses.

use super::Context;
use crate::cli::PathArgs;
use crate::error::{Error, Result};
use serde_json::json;

pub fn run(cx: &Context, args: PathArgs) -> Result<()> {
    let scope = cx.scope(&args.scope)?;
    // The vault only supplies the app id; without one, flags and environment may.
    let vault = match cx.open_vault() {
        Ok(vault) => Some(vault),
        Err(Error::NotFound(_)) => None,
        Err(e) => return Err(e),
    };
    let (parameter_scope, full) = match &args.name {
        Some(name) => {
            let (parameter_scope, full) = cx.parameter(vault.as_ref(), &scope, name)?;
            (parameter_scope, Some(full))
        }
        None => (
            scope.parameter_scope(&cx.app_identity(vault.as_ref())?)?,
            None,
        ),
    };
    let prefix = parameter_scope.prefix();
    if cx.global.json {
        super::print_json(&json!({
            "scope": scope.to_string(),
            "name": args.name,
            "prefix": prefix,
            "path": full,
        }));
    } else {
        println!("{}", full.unwrap_or(prefix));
    }
    Ok(())
}
