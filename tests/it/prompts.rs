//! Every prompt, driven in a real pseudo-terminal: the hidden value typed twice, the
//! overwrite and remove confirmations, the scope picker, Ctrl-C at each kind of prompt, and
//! the paths where no terminal (or `--no-input`) means no prompt and a clear error.
//!
//! Keys are sent only after the prompt text is seen: dialoguer drops keys typed before it
//! has drawn its prompt.

use crate::support::{BIN, Project, no_secret};
use rexpect::process::wait::WaitStatus;
use rexpect::session::PtySession;
use std::process::Command;

const VALUE: &str = "typed-s3cret";

/// `ampsecret ARGS…` on a terminal, with the project's environment (plus the TERM every
/// terminal sets).
pub(crate) fn pty(p: &Project, args: &[&str]) -> PtySession {
    pty_env(p, args, &[])
}

pub(crate) fn pty_env(p: &Project, args: &[&str], env: &[(&str, &str)]) -> PtySession {
    let mut command = Command::new(BIN);
    command
        .env_clear()
        .envs(p.env_map())
        .env("TERM", "xterm")
        .envs(env.iter().copied())
        .current_dir(p.root())
        .args(args);
    rexpect::session::spawn_command(command, Some(10_000)).expect("spawn on a pty")
}

/// Waits for the process to end; returns its exit code and what it printed after the
/// last expectation.
pub(crate) fn finish(mut session: PtySession) -> (i32, String) {
    let rest = session.exp_eof().expect("the command ends");
    match session.process.wait() {
        Ok(WaitStatus::Exited(_, code)) => (code, rest),
        other => panic!("not a normal exit: {other:?}; output {rest:?}"),
    }
}

/// Answers the hidden prompt for MY_API_KEY: `first`, then `repeat`.
fn type_value(s: &mut PtySession, first: &str, repeat: &str) {
    s.exp_string("Value for MY_API_KEY: ").unwrap();
    s.send_line(first).unwrap();
    s.exp_string("Repeat the value for MY_API_KEY: ").unwrap();
    s.send_line(repeat).unwrap();
}

/// Waits for a successful end and checks the value stored.
fn stored(p: &Project, s: PtySession) {
    let (code, rest) = finish(s);
    assert_eq!(code, 0, "{rest}");
    assert_eq!(p.get("MY_API_KEY", &[]), VALUE);
}

fn send(session: &mut PtySession, keys: &str) {
    session.send(keys).unwrap();
    session.flush().unwrap();
}

#[test]
fn set_asks_for_the_value_twice() {
    let p = Project::initialized();
    let mut s = pty(&p, &["set", "MY_API_KEY"]);
    s.exp_string("Value for MY_API_KEY: ").unwrap();
    s.send_line(VALUE).unwrap();
    s.exp_string("Repeat the value for MY_API_KEY: ").unwrap();
    s.send_line(VALUE).unwrap();
    let (code, rest) = finish(s);
    assert_eq!(code, 0, "{rest}");
    assert!(rest.contains("Stored MY_API_KEY in branch:main."), "{rest}");
    assert!(!rest.contains(VALUE), "the value was echoed: {rest}");
    assert_eq!(p.get("MY_API_KEY", &[]), VALUE);
}

#[test]
fn set_with_two_different_values_asks_again_three_times_then_stores_nothing() {
    let p = Project::initialized();
    let before = p.snapshot();
    let mut s = pty(&p, &["set", "MY_API_KEY"]);
    for left in ["2 tries left", "1 try left"] {
        type_value(&mut s, VALUE, "something else");
        s.exp_string(&format!("The two values differ; try again ({left})."))
            .unwrap();
    }
    type_value(&mut s, VALUE, "third mismatch");
    let (code, rest) = finish(s);
    assert_eq!(code, 5, "{rest}");
    assert!(
        rest.contains("no value for MY_API_KEY after 3 tries"),
        "{rest}"
    );
    assert!(!rest.contains(VALUE), "{rest}");
    assert_eq!(p.snapshot(), before);
}

#[test]
fn a_mismatch_then_a_match_stores_the_value() {
    let p = Project::initialized();
    let mut s = pty(&p, &["set", "MY_API_KEY"]);
    type_value(&mut s, VALUE, "typo");
    s.exp_string("The two values differ; try again (2 tries left).")
        .unwrap();
    type_value(&mut s, VALUE, VALUE);
    stored(&p, s);
}

