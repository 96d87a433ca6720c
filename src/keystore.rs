//! Where a vault's key lives: the environment (CI), the OS keyring, or a private identity
//! file when no keyring is usable. Keyring calls run under a timeout, because a locked
//! Secret Service may wait forever for an unlock prompt nobody can see.

use crate::error::{Error, Result};
use crate::vault::{Key, store};
use age::secrecy::{ExposeSecret, SecretString};
use age::x25519;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;
use zeroize::Zeroizing;

pub const IDENTITY_ENV: &str = "AMPSECRET_IDENTITY";
pub const IDENTITY_FILE_ENV: &str = "AMPSECRET_IDENTITY_FILE";
pub const PASSPHRASE_ENV: &str = "AMPSECRET_PASSPHRASE";
pub const NO_KEYRING_ENV: &str = "AMPSECRET_NO_KEYRING";
const KEYRING_SERVICE: &str = "ampsecret";
/// How long a keyring call may take, in milliseconds; see [`limit_keyring_wait`].
static KEYRING_TIMEOUT_MS: AtomicU64 = AtomicU64::new(5_000);

/// Lowers how long keyring calls may wait. Shell completion uses this: a TAB must answer at
/// once, even when the keyring is locked and would wait for an unlock prompt.
pub fn limit_keyring_wait(limit: Duration) {
    let millis = u64::try_from(limit.as_millis()).unwrap_or(u64::MAX);
    KEYRING_TIMEOUT_MS.fetch_min(millis, Ordering::Relaxed);
}

/// Where a key was found or stored, for messages and `--json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyLocation {
    Environment,
    EnvironmentFile(PathBuf),
    Keyring,
    IdentityFile(PathBuf),
}

impl KeyLocation {
    pub fn describe(&self) -> String {
        match self {
            KeyLocation::Environment => format!("${IDENTITY_ENV}"),
            KeyLocation::EnvironmentFile(p) | KeyLocation::IdentityFile(p) => {
                p.display().to_string()
            }
            KeyLocation::Keyring => "the OS keyring".into(),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            KeyLocation::Environment => "env",
            KeyLocation::EnvironmentFile(_) => "env-file",
            KeyLocation::Keyring => "keyring",
            KeyLocation::IdentityFile(_) => "file",
        }
    }
}

/// Set to 1 to use `~/.ssh/id_ed25519` (or `id_rsa`) when no other key for the vault is found.
pub const SSH_KEY_ENV: &str = "AMPSECRET_SSH_KEY";

/// The key given by the environment, if any (`AMPSECRET_IDENTITY`, then `…_FILE`, which may
/// also be an unencrypted OpenSSH private key).
pub fn key_from_env() -> Result<Option<(Key, KeyLocation)>> {
    if let Some(text) = std::env::var_os(IDENTITY_ENV) {
        let text = Zeroizing::new(
            text.into_string()
                .map_err(|_| Error::Key(format!("{IDENTITY_ENV} is not valid text")))?,
        );
        let ids = parse_identities(&text).ok_or_else(|| {
            Error::Key(format!(
                "{IDENTITY_ENV} does not hold an age secret key (AGE-SECRET-KEY-1…)"
            ))
        })?;
        return Ok(Some((Key::Identities(ids), KeyLocation::Environment)));
    }
    let Some(path) = std::env::var_os(IDENTITY_FILE_ENV).map(PathBuf::from) else {
        return Ok(None);
    };
    let Some(bytes) = store::read_optional(&path)?.map(Zeroizing::new) else {
        return Err(Error::Key(format!(
            "{IDENTITY_FILE_ENV}={} does not exist",
            path.display()
        )));
    };
    let key = match ssh_key(&bytes, &path)? {
        Some(key) => key,
        None => Key::Identities(identities_in(&bytes, &path)?),
    };
    Ok(Some((key, KeyLocation::EnvironmentFile(path))))
}

/// The OpenSSH private key in `bytes` (read from `path`), if that is what they hold.
fn ssh_key(bytes: &[u8], path: &Path) -> Result<Option<Key>> {
    if !bytes.starts_with(b"-----BEGIN OPENSSH PRIVATE KEY-----") {
        return Ok(None);
    }
    let identity = age::ssh::Identity::from_buffer(bytes, Some(path.display().to_string()))
        .map_err(|e| Error::Key(format!("{} is not a usable SSH key: {e}", path.display())))?;
    match identity {
        age::ssh::Identity::Unencrypted(_) => Ok(Some(Key::Ssh(Box::new(identity)))),
        age::ssh::Identity::Encrypted(_) => Err(Error::Key(format!(
            "{} is passphrase-protected, which ampsecret cannot prompt for: use an unencrypted key or an age key",
            path.display()
        ))),
        age::ssh::Identity::Unsupported(_) => Err(Error::Key(format!(
            "{} is an SSH key type age cannot decrypt with: use ssh-ed25519, ssh-rsa or an age key",
            path.display()
        ))),
    }
}

