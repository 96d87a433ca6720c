//! The local vault: a directory holding `config.toml` (plaintext settings) and `vault.age`
//! (the age-encrypted payload), changed only under a lock and by atomic replacement.

pub mod config;
pub mod crypto;
pub mod format;
pub mod layout;
pub mod members;
pub mod merge;
pub mod store;
pub mod trust;

pub use config::{Config, Encryption};
pub use format::{Entry, Member, PastValue, Stamp, SyncState, Team, Vault, VaultView};

use crate::error::{Error, Result};
use crate::scope::ScopeKey;
use age::secrecy::SecretString;
use age::x25519;
use crypto::{CryptoError, PlainReader, Seal, Unseal};
use layout::{Head, Section, Slot};
use std::cell::{OnceCell, RefCell};
use std::fs::{self, File};
use std::io::{BufReader, BufWriter, Write};
use std::ops::Range;
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

/// Reads and parses config.toml; `None` when there is none.
fn read_config(path: &Path, parse: fn(&str, &Path) -> Result<Config>) -> Result<Option<Config>> {
    let Some(text) = store::read_optional(path)? else {
        return Ok(None);
    };
    let text = String::from_utf8(text)
        .map_err(|_| Error::Key(format!("{} is not UTF-8 text", path.display())))?;
    parse(&text, path).map(Some)
}

impl Team {
    /// The member whose private key `key` is.
    pub fn member_holding(&self, key: &Key) -> Option<&Member> {
        let mine = key.public_keys();
        self.members.iter().find(|m| mine.contains(&m.recipient))
    }
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
        VaultView::parse(&self.0).map_err(unreadable)
    }
}

fn unreadable(error: format::FormatError) -> Error {
    Error::Key(format!("the vault payload is unreadable: {error}"))
}

/// An opened `vault.age`: its head decrypted, parsed and trusted; the rest decrypted only as
/// far as it is read (a whole payload of format 1 or 2, which has no index, at once).
pub struct Payload {
    path: PathBuf,
    /// The open file, decrypting: the vault is replaced whole, never changed in place, so
    /// every later read of this handle sees the version whose head was checked.
    reader: RefCell<PlainReader<BufReader<File>>>,
    /// The plaintext's length, authenticated (a cut or extended file is refused).
    len: u64,
    /// The head of an indexed payload (format 3 on); `None` for an earlier format.
    head: Option<Head>,
    /// The whole plaintext, once something needed all of it.
    whole: OnceCell<Plaintext>,
}

/// Some blocks of a payload, or all of it: view with [`Part::view`].
pub enum Part<'p> {
    Whole(&'p Plaintext),
    Blocks {
        head: &'p Head,
        blocks: Vec<(usize, Zeroizing<Vec<u8>>)>,
    },
}

impl Part<'_> {
    /// The secrets this part holds (a scope's may be only some of them).
    pub fn view(&self) -> Result<VaultView<'_>> {
        match self {
            Part::Whole(plaintext) => plaintext.view(),
            Part::Blocks { head, blocks } => {
                layout::view(head, blocks.iter().map(|(i, b)| (*i, &b[..])), []).map_err(unreadable)
            }
        }
    }
}

impl Payload {
    fn read_range(&self, range: Range<u64>) -> Result<Zeroizing<Vec<u8>>> {
        crypto::read_range(&mut self.reader.borrow_mut(), range)
            .map_err(|e| crypto_error(&self.path, e))
    }

    /// The whole plaintext (decrypted once).
    pub fn whole(&self) -> Result<&Plaintext> {
        if let Some(whole) = self.whole.get() {
            return Ok(whole);
        }
        let bytes = self.read_range(0..self.len)?;
        Ok(self.whole.get_or_init(|| Plaintext(bytes)))
    }

    /// The whole vault, parsed without copying.
    pub fn view(&self) -> Result<VaultView<'_>> {
        self.whole()?.view()
    }

    /// The blocks that hold `secrets` (scope, name) and every secret of `scopes`: for an
    /// indexed payload, only those blocks are decrypted.
    pub fn part(&self, secrets: &[(&ScopeKey, &str)], scopes: &[&ScopeKey]) -> Result<Part<'_>> {
        let Some(head) = self.head.as_ref().filter(|_| self.whole.get().is_none()) else {
            return self.whole().map(Part::Whole);
        };
        let mut wanted: Vec<usize> = secrets
            .iter()
            .filter_map(
                |(scope, name)| match head.slot(Section::Secrets, scope, name) {
                    Slot::Block(i) => Some(i),
                    Slot::Before(_) => None,
                },
            )
            .chain(scopes.iter().flat_map(|scope| head.scope_blocks(scope)))
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        let blocks = wanted
            .into_iter()
            .map(|i| Ok((i, self.read_range(head.block_range(Section::Secrets, i))?)))
            .collect::<Result<_>>()?;
        Ok(Part::Blocks { head, blocks })
    }

    /// The team section (members, tokens, bookkeeping).
    pub fn team(&self) -> Result<Team> {
        match &self.head {
            Some(head) => Ok(head.team.clone()),
            None => Ok(self.view()?.team),
        }
    }
}

