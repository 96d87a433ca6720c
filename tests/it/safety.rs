//! What must never happen: bad input that changes a file, lost writes under concurrency, a
//! broken vault after a crash, or a value escaping into logs, errors or disk.

use crate::support::{APP_ID, BIN, Output, Project, Run};
use age::secrecy::ExposeSecret;
use std::process::{Command, Stdio};

/// Runs `run` and asserts a one-line error with `code`, naming `needle`, nothing on stdout,
/// and that every file in the project, HOME and config directory is byte-identical afterwards.
#[track_caller]
fn rejected(p: &Project, code: i32, needle: &str, run: impl FnOnce(&Project) -> Run) {
    let before = p.snapshot();
    let out = run(p).stdout("").stderr_has(needle).fails(code);
    assert!(
        before == p.snapshot(),
        "files changed after: {}",
        out.stderr
    );
}

/// `ampsecret set NAME --stdin ARGS…` with `value` on stdin.
fn set(p: &Project, name: &str, value: &[u8], args: &[&str]) -> Run {
    let mut all = vec!["set", name, "--stdin"];
    all.extend_from_slice(args);
    p.cmd(&all).stdin(value)
}

fn vault_file(p: &Project) -> std::path::PathBuf {
    p.vault_dir().join("vault.age")
}

#[test]
fn bad_inputs_fail_cleanly_and_change_nothing() {
    let p = Project::initialized();
    p.set("EXISTING", "old-value", &[]);

    // Names and values.
    rejected(&p, 5, "secret name 'BAD NAME'", |p| {
        set(p, "BAD NAME", b"v", &[])
    });
    rejected(&p, 5, "secret name 'a/b'", |p| set(p, "a/b", b"v", &[]));
    rejected(&p, 5, "secret name 'café'", |p| set(p, "café", b"v", &[]));
    rejected(&p, 5, "empty", |p| set(p, "K", b"", &[]));
    rejected(&p, 5, "empty", |p| set(p, "K", b"\n", &[]));
    rejected(&p, 5, "8192", |p| set(p, "K", &[b'x'; 8193], &[]));
    rejected(&p, 5, "larger than", |p| set(p, "K", &[b'x'; 20000], &[]));
    rejected(&p, 5, "{{", |p| set(p, "K", b"a {{ssm:/other}} b", &[]));
    rejected(&p, 5, "UTF-8", |p| set(p, "K", &[0xff, 0xfe, 0x00], &[]));
    let long = "N".repeat(1000);
    rejected(&p, 5, "at most 1011", |p| set(p, &long, b"v", &[]));
    rejected(&p, 5, "secret name", |p| p.cmd(&["get", "NOT VALID"]));
    // Scopes and app identity.
    rejected(&p, 5, "sandbox id 'john.doe'", |p| {
        set(p, "K", b"v", &["--sandbox=john.doe"])
    });
    rejected(&p, 5, "sandbox id", |p| {
        set(p, "K", b"v", &["--sandbox=abcdefghijklmnop"])
    });
    rejected(&p, 5, "app id 'bad/id'", |p| {
        set(p, "K", b"v", &["--app-id", "bad/id"])
    });
    rejected(&p, 2, "--stdin", |p| p.cmd(&["set", "K"]));
    rejected(&p, 2, "--yes", |p| p.cmd(&["remove", "EXISTING"]));
    rejected(&p, 2, "cannot be used with", |p| {
        p.cmd(&["set", "K", "--stdin", "--file", "x"])
    });
    rejected(&p, 2, "'lsit' is not a command", |p| p.cmd(&["lsit"]));
    rejected(&p, 2, "already exists", |p| p.cmd(&["init"]));
    // Not found.
    rejected(&p, 3, "no secret MISSING in branch:main", |p| {
        p.cmd(&["get", "MISSING"])
    });
    rejected(&p, 3, "no secret MISSING", |p| {
        p.cmd(&["remove", "MISSING", "--yes"])
    });
    rejected(&p, 3, "--file", |p| {
        p.cmd(&["set", "K", "--file", "/nonexistent/value"])
    });
    // No git branch to default to.
    std::fs::write(
        p.root().join(".git/HEAD"),
        "4b825dc642cb6eb9a060e54bf8d69288fbee4904\n",
    )
    .unwrap();
    rejected(&p, 2, "detached", |p| set(p, "K", b"v", &[]));
    std::fs::remove_dir_all(p.root().join(".git")).unwrap();
    rejected(&p, 2, "--branch NAME", |p| set(p, "K", b"v", &[]));

    // Keys.
    let stranger = age::x25519::Identity::generate();
    let stranger = stranger.to_string();
    rejected(&p, 4, "cannot decrypt", |p| {
        p.cmd(&["get", "EXISTING", "--branch", "main"])
            .env("AMPSECRET_IDENTITY", stranger.expose_secret())
    });
    rejected(&p, 4, "AMPSECRET_IDENTITY", |p| {
        p.cmd(&["get", "EXISTING", "--branch", "main"])
            .env("AMPSECRET_IDENTITY", "AGE-SECRET-KEY-1BAD")
    });
    rejected(&p, 4, "does not exist", |p| {
        p.cmd(&["get", "EXISTING", "--branch", "main"])
            .env("AMPSECRET_IDENTITY_FILE", "/nonexistent/key")
    });
}

