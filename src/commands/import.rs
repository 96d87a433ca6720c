//! `ampsecret import FILE`: store a dotenv or JSON file's secrets in a scope. The whole file is
//! parsed and checked before anything is written, the plan is shown (names only) and
//! confirmed, and the change is one vault update.

use crate::cli::{ImportArgs, ImportFormat};
use crate::error::{Error, Result};
use crate::formats::{self, Entry, Problem, dotenv, json, python_dotenv};
use crate::output::{self, Output, Plan, Render, Tally};
use crate::scope::ScopeKey;
use crate::secret::{advanced_tier_warning, needs_advanced_tier};
use crate::session::{self, Context, OpenVault};
use serde::Serialize;
use std::io::{self, Read, Write};
use std::path::Path;
use zeroize::Zeroizing;

/// Problems listed in the one-line error before "and N more".
const SHOWN_PROBLEMS: usize = 5;

/// What importing one entry does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Added,
    Changed,
    Unchanged,
}

pub fn run(cx: &Context, out: &Output, args: ImportArgs) -> Result<()> {
    let scope = cx.scope(&args.scope)?;
    cx.require_vault_dir()?;
    let shown = args.file.display().to_string();
    let text = read_input(&args.file)?;
    let format = args.format.unwrap_or_else(|| guess_format(&args.file));
    let entries = match format {
        ImportFormat::Dotenv => dotenv::parse(&text),
        ImportFormat::PythonDotenv => python_dotenv::parse(&text),
        ImportFormat::Json => json::parse(&text),
    }
    .map_err(|problems| refuse(&shown, &problems))?;
    drop(text);
    let problems = formats::check_entries(&entries);
    if !problems.is_empty() {
        return Err(refuse(&shown, &problems));
    }
    if entries.is_empty() {
        return Err(Error::Invalid(format!(
            "{shown} holds no secrets; nothing was imported"
        )));
    }
    // The full SSM name must be valid too (length, depth), as `set` checks.
    let parameter_scope = scope.parameter_scope(&cx.app_identity()?)?;
    for entry in &entries {
        session::checked_parameter(&parameter_scope, &entry.name)?;
    }

    let vault = cx.vault()?;
    let plan = plan(&vault, &scope, &entries)?;
    let mut report = Imported {
        scope,
        file: shown,
        added: names(&plan, Change::Added),
        changed: names(&plan, Change::Changed),
        unchanged: names(&plan, Change::Unchanged),
        applied: false,
    };
    let pending = report.added.len() + report.changed.len();
    if args.dry_run || pending == 0 {
        return out.emit(&report);
    }
    cx.require_consent(args.yes, "import", true)?;
    if !out.json {
        out.print(&PlanView(&report))?;
    }
    let question = format!(
        "Apply {} to {}?",
        crate::output::count(pending, "change"),
        report.scope
    );
    cx.confirm(args.yes, "import", true, &question)?;
    for entry in entries
        .iter()
        .filter(|e| needs_advanced_tier(e.value.len()))
    {
        out.message(format_args!(
            "{}",
            advanced_tier_warning(&entry.name, entry.value.len())
        ));
    }
    vault.dir.update(vault.key, |v| {
        let stamp = v.stamp(vault.key);
        for (entry, (_, change)) in entries.iter().zip(&plan) {
            if *change != Change::Unchanged {
                v.set(&report.scope, &entry.name, entry.value.clone(), &stamp);
            }
        }
        Ok(())
    })?;
    report.applied = true;
    out.emit(&report)
}

/// `-` is standard input; anything else a file, read whole into wiped memory.
fn read_input(path: &Path) -> Result<Zeroizing<String>> {
    let mut bytes = Zeroizing::new(Vec::new());
    let shown = path.display();
    if path == Path::new("-") {
        std::io::stdin()
            .lock()
            .read_to_end(&mut bytes)
            .map_err(|e| Error::Other(format!("cannot read standard input: {e}")))?;
    } else {
        let mut file = std::fs::File::open(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::NotFound(format!("no file {shown}")),
            _ => Error::io("cannot open", path)(e),
        })?;
        file.read_to_end(&mut bytes)
            .map_err(Error::io("cannot read", path))?;
    }
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| Error::Invalid(format!("{shown} is not UTF-8 text; nothing was imported")))?;
    Ok(Zeroizing::new(text.to_owned()))
}

