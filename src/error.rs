//! Every failure ampsecret reports, with its wording and its exit code, defined once.
//!
//! Messages are single lines that say what was wrong and what to do. Variants carry names,
//! paths, scopes and flags only; no variant holds a secret value.

use crate::amplify::{NameError, ParameterError};
use crate::scope::ScopeKey;
use std::io;
use std::path::{Path, PathBuf};

/// Exit codes. [`EXIT_CODES`] documents them for `--help`, the man page and the README.
pub mod exit {
    /// Everything asked for was done.
    pub const SUCCESS: i32 = 0;
    /// An unexpected failure: I/O, a lock, a bug.
    pub const FAILURE: i32 = 1;
    /// Bad flags or arguments, or input was needed where none may be asked for.
    pub const USAGE: i32 = 2;
    /// The secret, scope or vault does not exist.
    pub const NOT_FOUND: i32 = 3;
    /// The vault cannot be opened: no key, wrong key, damaged or from a newer version.
    pub const KEY: i32 = 4;
    /// A name or value breaks Amplify's or SSM's rules.
    pub const INVALID: i32 = 5;
    /// SSM could not be reached or refused the request; nothing was applied.
    pub const REMOTE: i32 = 6;
    /// Some remote changes were applied and some were not; re-running converges.
    pub const PARTIAL: i32 = 7;
    /// Local and remote both changed a secret and no resolution was chosen.
    pub const CONFLICT: i32 = 8;
    /// `diff --exit-code`: the vault and SSM differ (and nothing changed on both sides).
    pub const DIFFERENT: i32 = 9;
    /// `doctor` found a problem (each one is shown with its fix).
    pub const UNHEALTHY: i32 = 10;
    /// The user cancelled at a prompt (Ctrl-C); nothing was changed.
    pub const CANCELLED: i32 = 130;
}

/// The exit-code table, as `--help`, the man page and the README show it.
pub const EXIT_CODES: &[(i32, &str)] = &[
    (exit::SUCCESS, "success"),
    (exit::FAILURE, "unexpected failure (I/O, lock, bug)"),
    (
        exit::USAGE,
        "usage error, or input needed where no prompt is allowed",
    ),
    (
        exit::NOT_FOUND,
        "not found (secret, scope or vault; `check` found a secret without a value)",
    ),
    (
        exit::KEY,
        "cannot decrypt: no key, wrong key, damaged vault or newer format",
    ),
    (
        exit::INVALID,
        "invalid input: a name or value that Amplify or SSM refuses",
    ),
    (
        exit::REMOTE,
        "remote error: SSM unreachable or refused; nothing applied",
    ),
    (
        exit::PARTIAL,
        "partial: some remote changes applied, some not (re-run converges)",
    ),
    (
        exit::CONFLICT,
        "conflict: both sides changed a secret and no resolution was chosen",
    ),
    (
        exit::DIFFERENT,
        "diff --exit-code: the vault and SSM differ (8: a secret changed on both sides)",
    ),
    (
        exit::UNHEALTHY,
        "doctor found a problem (each shown with its fix)",
    ),
    (exit::CANCELLED, "cancelled at a prompt; nothing changed"),
];

/// What went wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Usage(String),
    /// No scope flag, no `$AWS_BRANCH` and no git branch to fall back to.
    #[error("{why}: pass --branch NAME, --sandbox or --shared")]
    NoScope { why: &'static str },
    /// A command that changes something needs `--yes` where nobody can be asked.
    #[error("{command} asks for confirmation, and there is no terminal to ask on: pass --yes{}",
        if *.preview { " (or --dry-run to see the plan)" } else { "" })]
    NeedsYes {
        command: &'static str,
        /// The command has `--dry-run`.
        preview: bool,
    },
    #[error("{0}")]
    NotFound(String),
    #[error("no vault at {}: run 'ampsecret init' first (or pass --vault)", dir.display())]
    NoVault { dir: PathBuf },
    #[error("no secret {name} in {scope}{}; {hint}",
        .fallback.as_ref().map_or_else(String::new, |f| format!(" nor in {f}")))]
    SecretNotFound {
        scope: ScopeKey,
        name: String,
        /// The shared scope that was looked in too.
        fallback: Option<ScopeKey>,
        /// The next step (see [`Error::secret_not_found`]).
        hint: String,
    },
    #[error("secret name '{name}': {error}")]
    SecretName { name: String, error: NameError },
    #[error("secret {name} ({parameter}): {error}")]
    ParameterName {
        name: String,
        parameter: String,
        error: NameError,
    },
    #[error("{0}")]
    Key(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Remote(String),
    #[error("{0}")]
    Partial(String),
    #[error("{0}")]
    Conflict(String),
    #[error("cancelled; nothing was changed")]
    Cancelled,
    /// Standard output was closed by its reader (`| head`): not a failure.
    #[error("standard output was closed")]
    StdoutClosed,
    #[error("{action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("{0}")]
    Other(String),
}

