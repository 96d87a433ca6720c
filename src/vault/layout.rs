//! The indexed payload (format 4 and later): what lets `get` decrypt one block, not the vault.
//!
//! age encrypts in 64 KiB chunks that can be decrypted one by one, so a reader that knows
//! where a secret lies decrypts only the chunks that hold it. The head says where:
//!
//! ```text
//! payload   = head secret_block* history_block*
//! head      = MAGIC version:u16 head_len:u32 [bound:[u8;32]] team
//!             block_count:u32 block_ref* history_block_count:u32 block_ref*
//!             (bound: format 5 on, see [`Bound`])
//! block_ref = scope_key first:str16 count:u32 len:u32
//! secret_block  = secret*   (count secrets of the scope, the first named `first`)
//! history_block = past*     (the earlier values of count secrets of the scope)
//! ```
//! Blocks follow the head in index order, each `len` bytes; `head_len` is the head's own
//! length, so a block starts at `head_len` plus the lengths before it, and the payload ends
//! where the last block does (the reader checks the decrypted length against it). A block
//! holds records of one scope, at most about [`BLOCK_TARGET`] bytes of them (one record
//! larger than that gets a block of its own). Each index is strictly ascending by (scope,
//! first name), names ascend across a scope's blocks, and no block is empty. History comes
//! last, so reading secrets never touches it. The team, secret, history and scope records
//! are those of [`super::format`]. From format 5 a file holds one scope (see
//! [`super::split`]); `vault.age` then holds no block.

use super::format::{
    self, Entry, EntryView, FormatError, HistoryView, MAGIC, PastValue, Reader, ScopeView, Team,
    Vault, VaultView,
};
use crate::scope::ScopeKey;
use std::ops::Range;
use zeroize::Zeroizing;

/// Plaintext bytes of secrets a block aims at: with 64 KiB chunks, a block spans at most two
/// chunks, and 100,000 secrets need an index of a few hundred entries.
pub const BLOCK_TARGET: usize = 32 * 1024;

/// Bytes before the head's length field: magic and version.
const PREFIX_LEN: usize = MAGIC.len() + 2;
/// The bytes [`Head::len_of`] reads: magic, version and (from format 4) the head's length.
pub const HEAD_PREFIX_LEN: u64 = PREFIX_LEN as u64 + 4;

/// What a file of format 5 on records of the `vault.age` it was written with: the SHA-256
/// of that file's bytes, so that a reader finding it unchanged can trust the scope's file
/// without decrypting `vault.age`. [`UNBOUND`] when there is none (in `vault.age` itself, in
/// git's merge results).
pub type Bound = [u8; 32];
pub const UNBOUND: Bound = [0; 32];

/// Where one block lies and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockRef {
    pub scope: ScopeKey,
    /// The name of its first secret.
    pub first: String,
    pub count: u32,
    pub len: u32,
}

impl BlockRef {
    fn encoded_len(&self) -> usize {
        format::scope_len(&self.scope) + 2 + self.first.len() + 4 + 4
    }
}

/// The head of an indexed payload: the team section and the index.
#[derive(Debug, Clone)]
pub struct Head {
    /// The payload's format version.
    pub version: u16,
    /// The `vault.age` this file was written with (format 5 on).
    pub bound: Bound,
    pub team: Team,
    /// The secrets' blocks.
    pub blocks: Vec<BlockRef>,
    /// The history's blocks, after the secrets'.
    pub history: Vec<BlockRef>,
    /// The head's own length: where the first block starts.
    pub len: u64,
    /// Where each block starts (the secrets', then the history's), then where the payload
    /// ends.
    starts: Vec<u64>,
}

/// Which of a head's two indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Secrets,
    History,
}

/// Where a secret is, or would go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// In block `i` (or it would be: block `i` covers the name).
    Block(usize),
    /// In no block: its scope has none, and a new block would go at index `i`.
    Before(usize),
}

