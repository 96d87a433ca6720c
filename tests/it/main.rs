//! ampsecret's integration tests: one test binary (so the AWS SDK is linked once), one module
//! per area. Every module drives the real `ampsecret` binary through [`support::Project`];
//! SSM tests run it against moto through the shared test kit (`tests/kit`, crate
//! `ampsecret_testkit`).

mod amplify_paths;
mod ampx;
mod check;
mod completions;
mod doctor;
mod effective;
mod exec;
mod export_import;
mod export_readers;
mod fault_proxy;
mod hardening;
mod history;
mod keyring;
mod man;
mod prompts;
mod safety;
mod scopes;
mod settings;
mod support;
mod sync;
mod tags;
mod teach;
mod team;
mod vault;
mod vault_scale;
