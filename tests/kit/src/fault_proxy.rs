//! A fault-injecting HTTP/1.1 reverse proxy for SSM traffic, meant to sit in front of moto.
//!
//! moto answers every call at once and enforces almost none of SSM's limits, so code that must
//! survive real Parameter Store (throttling, batch limits, name and value rules) would pass
//! against moto alone and still fail in AWS. The proxy adds those behaviours back:
//!
//! * random faults: throttling, HTTP 500, dropped connections, drawn from a seeded generator so
//!   a sequence of calls fails the same way on every run;
//! * a write budget (token bucket), because PutParameter is SSM's tightest quota (~3 TPS);
//! * the request limits and validation rules of real SSM that moto skips.
//!
//! Everything else is forwarded to moto unchanged and its answer relayed unchanged. Requests
//! without an `X-Amz-Target` header (e.g. moto's `/moto-api/`) are always forwarded untouched.
//!
//! The proxy runs on its own thread with its own single-threaded tokio runtime, so it works
//! from sync tests and from any async runtime alike, and it stops when [`FaultProxy`] drops.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// Operations that count against the write budget.
const WRITE_OPERATIONS: &[&str] = &["PutParameter", "DeleteParameter", "DeleteParameters"];
/// Longest wait for moto before the proxy answers 504 itself.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(30);

/// What to inject. `Default` injects nothing and enforces SSM's limits.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultConfig {
    /// Seed of the generator that picks which calls get a random fault.
    pub seed: u64,
    /// Fraction (0.0–1.0) of SSM calls answered with `ThrottlingException`.
    pub throttle_fraction: f64,
    /// Fraction of SSM calls answered with HTTP 500 `InternalServerError`.
    pub error_5xx_fraction: f64,
    /// Fraction of SSM calls whose connection is closed without any response (after the
    /// request was read, so the client cannot tell whether it was applied).
    pub drop_fraction: f64,
    /// Writes per second allowed across PutParameter/DeleteParameter/DeleteParameters, as a
    /// token bucket holding `max(1, tps)` tokens (about one second of burst), initially full.
    pub write_budget_tps: Option<f64>,
    /// Reject what real SSM rejects but moto accepts (batch sizes, name and value rules).
    pub enforce_limits: bool,
    /// Answer every call of one operation with an error whose body echoes the request, as a
    /// misbehaving proxy or a verbose error page would.
    pub echo_request: Option<EchoRequest>,
    /// Cut the last byte off every successful answer to one operation (`GetParametersByPath`,
    /// …): a response the client cannot read, whose body still holds what SSM returned.
    pub truncate_response: Option<&'static str>,
}

/// An error answer that repeats the request it answers.
#[derive(Debug, Clone, PartialEq)]
pub struct EchoRequest {
    /// The operation answered this way (`PutParameter`, …).
    pub operation: &'static str,
    /// The HTTP status of the answer (a 4xx or 5xx).
    pub status: u16,
    /// An HTML error page holding the request, instead of an AWS JSON error whose message is
    /// the request.
    pub html: bool,
}

impl Default for FaultConfig {
    fn default() -> Self {
        FaultConfig {
            seed: 0,
            throttle_fraction: 0.0,
            error_5xx_fraction: 0.0,
            drop_fraction: 0.0,
            write_budget_tps: None,
            enforce_limits: true,
            echo_request: None,
            truncate_response: None,
        }
    }
}

/// Counters for one operation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpStats {
    /// Sent on to moto (whatever moto answered).
    pub forwarded: u64,
    /// Answered with `ThrottlingException` (random or over the write budget).
    pub throttled: u64,
    /// Answered with an injected HTTP 500.
    pub injected_5xx: u64,
    /// Connection closed without a response.
    pub dropped: u64,
    /// Answered with `ValidationException` by the proxy's own limit checks.
    pub rejected_validation: u64,
}

impl OpStats {
    /// All calls seen for this operation.
    pub fn total(&self) -> u64 {
        self.forwarded
            + self.throttled
            + self.injected_5xx
            + self.dropped
            + self.rejected_validation
    }

    fn add(&mut self, other: &OpStats) {
        self.forwarded += other.forwarded;
        self.throttled += other.throttled;
        self.injected_5xx += other.injected_5xx;
        self.dropped += other.dropped;
        self.rejected_validation += other.rejected_validation;
    }
}