impl Head {
    /// The head's length, from the first bytes of a format 3 payload; `None` for an earlier
    /// format (which has no index: the whole payload is read).
    pub fn len_of(prefix: &[u8]) -> Result<Option<u64>, FormatError> {
        Ok(Self::version_and_len(prefix)?.map(|(_, len)| len))
    }

    fn version_and_len(prefix: &[u8]) -> Result<Option<(u16, u64)>, FormatError> {
        let mut r = Reader { rest: prefix };
        let version = VaultView::version(&mut r)?;
        if version < format::INDEXED {
            return Ok(None);
        }
        Ok(Some((version, u64::from(u32::from_le_bytes(r.array()?)))))
    }

    /// Whether this is the head of a vault of format 5 on (secrets in scope files).
    pub fn is_split(&self) -> bool {
        self.version >= format::SPLIT
    }

    /// Whether the file holds no secret, history or bookkeeping (what `vault.age` of format 5
    /// must be, and the file of a scope emptied is).
    pub fn holds_nothing(&self) -> bool {
        self.blocks.is_empty() && self.history.is_empty() && self.team.keeps_no_books()
    }

    /// The head of a file that holds nothing yet (what a scope without a file has).
    pub fn empty() -> Head {
        Head::parse(&encode_head(&Team::default(), &[], &[])).expect("an empty head parses")
    }

    /// A head that only indexes blocks gathered from several files (for [`view`]): it says
    /// where nothing lies.
    pub fn gathered(team: Team, blocks: Vec<BlockRef>, history: Vec<BlockRef>) -> Head {
        Head {
            version: format::FORMAT_VERSION,
            bound: UNBOUND,
            team,
            blocks,
            history,
            len: 0,
            starts: Vec::new(),
        }
    }

    /// Parses a head: `bytes` starts with it (what follows is ignored).
    pub fn parse(bytes: &[u8]) -> Result<Head, FormatError> {
        let (version, head_len) = Self::version_and_len(bytes)?.ok_or(FormatError::UnknownTag)?;
        let head_len_usize = usize::try_from(head_len).map_err(|_| FormatError::Truncated)?;
        let mut r = Reader {
            rest: bytes.get(..head_len_usize).ok_or(FormatError::Truncated)?,
        };
        r.take(HEAD_PREFIX_LEN as usize)?;
        let bound = if version >= format::SPLIT {
            r.array()?
        } else {
            UNBOUND
        };
        let team = Team::parse(&mut r)?;
        let mut starts = Vec::new();
        let mut at = head_len;
        let blocks = Self::parse_index(&mut r, &mut starts, &mut at)?;
        let history = Self::parse_index(&mut r, &mut starts, &mut at)?;
        starts.push(at);
        if !r.rest.is_empty() {
            return Err(FormatError::TrailingBytes);
        }
        Ok(Head {
            version,
            bound,
            team,
            blocks,
            history,
            len: head_len,
            starts,
        })
    }

    /// One index, pushing where each block starts (from `at` on) to `starts`.
    fn parse_index(
        r: &mut Reader<'_>,
        starts: &mut Vec<u64>,
        at: &mut u64,
    ) -> Result<Vec<BlockRef>, FormatError> {
        let count = r.u32()?;
        // Each entry takes at least 13 bytes: a larger count is damage, not a reason to
        // allocate.
        let mut blocks: Vec<BlockRef> = Vec::with_capacity(count.min(r.rest.len() / 13));
        for _ in 0..count {
            let block = BlockRef {
                scope: r.scope()?,
                first: r.str16()?.to_owned(),
                count: u32::from_le_bytes(r.array()?),
                len: u32::from_le_bytes(r.array()?),
            };
            if block.count == 0 || block.len == 0 {
                return Err(FormatError::UnknownTag);
            }
            if blocks.last().is_some_and(|prev: &BlockRef| {
                (&prev.scope, &prev.first) >= (&block.scope, &block.first)
            }) {
                return Err(FormatError::Unordered);
            }
            starts.push(*at);
            *at += u64::from(block.len);
            blocks.push(block);
        }
        Ok(blocks)
    }

    fn index(&self, section: Section) -> &[BlockRef] {
        match section {
            Section::Secrets => &self.blocks,
            Section::History => &self.history,
        }
    }

