//! The vault payload: the plaintext that age encrypts. Pure code, no I/O.
//!
//! A compact, versioned binary layout: [`VaultView`] parses without copying, and only the
//! owned [`Vault`] (used to change the vault) allocates per secret. From format 4 the
//! payload is indexed (see [`super::layout`]): a head with the team section and an index of
//! blocks, then the secrets and their history in blocks, so that one secret is read by
//! decrypting the head and one block. This module holds the records (team, secret, history
//! item) and reads the earlier, unindexed formats:
//!
//! ```text
//! payload  = MAGIC version:u16 [team] scope_count:u32 scope* [history]
//!            (formats 1 to 3; team: 2 and later; history: 3)
//! team     = token_count:u8 token:[u8;32]* member_count:u16 member*
//!            notice_count:u32 notice* conflict_count:u32 conflict*
//!            tombstone_count:u32 tombstone*
//! member   = name:str16 recipient:str16
//! notice   = scope_key name:str16 member:str16                 (a secret to rotate)
//! conflict = scope_key name:str16 theirs_flag:u8 [theirs:str32] (an unresolved git merge)
//! tombstone = scope_key name:str16 parameter:str16 digest:[u8;32] removed_at:u64 by:str16
//! scope    = scope_key secret_count:u32 secret*
//! scope_key = kind:u8 name:str16
//!            (kind 0 shared: an empty name is the app id's, else the namespace; 1 branch,
//!             2 sandbox, 3 standalone)
//! secret   = name:str16 value:str32 created:u64 updated:u64 [version:u32 by:str16]
//!            sync_flag:u8 [sync]                    (version, by: format 3 and later)
//! sync     = parameter:str16 version:i64 digest:[u8;32] synced_at:u64
//! history  = item_count:u32 item*
//! item     = scope_key past                                 (format 4: in a scope's block)
//! past     = name:str16 past_count:u16 version*            (a secret's earlier values)
//! version  = version:u32 value:str32 updated:u64 by:str16   (newest first)
//! str16    = len:u16 utf8-bytes            str32 = len:u32 utf8-bytes
//! ```
//! Integers are little-endian; times are Unix seconds. Scopes and secret names are strictly
//! ascending and so unique (history items too, and their versions strictly descending); the
//! parser rejects anything else, and any byte left over.

use crate::scope::ScopeKey;
use crate::secret::SecretValue;
use std::collections::BTreeMap;
use zeroize::Zeroizing;

pub(super) const MAGIC: &[u8; 8] = b"AMPSVLT\n";
/// The payload version this build writes. Versions 1 (no team section), 2 (no history),
/// 3 (no index) and 4 (one file) are still read, and upgraded on the next write.
pub const FORMAT_VERSION: u16 = 5;
/// The first format with an index (see [`super::layout`]).
pub const INDEXED: u16 = 4;
/// The first format that keeps each scope in a file of its own (see [`super::split`]).
pub const SPLIT: u16 = 5;
const DIGEST_LEN: usize = 32;
/// Length of a membership token.
pub const TOKEN_LEN: usize = 32;

/// A random secret only members know: it is inside the encrypted payload, so a vault.age
/// made by someone holding only the public keys cannot carry it.
pub type Token = Zeroizing<[u8; TOKEN_LEN]>;

/// Who the vault is encrypted to, as members added them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub name: String,
    /// The public key: `age1…` or an OpenSSH public key (`ssh-ed25519 AAAA…`).
    pub recipient: String,
}

/// A secret a removed member could read, to rotate at its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotateNotice {
    pub scope: ScopeKey,
    pub name: String,
    /// The removed member's name.
    pub member: String,
}

/// A secret a git merge could not decide: the vault holds our value (or none), this holds
/// theirs (or `None`: they removed it).
#[derive(Debug, Clone)]
pub struct Conflict {
    pub scope: ScopeKey,
    pub name: String,
    pub theirs: Option<SecretValue>,
}

/// A secret removed from the vault after it was synced: the next push deletes it from SSM
/// and pull does not bring it back. No value, only the digest both sides last agreed on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tombstone {
    pub scope: ScopeKey,
    pub name: String,
    /// The SSM name it was synced with.
    pub parameter: String,
    pub digest: [u8; DIGEST_LEN],
    pub removed_at: u64,
    /// The member who removed it.
    pub by: String,
}

/// Membership and the vault's bookkeeping: authenticated by living inside the encrypted
/// payload.
#[derive(Debug, Clone, Default)]
pub struct Team {
    /// Membership tokens, the current one first, then every earlier one, so a machine that
    /// trusted an earlier token can follow a rotation.
    pub tokens: Vec<Token>,
    pub members: Vec<Member>,
    pub to_rotate: Vec<RotateNotice>,
    pub conflicts: Vec<Conflict>,
    pub tombstones: Vec<Tombstone>,
}

impl Team {
    pub(super) fn encoded_len(&self) -> usize {
        1 + self.tokens.len() * TOKEN_LEN
            + 2
            + self
                .members
                .iter()
                .map(|m| 4 + m.name.len() + m.recipient.len())
                .sum::<usize>()
            + 4
            + self
                .to_rotate
                .iter()
                .map(|n| 3 + scope_parts(&n.scope).1.len() + 4 + n.name.len() + n.member.len())
                .sum::<usize>()
            + 4
            + self
                .conflicts
                .iter()
                .map(|c| {
                    3 + scope_parts(&c.scope).1.len()
                        + 2
                        + c.name.len()
                        + 1
                        + c.theirs.as_ref().map_or(0, |v| 4 + v.len())
                })
                .sum::<usize>()
            + 4
            + self
                .tombstones
                .iter()
                .map(|t| {
                    3 + scope_parts(&t.scope).1.len()
                        + 2
                        + t.name.len()
                        + 2
                        + t.parameter.len()
                        + DIGEST_LEN
                        + 8
                        + 2
                        + t.by.len()
                })
                .sum::<usize>()
    }

