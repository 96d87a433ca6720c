//! `push --tag` and config.toml's `[tags]`: tags go on with AddTagsToResource only where they
//! differ, never as a new value version; `diff` shows what is missing. And the target line
//! push, pull and diff print.

use crate::support::{Project, main_prefix, ssm_line};
use ampsecret_testkit::fault_proxy::{FaultConfig, FaultProxy};
use ampsecret_testkit::moto::MotoServer;
use ampsecret_testkit::ssm::{Ssm, unique_app_id};
use std::collections::BTreeMap;

fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn push_tags_new_and_existing_parameters_without_a_new_version() {
    let moto = MotoServer::start();
    let proxy = FaultProxy::start(moto.addr(), FaultConfig::default());
    let app = unique_app_id();
    let p = Project::with_app(&proxy.endpoint(), &app);
    let ssm = Ssm::new(&moto.endpoint());
    let prefix = main_prefix(&app);
    let (old, new) = (format!("{prefix}/OLD"), format!("{prefix}/NEW"));
    p.set("OLD", "old-value", &[]);
    p.cmd(&["push", "--yes"]).stderr_any().success();
    assert_eq!(ssm.history(&old).len(), 1);
    p.set("NEW", "new-value", &[]);

    p.cmd(&["push", "--yes", "--tag", "team=web", "--tag", "env=prod"])
        .stderr(format!(
            "{}Plan for {prefix} (branch:main):\n\
             \x20 + NEW  create (new)\n\
             \x20 # NEW  tag env=prod, team=web\n\
             \x20 # OLD  tag env=prod, team=web\n\
             Applied 1 change to {prefix}: 1 created.\n\
             Tagged 2 parameters in {prefix}.\n",
            ssm_line(&proxy.endpoint(), true)
        ))
        .success();
    let want = tags(&[("team", "web"), ("env", "prod")]);
    assert_eq!(ssm.tags(&old), want);
    assert_eq!(ssm.tags(&new), want);
    assert_eq!(ssm.history(&old).len(), 1, "tagging wrote no new version");
    assert_eq!(ssm.history(&new).len(), 1);
    assert_eq!(proxy.stats().op("AddTagsToResource").forwarded, 2);

    // The same tags again: compared (ListTagsForResource), and no tagging call at all.
    let puts = proxy.stats().op("PutParameter").forwarded;
    let again = p
        .cmd(&[
            "push", "--yes", "--tag", "team=web", "--tag", "env=prod", "--json",
        ])
        .stdout_json()
        .success()
        .json();
    assert_eq!(
        again["api_calls"]["AddTagsToResource"],
        serde_json::Value::Null
    );
    assert_eq!(again["api_calls"]["ListTagsForResource"], 2);
    assert!(again.get("tagged").is_none(), "{again}");
    let stats = proxy.stats();
    assert_eq!(stats.op("AddTagsToResource").total(), 2);
    assert_eq!(stats.op("PutParameter").total(), puts);

    // One tag changed: only that one is sent, and only where it differs; the plan says what
    // it replaces.
    ssm_tag(&ssm, &old, "team", "ops");
    p.cmd(&[
        "push",
        "--dry-run",
        "--tag",
        "team=web",
        "--tag",
        "env=prod",
    ])
    .stderr_has("  # OLD  tag team=web (was ops)\n")
    .success();
    let changed = p
        .cmd(&[
            "push", "--yes", "--tag", "team=web", "--tag", "env=prod", "--json",
        ])
        .stdout_json()
        .success()
        .json();
    assert_eq!(changed["tags"][0]["name"], "OLD");
    assert_eq!(
        changed["tags"][0]["tags"],
        serde_json::json!({"team": "web"})
    );
    assert_eq!(changed["tagged"], serde_json::json!(["OLD"]));
    assert_eq!(ssm.tags(&old), want);
    assert_eq!(proxy.stats().op("AddTagsToResource").total(), 3);
    assert_eq!(ssm.history(&old).len(), 1);
}

fn ssm_tag(ssm: &Ssm, name: &str, key: &str, value: &str) {
    let tag = aws_sdk_ssm::types::Tag::builder()
        .key(key)
        .value(value)
        .build()
        .unwrap();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(
            ssm.client
                .add_tags_to_resource()
                .resource_type(aws_sdk_ssm::types::ResourceTypeForTagging::Parameter)
                .resource_id(name)
                .tags(tag)
                .send(),
        )
        .unwrap();
}