/// A snapshot of what the proxy did so far.
#[derive(Debug, Clone, Default)]
pub struct ProxyStats {
    /// Per operation (`PutParameter`, …; `""` for requests without `X-Amz-Target`).
    pub ops: BTreeMap<String, OpStats>,
    /// When each write that moto accepted (2xx) was let through, in admission order. Admission
    /// time is what the token bucket governs, so these obey the budget exactly.
    pub write_times: Vec<Instant>,
}

impl ProxyStats {
    /// Counters for one operation (zeros if never seen).
    pub fn op(&self, operation: &str) -> OpStats {
        self.ops.get(operation).copied().unwrap_or_default()
    }

    /// Counters summed over all operations.
    pub fn total(&self) -> OpStats {
        let mut total = OpStats::default();
        for stats in self.ops.values() {
            total.add(stats);
        }
        total
    }

    /// Checks that the successful writes never beat a `tps` budget: every window
    /// `[t_i, t_j]` holds at most `max(1, tps) + tps × (t_j − t_i)` writes. `Err` names the
    /// worst window. Use it to show a client kept within the budget it was given.
    pub fn check_write_budget(&self, tps: f64) -> Result<(), String> {
        let capacity = tps.max(1.0);
        let mut times = self.write_times.clone();
        times.sort();
        for i in 0..times.len() {
            for j in i..times.len() {
                let elapsed = times[j].saturating_duration_since(times[i]).as_secs_f64();
                let count = (j - i + 1) as f64;
                let allowed = capacity + tps * elapsed + 1e-6;
                if count > allowed {
                    return Err(format!(
                        "{count} writes within {elapsed:.3}s, budget allows {allowed:.3} at {tps} TPS"
                    ));
                }
            }
        }
        Ok(())
    }
}

