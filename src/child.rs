//! Running a child command for `exec`: signals sent to ampsecret are forwarded to it, and
//! its exit status becomes ampsecret's.
//!
//! A signal from the terminal (Ctrl-C, a hang-up) already reaches the child, which shares
//! ampsecret's process group, so only signals sent by a process (`kill`, a supervisor) are
//! forwarded; forwarding the terminal's too would deliver them twice.

use std::io;
use std::process::{Command, ExitStatus};

/// The exit code a shell would report: the child's own, or 128+N after signal N.
pub fn exit_code(status: ExitStatus) -> i32 {
    if let Some(code) = status.code() {
        return code;
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return 128 + signal;
        }
    }
    1
}

/// Spawns `command`, forwards SIGINT, SIGTERM and SIGHUP to it while it runs, and waits.
pub fn run(command: &mut Command) -> io::Result<ExitStatus> {
    #[cfg(unix)]
    {
        let _forwarding = forward::install();
        let mut child = command.spawn()?;
        forward::set_child(child.id());
        let status = child.wait();
        forward::set_child(0);
        status
    }
    #[cfg(not(unix))]
    {
        command.status()
    }
}

#[cfg(unix)]
mod forward {
    use std::sync::atomic::{AtomicI32, Ordering};

    const SIGNALS: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

    /// The running child's pid (0: none yet).
    static CHILD: AtomicI32 = AtomicI32::new(0);
    /// A signal that arrived before the child existed, delivered once it does.
    static PENDING: AtomicI32 = AtomicI32::new(0);

    extern "C" fn on_signal(signal: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
        // Async-signal-safe only: atomics and kill(2).
        // SAFETY: the kernel passes a valid siginfo_t with SA_SIGINFO.
        let sender = unsafe { info.as_ref().map_or(0, |i| i.si_pid()) };
        if sender == 0 {
            return; // from the terminal (the kernel): the child got it too
        }
        let child = CHILD.load(Ordering::SeqCst);
        if child > 0 {
            // SAFETY: kill is async-signal-safe; child is a pid we spawned.
            unsafe { libc::kill(child, signal) };
        } else {
            PENDING.store(signal, Ordering::SeqCst);
        }
    }

    /// Records the child's pid and delivers a signal that came before it existed.
    pub fn set_child(pid: u32) {
        let pid = i32::try_from(pid).unwrap_or(0);
        CHILD.store(pid, Ordering::SeqCst);
        let pending = PENDING.swap(0, Ordering::SeqCst);
        if pid > 0 && pending != 0 {
            // SAFETY: plain kill(2) on our own child.
            unsafe { libc::kill(pid, pending) };
        }
    }

    /// Restores the previous handlers when dropped.
    pub struct Forwarding(Vec<(libc::c_int, libc::sigaction)>);

    impl Drop for Forwarding {
        fn drop(&mut self) {
            for (signal, previous) in &self.0 {
                // SAFETY: restoring a sigaction we saved.
                unsafe { libc::sigaction(*signal, previous, std::ptr::null_mut()) };
            }
        }
    }

    pub fn install() -> Forwarding {
        let mut saved = Vec::new();
        for signal in SIGNALS {
            // SAFETY: a zeroed sigaction is valid; we fill handler, flags and mask.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                let handler: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                    on_signal;
                action.sa_sigaction = handler as libc::sighandler_t;
                action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
                libc::sigemptyset(&mut action.sa_mask);
                let mut previous: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(signal, &action, &mut previous) == 0 {
                    saved.push((signal, previous));
                }
            }
        }
        Forwarding(saved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        let status = |script: &str| Command::new("sh").args(["-c", script]).status().unwrap();
        assert_eq!(exit_code(status("exit 0")), 0);
        assert_eq!(exit_code(status("exit 42")), 42);
        assert_eq!(exit_code(status("kill -TERM $$")), 128 + 15);
    }
}
