//! Shell completion: the committed scripts are current, and real shells using them complete
//! subcommands, secret names of the selected scope and known scopes, quickly and without
//! ever printing a value.
//!
//! Regenerate the committed scripts with `UPDATE_GENERATED=1 cargo test --test it completions::committed`.

use crate::support::{BIN, Project};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Each shell and its committed script, named as each shell's loader expects.
const SCRIPTS: &[(&str, &str)] = &[
    ("bash", "ampsecret.bash"),
    ("zsh", "_ampsecret"),
    ("fish", "ampsecret.fish"),
    ("powershell", "_ampsecret.ps1"),
    ("elvish", "ampsecret.elv"),
];

fn committed(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("completions")
        .join(file)
}

/// Values that must never appear in any completion output.
const VALUES: [&str; 3] = [
    "branch-secret-value",
    "shared-secret-value",
    "alice-secret-value",
];

/// A vault with secrets in three scopes; the project's git branch is `main`.
fn project() -> Project {
    let p = Project::initialized();
    p.set("MY_API_KEY", VALUES[0], &[]);
    p.set("DB_URL", VALUES[0], &["--branch", "feature/login"]);
    p.set("STRIPE_KEY", VALUES[1], &["--shared"]);
    p.set("SANDBOX_TOKEN", VALUES[2], &["--sandbox=alice"]);
    p
}

/// A shell command with the project's environment, and the binary's directory first on
/// PATH so the script's call back to `ampsecret` reaches the binary under test.
fn shell(p: &Project, program: &str) -> Command {
    let bin_dir = Path::new(BIN).parent().unwrap();
    let mut command = Command::new(program);
    command
        .env_clear()
        .envs(p.env_map())
        .env(
            "PATH",
            format!("{}:{}", bin_dir.display(), p.env_map()["PATH"]),
        )
        .current_dir(p.root());
    command
}

fn run(mut command: Command) -> String {
    let out = command
        .output()
        .expect("the shell is installed (tests/run.sh installs it)");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{command:?} failed: {stderr}\n{stdout}"
    );
    assert!(stderr.is_empty(), "completion wrote to stderr: {stderr}");
    for value in VALUES {
        assert!(!stdout.contains(value), "a value was printed: {stdout}");
    }
    stdout
}

#[test]
fn committed_scripts_are_current() {
    let p = Project::new();
    for (shell, file) in SCRIPTS {
        // Compared with the committed script below.
        let printed = p.cmd(&["completions", shell]).stdout_any().success().stdout;
        let path = committed(file);
        if std::env::var_os("UPDATE_GENERATED").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &printed).unwrap();
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == printed,
            "{} is stale: regenerate with UPDATE_GENERATED=1 cargo test --test it completions::committed",
            path.display()
        );
    }
}

