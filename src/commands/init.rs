//! `ampsecret init`: create the vault and its key.

use crate::amplify;
use crate::cli::InitArgs;
use crate::error::{Error, Result};
use crate::keystore::{self, KeyLocation};
use crate::output::{Output, Render};
use crate::session::Context;
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
    /// ampsecret's git merge and diff drivers were registered (inside a git repository).
    git_drivers: bool,
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
        }?;
        if self.git_drivers {
            writeln!(
                err,
                "Registered ampsecret's git merge and diff drivers; commit .gitattributes and .ampsecret/."
            )?;
        }
        Ok(())
    }
}

pub fn run(cx: &Context, out: &Output, args: InitArgs) -> Result<()> {
    let (vault, _key, location) = create(cx, out, args.passphrase)?;
    // Inside a git repository the vault is meant to be shared: make merges and diffs work.
    let git_drivers = super::git::in_repository(vault.dir())
        && match super::git::register(vault.dir()) {
            Ok(_) => true,
            Err(e) => {
                out.message(format_args!(
                    "note: git drivers not registered ({e}); run 'ampsecret git-setup' later"
                ));
                false
            }
        };
    out.emit(&Created {
        git_drivers,
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
                let (key, location) = init_key(out, &vault_id)?;
                let recipient = key.public_keys().into_iter().next().ok_or_else(|| {
                    Error::Key("the key given has no public key to encrypt to".into())
                })?;
                (key, vec![recipient], Some(location))
            }
        };
        let encryption = match key {
            Key::Passphrase(_) => Encryption::Passphrase,
            Key::Identities(_) | Key::Ssh(_) => Encryption::X25519,
        };
        let config = Config::new(vault_id, cx.config.app_id.clone(), encryption, recipients);
        Ok((config, key, location))
    })
}

/// The key of a new X25519 vault: the one CI (or an SSH key) brings in the environment
/// (nothing is stored), else a new one stored in the keyring or the identity file.
fn init_key(out: &Output, vault_id: &str) -> Result<(Key, KeyLocation)> {
    if let Some(found) = keystore::key_from_env()? {
        return Ok(found);
    }
    let (identity, location) = new_identity(out, vault_id)?;
    Ok((Key::Identities(vec![identity]), location))
}

/// Makes a new age key for vault `vault_id` and stores it (keyring, else a 0600 file, which
/// is said once).
pub(super) fn new_identity(
    out: &Output,
    vault_id: &str,
) -> Result<(x25519::Identity, KeyLocation)> {
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
