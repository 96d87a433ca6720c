//! Three-way comparison of the vault, SSM and the last sync, and the plans push and pull
//! derive from it. Pure: no I/O, no values (only their digests).
//!
//! The base of the comparison is the sync state the vault keeps per secret: the digest of the
//! value both sides held after the last push or pull, recorded against the exact SSM name.
//! With it, a difference can be attributed: changed here, changed there, or changed on both
//! sides (a conflict, never silently overwritten).

use std::collections::BTreeMap;

/// A secret as the vault holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalState {
    pub digest: [u8; 32],
    /// Digest of the last synced value, if the last sync was with this very SSM name.
    pub base: Option<[u8; 32]>,
}

/// A secret as SSM holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteState {
    pub digest: [u8; 32],
    pub version: i64,
}

/// How one name compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// Same value on both sides.
    Unchanged,
    /// Only in the vault, never synced.
    AddedHere,
    /// Only in SSM.
    OnlyRemote,
    /// Was synced, then deleted in SSM; still in the vault.
    DeletedRemote,
    /// Edited in the vault since the last sync; SSM still has the synced value.
    ChangedHere,
    /// Edited in SSM since the last sync; the vault still has the synced value.
    ChangedThere,
    /// Both sides differ from the last sync (or there is no sync to tell).
    Conflict,
    /// Removed from the vault after a sync (a tombstone); SSM still has the synced value.
    RemovedHere,
    /// Removed from the vault after a sync, and changed in SSM since.
    RemovedHereChangedThere,
    /// Removed from the vault after a sync, and gone from SSM too: only the tombstone is left.
    Gone,
}

impl Status {
    /// A stable name for `--json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Unchanged => "unchanged",
            Status::AddedHere => "added_here",
            Status::OnlyRemote => "only_remote",
            Status::DeletedRemote => "deleted_remote",
            Status::ChangedHere => "changed_here",
            Status::ChangedThere => "changed_there",
            Status::Conflict => "conflict",
            Status::RemovedHere => "removed_here",
            Status::RemovedHereChangedThere => "removed_here_changed_there",
            Status::Gone => "gone",
        }
    }

    /// Words for people.
    pub fn describe(self) -> &'static str {
        match self {
            Status::Unchanged => "unchanged",
            Status::AddedHere => "only in the vault",
            Status::OnlyRemote => "only in SSM",
            Status::DeletedRemote => "removed in SSM since the last sync",
            Status::ChangedHere => "changed in the vault",
            Status::ChangedThere => "changed in SSM",
            Status::Conflict => "changed on both sides",
            Status::RemovedHere => "removed here",
            Status::RemovedHereChangedThere => "removed here, changed in SSM",
            Status::Gone => "removed on both sides",
        }
    }

    /// Whether the two sides agree (nothing to do but bookkeeping).
    pub fn in_sync(self) -> bool {
        matches!(self, Status::Unchanged | Status::Gone)
    }

    /// Whether both sides changed the secret since the last sync.
    pub fn is_conflict(self) -> bool {
        matches!(self, Status::Conflict | Status::RemovedHereChangedThere)
    }
}

/// Compares one name. `removed` is the digest a tombstone recorded: the value both sides
/// held when the secret, since removed from the vault, was last synced.
pub fn classify(
    local: Option<&LocalState>,
    remote: Option<&RemoteState>,
    removed: Option<&[u8; 32]>,
) -> Status {
    match (local, remote) {
        (None, None) if removed.is_some() => Status::Gone,
        (None, None) => unreachable!("a compared name exists on one side at least"),
        (None, Some(r)) => match removed {
            Some(digest) if *digest == r.digest => Status::RemovedHere,
            Some(_) => Status::RemovedHereChangedThere,
            None => Status::OnlyRemote,
        },
        (Some(l), None) if l.base.is_some() => Status::DeletedRemote,
        (Some(_), None) => Status::AddedHere,
        (Some(l), Some(r)) if l.digest == r.digest => Status::Unchanged,
        (Some(l), Some(r)) => match l.base {
            Some(base) if base == r.digest => Status::ChangedHere,
            Some(base) if base == l.digest => Status::ChangedThere,
            _ => Status::Conflict,
        },
    }
}

