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

/// Asks for a hidden value, typed twice. SIGINT during the prompt ends the process with the
/// terminal restored (see [`guard_terminal`]); nothing has been written by then.
pub fn hidden_value(label: &str) -> Result<SecretValue> {
    let _restore = guard_terminal();
    let first = Zeroizing::new(
        rpassword::prompt_password(format!("Value for {label}: ")).map_err(prompt_error)?,
    );
    let second = Zeroizing::new(
        rpassword::prompt_password(format!("Repeat the value for {label}: "))
            .map_err(prompt_error)?,
    );
    if *first != *second {
        return Err(Error::Invalid(
            "the two values typed differ; nothing was stored".into(),
        ));
    }
    Ok(SecretValue::new(first.to_string()))
}

/// Asks for a passphrase (twice when `confirm`).
pub fn passphrase(confirm: bool) -> Result<Zeroizing<String>> {
    let _restore = guard_terminal();
    let first =
        Zeroizing::new(rpassword::prompt_password("Vault passphrase: ").map_err(prompt_error)?);
    if confirm {
        let second = Zeroizing::new(
            rpassword::prompt_password("Repeat the passphrase: ").map_err(prompt_error)?,
        );
        if *first != *second {
            return Err(Error::Invalid("the two passphrases differ".into()));
        }
    }
    if first.is_empty() {
        return Err(Error::Invalid("the passphrase is empty".into()));
    }
    Ok(first)
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
