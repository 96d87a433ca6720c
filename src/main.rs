//! The `ampsecret` binary: parse arguments, set up diagnostics, run, map errors to exit codes.
#![forbid(unsafe_code)]

use ampsecret::Error;
use ampsecret::cli::Cli;
use std::process::ExitCode;

fn main() -> ExitCode {
    // Before any key or value is in memory: no core dumps, no same-user ptrace.
    ampsecret::sys::harden_process();
    #[cfg(debug_assertions)]
    test_panic();
    // A TAB in a shell with ampsecret's completion script: answer it and exit.
    ampsecret::cli::complete::answer_request();
    let cli = match Cli::parse_from(std::env::args_os().collect()) {
        Ok(cli) => cli,
        Err(error) => return usage_error(error),
    };
    init_diagnostics(cli.global.verbose);
    let json = cli.global.json;
    match ampsecret::run(cli) {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        // The reader of our output stopped reading (`| head`): that is its choice.
        Err(Error::StdoutClosed) => ExitCode::SUCCESS,
        Err(error) => fail(&error, json),
    }
}

/// Tests only (debug builds): panics when `AMPSECRET_TEST_PANIC` is set, after catching one,
/// to show that panics unwind and report with the unwinder this executable links in
/// (src/build.rs).
#[cfg(debug_assertions)]
fn test_panic() {
    if std::env::var_os("AMPSECRET_TEST_PANIC").is_some() {
        let caught = std::panic::catch_unwind(|| panic!("a test panic, caught"));
        eprintln!("caught: {}", caught.is_err());
        panic!("a test panic");
    }
}

/// Reports `error` on stderr and turns it into the exit code.
fn fail(error: &Error, json: bool) -> ExitCode {
    // One line, always: scripts and people read the first line only. Anything a terminal
    // would act on (a name holding escape sequences) is shown escaped.
    let message = error
        .to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let message = ampsecret::text::escape(&message);
    if json {
        let doc = serde_json::json!({
            "error": { "kind": error.kind(), "code": error.exit_code(), "message": message }
        });
        eprintln!("{doc}");
    } else if matches!(error, Error::Cancelled) {
        // "n" at a prompt is an answer, not a failure: said quietly (exit 130).
        eprintln!("Cancelled; nothing was changed.");
    } else {
        eprintln!(
            "{}",
            ampsecret::output::styled_prefix(&format!("error: {message}"))
        );
    }
    ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(1))
}

/// Prints clap's error as one line that says what to do next, or help and version as they
/// are.
fn usage_error(error: clap::Error) -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    match ampsecret::cli::usage::message(&error, &args) {
        Some(text) => {
            // `--json` anywhere before `--` asks for the JSON error too.
            let json = args
                .iter()
                .take_while(|a| *a != "--")
                .any(|a| a == "--json");
            fail(&Error::Usage(text), json)
        }
        None => {
            let _ = error.print();
            ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2))
        }
    }
}

/// Diagnostics go to stderr and come from ampsecret's own code only. Dependencies (the
/// keyring) stay at errors without -v and warnings with it. The AWS SDK's own lines
/// (credential-chain warnings full of internals) are off until -vv, and never above warnings
/// (at debug level they may show requests, values included): an AWS failure is ampsecret's
/// one line.
fn init_diagnostics(verbose: u8) {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::prelude::*;
    let level = match verbose {
        0 => LevelFilter::WARN,
        1 => LevelFilter::INFO,
        2 => LevelFilter::DEBUG,
        _ => LevelFilter::TRACE,
    };
    let dependencies = if verbose == 0 {
        LevelFilter::ERROR
    } else {
        LevelFilter::WARN
    };
    // A target matches every target that starts with it: `aws` covers aws_config,
    // aws_sdk_ssm, aws_smithy_runtime and the rest.
    let aws = if verbose >= 2 {
        LevelFilter::WARN
    } else {
        LevelFilter::OFF
    };
    let filter = Targets::new()
        .with_default(dependencies)
        .with_target("aws", aws)
        .with_target("ampsecret", level);
    let format = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(ampsecret::output::colour(ampsecret::output::Stream::Err))
        .without_time();
    tracing_subscriber::registry()
        .with(format.with_filter(filter))
        .init();
}
