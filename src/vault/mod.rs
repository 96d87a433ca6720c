//! The local vault: a directory holding `config.toml` (plaintext settings), `vault.age` (the
//! age-encrypted team) and a `scope-<hash>.age` per scope (its secrets; see [`split`]),
//! changed only under a lock and by atomic replacement.

pub mod config;
pub mod crypto;
pub mod format;
pub mod layout;
pub mod members;
pub mod merge;
pub mod split;
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

fn unreadable_file(path: &Path, error: format::FormatError) -> Error {
    Error::Key(format!(
        "{} is unreadable: {error}; restore it from version control",
        path.display()
    ))
}

/// The blocks (plaintext ranges) that opening a file reads at once, chosen from its head;
/// `None`: none.
type Keep<'a> = Option<&'a dyn Fn(&Head) -> Vec<Range<u64>>>;

/// Plaintext ranges of a file with their bytes.
type Kept = Vec<(Range<u64>, Zeroizing<Vec<u8>>)>;

/// One age file of the vault, opened: its head decrypted and parsed; the rest decrypted only
/// as far as it is read (a whole payload of format 1 or 2, which has no index, at once).
struct AgeFile {
    path: PathBuf,
    /// The open file, decrypting: the vault's files are replaced whole, never changed in
    /// place, so every later read of this handle sees the version whose head was checked.
    reader: RefCell<PlainReader<BufReader<File>>>,
    /// The plaintext's length, authenticated (a cut or extended file is refused).
    len: u64,
    /// The head of an indexed payload (format 4 on); `None` for an earlier format.
    head: Option<Head>,
    /// Blocks read when it was opened (see [`Keep`]), until they are read from it.
    kept: RefCell<Kept>,
    /// The whole plaintext, once something needed all of it.
    whole: OnceCell<Plaintext>,
}

impl AgeFile {
    /// Opens `path` and decrypts its head; `None` when there is no such file. `keep`: the
    /// blocks to read at once, chosen from the head (see [`Keep`]).
    fn open(path: PathBuf, key: &Key, keep: Keep<'_>) -> Result<Option<AgeFile>> {
        // Ciphertext, committed to git (a clone checks it out 0644): only writers matter.
        store::warn_if_exposed(&path, 0o022);
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io("cannot read", &path)(e)),
        };
        let ciphertext_len = file
            .metadata()
            .map_err(Error::io("cannot read", &path))?
            .len();
        let damaged = |e| crypto_error(&path, e);
        let mut reader = crypto::open(BufReader::new(file), key.unseal()).map_err(damaged)?;
        // The head first, then the length it states checked: the last chunk, which a seek to
        // the end authenticates, is then decrypted once (see `crypto::plaintext_len_stated`).
        // Only the head's bytes are copied out (its chunk is decrypted once either way).
        let prefix =
            crypto::read_up_to(&mut reader, 0..layout::HEAD_PREFIX_LEN).map_err(damaged)?;
        let (head, head_len) = match Head::len_of(&prefix).map_err(unreadable)? {
            // A plaintext is never longer than its ciphertext: no more is set aside.
            Some(head_len) => {
                let bytes = crypto::read_up_to(&mut reader, 0..head_len.min(ciphertext_len))
                    .map_err(damaged)?;
                (Some(Head::parse(&bytes).map_err(unreadable)?), head_len)
            }
            None => (None, 0),
        };
        let stated = head.as_ref().map_or(u64::MAX, Head::payload_len);
        // Blocks wanted from a file that ends in the chunk after the head's (a scope's file
        // up to some thousand secrets) are read on the way to its end: its last chunk is
        // decrypted once, for the length and the blocks, where a seek would decrypt it again.
        let wanted = match (&head, keep) {
            (Some(head), Some(keep)) if crypto::rest_is_near(head_len, stated, ciphertext_len) => {
                Some(keep(head))
            }
            _ => None,
        };
        let (kept, len) = match wanted {
            Some(wanted) => {
                let read =
                    crypto::read_on(&mut reader, head_len, stated, &wanted).map_err(damaged)?;
                (wanted.into_iter().zip(read.kept).collect(), read.len)
            }
            None => {
                let len = crypto::plaintext_len_stated(&mut reader, stated, ciphertext_len)
                    .map_err(damaged)?;
                (Vec::new(), len)
            }
        };
        if head.is_some() && stated != len {
            return Err(unreadable(if stated > len {
                format::FormatError::Truncated
            } else {
                format::FormatError::TrailingBytes
            }));
        }
        Ok(Some(AgeFile {
            path,
            reader: RefCell::new(reader),
            len,
            head,
            kept: RefCell::new(kept),
            whole: OnceCell::new(),
        }))
    }

    fn read_range(&self, range: Range<u64>) -> Result<Zeroizing<Vec<u8>>> {
        let mut kept = self.kept.borrow_mut();
        if let Some(at) = kept.iter().position(|(r, _)| *r == range) {
            return Ok(kept.swap_remove(at).1);
        }
        drop(kept);
        crypto::read_range(&mut self.reader.borrow_mut(), range)
            .map_err(|e| crypto_error(&self.path, e))
    }

    /// The whole plaintext (decrypted once).
    fn whole(&self) -> Result<&Plaintext> {
        if let Some(whole) = self.whole.get() {
            return Ok(whole);
        }
        let bytes = self.read_range(0..self.len)?;
        Ok(self.whole.get_or_init(|| Plaintext(bytes)))
    }

    /// The team section (members, tokens, bookkeeping).
    fn team(&self) -> Result<Team> {
        match &self.head {
            Some(head) => Ok(head.team.clone()),
            None => VaultView::parse_team(&self.whole()?.0).map_err(unreadable),
        }
    }

    /// Whether this is `vault.age` of format 5 on, whose secrets are in scope files.
    fn is_split(&self) -> bool {
        self.head.as_ref().is_some_and(Head::is_split)
    }

    /// The blocks of this (indexed) file that hold `names` of `scope` (all of the scope's
    /// blocks when `names` is `None`), with their index entries.
    fn blocks(&self, head: &Head, scope: &ScopeKey, names: Option<&[&str]>) -> Result<Blocks> {
        wanted_blocks(head, scope, names)
            .into_iter()
            .map(|i| {
                let bytes = self.read_range(head.block_range(Section::Secrets, i))?;
                Ok((head.blocks[i].clone(), bytes))
            })
            .collect()
    }

    /// This scope file, checked: of format 5 on, holding only `scope`, and written by a
    /// member (against `vault.age`'s team when it was read, else what this machine trusts).
    fn check_scope_file(&self, scope: &ScopeKey, head: Option<&Team>) -> Result<()> {
        let Some(own) = self.head.as_ref().filter(|h| h.is_split()) else {
            return Err(unreadable_file(&self.path, format::FormatError::Misplaced));
        };
        let misplaced = own
            .blocks
            .iter()
            .chain(&own.history)
            .any(|b| b.scope != *scope)
            || !own.team.keeps_books_of_only(scope);
        if misplaced {
            return Err(unreadable_file(&self.path, format::FormatError::Misplaced));
        }
        match head {
            Some(head) if !own.holds_nothing() && !own.team.knows_current_token_of(head) => {
                Err(stale_scope_file(&self.path))
            }
            // Checked against what this machine trusts (see [`trust::vouches`]).
            _ => Ok(()),
        }
    }
}

