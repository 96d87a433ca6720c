//! Link flags for the `ampsecret` executable on Linux with glibc; nothing else.
//!
//! 1. A fixed address (not position-independent), unless `AMPSECRET_PIE=1` is set when it is
//!    built. Why: a position-independent executable of this size has the dynamic loader patch
//!    about 43,000 pointers in 600 KB of tables before `main`, copying every page it touches:
//!    about 200 page faults, 1-2 ms of every run and half of a `get` on a small vault
//!    (BENCHMARKS.md). What is given up (README, Security): the executable's code is at a
//!    known address and its main heap is less random; the stack, thread heaps, other mappings
//!    and shared libraries are not affected. Packagers who require PIE build with
//!    `AMPSECRET_PIE=1`.
//! 2. The unwinder linked in (gcc's `libgcc_eh.a`) rather than loaded from `libgcc_s.so.1`:
//!    loading that library costs every run its mapping and its constructor, which asks the
//!    CPU for its features about a dozen times; on a virtual machine each such question is
//!    a trap to the hypervisor (5 us each here): 0.1 ms of every command, a twentieth of a
//!    `get` (BENCHMARKS.md). std names the library `-lgcc_s`; a linker script of that name,
//!    found first, hands the linker the archive instead. Panics unwind and print backtraces
//!    as before (tests/it/cli.rs). Skipped when the compiler driver has no `libgcc_eh.a`.
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=src/build.rs");
    println!("cargo:rerun-if-env-changed=AMPSECRET_PIE");
    let glibc_linux = std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux")
        && std::env::var("CARGO_CFG_TARGET_ENV").as_deref() == Ok("gnu");
    if !glibc_linux {
        return;
    }
    let pie = std::env::var_os("AMPSECRET_PIE").is_some_and(|value| value == "1");
    if !pie {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
    if let Some(archive) = unwinder_archive() {
        let dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"))
            .join("unwinder");
        std::fs::create_dir_all(&dir).expect("create the unwinder's folder in OUT_DIR");
        std::fs::write(
            dir.join("libgcc_s.so"),
            format!("INPUT(\"{}\")\n", archive.display()),
        )
        .expect("write the unwinder's linker script");
        println!("cargo:rustc-link-arg-bins=-L{}", dir.display());
    }
}

/// The static unwinder of the C compiler that links (cargo's default linker is `cc`).
fn unwinder_archive() -> Option<PathBuf> {
    let output = std::process::Command::new("cc")
        .arg("-print-file-name=libgcc_eh.a")
        .output()
        .ok()?;
    let path = PathBuf::from(String::from_utf8(output.stdout).ok()?.trim());
    // Not found, the driver prints the bare name back.
    (output.status.success() && path.is_absolute() && path.is_file()).then_some(path)
}
