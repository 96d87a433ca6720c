//! Sync with SSM Parameter Store: what differs ([`plan`], pure), one scope loaded from both
//! sides and the decisions a plan needs ([`sync`]), the connection ([`remote`]), how calls
//! are paced and retried ([`governor`]), the calls themselves ([`client`]), how the client
//! is set up ([`setup`]), a failed call in one line ([`failure`]), applying a
//! push ([`engine`]), tags on what a push writes ([`tags`]) and effective values read
//! straight from SSM ([`resolve`]).

pub mod client;
pub mod engine;
pub mod execute;
pub mod failure;
pub mod governor;
pub mod plan;
pub mod remote;
pub mod resolve;
pub mod setup;
pub mod sync;
pub mod tags;
