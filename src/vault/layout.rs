//! The indexed payload (format 3 and later): what lets `get` decrypt one block, not the vault.
//!
//! age encrypts in 64 KiB chunks that can be decrypted one by one, so a reader that knows
//! where a secret lies decrypts only the chunks that hold it. The head says where:
//!
//! ```text
//! payload  = head block*
//! head     = MAGIC version:u16 head_len:u32 team block_count:u32 block_ref*
//! block_ref = scope_key first:str16 count:u32 len:u32
//! block    = secret*        (count secrets of the scope, the first named `first`)
//! ```
//! Blocks follow the head in index order, each `len` bytes; `head_len` is the head's own
//! length, so block `i` starts at `head_len` plus the lengths before it, and the payload ends
//! where the last block does (the reader checks the decrypted length against it). A block
//! holds secrets of one scope, at most about [`BLOCK_TARGET`] bytes of them (one secret
//! larger than that gets a block of its own). Index entries are strictly ascending by
//! (scope, first name), names ascend across a scope's blocks, and no block is empty. The
//! team, secret and scope records are those of [`super::format`].

use super::format::{
    self, Entry, EntryView, FormatError, MAGIC, Reader, ScopeView, Team, Vault, VaultView,
};
use crate::scope::ScopeKey;
use std::ops::Range;
use zeroize::Zeroizing;

/// Plaintext bytes of secrets a block aims at: with 64 KiB chunks, a block spans at most two
/// chunks, and 100,000 secrets need an index of a few hundred entries.
pub const BLOCK_TARGET: usize = 32 * 1024;

/// Bytes before the head's length field: magic and version.
const PREFIX_LEN: usize = MAGIC.len() + 2;

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
    pub team: Team,
    pub blocks: Vec<BlockRef>,
    /// The head's own length: where the first block starts.
    pub len: u64,
    /// Where each block starts, then where the payload ends.
    starts: Vec<u64>,
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
        let mut r = Reader { rest: prefix };
        if VaultView::version(&mut r)? < 3 {
            return Ok(None);
        }
        Ok(Some(u64::from(u32::from_le_bytes(r.array()?))))
    }

    /// Parses a head: `bytes` starts with it (what follows is ignored).
    pub fn parse(bytes: &[u8]) -> Result<Head, FormatError> {
        let head_len = Self::len_of(bytes)?.ok_or(FormatError::UnknownTag)?;
        let head_len_usize = usize::try_from(head_len).map_err(|_| FormatError::Truncated)?;
        let mut r = Reader {
            rest: bytes.get(..head_len_usize).ok_or(FormatError::Truncated)?,
        };
        r.take(PREFIX_LEN + 4)?;
        let team = Team::parse(&mut r)?;
        let count = r.u32()?;
        // Each entry takes at least 13 bytes: a larger count is damage, not a reason to
        // allocate.
        let mut blocks: Vec<BlockRef> = Vec::with_capacity(count.min(r.rest.len() / 13));
        let mut starts = Vec::with_capacity(blocks.capacity() + 1);
        let mut at = head_len;
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
            if blocks
                .last()
                .is_some_and(|prev: &BlockRef| (&prev.scope, &prev.first) >= (&block.scope, &block.first))
            {
                return Err(FormatError::Unordered);
            }
            starts.push(at);
            at += u64::from(block.len);
            blocks.push(block);
        }
        starts.push(at);
        if !r.rest.is_empty() {
            return Err(FormatError::TrailingBytes);
        }
        Ok(Head {
            team,
            blocks,
            len: head_len,
            starts,
        })
    }

    /// The payload's length, as the head says.
    pub fn payload_len(&self) -> u64 {
        *self.starts.last().expect("one start past the last block")
    }

    /// Where block `i` starts (for `i` = the block count: where the payload ends).
    pub fn block_start(&self, i: usize) -> u64 {
        self.starts[i]
    }

    /// Plaintext offsets of block `i`.
    pub fn block_range(&self, i: usize) -> Range<u64> {
        self.starts[i]..self.starts[i + 1]
    }

    /// The block that holds (or would hold) `name` of `scope`.
    pub fn slot(&self, scope: &ScopeKey, name: &str) -> Slot {
        // The first block that starts after the name.
        let after = self
            .blocks
            .partition_point(|b| (&b.scope, b.first.as_str()) <= (scope, name));
        if after > 0 && self.blocks[after - 1].scope == *scope {
            Slot::Block(after - 1)
        } else if self.blocks.get(after).is_some_and(|b| b.scope == *scope) {
            // Before the scope's first name: that block takes it.
            Slot::Block(after)
        } else {
            Slot::Before(after)
        }
    }

    /// The blocks of `scope`.
    pub fn scope_blocks(&self, scope: &ScopeKey) -> Range<usize> {
        let start = self.blocks.partition_point(|b| b.scope < *scope);
        let end = start + self.blocks[start..].partition_point(|b| b.scope == *scope);
        start..end
    }
}

