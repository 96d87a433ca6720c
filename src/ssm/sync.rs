//! What `diff`, `push` and `pull` share: the vault side and the SSM side of one scope,
//! compared three ways, and the decisions a plan needs before it can act.

use super::client::RemoteParameter;
use super::plan::{self, Decisions, Direction, LocalState, RemoteState, Resolution, Status, Step};
use super::remote::{LazyRemote, Remote};
use crate::amplify::ParameterScope;
use crate::cli::{ConflictArgs, ScopeArgs, SyncArgs};
use crate::error::{Error, Result};
use crate::prompt;
use crate::scope::ScopeKey;
use crate::secret::SecretValue;
use crate::session::{self, Context, OpenVault};
use crate::vault::SyncState;
use std::collections::BTreeMap;

/// The scopes a sync command works on: the one the flags name, or (`all`) every scope in
/// the vault, in the vault's order.
pub fn targets(cx: &Context, scope: &ScopeArgs, all: bool) -> Result<Vec<ScopeKey>> {
    if !all {
        return Ok(vec![cx.scope(scope)?]);
    }
    let vault = cx.vault()?;
    let view = vault.view()?;
    Ok(view.scopes.into_iter().map(|s| s.key).collect())
}

/// Every scope the sync flags name (`--all`: the vault's), loaded from both sides, its
/// conflicts decided and planned by `plan` (given each name's status and the decisions).
pub fn plan_each<'a>(
    cx: &'a Context,
    args: &SyncArgs,
    remote: &'a LazyRemote<'_>,
    direction: Direction,
    plan: impl Fn(&[(&str, Status)], &Decisions) -> Vec<Step>,
) -> Result<Vec<(SyncSession<'a>, Vec<Step>)>> {
    let mut plans = Vec::new();
    for scope in targets(cx, &args.scope, args.all)? {
        let session = SyncSession::load(cx, scope, remote)?;
        let compared = session.compare();
        let statuses: Vec<(&str, Status)> =
            compared.iter().map(|(n, s)| (n.as_str(), *s)).collect();
        let decisions = decide(cx, &statuses, direction, &args.conflicts)?;
        let steps = plan(&statuses, &decisions);
        plans.push((session, steps));
    }
    Ok(plans)
}

/// Names the Region, account (when an ARN showed it) and endpoint a sync command talks to,
/// on stderr before its plan (`--json` reports carry it as `target`).
pub fn show_target(out: &crate::output::Output, remote: &LazyRemote<'_>) {
    if let (false, Some(remote)) = (out.json, remote.connected()) {
        out.message(format_args!("SSM: {}", remote.target()));
    }
}

/// One scope, loaded from both sides.
pub struct SyncSession<'a> {
    pub vault: OpenVault<'a>,
    pub scope: ScopeKey,
    parameter_scope: ParameterScope,
    pub prefix: String,
    pub remote: &'a Remote,
    /// The vault's secrets of this scope: value and the state the plan sees.
    pub local: BTreeMap<String, (SecretValue, LocalState)>,
    /// Secrets removed here after a sync with this very SSM name: the digest then agreed.
    pub removed: BTreeMap<String, [u8; 32]>,
    pub parameters: BTreeMap<String, RemoteParameter>,
}

impl<'a> SyncSession<'a> {
    /// Opens the vault, checks every local name against SSM's rules, and reads the scope's
    /// prefix from SSM.
    pub fn load(
        cx: &'a Context,
        scope: ScopeKey,
        remote: &'a LazyRemote<'_>,
    ) -> Result<SyncSession<'a>> {
        let vault = cx.vault()?;
        let parameter_scope = scope.parameter_scope(&cx.app_identity()?)?;
        let prefix = parameter_scope.prefix();

        let mut local = BTreeMap::new();
        let view = vault.view()?;
        for entry in view
            .scope(&scope)
            .map(|s| s.secrets.as_slice())
            .unwrap_or_default()
        {
            let parameter = session::checked_parameter(&parameter_scope, entry.name)?;
            let value = entry.value();
            let base = entry
                .sync
                .as_ref()
                .filter(|s| s.parameter == parameter)
                .map(|s| s.digest);
            let state = LocalState {
                digest: value.digest(),
                base,
            };
            local.insert(entry.name.to_owned(), (value, state));
        }
        let removed = view
            .team
            .tombstones
            .iter()
            .filter(|t| t.scope == scope && t.parameter == parameter_scope.parameter_name(&t.name))
            .map(|t| (t.name.clone(), t.digest))
            .collect();

