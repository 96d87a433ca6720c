//! A command line that teaches: no dead end in the first minute, usage errors that name the
//! command's help and the right spelling, not-found errors that say where the name is,
//! terminal input that says what it waits for, `config` instead of hand-editing, and one
//! voice (colour on a terminal only, a quiet "n"). Terminal behaviour is driven in a real
//! pseudo-terminal.

use crate::prompts::{finish, pty, pty_env};
use crate::support::{APP_ID, Project};
use ampsecret_testkit::moto::MotoServer;
use ampsecret_testkit::ssm::{Ssm, unique_app_id};

fn send(session: &mut rexpect::session::PtySession, keys: &str) {
    session.send(keys).unwrap();
    session.flush().unwrap();
}

/// A fresh project, `init` without an app id, a secret, then the app id through `config`
/// (the message each step prints names the next), and a push that lands: no file edited.
#[test]
fn a_newcomer_goes_from_a_fresh_clone_to_a_pushed_secret() {
    let moto = MotoServer::start();
    let app = unique_app_id();
    let p = Project::new().with_ssm(&moto.endpoint());
    let init = p.cmd(&["init"]).stderr_matches(&p.init_stderr()).success();
    assert!(
        init.stderr.ends_with(
            "Next:\n  ampsecret config set app_id ID  # your Amplify app id (Amplify console: \
             App settings); push needs it\n  ampsecret set NAME              # store a secret \
             (hidden prompt)\n"
        ),
        "{}",
        init.stderr
    );
    p.cmd(&["set", "API_KEY", "--stdin"])
        .stdin("sk_test_123")
        .stderr(
            "note: stored locally only for now; no Amplify app id for the branch:main scope: \
             pass --app-id, set AWS_APP_ID, or run 'ampsecret config set app_id ID'\n\
             Stored API_KEY in branch:main.\n",
        )
        .success();
    // What a newcomer tries next points at config, not at a dead end.
    let before = p.snapshot();
    p.cmd(&["init", "--app-id", &app])
        .stderr(format!(
            "error: a vault already exists at {}: set its app id with 'ampsecret config set \
             app_id {app}'\n",
            p.vault_dir().display()
        ))
        .fails(2);
    assert!(before == p.snapshot());
    p.cmd(&["config", "set", "app_id", &app])
        .stderr(format!(
            "Set app_id to {app} in {}/config.toml.\n",
            p.vault_dir().display()
        ))
        .success();
    p.cmd(&["push", "--yes"]).stderr_any().success();
    let ssm = Ssm::new(&moto.endpoint());
    let prefix = format!(
        "/amplify/{app}/main-branch-{}",
        ampsecret::amplify::backend_hash(&app, "main")
    );
    assert_eq!(
        ssm.value(&format!("{prefix}/API_KEY")).as_deref(),
        Some("sk_test_123")
    );
    // list shows the SYNCED column the JSON has.
    p.cmd(&["list"])
        .stdout_matches(
            "NAME     SCOPE        UPDATED               SYNCED\nAPI_KEY  branch:main  \\S+Z  yes\n",
        )
        .success();
    p.set("OTHER", "v", &[]);
    p.cmd(&["list"])
        .stdout_matches(
            "NAME     SCOPE        UPDATED               SYNCED\n\
             API_KEY  branch:main  \\S+Z  yes\n\
             OTHER    branch:main  \\S+Z  no\n",
        )
        .success();
}