    /// Position of a section's block `i` among all blocks.
    fn position(&self, section: Section, i: usize) -> usize {
        match section {
            Section::Secrets => i,
            Section::History => self.blocks.len() + i,
        }
    }

    /// The payload's length, as the head says.
    pub fn payload_len(&self) -> u64 {
        *self.starts.last().expect("one start past the last block")
    }

    /// Where a section's block `i` starts (for `i` = its block count: where the next
    /// section, or the payload, starts).
    pub fn block_start(&self, section: Section, i: usize) -> u64 {
        self.starts[self.position(section, i)]
    }

    /// Plaintext offsets of a section's block `i`.
    pub fn block_range(&self, section: Section, i: usize) -> Range<u64> {
        self.block_start(section, i)..self.block_start(section, i + 1)
    }

    /// The block of a section that holds (or would hold) `name` of `scope`.
    pub fn slot(&self, section: Section, scope: &ScopeKey, name: &str) -> Slot {
        let blocks = self.index(section);
        // The first block that starts after the name.
        let after = blocks.partition_point(|b| (&b.scope, b.first.as_str()) <= (scope, name));
        if after > 0 && blocks[after - 1].scope == *scope {
            Slot::Block(after - 1)
        } else if blocks.get(after).is_some_and(|b| b.scope == *scope) {
            // Before the scope's first name: that block takes it.
            Slot::Block(after)
        } else {
            Slot::Before(after)
        }
    }

    /// The secrets' blocks of `scope`.
    pub fn scope_blocks(&self, scope: &ScopeKey) -> Range<usize> {
        let start = self.blocks.partition_point(|b| b.scope < *scope);
        let end = start + self.blocks[start..].partition_point(|b| b.scope == *scope);
        start..end
    }
}

/// Bytes of a head of format `version` with `team` and the indexes `blocks` and `history`.
fn head_len(version: u16, team: &Team, blocks: &[BlockRef], history: &[BlockRef]) -> usize {
    let index = |refs: &[BlockRef]| 4 + refs.iter().map(BlockRef::encoded_len).sum::<usize>();
    let bound = if version >= format::SPLIT { 32 } else { 0 };
    PREFIX_LEN + 4 + bound + team.encoded_len() + index(blocks) + index(history)
}

/// Writes a head of format `version` (its exact length is [`head_len`]).
fn put_head(
    out: &mut Vec<u8>,
    version: u16,
    bound: &Bound,
    team: &Team,
    blocks: &[BlockRef],
    history: &[BlockRef],
) {
    let len = u32::try_from(head_len(version, team, blocks, history)).expect("a head fits in u32");
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    if version >= format::SPLIT {
        out.extend_from_slice(bound);
    }
    team.encode(out);
    for index in [blocks, history] {
        format::put_u32(out, index.len());
        for block in index {
            format::put_scope(out, &block.scope);
            format::put_str16(out, &block.first);
            out.extend_from_slice(&block.count.to_le_bytes());
            out.extend_from_slice(&block.len.to_le_bytes());
        }
    }
}

/// A head of the current format, bound to nothing: what `vault.age` holds (and what
/// comparisons of teams encode).
pub fn encode_head(team: &Team, blocks: &[BlockRef], history: &[BlockRef]) -> Zeroizing<Vec<u8>> {
    encode_bound_head(&UNBOUND, team, blocks, history)
}

/// A head of the current format bound to `bound`, encoded (wiped on drop: the team section
/// holds the membership tokens and the values of unresolved merge conflicts).
pub fn encode_bound_head(
    bound: &Bound,
    team: &Team,
    blocks: &[BlockRef],
    history: &[BlockRef],
) -> Zeroizing<Vec<u8>> {
    let version = format::FORMAT_VERSION;
    let mut out = Zeroizing::new(Vec::with_capacity(head_len(version, team, blocks, history)));
    put_head(&mut out, version, bound, team, blocks, history);
    debug_assert_eq!(out.len(), out.capacity());
    out
}