/// Every name on either side (or with a tombstone in `removed`) with its status, in name
/// order.
pub fn compare<'a>(
    local: &'a BTreeMap<String, LocalState>,
    remote: &'a BTreeMap<String, RemoteState>,
    removed: &'a BTreeMap<String, [u8; 32]>,
) -> Vec<(&'a str, Status)> {
    let mut names: Vec<&str> = local
        .keys()
        .chain(remote.keys())
        .chain(removed.keys().filter(|n| !local.contains_key(*n)))
        .map(String::as_str)
        .collect();
    names.sort_unstable();
    names.dedup();
    names
        .into_iter()
        .map(|name| {
            let tombstone = removed.get(name).filter(|_| !local.contains_key(name));
            (name, classify(local.get(name), remote.get(name), tombstone))
        })
        .collect()
}

/// What to do about a secret both sides changed (or, for push, one SSM changed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// The vault's value wins.
    KeepLocal,
    /// SSM's value wins.
    KeepRemote,
}

/// One step of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Write the vault's value to SSM.
    Put,
    /// Delete the SSM parameter (a secret removed here, or push --prune).
    Delete,
    /// Write SSM's value into the vault.
    Store,
    /// Remove the secret from the vault (it was removed in SSM).
    RemoveLocal,
    /// Drop a tombstone: the secret is gone from both sides.
    Forget,
    /// No change to values; record that both sides agree.
    RecordSync,
    /// Leave this name alone.
    Skip,
}

/// A decided step, with why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub name: String,
    pub status: Status,
    pub action: Action,
}

/// Decisions for names that need one, from flags or prompts.
pub type Decisions = BTreeMap<String, Resolution>;

/// Which way values move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The vault into SSM.
    Push,
    /// SSM into the vault.
    Pull,
}

impl Direction {
    /// Whether acting on `status` would lose an edit made on the side being overwritten:
    /// then it needs a decision (a flag or an answer) first.
    pub fn needs_decision(self, status: Status) -> bool {
        status.is_conflict()
            || match self {
                Direction::Push => status == Status::ChangedThere,
                Direction::Pull => status == Status::ChangedHere,
            }
    }

    /// What `resolution` means when this direction "wins" (`--force`).
    pub fn winner(self) -> Resolution {
        match self {
            Direction::Push => Resolution::KeepLocal,
            Direction::Pull => Resolution::KeepRemote,
        }
    }
}

/// The names that need a decision before a plan in `direction`, in name order.
pub fn undecided<'a>(compared: &[(&'a str, Status)], direction: Direction) -> Vec<&'a str> {
    compared
        .iter()
        .filter(|(_, status)| direction.needs_decision(*status))
        .map(|(name, _)| *name)
        .collect()
}

/// Plans a push. A name that needs a decision and has none in `decisions` is skipped:
/// nothing is overwritten without one. Whatever is decided, both sides end with the chosen
/// value: keeping SSM's value stores it in the vault.
pub fn plan_push(compared: &[(&str, Status)], prune: bool, decisions: &Decisions) -> Vec<Step> {
    plan(compared, decisions, |status, resolution| match status {
        Status::Unchanged => Action::RecordSync,
        Status::AddedHere | Status::DeletedRemote | Status::ChangedHere => Action::Put,
        Status::OnlyRemote if prune => Action::Delete,
        Status::OnlyRemote => Action::Skip,
        Status::RemovedHere => Action::Delete,
        Status::Gone => Action::Forget,
        Status::ChangedThere | Status::Conflict => match resolution {
            Some(Resolution::KeepLocal) => Action::Put,
            Some(Resolution::KeepRemote) => Action::Store,
            None => Action::Skip,
        },
        Status::RemovedHereChangedThere => match resolution {
            Some(Resolution::KeepLocal) => Action::Delete,
            Some(Resolution::KeepRemote) => Action::Store,
            None => Action::Skip,
        },
    })
}