#[test]
fn config_shows_checks_and_changes_settings_without_hand_editing() {
    let p = Project::initialized();
    let file = p.vault_dir().join("config.toml");
    p.cmd(&["config", "get", "app_id"])
        .stdout(format!("{APP_ID}\n"))
        .success();
    p.cmd(&["config", "set", "history", "20"])
        .stderr(format!("Set history to 20 in {}.\n", file.display()))
        .success();
    p.cmd(&["config", "set", "history", "20"])
        .stderr("history is already 20; nothing changed.\n")
        .success();
    p.cmd(&["config", "set", "tags.team", "web platform"])
        .stderr_any()
        .success();
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains("history = 20") && text.contains("team = \"web platform\""),
        "{text}"
    );
    // The vault id (24 characters) is the widest value.
    let row = |key: &str, value: &str, note: &str| {
        format!("{key:10}  {value:24}  {note}")
            .trim_end()
            .to_owned()
            + "\n"
    };
    let listed = p.cmd(&["config", "list"]).stdout_any().success().stdout;
    let vault_id = listed.lines().last().unwrap()[12..36].to_owned();
    assert_eq!(
        listed,
        [
            row("KEY", "VALUE", "NOTE"),
            row("app_id", APP_ID, ""),
            row("history", "20", "versions kept per secret"),
            row(
                "tags.team",
                "web platform",
                "push tags every parameter with it"
            ),
            row(
                "recipients",
                "1 key listed",
                "read-only: ampsecret recipients"
            ),
            row("encryption", "x25519", "read-only"),
            row("vault_id", &vault_id, "read-only"),
        ]
        .concat()
    );
    assert!(
        vault_id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{vault_id}"
    );
    let json = p
        .cmd(&["config", "list", "--json"])
        .stdout_json()
        .success()
        .json();
    assert_eq!(json["history"], 20);
    assert_eq!(json["tags"]["team"], "web platform");

    // Bad input: one line that says what to do, a documented code, the file as it was.
    let before = p.snapshot();
    let refused = [
        (
            &["config", "set", "history", "0"][..],
            5,
            "error: history is the number of versions kept per secret, a whole number from 1 \
             to 100, not '0'\n",
        ),
        (
            &["config", "set", "app_id", "bad/id"],
            5,
            "error: app id 'bad/id': ",
        ),
        (
            &["config", "set", "tags.aws:team", "x"],
            5,
            "error: tag key 'aws:team': the aws: prefix is reserved by AWS\n",
        ),
        (
            &["config", "set", "recipients", "age1x"],
            2,
            "error: recipients are the vault's members, changed with 'ampsecret recipients add \
             KEY' or 'ampsecret recipients remove NAME' (see 'ampsecret recipients list')\n",
        ),
        (
            &["config", "set", "histroy", "3"],
            2,
            "error: no setting 'histroy'; did you mean history? the settings are app_id, \
             history, tags.NAME (see 'ampsecret config list')\n",
        ),
        (
            &["config", "set", "vault_id", "x"],
            2,
            "error: vault_id is fixed when the vault is created and cannot be changed\n",
        ),
    ];
    for (args, code, message) in refused {
        let out = p.cmd(args).stderr_any().fails(code);
        assert!(out.stderr.starts_with(message), "{args:?}: {}", out.stderr);
        assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    }
    assert!(before == p.snapshot(), "a refused setting changes nothing");

    p.cmd(&["config", "unset", "tags.team"])
        .stderr(format!("Unset tags.team in {}.\n", file.display()))
        .success();
    p.cmd(&["config", "get", "tags.team"])
        .stderr("error: tags.team is not set; set it with 'ampsecret config set tags.team VALUE'\n")
        .fails(3);
    // The vault still opens and takes writes after every change.
    p.set("K", "v", &[]);
}

