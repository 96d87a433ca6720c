//! The only module with `unsafe` code: the few operating-system calls the standard library
//! does not offer (the terminal's saved mode and input queue, signal handlers, the password
//! database, process hardening, early writeback of a large file). Each is wrapped in a small safe function; the rest of the
//! crate denies `unsafe`.
#![allow(unsafe_code)]

use std::process::Command;
#[cfg(unix)]
use std::sync::OnceLock;

/// The OS account name from the password database, as Amplify's `os.userInfo().username`
/// (deliberately not `$USER`).
#[cfg(unix)]
pub fn os_user_name() -> Option<String> {
    // SAFETY: getpwuid_r writes into our buffer and `pwd`; we read pw_name only on success
    // and copy it out before the buffer goes away.
    unsafe {
        let uid = libc::geteuid();
        let mut pwd: libc::passwd = std::mem::zeroed();
        let mut buf = vec![0 as libc::c_char; 4096];
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut result);
        if rc != 0 || result.is_null() || pwd.pw_name.is_null() {
            return None;
        }
        std::ffi::CStr::from_ptr(pwd.pw_name)
            .to_str()
            .ok()
            .map(str::to_owned)
    }
}

#[cfg(not(unix))]
pub fn os_user_name() -> Option<String> {
    std::env::var("USERNAME").ok()
}

/// While the returned guard lives, a Ctrl-C restores the terminal's mode (and cursor), says
/// the command was cancelled and exits with `exit_code`. rpassword turns echo off, dialoguer
/// raw mode and hides the cursor; SIGINT's default action would leave them so.
#[cfg(unix)]
pub fn restore_terminal_on_interrupt(exit_code: i32) -> impl Drop {
    use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
    static SAVED_OK: AtomicBool = AtomicBool::new(false);
    static EXIT_CODE: AtomicI32 = AtomicI32::new(1);
    static mut SAVED: std::mem::MaybeUninit<libc::termios> = std::mem::MaybeUninit::uninit();

    extern "C" fn on_sigint(_: libc::c_int) {
        // Only async-signal-safe calls here: tcsetattr, write, _exit.
        unsafe {
            if SAVED_OK.load(Ordering::SeqCst) {
                libc::tcsetattr(
                    libc::STDIN_FILENO,
                    libc::TCSANOW,
                    (&raw const SAVED).cast::<libc::termios>(),
                );
            }
            // Show the cursor again (dialoguer's select hides it) and end bracketed paste;
            // stderr is a terminal here.
            let msg = b"\x1b[?25h\x1b[?2004l\nCancelled; nothing was changed.\n";
            libc::write(libc::STDERR_FILENO, msg.as_ptr().cast(), msg.len());
            // What was typed after the interrupt must not reach the shell either.
            libc::tcflush(libc::STDIN_FILENO, libc::TCIFLUSH);
            libc::_exit(EXIT_CODE.load(Ordering::SeqCst));
        }
    }

    struct Restore(libc::sighandler_t);
    impl Drop for Restore {
        fn drop(&mut self) {
            // SAFETY: puts back the handler that was in place before.
            unsafe { libc::signal(libc::SIGINT, self.0) };
        }
    }

    EXIT_CODE.store(exit_code, Ordering::SeqCst);
    // SAFETY: the saved termios is written once, before the handler that reads it is set.
    unsafe {
        let ok = libc::tcgetattr(libc::STDIN_FILENO, (&raw mut SAVED).cast::<libc::termios>()) == 0;
        SAVED_OK.store(ok, Ordering::SeqCst);
        let handler: extern "C" fn(libc::c_int) = on_sigint;
        Restore(libc::signal(libc::SIGINT, handler as libc::sighandler_t))
    }
}

#[cfg(not(unix))]
pub fn restore_terminal_on_interrupt(_exit_code: i32) -> impl Drop {
    struct Nothing;
    impl Drop for Nothing {
        fn drop(&mut self) {}
    }
    Nothing
}

/// Forwarding of SIGINT, SIGTERM and SIGHUP sent by another process to a child command.
///
/// A signal from the terminal (Ctrl-C, a hang-up) already reaches the child, which shares our
/// process group, so only signals sent by a process (`kill`, a supervisor) are forwarded;
/// forwarding the terminal's too would deliver them twice.
#[cfg(unix)]
pub mod forward {
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
            super::restore_handlers(&self.0);
        }
    }

    /// Installs the forwarding handlers until the returned value is dropped.
    pub fn install() -> Forwarding {
        Forwarding(super::install_handlers(&SIGNALS, on_signal))
    }
}

