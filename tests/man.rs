//! Manual pages and help: the committed pages are current and render without warnings, and
//! `--help` teaches (one-line help for every flag, examples for every command, suggestions
//! for a misspelled command).
//!
//! Regenerate the committed pages with `UPDATE_GENERATED=1 cargo test --test man`.

mod support;

use ampsecret::cli::Cli;
use ampsecret::cli::docs::ENVIRONMENT;
use ampsecret::error::EXIT_CODES;
use clap::CommandFactory;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::Project;

fn man_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("man")
}

fn pages_in(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    (name, std::fs::read_to_string(e.path()).unwrap())
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The pages `ampsecret man --dir` writes now.
fn generated() -> BTreeMap<String, String> {
    let p = Project::new();
    let dir = p.temp().join("man1");
    p.run(&["man", "--dir", dir.to_str().unwrap()]).success();
    pages_in(&dir)
}

/// The visible commands, each of which has a page.
fn commands() -> Vec<clap::Command> {
    Cli::command()
        .get_subcommands()
        .filter(|c| !c.is_hide_set())
        .cloned()
        .collect()
}

#[test]
fn committed_pages_are_current() {
    let pages = generated();
    if std::env::var_os("UPDATE_GENERATED").is_some() {
        let _ = std::fs::remove_dir_all(man_dir());
        std::fs::create_dir_all(man_dir()).unwrap();
        for (name, page) in &pages {
            std::fs::write(man_dir().join(name), page).unwrap();
        }
    }
    let committed = pages_in(&man_dir());
    assert_eq!(
        committed.keys().collect::<Vec<_>>(),
        pages.keys().collect::<Vec<_>>(),
        "man/ has other pages than 'ampsecret man' writes: regenerate with UPDATE_GENERATED=1 cargo test --test man"
    );
    for (name, page) in &pages {
        assert!(
            committed[name] == *page,
            "man/{name} is stale: regenerate with UPDATE_GENERATED=1 cargo test --test man"
        );
    }
}

#[test]
fn every_command_has_a_page_with_every_section() {
    let pages = generated();
    let mut names = vec!["ampsecret.1".to_owned()];
    names.extend(
        commands()
            .iter()
            .map(|c| format!("ampsecret-{}.1", c.get_name())),
    );
    for name in &names {
        let page = pages.get(name).unwrap_or_else(|| panic!("no {name}"));
        for section in [
            "NAME",
            "SYNOPSIS",
            "DESCRIPTION",
            "OPTIONS",
            "EXIT STATUS",
            "ENVIRONMENT",
            "FILES",
            "EXAMPLES",
            "SEE ALSO",
        ] {
            let heading = if section.contains(' ') {
                format!(".SH \"{section}\"\n")
            } else {
                format!(".SH {section}\n")
            };
            assert!(page.contains(&heading), "{name} has no {section} section");
        }
        assert!(
            page.is_ascii(),
            "{name}: non-ASCII input makes groff depend on the locale"
        );
    }
    assert_eq!(pages.len(), names.len(), "{:?}", pages.keys());
}

#[test]
fn pages_document_every_variable_file_and_exit_code() {
    let pages = generated();
    let top = &pages["ampsecret.1"];
    let mut variables: Vec<&str> = ENVIRONMENT.iter().map(|(var, _)| *var).collect();
    // Read by the AWS SDK rather than by ampsecret, and easy to leave out.
    for sdk in [
        "AWS_PROFILE",
        "AWS_REGION",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_SSM",
    ] {
        assert!(variables.contains(&sdk), "{sdk} is not in the table");
    }
    variables.sort_unstable();
    for variable in &variables {
        // roff escapes the '-' of names, never the '_'. Each variable has one entry.
        let entry = format!(".TP\n\\fB{variable}\\fR\n");
        assert_eq!(
            top.matches(&entry).count(),
            1,
            "{variable} is not documented exactly once"
        );
    }
    for code in EXIT_CODES.iter().map(|(code, _)| code) {
        assert!(
            top.contains(&format!(".TP\n\\fB{code}\\fR\n")),
            "exit code {code} undocumented"
        );
    }
    for file in [
        ".ampsecret/config.toml",
        ".ampsecret/vault.age",
        ".ampsecret/.ampsecret\\-tmp\\-*",
    ] {
        assert!(top.contains(file), "{file} undocumented");
    }
    assert!(top.contains("ampsecret/identities/\\fR\\fI<vault id>\\fR\\fB.txt"));
    // Each command's examples are on its page and on the top page.
    let set = &pages["ampsecret-set.1"];
    assert!(
        set.contains("ampsecret set MY_API_KEY\n") && top.contains("ampsecret set MY_API_KEY\n")
    );
}

/// Renders with groff's warnings on (`-ww`) and through man-db, as a reader would.
#[test]
fn pages_render_without_warnings() {
    for name in pages_in(&man_dir()).keys() {
        let path = man_dir().join(name);
        let out = Command::new("groff")
            .args(["-man", "-ww", "-z"])
            .arg(&path)
            .output()
            .expect("groff is installed (tests/run.sh installs groff-base)");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stderr.is_empty(),
            "{name}: {stderr}"
        );
    }
    let out = Command::new("man")
        .args(["--warnings", "-l"])
        .arg(man_dir().join("ampsecret.1"))
        .env("MANWIDTH", "80")
        .env("MAN_KEEP_FORMATTING", "1")
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .output()
        .expect("man is installed (tests/run.sh installs man-db)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.is_empty(),
        "man -l: {stderr}"
    );
    // MAN_KEEP_FORMATTING keeps bold as overstrike ("E\x08E"): read the plain letters.
    let text = strip_overstrike(&String::from_utf8_lossy(&out.stdout));
    for heading in ["EXIT STATUS", "ENVIRONMENT", "FILES", "EXAMPLES"] {
        assert!(text.contains(heading), "{heading} not rendered: {text}");
    }
}

