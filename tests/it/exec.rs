//! `ampsecret exec`: the command gets the effective secrets, its status and signals pass through.

use crate::prompts::{finish, pty};
use crate::support::Project;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

const NASTY: &str = "it's \"quoted\" $HOME `id` \\ !\nsecond line ✓";

fn project() -> Project {
    let p = Project::initialized();
    p.set("SHARED_ONLY", "from-shared", &["--shared"]);
    p.set("BOTH", "shared-both", &["--shared"]);
    p.set("BOTH", NASTY, &["--branch", "main"]);
    p
}

#[test]
fn command_sees_effective_values_and_ampsecret_prints_nothing() {
    let p = project();
    p.cmd(&[
        "exec",
        "--",
        "sh",
        "-c",
        "printf '%s|%s' \"$SHARED_ONLY\" \"$BOTH\"",
    ])
    .stdout(format!("from-shared|{NASTY}"))
    .success();

    p.cmd(&[
        "exec",
        "--branch",
        "dev",
        "--",
        "sh",
        "-c",
        "printf %s \"$BOTH\"",
    ])
    .stdout("shared-both")
    .success();

    // Diagnostics name things, never values.
    let out = p.cmd(&["-vv", "exec", "--", "true"]).stderr_any().success();
    assert!(
        !out.stderr.contains("second line") && !out.stderr.contains("from-shared"),
        "{}",
        out.stderr
    );
}

#[test]
fn exit_status_passes_through() {
    let p = project();
    p.cmd(&["exec", "--", "sh", "-c", "exit 7"]).fails(7);
    p.cmd(&["exec", "--", "sh", "-c", "kill -TERM $$"])
        .fails(128 + 15);
    p.cmd(&["exec", "--", "sh", "-c", "kill -KILL $$"])
        .fails(128 + 9);
    p.cmd(&["exec", "--", "no-such-command-ampsecret"])
        .stderr_has("no-such-command-ampsecret")
        .fails(3);
    p.cmd(&["exec"])
        .stderr(
            "error: exec needs the command to run, after '--': ampsecret exec [OPTIONS] -- \
             COMMAND [ARGS...] (see 'ampsecret exec --help')\n",
        )
        .fails(2);
}

#[test]
fn pristine_keeps_only_path_home_and_secrets() {
    let p = project().env("SOMETHING_ELSE", "x");
    let out = p
        .cmd(&["exec", "--pristine", "--", "env"])
        .stdout_any()
        .success();
    let mut names: Vec<&str> = out
        .stdout
        .lines()
        .filter_map(|l| l.split_once('=').map(|(n, _)| n))
        .collect();
    names.retain(|n| !n.starts_with("second line")); // the NASTY value's continuation line
    names.sort();
    // `env` may add PWD-like variables on some systems; sh is not involved here.
    assert!(
        names.contains(&"PATH") && names.contains(&"HOME"),
        "{names:?}"
    );
    assert!(
        names.contains(&"BOTH") && names.contains(&"SHARED_ONLY"),
        "{names:?}"
    );
    assert!(
        !names.contains(&"SOMETHING_ELSE") && !names.contains(&"AMPSECRET_NO_KEYRING"),
        "{names:?}"
    );

    p.cmd(&["exec", "--", "env"])
        .stdout_has("SOMETHING_ELSE=x\n")
        .success();
}

#[test]
fn the_vault_key_is_not_passed_on() {
    let p = Project::new().env("AMPSECRET_PASSPHRASE", "correct horse");
    p.cmd(&["init", "--passphrase", "--app-id", crate::support::APP_ID])
        .stderr(p.init_passphrase_stderr())
        .success();
    p.set("K", "v", &[]);
    p.cmd(&[
        "exec",
        "--",
        "sh",
        "-c",
        "printf '%s/%s' \"${AMPSECRET_PASSPHRASE-unset}\" \"$K\"",
    ])
    .stdout("unset/v")
    .success();
}

#[test]
fn strict_fails_before_starting() {
    let p = project();
    let marker = p.temp().join("ran");
    let script = format!("touch '{}'", marker.display());
    p.cmd(&[
        "exec",
        "--strict",
        "BOTH,MISSING_ONE",
        "--",
        "sh",
        "-c",
        &script,
    ])
    .stderr_has("MISSING_ONE")
    .fails(3);
    assert!(!marker.exists(), "the command must not run");
    p.cmd(&[
        "exec",
        "--strict",
        "BOTH",
        "--strict",
        "SHARED_ONLY",
        "--",
        "sh",
        "-c",
        &script,
    ])
    .success();
    assert!(marker.exists());
}

