//! `ampsecret exec -- COMMAND`: run a command with the scope's effective secrets (from the
//! vault, or with `--remote` from SSM) in its environment. ampsecret prints nothing of its own once the command starts; the command's
//! status becomes ampsecret's.

use super::values;
use crate::child;
use crate::cli::ExecArgs;
use crate::error::{Error, Result};
use crate::keystore;
use crate::session::Context;
use std::process::Command;

/// Variables kept by `--pristine`.
const PRISTINE_KEEP: [&str; 2] = ["PATH", "HOME"];

/// Runs the command; `Ok` holds its exit status (128+N when killed by signal N).
pub fn run(cx: &Context, args: ExecArgs) -> Result<i32> {
    let (program, program_args) = args
        .command
        .split_first()
        .ok_or_else(|| Error::Usage("no command given: write it after '--'".into()))?;
    let values = values::gather(cx, &args.scope, &args.values, true)?;

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
    for (name, value) in &values.secrets {
        command.env(name, value.expose());
    }
    tracing::debug!(
        "running {} with {} secrets of {}",
        program.to_string_lossy(),
        values.secrets.len(),
        values.lookup.scope
    );
    drop(values);

    let status = child::run(&mut command).map_err(|e| {
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
