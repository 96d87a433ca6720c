//! The local vault: a directory holding `config.toml` (plaintext settings) and `vault.age`
//! (the age-encrypted payload), changed only under a lock and by atomic replacement.

pub mod config;
pub mod crypto;
pub mod format;
pub mod members;
pub mod merge;
pub mod store;
pub mod trust;

pub use config::{Config, Encryption};
pub use format::{Entry, Member, PastValue, Stamp, SyncState, Team, Vault, VaultView};

use crate::error::{Error, Result};
use age::secrecy::SecretString;
use age::x25519;
use crypto::{CryptoError, Seal, Unseal};
use std::fs;
use std::path::{Path, PathBuf};
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
    /// A member's SSH private key (unencrypted).
    Ssh(Box<age::ssh::Identity>),
    Passphrase(SecretString),
}

impl Key {
    /// The member key(s) this is the private half of, as stored in the member list.
    pub fn public_keys(&self) -> Vec<String> {
        match self {
            Key::Identities(ids) => ids.iter().map(|i| i.to_public().to_string()).collect(),
            Key::Ssh(identity) => age::ssh::Recipient::try_from((**identity).clone())
                .map(|r| vec![r.to_string()])
                .unwrap_or_default(),
            Key::Passphrase(_) => Vec::new(),
        }
    }

    fn unseal(&self) -> Unseal<'_> {
        match self {
            Key::Identities(ids) => Unseal::Identities(ids),
            Key::Ssh(identity) => Unseal::Ssh(identity),
            Key::Passphrase(pass) => Unseal::Passphrase(pass),
        }
    }
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

/// Encrypts `vault` to its members (or with the passphrase).
fn seal_vault(vault: &Vault, key: &Key) -> std::result::Result<Vec<u8>, CryptoError> {
    let payload = vault.encode();
    match key {
        Key::Passphrase(pass) => crypto::seal(&payload, Seal::Passphrase(pass)),
        Key::Identities(_) | Key::Ssh(_) => {
            let recipients: Vec<Box<dyn age::Recipient + Send>> = vault
                .team
                .members
                .iter()
                .map(|m| members::recipient(&m.recipient))
                .collect::<std::result::Result<_, _>>()
                .map_err(CryptoError::Damaged)?;
            let refs: Vec<&dyn age::Recipient> = recipients
                .iter()
                .map(|r| r.as_ref() as &dyn age::Recipient)
                .collect();
            crypto::seal(&payload, Seal::Recipients(&refs))
        }
    }
}

/// Members for the keys config.toml lists, in order: the first named `first` when given,
/// the others `member-N`. What a new vault starts with, and what a vault written before
/// members were recorded in the payload has.
pub fn members_from_config(recipients: &[String], first: Option<&str>) -> Vec<Member> {
    recipients
        .iter()
        .enumerate()
        .map(|(i, recipient)| Member {
            name: match (i, first) {
                (0, Some(name)) => name.to_owned(),
                _ => format!("member-{}", i + 1),
            },
            recipient: recipient.clone(),
        })
        .collect()
}

impl Vault {
    /// A change made now by the member holding `key`: what history records. A passphrase
    /// vault has no members; its changes are the OS account's.
    pub fn stamp(&self, key: &Key) -> Stamp {
        let mine = key.public_keys();
        let member = self
            .team
            .members
            .iter()
            .find(|m| mine.contains(&m.recipient))
            .map(|m| m.name.clone());
        Stamp {
            at: now(),
            by: member
                .or_else(crate::sys::os_user_name)
                .unwrap_or_else(|| "unknown".into()),
        }
    }

    /// A vault written before members were recorded in the payload: its members are the
    /// keys config.toml lists (trusted once, as the previous release did).
    fn adopt_legacy_members(&mut self, config: &Config) {
        if self.team.members.is_empty() && self.team.tokens.is_empty() {
            self.team.members = members_from_config(&config.recipients, None);
        }
    }

