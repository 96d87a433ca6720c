//! `doctor` against moto and against dead endpoints, and AWS failures as one line: no
//! credentials, AccessDenied, an endpoint that does not answer.

use crate::support::{Project, ssm_line};
use ampsecret_testkit::moto::MotoServer;
use ampsecret_testkit::ssm::unique_app_id;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant};

/// Drops the fake credentials the project carries, and the switch that keeps the SDK off
/// the instance-metadata service: the whole standard chain runs and finds nothing.
fn without_credentials(p: Project) -> Project {
    p.remove_env("AWS_ACCESS_KEY_ID")
        .remove_env("AWS_SECRET_ACCESS_KEY")
        .remove_env("AWS_EC2_METADATA_DISABLED")
}

#[test]
fn doctor_passes_against_the_emulator() {
    let moto = MotoServer::start();
    let app = unique_app_id();
    let p = Project::with_app(&moto.endpoint(), &app);
    p.set("API_KEY", "doctor-canary-value", &[]);
    p.cmd(&["push", "--yes"]).stderr_any().success();
    let report = p.cmd(&["doctor", "--json"]).stdout_json().success().json();
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["scope"], "branch:main");
    assert_eq!(report["target"]["region"], "us-east-1");
    assert_eq!(report["target"]["account"], "123456789012");
    assert_eq!(report["target"]["endpoint"], moto.endpoint());
    let status = |check: &str| {
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["check"] == check)
            .unwrap_or_else(|| panic!("no check {check}: {report}"))["status"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    for check in [
        "key",
        "vault",
        "file_modes",
        "credentials",
        "region",
        "endpoint",
        "read_scope",
        "read_shared",
        "standard_tier",
        "kms_key",
    ] {
        assert_eq!(status(check), "pass", "{check}: {report}");
    }
    // moto 5.2.1 does not implement GetServiceSetting: not known, not a failure.
    assert_eq!(status("high_throughput"), "unknown");
    assert_eq!(
        status("git_drivers"),
        "skipped",
        "no real git repository here"
    );

    let text = p.cmd(&["doctor"]).stdout_any().success();
    assert!(text.stdout.contains("✓ endpoint: "), "{}", text.stdout);
    assert!(
        text.stdout.ends_with("No problem found.\n"),
        "{}",
        text.stdout
    );
    assert!(!text.stdout.contains('✗'), "{}", text.stdout);
    assert!(!text.stdout.contains("doctor-canary-value"));
}

#[test]
fn doctor_checks_git_drivers_in_a_real_repository() {
    let moto = MotoServer::start();
    let p = Project::with_app(&moto.endpoint(), &unique_app_id());
    let git = |args: &[&str]| {
        let status = std::process::Command::new("git")
            .args(args)
            .current_dir(p.root())
            .env("HOME", p.temp().join("home"))
            .output()
            .unwrap();
        assert!(status.status.success(), "git {args:?}: {status:?}");
    };
    git(&["init", "-q", "-b", "main"]);
    let out = p.cmd(&["doctor"]).stdout_any().fails(10);
    assert!(
        out.stdout.contains("✗ git_drivers: ")
            && out.stdout.contains("    fix: run 'ampsecret git-setup'"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.ends_with("1 problem to fix.\n"),
        "{}",
        out.stdout
    );
    p.cmd(&["git-setup"]).stderr_any().success();
    let out = p.cmd(&["doctor"]).stdout_any().success();
    assert!(out.stdout.contains("✓ git_drivers: "), "{}", out.stdout);
}

/// A port nothing listens on.
fn closed_port() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

#[test]
fn doctor_names_a_dead_endpoint_within_seconds() {
    // One endpoint refuses connections; the other accepts them (the kernel's backlog) and
    // never answers, the slower death.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    for endpoint in [
        format!("http://{}", closed_port()),
        format!("http://{}", silent.local_addr().unwrap()),
    ] {
        let p = Project::with_app(&endpoint, &unique_app_id());
        let started = Instant::now();
        let out = p.cmd(&["doctor"]).stdout_any().fails(10);
        let elapsed = started.elapsed();
        eprintln!("doctor named the dead endpoint {endpoint} in {elapsed:.1?}");
        assert!(
            out.stdout
                .contains(&format!("✗ endpoint: {endpoint} does not answer")),
            "{}",
            out.stdout
        );
        assert!(
            out.stdout
                .contains("- read_scope: skipped: endpoint unreachable"),
            "{}",
            out.stdout
        );
        // The issue's bound, generous for a loaded machine (it takes 0.1 s and about 8 s).
        assert!(elapsed < Duration::from_secs(20), "{elapsed:?}");
        let report = p.cmd(&["doctor", "--json"]).stdout_json().fails(10).json();
        assert_eq!(report["ok"], false);
    }
}

