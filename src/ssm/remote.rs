//! A connection to SSM for one command: the async runtime and the client, built from the
//! AWS flags. Commands stay synchronous; they hand futures to [`Remote::run`].

use super::client::Ssm;
use super::setup::{Patience, Target};
use crate::cli::AwsArgs;
use crate::error::{Error, Result};
use std::cell::OnceCell;
use std::future::Future;

pub struct Remote {
    runtime: tokio::runtime::Runtime,
    ssm: Ssm,
}

impl Remote {
    /// Starts the runtime and configures the client from `aws` and the standard chain.
    pub fn connect(aws: &AwsArgs) -> Result<Remote> {
        Remote::connect_with(aws, Patience::Normal)
    }

    /// [`Remote::connect`], waiting for SSM as `patience` says.
    pub fn connect_with(aws: &AwsArgs, patience: Patience) -> Result<Remote> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| Error::Other(format!("cannot start the async runtime: {e}")))?;
        let ssm = runtime
            .block_on(Ssm::connect(aws, patience))
            .map_err(Error::Remote)?;
        Ok(Remote { runtime, ssm })
    }

    pub fn ssm(&self) -> &Ssm {
        &self.ssm
    }

    /// Where calls go: Region, endpoint, and the account once SSM showed it.
    pub fn target(&self) -> Target {
        self.ssm.target()
    }

    /// Runs `future` (SSM calls) to completion.
    pub fn run<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }
}

/// A connection made on first use, so that a command checks everything it can offline (the
/// scope, the vault's names) before it needs credentials and a region; then shared by every
/// scope the command works on.
pub struct LazyRemote<'a> {
    aws: &'a AwsArgs,
    remote: OnceCell<Remote>,
}

impl<'a> LazyRemote<'a> {
    pub fn new(aws: &'a AwsArgs) -> LazyRemote<'a> {
        LazyRemote {
            aws,
            remote: OnceCell::new(),
        }
    }

    /// The connection, if one was made.
    pub fn connected(&self) -> Option<&Remote> {
        self.remote.get()
    }

    /// The connection, made now if it is not yet.
    pub fn get(&self) -> Result<&Remote> {
        if let Some(remote) = self.remote.get() {
            return Ok(remote);
        }
        let remote = Remote::connect(self.aws)?;
        Ok(self.remote.get_or_init(|| remote))
    }
}
