//! One module per command. Each takes the invocation's [`Context`] and its own arguments,
//! does its work through the library's modules, and hands a report to [`Output`].

mod check;
mod completions;
mod config;
mod copy;
mod diff;
mod doctor;
mod exec;
mod export;
mod get;
mod git;
mod history;
mod import;
mod init;
mod join;
mod list;
mod man;
mod path;
mod pull;
mod push;
mod recipients;
mod remove;
mod rollback;
mod set;
mod values;

use crate::cli::{Cli, Command};
use crate::config::Config;
use crate::error::Result;
use crate::output::{Output, Render};
use crate::session::Context;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, Write};

/// Runs the parsed command line. `Ok` holds the exit status: 0, or the status of the command
/// `exec` ran.
pub fn run(cli: Cli) -> Result<i32> {
    let cx = Context::new(Config::new(&cli.global)?);
    let out = Output {
        json: cx.config.json,
    };
    match cli.command {
        Command::Init(args) => init::run(&cx, &out, args),
        Command::Config(command) => config::run(&cx, &out, command),
        Command::Set(args) => set::run(&cx, &out, args),
        Command::Get(args) => get::run(&cx, &out, args),
        Command::List(args) => list::run(&cx, &out, args),
        Command::Remove(args) => remove::run(&cx, &out, args),
        Command::Path(args) => path::run(&cx, &out, args),
        Command::Export(args) => export::run(&cx, &out, args),
        Command::Import(args) => import::run(&cx, &out, args),
        Command::Check(args) => check::run(&cx, &out, args),
        Command::Copy(args) => copy::run(&cx, &out, args),
        Command::Diff(args) => return diff::run(&cx, &out, args),
        Command::Push(args) => push::run(&cx, &out, args),
        Command::Pull(args) => pull::run(&cx, &out, args),
        Command::History(args) => history::run(&cx, &out, args),
        Command::Rollback(args) => rollback::run(&cx, &out, args),
        Command::Doctor(args) => return doctor::run(&cx, &out, args),
        Command::Completions(args) => completions::run(&out, args),
        Command::Man(args) => man::run(&out, args),
        Command::Recipients(command) => recipients::run(&cx, &out, command),
        Command::Join(args) => join::run(&cx, &out, args),
        Command::GitSetup => git::setup(&cx, &out),
        Command::Resolve(args) => git::resolve(&cx, &out, args),
        Command::GitTextconv(args) => git::textconv(&cx, args),
        Command::GitMergeDriver(args) => return git::merge_driver(&cx, args),
        Command::Exec(args) => return exec::run(cx, args),
    }?;
    Ok(0)
}

/// API calls by operation, as sync reports show them.
type ApiCalls = BTreeMap<&'static str, u64>;

/// A sync report for one scope, which carries the API calls when it stands alone.
trait ScopeReport: Render + Serialize {
    fn set_api_calls(&mut self, calls: ApiCalls);
}

/// `--all`: `{"scopes":[<one report each>],"api_calls"}`; the calls are the whole run's.
#[derive(Serialize)]
struct EveryScope<R> {
    scopes: Vec<R>,
    api_calls: ApiCalls,
    /// "push" or "pull", for the line shown when the vault has no scopes.
    #[serde(skip)]
    command: &'static str,
}

impl<R: Render> Render for EveryScope<R> {
    fn render(&self, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<()> {
        if self.scopes.is_empty() {
            return writeln!(err, "The vault has no scopes; nothing to {}.", self.command);
        }
        self.scopes.iter().try_for_each(|s| s.render(out, err))
    }
}

/// Emits a sync command's reports: with `--all` together, the run's API calls once; else
/// the one report with them.
fn emit_per_scope<R: ScopeReport>(
    out: &Output,
    command: &'static str,
    all: bool,
    mut reports: Vec<R>,
    api_calls: ApiCalls,
) -> Result<()> {
    if all {
        return out.emit(&EveryScope {
            scopes: reports,
            api_calls,
            command,
        });
    }
    for report in &mut reports {
        report.set_api_calls(api_calls.clone());
        out.emit(report)?;
    }
    Ok(())
}