    pub(super) fn encode(&self, out: &mut Vec<u8>) {
        out.push(u8::try_from(self.tokens.len()).expect("a handful of tokens"));
        for token in &self.tokens {
            out.extend_from_slice(&token[..]);
        }
        let members = u16::try_from(self.members.len()).expect("members fit in u16");
        out.extend_from_slice(&members.to_le_bytes());
        for member in &self.members {
            put_str16(out, &member.name);
            put_str16(out, &member.recipient);
        }
        put_u32(out, self.to_rotate.len());
        for notice in &self.to_rotate {
            put_scope(out, &notice.scope);
            put_str16(out, &notice.name);
            put_str16(out, &notice.member);
        }
        put_u32(out, self.conflicts.len());
        for conflict in &self.conflicts {
            put_scope(out, &conflict.scope);
            put_str16(out, &conflict.name);
            match &conflict.theirs {
                None => out.push(0),
                Some(value) => {
                    out.push(1);
                    put_u32(out, value.len());
                    out.extend_from_slice(value.expose().as_bytes());
                }
            }
        }
        put_u32(out, self.tombstones.len());
        for tombstone in &self.tombstones {
            put_scope(out, &tombstone.scope);
            put_str16(out, &tombstone.name);
            put_str16(out, &tombstone.parameter);
            out.extend_from_slice(&tombstone.digest);
            out.extend_from_slice(&tombstone.removed_at.to_le_bytes());
            put_str16(out, &tombstone.by);
        }
    }

    pub(super) fn parse(r: &mut Reader<'_>) -> Result<Team, FormatError> {
        let mut team = Team::default();
        for _ in 0..r.u8()? {
            team.tokens.push(Zeroizing::new(r.array()?));
        }
        let members = u16::from_le_bytes(r.array()?);
        for _ in 0..members {
            let member = Member {
                name: r.str16()?.to_owned(),
                recipient: r.str16()?.to_owned(),
            };
            if team
                .members
                .iter()
                .any(|m| m.name == member.name || m.recipient == member.recipient)
            {
                return Err(FormatError::Unordered);
            }
            team.members.push(member);
        }
        for _ in 0..r.u32()? {
            team.to_rotate.push(RotateNotice {
                scope: r.scope()?,
                name: r.str16()?.to_owned(),
                member: r.str16()?.to_owned(),
            });
        }
        for _ in 0..r.u32()? {
            let scope = r.scope()?;
            let name = r.str16()?.to_owned();
            let theirs = match r.u8()? {
                0 => None,
                1 => {
                    let len = r.u32()?;
                    let text =
                        std::str::from_utf8(r.take(len)?).map_err(|_| FormatError::InvalidUtf8)?;
                    Some(SecretValue::new(text.to_owned()))
                }
                _ => return Err(FormatError::UnknownTag),
            };
            team.conflicts.push(Conflict {
                scope,
                name,
                theirs,
            });
        }
        for _ in 0..r.u32()? {
            team.tombstones.push(Tombstone {
                scope: r.scope()?,
                name: r.str16()?.to_owned(),
                parameter: r.str16()?.to_owned(),
                digest: r.array()?,
                removed_at: r.u64()?,
                by: r.str16()?.to_owned(),
            });
        }
        Ok(team)
    }
}

/// What the last push or pull agreed with SSM about one secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncState {
    /// The full SSM name synced with; a different path (say, a new app id) means never synced.
    pub parameter: String,
    /// The SSM parameter version after the sync.
    pub version: i64,
    /// SHA-256 of the value both sides held after the sync.
    pub digest: [u8; DIGEST_LEN],
    pub synced_at: u64,
}

/// One stored secret.
#[derive(Debug, Clone)]
pub struct Entry {
    pub value: SecretValue,
    pub created: u64,
    pub updated: u64,
    /// 1 when first stored, one more at each change of value.
    pub version: u32,
    /// The member who stored this value (empty when a vault older than history stored it).
    pub by: String,
    pub sync: Option<SyncState>,
}

/// An earlier value of a secret, kept so that a bad change can be rolled back.
#[derive(Debug, Clone)]
pub struct PastValue {
    pub version: u32,
    pub value: SecretValue,
    /// When this value was stored.
    pub updated: u64,
    pub by: String,
}

/// When a change is made, and by which member: what the vault records with a new value.
#[derive(Debug, Clone)]
pub struct Stamp {
    pub at: u64,
    pub by: String,
}

impl Stamp {
    pub fn new(at: u64, by: &str) -> Stamp {
        Stamp {
            at,
            by: by.to_owned(),
        }
    }
}

/// The whole vault, owned, for changing it.
#[derive(Debug, Clone)]
pub struct Vault {
    pub(super) scopes: BTreeMap<ScopeKey, BTreeMap<String, Entry>>,
    /// Earlier values per secret, newest first.
    pub(super) history: BTreeMap<ScopeKey, BTreeMap<String, Vec<PastValue>>>,
    /// How many versions of a secret to keep, the current one included (config.toml's
    /// `history`); not stored in the payload.
    pub(super) keep: usize,
    pub team: Team,
}

