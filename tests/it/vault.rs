//! The core vault workflow through the real binary.

use crate::support::{APP_ID, Project, json_error, no_secret};

#[test]
fn set_get_list_remove_round_trip() {
    let p = Project::initialized();
    p.set("MY_API_KEY", "sk_live_123", &[]);
    assert_eq!(p.get("MY_API_KEY", &[]), "sk_live_123");
    assert_eq!(p.get("MY_API_KEY", &["--branch", "main"]), "sk_live_123");
    p.cmd(&["get", "MY_API_KEY", "--branch", "dev"])
        .stderr(
            "error: no secret MY_API_KEY in branch:dev; it is in branch:main: pass --branch main\n",
        )
        .fails(3);

    let list = p.cmd(&["list", "--json"]).stdout_json().success().json();
    assert_eq!(list[0]["name"], "MY_API_KEY");
    assert_eq!(list[0]["scope"], "branch:main");
    assert_eq!(
        list[0]["path"],
        format!("/amplify/{APP_ID}/main-branch-779dbfc7c3/MY_API_KEY")
    );

    p.cmd(&["remove", "MY_API_KEY", "--yes"])
        .stderr("Removed MY_API_KEY from branch:main.\n")
        .success();
    p.cmd(&["get", "MY_API_KEY"])
        .stderr(no_secret("MY_API_KEY", "branch:main"))
        .fails(3);
}

#[test]
fn scopes_are_separate() {
    let p = Project::initialized();
    p.set("K", "branch-value", &["--branch", "feature/login"]);
    p.set("K", "shared-value", &["--shared"]);
    p.set("K", "sandbox-value", &["--sandbox=alice"]);
    p.set("K", "default-sandbox", &["--sandbox"]);
    assert_eq!(p.get("K", &["--branch", "feature/login"]), "branch-value");
    assert_eq!(p.get("K", &["--shared"]), "shared-value");
    assert_eq!(p.get("K", &["--sandbox=alice"]), "sandbox-value");
    assert_eq!(p.get("K", &["--sandbox"]), "default-sandbox");
    let all = p
        .cmd(&["list", "--all", "--json"])
        .stdout_json()
        .success()
        .json();
    let scopes: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["scope"].as_str().unwrap())
        .collect();
    assert!(
        scopes.contains(&"shared")
            && scopes.contains(&"branch:feature/login")
            && scopes.contains(&"sandbox:alice")
    );
    assert_eq!(scopes.len(), 4);
    let text = p
        .cmd(&["list", "--all"])
        .stdout_matches(
            "NAME  SCOPE                 UPDATED               SYNCED\n\
             K     shared                \\S+Z  no\n\
             K     branch:feature/login  \\S+Z  no\n\
             K     sandbox:alice         \\S+Z  no\n\
             K     sandbox:root          \\S+Z  no\n",
        )
        .success()
        .stdout;
    assert!(!text.contains("value"), "list never shows values: {text}");
}

#[test]
fn default_scope_follows_aws_branch_then_git() {
    let p = Project::initialized();
    p.cmd(&["set", "K", "--stdin"])
        .env("AWS_BRANCH", "release/1.2.3")
        .stdin("v")
        .stderr("Stored K in branch:release/1.2.3.\n")
        .success();
    assert_eq!(p.get("K", &["--branch", "release/1.2.3"]), "v");
    std::fs::write(p.root().join(".git/HEAD"), "ref: refs/heads/feature/x\n").unwrap();
    p.set("G", "g", &[]);
    assert_eq!(p.get("G", &["--branch", "feature/x"]), "g");
}

#[test]
fn real_git_branch_is_detected() {
    let p = Project::new();
    std::fs::remove_dir_all(p.root().join(".git")).unwrap();
    let git = std::process::Command::new("git")
        .args(["init", "-q", "-b", "feature/real"])
        .current_dir(p.root())
        .status();
    if !git.is_ok_and(|s| s.success()) {
        panic!("git is needed for this test");
    }
    // In a real repository init also registers the git drivers.
    p.cmd(&["init", "--app-id", APP_ID])
        .stderr_matches(&p.init_stderr_in_git())
        .success();
    let path = p
        .cmd(&["path", "API_KEY"])
        .stdout("/amplify/d1a2b3c4d5e6f7/featurereal-branch-0f4e87b04c/API_KEY\n")
        .success()
        .stdout;
    assert_eq!(
        path.trim(),
        format!(
            "/amplify/{APP_ID}/featurereal-branch-{}/API_KEY",
            ampsecret::amplify::backend_hash(APP_ID, "feature/real")
        )
    );
}

