//! The key store against a real Secret Service (gnome-keyring, started unlocked by
//! tests/run.sh inside a private D-Bus session) and its fallbacks.

use crate::support::{APP_ID, Project};
use std::process::Command;
use std::time::{Duration, Instant};

/// The project, with the keyring enabled and the session bus of the test run.
fn keyring_project() -> Option<Project> {
    if std::env::var_os("AMPSECRET_TEST_SECRET_SERVICE").is_none() {
        eprintln!("skipped: run through tests/run.sh, which starts gnome-keyring");
        return None;
    }
    let bus = std::env::var("DBUS_SESSION_BUS_ADDRESS").expect("run.sh provides a session bus");
    Some(
        Project::new()
            .remove_env("AMPSECRET_NO_KEYRING")
            .env("DBUS_SESSION_BUS_ADDRESS", &bus),
    )
}

fn recipient(p: &Project) -> String {
    let config = std::fs::read_to_string(p.vault_dir().join("config.toml")).unwrap();
    config
        .split('"')
        .find(|s| s.starts_with("age1"))
        .unwrap()
        .to_owned()
}

fn vault_id(p: &Project) -> String {
    let config = std::fs::read_to_string(p.vault_dir().join("config.toml")).unwrap();
    config
        .lines()
        .find_map(|l| l.strip_prefix("vault_id = "))
        .unwrap()
        .trim_matches('"')
        .to_owned()
}

#[test]
fn secret_service_holds_the_key_and_a_locked_keyring_falls_back() {
    let Some(p) = keyring_project() else { return };
    let init = p
        .cmd(&["init", "--app-id", APP_ID, "--json"])
        .stdout_json()
        .success();
    assert_eq!(init.json()["key_location"], "keyring", "{}", init.stderr);
    assert!(
        !p.temp().join("config/ampsecret/identities").exists(),
        "no identity file when the keyring works"
    );
    p.set("K", "from-keyring", &[]);
    assert_eq!(p.get("K", &[]), "from-keyring");

    // The Secret Service itself holds the key: look it up with libsecret's own tool.
    let id = vault_id(&p);
    let lookup = Command::new("secret-tool")
        .args(["lookup", "service", "ampsecret", "username", &id])
        .output()
        .expect("secret-tool (libsecret-tools) is installed by tests/run.sh");
    let stored = String::from_utf8(lookup.stdout).unwrap();
    let identity: age::x25519::Identity = stored
        .trim()
        .parse()
        .expect("an age key in the Secret Service");
    assert_eq!(identity.to_public().to_string(), recipient(&p));

    // A fresh kernel session keyring has no cached copy: the value comes from the Secret Service.
    let out = p.cmd(&["get", "K"]).stdout("from-keyring").success();
    let mut fresh = Command::new("keyctl");
    fresh
        .args(["session", "-", crate::support::BIN, "get", "K"])
        .env_clear()
        .envs(p.env_map())
        .current_dir(p.root());
    let fresh = fresh.output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&fresh.stdout),
        "from-keyring",
        "{}",
        String::from_utf8_lossy(&fresh.stderr)
    );
    drop(out);

    // Locked: creating a key must fall back to the identity file with a one-line note, fast.
    let lock = Command::new("dbus-send")
        .args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.secrets",
            "/org/freedesktop/secrets",
            "org.freedesktop.Secret.Service.Lock",
            "array:objpath:/org/freedesktop/secrets/collection/login",
        ])
        .output()
        .unwrap();
    assert!(
        lock.status.success(),
        "lock: {}",
        String::from_utf8_lossy(&lock.stderr)
    );
    let locked = Project::new().remove_env("AMPSECRET_NO_KEYRING").env(
        "DBUS_SESSION_BUS_ADDRESS",
        &std::env::var("DBUS_SESSION_BUS_ADDRESS").unwrap(),
    );
    let started = Instant::now();
    // The note says where the key is in plain words; the keyring's own error is a
    // diagnostic for -v.
    let out = locked
        .cmd(&["init", "--app-id", APP_ID])
        .stderr_has(&format!(
            "Created the vault at {}.\nNo OS keyring here; the key is in ",
            locked.vault_dir().display()
        ))
        .success();
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "a locked keyring must not hang"
    );
    assert_eq!(
        out.stderr.matches("identities/").count(),
        1,
        "{}",
        out.stderr
    );
    locked.set("K", "v", &[]);
    assert_eq!(locked.get("K", &[]), "v");
}

#[test]
fn no_secret_service_falls_back_to_a_private_identity_file() {
    // No session bus at all: the situation of containers and CI runners.
    let p = Project::new().remove_env("AMPSECRET_NO_KEYRING");
    let started = Instant::now();
    let out = p
        .cmd(&["init", "--app-id", APP_ID, "--json"])
        .stdout_json()
        .stderr_has("No OS keyring here; the key is in ")
        .success();
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "an absent keyring must not hang"
    );
    assert_eq!(out.json()["key_location"], "file");
    let note: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(note.len(), 1, "one line says so: {note:?}");
    assert!(
        note[0].starts_with("No OS keyring here; the key is in "),
        "{note:?}"
    );
    // Never the raw error of the keyring library.
    assert!(
        !out.stderr.contains("Platform") && !out.stderr.contains("dbus"),
        "{note:?}"
    );
    p.set("K", "v", &[]);
    assert_eq!(p.get("K", &[]), "v");
}
