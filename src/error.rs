//! One error type for the whole tool, and the exit code each kind of failure maps to.
//!
//! Messages are single lines that say what was wrong and what to do. They are built from
//! names, paths and flags only; no constructor here takes a secret value.

use std::io;
use std::path::{Path, PathBuf};

/// Exit codes, documented in the README and `ampsecret --help`.
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
    /// The user cancelled at a prompt (Ctrl-C); nothing was changed.
    pub const CANCELLED: i32 = 130;
}

/// What went wrong; each variant carries a complete, value-free message.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    NotFound(String),
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
            Error::Usage(_) => exit::USAGE,
            Error::NotFound(_) => exit::NOT_FOUND,
            Error::Key(_) => exit::KEY,
            Error::Invalid(_) => exit::INVALID,
            Error::Remote(_) => exit::REMOTE,
            Error::Partial(_) => exit::PARTIAL,
            Error::Conflict(_) => exit::CONFLICT,
            Error::Cancelled => exit::CANCELLED,
            Error::Io { .. } | Error::Other(_) => exit::FAILURE,
        }
    }

    /// A stable machine-readable name for `--json` error output.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Usage(_) => "usage",
            Error::NotFound(_) => "not_found",
            Error::Key(_) => "key",
            Error::Invalid(_) => "invalid",
            Error::Remote(_) => "remote",
            Error::Partial(_) => "partial",
            Error::Conflict(_) => "conflict",
            Error::Cancelled => "cancelled",
            Error::Io { .. } | Error::Other(_) => "failure",
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
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
