//! The manual pages, generated from the clap definition and the tables of [`super::docs`],
//! so every command, flag and example is documented exactly as `--help` shows it.
//!
//! clap_mangen renders NAME, SYNOPSIS, DESCRIPTION, OPTIONS and the command list; the
//! sections it does not know (EXIT STATUS, ENVIRONMENT, FILES, EXAMPLES, SEE ALSO) come from
//! the tables.

use super::Cli;
use super::docs::{self, ENVIRONMENT, FILES};
use crate::error::EXIT_CODES;
use clap::CommandFactory;
use clap_mangen::roff::{Roff, bold, italic, roman};

/// Every page as (file name, roff), `ampsecret.1` first, then one per visible command.
pub fn pages() -> Vec<(String, Vec<u8>)> {
    // `help` is clap's, not a command with a page of its own.
    let mut top = Cli::command().disable_help_subcommand(true);
    top.build();
    let subcommands: Vec<clap::Command> = top
        .get_subcommands()
        .filter(|c| !c.is_hide_set())
        .cloned()
        .collect();
    // The top page gathers every command's examples, a block per command.
    let all_examples: Vec<&[&str]> = subcommands.iter().map(examples).collect();
    let mut pages = vec![page(&top, &all_examples, &subcommands)];
    pages.extend(
        subcommands
            .iter()
            .map(|c| page(c, &[examples(c)], std::slice::from_ref(&top))),
    );
    pages
}

fn page(
    cmd: &clap::Command,
    examples: &[&[&str]],
    see_also: &[clap::Command],
) -> (String, Vec<u8>) {
    let prose = docs::COMMANDS
        .iter()
        .find(|doc| doc.name == cmd.get_name())
        .map_or("", |doc| doc.prose);
    let mut described = cmd.clone();
    if !prose.is_empty() {
        let about = cmd.get_about().map(ToString::to_string).unwrap_or_default();
        described = described.long_about(format!("{}.\n\n{prose}", about.trim_end_matches('.')));
    }
    // Its own sections replace clap_mangen's EXTRA (the raw after_long_help) and VERSION
    // (the version is in the page footer).
    let described = described
        .after_help(None::<&str>)
        .after_long_help(None::<&str>)
        .version(None::<&str>);
    let man = clap_mangen::Man::new(described)
        .source(format!("ampsecret {}", env!("CARGO_PKG_VERSION")))
        .manual("User Commands");
    let name = man.get_filename();
    let mut out = Vec::new();
    man.render(&mut out).expect("writing to a Vec cannot fail");
    let mut out = synopsis_with_values(cmd, &String::from_utf8_lossy(&out)).into_bytes();

    let mut roff = Roff::new();
    let exit_codes: Vec<(String, &str)> = EXIT_CODES
        .iter()
        .map(|(code, what)| (code.to_string(), *what))
        .collect();
    let exit_codes: Vec<(&str, &str)> = exit_codes.iter().map(|(c, w)| (c.as_str(), *w)).collect();
    definitions(&mut roff, "EXIT STATUS", &exit_codes);
    definitions(&mut roff, "ENVIRONMENT", ENVIRONMENT);
    definitions(&mut roff, "FILES", FILES);
    if examples.iter().any(|block| !block.is_empty()) {
        roff.control("SH", ["EXAMPLES"]);
        for block in examples.iter().filter(|block| !block.is_empty()) {
            roff.control("PP", [])
                .control("RS", ["4"])
                .control("nf", []);
            for example in *block {
                roff.text([roman(*example)]);
            }
            roff.control("fi", []).control("RE", []);
        }
    }
    roff.control("SH", ["SEE ALSO"]);
    // Page names are not words to hyphenate.
    roff.control("nh", []);
    let mut refs = Vec::new();
    for (i, other) in see_also.iter().enumerate() {
        if i > 0 {
            refs.push(roman(", "));
        }
        let name = other.get_display_name().unwrap_or_else(|| other.get_name());
        refs.extend([bold(name), roman("(1)")]);
    }
    roff.text(refs);
    // clap_mangen's preamble (already written) defines \*(Aq, a straight apostrophe: keep
    // quotes in examples copyable.
    out.extend_from_slice(roff.to_roff().replace('\'', r"\*(Aq").as_bytes());
    (name, ascii_roff(&out))
}

/// clap_mangen's SYNOPSIS names options without what they take (`[--branch]`): add it
/// (`[--branch NAME]`, `[--sandbox[=ID]]`, `[--names NAME...]`), as `--help` shows it.
fn synopsis_with_values(cmd: &clap::Command, page: &str) -> String {
    let Some(start) = page.find(".SH SYNOPSIS\n") else {
        return page.to_owned();
    };
    let end = page[start + 1..]
        .find("\n.SH ")
        .map_or(page.len(), |i| start + 1 + i);
    let mut synopsis = page[start..end].to_owned();
    for arg in cmd.get_arguments() {
        let (Some(long), Some(names)) = (arg.get_long(), arg.get_value_names()) else {
            continue;
        };
        if !arg.get_action().takes_values() {
            continue;
        }
        let flag = format!("\\fB{}\\fR]", roff_dashes(&format!("--{long}")));
        let value = format!("\\fI{}\\fR", names.join(" "));
        let range = arg.get_num_args().unwrap_or_default();
        let many = if range.max_values() > 1 { "..." } else { "" };
        let shown = if arg.is_require_equals_set() && range.min_values() == 0 {
            format!("[={value}]")
        } else if arg.is_require_equals_set() {
            format!("={value}{many}")
        } else {
            format!(" {value}{many}")
        };
        synopsis = synopsis.replace(&flag, &flag.replace("\\fR]", &format!("\\fR{shown}]")));
    }
    // A command after `--` (exec's) is written as it is typed.
    for arg in cmd.get_positionals().filter(|a| a.is_last_set()) {
        for name in arg.get_value_names().unwrap_or_default() {
            synopsis = synopsis.replace(
                &format!("<\\fI{name}\\fR>"),
                &format!("\\fB\\-\\-\\fR \\fI{name}\\fR [\\fIARG\\fR]..."),
            );
        }
    }
    format!("{}{synopsis}{}", &page[..start], &page[end..])
}

/// Dashes as roff writes them in a name (`\-\-branch`).
fn roff_dashes(text: &str) -> String {
    text.replace('-', "\\-")
}

/// `.TP` entries: each term in bold, its description below.
fn definitions(roff: &mut Roff, section: &str, rows: &[(&str, &str)]) {
    roff.control("SH", [section]);
    for &(term, what) in rows {
        roff.control("TP", []);
        if let Some((var, rest)) = term.split_once('<') {
            // A placeholder such as <vault id> reads as one.
            let (placeholder, tail) = rest.split_once('>').unwrap_or((rest, ""));
            roff.text([bold(var), italic(format!("<{placeholder}>")), bold(tail)]);
        } else {
            roff.text([bold(term)]);
        }
        roff.text([roman(what)]);
    }
}

/// A command's examples (none for commands without documentation, such as `help`).
fn examples(cmd: &clap::Command) -> &'static [&'static str] {
    docs::COMMANDS
        .iter()
        .find(|doc| doc.name == cmd.get_name())
        .map_or(&[], |doc| doc.examples)
}

/// Spells characters outside ASCII with groff escapes, so the page renders the same
/// whatever the reader's locale (and groff does not warn about the input).
fn ascii_roff(page: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(page);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '…' => out.push_str("..."),
            c if c.is_ascii() => out.push(c),
            c => out.push_str(&format!("\\[u{:04X}]", u32::from(c))),
        }
    }
    out.into_bytes()
}
