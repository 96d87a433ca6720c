//! push, pull and diff against a real SSM-compatible server (moto), directly and through a
//! fault proxy that behaves like real SSM: batch and value limits, throttling, 5xx, drops.

use crate::support::{Project, json_error, ssm_line};
use ampsecret_testkit::fault_proxy::{FaultConfig, FaultProxy};
use ampsecret_testkit::moto::MotoServer;
use ampsecret_testkit::ssm::{Ssm, unique_app_id};

fn branch_prefix(app: &str, branch: &str) -> String {
    let h = ampsecret::amplify::backend_hash(app, branch);
    format!(
        "/amplify/{app}/{}-branch-{h}",
        ampsecret::amplify::sanitize(branch)
    )
}

#[test]
fn push_writes_exactly_what_amplify_writes() {
    let moto = MotoServer::start();
    let app = unique_app_id();
    let p = Project::with_app(&moto.endpoint(), &app);
    let ssm = Ssm::new(&moto.endpoint());
    p.set(
        "API_KEY",
        "branch ✓ value\nline two",
        &["--branch", "feature/login"],
    );
    p.set("STRIPE_KEY", "shared-value", &["--shared"]);
    p.set("SANDBOXED", "sandbox-value", &["--sandbox=alice"]);
    p.set("BIG", &"x".repeat(5000), &["--branch", "feature/login"]);
    let login = branch_prefix(&app, "feature/login");
    let unknown = ssm_line(&moto.endpoint(), false);
    p.cmd(&["push", "--yes", "--branch", "feature/login"])
        .stderr(format!(
            "{unknown}Plan for {login} (branch:feature/login):\n\
             \x20 + API_KEY  create (new)\n\
             \x20 + BIG      create (new); Advanced tier: value over 4 KB\n\
             Applied 2 changes to {login}: 2 created.\n"
        ))
        .success();
    p.cmd(&["push", "--yes", "--shared"])
        .stderr(format!(
            "{unknown}Plan for /amplify/shared/{app} (shared):\n\
             \x20 + STRIPE_KEY  create (new)\n\
             Applied 1 change to /amplify/shared/{app}: 1 created.\n"
        ))
        .success();
    let alice = format!(
        "/amplify/myapp/alice-sandbox-{}",
        ampsecret::amplify::backend_hash("my-app", "alice")
    );
    p.cmd(&["push", "--yes", "--sandbox=alice"])
        .stderr(format!(
            "{unknown}Plan for {alice} (sandbox:alice):\n\
             \x20 + SANDBOXED  create (new)\n\
             Applied 1 change to {alice}: 1 created.\n"
        ))
        .success();

    let branch = format!("{}/API_KEY", branch_prefix(&app, "feature/login"));
    assert_eq!(
        ssm.value(&branch).as_deref(),
        Some("branch ✓ value\nline two")
    );
    assert_eq!(
        ssm.value(&format!("/amplify/shared/{app}/STRIPE_KEY"))
            .as_deref(),
        Some("shared-value")
    );
    let sandbox = format!(
        "/amplify/myapp/alice-sandbox-{}/SANDBOXED",
        ampsecret::amplify::backend_hash("my-app", "alice")
    );
    assert_eq!(ssm.value(&sandbox).as_deref(), Some("sandbox-value"));

    let meta = ssm.describe(&branch);
    assert_eq!(meta.r#type().map(|t| t.as_str()), Some("SecureString"));
    assert_eq!(meta.description(), Some("Amplify Secret"));
    assert_eq!(meta.tier().map(|t| t.as_str()), Some("Standard"));
    assert_eq!(
        meta.key_id(),
        Some("alias/aws/ssm"),
        "no KeyId sent: the account default"
    );
    let big = ssm.describe(&format!("{}/BIG", branch_prefix(&app, "feature/login")));
    assert_eq!(
        big.tier().map(|t| t.as_str()),
        Some("Advanced"),
        "values over 4 KB need Advanced"
    );
    // Nothing else was written anywhere under /amplify for this app.
    assert_eq!(ssm.names_under(&format!("/amplify/{app}")).len(), 2);
}

#[test]
fn unchanged_push_makes_no_writes_and_leaves_the_vault_alone() {
    let moto = MotoServer::start();
    let proxy = FaultProxy::start(moto.addr(), FaultConfig::default());
    let p = Project::with_app(&proxy.endpoint(), &unique_app_id());
    for i in 0..25 {
        p.set(&format!("KEY_{i}"), &format!("value-{i}"), &[]);
    }
    let first = p
        .cmd(&["push", "--yes", "--json"])
        .stdout_json()
        .success()
        .json();
    assert_eq!(first["applied"].as_array().unwrap().len(), 25);
    assert_eq!(proxy.stats().op("PutParameter").forwarded, 25);

    let vault_before = std::fs::read(p.vault_dir().join("vault.age")).unwrap();
    let second = p
        .cmd(&["push", "--yes", "--json"])
        .stdout_json()
        .success()
        .json();
    assert_eq!(second["applied"].as_array().unwrap().len(), 0);
    assert_eq!(second["api_calls"]["PutParameter"], serde_json::Value::Null);
    let stats = proxy.stats();
    assert_eq!(
        stats.op("PutParameter").total(),
        25,
        "no write on an unchanged push"
    );
    let reads = stats.op("GetParametersByPath").forwarded;
    assert!(
        reads >= 4 && reads.is_multiple_of(2),
        "both pushes paged through the prefix alike: {reads}"
    );
    assert_eq!(stats.total().total(), 25 + reads, "and made no other call");
    assert_eq!(
        std::fs::read(p.vault_dir().join("vault.age")).unwrap(),
        vault_before
    );
}

#[test]
fn pull_reads_only_the_scope_and_records_versions() {
    let moto = MotoServer::start();
    let app = unique_app_id();
    let ssm = Ssm::new(&moto.endpoint());
    let prefix = branch_prefix(&app, "main");
    for i in 0..23 {
        ssm.put(
            &format!("{prefix}/REMOTE_{i}"),
            &format!("remote ünïcode {i}\n$HOME 'q' \"d\""),
        );
    }
    ssm.put(&format!("{prefix}/nested/DEEPER"), "not a direct child");
    ssm.put(
        &format!("{}/OTHER_BRANCH", branch_prefix(&app, "dev")),
        "other branch",
    );
    ssm.put(&format!("/amplify/shared/{app}/SHARED"), "shared");
    let p = Project::with_app(&moto.endpoint(), &app);
    let report = p
        .cmd(&["pull", "--yes", "--json"])
        .stdout_json()
        .success()
        .json();
    assert_eq!(report["stored"].as_array().unwrap().len(), 23);
    assert_eq!(p.get("REMOTE_7", &[]), "remote ünïcode 7\n$HOME 'q' \"d\"");
    let names = p
        .cmd(&["list", "--all", "--json"])
        .stdout_json()
        .success()
        .json();
    assert_eq!(
        names.as_array().unwrap().len(),
        23,
        "only direct children of the branch prefix"
    );
    // Pulled secrets are in sync: diff shows nothing to do, push writes nothing.
    let diff = p.cmd(&["diff", "--json"]).stdout_json().success().json();
    assert!(
        diff["secrets"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["status"] == "unchanged")
    );
    let push = p
        .cmd(&["push", "--yes", "--json"])
        .stdout_json()
        .success()
        .json();
    assert!(push["applied"].as_array().unwrap().is_empty());
    // A pull with nothing new leaves the (committed) vault file untouched.
    let vault_before = std::fs::read(p.vault_dir().join("vault.age")).unwrap();
    p.cmd(&["pull", "--yes"])
        .stderr(format!(
            "{}Nothing to pull: the vault's branch:main matches {prefix}.\n",
            ssm_line(&moto.endpoint(), true),
        ))
        .success();
    let vault_after = std::fs::read(p.vault_dir().join("vault.age")).unwrap();
    assert!(
        vault_after == vault_before,
        "a no-op pull rewrote vault.age"
    );
}

#[test]
fn conflicts_are_never_silently_overwritten() {
    let moto = MotoServer::start();
    let app = unique_app_id();
    let ssm = Ssm::new(&moto.endpoint());
    let p = Project::with_app(&moto.endpoint(), &app);
    let prefix = branch_prefix(&app, "main");
    let name = format!("{prefix}/K");
    let known = ssm_line(&moto.endpoint(), true);
    p.set("K", "v1", &[]);
    p.cmd(&["push", "--yes"])
        .stderr(format!(
            "{}Plan for {prefix} (branch:main):\n\
             \x20 + K  create (new)\n\
             Applied 1 change to {prefix}: 1 created.\n",
            ssm_line(&moto.endpoint(), false),
        ))
        .success();

    // Changed in SSM only: push refuses, pull brings it in.
    ssm.put(&name, "remote-v2");
    let diff = p.cmd(&["diff", "--json"]).stdout_json().success().json();
    assert_eq!(diff["secrets"][0]["status"], "changed_there");
    let before = p.snapshot();
    p.cmd(&["push", "--yes"])
        .stderr_has("--keep-local")
        .fails(8);
    assert_eq!(ssm.value(&name).as_deref(), Some("remote-v2"));
    assert!(before == p.snapshot());
    p.cmd(&["pull", "--yes"])
        .stderr(format!(
            "{known}Plan for branch:main from {prefix}:\n\
             \x20 ~ K  update (changed in SSM)\n\
             Applied 1 change to branch:main from {prefix}: 1 updated.\n"
        ))
        .success();
    assert_eq!(p.get("K", &[]), "remote-v2");

    // Changed on both sides: both directions refuse without a decision.
    p.set("K", "local-v3", &[]);
    ssm.put(&name, "remote-v3");
    assert_eq!(
        p.cmd(&["diff", "--json"]).stdout_json().success().json()["secrets"][0]["status"],
        "conflict"
    );
    for (args, direction) in [(&["push", "--yes"][..], "pushing"), (&["pull"], "pulling")] {
        p.cmd(args)
            .stderr(format!(
                "error: K needs a decision before {direction} (changed on both sides); \
                 pass --keep-local, --keep-remote or --force; nothing was changed\n"
            ))
            .fails(8);
    }
    assert_eq!(p.get("K", &[]), "local-v3");
    assert_eq!(ssm.value(&name).as_deref(), Some("remote-v3"));

    // Decisions do what they say: keep-remote on push stores SSM's value in the vault, so
    // both sides agree; keep-local pushes; pull --force takes SSM.
    p.cmd(&["push", "--yes", "--keep-remote"])
        .stderr(format!(
            "{known}Plan for {prefix} (branch:main):\n\
             \x20 < K  keep SSM's value: store it in the vault (changed on both sides)\n\
             Applied 1 change to {prefix}: 1 stored in the vault.\n"
        ))
        .success();
    assert_eq!(ssm.value(&name).as_deref(), Some("remote-v3"));
    assert_eq!(p.get("K", &[]), "remote-v3");
    p.cmd(&["diff", "--exit-code"])
        .stdout(format!("{prefix} (branch:main)\n  = K  unchanged\n"))
        .stderr(known.clone())
        .success();
    p.set("K", "local-v3", &[]);
    ssm.put(&name, "remote-v3b");
    p.cmd(&["push", "--yes", "--keep-local"])
        .stderr(format!(
            "{known}Plan for {prefix} (branch:main):\n\
             \x20 ~ K  update (changed on both sides)\n\
             Applied 1 change to {prefix}: 1 updated.\n"
        ))
        .success();
    assert_eq!(ssm.value(&name).as_deref(), Some("local-v3"));
    ssm.put(&name, "remote-v4");
    p.set("K", "local-v4", &[]);
    p.cmd(&["pull", "--force", "--yes"])
        .stderr(format!(
            "{known}Plan for branch:main from {prefix}:\n\
             \x20 ~ K  update (changed on both sides)\n\
             Applied 1 change to branch:main from {prefix}: 1 updated.\n"
        ))
        .success();
    assert_eq!(p.get("K", &[]), "remote-v4");
}

#[test]
fn prune_deletes_only_inside_the_prefix_and_only_when_confirmed() {
    let moto = MotoServer::start();
    let app = unique_app_id();
    let ssm = Ssm::new(&moto.endpoint());
    let prefix = branch_prefix(&app, "main");
    for i in 0..12 {
        ssm.put(&format!("{prefix}/STALE_{i}"), "stale");
    }
    let outside = [
        format!("{prefix}/nested/CHILD"),
        format!("{}/STALE_0", branch_prefix(&app, "dev")),
        format!("/amplify/shared/{app}/STALE_0"),
        format!("{prefix}extra/STALE_0"),
    ];
    for name in &outside {
        ssm.put(name, "keep me");
    }
    let p = Project::with_app(&moto.endpoint(), &app);
    p.set("KEEP", "k", &[]);
    p.cmd(&["push", "--prune"]).stderr_has("--yes").fails(2);
    assert_eq!(ssm.names_under(&prefix).len(), 13);
    let stale: String = [0, 1, 10, 11, 2, 3, 4, 5, 6, 7, 8, 9]
        .iter()
        .map(|i| format!("  - {:8}  delete (only in SSM)\n", format!("STALE_{i}")))
        .collect();
    p.cmd(&["push", "--prune", "--dry-run"])
        .stderr(format!(
            "{}Plan for {prefix} (branch:main):\n  + KEEP      create (new)\n{stale}\
             Dry run: 13 changes planned for {prefix} (1 to create, 12 to delete); nothing \
             was changed.\n",
            ssm_line(&moto.endpoint(), true),
        ))
        .success();
    assert_eq!(
        ssm.names_under(&prefix).len(),
        13,
        "a dry run deletes nothing"
    );
    let report = p
        .cmd(&["push", "--prune", "--yes", "--json"])
        .stdout_json()
        .success()
        .json();
    let deleted = report["applied"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["action"] == "delete")
        .count();
    assert_eq!(deleted, 12);
    assert_eq!(
        ssm.names_under(&prefix),
        vec![format!("{prefix}/KEEP"), format!("{prefix}/nested/CHILD")]
    );
    for name in &outside {
        assert_eq!(ssm.value(name).as_deref(), Some("keep me"), "{name}");
    }
}

#[test]
fn dry_run_changes_nothing() {
    let moto = MotoServer::start();
    let proxy = FaultProxy::start(moto.addr(), FaultConfig::default());
    let p = Project::with_app(&proxy.endpoint(), &unique_app_id());
    p.set("K", "v", &[]);
    let before = p.snapshot();
    let report = p
        .cmd(&["push", "--dry-run", "--json"])
        .stdout_json()
        .success()
        .json();
    assert_eq!(report["planned"][0]["name"], "K");
    assert_eq!(proxy.stats().op("PutParameter").total(), 0);
    assert!(before == p.snapshot());
}

#[test]
fn two_hundred_secrets_land_exactly_through_heavy_throttling() {
    let moto = MotoServer::start();
    let config = FaultConfig {
        seed: 7,
        throttle_fraction: 0.2,
        ..FaultConfig::default()
    };
    let proxy = FaultProxy::start(moto.addr(), config);
    let app = unique_app_id();
    let p = Project::with_app(&proxy.endpoint(), &app);
    write_secrets(&p, 200);
    let report = p
        .cmd(&[
            "push",
            "--yes",
            "--json",
            "--max-tps",
            "200",
            "--concurrency",
            "8",
        ])
        .stdout_json()
        .success()
        .json();
    assert_eq!(report["applied"].as_array().unwrap().len(), 200);
    assert!(report["failed"].as_array().unwrap().is_empty());
    let stats = proxy.stats();
    assert!(
        stats.op("PutParameter").throttled > 20,
        "throttling was exercised: {stats:?}"
    );
    let ssm = Ssm::new(&moto.endpoint());
    let prefix = branch_prefix(&app, "main");
    let names = ssm.names_under(&prefix);
    assert_eq!(names.len(), 200);
    for i in [0, 57, 199] {
        assert_eq!(
            ssm.value(&format!("{prefix}/SECRET_{i:03}")).unwrap(),
            format!("value {i} \u{1F511}")
        );
    }
}

/// Stores SECRET_000… with distinct values (quickly, through the library).
fn write_secrets(p: &Project, n: usize) {
    p.bulk_set((0..n).map(|i| (format!("SECRET_{i:03}"), format!("value {i} \u{1F511}"))));
}

#[test]
fn a_small_write_budget_is_respected_with_no_failed_write() {
    let moto = MotoServer::start();
    let config = FaultConfig {
        write_budget_tps: Some(3.0),
        ..FaultConfig::default()
    };
    let proxy = FaultProxy::start(moto.addr(), config);
    let p = Project::with_app(&proxy.endpoint(), &unique_app_id());
    write_secrets(&p, 24);
    let report = p
        .cmd(&["push", "--yes", "--json", "--max-tps", "40"])
        .stdout_json()
        .success()
        .json();
    assert_eq!(report["applied"].as_array().unwrap().len(), 24);
    assert!(report["failed"].as_array().unwrap().is_empty());
    let stats = proxy.stats();
    stats.check_write_budget(3.0).unwrap();
    // The achieved rate against the budget is measured by the benchmark (benches/ssm.rs).
    assert_eq!(stats.write_times.len(), 24);
}

#[test]
fn transient_failures_are_retried_until_everything_lands() {
    let moto = MotoServer::start();
    let config = FaultConfig {
        seed: 3,
        error_5xx_fraction: 0.25,
        drop_fraction: 0.1,
        ..FaultConfig::default()
    };
    let proxy = FaultProxy::start(moto.addr(), config);
    let app = unique_app_id();
    let p = Project::with_app(&proxy.endpoint(), &app);
    write_secrets(&p, 40);
    let report = p
        .cmd(&["push", "--yes", "--json", "--max-tps", "100"])
        .stdout_json()
        .success()
        .json();
    assert_eq!(report["applied"].as_array().unwrap().len(), 40);
    let stats = proxy.stats().total();
    assert!(stats.injected_5xx > 0 && stats.dropped > 0, "{stats:?}");
    assert_eq!(
        Ssm::new(&moto.endpoint())
            .names_under(&branch_prefix(&app, "main"))
            .len(),
        40
    );
}

#[test]
fn a_partial_failure_names_what_was_not_applied_and_a_rerun_converges() {
    let moto = MotoServer::start();
    let proxy = FaultProxy::start(moto.addr(), FaultConfig::default());
    let app = unique_app_id();
    let p = Project::with_app(&proxy.endpoint(), &app);
    p.set("SMALL_1", "a", &[]);
    p.set("SMALL_2", "b", &[]);
    p.set("HUGE", &"h".repeat(6000), &[]);
    // Forcing the Standard tier makes SSM (the proxy) refuse the 6 KB value only.
    let out = p
        .cmd(&["push", "--yes", "--tier", "standard", "--json"])
        .stdout_json()
        .stderr(json_error(
            7,
            "partial",
            "1 of 3 changes failed (HUGE); the rest were applied; re-run to retry",
        ))
        .fails(7);
    let report = out.json();
    assert_eq!(report["failed"][0]["name"], "HUGE");
    assert!(
        report["failed"][0]["error"]
            .as_str()
            .unwrap()
            .contains("ValidationException")
    );
    assert_eq!(report["applied"].as_array().unwrap().len(), 2);
    assert!(out.stderr.contains("HUGE") && !out.stderr.contains("hhhh"));
    let report = p
        .cmd(&["push", "--yes", "--json"])
        .stdout_json()
        .success()
        .json();
    assert_eq!(
        report["applied"].as_array().unwrap().len(),
        1,
        "only what failed is retried"
    );
    assert_eq!(report["applied"][0]["name"], "HUGE");
}

#[test]
fn unreachable_ssm_is_a_remote_error_that_changes_nothing() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let app = unique_app_id();
    let p = Project::with_app(&format!("http://{closed}"), &app);
    p.set("K", "v", &[]);
    let before = p.snapshot();
    let cannot_read = format!(
        "error: cannot read {} from SSM: endpoint unreachable: http://{closed} (connection refused); check the network, --region or AWS_ENDPOINT_URL_SSM",
        branch_prefix(&app, "main")
    );
    p.cmd(&["push", "--yes"])
        .stderr_has(&cannot_read)
        .stderr_has("; nothing was changed\n")
        .fails(6);
    p.cmd(&["pull"])
        .stderr_has(&cannot_read)
        .stderr_has("; nothing was changed\n")
        .fails(6);
    assert!(before == p.snapshot());
    p.cmd(&["diff"])
        .env_remove("AWS_REGION")
        .stderr_has("--region")
        .fails(6);
}

