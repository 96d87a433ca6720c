//! `ampsecret check` on a small but realistic Amplify Gen 2 project (tests/fixtures/amplify-app).

use crate::support::{APP_ID, Project, json_error};

/// The fixture's function environment holds a literal Stripe key: every check warns first.
const STRIPE_WARNING: &str = "warning: amplify/functions/say-hello/resource.ts:10: \
    environment STRIPE_KEY holds a literal string and the value looks like a Stripe live secret \
    key; Amplify writes environment values in plaintext into build artifacts: store it with \
    'ampsecret set STRIPE_KEY' and use secret('STRIPE_KEY')\n";
/// What a check with every secret present prints after the warning.
const ALL_PRESENT: &str =
    "All 4 secrets used by the backend (in 6 files) have a value in branch:main.\n";

/// A project holding the fixture's `amplify/` backend.
fn project() -> Project {
    let p = Project::initialized();
    p.add_backend_fixture();
    p
}

#[test]
fn missing_secrets_are_reported_with_file_and_line() {
    let p = project();
    p.set("GOOGLE_CLIENT_ID", "id", &["--branch", "main"]);
    p.set("API_KEY", "k", &["--shared"]);
    p.set(
        "SQL_CONNECTION_STRING",
        "postgres://x",
        &["--branch", "main"],
    );

    // The literal credential in the function's environment is a warning, with its place.
    let out = p
        .cmd(&["check", "--branch", "main"])
        .stdout(
            "amplify/auth/resource.ts:12: GOOGLE_CLIENT_SECRET has no value in branch:main \
             nor in shared\n",
        )
        .stderr(format!(
            "{STRIPE_WARNING}error: 1 of 4 secrets used by the backend has no value in \
             branch:main nor in shared: GOOGLE_CLIENT_SECRET\n"
        ))
        .fails(3);
    // Comments, strings and unrelated calls are not secret() references.
    for never in ["NOT_USED", "ALSO_NOT"] {
        assert!(
            !out.stdout.contains(never) && !out.stderr.contains(never),
            "{never}"
        );
    }
    assert!(
        !out.stderr.contains("LOG_LEVEL") && !out.stderr.contains("NAME holds"),
        "{}",
        out.stderr
    );

    p.set("GOOGLE_CLIENT_SECRET", "s", &["--shared"]);
    p.cmd(&["check", "--branch", "main"])
        .stderr(format!("{STRIPE_WARNING}{ALL_PRESENT}"))
        .success();
}

#[test]
fn json_report() {
    let p = project();
    // A sandbox falls back to its package name's shared namespace, as Amplify does, not to
    // the app id's.
    p.set("API_KEY", "k", &["--shared=my-app"]);
    p.set("API_KEY", "app-wide", &["--shared"]);
    let out = p
        .cmd(&["check", "--sandbox=alice", "--json"])
        .stdout_json()
        .stderr(json_error(
            3,
            "not_found",
            "3 of 4 secrets used by the backend have no value in sandbox:alice nor in \
             shared:my-app: GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET, SQL_CONNECTION_STRING",
        ))
        .fails(3);
    let doc = out.json();
    assert_eq!(doc["scope"], "sandbox:alice");
    assert_eq!(doc["files"], 6);
    let names: Vec<&str> = doc["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "API_KEY",
            "GOOGLE_CLIENT_ID",
            "GOOGLE_CLIENT_SECRET",
            "SQL_CONNECTION_STRING"
        ]
    );
    let api = &doc["secrets"][0];
    assert_eq!(api["found"], true);
    assert_eq!(api["source"], "shared:my-app");
    // A sandbox's shared fallback is keyed by the package name.
    assert_eq!(api["path"], "/amplify/shared/my-app/API_KEY");
    assert_eq!(
        api["references"][0]["file"],
        "amplify/functions/say-hello/resource.ts"
    );
    assert_eq!(api["references"][0]["line"], 9);
    assert_eq!(
        doc["missing"],
        serde_json::json!([
            "GOOGLE_CLIENT_ID",
            "GOOGLE_CLIENT_SECRET",
            "SQL_CONNECTION_STRING"
        ])
    );
    assert_eq!(doc["warnings"][0]["key"], "STRIPE_KEY");
    assert_eq!(doc["warnings"].as_array().unwrap().len(), 1);

    let branch = p
        .cmd(&["check", "--branch", "main", "--json"])
        .stdout_json()
        .stderr(json_error(
            3,
            "not_found",
            "3 of 4 secrets used by the backend have no value in branch:main nor in shared: \
             GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET, SQL_CONNECTION_STRING",
        ))
        .fails(3)
        .json();
    assert_eq!(
        branch["secrets"][0]["path"],
        format!("/amplify/shared/{APP_ID}/API_KEY")
    );
}

