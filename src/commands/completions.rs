//! `ampsecret completions SHELL`: print the shell's completion script.

use crate::cli::CompletionsArgs;
use crate::cli::complete::script;
use crate::error::Result;
use crate::output::{Output, Render};
use std::io::{self, Write};

/// The script; there is no JSON form, so it is always rendered.
struct Script(Vec<u8>);

impl Render for Script {
    fn render(&self, out: &mut dyn Write, _: &mut dyn Write) -> io::Result<()> {
        out.write_all(&self.0)
    }
}

pub fn run(out: &Output, args: CompletionsArgs) -> Result<()> {
    out.print(&Script(script(args.shell)))
}
