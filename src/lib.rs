//! ampsecret: a local, age-encrypted vault for AWS Amplify Gen 2 secrets.
//!
//! The library holds all logic; `main.rs` only wires the command line to [`run`].
//!
//! * [`amplify`]: Amplify's SSM path convention and the name rules of Amplify and SSM (pure).
//! * [`scope`]: branch / sandbox / shared scopes and how they map to SSM prefixes (pure).
//! * [`secret`]: the zeroizing, non-printing value type and its SSM checks (pure).
//! * [`vault`]: the payload format (pure), age encryption, atomic writes and locking.
//! * [`keystore`]: where a vault's key lives (environment, OS keyring, identity file).
//! * [`project`]: project root, package name and git branch discovery.
//! * [`effective`]: what a deployment resolves: the scope's value, else the shared one (pure).
//! * [`formats`]: dotenv, shell, JSON and GitHub Actions renderings of secrets, and parsers (pure).
//! * [`backend`]: the `secret()` references of an Amplify backend, found with a JS/TS parser.
//! * [`child`]: running a command with signals forwarded and its status passed through.
//! * [`ssm`]: three-way diff, the rate governor and the SSM calls for push, pull and diff.
//! * [`cli`] and [`commands`]: the command line and one module per command.

pub mod amplify;
pub mod backend;
pub mod child;
pub mod cli;
pub mod commands;
pub mod effective;
pub mod error;
pub mod formats;
pub mod keystore;
pub mod project;
pub mod prompt;
pub mod scope;
pub mod secret;
pub mod ssm;
pub mod vault;

pub use commands::run;
pub use error::{Error, Result};