/// Plans a pull: SSM into the vault. A secret removed here is not brought back unless
/// SSM's value is chosen (`--keep-remote`); one removed in SSM is removed here unless the
/// vault's is (`--keep-local`). Keeping the vault's value of a conflict writes it to SSM.
pub fn plan_pull(compared: &[(&str, Status)], decisions: &Decisions) -> Vec<Step> {
    plan(compared, decisions, |status, resolution| match status {
        Status::Unchanged => Action::RecordSync,
        Status::OnlyRemote | Status::ChangedThere => Action::Store,
        Status::AddedHere => Action::Skip,
        Status::Gone => Action::Forget,
        Status::DeletedRemote => match resolution {
            Some(Resolution::KeepLocal) => Action::Skip,
            _ => Action::RemoveLocal,
        },
        Status::RemovedHere => match resolution {
            Some(Resolution::KeepRemote) => Action::Store,
            _ => Action::Skip,
        },
        Status::ChangedHere | Status::Conflict => match resolution {
            Some(Resolution::KeepRemote) => Action::Store,
            Some(Resolution::KeepLocal) => Action::Put,
            None => Action::Skip,
        },
        Status::RemovedHereChangedThere => match resolution {
            Some(Resolution::KeepRemote) => Action::Store,
            Some(Resolution::KeepLocal) => Action::Delete,
            None => Action::Skip,
        },
    })
}