impl Default for Vault {
    fn default() -> Vault {
        Vault {
            scopes: BTreeMap::new(),
            history: BTreeMap::new(),
            keep: usize::from(super::config::DEFAULT_HISTORY),
            team: Team::default(),
        }
    }
}

/// What went wrong reading a payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error("it is not an ampsecret vault payload")]
    BadMagic,
    #[error("it was written by a newer ampsecret (format {0}, this build reads {FORMAT_VERSION})")]
    NewerVersion(u16),
    #[error("it ends early")]
    Truncated,
    #[error("it has unexpected bytes at its end")]
    TrailingBytes,
    #[error("a name or value is not valid UTF-8")]
    InvalidUtf8,
    #[error("its scopes or names are out of order or repeated")]
    Unordered,
    #[error("it has an unknown field value")]
    UnknownTag,
    #[error("it holds what belongs in another of the vault's files")]
    Misplaced,
}

impl Vault {
    pub fn get(&self, scope: &ScopeKey, name: &str) -> Option<&Entry> {
        self.scopes.get(scope)?.get(name)
    }

    /// Stores `value` under `scope`/`name`; returns whether the name is new. A changed value
    /// becomes a new version and the one it replaces joins the history. Sync metadata is
    /// kept: it records what SSM holds, which a local edit does not change.
    pub fn set(&mut self, scope: &ScopeKey, name: &str, value: SecretValue, stamp: &Stamp) -> bool {
        let secrets = self.scopes.entry(scope.clone()).or_default();
        match secrets.get_mut(name) {
            Some(entry) => {
                if entry.value != value {
                    let past = PastValue {
                        version: entry.version,
                        value: std::mem::replace(&mut entry.value, value),
                        updated: entry.updated,
                        by: std::mem::replace(&mut entry.by, stamp.by.clone()),
                    };
                    entry.updated = stamp.at;
                    entry.version += 1;
                    let history = self
                        .history
                        .entry(scope.clone())
                        .or_default()
                        .entry(name.to_owned())
                        .or_default();
                    history.insert(0, past);
                    history.truncate(self.keep.saturating_sub(1));
                    if history.is_empty() {
                        self.drop_history(scope, name);
                    }
                    // A new value is the rotation a removed member's notice asked for.
                    self.team
                        .to_rotate
                        .retain(|n| !(n.scope == *scope && n.name == name));
                }
                false
            }
            None => {
                // Stored again after a remove: no longer removed.
                self.team
                    .tombstones
                    .retain(|t| !(t.scope == *scope && t.name == name));
                secrets.insert(
                    name.to_owned(),
                    Entry {
                        value,
                        created: stamp.at,
                        updated: stamp.at,
                        version: 1,
                        by: stamp.by.clone(),
                        sync: None,
                    },
                );
                true
            }
        }
    }

    /// Replaces a secret's sync metadata; does nothing if the secret is gone.
    pub fn set_sync(&mut self, scope: &ScopeKey, name: &str, sync: Option<SyncState>) {
        if let Some(entry) = self.scopes.get_mut(scope).and_then(|s| s.get_mut(name)) {
            entry.sync = sync;
        }
    }

    /// Drops the tombstone of `scope`/`name`, if any.
    pub fn forget_tombstone(&mut self, scope: &ScopeKey, name: &str) {
        self.team
            .tombstones
            .retain(|t| !(t.scope == *scope && t.name == name));
    }

    /// Every secret as (scope, name, entry), in order.
    pub fn entries(&self) -> impl Iterator<Item = (&ScopeKey, &str, &Entry)> {
        self.scopes
            .iter()
            .flat_map(|(scope, secrets)| secrets.iter().map(move |(n, e)| (scope, n.as_str(), e)))
    }

    /// Puts `entry` under `scope`/`name` as it is (metadata included): merges use it.
    pub fn insert(&mut self, scope: &ScopeKey, name: &str, entry: Entry) {
        self.scopes
            .entry(scope.clone())
            .or_default()
            .insert(name.to_owned(), entry);
    }

    /// The earlier values of a secret, newest first.
    pub fn history(&self, scope: &ScopeKey, name: &str) -> &[PastValue] {
        self.history
            .get(scope)
            .and_then(|names| names.get(name))
            .map_or(&[], Vec::as_slice)
    }

    /// Replaces the earlier values of a secret (newest first), as merges do; trimmed to the
    /// vault's depth.
    pub fn set_history(&mut self, scope: &ScopeKey, name: &str, mut past: Vec<PastValue>) {
        past.truncate(self.keep.saturating_sub(1));
        if past.is_empty() {
            self.drop_history(scope, name);
        } else {
            self.history
                .entry(scope.clone())
                .or_default()
                .insert(name.to_owned(), past);
        }
    }

    /// Keeps at most `versions` versions of each secret (the current one included) from now
    /// on, and drops any beyond that now.
    pub fn keep_versions(&mut self, versions: usize) {
        self.keep = versions.max(1);
        for names in self.history.values_mut() {
            for past in names.values_mut() {
                past.truncate(self.keep - 1);
            }
            names.retain(|_, past| !past.is_empty());
        }
        self.history.retain(|_, names| !names.is_empty());
    }

    /// How many versions of a secret this vault keeps.
    pub fn kept_versions(&self) -> usize {
        self.keep
    }

    fn drop_history(&mut self, scope: &ScopeKey, name: &str) {
        if let Some(names) = self.history.get_mut(scope) {
            names.remove(name);
            if names.is_empty() {
                self.history.remove(scope);
            }
        }
    }

