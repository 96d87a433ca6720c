//! Every place Amplify reads a secret: standalone deployments, every shared namespace,
//! effective values read straight from SSM with no vault (`exec/export --remote`), copies
//! between scopes, and one run for every scope (`push/diff/pull --all`). Against moto.

use crate::support::{APP_ID, Project, ssm_line};
use ampsecret_testkit::fault_proxy::{FaultConfig, FaultProxy};
use ampsecret_testkit::moto::MotoServer;
use ampsecret_testkit::ssm::{Ssm, unique_app_id};

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

/// Why SSM cannot hold a shared namespace such as a scoped package name.
const UNHOLDABLE: &str = "SSM cannot hold /amplify/shared/<it>: a namespace may only contain \
    letters, digits, '_', '.' and '-' (a scoped package name such as @acme/web has '@' and \
    '/'), so Amplify's fallback there can never have a value";

/// The message refusing `namespace` as a shared namespace.
fn unholdable_namespace(namespace: &str) -> String {
    format!("shared namespace '{namespace}': {UNHOLDABLE}")
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
    let prefix = "/amplify/myapp/backend-standalone-abeed4c9fc";
    ssm.clear(prefix);
    p.cmd(&["path", "API_KEY", "--standalone"])
        .stdout(format!("{prefix}/API_KEY\n"))
        .success();
    p.set("API_KEY", NASTY, &["--standalone"]);
    p.set("API_KEY", "prod-value", &["--standalone=prod"]);
    let list = p
        .cmd(&["list", "--all", "--json"])
        .stdout_json()
        .success()
        .json();
    let scopes: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["scope"].as_str().unwrap())
        .collect();
    assert_eq!(scopes, ["standalone:my-app", "standalone:prod"]);
    assert_eq!(p.get("API_KEY", &["--standalone=my-app"]), NASTY);

    p.cmd(&["push", "--standalone", "--yes"])
        .stderr(format!(
            "{}Plan for {prefix} (standalone:my-app):\n\
             \x20 + API_KEY  create (new)\n\
             Applied 1 change to {prefix}: 1 created.\n",
            ssm_line(&moto.endpoint(), false),
        ))
        .success();
    assert_eq!(
        ssm.value(&format!("{prefix}/API_KEY")).as_deref(),
        Some(NASTY)
    );

    // A scoped package drops its scope, as `ampx deploy` does.
    write_package_name(&p, "@acme/web.app");
    let doc = p
        .cmd(&["path", "--prefix", "--standalone", "--json"])
        .stdout_json()
        .success()
        .json();
    assert_eq!(
        doc,
        serde_json::json!({
            "scope": "standalone:web-app",
            "name": null,
            "prefix": format!(
                "/amplify/webapp/backend-standalone-{}",
                ampsecret::amplify::backend_hash("web-app", "backend")
            ),
            "path": null,
        })
    );

    // Identifiers ampx deploy refuses are refused, and nothing is written.
    let before = p.snapshot();
    p.cmd(&["set", "K", "--stdin", "--standalone=1-bad"])
        .stdin("v")
        .stderr(
            "error: standalone identifier '1-bad': a standalone identifier must be 1 to 128 \
             letters, digits or '-', starting with a letter (ampx deploy's rule)\n",
        )
        .fails(5);
    write_package_name(&p, "@acme/42");
    p.cmd(&["set", "K", "--stdin", "--standalone"])
        .stdin("v")
        .stderr(
            "error: package name '@acme/42': ampx deploy derives no identifier from it (it must \
             start with a letter once '@scope/' is dropped); pass --standalone=ID\n",
        )
        .fails(5);
    write_package_name(&p, "@acme/web.app");
    assert_eq!(p.snapshot(), before);
}

