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

/// While alive, a Ctrl-C restores the terminal's echo (and cursor) and exits with 130.
/// rpassword turns echo off, dialoguer raw mode and hides the cursor; SIGINT's default
/// action would leave them so.
#[cfg(unix)]
fn guard_terminal() -> impl Drop {
    use std::sync::atomic::{AtomicBool, Ordering};
    static SAVED_OK: AtomicBool = AtomicBool::new(false);
    static mut SAVED: std::mem::MaybeUninit<libc::termios> = std::mem::MaybeUninit::uninit();

    extern "C" fn on_sigint(_: libc::c_int) {
        // Only async-signal-safe calls here: tcsetattr, write, _exit.
        unsafe {
            if SAVED_OK.load(Ordering::SeqCst) {
                libc::tcsetattr(
                    libc::STDIN_FILENO,
                    libc::TCSANOW,
                    (&raw const SAVED).cast::<libc::termios>(),
                );
            }
            // Show the cursor again (dialoguer's select hides it); stderr is a terminal here.
            let msg = b"\x1b[?25h\nerror: cancelled; nothing was changed\n";
            libc::write(libc::STDERR_FILENO, msg.as_ptr().cast(), msg.len());
            libc::_exit(crate::error::exit::CANCELLED);
        }
    }

    struct Restore(libc::sighandler_t);
    impl Drop for Restore {
        fn drop(&mut self) {
            unsafe { libc::signal(libc::SIGINT, self.0) };
        }
    }

    // SAFETY: the saved termios is written once, before the handler that reads it is set.
    unsafe {
        let ok = libc::tcgetattr(libc::STDIN_FILENO, (&raw mut SAVED).cast::<libc::termios>()) == 0;
        SAVED_OK.store(ok, Ordering::SeqCst);
        let handler: extern "C" fn(libc::c_int) = on_sigint;
        Restore(libc::signal(libc::SIGINT, handler as libc::sighandler_t))
    }
}

#[cfg(not(unix))]
fn guard_terminal() -> impl Drop {
    struct Nothing;
    impl Drop for Nothing {
        fn drop(&mut self) {}
    }
    Nothing
}