/// Sets `handler` (with `SA_SIGINFO`) for each of `signals`; returns what to restore.
#[cfg(unix)]
fn install_handlers(
    signals: &[libc::c_int],
    handler: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void),
) -> Vec<(libc::c_int, libc::sigaction)> {
    let mut saved = Vec::new();
    for &signal in signals {
        // SAFETY: a zeroed sigaction is valid; we fill handler, flags and mask.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = handler as libc::sighandler_t;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            let mut previous: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(signal, &action, &mut previous) == 0 {
                saved.push((signal, previous));
            }
        }
    }
    saved
}

/// Puts back handlers saved by [`install_handlers`].
#[cfg(unix)]
fn restore_handlers(saved: &[(libc::c_int, libc::sigaction)]) {
    for (signal, previous) in saved {
        // SAFETY: restoring a sigaction we saved.
        unsafe { libc::sigaction(*signal, previous, std::ptr::null_mut()) };
    }
}

/// A sync's interruption: the first SIGINT or SIGTERM asks the run to stop starting SSM
/// calls (the ones in flight finish and are reported); a second one ends the process at once.
#[cfg(unix)]
pub mod interrupt {
    use std::sync::atomic::{AtomicBool, Ordering};

    static REQUESTED: AtomicBool = AtomicBool::new(false);

    extern "C" fn on_signal(_: libc::c_int, _: *mut libc::siginfo_t, _: *mut libc::c_void) {
        // Async-signal-safe only: an atomic, write(2), _exit(2).
        if REQUESTED.swap(true, Ordering::SeqCst) {
            // SAFETY: _exit ends the process without running anything else.
            unsafe { libc::_exit(130) };
        }
        let msg = b"\nStopping: no new SSM call starts, the ones in flight finish (interrupt again to quit at once)\n";
        // SAFETY: writes a static buffer to stderr.
        unsafe { libc::write(libc::STDERR_FILENO, msg.as_ptr().cast(), msg.len()) };
    }

    /// Restores the previous handlers when dropped.
    pub struct Watching(Vec<(libc::c_int, libc::sigaction)>);

    impl Drop for Watching {
        fn drop(&mut self) {
            super::restore_handlers(&self.0);
        }
    }

    /// Watches for SIGINT and SIGTERM until the returned value is dropped.
    pub fn watch() -> Watching {
        Watching(super::install_handlers(
            &[libc::SIGINT, libc::SIGTERM],
            on_signal,
        ))
    }

    /// Whether an interruption was asked for.
    pub fn requested() -> bool {
        REQUESTED.load(Ordering::SeqCst)
    }
}

/// The soft core-file limit the process started with, restored for `exec`'s child.
#[cfg(unix)]
static STARTING_CORE_LIMIT: OnceLock<libc::rlim_t> = OnceLock::new();

/// Keeps secrets and keys out of core dumps and away from other processes of the same user:
/// the process becomes non-dumpable (no core file, no ptrace or /proc/PID/mem by the same
/// user) and its soft core-file limit drops to 0. Call first thing in `main`.
pub fn harden_process() {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl with PR_SET_DUMPABLE takes one integer argument and touches no memory.
    unsafe {
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit and setrlimit read and write only the struct passed to them.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_CORE, &mut limit) == 0 {
                let _ = STARTING_CORE_LIMIT.set(limit.rlim_cur);
                limit.rlim_cur = 0;
                libc::setrlimit(libc::RLIMIT_CORE, &limit);
            }
        }
    }
}

/// Gives `command`'s process the core-file limit ampsecret started with: the child is the
/// user's program, not ampsecret, and keeps the user's settings.
pub fn restore_core_limit(command: &mut Command) {
    #[cfg(unix)]
    if let Some(&soft) = STARTING_CORE_LIMIT.get() {
        use std::os::unix::process::CommandExt;
        // SAFETY: the closure runs between fork and exec and only calls getrlimit and
        // setrlimit, which are async-signal-safe, on a struct on its own stack.
        unsafe {
            command.pre_exec(move || {
                let mut limit = libc::rlimit {
                    rlim_cur: 0,
                    rlim_max: 0,
                };
                if libc::getrlimit(libc::RLIMIT_CORE, &mut limit) == 0 {
                    limit.rlim_cur = soft.min(limit.rlim_max);
                    libc::setrlimit(libc::RLIMIT_CORE, &limit);
                }
                Ok(())
            });
        }
    }
}

