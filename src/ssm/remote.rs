//! A connection to SSM for one command: the async runtime and the client, built from the
//! AWS flags. Commands stay synchronous; they hand futures to [`Remote::run`].

use super::client::Ssm;
use crate::cli::AwsArgs;
use crate::error::{Error, Result};
use std::future::Future;

pub struct Remote {
    runtime: tokio::runtime::Runtime,
    ssm: Ssm,
}

impl Remote {
    /// Starts the runtime and configures the client from `aws` and the standard chain.
    pub fn connect(aws: &AwsArgs) -> Result<Remote> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| Error::Other(format!("cannot start the async runtime: {e}")))?;
        let ssm = runtime.block_on(Ssm::connect(aws)).map_err(Error::Remote)?;
        Ok(Remote { runtime, ssm })
    }

    pub fn ssm(&self) -> &Ssm {
        &self.ssm
    }

    /// Runs `future` (SSM calls) to completion.
    pub fn run<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }
}