#[test]
fn sync_commands_never_print_values() {
    const CANARY: &str = "sync-canary-51c0ffee";
    let moto = MotoServer::start();
    let app = unique_app_id();
    let p = Project::with_app(&moto.endpoint(), &app);
    p.set("LEAKY", CANARY, &[]);
    // Each command must succeed and do its job, or a failure could hide a leak. stderr is
    // -vvv diagnostics (with timestamps), checked for the canary below.
    let quiet = |args: &[&str]| p.cmd(args).stderr_any();
    let prefix = branch_prefix(&app, "main");
    let diff = quiet(&["-vvv", "diff"])
        .stdout(format!(
            "{prefix} (branch:main)\n  + LEAKY  only in the vault\n"
        ))
        .success();
    let push = quiet(&["-vvv", "push", "--yes"]).success();
    let name = format!("{prefix}/LEAKY");
    assert_eq!(
        Ssm::new(&moto.endpoint()).value(&name).as_deref(),
        Some(CANARY),
        "the push ran"
    );
    let push_json = quiet(&["-vvv", "push", "--yes", "--json"])
        .stdout_json()
        .success();
    assert_eq!(push_json.json()["applied"], serde_json::json!([]));
    let pull_json = quiet(&["-vvv", "pull", "--yes", "--json"])
        .stdout_json()
        .success();
    assert_eq!(pull_json.json()["stored"], serde_json::json!([]));
    let diff_json = quiet(&["-vvv", "diff", "--json"]).stdout_json().success();
    assert_eq!(diff_json.json()["secrets"][0]["name"], "LEAKY");
    assert_eq!(diff_json.json()["secrets"][0]["status"], "unchanged");
    for out in [diff, push, push_json, pull_json, diff_json] {
        assert!(
            !out.stdout.contains(CANARY) && !out.stderr.contains(CANARY),
            "{out:?}"
        );
    }
}

