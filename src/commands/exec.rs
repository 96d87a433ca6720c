//! `ampsecret exec -- COMMAND`: run a command with the scope's effective secrets (from the
//! vault, or with `--remote` from SSM) in its environment. ampsecret prints nothing of its
//! own once the command starts; the command's status becomes ampsecret's. With `--mask` (the
//! default under CI) the command's output passes through [`crate::mask`].

use super::values;
use crate::child;
use crate::cli::ExecArgs;
use crate::error::{Error, Result};
use crate::mask::Masker;
use crate::session::Context;
use std::process::Command;

/// Variables kept by `--pristine`.
const PRISTINE_KEEP: [&str; 2] = ["PATH", "HOME"];

/// Variables that decide which program runs, what it loads or what a shell runs first. A
/// secret with such a name would steer the command, so `exec` refuses it unless the user
/// names it with `--allow-env`. Names ending in `*` are prefixes.
pub const STEERING_VARIABLES: &[&str] = &[
    "PATH",
    "LD_*",
    "DYLD_*",
    "BASH_ENV",
    "ENV",
    "BASHOPTS",
    "SHELLOPTS",
    "IFS",
    "PS4",
    "PROMPT_COMMAND",
    "CDPATH",
    "GLOBIGNORE",
    "ZDOTDIR",
    "NODE_OPTIONS",
    "NODE_PATH",
    "PYTHONPATH",
    "PYTHONSTARTUP",
    "PYTHONHOME",
    "PYTHONINSPECT",
    "PERL5OPT",
    "PERL5LIB",
    "PERLLIB",
    "RUBYOPT",
    "RUBYLIB",
    "JAVA_TOOL_OPTIONS",
    "_JAVA_OPTIONS",
    "JDK_JAVA_OPTIONS",
    "GCONV_PATH",
    "HOSTALIASES",
    "GIT_SSH_COMMAND",
    "GIT_EXEC_PATH",
];

/// ampsecret's own variables (the key, the passphrase, the vault…) never reach the command.
const OWN_PREFIX: &str = "AMPSECRET_";

/// Whether a secret named `name` would steer the command (see [`STEERING_VARIABLES`]).
pub fn steers_programs(name: &str) -> bool {
    name.starts_with(OWN_PREFIX)
        || STEERING_VARIABLES
            .iter()
            .any(|pattern| match pattern.strip_suffix('*') {
                Some(prefix) => name.starts_with(prefix),
                None => name == *pattern,
            })
}

/// Runs the command; `Ok` holds its exit status (128+N when killed by signal N). Takes the
/// context to drop it, and with it the vault's key and payload, before the command runs.
pub fn run(cx: Context, args: ExecArgs) -> Result<i32> {
    let (program, program_args) = args
        .command
        .split_first()
        .ok_or_else(|| Error::Usage("no command given: write it after '--'".into()))?;
    let values = values::gather(&cx, &args.scope, &args.values, true)?;

    let refused: Vec<&str> = values
        .secrets
        .iter()
        .map(|(name, _)| name.as_str())
        .filter(|name| steers_programs(name) && !args.allow_env.iter().any(|a| a == name))
        .collect();
    if !refused.is_empty() {
        return Err(Error::Invalid(format!(
            "{} in {} would change which program runs or what it loads; pass --allow-env {} to pass it on anyway; nothing was run",
            refused.join(", "),
            values.lookup.scope,
            refused.join(",")
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
    // The vault's key opens every scope; the command gets only this scope's values, and
    // none of ampsecret's own settings.
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with(OWN_PREFIX) {
            command.env_remove(name);
        }
    }
    for (name, value) in &values.secrets {
        command.env(name, value.expose());
    }
    let mask = match (args.mask, args.no_mask) {
        (true, _) => true,
        (_, true) => false,
        _ => cx.config.ci,
    };
    let masker = mask.then(|| Masker::new(values.secrets.iter().map(|(_, v)| v.expose())));
    tracing::debug!(
        "running {} with {} secrets of {}",
        program.to_string_lossy(),
        values.secrets.len(),
        values.lookup.scope
    );
    drop(values);
    // The key opens every scope: wipe it (and the payload) now, not when the command ends.
    drop(cx);
    crate::sys::restore_core_limit(&mut command);

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