impl Error {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) | Error::NoScope { .. } | Error::NeedsYes { .. } => exit::USAGE,
            Error::NotFound(_) | Error::NoVault { .. } | Error::SecretNotFound { .. } => {
                exit::NOT_FOUND
            }
            Error::Key(_) => exit::KEY,
            Error::Invalid(_) | Error::SecretName { .. } | Error::ParameterName { .. } => {
                exit::INVALID
            }
            Error::Remote(_) => exit::REMOTE,
            Error::Partial(_) => exit::PARTIAL,
            Error::Conflict(_) => exit::CONFLICT,
            Error::Cancelled => exit::CANCELLED,
            Error::StdoutClosed => exit::SUCCESS,
            Error::Io { .. } | Error::Other(_) => exit::FAILURE,
        }
    }

    /// A stable machine-readable name for `--json` error output.
    pub fn kind(&self) -> &'static str {
        match self.exit_code() {
            exit::USAGE => "usage",
            exit::NOT_FOUND => "not_found",
            exit::KEY => "key",
            exit::INVALID => "invalid",
            exit::REMOTE => "remote",
            exit::PARTIAL => "partial",
            exit::CONFLICT => "conflict",
            exit::CANCELLED => "cancelled",
            _ => "failure",
        }
    }

    /// `name` is not in `scope` (nor in `fallback`): the hint offers the closest name the
    /// scopes looked in hold, else the other scopes that hold it (`elsewhere`), else how to
    /// see what the vault holds.
    pub fn secret_not_found(
        scope: ScopeKey,
        name: &str,
        fallback: Option<ScopeKey>,
        elsewhere: &[ScopeKey],
        closest: Option<&str>,
    ) -> Error {
        Error::SecretNotFound {
            hint: not_found_hint(elsewhere, fallback.as_ref(), closest),
            scope,
            name: name.to_owned(),
            fallback,
        }
    }

    /// Wraps an I/O error with what was being done and to which path.
    pub fn io(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> Error {
        let path = path.to_path_buf();
        move |source| Error::Io {
            action,
            path,
            source,
        }
    }

    /// Why `name` cannot be stored under a prefix.
    pub fn parameter(name: &str, error: ParameterError) -> Error {
        match error {
            ParameterError::Name(error) => Error::SecretName {
                name: name.to_owned(),
                error,
            },
            ParameterError::Parameter { parameter, error } => Error::ParameterName {
                name: name.to_owned(),
                parameter,
                error,
            },
        }
    }

    /// Writing to standard output failed: a closed pipe is the reader's choice, anything
    /// else a failure.
    pub fn stdout(error: io::Error) -> Error {
        if error.kind() == io::ErrorKind::BrokenPipe {
            Error::StdoutClosed
        } else {
            Error::Other(format!("cannot write to standard output: {error}"))
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The next step after a secret was not found: the closest name, else where the name is,
/// else how to see what the vault holds.
fn not_found_hint(
    elsewhere: &[ScopeKey],
    fallback: Option<&ScopeKey>,
    closest: Option<&str>,
) -> String {
    if let Some(closest) = closest {
        return format!("did you mean {}?", crate::text::escape(closest));
    }
    let Some(first) = elsewhere.first() else {
        return "'ampsecret list --all' shows what the vault holds".to_owned();
    };
    let scopes: Vec<String> = elsewhere.iter().map(ToString::to_string).collect();
    let mut hint = format!("it is in {}: pass {}", scopes.join(", "), first.flag());
    // Without --effective a deployment's own scope is read alone; with it, the shared
    // scope it falls back to is read too.
    if fallback.is_none() && elsewhere.iter().any(|s| s.is_shared()) {
        hint.push_str(
            ", or --effective for what a deployment reads (its own value, else the shared one)",
        );
    }
    hint
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_exit_code_is_documented_once() {
        let codes: Vec<i32> = EXIT_CODES.iter().map(|(code, _)| *code).collect();
        let mut sorted = codes.clone();
        sorted.dedup();
        assert_eq!(codes, sorted, "sorted, each once");
        for error in [
            Error::Usage(String::new()),
            Error::NotFound(String::new()),
            Error::Key(String::new()),
            Error::Invalid(String::new()),
            Error::Remote(String::new()),
            Error::Partial(String::new()),
            Error::Conflict(String::new()),
            Error::Cancelled,
            Error::Other(String::new()),
        ] {
            assert!(codes.contains(&error.exit_code()), "{error:?}");
        }
    }

    #[test]
    fn typed_messages() {
        let missing = Error::secret_not_found(
            ScopeKey::Branch("main".into()),
            "K",
            Some(ScopeKey::Shared),
            &[],
            None,
        );
        assert_eq!(
            missing.to_string(),
            "no secret K in branch:main nor in shared; 'ampsecret list --all' shows what the vault holds"
        );
        assert_eq!(missing.exit_code(), exit::NOT_FOUND);
        let elsewhere = Error::secret_not_found(
            ScopeKey::Branch("main".into()),
            "K",
            None,
            &[ScopeKey::Shared, ScopeKey::Sandbox("bob".into())],
            None,
        );
        assert_eq!(
            elsewhere.to_string(),
            "no secret K in branch:main; it is in shared, sandbox:bob: pass --shared, or --effective for what a deployment reads (its own value, else the shared one)"
        );
        let yes = Error::NeedsYes {
            command: "import",
            preview: true,
        };
        assert_eq!(
            yes.to_string(),
            "import asks for confirmation, and there is no terminal to ask on: pass --yes (or --dry-run to see the plan)"
        );
        assert_eq!(
            Error::stdout(io::ErrorKind::BrokenPipe.into()).exit_code(),
            0
        );
    }
}
