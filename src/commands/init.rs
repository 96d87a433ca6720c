//! `ampsecret init`: create the vault and its key.

use crate::amplify;
use crate::cli::InitArgs;
use crate::error::{Error, Result};
use crate::keystore::{self, KeyLocation};
use crate::output::{Output, Render};
use crate::session::Context;
use crate::vault::config::CONFIG_FORMAT;
use crate::vault::{Config, Encryption, Key, VaultDir};
use age::secrecy::{ExposeSecret, SecretString};
use age::x25519;
use serde::Serialize;
use std::io::{self, Write};

/// `--json`: `{"vault","encryption","recipients","app_id","key_location"}`.
#[derive(Serialize)]
struct Created {
    vault: String,
    encryption: &'static str,
    recipients: Vec<String>,
    app_id: Option<String>,
    key_location: Option<&'static str>,
    #[serde(skip)]
    key_described: Option<String>,
}

impl Render for Created {
    fn render(&self, _: &mut dyn Write, err: &mut dyn Write) -> io::Result<()> {
        match &self.key_described {
            Some(location) => writeln!(
                err,
                "Created the vault at {}; its key is in {location}.",
                self.vault
            ),
            None => writeln!(err, "Created the passphrase vault at {}.", self.vault),
        }
    }
}

pub fn run(cx: &Context, out: &Output, args: InitArgs) -> Result<()> {
    let (vault, _key, location) = create(cx, out, args.passphrase)?;
    out.emit(&Created {
        vault: vault.dir().display().to_string(),
        encryption: if args.passphrase {
            "passphrase"
        } else {
            "x25519"
        },
        recipients: vault.config.recipients.clone(),
        app_id: vault.config.app_id.clone(),
        key_location: location.as_ref().map(KeyLocation::kind),
        key_described: location.as_ref().map(KeyLocation::describe),
    })
}

/// Shortest passphrase `init` accepts, in characters.
const MIN_PASSPHRASE_CHARS: usize = 12;

/// Creates the vault (shared with `set`'s first-run offer). Returns where the key went, or
/// `None` for a passphrase vault. The key is made and stored under the vault's lock, only
/// once no vault file is there, so a losing concurrent `init` leaves no key behind.
pub(super) fn create(
    cx: &Context,
    out: &Output,
    passphrase: bool,
) -> Result<(VaultDir, Key, Option<KeyLocation>)> {
    let dir = &cx.config.vault_dir;
    // Fail fast, before a passphrase is asked for; decided again under the lock.
    VaultDir::ensure_absent(dir)?;
    if let Some(app_id) = &cx.config.app_id {
        amplify::validate_app_id(app_id)
            .map_err(|e| Error::Invalid(format!("app id '{app_id}': {e}")))?;
    }
    let passphrase = if passphrase {
        let pass = cx.passphrase(true)?;
        check_passphrase_strength(&pass)?;
        Some(pass)
    } else {
        None
    };
    VaultDir::create(dir, |vault_id| {
        let (key, recipients, location) = match passphrase {
            Some(pass) => (Key::Passphrase(pass), Vec::new(), None),
            None => {
                let (identity, location) = new_identity(out, &vault_id)?;
                let recipient = identity.to_public().to_string();
                (
                    Key::Identities(vec![identity]),
                    vec![recipient],
                    Some(location),
                )
            }
        };
        let config = Config {
            format: CONFIG_FORMAT,
            vault_id,
            app_id: cx.config.app_id.clone(),
            encryption: match key {
                Key::Passphrase(_) => Encryption::Passphrase,
                Key::Identities(_) => Encryption::X25519,
            },
            recipients,
        };
        Ok((config, key, location))
    })
}

/// The key of a new X25519 vault: the one CI brings in the environment (nothing is stored),
/// else a new one stored in the keyring or the identity file.
fn new_identity(out: &Output, vault_id: &str) -> Result<(x25519::Identity, KeyLocation)> {
    if let Some((mut ids, location)) = keystore::identity_from_env()? {
        return Ok((ids.swap_remove(0), location));
    }
    let identity = x25519::Identity::generate();
    let (location, fallback) = keystore::store_identity(vault_id, &identity)?;
    if let Some(reason) = fallback {
        out.message(format_args!(
            "note: no usable OS keyring ({reason}); the key is in {} (0600). Back it up: without it the vault cannot be opened.",
            location.describe()
        ));
    }
    Ok((identity, location))
}

/// A passphrase vault is only as strong as its passphrase: scrypt slows guessing down, it
/// cannot make a short passphrase safe.
fn check_passphrase_strength(pass: &SecretString) -> Result<()> {
    if pass.expose_secret().chars().count() < MIN_PASSPHRASE_CHARS {
        return Err(Error::Invalid(format!(
            "the passphrase is too short: use at least {MIN_PASSPHRASE_CHARS} characters (four or more random words work well); nothing was created"
        )));
    }
    Ok(())
}
