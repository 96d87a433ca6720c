//! Three-way merge of two versions of a vault (what git's merge driver does), secret by
//! secret and member by member. Pure: no I/O, and values are compared, never shown.

use super::format::{Conflict, Entry, Member, RotateNotice, Team, Token, Vault};
use crate::scope::ScopeKey;
use std::collections::BTreeSet;
use zeroize::Zeroizing;

/// Merges `ours` and `theirs`, which both started from `base`. Secrets both sides changed
/// differently (or one changed and the other removed) keep our value and are listed in the
/// result's `team.conflicts` with theirs. The result keeps as many versions as `ours` does.
pub fn merge(base: &Vault, ours: &Vault, theirs: &Vault) -> Vault {
    let mut merged = Vault::default();
    merged.keep_versions(ours.kept_versions());
    let mut keys: BTreeSet<(ScopeKey, String)> = BTreeSet::new();
    for vault in [base, ours, theirs] {
        keys.extend(vault.entries().map(|(s, n, _)| (s.clone(), n.to_owned())));
    }
    let mut conflicts = Vec::new();
    for (scope, name) in keys {
        let (b, o, t) = (
            base.get(&scope, &name),
            ours.get(&scope, &name),
            theirs.get(&scope, &name),
        );
        let (chosen, side) = if same(o, t) || same(t, b) {
            (o, ours)
        } else if same(o, b) {
            (t, theirs)
        } else {
            conflicts.push(Conflict {
                scope: scope.clone(),
                name: name.clone(),
                theirs: t.map(|e| e.value.clone()),
            });
            (o, ours)
        };
        if let Some(entry) = chosen {
            merged.insert(&scope, &name, entry.clone());
            // The history that led to the value kept; the other side's, if it differs,
            // ended in a value the merge did not keep.
            merged.set_history(&scope, &name, side.history(&scope, &name).to_vec());
        }
    }
    merged.team = merge_team(&base.team, &ours.team, &theirs.team, ours, theirs);
    merged.team.conflicts = conflicts;
    // A removal either side made stays recorded, unless the secret is back.
    let mut tombstones = ours.team.tombstones.clone();
    for tombstone in &theirs.team.tombstones {
        if !tombstones
            .iter()
            .any(|t| t.scope == tombstone.scope && t.name == tombstone.name)
        {
            tombstones.push(tombstone.clone());
        }
    }
    tombstones.retain(|t| merged.get(&t.scope, &t.name).is_none());
    merged.team.tombstones = tombstones;
    merged
}

/// The same value, or absent on both.
fn same(a: Option<&Entry>, b: Option<&Entry>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => a.value == b.value,
        _ => false,
    }
}

fn merge_team(base: &Team, ours: &Team, theirs: &Team, ov: &Vault, tv: &Vault) -> Team {
    let has = |team: &Team, key: &str| team.members.iter().any(|m| m.recipient == key);
    // A file both branches created (a scope's, the base has none) cannot tell a member one
    // side removed from one the other added: only those both sides list read it. (The next
    // write of the scope encrypts it to vault.age's members.)
    let no_base = base.members.is_empty() && base.tokens.is_empty();
    // A side that lacks our current token was written before a member removal we know of
    // (or by that member): it adds no member. Its removals still count.
    let theirs_behind = ours
        .tokens
        .first()
        .is_some_and(|current| !theirs.tokens.iter().any(|t| t[..] == current[..]));
    // A member stays unless one side removed them; one added on either side is in.
    let mut members: Vec<Member> = Vec::new();
    for member in ours.members.iter().chain(&theirs.members) {
        let key = member.recipient.as_str();
        let (b, o, t) = (has(base, key), has(ours, key), has(theirs, key));
        let stays = if no_base {
            o && t
        } else if theirs_behind && !b {
            o
        } else {
            kept(b, o, t)
        };
        if stays && !has_member(&members, key) {
            members.push(member.clone());
        }
    }
    // A member dropped by the merge could read everything their side held: rotate it.
    let mut to_rotate: Vec<RotateNotice> = Vec::new();
    for (team, vault) in [(ours, ov), (theirs, tv)] {
        for gone in team
            .members
            .iter()
            .filter(|m| !has_member(&members, &m.recipient))
        {
            for (scope, name, _) in vault.entries() {
                to_rotate.push(RotateNotice {
                    scope: scope.clone(),
                    name: name.to_owned(),
                    member: gone.name.clone(),
                });
            }
        }
    }
    to_rotate.extend(ours.to_rotate.iter().cloned());
    to_rotate.extend(theirs.to_rotate.iter().cloned());
    let mut seen = BTreeSet::new();
    to_rotate.retain(|n| seen.insert((n.scope.clone(), n.name.clone())));

    // The same current token on both sides: nobody was removed since they parted. Otherwise
    // a new one, since a removed member knows the old ones: derived from both current tokens,
    // so that every file of the vault git merges (vault.age, each scope's) gets the same one,
    // and a removed member, who knows at most one of them, cannot derive it.
    let mut tokens: Vec<Token> = Vec::new();
    let firsts = [ours.tokens.first(), theirs.tokens.first()];
    if firsts[0].map(|t| &t[..]) != firsts[1].map(|t| &t[..]) {
        let mut current: Vec<&Token> = firsts.into_iter().flatten().collect();
        current.sort_by(|a, b| a[..].cmp(&b[..]));
        tokens.push(merged_token(&current));
    }
    for token in ours.tokens.iter().chain(&theirs.tokens) {
        if !tokens.iter().any(|t| t[..] == token[..]) {
            tokens.push(token.clone());
        }
    }
    Team {
        tokens,
        members,
        to_rotate,
        conflicts: Vec::new(),
        tombstones: Vec::new(),
    }
}