    /// Removes a secret (its history too), and its scope once empty.
    pub fn remove(&mut self, scope: &ScopeKey, name: &str) -> Option<Entry> {
        self.team
            .to_rotate
            .retain(|n| !(n.scope == *scope && n.name == name));
        self.drop_history(scope, name);
        let secrets = self.scopes.get_mut(scope)?;
        let removed = secrets.remove(name);
        if secrets.is_empty() {
            self.scopes.remove(scope);
        }
        removed
    }

    /// The secrets of one scope, by name.
    pub fn scope(&self, scope: &ScopeKey) -> Option<&BTreeMap<String, Entry>> {
        self.scopes.get(scope)
    }

    /// Serialises the vault in the current format (see [`super::layout`]).
    pub fn encode(&self) -> Zeroizing<Vec<u8>> {
        self.encode_bound(&super::layout::UNBOUND)
    }

    /// Serialises the vault in the current format, as a scope's file written with the
    /// `vault.age` whose digest is `bound`.
    pub fn encode_bound(&self, bound: &super::layout::Bound) -> Zeroizing<Vec<u8>> {
        super::layout::encode(self, FORMAT_VERSION, bound)
    }

    /// Serialises the vault as one file of format 4 (an indexed vault before
    /// [`SPLIT`]): what a merge of two such versions writes back.
    pub fn encode_unsplit(&self) -> Zeroizing<Vec<u8>> {
        super::layout::encode(self, INDEXED, &super::layout::UNBOUND)
    }
}

/// The format version of a payload.
pub fn version_of(bytes: &[u8]) -> Result<u16, FormatError> {
    VaultView::version(&mut Reader { rest: bytes })
}

/// Bytes a secret takes in a payload.
pub(super) fn entry_len(name: &str, entry: &Entry) -> usize {
    2 + name.len()
        + 4
        + entry.value.len()
        + 8
        + 8
        + 4
        + 2
        + entry.by.len()
        + 1
        + entry
            .sync
            .as_ref()
            .map_or(0, |sync| 2 + sync.parameter.len() + 8 + DIGEST_LEN + 8)
}

pub(super) fn put_entry(out: &mut Vec<u8>, name: &str, entry: &Entry) {
    put_str16(out, name);
    put_u32(out, entry.value.len());
    out.extend_from_slice(entry.value.expose().as_bytes());
    out.extend_from_slice(&entry.created.to_le_bytes());
    out.extend_from_slice(&entry.updated.to_le_bytes());
    out.extend_from_slice(&entry.version.to_le_bytes());
    put_str16(out, &entry.by);
    match &entry.sync {
        None => out.push(0),
        Some(sync) => {
            out.push(1);
            put_str16(out, &sync.parameter);
            out.extend_from_slice(&sync.version.to_le_bytes());
            out.extend_from_slice(&sync.digest);
            out.extend_from_slice(&sync.synced_at.to_le_bytes());
        }
    }
}

/// Bytes a secret's earlier values take in a payload (without their scope).
pub(super) fn past_len(name: &str, past: &[PastValue]) -> usize {
    2 + name.len()
        + 2
        + past
            .iter()
            .map(|v| 4 + 4 + v.value.len() + 8 + 2 + v.by.len())
            .sum::<usize>()
}

pub(super) fn put_past(out: &mut Vec<u8>, name: &str, past: &[PastValue]) {
    put_str16(out, name);
    let count = u16::try_from(past.len()).expect("history depth is at most 100");
    out.extend_from_slice(&count.to_le_bytes());
    for version in past {
        out.extend_from_slice(&version.version.to_le_bytes());
        put_u32(out, version.value.len());
        out.extend_from_slice(version.value.expose().as_bytes());
        out.extend_from_slice(&version.updated.to_le_bytes());
        put_str16(out, &version.by);
    }
}

/// Bytes a scope key takes in a payload.
pub(super) fn scope_len(key: &ScopeKey) -> usize {
    3 + scope_parts(key).1.len()
}

fn scope_parts(key: &ScopeKey) -> (u8, &str) {
    match key {
        ScopeKey::Shared => (0, ""),
        ScopeKey::Branch(name) => (1, name),
        ScopeKey::Sandbox(id) => (2, id),
        ScopeKey::SharedNamespace(namespace) => (0, namespace),
        ScopeKey::Standalone(id) => (3, id),
    }
}

pub(super) fn put_scope(out: &mut Vec<u8>, key: &ScopeKey) {
    let (kind, scope_name) = scope_parts(key);
    out.push(kind);
    put_str16(out, scope_name);
}

/// Lengths are bounded by construction: names are checked before they reach the vault, and
/// values by [`SecretValue::validate`]; a longer one is a bug, not input.
pub(super) fn put_str16(out: &mut Vec<u8>, s: &str) {
    let len = u16::try_from(s.len()).expect("vault names are checked to be short");
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

pub(super) fn put_u32(out: &mut Vec<u8>, n: usize) {
    let n = u32::try_from(n).expect("vault counts and values fit in u32");
    out.extend_from_slice(&n.to_le_bytes());
}

/// A parsed payload that borrows from the decrypted bytes: no per-secret allocation.
#[derive(Debug)]
pub struct VaultView<'a> {
    pub team: Team,
    pub scopes: Vec<ScopeView<'a>>,
    pub(super) history: Vec<HistoryView<'a>>,
}