#[test]
fn every_shared_namespace_is_addressable_and_each_deployment_falls_back_to_its_own() {
    let moto = MotoServer::start();
    let app = unique_app_id();
    let p = Project::with_app(&moto.endpoint(), &app);
    let ssm = Ssm::new(&moto.endpoint());
    ssm.clear("/amplify/shared/my-app");
    ssm.clear("/amplify/shared/prod");

    p.set("K", "app-wide", &["--shared"]);
    p.set("K", "package-wide", &["--shared=my-app"]);
    p.set("K", "prod-wide", &["--shared=prod"]);
    // The app id's own namespace is the `shared` scope, however it is written.
    p.set("OTHER", "same-scope", &[&format!("--shared={app}")]);
    let scopes: Vec<String> = p
        .cmd(&["list", "--all", "--json"])
        .stdout_json()
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

    for (scope, prefix, names) in [
        (
            "--shared",
            format!("/amplify/shared/{app}"),
            &["K", "OTHER"][..],
        ),
        ("--shared=my-app", "/amplify/shared/my-app".into(), &["K"]),
        ("--shared=prod", "/amplify/shared/prod".into(), &["K"]),
    ] {
        let label = scope.trim_start_matches("--").replace('=', ":");
        let width = names.iter().map(|n| n.len()).max().unwrap();
        let plan: String = names
            .iter()
            .map(|name| format!("  + {name:width$}  create (new)\n"))
            .collect();
        let n = names.len();
        let changes = if n == 1 { "change" } else { "changes" };
        p.cmd(&["push", scope, "--yes"])
            .stderr(format!(
                "{}Plan for {prefix} ({label}):\n{plan}Applied {n} {changes} to {prefix}: {n} \
                 created.\n",
                ssm_line(&moto.endpoint(), false),
            ))
            .success();
    }
    assert_eq!(
        ssm.value(&format!("/amplify/shared/{app}/K")).as_deref(),
        Some("app-wide")
    );
    assert_eq!(
        ssm.value(&format!("/amplify/shared/{app}/OTHER"))
            .as_deref(),
        Some("same-scope")
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
            .cmd(&["get", "K", "--effective", flag, "--json"])
            .stdout_json()
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
            .stderr(format!("error: {}\n", unholdable_namespace("@acme/web")))
            .fails(5);
    }
    assert_eq!(p.snapshot(), before);

    // A sandbox of a scoped package falls back to a namespace that can hold nothing: said.
    write_package_name(&p, "@acme/web");
    p.set("OWN", "own", &["--sandbox=alice"]);
    p.cmd(&["list", "--effective", "--sandbox=alice"])
        .stdout("NAME  SOURCE         NOTE\nOWN   sandbox:alice\n")
        .stderr(format!(
            "warning: sandbox:alice falls back to /amplify/shared/@acme/web, which can hold \
             nothing: {UNHOLDABLE}\n"
        ))
        .success();
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

/// What `--strict` says when `names` have no value in SSM for the `feature/login` build.
fn strict_missing(names: &str) -> String {
    format!(
        "error: --strict: no value in SSM for {names} in branch:feature/login nor in shared; \
         nothing was run or printed\n"
    )
}

#[test]
fn exec_remote_gets_what_amplifys_runtime_resolves_with_no_vault_and_no_key() {
    let moto = MotoServer::start();
    let proxy = FaultProxy::start(moto.addr(), FaultConfig::default());
    let app = unique_app_id();
    let p = hosting_build(&proxy.endpoint(), &app);

    // The branch value first, the shared value otherwise; other branches never.
    p.cmd(&["exec", "--remote", "--", "sh", "-c", SHOW])
        .stdout(format!("branch-api|{NASTY}|shared-stripe|unset|unset"))
        .success();
    assert!(!p.vault_dir().exists(), "no vault was made");
    let stats = proxy.stats();
    assert_eq!(
        stats.op("GetParametersByPath").forwarded,
        2,
        "one page per prefix"
    );
    assert_eq!(stats.op("GetParameters").total(), 0);

    // Named secrets: GetParameters on the branch paths, then the shared paths for the rest.
    p.cmd(&[
        "exec",
        "--remote",
        "--names",
        "API_KEY,STRIPE_KEY,MISSING",
        "--",
        "sh",
        "-c",
        SHOW,
    ])
    .stdout("branch-api||shared-stripe|unset|unset")
    .success();
    let after = proxy.stats();
    assert_eq!(after.op("GetParameters").forwarded, 2);
    assert_eq!(after.op("GetParametersByPath").total(), 2, "no new listing");

    // 25 names: batches of ten, never one call per secret.
    let many: Vec<String> = (0..25).map(|i| format!("N{i:02}")).collect();
    p.cmd(&["exec", "--remote", "--names", &many.join(","), "--", "true"])
        .success();
    let batches = proxy.stats().op("GetParameters").forwarded - 2;
    assert_eq!(
        batches, 6,
        "3 batches on the branch path, 3 on the shared path"
    );

    // --strict: a name with no value anywhere stops everything before the command starts.
    let marker = p.temp().join("ran");
    let touch = format!("touch {}", marker.display());
    p.cmd(&[
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
    .stderr(strict_missing("MISSING"))
    .fails(3);
    assert!(!marker.exists(), "the command never started");
    p.cmd(&[
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
    p.cmd(&[
        "exec",
        "--remote",
        "--from-backend",
        "--strict",
        "--",
        "true",
    ])
    .stderr(strict_missing(
        "GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET, SQL_CONNECTION_STRING",
    ))
    .fails(3);
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
    // Only the backend's names: STRIPE_KEY exists in SSM but the backend does not use it.
    p.cmd(&[
        "exec",
        "--remote",
        "--from-backend",
        "--strict",
        "--",
        "sh",
        "-c",
        "printf '%s|%s|%s' \"$API_KEY\" \"$SQL_CONNECTION_STRING\" \"${STRIPE_KEY-unset}\"",
    ])
    .stdout("branch-api|SQL_CONNECTION_STRING-v|unset")
    .success();
}

#[test]
fn export_remote_prints_the_effective_values_from_ssm() {
    let moto = MotoServer::start();
    let app = unique_app_id();
    let p = hosting_build(&moto.endpoint(), &app);
    let doc = p
        .cmd(&["export", "--remote", "--json"])
        .stdout_json()
        .success()
        .json();
    assert_eq!(
        doc,
        serde_json::json!({
            "API_KEY": "branch-api",
            "DATABASE_URL": NASTY,
            "STRIPE_KEY": "shared-stripe",
        })
    );
    p.cmd(&["export", "--remote", "--names", "NOPE", "--strict"])
        .stderr(strict_missing("NOPE"))
        .fails(3);
    // No app id: said in one line, naming where it comes from.
    p.cmd(&["export", "--remote"])
        .env_remove("AWS_APP_ID")
        .stderr(
            "error: no Amplify app id for the branch:feature/login scope: pass --app-id, set \
             AWS_APP_ID, or run 'ampsecret config set app_id ID'\n",
        )
        .fails(2);
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
    p.cmd(&copy)
        .stderr(
            "error: copy asks for confirmation, and there is no terminal to ask on: pass --yes \
             (or --dry-run to see the plan)\n",
        )
        .fails(2);
    let dry = p
        .cmd(&[&copy[..], &["--dry-run"]].concat())
        .stderr(
            "Plan for branch:feature/x from branch:staging:\n\
             \x20 + A_NEW   create (new)\n\
             \x20 + D_BIG   create (new)\n\
             \x20 = B_DIFF  kept: the value differs in branch:feature/x (--overwrite replaces it)\n\
             \x20 = C_SAME  unchanged\n\
             Dry run: 2 changes planned for branch:feature/x (2 to create); nothing was changed. \
             Local only: 'ampsecret push' publishes them.\n",
        )
        .success();
    assert_eq!(p.snapshot(), before);

    let out = p
        .cmd(&[&copy[..], &["--yes", "--json"]].concat())
        .stdout(
            r#"{"from":"branch:staging","to":"branch:feature/x","dry_run":false,"added":["A_NEW","D_BIG"],"changed":[],"kept":["B_DIFF"],"unchanged":["C_SAME"],"applied":true,"changed_meanwhile":[]}"#
                .to_owned()
                + "\n",
        )
        .success();
    let text = p
        .cmd(&[&copy[..], &["--overwrite", "--yes"]].concat())
        .stderr(
            "Plan for branch:feature/x from branch:staging:\n\
             \x20 ~ B_DIFF  update (changed)\n\
             \x20 = A_NEW   unchanged\n\
             \x20 = C_SAME  unchanged\n\
             \x20 = D_BIG   unchanged\n\
             Applied 1 change to branch:feature/x: 1 updated. Local only: 'ampsecret push' \
             publishes them.\n",
        )
        .success();
    for (name, value) in &values {
        assert_eq!(&p.get(name, &["--branch", "feature/x"]), value, "{name}");
        for shown in [&dry, &out, &text]
            .iter()
            .flat_map(|o| [&o.stdout, &o.stderr])
        {
            assert!(
                !shown.contains(value.as_str()),
                "{name}'s value was printed"
            );
        }
    }

    // Named secrets, to a scope of another kind.
    p.cmd(&[
        "copy",
        "--from",
        "branch:staging",
        "--to",
        "standalone:prod",
        "C_SAME",
        "--yes",
    ])
    .stderr(
        "Plan for standalone:prod from branch:staging:\n\
         \x20 + C_SAME  create (new)\n\
         Applied 1 change to standalone:prod: 1 created. Local only: 'ampsecret push' \
         publishes them.\n",
    )
    .success();
    assert_eq!(p.get("C_SAME", &["--standalone=prod"]), "same");
    let list = p
        .cmd(&["list", "--standalone=prod", "--json"])
        .stdout_json()
        .success()
        .json();
    assert_eq!(list.as_array().unwrap().len(), 1);
}

#[test]
fn copy_refuses_what_it_cannot_do_and_changes_nothing() {
    let p = Project::initialized();
    p.set("K", "v", &["--shared"]);
    let before = p.snapshot();
    let same_scope = "--from and --to are the same scope (shared): nothing to copy".to_owned();
    let own_namespace = format!("shared:{APP_ID}");
    for (to, names, code, message) in [
        ("shared", &[][..], 2, same_scope.clone()),
        (
            "bogus",
            &[],
            2,
            "--to 'bogus' is not a scope: write it as 'list' shows it (branch:NAME, \
             sandbox:ID, standalone:ID, shared or shared:NS)"
                .into(),
        ),
        (
            "shared:@acme/web",
            &[],
            5,
            unholdable_namespace("@acme/web"),
        ),
        (
            "sandbox:bad id",
            &[],
            5,
            "sandbox id 'bad id': a sandbox identifier must be 1 to 15 letters, digits or '-' \
             (Amplify's rule)"
                .into(),
        ),
        (
            "branch:main",
            &["NOPE"],
            3,
            "no secret NOPE in shared; nothing was copied".into(),
        ),
        // --shared=<app id> and `shared` are the same scope.
        (own_namespace.as_str(), &[], 2, same_scope),
    ] {
        p.cmd(
            &[
                &["copy", "--from", "shared", "--to", to][..],
                names,
                &["--yes"],
            ]
            .concat(),
        )
        .stderr(format!("error: {message}\n"))
        .fails(code);
    }
    p.cmd(&[
        "copy",
        "--from",
        "branch:empty",
        "--to",
        "branch:main",
        "--yes",
    ])
    .stderr(
        "error: no secrets in branch:empty; nothing to copy ('ampsecret list --all' shows \
             the vault's scopes)\n",
    )
    .fails(3);
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
    // Sandbox and standalone paths do not depend on the app id, and tests share one SSM
    // server: this sandbox is one no other test pushes to.
    p.set("Q", "dana-q", &["--sandbox=dana"]);
    let prod = format!(
        "/amplify/prod/backend-standalone-{}",
        ampsecret::amplify::backend_hash("prod", "backend")
    );
    ssm.clear(&prod);
    ssm.clear(&format!(
        "/amplify/myapp/dana-sandbox-{}",
        ampsecret::amplify::backend_hash("my-app", "dana")
    ));

    p.cmd(&["push", "--all"])
        .stderr(
            "error: push asks for confirmation, and there is no terminal to ask on: pass --yes \
             (or --dry-run to see the plan)\n",
        )
        .fails(2);
    p.cmd(&["push", "--all", "--branch", "main", "--yes"])
        .stderr(
            "error: the argument '--all' cannot be used with: --branch <NAME> --sandbox[=<ID>] \
             --standalone[=<ID>] --shared[=<NS>] (see 'ampsecret push --help')\n",
        )
        .fails(2);

    let doc = p
        .cmd(&["push", "--all", "--yes", "--json"])
        .stdout_json()
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
            ("sandbox:dana", 1),
            ("standalone:prod", 1)
        ]
    );
    assert_eq!(doc["api_calls"]["PutParameter"], 5);
    assert_eq!(
        ssm.value(&format!("{}/B", branch_prefix(&app, "main")))
            .as_deref(),
        Some("main-b")
    );
    p.cmd(&["path", "P", "--standalone=prod"])
        .stdout(format!("{prod}/P\n"))
        .success();
    assert_eq!(ssm.value(&format!("{prod}/P")).as_deref(), Some("prod-p"));

    let diff = p
        .cmd(&["diff", "--all", "--json"])
        .stdout_json()
        .success()
        .json();
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
        .cmd(&["pull", "--all", "--yes", "--json"])
        .stdout_json()
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
            ("sandbox:dana", vec![]),
            ("standalone:prod", vec![])
        ]
    );
    assert_eq!(p.get("S", &["--shared"]), "shared-s2");
    assert_eq!(p.get("A", &["--branch", "main"]), "main-a2");

    // A second push --all has nothing to write.
    let again = p
        .cmd(&["push", "--all", "--yes", "--json"])
        .stdout_json()
        .success()
        .json();
    assert_eq!(again["api_calls"]["PutParameter"], serde_json::Value::Null);
}