#[test]
fn stdin_drops_exactly_one_trailing_newline() {
    let p = Project::initialized();
    p.set("A", "value\n\n", &[]);
    assert_eq!(p.get("A", &[]), "value\n");
    p.set("B", "multi\nline\r\n", &[]);
    assert_eq!(p.get("B", &[]), "multi\nline");
    let file = p.temp().join("value.pem");
    std::fs::write(&file, "-----BEGIN-----\nabc\n").unwrap();
    p.cmd(&["set", "PEM", "--file", file.to_str().unwrap()])
        .stderr("Stored PEM in branch:main.\n")
        .success();
    assert_eq!(
        p.get("PEM", &[]),
        "-----BEGIN-----\nabc\n",
        "--file keeps the file exactly"
    );
}

#[test]
fn path_command_matches_the_spec() {
    let p = Project::new();
    let out = p
        .cmd(&[
            "path",
            "API_KEY",
            "--branch",
            "feature/login",
            "--app-id",
            APP_ID,
        ])
        .stdout("/amplify/d1a2b3c4d5e6f7/featurelogin-branch-976afe7de1/API_KEY\n")
        .success();
    assert_eq!(
        out.stdout,
        "/amplify/d1a2b3c4d5e6f7/featurelogin-branch-976afe7de1/API_KEY\n"
    );
    let out = p
        .cmd(&["path", "--prefix", "--shared", "--app-id", APP_ID])
        .stdout("/amplify/shared/d1a2b3c4d5e6f7\n")
        .success();
    assert_eq!(out.stdout, "/amplify/shared/d1a2b3c4d5e6f7\n");
    let out = p
        .cmd(&[
            "path",
            "API_KEY",
            "--sandbox=alice",
            "--app-name",
            "@acme/web",
        ])
        .stdout("/amplify/acmeweb/alice-sandbox-5eb0f84dfa/API_KEY\n")
        .success();
    assert_eq!(
        out.stdout,
        "/amplify/acmeweb/alice-sandbox-5eb0f84dfa/API_KEY\n"
    );
    let json = p
        .cmd(&["path", "API_KEY", "--sandbox=alice", "--json"])
        .stdout_json()
        .success()
        .json();
    assert_eq!(
        json["prefix"],
        format!(
            "/amplify/myapp/alice-sandbox-{}",
            ampsecret::amplify::backend_hash("my-app", "alice")
        )
    );
}

#[test]
fn files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let p = Project::initialized();
    p.set("K", "v", &[]);
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&p.vault_dir()), 0o700);
    for file in ["vault.age", "config.toml"] {
        assert_eq!(mode(&p.vault_dir().join(file)), 0o600, "{file}");
    }
    let ids = p.temp().join("config/ampsecret/identities");
    assert_eq!(mode(&ids), 0o700);
    for entry in std::fs::read_dir(&ids).unwrap() {
        assert_eq!(mode(&entry.unwrap().path()), 0o600);
    }
}

#[test]
fn ci_identity_from_environment() {
    let p = Project::initialized();
    p.set("K", "v", &[]);
    // The identity file is what init made; hand it to a "CI" run with no config directory.
    let ids = p.temp().join("config/ampsecret/identities");
    let id_file = std::fs::read_dir(&ids)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let key_line = std::fs::read_to_string(&id_file)
        .unwrap()
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-"))
        .unwrap()
        .to_owned();
    std::fs::remove_file(&id_file).unwrap();
    p.cmd(&["get", "K"])
        .stderr_has("AMPSECRET_IDENTITY")
        .fails(4);
    assert_eq!(
        p.cmd(&["get", "K"])
            .env("AMPSECRET_IDENTITY", &key_line)
            .stdout("v")
            .success()
            .stdout,
        "v"
    );
    let file = p.temp().join("ci.key");
    std::fs::write(&file, format!("# ci\n{key_line}\n")).unwrap();
    // A key file others can read gets a warning (tested in hardening); a CI key is private.
    std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    assert_eq!(
        p.cmd(&["get", "K"])
            .env("AMPSECRET_IDENTITY_FILE", file.to_str().unwrap())
            .stdout("v")
            .success()
            .stdout,
        "v"
    );
}