/// The blocks of an indexed file that hold `names` of `scope` (all of the scope's blocks when
/// `names` is `None`), in order.
fn wanted_blocks(head: &Head, scope: &ScopeKey, names: Option<&[&str]>) -> Vec<usize> {
    let mut wanted: Vec<usize> = match names {
        Some(names) => names
            .iter()
            .filter_map(|name| match head.slot(Section::Secrets, scope, name) {
                Slot::Block(i) => Some(i),
                Slot::Before(_) => None,
            })
            .collect(),
        None => head.scope_blocks(scope).collect(),
    };
    wanted.sort_unstable();
    wanted.dedup();
    wanted
}

/// A scope file found in the vault's folder, opened and decrypted whole, with the scope it
/// holds, checked against its name; `None` when it is gone, or holds nothing (the file of a
/// scope emptied: nothing in it to read or trust).
fn open_listed(
    files: &VaultFiles,
    vault_id: &str,
    path: PathBuf,
    key: &Key,
) -> Result<Option<(ScopeKey, AgeFile)>> {
    let Some(file) = AgeFile::open(path, key, None)? else {
        return Ok(None);
    };
    let scope =
        split::scope_of(&file.whole()?.view()?).map_err(|e| unreadable_file(&file.path, e))?;
    let Some(scope) = scope else {
        return Ok(None);
    };
    if file.path != files.scope(vault_id, &scope) {
        return Err(unreadable_file(&file.path, format::FormatError::Misplaced));
    }
    Ok(Some((scope, file)))
}

/// Secrets' blocks with their index entries, decrypted.
type Blocks = Vec<(layout::BlockRef, Zeroizing<Vec<u8>>)>;

fn stale_scope_file(path: &Path) -> Error {
    Error::Key(format!(
        "{} was not written by a member of this vault since its last member removal (it lacks the membership token of vault.age), so it is refused: if it came from a branch made before the removal (git log -- {}), merge that branch with 'git merge --no-commit BRANCH' (undo a merge already made first) and run 'ampsecret resolve --theirs', which takes it in, re-encrypted to the members and its secrets marked to rotate; otherwise restore it from a trusted commit, or remove it",
        path.display(),
        path.display()
    ))
}