/// One secret's earlier values, borrowed.
#[derive(Debug)]
pub(super) struct HistoryView<'a> {
    pub(super) scope: ScopeKey,
    pub(super) name: &'a str,
    pub(super) past: Vec<PastView<'a>>,
}

#[derive(Debug)]
pub(super) struct PastView<'a> {
    version: u32,
    value: &'a str,
    updated: u64,
    by: &'a str,
}

#[derive(Debug)]
pub struct ScopeView<'a> {
    pub key: ScopeKey,
    pub secrets: Vec<EntryView<'a>>,
}

#[derive(Debug)]
pub struct EntryView<'a> {
    pub name: &'a str,
    value: &'a str,
    pub created: u64,
    pub updated: u64,
    pub version: u32,
    pub by: &'a str,
    pub sync: Option<SyncView<'a>>,
}

#[derive(Debug)]
pub struct SyncView<'a> {
    pub parameter: &'a str,
    pub version: i64,
    pub digest: [u8; DIGEST_LEN],
    pub synced_at: u64,
}

impl EntryView<'_> {
    /// Copies the value out into wiped-on-drop memory.
    pub fn value(&self) -> SecretValue {
        SecretValue::new(self.value.to_owned())
    }

    pub(super) fn to_entry(&self) -> Entry {
        Entry {
            value: self.value(),
            created: self.created,
            updated: self.updated,
            version: self.version,
            by: self.by.to_owned(),
            sync: self.sync.as_ref().map(|s| SyncState {
                parameter: s.parameter.to_owned(),
                version: s.version,
                digest: s.digest,
                synced_at: s.synced_at,
            }),
        }
    }
}

impl<'a> VaultView<'a> {
    /// Parses and checks a whole payload, of any format this build reads.
    pub fn parse(bytes: &'a [u8]) -> Result<VaultView<'a>, FormatError> {
        let mut r = Reader { rest: bytes };
        let version = Self::version(&mut r)?;
        if version >= INDEXED {
            return super::layout::parse(bytes);
        }
        let team = if version >= 2 {
            Team::parse(&mut r)?
        } else {
            Team::default()
        };
        let scope_count = r.u32()?;
        let mut scopes: Vec<ScopeView<'a>> = Vec::with_capacity(scope_count.min(1024));
        for _ in 0..scope_count {
            let key = r.scope()?;
            if scopes.last().is_some_and(|prev| prev.key >= key) {
                return Err(FormatError::Unordered);
            }
            let secret_count = r.u32()?;
            let secrets = r.entries(secret_count, version)?;
            scopes.push(ScopeView { key, secrets });
        }
        let history = if version >= 3 {
            let count = r.u32()?;
            let mut items: Vec<HistoryView<'a>> = Vec::with_capacity(count.min(r.rest.len() / 9));
            for _ in 0..count {
                let scope = r.scope()?;
                let item = r.past(scope)?;
                if items
                    .last()
                    .is_some_and(|prev| (&prev.scope, prev.name) >= (&item.scope, item.name))
                {
                    return Err(FormatError::Unordered);
                }
                items.push(item);
            }
            items
        } else {
            Vec::new()
        };
        if !r.rest.is_empty() {
            return Err(FormatError::TrailingBytes);
        }
        Ok(VaultView {
            team,
            scopes,
            history,
        })
    }

    /// The team section alone (membership checks need no secret parsed): of a whole payload
    /// of an unindexed format, or of the head of an indexed one.
    pub fn parse_team(bytes: &[u8]) -> Result<Team, FormatError> {
        let mut r = Reader { rest: bytes };
        match Self::version(&mut r)? {
            1 => Ok(Team::default()),
            version if version >= INDEXED => Ok(super::layout::Head::parse(bytes)?.team),
            _ => Team::parse(&mut r),
        }
    }

    /// Checks the magic and returns the format version, refusing one from the future.
    pub(super) fn version(r: &mut Reader<'_>) -> Result<u16, FormatError> {
        if r.take(MAGIC.len())? != MAGIC {
            return Err(FormatError::BadMagic);
        }
        match u16::from_le_bytes(r.array()?) {
            // Version 0 never existed.
            0 => Err(FormatError::UnknownTag),
            version @ 1..=FORMAT_VERSION => Ok(version),
            newer => Err(FormatError::NewerVersion(newer)),
        }
    }

    /// The earlier values of a secret, newest first, copied out into wiped-on-drop memory.
    pub fn history_of(&self, scope: &ScopeKey, name: &str) -> Vec<PastValue> {
        self.history
            .binary_search_by(|h| (&h.scope, h.name).cmp(&(scope, name)))
            .ok()
            .map(|i| self.history[i].past.iter().map(PastView::to_past).collect())
            .unwrap_or_default()
    }

    pub fn scope(&self, key: &ScopeKey) -> Option<&ScopeView<'a>> {
        self.scopes
            .binary_search_by(|s| s.key.cmp(key))
            .ok()
            .map(|i| &self.scopes[i])
    }

    pub fn get(&self, key: &ScopeKey, name: &str) -> Option<&EntryView<'a>> {
        let scope = self.scope(key)?;
        scope
            .secrets
            .binary_search_by(|e| e.name.cmp(name))
            .ok()
            .map(|i| &scope.secrets[i])
    }

    pub fn to_vault(&self) -> Vault {
        let scopes = self
            .scopes
            .iter()
            .map(|s| {
                let secrets = s
                    .secrets
                    .iter()
                    .map(|e| (e.name.to_owned(), e.to_entry()))
                    .collect();
                (s.key.clone(), secrets)
            })
            .collect();
        let mut history: BTreeMap<ScopeKey, BTreeMap<String, Vec<PastValue>>> = BTreeMap::new();
        for item in &self.history {
            history.entry(item.scope.clone()).or_default().insert(
                item.name.to_owned(),
                item.past.iter().map(PastView::to_past).collect(),
            );
        }
        Vault {
            scopes,
            history,
            team: self.team.clone(),
            ..Vault::default()
        }
    }
}