#[test]
fn a_local_remove_is_deleted_by_push_and_never_restored_by_pull() {
    let moto = MotoServer::start();
    let app = unique_app_id();
    let ssm = Ssm::new(&moto.endpoint());
    let p = Project::with_app(&moto.endpoint(), &app);
    let prefix = branch_prefix(&app, "main");
    let known = ssm_line(&moto.endpoint(), true);
    p.set("STRIPE_WEBHOOK_SECRET", "whsec", &[]);
    p.set("KEEP", "kept", &[]);
    p.cmd(&["push", "--yes"]).stderr_any().success();

    p.cmd(&["remove", "STRIPE_WEBHOOK_SECRET", "--yes"])
        .stderr(
            "Removed STRIPE_WEBHOOK_SECRET from branch:main.\n\
             It is still in SSM: the next 'ampsecret push' deletes it there.\n",
        )
        .success();
    let diff = p.cmd(&["diff", "--json"]).stdout_json().success().json();
    assert_eq!(diff["secrets"][1]["name"], "STRIPE_WEBHOOK_SECRET");
    assert_eq!(diff["secrets"][1]["status"], "removed_here");
    // pull does not bring it back, and says so.
    p.cmd(&["pull", "--yes"])
        .stderr(format!(
            "{known}Plan for branch:main from {prefix}:\n\
             \x20 = STRIPE_WEBHOOK_SECRET  kept removed here (--keep-remote brings it back; push \
             deletes it from SSM)\n\
             Nothing to pull: the vault's branch:main matches {prefix}.\n"
        ))
        .success();
    p.cmd(&["get", "STRIPE_WEBHOOK_SECRET"])
        .stderr_any()
        .fails(3);
    // push deletes it from SSM, then forgets it.
    p.cmd(&["push", "--yes"])
        .stderr(format!(
            "{known}Plan for {prefix} (branch:main):\n\
             \x20 - STRIPE_WEBHOOK_SECRET  delete (removed here)\n\
             Applied 1 change to {prefix}: 1 deleted.\n"
        ))
        .success();
    assert_eq!(ssm.value(&format!("{prefix}/STRIPE_WEBHOOK_SECRET")), None);
    assert_eq!(
        ssm.value(&format!("{prefix}/KEEP")).as_deref(),
        Some("kept")
    );
    p.cmd(&["diff", "--exit-code"])
        .stdout(format!("{prefix} (branch:main)\n  = KEEP  unchanged\n"))
        .stderr(known.clone())
        .success();

    // A delete in SSM of a synced secret shows as removed there, and pull removes it here.
    ssm.delete(&format!("{prefix}/KEEP"));
    let diff = p.cmd(&["diff", "--json"]).stdout_json().success().json();
    assert_eq!(diff["secrets"][0]["status"], "deleted_remote");
    p.cmd(&["pull", "--yes"])
        .stderr(format!(
            "{}Plan for branch:main from {prefix}:\n\
             \x20 - KEEP  delete from the vault (removed in SSM since the last sync)\n\
             Applied 1 change to branch:main from {prefix}: 1 deleted.\n",
            ssm_line(&moto.endpoint(), false),
        ))
        .success();
    p.cmd(&["get", "KEEP"]).stderr_any().fails(3);
}