#[test]
fn set_without_a_vault_offers_init_at_a_terminal_and_names_it_in_a_script() {
    let p = Project::new().env("AWS_APP_ID", APP_ID);
    p.cmd(&["set", "K", "--stdin"])
        .stdin("v")
        .stderr(format!(
            "error: no vault at {}: run 'ampsecret init' first (or pass --vault)\n",
            p.vault_dir().display()
        ))
        .fails(3);
    assert!(!p.vault_dir().exists());

    // "n" is a quiet cancel: nothing made, no "error:".
    let mut s = pty(&p, &["set", "K"]);
    s.exp_string("This project has no vault yet. Create one at")
        .unwrap();
    send(&mut s, "n");
    let (code, rest) = finish(s);
    assert_eq!(code, 130, "{rest}");
    assert!(rest.contains("Cancelled; nothing was changed."), "{rest}");
    assert!(!rest.contains("error"), "{rest}");
    assert!(!p.vault_dir().join("config.toml").exists());

    let mut s = pty(&p, &["set", "K"]);
    s.exp_string("(as 'ampsecret init' does)?").unwrap();
    send(&mut s, "y");
    // The vault is made before the value is typed.
    let made = s.exp_string("Value for K: ").unwrap();
    assert!(made.contains("Created the vault at"), "{made}");
    s.send_line("typed-value").unwrap();
    s.exp_string("Repeat the value for K: ").unwrap();
    s.send_line("typed-value").unwrap();
    let (code, rest) = finish(s);
    assert_eq!(code, 0, "{rest}");
    assert!(rest.contains("Stored K in branch:main."), "{rest}");
    assert_eq!(p.get("K", &[]), "typed-value");
}

/// In a git repository, the vault `set` offers to create is set up as `init` sets it up:
/// git's merge and diff drivers registered, .gitattributes written.
#[test]
fn set_without_a_vault_in_a_git_repository_registers_git_drivers_as_init_does() {
    let p = Project::new().env("AWS_APP_ID", APP_ID);
    std::fs::remove_dir_all(p.root().join(".git")).unwrap();
    let git = std::process::Command::new("git")
        .args(["init", "-q", "-b", "main"])
        .current_dir(p.root())
        .status();
    assert!(
        git.is_ok_and(|s| s.success()),
        "git is needed for this test"
    );
    let mut s = pty(&p, &["set", "K"]);
    s.exp_string("(as 'ampsecret init' does)?").unwrap();
    send(&mut s, "y");
    let made = s.exp_string("Value for K: ").unwrap();
    assert!(
        made.contains(
            "Registered ampsecret's git merge and diff drivers; commit .gitattributes and \
             .ampsecret/."
        ),
        "{made}"
    );
    s.send_line("typed-value").unwrap();
    s.exp_string("Repeat the value for K: ").unwrap();
    s.send_line("typed-value").unwrap();
    let (code, rest) = finish(s);
    assert_eq!(code, 0, "{rest}");
    let attributes = std::fs::read_to_string(p.root().join(".gitattributes")).unwrap();
    assert!(
        attributes.contains(".ampsecret/*.age merge=ampsecret diff=ampsecret"),
        "{attributes}"
    );
    let driver = std::process::Command::new("git")
        .args(["config", "--get", "merge.ampsecret.driver"])
        .current_dir(p.root())
        .output()
        .unwrap();
    assert!(driver.status.success(), "{driver:?}");
    assert_eq!(p.get("K", &[]), "typed-value");
}

#[test]
fn usage_errors_name_the_commands_help_and_the_right_spelling() {
    let p = Project::initialized();
    let cases: &[(&[&str], &str)] = &[
        (
            &["lsit"],
            "error: 'lsit' is not a command of ampsecret; did you mean 'list'? (see 'ampsecret --help')\n",
        ),
        (
            &["recipients", "ad", "x"],
            "error: 'ad' is not a command of ampsecret recipients; did you mean 'add'? (see 'ampsecret recipients --help')\n",
        ),
        (
            &["list", "--al"],
            "error: no flag --al; did you mean '--all'? (see 'ampsecret list --help')\n",
        ),
        (
            &["set", "FOO", "--value", "bar"],
            "error: set takes no value on the command line (it would stay in your shell history): type it at the hidden prompt, or pass --stdin or --file PATH (see 'ampsecret set --help')\n",
        ),
        (
            &["set", "FOO", "--value=s3cret-typed"],
            "error: set takes no value on the command line (it would stay in your shell history): type it at the hidden prompt, or pass --stdin or --file PATH (see 'ampsecret set --help')\n",
        ),
        (
            &["exec", "./show.sh"],
            "error: exec runs the command given after '--': ampsecret exec [OPTIONS] -- COMMAND [ARGS...] (see 'ampsecret exec --help')\n",
        ),
        (
            &["list", "--sandbox", "bob"],
            "error: --sandbox takes its ID after '=': write --sandbox=ID (the word after a bare --sandbox is read as another argument) (see 'ampsecret list --help')\n",
        ),
        (
            &["push", "--shared", "my-app"],
            "error: --shared takes its NS after '=': write --shared=NS (the word after a bare --shared is read as another argument) (see 'ampsecret push --help')\n",
        ),
        (
            &["--vault", ".ampsecret", "get"],
            "error: the following required arguments were not provided: <NAME> (see 'ampsecret get --help')\n",
        ),
    ];
    for (args, message) in cases {
        let out = p.cmd(args).stderr(*message).fails(2);
        assert!(!out.stderr.contains("s3cret-typed"));
    }
    // With --json, the same line in the JSON error.
    p.cmd(&["list", "--al", "--json"])
        .stderr(crate::support::json_error(
            2,
            "usage",
            "no flag --al; did you mean '--all'? (see 'ampsecret list --help')",
        ))
        .fails(2);
}