#[test]
fn an_empty_value_is_refused_at_once_and_asked_again() {
    let p = Project::initialized();
    let mut s = pty(&p, &["set", "MY_API_KEY"]);
    s.exp_string("Value for MY_API_KEY: ").unwrap();
    s.send_line("").unwrap();
    // Refused before the repeat prompt.
    let between = s
        .exp_string("The value is empty; try again (2 tries left).")
        .unwrap();
    assert!(!between.contains("Repeat"), "{between}");
    type_value(&mut s, VALUE, VALUE);
    stored(&p, s);
}

#[test]
fn set_asks_before_overwriting_and_never_shows_the_old_value() {
    let p = Project::initialized();
    p.set("MY_API_KEY", "old-value", &[]);
    let before = p.snapshot();

    // No: nothing is asked for and nothing changes.
    let mut s = pty(&p, &["set", "MY_API_KEY"]);
    let shown = s
        .exp_string("MY_API_KEY already exists in branch:main. Overwrite it?")
        .unwrap();
    send(&mut s, "n");
    let (code, rest) = finish(s);
    assert_eq!(code, 130, "{rest}");
    assert!(!shown.contains("old-value") && !rest.contains("old-value"));
    assert_eq!(p.snapshot(), before);

    // Yes: then the new value is typed.
    let mut s = pty(&p, &["set", "MY_API_KEY"]);
    s.exp_string("Overwrite it?").unwrap();
    send(&mut s, "y");
    s.exp_string("Value for MY_API_KEY: ").unwrap();
    s.send_line(VALUE).unwrap();
    s.exp_string("Repeat the value for MY_API_KEY: ").unwrap();
    s.send_line(VALUE).unwrap();
    let (code, rest) = finish(s);
    assert_eq!(code, 0, "{rest}");
    assert!(
        rest.contains("Updated MY_API_KEY in branch:main."),
        "{rest}"
    );
    assert_eq!(p.get("MY_API_KEY", &[]), VALUE);
}

#[test]
fn yes_skips_the_overwrite_question() {
    let p = Project::initialized();
    p.set("MY_API_KEY", "old-value", &[]);
    let mut s = pty(&p, &["set", "MY_API_KEY", "--yes"]);
    // The first thing asked is the value.
    let before_prompt = s.exp_string("Value for MY_API_KEY: ").unwrap();
    assert!(!before_prompt.contains("Overwrite"), "{before_prompt}");
    s.send_line(VALUE).unwrap();
    s.exp_string("Repeat").unwrap();
    s.send_line(VALUE).unwrap();
    assert_eq!(finish(s).0, 0);
    assert_eq!(p.get("MY_API_KEY", &[]), VALUE);
}

#[test]
fn remove_confirms() {
    let p = Project::initialized();
    p.set("MY_API_KEY", "v", &[]);
    let before = p.snapshot();

    let mut s = pty(&p, &["remove", "MY_API_KEY"]);
    s.exp_string("Remove MY_API_KEY from branch:main?").unwrap();
    send(&mut s, "n");
    assert_eq!(finish(s).0, 130);
    assert_eq!(p.snapshot(), before);

    let mut s = pty(&p, &["rm", "MY_API_KEY"]);
    s.exp_string("Remove MY_API_KEY from branch:main?").unwrap();
    send(&mut s, "y");
    let (code, rest) = finish(s);
    assert_eq!(code, 0, "{rest}");
    p.cmd(&["get", "MY_API_KEY"])
        .stderr(no_secret("MY_API_KEY", "branch:main"))
        .fails(3);
}