        let remote = remote.get()?;
        tracing::info!("reading {prefix} from SSM");
        let parameters = remote.run(remote.ssm().read_scope(&prefix)).map_err(|e| {
            Error::Remote(format!(
                "cannot read {prefix} from SSM: {e}; nothing was changed"
            ))
        })?;
        Ok(SyncSession {
            vault,
            scope,
            parameter_scope,
            prefix,
            remote,
            local,
            removed,
            parameters,
        })
    }

    /// The full SSM name of `name` in this scope.
    pub fn parameter(&self, name: &str) -> String {
        self.parameter_scope.parameter_name(name)
    }

    /// Every name on either side with its status, in name order.
    pub fn compare(&self) -> Vec<(String, Status)> {
        let local: BTreeMap<String, LocalState> = self
            .local
            .iter()
            .map(|(n, (_, s))| (n.clone(), s.clone()))
            .collect();
        let remote: BTreeMap<String, RemoteState> = self
            .parameters
            .iter()
            .map(|(n, r)| {
                let state = RemoteState {
                    digest: r.value.digest(),
                    version: r.version,
                };
                (n.clone(), state)
            })
            .collect();
        plan::compare(&local, &remote, &self.removed)
            .into_iter()
            .map(|(n, s)| (n.to_owned(), s))
            .collect()
    }

    /// Whether the vault's last sync record for `name` already says both sides hold the value
    /// with `digest`; then there is nothing to record, and the vault need not be rewritten.
    pub fn sync_recorded(&self, name: &str, digest: [u8; 32]) -> bool {
        self.local
            .get(name)
            .is_some_and(|(_, local)| local.base == Some(digest))
    }

    /// The sync record for a value both sides now hold at `version`.
    pub fn sync_state(&self, name: &str, digest: [u8; 32], version: i64) -> SyncState {
        SyncState {
            parameter: self.parameter(name),
            version,
            digest,
            synced_at: crate::vault::now(),
        }
    }
}

/// A resolution for every name that needs one before a plan in `direction`: from the flags
/// (`--force` means "this direction wins"), else asked on a terminal; a script gets a
/// conflict error naming them all, and nothing is changed.
pub fn decide(
    cx: &Context,
    compared: &[(&str, Status)],
    direction: Direction,
    flags: &ConflictArgs,
) -> Result<Decisions> {
    let undecided = plan::undecided(compared, direction);
    let status_of = |name: &str| {
        compared
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(Status::Conflict, |(_, s)| *s)
    };
    let from_flags = if flags.force {
        Some(direction.winner())
    } else if flags.keep_local {
        Some(Resolution::KeepLocal)
    } else if flags.keep_remote {
        Some(Resolution::KeepRemote)
    } else {
        None
    };
    if let Some(resolution) = from_flags {
        // The flags speak for every name, also those a plan acts on without a decision
        // (a secret removed here comes back from SSM with --keep-remote).
        return Ok(compared
            .iter()
            .map(|(name, _)| ((*name).to_owned(), resolution))
            .collect());
    }
    if undecided.is_empty() {
        return Ok(Decisions::new());
    }
    let verb = match direction {
        Direction::Push => "pushing",
        Direction::Pull => "pulling",
    };
    if !cx.config.interactive {
        return Err(Error::Conflict(format!(
            "{} {} a decision before {verb} ({}); pass --keep-local, --keep-remote or --force; nothing was changed",
            undecided.join(", "),
            if undecided.len() == 1 {
                "needs"
            } else {
                "need"
            },
            undecided
                .iter()
                .map(|n| status_of(n).describe())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let choices = [
        "keep the vault's value".to_owned(),
        "keep SSM's value".to_owned(),
        "abort; change nothing".to_owned(),
    ];
    let mut decisions = Decisions::new();
    for name in undecided {
        let question = format!(
            "{name} is {}. Which value wins?",
            status_of(name).describe()
        );
        let resolution = match prompt::select(&question, &choices)? {
            0 => Resolution::KeepLocal,
            1 => Resolution::KeepRemote,
            _ => return Err(Error::Cancelled),
        };
        decisions.insert(name.to_owned(), resolution);
    }
    Ok(decisions)
}
