//! ampsecret's SSM test kit, shared by the integration tests (`tests/it/`) and the benchmarks
//! (`benches/`): a real SSM-compatible server and the limits and faults of real SSM.
//!
//! - [`moto`]: starts (or reuses) a local moto server, the SSM emulator.
//! - [`fault_proxy`]: a proxy in front of moto that enforces SSM's limits and injects
//!   throttling, 5xx and dropped connections, and counts every call.
//! - [`ssm`]: the environment that points ampsecret at an endpoint, and an SDK client to seed
//!   and inspect parameters.

pub mod fault_proxy;
pub mod moto;
pub mod ssm;