/// A value typed on the command line is never repeated back (it would land in scrollback
/// and logs): after a flag that takes none, in `NAME=VALUE`, after `--`, as a missing file.
#[test]
fn usage_errors_never_repeat_a_value_typed_on_the_command_line() {
    let p = Project::initialized();
    let before = p.snapshot();
    let set_value = "set takes no value on the command line (it would stay in your shell \
                     history): type it at the hidden prompt, or pass --stdin or --file PATH \
                     (see 'ampsecret set --help')";
    for flag in ["--stdin", "--strip-newline", "--yes", "--json"] {
        p.cmd(&["set", "K", &format!("{flag}=sk_live_x")])
            .stderr(format!(
                "error: {flag} takes no value (what followed it is not shown); {set_value}\n"
            ))
            .fails(2);
    }
    p.cmd(&["set", "K", "--json", "--stdin=sk_live_x"])
        .stderr(crate::support::json_error(
            2,
            "usage",
            &format!("--stdin takes no value (what followed it is not shown); {set_value}"),
        ))
        .fails(2);
    p.cmd(&["set", "K=sk_live_x"])
        .stderr(
            "error: 'K=…' looks like NAME=VALUE: give the name alone ('ampsecret set K'); the \
             value goes through the hidden prompt, --stdin or --file PATH, never the command \
             line\n",
        )
        .fails(2);
    p.cmd(&["set", "K", "--", "-sk_live_x"])
        .stderr(format!("error: {set_value}\n"))
        .fails(2);
    // A path that names nothing may be a value typed where the path goes.
    p.cmd(&["set", "K", "--file", "sk_live_x"])
        .stderr(
            "error: cannot open --file: no such file (the path is not repeated, in case it was \
             a value); --file takes the path of a file holding the value\n",
        )
        .fails(3);
    assert!(before == p.snapshot());
}

/// When `--sandbox bob` parses (bob taken as the NAME), a note names the trap.
#[test]
fn a_name_right_after_a_bare_sandbox_flag_gets_a_note() {
    let p = Project::initialized();
    p.cmd(&["get", "--sandbox", "bob"])
        .stderr(
            "note: 'bob' is read as the secret's name, after a bare --sandbox (its default); for \
             sandbox:bob, write --sandbox=bob\nerror: no secret bob in sandbox:root; 'ampsecret \
             list --all' shows what the vault holds\n",
        )
        .fails(3);
    p.cmd(&["get", "--sandbox=bob", "K"])
        .stderr_has("error: no secret K in sandbox:bob")
        .fails(3);
}