#[test]
fn missing_app_id_and_package_name() {
    let p = Project::new();
    p.cmd(&["init"]).stderr_matches(&p.init_stderr()).success();
    // A vault without an app id still stores secrets (SSM paths are needed at push time),
    // and says what push will need.
    p.cmd(&["set", "K", "--stdin", "--shared"])
        .stdin("v")
        .stderr(
            "note: stored locally only for now; no Amplify app id for the shared scope: \
             pass --app-id, set AWS_APP_ID, or run 'ampsecret config set app_id ID'\n\
             Stored K in shared.\n",
        )
        .success();
    rejected(&p, 2, "--app-id", |p| {
        p.cmd(&["path", "K", "--branch", "main"])
    });
    std::fs::remove_file(p.root().join("package.json")).unwrap();
    rejected(&p, 2, "--app-name", |p| {
        p.cmd(&["path", "K", "--sandbox=alice"])
    });
}

#[test]
fn no_vault_yet() {
    let p = Project::new();
    rejected(&p, 3, "ampsecret init", |p| {
        p.cmd(&["set", "K", "--stdin"]).stdin("v")
    });
    rejected(&p, 3, "ampsecret init", |p| p.cmd(&["list"]));
}

#[test]
fn damaged_vaults_are_reported_and_never_overwritten() {
    let p = Project::initialized();
    p.set("K", "v", &[]);
    let good = std::fs::read(vault_file(&p)).unwrap();
    let try_set = |p: &Project| p.cmd(&["set", "OTHER", "--stdin"]).stdin("v");

    let mut tampered = good.clone();
    let middle = good.len() - 20;
    tampered[middle] ^= 0x40;
    let damaged: [(&str, Vec<u8>); 4] = [
        ("random bytes", b"this is not an age file at all".to_vec()),
        ("truncated", good[..good.len() / 2].to_vec()),
        ("tampered", tampered),
        ("empty", Vec::new()),
    ];
    for (what, bytes) in damaged {
        std::fs::write(vault_file(&p), &bytes).unwrap();
        rejected(&p, 4, "vault.age", |p| p.cmd(&["get", "K"]));
        rejected(&p, 4, "vault.age", try_set);
        assert_eq!(std::fs::read(vault_file(&p)).unwrap(), bytes, "{what}");
    }
    std::fs::remove_file(vault_file(&p)).unwrap();
    rejected(&p, 4, "missing", |p| p.cmd(&["get", "K"]));
    std::fs::write(vault_file(&p), &good).unwrap();

    let config = p.vault_dir().join("config.toml");
    let original = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, original.replace("format = 1", "format = 99")).unwrap();
    rejected(&p, 4, "upgrade ampsecret", try_set);
    std::fs::write(&config, "format = [garbage").unwrap();
    rejected(&p, 4, "not a valid ampsecret config", try_set);
    std::fs::write(&config, &original).unwrap();
    assert_eq!(p.get("K", &[]), "v", "the vault survived every attempt");
}

