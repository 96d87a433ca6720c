//! Tests of the test helpers themselves: `MotoServer` and the fault-injecting `FaultProxy`,
//! driven by the real `aws-sdk-ssm` client. Other test files rely on these helpers to stand in
//! for SSM's throttling and limits, so they must behave the way SSM does.

use std::time::{Duration, Instant};

use aws_sdk_ssm::config::retry::RetryConfig;
use aws_sdk_ssm::config::timeout::TimeoutConfig;
use aws_sdk_ssm::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_ssm::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ssm::types::{ParameterTier, ParameterType};

use ampsecret_testkit::fault_proxy::{FaultConfig, FaultProxy};
use ampsecret_testkit::moto::MotoServer;

/// An SSM client aimed at `endpoint` with fake static credentials (no IMDS, no profile files).
fn client(endpoint: &str, retry: RetryConfig) -> aws_sdk_ssm::Client {
    let config = aws_sdk_ssm::config::Builder::new()
        .behavior_version(BehaviorVersion::latest())
        .credentials_provider(Credentials::new(
            "test",
            "test",
            None,
            None,
            "fault-proxy-test",
        ))
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .retry_config(retry)
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(20))
                .build(),
        )
        .build();
    aws_sdk_ssm::Client::from_conf(config)
}

fn no_retry(endpoint: &str) -> aws_sdk_ssm::Client {
    client(endpoint, RetryConfig::disabled())
}

/// The error code the SDK parsed, or a description of a non-service error.
fn code<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> String {
    match err.code() {
        Some(code) => code.to_string(),
        None => format!("<no code: {}>", kind(err)),
    }
}

fn kind<E, R>(err: &SdkError<E, R>) -> &'static str {
    match err {
        SdkError::ConstructionFailure(_) => "construction",
        SdkError::TimeoutError(_) => "timeout",
        SdkError::DispatchFailure(_) => "dispatch",
        SdkError::ResponseError(_) => "response",
        SdkError::ServiceError(_) => "service",
        _ => "other",
    }
}

async fn put(ssm: &aws_sdk_ssm::Client, name: &str, value: &str) {
    ssm.put_parameter()
        .name(name)
        .value(value)
        .r#type(ParameterType::SecureString)
        .overwrite(true)
        .send()
        .await
        .unwrap_or_else(|e| panic!("put {name}: {}", aws_sdk_ssm::error::DisplayErrorContext(e)));
}

