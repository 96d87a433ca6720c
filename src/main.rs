//! The `ampsecret` binary: parse arguments, set up diagnostics, run, map errors to exit codes.

use ampsecret::cli::Cli;
use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_diagnostics(cli.global.verbose);
    let json = cli.global.json;
    match ampsecret::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            if json {
                let doc = serde_json::json!({
                    "error": { "kind": error.kind(), "code": error.exit_code(), "message": error.to_string() }
                });
                eprintln!("{doc}");
            } else {
                eprintln!("error: {error}");
            }
            ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(1))
        }
    }
}

/// Diagnostics go to stderr and come from ampsecret's own code only: dependencies (the AWS
/// SDK, keyring) may log request contents at high verbosity, so they stay at warnings.
fn init_diagnostics(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::new(format!("warn,ampsecret={level}"));
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