#[test]
fn passphrase_vault() {
    let p = Project::new().env("AMPSECRET_PASSPHRASE", "correct horse battery");
    p.cmd(&["init", "--passphrase", "--app-id", APP_ID])
        .stderr(p.init_passphrase_stderr())
        .success();
    p.set("K", "v", &[]);
    assert_eq!(p.get("K", &[]), "v");
    p.cmd(&["get", "K"])
        .env("AMPSECRET_PASSPHRASE", "wrong")
        .stderr(format!(
            "error: cannot decrypt {}/vault.age: none of the available keys can decrypt it; \
             use the key (AMPSECRET_IDENTITY / AMPSECRET_IDENTITY_FILE) or passphrase it was \
             encrypted to\n",
            p.vault_dir().display()
        ))
        .fails(4);
    p.cmd(&["get", "K"])
        .env_remove("AMPSECRET_PASSPHRASE")
        .stderr_has("AMPSECRET_PASSPHRASE")
        .fails(4);
}

#[test]
fn json_outputs_have_documented_shapes() {
    let p = Project::new();
    let init = p
        .cmd(&["init", "--app-id", APP_ID, "--json"])
        .stderr_matches(&p.key_file_note())
        .stdout_json()
        .success()
        .json();
    assert_eq!(init["encryption"], "x25519");
    assert_eq!(init["key_location"], "file");
    assert!(init["recipients"][0].as_str().unwrap().starts_with("age1"));
    let set = p
        .cmd(&["set", "K", "--stdin", "--json"])
        .stdin("v")
        .stdout_json()
        .success()
        .json();
    assert_eq!(set["created"], true);
    assert_eq!(set["scope"], "branch:main");
    let get = p
        .cmd(&["get", "K", "--json"])
        .stdout_json()
        .success()
        .json();
    assert_eq!(get["value"], "v");
    assert_eq!(get["name"], "K");
    let err = p
        .cmd(&["get", "NOPE", "--json"])
        .stderr(json_error(
            3,
            "not_found",
            "no secret NOPE in branch:main; 'ampsecret list --all' shows what the vault holds",
        ))
        .fails(3);
    let doc: serde_json::Value = serde_json::from_str(err.stderr.trim()).unwrap();
    assert_eq!(doc["error"]["kind"], "not_found");
    assert_eq!(doc["error"]["code"], 3);
}

#[test]
fn set_without_value_source_or_terminal_is_refused() {
    let p = Project::initialized();
    p.cmd(&["set", "K"]).stderr_has("--stdin").fails(2);
}

/// `ampsecret list --all | head -1` and `ampsecret export | head -1`: a reader that stops
/// early is not a failure. The pipe is closed after one line, long before 5,000 rows are
/// written, so the writer meets a closed pipe whatever the pipe's buffer size.
#[test]
fn a_reader_that_stops_early_ends_the_command_quietly() {
    use std::io::{BufRead, BufReader, Read};
    use std::process::{Command, Stdio};
    let p = Project::initialized();
    p.bulk_set((0..5000).map(|i| (format!("SECRET_{i:05}"), "v".repeat(40))));
    for args in [
        &["list", "--all"][..],
        &["export"],
        &["list", "--all", "--json"],
    ] {
        let mut child = Command::new(crate::support::BIN)
            .env_clear()
            .envs(p.env_map())
            .current_dir(p.root())
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let status = child.wait().unwrap();
        assert!(!first.is_empty(), "{args:?} printed nothing");
        assert_eq!(status.code(), Some(0), "{args:?}: {stderr}");
        assert_eq!(stderr, "", "{args:?}");
    }
}
