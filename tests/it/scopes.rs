//! Every place Amplify reads a secret: standalone deployments, every shared namespace,
//! effective values read straight from SSM with no vault (`exec/export --remote`), copies
//! between scopes, and one run for every scope (`push/diff/pull --all`). Against moto.

#[path = "support/fault_proxy.rs"]
mod fault_proxy;
#[path = "support/moto.rs"]
mod moto;
#[path = "support/ssm.rs"]
mod ssm;
mod support;

use fault_proxy::{FaultConfig, FaultProxy};
use moto::MotoServer;
use ssm::{Ssm, unique_app_id};
use support::{APP_ID, Project};

const NASTY: &str = "it's \"quoted\" $HOME `id` \\ !\nsecond line ✓";

fn branch_prefix(app: &str, branch: &str) -> String {
    ampsecret::scope::ScopeKey::Branch(branch.into())
        .parameter_scope(&ampsecret::scope::AppIdentity {
            app_id: Some(app.into()),
            app_name: None,
        })
        .unwrap()
        .prefix()
}

fn write_package_name(p: &Project, name: &str) {
    std::fs::write(
        p.root().join("package.json"),
        format!(r#"{{"name":"{name}"}}"#),
    )
    .unwrap();
}

// ---------------------------------------------------------------------------------------------
// Standalone deployments and shared namespaces
// ---------------------------------------------------------------------------------------------

#[test]
fn standalone_scope_is_amplifys_and_defaults_to_the_package_name() {
    let moto = MotoServer::start();
    let app = unique_app_id();
    let p = Project::with_app(&moto.endpoint(), &app);
    let ssm = Ssm::new(&moto.endpoint());

    // package.json "my-app" gives the identifier "my-app": the spec's worked example.
    let path = p.run(&["path", "API_KEY", "--standalone"]).success().stdout;
    assert_eq!(
        path.trim_end(),
        "/amplify/myapp/backend-standalone-abeed4c9fc/API_KEY"
    );
    p.set("API_KEY", NASTY, &["--standalone"]);
    p.set("API_KEY", "prod-value", &["--standalone=prod"]);
    let list = p.run(&["list", "--all", "--json"]).success().json();
    let scopes: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["scope"].as_str().unwrap())
        .collect();
    assert_eq!(scopes, ["standalone:my-app", "standalone:prod"]);
    assert_eq!(p.get("API_KEY", &["--standalone=my-app"]), NASTY);

    p.run(&["push", "--standalone", "--yes"]).success();
    assert_eq!(
        ssm.value("/amplify/myapp/backend-standalone-abeed4c9fc/API_KEY")
            .as_deref(),
        Some(NASTY)
    );

    // A scoped package drops its scope, as `ampx deploy` does.
    write_package_name(&p, "@acme/web.app");
    let doc = p
        .run(&["path", "--prefix", "--standalone", "--json"])
        .success()
        .json();
    assert_eq!(doc["scope"], "standalone:web-app");

    // Identifiers ampx deploy refuses are refused, and nothing is written.
    let before = p.snapshot();
    p.cmd(&["set", "K", "--stdin", "--standalone=1-bad"])
        .stdin("v")
        .run()
        .fails(5)
        .stderr_has("starting with a letter");
    write_package_name(&p, "@acme/42");
    p.cmd(&["set", "K", "--stdin", "--standalone"])
        .stdin("v")
        .run()
        .fails(5)
        .stderr_has("pass --standalone=ID");
    write_package_name(&p, "@acme/web.app");
    assert_eq!(p.snapshot(), before);
}

