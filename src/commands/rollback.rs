//! placeholder
use crate::cli::RollbackArgs;
use crate::error::Result;
use crate::output::Output;
use crate::session::Context;

pub fn run(_: &Context, _: &Output, _: RollbackArgs) -> Result<()> {
    Err(crate::error::Error::Other("not yet".into()))
}