#[test]
fn a_terminal_user_picks_the_scope_when_none_can_be_inferred() {
    let p = Project::initialized();
    p.set("K", "shared-value", &["--shared"]);
    p.set("K", "main-value", &["--branch", "main"]);
    std::fs::remove_dir_all(p.root().join(".git")).unwrap();

    // A script gets the clear error, not a prompt.
    p.cmd(&["get", "K"])
        .stderr_has("pass --branch NAME, --sandbox or --shared")
        .fails(2);

    // The scopes are listed in the vault's order: shared, then branch:main.
    let mut s = pty(&p, &["get", "K"]);
    s.exp_string("Which scope?").unwrap();
    s.exp_string("branch:main").unwrap();
    send(&mut s, "\x1b[B\r"); // down, enter
    let (code, rest) = finish(s);
    assert_eq!(code, 0, "{rest}");
    assert!(
        rest.contains("main-value") && !rest.contains("shared-value"),
        "{rest}"
    );

    // --no-input on a terminal: no picker.
    let s = pty(&p, &["get", "K", "--no-input"]);
    let (code, rest) = finish(s);
    assert_eq!(code, 2, "{rest}");
    assert!(!rest.contains("Which scope?"), "{rest}");
}

#[test]
fn a_passphrase_vault_asks_for_the_passphrase_once_around_the_picker() {
    let p = Project::new();
    let with_pass = |args: &[&str]| p.cmd(args).env("AMPSECRET_PASSPHRASE", "correct horse");
    with_pass(&["init", "--passphrase", "--app-id", crate::support::APP_ID])
        .stderr(p.init_passphrase_stderr())
        .success();
    with_pass(&["set", "K", "--stdin", "--shared"])
        .stdin("shared-value")
        .stderr("Stored K in shared.\n")
        .success();
    std::fs::remove_dir_all(p.root().join(".git")).unwrap();

    let mut s = pty(&p, &["get", "K"]);
    s.exp_string("Vault passphrase: ").unwrap();
    s.send_line("correct horse").unwrap();
    s.exp_string("Which scope?").unwrap();
    s.exp_string("shared").unwrap();
    send(&mut s, "\r");
    let (code, rest) = finish(s);
    assert_eq!(code, 0, "{rest}");
    assert!(rest.contains("shared-value"), "{rest}");
    assert!(!rest.contains("passphrase"), "asked twice: {rest}");
}

#[test]
fn ctrl_c_at_the_hidden_prompt_changes_nothing() {
    let p = Project::initialized();
    p.set("MY_API_KEY", "v", &[]);
    let before = p.snapshot();
    let mut s = pty(&p, &["set", "OTHER"]);
    s.exp_string("Value for OTHER: ").unwrap();
    s.send("half-typed").unwrap();
    s.send_control('c').unwrap();
    let (code, rest) = finish(s);
    assert_eq!(code, 130, "{rest}");
    assert!(rest.contains("Cancelled; nothing was changed."), "{rest}");
    assert_eq!(p.snapshot(), before);
}

#[test]
fn ctrl_c_at_a_confirmation_changes_nothing() {
    let p = Project::initialized();
    p.set("MY_API_KEY", "v", &[]);
    let before = p.snapshot();
    for args in [&["remove", "MY_API_KEY"][..], &["set", "MY_API_KEY"]] {
        let mut s = pty(&p, args);
        s.exp_string("?").unwrap();
        s.send_control('c').unwrap();
        let (code, rest) = finish(s);
        assert_eq!(code, 130, "{args:?}: {rest}");
        assert_eq!(p.snapshot(), before, "{args:?}");
    }
}

#[test]
fn ctrl_c_at_the_scope_picker_changes_nothing() {
    let p = Project::initialized();
    p.set("K", "v", &["--shared"]);
    std::fs::remove_dir_all(p.root().join(".git")).unwrap();
    let before = p.snapshot();
    let mut s = pty(&p, &["remove", "K"]);
    s.exp_string("Which scope?").unwrap();
    s.send_control('c').unwrap();
    let (code, rest) = finish(s);
    assert_eq!(code, 130, "{rest}");
    assert_eq!(p.snapshot(), before);
}