/// The vault's payload, opened as far as it was read: `vault.age`, and for a vault of format
/// 5 on, the files of the scopes read. Nothing is decrypted until asked for.
pub struct Payload {
    files: VaultFiles,
    vault_id: String,
    /// `vault.age`, its head decrypted and trusted.
    main: OnceCell<AgeFile>,
    /// Every scope's file, in scope order, each decrypted whole: a view of the whole vault.
    scope_files: OnceCell<Vec<(ScopeKey, AgeFile)>>,
    /// The digest of `vault.age` as it is on disk (`None`: missing, or too large to be of
    /// format 5), read without decrypting it.
    main_digest: OnceCell<Option<layout::Bound>>,
}

/// The largest `vault.age` whose digest is taken: one of format 5 holds only the team.
const MAX_BOUND_FILE: u64 = 1 << 20;

/// The digest a scope's file records of the `vault.age` it was written with.
fn bound_of(ciphertext: &[u8]) -> layout::Bound {
    use sha2::Digest;
    sha2::Sha256::digest(ciphertext).into()
}

/// Some blocks of a payload, or all of it: view with [`Part::view`].
pub enum Part<'p> {
    Whole(&'p Plaintext),
    Blocks { head: Box<Head>, blocks: Blocks },
}

impl Part<'_> {
    /// Blocks gathered from one file or several.
    fn gathered(team: Team, blocks: Blocks) -> Self {
        let index = blocks.iter().map(|(b, _)| b.clone()).collect();
        Part::Blocks {
            head: Box::new(Head::gathered(team, index, Vec::new())),
            blocks,
        }
    }

    /// The secrets this part holds (a scope's may be only some of them).
    pub fn view(&self) -> Result<VaultView<'_>> {
        match self {
            Part::Whole(plaintext) => plaintext.view(),
            Part::Blocks { head, blocks } => layout::view(
                head,
                blocks.iter().enumerate().map(|(i, (_, b))| (i, &b[..])),
                [],
            )
            .map_err(unreadable),
        }
    }
}

impl Payload {
    /// `vault.age`, opened and checked (its authorship too) on first use.
    fn main(&self, key: &Key) -> Result<&AgeFile> {
        if let Some(main) = self.main.get() {
            return Ok(main);
        }
        let path = self.files.vault();
        // Taken before it is opened: what this machine remembers having checked (a writer
        // replacing it meanwhile leaves a digest that fails the next fast path, no more).
        let digest = self.main_digest()?;
        let Some(main) = AgeFile::open(path.clone(), key, None)? else {
            return Err(Error::Key(format!(
                "{} is missing; restore it from version control, or remove {} and run 'ampsecret init'",
                path.display(),
                self.files.config().display()
            )));
        };
        let team = main.team()?;
        trust::check(&self.vault_id, &team, &path, digest.as_ref())?;
        if main
            .head
            .as_ref()
            .is_some_and(|h| h.is_split() && !h.holds_nothing())
        {
            return Err(unreadable_file(&path, format::FormatError::Misplaced));
        }
        Ok(self.main.get_or_init(|| main))
    }

