//! The `ampsecret` binary: parse arguments, set up diagnostics, run, map errors to exit codes.
#![forbid(unsafe_code)]

use ampsecret::Error;
use ampsecret::cli::Cli;
use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // Before any key or value is in memory: no core dumps, no same-user ptrace.
    ampsecret::sys::harden_process();
    // A TAB in a shell with ampsecret's completion script: answer it and exit.
    ampsecret::cli::complete::answer_request();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage_error(error),
    };
    init_diagnostics(cli.global.verbose);
    let json = cli.global.json;
    match ampsecret::run(cli) {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        // The reader of our output stopped reading (`| head`): that is its choice.
        Err(Error::StdoutClosed) => ExitCode::SUCCESS,
        Err(error) => {
            // One line, always: scripts and people read the first line only. Anything a
            // terminal would act on (a name holding escape sequences) is shown escaped.
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
            } else {
                eprintln!("error: {message}");
            }
            ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(1))
        }
    }
}

/// Prints clap's error as one line (keeping its "tip"), or help and version as they are.
fn usage_error(error: clap::Error) -> ExitCode {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = error.print();
        return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2));
    }
    // A stray word on the command line may be a value pasted where none is taken: never
    // repeat it (it would land in logs and scrollback).
    if error.kind() == ErrorKind::UnknownArgument
        && let Some(ContextValue::String(arg)) = error.get(ContextKind::InvalidArg)
        && !arg.starts_with('-')
    {
        eprintln!(
            "error: unexpected argument (not shown); values are never taken from the command line: use the hidden prompt, --stdin or --file (see 'ampsecret help')"
        );
        return ExitCode::from(2);
    }
    // clap's message runs until the "Usage:" block; keep it and any tips on one line.
    let text = error.render().to_string();
    let message: Vec<&str> = text
        .lines()
        .map(str::trim)
        .take_while(|l| !l.starts_with("Usage:"))
        .filter(|l| !l.is_empty())
        .collect();
    let message = message.join(" ");
    eprintln!(
        "{} (see 'ampsecret --help')",
        ampsecret::text::escape(&message)
    );
    ExitCode::from(2)
}

/// Diagnostics go to stderr and come from ampsecret's own code only. The AWS SDK's own lines
/// (credential-chain warnings full of internals) are off until -vv, and never above warnings
/// (at debug level they may show requests, values included); other dependencies stay at
/// warnings.
fn init_diagnostics(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    // A directive matches every target that starts with it: `aws` covers aws_config,
    // aws_sdk_ssm, aws_smithy_runtime and the rest.
    let aws = if verbose >= 2 { "warn" } else { "off" };
    let filter = tracing_subscriber::EnvFilter::new(format!("warn,aws={aws},ampsecret={level}"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(
            std::env::var_os("NO_COLOR").is_none()
                && std::io::IsTerminal::is_terminal(&std::io::stderr()),
        )
        .without_time()
        .init();
}