fn guess_format(path: &Path) -> ImportFormat {
    match path.extension().and_then(|e| e.to_str()) {
        Some(ext) if ext.eq_ignore_ascii_case("json") => ImportFormat::Json,
        _ => ImportFormat::Dotenv,
    }
}

/// One line naming the first problems and how many more there are.
fn refuse(shown: &str, problems: &[Problem]) -> Error {
    let mut listed: Vec<String> = problems
        .iter()
        .take(SHOWN_PROBLEMS)
        .map(ToString::to_string)
        .collect();
    if problems.len() > SHOWN_PROBLEMS {
        listed.push(format!("and {} more", problems.len() - SHOWN_PROBLEMS));
    }
    Error::Invalid(format!(
        "cannot import {shown}: {}; nothing was imported",
        listed.join("; ")
    ))
}

/// What each entry would do to the scope, in file order.
fn plan<'e>(
    vault: &OpenVault<'_>,
    scope: &ScopeKey,
    entries: &'e [Entry],
) -> Result<Vec<(&'e str, Change)>> {
    let view = vault.view()?;
    Ok(entries
        .iter()
        .map(|entry| {
            let change = match view.get(scope, &entry.name) {
                None => Change::Added,
                Some(existing) if existing.value() == entry.value => Change::Unchanged,
                Some(_) => Change::Changed,
            };
            (entry.name.as_str(), change)
        })
        .collect())
}

fn names(plan: &[(&str, Change)], which: Change) -> Vec<String> {
    plan.iter()
        .filter(|(_, change)| *change == which)
        .map(|(name, _)| (*name).to_owned())
        .collect()
}

/// `--json`: `{"scope","file","added","changed","unchanged","applied"}`.
#[derive(Serialize)]
struct Imported {
    #[serde(serialize_with = "crate::output::display")]
    scope: ScopeKey,
    file: String,
    added: Vec<String>,
    changed: Vec<String>,
    unchanged: Vec<String>,
    applied: bool,
}

impl Imported {
    /// Counted in the one vocabulary: a new name is created, a changed one updated.
    fn tally(&self) -> Tally {
        let mut tally = Tally::default();
        self.added
            .iter()
            .for_each(|_| tally.add(output::Change::Create));
        self.changed
            .iter()
            .for_each(|_| tally.add(output::Change::Update));
        tally
    }

    /// "; 3 unchanged", when some are.
    fn unchanged_note(&self) -> String {
        match self.unchanged.len() {
            0 => String::new(),
            n => format!(" ({n} unchanged)"),
        }
    }
}

/// The plan: every name with what importing it does.
struct PlanView<'a>(&'a Imported);

impl Render for PlanView<'_> {
    fn render(&self, _: &mut dyn Write, err: &mut dyn Write) -> io::Result<()> {
        let report = self.0;
        let mut plan = Plan::new(format!("Plan for {} from {}:", report.scope, report.file));
        let rows = [
            (output::Change::Create, "create (new)", &report.added),
            (output::Change::Update, "update (changed)", &report.changed),
            (output::Change::Keep, "unchanged", &report.unchanged),
        ];
        for (change, what, names) in rows {
            for name in names {
                plan.line(change, name, what.to_owned());
            }
        }
        plan.write(err)
    }
}

impl Render for Imported {
    fn render(&self, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<()> {
        let tally = self.tally();
        let dry_run = !self.applied && tally.changes() > 0;
        if dry_run {
            PlanView(self).render(out, err)?;
        }
        let nothing = format!(
            "Nothing to import: {} already holds {}.",
            self.scope,
            match self.unchanged.len() {
                1 => "this value".to_owned(),
                n => format!("these {n} values"),
            }
        );
        let target = format!("{} from {}", self.scope, self.file);
        let summary = tally.summary(dry_run, 0, &target, &nothing);
        match summary.strip_suffix('.') {
            Some(line) if tally.changes() > 0 && !dry_run => {
                writeln!(err, "{line}{}.", self.unchanged_note())
            }
            _ => writeln!(err, "{summary}"),
        }
    }
}