#[test]
fn payload_from_a_newer_version_is_refused() {
    use ampsecret::vault::crypto::{Seal, seal};
    let p = Project::initialized();
    p.set("K", "v", &[]);
    let config = std::fs::read_to_string(p.vault_dir().join("config.toml")).unwrap();
    let recipient: age::x25519::Recipient = config
        .split('"')
        .find(|s| s.starts_with("age1"))
        .unwrap()
        .parse()
        .unwrap();
    // A well-formed payload header claiming the next format version.
    let mut payload = b"AMPSVLT\n".to_vec();
    let next = ampsecret::vault::format::FORMAT_VERSION + 1;
    payload.extend_from_slice(&next.to_le_bytes());
    payload.extend_from_slice(&0u32.to_le_bytes());
    let sealed = seal(&payload, Seal::Recipients(&[&recipient])).unwrap();
    std::fs::write(vault_file(&p), &sealed).unwrap();
    rejected(&p, 4, "newer ampsecret", |p| p.cmd(&["get", "K"]));
    rejected(&p, 4, "newer ampsecret", |p| {
        p.cmd(&["set", "X", "--stdin"]).stdin("v")
    });
    assert_eq!(std::fs::read(vault_file(&p)).unwrap(), sealed);
}

#[test]
fn sixteen_concurrent_writers_keep_all_sixteen() {
    sixteen_concurrent_writers_keep_all(&Project::initialized(), 0);
}

