//! `ampsecret remove NAME`: delete a secret from the vault, after confirming.

use crate::cli::RemoveArgs;
use crate::error::{Error, Result};
use crate::output::{Output, Render};
use crate::scope::ScopeKey;
use crate::session::{self, Context};
use crate::vault::format::Tombstone;
use serde::Serialize;
use std::io::{self, Write};

/// `--json`: `{"name","scope","removed":true}`.
#[derive(Serialize)]
struct Removed {
    name: String,
    #[serde(serialize_with = "crate::output::display")]
    scope: ScopeKey,
    removed: bool,
    /// It was in SSM: the next push deletes it there.
    synced: bool,
}

impl Render for Removed {
    fn render(&self, _: &mut dyn Write, err: &mut dyn Write) -> io::Result<()> {
        writeln!(err, "Removed {} from {}.", self.name, self.scope)?;
        if self.synced {
            writeln!(
                err,
                "It is still in SSM: the next 'ampsecret push' deletes it there."
            )?;
        }
        Ok(())
    }
}

pub fn run(cx: &Context, out: &Output, args: RemoveArgs) -> Result<()> {
    let scope = cx.scope(&args.scope)?;
    session::check_name(&args.name)?;
    let vault = cx.vault()?;
    let not_found = || Error::NotFound(format!("{} is no longer in {scope}", args.name));
    let view = vault.view()?;
    if view.get(&scope, &args.name).is_none() {
        return Err(session::secret_not_found(&view, &scope, &args.name, None));
    }
    drop(view);
    let question = format!("Remove {} from {scope}?", args.name);
    cx.confirm(args.yes, "remove", false, &question)?;
    let me = vault.member_name().unwrap_or_else(|| "unknown".into());
    let synced = vault.dir.update(vault.key, |v| {
        let entry = v.remove(&scope, &args.name).ok_or_else(not_found)?;
        // Removed after a sync: remember it (no value), so push deletes it from SSM and
        // pull does not bring it back.
        let Some(sync) = entry.sync else {
            return Ok(false);
        };
        v.forget_tombstone(&scope, &args.name);
        v.team.tombstones.push(Tombstone {
            scope: scope.clone(),
            name: args.name.clone(),
            parameter: sync.parameter,
            digest: sync.digest,
            removed_at: crate::vault::now(),
            by: me,
        });
        Ok(true)
    })?;
    out.emit(&Removed {
        name: args.name,
        scope,
        removed: true,
        synced,
    })
}
