//! Usage errors (the command line did not parse), in one line that says what to do next:
//! the closest command or flag, the two traps (`exec` takes its command after `--`; an
//! optional scope ID is written `--sandbox=ID`), and the help of the command being typed,
//! not the top-level one. A stray word is never repeated: it may be a value pasted where
//! none is taken, and would land in logs and scrollback.

use super::Cli;
use clap::CommandFactory;
use clap::error::{ContextKind, ContextValue, ErrorKind};
use std::ffi::OsString;

/// The flags whose ID is optional and so must follow '='.
const EQUALS_FLAGS: &[&str] = &["--sandbox", "--standalone", "--shared"];

/// A value given to `set` on the command line (as a flag or a second word).
const SET_VALUE: &str = "set takes no value on the command line (it would stay in your shell history): type it at the hidden prompt, or pass --stdin or --file PATH";

/// The one-line message for a clap error (without `error:`); `None` for help and version,
/// which are printed as clap renders them.
pub fn message(error: &clap::Error, args: &[OsString]) -> Option<String> {
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        return None;
    }
    let words: Vec<String> = args
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let path = command_path(&words);
    let help = format!("see '{} --help'", path.join(" "));
    let subcommand = path.get(1).map(String::as_str);
    let text = match error.kind() {
        ErrorKind::InvalidSubcommand => {
            let word = string(error, ContextKind::InvalidSubcommand).unwrap_or_default();
            let suggested = strings(error, ContextKind::SuggestedSubcommand);
            let parent = path.join(" ");
            match crate::text::closest(&word, suggested.iter().map(String::as_str)) {
                Some(close) => format!(
                    "'{}' is not a command of {parent}; did you mean '{close}'?",
                    crate::text::escape(&word)
                ),
                None => format!(
                    "'{}' is not a command of {parent}",
                    crate::text::escape(&word)
                ),
            }
        }
        ErrorKind::UnknownArgument => {
            let arg = string(error, ContextKind::InvalidArg).unwrap_or_default();
            unknown_argument(error, &arg, &words, subcommand)
        }
        ErrorKind::MissingRequiredArgument if subcommand == Some("exec") => {
            "exec needs the command to run, after '--': ampsecret exec [OPTIONS] -- COMMAND [ARGS...]".to_owned()
        }
        _ => clap_text(error),
    };
    Some(format!("{text} ({help})"))
}

/// The note for the `--sandbox ID` trap when it parsed: a NAME written right after a bare
/// `--sandbox`, `--standalone` or `--shared` was meant as its ID more often than not.
pub fn bare_scope_flag_note(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    let flag = args
        .windows(2)
        .find(|pair| pair[1] == name && EQUALS_FLAGS.contains(&pair[0].as_str()))
        .map(|pair| pair[0].clone())?;
    let shown = crate::text::escape(name);
    let scope = flag.trim_start_matches('-');
    Some(format!(
        "note: '{shown}' is read as the secret's name, after a bare {flag} (its default); for {scope}:{shown}, write {flag}={shown}"
    ))
}

/// An argument clap did not expect: a misspelt flag, or a stray word.
fn unknown_argument(
    error: &clap::Error,
    arg: &str,
    words: &[String],
    subcommand: Option<&str>,
) -> String {
    if let Some(flag) = arg
        .strip_prefix("--")
        .map(|f| f.split('=').next().unwrap_or(f))
    {
        // Only the flag's name is shown: `--value=…` would repeat a value.
        if subcommand == Some("set") && ["value", "val", "secret", "password"].contains(&flag) {
            return SET_VALUE.to_owned();
        }
        let shown = crate::text::escape(flag);
        return match strings(error, ContextKind::SuggestedArg).first() {
            Some(close) => format!("no flag --{shown}; did you mean '{close}'?"),
            None => format!("no flag --{shown}"),
        };
    }
    if arg.starts_with('-') {
        return format!(
            "no flag {}",
            crate::text::escape(arg.split('=').next().unwrap_or(arg))
        );
    }
    // A stray word. Which trap, if any, led to it?
    let position = words.iter().position(|w| w == arg);
    let before = position
        .and_then(|i| i.checked_sub(1))
        .map(|i| words[i].as_str());
    if let Some(flag) = before.filter(|w| EQUALS_FLAGS.contains(w)) {
        let id = if flag == "--shared" { "NS" } else { "ID" };
        return format!(
            "{flag} takes its {id} after '=': write {flag}={id} (the word after a bare {flag} is read as another argument)"
        );
    }
    if subcommand == Some("set") {
        return SET_VALUE.to_owned();
    }
    if subcommand == Some("exec") {
        return "exec runs the command given after '--': ampsecret exec [OPTIONS] -- COMMAND [ARGS...]".to_owned();
    }
    "unexpected argument (not shown); values are never taken from the command line: use the hidden prompt, --stdin or --file".to_owned()
}

/// clap's own message without its "Usage:" block and "For more information" line, on one
/// line.
fn clap_text(error: &clap::Error) -> String {
    let rendered = error.render().to_string();
    let lines: Vec<&str> = rendered
        .lines()
        .map(str::trim)
        .take_while(|l| !l.starts_with("Usage:"))
        .filter(|l| !l.is_empty() && !l.starts_with("For more information"))
        .collect();
    // A list under "…cannot be used with:" reads on; a tip is a sentence of its own.
    let mut text = String::new();
    for line in lines {
        if !text.is_empty() {
            text.push_str(if line.starts_with("tip:") { "; " } else { " " });
        }
        text.push_str(line);
    }
    let text = text.strip_prefix("error: ").unwrap_or(&text);
    crate::text::escape(text).into_owned()
}

fn string(error: &clap::Error, kind: ContextKind) -> Option<String> {
    match error.get(kind) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        _ => None,
    }
}

fn strings(error: &clap::Error, kind: ContextKind) -> Vec<String> {
    match error.get(kind) {
        Some(ContextValue::String(s)) => vec![s.clone()],
        Some(ContextValue::Strings(s)) => s.clone(),
        _ => Vec::new(),
    }
}

/// `ampsecret` and the (sub)commands named on the command line, as far as they are known:
/// whose help to point at.
fn command_path(words: &[String]) -> Vec<String> {
    let mut command = Cli::command();
    command.build();
    let mut path = vec![command.get_name().to_owned()];
    let mut current = &command;
    let mut iter = words.iter();
    while let Some(word) = iter.next() {
        if word == "--" {
            break;
        }
        if word.starts_with('-') {
            // A global flag's value in the next word is not a command.
            let takes_value = current
                .get_arguments()
                .find(|a| a.get_long().is_some_and(|l| word == &format!("--{l}")))
                .is_some_and(|a| a.get_action().takes_values() && !a.is_require_equals_set());
            if takes_value {
                iter.next();
            }
            continue;
        }
        match current
            .get_subcommands()
            .find(|c| c.get_name() == word || c.get_all_aliases().any(|a| a == word))
        {
            Some(sub) => {
                path.push(sub.get_name().to_owned());
                current = sub;
            }
            None => break,
        }
    }
    path
}