/// A kind of record a block holds.
pub trait Record {
    fn len(name: &str, record: &Self) -> usize;
    fn put(out: &mut Vec<u8>, name: &str, record: &Self);
}

impl Record for Entry {
    fn len(name: &str, entry: &Entry) -> usize {
        format::entry_len(name, entry)
    }
    fn put(out: &mut Vec<u8>, name: &str, entry: &Entry) {
        format::put_entry(out, name, entry)
    }
}

impl Record for Vec<PastValue> {
    fn len(name: &str, past: &Vec<PastValue>) -> usize {
        format::past_len(name, past)
    }
    fn put(out: &mut Vec<u8>, name: &str, past: &Vec<PastValue>) {
        format::put_past(out, name, past)
    }
}

/// Splits the records of `scope` into blocks (their index entries).
fn plan_blocks<'e, R: Record + 'e>(
    scope: &ScopeKey,
    records: impl IntoIterator<Item = (&'e String, &'e R)>,
) -> Vec<BlockRef> {
    let mut blocks: Vec<BlockRef> = Vec::new();
    for (name, record) in records {
        let len = u32::try_from(R::len(name, record)).expect("a record fits in u32");
        match blocks.last_mut() {
            Some(block) if (block.len + len) as usize <= BLOCK_TARGET => {
                block.count += 1;
                block.len += len;
            }
            _ => blocks.push(BlockRef {
                scope: scope.clone(),
                first: name.clone(),
                count: 1,
                len,
            }),
        }
    }
    blocks
}

/// Encodes the records of `scope` as blocks: their index entries and their bytes.
pub fn encode_blocks<'e, R: Record + 'e>(
    scope: &ScopeKey,
    records: impl IntoIterator<Item = (&'e String, &'e R)> + Clone,
) -> (Vec<BlockRef>, Zeroizing<Vec<u8>>) {
    let blocks = plan_blocks(scope, records.clone());
    let len = blocks.iter().map(|b| b.len as usize).sum();
    let mut out = Zeroizing::new(Vec::with_capacity(len));
    for (name, record) in records {
        R::put(&mut out, name, record);
    }
    debug_assert_eq!(out.len(), out.capacity());
    (blocks, out)
}

/// Serialises `vault` as format `version` (4 or later; from 5, bound to `bound`). The buffer
/// is sized exactly up front so that no reallocation leaves an unwiped copy of the plaintext
/// behind.
pub fn encode(vault: &Vault, version: u16, bound: &Bound) -> Zeroizing<Vec<u8>> {
    let blocks: Vec<BlockRef> = vault
        .scopes
        .iter()
        .flat_map(|(scope, secrets)| plan_blocks(scope, secrets))
        .collect();
    let history: Vec<BlockRef> = vault
        .history
        .iter()
        .flat_map(|(scope, names)| plan_blocks(scope, names))
        .collect();
    let body: usize = blocks.iter().chain(&history).map(|b| b.len as usize).sum();
    let mut out = Zeroizing::new(Vec::with_capacity(
        head_len(version, &vault.team, &blocks, &history) + body,
    ));
    put_head(&mut out, version, bound, &vault.team, &blocks, &history);
    for (name, entry) in vault.scopes.values().flatten() {
        format::put_entry(&mut out, name, entry);
    }
    for (name, past) in vault.history.values().flatten() {
        format::put_past(&mut out, name, past);
    }
    debug_assert_eq!(out.len(), out.capacity());
    out
}

/// The secrets of one block, checked against its index entry.
pub fn parse_block<'a>(
    block: &BlockRef,
    bytes: &'a [u8],
) -> Result<Vec<EntryView<'a>>, FormatError> {
    let mut r = block_reader(block, bytes)?;
    let secrets = r.entries(block.count as usize, format::INDEXED)?;
    if !r.rest.is_empty() {
        return Err(FormatError::TrailingBytes);
    }
    if secrets[0].name != block.first {
        return Err(FormatError::Unordered);
    }
    Ok(secrets)
}