/// The token of a merge of two versions whose current tokens are `current` (sorted).
fn merged_token(current: &[&Token]) -> Token {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    hash.update(b"ampsecret merged membership token v1\0");
    for token in current {
        hash.update(&token[..]);
    }
    Zeroizing::new(hash.finalize().into())
}

/// Whether an item of a set (a member, a recipient) survives a three-way merge: one that
/// was in the base stays only if neither side removed it; a new one from either side is in.
pub fn kept(in_base: bool, in_ours: bool, in_theirs: bool) -> bool {
    if in_base {
        in_ours && in_theirs
    } else {
        in_ours || in_theirs
    }
}

fn has_member(members: &[Member], key: &str) -> bool {
    members.iter().any(|m| m.recipient == key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::SecretValue;

    fn stamp(at: u64) -> crate::vault::Stamp {
        crate::vault::Stamp::new(at, "alice")
    }

    fn vault(pairs: &[(&str, &str)]) -> Vault {
        let mut v = Vault::default();
        for (name, value) in pairs {
            v.set(
                &ScopeKey::Shared,
                name,
                SecretValue::new((*value).into()),
                &stamp(1),
            );
        }
        v
    }

    fn values(v: &Vault) -> Vec<(String, String)> {
        v.entries()
            .map(|(_, n, e)| (n.to_owned(), e.value.expose().to_owned()))
            .collect()
    }

    #[test]
    fn disjoint_changes_merge_and_real_conflicts_are_listed() {
        let base = vault(&[("A", "1"), ("B", "1"), ("C", "1"), ("D", "1")]);
        let ours = vault(&[
            ("A", "2"),
            ("B", "1"),
            ("C", "ours"),
            ("D", "ours"),
            ("N1", "x"),
        ]);
        let theirs = vault(&[
            ("A", "1"),
            ("B", "2"),
            ("C", "theirs"),
            ("N2", "y"),
            ("S", "z"),
        ]);
        let mut ours = ours;
        ours.set(
            &ScopeKey::Shared,
            "S",
            SecretValue::new("z".into()),
            &stamp(2),
        );
        let merged = merge(&base, &ours, &theirs);
        assert_eq!(
            values(&merged),
            [
                ("A", "2"),
                ("B", "2"),
                ("C", "ours"),
                ("D", "ours"),
                ("N1", "x"),
                ("N2", "y"),
                ("S", "z"),
            ]
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
        );
        let conflicts: Vec<(&str, Option<&str>)> = merged
            .team
            .conflicts
            .iter()
            .map(|c| (c.name.as_str(), c.theirs.as_ref().map(SecretValue::expose)))
            .collect();
        // C: both changed; D: ours changed what theirs removed.
        assert_eq!(conflicts, [("C", Some("theirs")), ("D", None)]);
    }

    fn member_names(vault: &Vault) -> Vec<&str> {
        vault.team.members.iter().map(|m| m.name.as_str()).collect()
    }

    #[test]
    fn members_merge_and_a_removal_draws_a_new_token() {
        let member = |n: &str| Member {
            name: n.into(),
            recipient: format!("age1{n}"),
        };
        let token = Zeroizing::new([7u8; 32]);
        let team = |names: &[&str], tokens: Vec<Token>| Team {
            tokens,
            members: names.iter().map(|n| member(n)).collect(),
            ..Team::default()
        };
        let mut base = vault(&[("K", "1")]);
        base.team = team(&["alice", "bob"], vec![token.clone()]);
        let mut ours = base.clone();
        ours.team = team(&["alice", "bob", "carol"], vec![token.clone()]);
        let mut theirs = base.clone();
        let rotated = Zeroizing::new([8u8; 32]);
        theirs.team = team(&["alice"], vec![rotated.clone(), token.clone()]);
        let merged = merge(&base, &ours, &theirs);
        assert_eq!(member_names(&merged), ["alice", "carol"]);
        assert_eq!(
            merged.team.tokens.len(),
            3,
            "a fresh token, then both earlier ones"
        );
        assert!(merged.team.tokens[0][..] != token[..] && merged.team.tokens[0][..] != rotated[..]);
        assert_eq!(merged.team.to_rotate.len(), 1);
        assert_eq!(merged.team.to_rotate[0].member, "bob");
        // Every file git merges (vault.age, each scope's) gets the same new token, whichever
        // side is ours.
        let swapped = merge(&base, &theirs, &ours);
        assert_eq!(merged.team.tokens[0][..], swapped.team.tokens[0][..]);
        // No removal on either side: the token stays.
        let again = merge(&base, &ours, &base);
        assert_eq!(again.team.tokens.len(), 1);
        // A file both sides created (no base): only the members both list read it, so bob,
        // removed on one side, is not added back by the other.
        let created = merge(&Vault::default(), &ours, &theirs);
        assert_eq!(member_names(&created), ["alice"]);
        // A branch from before our removal of bob (it lacks our token) adds no member: mallory
        // stays out, carol (ours) stays in.
        let mut behind = base.clone();
        behind.team = team(&["alice", "bob", "mallory"], vec![token.clone()]);
        let mut ahead = base.clone();
        ahead.team = team(&["alice", "carol"], vec![rotated.clone(), token.clone()]);
        let merged = merge(&base, &ahead, &behind);
        assert_eq!(member_names(&merged), ["alice", "carol"]);
    }

    #[test]
    fn the_kept_value_brings_its_history() {
        let base = vault(&[("A", "1"), ("B", "1")]);
        let mut ours = base.clone();
        ours.set(
            &ScopeKey::Shared,
            "A",
            SecretValue::new("2".into()),
            &stamp(3),
        );
        let mut theirs = base.clone();
        theirs.set(
            &ScopeKey::Shared,
            "B",
            SecretValue::new("2".into()),
            &stamp(4),
        );
        theirs.set(
            &ScopeKey::Shared,
            "B",
            SecretValue::new("3".into()),
            &stamp(5),
        );
        let merged = merge(&base, &ours, &theirs);
        let versions = |name: &str| -> Vec<(u32, String)> {
            merged
                .history(&ScopeKey::Shared, name)
                .iter()
                .map(|p| (p.version, p.value.expose().to_owned()))
                .collect()
        };
        assert_eq!(versions("A"), [(1, "1".to_owned())]);
        assert_eq!(versions("B"), [(2, "2".to_owned()), (1, "1".to_owned())]);
        assert_eq!(merged.get(&ScopeKey::Shared, "B").unwrap().version, 3);
        merged.encode();
    }

    #[test]
    fn the_merge_keeps_as_many_versions_as_ours() {
        let mut ours = vault(&[("A", "0")]);
        ours.keep_versions(20);
        for i in 1..15 {
            ours.set(
                &ScopeKey::Shared,
                "A",
                SecretValue::new(i.to_string()),
                &stamp(i),
            );
        }
        let merged = merge(&vault(&[("A", "0")]), &ours, &vault(&[("A", "0")]));
        assert_eq!(merged.history(&ScopeKey::Shared, "A").len(), 14);
    }
}
