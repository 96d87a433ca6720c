//! The vault payload: the plaintext that age encrypts. Pure code, no I/O.
//!
//! A compact, versioned binary layout, chosen over JSON so that reading one secret out of a
//! 10,000-secret vault costs little more than decrypting it: [`VaultView`] parses without
//! copying, and only the owned [`Vault`] (used to change the vault) allocates per secret.
//!
//! ```text
//! payload  = MAGIC version:u16 scope_count:u32 scope*
//! scope    = kind:u8 name:str16 secret_count:u32 secret*      (kind 0 shared, 1 branch, 2 sandbox)
//! secret   = name:str16 value:str32 created:u64 updated:u64 sync_flag:u8 [sync]
//! sync     = parameter:str16 version:i64 digest:[u8;32] synced_at:u64
//! str16    = len:u16 utf8-bytes            str32 = len:u32 utf8-bytes
//! ```
//! Integers are little-endian; times are Unix seconds. Scopes and secret names are strictly
//! ascending and so unique; the parser rejects anything else, and any byte left over.

use crate::scope::ScopeKey;
use crate::secret::SecretValue;
use std::collections::BTreeMap;
use zeroize::Zeroizing;

const MAGIC: &[u8; 8] = b"AMPSVLT\n";
/// The payload version this build reads and writes.
pub const FORMAT_VERSION: u16 = 1;
const DIGEST_LEN: usize = 32;

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
    pub sync: Option<SyncState>,
}

/// The whole vault, owned, for changing it.
#[derive(Debug, Clone, Default)]
pub struct Vault {
    scopes: BTreeMap<ScopeKey, BTreeMap<String, Entry>>,
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
}

impl Vault {
    pub fn get(&self, scope: &ScopeKey, name: &str) -> Option<&Entry> {
        self.scopes.get(scope)?.get(name)
    }

