//! `history` and `rollback` against moto: the vault's versions and SSM's side by side,
//! matched by digest, and earlier values made current again on either side. Never a value
//! on screen.

use crate::support::Project;
use ampsecret_testkit::moto::MotoServer;
use ampsecret_testkit::ssm::{Ssm, unique_app_id};

const VALUES: [&str; 3] = [
    "history-canary-first",
    "history-canary-second",
    "history-canary-third",
];

fn main_parameter(app: &str, name: &str) -> String {
    format!(
        "/amplify/{app}/main-branch-{}/{name}",
        ampsecret::amplify::backend_hash(app, "main")
    )
}

/// Asserts no canary value is anywhere in `text`.
fn no_value(text: &str) {
    for value in VALUES {
        assert!(!text.contains(value), "a value leaked: {text}");
    }
}

/// A project whose secret K was set and pushed three times: three vault versions, three
/// SSM versions.
fn pushed_three_times(moto: &MotoServer) -> (Project, String) {
    let app = unique_app_id();
    let p = Project::with_app(&moto.endpoint(), &app);
    for value in VALUES {
        p.set("K", value, &[]);
        p.cmd(&["push", "--yes"]).stderr_any().success();
    }
    (p, main_parameter(&app, "K"))
}

#[test]
fn three_pushed_versions_appear_in_history_without_values() {
    let moto = MotoServer::start();
    let (p, parameter) = pushed_three_times(&moto);
    let out = p.cmd(&["history", "K", "--json"]).stdout_json().success();
    no_value(&out.stdout);
    let history = out.json();
    assert_eq!(history["name"], "K");
    assert_eq!(history["scope"], "branch:main");
    let versions = |side: &str| -> Vec<u64> {
        history[side]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["version"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(versions("local"), [3, 2, 1], "{history}");
    assert_eq!(versions("remote"), [3, 2, 1], "{history}");
    for (local, remote) in history["local"]
        .as_array()
        .unwrap()
        .iter()
        .zip(history["remote"].as_array().unwrap())
    {
        assert!(!local["by"].as_str().unwrap().is_empty(), "{history}");
        assert!(local["updated"].as_str().unwrap().ends_with('Z'));
        assert_eq!(remote["matches_local"], remote["version"], "{history}");
        assert!(remote["modified"].as_str().unwrap().ends_with('Z'));
        // moto writes "N/A" where SSM writes the IAM ARN of the writer.
        assert!(remote["user"].is_string(), "{history}");
    }

    // A change in SSM made elsewhere has no vault version.
    Ssm::new(&moto.endpoint()).put(&parameter, "history-canary-console");
    let text = p.cmd(&["history", "K"]).stdout_any().success();
    no_value(&text.stdout);
    assert!(!text.stdout.contains("history-canary-console"));
    let lines: Vec<&str> = text.stdout.lines().collect();
    assert_eq!(lines[0], format!("K in branch:main ({parameter})"));
    assert!(
        lines[1].trim_start().starts_with("VAULT"),
        "{}",
        text.stdout
    );
    assert!(
        lines[2].contains("v4  ") && lines[2].ends_with("no vault version"),
        "{}",
        text.stdout
    );
    assert!(lines[2].trim_start().starts_with("v3  ") && lines[2].contains("current"));
    for (line, version) in lines[3..].iter().zip([3, 2, 1]) {
        assert!(
            line.ends_with(&format!("= vault v{version}")),
            "{}",
            text.stdout
        );
    }
    // --local asks SSM nothing: it works with no endpoint at all.
    let local = p
        .cmd(&["history", "K", "--local", "--json"])
        .env("AWS_ENDPOINT_URL_SSM", "http://127.0.0.1:1")
        .stdout_json()
        .success()
        .json();
    assert_eq!(local["local"].as_array().unwrap().len(), 3);
    assert_eq!(local["remote"], serde_json::json!([]));
    p.cmd(&["history", "NOPE", "--local"])
        .stderr_has("no secret NOPE in branch:main")
        .fails(3);
}

#[test]
fn rollback_restores_the_first_value_locally_then_in_ssm() {
    let moto = MotoServer::start();
    let ssm = Ssm::new(&moto.endpoint());
    let (p, parameter) = pushed_three_times(&moto);

    // Without a terminal it needs --yes; a dry run changes nothing.
    let before = p.snapshot();
    p.cmd(&["rollback", "K", "--to", "1"])
        .stderr_has("rollback asks for confirmation")
        .fails(2);
    p.cmd(&["rollback", "K", "--to", "1", "--dry-run"])
        .stderr("Roll K in branch:main back to version 1: its value becomes version 4 (a local change; 'ampsecret push' publishes it).\n")
        .success();
    p.cmd(&["rollback", "K", "--to", "9", "--yes"])
        .stderr_has("K in branch:main has no earlier version 9: the vault keeps versions 3, 2, 1")
        .fails(3);
    assert!(before == p.snapshot(), "nothing changed");

    let out = p
        .cmd(&["rollback", "K", "--to", "1", "--yes"])
        .stderr(
            "Roll K in branch:main back to version 1: its value becomes version 4 (a local change; 'ampsecret push' publishes it).\n\
             K in branch:main is now version 4, with the value of version 1.\n",
        )
        .success();
    no_value(&out.stderr);
    assert_eq!(p.get("K", &[]), VALUES[0]);
    assert_eq!(
        ssm.value(&parameter).as_deref(),
        Some(VALUES[2]),
        "SSM untouched"
    );

    // --remote: SSM's version 1, read as name:1, becomes SSM's version 4; the vault already
    // holds it, and both sides now agree.
    let out = p
        .cmd(&["rollback", "K", "--to", "1", "--remote", "--yes", "--json"])
        .stdout_json()
        .stderr_any()
        .success();
    no_value(&format!("{}{}", out.stdout, out.stderr));
    let report = out.json();
    assert_eq!(report["remote"]["from"], 3);
    assert_eq!(report["remote"]["version"], 4);
    assert_eq!(report["version"], serde_json::Value::Null, "{report}");
    assert_eq!(ssm.value(&parameter).as_deref(), Some(VALUES[0]));
    assert_eq!(
        ssm.history(&parameter).len(),
        4,
        "a new SSM version, not a rewrite"
    );
    p.cmd(&["diff", "--exit-code"])
        .stdout_any()
        .stderr_any()
        .success();

    // SSM's version 2 the same way, this time the vault takes a new version too.
    let out = p
        .cmd(&["rollback", "K", "--to", "2", "--remote", "--yes"])
        .stderr_any()
        .success();
    no_value(&out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "Wrote SSM's version 2 of {parameter} as version 5.\n"
        )) && out
            .stderr
            .contains("K in branch:main is now version 5, with the value of SSM's version 2.\n"),
        "{}",
        out.stderr
    );
    assert_eq!(p.get("K", &[]), VALUES[1]);
    assert_eq!(ssm.value(&parameter).as_deref(), Some(VALUES[1]));
    p.cmd(&["diff", "--exit-code"])
        .stdout_any()
        .stderr_any()
        .success();
    p.cmd(&["rollback", "K", "--to", "7", "--remote", "--yes"])
        .stderr_has(&format!("SSM has no version 7 of {parameter}"))
        .fails(3);
}

