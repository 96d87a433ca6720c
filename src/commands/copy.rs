//! `ampsecret copy --from SCOPE --to SCOPE [NAME…]`: copy secrets between the vault's scopes
//! (bootstrapping a branch or sandbox from a template scope) after a plan and a
//! confirmation. Local, like `set`; values are never shown.

use crate::cli::CopyArgs;
use crate::error::{Error, Result};
use crate::output::{self, Output, Plan, Render, Tally, count};
use crate::scope::ScopeKey;
use crate::session::{self, Context};
use serde::Serialize;
use std::io::{self, Write};

/// What a copy does to one name in `--to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    /// Not in `--to`: created.
    Add,
    /// In `--to` with another value, and `--overwrite`: replaced.
    Replace,
    /// In `--to` with another value, without `--overwrite`: left as it is.
    Keep,
    /// In `--to` with the same value.
    Unchanged,
}

/// `--json`: `{"from","to","dry_run","added","changed","kept","unchanged","applied",
/// "changed_meanwhile"}` (the words import uses).
#[derive(Serialize)]
struct Copied {
    #[serde(serialize_with = "crate::output::display")]
    from: ScopeKey,
    #[serde(serialize_with = "crate::output::display")]
    to: ScopeKey,
    dry_run: bool,
    added: Vec<String>,
    /// Replaced with `--overwrite`.
    changed: Vec<String>,
    kept: Vec<String>,
    unchanged: Vec<String>,
    applied: bool,
    changed_meanwhile: Vec<String>,
}

impl Copied {
    fn pending(&self) -> usize {
        self.added.len() + self.changed.len()
    }

    /// What was (or, in a dry run, would be) done, by kind.
    fn tally(&self) -> Tally {
        let mut tally = Tally::default();
        for name in &self.added {
            if !self.changed_meanwhile.contains(name) {
                tally.add(output::Change::Create);
            }
        }
        for name in &self.changed {
            if !self.changed_meanwhile.contains(name) {
                tally.add(output::Change::Update);
            }
        }
        tally
    }
}

/// The plan, one line per name, on stderr: the shape and words of import's.
struct PlanView<'a>(&'a Copied);

impl Render for PlanView<'_> {
    fn render(&self, _: &mut dyn Write, err: &mut dyn Write) -> io::Result<()> {
        let c = self.0;
        let mut plan = Plan::new(format!("Plan for {} from {}:", c.to, c.from));
        let kept = format!(
            "kept: the value differs in {} (--overwrite replaces it)",
            c.to
        );
        let rows = [
            (output::Change::Create, "create (new)", &c.added),
            (output::Change::Update, "update (changed)", &c.changed),
            (output::Change::Keep, kept.as_str(), &c.kept),
            (output::Change::Keep, "unchanged", &c.unchanged),
        ];
        for (change, what, names) in rows {
            for name in names {
                plan.line(change, name, what.to_owned());
            }
        }
        plan.write(err)
    }
}

impl Render for Copied {
    fn render(&self, _: &mut dyn Write, err: &mut dyn Write) -> io::Result<()> {
        let mut problems = Plan::new(String::new());
        for name in &self.changed_meanwhile {
            problems.problem(name, "changed in the vault during the copy; kept".into());
        }
        problems.write_lines(err)?;
        let tally = self.tally();
        let nothing = format!("Nothing to copy: {} already holds these values.", self.to);
        let summary = tally.summary(self.dry_run, 0, &self.to.to_string(), &nothing);
        if tally.changes() == 0 {
            return writeln!(err, "{summary}");
        }
        writeln!(
            err,
            "{summary} Local only: 'ampsecret push' publishes them."
        )
    }
}

pub fn run(cx: &Context, out: &Output, args: CopyArgs) -> Result<()> {
    let from = cx.parse_scope(&args.from, "--from")?;
    let to = cx.parse_scope(&args.to, "--to")?;
    if from == to {
        return Err(Error::Usage(format!(
            "--from and --to are the same scope ({from}): nothing to copy"
        )));
    }
    for name in &args.names {
        session::check_name(name)?;
    }
    // Names must fit the destination's SSM path, where it is known (as `set` checks).
    if let Ok(parameter_scope) = to.parameter_scope(&cx.app_identity()?) {
        for name in &args.names {
            session::checked_parameter(&parameter_scope, name)?;
        }
    }
    let vault = cx.vault()?;
    let view = vault.view()?;
    let source: Vec<&str> = match view.scope(&from) {
        Some(scope) => scope.secrets.iter().map(|e| e.name).collect(),
        None => Vec::new(),
    };
    let names: Vec<&str> = if args.names.is_empty() {
        source.clone()
    } else {
        let missing: Vec<&str> = args
            .names
            .iter()
            .map(String::as_str)
            .filter(|n| !source.contains(n))
            .collect();
        if !missing.is_empty() {
            return Err(Error::NotFound(format!(
                "no secret {} in {from}; nothing was copied",
                missing.join(", ")
            )));
        }
        let mut names: Vec<&str> = args.names.iter().map(String::as_str).collect();
        names.sort_unstable();
        names.dedup();
        names
    };
    if names.is_empty() {
        return Err(Error::NotFound(format!(
            "no secrets in {from}; nothing to copy ('ampsecret list --all' shows the vault's scopes)"
        )));
    }

    let mut report = Copied {
        from: from.clone(),
        to: to.clone(),
        dry_run: args.dry_run,
        added: Vec::new(),
        changed: Vec::new(),
        kept: Vec::new(),
        unchanged: Vec::new(),
        applied: false,
        changed_meanwhile: Vec::new(),
    };
    // The digests the plan saw: a copy applies only where both sides are still as planned.
    let mut planned = Vec::new();
    for name in names {
        let value = view.get(&from, name).map(|e| e.value().digest());
        let existing = view.get(&to, name).map(|e| e.value().digest());
        let change = match existing {
            None => Change::Add,
            Some(digest) if Some(digest) == value => Change::Unchanged,
            Some(_) if args.overwrite => Change::Replace,
            Some(_) => Change::Keep,
        };
        let list = match change {
            Change::Add => &mut report.added,
            Change::Replace => &mut report.changed,
            Change::Keep => &mut report.kept,
            Change::Unchanged => &mut report.unchanged,
        };
        list.push(name.to_owned());
        if matches!(change, Change::Add | Change::Replace) {
            planned.push((name.to_owned(), value, existing));
        }
    }
    drop(view);

    if report.pending() > 0 && !args.dry_run {
        cx.require_consent(args.yes, "copy", true)?;
    }
    if !out.json {
        out.print(&PlanView(&report))?;
    }
    if report.pending() == 0 || args.dry_run {
        return out.emit(&report);
    }
    let question = format!(
        "Copy {} from {from} to {to}?",
        count(report.pending(), "secret")
    );
    cx.confirm(args.yes, "copy", true, &question)?;
    let mut changed_meanwhile = Vec::new();
    vault.dir.update(vault.key, |v| {
        let stamp = v.stamp(vault.key);
        for (name, source_digest, dest_digest) in &planned {
            let value = v.get(&from, name).map(|e| e.value.clone());
            let current_dest = v.get(&to, name).map(|e| e.value.digest());
            match value {
                Some(value)
                    if Some(value.digest()) == *source_digest && current_dest == *dest_digest =>
                {
                    v.set(&to, name, value, &stamp);
                }
                _ => changed_meanwhile.push(name.clone()),
            }
        }
        Ok(())
    })?;
    report.applied = true;
    report.changed_meanwhile = changed_meanwhile;
    out.emit(&report)
}
