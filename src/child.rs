//! Running a child command for `exec`: signals sent to ampsecret are forwarded to it (see
//! [`crate::sys::forward`]), and its exit status becomes ampsecret's.

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
        use crate::sys::forward;
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