/// Bytes waiting in the terminal's input queue on standard input (0 when unknown).
pub fn pending_terminal_input() -> usize {
    #[cfg(unix)]
    {
        let mut count: libc::c_int = 0;
        // SAFETY: FIONREAD writes one c_int to the pointer given.
        let ok = unsafe { libc::ioctl(libc::STDIN_FILENO, libc::FIONREAD, &mut count) } == 0;
        if ok {
            return usize::try_from(count).unwrap_or(0);
        }
    }
    0
}

/// While the returned guard lives, what is typed on the terminal at standard input is not
/// echoed (a value read with `--stdin` at a terminal). Does nothing when standard input is
/// not a terminal.
#[cfg(unix)]
pub fn echo_off() -> impl Drop {
    struct Restore(Option<libc::termios>);
    impl Drop for Restore {
        fn drop(&mut self) {
            if let Some(saved) = &self.0 {
                // SAFETY: tcsetattr reads the termios it is given.
                unsafe { libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, saved) };
            }
        }
    }
    let mut saved = std::mem::MaybeUninit::<libc::termios>::uninit();
    // SAFETY: tcgetattr fills the termios on success, which is checked before it is read.
    let saved = unsafe {
        (libc::tcgetattr(libc::STDIN_FILENO, saved.as_mut_ptr()) == 0).then(|| saved.assume_init())
    };
    if let Some(current) = saved {
        let mut quiet = current;
        quiet.c_lflag &= !(libc::ECHO | libc::ECHONL);
        // SAFETY: as above.
        unsafe { libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &quiet) };
    }
    Restore(saved)
}

#[cfg(not(unix))]
pub fn echo_off() -> impl Drop {
    restore_terminal_on_interrupt(0)
}

/// Discards whatever is waiting in the terminal's input queue on standard input, so
/// nothing typed ahead or pasted at a prompt becomes an answer or a value, or reaches the
/// shell after ampsecret exits.
pub fn discard_terminal_input() {
    #[cfg(unix)]
    // SAFETY: tcflush takes a descriptor and a constant; it touches no memory.
    unsafe {
        libc::tcflush(libc::STDIN_FILENO, libc::TCIFLUSH);
    }
}

/// The effective user id of this process.
#[cfg(unix)]
pub fn effective_uid() -> u32 {
    // SAFETY: geteuid has no arguments and cannot fail.
    unsafe { libc::geteuid() }
}

/// Pseudo-terminals for `exec --mask` on a terminal: the child writes to a terminal of its
/// own (so it keeps colours and prompts) whose output ampsecret reads and masks.
#[cfg(unix)]
pub mod pty {
    use std::io;
    use std::os::fd::{FromRawFd, OwnedFd, RawFd};
    use std::os::unix::process::CommandExt;
    use std::process::Command;

    pub struct Pty {
        pub master: OwnedFd,
        pub slave: OwnedFd,
    }

