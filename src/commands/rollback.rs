//! `ampsecret rollback NAME --to VERSION`: make an earlier value current again, as a new
//! version. In the vault by default; with `--remote`, SSM's version VERSION is read
//! (`name:VERSION`), written to SSM as a new version and stored in the vault, so both sides
//! agree. Plan, confirm or `--yes`; never a value on screen.

use crate::cli::RollbackArgs;
use crate::error::{Error, Result};
use crate::output::{Output, Render};
use crate::scope::ScopeKey;
use crate::secret::SecretValue;
use crate::session::{self, Context, OpenVault};
use crate::ssm::execute::tier_for;
use crate::ssm::governor::{Governor, Limits};
use crate::ssm::remote::Remote;
use crate::vault::SyncState;
use serde::Serialize;
use std::io::{self, Write};

/// `--json`: `{"name","scope","to","dry_run","version","remote"}`: `version` is the vault's
/// new version (none when nothing changed or on a dry run), `remote` SSM's side with
/// `--remote`.
#[derive(Serialize)]
struct RolledBack {
    name: String,
    scope: String,
    to: u32,
    dry_run: bool,
    version: Option<u32>,
    remote: Option<RemoteRollback>,
}

#[derive(Serialize)]
struct RemoteRollback {
    parameter: String,
    /// SSM's version before the rollback.
    from: i64,
    /// The new SSM version holding the old value (none on a dry run).
    version: Option<i64>,
}

impl Render for RolledBack {
    fn render(&self, _: &mut dyn Write, err: &mut dyn Write) -> io::Result<()> {
        if self.dry_run {
            return Ok(());
        }
        if let Some(remote) = &self.remote
            && let Some(version) = remote.version
        {
            writeln!(
                err,
                "Wrote SSM's version {} of {} as version {version}.",
                self.to, remote.parameter
            )?;
        }
        match self.version {
            Some(version) => writeln!(
                err,
                "{} in {} is now version {version}, with the value of {}version {}.",
                self.name,
                self.scope,
                if self.remote.is_some() { "SSM's " } else { "" },
                self.to
            ),
            None => writeln!(
                err,
                "{} in {} already holds that value; the vault is unchanged.",
                self.name, self.scope
            ),
        }
    }
}

/// The plan a person confirms (never the value).
struct Plan<'a>(&'a str);

impl Render for Plan<'_> {
    fn render(&self, _: &mut dyn Write, err: &mut dyn Write) -> io::Result<()> {
        writeln!(err, "{}", self.0)
    }
}

pub fn run(cx: &Context, out: &Output, args: RollbackArgs) -> Result<()> {
    session::check_name(&args.name)?;
    let scope = cx.scope(&args.scope)?;
    if args.remote {
        remote_rollback(cx, out, args, scope)
    } else {
        local_rollback(cx, out, args, scope)
    }
}

/// The vault's version `--to` becomes current again (as a new version).
fn local_rollback(cx: &Context, out: &Output, args: RollbackArgs, scope: ScopeKey) -> Result<()> {
    let vault = cx.vault()?;
    let view = vault.view()?;
    let Some(entry) = view.get(&scope, &args.name) else {
        return Err(session::secret_not_found(&view, &scope, &args.name, None));
    };
    let history = view.history_of(&scope, &args.name);
    let Some(past) = history.iter().find(|p| p.version == args.to) else {
        let kept: Vec<String> = std::iter::once(entry.version)
            .chain(history.iter().map(|p| p.version))
            .map(|v| v.to_string())
            .collect();
        let current = if entry.version == args.to {
            format!("version {} is the current one", args.to)
        } else {
            format!("the vault keeps versions {}", kept.join(", "))
        };
        return Err(Error::NotFound(format!(
            "{} in {scope} has no earlier version {}: {current} ('ampsecret history {}' lists them)",
            args.name, args.to, args.name
        )));
    };
    let value = past.value.clone();
    let plan = format!(
        "Roll {} in {scope} back to version {}: its value becomes version {} (a local change; 'ampsecret push' publishes it).",
        args.name,
        args.to,
        entry.version + 1
    );
    let planned = entry.value().digest();
    confirm(cx, out, &args, &plan)?;
    let version = if args.dry_run {
        None
    } else {
        store(&vault, &scope, &args.name, planned, value, None)?
    };
    out.emit(&RolledBack {
        name: args.name,
        scope: scope.to_string(),
        to: args.to,
        dry_run: args.dry_run,
        version,
        remote: None,
    })
}