/// Drives bash's completion function the way bash does on TAB and prints COMPREPLY.
const BASH_DRIVER: &str = r#"
source "$SCRIPT"
fn=$(complete -p ampsecret | sed -E 's/.* -F ([^ ]+) .*/\1/')
comp() {
    COMP_WORDS=("$@"); COMP_CWORD=${CWORD:-$(($# - 1))}; COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; COMP_TYPE=9
    COMPREPLY=()
    "$fn" ampsecret "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
    printf '%s\n' "${COMPREPLY[@]}"
    echo '--'
}
"#;

/// Completes the last of `words`, as a TAB at the end of the line does.
fn bash(p: &Project, words: &[&str]) -> Vec<String> {
    bash_at(p, words, words.len() - 1)
}

/// Completes `words[cursor]`, with the rest of the line after the cursor.
fn bash_at(p: &Project, words: &[&str], cursor: usize) -> Vec<String> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let mut command = shell(p, "bash");
    command
        .env("SCRIPT", committed("ampsecret.bash"))
        .env("CWORD", cursor.to_string())
        .args(["--norc", "--noprofile", "-c"])
        .arg(format!("{BASH_DRIVER}\ncomp {}", quoted.join(" ")));
    let out = run(command);
    out.lines()
        .take_while(|l| *l != "--")
        .map(str::to_owned)
        .collect()
}

#[test]
fn bash_completes_commands_and_the_scopes_secret_names() {
    let p = project();
    let commands = bash(&p, &["ampsecret", ""]);
    for command in [
        "init",
        "set",
        "get",
        "list",
        "remove",
        "path",
        "completions",
        "man",
    ] {
        assert!(
            commands.iter().any(|c| c == command),
            "{command} not in {commands:?}"
        );
    }
    assert_eq!(bash(&p, &["ampsecret", "li"]), ["list"]);

    // The git branch (main) is the default scope.
    let names = bash(&p, &["ampsecret", "get", ""]);
    assert!(names.contains(&"MY_API_KEY".into()), "{names:?}");
    assert!(
        !names.contains(&"STRIPE_KEY".into()) && !names.contains(&"DB_URL".into()),
        "{names:?}"
    );
    assert_eq!(bash(&p, &["ampsecret", "remove", "MY"]), ["MY_API_KEY"]);
    assert_eq!(
        bash(&p, &["ampsecret", "rm", "--shared", "S"]),
        ["STRIPE_KEY"]
    );
    assert_eq!(
        bash(&p, &["ampsecret", "get", "--branch", "feature/login", "D"]),
        ["DB_URL"]
    );
    assert_eq!(
        bash(&p, &["ampsecret", "path", "--sandbox=alice", "S"]),
        ["SANDBOX_TOKEN"]
    );
    // A scope flag after the cursor counts too, as bash passes the whole line.
    assert_eq!(
        bash_at(&p, &["ampsecret", "set", "S", "--shared"], 2),
        ["STRIPE_KEY"]
    );
}

#[test]
fn bash_completes_known_branches_and_sandboxes() {
    let p = project();
    let branches = bash(&p, &["ampsecret", "list", "--branch", ""]);
    assert_eq!(branches, ["feature/login", "main"]);
    let sandboxes = bash(&p, &["ampsecret", "get", "--sandbox=a"]);
    assert_eq!(sandboxes, ["--sandbox=alice"]);
}

#[test]
fn fish_completes_names_with_their_scope() {
    let p = project();
    let complete = |line: &str| {
        let mut command = shell(&p, "fish");
        command.args(["--no-config", "-c"]).arg(format!(
            "source {}; complete -C '{line}'",
            committed("ampsecret.fish").display()
        ));
        run(command)
    };
    assert!(
        complete("ampsecret ")
            .lines()
            .any(|l| l.starts_with("get\t"))
    );
    assert_eq!(complete("ampsecret get MY"), "MY_API_KEY\tbranch:main\n");
    let shared = complete("ampsecret get --shared ");
    assert!(shared.starts_with("STRIPE_KEY\tshared\n"), "{shared}");
    assert!(!shared.contains("MY_API_KEY"), "{shared}");
    assert!(complete("ampsecret list --branch ").starts_with("feature/login\t"));
}

/// zsh, with the script installed the way the README says (a file in $fpath, autoloaded
/// by compinit), completes on the very first TAB.
#[test]
fn zsh_completes_from_fpath_on_the_first_tab() {
    let p = project();
    let zdotdir = p.temp().join("zdotdir");
    let functions = p.temp().join("zfunc");
    std::fs::create_dir_all(&zdotdir).unwrap();
    std::fs::create_dir_all(&functions).unwrap();
    std::fs::copy(committed("_ampsecret"), functions.join("_ampsecret")).unwrap();
    std::fs::write(
        zdotdir.join(".zshrc"),
        format!(
            "PS1='READY> '\nfpath=({} $fpath)\nautoload -U compinit && compinit -u\n",
            functions.display()
        ),
    )
    .unwrap();
    let mut command = shell(&p, "zsh");
    command
        .args(["-d", "-i"])
        .env("ZDOTDIR", &zdotdir)
        .env("TERM", "xterm");
    let mut session = rexpect::session::spawn_command(command, Some(10_000)).unwrap();
    session.exp_string("READY> ").unwrap();
    session.send("ampsecret get MY\t").unwrap();
    session.flush().unwrap();
    session.exp_string("MY_API_KEY").unwrap();
    session.send("\x15exit\r").unwrap();
    session.flush().unwrap();
    session.exp_eof().unwrap();
}

/// Completion must never prompt and stays silent when it cannot read the vault.
#[test]
fn completion_is_quiet_without_a_key_or_a_vault() {
    let complete = |p: &Project| {
        let out = p
            .cmd(&["--", "ampsecret", "get", ""])
            .env("AMPSECRET_COMPLETE", "fish")
            .stdout_any()
            .success();
        out.stdout
    };
    let p = project();
    std::fs::remove_dir_all(p.temp().join("config")).unwrap(); // the identity file
    let out = complete(&p);
    assert!(out.lines().all(|l| l.starts_with("--")), "{out}");

    let p = Project::new();
    assert!(complete(&p).lines().all(|l| l.starts_with("--")));

    // A passphrase vault would need scrypt (slow by design) or a prompt: no names.
    let p = Project::new().env("AMPSECRET_PASSPHRASE", "correct horse");
    p.cmd(&["init", "--passphrase", "--app-id", crate::support::APP_ID])
        .stderr(p.init_passphrase_stderr())
        .success();
    p.set("MY_API_KEY", VALUES[0], &[]);
    assert!(complete(&p).lines().all(|l| l.starts_with("--")));
}

/// After a bare `--sandbox` the next word is the NAME, not an ID (IDs follow `=` only); after
/// `exec --` a command on PATH comes first, then files.
#[test]
fn scope_ids_only_after_equals_and_commands_after_exec_escape() {
    let p = project();
    let ids = bash(&p, &["ampsecret", "push", "--sandbox=a"]);
    assert_eq!(ids, ["--sandbox=alice"]);
    let after_bare = bash(&p, &["ampsecret", "get", "--sandbox", ""]);
    assert!(
        !after_bare.iter().any(|c| c == "alice"),
        "IDs after a bare --sandbox: {after_bare:?}"
    );
    let standalone = bash(&p, &["ampsecret", "list", "--standalone="]);
    assert!(
        standalone.iter().all(|c| c.starts_with("--standalone=")),
        "{standalone:?}"
    );

    // A command of our own on PATH, found by its prefix.
    let bin = p.temp().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let tool = bin.join("zz-ampsecret-tool");
    std::fs::write(&tool, "#!/bin/sh\n").unwrap();
    std::fs::set_permissions(&tool, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let p = p.env(
        "PATH",
        &format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
    );
    assert_eq!(
        bash(&p, &["ampsecret", "exec", "--", "zz-ampsecret-t"]),
        ["zz-ampsecret-tool"]
    );
    assert_eq!(
        bash(
            &p,
            &[
                "ampsecret",
                "exec",
                "--shared",
                "--",
                "zz-ampsecret-tool",
                "pack"
            ]
        ),
        ["package.json"]
    );
}

#[test]
fn config_keys_complete_with_the_vaults_tags() {
    let p = project();
    p.cmd(&["config", "set", "tags.team", "web"])
        .stderr_any()
        .success();
    let keys = bash(&p, &["ampsecret", "config", "set", ""]);
    for key in ["app_id", "history", "tags.", "tags.team"] {
        assert!(keys.iter().any(|k| k == key), "{key} not in {keys:?}");
    }
    assert_eq!(bash(&p, &["ampsecret", "config", "get", "hi"]), ["history"]);
}