/// Sixteen `set`s at once on a vault of `existing` secrets: all sixteen are kept.
pub fn sixteen_concurrent_writers_keep_all(p: &Project, existing: usize) {
    let children: Vec<_> = (0..16)
        .map(|i| {
            let mut child = p
                .cmd(&["set", &format!("KEY_{i}"), "--stdin"])
                .into_command();
            let mut child = child
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(format!("value-{i}").as_bytes())
                .unwrap();
            child
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let list = p.cmd(&["list", "--json"]).stdout_json().success().json();
    assert_eq!(list.as_array().unwrap().len(), existing + 16);
    for i in 0..16 {
        assert_eq!(p.get(&format!("KEY_{i}"), &[]), format!("value-{i}"));
    }
}

#[test]
fn a_writer_killed_at_any_moment_leaves_the_old_or_the_new_vault() {
    let p = Project::initialized();
    // A larger vault makes each write take long enough for kills to land mid-write.
    p.bulk_set((0..3000).map(|i| (format!("BULK_{i}"), format!("{i:0>200}"))));
    writers_killed_at_any_moment_leave_the_old_or_the_new_vault(&p, 3000, |p| {
        let list = p.cmd(&["list", "--json"]).stdout_json().success().json();
        list.as_array().unwrap().len()
    });
}

/// Kills `set`s on a vault of `existing` secrets at moments spread over a whole write: each
/// leaves the vault as it was or with the new secret (as `count` counts them), and nothing
/// else.
pub fn writers_killed_at_any_moment_leave_the_old_or_the_new_vault(
    p: &Project,
    existing: usize,
    count: impl Fn(&Project) -> usize,
) {
    // Time one full write, then spread the kills over 0–120 % of it: start-up, decrypt,
    // encrypt, fsync and rename are all hit, whatever the build profile or machine.
    let started = std::time::Instant::now();
    p.set("CALIBRATE", "v", &[]);
    let write_time = started.elapsed();
    let mut committed = existing + 1;
    let mut interrupted = 0;
    for round in 0..40u64 {
        let mut child = Command::new(BIN)
            .env_clear()
            .envs(p.env_map())
            .current_dir(p.root())
            .args(["set", &format!("NEW_{round}"), "--stdin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(b"v").unwrap();
        // Spread the kills over the whole run of a write: start-up, decrypt, encrypt, rename.
        std::thread::sleep(write_time.mul_f64((round as f64 / 40.0) * 1.2));
        let _ = child.kill(); // SIGKILL
        let status = child.wait().unwrap();
        let count = count(p);
        assert!(
            count == committed || count == committed + 1,
            "round {round}: {count} secrets, expected {committed} or one more"
        );
        if count == committed + 1 {
            committed += 1;
            assert_eq!(p.get(&format!("NEW_{round}"), &[]), "v");
        } else {
            assert!(
                !status.success(),
                "a writer that exited 0 must have committed"
            );
            interrupted += 1;
        }
    }
    // The next write, under the lock, sweeps what killed writers left behind.
    p.set("AFTER", "v", &[]);
    let leftovers: Vec<_> = std::fs::read_dir(p.vault_dir())
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(ampsecret::vault::store::TEMP_PREFIX)
        })
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    eprintln!(
        "write takes {write_time:?}; {} committed, {interrupted} interrupted",
        committed - existing - 1
    );
    // Both outcomes must occur, or the kills did not land across the write.
    assert!(
        interrupted > 0 && committed > existing + 1,
        "{interrupted} interrupted, {} committed",
        committed - existing - 1
    );
}

#[test]
fn values_never_leak_into_logs_errors_or_files() {
    const CANARY: &str = "canary-7f3a9-DO-NOT-LEAK";
    let p = Project::new();
    // Every command must also do what it was asked, or a failure could hide a leak. Their
    // stderr is -vvv diagnostics (with timestamps), checked for the canary below.
    let quiet = |args: &[&str]| p.cmd(args).stderr_any();
    let mut transcripts: Vec<(&str, Output)> = vec![
        (
            "init",
            quiet(&["-vvv", "init", "--app-id", APP_ID]).success(),
        ),
        (
            "set",
            quiet(&["-vvv", "set", "LEAKY", "--stdin"])
                .stdin(CANARY)
                .success(),
        ),
        (
            "set-again",
            quiet(&["-vvv", "set", "LEAKY", "--stdin", "--json"])
                .stdin(CANARY)
                .stdout_json()
                .success(),
        ),
        (
            "set-shared",
            quiet(&["-vvv", "set", "LEAKY", "--stdin", "--shared"])
                .stdin(CANARY)
                .success(),
        ),
        (
            "set-invalid",
            quiet(&["-vvv", "set", "LEAKY", "--stdin"])
                .stdin(format!("{CANARY}{{{{x}}}}"))
                .fails(5),
        ),
        (
            "list",
            quiet(&["-vvv", "list", "--all"])
                .stdout_has("LEAKY  branch:main  ")
                .stdout_has("LEAKY  shared       ")
                .success(),
        ),
        (
            "list-json",
            quiet(&["-vvv", "list", "--all", "--json"])
                .stdout_json()
                .success(),
        ),
        (
            "path",
            quiet(&["-vvv", "path", "LEAKY", "--json"])
                .stdout_json()
                .success(),
        ),
        (
            "get-missing",
            quiet(&["-vvv", "get", "LEAKY", "--branch", "other"]).fails(3),
        ),
    ];
    let get = quiet(&["-vvv", "get", "LEAKY"]).stdout(CANARY).success();
    let get_json = quiet(&["-vvv", "get", "LEAKY", "--json"])
        .stdout_json()
        .success();
    let removed = quiet(&["-vvv", "remove", "LEAKY", "--shared", "--yes"]).success();
    transcripts.push(("remove", removed));

    assert_eq!(get.stdout, CANARY);
    assert_eq!(get_json.json()["value"], CANARY);
    for out in [&get, &get_json] {
        assert!(!out.stderr.contains(CANARY), "get's stderr: {}", out.stderr);
    }
    let mut saw_debug = false;
    for (label, out) in &transcripts {
        assert!(
            !out.stdout.contains(CANARY),
            "{label} stdout leaks: {}",
            out.stdout
        );
        assert!(
            !out.stderr.contains(CANARY),
            "{label} stderr leaks: {}",
            out.stderr
        );
        saw_debug |= out.stderr.contains("DEBUG") || out.stderr.contains("TRACE");
    }
    assert!(
        saw_debug,
        "-vvv produced diagnostics, so the check above looked at some"
    );
    for (path, bytes) in p.snapshot() {
        assert!(
            !bytes.windows(CANARY.len()).any(|w| w == CANARY.as_bytes()),
            "{} holds the plaintext",
            path.display()
        );
    }
}
