//! Carries out a planned sync on both sides: the SSM writes and deletes first (paced by the
//! run's governor), then one vault update with what came from SSM, what left, and what both
//! sides now agree on. Push and pull share it, so whichever side a decision keeps, the two
//! end up equal.

use super::engine::{Apply, Outcome, PutJob};
use super::failure::CallError;
use super::governor::Governor;
use super::plan::{Action, Step};
use super::sync::SyncSession;
use super::tags::TagStep;
use crate::cli::Tier;
use crate::error::Result;
use crate::secret::needs_advanced_tier;
use aws_sdk_ssm::types::ParameterTier;
use std::collections::BTreeMap;

/// How writes to SSM are made.
#[derive(Debug, Clone, Copy)]
pub struct WriteOptions<'a> {
    /// `--tier`; else Advanced only for values that need it.
    pub tier: Option<Tier>,
    pub kms_key_id: Option<&'a str>,
    pub concurrency: usize,
    pub show_progress: bool,
}

/// What carrying out one scope's plan did.
#[derive(Debug, Default)]
pub struct Done {
    /// SSM writes and deletes, by name.
    pub remote: Vec<(String, Outcome)>,
    /// Tags added, by name (a parameter whose write failed is not tagged).
    pub tagged: Vec<(String, Result<(), CallError>)>,
    /// Secrets whose value came from SSM into the vault.
    pub stored: Vec<String>,
    /// Secrets removed from the vault (they were removed in SSM).
    pub removed: Vec<String>,
    /// Secrets the vault changed while the command ran: left alone.
    pub changed_meanwhile: Vec<String>,
}

/// Carries out `steps` for `session`, then adds the tags of `tags` to the parameters whose
/// write (if any) landed.
pub fn execute(
    session: &SyncSession<'_>,
    steps: &[Step],
    tags: &[TagStep],
    governor: &Governor,
    options: WriteOptions<'_>,
) -> Result<Done> {
    let remote = write_remote(session, steps, governor, options);
    let failed: Vec<&str> = remote
        .iter()
        .filter(|(_, o)| matches!(o, Outcome::Failed(_)))
        .map(|(n, _)| n.as_str())
        .collect();
    let jobs: Vec<TagStep> = tags
        .iter()
        .filter(|t| !t.change.add.is_empty() && !failed.contains(&t.name.as_str()))
        .cloned()
        .collect();
    let mut done = Done {
        tagged: tag_remote(session, jobs, governor, options),
        remote,
        ..Done::default()
    };
    update_vault(session, steps, &mut done)?;
    Ok(done)
}

/// Adds tags (no new value version), paced like the writes.
fn tag_remote(
    session: &SyncSession<'_>,
    jobs: Vec<TagStep>,
    governor: &Governor,
    options: WriteOptions<'_>,
) -> Vec<(String, Result<(), CallError>)> {
    if jobs.is_empty() || crate::sys::interrupt::requested() {
        return Vec::new();
    }
    let _watching = crate::sys::interrupt::watch();
    session
        .remote
        .run(apply(session, governor, options).tag(jobs))
}

/// The executor of one scope's SSM calls.
fn apply<'a>(
    session: &'a SyncSession<'_>,
    governor: &'a Governor,
    options: WriteOptions<'a>,
) -> Apply<'a> {
    Apply {
        ssm: session.remote.ssm(),
        governor,
        concurrency: options.concurrency,
        kms_key_id: options.kms_key_id,
        show_progress: options.show_progress,
    }
}

fn write_remote(
    session: &SyncSession<'_>,
    steps: &[Step],
    governor: &Governor,
    options: WriteOptions<'_>,
) -> Vec<(String, Outcome)> {
    let jobs: Vec<PutJob> = steps
        .iter()
        .filter(|s| s.action == Action::Put)
        .map(|s| {
            let value = session.local[&s.name].0.clone();
            PutJob {
                parameter: session.parameter(&s.name),
                tier: tier_for(options.tier, value.len()),
                name: s.name.clone(),
                value,
            }
        })
        .collect();
    let deletes: Vec<(String, String)> = steps
        .iter()
        .filter(|s| s.action == Action::Delete)
        .map(|s| (s.name.clone(), session.parameter(&s.name)))
        .collect();
    if jobs.is_empty() && deletes.is_empty() {
        return Vec::new();
    }
    // Ctrl-C (or SIGTERM) stops new calls; what landed is recorded and reported.
    let _watching = crate::sys::interrupt::watch();
    session
        .remote
        .run(apply(session, governor, options).run(jobs, deletes))
}

