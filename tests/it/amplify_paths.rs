//! The path convention against vectors computed by Amplify's own published code, plus
//! invariants that must hold for any input.

use ampsecret::amplify::{BackendKind, ParameterScope, backend_hash, sanitize};
use proptest::prelude::*;

fn scope(kind: &str, namespace: &str, name: Option<&str>) -> ParameterScope {
    match kind {
        "shared" => ParameterScope::Shared {
            namespace: namespace.into(),
        },
        "branch" | "sandbox" | "standalone" => ParameterScope::Backend {
            kind: match kind {
                "branch" => BackendKind::Branch,
                "sandbox" => BackendKind::Sandbox,
                _ => BackendKind::Standalone,
            },
            namespace: namespace.into(),
            name: name.expect("backend vectors have a name").into(),
        },
        other => panic!("unknown kind {other}"),
    }
}

#[test]
fn reproduces_every_amplify_vector() {
    let text = include_str!("../fixtures/amplify-vectors.jsonl");
    let mut count = 0;
    let mut standalone = 0;
    for (line_no, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let s = scope(
            v["kind"].as_str().unwrap(),
            v["app_id_or_namespace"].as_str().unwrap(),
            v["name"].as_str(),
        );
        let secret = v["secret"].as_str().unwrap();
        let at = format!("vector line {} ({})", line_no + 1, v["note"]);
        assert_eq!(
            s.parameter_name(secret),
            v["path"].as_str().unwrap(),
            "{at}"
        );
        assert_eq!(s.prefix(), v["prefix"].as_str().unwrap(), "{at}");
        assert_eq!(s.stack_name().as_deref(), v["stack_name"].as_str(), "{at}");
        count += 1;
        standalone += usize::from(v["kind"] == "standalone");
    }
    assert_eq!(count, 70, "the vector file has 70 cases");
    assert!(standalone >= 10, "{standalone} standalone cases");
}

/// A standalone deployment as `ampsecret` builds it from `--standalone=ID` gives the
/// vectors' paths: Amplify's `{ namespace: ID, name: "backend", type: "standalone" }`.
#[test]
fn standalone_scopes_reproduce_the_vectors() {
    let app = ampsecret::scope::AppIdentity::default();
    let text = include_str!("../fixtures/amplify-vectors.jsonl");
    let mut checked = 0;
    for line in text.lines().filter(|l| l.contains("\"standalone\"")) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let id = v["app_id_or_namespace"].as_str().unwrap();
        assert_eq!(v["name"], "backend");
        if ampsecret::amplify::validate_standalone_id(id).is_err() {
            continue;
        }
        let key = ampsecret::scope::ScopeKey::Standalone(id.into());
        let scope = key.parameter_scope(&app).unwrap();
        assert_eq!(
            scope.parameter_name(v["secret"].as_str().unwrap()),
            v["path"].as_str().unwrap()
        );
        // Its fallback is the shared namespace of the identifier.
        let fallback = ampsecret::effective::fallback_parameter_scope(&scope);
        assert_eq!(fallback.prefix(), format!("/amplify/shared/{id}"));
        checked += 1;
    }
    assert!(checked >= 10, "{checked} standalone vectors checked");
}

fn any_text() -> impl Strategy<Value = String> {
    // ASCII, punctuation, accents, CJK and emoji, long enough to hit truncation.
    proptest::string::string_regex("[a-zA-Z0-9/_.@ -]{0,80}|[a-zé漢😀/-]{0,160}").unwrap()
}

proptest! {
    #[test]
    fn backend_prefix_invariants(
        namespace in any_text(),
        name in any_text(),
        kind in prop_oneof![
            Just(BackendKind::Branch),
            Just(BackendKind::Sandbox),
            Just(BackendKind::Standalone),
        ],
    ) {
        let s = ParameterScope::Backend { kind, namespace: namespace.clone(), name: name.clone() };
        let prefix = s.prefix();
        prop_assert!(prefix.len() <= 128, "prefix {} is {} chars", prefix, prefix.len());
        prop_assert!(s.stack_name().unwrap().len() <= 127);
        let rest = prefix.strip_prefix("/amplify/").unwrap();
        let (ns, tail) = rest.split_once('/').unwrap();
        prop_assert!(ns.chars().all(|c| c.is_ascii_alphanumeric()));
        prop_assert!(sanitize(&namespace).starts_with(ns));
        let parts: Vec<&str> = tail.split('-').collect();
        prop_assert_eq!(parts.len(), 3);
        prop_assert!(parts[0].chars().all(|c| c.is_ascii_alphanumeric()) && parts[0].len() <= 50);
        prop_assert_eq!(parts[1], kind.as_str());
        // The hash is over the raw inputs, never the sanitized ones.
        prop_assert_eq!(parts[2], backend_hash(&namespace, &name));
        prop_assert_eq!(s.parameter_name("X"), format!("{prefix}/X"));
    }

    #[test]
    fn distinct_raw_names_get_distinct_hashes_even_when_sanitized_alike(name in "[a-z]{1,10}") {
        let with_slash = format!("feature/{name}");
        let with_dash = format!("feature-{name}");
        let a = ParameterScope::Backend { kind: BackendKind::Branch, namespace: "app".into(), name: with_slash };
        let b = ParameterScope::Backend { kind: BackendKind::Branch, namespace: "app".into(), name: with_dash };
        prop_assert_ne!(a.prefix(), b.prefix());
    }

    #[test]
    fn shared_prefix_is_verbatim(app in "[a-zA-Z0-9]{1,20}") {
        let s = ParameterScope::Shared { namespace: app.clone() };
        prop_assert_eq!(s.prefix(), format!("/amplify/shared/{app}"));
    }
}