    /// Refuses to write while config.toml's recipients differ from the members recorded in
    /// the payload: a key added by editing config.toml was not added by a member.
    pub fn check_members_mirror(&self, config: &Config, config_path: &Path) -> Result<()> {
        if config.encryption != Encryption::X25519 {
            return Ok(());
        }
        let members: Vec<&str> = self
            .team
            .members
            .iter()
            .map(|m| m.recipient.as_str())
            .collect();
        if let Some(extra) = config
            .recipients
            .iter()
            .find(|r| !members.contains(&r.as_str()))
        {
            return Err(Error::Key(format!(
                "{} lists the key {} that no member added with 'ampsecret recipients add', so nothing is written: review it (git log -p -- {}); if you trust it, run 'ampsecret recipients add {extra}'; if not, remove the line",
                config_path.display(),
                members::shorten(extra),
                config_path.display()
            )));
        }
        if let Some(missing) = members
            .iter()
            .find(|m| !config.recipients.iter().any(|r| r == *m))
        {
            return Err(Error::Key(format!(
                "{} no longer lists the member key {}, but no member removed it: restore the line, or run 'ampsecret recipients remove {missing}'",
                config_path.display(),
                members::shorten(missing)
            )));
        }
        Ok(())
    }
}

impl VaultDir {
    /// Opens the vault in `dir`; a missing vault is `NotFound`.
    pub fn open(dir: &Path) -> Result<VaultDir> {
        Self::open_with(dir, Config::parse)
    }

    /// Opens the vault in `dir` with its settings unchecked (see [`Config::parse_unchecked`]).
    pub fn open_to_repair(dir: &Path) -> Result<VaultDir> {
        Self::open_with(dir, Config::parse_unchecked)
    }

    fn open_with(dir: &Path, parse: fn(&str, &Path) -> Result<Config>) -> Result<VaultDir> {
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
        let config = parse(&text, &config_path)?;
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
    /// The config's recipients become the first members.
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
        let mut initial = Vault::default();
        let owner_name = crate::sys::os_user_name().unwrap_or_else(|| "owner".into());
        initial.team.members = members_from_config(&vault.config.recipients, Some(&owner_name));
        if vault.config.encryption == Encryption::X25519 {
            initial.team.tokens.push(Zeroizing::new(rand::random()));
        }
        vault.write(&initial, &key)?;
        store::write_atomic(&vault.files.config(), vault.config.to_toml().as_bytes())?;
        // The creator's machine trusts its own vault from the start.
        trust::check(&vault.config.vault_id, &initial.team, &vault.files.vault())?;
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
        let plaintext = crypto::unseal(&ciphertext, key.unseal())
            .map(Plaintext)
            .map_err(|e| self.crypto_error(e))?;
        self.check_authorship(&plaintext.0)?;
        Ok(plaintext)
    }

    /// Refuses a payload not written by a member (see [`trust`]).
    fn check_authorship(&self, plaintext: &[u8]) -> Result<()> {
        let team = VaultView::parse_team(plaintext)
            .map_err(|e| Error::Key(format!("the vault payload is unreadable: {e}")))?;
        trust::check(&self.config.vault_id, &team, &self.files.vault())
    }

    /// Changes config.toml's settings under the exclusive lock: read again from disk (another
    /// command may have changed it), changed, checked as opening checks it, and written
    /// atomically; nothing is written if `change` fails or leaves it as it was.
    pub fn update_config(&self, change: impl FnOnce(&mut Config) -> Result<()>) -> Result<Config> {
        store::check_writable_by_owner(&self.files.dir, self.owner)?;
        let _lock = store::lock(&self.files.dir)?;
        let path = self.files.config();
        // Read leniently, so that `config set` can repair a setting that fails the checks.
        let mut config = self.config_now()?;
        let before = config.to_toml();
        change(&mut config)?;
        let written = config.to_toml();
        let config = Config::parse(&written, &path)?;
        // Only a changed setting rewrites the file (and its comments).
        if written != before {
            store::write_atomic(&path, written.as_bytes())?;
        }
        Ok(config)
    }

    /// Read–modify–write under the exclusive lock. Nothing is written if `change` fails or
    /// leaves the payload as it was.
    pub fn update<R>(&self, key: &Key, change: impl FnOnce(&mut Vault) -> Result<R>) -> Result<R> {
        self.update_team(key, |vault| {
            // As the file is now, under the lock: another command may have changed it since
            // this one opened the vault.
            let config = self.config_now()?;
            vault.check_members_mirror(&config, &self.files.config())?;
            change(vault)
        })
    }

