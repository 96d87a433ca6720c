//! `ampsecret set NAME`: store a value from a hidden prompt, stdin or a file.

use crate::cli::SetArgs;
use crate::error::{Error, Result};
use crate::output::{Output, Render};
use crate::prompt;
use crate::scope::ScopeKey;
use crate::secret::{ADVANCED_TIER_MAX, SecretValue, advanced_tier_warning};
use crate::session::{self, Context};
use serde::Serialize;
use std::io::{self, Read, Write};
use zeroize::Zeroizing;

/// `--json`: `{"name","scope","path","created"}`.
#[derive(Serialize)]
struct Stored {
    name: String,
    #[serde(serialize_with = "crate::output::display")]
    scope: ScopeKey,
    path: Option<String>,
    created: bool,
}

impl Render for Stored {
    fn render(&self, _: &mut dyn Write, err: &mut dyn Write) -> io::Result<()> {
        let verb = if self.created { "Stored" } else { "Updated" };
        writeln!(err, "{verb} {} in {}.", self.name, self.scope)
    }
}

pub fn run(cx: &Context, out: &Output, args: SetArgs) -> Result<()> {
    let scope = cx.scope(&args.scope)?;
    if let Some((name, _)) = args.name.split_once('=') {
        // `set NAME=VALUE`, a dotenv habit: the part after '=' is a value, never repeated.
        return Err(Error::Usage(format!(
            "'{}=…' looks like NAME=VALUE: give the name alone ('ampsecret set {}'); the value goes through the hidden prompt, --stdin or --file PATH, never the command line",
            crate::text::escape(name),
            crate::text::escape(name)
        )));
    }
    session::check_name(&args.name)?;
    if let Some(note) = crate::cli::usage::bare_scope_flag_note(&args.name) {
        out.message(format_args!("{note}"));
    }
    let exists = cx.vault_dir()?.is_some();
    // A script is told the command; a person is offered the vault below, inside a project
    // only (outside one, a vault here could land in the home directory).
    if !exists && (!cx.config.interactive || cx.config.project_root.is_none()) {
        return Err(cx.no_vault());
    }
    if args.strip_newline && args.file.is_none() {
        return Err(Error::Usage(
            "--strip-newline goes with --file (--stdin already drops one trailing newline)".into(),
        ));
    }
    // Offered before the value is typed: a "no" wastes nothing.
    let created = if exists {
        None
    } else {
        let question = format!(
            "This project has no vault yet. Create one at {} (as 'ampsecret init' does)?",
            cx.config.vault_dir.display()
        );
        if !prompt::confirm(&question, true)? {
            return Err(Error::Cancelled);
        }
        let (dir, key, _, note) = super::init::create(cx, false)?;
        out.message(format_args!(
            "Created the vault at {}.",
            dir.dir().display()
        ));
        if let Some(note) = note {
            out.message(format_args!("{note}"));
        }
        if super::init::register_git_drivers(out, &dir) {
            out.message(format_args!("{}", super::init::GIT_DRIVERS_REGISTERED));
        }
        Some((dir, key))
    };
    // The full SSM name is checked when the app's identity is known; a vault without an
    // app id still stores secrets (push names what is missing).
    let path = match cx.parameter(&scope, &args.name) {
        Ok((_, path)) => Some(path),
        // The app id or package name is missing: say what push will need.
        Err(Error::Usage(why)) => {
            out.message(format_args!("note: stored locally only for now; {why}"));
            None
        }
        Err(e) => return Err(e),
    };

    // Ask about overwriting before the value is typed, not after.
    if exists && cx.config.interactive && !args.yes {
        let vault = cx.vault()?;
        let part = vault.part(&[(&scope, &args.name)], &[])?;
        if part.view()?.get(&scope, &args.name).is_some()
            && !prompt::confirm(
                &format!("{} already exists in {scope}. Overwrite it?", args.name),
                false,
            )?
        {
            return Err(Error::Cancelled);
        }
    }

    let value = read_value(cx, out, &args)?;
    let advanced = value
        .validate()
        .map_err(|e| Error::Invalid(format!("value for {}: {e}", args.name)))?;
    if advanced {
        out.message(format_args!(
            "{}",
            advanced_tier_warning(&args.name, value.len())
        ));
    }

    // Only the block that holds the name is decoded and encoded again.
    let store = |dir: &crate::vault::VaultDir, key: &crate::vault::Key| {
        dir.update_secret(key, &scope, &args.name, |v| {
            let stamp = v.stamp(key);
            Ok(v.set(&scope, &args.name, value, &stamp))
        })
    };
    let created = match &created {
        Some((dir, key)) => store(dir, key)?,
        // update_secret reads the vault under the lock: opening it here too would decrypt
        // and check it twice.
        None => store(cx.require_vault_dir()?, cx.key()?)?,
    };
    out.emit(&Stored {
        name: args.name,
        scope,
        path,
        created,
    })
}

/// The value, from `--stdin`, `--file` or a hidden prompt; never from argv.
fn read_value(cx: &Context, out: &Output, args: &SetArgs) -> Result<SecretValue> {
    let mut bytes = if args.stdin {
        let _hidden = prompt::announce_terminal_stdin(&args.name);
        let mut bytes = read_capped(std::io::stdin().lock(), "standard input")?;
        strip_one_newline(&mut bytes);
        bytes
    } else if let Some(path) = &args.file {
        let file = std::fs::File::open(path).map_err(|e| match e.kind() {
            // A path that names nothing may be a value typed where the path goes: not
            // repeated. One that exists is shown, so the person sees which file failed.
            io::ErrorKind::NotFound => Error::NotFound(
                "cannot open --file: no such file (the path is not repeated, in case it was a value); --file takes the path of a file holding the value".into(),
            ),
            _ => Error::NotFound(format!("cannot open --file {}: {e}", path.display())),
        })?;
        let mut bytes = read_capped(file, &path.display().to_string())?;
        if args.strip_newline {
            strip_one_newline(&mut bytes);
        } else if bytes
            .iter()
            .position(|b| *b == b'\n')
            .is_some_and(|at| at + 1 == bytes.len())
        {
            // One line and its newline is what `echo value > file` writes; a multi-line
            // value (a PEM key) ends with one on purpose.
            out.message(format_args!(
                "note: {} ends with a newline, kept as part of the value; pass --strip-newline to drop it",
                path.display()
            ));
        }
        bytes
    } else if cx.config.interactive {
        return prompt::hidden_value(&args.name);
    } else {
        return Err(Error::Usage(
            "no value given and no terminal to ask on: pipe it with --stdin or use --file PATH (values are never taken from the command line)".into(),
        ));
    };
    SecretValue::from_utf8(std::mem::take(&mut *bytes))
        .map_err(|e| Error::Invalid(format!("value for {}: {e}", args.name)))
}

/// Drops one trailing newline (`\n` or `\r\n`), as a shell's `$(…)` does.
fn strip_one_newline(bytes: &mut Vec<u8>) {
    let newline = if bytes.ends_with(b"\r\n") {
        2
    } else {
        usize::from(bytes.ends_with(b"\n"))
    };
    bytes.truncate(bytes.len() - newline);
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