#[test]
fn node_modules_are_skipped_and_unparsable_sources_fail() {
    let p = project();
    for name in [
        "GOOGLE_CLIENT_ID",
        "GOOGLE_CLIENT_SECRET",
        "API_KEY",
        "SQL_CONNECTION_STRING",
    ] {
        p.set(name, "v", &["--shared"]);
    }
    let vendored = p.root().join("amplify/node_modules/some-lib");
    std::fs::create_dir_all(&vendored).unwrap();
    std::fs::write(
        vendored.join("index.js"),
        "import { secret } from '@aws-amplify/backend';\nsecret('VENDORED');\n",
    )
    .unwrap();
    p.cmd(&["check"])
        .stderr(format!("{STRIPE_WARNING}{ALL_PRESENT}"))
        .success();

    std::fs::write(
        p.root().join("amplify/extra.mts"),
        "import { secret as s } from '@aws-amplify/backend';\nexport const x = s(`EXTRA`);\n",
    )
    .unwrap();
    p.cmd(&["check"])
        .stdout("amplify/extra.mts:2: EXTRA has no value in branch:main nor in shared\n")
        .stderr(format!(
            "{STRIPE_WARNING}error: 1 of 5 secrets used by the backend has no value in \
             branch:main nor in shared: EXTRA\n"
        ))
        .fails(3);

    std::fs::write(p.root().join("amplify/broken.ts"), "export const x = {;\n").unwrap();
    p.cmd(&["check"])
        .stderr_has("cannot parse amplify/broken.ts:1")
        .fails(5);
}

#[test]
fn no_backend_is_not_found() {
    let p = Project::initialized();
    p.cmd(&["check"]).stderr_has("amplify").fails(3);
}

#[test]
fn remote_check_reads_the_branch_path_then_the_shared_path() {
    let moto = ampsecret_testkit::moto::MotoServer::start();
    let app = ampsecret_testkit::ssm::unique_app_id();
    let p = Project::with_app(&moto.endpoint(), &app);
    p.add_backend_fixture();
    // Every name has a local value, so only SSM can be missing something.
    for name in [
        "GOOGLE_CLIENT_ID",
        "GOOGLE_CLIENT_SECRET",
        "API_KEY",
        "SQL_CONNECTION_STRING",
    ] {
        p.set(name, "v", &["--branch", "main"]);
    }
    p.cmd(&["check", "--branch", "main"])
        .stderr(format!("{STRIPE_WARNING}{ALL_PRESENT}"))
        .success();

    let remote = ampsecret_testkit::ssm::Ssm::new(&moto.endpoint());
    let h = ampsecret::amplify::backend_hash(&app, "main");
    remote.put(
        &format!("/amplify/{app}/main-branch-{h}/GOOGLE_CLIENT_ID"),
        "id",
    );
    remote.put(
        &format!("/amplify/{app}/main-branch-{h}/SQL_CONNECTION_STRING"),
        "pg",
    );
    remote.put(&format!("/amplify/shared/{app}/API_KEY"), "shared key");
    let out = p
        .cmd(&["check", "--branch", "main", "--remote", "--json"])
        .stdout_json()
        .stderr(json_error(
            3,
            "not_found",
            "1 of 4 secrets used by the backend has no value in branch:main nor in shared \
             (in the vault or in SSM): GOOGLE_CLIENT_SECRET",
        ))
        .fails(3);
    let report = out.json();
    assert_eq!(
        report["missing"],
        serde_json::json!(["GOOGLE_CLIENT_SECRET"])
    );
    let api = report["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "API_KEY")
        .unwrap();
    assert_eq!(api["remote"], true, "found through the shared fallback");

    remote.put(
        &format!("/amplify/{app}/main-branch-{h}/GOOGLE_CLIENT_SECRET"),
        "s",
    );
    p.cmd(&["check", "--branch", "main", "--remote"])
        .stderr(format!("{STRIPE_WARNING}{ALL_PRESENT}"))
        .success();
}
