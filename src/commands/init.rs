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
    /// Where a new key went when no keyring took it (said once, in plain words).
    #[serde(skip)]
    key_note: Option<String>,
}

impl Render for Created {
    fn render(&self, _: &mut dyn Write, err: &mut dyn Write) -> io::Result<()> {
        match (&self.key_note, &self.key_described) {
            // The note names the key's file; the vault line does not repeat it.
            (Some(_), _) | (None, None) => writeln!(err, "Created the vault at {}.", self.vault),
            (None, Some(location)) => writeln!(
                err,
                "Created the vault at {}; its key is in {location}.",
                self.vault
            ),
        }?;
        if self.encryption == "passphrase" {
            writeln!(err, "It opens with your passphrase.")?;
        }
        if let Some(note) = &self.key_note {
            writeln!(err, "{note}")?;
        }
        if self.git_drivers {
            writeln!(
                err,
                "Registered ampsecret's git merge and diff drivers; commit .gitattributes and .ampsecret/."
            )?;
        }
        writeln!(err, "Next:")?;
        let mut next = crate::output::Table::indented(2);
        if self.app_id.is_none() {
            next.row([
                "ampsecret config set app_id ID",
                "# your Amplify app id (Amplify console: App settings); push needs it",
            ]);
        }
        next.row(["ampsecret set NAME", "# store a secret (hidden prompt)"]);
        if self.app_id.is_some() {
            next.row(["ampsecret push", "# publish the branch's secrets to SSM"]);
        }
        next.write(err, crate::output::Stream::Err)
    }
}

/// `init` itself: creates the vault, registers git's drivers, says what to run next.
pub fn run(cx: &Context, out: &Output, args: InitArgs) -> Result<()> {
    // `init --app-id` on a vault without that app id is someone adding it: say how.
    if let (Some(app_id), Ok(Some(existing))) = (&cx.config.app_id, cx.vault_dir())
        && existing.config.app_id.as_ref() != Some(app_id)
    {
        return Err(Error::Usage(format!(
            "a vault already exists at {}: set its app id with 'ampsecret config set app_id {app_id}'",
            cx.config.vault_dir.display()
        )));
    }
    let (vault, _key, location, note) = create(cx, args.passphrase)?;
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
    if out.json
        && let Some(note) = &note
    {
        // The key's only copy is in a file: say so even when stdout is for a machine.
        out.message(format_args!("{note}"));
    }
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
        key_note: note,
    })
}

/// Shortest passphrase `init` accepts, in characters.
const MIN_PASSPHRASE_CHARS: usize = 12;

/// What [`create`] made: the vault, its key, where the key is (`None` for a passphrase
/// vault) and the note to show when the key went to a file rather than the keyring.
pub(super) type CreatedVault = (VaultDir, Key, Option<KeyLocation>, Option<String>);

/// Creates the vault (shared with `set`'s first-run offer). The key is made and stored
/// under the vault's lock, only once no vault file is there, so a losing concurrent `init`
/// leaves no key behind.
pub(super) fn create(cx: &Context, passphrase: bool) -> Result<CreatedVault> {
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
    let mut note = None;
    let (vault, key, location) = VaultDir::create(dir, |vault_id| {
        let (key, recipients, location) = match passphrase {
            Some(pass) => (Key::Passphrase(pass), Vec::new(), None),
            None => {
                let (key, location, fallback) = init_key(&vault_id)?;
                note = fallback;
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
    })?;
    Ok((vault, key, location, note))
}

/// The key of a new X25519 vault: the one CI (or an SSH key) brings in the environment
/// (nothing is stored), else a new one stored in the keyring or the identity file (with the
/// note saying which).
fn init_key(vault_id: &str) -> Result<(Key, KeyLocation, Option<String>)> {
    if let Some((key, location)) = keystore::key_from_env()? {
        return Ok((key, location, None));
    }
    let (identity, location, note) = new_identity(vault_id)?;
    Ok((Key::Identities(vec![identity]), location, note))
}

/// Makes a new age key for vault `vault_id` and stores it (keyring, else a 0600 file); the
/// note for the second case says so in plain words.
pub(super) fn new_identity(
    vault_id: &str,
) -> Result<(x25519::Identity, KeyLocation, Option<String>)> {
    let identity = x25519::Identity::generate();
    let (location, fallback) = keystore::store_identity(vault_id, &identity)?;
    let note = fallback.map(|why| why.note(&location));
    Ok((identity, location, note))
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
