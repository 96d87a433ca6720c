//! Authorship: was this `vault.age` written by a member?
//!
//! age gives confidentiality, not authorship: anyone holding the (committed) public keys can
//! encrypt a payload of their choosing to the members. So every payload carries a random
//! membership token that only its readers know, re-drawn whenever a member is removed (the
//! earlier ones are kept after it). This machine remembers a fingerprint of the token of the
//! last vault it opened; a payload that carries neither that token nor, in its history, the
//! one remembered was not written by a member and is refused. A refused payload changes
//! nothing here, so the real vault opens as before once restored.
//!
//! A first-time cloner has nothing to compare with and trusts what it first opens; it can
//! compare [`fingerprint`] with a teammate's (`ampsecret recipients list` shows it).

use super::format::{Team, Token};
use super::store;
use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// A token's fingerprint: safe to store and show (it reveals nothing of the token).
pub fn fingerprint(token: &Token) -> String {
    let mut hash = Sha256::new();
    hash.update(b"ampsecret membership token v1\0");
    hash.update(&token[..]);
    hex::encode(&hash.finalize()[..16])
}

/// Checks `team` (of the vault at `vault_path`) against what this machine remembers of vault
/// `vault_id`, and once it passes remembers its current token, and `digest` (the SHA-256 of
/// the `vault.age` it was read from, when known).
pub fn check(
    vault_id: &str,
    team: &Team,
    vault_path: &Path,
    digest: Option<&[u8; 32]>,
) -> Result<()> {
    let Some(record) = record_path(vault_id) else {
        return Ok(());
    };
    let remembered = remembered(&record)?;
    verify_against(remembered.as_ref(), team, vault_path)?;
    if let Some(current) = team.tokens.first().map(fingerprint) {
        let now = Remembered {
            token: current,
            digest: digest.map(hex::encode),
        };
        if remembered.as_ref() != Some(&now)
            && let Err(e) = remember(&record, &now)
        {
            tracing::debug!("cannot record the vault's membership token: {e}");
        }
    }
    Ok(())
}

/// Checks `team` (of a file of vault `vault_id` at `path`) against what this machine
/// remembers, remembering nothing: a version git merges.
pub fn verify(vault_id: &str, team: &Team, path: &Path) -> Result<()> {
    match record_path(vault_id) {
        Some(record) => verify_against(remembered(&record)?.as_ref(), team, path),
        None => Ok(()),
    }
}

/// Whether this machine last checked the `vault.age` whose SHA-256 is `digest`, and `team`'s
/// current token is the one it carried: what lets a scope's file written with that vault.age
/// be read without decrypting it. (The digest of the committed ciphertext is public: the
/// record proves this machine opened and trusted that very file.)
pub fn vouches(vault_id: &str, team: &Team, digest: &[u8; 32]) -> bool {
    let Some(remembered) = record_path(vault_id).and_then(|r| remembered(&r).ok().flatten()) else {
        return false;
    };
    remembered.digest.as_deref() == Some(hex::encode(digest).as_str())
        && team
            .tokens
            .first()
            .is_some_and(|t| fingerprint(t) == remembered.token)
}

/// What this machine remembers of a vault: its token's fingerprint, and the digest of the
/// `vault.age` it was last read from (a record of an earlier release has none).
#[derive(Debug, PartialEq, Eq)]
struct Remembered {
    token: String,
    digest: Option<String>,
}

fn remembered(record: &Path) -> Result<Option<Remembered>> {
    let text = store::read_optional(record)?.and_then(|bytes| String::from_utf8(bytes).ok());
    Ok(text.and_then(|text| {
        let mut words = text.split_whitespace();
        Some(Remembered {
            token: words.next()?.to_owned(),
            digest: words.next().map(str::to_owned),
        })
    }))
}

fn verify_against(remembered: Option<&Remembered>, team: &Team, path: &Path) -> Result<()> {
    match remembered {
        Some(remembered)
            if !team
                .tokens
                .iter()
                .any(|t| fingerprint(t) == remembered.token) =>
        {
            Err(Error::Key(format!(
                "{} was not written by a member of this vault (it lacks the membership token this machine last saw), so it is refused: restore it from a trusted commit (git log -- {}) and ask who changed it",
                path.display(),
                path.display()
            )))
        }
        _ => Ok(()),
    }
}

/// Whether two versions of a vault share a membership token: a branch being merged was
/// written by someone who knew a token this side knows.
pub fn shares_token(a: &Team, b: &Team) -> bool {
    a.tokens
        .iter()
        .any(|t| b.tokens.iter().any(|u| t[..] == u[..]))
}

fn remember(record: &Path, now: &Remembered) -> Result<()> {
    if let Some(dir) = record.parent() {
        store::create_private_dir(dir)?;
    }
    let line = match &now.digest {
        Some(digest) => format!("{} {digest}\n", now.token),
        None => format!("{}\n", now.token),
    };
    store::write_atomic(record, line.as_bytes())
}

/// `$XDG_CONFIG_HOME/ampsecret/trust/<vault id>`, beside the identity files; `None` without a
/// config directory or for an id that is not a plain hex name.
fn record_path(vault_id: &str) -> Option<PathBuf> {
    if vault_id.is_empty() || !vault_id.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    Some(
        dirs::config_dir()?
            .join("ampsecret")
            .join("trust")
            .join(vault_id),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use zeroize::Zeroizing;

    #[test]
    fn fingerprints_are_stable_and_distinct() {
        let a = Zeroizing::new([1u8; 32]);
        let b = Zeroizing::new([2u8; 32]);
        assert_eq!(fingerprint(&a), fingerprint(&a.clone()));
        assert_ne!(fingerprint(&a), fingerprint(&b));
        assert_eq!(fingerprint(&a).len(), 32);
    }
}
