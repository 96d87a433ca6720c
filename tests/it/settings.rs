//! `config set` against a careless hand and a concurrent writer: a tag named like a secret is
//! refused without repeating the value, a lower history depth drops old values at once, a
//! change that changes nothing leaves the file alone, and a member added while a setting
//! changes keeps both.

use crate::support::Project;
use std::process::Command;
use std::time::Duration;

#[test]
fn a_tag_named_like_a_secret_is_refused_without_repeating_the_value() {
    let p = Project::initialized();
    p.set("STRIPE_KEY", "sk_live_stored", &[]);
    let file = p.vault_dir().join("config.toml");
    let before = std::fs::read(&file).unwrap();
    let out = p
        .cmd(&["config", "set", "tags.STRIPE_KEY", "sk_live_51Habc"])
        .stderr(
            "error: STRIPE_KEY is a secret in branch:main: a tag's value is public (committed in config.toml and shown on every parameter), so it was not set; to store a secret, run 'ampsecret set STRIPE_KEY'\n",
        )
        .fails(2);
    assert!(!out.stderr.contains("sk_live_51Habc"));
    assert_eq!(
        std::fs::read(&file).unwrap(),
        before,
        "config.toml unchanged"
    );
    // A tag of another name is taken.
    p.cmd(&["config", "set", "tags.team", "web"])
        .stderr_any()
        .success();
}

#[test]
fn a_lower_history_depth_drops_old_values_at_once() {
    let p = Project::initialized();
    for value in ["pasted-by-mistake", "v2", "v3"] {
        p.set("DB_PASSWORD", value, &[]);
    }
    let versions = |p: &Project| {
        let json = p
            .cmd(&["history", "DB_PASSWORD", "--local", "--json"])
            .stdout_json()
            .success()
            .json();
        json["local"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["version"].as_u64().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(versions(&p), [3, 2, 1]);
    p.cmd(&["config", "set", "history", "2"])
        .stderr_any()
        .success();
    assert_eq!(versions(&p), [3, 2], "version 1 is gone from vault.age now");
    p.cmd(&["get", "DB_PASSWORD"]).stdout("v3").success();
}

#[test]
fn a_setting_that_changes_nothing_leaves_the_file_and_its_comments_alone() {
    let p = Project::initialized();
    let file = p.vault_dir().join("config.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    let commented = format!("{text}# keep ten versions: audit asked for it\n");
    std::fs::write(&file, &commented).unwrap();
    p.cmd(&["config", "set", "history", "10"])
        .stderr("history is already 10; nothing changed.\n")
        .success();
    assert_eq!(std::fs::read_to_string(&file).unwrap(), commented);
}

#[test]
fn a_member_added_while_a_setting_changes_keeps_both() {
    let p = Project::initialized();
    p.set("K", "v", &[]);
    let bob = age::x25519::Identity::generate().to_public().to_string();
    let dir = p.vault_dir();
    // Any writer holding the lock: both commands below open the vault, then wait for it.
    let mut holder = Command::new("flock")
        .arg("-x")
        .arg(&dir)
        .args(["-c", "sleep 2"])
        .spawn()
        .expect("flock runs");
    std::thread::sleep(Duration::from_millis(300));
    std::thread::scope(|s| {
        s.spawn(|| {
            p.cmd(&["recipients", "add", &bob, "--name", "bob"])
                .stderr_any()
                .success()
        });
        std::thread::sleep(Duration::from_millis(600));
        s.spawn(|| {
            p.cmd(&["config", "set", "history", "3"])
                .stderr_any()
                .success()
        });
    });
    assert!(holder.wait().unwrap().success());
    let text = std::fs::read_to_string(dir.join("config.toml")).unwrap();
    assert!(
        text.contains("history = 3") && text.contains(&bob),
        "{text}"
    );
}

#[test]
fn a_forged_app_id_or_tag_is_refused_when_the_vault_opens_and_config_set_repairs_it() {
    let p = Project::initialized();
    p.set("K", "v", &[]);
    let file = p.vault_dir().join("config.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    let forged = text.replace("app_id = \"", "app_id = \"d1\\u001b]0;PWNED\\u0007");
    assert_ne!(forged, text);
    std::fs::write(&file, &forged).unwrap();
    let out = p.cmd(&["get", "K"]).stderr_any().fails(4);
    assert!(
        out.stderr
            .contains("fix it with 'ampsecret config set app_id ID'")
            && !out.stderr.contains('\u{1b}'),
        "{out:?}"
    );
    p.cmd(&["config", "set", "app_id", "d1a2b3c4d5e6f7"])
        .stderr_any()
        .success();
    p.cmd(&["get", "K"]).stdout("v").success();
    let tagged = format!("{text}[tags]\nteam = \"v\\r\\nfake line\"\n");
    std::fs::write(&file, &tagged).unwrap();
    p.cmd(&["get", "K"])
        .stderr_has("fix it with 'ampsecret config unset tags.team'")
        .fails(4);
    p.cmd(&["config", "unset", "tags.team"])
        .stderr_any()
        .success();
    p.cmd(&["get", "K"]).stdout("v").success();
}

#[test]
fn unsetting_a_deeper_history_drops_what_the_default_does_not_keep() {
    let p = Project::initialized();
    p.cmd(&["config", "set", "history", "20"])
        .stderr_any()
        .success();
    for version in 1..=12 {
        p.set("TOKEN", &format!("value-{version}"), &[]);
    }
    let kept = |p: &Project| {
        p.cmd(&["history", "TOKEN", "--local", "--json"])
            .stdout_json()
            .success()
            .json()["local"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(kept(&p), 12);
    p.cmd(&["config", "unset", "history"])
        .stderr_any()
        .success();
    assert_eq!(kept(&p), 10, "the default keeps 10 versions");
}
