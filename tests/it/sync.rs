//! push, pull and diff against a real SSM-compatible server (moto), directly and through a
//! fault proxy that behaves like real SSM: batch and value limits, throttling, 5xx, drops.

use crate::support::Project;
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
    for scope in [
        &["--branch", "feature/login"][..],
        &["--shared"],
        &["--sandbox=alice"],
    ] {
        let mut args = vec!["push", "--yes"];
        args.extend_from_slice(scope);
        p.run(&args).success();
    }

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
    let first = p.run(&["push", "--yes", "--json"]).success().json();
    assert_eq!(first["applied"].as_array().unwrap().len(), 25);
    assert_eq!(proxy.stats().op("PutParameter").forwarded, 25);

    let vault_before = std::fs::read(p.vault_dir().join("vault.age")).unwrap();
    let second = p.run(&["push", "--yes", "--json"]).success().json();
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
    let report = p.run(&["pull", "--yes", "--json"]).success().json();
    assert_eq!(report["stored"].as_array().unwrap().len(), 23);
    assert_eq!(p.get("REMOTE_7", &[]), "remote ünïcode 7\n$HOME 'q' \"d\"");
    let names = p.run(&["list", "--all", "--json"]).success().json();
    assert_eq!(
        names.as_array().unwrap().len(),
        23,
        "only direct children of the branch prefix"
    );
    // Pulled secrets are in sync: diff shows nothing to do, push writes nothing.
    let diff = p.run(&["diff", "--json"]).success().json();
    assert!(
        diff["secrets"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["status"] == "unchanged")
    );
    let push = p.run(&["push", "--yes", "--json"]).success().json();
    assert!(push["applied"].as_array().unwrap().is_empty());
    // A pull with nothing new leaves the (committed) vault file untouched.
    let vault_before = std::fs::read(p.vault_dir().join("vault.age")).unwrap();
    p.run(&["pull", "--yes"]).success();
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
    let name = format!("{}/K", branch_prefix(&app, "main"));
    p.set("K", "v1", &[]);
    p.run(&["push", "--yes"]).success();

    // Changed in SSM only: push refuses, pull brings it in.
    ssm.put(&name, "remote-v2");
    let diff = p.run(&["diff", "--json"]).success().json();
    assert_eq!(diff["secrets"][0]["status"], "changed_there");
    let before = p.snapshot();
    p.run(&["push", "--yes"])
        .fails(8)
        .stderr_has("--keep-local");
    assert_eq!(ssm.value(&name).as_deref(), Some("remote-v2"));
    assert!(before == p.snapshot());
    p.run(&["pull", "--yes"]).success();
    assert_eq!(p.get("K", &[]), "remote-v2");

    // Changed on both sides: both directions refuse without a decision.
    p.set("K", "local-v3", &[]);
    ssm.put(&name, "remote-v3");
    assert_eq!(
        p.run(&["diff", "--json"]).success().json()["secrets"][0]["status"],
        "conflict"
    );
    p.run(&["push", "--yes"]).fails(8);
    p.run(&["pull"]).fails(8);
    assert_eq!(p.get("K", &[]), "local-v3");
    assert_eq!(ssm.value(&name).as_deref(), Some("remote-v3"));

    // Decisions: keep-remote on push leaves SSM; keep-local pushes; pull --force takes SSM.
    p.run(&["push", "--yes", "--keep-remote"]).success();
    assert_eq!(ssm.value(&name).as_deref(), Some("remote-v3"));
    p.run(&["push", "--yes", "--keep-local"]).success();
    assert_eq!(ssm.value(&name).as_deref(), Some("local-v3"));
    ssm.put(&name, "remote-v4");
    p.set("K", "local-v4", &[]);
    p.run(&["pull", "--force", "--yes"]).success();
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
    p.run(&["push", "--prune"]).fails(2).stderr_has("--yes");
    assert_eq!(ssm.names_under(&prefix).len(), 13);
    p.run(&["push", "--prune", "--dry-run"]).success();
    assert_eq!(
        ssm.names_under(&prefix).len(),
        13,
        "a dry run deletes nothing"
    );
    let report = p
        .run(&["push", "--prune", "--yes", "--json"])
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
    let report = p.run(&["push", "--dry-run", "--json"]).success().json();
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
        .run(&[
            "push",
            "--yes",
            "--json",
            "--max-tps",
            "200",
            "--concurrency",
            "8",
        ])
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
        .run(&["push", "--yes", "--json", "--max-tps", "40"])
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
        .run(&["push", "--yes", "--json", "--max-tps", "100"])
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
    let out = p.run(&["push", "--yes", "--tier", "standard", "--json"]);
    assert_eq!(out.code, 7, "{}", out.stderr);
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
    let report = p.run(&["push", "--yes", "--json"]).success().json();
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
    let p = Project::with_app(&format!("http://{closed}"), &unique_app_id());
    p.set("K", "v", &[]);
    let before = p.snapshot();
    p.run(&["push", "--yes"]).fails(6);
    p.run(&["pull"]).fails(6);
    assert!(before == p.snapshot());
    p.cmd(&["diff"])
        .env_remove("AWS_REGION")
        .run()
        .fails(6)
        .stderr_has("--region");
}

#[test]
fn sync_commands_never_print_values() {
    const CANARY: &str = "sync-canary-51c0ffee";
    let moto = MotoServer::start();
    let app = unique_app_id();
    let p = Project::with_app(&moto.endpoint(), &app);
    p.set("LEAKY", CANARY, &[]);
    let outputs = [
        p.run(&["-vvv", "diff"]),
        p.run(&["-vvv", "push", "--yes"]),
        p.run(&["-vvv", "push", "--yes", "--json"]),
        p.run(&["-vvv", "pull", "--yes", "--json"]),
        p.run(&["-vvv", "diff", "--json"]),
    ];
    for out in outputs {
        assert!(
            !out.stdout.contains(CANARY) && !out.stderr.contains(CANARY),
            "{out:?}"
        );
    }
}
