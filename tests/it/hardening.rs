//! What an outside security review broke (issue 14), each driven through the real binary:
//! vaults that must never be lost or replaced, secrets and keys that must never reach anyone
//! else, and input that must never be stored or shown raw.

use crate::support::{APP_ID, BIN, Project, Run, main_prefix, ssm_line};
use ampsecret_testkit::fault_proxy::{EchoRequest, FaultConfig, FaultProxy};
use ampsecret_testkit::moto::MotoServer;
use ampsecret_testkit::ssm::{Ssm, unique_app_id};
use rexpect::process::wait::WaitStatus;
use rexpect::session::PtySession;
use std::fs;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `ampsecret set NAME --stdin ARGS…` with `value` (any bytes) on stdin.
fn set_bytes(p: &Project, name: &str, value: &[u8], args: &[&str]) -> Run {
    let mut all = vec!["set", name, "--stdin"];
    all.extend_from_slice(args);
    p.cmd(&all).stdin(value)
}

/// Secret names of branch `main`, from `list --json`.
fn names(p: &Project) -> Vec<String> {
    let rows = p
        .cmd(&["list", "--branch", "main", "--json"])
        .stdout_json()
        .success()
        .json();
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect()
}

/// The project's command, started in the background with `input` on its stdin; its stdout
/// and stderr are read by [`wait_bounded`].
fn spawn(p: &Project, args: &[&str], input: &[u8]) -> Child {
    let mut child = p
        .cmd(args)
        .into_command()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ampsecret");
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), input).unwrap();
    child
}