    /// The digest of `vault.age` as it is on disk, read once.
    fn main_digest(&self) -> Result<Option<layout::Bound>> {
        if let Some(digest) = self.main_digest.get() {
            return Ok(*digest);
        }
        let path = self.files.vault();
        store::warn_if_exposed(&path, 0o022);
        // A larger one is of an earlier format (the whole vault): not read for nothing.
        let digest = match fs::metadata(&path) {
            Ok(meta) if meta.len() > MAX_BOUND_FILE => None,
            Ok(_) => store::read_optional(&path)?.map(|bytes| bound_of(&bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(Error::io("cannot read", &path)(e)),
        };
        Ok(*self.main_digest.get_or_init(|| digest))
    }

    /// Opens `scope`'s file (format 5 on), checked; `None` when the scope has none, or when
    /// the vault is one file (format 4 and earlier: a scope file beside it is not its own).
    /// A file written with the `vault.age` that is there now is checked against what this
    /// machine trusts, without decrypting `vault.age`; any other against `vault.age`'s team.
    /// `names`: the secrets whose blocks are read as it is opened, as [`AgeFile::blocks`]
    /// takes them (`Some(None)`: all of the scope's); `None`: none.
    fn scope_file(
        &self,
        key: &Key,
        scope: &ScopeKey,
        names: Option<Option<&[&str]>>,
    ) -> Result<Option<AgeFile>> {
        let path = self.files.scope(&self.vault_id, scope);
        let keep = names.map(|names| {
            move |head: &Head| {
                wanted_blocks(head, scope, names)
                    .into_iter()
                    .map(|i| head.block_range(Section::Secrets, i))
                    .collect()
            }
        });
        let keep: Keep<'_> = keep.as_ref().map(|keep| keep as _);
        let Some(file) = AgeFile::open(path, key, keep)? else {
            return Ok(None);
        };
        let bound = file.head.as_ref().map(|h| h.bound);
        if self.main.get().is_none()
            && bound.is_some_and(|b| b != layout::UNBOUND)
            && bound == self.main_digest()?
            && file
                .head
                .as_ref()
                .zip(bound)
                .is_some_and(|(h, bound)| trust::vouches(&self.vault_id, &h.team, &bound))
        {
            file.check_scope_file(scope, None)?;
            return Ok(Some(file));
        }
        let main = self.main(key)?;
        if !main.is_split() {
            return Ok(None);
        }
        file.check_scope_file(scope, Some(&main.team()?))?;
        Ok(Some(file))
    }

    /// Whether `vault.age` was opened and is a vault of one file (format 4 and earlier).
    fn is_one_file(&self) -> bool {
        self.main.get().is_some_and(|main| !main.is_split())
    }

    /// The whole vault, parsed without copying.
    pub fn view(&self, key: &Key) -> Result<VaultView<'_>> {
        let main = self.main(key)?;
        if !main.is_split() {
            return main.whole()?.view();
        }
        let team = main.team()?;
        let files = self.all_scope_files(key, &team)?;
        let views = files
            .iter()
            .map(|(_, file)| file.whole()?.view())
            .collect::<Result<Vec<_>>>()?;
        Ok(split::join(&team, views))
    }

    /// Every scope's file, opened, decrypted whole and checked (once).
    fn all_scope_files(&self, key: &Key, head: &Team) -> Result<&[(ScopeKey, AgeFile)]> {
        if let Some(files) = self.scope_files.get() {
            return Ok(files);
        }
        let mut files = Vec::new();
        for path in self.files.scope_files()? {
            let Some((scope, file)) = open_listed(&self.files, &self.vault_id, path, key)? else {
                continue;
            };
            file.check_scope_file(&scope, Some(head))?;
            files.push((scope, file));
        }
        files.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(self.scope_files.get_or_init(|| files))
    }

    /// The blocks that hold `secrets` (scope, name) and every secret of `scopes`: only those
    /// blocks are decrypted (of one file, or of the scopes' own files).
    pub fn part(
        &self,
        key: &Key,
        secrets: &[(&ScopeKey, &str)],
        scopes: &[&ScopeKey],
    ) -> Result<Part<'_>> {
        let mut wanted: Vec<&ScopeKey> = secrets
            .iter()
            .map(|(s, _)| *s)
            .chain(scopes.iter().copied())
            .collect();
        wanted.sort();
        wanted.dedup();
        let names = |scope: &ScopeKey| -> Option<Vec<&str>> {
            (!scopes.contains(&scope)).then(|| {
                secrets
                    .iter()
                    .filter(|(s, _)| *s == scope)
                    .map(|(_, name)| *name)
                    .collect()
            })
        };
        let mut team: Option<Team> = None;
        let mut blocks = Vec::new();
        for scope in &wanted {
            let names = names(scope);
            let Some(file) = self.scope_file(key, scope, Some(names.as_deref()))? else {
                continue;
            };
            let head = file.head.as_ref().expect("a scope file is indexed");
            blocks.extend(file.blocks(head, scope, names.as_deref())?);
            match &mut team {
                Some(team) => team.absorb(head.team.of_scope(scope)),
                None => team = Some(head.team.clone()),
            }
        }
        if team.is_none() {
            // No scope asked for has a file: a vault of one file, or the scopes are empty.
            self.main(key)?;
        }
        if self.is_one_file() {
            let main = self.main(key)?;
            let Some(head) = main.head.as_ref().filter(|_| main.whole.get().is_none()) else {
                return Ok(Part::Whole(main.whole()?));
            };
            let mut blocks = Vec::new();
            for scope in wanted {
                blocks.extend(main.blocks(head, scope, names(scope).as_deref())?);
            }
            return Ok(Part::gathered(head.team.clone(), blocks));
        }
        Ok(Part::gathered(team.unwrap_or_default(), blocks))
    }