/// Bytes of a head with `team` and `blocks`.
fn head_len(team: &Team, blocks: &[BlockRef]) -> usize {
    PREFIX_LEN + 4 + team.encoded_len() + 4 + blocks.iter().map(BlockRef::encoded_len).sum::<usize>()
}

/// Writes a head with `team` and `blocks` (its exact length is [`head_len`]).
fn put_head(out: &mut Vec<u8>, team: &Team, blocks: &[BlockRef]) {
    let len = u32::try_from(head_len(team, blocks)).expect("a head fits in u32");
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&format::FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    team.encode(out);
    format::put_u32(out, blocks.len());
    for block in blocks {
        format::put_scope(out, &block.scope);
        format::put_str16(out, &block.first);
        out.extend_from_slice(&block.count.to_le_bytes());
        out.extend_from_slice(&block.len.to_le_bytes());
    }
}

/// A head with `team` and `blocks`, encoded (wiped on drop: the team section holds the
/// membership tokens and the values of unresolved merge conflicts).
pub fn encode_head(team: &Team, blocks: &[BlockRef]) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(head_len(team, blocks)));
    put_head(&mut out, team, blocks);
    debug_assert_eq!(out.len(), out.capacity());
    out
}

/// Splits the secrets of `scope` into blocks (their index entries).
fn plan_blocks<'e>(
    scope: &ScopeKey,
    secrets: impl IntoIterator<Item = (&'e String, &'e Entry)>,
) -> Vec<BlockRef> {
    let mut blocks: Vec<BlockRef> = Vec::new();
    for (name, entry) in secrets {
        let len = u32::try_from(format::entry_len(name, entry)).expect("a secret fits in u32");
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

/// Encodes the secrets of `scope` as blocks: their index entries and their bytes.
pub fn encode_blocks<'e>(
    scope: &ScopeKey,
    secrets: impl IntoIterator<Item = (&'e String, &'e Entry)> + Clone,
) -> (Vec<BlockRef>, Zeroizing<Vec<u8>>) {
    let blocks = plan_blocks(scope, secrets.clone());
    let len = blocks.iter().map(|b| b.len as usize).sum();
    let mut out = Zeroizing::new(Vec::with_capacity(len));
    for (name, entry) in secrets {
        format::put_entry(&mut out, name, entry);
    }
    debug_assert_eq!(out.len(), out.capacity());
    (blocks, out)
}

/// Serialises `vault`. The buffer is sized exactly up front so that no reallocation leaves an
/// unwiped copy of the plaintext behind.
pub fn encode(vault: &Vault) -> Zeroizing<Vec<u8>> {
    let blocks: Vec<BlockRef> = vault
        .scopes
        .iter()
        .flat_map(|(scope, secrets)| plan_blocks(scope, secrets))
        .collect();
    let body: usize = blocks.iter().map(|b| b.len as usize).sum();
    let mut out = Zeroizing::new(Vec::with_capacity(head_len(&vault.team, &blocks) + body));
    put_head(&mut out, &vault.team, &blocks);
    for (name, entry) in vault.scopes.values().flatten() {
        format::put_entry(&mut out, name, entry);
    }
    debug_assert_eq!(out.len(), out.capacity());
    out
}

/// The secrets of one block, checked against its index entry.
pub fn parse_block<'a>(block: &BlockRef, bytes: &'a [u8]) -> Result<Vec<EntryView<'a>>, FormatError> {
    if bytes.len() != block.len as usize {
        return Err(FormatError::Truncated);
    }
    let mut r = Reader { rest: bytes };
    let secrets = r.entries(block.count as usize)?;
    if !r.rest.is_empty() {
        return Err(FormatError::TrailingBytes);
    }
    if secrets[0].name != block.first {
        return Err(FormatError::Unordered);
    }
    Ok(secrets)
}