#[test]
fn not_found_says_where_the_name_is_and_offers_the_closest() {
    let p = Project::initialized();
    p.set("STRIPE_SECRET_KEY", "v", &[]);
    p.set("SENDGRID_API_KEY", "v", &["--shared"]);
    p.cmd(&["get", "STRIPE_SECRET_KY"])
        .stderr(
            "error: no secret STRIPE_SECRET_KY in branch:main; did you mean STRIPE_SECRET_KEY?\n",
        )
        .fails(3);
    p.cmd(&["get", "SENDGRID_API_KEY"])
        .stderr(
            "error: no secret SENDGRID_API_KEY in branch:main; it is in shared: pass --shared, \
             or --effective for what a deployment reads (its own value, else the shared one)\n",
        )
        .fails(3);
    assert_eq!(p.get("SENDGRID_API_KEY", &["--effective"]), "v");
    p.cmd(&["remove", "STRIPE_SECRET_KY", "--yes"])
        .stderr(
            "error: no secret STRIPE_SECRET_KY in branch:main; did you mean STRIPE_SECRET_KEY?\n",
        )
        .fails(3);
}

#[test]
fn an_empty_scope_points_at_the_others() {
    let p = Project::initialized();
    p.set("K", "v", &["--shared"]);
    p.cmd(&["list"])
        .stderr(
            "No secrets in branch:main (the vault has 1 secret in other scopes: 'ampsecret list \
             --all'). Add one with 'ampsecret set NAME'.\n",
        )
        .success();
}

#[test]
fn outside_a_project_the_error_is_about_the_project_not_git_or_init_here() {
    let p = Project::new();
    let home = p.temp().join("home");
    // Run from the home directory itself (no project markers there or above).
    let run = |args: &[&str]| {
        let out = std::process::Command::new(crate::support::BIN)
            .env_clear()
            .envs(p.env_map())
            .current_dir(&home)
            .args(args)
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8(out.stderr).unwrap())
    };
    for args in [
        &["list"][..],
        &["list", "--branch", "main"],
        &["set", "K", "--stdin"],
    ] {
        let (code, stderr) = run(args);
        assert_eq!(code, Some(3), "{args:?}: {stderr}");
        assert_eq!(
            stderr,
            format!(
                "error: no ampsecret project here: neither {} nor a folder above it has a \
                 .ampsecret vault, an amplify/ backend, a package.json or a .git; run ampsecret \
                 from your app's folder ('ampsecret init' there creates the vault), or pass \
                 --vault DIR\n",
                home.display()
            )
        );
    }
    assert!(!home.join(".ampsecret").exists());
}

#[test]
fn stdin_at_a_terminal_says_it_is_reading_and_does_not_echo() {
    let p = Project::initialized();
    let mut s = pty(&p, &["set", "TOKEN", "--stdin"]);
    s.exp_string(
        "Reading the value for TOKEN from the terminal (not shown as you type); end it with \
         Enter, then Ctrl-D.",
    )
    .unwrap();
    s.send_line("typed-on-stdin").unwrap();
    s.send_control('d').unwrap();
    let (code, rest) = finish(s);
    assert_eq!(code, 0, "{rest}");
    assert!(rest.contains("Stored TOKEN in branch:main."), "{rest}");
    assert!(
        !rest.contains("typed-on-stdin"),
        "the value was echoed: {rest}"
    );
    assert_eq!(p.get("TOKEN", &[]), "typed-on-stdin");
}

#[test]
fn a_file_with_one_trailing_newline_is_noted_and_strip_newline_drops_it() {
    let p = Project::initialized();
    let file = p.temp().join("token.txt");
    std::fs::write(&file, "tok-123\n").unwrap();
    let path = file.to_str().unwrap();
    p.cmd(&["set", "TOKEN", "--file", path])
        .stderr(format!(
            "note: {path} ends with a newline, kept as part of the value; pass --strip-newline \
             to drop it\nStored TOKEN in branch:main.\n"
        ))
        .success();
    assert_eq!(p.get("TOKEN", &[]), "tok-123\n");
    p.cmd(&["set", "TOKEN", "--file", path, "--strip-newline", "--yes"])
        .stderr("Updated TOKEN in branch:main.\n")
        .success();
    assert_eq!(p.get("TOKEN", &[]), "tok-123");
    // A multi-line value (a PEM key) ends with a newline on purpose: no note.
    std::fs::write(&file, "-----BEGIN-----\nabc\n-----END-----\n").unwrap();
    p.cmd(&["set", "PEM", "--file", path])
        .stderr("Stored PEM in branch:main.\n")
        .success();
    p.cmd(&["set", "X", "--strip-newline", "--stdin"])
        .stdin("v")
        .stderr_has("--strip-newline")
        .fails(2);
}

