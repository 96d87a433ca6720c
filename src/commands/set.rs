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
    session::check_name(&args.name)?;
    let exists = cx.vault_dir()?.is_some();
    if !exists && !cx.config.interactive {
        return Err(Error::NoVault {
            dir: cx.config.vault_dir.clone(),
        });
    }
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

    let value = read_value(cx, &args)?;
    let advanced = value
        .validate()
        .map_err(|e| Error::Invalid(format!("value for {}: {e}", args.name)))?;
    if advanced {
        out.message(format_args!(
            "{}",
            advanced_tier_warning(&args.name, value.len())
        ));
    }

    let store =
        |v: &mut crate::vault::Vault| Ok(v.set(&scope, &args.name, value, crate::vault::now()));
    let created = if exists {
        let vault = cx.vault()?;
        vault.dir.update_secret(vault.key, &scope, &args.name, store)?
    } else {
        let question = format!("No vault at {}. Create one?", cx.config.vault_dir.display());
        if !prompt::confirm(&question, true)? {
            return Err(Error::Cancelled);
        }
        let (dir, key, _) = super::init::create(cx, out, false)?;
        dir.update(&key, store)?
    };
    out.emit(&Stored {
        name: args.name,
        scope,
        path,
        created,
    })
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
    } else if cx.config.interactive {
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