/// The history items of one block, checked against its index entry.
pub(super) fn parse_history_block<'a>(
    block: &BlockRef,
    bytes: &'a [u8],
) -> Result<Vec<HistoryView<'a>>, FormatError> {
    let mut r = block_reader(block, bytes)?;
    let mut items: Vec<HistoryView<'a>> = Vec::with_capacity(block.count.min(4096) as usize);
    for _ in 0..block.count {
        let item = r.past(block.scope.clone())?;
        if items.last().is_some_and(|prev| prev.name >= item.name) {
            return Err(FormatError::Unordered);
        }
        items.push(item);
    }
    if !r.rest.is_empty() {
        return Err(FormatError::TrailingBytes);
    }
    if items[0].name != block.first {
        return Err(FormatError::Unordered);
    }
    Ok(items)
}

fn block_reader<'a>(block: &BlockRef, bytes: &'a [u8]) -> Result<Reader<'a>, FormatError> {
    if bytes.len() != block.len as usize {
        return Err(FormatError::Truncated);
    }
    Ok(Reader { rest: bytes })
}

/// A view of some blocks of a payload (of `head`'s), given as (block index, bytes) in index
/// order, secrets' and history's: what is not in them is not in the view.
pub fn view<'a>(
    head: &Head,
    blocks: impl IntoIterator<Item = (usize, &'a [u8])>,
    history: impl IntoIterator<Item = (usize, &'a [u8])>,
) -> Result<VaultView<'a>, FormatError> {
    let mut scopes: Vec<ScopeView<'a>> = Vec::new();
    for (i, bytes) in blocks {
        let block = &head.blocks[i];
        let secrets = parse_block(block, bytes)?;
        match scopes.last_mut() {
            Some(scope) if scope.key == block.scope => {
                // Blocks of a scope continue each other's names.
                if scope
                    .secrets
                    .last()
                    .is_some_and(|last| last.name >= secrets[0].name)
                {
                    return Err(FormatError::Unordered);
                }
                scope.secrets.extend(secrets);
            }
            _ => scopes.push(ScopeView {
                key: block.scope.clone(),
                secrets,
            }),
        }
    }
    let mut items: Vec<HistoryView<'a>> = Vec::new();
    for (i, bytes) in history {
        let block = parse_history_block(&head.history[i], bytes)?;
        if items
            .last()
            .is_some_and(|last| (&last.scope, last.name) >= (&block[0].scope, block[0].name))
        {
            return Err(FormatError::Unordered);
        }
        items.extend(block);
    }
    Ok(VaultView {
        team: head.team.clone(),
        scopes,
        history: items,
    })
}