fn strip_overstrike(text: &str) -> String {
    let mut plain = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if chars.peek() == Some(&'\x08') {
            chars.next(); // the backspace; the character after it is kept
        } else {
            plain.push(c);
        }
    }
    plain
}

#[test]
fn man_without_dir_prints_the_top_page() {
    let p = Project::new();
    let out = p.run(&["man"]).success();
    assert_eq!(out.stdout, generated()["ampsecret.1"]);
    assert!(out.stdout.contains(".TH ampsecret 1 "));
}

#[test]
fn every_flag_has_a_one_line_help_and_every_command_examples() {
    let mut cli = Cli::command();
    cli.build();
    for command in std::iter::once(&cli).chain(cli.get_subcommands()) {
        let name = command.get_name();
        for arg in command.get_arguments().filter(|a| !a.is_hide_set()) {
            let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
            assert!(
                !help.is_empty() && !help.contains('\n'),
                "{name} {}: help must be one line: {help:?}",
                arg.get_id()
            );
        }
        if name != "ampsecret" && name != "help" {
            let long = command
                .get_after_long_help()
                .map(ToString::to_string)
                .unwrap_or_default();
            assert!(
                long.contains("Examples:\n  ampsecret "),
                "{name} has no examples in its long help"
            );
        }
    }
}

#[test]
fn help_shows_examples_and_a_misspelled_command_gets_a_suggestion() {
    let p = Project::new();
    let help = p.run(&["help", "set"]).success().stdout;
    assert!(
        help.contains("Examples:\n  ampsecret set MY_API_KEY"),
        "{help}"
    );
    let out = p.run(&["lsit"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("'list'"),
        "no suggestion: {}",
        out.stderr
    );
    let out = p.run(&["remvoe", "K"]);
    assert!(
        out.stderr.contains("'remove'"),
        "no suggestion: {}",
        out.stderr
    );
}
