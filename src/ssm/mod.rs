//! Sync with SSM Parameter Store: what differs ([`plan`]), how calls are paced and retried
//! ([`governor`]), the calls themselves ([`client`]) and applying a push ([`engine`]).

pub mod client;
pub mod engine;
pub mod governor;
pub mod plan;