#[tokio::test]
async fn put_and_get_by_path_round_trip_through_proxy() {
    let moto = MotoServer::start();
    let proxy = FaultProxy::start(moto.addr(), FaultConfig::default());
    let ssm = no_retry(&proxy.endpoint());
    let prefix = "/amplify/shared/fpRoundTrip";

    for i in 0..12 {
        put(
            &ssm,
            &format!("{prefix}/SECRET_{i:02}"),
            &format!("value-{i}"),
        )
        .await;
    }

    let mut found = Vec::new();
    let mut pages = 0;
    let mut token = None;
    loop {
        let page = ssm
            .get_parameters_by_path()
            .path(prefix)
            .recursive(true)
            .with_decryption(true)
            .max_results(10)
            .set_next_token(token)
            .send()
            .await
            .expect("GetParametersByPath");
        pages += 1;
        for p in page.parameters() {
            found.push((
                p.name().unwrap_or_default().to_string(),
                p.value().unwrap_or_default().to_string(),
            ));
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    found.sort();
    let expected: Vec<_> = (0..12)
        .map(|i| (format!("{prefix}/SECRET_{i:02}"), format!("value-{i}")))
        .collect();
    assert_eq!(found, expected);

    let stats = proxy.stats();
    assert_eq!(stats.op("PutParameter").forwarded, 12);
    assert_eq!(stats.op("GetParametersByPath").forwarded, pages);
    assert!(
        pages >= 2,
        "12 parameters at 10 a page need 2+ pages, got {pages}"
    );
    assert_eq!(stats.total().forwarded, stats.total().total(), "{stats:?}");
    assert_eq!(stats.write_times.len(), 12);
}

#[tokio::test]
async fn batch_limits_are_enforced() {
    let moto = MotoServer::start();
    let proxy = FaultProxy::start(moto.addr(), FaultConfig::default());
    let ssm = no_retry(&proxy.endpoint());
    let names: Vec<String> = (0..11).map(|i| format!("/fpBatch/N{i}")).collect();
    put(&ssm, &names[0], "v").await;

    let err = ssm
        .get_parameters()
        .set_names(Some(names.clone()))
        .send()
        .await
        .expect_err("11 names must be rejected");
    assert_eq!(code(&err), "ValidationException");

    let ok = ssm
        .get_parameters()
        .set_names(Some(names[..10].to_vec()))
        .with_decryption(true)
        .send()
        .await
        .expect("10 names are fine");
    assert_eq!(ok.parameters().len(), 1);
    assert_eq!(ok.invalid_parameters().len(), 9);

    let err = ssm
        .delete_parameters()
        .set_names(Some(names.clone()))
        .send()
        .await
        .expect_err("DeleteParameters with 11 names must be rejected");
    assert_eq!(code(&err), "ValidationException");

    let err = ssm
        .get_parameters_by_path()
        .path("/fpBatch")
        .max_results(11)
        .send()
        .await
        .expect_err("MaxResults 11 must be rejected");
    assert_eq!(code(&err), "ValidationException");

    let stats = proxy.stats();
    assert_eq!(stats.op("GetParameters").rejected_validation, 1);
    assert_eq!(stats.op("GetParameters").forwarded, 1);
    assert_eq!(stats.op("DeleteParameters").rejected_validation, 1);
    assert_eq!(stats.op("GetParametersByPath").rejected_validation, 1);
    // Nothing was deleted behind the rejection.
    let still = ssm.get_parameter().name(&names[0]).send().await;
    assert!(still.is_ok(), "{still:?}");
}

#[tokio::test]
async fn value_and_name_rules_are_enforced() {
    let moto = MotoServer::start();
    let proxy = FaultProxy::start(moto.addr(), FaultConfig::default());
    let ssm = no_retry(&proxy.endpoint());
    let big = "x".repeat(5000);

    let err = ssm
        .put_parameter()
        .name("/fpValue/BIG")
        .value(&big)
        .r#type(ParameterType::SecureString)
        .send()
        .await
        .expect_err("5000 bytes need the advanced tier");
    assert_eq!(code(&err), "ValidationException");
    assert!(
        err.message().unwrap_or_default().contains("4096"),
        "{err:?}"
    );

    ssm.put_parameter()
        .name("/fpValue/BIG")
        .value(&big)
        .r#type(ParameterType::SecureString)
        .tier(ParameterTier::Advanced)
        .overwrite(true) // idempotent when a shared moto is reused across runs
        .send()
        .await
        .expect("5000 bytes fit the advanced tier");
    let got = ssm
        .get_parameter()
        .name("/fpValue/BIG")
        .with_decryption(true)
        .send()
        .await
        .expect("get big");
    assert_eq!(got.parameter().and_then(|p| p.value()), Some(big.as_str()));

    let rejected = [
        (
            "/fpValue/HUGE",
            "y".repeat(9000),
            Some(ParameterTier::Advanced),
        ),
        ("/fpValue/REF", "a{{ssm:/other}}b".to_string(), None),
        ("/aws/fpValue", "v".to_string(), None),
        ("/fpValue/bad name", "v".to_string(), None),
        ("fpValue/relative", "v".to_string(), None),
    ];
    for (name, value, tier) in rejected {
        let err = ssm
            .put_parameter()
            .name(name)
            .value(value)
            .r#type(ParameterType::String)
            .set_tier(tier)
            .send()
            .await
            .expect_err(name);
        assert_eq!(code(&err), "ValidationException", "{name}");
    }
    let deep = format!("{}/LEAF", "/l".repeat(15));
    let err = ssm
        .put_parameter()
        .name(&deep)
        .value("v")
        .r#type(ParameterType::String)
        .send()
        .await
        .expect_err("16 levels");
    assert_eq!(code(&err), "ValidationException");

    let stats = proxy.stats();
    assert_eq!(stats.op("PutParameter").rejected_validation, 7);
    assert_eq!(stats.op("PutParameter").forwarded, 1);
}

#[tokio::test]
async fn injected_throttling_parses_as_throttling_exception() {
    let moto = MotoServer::start();
    let config = FaultConfig {
        throttle_fraction: 1.0,
        ..FaultConfig::default()
    };
    let proxy = FaultProxy::start(moto.addr(), config);

    let err = no_retry(&proxy.endpoint())
        .put_parameter()
        .name("/fpThrottle/A")
        .value("v")
        .r#type(ParameterType::String)
        .send()
        .await
        .expect_err("everything is throttled");
    assert_eq!(code(&err), "ThrottlingException");
    assert_eq!(err.message(), Some("Rate exceeded"));
    let raw = err.raw_response().expect("a response was received");
    assert_eq!(raw.status().as_u16(), 400);

    // With retries on, the SDK classifies it as retryable: 3 attempts in all.
    let retrying = client(
        &proxy.endpoint(),
        RetryConfig::standard()
            .with_max_attempts(3)
            .with_initial_backoff(Duration::from_millis(10)),
    );
    let err = retrying
        .get_parameter()
        .name("/fpThrottle/A")
        .send()
        .await
        .expect_err("still throttled");
    assert_eq!(code(&err), "ThrottlingException");

    let stats = proxy.stats();
    assert_eq!(stats.op("PutParameter").throttled, 1);
    assert_eq!(stats.op("GetParameter").throttled, 3);
    assert_eq!(stats.total().forwarded, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_budget_throttles_bursts_and_holds_the_rate() {
    const TPS: f64 = 3.0;
    let moto = MotoServer::start();
    let config = FaultConfig {
        write_budget_tps: Some(TPS),
        ..FaultConfig::default()
    };
    let proxy = FaultProxy::start(moto.addr(), config);
    let ssm = no_retry(&proxy.endpoint());

    // A burst of 20 concurrent puts: only about a bucket's worth gets through.
    let mut burst = tokio::task::JoinSet::new();
    for i in 0..20 {
        let ssm = ssm.clone();
        burst.spawn(async move {
            ssm.put_parameter()
                .name(format!("/fpBudget/BURST_{i}"))
                .value("v")
                .r#type(ParameterType::String)
                .overwrite(true)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| code(&e))
        });
    }
    let mut ok = 0;
    let mut throttled = 0;
    while let Some(result) = burst.join_next().await {
        match result.expect("task") {
            Ok(()) => ok += 1,
            Err(code) if code == "ThrottlingException" => throttled += 1,
            Err(code) => panic!("unexpected error {code}"),
        }
    }
    assert!(ok >= 3, "a full bucket admits 3 at once, got {ok}");
    assert!(throttled > 0, "20 at once must exceed 3 TPS");
    assert_eq!(ok + throttled, 20);

    // Keep pushing as fast as possible for 1.5 s: admissions follow the refill rate.
    let start = Instant::now();
    let mut i = 0;
    while start.elapsed() < Duration::from_millis(1500) {
        let _ = ssm
            .delete_parameter()
            .name(format!("/fpBudget/BURST_{}", i % 20))
            .send()
            .await;
        i += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let stats = proxy.stats();
    let put = stats.op("PutParameter");
    assert_eq!(put.forwarded, ok);
    assert_eq!(put.throttled, throttled);
    let delete = stats.op("DeleteParameter");
    assert!(delete.throttled > 0, "{delete:?}");
    assert!(
        delete.forwarded >= 3,
        "the bucket refills at 3 TPS: {delete:?}"
    );
    stats.check_write_budget(TPS).expect("writes within budget");
    // Deletes of names that were never created fail in moto and are not recorded as writes.
    assert!(stats.write_times.len() as u64 <= put.forwarded + delete.forwarded);
    let span = stats
        .write_times
        .last()
        .zip(stats.write_times.first())
        .map(|(last, first)| last.duration_since(*first).as_secs_f64())
        .unwrap_or(0.0);
    assert!(
        stats.write_times.len() as f64 <= TPS.max(1.0) + TPS * span + 1e-6,
        "{} writes in {span:.2}s",
        stats.write_times.len()
    );
}

/// Outcome of one call as the client saw it, for comparing runs.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Ok,
    Code(String),
    NoResponse(&'static str),
}

async fn run_faulty_calls(
    moto: &MotoServer,
    seed: u64,
) -> (Vec<Outcome>, ampsecret_testkit::fault_proxy::ProxyStats) {
    let proxy = FaultProxy::start(moto.addr(), FaultConfig::default());
    let ssm = no_retry(&proxy.endpoint());
    put(&ssm, "/fpFaults/A", "v").await;
    proxy.set_config(FaultConfig {
        seed,
        error_5xx_fraction: 0.25,
        drop_fraction: 0.25,
        ..FaultConfig::default()
    });
    let mut outcomes = Vec::new();
    for _ in 0..40 {
        let outcome = match ssm.get_parameter().name("/fpFaults/A").send().await {
            Ok(_) => Outcome::Ok,
            Err(e) if e.code().is_some() => Outcome::Code(code(&e)),
            Err(e) => Outcome::NoResponse(kind(&e)),
        };
        outcomes.push(outcome);
    }
    (outcomes, proxy.stats())
}

#[tokio::test]
async fn injected_5xx_and_drops_show_in_stats_and_repeat_per_seed() {
    let moto = MotoServer::start();
    let (outcomes, stats) = run_faulty_calls(&moto, 7).await;
    let get = stats.op("GetParameter");
    assert!(get.injected_5xx > 0, "{get:?}");
    assert!(get.dropped > 0, "{get:?}");
    assert!(get.forwarded > 0, "{get:?}");
    assert_eq!(get.total(), 40);

    let count = |want: &Outcome| outcomes.iter().filter(|o| *o == want).count() as u64;
    assert_eq!(count(&Outcome::Ok), get.forwarded);
    assert_eq!(
        count(&Outcome::Code("InternalServerError".into())),
        get.injected_5xx
    );
    // A connection closed without a response reaches the SDK as a dispatch failure.
    let no_response = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::NoResponse(_)))
        .count() as u64;
    assert_eq!(no_response, get.dropped, "{outcomes:?}");

    // Same seed, same faults on the same sequence of calls.
    let (again, _) = run_faulty_calls(&moto, 7).await;
    assert_eq!(outcomes, again);
    let (other, _) = run_faulty_calls(&moto, 8).await;
    assert_ne!(outcomes, other);
}

#[test]
fn moto_reset_clears_state() {
    let moto = MotoServer::start();
    if !moto.is_owned() {
        // Never wipe a server shared with other tests.
        return;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let ssm = no_retry(&moto.endpoint());
    runtime.block_on(put(&ssm, "/fpReset/A", "v"));
    moto.reset();
    let err = runtime
        .block_on(ssm.get_parameter().name("/fpReset/A").send())
        .expect_err("reset removed it");
    assert_eq!(code(&err), "ParameterNotFound");
}