/// What a background command did.
#[derive(Debug)]
struct Finished {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Waits for `child` at most `limit` (killing it then), and returns what it did. Its output
/// is small (a line or two), so the pipes never fill while it runs.
fn wait_bounded(mut child: Child, limit: Duration) -> Finished {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Finished {
                code: status.code().unwrap_or(-1),
                stdout: read_all(child.stdout.take()),
                stderr: read_all(child.stderr.take()),
            };
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("ampsecret did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Everything left in a finished child's output pipe.
fn read_all(pipe: Option<impl Read>) -> String {
    let mut text = String::new();
    pipe.expect("a piped stream")
        .read_to_string(&mut text)
        .unwrap();
    text
}

fn identity_file(p: &Project) -> PathBuf {
    let dir = p.temp().join("config/ampsecret/identities");
    fs::read_dir(dir).unwrap().next().unwrap().unwrap().path()
}

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// The error `init` prints when the vault folder `dir` already holds `existing`.
fn vault_exists(dir: &Path, existing: &str) -> String {
    format!(
        "error: a vault already exists at {} ({}/{existing} is there); use it, or pass --vault \
         for another location\n",
        dir.display(),
        dir.display()
    )
}

/// The line a writer prints while another command holds the vault's lock.
fn waiting_line(dir: &Path, seconds: u64) -> String {
    format!(
        "Waiting for another ampsecret command to finish writing the vault at {} (at most \
         {seconds}s)…\n",
        dir.display()
    )
}

// --- Never lose or replace a vault -------------------------------------------------------

#[test]
fn init_refuses_when_only_the_payload_is_left() {
    let p = Project::initialized();
    p.set("KEEP", "precious", &[]);
    let payload = p.vault_dir().join("vault.age");
    let before = fs::read(&payload).unwrap();
    fs::remove_file(p.vault_dir().join("config.toml")).unwrap();
    p.cmd(&["init", "--app-id", APP_ID])
        .stderr(vault_exists(&p.vault_dir(), "vault.age"))
        .fails(2);
    assert_eq!(
        fs::read(&payload).unwrap(),
        before,
        "the payload was replaced"
    );
    assert_eq!(
        fs::read_dir(p.temp().join("config/ampsecret/identities"))
            .unwrap()
            .count(),
        1,
        "a second key was stored"
    );
}

#[test]
fn of_eight_concurrent_inits_exactly_one_wins_and_one_key_is_stored() {
    let p = Project::new();
    let children: Vec<Child> = (0..8)
        .map(|_| spawn(&p, &["init", "--app-id", APP_ID], b""))
        .collect();
    let results: Vec<Finished> = children
        .into_iter()
        .map(|c| wait_bounded(c, Duration::from_secs(120)))
        .collect();
    let (winners, losers): (Vec<&Finished>, Vec<&Finished>) =
        results.iter().partition(|r| r.code == 0);
    assert_eq!(winners.len(), 1, "{results:?}");
    let full_match = |pattern: &str| regex::Regex::new(&format!(r"\A(?:{pattern})\z")).unwrap();
    let created = full_match(&p.init_stderr());
    assert!(created.is_match(&winners[0].stderr), "{:?}", winners[0]);
    assert_eq!(winners[0].stdout, "", "{:?}", winners[0]);
    // A loser may wait for the winner's lock first, then sees whichever of the winner's files
    // is there first.
    let dir = p.vault_dir();
    let refused = full_match(&format!(
        "({})?({}|{})",
        regex::escape(&waiting_line(&dir, 30)),
        regex::escape(&vault_exists(&dir, "config.toml")),
        regex::escape(&vault_exists(&dir, "vault.age"))
    ));
    for loser in losers {
        assert_eq!(loser.code, 2, "{loser:?}");
        assert!(refused.is_match(&loser.stderr), "{loser:?}");
        assert_eq!(loser.stdout, "", "{loser:?}");
    }
    let keys = fs::read_dir(p.temp().join("config/ampsecret/identities"))
        .unwrap()
        .count();
    assert_eq!(keys, 1, "one vault, one key");
    // The key stored is the one the vault is encrypted to.
    p.set("K", "v", &[]);
    assert_eq!(p.get("K", &[]), "v");
}

/// Pids holding a `flock` on the file with inode `inode`, from /proc/locks.
fn lock_holders(inode: u64) -> Vec<u32> {
    let locks = fs::read_to_string("/proc/locks").unwrap_or_default();
    locks
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // "1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF"
            let (kind, pid, file) = (fields.get(1)?, fields.get(4)?, fields.get(5)?);
            (*kind == "FLOCK" && file.ends_with(&format!(":{inode}"))).then(|| pid.parse().ok())?
        })
        .collect()
}

#[test]
fn deleting_the_lock_file_during_a_slow_write_loses_nothing() {
    // A passphrase vault at a real scrypt cost (2^16: a few tenths of a second per read and
    // per write, well under the limit age accepts when decrypting on a loaded machine), so a
    // writer holds the lock long enough for the lock file to be deleted under it.
    let p = Project::new()
        .env("AMPSECRET_SCRYPT_WORK_FACTOR", "16")
        .env("AMPSECRET_PASSPHRASE", "correct horse battery");
    p.cmd(&["init", "--passphrase", "--app-id", APP_ID])
        .stderr(p.init_passphrase_stderr())
        .success();
    let dir = p.vault_dir();
    let lock_file = dir.join("vault.lock");
    fs::write(&lock_file, "").unwrap(); // as an earlier version left it
    let candidates = [
        fs::metadata(&dir).unwrap().ino(),
        fs::metadata(&lock_file).unwrap().ino(),
    ];

    let mut first = spawn(&p, &["set", "FIRST", "--stdin"], b"first-value");
    let pid = first.id();
    let start = Instant::now();
    while !candidates
        .iter()
        .any(|&ino| lock_holders(ino).contains(&pid))
    {
        assert!(
            first.try_wait().unwrap().is_none(),
            "the first writer ended before it was seen holding the lock"
        );
        assert!(start.elapsed() < Duration::from_secs(60), "never locked");
        std::thread::sleep(Duration::from_millis(5));
    }
    // `git clean -fdX` removes ignored files, the lock file among them.
    let _ = fs::remove_file(&lock_file);
    // The second writer waits for the first (it may find the lock already free).
    p.cmd(&["set", "SECOND", "--stdin"])
        .stdin("second-value")
        .stderr_matches(&format!(
            "({})?Stored SECOND in branch:main\\.\n",
            regex::escape(&waiting_line(&dir, 30))
        ))
        .success();
    let first = wait_bounded(first, Duration::from_secs(120));
    assert_eq!(first.code, 0, "{first:?}");
    assert_eq!(first.stderr, "Stored FIRST in branch:main.\n");
    assert_eq!(first.stdout, "");
    let mut stored = names(&p);
    stored.sort();
    assert_eq!(
        stored,
        ["FIRST", "SECOND"],
        "an acknowledged write was lost"
    );
}

#[test]
fn a_writer_says_it_waits_and_gives_up_after_the_lock_timeout() {
    let p = Project::initialized();
    p.set("K", "old", &[]);
    let before = p.snapshot();
    // Another process holds the vault's lock (the folder itself is locked).
    let holder = fs::File::open(p.vault_dir()).unwrap();
    holder.lock().unwrap();
    let dir = p.vault_dir();
    p.cmd(&["set", "K", "--stdin", "--yes"])
        .env("AMPSECRET_LOCK_TIMEOUT", "1")
        .stdin("new")
        .stderr(format!(
            "{}error: gave up after 1s waiting for another ampsecret command to finish writing \
             the vault at {}; nothing was changed; try again when it has finished\n",
            waiting_line(&dir, 1),
            dir.display()
        ))
        .fails(1);
    assert!(before == p.snapshot(), "files changed");
    drop(holder);
    p.cmd(&["set", "K", "--stdin", "--yes"])
        .stdin("new")
        .stderr("Updated K in branch:main.\n")
        .success();
    assert_eq!(p.get("K", &[]), "new");
}

#[test]
fn a_fifo_or_a_symlink_at_vault_lock_is_never_opened() {
    let p = Project::initialized();
    let lock_file = p.vault_dir().join("vault.lock");
    let _ = fs::remove_file(&lock_file);
    let made = Command::new("mkfifo").arg(&lock_file).status().unwrap();
    assert!(made.success());
    // Bounded: an ampsecret that opens the FIFO waits for a reader forever.
    let child = spawn(&p, &["set", "K", "--stdin"], b"v");
    let done = wait_bounded(child, Duration::from_secs(30));
    assert_eq!(done.code, 0, "a FIFO at vault.lock: {done:?}");
    assert_eq!(done.stderr, "Stored K in branch:main.\n");
    assert_eq!(done.stdout, "");
    fs::remove_file(&lock_file).unwrap();

    let target = p.temp().join("created-through-the-link");
    std::os::unix::fs::symlink(&target, &lock_file).unwrap();
    p.cmd(&["set", "K2", "--stdin"])
        .stdin("v")
        .stderr("Stored K2 in branch:main.\n")
        .success();
    assert!(!target.exists(), "the symlink at vault.lock was followed");
    assert_eq!(p.get("K2", &[]), "v");
}

#[test]
fn a_symlinked_vault_folder_is_refused_and_only_own_leftovers_are_swept() {
    let p = Project::initialized();
    p.set("K", "v", &[]);
    let dir = p.vault_dir();
    // Leftovers: one of a killed ampsecret writer, one of someone else.
    fs::write(dir.join(".ampsecret-tmp-killed"), "ciphertext").unwrap();
    fs::write(dir.join(".tmp-not-ours"), "keep me").unwrap();
    p.set("K2", "v", &[]);
    assert!(
        !dir.join(".ampsecret-tmp-killed").exists(),
        "own leftover kept"
    );
    assert!(
        dir.join(".tmp-not-ours").exists(),
        "a foreign file was deleted"
    );

    // `.ampsecret` as a symlink to another folder holding a file that looks like a leftover.
    let elsewhere = p.temp().join("elsewhere");
    fs::rename(&dir, &elsewhere).unwrap();
    fs::write(elsewhere.join(".ampsecret-tmp-precious"), "not a leftover").unwrap();
    std::os::unix::fs::symlink(&elsewhere, &dir).unwrap();
    let before = p.snapshot();
    let symlink_refused = format!(
        "error: the vault folder {} is a symlink; ampsecret uses only a real folder: pass \
         --vault with the folder it points to, or replace the link with the folder\n",
        dir.display()
    );
    p.cmd(&["set", "K3", "--stdin"])
        .stdin("v")
        .stderr(&symlink_refused)
        .fails(1);
    p.cmd(&["get", "K"]).stderr(&symlink_refused).fails(1);
    p.cmd(&["init", "--app-id", APP_ID])
        .stderr(vault_exists(&dir, "config.toml"))
        .fails(2);
    assert!(before == p.snapshot(), "files changed through the link");
    assert!(elsewhere.join(".ampsecret-tmp-precious").exists());
    // Named directly, the real folder works.
    p.cmd(&["get", "K", "--vault", elsewhere.to_str().unwrap()])
        .stdout("v")
        .success();
}

// --- Never hand a secret or a key to someone else ----------------------------------------

#[test]
fn ampsecret_cannot_dump_core_while_its_command_runs() {
    // Start ampsecret with a core limit, as `ulimit -c unlimited` would; the command it runs
    // reads both its parent's (ampsecret's) limit and its own.
    let p = Project::initialized();
    p.set("K", "v", &[]);
    let out = Command::new("sh")
        .args([
            "-c",
            "ulimit -S -c 4096 && exec \"$0\" \"$@\"",
            BIN,
            "exec",
            "--",
            "sh",
            "-c",
            "grep 'Max core file size' /proc/$PPID/limits /proc/self/limits",
        ])
        .env_clear()
        .envs(p.env_map())
        .current_dir(p.root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    let text = String::from_utf8(out.stdout).unwrap();
    let soft = |which: &str| -> String {
        let line = text
            .lines()
            .find(|l| l.starts_with(which))
            .unwrap_or_else(|| panic!("no {which} in {text}"));
        line.split_whitespace().nth(4).unwrap().to_owned()
    };
    assert_ne!(
        soft("/proc/self/limits"),
        "0",
        "the command keeps its own limit: {text}"
    );
    assert!(text.lines().count() == 2, "{text}");
    let parent = text.lines().find(|l| !l.starts_with("/proc/self")).unwrap();
    assert_eq!(parent.split_whitespace().nth(4), Some("0"), "{text}");
}

#[test]
fn exec_refuses_secret_names_that_steer_the_command() {
    let p = Project::initialized();
    let marker = p.temp().join("ran");
    let script = format!("touch {}", marker.display());
    for (name, value) in [
        ("PATH", "/attacker/bin"),
        ("LD_PRELOAD", "/attacker/lib.so"),
        ("NODE_OPTIONS", "--require /attacker/x.js"),
        ("BASH_ENV", "/attacker/rc"),
        ("AMPSECRET_VAULT", "/attacker"),
    ] {
        p.set(name, value, &[]);
    }
    p.set("PLAIN", "plain-value", &[]);
    for pristine in [false, true] {
        let mut args = vec!["exec"];
        if pristine {
            args.push("--pristine");
        }
        args.extend(["--", "sh", "-c", &script]);
        p.cmd(&args)
            .stderr(
                "error: AMPSECRET_VAULT, BASH_ENV, LD_PRELOAD, NODE_OPTIONS, PATH in branch:main \
                 would change which program runs or what it loads; pass --allow-env \
                 AMPSECRET_VAULT,BASH_ENV,LD_PRELOAD,NODE_OPTIONS,PATH to pass it on anyway; \
                 nothing was run\n",
            )
            .fails(5);
        assert!(!marker.exists(), "the command ran");
    }
    p.cmd(&["remove", "PATH", "--yes"])
        .stderr("Removed PATH from branch:main.\n")
        .success();
    p.cmd(&["remove", "AMPSECRET_VAULT", "--yes"])
        .stderr("Removed AMPSECRET_VAULT from branch:main.\n")
        .success();
    let parent_path = p.env_map()["PATH"].clone();
    p.cmd(&[
        "exec",
        "--allow-env",
        "NODE_OPTIONS,BASH_ENV",
        "--allow-env",
        "LD_PRELOAD",
        "--pristine",
        "--",
        "sh",
        "-c",
        "printf '%s|%s|%s' \"$NODE_OPTIONS\" \"$PLAIN\" \"$PATH\"",
    ])
    .stdout(format!("--require /attacker/x.js|plain-value|{parent_path}"))
    // The command's loader complains about the (missing) library it was told to preload.
    .stderr_matches(
        r"(ERROR: ld\.so: object '/attacker/lib\.so' from LD_PRELOAD cannot be preloaded [^\n]*\n)+",
    )
    .success();
}

#[test]
fn no_ampsecret_variable_reaches_the_command() {
    let p = Project::initialized();
    p.set("APP_SECRET", "app-value", &[]);
    let key = identity_file(&p);
    let out = p
        .cmd(&["exec", "--", "env"])
        .env("AMPSECRET_IDENTITY_FILE", key.to_str().unwrap())
        .env("AMPSECRET_LOCK_TIMEOUT", "5")
        .env("AMPSECRET_NO_INPUT", "1")
        .stdout_has("APP_SECRET=app-value\n")
        .success();
    let leaked: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("AMPSECRET_"))
        .collect();
    assert!(leaked.is_empty(), "{leaked:?}");
}

#[test]
fn remote_errors_never_echo_a_value() {
    const CANARY: &str = "echo-canary-7e11a1e";
    let moto = MotoServer::start();
    // An HTML 502 page (retried as a server error, so each push takes a few seconds) and an
    // AWS JSON 400 whose message is the request.
    for (status, html) in [(502, true), (400, false)] {
        let proxy = FaultProxy::start(
            moto.addr(),
            FaultConfig {
                echo_request: Some(EchoRequest {
                    operation: "PutParameter",
                    status,
                    html,
                }),
                ..FaultConfig::default()
            },
        );
        let app = unique_app_id();
        let p = Project::with_app(&proxy.endpoint(), &app);
        p.set("LEAKY", CANARY, &[]);
        let prefix = main_prefix(&app);
        let reason = if html {
            format!("SSM failed to answer (HTTP {status})")
        } else {
            format!("ValidationException: SSM refused the request (HTTP {status})")
        };
        p.cmd(&["push", "--yes"])
            .stderr(format!(
                "{}Plan for {prefix} (branch:main):\n\
                 \x20 + LEAKY  create (new)\n\
                 \x20 ! LEAKY  create failed: {reason}\n\
                 Applied no change to {prefix}; 1 failed.\n\
                 error: no change was applied; 1 failed (LEAKY); fix the cause and re-run\n",
                ssm_line(&proxy.endpoint(), false),
            ))
            .fails(6);
        // At the highest verbosity the log lines vary; none may hold the value.
        let out = p
            .cmd(&["-vvv", "push", "--yes", "--json"])
            .stdout_json()
            .stderr_any()
            .fails(6);
        assert!(
            !out.stdout.contains(CANARY) && !out.stderr.contains(CANARY),
            "{status} html={html}: {out:?}"
        );
        let failed = &out.json()["failed"];
        assert_eq!(failed[0]["name"], "LEAKY", "{out:?}");
        assert_eq!(failed[0]["error"], reason.as_str(), "{out:?}");
        assert!(
            proxy.stats().op("PutParameter").total() > 0,
            "the echo was served"
        );
    }
}

#[test]
fn an_unreadable_answer_to_a_read_is_never_logged_even_at_the_highest_verbosity() {
    const CANARY: &str = "read-canary-5b0c2d";
    let moto = MotoServer::start();
    let app = unique_app_id();
    let direct = Project::with_app(&moto.endpoint(), &app);
    direct.set("READ_BACK", CANARY, &[]);
    direct.cmd(&["push", "--yes"]).stderr_any().success();
    // The same values, read through a proxy that cuts every answer short by a byte.
    let proxy = FaultProxy::start(
        moto.addr(),
        FaultConfig {
            truncate_response: Some("GetParametersByPath"),
            ..FaultConfig::default()
        },
    );
    let out = direct
        .cmd(&["-vvv", "diff"])
        .env("AWS_ENDPOINT_URL_SSM", &proxy.endpoint())
        .stderr_any()
        .fails(6);
    assert!(
        out.stderr
            .contains("GetParametersByPath failed: unreadable response (HTTP 200)"),
        "the failure was logged: {out:?}"
    );
    assert!(
        !out.stdout.contains(CANARY) && !out.stderr.contains(CANARY),
        "{out:?}"
    );
    assert!(proxy.stats().op("GetParametersByPath").total() > 0);
}

#[test]
fn exposed_keys_and_vault_files_are_named_with_the_chmod_that_fixes_them() {
    let p = Project::initialized();
    p.set("K", "v", &[]);
    let key = identity_file(&p);
    chmod(&key, 0o644);
    p.cmd(&["get", "K"])
        .stdout("v")
        .stderr(format!(
            "warning: {} has mode 0644: other users can read it; fix it with: chmod 600 {}\n",
            key.display(),
            key.display()
        ))
        .success();
    chmod(&key, 0o600);
    p.cmd(&["get", "K"]).stdout("v").success();

    // The same for a key named by AMPSECRET_IDENTITY_FILE.
    let copy = p.temp().join("ci-key.txt");
    fs::copy(&key, &copy).unwrap();
    chmod(&copy, 0o666);
    p.cmd(&["get", "K"])
        .env("AMPSECRET_IDENTITY_FILE", copy.to_str().unwrap())
        .stdout("v")
        .stderr(format!(
            "warning: {} has mode 0666: other users can read it; fix it with: chmod 600 {}\n",
            copy.display(),
            copy.display()
        ))
        .success();

    // Vault files others can change.
    let vault = p.vault_dir().join("vault.age");
    let config = p.vault_dir().join("config.toml");
    chmod(&vault, 0o666);
    chmod(&config, 0o666);
    let can_change = |file: &Path| {
        format!(
            "warning: {} has mode 0666: other users can change it; fix it with: chmod 644 {}\n",
            file.display(),
            file.display()
        )
    };
    p.cmd(&["get", "K"])
        .stdout("v")
        .stderr(can_change(&config) + &can_change(&vault))
        .success();
    chmod(&vault, 0o644);
    chmod(&config, 0o644);
    // A clone's 0644 files are normal.
    p.cmd(&["get", "K"]).stdout("v").success();

    // A folder everyone can write to is refused.
    chmod(&p.vault_dir(), 0o777);
    let before = p.snapshot();
    let refused = format!(
        "error: the vault folder {} has mode 0777: everyone can write to it, so anyone could \
         replace the vault; fix it with: chmod 700 {}\n",
        p.vault_dir().display(),
        p.vault_dir().display()
    );
    p.cmd(&["get", "K"]).stderr(&refused).fails(1);
    p.cmd(&["set", "K", "--stdin", "--yes"])
        .stdin("new")
        .stderr(&refused)
        .fails(1);
    assert!(before == p.snapshot());
}

#[test]
fn another_users_vault_is_not_written() {
    if ampsecret_is_not_root() {
        eprintln!("skipped: changing a folder's owner needs root");
        return;
    }
    let p = Project::initialized();
    p.set("K", "v", &[]);
    let dir = p.vault_dir();
    std::os::unix::fs::chown(&dir, Some(4242), Some(4242)).unwrap();
    let before = p.snapshot();
    p.cmd(&["set", "K", "--stdin", "--yes"])
        .stdin("new")
        .stderr(format!(
            "error: the vault at {} belongs to user id 4242, and this is user id 0; ampsecret \
             does not write another user's vault (its files would change owner): run the \
             command as that user\n",
            dir.display()
        ))
        .fails(1);
    assert!(before == p.snapshot());
    assert_eq!(fs::metadata(&dir).unwrap().uid(), 4242);
    assert_eq!(p.get("K", &[]), "v", "reading it is fine");
}

fn ampsecret_is_not_root() -> bool {
    fs::metadata("/proc/self").map(|m| m.uid()).unwrap_or(1) != 0
}

#[test]
fn a_vault_id_that_init_would_not_write_is_refused() {
    let p = Project::initialized();
    p.set("K", "v", &[]);
    let config = p.vault_dir().join("config.toml");
    let text = fs::read_to_string(&config).unwrap();
    let id = text
        .lines()
        .find_map(|l| l.strip_prefix("vault_id = "))
        .unwrap()
        .trim_matches('"')
        .to_owned();
    assert_eq!(id.len(), 24);
    // A key planted outside the identities folder, where `../` would lead.
    let planted = p.temp().join("config/ampsecret/planted.txt");
    fs::copy(identity_file(&p), &planted).unwrap();
    for forged in [
        "../planted",
        "../../../../../../tmp/x",
        "ABCDEF0123456789ABCDEF01",
    ] {
        fs::write(&config, text.replace(&id, forged)).unwrap();
        p.cmd(&["get", "K"])
            .stderr(format!(
                "error: {}: vault_id is not 24 lowercase hex digits (the form 'ampsecret init' \
                 writes); restore the file from version control\n",
                config.display()
            ))
            .fails(4);
    }
}

// --- Never store or show what you would not accept ---------------------------------------

#[test]
fn nul_bytes_are_refused_at_set_and_import() {
    let p = Project::initialized();
    set_bytes(&p, "K", b"before\0after", &[])
        .stderr(
            "error: value for K: the value contains a NUL byte, which no environment variable \
             or .env file can hold\n",
        )
        .fails(5);
    fs::write(p.root().join("a.json"), r#"{"OK":"fine","BAD":"x\u0000y"}"#).unwrap();
    p.cmd(&["import", "a.json", "--yes"])
        .stderr(
            "error: cannot import a.json: value for BAD: the value contains a NUL byte, which no \
             environment variable or .env file can hold; nothing was imported\n",
        )
        .fails(5);
    fs::write(p.root().join("a.env"), "OK=fine\nBAD=\"x\0y\"\n").unwrap();
    p.cmd(&["import", "a.env", "--yes"])
        .stderr(
            "error: cannot import a.env: line 2: value for BAD: the value contains a NUL byte, \
             which no environment variable or .env file can hold; nothing was imported\n",
        )
        .fails(5);
    assert!(names(&p).is_empty());
}

#[test]
fn pull_stores_only_what_set_accepts_and_names_what_it_skipped() {
    let moto = MotoServer::start();
    let app = unique_app_id();
    let p = Project::with_app(&moto.endpoint(), &app);
    let prefix = main_prefix(&app);
    p.cmd(&["path", "--prefix", "--branch", "main"])
        .stdout(format!("{prefix}\n"))
        .success();
    let ssm = Ssm::new(&moto.endpoint());
    let huge = "h".repeat(20_000);
    ssm.put(&format!("{prefix}/GOOD"), "good-value");
    ssm.put(&format!("{prefix}/WITH_NUL"), "nul\0canary");
    ssm.put(&format!("{prefix}/HUGE"), &huge);
    ssm.put(&format!("{prefix}/REF"), "ref {{ssm:canary}}");
    let out = p.cmd(&["pull", "--yes", "--json"]).stdout_json().success();
    let report = out.json();
    assert_eq!(report["stored"], serde_json::json!(["GOOD"]));
    let refused: Vec<&str> = report["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(refused, ["HUGE", "REF", "WITH_NUL"]);
    assert!(
        !out.stdout.contains("canary") && !out.stdout.contains("hhhhhhhh"),
        "{}",
        out.stdout
    );
    p.cmd(&["pull", "--yes"])
        .stderr(format!(
            "{}  ! HUGE      not stored: the value is 20000 bytes; SSM stores at most 8192 bytes \
             (Advanced tier)\n\
             \x20 ! REF       not stored: the value contains '{{{{...}}}}', which SSM refuses \
             (parameter references)\n\
             \x20 ! WITH_NUL  not stored: the value contains a NUL byte, which no environment \
             variable or .env file can hold\n\
             Applied no change to branch:main from {prefix}; 3 values not stored.\n",
            ssm_line(&moto.endpoint(), true)
        ))
        .success();
    assert_eq!(names(&p), ["GOOD"]);
}

#[test]
fn control_characters_in_scope_names_are_refused_and_escaped() {
    let p = Project::initialized();
    let evil = "evil\x1b[31mRED\nFAKE";
    let before = p.snapshot();
    set_bytes(&p, "K", b"v", &["--branch", evil])
        .stderr(
            "error: branch name from --branch 'evil\\u{1b}[31mRED\\nFAKE' contains control or \
             invisible characters; use a name without them\n",
        )
        .fails(5);
    p.cmd(&["set", "K", "--stdin"])
        .env("AWS_BRANCH", "main\x07\rFORGED")
        .stdin("v")
        .stderr(
            "error: branch name from AWS_BRANCH 'main\\u{7}\\rFORGED' contains control or \
             invisible characters; use a name without them\n",
        )
        .fails(5);
    p.cmd(&["set", "K", "--stdin"])
        .env("AWS_BRANCH", "rtl\u{202e}gnp.exe")
        .stdin("v")
        .stderr(
            "error: branch name from AWS_BRANCH 'rtl\\u{202e}gnp.exe' contains control or \
             invisible characters; use a name without them\n",
        )
        .fails(5);
    assert!(before == p.snapshot());

    // A vault written before names were checked (or forged) is shown escaped.
    let vault = ampsecret::vault::VaultDir::open(&p.vault_dir()).unwrap();
    vault
        .update(&p.key(), |v| {
            let scope = ampsecret::scope::ScopeKey::Branch(evil.into());
            v.set(
                &scope,
                "K",
                ampsecret::secret::SecretValue::new("v".into()),
                &ampsecret::vault::Stamp::new(1, "test"),
            );
            Ok(())
        })
        .unwrap();
    p.cmd(&["list", "--all"])
        .stdout(
            "NAME  SCOPE                           UPDATED               SYNCED\n\
             K     branch:evil\\u{1b}[31mRED\\nFAKE  1970-01-01T00:00:01Z  no\n",
        )
        .success();
    // Shell completion never offers it (a newline would make two candidates).
    let completion = Command::new(BIN)
        .args(["--", "ampsecret", "list", "--branch", ""])
        .env_clear()
        .envs(p.env_map())
        .env("AMPSECRET_COMPLETE", "bash")
        .env("_CLAP_COMPLETE_INDEX", "3")
        .current_dir(p.root())
        .output()
        .unwrap();
    assert!(completion.status.success(), "{completion:?}");
    let candidates = String::from_utf8_lossy(&completion.stdout);
    assert!(candidates.contains("main"), "{candidates:?}");
    assert!(
        !candidates.contains("FAKE") && !candidates.contains("evil"),
        "{candidates:?}"
    );
}

/// `ampsecret ARGS…` on a terminal.
fn pty(p: &Project, program: &str, args: &[&str]) -> PtySession {
    let mut command = Command::new(program);
    command
        .env_clear()
        .envs(p.env_map())
        .env("TERM", "xterm")
        .current_dir(p.root())
        .args(args);
    rexpect::session::spawn_command(command, Some(20_000)).expect("spawn on a pty")
}

fn finish(mut session: PtySession) -> (i32, String) {
    let rest = session.exp_eof().expect("the command ends");
    match session.process.wait() {
        Ok(WaitStatus::Exited(_, code)) => (code, rest),
        other => panic!("not a normal exit: {other:?}; output {rest:?}"),
    }
}

#[test]
fn get_on_a_terminal_shows_control_characters_escaped() {
    let p = Project::initialized();
    let value = "line1\n\x1b]0;pwned\x07\x1b[2J\rend";
    p.set("TRICKY", value, &[]);
    let (code, shown) = finish(pty(&p, BIN, &["get", "TRICKY"]));
    assert_eq!(code, 0, "{shown}");
    assert!(
        !shown.contains('\x1b') && !shown.contains('\x07'),
        "{shown:?}"
    );
    assert!(
        shown.contains("\\u{1b}]0;pwned\\u{7}\\u{1b}[2J\\rend"),
        "{shown:?}"
    );
    // Piped, the value is exact.
    assert_eq!(p.get("TRICKY", &[]), value);
}

#[test]
fn a_multi_line_paste_at_the_hidden_prompt_is_refused_and_never_reaches_the_shell() {
    let p = Project::initialized();
    // A shell line that runs ampsecret, then reads what is left on the terminal.
    let script = format!("{BIN} set PEM; echo \"exit=$?\"; read -r rest; echo \"LEFT:[$rest]\"");
    let mut s = pty(&p, "sh", &["-c", &script]);
    s.exp_string("Value for PEM: ").unwrap();
    s.send("-----BEGIN KEY-----\nc2VjcmV0\n-----END KEY-----\n")
        .unwrap();
    s.flush().unwrap();
    s.exp_string("multi-line paste").unwrap();
    s.exp_string("exit=2").unwrap();
    s.send_line("typed-later").unwrap();
    s.exp_string("LEFT:[typed-later]").unwrap();
    let (code, _) = finish(s);
    assert_eq!(code, 0);
    p.cmd(&["get", "PEM"])
        .stderr(crate::support::no_secret("PEM", "branch:main"))
        .fails(3);

    // A bracketed paste of several lines is refused too; one of a single line is taken.
    let mut s = pty(&p, BIN, &["set", "PEM"]);
    s.exp_string("Value for PEM: ").unwrap();
    s.send("\x1b[200~line one\nline two\x1b[201~\n").unwrap();
    s.flush().unwrap();
    s.exp_string("multi-line paste").unwrap();
    assert_eq!(finish(s).0, 2);
    let mut s = pty(&p, BIN, &["set", "PEM"]);
    s.exp_string("Value for PEM: ").unwrap();
    s.send("\x1b[200~one-line-value\x1b[201~\n").unwrap();
    s.flush().unwrap();
    s.exp_string("Repeat the value for PEM: ").unwrap();
    s.send("\x1b[200~one-line-value\x1b[201~\n").unwrap();
    s.flush().unwrap();
    assert_eq!(finish(s).0, 0);
    assert_eq!(p.get("PEM", &[]), "one-line-value");
}

#[test]
fn check_reports_a_too_deeply_nested_file_instead_of_crashing() {
    let p = Project::initialized();
    let amplify = p.root().join("amplify");
    fs::create_dir_all(&amplify).unwrap();
    let nested = |depth: usize| format!("const x = {}1{};\n", "(".repeat(depth), ")".repeat(depth));
    fs::write(
        amplify.join("backend.ts"),
        format!(
            "import {{ secret }} from '@aws-amplify/backend';\nconst k = secret('K');\n{}",
            nested(900)
        ),
    )
    .unwrap();
    p.set("K", "v", &[]);
    p.cmd(&["check"])
        .stderr("The 1 secret used by the backend (in 1 file) has a value in branch:main.\n")
        .success();
    fs::write(amplify.join("deep.ts"), nested(10_000)).unwrap();
    p.cmd(&["check"])
        .stderr(
            "error: cannot parse amplify/deep.ts:1: too deeply nested to check (more than 1000 \
             levels of brackets or prefix operators)\n",
        )
        .fails(5);
    fs::write(
        amplify.join("deep.ts"),
        format!("const y = {}1;\n", "!".repeat(10_000)),
    )
    .unwrap();
    p.cmd(&["check"])
        .stderr(
            "error: cannot parse amplify/deep.ts:1: too deeply nested to check (more than 1000 \
             levels of brackets or prefix operators)\n",
        )
        .fails(5);
}

#[test]
fn init_requires_a_passphrase_of_twelve_characters() {
    let p = Project::new().env("AMPSECRET_PASSPHRASE", "hunter2");
    p.cmd(&["init", "--passphrase"])
        .stderr(
            "error: the passphrase is too short: use at least 12 characters (four or more \
             random words work well); nothing was created\n",
        )
        .fails(5);
    assert!(!p.vault_dir().join("config.toml").exists());
    // Without --app-id, the first next step is setting it.
    p.cmd(&["init", "--passphrase"])
        .env("AMPSECRET_PASSPHRASE", "twelve chars")
        .stderr(format!(
            "Created the vault at {}.\nIt opens with your passphrase.\nNext:\n  \
             ampsecret config set app_id ID  # your Amplify app id (Amplify console: App \
             settings); push needs it\n  ampsecret set NAME              # store a secret \
             (hidden prompt)\n",
            p.vault_dir().display()
        ))
        .success();
}

/// What a terminal would act on, written raw: a title change, a bell, a screen clear.
fn acts_on_the_terminal(shown: &str) -> bool {
    shown.contains("\x1b]") || shown.contains('\x07') || shown.contains("\x1b[2J")
}

#[test]
fn text_from_committed_files_is_shown_escaped_on_a_terminal() {
    let p = Project::initialized();
    p.set("K", "v", &[]);

    // A message line (here the note about a file's newline) is shown escaped.
    let file = p.temp().join("value\x1b]0;PWNED\x07.txt");
    fs::write(&file, "v\n").unwrap();
    let (code, shown) = finish(pty(
        &p,
        BIN,
        &["set", "FROM_FILE", "--file", file.to_str().unwrap()],
    ));
    assert_eq!(code, 0, "{shown:?}");
    assert!(!acts_on_the_terminal(&shown), "{shown:?}");
    assert!(
        shown.contains("value\\u{1b}]0;PWNED\\u{7}.txt ends with a newline"),
        "{shown:?}"
    );

    // Anyone who can commit can write amplify/ and config.toml: no member key is needed.
    fs::create_dir_all(p.root().join("amplify")).unwrap();
    fs::write(
        p.root().join("amplify/backend.ts"),
        "import { secret } from '@aws-amplify/backend';\n\
         export const b = secret('EV\\u001b]0;PWNED\\u0007\\u001b[2JIL');\n",
    )
    .unwrap();
    // check: a name read from the backend's sources.
    let (code, shown) = finish(pty(&p, BIN, &["check", "--branch", "main"]));
    assert_eq!(code, 3, "{shown:?}");
    assert!(!acts_on_the_terminal(&shown), "{shown:?}");
    assert!(
        shown.contains(
            "amplify/backend.ts:2: EV\\u{1b}]0;PWNED\\u{7}\\u{1b}[2JIL has no value in branch:main"
        ),
        "{shown:?}"
    );

    let config = p.vault_dir().join("config.toml");
    let edit = |change: &dyn Fn(&str) -> Option<String>, extra: &str| {
        let text = fs::read_to_string(&config).unwrap();
        let lines: Vec<String> = text
            .lines()
            .map(|line| change(line).unwrap_or_else(|| line.to_owned()))
            .collect();
        fs::write(&config, format!("{}\n{extra}", lines.join("\n"))).unwrap();
    };
    // recipients list: a hand-added recipient in its warning.
    edit(
        &|line| {
            line.starts_with("recipients = [\"")
                .then(|| line.replacen("[\"", "[\"age1x\\u001b[2J\\u001b]0;PWNED\\u0007\", \"", 1))
        },
        "",
    );
    let (code, shown) = finish(pty(&p, BIN, &["recipients", "list"]));
    assert_eq!(code, 0, "{shown:?}");
    assert!(!acts_on_the_terminal(&shown), "{shown:?}");
    assert!(
        shown.contains("warning: config.toml lists age1x\\u{1b}[2J\\u{1b}"),
        "{shown:?}"
    );

    // config list: every cell escaped; a tag value cannot forge a row.
    edit(
        &|line| {
            line.starts_with("app_id")
                .then(|| "app_id = \"d1\\u001b]0;PWNED\\u0007\\u001b[2J\"".to_owned())
        },
        "[tags]\n\"t\\u001b[31mRED\" = \"v\\r\\nfake line\"\n",
    );
    let (code, shown) = finish(pty(&p, BIN, &["config", "list"]));
    assert_eq!(code, 0, "{shown:?}");
    assert!(!acts_on_the_terminal(&shown), "{shown:?}");
    assert!(!shown.contains("\nfake line"), "a forged row: {shown:?}");
    assert!(
        shown.contains("d1\\u{1b}]0;PWNED\\u{7}\\u{1b}[2J")
            && shown.contains("tags.t\\u{1b}[31mRED")
            && shown.contains("v\\r\\nfake line"),
        "{shown:?}"
    );
    // config get: escaped on a terminal (exact in a pipe, for scripts).
    let (code, shown) = finish(pty(&p, BIN, &["config", "get", "app_id"]));
    assert_eq!(code, 0, "{shown:?}");
    assert!(!acts_on_the_terminal(&shown), "{shown:?}");
    assert!(shown.contains("d1\\u{1b}]0;PWNED"), "{shown:?}");
}

#[test]
fn odd_arguments_and_an_empty_file_end_in_one_line_not_a_panic() {
    use std::os::unix::ffi::OsStrExt;
    let p = Project::initialized();
    p.set("K", "v", &[]);
    // An argument that is not UTF-8 (a file name, a vault directory).
    let not_utf8 = std::ffi::OsStr::from_bytes(b"bad\xff");
    fs::write(p.root().join(not_utf8), "from-file").unwrap();
    let mut set = p.cmd(&["set", "FROM_FILE", "--file"]).into_command();
    let out = set.arg(not_utf8).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(p.get("FROM_FILE", &[]), "from-file");
    let mut get = p.cmd(&["get", "K", "--vault"]).into_command();
    let out = get.arg(p.temp().join(not_utf8)).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error: no vault at ") && stderr.lines().count() == 1,
        "{stderr:?}"
    );

    // An empty file is an empty value: refused like any other.
    let empty = p.temp().join("empty");
    fs::write(&empty, "").unwrap();
    let before = p.snapshot();
    p.cmd(&["set", "EMPTY", "--file", empty.to_str().unwrap()])
        .stderr("error: value for EMPTY: the value is empty; SSM refuses empty parameters\n")
        .fails(5);
    assert!(before == p.snapshot());
}

#[test]
fn panics_unwind_and_print_a_backtrace_with_the_unwinder_linked_in() {
    // src/build.rs links gcc's static unwinder instead of loading libgcc_s.so.1.
    let elf = Command::new("readelf").args(["-d", BIN]).output().unwrap();
    let dynamic = String::from_utf8(elf.stdout).unwrap();
    assert!(dynamic.contains("(NEEDED)"), "{dynamic}");
    if cfg!(target_env = "gnu") {
        assert!(!dynamic.contains("libgcc_s"), "{dynamic}");
    }
    let out = Command::new(BIN)
        .arg("--version")
        .env("AMPSECRET_TEST_PANIC", "1")
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(101), "{stderr}");
    for wanted in [
        "a test panic, caught",
        "caught: true",
        "panicked at",
        "a test panic\n",
        "stack backtrace:",
        "ampsecret::test_panic",
    ] {
        assert!(stderr.contains(wanted), "no {wanted:?} in {stderr}");
    }
}
