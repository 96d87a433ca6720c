//! `ampsecret man [--dir DIR]`: the manual pages, generated from the clap definition so
//! every command, flag and example is documented exactly as `--help` shows it.
//!
//! clap_mangen renders NAME, SYNOPSIS, DESCRIPTION, OPTIONS and the command list; the
//! sections it does not know (EXIT STATUS, ENVIRONMENT, FILES, EXAMPLES, SEE ALSO) are
//! appended from the tables in `cli` and each command's `after_long_help`.

use super::Context;
use crate::cli::{self, Cli, ManArgs};
use crate::error::{Error, Result};
use clap::CommandFactory;
use clap_mangen::roff::{Roff, bold, italic, roman};
use serde_json::json;
use std::io::Write;

/// Variables read outside `cli::ENVIRONMENT`'s table (which `--help` shows); added to the
/// pages unless the table has them already.
const MORE_ENVIRONMENT: &[(&str, &str)] = &[
    ("AWS_PROFILE", "the AWS profile push and pull use"),
    ("AWS_REGION", "the AWS region of the SSM parameters"),
    ("AWS_ENDPOINT_URL", "another endpoint for every AWS service"),
    (
        "AWS_ENDPOINT_URL_SSM",
        "another endpoint for SSM only (an emulator, a VPC endpoint)",
    ),
    (
        "AMPSECRET_COMPLETE",
        "set by the completion scripts to ask for candidates; not for direct use",
    ),
];

const FILES: &[(&str, &str)] = &[
    (
        ".ampsecret/config.toml",
        "the vault's settings: format, vault id, app id, recipients (plain text; commit it)",
    ),
    (
        ".ampsecret/vault.age",
        "the secrets, age-encrypted (commit it)",
    ),
    (
        ".ampsecret/vault.lock",
        "taken while the vault is written (ignored by git)",
    ),
    (
        "$XDG_CONFIG_HOME/ampsecret/identities/<vault id>.txt",
        "the vault's key when no OS keyring is usable (mode 0600; back it up). \
         $XDG_CONFIG_HOME defaults to ~/.config; on macOS the directory is \
         ~/Library/Application Support",
    ),
];

pub fn run(cx: &Context, args: ManArgs) -> Result<()> {
    let pages = pages();
    let Some(dir) = args.dir else {
        let (_, top) = pages.first().expect("the top page comes first");
        return std::io::stdout()
            .write_all(top)
            .map_err(|e| Error::Other(format!("cannot write to standard output: {e}")));
    };
    std::fs::create_dir_all(&dir).map_err(Error::io("cannot create", &dir))?;
    for (name, page) in &pages {
        let path = dir.join(name);
        std::fs::write(&path, page).map_err(Error::io("cannot write", &path))?;
    }
    if cx.global.json {
        let names: Vec<&str> = pages.iter().map(|(name, _)| name.as_str()).collect();
        super::print_json(&json!({ "dir": dir.display().to_string(), "pages": names }));
    } else {
        eprintln!("Wrote {} manual pages to {}.", pages.len(), dir.display());
    }
    Ok(())
}

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
    let all_examples: Vec<Vec<String>> = subcommands.iter().map(examples).collect();
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
    examples: &[Vec<String>],
    see_also: &[clap::Command],
) -> (String, Vec<u8>) {
    let (prose, _) = split_after_help(cmd);
    let mut described = cmd.clone();
    if let Some(prose) = prose {
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

    let mut roff = Roff::new();
    definitions(&mut roff, "EXIT STATUS", &table(cli::EXIT_CODES));
    let mut environment = table(cli::ENVIRONMENT);
    for (var, what) in MORE_ENVIRONMENT {
        if !environment.iter().any(|(v, _)| v == var) {
            environment.push((var.to_string(), what.to_string()));
        }
    }
    definitions(&mut roff, "ENVIRONMENT", &environment);
    let files: Vec<(String, String)> = FILES
        .iter()
        .map(|(f, what)| (f.to_string(), what.to_string()))
        .collect();
    definitions(&mut roff, "FILES", &files);
    if examples.iter().any(|block| !block.is_empty()) {
        roff.control("SH", ["EXAMPLES"]);
        for block in examples.iter().filter(|block| !block.is_empty()) {
            roff.control("PP", [])
                .control("RS", ["4"])
                .control("nf", []);
            for example in block {
                roff.text([roman(example.as_str())]);
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

/// `.TP` entries: each term in bold, its description below.
fn definitions(roff: &mut Roff, section: &str, rows: &[(String, String)]) {
    roff.control("SH", [section]);
    for (term, what) in rows {
        roff.control("TP", []);
        if let Some((var, rest)) = term.split_once('<') {
            // A placeholder such as <vault id> reads as one.
            let (placeholder, tail) = rest.split_once('>').unwrap_or((rest, ""));
            roff.text([bold(var), italic(format!("<{placeholder}>")), bold(tail)]);
        } else {
            roff.text([bold(term.as_str())]);
        }
        roff.text([roman(what.as_str())]);
    }
}

/// Rows of a `cli` table ("Title:" then "  TERM   description" lines).
fn table(text: &str) -> Vec<(String, String)> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let (term, what) = line.trim().split_once(char::is_whitespace)?;
            Some((term.to_owned(), what.trim().to_owned()))
        })
        .collect()
}

/// A command's `after_long_help` split into prose and the lines under "Examples:"; the
/// environment and exit-code tables are left out (they have sections of their own).
fn split_after_help(cmd: &clap::Command) -> (Option<String>, Vec<String>) {
    let text = cmd
        .get_after_long_help()
        .map(ToString::to_string)
        .unwrap_or_default()
        .replace(cli::ENVIRONMENT, "")
        .replace(cli::EXIT_CODES, "");
    let (prose, examples) = text.split_once("Examples:").unwrap_or((&text, ""));
    let prose = prose.trim();
    let examples = examples
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    ((!prose.is_empty()).then(|| prose.to_owned()), examples)
}

fn examples(cmd: &clap::Command) -> Vec<String> {
    split_after_help(cmd).1
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
