//! One module per command. Each takes the invocation's [`Context`] and its own arguments,
//! does its work through the library's modules, and hands a report to [`Output`].

mod check;
mod completions;
mod diff;
mod exec;
mod export;
mod get;
mod git;
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
mod set;

use crate::cli::{Cli, Command};
use crate::config::Config;
use crate::error::Result;
use crate::output::Output;
use crate::session::Context;

/// Runs the parsed command line. `Ok` holds the exit status: 0, or the status of the command
/// `exec` ran.
pub fn run(cli: Cli) -> Result<i32> {
    let cx = Context::new(Config::new(&cli.global)?);
    let out = Output {
        json: cx.config.json,
    };
    match cli.command {
        Command::Init(args) => init::run(&cx, &out, args),
        Command::Set(args) => set::run(&cx, &out, args),
        Command::Get(args) => get::run(&cx, &out, args),
        Command::List(args) => list::run(&cx, &out, args),
        Command::Remove(args) => remove::run(&cx, &out, args),
        Command::Path(args) => path::run(&cx, &out, args),
        Command::Export(args) => export::run(&cx, &out, args),
        Command::Import(args) => import::run(&cx, &out, args),
        Command::Check(args) => check::run(&cx, &out, args),
        Command::Diff(args) => diff::run(&cx, &out, args),
        Command::Push(args) => push::run(&cx, &out, args),
        Command::Pull(args) => pull::run(&cx, &out, args),
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
