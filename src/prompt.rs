//! Terminal prompts. Each is only called when the session is interactive; a script gets a
//! clear error from the caller instead of a prompt that waits forever.

use crate::error::{Error, Result};
use crate::secret::SecretValue;
use std::io::{self, IsTerminal};
use zeroize::Zeroizing;

/// Whether prompts may be shown: stdin and stderr are terminals and `--no-input` is off.
pub fn can_prompt(no_input: bool) -> bool {
    !no_input && io::stdin().is_terminal() && io::stderr().is_terminal()
}

fn prompt_error(error: io::Error) -> Error {
    if error.kind() == io::ErrorKind::Interrupted {
        Error::Cancelled
    } else {
        Error::Other(format!("cannot read from the terminal: {error}"))
    }
}

/// What a terminal in bracketed-paste mode sends around pasted text.
const PASTE_START: &str = "\x1b[200~";
const PASTE_END: &str = "\x1b[201~";

/// How many times the hidden prompt asks before giving up.
const TRIES: usize = 3;

/// Asks for a hidden value, typed twice. An empty value is refused at once and a mismatch
/// asks again, up to [`TRIES`] times. SIGINT during the prompt ends the process with the
/// terminal restored (see [`guard_terminal`]); nothing has been written by then.
pub fn hidden_value(label: &str) -> Result<SecretValue> {
    let _restore = guard_terminal();
    let _paste = PasteGuard::start();
    for attempt in 1..=TRIES {
        let left = TRIES - attempt;
        let first = read_hidden(&format!("Value for {label}: "))?;
        if first.is_empty() {
            say(&format!("The value is empty{}.", tries_left(left)));
            continue;
        }
        let second = read_hidden(&format!("Repeat the value for {label}: "))?;
        if *first == *second {
            return Ok(SecretValue::new(first.to_string()));
        }
        say(&format!("The two values differ{}.", tries_left(left)));
    }
    Err(Error::Invalid(format!(
        "no value for {label} after {TRIES} tries (empty, or typed differently twice); nothing was stored"
    )))
}

/// "; try again (2 tries left)", or nothing when none are left.
fn tries_left(left: usize) -> String {
    if left == 0 {
        String::new()
    } else {
        let tries = if left == 1 { "try" } else { "tries" };
        format!("; try again ({left} {tries} left)")
    }
}

/// One line for the person at the terminal (between prompts).
fn say(line: &str) {
    let _ = io::Write::write_all(&mut io::stderr(), format!("{line}\n").as_bytes());
}

/// Reads the rest of standard input at a terminal: says what it is waiting for and does not
/// echo what is typed. Returns `None` when standard input is not a terminal (the caller
/// reads the pipe as it is).
pub fn announce_terminal_stdin(label: &str) -> Option<(impl Drop, impl Drop)> {
    if !io::stdin().is_terminal() {
        return None;
    }
    say(&format!(
        "Reading the value for {label} from the terminal (not shown as you type); end it with Enter, then Ctrl-D."
    ));
    // The interrupt guard saves the terminal's mode first, so Ctrl-C restores the echo.
    let restore = guard_terminal();
    let quiet = crate::sys::echo_off();
    Some((quiet, restore))
}

/// Asks for a passphrase (twice when `confirm`).
pub fn passphrase(confirm: bool) -> Result<Zeroizing<String>> {
    let _restore = guard_terminal();
    let _paste = PasteGuard::start();
    let first = read_hidden("Vault passphrase: ")?;
    if confirm {
        let second = read_hidden("Repeat the passphrase: ")?;
        if *first != *second {
            return Err(Error::Invalid("the two passphrases differ".into()));
        }
    }
    if first.is_empty() {
        return Err(Error::Invalid("the passphrase is empty".into()));
    }
    Ok(first)
}

/// Reads one line with echo off. A paste of several lines arrives all at once, so input
/// still queued right after the first line (or a bracketed paste that does not end on it)
/// is a multi-line paste: it is refused and discarded, never taken line by line as the
/// answers to the next prompts or left for the shell to run.
fn read_hidden(prompt: &str) -> Result<Zeroizing<String>> {
    let line = Zeroizing::new(rpassword::prompt_password(prompt).map_err(prompt_error)?);
    let unfinished_paste = line.contains(PASTE_START) && !line.contains(PASTE_END);
    if unfinished_paste || crate::sys::pending_terminal_input() > 0 {
        crate::sys::discard_terminal_input();
        return Err(Error::Usage(
            "a multi-line paste cannot be taken at a hidden prompt; it was discarded and nothing was stored: pass a multi-line value with --file PATH or --stdin".into(),
        ));
    }
    Ok(Zeroizing::new(
        line.replace(PASTE_START, "").replace(PASTE_END, ""),
    ))
}

/// While alive, the terminal marks pasted text (bracketed paste), so a paste can be told
/// from typing; when dropped, the mode is turned off and whatever is left in the terminal's
/// input queue is discarded, so nothing typed at a prompt reaches the shell.
struct PasteGuard;

impl PasteGuard {
    fn start() -> PasteGuard {
        let _ = io::Write::write_all(&mut io::stderr(), b"\x1b[?2004h");
        PasteGuard
    }
}

impl Drop for PasteGuard {
    fn drop(&mut self) {
        let _ = io::Write::write_all(&mut io::stderr(), b"\x1b[?2004l");
        crate::sys::discard_terminal_input();
    }
}

/// A yes/no question; Ctrl-C or Esc cancels.
pub fn confirm(question: &str, default: bool) -> Result<bool> {
    // dialoguer reads keys in raw mode, where Ctrl-C is a key it reports as Interrupted;
    // the guard covers a Ctrl-C that lands while the terminal is still cooked.
    let _restore = guard_terminal();
    let answer = dialoguer::Confirm::new()
        .with_prompt(question)
        .default(default)
        .interact_opt()
        .map_err(|dialoguer::Error::IO(e)| prompt_error(e));
    let _ = console::Term::stderr().show_cursor();
    answer?.ok_or(Error::Cancelled)
}

/// Pick one of `items`; Ctrl-C or Esc cancels.
pub fn select(question: &str, items: &[String]) -> Result<usize> {
    let _restore = guard_terminal();
    let choice = dialoguer::Select::new()
        .with_prompt(question)
        .items(items)
        .default(0)
        .interact_opt()
        .map_err(|dialoguer::Error::IO(e)| prompt_error(e));
    let _ = console::Term::stderr().show_cursor();
    choice?.ok_or(Error::Cancelled)
}

/// While alive, a Ctrl-C restores the terminal and exits with 130 (cancelled).
fn guard_terminal() -> impl Drop {
    crate::sys::restore_terminal_on_interrupt(crate::error::exit::CANCELLED)
}
