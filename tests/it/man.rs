//! Manual pages and help: the committed pages are current and render without warnings, and
//! `--help` teaches (one-line help for every flag, examples for every command, suggestions
//! for a misspelled command).
//!
//! Regenerate the committed pages with `UPDATE_GENERATED=1 cargo test --test it man::committed`.

use crate::support::Project;
use ampsecret::cli::Cli;
use ampsecret::cli::docs::ENVIRONMENT;
use ampsecret::error::EXIT_CODES;
use clap::CommandFactory;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

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
    // man is not told about a temporary folder: the line to add is printed.
    p.cmd(&["man", "--dir", dir.to_str().unwrap()])
        .stderr(format!(
            "Wrote 25 manual pages to {}.\nman does not look in {root} yet: add this line \
             to your shell's startup file (~/.bashrc, ~/.zshrc), then open a new shell:\n  \
             export MANPATH=\"{root}:$MANPATH\"\n",
            dir.display(),
            root = p.temp().display()
        ))
        .success();
    pages_in(&dir)
}

/// `man --install` writes where man looks when ~/.local/bin is on PATH, says so, and
/// otherwise prints the MANPATH line that makes `man ampsecret-push` work.
#[test]
fn man_install_says_whether_man_finds_the_pages() {
    let p = Project::new();
    let home = p.temp().join("home");
    let root = home.join(".local/share/man");
    let lost = p
        .cmd(&["man", "--install"])
        .stderr_has(&format!(
            "Wrote 25 manual pages to {}/man1.\nman does not look in {} yet",
            root.display(),
            root.display()
        ))
        .success();
    // The printed line, as a shell would run it, makes man find the page.
    let line = lost.stderr.lines().last().unwrap().trim().to_owned();
    assert!(line.starts_with("export MANPATH="), "{line}");
    let found = Command::new("bash")
        .env_clear()
        .envs(p.env_map())
        .args(["-c", &format!("{line}; man -w ampsecret-push")])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&found.stdout).trim(),
        root.join("man1/ampsecret-push.1").display().to_string(),
        "{}",
        String::from_utf8_lossy(&found.stderr)
    );
    // With ~/.local/bin on PATH, man-db searches ~/.local/share/man already.
    let bin = home.join(".local/bin");
    std::fs::create_dir_all(&bin).unwrap();
    let path = format!("{}:{}", bin.display(), p.env_map()["PATH"]);
    p.cmd(&["man", "--install"])
        .env("PATH", &path)
        .stderr(format!(
            "Wrote 25 manual pages to {}/man1.\nman finds them: try 'man ampsecret-push'.\n",
            root.display()
        ))
        .success();
}

/// SYNOPSIS shows what each option takes, as --help does.
#[test]
fn synopsis_shows_option_arguments() {
    let pages = generated();
    let exec = &pages["ampsecret-exec.1"];
    for shown in [
        r"[\fB\-\-branch\fR \fINAME\fR]",
        r"[\fB\-\-sandbox\fR[=\fIID\fR]]",
        r"[\fB\-\-names\fR \fINAME\fR...]",
        r"\fB\-\-\fR \fICOMMAND\fR [\fIARG\fR]...",
    ] {
        assert!(exec.contains(shown), "{shown} not in the SYNOPSIS of exec");
    }
    assert!(pages["ampsecret-push.1"].contains(r"[\fB\-\-max\-tps\fR \fIN\fR]"));
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
        "man/ has other pages than 'ampsecret man' writes: regenerate with UPDATE_GENERATED=1 cargo test --test it man::committed"
    );
    for (name, page) in &pages {
        assert!(
            committed[name] == *page,
            "man/{name} is stale: regenerate with UPDATE_GENERATED=1 cargo test --test it man::committed"
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

/// The rows of the README table under `## {heading}`: each row's first cell.
fn readme_table(heading: &str) -> Vec<String> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = readme
        .split(&format!("\n## {heading}\n"))
        .nth(1)
        .unwrap_or_else(|| panic!("README has no {heading} section"));
    section
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2) // the header and its |---| line
        .map(|row| row.split('|').nth(1).unwrap().trim().to_owned())
        .collect()
}

/// The section `.SH {heading}` of a man page, up to the next section.
fn man_section<'a>(page: &'a str, heading: &str) -> &'a str {
    let start = page
        .find(&format!(".SH {heading}\n"))
        .unwrap_or_else(|| panic!("no {heading} section"));
    let section = &page[start + 1..];
    &section[..section.find("\n.SH ").unwrap_or(section.len())]
}

/// The terms a man page section lists: the line after each `.TP`, without its bold font
/// escapes, split at commas and spaces.
fn listed_terms(section: &str) -> Vec<String> {
    let lines: Vec<&str> = section.lines().collect();
    lines
        .windows(2)
        .filter(|pair| pair[0] == ".TP")
        .flat_map(|pair| {
            pair[1]
                .replace("\\fB", "")
                .replace("\\fR", "")
                .split([',', ' '])
                .filter(|term| !term.is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Checked against README's tables, not against the tables the man page is generated from,
/// so a page that lists a variable twice or drops one fails.
#[test]
fn the_man_page_lists_every_readme_variable_and_exit_code_once() {
    let p = Project::new();
    let page = p
        .cmd(&["man"])
        .stdout_has(".SH ENVIRONMENT\n")
        .success()
        .stdout;

    let variables: Vec<String> = readme_table("Environment")
        .iter()
        .flat_map(|cell| {
            cell.split(',')
                .map(|v| v.trim().trim_matches('`').to_owned())
        })
        .collect();
    assert!(
        variables.len() >= 13,
        "README's table was read: {variables:?}"
    );
    let listed = listed_terms(man_section(&page, "ENVIRONMENT"));
    for variable in &variables {
        let count = listed.iter().filter(|term| *term == variable).count();
        assert_eq!(
            count, 1,
            "{variable} is listed {count} times in: {listed:?}"
        );
    }

    let codes = readme_table("Exit codes");
    assert!(codes.len() >= 10, "README's table was read: {codes:?}");
    let listed = listed_terms(man_section(&page, "\"EXIT STATUS\""));
    assert_eq!(
        listed, codes,
        "the man page lists README's exit codes, in order"
    );
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
    let top = generated().remove("ampsecret.1").unwrap();
    assert!(top.contains(".TH ampsecret 1 "));
    p.cmd(&["man"]).stdout(top).success();
}

#[test]
fn every_flag_has_a_one_line_help_and_every_command_examples() {
    let mut cli = Cli::command();
    cli.build();
    // Hidden commands are git's drivers, not for people.
    let visible = cli.get_subcommands().filter(|c| !c.is_hide_set());
    for command in std::iter::once(&cli).chain(visible) {
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
    p.cmd(&["help", "set"])
        .stdout_has("Examples:\n  ampsecret set MY_API_KEY")
        .success();
    p.cmd(&["lsit"])
        .stderr(
            "error: 'lsit' is not a command of ampsecret; did you mean 'list'? \
             (see 'ampsecret --help')\n",
        )
        .fails(2);
    p.cmd(&["remvoe", "K"])
        .stderr(
            "error: 'remvoe' is not a command of ampsecret; did you mean 'remove'? \
             (see 'ampsecret --help')\n",
        )
        .fails(2);
}