fn plan(
    compared: &[(&str, Status)],
    decisions: &Decisions,
    action: impl Fn(Status, Option<Resolution>) -> Action,
) -> Vec<Step> {
    compared
        .iter()
        .map(|&(name, status)| Step {
            name: name.to_owned(),
            status,
            action: action(status, decisions.get(name).copied()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: [u8; 32] = [1; 32];
    const B: [u8; 32] = [2; 32];
    const C: [u8; 32] = [3; 32];

    fn local(digest: [u8; 32], base: Option<[u8; 32]>) -> LocalState {
        LocalState { digest, base }
    }

    fn remote(digest: [u8; 32]) -> RemoteState {
        RemoteState { digest, version: 1 }
    }

    #[test]
    fn three_way_classification() {
        let cases = [
            (Some(local(A, None)), Some(remote(A)), Status::Unchanged),
            (Some(local(A, Some(B))), Some(remote(A)), Status::Unchanged),
            (Some(local(A, None)), None, Status::AddedHere),
            (Some(local(A, Some(A))), None, Status::DeletedRemote),
            (None, Some(remote(A)), Status::OnlyRemote),
            (
                Some(local(B, Some(A))),
                Some(remote(A)),
                Status::ChangedHere,
            ),
            (
                Some(local(A, Some(A))),
                Some(remote(B)),
                Status::ChangedThere,
            ),
            (Some(local(B, Some(A))), Some(remote(C)), Status::Conflict),
            // Never synced and different: nothing tells which side is newer.
            (Some(local(A, None)), Some(remote(B)), Status::Conflict),
        ];
        for (l, r, want) in cases {
            assert_eq!(classify(l.as_ref(), r.as_ref(), None), want, "{l:?} {r:?}");
        }
        // Removed here after a sync at value A (a tombstone).
        assert_eq!(
            classify(None, Some(&remote(A)), Some(&A)),
            Status::RemovedHere
        );
        assert_eq!(
            classify(None, Some(&remote(B)), Some(&A)),
            Status::RemovedHereChangedThere
        );
        assert_eq!(classify(None, None, Some(&A)), Status::Gone);
    }

    #[test]
    fn removals_travel_both_ways() {
        use Action::*;
        let compared = [
            ("MINE_GONE", Status::RemovedHere),
            ("BOTH", Status::RemovedHereChangedThere),
            ("THEIRS_GONE", Status::DeletedRemote),
            ("DONE", Status::Gone),
        ];
        let none = Decisions::new();
        assert_eq!(
            actions(plan_push(&compared, false, &none)),
            [
                ("MINE_GONE", Delete),
                ("BOTH", Skip),
                ("THEIRS_GONE", Put),
                ("DONE", Forget)
            ]
            .map(|(n, a)| (n.to_owned(), a))
        );
        assert_eq!(
            actions(plan_pull(&compared, &none)),
            [
                ("MINE_GONE", Skip),
                ("BOTH", Skip),
                ("THEIRS_GONE", RemoveLocal),
                ("DONE", Forget)
            ]
            .map(|(n, a)| (n.to_owned(), a))
        );
        // --keep-remote brings a removed secret back; --keep-local keeps one removed in SSM.
        let keep_remote = all(
            &["MINE_GONE", "BOTH", "THEIRS_GONE"],
            Resolution::KeepRemote,
        );
        let pulled = actions(plan_pull(&compared, &keep_remote));
        assert!(pulled.contains(&("MINE_GONE".into(), Store)));
        assert!(pulled.contains(&("BOTH".into(), Store)));
        let keep_local = all(&["THEIRS_GONE", "BOTH"], Resolution::KeepLocal);
        let pulled = actions(plan_pull(&compared, &keep_local));
        assert!(pulled.contains(&("THEIRS_GONE".into(), Skip)));
        assert!(pulled.contains(&("BOTH".into(), Delete)));
        assert_eq!(undecided(&compared, Direction::Push), ["BOTH"]);
    }

    fn sample() -> Vec<(&'static str, Status)> {
        vec![
            ("ADDED", Status::AddedHere),
            ("BOTH", Status::Conflict),
            ("GONE", Status::DeletedRemote),
            ("HERE", Status::ChangedHere),
            ("REMOTE_ONLY", Status::OnlyRemote),
            ("SAME", Status::Unchanged),
            ("THERE", Status::ChangedThere),
        ]
    }

    fn actions(steps: Vec<Step>) -> Vec<(String, Action)> {
        steps.into_iter().map(|s| (s.name, s.action)).collect()
    }

    fn all(names: &[&str], resolution: Resolution) -> Decisions {
        names
            .iter()
            .map(|n| ((*n).to_owned(), resolution))
            .collect()
    }

    #[test]
    fn push_never_overwrites_a_remote_edit_without_a_decision() {
        assert_eq!(undecided(&sample(), Direction::Push), ["BOTH", "THERE"]);
        use Action::*;
        let undecided_skip = actions(plan_push(&sample(), false, &Decisions::new()));
        assert!(undecided_skip.contains(&("BOTH".into(), Skip)));
        assert!(undecided_skip.contains(&("THERE".into(), Skip)));
        let keep_local = actions(plan_push(
            &sample(),
            false,
            &all(&["BOTH", "THERE"], Resolution::KeepLocal),
        ));
        assert_eq!(
            keep_local,
            [
                ("ADDED", Put),
                ("BOTH", Put),
                ("GONE", Put),
                ("HERE", Put),
                ("REMOTE_ONLY", Skip),
                ("SAME", RecordSync),
                ("THERE", Put)
            ]
            .map(|(n, a)| (n.to_owned(), a))
        );
        let mut decisions = Decisions::new();
        decisions.insert("BOTH".into(), Resolution::KeepRemote);
        decisions.insert("THERE".into(), Resolution::KeepLocal);
        let mixed = actions(plan_push(&sample(), true, &decisions));
        assert!(
            mixed.contains(&("BOTH".into(), Store)),
            "keeping SSM's value stores it in the vault"
        );
        assert!(mixed.contains(&("THERE".into(), Put)));
        assert!(
            mixed.contains(&("REMOTE_ONLY".into(), Delete)),
            "prune deletes"
        );
    }

    #[test]
    fn pull_never_overwrites_a_local_edit_without_a_decision() {
        assert_eq!(undecided(&sample(), Direction::Pull), ["BOTH", "HERE"]);
        use Action::*;
        let keep_remote = actions(plan_pull(
            &sample(),
            &all(&["BOTH", "HERE"], Resolution::KeepRemote),
        ));
        assert_eq!(
            keep_remote,
            [
                ("ADDED", Skip),
                ("BOTH", Store),
                ("GONE", RemoveLocal),
                ("HERE", Store),
                ("REMOTE_ONLY", Store),
                ("SAME", RecordSync),
                ("THERE", Store)
            ]
            .map(|(n, a)| (n.to_owned(), a))
        );
        let keep_local = actions(plan_pull(
            &sample(),
            &all(&["BOTH", "HERE"], Resolution::KeepLocal),
        ));
        assert!(
            keep_local.contains(&("HERE".into(), Put)),
            "keeping the vault's value writes it to SSM"
        );
        assert!(
            keep_local.contains(&("THERE".into(), Store)),
            "a remote edit still comes in"
        );
    }

    #[test]
    fn compare_merges_both_sides_in_name_order() {
        let mut l = BTreeMap::new();
        l.insert("B".to_owned(), local(A, None));
        l.insert("A".to_owned(), local(A, None));
        let mut r = BTreeMap::new();
        r.insert("C".to_owned(), remote(A));
        r.insert("A".to_owned(), remote(A));
        let mut removed = BTreeMap::new();
        removed.insert("D".to_owned(), A);
        assert_eq!(
            compare(&l, &r, &removed),
            [
                ("A", Status::Unchanged),
                ("B", Status::AddedHere),
                ("C", Status::OnlyRemote),
                ("D", Status::Gone)
            ]
        );
    }
}
