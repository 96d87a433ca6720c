//! Effective values: what a deployment resolves (the scope's value, else the shared one).

use crate::support::{APP_ID, Project};

#[test]
fn get_effective_falls_back_to_shared() {
    let p = Project::initialized();
    p.set("API_KEY", "shared-key", &["--shared"]);
    p.set("DB_URL", "shared-db", &["--shared"]);
    p.set("DB_URL", "main-db", &["--branch", "main"]);

    // Without --effective a branch holds only its own values.
    // The error says where the name is and how to read it from there.
    p.cmd(&["get", "API_KEY", "--branch", "main"])
        .stderr(
            "error: no secret API_KEY in branch:main; it is in shared: pass --shared, or \
             --effective for what a deployment reads (its own value, else the shared one)\n",
        )
        .fails(3);
    assert_eq!(
        p.get("API_KEY", &["--effective", "--branch", "main"]),
        "shared-key"
    );
    assert_eq!(
        p.get("DB_URL", &["--effective", "--branch", "main"]),
        "main-db"
    );
    assert_eq!(
        p.get("DB_URL", &["--effective", "--branch", "dev"]),
        "shared-db"
    );
    assert_eq!(p.get("DB_URL", &["--effective", "--shared"]), "shared-db");
    p.cmd(&["get", "NOPE", "--effective", "--branch", "main"])
        .stderr_has("no secret NOPE in branch:main nor in shared")
        .fails(3);
}

#[test]
fn get_effective_json_shows_the_path_amplify_reads() {
    let p = Project::initialized();
    p.set("API_KEY", "shared-key", &["--shared"]);
    p.set("OWN", "own", &["--sandbox=alice"]);
    p.set("OWN", "shared-own", &["--shared=my-app"]);

    let doc = p
        .cmd(&[
            "get",
            "API_KEY",
            "--effective",
            "--branch",
            "main",
            "--json",
        ])
        .stdout_json()
        .success()
        .json();
    assert_eq!(doc["source"], "shared");
    assert_eq!(doc["scope"], "branch:main");
    assert_eq!(doc["path"], format!("/amplify/shared/{APP_ID}/API_KEY"));
    assert_eq!(doc["value"], "shared-key");
    assert_eq!(doc["shadows_shared"], false);

    // A sandbox falls back to the shared namespace named after the package (what Amplify
    // reads: /amplify/shared/my-app), not to the app id's.
    p.cmd(&["get", "API_KEY", "--effective", "--sandbox=alice"])
        .stderr(
            "error: no secret API_KEY in sandbox:alice nor in shared:my-app; it is in shared: \
             pass --shared\n",
        )
        .fails(3);
    p.set("API_KEY", "package-key", &["--shared=my-app"]);
    let doc = p
        .cmd(&["get", "API_KEY", "--effective", "--sandbox=alice", "--json"])
        .stdout_json()
        .success()
        .json();
    assert_eq!(doc["source"], "shared:my-app");
    assert_eq!(doc["value"], "package-key");
    assert_eq!(doc["path"], "/amplify/shared/my-app/API_KEY");

    let doc = p
        .cmd(&["get", "OWN", "--effective", "--sandbox=alice", "--json"])
        .stdout_json()
        .success()
        .json();
    assert_eq!(doc["source"], "sandbox:alice");
    assert_eq!(doc["shadows_shared"], true);
    assert_eq!(doc["value"], "own");
    let path = doc["path"].as_str().unwrap();
    assert!(
        path.starts_with("/amplify/myapp/alice-sandbox-") && path.ends_with("/OWN"),
        "{path}"
    );
}

#[test]
fn list_effective_shows_sources_and_shadowing() {
    let p = Project::initialized();
    p.set("A_SHARED", "1", &["--shared"]);
    p.set("B_BOTH", "2", &["--shared"]);
    p.set("B_BOTH", "3", &["--branch", "main"]);
    p.set("C_MAIN", "4", &["--branch", "main"]);
    p.set("D_OTHER", "5", &["--branch", "dev"]);

    let rows = p
        .cmd(&["list", "--effective", "--branch", "main", "--json"])
        .stdout_json()
        .success()
        .json();
    let rows = rows.as_array().unwrap();
    let summary: Vec<(&str, &str, bool)> = rows
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap(),
                r["source"].as_str().unwrap(),
                r["shadows_shared"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("A_SHARED", "shared", false),
            ("B_BOTH", "branch:main", true),
            ("C_MAIN", "branch:main", false)
        ]
    );
    assert_eq!(
        rows[0]["path"],
        format!("/amplify/shared/{APP_ID}/A_SHARED")
    );
    assert_eq!(
        rows[1]["path"],
        format!("/amplify/{APP_ID}/main-branch-779dbfc7c3/B_BOTH")
    );

    let text = p
        .cmd(&["list", "--effective", "--branch", "main"])
        .stdout(concat!(
            "NAME      SOURCE       NOTE\n",
            "A_SHARED  shared\n",
            "B_BOTH    branch:main  shadows shared\n",
            "C_MAIN    branch:main\n"
        ))
        .success()
        .stdout;
    let b_line = text.lines().find(|l| l.starts_with("B_BOTH")).unwrap();
    assert!(
        b_line.contains("branch:main") && b_line.contains("shadows shared"),
        "{text}"
    );
    let a_line = text.lines().find(|l| l.starts_with("A_SHARED")).unwrap();
    assert!(
        a_line.contains("shared") && !a_line.contains("shadows"),
        "{text}"
    );
    for value in ["1", "2", "3", "4"] {
        assert!(
            !text
                .lines()
                .skip(1)
                .any(|l| l.split_whitespace().any(|w| w == value)),
            "no values: {text}"
        );
    }

    // A sandbox falls back to its package name's namespace, not to the app id's.
    p.set("A_SHARED", "6", &["--shared=my-app"]);
    p.set("B_BOTH", "7", &["--shared=my-app"]);
    let sandbox = p
        .cmd(&["list", "--effective", "--sandbox=bob", "--json"])
        .stdout_json()
        .success()
        .json();
    let paths: Vec<&str> = sandbox
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "/amplify/shared/my-app/A_SHARED",
            "/amplify/shared/my-app/B_BOTH"
        ]
    );
    assert!(
        sandbox
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["source"] == "shared:my-app"),
        "{sandbox}"
    );

    p.cmd(&["list", "--effective", "--all"])
        .stderr(
            "error: the argument '--effective' cannot be used with '--all' \
             (see 'ampsecret list --help')\n",
        )
        .fails(2);
}