#[test]
fn colour_only_on_a_terminal_or_when_forced_and_never_with_no_color() {
    let p = Project::initialized();
    p.set("K", "v", &[]);
    let bold_heading = "\x1b[1mNAME\x1b[0m";
    let piped = p.cmd(&["list"]).stdout_any().success();
    assert!(!piped.stdout.contains('\x1b'), "{:?}", piped.stdout);
    let forced = p
        .cmd(&["list"])
        .env("CLICOLOR_FORCE", "1")
        .stdout_any()
        .success();
    assert!(forced.stdout.contains(bold_heading), "{:?}", forced.stdout);
    let off = p
        .cmd(&["list"])
        .env("CLICOLOR_FORCE", "1")
        .env("NO_COLOR", "1")
        .stdout_any()
        .success();
    assert!(!off.stdout.contains('\x1b'), "{:?}", off.stdout);
    let error = p
        .cmd(&["get", "NOPE"])
        .env("CLICOLOR_FORCE", "1")
        .stderr_any()
        .fails(3);
    assert!(
        error
            .stderr
            .starts_with("\x1b[31merror:\x1b[0m no secret NOPE"),
        "{:?}",
        error.stderr
    );

    let mut s = pty(&p, &["list"]);
    s.exp_string(bold_heading).unwrap();
    assert_eq!(finish(s).0, 0);
    let s = pty_env(&p, &["list"], &[("NO_COLOR", "1")]);
    let (code, rest) = finish(s);
    assert_eq!(code, 0);
    assert!(rest.contains("NAME") && !rest.contains('\x1b'), "{rest:?}");
}

#[test]
fn answering_no_is_a_quiet_cancel() {
    let p = Project::initialized();
    p.set("K", "v", &[]);
    let before = p.snapshot();
    let mut s = pty(&p, &["remove", "K"]);
    s.exp_string("Remove K from branch:main?").unwrap();
    send(&mut s, "n");
    let (code, rest) = finish(s);
    assert_eq!(code, 130, "{rest}");
    assert!(rest.contains("Cancelled; nothing was changed."), "{rest}");
    assert!(!rest.contains("error"), "{rest}");
    assert!(before == p.snapshot());
}

#[test]
fn import_with_nothing_new_says_so_in_the_shared_words() {
    let p = Project::initialized();
    p.set("A", "1", &[]);
    let file = p.temp().join(".env");
    std::fs::write(&file, "A=1\n").unwrap();
    p.cmd(&["import", file.to_str().unwrap(), "--yes"])
        .stderr("Nothing to import: branch:main already holds this value.\n")
        .success();
}

/// A dependency's warnings (the AWS SDK failing to reach a credential or region source) do
/// not bury ampsecret's one-line error; -vv shows the SDK's.
#[test]
fn without_v_an_aws_failure_is_one_line() {
    let p = Project::initialized();
    // A metadata endpoint that refuses connections: the SDK warns about it.
    let refused = "http://127.0.0.1:9";
    p.cmd(&["push", "--dry-run"])
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", refused)
        .stderr_matches("error: [^\n]*\n")
        .fails(6);
    let verbose = p
        .cmd(&["push", "--dry-run", "-vv"])
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", refused)
        .stderr_any()
        .fails(6);
    assert!(
        verbose.stderr.contains(" WARN aws_config"),
        "{}",
        verbose.stderr
    );
}
