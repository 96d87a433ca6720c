//! `ampsecret exec -- COMMAND`: run a command with the scope's effective secrets in its
//! environment. ampsecret prints nothing of its own once the command starts; the command's
//! status becomes ampsecret's. With `--mask` (the default under CI) the command's output
//! passes through [`crate::mask`].

use crate::child;
use crate::cli::ExecArgs;
use crate::effective;
use crate::error::{Error, Result};
use crate::keystore;
use crate::mask::Masker;
use crate::session::{self, Context};
use std::process::Command;

/// Variables kept by `--pristine`.
const PRISTINE_KEEP: [&str; 2] = ["PATH", "HOME"];

/// Runs the command; `Ok` holds its exit status (128+N when killed by signal N).
pub fn run(cx: &Context, args: ExecArgs) -> Result<i32> {
    let scope = cx.scope(&args.scope)?;
    let (program, program_args) = args
        .command
        .split_first()
        .ok_or_else(|| Error::Usage("no command given: write it after '--'".into()))?;
    for name in &args.strict {
        session::check_name(name)?;
    }
    let vault = cx.vault()?;
    let view = vault.view()?;
    let resolved = effective::resolve_all(&view, &scope);

    let missing: Vec<&str> = args
        .strict
        .iter()
        .map(String::as_str)
        .filter(|name| resolved.binary_search_by(|r| r.name.cmp(name)).is_err())
        .collect();
    if !missing.is_empty() {
        return Err(Error::NotFound(format!(
            "--strict: no value for {} in {scope} nor in shared; nothing was run",
            missing.join(", ")
        )));
    }

    let mut command = Command::new(program);
    command.args(program_args);
    if args.pristine {
        command.env_clear();
        for name in PRISTINE_KEEP {
            if let Some(value) = std::env::var_os(name) {
                command.env(name, value);
            }
        }
    }
    // The vault's key opens every scope; the command gets only this scope's values.
    command.env_remove(keystore::IDENTITY_ENV);
    command.env_remove(keystore::PASSPHRASE_ENV);
    let values: Vec<_> = resolved.iter().map(|r| r.entry.value()).collect();
    for (r, value) in resolved.iter().zip(&values) {
        command.env(r.name, value.expose());
    }
    let mask = match (args.mask, args.no_mask) {
        (true, _) => true,
        (_, true) => false,
        _ => cx.config.ci,
    };
    let masker = mask.then(|| Masker::new(values.iter().map(|v| v.expose())));
    drop(values);
    tracing::debug!(
        "running {} with {} secrets of {scope}",
        program.to_string_lossy(),
        resolved.len()
    );
    drop(resolved);
    drop(view);

    let status = child::run(&mut command, masker.as_ref()).map_err(|e| {
        let program = program.to_string_lossy();
        match e.kind() {
            std::io::ErrorKind::NotFound => {
                Error::NotFound(format!("cannot run {program}: command not found"))
            }
            _ => Error::Other(format!("cannot run {program}: {e}")),
        }
    })?;
    Ok(child::exit_code(status))
}