#[test]
fn every_shared_namespace_is_addressable_and_each_deployment_falls_back_to_its_own() {
    let moto = MotoServer::start();
    let app = unique_app_id();
    let p = Project::with_app(&moto.endpoint(), &app);
    let ssm = Ssm::new(&moto.endpoint());

    p.set("K", "app-wide", &["--shared"]);
    p.set("K", "package-wide", &["--shared=my-app"]);
    p.set("K", "prod-wide", &["--shared=prod"]);
    // The app id's own namespace is the `shared` scope, however it is written.
    p.set("OTHER", "same-scope", &[&format!("--shared={app}")]);
    let scopes: Vec<String> = p
        .run(&["list", "--all", "--json"])
        .success()
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r["scope"].as_str().unwrap(),
                r["name"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        scopes,
        [
            "shared K",
            "shared OTHER",
            "shared:my-app K",
            "shared:prod K"
        ]
    );

    for scope in ["--shared", "--shared=my-app", "--shared=prod"] {
        p.run(&["push", scope, "--yes"]).success();
    }
    assert_eq!(
        ssm.value(&format!("/amplify/shared/{app}/K")).as_deref(),
        Some("app-wide")
    );
    assert_eq!(
        ssm.value("/amplify/shared/my-app/K").as_deref(),
        Some("package-wide")
    );
    assert_eq!(
        ssm.value("/amplify/shared/prod/K").as_deref(),
        Some("prod-wide")
    );

    // --effective: branch → the app id's, sandbox → the package name's, standalone → the
    // identifier's namespace.
    for (flag, source, value, path) in [
        (
            "--branch=main",
            "shared".to_owned(),
            "app-wide",
            format!("/amplify/shared/{app}/K"),
        ),
        (
            "--sandbox=alice",
            "shared:my-app".into(),
            "package-wide",
            "/amplify/shared/my-app/K".into(),
        ),
        (
            "--standalone=prod",
            "shared:prod".into(),
            "prod-wide",
            "/amplify/shared/prod/K".into(),
        ),
    ] {
        let doc = p
            .run(&["get", "K", "--effective", flag, "--json"])
            .success()
            .json();
        assert_eq!(doc["source"], source.as_str(), "{flag}");
        assert_eq!(doc["value"], value, "{flag}");
        assert_eq!(doc["path"], path.as_str(), "{flag}");
    }
}

#[test]
fn a_namespace_ssm_cannot_hold_is_refused_with_the_reason() {
    let p = Project::initialized();
    let before = p.snapshot();
    for args in [
        &["set", "K", "--stdin", "--shared=@acme/web"][..],
        &["path", "K", "--shared=@acme/web"],
    ] {
        p.cmd(args)
            .stdin("v")
            .run()
            .fails(5)
            .stderr_has("shared namespace '@acme/web'")
            .stderr_has("scoped package name");
    }
    assert_eq!(p.snapshot(), before);

    // A sandbox of a scoped package falls back to a namespace that can hold nothing: said.
    write_package_name(&p, "@acme/web");
    p.set("OWN", "own", &["--sandbox=alice"]);
    let out = p
        .run(&["list", "--effective", "--sandbox=alice"])
        .success()
        .stderr_has("/amplify/shared/@acme/web, which can hold nothing");
    assert!(out.stdout.contains("OWN"), "{}", out.stdout);
}

// ---------------------------------------------------------------------------------------------
// exec --remote / export --remote: no vault, no key
// ---------------------------------------------------------------------------------------------

/// SSM as a deployed `feature/login` branch of `app` sees it, and a project with no vault
/// and no key, configured only as Amplify Hosting configures a build.
fn hosting_build(endpoint: &str, app: &str) -> Project {
    let ssm = Ssm::new(endpoint);
    let own = branch_prefix(app, "feature/login");
    ssm.put(&format!("{own}/API_KEY"), "branch-api");
    ssm.put(&format!("{own}/DATABASE_URL"), NASTY);
    ssm.put(&format!("/amplify/shared/{app}/API_KEY"), "shared-api");
    ssm.put(
        &format!("/amplify/shared/{app}/STRIPE_KEY"),
        "shared-stripe",
    );
    // Another branch's secret is never seen.
    ssm.put(
        &format!("{}/OTHER", branch_prefix(app, "main")),
        "main-only",
    );
    Project::new()
        .with_ssm(endpoint)
        .env("AWS_APP_ID", app)
        .env("AWS_BRANCH", "feature/login")
}

const SHOW: &str = "printf '%s|%s|%s|%s|%s' \"$API_KEY\" \"$DATABASE_URL\" \"$STRIPE_KEY\" \"${OTHER-unset}\" \"${MISSING-unset}\"";