/// Finds this vault's key: environment, then keyring, then the identity file, then (when
/// opted in with `AMPSECRET_SSH_KEY=1`) the user's SSH key.
pub fn find_key(vault_id: &str) -> Result<(Key, KeyLocation)> {
    if let Some(found) = key_from_env()? {
        return Ok(found);
    }
    match find_identity(vault_id) {
        Ok((ids, location)) => Ok((Key::Identities(ids), location)),
        Err(not_found) => {
            let opted_in = std::env::var_os(SSH_KEY_ENV).is_some_and(|v| v == "1");
            if opted_in && let Some(home) = dirs::home_dir() {
                for name in ["id_ed25519", "id_rsa"] {
                    let path = home.join(".ssh").join(name);
                    let bytes = store::read_optional(&path)?.map(Zeroizing::new);
                    if let Some(key) = bytes.map(|b| ssh_key(&b, &path)).transpose()?.flatten() {
                        return Ok((key, KeyLocation::IdentityFile(path)));
                    }
                }
            }
            Err(not_found)
        }
    }
}

/// Finds this vault's age key where ampsecret keeps it (the environment was looked at
/// first): the keyring, then the identity file.
fn find_identity(vault_id: &str) -> Result<(Vec<x25519::Identity>, KeyLocation)> {
    if keyring_enabled() {
        match keyring_call(vault_id, KeyringOp::Get) {
            Ok(Some(text)) => {
                if let Some(ids) = parse_identities(&text) {
                    return Ok((ids, KeyLocation::Keyring));
                }
                tracing::warn!("the keyring entry for this vault is not an age key; ignoring it");
            }
            Ok(None) => tracing::debug!("no keyring entry for vault {vault_id}"),
            Err(reason) => {
                tracing::info!("keyring unavailable ({reason}); trying the identity file")
            }
        }
    }
    let path = identity_file_path(vault_id)?;
    if let Some(ids) = read_identity_file(&path)? {
        return Ok((ids, KeyLocation::IdentityFile(path)));
    }
    Err(Error::Key(format!(
        "no key for this vault (id {vault_id}) in the keyring or {}: set {IDENTITY_ENV} or {IDENTITY_FILE_ENV} to the key it was encrypted to",
        path.display()
    )))
}

/// Why a new key went to the identity file rather than the keyring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyringFallback {
    /// `AMPSECRET_NO_KEYRING` turned the keyring off.
    Disabled,
    /// No usable keyring (no Secret Service, no D-Bus session, a keyring that did not keep
    /// the key). The raw reason is a diagnostic (`-v`), not something a user can act on.
    Unavailable,
}

impl KeyringFallback {
    /// The one line a user reads about where their new key is.
    pub fn note(&self, location: &KeyLocation) -> String {
        let why = match self {
            KeyringFallback::Disabled => format!("The OS keyring is off ({NO_KEYRING_ENV})"),
            KeyringFallback::Unavailable => "No OS keyring here".to_owned(),
        };
        format!(
            "{why}; the key is in {} (only you can read it). Back it up: without it the vault cannot be opened.",
            location.describe()
        )
    }
}

/// Stores a new vault's key in the keyring, or in a private identity file when no keyring is
/// usable. Returns where it went and, for the fallback, why.
pub fn store_identity(
    vault_id: &str,
    identity: &x25519::Identity,
) -> Result<(KeyLocation, Option<KeyringFallback>)> {
    let secret = identity.to_string();
    let fallback = if keyring_enabled() {
        let stored = keyring_call(
            vault_id,
            KeyringOp::Set(Zeroizing::new(secret.expose_secret().to_owned())),
        )
        // Read it back: a keyring that accepts but does not keep would lose the only key.
        .and_then(|_| keyring_call(vault_id, KeyringOp::Get));
        match stored {
            Ok(Some(text)) if *text == *secret.expose_secret() => {
                return Ok((KeyLocation::Keyring, None));
            }
            Ok(_) => tracing::info!("the keyring did not keep the key; using the identity file"),
            Err(reason) => tracing::info!("no usable keyring ({reason}); using the identity file"),
        }
        KeyringFallback::Unavailable
    } else {
        KeyringFallback::Disabled
    };
    let path = identity_file_path(vault_id)?;
    write_identity_file(&path, &secret, &identity.to_public())?;
    Ok((KeyLocation::IdentityFile(path), Some(fallback)))
}