/// A view of some blocks of a payload (of `head`'s), given as (block index, bytes) in index
/// order: what is not in them is not in the view.
pub fn view<'a>(
    head: &Head,
    blocks: impl IntoIterator<Item = (usize, &'a [u8])>,
) -> Result<VaultView<'a>, FormatError> {
    let mut scopes: Vec<ScopeView<'a>> = Vec::new();
    for (i, bytes) in blocks {
        let block = &head.blocks[i];
        let secrets = parse_block(block, bytes)?;
        match scopes.last_mut() {
            Some(scope) if scope.key == block.scope => {
                // Blocks of a scope continue each other's names.
                if scope.secrets.last().is_some_and(|last| last.name >= secrets[0].name) {
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
    Ok(VaultView {
        team: head.team.clone(),
        scopes,
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
    view(
        &head,
        (0..head.blocks.len()).map(|i| {
            let range = head.block_range(i);
            (i, &bytes[range.start as usize..range.end as usize])
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::SecretValue;

    /// 3,000 secrets of about 120 bytes over three scopes: several blocks each.
    fn big() -> Vault {
        let mut vault = Vault::default();
        for i in 0..3000 {
            let scope = match i % 3 {
                0 => ScopeKey::Shared,
                1 => ScopeKey::Branch("main".into()),
                _ => ScopeKey::Sandbox("alice".into()),
            };
            let value = SecretValue::new(format!("{i:0>100}"));
            vault.set(&scope, &format!("N{i:05}"), value, 1);
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
        assert_eq!(whole.scopes.iter().map(|s| s.secrets.len()).sum::<usize>(), 3000);

        let main = ScopeKey::Branch("main".into());
        let Slot::Block(i) = head.slot(&main, "N02998") else {
            panic!("not found")
        };
        let range = head.block_range(i);
        let one = view(&head, [(i, &bytes[range.start as usize..range.end as usize])]).unwrap();
        assert_eq!(
            one.get(&main, "N02998").unwrap().value().expose(),
            format!("{:0>100}", 2998)
        );
        assert!(one.get(&main, "N00001").is_none(), "only one block is in the view");
        // A name before the scope's first goes to its first block; a new scope, between.
        assert_eq!(head.slot(&main, "A"), Slot::Block(head.scope_blocks(&main).start));
        let between = head.slot(&ScopeKey::Branch("zzz".into()), "A");
        assert_eq!(between, Slot::Before(head.scope_blocks(&main).end));
    }

    #[test]
    fn a_cut_an_extension_or_a_wrong_block_is_rejected() {
        let bytes = big().encode();
        let head = Head::parse(&bytes).unwrap();
        for cut in [1, 13, head.len as usize - 1, head.len as usize + 1, bytes.len() - 1] {
            assert!(parse(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = bytes.to_vec();
        longer.push(0);
        assert_eq!(parse(&longer).unwrap_err(), FormatError::TrailingBytes);
        // The bytes of another block, given as block 0.
        let other = head.block_range(1);
        assert!(view(&head, [(0, &bytes[other.start as usize..other.end as usize])]).is_err());
    }

    #[test]
    fn an_index_out_of_order_is_rejected() {
        let mut vault = Vault::default();
        vault.set(&ScopeKey::Shared, "A", SecretValue::new("1".repeat(BLOCK_TARGET)), 1);
        vault.set(&ScopeKey::Shared, "B", SecretValue::new("2".repeat(BLOCK_TARGET)), 1);
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