/// A piece of a new payload: new bytes, or a range of the old plaintext.
enum Piece<'a> {
    Fresh(&'a [u8]),
    Kept(Range<u64>),
}

/// The recipients `team`'s payload is encrypted to, or the passphrase: a writer that
/// encrypts into `out` with a fresh file key.
fn sealer<W: Write>(
    team: &Team,
    key: &Key,
    out: W,
) -> std::result::Result<age::stream::StreamWriter<W>, CryptoError> {
    match key {
        Key::Passphrase(pass) => crypto::sealer(out, Seal::Passphrase(pass)),
        Key::Identities(_) | Key::Ssh(_) => {
            let recipients: Vec<Box<dyn age::Recipient + Send>> = team
                .members
                .iter()
                .map(|m| members::recipient(&m.recipient))
                .collect::<std::result::Result<_, _>>()
                .map_err(CryptoError::Damaged)?;
            let refs: Vec<&dyn age::Recipient> = recipients
                .iter()
                .map(|r| r.as_ref() as &dyn age::Recipient)
                .collect();
            crypto::sealer(out, Seal::Recipients(&refs))
        }
    }
}

/// Encrypts `vault` to its members (or with the passphrase).
fn seal_vault(vault: &Vault, key: &Key) -> std::result::Result<Vec<u8>, CryptoError> {
    let payload = vault.encode();
    // age adds a header and 16 bytes per 64 KiB chunk; reserve so the Vec rarely regrows.
    let mut out = Vec::with_capacity(payload.len() + payload.len() / 4096 + 512);
    let mut writer = sealer(&vault.team, key, &mut out)?;
    writer.write_all(&payload)?;
    writer.finish()?;
    Ok(out)
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
        let member = self.team.member_holding(key).map(|m| m.name.clone());
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
        // The config names the recipients: whoever can change it can read the next write.
        store::warn_if_exposed(&config_path, 0o022);
        let Some(config) = read_config(&config_path, parse)? else {
            return Err(Error::NoVault {
                dir: dir.to_path_buf(),
            });
        };
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
        vault.ensure_token(&mut initial.team);
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

    /// Opens the payload: decrypts and checks its head (for a payload of format 1 or 2, all
    /// of it). Needs no lock: the file is only ever replaced whole.
    pub fn read(&self, key: &Key) -> Result<Payload> {
        let path = self.files.vault();
        // Ciphertext, committed to git (a clone checks it out 0644): only writers matter.
        store::warn_if_exposed(&path, 0o022);
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::Key(format!(
                    "{} is missing; restore it from version control, or remove {} and run 'ampsecret init'",
                    path.display(),
                    self.files.config().display()
                )));
            }
            Err(e) => return Err(Error::io("cannot read", &path)(e)),
        };
        let opened = crypto::open(BufReader::new(file), key.unseal())
            .and_then(|mut reader| Ok((crypto::plaintext_len(&mut reader)?, reader)));
        let (len, reader) = opened.map_err(|e| crypto_error(&path, e))?;
        let mut payload = Payload {
            path,
            reader: RefCell::new(reader),
            len,
            head: None,
            whole: OnceCell::new(),
        };
        // Only the head's bytes are copied out (its chunk is decrypted once either way).
        let prefix = payload.read_range(0..len.min(layout::HEAD_PREFIX_LEN))?;
        match Head::len_of(&prefix).map_err(unreadable)? {
            Some(head_len) => {
                let head =
                    Head::parse(&payload.read_range(0..head_len.min(len))?).map_err(unreadable)?;
                if head.payload_len() != len {
                    return Err(unreadable(if head.payload_len() > len {
                        format::FormatError::Truncated
                    } else {
                        format::FormatError::TrailingBytes
                    }));
                }
                trust::check(&self.config.vault_id, &head.team, &payload.path)?;
                payload.head = Some(head);
            }
            None => {
                let whole = payload.whole()?;
                self.check_authorship(&whole.0)?;
            }
        }
        Ok(payload)
    }

    /// Refuses a payload not written by a member (see [`trust`]).
    fn check_authorship(&self, plaintext: &[u8]) -> Result<()> {
        let team = VaultView::parse_team(plaintext).map_err(unreadable)?;
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
            self.check_members_now(vault)?;
            change(vault)
        })
    }

    /// Refuses a write while config.toml lists keys the payload's members do not (see
    /// [`Vault::check_members_mirror`]), as the file is now, under the lock: another command
    /// may have changed it since this one opened the vault.
    fn check_members_now(&self, vault: &Vault) -> Result<()> {
        vault.check_members_mirror(&self.config_now()?, &self.files.config())
    }

    /// [`VaultDir::update`] without the member-list check: for the commands that change the
    /// member list (and so the mirror in config.toml, which they rewrite).
    pub fn update_team<R>(
        &self,
        key: &Key,
        change: impl FnOnce(&mut Vault) -> Result<R>,
    ) -> Result<R> {
        let _lock = self.lock()?;
        let payload = self.read(key)?;
        self.update_whole(&payload, key, change)
    }

    /// Takes the lock for a read–modify–write, and sweeps what killed writers left.
    fn lock(&self) -> Result<store::WriteLock> {
        store::check_writable_by_owner(&self.files.dir, self.owner)?;
        let lock = store::lock(&self.files.dir)?;
        store::remove_stale_temporaries(&self.files.dir);
        Ok(lock)
    }

    /// The whole vault read, changed and written (under the lock).
    fn update_whole<R>(
        &self,
        payload: &Payload,
        key: &Key,
        change: impl FnOnce(&mut Vault) -> Result<R>,
    ) -> Result<R> {
        let before = payload.whole()?;
        let mut vault = before.view()?.to_vault();
        vault.adopt_legacy_members(&self.config);
        vault.keep_versions(usize::from(self.config.history));
        let result = change(&mut vault)?;
        self.ensure_token(&mut vault.team);
        if *vault.encode() != *before.0 {
            self.write(&vault, key)?;
        } else {
            self.write_members_mirror(&vault)?;
        }
        Ok(result)
    }

    /// A key-encrypted vault always carries a membership token (see [`trust`]).
    fn ensure_token(&self, team: &mut Team) {
        if team.tokens.is_empty() && self.config.encryption == Encryption::X25519 {
            team.tokens.push(Zeroizing::new(rand::random()));
        }
    }

    /// [`VaultDir::update`] for a change to one secret, `name` of `scope`: `change` sees a
    /// vault holding the team and only the secrets of the block that holds (or would hold)
    /// that name, and must change nothing else. Only that block and the head are decoded and
    /// encoded again; the other blocks are copied as decrypted into the new file (encrypted
    /// with a fresh file key, as every write is), decrypting in one thread while encrypting
    /// in this one.
    pub fn update_secret<R>(
        &self,
        key: &Key,
        scope: &ScopeKey,
        name: &str,
        change: impl FnOnce(&mut Vault) -> Result<R>,
    ) -> Result<R> {
        let _lock = self.lock()?;
        let payload = self.read(key)?;
        let Some(head) = &payload.head else {
            // Format 1 or 2: written whole, and so upgraded.
            return self.update_whole(&payload, key, |vault| {
                self.check_members_now(vault)?;
                change(vault)
            });
        };
        let load = |section| -> Result<(Range<usize>, Zeroizing<Vec<u8>>)> {
            Ok(match head.slot(section, scope, name) {
                Slot::Block(i) => (i..i + 1, payload.read_range(head.block_range(section, i))?),
                Slot::Before(i) => (i..i, Zeroizing::new(Vec::new())),
            })
        };
        let (secrets_at, secrets_before) = load(Section::Secrets)?;
        let (history_at, history_before) = load(Section::History)?;
        let mut vault = layout::view(
            head,
            secrets_at.clone().map(|i| (i, &secrets_before[..])),
            history_at.clone().map(|i| (i, &history_before[..])),
        )
        .map_err(unreadable)?
        .to_vault();
        vault.keep_versions(usize::from(self.config.history));
        self.check_members_now(&vault)?;
        let result = change(&mut vault)?;
        self.ensure_token(&mut vault.team);
        debug_assert!(
            vault
                .scopes
                .keys()
                .chain(vault.history.keys())
                .all(|k| k == scope),
            "only the one scope changed"
        );
        let (blocks, secrets_after) =
            layout::encode_blocks(scope, vault.scopes.get(scope).into_iter().flatten());
        let (history, history_after) =
            layout::encode_blocks(scope, vault.history.get(scope).into_iter().flatten());
        let team_before = layout::encode_head(&head.team, &[], &[]);
        let team_after = layout::encode_head(&vault.team, &[], &[]);
        if *secrets_after == *secrets_before
            && *history_after == *history_before
            && *team_after == *team_before
        {
            self.write_members_mirror(&vault)?;
            return Ok(result);
        }
        let splice = |old: &[layout::BlockRef], at: &Range<usize>, new: Vec<layout::BlockRef>| {
            let mut index = old[..at.start].to_vec();
            index.extend(new);
            index.extend_from_slice(&old[at.end..]);
            index
        };
        let new_head = layout::encode_head(
            &vault.team,
            &splice(&head.blocks, &secrets_at, blocks),
            &splice(&head.history, &history_at, history),
        );
        let pieces = [
            Piece::Fresh(&new_head),
            Piece::Kept(head.len..head.block_start(Section::Secrets, secrets_at.start)),
            Piece::Fresh(&secrets_after),
            Piece::Kept(
                head.block_start(Section::Secrets, secrets_at.end)
                    ..head.block_start(Section::History, history_at.start),
            ),
            Piece::Fresh(&history_after),
            Piece::Kept(head.block_start(Section::History, history_at.end)..payload.len),
        ];
        self.write_spliced(payload, key, &vault.team, &pieces)?;
        self.write_members_mirror(&vault)?;
        Ok(result)
    }

    /// Writes a new `vault.age` from `pieces` (new bytes, or ranges of the old plaintext
    /// `payload` decrypts), encrypted to `team` as one file with a fresh file key, and
    /// atomically replaced. The old plaintext is decrypted in a second thread while this one
    /// encrypts. (A third thread writing to disk gained nothing on two cores, both busy;
    /// writeback started every 256 KiB rather than every MiB made 100,000 secrets slower.)
    fn write_spliced(
        &self,
        payload: Payload,
        key: &Key,
        team: &Team,
        pieces: &[Piece<'_>],
    ) -> Result<()> {
        let path = self.files.vault();
        let mut reader = payload.reader.into_inner();
        let kept: Vec<Range<u64>> = pieces
            .iter()
            .filter_map(|piece| match piece {
                Piece::Kept(range) => Some(range.clone()),
                Piece::Fresh(_) => None,
            })
            .collect();
        let io_error = |e: std::io::Error| crypto_error(&path, CryptoError::Io(e));
        store::write_atomic_with(&path, |file| {
            let out = BufWriter::with_capacity(16 * crypto::CHUNK_SIZE as usize, file);
            let mut writer = sealer(team, key, out).map_err(|e| crypto_error(&path, e))?;
            std::thread::scope(|threads| {
                // A few chunks ahead keep the encryption fed; more only touch fresh memory
                // (32 in flight: 11.5 MiB peak at 100,000 secrets; 4: 9.7 MiB).
                let (send, receive) = std::sync::mpsc::sync_channel(4);
                threads.spawn(move || {
                    for piece in kept.into_iter().flat_map(crypto::chunk_ranges) {
                        let read = crypto::read_range(&mut reader, piece);
                        let failed = read.is_err();
                        if send.send(read).is_err() || failed {
                            return;
                        }
                    }
                });
                for piece in pieces {
                    match piece {
                        Piece::Fresh(bytes) => writer.write_all(bytes).map_err(io_error)?,
                        Piece::Kept(range) => {
                            let mut left = range.end - range.start;
                            while left > 0 {
                                let bytes = receive
                                    .recv()
                                    .unwrap_or_else(|_| {
                                        Err(CryptoError::Damaged("it ends early".into()))
                                    })
                                    .map_err(|e| crypto_error(&path, e))?;
                                writer.write_all(&bytes).map_err(io_error)?;
                                left -= bytes.len() as u64;
                            }
                        }
                    }
                }
                Ok(())
            })?;
            writer
                .finish()
                .and_then(|mut out| out.flush())
                .map_err(io_error)
        })
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
        let Some(mut config) = read_config(&self.files.config(), Config::parse_unchecked)? else {
            return Ok(());
        };
        if stored != config.recipients {
            config.recipients = stored;
            store::write_atomic(&self.files.config(), config.to_toml().as_bytes())?;
        }
        Ok(())
    }

    /// config.toml as it is now, its settings unchecked: read under the lock by writers.
    fn config_now(&self) -> Result<Config> {
        read_config(&self.files.config(), Config::parse_unchecked)?.ok_or_else(|| Error::NoVault {
            dir: self.files.dir.clone(),
        })
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
        crypto_error(&self.files.vault(), error)
    }
}

fn crypto_error(path: &Path, error: CryptoError) -> Error {
    match error {
        CryptoError::NoMatchingKey => Error::Key(format!(
            "cannot decrypt {}: {error}; use the key (AMPSECRET_IDENTITY / AMPSECRET_IDENTITY_FILE) or passphrase it was encrypted to",
            path.display()
        )),
        CryptoError::Io(e) => Error::io("cannot use", path)(e),
        other => Error::Key(format!("cannot open {}: {other}", path.display())),
    }
}