/// Parses and checks a whole indexed payload.
pub fn parse(bytes: &[u8]) -> Result<VaultView<'_>, FormatError> {
    let head = Head::parse(bytes)?;
    match (bytes.len() as u64).cmp(&head.payload_len()) {
        std::cmp::Ordering::Less => return Err(FormatError::Truncated),
        std::cmp::Ordering::Greater => return Err(FormatError::TrailingBytes),
        std::cmp::Ordering::Equal => {}
    }
    let slice = |section, i| {
        let range = head.block_range(section, i);
        (i, &bytes[range.start as usize..range.end as usize])
    };
    view(
        &head,
        (0..head.blocks.len()).map(|i| slice(Section::Secrets, i)),
        (0..head.history.len()).map(|i| slice(Section::History, i)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::SecretValue;

    fn stamp() -> format::Stamp {
        format::Stamp::new(1, "alice")
    }

    /// 3,000 secrets of about 120 bytes over three scopes: several blocks each; every
    /// seventh changed once, so it has history.
    fn big() -> Vault {
        let mut vault = Vault::default();
        for i in 0..3000 {
            let scope = match i % 3 {
                0 => ScopeKey::Shared,
                1 => ScopeKey::Branch("main".into()),
                _ => ScopeKey::Sandbox("alice".into()),
            };
            let value = SecretValue::new(format!("{i:0>100}"));
            vault.set(&scope, &format!("N{i:05}"), value, &stamp());
            if i % 7 == 0 {
                let newer = SecretValue::new(format!("{i:1>100}"));
                vault.set(&scope, &format!("N{i:05}"), newer, &stamp());
            }
        }
        vault
    }

    #[test]
    fn blocks_round_trip_and_one_block_finds_its_secret() {
        let vault = big();
        let bytes = vault.encode();
        let head = Head::parse(&bytes).unwrap();
        assert!(head.blocks.len() > 6, "{} blocks", head.blocks.len());
        assert!(head.blocks.iter().all(|b| b.len as usize <= BLOCK_TARGET));
        assert_eq!(head.payload_len(), bytes.len() as u64);
        let whole = parse(&bytes).unwrap();
        assert_eq!(*whole.to_vault().encode(), *bytes);
        assert_eq!(
            whole.scopes.iter().map(|s| s.secrets.len()).sum::<usize>(),
            3000
        );

        let main = ScopeKey::Branch("main".into());
        let Slot::Block(i) = head.slot(Section::Secrets, &main, "N02998") else {
            panic!("not found")
        };
        let range = head.block_range(Section::Secrets, i);
        let one = view(
            &head,
            [(i, &bytes[range.start as usize..range.end as usize])],
            [],
        )
        .unwrap();
        assert_eq!(
            one.get(&main, "N02998").unwrap().value().expose(),
            format!("{:0>100}", 2998)
        );
        assert!(
            one.get(&main, "N00001").is_none(),
            "only one block is in the view"
        );
        // N02989 (a multiple of 7, in main) was changed once: its history block has it.
        let changed = "N02989";
        let Slot::Block(h) = head.slot(Section::History, &main, changed) else {
            panic!("no history block")
        };
        let range = head.block_range(Section::History, h);
        let past = view(
            &head,
            [],
            [(h, &bytes[range.start as usize..range.end as usize])],
        )
        .unwrap()
        .history_of(&main, changed);
        assert_eq!(past.len(), 1);
        assert_eq!(past[0].value.expose(), format!("{:0>100}", 2989));
        // A name before the scope's first goes to its first block; a new scope, between.
        assert_eq!(
            head.slot(Section::Secrets, &main, "A"),
            Slot::Block(head.scope_blocks(&main).start)
        );
        let between = head.slot(Section::Secrets, &ScopeKey::Branch("zzz".into()), "A");
        assert_eq!(between, Slot::Before(head.scope_blocks(&main).end));
    }

    #[test]
    fn a_cut_an_extension_or_a_wrong_block_is_rejected() {
        let bytes = big().encode();
        let head = Head::parse(&bytes).unwrap();
        for cut in [
            1,
            13,
            head.len as usize - 1,
            head.len as usize + 1,
            bytes.len() - 1,
        ] {
            assert!(parse(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = bytes.to_vec();
        longer.push(0);
        assert_eq!(parse(&longer).unwrap_err(), FormatError::TrailingBytes);
        // The bytes of another block, given as block 0.
        let other = head.block_range(Section::Secrets, 1);
        assert!(
            view(
                &head,
                [(0, &bytes[other.start as usize..other.end as usize])],
                []
            )
            .is_err()
        );
    }

    #[test]
    fn an_index_out_of_order_is_rejected() {
        let mut vault = Vault::default();
        vault.set(
            &ScopeKey::Shared,
            "A",
            SecretValue::new("1".repeat(BLOCK_TARGET)),
            &stamp(),
        );
        vault.set(
            &ScopeKey::Shared,
            "B",
            SecretValue::new("2".repeat(BLOCK_TARGET)),
            &stamp(),
        );
        let mut bytes = vault.encode().to_vec();
        let head = Head::parse(&bytes).unwrap();
        assert_eq!(head.blocks.len(), 2);
        // Rename the second block's first secret "A" in the index (it stays "B" inside).
        let at = bytes[..head.len as usize]
            .windows(3)
            .rposition(|w| w == [1, 0, b'B'])
            .unwrap();
        bytes[at + 2] = b'A';
        assert_eq!(parse(&bytes).unwrap_err(), FormatError::Unordered);
    }
}
