//! The vault as several files (format 5 on): `vault.age` holds the team (members and
//! membership tokens) and each scope's secrets, history and bookkeeping (notices,
//! conflicts, removals) live in a file of their own, `scope-<hash>.age`, with a copy of the
//! team. Changing one secret re-encrypts its scope's file alone, so a write costs what one
//! scope costs, not the vault; and `get` decrypts one scope's file, not `vault.age`.
//! Pure: no I/O.

use super::format::{FormatError, Team, Vault, VaultView};
use crate::scope::ScopeKey;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

const PREFIX: &str = "scope-";
const SUFFIX: &str = ".age";

/// The name of `scope`'s file in vault `vault_id`: a hash of both, so that the name tells
/// which scope a file holds only to someone who guesses the scope (README, Security).
pub fn file_name(vault_id: &str, scope: &ScopeKey) -> String {
    let mut key = Vec::new();
    super::format::put_scope(&mut key, scope);
    let mut hash = Sha256::new();
    hash.update(b"ampsecret scope file v1\0");
    hash.update(vault_id.as_bytes());
    hash.update([0]);
    hash.update(&key);
    format!("{PREFIX}{}{SUFFIX}", hex::encode(&hash.finalize()[..16]))
}

/// Whether `name` is the name of a scope's file.
pub fn is_file_name(name: &str) -> bool {
    name.strip_prefix(PREFIX)
        .and_then(|rest| rest.strip_suffix(SUFFIX))
        .is_some_and(|hash| {
            hash.len() == 32
                && hash
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

impl Team {
    /// What every file carries: the membership tokens and the members.
    pub fn wide(&self) -> Team {
        Team {
            tokens: self.tokens.clone(),
            members: self.members.clone(),
            ..Team::default()
        }
    }

    /// What `scope`'s file carries: the team-wide part and that scope's bookkeeping.
    pub fn of_scope(&self, scope: &ScopeKey) -> Team {
        Team {
            to_rotate: self
                .to_rotate
                .iter()
                .filter(|n| n.scope == *scope)
                .cloned()
                .collect(),
            conflicts: self
                .conflicts
                .iter()
                .filter(|c| c.scope == *scope)
                .cloned()
                .collect(),
            tombstones: self
                .tombstones
                .iter()
                .filter(|t| t.scope == *scope)
                .cloned()
                .collect(),
            ..self.wide()
        }
    }

    /// The scopes the bookkeeping names.
    fn bookkept_scopes(&self) -> impl Iterator<Item = &ScopeKey> {
        self.to_rotate
            .iter()
            .map(|n| &n.scope)
            .chain(self.conflicts.iter().map(|c| &c.scope))
            .chain(self.tombstones.iter().map(|t| &t.scope))
    }

    /// Adds a scope file's bookkeeping to the vault's team (its team-wide part is the head's).
    pub fn absorb(&mut self, file: Team) {
        self.to_rotate.extend(file.to_rotate);
        self.conflicts.extend(file.conflicts);
        self.tombstones.extend(file.tombstones);
    }

    /// Whether this team holds no scope's bookkeeping: what `vault.age` of format 5 must be.
    pub fn keeps_no_books(&self) -> bool {
        self.bookkept_scopes().next().is_none()
    }

    /// Whether this team's bookkeeping is all of `scope`: what a scope file's must be.
    pub fn keeps_books_of_only(&self, scope: &ScopeKey) -> bool {
        self.bookkept_scopes().all(|s| s == scope)
    }

    /// Whether the current token of `head` is one of this team's: a scope file written by
    /// a member since the last member removal carries it.
    pub fn knows_current_token_of(&self, head: &Team) -> bool {
        head.tokens
            .first()
            .is_none_or(|current| self.tokens.iter().any(|t| t[..] == current[..]))
    }
}

/// The one scope a file's content belongs to, checked: every secret, history item and entry
/// of bookkeeping in it belongs to that scope. `None` for a file that holds nothing.
pub fn scope_of(view: &VaultView<'_>) -> Result<Option<ScopeKey>, FormatError> {
    let mut scopes = view
        .scopes
        .iter()
        .map(|s| &s.key)
        .chain(view.history.iter().map(|h| &h.scope))
        .chain(view.team.bookkept_scopes());
    let Some(first) = scopes.next() else {
        return Ok(None);
    };
    if scopes.any(|other| other != first) {
        return Err(FormatError::Misplaced);
    }
    Ok(Some(first.clone()))
}

impl Vault {
    /// The vault as files: the head's team, and per scope the vault its file holds.
    pub fn into_files(self) -> (Team, BTreeMap<ScopeKey, Vault>) {
        let mut files: BTreeMap<ScopeKey, Vault> = BTreeMap::new();
        let keep = self.keep;
        let new_file = || Vault {
            keep,
            ..Vault::default()
        };
        for (scope, secrets) in self.scopes {
            let file = files.entry(scope.clone()).or_insert_with(new_file);
            file.scopes.insert(scope, secrets);
        }
        for (scope, history) in self.history {
            let file = files.entry(scope.clone()).or_insert_with(new_file);
            file.history.insert(scope, history);
        }
        for scope in self.team.bookkept_scopes() {
            files.entry(scope.clone()).or_insert_with(new_file);
        }
        for (scope, vault) in &mut files {
            vault.team = self.team.of_scope(scope);
        }
        (self.team.wide(), files)
    }
}

/// The whole vault from the head's team and the views of its scope files, in scope order.
pub fn join<'a>(head: &Team, files: Vec<VaultView<'a>>) -> VaultView<'a> {
    let mut whole = VaultView {
        team: head.wide(),
        scopes: Vec::new(),
        history: Vec::new(),
    };
    for file in files {
        whole.team.absorb(file.team);
        whole.scopes.extend(file.scopes);
        whole.history.extend(file.history);
    }
    whole
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::SecretValue;
    use crate::vault::format::{Conflict, Stamp, Tombstone};
    use zeroize::Zeroizing;

    fn stamp() -> Stamp {
        Stamp::new(1, "alice")
    }

    #[test]
    fn names_are_stable_distinct_and_recognised() {
        let main = ScopeKey::Branch("main".into());
        let name = file_name("abc", &main);
        assert_eq!(name, file_name("abc", &main));
        assert_ne!(name, file_name("abd", &main));
        assert_ne!(name, file_name("abc", &ScopeKey::Sandbox("main".into())));
        assert!(is_file_name(&name), "{name}");
        for other in [
            "vault.age",
            "scope-.age",
            "scope-ABCDEF.age",
            &name[..name.len() - 1],
        ] {
            assert!(!is_file_name(other), "{other}");
        }
    }

    #[test]
    fn a_vault_splits_into_files_and_joins_back() {
        let (main, dev) = (
            ScopeKey::Branch("main".into()),
            ScopeKey::Branch("dev".into()),
        );
        let gone = ScopeKey::Sandbox("bob".into());
        let mut vault = Vault::default();
        vault.team.tokens.push(Zeroizing::new([7; 32]));
        vault.set(&main, "A", SecretValue::new("1".into()), &stamp());
        vault.set(&main, "A", SecretValue::new("2".into()), &stamp());
        vault.set(&dev, "B", SecretValue::new("3".into()), &stamp());
        vault.team.conflicts.push(Conflict {
            scope: dev.clone(),
            name: "B".into(),
            theirs: None,
        });
        vault.team.tombstones.push(Tombstone {
            scope: gone.clone(),
            name: "C".into(),
            parameter: "/p".into(),
            digest: [0; 32],
            removed_at: 1,
            by: "alice".into(),
        });
        let before = vault.encode();
        let (team, files) = vault.into_files();
        assert!(team.keeps_no_books());
        assert_eq!(files.keys().collect::<Vec<_>>(), [&dev, &main, &gone]);
        let encoded: Vec<_> = files.values().map(Vault::encode).collect();
        let views: Vec<_> = encoded
            .iter()
            .map(|bytes| VaultView::parse(bytes).unwrap())
            .collect();
        for (view, scope) in views.iter().zip(files.keys()) {
            assert_eq!(scope_of(view).unwrap().as_ref(), Some(scope));
            assert!(view.team.knows_current_token_of(&team));
        }
        let joined = join(&team, views).to_vault();
        assert_eq!(*joined.encode(), *before);
    }

    #[test]
    fn a_file_holding_two_scopes_is_misplaced() {
        let mut vault = Vault::default();
        vault.set(
            &ScopeKey::Shared,
            "A",
            SecretValue::new("1".into()),
            &stamp(),
        );
        vault.set(
            &ScopeKey::Branch("x".into()),
            "A",
            SecretValue::new("1".into()),
            &stamp(),
        );
        let bytes = vault.encode();
        let view = VaultView::parse(&bytes).unwrap();
        assert_eq!(scope_of(&view).unwrap_err(), FormatError::Misplaced);
        assert_eq!(
            scope_of(&VaultView::parse(&Vault::default().encode()).unwrap()),
            Ok(None)
        );
    }
}
