//! ampsecret: a local, age-encrypted vault for AWS Amplify Gen 2 secrets.
//!
//! The library holds all logic; `main.rs` only wires the command line to [`run`]. The layers,
//! from the outside in:
//!
//! * [`cli`]: the command line, its documentation tables, completion and manual pages.
//! * [`commands`]: one module per command; nothing outside it imports from it.
//! * [`config`] (the invocation, resolved once), [`session`] (the vault, unlocked once) and
//!   [`output`] (the one place reports are printed).
//! * Domain logic, pure where it can be: [`amplify`] (Amplify's path convention and name
//!   rules), [`scope`] (scopes, their resolution and SSM prefixes), [`secret`] (the zeroizing
//!   value type), [`effective`] (what a deployment resolves), [`formats`] (dotenv, shell,
//!   JSON, GitHub renderings and parsers), [`text`] (escaping what a terminal acts on), [`backend`] (the `secret()` scanner), [`ssm`]
//!   (three-way plan, decisions, rate governor, client, the remote connection).
//! * Storage and the system: [`vault`] (payload format, age crypto, atomic locked store),
//!   [`keystore`] (where keys live), [`project`], [`prompt`], [`child`], and [`sys`], the only
//!   module with `unsafe` code.
#![deny(unsafe_code)]

pub mod amplify;
pub mod backend;
pub mod child;
pub mod cli;
pub mod commands;
pub mod config;
pub mod effective;
pub mod error;
pub mod formats;
pub mod keystore;
pub mod mask;
pub mod output;
pub mod project;
pub mod prompt;
pub mod scope;
pub mod secret;
pub mod session;
pub mod ssm;
pub mod sys;
pub mod text;
pub mod vault;

pub use commands::run;
pub use error::{Error, Result};