    /// The team: members, tokens (and, for a vault of one file, its bookkeeping).
    pub fn team(&self, key: &Key) -> Result<Team> {
        self.main(key)?.team()
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
        let encode = if vault.splits() {
            Vault::encode
        } else {
            Vault::encode_unsplit
        };
        let owner_name = crate::sys::os_user_name().unwrap_or_else(|| "owner".into());
        initial.team.members = members_from_config(&vault.config.recipients, Some(&owner_name));
        vault.ensure_token(&mut initial.team);
        write_sealed(&vault.files.vault(), &initial.team, &key, &encode(&initial))?;
        store::write_atomic(&vault.files.config(), vault.config.to_toml().as_bytes())?;
        // The creator's machine trusts its own vault from the start.
        trust::check(
            &vault.config.vault_id,
            &initial.team,
            &vault.files.vault(),
            vault.payload().main_digest()?.as_ref(),
        )?;
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

    /// The file that holds (or would hold) `scope`'s secrets.
    pub fn scope_path(&self, scope: &ScopeKey) -> PathBuf {
        self.files.scope(&self.config.vault_id, scope)
    }

    /// The payload, to be opened as far as it is read: nothing is decrypted yet.
    pub fn payload(&self) -> Payload {
        Payload {
            files: self.files.clone(),
            vault_id: self.config.vault_id.clone(),
            main: OnceCell::new(),
            scope_files: OnceCell::new(),
            main_digest: OnceCell::new(),
        }
    }

    /// Opens the payload: decrypts and checks `vault.age`'s head (for a payload of format 1
    /// or 2, all of it). Needs no lock: the files are only ever replaced whole.
    pub fn read(&self, key: &Key) -> Result<Payload> {
        let payload = self.payload();
        payload.main(key)?;
        Ok(payload)
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

    /// The whole vault read, changed and written (under the lock): each file only if it
    /// changed, so nothing is written if `change` leaves the vault as it was.
    fn update_whole<R>(
        &self,
        payload: &Payload,
        key: &Key,
        change: impl FnOnce(&mut Vault) -> Result<R>,
    ) -> Result<R> {
        let mut vault = payload.view(key)?.to_vault();
        vault.adopt_legacy_members(&self.config);
        vault.keep_versions(usize::from(self.config.history));
        let result = change(&mut vault)?;
        self.ensure_token(&mut vault.team);
        self.write_files(payload, key, vault)?;
        Ok(result)
    }

    /// Writes `vault` as its files (format 5), each only if it changed: the scopes' files
    /// first, then `vault.age`, which for a vault of one file (format 4 and earlier) is the
    /// upgrade: until it is replaced, the scope files written are not read as the vault.
    /// Each file is replaced atomically; a change to several scopes lands file by file.
    fn write_files(&self, payload: &Payload, key: &Key, vault: Vault) -> Result<()> {
        let main = payload.main(key)?;
        if !self.splits() {
            let plaintext = vault.encode_unsplit();
            if !main.is_split() && main.whole()?.0[..] == plaintext[..] {
                return Ok(());
            }
            return write_sealed(&self.files.vault(), &vault.team, key, &plaintext);
        }
        let (team, files) = vault.into_files();
        // Scope files already there: this vault's (format 5), or a killed upgrade's
        // leftovers beside a vault of one file, all rewritten or removed below.
        let old: &[(ScopeKey, AgeFile)] = if main.is_split() {
            payload.all_scope_files(key, &main.team()?)?
        } else {
            &[]
        };
        // A killed upgrade's leftovers are removed; this vault's files of scopes now empty
        // are kept, empty (see update_secret).
        let mut stale: Vec<PathBuf> = if main.is_split() {
            Vec::new()
        } else {
            self.files.scope_files()?
        };
        // vault.age is written first but put in place last: the scope files record its
        // digest, and until it is in place the vault is what it was.
        let head = layout::encode_head(&team, &[], &[]);
        let (new_main, bound) = if main.is_split() && main.whole()?.0[..] == head[..] {
            (None, payload.main_digest()?.unwrap_or(layout::UNBOUND))
        } else {
            let path = self.files.vault();
            let ciphertext = seal(&path, &team, key, &head)?;
            let prepared = store::prepare_atomic(&path, |file| {
                file.write_all(&ciphertext)
                    .map_err(|e| Error::io("cannot write", &path)(e))
            })?;
            (Some(prepared), bound_of(&ciphertext))
        };
        let written: Vec<PathBuf> = files
            .keys()
            .map(|scope| self.files.scope(&self.config.vault_id, scope))
            .collect();
        for ((_, file), path) in files.iter().zip(&written) {
            stale.retain(|p| p != path);
            let plaintext = file.encode_bound(&bound);
            if let Some((_, before)) = old.iter().find(|(_, before)| before.path == *path)
                && before.whole()?.0[..] == plaintext[..]
            {
                continue;
            }
            write_sealed(path, &team, key, &plaintext)?;
        }
        // A scope emptied now keeps its file, empty (see update_secret); the files of scopes
        // emptied earlier hold nothing but are encrypted to the team they were written with:
        // to the new one, when it changed.
        let empty = Vault {
            team: team.clone(),
            ..Vault::default()
        }
        .encode_bound(&bound);
        let emptied: Vec<PathBuf> = if main.is_split() {
            self.files
                .scope_files()?
                .into_iter()
                .filter(|path| !written.contains(path))
                .filter(|path| new_main.is_some() || old.iter().any(|(_, f)| f.path == *path))
                .collect()
        } else {
            Vec::new()
        };
        for path in &emptied {
            write_sealed(path, &team, key, &empty)?;
        }
        for path in &stale {
            fs::remove_file(path).map_err(Error::io("cannot remove", path))?;
        }
        if !stale.is_empty() {
            store::sync_dir(&self.files.dir)?;
        }
        if let Some(new_main) = new_main {
            // Not recorded as trusted here: the next read checks it (a fast path needs the
            // digest of a vault.age this machine read and checked).
            new_main.commit()?;
        }
        self.write_members_mirror(&team)
    }

    /// Takes in the scope files written before the last member removal (they carry an earlier
    /// membership token, not the current one) that `accept` (given a file's path and bytes)
    /// vouches for: what a branch made before the removal brings back through git, which
    /// merges a file one side added without the merge driver. Each is encrypted again to the
    /// members, and all its secrets are marked to rotate (a removed member could read them,
    /// or wrote them). A file that shares no token with vault.age was not written by a member
    /// and is refused. Returns the scopes taken in.
    pub fn adopt_earlier_scope_files(
        &self,
        key: &Key,
        accept: impl Fn(&Path, &[u8]) -> bool,
    ) -> Result<Vec<ScopeKey>> {
        let _lock = self.lock()?;
        let payload = self.read(key)?;
        let main = payload.main(key)?;
        if !main.is_split() {
            return Ok(Vec::new());
        }
        let head = main.team()?;
        let bound = payload.main_digest()?.unwrap_or(layout::UNBOUND);
        let mut adopted = Vec::new();
        for path in self.files.scope_files()? {
            let Some((scope, file)) =
                open_listed(&self.files, &self.config.vault_id, path.clone(), key)?
            else {
                continue;
            };
            let view = file.whole()?.view()?;
            if view.team.knows_current_token_of(&head) {
                continue;
            }
            if !trust::shares_token(&view.team, &head) {
                return Err(stale_scope_file(&path));
            }
            // Read only for a file that would be taken in.
            let bytes = fs::read(&path).map_err(Error::io("cannot read", &path))?;
            if !accept(&path, &bytes) {
                continue;
            }
            let mut vault = view.to_vault();
            let mut team = head.wide();
            team.absorb(vault.team.of_scope(&scope));
            // Its member list is the writer's word: every secret in it is to rotate, named
            // after the members it lists who are members no longer, if any.
            let gone: Vec<&str> = view
                .team
                .members
                .iter()
                .filter(|m| !head.members.iter().any(|h| h.recipient == m.recipient))
                .map(|m| m.name.as_str())
                .collect();
            let member = if gone.is_empty() {
                "a removed member".to_owned()
            } else {
                gone.join(", ")
            };
            for (scope, name, _) in vault.entries() {
                if !team
                    .to_rotate
                    .iter()
                    .any(|n| n.scope == *scope && n.name == name)
                {
                    team.to_rotate.push(format::RotateNotice {
                        scope: scope.clone(),
                        name: name.to_owned(),
                        member: member.clone(),
                    });
                }
            }
            vault.team = team;
            write_sealed(&path, &head.wide(), key, &vault.encode_bound(&bound))?;
            adopted.push(scope);
        }
        Ok(adopted)
    }

    /// Whether this vault keeps each scope in a file of its own (format 5). A passphrase
    /// vault stays one file (format 4): every file it reads costs a deliberately slow scrypt,
    /// next to which re-encrypting the vault is nothing.
    fn splits(&self) -> bool {
        self.config.encryption == Encryption::X25519
    }

    /// A key-encrypted vault always carries a membership token (see [`trust`]).
    fn ensure_token(&self, team: &mut Team) {
        if team.tokens.is_empty() && self.config.encryption == Encryption::X25519 {
            team.tokens.push(Zeroizing::new(rand::random()));
        }
    }

    /// [`VaultDir::update`] for a change to one secret, `name` of `scope`: `change` sees a
    /// vault holding the team and only the secrets of the block that holds (or would hold)
    /// that name, and must change nothing else. Only the scope's file is written: that block
    /// and the file's head are decoded and encoded again, the file's other blocks copied as
    /// decrypted into the new file (encrypted with a fresh file key, as every write is),
    /// decrypting in one thread while encrypting in this one. A vault of one file (format 4
    /// and earlier) is written whole instead, and so upgraded.
    pub fn update_secret<R>(
        &self,
        key: &Key,
        scope: &ScopeKey,
        name: &str,
        change: impl FnOnce(&mut Vault) -> Result<R>,
    ) -> Result<R> {
        let _lock = self.lock()?;
        let payload = self.payload();
        // A scope file written with the vault.age there now carries its team: vault.age is
        // decrypted only when the file is not known to be current (see Payload::scope_file).
        let file = if self.splits() {
            payload.scope_file(key, scope, None)?
        } else {
            None
        };
        let head_team = match (&file, payload.main.get()) {
            (Some(file), None) => file
                .head
                .as_ref()
                .expect("a scope file is indexed")
                .team
                .wide(),
            _ => payload.main(key)?.team()?,
        };
        if payload.is_one_file() || !self.splits() {
            return self.update_whole(&payload, key, |vault| {
                self.check_members_now(vault)?;
                change(vault)
            });
        }
        let empty;
        let head = match &file {
            Some(file) => file.head.as_ref().expect("a scope file is indexed"),
            None => {
                empty = Head::empty();
                &empty
            }
        };
        let load = |section| -> Result<(Range<usize>, Zeroizing<Vec<u8>>)> {
            Ok(match (head.slot(section, scope, name), &file) {
                (Slot::Block(i), Some(file)) => {
                    (i..i + 1, file.read_range(head.block_range(section, i))?)
                }
                (Slot::Block(i) | Slot::Before(i), _) => (i..i, Zeroizing::new(Vec::new())),
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
        // The members and tokens are vault.age's; the file adds its scope's bookkeeping.
        vault.team = head_team.wide();
        vault.team.absorb(head.team.of_scope(scope));
        vault.keep_versions(usize::from(self.config.history));
        self.check_members_now(&vault)?;
        let result = change(&mut vault)?;
        debug_assert!(
            vault
                .scopes
                .keys()
                .chain(vault.history.keys())
                .all(|k| k == scope),
            "only the one scope changed"
        );
        let wide = vault.team.wide();
        let (blocks, secrets_after) =
            layout::encode_blocks(scope, vault.scopes.get(scope).into_iter().flatten());
        let (history, history_after) =
            layout::encode_blocks(scope, vault.history.get(scope).into_iter().flatten());
        let file_team = vault.team.of_scope(scope);
        let team_before = layout::encode_head(&head.team, &[], &[]);
        let team_after = layout::encode_head(&file_team, &[], &[]);
        let path = self.files.scope(&self.config.vault_id, scope);
        let splice = |old: &[layout::BlockRef], at: &Range<usize>, new: Vec<layout::BlockRef>| {
            let mut index = old[..at.start].to_vec();
            index.extend(new);
            index.extend_from_slice(&old[at.end..]);
            index
        };
        let new_blocks = splice(&head.blocks, &secrets_at, blocks);
        let new_history = splice(&head.history, &history_at, history);
        let unchanged = *secrets_after == *secrets_before
            && *history_after == *history_before
            && *team_after == *team_before;
        let empty = new_blocks.is_empty() && new_history.is_empty() && file_team.keeps_no_books();
        // A scope emptied keeps its file, empty: deleting it would let a git merge with a
        // branch that changed the scope bring back what was removed (a modify/delete conflict
        // the merge driver never sees). A scope with no file that stays empty gets none.
        let nothing_to_write = unchanged || (empty && file.is_none());
        if !nothing_to_write {
            let bound = payload.main_digest()?.unwrap_or(layout::UNBOUND);
            let new_head = layout::encode_bound_head(&bound, &file_team, &new_blocks, &new_history);
            let pieces = [
                Piece::Fresh(&new_head),
                Piece::Kept(head.len..head.block_start(Section::Secrets, secrets_at.start)),
                Piece::Fresh(&secrets_after),
                Piece::Kept(
                    head.block_start(Section::Secrets, secrets_at.end)
                        ..head.block_start(Section::History, history_at.start),
                ),
                Piece::Fresh(&history_after),
                Piece::Kept(head.block_start(Section::History, history_at.end)..head.payload_len()),
            ];
            write_spliced(&path, file, key, &wide, &pieces)?;
        }
        // The members or tokens changed (not what a change to one secret does): vault.age too.
        let wide_head = layout::encode_head(&wide, &[], &[]);
        if *wide_head != *layout::encode_head(&head_team.wide(), &[], &[]) {
            write_sealed(&self.files.vault(), &wide, key, &wide_head)?;
        }
        self.write_members_mirror(&wide)?;
        Ok(result)
    }

    /// Rewrites config.toml's recipients when they differ from the members (after a member
    /// change; the payload is written first, so a crash between leaves a mismatch that the
    /// next write reports rather than a vault encrypted to a list nobody agreed to).
    fn write_members_mirror(&self, team: &Team) -> Result<()> {
        let stored: Vec<String> = team.members.iter().map(|m| m.recipient.clone()).collect();
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

    /// Writes another version of one of this vault's files (what the merge driver leaves in
    /// git's result file), encrypted with `key` to its members: as one of the files of a
    /// vault of format 5 on if `split`, else as a vault of one file (format 4).
    pub fn write_version(vault: &Vault, split: bool, key: &Key, path: &Path) -> Result<()> {
        let plaintext = if split {
            vault.encode()
        } else {
            vault.encode_unsplit()
        };
        write_sealed(path, &vault.team, key, &plaintext)
    }

    /// Decrypts another version of one of this vault's files (git's base, ours or theirs, or
    /// a commit's); an empty file is an empty vault. Authorship is the caller's to check: an
    /// older version rightly lacks tokens drawn since.
    pub fn read_version(key: &Key, path: &Path) -> Result<FileVersion> {
        let ciphertext = std::fs::read(path).map_err(Error::io("cannot read", path))?;
        if ciphertext.is_empty() {
            return Ok(FileVersion {
                vault: Vault::default(),
                format: None,
            });
        }
        let plaintext = crypto::unseal(&ciphertext, key.unseal())
            .map_err(|e| Error::Key(format!("cannot open {}: {e}", path.display())))?;
        let view = VaultView::parse(&plaintext).map_err(|e| unreadable_file(path, e))?;
        Ok(FileVersion {
            vault: view.to_vault(),
            format: Some(format::version_of(&plaintext).map_err(|e| unreadable_file(path, e))?),
        })
    }

    /// Checks a version of one of this vault's files against what this machine trusts
    /// (without trusting anything new).
    pub fn check_version(&self, version: &Vault, path: &Path) -> Result<()> {
        trust::verify(&self.config.vault_id, &version.team, path)
    }
}

/// Another version of one of a vault's files, decrypted.
pub struct FileVersion {
    pub vault: Vault,
    /// Its format; `None` for an empty file.
    pub format: Option<u16>,
}

impl FileVersion {
    /// Whether it is one of the files of a vault of format 5 on (or empty).
    pub fn is_split(&self) -> bool {
        self.format.is_none_or(|f| f >= format::SPLIT)
    }
}

/// `plaintext` encrypted to `team` (or with the passphrase) with a fresh file key: the
/// ciphertext of a small file (`vault.age` of format 5) that `path` will hold.
fn seal(path: &Path, team: &Team, key: &Key, plaintext: &[u8]) -> Result<Vec<u8>> {
    seal_into(
        path,
        team,
        key,
        plaintext,
        Vec::with_capacity(plaintext.len() + 1024),
    )
}

/// `plaintext` encrypted to `team` (or with the passphrase) with a fresh file key into `out`
/// (for `path`, which errors name), flushed.
fn seal_into<W: Write>(path: &Path, team: &Team, key: &Key, plaintext: &[u8], out: W) -> Result<W> {
    let io_error = |e: std::io::Error| crypto_error(path, CryptoError::Io(e));
    let mut writer = sealer(team, key, out).map_err(|e| crypto_error(path, e))?;
    writer.write_all(plaintext).map_err(io_error)?;
    writer
        .finish()
        .and_then(|mut out| out.flush().map(|()| out))
        .map_err(io_error)
}

/// Encrypts `plaintext` to `team` (or with the passphrase) with a fresh file key into a new
/// file that atomically replaces `path`.
fn write_sealed(path: &Path, team: &Team, key: &Key, plaintext: &[u8]) -> Result<()> {
    store::write_atomic_with(path, |file| {
        let out = BufWriter::with_capacity(16 * crypto::CHUNK_SIZE as usize, file);
        seal_into(path, team, key, plaintext, out).map(drop)
    })
}

/// Writes a new file at `path` from `pieces` (new bytes, or ranges of the plaintext of
/// `old`, the file it replaces), encrypted to `team` with a fresh file key, and atomically
/// replaced. The old plaintext is decrypted in a second thread while this one encrypts.
/// (A third thread writing to disk gained nothing on two cores, both busy; writeback
/// started every 256 KiB rather than every MiB made 100,000 secrets slower.)
fn write_spliced(
    path: &Path,
    old: Option<AgeFile>,
    key: &Key,
    team: &Team,
    pieces: &[Piece<'_>],
) -> Result<()> {
    let mut reader = old.map(|old| old.reader.into_inner());
    let kept: Vec<Range<u64>> = pieces
        .iter()
        .filter_map(|piece| match piece {
            Piece::Kept(range) if !range.is_empty() => Some(range.clone()),
            _ => None,
        })
        .collect();
    let io_error = |e: std::io::Error| crypto_error(path, CryptoError::Io(e));
    store::write_atomic_with(path, |file| {
        let out = BufWriter::with_capacity(16 * crypto::CHUNK_SIZE as usize, file);
        let mut writer = sealer(team, key, out).map_err(|e| crypto_error(path, e))?;
        std::thread::scope(|threads| {
            // A few chunks ahead keep the encryption fed; more only touch fresh memory
            // (32 in flight: 11.5 MiB peak at 100,000 secrets; 4: 9.7 MiB).
            let (send, receive) = std::sync::mpsc::sync_channel(4);
            threads.spawn(move || {
                for piece in kept.into_iter().flat_map(crypto::chunk_ranges) {
                    let read = match reader.as_mut() {
                        Some(reader) => crypto::read_range(reader, piece),
                        None => Err(CryptoError::Damaged("it ends early".into())),
                    };
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
                                .map_err(|e| crypto_error(path, e))?;
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