/// A running proxy. Dropping it stops the proxy thread.
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl FaultProxy {
    /// Start a proxy on `127.0.0.1:<free port>` in front of `upstream` (moto).
    pub fn start(upstream: SocketAddr, config: FaultConfig) -> FaultProxy {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener.set_nonblocking(true).expect("set_nonblocking");
        let addr = listener.local_addr().expect("local_addr");
        let shared = Arc::new(Shared {
            upstream,
            state: Mutex::new(State::new(config)),
        });
        let (shutdown, shutdown_rx) = oneshot::channel();
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name(format!("fault-proxy-{}", addr.port()))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("build proxy runtime");
                runtime.block_on(serve(listener, thread_shared, shutdown_rx));
                // Dropping the runtime cancels connections still in flight.
            })
            .expect("spawn proxy thread");
        FaultProxy {
            addr,
            shared,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`, for the SDK's `endpoint_url` or `AWS_ENDPOINT_URL_SSM`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The proxy's socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A snapshot of the counters so far.
    pub fn stats(&self) -> ProxyStats {
        let mut stats = self.shared.lock().stats.clone();
        // Pushed when moto answers, which under concurrency is not admission order.
        stats.write_times.sort();
        stats
    }

    /// Change the faults from now on (e.g. seed moto cleanly, then turn throttling on). The
    /// generator is reseeded and the write bucket refilled; counters are kept.
    pub fn set_config(&self, config: FaultConfig) {
        let mut state = self.shared.lock();
        let stats = std::mem::take(&mut state.stats);
        *state = State::new(config);
        state.stats = stats;
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

struct Shared {
    upstream: SocketAddr,
    state: Mutex<State>,
}

impl Shared {
    /// Lock the state, ignoring poisoning: counters stay usable even if a test panicked.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

struct State {
    config: FaultConfig,
    rng: SplitMix64,
    bucket: Option<TokenBucket>,
    stats: ProxyStats,
    /// Numbers the request ids of the proxy's own answers.
    answered: u64,
}

impl State {
    fn new(config: FaultConfig) -> State {
        State {
            rng: SplitMix64(config.seed),
            bucket: config.write_budget_tps.map(TokenBucket::new),
            config,
            stats: ProxyStats::default(),
            answered: 0,
        }
    }

    fn count(&mut self, operation: &str) -> &mut OpStats {
        self.stats.ops.entry(operation.to_string()).or_default()
    }
}

/// What to do with one request.
enum Verdict {
    Drop,
    Throttle,
    Internal,
    Invalid(String),
    Echo(EchoRequest),
    Forward { admitted: Instant },
}

/// The proxy's own error for "close this connection": hyper closes the connection without
/// writing a response when the service fails.
#[derive(Debug)]
struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}

impl std::error::Error for DropConnection {}

async fn serve(
    listener: std::net::TcpListener,
    shared: Arc<Shared>,
    mut shutdown: oneshot::Receiver<()>,
) {
    let listener = match TcpListener::from_std(listener) {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("fault proxy: cannot listen: {e}");
            return;
        }
    };
    loop {
        let stream = tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => {
                    // e.g. too many open files: back off instead of spinning.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| handle(Arc::clone(&shared), req));
            // Errors here are client disconnects or our own drops: nothing to report.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, DropConnection> {
    let operation = req
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .map(|target| target.rsplit('.').next().unwrap_or(target).to_string());
    let (parts, body) = req.into_parts();
    // Read the whole request first: a drop then happens after the client sent everything.
    let body = body.collect().await.map_err(|_| DropConnection)?.to_bytes();

    let Some(operation) = operation else {
        let response = forward(shared.upstream, parts, body).await;
        shared.lock().count("").forwarded += 1;
        return Ok(response);
    };

    let is_write = WRITE_OPERATIONS.contains(&operation.as_str());
    let (verdict, request_id) = {
        let mut state = shared.lock();
        let verdict = decide(&mut state, &operation, is_write, &body);
        let stats = state.count(&operation);
        match verdict {
            Verdict::Drop => stats.dropped += 1,
            Verdict::Throttle => stats.throttled += 1,
            Verdict::Internal => stats.injected_5xx += 1,
            Verdict::Invalid(_) => stats.rejected_validation += 1,
            Verdict::Echo(_) => stats.injected_5xx += 1,
            Verdict::Forward { .. } => stats.forwarded += 1,
        }
        state.answered += 1;
        (verdict, format!("fault-proxy-{:08}", state.answered))
    };

    match verdict {
        Verdict::Drop => Err(DropConnection),
        Verdict::Throttle => Ok(aws_error(
            StatusCode::BAD_REQUEST,
            "ThrottlingException",
            "Rate exceeded",
            &request_id,
        )),
        Verdict::Internal => Ok(aws_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            "injected",
            &request_id,
        )),
        Verdict::Invalid(message) => Ok(aws_error(
            StatusCode::BAD_REQUEST,
            "ValidationException",
            &message,
            &request_id,
        )),
        Verdict::Echo(echo) => {
            let request = String::from_utf8_lossy(&body);
            let status = StatusCode::from_u16(echo.status).unwrap_or(StatusCode::BAD_GATEWAY);
            if echo.html {
                let page =
                    format!("<html><body><h1>{status}</h1><pre>{request}</pre></body></html>");
                let mut response = Response::new(Full::new(Bytes::from(page)));
                *response.status_mut() = status;
                response
                    .headers_mut()
                    .insert("content-type", HeaderValue::from_static("text/html"));
                Ok(response)
            } else {
                let code = if status.is_server_error() {
                    "InternalServerError"
                } else {
                    "ValidationException"
                };
                let message = format!("cannot process request {request}");
                Ok(aws_error(status, code, &message, &request_id))
            }
        }
        Verdict::Forward { admitted } => {
            let mut response = forward(shared.upstream, parts, body).await;
            if is_write && response.status().is_success() {
                shared.lock().stats.write_times.push(admitted);
            }
            let truncate = shared.lock().config.truncate_response;
            if truncate == Some(operation.as_str()) && response.status().is_success() {
                let (parts, body) = response.into_parts();
                let body = body.collect().await.map_err(|_| DropConnection)?.to_bytes();
                let cut = body.slice(..body.len().saturating_sub(1));
                response = Response::from_parts(parts, Full::new(cut));
                response.headers_mut().remove("content-length");
            }
            Ok(response)
        }
    }
}

/// Random faults first (one draw per call keeps the sequence independent of what the calls
/// are), then the write budget, then SSM's limits.
fn decide(state: &mut State, operation: &str, is_write: bool, body: &[u8]) -> Verdict {
    let draw = state.rng.next_f64();
    let config = &state.config;
    if let Some(echo) = config
        .echo_request
        .as_ref()
        .filter(|e| e.operation == operation)
    {
        return Verdict::Echo(echo.clone());
    }
    let mut threshold = config.drop_fraction;
    if draw < threshold {
        return Verdict::Drop;
    }
    threshold += config.error_5xx_fraction;
    if draw < threshold {
        return Verdict::Internal;
    }
    threshold += config.throttle_fraction;
    if draw < threshold {
        return Verdict::Throttle;
    }
    let now = Instant::now();
    if is_write
        && let Some(bucket) = state.bucket.as_mut()
        && !bucket.try_take(now)
    {
        return Verdict::Throttle;
    }
    if state.config.enforce_limits
        && let Err(message) = check_limits(operation, body)
    {
        return Verdict::Invalid(message);
    }
    Verdict::Forward { admitted: now }
}

/// SSM's limits that moto does not enforce. A body that isn't JSON is left for moto to judge.
fn check_limits(operation: &str, body: &[u8]) -> Result<(), String> {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Ok(());
    };
    match operation {
        "GetParameters" | "DeleteParameters" => {
            if let Some(names) = json.get("Names").and_then(|n| n.as_array())
                && names.len() > 10
            {
                return Err(format!(
                    "1 validation error detected: Value '{}' names at 'names' failed to \
                     satisfy constraint: Member must have length less than or equal to 10",
                    names.len()
                ));
            }
        }
        "GetParametersByPath" => {
            if let Some(max) = json.get("MaxResults").and_then(|m| m.as_i64())
                && !(1..=10).contains(&max)
            {
                return Err(format!(
                    "1 validation error detected: Value '{max}' at 'maxResults' failed to \
                     satisfy constraint: Member must have value between 1 and 10"
                ));
            }
        }
        "PutParameter" => {
            if let Some(name) = json.get("Name").and_then(|n| n.as_str()) {
                check_name(name)?;
            }
            if let Some(value) = json.get("Value").and_then(|v| v.as_str()) {
                let tier = json
                    .get("Tier")
                    .and_then(|t| t.as_str())
                    .unwrap_or("Standard");
                check_value(value, tier)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// PutParameter `Name` rules from the SSM API reference.
fn check_name(name: &str) -> Result<(), String> {
    const PATTERN: &str = "Parameter name: can't be prefixed with \"aws\" or \"ssm\" \
        (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash \
        symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 \
        symbols .-_";
    if name.len() > 1011 {
        return Err(format!(
            "Parameter name is {} characters long; the maximum is 1011",
            name.len()
        ));
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/');
    if name.is_empty() || !name.chars().all(allowed) {
        return Err(PATTERN.to_string());
    }
    let relative = name.strip_prefix('/').unwrap_or(name);
    let prefix = relative.get(..3).unwrap_or("").to_ascii_lowercase();
    if prefix == "aws" || prefix == "ssm" {
        return Err(PATTERN.to_string());
    }
    if name.contains('/') {
        // A hierarchical name is fully qualified (leading '/') and has no empty levels.
        if !name.starts_with('/') {
            return Err("Parameter name must be a fully qualified name.".to_string());
        }
        if relative.split('/').any(str::is_empty) {
            return Err(PATTERN.to_string());
        }
    }
    let levels = relative.split('/').count();
    if levels > 15 {
        return Err(format!(
            "Parameter name has {levels} hierarchy levels; the maximum depth is 15"
        ));
    }
    Ok(())
}

/// PutParameter `Value` rules: tier size limits and no `{{…}}` references.
fn check_value(value: &str, tier: &str) -> Result<(), String> {
    let len = value.len();
    if len > 8192 {
        return Err(format!(
            "1 validation error detected: Value at 'value' ({len} bytes) failed to satisfy \
             constraint: Member must have length less than or equal to 8192"
        ));
    }
    if len > 4096 && !matches!(tier, "Advanced" | "Intelligent-Tiering") {
        return Err(
            "Standard tier parameters support a maximum parameter value of 4096 characters. \
             To create a larger parameter value, upgrade the parameter to use the \
             advanced-parameter tier."
                .to_string(),
        );
    }
    if let Some(open) = value.find("{{")
        && value[open + 2..].contains("}}")
    {
        return Err(
            "Parameter value can't nest another parameter. Do not use \"{{}}\" in the value."
                .to_string(),
        );
    }
    Ok(())
}

/// An AWS JSON 1.1 error the way SSM sends it: the SDK reads the code from
/// `x-amzn-ErrorType` first and from `__type` in the body otherwise.
fn aws_error(
    status: StatusCode,
    code: &str,
    message: &str,
    request_id: &str,
) -> Response<Full<Bytes>> {
    let body = serde_json::json!({ "__type": code, "message": message }).to_string();
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        "content-type",
        HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    if let Ok(value) = HeaderValue::from_str(code) {
        headers.insert("x-amzn-errortype", value);
    }
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", value);
    }
    response
}

/// Send the request to moto on a fresh connection (moto closes after each response anyway)
/// and relay its answer. Upstream failures become 502/504 so tests see them, not a hang.
async fn forward(
    upstream: SocketAddr,
    parts: hyper::http::request::Parts,
    body: Bytes,
) -> Response<Full<Bytes>> {
    let attempt = async {
        let stream = TcpStream::connect(upstream).await?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake::<_, Full<Bytes>>(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        let mut request = Request::new(Full::new(body));
        *request.method_mut() = parts.method;
        *request.uri_mut() = parts
            .uri
            .path_and_query()
            .map(|pq| pq.as_str())
            .unwrap_or("/")
            .parse()?;
        *request.headers_mut() = end_to_end(parts.headers);
        let response = sender.send_request(request).await?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await?.to_bytes();
        let mut relayed = Response::new(Full::new(body));
        *relayed.status_mut() = parts.status;
        *relayed.headers_mut() = end_to_end(parts.headers);
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(relayed)
    };
    match tokio::time::timeout(UPSTREAM_TIMEOUT, attempt).await {
        Ok(Ok(response)) => response,
        Ok(Err(e)) => plain(
            StatusCode::BAD_GATEWAY,
            format!("fault proxy: upstream failed: {e}"),
        ),
        Err(_) => plain(
            StatusCode::GATEWAY_TIMEOUT,
            "fault proxy: upstream timed out".into(),
        ),
    }
}

/// Headers minus the hop-by-hop ones, which describe one connection and must not be relayed
/// (moto says `Connection: close`; the client's connection to us stays keep-alive).
fn end_to_end(mut headers: HeaderMap) -> HeaderMap {
    const HOP_BY_HOP: &[&str] = &[
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    ];
    for name in HOP_BY_HOP {
        headers.remove(HeaderName::from_static(name));
    }
    headers
}

fn plain(status: StatusCode, text: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(text)));
    *response.status_mut() = status;
    response
}

/// Token bucket for the write budget: `max(1, tps)` tokens, refilled at `tps` per second.
struct TokenBucket {
    tps: f64,
    capacity: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    fn new(tps: f64) -> TokenBucket {
        let tps = tps.max(0.0);
        let capacity = tps.max(1.0);
        TokenBucket {
            tps,
            capacity,
            tokens: capacity,
            last: Instant::now(),
        }
    }

    fn try_take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.tps).min(self.capacity);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// SplitMix64: tiny, seedable and good enough to pick which calls fail.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod unit {
    // Benches include this file too, built without the test harness (so without these tests).
    #[allow(unused_imports)]
    use super::*;

    #[test]
    fn names() {
        assert!(check_name("/amplify/shared/d1abc/API_KEY").is_ok());
        assert!(check_name("plain.name-1_x").is_ok());
        assert!(check_name("/a b").is_err());
        assert!(check_name("/a@b").is_err());
        assert!(check_name("/AWS/x").is_err());
        assert!(check_name("ssmthing").is_err());
        assert!(check_name("a/b").is_err());
        assert!(check_name("/a//b").is_err());
        let deep15 = "/l".repeat(15);
        let deep16 = "/l".repeat(16);
        assert!(check_name(&deep15).is_ok());
        assert!(check_name(&deep16).is_err());
        assert!(check_name(&format!("/{}", "x".repeat(1010))).is_ok());
        assert!(check_name(&format!("/{}", "x".repeat(1011))).is_err());
    }

    #[test]
    fn values() {
        assert!(check_value(&"v".repeat(4096), "Standard").is_ok());
        assert!(check_value(&"v".repeat(4097), "Standard").is_err());
        assert!(check_value(&"v".repeat(4097), "Advanced").is_ok());
        assert!(check_value(&"v".repeat(8193), "Advanced").is_err());
        assert!(check_value("a {{ssm:/x}} b", "Standard").is_err());
        assert!(check_value("only {{ opening", "Standard").is_ok());
        assert!(check_value("}} then {{", "Standard").is_ok());
    }

    #[test]
    fn write_budget_check() {
        let t = Instant::now();
        let ms = |n| t + Duration::from_millis(n);
        let stats = |times: Vec<Instant>| ProxyStats {
            write_times: times,
            ..ProxyStats::default()
        };
        assert!(
            stats(vec![t, t, t, ms(340)])
                .check_write_budget(3.0)
                .is_ok()
        );
        assert!(
            stats(vec![ms(340), t, t, t])
                .check_write_budget(3.0)
                .is_ok()
        );
        assert!(
            stats(vec![t, t, t, ms(300)])
                .check_write_budget(3.0)
                .is_err()
        );
    }

    #[test]
    fn bucket_allows_capacity_then_rate() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(3.0);
        bucket.last = start;
        assert!((0..3).all(|_| bucket.try_take(start)));
        assert!(!bucket.try_take(start));
        assert!(bucket.try_take(start + Duration::from_millis(340)));
        assert!(!bucket.try_take(start + Duration::from_millis(400)));
    }
}