/// The error for a run stopped by an interruption, once its report is out: what landed is
/// recorded, and a re-run applies only the rest.
pub fn interrupted(not_applied: &[String]) -> crate::error::Error {
    crate::error::Error::Partial(format!(
        "interrupted: {} not applied ({}); what landed is recorded; re-run to apply the rest",
        crate::output::count(not_applied.len(), "change"),
        not_applied.join(", ")
    ))
}

/// SSM tier for a value: the flag, else Advanced when the value needs it, else none sent
/// (the account default, as Amplify does).
pub fn tier_for(flag: Option<Tier>, len: usize) -> Option<ParameterTier> {
    match flag {
        Some(Tier::Standard) => Some(ParameterTier::Standard),
        Some(Tier::Advanced) => Some(ParameterTier::Advanced),
        Some(Tier::IntelligentTiering) => Some(ParameterTier::IntelligentTiering),
        None if needs_advanced_tier(len) => Some(ParameterTier::Advanced),
        None => None,
    }
}

/// One vault update: values from SSM, removals, forgotten tombstones and sync records. A
/// secret the vault changed since the plan was made is left alone (and reported).
fn update_vault(session: &SyncSession<'_>, steps: &[Step], done: &mut Done) -> Result<()> {
    let outcomes: BTreeMap<&str, &Outcome> =
        done.remote.iter().map(|(n, o)| (n.as_str(), o)).collect();
    let outcome = |step: &Step| outcomes.get(step.name.as_str()).copied();
    // Only the steps that change the vault; with none (an unchanged push), the vault is
    // neither locked nor read again.
    let touching: Vec<&Step> = steps
        .iter()
        .filter(|step| match (step.action, outcome(step)) {
            (Action::Store | Action::RemoveLocal | Action::Forget, _) => true,
            (Action::Delete, Some(Outcome::Deleted)) => session.removed.contains_key(&step.name),
            (Action::Put, Some(Outcome::Written { .. })) => true,
            (Action::RecordSync, _) => session
                .local
                .get(&step.name)
                .is_some_and(|(_, l)| !session.sync_recorded(&step.name, l.digest)),
            _ => false,
        })
        .collect();
    if touching.is_empty() {
        return Ok(());
    }
    let vault = &session.vault;
    let scope = &session.scope;
    let mut stored = Vec::new();
    let mut removed = Vec::new();
    let mut changed_meanwhile = Vec::new();
    vault.dir.update(vault.key, |v| {
        let stamp = v.stamp(vault.key);
        for step in touching {
            // The plan saw the vault as it was when the command started.
            let planned = session.local.get(&step.name).map(|(_, l)| l.digest);
            let current = v.get(scope, &step.name).map(|e| e.value.digest());
            let unchanged = current == planned;
            match (step.action, outcome(step)) {
                (Action::Store, _) => {
                    if !unchanged {
                        changed_meanwhile.push(step.name.clone());
                        continue;
                    }
                    let remote = &session.parameters[&step.name];
                    v.set(scope, &step.name, remote.value.clone(), &stamp);
                    let record =
                        session.sync_state(&step.name, remote.value.digest(), remote.version);
                    v.set_sync(scope, &step.name, Some(record));
                    stored.push(step.name.clone());
                }
                (Action::RemoveLocal, _) => {
                    if !unchanged {
                        changed_meanwhile.push(step.name.clone());
                        continue;
                    }
                    v.remove(scope, &step.name);
                    removed.push(step.name.clone());
                }
                (Action::Forget, _) | (Action::Delete, Some(Outcome::Deleted)) => {
                    v.forget_tombstone(scope, &step.name);
                }
                (Action::Put, Some(Outcome::Written { version })) => {
                    if let Some(digest) = planned.filter(|_| unchanged) {
                        let record = session.sync_state(&step.name, digest, *version);
                        v.set_sync(scope, &step.name, Some(record));
                    }
                }
                (Action::RecordSync, _) => {
                    let Some(digest) = planned.filter(|_| unchanged) else {
                        continue;
                    };
                    if !session.sync_recorded(&step.name, digest) {
                        let version = session.parameters[&step.name].version;
                        let record = session.sync_state(&step.name, digest, version);
                        v.set_sync(scope, &step.name, Some(record));
                    }
                }
                _ => {}
            }
        }
        Ok(())
    })?;
    done.stored = stored;
    done.removed = removed;
    done.changed_meanwhile = changed_meanwhile;
    Ok(())
}
