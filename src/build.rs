//! Links the `ampsecret` executable at a fixed address (not position-independent) on Linux
//! with glibc, unless `AMPSECRET_PIE=1` is set when it is built.
//!
//! Why: a position-independent executable of this size has the dynamic loader patch about
//! 43,000 pointers in 600 KB of tables before `main`, copying every page it touches: about
//! 200 page faults, 1-2 ms of every run and half of a `get` on a small vault
//! (BENCHMARKS.md). What is given up (README, Security): the executable's code is at a known
//! address and its main heap is less random; the stack, thread heaps, other mappings and
//! shared libraries are not affected. Packagers who require PIE build with `AMPSECRET_PIE=1`.
fn main() {
    println!("cargo:rerun-if-changed=src/build.rs");
    println!("cargo:rerun-if-env-changed=AMPSECRET_PIE");
    let glibc_linux = std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux")
        && std::env::var("CARGO_CFG_TARGET_ENV").as_deref() == Ok("gnu");
    let pie = std::env::var_os("AMPSECRET_PIE").is_some_and(|value| value == "1");
    if glibc_linux && !pie {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