#[test]
fn doctor_names_missing_credentials_and_a_missing_region() {
    let moto = MotoServer::start();
    let p = without_credentials(Project::with_app(&moto.endpoint(), &unique_app_id()));
    let out = p.cmd(&["doctor"]).stdout_any().fails(10);
    assert!(
        out.stdout.contains("✗ credentials: none found\n    fix: run 'aws sso login', set AWS_PROFILE, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\n"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("- endpoint: skipped: no credentials"));
    let out = p
        .cmd(&["doctor"])
        .env_remove("AWS_REGION")
        .stdout_any()
        .fails(10);
    assert!(
        out.stdout
            .contains("✗ region: no AWS Region\n    fix: no AWS region: pass --region"),
        "{}",
        out.stdout
    );
}

#[test]
fn without_credentials_diff_fails_fast_in_one_line_without_sdk_logs() {
    let moto = MotoServer::start();
    let p = without_credentials(Project::with_app(&moto.endpoint(), &unique_app_id()));
    p.set("K", "v", &[]);
    let started = Instant::now();
    let out = p
        .cmd(&["diff"])
        .stderr_has("no usable AWS credentials: run 'aws sso login', set AWS_PROFILE, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
        .fails(6);
    let elapsed = started.elapsed();
    eprintln!("diff without credentials failed in {elapsed:.1?}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    assert!(out.stderr.lines().count() <= 3, "{}", out.stderr);
    for sdk in [
        "WARN",
        "aws_config",
        "dispatch failure",
        "Ec2InstanceMetadata",
    ] {
        assert!(!out.stderr.contains(sdk), "{sdk}: {}", out.stderr);
    }
    // The SDK's own account is there at -vv.
    let detail = p.cmd(&["-vv", "diff"]).stderr_any().fails(6);
    assert!(
        detail.stderr.contains("dispatch failure"),
        "{}",
        detail.stderr
    );
}

/// An SSM stand-in that answers every call with `answer(operation)`: (HTTP status, body).
fn stub_ssm(answer: fn(&str, &str) -> (u16, String)) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let (mut operation, mut length) = (String::new(), 0);
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(target) = lower.strip_prefix("x-amz-target: amazonssm.") {
                    operation = line[line.len() - target.len()..].trim().to_owned();
                }
                if let Some(n) = lower.strip_prefix("content-length: ") {
                    length = n.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let (status, answer) = answer(&operation, &String::from_utf8_lossy(&body));
            let _ = write!(
                reader.get_mut(),
                "HTTP/1.1 {status} X\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    addr
}

#[test]
fn access_denied_names_the_action_and_the_parameter_never_the_value() {
    const CANARY: &str = "denied-canary-0ddba11";
    // Reads are allowed (an empty scope); every write is refused with a message that echoes
    // the request, as an over-helpful proxy might.
    let addr = stub_ssm(|operation, body| match operation {
        "GetParametersByPath" => (200, r#"{"Parameters":[]}"#.into()),
        _ => (
            400,
            format!(
                r#"{{"__type":"AccessDeniedException","message":"not authorized: {}"}}"#,
                body.replace('"', "'")
            ),
        ),
    });
    let app = unique_app_id();
    let p = Project::with_app(&format!("http://{addr}"), &app);
    p.set("K", CANARY, &[]);
    let out = p.cmd(&["push", "--yes"]).stderr_any().fails(6);
    let parameter = format!(
        "/amplify/{app}/main-branch-{}/K",
        ampsecret::amplify::backend_hash(&app, "main")
    );
    assert!(
        out.stderr.contains(&format!(
            "  ! K  create failed: AccessDenied on ssm:PutParameter for {parameter}: the role or user needs ssm:PutParameter on it\n"
        )),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .starts_with(&ssm_line(&format!("http://{addr}"), false))
    );
    let loud = p.cmd(&["-vvv", "push", "--yes"]).stderr_any().fails(6);
    assert!(!format!("{}{}", out.stderr, loud.stderr).contains(CANARY));

    // A denied read names the read and the path, and says KMS may be why.
    let denied = stub_ssm(|_, _| {
        (
            400,
            r#"{"__type":"AccessDeniedException","message":"no"}"#.into(),
        )
    });
    let p = Project::with_app(&format!("http://{denied}"), &app);
    p.set("K", "v", &[]);
    p.cmd(&["diff"])
        .stderr_has(&format!(
            "error: cannot read {} from SSM: AccessDenied on ssm:GetParametersByPath for {0}: the role or user needs ssm:GetParametersByPath on it (and kms:Decrypt on the parameters' key); nothing was changed",
            parameter.trim_end_matches("/K")
        ))
        .fails(6);
    // doctor: the endpoint answers, the read is refused, with the grant that fixes it.
    let out = p.cmd(&["doctor"]).stdout_any().fails(10);
    assert!(out.stdout.contains("✓ endpoint: "), "{}", out.stdout);
    assert!(
        out.stdout.contains("✗ read_scope: cannot read ")
            && out
                .stdout
                .contains("    fix: grant ssm:GetParametersByPath"),
        "{}",
        out.stdout
    );
}

#[test]
fn doctor_names_where_the_credentials_come_from() {
    let moto = MotoServer::start();
    let p = Project::with_app(&moto.endpoint(), &unique_app_id());
    let credentials = |p: &Project| {
        let report = p.cmd(&["doctor", "--json"]).stdout_json().success().json();
        let check = report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["check"] == "credentials")
            .unwrap()
            .clone();
        assert_eq!(check["status"], "pass", "{report}");
        check["detail"].as_str().unwrap().to_owned()
    };
    assert_eq!(credentials(&p), "from environment variables");
    // A profile's keys in ~/.aws/credentials, chosen with AWS_PROFILE.
    let aws = p.temp().join("home/.aws");
    std::fs::create_dir_all(&aws).unwrap();
    std::fs::write(
        aws.join("credentials"),
        "[dev]\naws_access_key_id = test\naws_secret_access_key = test\n",
    )
    .unwrap();
    let p = p
        .remove_env("AWS_ACCESS_KEY_ID")
        .remove_env("AWS_SECRET_ACCESS_KEY")
        .env("AWS_PROFILE", "dev");
    assert_eq!(credentials(&p), "from a profile's keys (profile dev)");
}