    /// [`VaultDir::update`] without the member-list check: for the commands that change the
    /// member list (and so the mirror in config.toml, which they rewrite).
    pub fn update_team<R>(
        &self,
        key: &Key,
        change: impl FnOnce(&mut Vault) -> Result<R>,
    ) -> Result<R> {
        store::check_writable_by_owner(&self.files.dir, self.owner)?;
        let _lock = store::lock(&self.files.dir)?;
        store::remove_stale_temporaries(&self.files.dir);
        let before = self.read(key)?;
        let mut vault = before.view()?.to_vault();
        vault.adopt_legacy_members(&self.config);
        vault.keep_versions(usize::from(self.config.history));
        let result = change(&mut vault)?;
        if vault.team.tokens.is_empty() && self.config.encryption == Encryption::X25519 {
            vault.team.tokens.push(Zeroizing::new(rand::random()));
        }
        if *vault.encode() != *before.0 {
            self.write(&vault, key)?;
        } else {
            self.write_members_mirror(&vault)?;
        }
        Ok(result)
    }

    fn write(&self, vault: &Vault, key: &Key) -> Result<()> {
        let ciphertext = seal_vault(vault, key).map_err(|e| self.crypto_error(e))?;
        store::write_atomic(&self.files.vault(), &ciphertext)?;
        self.write_members_mirror(vault)
    }

    /// Rewrites config.toml's recipients when they differ from the members (after a member
    /// change; the payload is written first, so a crash between leaves a mismatch that the
    /// next write reports rather than a vault encrypted to a list nobody agreed to).
    fn write_members_mirror(&self, vault: &Vault) -> Result<()> {
        let stored: Vec<String> = vault
            .team
            .members
            .iter()
            .map(|m| m.recipient.clone())
            .collect();
        if self.config.encryption != Encryption::X25519 {
            return Ok(());
        }
        // Read again under the lock: the settings may have changed since this command opened
        // the vault (a `config set` waiting for the same lock). A vault being created has
        // none yet: `create` writes it next.
        if store::read_optional(&self.files.config())?.is_none() {
            return Ok(());
        }
        let mut config = self.config_now()?;
        if stored != config.recipients {
            config.recipients = stored;
            store::write_atomic(&self.files.config(), config.to_toml().as_bytes())?;
        }
        Ok(())
    }

    /// config.toml as it is now, its settings unchecked: read under the lock by writers.
    fn config_now(&self) -> Result<Config> {
        let path = self.files.config();
        let text = store::read_optional(&path)?.ok_or_else(|| Error::NoVault {
            dir: self.files.dir.clone(),
        })?;
        let text = String::from_utf8(text)
            .map_err(|_| Error::Key(format!("{} is not UTF-8 text", path.display())))?;
        Config::parse_unchecked(&text, &path)
    }

    /// Writes `vault` encrypted with `key` (to its members) to `path`, as the merge driver
    /// does for git's result file.
    pub fn write_to(vault: &Vault, key: &Key, path: &Path) -> Result<()> {
        let ciphertext = seal_vault(vault, key)
            .map_err(|e| Error::Key(format!("cannot encrypt {}: {e}", path.display())))?;
        store::write_atomic(path, &ciphertext)
    }

    /// Decrypts another version of this vault (git's base, ours or theirs, or a commit's);
    /// an empty file is an empty vault. Authorship is the caller's to check: an older version
    /// rightly lacks tokens drawn since.
    pub fn read_version(key: &Key, path: &Path) -> Result<Vault> {
        let ciphertext = std::fs::read(path).map_err(Error::io("cannot read", path))?;
        if ciphertext.is_empty() {
            return Ok(Vault::default());
        }
        let plaintext = crypto::unseal(&ciphertext, key.unseal())
            .map_err(|e| Error::Key(format!("cannot open {}: {e}", path.display())))?;
        let view = VaultView::parse(&plaintext)
            .map_err(|e| Error::Key(format!("{} is unreadable: {e}", path.display())))?;
        Ok(view.to_vault())
    }

    /// Checks a version of this vault against what this machine trusts.
    pub fn check_version(&self, version: &Vault, path: &Path) -> Result<()> {
        trust::check(&self.config.vault_id, &version.team, path)
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