#[test]
fn exec_remote_gets_what_amplifys_runtime_resolves_with_no_vault_and_no_key() {
    let moto = MotoServer::start();
    let proxy = FaultProxy::start(moto.addr(), FaultConfig::default());
    let app = unique_app_id();
    let p = hosting_build(&proxy.endpoint(), &app);

    // The branch value first, the shared value otherwise; other branches never.
    let out = p
        .run(&["exec", "--remote", "--", "sh", "-c", SHOW])
        .success();
    assert_eq!(
        out.stdout,
        format!("branch-api|{NASTY}|shared-stripe|unset|unset")
    );
    assert_eq!(out.stderr, "");
    assert!(!p.vault_dir().exists(), "no vault was made");
    let stats = proxy.stats();
    assert_eq!(
        stats.op("GetParametersByPath").forwarded,
        2,
        "one page per prefix"
    );
    assert_eq!(stats.op("GetParameters").total(), 0);

    // Named secrets: GetParameters on the branch paths, then the shared paths for the rest.
    let out = p
        .run(&[
            "exec",
            "--remote",
            "--names",
            "API_KEY,STRIPE_KEY,MISSING",
            "--",
            "sh",
            "-c",
            SHOW,
        ])
        .success();
    assert_eq!(out.stdout, "branch-api||shared-stripe|unset|unset");
    let after = proxy.stats();
    assert_eq!(after.op("GetParameters").forwarded, 2);
    assert_eq!(after.op("GetParametersByPath").total(), 2, "no new listing");

    // 25 names: batches of ten, never one call per secret.
    let many: Vec<String> = (0..25).map(|i| format!("N{i:02}")).collect();
    p.run(&["exec", "--remote", "--names", &many.join(","), "--", "true"])
        .success();
    let batches = proxy.stats().op("GetParameters").forwarded - 2;
    assert_eq!(
        batches, 6,
        "3 batches on the branch path, 3 on the shared path"
    );

    // --strict: a name with no value anywhere stops everything before the command starts.
    let marker = p.temp().join("ran");
    let touch = format!("touch {}", marker.display());
    p.run(&[
        "exec",
        "--remote",
        "--names",
        "API_KEY,MISSING",
        "--strict",
        "--",
        "sh",
        "-c",
        &touch,
    ])
    .fails(3)
    .stderr_has("no value in SSM for MISSING in branch:feature/login nor in shared");
    assert!(!marker.exists(), "the command never started");
    p.run(&[
        "exec",
        "--remote",
        "--strict",
        "API_KEY,STRIPE_KEY",
        "--",
        "sh",
        "-c",
        &touch,
    ])
    .success();
    assert!(marker.exists());
}

#[test]
fn exec_remote_takes_the_names_the_backend_uses() {
    let moto = MotoServer::start();
    let app = unique_app_id();
    let p = hosting_build(&moto.endpoint(), &app);
    p.add_backend_fixture();
    // The fixture's backend uses API_KEY, GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET and
    // SQL_CONNECTION_STRING.
    p.run(&[
        "exec",
        "--remote",
        "--from-backend",
        "--strict",
        "--",
        "true",
    ])
    .fails(3)
    .stderr_has("GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET, SQL_CONNECTION_STRING");
    let ssm = Ssm::new(&moto.endpoint());
    for name in [
        "GOOGLE_CLIENT_ID",
        "GOOGLE_CLIENT_SECRET",
        "SQL_CONNECTION_STRING",
    ] {
        ssm.put(
            &format!("/amplify/shared/{app}/{name}"),
            &format!("{name}-v"),
        );
    }
    let out = p
        .run(&[
            "exec",
            "--remote",
            "--from-backend",
            "--strict",
            "--",
            "sh",
            "-c",
            "printf '%s|%s|%s' \"$API_KEY\" \"$SQL_CONNECTION_STRING\" \"${STRIPE_KEY-unset}\"",
        ])
        .success();
    // Only the backend's names: STRIPE_KEY exists in SSM but the backend does not use it.
    assert_eq!(out.stdout, "branch-api|SQL_CONNECTION_STRING-v|unset");
}