/// SSM's version `--to` is written to SSM as a new version and stored in the vault.
fn remote_rollback(cx: &Context, out: &Output, args: RollbackArgs, scope: ScopeKey) -> Result<()> {
    let (_, parameter) = cx.parameter(&scope, &args.name)?;
    let vault = cx.vault()?;
    let (planned, unpushed) = match vault.view()?.get(&scope, &args.name) {
        Some(entry) => {
            let digest = entry.value().digest();
            let synced = entry.sync.as_ref().map(|s| s.digest);
            (
                Some(digest),
                (synced != Some(digest)).then_some(entry.version),
            )
        }
        None => (None, None),
    };
    let remote = Remote::connect(&args.aws)?;
    let ssm = remote.ssm();
    let to = i64::from(args.to);
    let old =
        remote
            .run(ssm.read_version(&parameter, to))
            .map_err(|e| match e.code.as_deref() {
                Some("ParameterVersionNotFound" | "ParameterNotFound") => Error::NotFound(format!(
                    "SSM has no version {to} of {parameter} ('ampsecret history {}' lists them)",
                    args.name
                )),
                _ => Error::Remote(format!(
                    "cannot read version {to} of {parameter}: {e}; nothing was changed"
                )),
            })?;
    let current = remote
        .run(ssm.read_names(std::slice::from_ref(&parameter)))
        .map_err(|e| Error::Remote(format!("cannot read {parameter}: {e}; nothing was changed")))?
        .remove(&parameter)
        .ok_or_else(|| {
            Error::NotFound(format!(
                "SSM no longer has {parameter}; 'ampsecret push' creates it"
            ))
        })?;
    if current.version == to {
        return Err(Error::NotFound(format!(
            "version {to} is SSM's current version of {parameter}; nothing to roll back"
        )));
    }
    old.value.validate().map_err(|reason| {
        Error::Invalid(format!(
            "SSM's version {to} of {parameter} cannot be stored: {reason}"
        ))
    })?;
    // The vault's own unpushed edit is replaced too; its history keeps it.
    let kept = unpushed.map_or_else(String::new, |v| {
        format!(" (its unpushed version {v} stays in its history)")
    });
    let plan = format!(
        "Roll {parameter} back to SSM's version {to}: written as SSM version {} (PutParameter), and {} in {scope} takes the same value{kept}.",
        current.version + 1,
        args.name
    );
    confirm(cx, out, &args, &plan)?;
    if args.dry_run {
        return out.emit(&RolledBack {
            name: args.name,
            scope: scope.to_string(),
            to: args.to,
            dry_run: true,
            version: None,
            remote: Some(RemoteRollback {
                parameter,
                from: current.version,
                version: None,
            }),
        });
    }
    let governor = Governor::new(Limits::writes(10.0));
    let written = remote
        .run(ssm.put(
            &governor,
            &parameter,
            &old.value,
            tier_for(None, old.value.len()),
            None,
        ))
        .map_err(|e| {
            Error::Remote(format!(
                "cannot write {parameter}: {e}; nothing was changed"
            ))
        })?;
    let sync = SyncState {
        parameter: parameter.clone(),
        version: written,
        digest: old.value.digest(),
        synced_at: crate::vault::now(),
    };
    let version = store(
        &vault,
        &scope,
        &args.name,
        planned.unwrap_or_default(),
        old.value,
        Some(sync),
    )
    .map_err(|e| {
        Error::Partial(format!(
            "SSM holds the rolled-back value as version {written}, but the vault was not updated ({e}); 'ampsecret pull' brings it in"
        ))
    })?;
    out.emit(&RolledBack {
        name: args.name,
        scope: scope.to_string(),
        to: args.to,
        dry_run: false,
        version,
        remote: Some(RemoteRollback {
            parameter,
            from: current.version,
            version: Some(written),
        }),
    })
}

/// Shows the plan and asks (or takes `--yes`); a dry run only shows it.
fn confirm(cx: &Context, out: &Output, args: &RollbackArgs, plan: &str) -> Result<()> {
    if !args.dry_run {
        cx.require_consent(args.yes, "rollback", true)?;
    }
    if !out.json {
        out.print(&Plan(plan))?;
    }
    if args.dry_run {
        return Ok(());
    }
    cx.confirm(args.yes, "rollback", true, "Roll back?")
}

/// Stores `value` as the secret's new current version (and `sync` as its sync record),
/// unless the vault changed it since the plan (`planned` is the digest the plan saw; all
/// zeros for a secret the vault did not have). Returns the new version, or `None` when the
/// vault already held the value.
fn store(
    vault: &OpenVault<'_>,
    scope: &ScopeKey,
    name: &str,
    planned: [u8; 32],
    value: SecretValue,
    sync: Option<SyncState>,
) -> Result<Option<u32>> {
    vault.dir.update(vault.key, |v| {
        let current = v.get(scope, name).map(|e| e.value.digest());
        if current.unwrap_or_default() != planned {
            return Err(Error::Conflict(format!(
                "{name} in {scope} changed while rolling back; nothing was changed in the vault: run the rollback again"
            )));
        }
        let unchanged = current == Some(value.digest());
        let stamp = v.stamp(vault.key);
        v.set(scope, name, value, &stamp);
        if let Some(sync) = sync {
            v.set_sync(scope, name, Some(sync));
        }
        Ok((!unchanged).then(|| v.get(scope, name).map(|e| e.version)).flatten())
    })
}