#[test]
fn diff_exit_code_tells_in_sync_from_differences_from_conflicts() {
    let moto = MotoServer::start();
    let app = unique_app_id();
    let ssm = Ssm::new(&moto.endpoint());
    let p = Project::with_app(&moto.endpoint(), &app);
    let prefix = branch_prefix(&app, "main");
    p.set("K", "v1", &[]);
    // Differences: only in the vault.
    p.cmd(&["diff", "--exit-code"])
        .stdout_any()
        .stderr_any()
        .fails(9);
    p.cmd(&["push", "--yes"]).stderr_any().success();
    p.cmd(&["diff", "--exit-code"])
        .stdout_any()
        .stderr_any()
        .success();
    // A conflict: both sides changed K.
    p.set("K", "v2", &[]);
    ssm.put(&format!("{prefix}/K"), "v3");
    p.cmd(&["diff", "--exit-code", "--json"])
        .stdout_json()
        .fails(8);
    // Without --exit-code, diff reports and succeeds.
    p.cmd(&["diff"]).stdout_any().stderr_any().success();
}

#[test]
fn an_interrupted_push_reports_what_landed_and_a_rerun_writes_exactly_the_rest() {
    use std::io::Read;
    let moto = MotoServer::start();
    let config = FaultConfig {
        write_budget_tps: Some(3.0),
        ..FaultConfig::default()
    };
    let proxy = FaultProxy::start(moto.addr(), config);
    let p = Project::with_app(&proxy.endpoint(), &unique_app_id());
    write_secrets(&p, 24);
    let mut child = p
        .cmd(&["push", "--yes", "--json"])
        .into_command()
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Two seconds in, at 3 writes/s: some writes landed, most did not.
    std::thread::sleep(std::time::Duration::from_secs(2));
    let pid = i32::try_from(child.id()).unwrap();
    assert!(
        std::process::Command::new("kill")
            .args(["-INT", &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
    let (mut stdout, mut stderr) = (String::new(), String::new());
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(7), "exit 7, not 130: {stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let applied = report["applied"].as_array().unwrap().len();
    let not_applied = report["not_applied"].as_array().unwrap().len();
    assert!(applied > 0 && not_applied > 0, "{report}");
    assert_eq!(applied + not_applied, 24, "{report}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    let landed = proxy.stats().write_times.len();
    assert_eq!(landed, applied, "the report matches what SSM received");

    // The re-run writes exactly the rest: every secret written once in all.
    let rerun = p
        .cmd(&["push", "--yes", "--json"])
        .stdout_json()
        .success()
        .json();
    assert_eq!(rerun["applied"].as_array().unwrap().len(), not_applied);
    assert_eq!(proxy.stats().write_times.len(), 24);
}