#[test]
fn rollback_shows_its_plan_and_asks_on_a_terminal() {
    use crate::prompts::{finish, pty};
    let moto = MotoServer::start();
    let (p, parameter) = pushed_three_times(&moto);
    let answer = |s: &mut rexpect::session::PtySession, key: &str| {
        s.exp_string("Roll back?").unwrap();
        s.exp_string("[y/N]").unwrap();
        s.send(key).unwrap();
        s.flush().unwrap();
    };

    // "no" changes nothing.
    let mut s = pty(&p, &["rollback", "K", "--to", "1"]);
    s.exp_string("Roll K in branch:main back to version 1: its value becomes version 4")
        .unwrap();
    answer(&mut s, "n");
    let (code, rest) = finish(s);
    assert_eq!(code, 130, "{rest}");
    no_value(&rest);
    assert_eq!(p.get("K", &[]), VALUES[2]);

    // "yes" rolls SSM back to its first version, and the vault with it.
    let mut s = pty(&p, &["rollback", "K", "--to", "1", "--remote"]);
    s.exp_string(&format!(
        "Roll {parameter} back to SSM's version 1: written as SSM version 4"
    ))
    .unwrap();
    answer(&mut s, "y");
    let (code, rest) = finish(s);
    assert_eq!(code, 0, "{rest}");
    no_value(&rest);
    assert_eq!(
        Ssm::new(&moto.endpoint()).value(&parameter).as_deref(),
        Some(VALUES[0])
    );
    assert_eq!(p.get("K", &[]), VALUES[0]);
}