    fn check(rc: libc::c_int) -> io::Result<libc::c_int> {
        if rc < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(rc)
        }
    }

    /// A new pseudo-terminal with the settings and window size of the terminal `like`.
    pub fn open(like: RawFd) -> io::Result<Pty> {
        // SAFETY: openpty writes two descriptors we then own; termios and winsize are plain
        // structs filled by tcgetattr/ioctl and only passed on when those succeeded.
        unsafe {
            let mut term: libc::termios = std::mem::zeroed();
            let mut size: libc::winsize = std::mem::zeroed();
            let term_ptr = if libc::tcgetattr(like, &mut term) == 0 {
                &raw const term
            } else {
                std::ptr::null()
            };
            let size_ptr = if libc::ioctl(like, libc::TIOCGWINSZ, &mut size) == 0 {
                &raw const size
            } else {
                std::ptr::null()
            };
            let (mut master, mut slave) = (-1, -1);
            check(libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                term_ptr,
                size_ptr,
            ))?;
            let pty = Pty {
                master: OwnedFd::from_raw_fd(master),
                slave: OwnedFd::from_raw_fd(slave),
            };
            // Neither end may leak into the command past exec (it gets dup'ed copies).
            for fd in [master, slave] {
                check(libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC))?;
            }
            Ok(pty)
        }
    }

    /// Starts `command` in a session of its own with `slave` as its controlling terminal, so
    /// Ctrl-C typed into it (forwarded as a byte) interrupts the command.
    pub fn make_controlling(command: &mut Command, slave: RawFd) {
        // SAFETY: setsid and ioctl are async-signal-safe, as a pre_exec closure requires;
        // `slave` stays open in the forked child until exec (it is close-on-exec).
        unsafe {
            command.pre_exec(move || {
                check(libc::setsid())?;
                check(libc::ioctl(slave, libc::TIOCSCTTY, 0))?;
                Ok(())
            });
        }
    }

    /// While the returned guard lives, each change of the terminal `from`'s window size is
    /// copied to the pseudo-terminal `to`, whose kernel then tells the command (SIGWINCH).
    /// `to` must stay open until the guard is dropped.
    pub fn follow_window_size(from: RawFd, to: RawFd) -> io::Result<FollowWindowSize> {
        use std::sync::atomic::{AtomicI32, Ordering};
        static FROM: AtomicI32 = AtomicI32::new(-1);
        static TO: AtomicI32 = AtomicI32::new(-1);

        extern "C" fn on_winch(_: libc::c_int) {
            let (from, to) = (FROM.load(Ordering::SeqCst), TO.load(Ordering::SeqCst));
            if from < 0 || to < 0 {
                return;
            }
            // SAFETY: two ioctls on descriptors the guard keeps open; winsize is plain data.
            unsafe {
                let mut size: libc::winsize = std::mem::zeroed();
                if libc::ioctl(from, libc::TIOCGWINSZ, &mut size) == 0 {
                    libc::ioctl(to, libc::TIOCSWINSZ, &size);
                }
            }
        }

        FROM.store(from, Ordering::SeqCst);
        TO.store(to, Ordering::SeqCst);
        // SAFETY: a zeroed sigaction is valid; we fill handler, flags and mask, and keep the
        // previous action to put back.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            let handler: extern "C" fn(libc::c_int) = on_winch;
            action.sa_sigaction = handler as libc::sighandler_t;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            let mut previous: libc::sigaction = std::mem::zeroed();
            check(libc::sigaction(libc::SIGWINCH, &action, &mut previous))?;
            Ok(FollowWindowSize { previous, to: &TO })
        }
    }

    pub struct FollowWindowSize {
        previous: libc::sigaction,
        to: &'static std::sync::atomic::AtomicI32,
    }

    impl Drop for FollowWindowSize {
        fn drop(&mut self) {
            // SAFETY: restores the action saved above.
            unsafe { libc::sigaction(libc::SIGWINCH, &self.previous, std::ptr::null_mut()) };
            self.to.store(-1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    /// The terminal `fd` in raw mode until the returned guard is dropped: keystrokes go to
    /// the command's terminal unchanged, which applies its own settings.
    pub struct RawMode {
        fd: RawFd,
        saved: libc::termios,
    }

    pub fn raw_mode(fd: RawFd) -> io::Result<RawMode> {
        // SAFETY: tcgetattr fills a plain struct; cfmakeraw edits a copy of it.
        unsafe {
            let mut saved: libc::termios = std::mem::zeroed();
            check(libc::tcgetattr(fd, &mut saved))?;
            let mut raw = saved;
            libc::cfmakeraw(&mut raw);
            check(libc::tcsetattr(fd, libc::TCSANOW, &raw))?;
            Ok(RawMode { fd, saved })
        }
    }

    impl Drop for RawMode {
        fn drop(&mut self) {
            // SAFETY: puts back the settings saved above.
            unsafe { libc::tcsetattr(self.fd, libc::TCSANOW, &self.saved) };
        }
    }
}

/// Starts writing `len` bytes of `file` from `offset` to disk without waiting for them, so
/// that the fsync that follows a large write has less left to wait for.
#[cfg(target_os = "linux")]
pub fn start_writeback(file: &std::fs::File, offset: u64, len: u64) {
    use std::os::fd::AsRawFd;
    let (Ok(offset), Ok(len)) = (i64::try_from(offset), i64::try_from(len)) else {
        return;
    };
    // SAFETY: sync_file_range reads only the open descriptor and the numbers it is given; a
    // failure just leaves the work to the fsync.
    unsafe { libc::sync_file_range(file.as_raw_fd(), offset, len, libc::SYNC_FILE_RANGE_WRITE) };
}

#[cfg(not(target_os = "linux"))]
pub fn start_writeback(_file: &std::fs::File, _offset: u64, _len: u64) {}