#[test]
fn signals_are_forwarded_to_the_command() {
    let p = project();
    // Bounded (about 20 s), so a failing run leaves nothing behind for long.
    let script = "trap 'echo got-term; exit 0' TERM; echo ready; i=0; \
                  while [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done; exit 9";
    let mut command = p.cmd(&["exec", "--", "sh", "-c", script]).into_command();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line, "ready\n");
    // SIGTERM to ampsecret only: without forwarding, ampsecret dies and sh never hears of it.
    let pid = i32::try_from(child.id()).unwrap();
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("exec did not end after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    assert_eq!(rest, "got-term\n");
    assert_eq!(
        status.code(),
        Some(0),
        "the command's status, not death by signal"
    );
}

/// `--mask`: a value written in two pieces with a pause between, and a value on stderr, come
/// out as `***`; the exit status still passes through.
#[test]
fn mask_hides_values_split_across_writes_and_on_stderr() {
    let p = Project::initialized();
    p.set("TOKEN", "tok-9f8e7d6c5b4a", &[]);
    p.set("SHORT", "abc", &[]);
    // printf in two processes: two separate writes, 0.3 s apart.
    let script = "v=$TOKEN; printf 'token=%s' \"${v%????????}\"; sleep 0.3; \
                  printf '%s;short=%s\\n' \"${v#????????}\" \"$SHORT\"; \
                  printf 'err:%s\\n' \"$TOKEN\" >&2; exit 3";
    let exec = |args: &[&str]| {
        let mut all = vec!["exec"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--", "sh", "-c", script]);
        p.cmd(&all)
    };
    let masked = ("token=***;short=abc\n", "err:***\n");
    let plain = (
        "token=tok-9f8e7d6c5b4a;short=abc\n",
        "err:tok-9f8e7d6c5b4a\n",
    );
    exec(&["--mask"]).stdout(masked.0).stderr(masked.1).fails(3);
    // The default under CI; --no-mask turns it off; off by default elsewhere.
    exec(&[])
        .env("CI", "true")
        .stdout(masked.0)
        .stderr(masked.1)
        .fails(3);
    exec(&["--no-mask"])
        .env("CI", "true")
        .stdout(plain.0)
        .stderr(plain.1)
        .fails(3);
    exec(&[]).stdout(plain.0).stderr(plain.1).fails(3);
}

/// On a terminal, `--mask` gives the command a terminal of its own: it sees one, can prompt
/// and read an answer, and its output is still masked; the exit status passes through.
#[test]
fn mask_on_a_terminal_keeps_the_command_interactive() {
    let p = Project::initialized();
    p.set("TOKEN", "tok-9f8e7d6c5b4a", &[]);
    let script = "[ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo on-a-terminal; printf 'name? '; \
                  read name; echo \"hello $name $TOKEN\"; echo \"err $TOKEN\" >&2; exit 3";
    let mut s = pty(&p, &["exec", "--mask", "--", "sh", "-c", script]);
    let before = s.exp_string("name? ").unwrap();
    assert!(before.contains("on-a-terminal"), "{before:?}");
    s.send_line("bob").unwrap();
    let (code, rest) = finish(s);
    assert_eq!(code, 3, "{rest:?}");
    // The command's terminal has the settings of ours (rexpect's: no echo), and its lines
    // end in CR LF as on any terminal.
    assert_eq!(rest, "hello bob ***\r\nerr ***\r\n");
}

/// A change of ampsecret's terminal's window size reaches the command's terminal.
#[test]
fn mask_on_a_terminal_passes_window_size_changes_on() {
    use std::os::fd::AsRawFd;

    let p = Project::initialized();
    let script = "echo ready; while read line; do stty size; done";
    let mut s = pty(&p, &["exec", "--mask", "--", "sh", "-c", script]);
    s.exp_string("ready").unwrap();
    // What a terminal emulator does on a resize: set the size on its side of the terminal,
    // whose kernel then signals ampsecret (SIGWINCH).
    let master = s.process.get_file_handle().unwrap();
    let size = libc::winsize {
        ws_row: 33,
        ws_col: 111,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    assert_eq!(
        unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSWINSZ, &size) },
        0
    );
    // The signal is handled asynchronously: ask until the command's terminal has the size
    // (each answer within rexpect's timeout).
    let resized = (0..50).any(|_| {
        s.send_line("size?").unwrap();
        s.exp_regex(r"\d+ \d+\r\n").unwrap().1 == "33 111\r\n"
    });
    assert!(resized, "the command's terminal never got the new size");
    s.process.exit().unwrap();
}