#[test]
fn default_tags_from_config_show_in_diff_and_go_on_with_push() {
    let moto = MotoServer::start();
    let app = unique_app_id();
    let p = Project::with_app(&moto.endpoint(), &app);
    let ssm = Ssm::new(&moto.endpoint());
    let prefix = main_prefix(&app);
    p.set("K", "v", &[]);
    p.cmd(&["push", "--yes"]).stderr_any().success();
    // Without default tags, diff reads no tags and finds nothing to tag.
    p.cmd(&["diff", "--exit-code"])
        .stdout(format!("{prefix} (branch:main)\n  = K  unchanged\n"))
        .stderr(ssm_line(&moto.endpoint(), true))
        .success();

    let config = p.vault_dir().join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{text}[tags]\nowner = \"ops\"\n")).unwrap();
    p.cmd(&["diff"])
        .stdout(format!(
            "{prefix} (branch:main)\n  = K  unchanged; tags: owner=ops\n"
        ))
        .stderr_any()
        .success();
    let report = p
        .cmd(&["diff", "--json", "--exit-code"])
        .stdout_json()
        .fails(9)
        .json();
    assert_eq!(
        report["secrets"][0]["tags_missing"],
        serde_json::json!({"owner": "ops"})
    );
    p.cmd(&["push", "--yes", "--tag", "team=web"])
        .stderr_any()
        .success();
    assert_eq!(
        ssm.tags(&format!("{prefix}/K")),
        tags(&[("owner", "ops"), ("team", "web")])
    );
    p.cmd(&["diff", "--exit-code"])
        .stdout_any()
        .stderr_any()
        .success();
    assert_eq!(ssm.history(&format!("{prefix}/K")).len(), 1);

    // A tag SSM would refuse, in config.toml or on the command line, stops before any call.
    p.cmd(&["push", "--yes", "--tag", "aws:owner=x"])
        .stderr_has("tag key 'aws:owner': the aws: prefix is reserved by AWS")
        .fails(2);
    std::fs::write(&config, format!("{text}[tags]\n\"bad;key\" = \"x\"\n")).unwrap();
    p.cmd(&["push", "--yes"])
        .stderr_has("config.toml: [tags]: tag bad;key: ';' is not allowed")
        .fails(4);
}

#[test]
fn a_committed_default_tag_never_replaces_a_value_ssm_holds() {
    let moto = MotoServer::start();
    let app = unique_app_id();
    let p = Project::with_app(&moto.endpoint(), &app);
    let ssm = Ssm::new(&moto.endpoint());
    let parameter = format!("{}/K", main_prefix(&app));
    p.set("K", "v", &[]);
    p.cmd(&["push", "--yes", "--tag", "team=payments"])
        .stderr_any()
        .success();
    // Someone who can commit, but cannot read the vault, edits the default tags.
    let config = p.vault_dir().join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!("{text}[tags]\nteam = \"public\"\nenv = \"prod\"\n"),
    )
    .unwrap();
    p.cmd(&["diff"])
        .stdout_has(
            "  = K  unchanged; tags: env=prod, kept team=payments (config.toml says public; --tag team=… replaces it)\n",
        )
        .stderr_any()
        .success();
    let out = p.cmd(&["push", "--yes", "--json"]).stdout_json().success();
    let report = out.json();
    assert_eq!(
        report["tags"][0]["tags"],
        serde_json::json!({"env": "prod"})
    );
    assert_eq!(
        report["tags"][0]["kept"],
        serde_json::json!({"team": "payments"})
    );
    assert_eq!(
        ssm.tags(&parameter),
        tags(&[("team", "payments"), ("env", "prod")])
    );
    // Nothing left to add: the kept tag alone asks for no confirmation and makes no call.
    p.cmd(&["push"])
        .stderr_has(
            "  = K  kept team=payments (config.toml says public; --tag team=… replaces it)\n",
        )
        .success();
    // The one pushing can replace it, and sees what it replaces.
    p.cmd(&["push", "--yes", "--tag", "team=public"])
        .stderr_has("  # K  tag team=public (was payments)\n")
        .success();
    assert_eq!(
        ssm.tags(&parameter),
        tags(&[("team", "public"), ("env", "prod")])
    );
}

#[test]
fn push_pull_and_diff_name_region_account_and_endpoint() {
    let moto = MotoServer::start();
    let app = unique_app_id();
    let p = Project::with_app(&moto.endpoint(), &app);
    p.set("K", "v", &[]);
    // Nothing read from SSM yet carries an ARN: the account is not known.
    let first = p
        .cmd(&["push", "--yes", "--json"])
        .stdout_json()
        .success()
        .json();
    assert_eq!(
        first["target"],
        serde_json::json!({"region": "us-east-1", "account": null, "endpoint": moto.endpoint()})
    );
    let known = serde_json::json!({"region": "us-east-1", "account": "123456789012", "endpoint": moto.endpoint()});
    let diff = p.cmd(&["diff", "--json"]).stdout_json().success().json();
    assert_eq!(diff["target"], known);
    let pull = p.cmd(&["pull", "--json"]).stdout_json().success().json();
    assert_eq!(pull["target"], known);
    let out = p.cmd(&["pull", "--dry-run"]).stderr_any().success();
    assert!(
        out.stderr.starts_with(&ssm_line(&moto.endpoint(), true)),
        "{}",
        out.stderr
    );
}