impl PastView<'_> {
    pub(super) fn to_past(&self) -> PastValue {
        PastValue {
            version: self.version,
            value: SecretValue::new(self.value.to_owned()),
            updated: self.updated,
            by: self.by.to_owned(),
        }
    }
}

pub(super) struct Reader<'a> {
    pub(super) rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// `count` secrets (as format `version` writes them), strictly ascending by name.
    pub(super) fn entries(
        &mut self,
        count: usize,
        version: u16,
    ) -> Result<Vec<EntryView<'a>>, FormatError> {
        // Each secret takes at least 23 bytes; a count beyond that is damage, not a reason to
        // allocate.
        let mut secrets: Vec<EntryView<'a>> = Vec::with_capacity(count.min(self.rest.len() / 23));
        for _ in 0..count {
            let entry = self.entry(version)?;
            if secrets.last().is_some_and(|prev| prev.name >= entry.name) {
                return Err(FormatError::Unordered);
            }
            secrets.push(entry);
        }
        Ok(secrets)
    }

    fn entry(&mut self, version: u16) -> Result<EntryView<'a>, FormatError> {
        let name = self.str16()?;
        let value_len = self.u32()?;
        let value =
            std::str::from_utf8(self.take(value_len)?).map_err(|_| FormatError::InvalidUtf8)?;
        let created = self.u64()?;
        let updated = self.u64()?;
        let (version, by) = if version >= 3 {
            (u32::from_le_bytes(self.array()?), self.str16()?)
        } else {
            (1, "")
        };
        let sync = match self.u8()? {
            0 => None,
            1 => Some(SyncView {
                parameter: self.str16()?,
                version: i64::from_le_bytes(self.array()?),
                digest: self.array()?,
                synced_at: self.u64()?,
            }),
            _ => return Err(FormatError::UnknownTag),
        };
        Ok(EntryView {
            name,
            value,
            created,
            updated,
            version,
            by,
            sync,
        })
    }

    /// One secret's earlier values, in `scope`: at least one, versions strictly descending.
    pub(super) fn past(&mut self, scope: ScopeKey) -> Result<HistoryView<'a>, FormatError> {
        let name = self.str16()?;
        let past_count = u16::from_le_bytes(self.array()?);
        let mut past: Vec<PastView<'a>> = Vec::with_capacity(past_count.into());
        for _ in 0..past_count {
            let version = u32::from_le_bytes(self.array()?);
            if past.last().is_some_and(|newer| newer.version <= version) {
                return Err(FormatError::Unordered);
            }
            let value_len = self.u32()?;
            let value =
                std::str::from_utf8(self.take(value_len)?).map_err(|_| FormatError::InvalidUtf8)?;
            past.push(PastView {
                version,
                value,
                updated: self.u64()?,
                by: self.str16()?,
            });
        }
        if past.is_empty() {
            return Err(FormatError::UnknownTag);
        }
        Ok(HistoryView { scope, name, past })
    }

    pub(super) fn take(&mut self, n: usize) -> Result<&'a [u8], FormatError> {
        if self.rest.len() < n {
            return Err(FormatError::Truncated);
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    pub(super) fn array<const N: usize>(&mut self) -> Result<[u8; N], FormatError> {
        Ok(self.take(N)?.try_into().expect("take returned N bytes"))
    }

    pub(super) fn u8(&mut self) -> Result<u8, FormatError> {
        Ok(self.array::<1>()?[0])
    }

    pub(super) fn u32(&mut self) -> Result<usize, FormatError> {
        Ok(u32::from_le_bytes(self.array()?) as usize)
    }

    pub(super) fn u64(&mut self) -> Result<u64, FormatError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    pub(super) fn str16(&mut self) -> Result<&'a str, FormatError> {
        let len = u16::from_le_bytes(self.array()?) as usize;
        std::str::from_utf8(self.take(len)?).map_err(|_| FormatError::InvalidUtf8)
    }

    pub(super) fn scope(&mut self) -> Result<ScopeKey, FormatError> {
        let kind = self.u8()?;
        Ok(match (kind, self.str16()?) {
            (0, "") => ScopeKey::Shared,
            (1, name) if !name.is_empty() => ScopeKey::Branch(name.to_owned()),
            (2, id) if !id.is_empty() => ScopeKey::Sandbox(id.to_owned()),
            (0, namespace) => ScopeKey::SharedNamespace(namespace.to_owned()),
            (3, id) if !id.is_empty() => ScopeKey::Standalone(id.to_owned()),
            _ => return Err(FormatError::UnknownTag),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(time: u64) -> Stamp {
        Stamp::new(time, "alice")
    }

    fn sample() -> Vault {
        let mut vault = Vault::default();
        let main = ScopeKey::Branch("main".into());
        vault.set(
            &main,
            "B_KEY",
            SecretValue::new("two\nlines ✓".into()),
            &at(10),
        );
        vault.set(&main, "A_KEY", SecretValue::new("one".into()), &at(11));
        vault.set(
            &ScopeKey::Shared,
            "S",
            SecretValue::new("s".into()),
            &at(12),
        );
        vault.set(
            &ScopeKey::Sandbox("alice".into()),
            "X",
            SecretValue::new("x".into()),
            &at(13),
        );
        vault.set_sync(
            &main,
            "A_KEY",
            Some(SyncState {
                parameter: "/amplify/a/main-branch-0123456789/A_KEY".into(),
                version: 3,
                digest: [7; 32],
                synced_at: 99,
            }),
        );
        vault.team = Team {
            tokens: vec![
                Zeroizing::new([1; TOKEN_LEN]),
                Zeroizing::new([2; TOKEN_LEN]),
            ],
            members: vec![
                Member {
                    name: "alice".into(),
                    recipient: "age1alice".into(),
                },
                Member {
                    name: "carol".into(),
                    recipient: "ssh-ed25519 AAAAC3carol".into(),
                },
            ],
            to_rotate: vec![RotateNotice {
                scope: main.clone(),
                name: "B_KEY".into(),
                member: "bob".into(),
            }],
            conflicts: vec![
                Conflict {
                    scope: ScopeKey::Shared,
                    name: "S".into(),
                    theirs: Some(SecretValue::new("theirs".into())),
                },
                Conflict {
                    scope: main.clone(),
                    name: "A_KEY".into(),
                    theirs: None,
                },
            ],
            tombstones: vec![Tombstone {
                scope: main,
                name: "GONE".into(),
                parameter: "/amplify/a/main-branch-0123456789/GONE".into(),
                digest: [9; 32],
                removed_at: 77,
                by: "alice".into(),
            }],
        };
        vault
    }

    #[test]
    fn the_team_round_trips_and_a_new_value_clears_its_rotation_notice() {
        let mut vault = sample();
        let bytes = vault.encode();
        let team = VaultView::parse_team(&bytes).unwrap();
        assert_eq!(team.tokens.len(), 2);
        assert_eq!(team.members, vault.team.members);
        assert_eq!(team.to_rotate, vault.team.to_rotate);
        assert_eq!(
            team.conflicts[0].theirs.as_ref().unwrap().expose(),
            "theirs"
        );
        assert!(team.conflicts[1].theirs.is_none());
        assert_eq!(team.tombstones, vault.team.tombstones);
        let main = ScopeKey::Branch("main".into());
        vault.set(
            &main,
            "B_KEY",
            SecretValue::new("two\nlines ✓".into()),
            &at(20),
        );
        assert_eq!(
            vault.team.to_rotate.len(),
            1,
            "the same value is no rotation"
        );
        vault.set(&main, "B_KEY", SecretValue::new("rotated".into()), &at(21));
        assert!(vault.team.to_rotate.is_empty());
    }

    #[test]
    fn a_version_1_payload_is_read_with_an_empty_team() {
        let mut v1 = MAGIC.to_vec();
        v1.extend_from_slice(&1u16.to_le_bytes());
        v1.extend_from_slice(&1u32.to_le_bytes());
        v1.push(0);
        v1.extend_from_slice(&0u16.to_le_bytes());
        v1.extend_from_slice(&1u32.to_le_bytes());
        put_str16(&mut v1, "K");
        v1.extend_from_slice(&1u32.to_le_bytes());
        v1.push(b'v');
        v1.extend_from_slice(&5u64.to_le_bytes());
        v1.extend_from_slice(&6u64.to_le_bytes());
        v1.push(0);
        let view = VaultView::parse(&v1).unwrap();
        assert!(view.team.tokens.is_empty() && view.team.members.is_empty());
        assert_eq!(
            view.get(&ScopeKey::Shared, "K").unwrap().value().expose(),
            "v"
        );
        // Written again, it is version 2.
        let upgraded = view.to_vault().encode();
        assert_eq!(&upgraded[8..10], &FORMAT_VERSION.to_le_bytes());
    }

    #[test]
    fn round_trip() {
        let vault = sample();
        let bytes = vault.encode();
        let back = VaultView::parse(&bytes).unwrap().to_vault();
        assert_eq!(*back.encode(), *bytes);
        let main = ScopeKey::Branch("main".into());
        let entry = back.get(&main, "B_KEY").unwrap();
        assert_eq!(entry.value.expose(), "two\nlines ✓");
        assert_eq!((entry.created, entry.updated), (10, 10));
        assert_eq!(
            back.get(&main, "A_KEY")
                .unwrap()
                .sync
                .as_ref()
                .unwrap()
                .version,
            3
        );
        let view = VaultView::parse(&bytes).unwrap();
        assert_eq!(view.get(&main, "A_KEY").unwrap().value().expose(), "one");
        assert!(view.get(&main, "C").is_none());
        assert!(view.get(&ScopeKey::Branch("dev".into()), "A_KEY").is_none());
    }

    #[test]
    fn set_keeps_created_and_only_bumps_updated_on_change() {
        let mut vault = sample();
        let main = ScopeKey::Branch("main".into());
        assert!(!vault.set(&main, "A_KEY", SecretValue::new("one".into()), &at(50)));
        assert_eq!(vault.get(&main, "A_KEY").unwrap().updated, 11);
        vault.set(&main, "A_KEY", SecretValue::new("new".into()), &at(60));
        let entry = vault.get(&main, "A_KEY").unwrap();
        assert_eq!((entry.created, entry.updated), (11, 60));
        assert!(
            entry.sync.is_some(),
            "a local edit keeps what SSM was last seen to hold"
        );
    }

    #[test]
    fn a_changed_value_keeps_its_predecessors_up_to_the_depth() {
        let mut vault = Vault::default();
        vault.keep_versions(3);
        let key = ScopeKey::Shared;
        let bob = Stamp {
            at: 5,
            by: "bob".into(),
        };
        vault.set(&key, "K", SecretValue::new("v1".into()), &at(1));
        assert!(vault.history(&key, "K").is_empty());
        vault.set(&key, "K", SecretValue::new("v1".into()), &at(2));
        assert_eq!(
            vault.get(&key, "K").unwrap().version,
            1,
            "same value, same version"
        );
        vault.set(&key, "K", SecretValue::new("v2".into()), &bob);
        for (i, value) in ["v3", "v4"].iter().enumerate() {
            vault.set(
                &key,
                "K",
                SecretValue::new((*value).into()),
                &at(10 + i as u64),
            );
        }
        let entry = vault.get(&key, "K").unwrap();
        assert_eq!(
            (entry.version, entry.value.expose(), entry.by.as_str()),
            (4, "v4", "alice")
        );
        let past: Vec<(u32, &str, u64, &str)> = vault
            .history(&key, "K")
            .iter()
            .map(|p| (p.version, p.value.expose(), p.updated, p.by.as_str()))
            .collect();
        assert_eq!(past, [(3, "v3", 10, "alice"), (2, "v2", 5, "bob")]);

        let bytes = vault.encode();
        let view = VaultView::parse(&bytes).unwrap();
        assert_eq!(view.get(&key, "K").unwrap().version, 4);
        assert_eq!(view.history_of(&key, "K").len(), 2);
        let mut back = view.to_vault();
        assert_eq!(*back.encode(), *bytes);
        back.keep_versions(1);
        assert!(
            back.history(&key, "K").is_empty(),
            "a lower depth drops old versions"
        );
        assert!(back.remove(&key, "K").is_some());
        vault.remove(&key, "K");
        assert_eq!(vault.encode().len(), Vault::default().encode().len());
    }

    #[test]
    fn a_version_2_payload_is_read_with_version_1_entries_and_no_history() {
        let mut vault = sample();
        vault.set(
            &ScopeKey::Shared,
            "S",
            SecretValue::new("s2".into()),
            &at(30),
        );
        let v3 = vault.encode();
        // Version 2 is version 3 without an entry's version and author and without the
        // history section: rebuild one by hand from the sample's secrets.
        let mut v2 = MAGIC.to_vec();
        v2.extend_from_slice(&2u16.to_le_bytes());
        vault.team.encode(&mut v2);
        put_u32(&mut v2, vault.scopes.len());
        for (key, secrets) in &vault.scopes {
            put_scope(&mut v2, key);
            put_u32(&mut v2, secrets.len());
            for (name, entry) in secrets {
                put_str16(&mut v2, name);
                put_u32(&mut v2, entry.value.len());
                v2.extend_from_slice(entry.value.expose().as_bytes());
                v2.extend_from_slice(&entry.created.to_le_bytes());
                v2.extend_from_slice(&entry.updated.to_le_bytes());
                v2.push(0);
            }
        }
        let view = VaultView::parse(&v2).unwrap();
        let s = view.get(&ScopeKey::Shared, "S").unwrap();
        assert_eq!((s.version, s.by, s.value().expose()), (1, "", "s2"));
        assert!(view.history_of(&ScopeKey::Shared, "S").is_empty());
        let upgraded = view.to_vault().encode();
        assert_eq!(&upgraded[8..10], &FORMAT_VERSION.to_le_bytes());
        assert!(upgraded.len() < v3.len(), "no history came from version 2");
    }

    #[test]
    fn remove_drops_empty_scopes() {
        let mut vault = sample();
        let alice = ScopeKey::Sandbox("alice".into());
        assert!(vault.remove(&alice, "X").is_some());
        assert!(vault.scope(&alice).is_none());
        assert!(vault.remove(&alice, "X").is_none());
    }

    #[test]
    fn every_truncation_is_rejected() {
        let bytes = sample().encode();
        for cut in 0..bytes.len() {
            assert!(VaultView::parse(&bytes[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn damage_is_rejected() {
        let bytes = sample().encode().to_vec();
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert_eq!(
            VaultView::parse(&trailing).unwrap_err(),
            FormatError::TrailingBytes
        );
        let mut newer = bytes.clone();
        newer[8] = 6;
        assert_eq!(
            VaultView::parse(&newer).unwrap_err(),
            FormatError::NewerVersion(6)
        );
        let mut magic = bytes.clone();
        magic[0] = b'X';
        assert_eq!(VaultView::parse(&magic).unwrap_err(), FormatError::BadMagic);
    }

    #[test]
    fn unordered_names_are_rejected() {
        let mut vault = Vault::default();
        vault.set(
            &ScopeKey::Shared,
            "N1",
            SecretValue::new("1".into()),
            &at(1),
        );
        vault.set(
            &ScopeKey::Shared,
            "N2",
            SecretValue::new("2".into()),
            &at(1),
        );
        let mut bytes = vault.encode().to_vec();
        // Swap the names' last letters in place: "N1" then "N2" becomes "N2" then "N1".
        let find = |needle: &[u8]| bytes.windows(2).position(|w| w == needle).unwrap() + 1;
        let (a, b) = (find(b"N1"), find(b"N2"));
        bytes.swap(a, b);
        assert_eq!(
            VaultView::parse(&bytes).unwrap_err(),
            FormatError::Unordered
        );
    }
}
