//! `ampsecret completions SHELL`: print a completion script.

use crate::cli::{Cli, CompletionsArgs, Shell};
use crate::error::Result;
use clap::CommandFactory;
use clap_complete::shells;

pub fn run(args: CompletionsArgs) -> Result<()> {
    let mut command = Cli::command();
    let out = &mut std::io::stdout();
    match args.shell {
        Shell::Bash => clap_complete::generate(shells::Bash, &mut command, "ampsecret", out),
        Shell::Zsh => clap_complete::generate(shells::Zsh, &mut command, "ampsecret", out),
        Shell::Fish => clap_complete::generate(shells::Fish, &mut command, "ampsecret", out),
        Shell::Powershell => {
            clap_complete::generate(shells::PowerShell, &mut command, "ampsecret", out)
        }
        Shell::Elvish => clap_complete::generate(shells::Elvish, &mut command, "ampsecret", out),
    }
    Ok(())
}
