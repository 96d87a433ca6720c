//! What `diff`, `push` and `pull` share: the vault side and the SSM side of one scope,
//! compared three ways.

use super::Context;
use crate::cli::{AwsArgs, ConflictArgs, ScopeArgs};
use crate::error::{Error, Result};
use crate::prompt;
use crate::scope::ScopeKey;
use crate::ssm::client::{ClientOptions, RemoteParameter, Ssm};
use crate::ssm::plan::{self, Decisions, LocalState, RemoteState, Resolution, Status};
use crate::vault::{Key, SyncState, VaultDir};
use std::collections::BTreeMap;

/// One scope, loaded from both sides.
pub struct Session {
    pub vault: VaultDir,
    pub key: Key,
    pub scope: ScopeKey,
    pub prefix: String,
    pub runtime: tokio::runtime::Runtime,
    pub ssm: Ssm,
    /// The vault's secrets of this scope: value and the state the plan sees.
    pub local: BTreeMap<String, (crate::secret::SecretValue, LocalState)>,
    pub remote: BTreeMap<String, RemoteParameter>,
}

impl Session {
    /// Opens the vault, checks every local name against SSM's rules, and reads the scope's
    /// prefix from SSM.
    pub fn load(cx: &Context, scope: &ScopeArgs, aws: &AwsArgs) -> Result<Session> {
        let scope = cx.scope(scope)?;
        let vault = cx.open_vault()?;
        let key = cx.unlock(&vault)?;
        let parameter_scope = scope.parameter_scope(&cx.app_identity(Some(&vault))?)?;
        let prefix = parameter_scope.prefix();

        let mut local = BTreeMap::new();
        {
            let plaintext = vault.read(&key)?;
            let view = plaintext.view()?;
            for entry in view
                .scope(&scope)
                .map(|s| s.secrets.as_slice())
                .unwrap_or_default()
            {
                let parameter = super::checked_parameter(&parameter_scope, &scope, entry.name)?;
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
        }

        let (runtime, ssm) = connect(aws)?;
        tracing::info!("reading {prefix} from SSM");
        let remote = runtime.block_on(ssm.read_scope(&prefix)).map_err(|e| {
            Error::Remote(format!(
                "cannot read {prefix} from SSM: {e}; nothing was changed"
            ))
        })?;
        Ok(Session {
            vault,
            key,
            scope,
            prefix,
            runtime,
            ssm,
            local,
            remote,
        })
    }

    /// The full SSM name of `name` in this scope.
    pub fn parameter(&self, name: &str) -> String {
        format!("{}/{name}", self.prefix)
    }

    /// Every name on either side with its status.
    pub fn compare(&self) -> Vec<(String, Status)> {
        let local: BTreeMap<String, LocalState> = self
            .local
            .iter()
            .map(|(n, (_, s))| (n.clone(), s.clone()))
            .collect();
        let remote: BTreeMap<String, RemoteState> = self
            .remote
            .iter()
            .map(|(n, r)| {
                let state = RemoteState {
                    digest: r.value.digest(),
                    version: r.version,
                };
                (n.clone(), state)
            })
            .collect();
        plan::compare(&local, &remote)
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
            synced_at: super::now(),
        }
    }
}

/// An async runtime and an SSM client configured from the flags and the standard chain.
pub fn connect(aws: &AwsArgs) -> Result<(tokio::runtime::Runtime, Ssm)> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Other(format!("cannot start the async runtime: {e}")))?;
    let options = ClientOptions {
        profile: aws.profile.clone(),
        region: aws.region.clone(),
    };
    let ssm = runtime
        .block_on(Ssm::connect(&options))
        .map_err(Error::Remote)?;
    Ok((runtime, ssm))
}

/// The resolution the flags give for every conflict: `--force` means "this command's
/// direction wins".
pub fn flag_resolution(flags: &ConflictArgs, force_means: Resolution) -> Option<Resolution> {
    if flags.force {
        Some(force_means)
    } else if flags.keep_local {
        Some(Resolution::KeepLocal)
    } else if flags.keep_remote {
        Some(Resolution::KeepRemote)
    } else {
        None
    }
}

/// Asks, on a terminal, how to settle each undecided name; a script gets a conflict error
/// and nothing is changed.
pub fn decide(
    cx: &Context,
    names: &[String],
    statuses: &[(String, Status)],
    command: &str,
) -> Result<Decisions> {
    let status_of = |name: &str| {
        statuses
            .iter()
            .find(|(n, _)| n == name)
            .map_or(Status::Conflict, |(_, s)| *s)
    };
    if !cx.interactive {
        return Err(Error::Conflict(format!(
            "{} need a decision before {command} ({}); pass --keep-local, --keep-remote or --force; nothing was changed",
            names.join(", "),
            names
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
    for name in names {
        let question = format!(
            "{name} is {}. Which value wins?",
            status_of(name).describe()
        );
        match prompt::select(&question, &choices)? {
            0 => decisions.insert(name.clone(), Resolution::KeepLocal),
            1 => decisions.insert(name.clone(), Resolution::KeepRemote),
            _ => return Err(Error::Cancelled),
        };
    }
    Ok(decisions)
}

/// `n name(s)`.
pub fn count(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}