#[test]
fn export_remote_prints_the_effective_values_from_ssm() {
    let moto = MotoServer::start();
    let app = unique_app_id();
    let p = hosting_build(&moto.endpoint(), &app);
    let doc = p.run(&["export", "--remote", "--json"]).success().json();
    assert_eq!(
        doc,
        serde_json::json!({
            "API_KEY": "branch-api",
            "DATABASE_URL": NASTY,
            "STRIPE_KEY": "shared-stripe",
        })
    );
    p.run(&["export", "--remote", "--names", "NOPE", "--strict"])
        .fails(3)
        .stderr_has("NOPE");
    // No app id: said in one line, naming where it comes from.
    p.cmd(&["export", "--remote"])
        .env_remove("AWS_APP_ID")
        .run()
        .fails(2)
        .stderr_has("AWS_APP_ID");
}

// ---------------------------------------------------------------------------------------------
// copy
// ---------------------------------------------------------------------------------------------

#[test]
fn copy_moves_every_value_exactly_and_prints_none() {
    let p = Project::initialized();
    let values = [
        ("A_NEW", NASTY.to_owned()),
        ("B_DIFF", "template-b".to_owned()),
        ("C_SAME", "same".to_owned()),
        ("D_BIG", "x".repeat(6000)),
    ];
    for (name, value) in &values {
        p.set(name, value, &["--branch", "staging"]);
    }
    p.set("B_DIFF", "feature-b", &["--branch", "feature/x"]);
    p.set("C_SAME", "same", &["--branch", "feature/x"]);
    let copy = [
        "copy",
        "--from",
        "branch:staging",
        "--to",
        "branch:feature/x",
    ];

    // Without a terminal a copy needs --yes; nothing changes.
    let before = p.snapshot();
    p.run(&copy).fails(2).stderr_has("--yes");
    let mut dry = copy.to_vec();
    dry.push("--dry-run");
    p.run(&dry).success().stderr_has("+ A_NEW  add");
    assert_eq!(p.snapshot(), before);

    let mut yes = copy.to_vec();
    yes.extend(["--yes", "--json"]);
    let out = p.run(&yes).success();
    let doc = out.json();
    assert_eq!(doc["added"], serde_json::json!(["A_NEW", "D_BIG"]));
    assert_eq!(doc["kept"], serde_json::json!(["B_DIFF"]));
    assert_eq!(doc["unchanged"], serde_json::json!(["C_SAME"]));
    assert_eq!(doc["applied"], true);
    let text = p
        .run(&[&copy[..], &["--overwrite", "--yes"]].concat())
        .success();
    assert!(text.stderr.contains("~ B_DIFF  replace"), "{}", text.stderr);
    for (name, value) in &values {
        assert_eq!(&p.get(name, &["--branch", "feature/x"]), value, "{name}");
        for shown in [&out.stdout, &out.stderr, &text.stdout, &text.stderr] {
            assert!(
                !shown.contains(value.as_str()),
                "{name}'s value was printed"
            );
        }
    }

    // Named secrets, to a scope of another kind.
    p.run(&[
        "copy",
        "--from",
        "branch:staging",
        "--to",
        "standalone:prod",
        "C_SAME",
        "--yes",
    ])
    .success();
    assert_eq!(p.get("C_SAME", &["--standalone=prod"]), "same");
    let list = p
        .run(&["list", "--standalone=prod", "--json"])
        .success()
        .json();
    assert_eq!(list.as_array().unwrap().len(), 1);
}

