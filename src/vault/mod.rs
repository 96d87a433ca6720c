//! The local vault: a directory holding `config.toml` (plaintext settings) and `vault.age`
//! (the age-encrypted payload), changed only under a lock and by atomic replacement.

pub mod config;
pub mod crypto;
pub mod format;
pub mod store;

pub use config::{Config, Encryption};
pub use format::{Entry, SyncState, Vault, VaultView};

use crate::error::{Error, Result};
use age::secrecy::SecretString;
use age::x25519;
use crypto::{CryptoError, Seal, Unseal};
use std::fs;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use store::VaultFiles;
use zeroize::Zeroizing;

/// Files that must never be committed: leftovers of a killed writer (and the lock file and
/// temporary files of earlier versions).
const GITIGNORE: &str = ".ampsecret-tmp-*\nvault.lock\n.tmp-*\n";

/// The current time in Unix seconds: what the vault records as a secret's creation, update
/// and sync time.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The key material that opens a vault.
pub enum Key {
    Identities(Vec<x25519::Identity>),
    Passphrase(SecretString),
}

/// An opened vault directory: its config is read, its payload is not.
#[derive(Debug)]
pub struct VaultDir {
    files: VaultFiles,
    /// The folder's owner (user id), checked before every write.
    owner: Option<u32>,
    pub config: Config,
}

/// Decrypted payload bytes, wiped on drop; parse with [`Plaintext::view`].
pub struct Plaintext(Zeroizing<Vec<u8>>);

impl Plaintext {
    pub fn view(&self) -> Result<VaultView<'_>> {
        VaultView::parse(&self.0)
            .map_err(|e| Error::Key(format!("the vault payload is unreadable: {e}")))
    }
}

impl VaultDir {
    /// Opens the vault in `dir`; a missing vault is `NotFound`.
    pub fn open(dir: &Path) -> Result<VaultDir> {
        let owner = store::check_folder(dir)?;
        let files = VaultFiles {
            dir: dir.to_path_buf(),
        };
        let config_path = files.config();
        let Some(text) = store::read_optional(&config_path)? else {
            return Err(Error::NoVault {
                dir: dir.to_path_buf(),
            });
        };
        // The config names the recipients: whoever can change it can read the next write.
        store::warn_if_exposed(&config_path, 0o022);
        let text = String::from_utf8(text)
            .map_err(|_| Error::Key(format!("{} is not UTF-8 text", config_path.display())))?;
        let config = Config::parse(&text, &config_path)?;
        Ok(VaultDir {
            files,
            owner,
            config,
        })
    }

    /// Creates a new, empty vault in `dir`. Whether one exists is decided under the lock:
    /// if `dir` holds any vault file, nothing is written and `make_key` is not called, so
    /// of concurrent `init`s exactly one wins and only its key is stored. `make_key` gets
    /// the new vault's id and returns its config and key (and anything else to hand back).
    /// The payload is written before the config, so a vault with a config is complete.
    pub fn create<T>(
        dir: &Path,
        make_key: impl FnOnce(String) -> Result<(Config, Key, T)>,
    ) -> Result<(VaultDir, Key, T)> {
        Self::ensure_absent(dir)?;
        store::create_private_dir(dir)?;
        let owner = store::check_folder(dir)?;
        store::check_writable_by_owner(dir, owner)?;
        let _lock = store::lock(dir)?;
        Self::ensure_absent(dir)?;
        let (config, key, extra) = make_key(config::new_vault_id())?;
        let files = VaultFiles {
            dir: dir.to_path_buf(),
        };
        let vault = VaultDir {
            files,
            owner,
            config,
        };
        store::write_atomic(&vault.files.gitignore(), GITIGNORE.as_bytes())?;
        vault.write(&Vault::default(), &key)?;
        store::write_atomic(&vault.files.config(), vault.config.to_toml().as_bytes())?;
        Ok((vault, key, extra))
    }

    /// Fails if `dir` already holds a vault file (its config or its payload): a payload
    /// without a config is still someone's secrets. Checked before a key is made.
    pub fn ensure_absent(dir: &Path) -> Result<()> {
        let files = VaultFiles {
            dir: dir.to_path_buf(),
        };
        for existing in [files.config(), files.vault()] {
            if fs::symlink_metadata(&existing).is_ok() {
                return Err(Error::Usage(format!(
                    "a vault already exists at {} ({} is there); use it, or pass --vault for another location",
                    dir.display(),
                    existing.display()
                )));
            }
        }
        Ok(())
    }

    pub fn dir(&self) -> &Path {
        &self.files.dir
    }

    pub fn vault_path(&self) -> PathBuf {
        self.files.vault()
    }

    /// Decrypts the payload. Needs no lock: the file is only ever replaced whole.
    pub fn read(&self, key: &Key) -> Result<Plaintext> {
        let path = self.files.vault();
        // Ciphertext, committed to git (a clone checks it out 0644): only writers matter.
        store::warn_if_exposed(&path, 0o022);
        let ciphertext = store::read_optional(&path)?.ok_or_else(|| {
            Error::Key(format!(
                "{} is missing; restore it from version control, or remove {} and run 'ampsecret init'",
                path.display(),
                self.files.config().display()
            ))
        })?;
        let unseal = match key {
            Key::Identities(ids) => Unseal::Identities(ids),
            Key::Passphrase(pass) => Unseal::Passphrase(pass),
        };
        crypto::unseal(&ciphertext, unseal)
            .map(Plaintext)
            .map_err(|e| self.crypto_error(e))
    }

    /// Read–modify–write under the exclusive lock. Nothing is written if `change` fails or
    /// leaves the payload as it was.
    pub fn update<R>(&self, key: &Key, change: impl FnOnce(&mut Vault) -> Result<R>) -> Result<R> {
        store::check_writable_by_owner(&self.files.dir, self.owner)?;
        let _lock = store::lock(&self.files.dir)?;
        store::remove_stale_temporaries(&self.files.dir);
        let before = self.read(key)?;
        let mut vault = before.view()?.to_vault();
        let result = change(&mut vault)?;
        if *vault.encode() != *before.0 {
            self.write(&vault, key)?;
        }
        Ok(result)
    }

    fn write(&self, vault: &Vault, key: &Key) -> Result<()> {
        let recipients;
        let seal = match key {
            Key::Passphrase(pass) => Seal::Passphrase(pass),
            Key::Identities(_) => {
                recipients = self.recipients()?;
                Seal::Recipients(&recipients)
            }
        };
        let ciphertext = crypto::seal(&vault.encode(), seal).map_err(|e| self.crypto_error(e))?;
        store::write_atomic(&self.files.vault(), &ciphertext)
    }

    fn recipients(&self) -> Result<Vec<x25519::Recipient>> {
        self.config
            .recipients
            .iter()
            .map(|text| {
                x25519::Recipient::from_str(text).map_err(|_| {
                    Error::Key(format!(
                        "{}: recipient '{text}' is not an age X25519 public key (age1…); fix or remove it",
                        self.files.config().display()
                    ))
                })
            })
            .collect()
    }

    fn crypto_error(&self, error: CryptoError) -> Error {
        let path = self.files.vault();
        match error {
            CryptoError::NoMatchingKey => Error::Key(format!(
                "cannot decrypt {}: {error}; use the key (AMPSECRET_IDENTITY / AMPSECRET_IDENTITY_FILE) or passphrase it was encrypted to",
                path.display()
            )),
            CryptoError::Io(e) => Error::io("cannot use", &path)(e),
            other => Error::Key(format!("cannot open {}: {other}", path.display())),
        }
    }
}
