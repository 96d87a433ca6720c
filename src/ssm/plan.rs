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
        }
    }

    /// Words for people.
    pub fn describe(self) -> &'static str {
        match self {
            Status::Unchanged => "unchanged",
            Status::AddedHere => "only in the vault",
            Status::OnlyRemote => "only in SSM",
            Status::DeletedRemote => "deleted in SSM since the last sync",
            Status::ChangedHere => "changed in the vault",
            Status::ChangedThere => "changed in SSM",
            Status::Conflict => "changed on both sides",
        }
    }
}

/// Compares one name.
pub fn classify(local: Option<&LocalState>, remote: Option<&RemoteState>) -> Status {
    match (local, remote) {
        (None, None) => unreachable!("a compared name exists on one side at least"),
        (None, Some(_)) => Status::OnlyRemote,
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

/// Every name on either side with its status, in name order.
pub fn compare<'a>(
    local: &'a BTreeMap<String, LocalState>,
    remote: &'a BTreeMap<String, RemoteState>,
) -> Vec<(&'a str, Status)> {
    let mut names: Vec<&str> = local
        .keys()
        .chain(remote.keys())
        .map(String::as_str)
        .collect();
    names.sort_unstable();
    names.dedup();
    names
        .into_iter()
        .map(|name| (name, classify(local.get(name), remote.get(name))))
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
    /// Push: write the vault's value to SSM.
    Put,
    /// Push with prune: delete the SSM parameter.
    Delete,
    /// Pull: write SSM's value into the vault.
    Store,
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

/// A plan, or the names that need a decision first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Planned {
    Ready(Vec<Step>),
    /// These names need `--keep-local`, `--keep-remote` or an answer at a prompt.
    Undecided(Vec<String>),
}

/// Decisions for names that need one, from flags or prompts.
pub type Decisions = BTreeMap<String, Resolution>;

/// Which statuses a push must not act on without a decision: overwriting SSM would lose an
/// edit made there.
pub fn push_needs_decision(status: Status) -> bool {
    matches!(status, Status::Conflict | Status::ChangedThere)
}

/// Which statuses a pull must not act on without a decision: overwriting the vault would
/// lose a local edit.
pub fn pull_needs_decision(status: Status) -> bool {
    matches!(status, Status::Conflict | Status::ChangedHere)
}

/// Plans a push. `default` resolves every undecided name (from `--keep-local` etc.);
/// `decisions` holds per-name answers.
pub fn plan_push(
    compared: &[(&str, Status)],
    prune: bool,
    default: Option<Resolution>,
    decisions: &Decisions,
) -> Planned {
    plan(
        compared,
        default,
        decisions,
        push_needs_decision,
        |status, resolution| match status {
            Status::Unchanged => Action::RecordSync,
            Status::AddedHere | Status::DeletedRemote | Status::ChangedHere => Action::Put,
            Status::OnlyRemote if prune => Action::Delete,
            Status::OnlyRemote => Action::Skip,
            Status::ChangedThere | Status::Conflict => match resolution {
                Some(Resolution::KeepLocal) => Action::Put,
                Some(Resolution::KeepRemote) | None => Action::Skip,
            },
        },
    )
}

/// Plans a pull: SSM into the vault. Names deleted in SSM are kept in the vault.
pub fn plan_pull(
    compared: &[(&str, Status)],
    default: Option<Resolution>,
    decisions: &Decisions,
) -> Planned {
    plan(
        compared,
        default,
        decisions,
        pull_needs_decision,
        |status, resolution| match status {
            Status::Unchanged => Action::RecordSync,
            Status::OnlyRemote | Status::ChangedThere => Action::Store,
            Status::AddedHere | Status::DeletedRemote => Action::Skip,
            Status::ChangedHere | Status::Conflict => match resolution {
                Some(Resolution::KeepRemote) => Action::Store,
                Some(Resolution::KeepLocal) | None => Action::Skip,
            },
        },
    )
}

fn plan(
    compared: &[(&str, Status)],
    default: Option<Resolution>,
    decisions: &Decisions,
    needs_decision: fn(Status) -> bool,
    action: impl Fn(Status, Option<Resolution>) -> Action,
) -> Planned {
    let mut steps = Vec::new();
    let mut undecided = Vec::new();
    for &(name, status) in compared {
        let resolution = decisions.get(name).copied().or(default);
        if needs_decision(status) && resolution.is_none() {
            undecided.push(name.to_owned());
            continue;
        }
        steps.push(Step {
            name: name.to_owned(),
            status,
            action: action(status, resolution),
        });
    }
    if undecided.is_empty() {
        Planned::Ready(steps)
    } else {
        Planned::Undecided(undecided)
    }
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
            assert_eq!(classify(l.as_ref(), r.as_ref()), want, "{l:?} {r:?}");
        }
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

    fn actions(planned: Planned) -> Vec<(String, Action)> {
        match planned {
            Planned::Ready(steps) => steps.into_iter().map(|s| (s.name, s.action)).collect(),
            Planned::Undecided(names) => panic!("undecided: {names:?}"),
        }
    }

    #[test]
    fn push_never_overwrites_a_remote_edit_without_a_decision() {
        let none = Decisions::new();
        assert_eq!(
            plan_push(&sample(), false, None, &none),
            Planned::Undecided(vec!["BOTH".into(), "THERE".into()])
        );
        let keep_local = actions(plan_push(
            &sample(),
            false,
            Some(Resolution::KeepLocal),
            &none,
        ));
        use Action::*;
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
        let mixed = actions(plan_push(&sample(), true, None, &decisions));
        assert!(mixed.contains(&("BOTH".into(), Skip)));
        assert!(mixed.contains(&("THERE".into(), Put)));
        assert!(
            mixed.contains(&("REMOTE_ONLY".into(), Delete)),
            "prune deletes"
        );
    }

    #[test]
    fn pull_never_overwrites_a_local_edit_without_a_decision() {
        let none = Decisions::new();
        assert_eq!(
            plan_pull(&sample(), None, &none),
            Planned::Undecided(vec!["BOTH".into(), "HERE".into()])
        );
        use Action::*;
        let keep_remote = actions(plan_pull(&sample(), Some(Resolution::KeepRemote), &none));
        assert_eq!(
            keep_remote,
            [
                ("ADDED", Skip),
                ("BOTH", Store),
                ("GONE", Skip),
                ("HERE", Store),
                ("REMOTE_ONLY", Store),
                ("SAME", RecordSync),
                ("THERE", Store)
            ]
            .map(|(n, a)| (n.to_owned(), a))
        );
        let keep_local = actions(plan_pull(&sample(), Some(Resolution::KeepLocal), &none));
        assert!(keep_local.contains(&("HERE".into(), Skip)));
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
        assert_eq!(
            compare(&l, &r),
            [
                ("A", Status::Unchanged),
                ("B", Status::AddedHere),
                ("C", Status::OnlyRemote)
            ]
        );
    }
}