#[test]
fn copy_refuses_what_it_cannot_do_and_changes_nothing() {
    let p = Project::initialized();
    p.set("K", "v", &["--shared"]);
    let before = p.snapshot();
    for (args, code, text) in [
        (
            &["copy", "--from", "shared", "--to", "shared", "--yes"][..],
            2,
            "same scope",
        ),
        (
            &["copy", "--from", "shared", "--to", "bogus", "--yes"],
            2,
            "as 'list' shows it",
        ),
        (
            &[
                "copy",
                "--from",
                "shared",
                "--to",
                "shared:@acme/web",
                "--yes",
            ],
            5,
            "scoped package name",
        ),
        (
            &[
                "copy",
                "--from",
                "shared",
                "--to",
                "sandbox:bad id",
                "--yes",
            ],
            5,
            "sandbox id",
        ),
        (
            &[
                "copy",
                "--from",
                "shared",
                "--to",
                "branch:main",
                "NOPE",
                "--yes",
            ],
            3,
            "no secret NOPE in shared",
        ),
        (
            &[
                "copy",
                "--from",
                "branch:empty",
                "--to",
                "branch:main",
                "--yes",
            ],
            3,
            "no secrets in branch:empty",
        ),
    ] {
        p.run(args).fails(code).stderr_has(text);
    }
    // --shared=<app id> and `shared` are the same scope.
    p.run(&[
        "copy",
        "--from",
        "shared",
        "--to",
        &format!("shared:{APP_ID}"),
        "--yes",
    ])
    .fails(2);
    assert_eq!(p.snapshot(), before);
}

// ---------------------------------------------------------------------------------------------
// push / diff / pull --all
// ---------------------------------------------------------------------------------------------

#[test]
fn all_scopes_in_one_run_with_a_report_per_scope() {
    let moto = MotoServer::start();
    let app = unique_app_id();
    let p = Project::with_app(&moto.endpoint(), &app);
    let ssm = Ssm::new(&moto.endpoint());
    p.set("A", "main-a", &["--branch", "main"]);
    p.set("B", "main-b", &["--branch", "main"]);
    p.set("S", "shared-s", &["--shared"]);
    p.set("P", "prod-p", &["--standalone=prod"]);
    p.set("Q", "alice-q", &["--sandbox=alice"]);

    p.run(&["push", "--all"]).fails(2).stderr_has("--yes");
    p.run(&["push", "--all", "--branch", "main", "--yes"])
        .fails(2);

    let doc = p
        .run(&["push", "--all", "--yes", "--json"])
        .success()
        .json();
    let scopes = doc["scopes"].as_array().unwrap();
    let applied: Vec<(&str, usize)> = scopes
        .iter()
        .map(|s| {
            (
                s["scope"].as_str().unwrap(),
                s["applied"].as_array().unwrap().len(),
            )
        })
        .collect();
    assert_eq!(
        applied,
        [
            ("shared", 1),
            ("branch:main", 2),
            ("sandbox:alice", 1),
            ("standalone:prod", 1)
        ]
    );
    assert_eq!(doc["api_calls"]["PutParameter"], 5);
    assert_eq!(
        ssm.value(&format!("{}/B", branch_prefix(&app, "main")))
            .as_deref(),
        Some("main-b")
    );
    let prod = p.run(&["path", "P", "--standalone=prod"]).success().stdout;
    assert!(
        prod.starts_with("/amplify/prod/backend-standalone-"),
        "{prod}"
    );
    assert_eq!(ssm.value(prod.trim_end()).as_deref(), Some("prod-p"));

    let diff = p.run(&["diff", "--all", "--json"]).success().json();
    let statuses: Vec<&str> = diff
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["secrets"].as_array().unwrap())
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["unchanged"; 5]);

    // Changed in SSM: pull --all brings each back into its own scope.
    ssm.put(&format!("/amplify/shared/{app}/S"), "shared-s2");
    ssm.put(&format!("{}/A", branch_prefix(&app, "main")), "main-a2");
    let pulled = p
        .run(&["pull", "--all", "--yes", "--json"])
        .success()
        .json();
    let stored: Vec<(&str, Vec<&str>)> = pulled["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["scope"].as_str().unwrap(),
                s["stored"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|n| n.as_str().unwrap())
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        stored,
        [
            ("shared", vec!["S"]),
            ("branch:main", vec!["A"]),
            ("sandbox:alice", vec![]),
            ("standalone:prod", vec![])
        ]
    );
    assert_eq!(p.get("S", &["--shared"]), "shared-s2");
    assert_eq!(p.get("A", &["--branch", "main"]), "main-a2");

    // A second push --all has nothing to write.
    let again = p
        .run(&["push", "--all", "--yes", "--json"])
        .success()
        .json();
    assert_eq!(again["api_calls"]["PutParameter"], serde_json::Value::Null);
}
