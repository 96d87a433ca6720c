//! Running a child command for `exec`: signals sent to ampsecret are forwarded to it (see
//! [`crate::sys::forward`]), its output optionally passes through a [`Masker`], and its exit
//! status becomes ampsecret's.

use crate::mask::Masker;
use std::io::{self, IsTerminal, Read};
use std::process::{Child, ChildStderr, Command, ExitStatus, Stdio};

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
///
/// With a `masker`, the child's stdout and stderr are copied through it to ours: from a
/// pseudo-terminal where ours is a terminal (so the child still sees one), else from pipes.
/// The copies end when the child and whatever it left running close them.
pub fn run(command: &mut Command, masker: Option<&Masker>) -> io::Result<ExitStatus> {
    #[cfg(unix)]
    let _forwarding = crate::sys::forward::install();
    let Some(masker) = masker else {
        let mut child = command.spawn()?;
        return wait(&mut child);
    };
    #[cfg(unix)]
    if io::stdout().is_terminal() {
        return on_terminal::run(command, masker);
    }
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn()?;
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    let stdout = stdout.map(|pipe| Box::new(pipe) as Box<dyn Read + Send>);
    copy_while_waiting(&mut child, masker, stdout, stderr)
}

/// Copies the child's `stdout` and `stderr` through `masker` to ours until they close, and
/// waits for the child meanwhile.
fn copy_while_waiting(
    child: &mut Child,
    masker: &Masker,
    stdout: Option<Box<dyn Read + Send>>,
    stderr: Option<ChildStderr>,
) -> io::Result<ExitStatus> {
    std::thread::scope(|threads| {
        let out = threads.spawn(|| stdout.map(|from| masker.copy(from, io::stdout().lock())));
        let err = threads.spawn(|| stderr.map(|from| masker.copy(from, io::stderr().lock())));
        let status = wait(child);
        // A closed stdout (`| head`) is the reader's choice, not a failure of the command.
        for copy in [out, err] {
            match copy.join() {
                Ok(Some(Err(e))) if e.kind() != io::ErrorKind::BrokenPipe => {
                    tracing::debug!("copying the command's output: {e}");
                }
                _ => {}
            }
        }
        status
    })
}

/// `exec --mask` on a terminal: the child's stdout (and stderr, when ours is a terminal too)
/// is a pseudo-terminal; when our stdin is a terminal, the child's is too, in raw mode on our
/// side, and the child leads its own session on it, so keystrokes including Ctrl-C reach it
/// as typed. Otherwise it stays in our process group and gets the terminal's signals. A
/// change of our terminal's window size is passed on to the child's.
#[cfg(unix)]
mod on_terminal {
    use super::*;
    use crate::sys::pty;
    use std::fs::File;
    use std::os::fd::AsRawFd;

    pub fn run(command: &mut Command, masker: &Masker) -> io::Result<ExitStatus> {
        let terminal = pty::open(io::stdout().as_raw_fd())?;
        let slave = || terminal.slave.try_clone().map(Stdio::from);
        command.stdout(slave()?);
        if io::stderr().is_terminal() {
            command.stderr(slave()?);
        } else {
            command.stderr(Stdio::piped());
        }
        let interactive = io::stdin().is_terminal();
        let raw_mode = if interactive {
            command.stdin(slave()?);
            pty::make_controlling(command, terminal.slave.as_raw_fd());
            Some(pty::raw_mode(io::stdin().as_raw_fd())?)
        } else {
            None
        };
        // Everything that can fail is done before the command starts.
        let to_child = if interactive {
            Some(File::from(terminal.master.try_clone()?))
        } else {
            None
        };
        // Its own descriptor, so that it outlives the reader for as long as the handler runs.
        let resized = terminal.master.try_clone()?;
        let follow = pty::follow_window_size(io::stdout().as_raw_fd(), resized.as_raw_fd())?;
        let spawned = command.spawn();
        // Our copies of the slave end must close, or reading the master never ends.
        command
            .stdin(Stdio::inherit())
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit());
        let pty::Pty { master, slave } = terminal;
        drop(slave);
        let mut child = spawned?;
        if let Some(mut to_child) = to_child {
            // Not joined: it blocks on our stdin until ampsecret exits.
            std::thread::spawn(move || io::copy(&mut io::stdin().lock(), &mut to_child));
        }
        let from_child = Box::new(File::from(master)) as Box<dyn Read + Send>;
        let stderr = child.stderr.take();
        let status = copy_while_waiting(&mut child, masker, Some(from_child), stderr);
        drop(follow);
        drop(resized);
        drop(raw_mode);
        status
    }
}

fn wait(child: &mut Child) -> io::Result<ExitStatus> {
    #[cfg(unix)]
    crate::sys::forward::set_child(child.id());
    let status = child.wait();
    #[cfg(unix)]
    crate::sys::forward::set_child(0);
    status
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