    /// Stores `value` under `scope`/`name` at time `now`; returns whether the name is new.
    /// Sync metadata is kept: it records what SSM holds, which a local edit does not change.
    pub fn set(&mut self, scope: &ScopeKey, name: &str, value: SecretValue, now: u64) -> bool {
        let secrets = self.scopes.entry(scope.clone()).or_default();
        match secrets.get_mut(name) {
            Some(entry) => {
                if entry.value != value {
                    entry.value = value;
                    entry.updated = now;
                }
                false
            }
            None => {
                secrets.insert(
                    name.to_owned(),
                    Entry {
                        value,
                        created: now,
                        updated: now,
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

    /// Removes a secret, and its scope once empty.
    pub fn remove(&mut self, scope: &ScopeKey, name: &str) -> Option<Entry> {
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

    /// Serialises the vault. The buffer is sized exactly up front so that no reallocation
    /// leaves an unwiped copy of the plaintext behind.
    pub fn encode(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(self.encoded_len()));
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        put_u32(&mut out, self.scopes.len());
        for (key, secrets) in &self.scopes {
            let (kind, scope_name) = scope_parts(key);
            out.push(kind);
            put_str16(&mut out, scope_name);
            put_u32(&mut out, secrets.len());
            for (name, entry) in secrets {
                put_str16(&mut out, name);
                put_u32(&mut out, entry.value.len());
                out.extend_from_slice(entry.value.expose().as_bytes());
                out.extend_from_slice(&entry.created.to_le_bytes());
                out.extend_from_slice(&entry.updated.to_le_bytes());
                match &entry.sync {
                    None => out.push(0),
                    Some(sync) => {
                        out.push(1);
                        put_str16(&mut out, &sync.parameter);
                        out.extend_from_slice(&sync.version.to_le_bytes());
                        out.extend_from_slice(&sync.digest);
                        out.extend_from_slice(&sync.synced_at.to_le_bytes());
                    }
                }
            }
        }
        debug_assert_eq!(out.len(), out.capacity());
        out
    }

    fn encoded_len(&self) -> usize {
        let mut len = MAGIC.len() + 2 + 4;
        for (key, secrets) in &self.scopes {
            len += 1 + 2 + scope_parts(key).1.len() + 4;
            for (name, entry) in secrets {
                len += 2 + name.len() + 4 + entry.value.len() + 8 + 8 + 1;
                if let Some(sync) = &entry.sync {
                    len += 2 + sync.parameter.len() + 8 + DIGEST_LEN + 8;
                }
            }
        }
        len
    }
}

fn scope_parts(key: &ScopeKey) -> (u8, &str) {
    match key {
        ScopeKey::Shared => (0, ""),
        ScopeKey::Branch(name) => (1, name),
        ScopeKey::Sandbox(id) => (2, id),
    }
}

/// Lengths are bounded by construction: names are checked before they reach the vault, and
/// values by [`SecretValue::validate`]; a longer one is a bug, not input.
fn put_str16(out: &mut Vec<u8>, s: &str) {
    let len = u16::try_from(s.len()).expect("vault names are checked to be short");
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_u32(out: &mut Vec<u8>, n: usize) {
    let n = u32::try_from(n).expect("vault counts and values fit in u32");
    out.extend_from_slice(&n.to_le_bytes());
}

/// A parsed payload that borrows from the decrypted bytes: no per-secret allocation.
#[derive(Debug)]
pub struct VaultView<'a> {
    pub scopes: Vec<ScopeView<'a>>,
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

    fn to_entry(&self) -> Entry {
        Entry {
            value: self.value(),
            created: self.created,
            updated: self.updated,
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
    /// Parses and checks a whole payload.
    pub fn parse(bytes: &'a [u8]) -> Result<VaultView<'a>, FormatError> {
        let mut r = Reader { rest: bytes };
        if r.take(MAGIC.len())? != MAGIC {
            return Err(FormatError::BadMagic);
        }
        let version = u16::from_le_bytes(r.array()?);
        if version != FORMAT_VERSION {
            // Version 0 never existed; anything else is from the future.
            return Err(if version > FORMAT_VERSION {
                FormatError::NewerVersion(version)
            } else {
                FormatError::UnknownTag
            });
        }
        let scope_count = r.u32()?;
        let mut scopes: Vec<ScopeView<'a>> = Vec::with_capacity(scope_count.min(1024));
        for _ in 0..scope_count {
            let kind = r.u8()?;
            let scope_name = r.str16()?;
            let key = match (kind, scope_name) {
                (0, "") => ScopeKey::Shared,
                (1, name) if !name.is_empty() => ScopeKey::Branch(name.to_owned()),
                (2, id) if !id.is_empty() => ScopeKey::Sandbox(id.to_owned()),
                _ => return Err(FormatError::UnknownTag),
            };
            if scopes.last().is_some_and(|prev| prev.key >= key) {
                return Err(FormatError::Unordered);
            }
            let secret_count = r.u32()?;
            // Each secret takes at least 23 bytes; a count beyond that is damage, not a
            // reason to allocate.
            let mut secrets: Vec<EntryView<'a>> =
                Vec::with_capacity(secret_count.min(r.rest.len() / 23));
            for _ in 0..secret_count {
                let name = r.str16()?;
                if secrets.last().is_some_and(|prev| prev.name >= name) {
                    return Err(FormatError::Unordered);
                }
                let value_len = r.u32()?;
                let value = std::str::from_utf8(r.take(value_len)?)
                    .map_err(|_| FormatError::InvalidUtf8)?;
                let created = r.u64()?;
                let updated = r.u64()?;
                let sync = match r.u8()? {
                    0 => None,
                    1 => Some(SyncView {
                        parameter: r.str16()?,
                        version: i64::from_le_bytes(r.array()?),
                        digest: r.array()?,
                        synced_at: r.u64()?,
                    }),
                    _ => return Err(FormatError::UnknownTag),
                };
                secrets.push(EntryView {
                    name,
                    value,
                    created,
                    updated,
                    sync,
                });
            }
            scopes.push(ScopeView { key, secrets });
        }
        if !r.rest.is_empty() {
            return Err(FormatError::TrailingBytes);
        }
        Ok(VaultView { scopes })
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
        Vault { scopes }
    }
}

struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], FormatError> {
        if self.rest.len() < n {
            return Err(FormatError::Truncated);
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], FormatError> {
        Ok(self.take(N)?.try_into().expect("take returned N bytes"))
    }

    fn u8(&mut self) -> Result<u8, FormatError> {
        Ok(self.array::<1>()?[0])
    }

    fn u32(&mut self) -> Result<usize, FormatError> {
        Ok(u32::from_le_bytes(self.array()?) as usize)
    }

    fn u64(&mut self) -> Result<u64, FormatError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    fn str16(&mut self) -> Result<&'a str, FormatError> {
        let len = u16::from_le_bytes(self.array()?) as usize;
        std::str::from_utf8(self.take(len)?).map_err(|_| FormatError::InvalidUtf8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vault {
        let mut vault = Vault::default();
        let main = ScopeKey::Branch("main".into());
        vault.set(&main, "B_KEY", SecretValue::new("two\nlines ✓".into()), 10);
        vault.set(&main, "A_KEY", SecretValue::new("one".into()), 11);
        vault.set(&ScopeKey::Shared, "S", SecretValue::new("s".into()), 12);
        vault.set(
            &ScopeKey::Sandbox("alice".into()),
            "X",
            SecretValue::new("x".into()),
            13,
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
        vault
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
        assert!(!vault.set(&main, "A_KEY", SecretValue::new("one".into()), 50));
        assert_eq!(vault.get(&main, "A_KEY").unwrap().updated, 11);
        vault.set(&main, "A_KEY", SecretValue::new("new".into()), 60);
        let entry = vault.get(&main, "A_KEY").unwrap();
        assert_eq!((entry.created, entry.updated), (11, 60));
        assert!(
            entry.sync.is_some(),
            "a local edit keeps what SSM was last seen to hold"
        );
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
        newer[8] = 2;
        assert_eq!(
            VaultView::parse(&newer).unwrap_err(),
            FormatError::NewerVersion(2)
        );
        let mut magic = bytes.clone();
        magic[0] = b'X';
        assert_eq!(VaultView::parse(&magic).unwrap_err(), FormatError::BadMagic);
    }

    #[test]
    fn unordered_names_are_rejected() {
        let mut vault = Vault::default();
        vault.set(&ScopeKey::Shared, "N1", SecretValue::new("1".into()), 1);
        vault.set(&ScopeKey::Shared, "N2", SecretValue::new("2".into()), 1);
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