/// The passphrase from `AMPSECRET_PASSPHRASE`, if set.
pub fn passphrase_from_env() -> Option<SecretString> {
    std::env::var(PASSPHRASE_ENV).ok().map(SecretString::from)
}

fn keyring_enabled() -> bool {
    std::env::var_os(NO_KEYRING_ENV).is_none_or(|v| v.is_empty() || v == "0")
}

/// `$XDG_CONFIG_HOME/ampsecret/identities/<vault id>.txt` (or the platform's equivalent).
pub fn identity_file_path(vault_id: &str) -> Result<PathBuf> {
    let base = dirs::config_dir().ok_or_else(|| {
        Error::Key(format!(
            "no config directory (is HOME set?): set {IDENTITY_ENV} or {IDENTITY_FILE_ENV}"
        ))
    })?;
    Ok(base
        .join("ampsecret")
        .join("identities")
        .join(format!("{vault_id}.txt")))
}

fn write_identity_file(
    path: &Path,
    secret: &SecretString,
    public: &x25519::Recipient,
) -> Result<()> {
    if let Some(dir) = path.parent() {
        store::create_private_dir(dir)?;
    }
    let text = Zeroizing::new(format!(
        "# ampsecret vault key; public key: {public}\n{}\n",
        secret.expose_secret()
    ));
    store::write_atomic(path, text.as_bytes())
}

fn read_identity_file(path: &Path) -> Result<Option<Vec<x25519::Identity>>> {
    match store::read_optional(path)? {
        Some(bytes) => identities_in(&Zeroizing::new(bytes), path).map(Some),
        None => Ok(None),
    }
}

/// The age identities in `bytes`, read from the identity file at `path`.
fn identities_in(bytes: &[u8], path: &Path) -> Result<Vec<x25519::Identity>> {
    store::warn_if_exposed(path, 0o077);
    let text = std::str::from_utf8(bytes).ok();
    text.and_then(parse_identities).ok_or_else(|| {
        Error::Key(format!(
            "{} holds no age secret key (AGE-SECRET-KEY-1…)",
            path.display()
        ))
    })
}

/// Parses age identity-file text: one key a line, `#` comments and blank lines ignored.
fn parse_identities(text: &str) -> Option<Vec<x25519::Identity>> {
    let ids: Option<Vec<_>> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| x25519::Identity::from_str(l).ok())
        .collect();
    ids.filter(|ids| !ids.is_empty())
}

enum KeyringOp {
    Get,
    Set(Zeroizing<String>),
}

/// Runs one keyring operation on a helper thread and gives up after a timeout, so a keyring
/// that waits for an unlock prompt can only slow a command down, never hang it.
fn keyring_call(
    vault_id: &str,
    op: KeyringOp,
) -> std::result::Result<Option<Zeroizing<String>>, String> {
    let (tx, rx) = mpsc::channel();
    let account = vault_id.to_owned();
    std::thread::spawn(move || {
        let result = keyring::Entry::new(KEYRING_SERVICE, &account).and_then(|entry| match op {
            KeyringOp::Get => match entry.get_password() {
                Ok(text) => Ok(Some(Zeroizing::new(text))),
                Err(keyring::Error::NoEntry) => Ok(None),
                Err(e) => Err(e),
            },
            KeyringOp::Set(text) => entry.set_password(&text).map(|()| None),
        });
        let _ = tx.send(result.map_err(|e| e.to_string()));
    });
    let timeout = Duration::from_millis(KEYRING_TIMEOUT_MS.load(Ordering::Relaxed));
    match rx.recv_timeout(timeout) {
        Ok(result) => result,
        Err(_) => Err(format!(
            "the keyring did not answer within {:.1}s (locked?)",
            timeout.as_secs_f64()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_text_parsing() {
        let id = x25519::Identity::generate();
        let text = format!("# comment\n\n{}\n", id.to_string().expose_secret());
        let ids = parse_identities(&text).unwrap();
        assert_eq!(ids[0].to_public().to_string(), id.to_public().to_string());
        assert!(parse_identities("# only comments\n").is_none());
        assert!(parse_identities("AGE-SECRET-KEY-1NOTAKEY").is_none());
    }
}