#[test]
fn without_a_terminal_or_with_no_input_nothing_is_asked() {
    let p = Project::initialized();
    p.set("MY_API_KEY", "v", &[]);
    let before = p.snapshot();
    p.cmd(&["remove", "MY_API_KEY"])
        .stderr_has("--yes")
        .fails(2);
    p.cmd(&["set", "OTHER"]).stderr_has("--stdin").fails(2);
    assert_eq!(p.snapshot(), before);

    for args in [
        &["remove", "MY_API_KEY", "--no-input"][..],
        &["set", "OTHER", "--no-input"],
    ] {
        let (code, rest) = finish(pty(&p, args));
        assert_eq!(code, 2, "{args:?}: {rest}");
        assert!(!rest.contains('?'), "{args:?} asked: {rest}");
    }
    let (code, _) = finish(pty_env(
        &p,
        &["remove", "MY_API_KEY"],
        &[("AMPSECRET_NO_INPUT", "1")],
    ));
    assert_eq!(code, 2);
    assert_eq!(p.snapshot(), before);

    // --yes needs no terminal.
    p.cmd(&["remove", "MY_API_KEY", "--yes"])
        .stderr("Removed MY_API_KEY from branch:main.\n")
        .success();
}

#[test]
fn colour_only_on_a_terminal_and_never_with_no_color() {
    let p = Project::new();
    let (_, coloured) = finish(pty(&p, &["--help"]));
    assert!(
        coloured.contains("\x1b["),
        "no colour on a terminal: {coloured:?}"
    );
    let (_, plain) = finish(pty_env(&p, &["--help"], &[("NO_COLOR", "1")]));
    assert!(
        !plain.contains("\x1b["),
        "colour despite NO_COLOR: {plain:?}"
    );
    let piped = p
        .cmd(&["--help"])
        .stdout_has("Usage: ampsecret [OPTIONS] <COMMAND>\n")
        .success()
        .stdout;
    assert!(!piped.contains('\x1b'), "colour in a pipe");
}

#[test]
fn push_confirms_its_plan_and_a_conflict_is_settled_at_a_picker() {
    let moto = ampsecret_testkit::moto::MotoServer::start();
    let app = ampsecret_testkit::ssm::unique_app_id();
    let p = Project::with_app(&moto.endpoint(), &app);
    let remote = ampsecret_testkit::ssm::Ssm::new(&moto.endpoint());
    let path = format!(
        "/amplify/{app}/main-branch-{}/K",
        ampsecret::amplify::backend_hash(&app, "main")
    );
    p.set("K", "v1", &[]);

    // Saying no applies nothing.
    let mut s = pty(&p, &["push"]);
    s.exp_string("K  create (new)").unwrap();
    s.exp_string("Apply 1 change to").unwrap();
    send(&mut s, "n");
    let (code, rest) = finish(s);
    assert_eq!(code, 130, "{rest}");
    assert_eq!(remote.value(&path), None);

    let mut s = pty(&p, &["push"]);
    s.exp_string("Apply 1 change to").unwrap();
    send(&mut s, "y");
    let (code, rest) = finish(s);
    assert_eq!(code, 0, "{rest}");
    assert_eq!(remote.value(&path).as_deref(), Some("v1"));

    // Both sides change: the picker asks which value wins; keep SSM's, so push writes nothing.
    p.set("K", "local-v2", &[]);
    remote.put(&path, "remote-v2");
    let mut s = pty(&p, &["push"]);
    s.exp_string("K is changed on both sides. Which value wins?")
        .unwrap();
    s.exp_string("abort").unwrap();
    send(&mut s, "\x1b[B\r"); // down to "keep SSM's value", enter
    // Keeping SSM's value stores it in the vault: a change, confirmed like any other.
    s.exp_string("Apply 1 change to").unwrap();
    s.exp_string("[y/N]").unwrap();
    send(&mut s, "y");
    let (code, rest) = finish(s);
    assert_eq!(code, 0, "{rest}");
    assert_eq!(remote.value(&path).as_deref(), Some("remote-v2"));
    assert_eq!(p.get("K", &[]), "remote-v2", "both sides agree");

    // The same on pull: keep the vault's value, which is then written to SSM.
    p.set("K", "local-v3", &[]);
    remote.put(&path, "remote-v3");
    let mut s = pty(&p, &["pull"]);
    s.exp_string("K is changed on both sides. Which value wins?")
        .unwrap();
    s.exp_string("abort").unwrap();
    send(&mut s, "\r");
    s.exp_string("Apply 1 change from").unwrap();
    s.exp_string("[y/N]").unwrap();
    send(&mut s, "y");
    let (code, rest) = finish(s);
    assert_eq!(code, 0, "{rest}");
    assert_eq!(p.get("K", &[]), "local-v3");
    assert_eq!(remote.value(&path).as_deref(), Some("local-v3"));
}
