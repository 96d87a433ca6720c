//! A local moto server (`moto_server`) for integration tests.
//!
//! moto stands in for SSM Parameter Store: it speaks the same AWS JSON 1.1 protocol, so the real
//! `aws-sdk-ssm` client works against it with fake credentials. Each [`MotoServer`] owns one
//! `moto_server` child on a free loopback port and kills it (by its own PID) when dropped.
//!
//! A test script may start one shared server and export `AMPSECRET_TEST_MOTO_URL`
//! (e.g. `http://127.0.0.1:5055`); [`MotoServer::start`] then reuses it and never kills it.
//! Tests sharing a server should use distinct app ids, or call [`MotoServer::reset`].
//!
//! Don't keep a spawned `MotoServer` in a `static`: statics are never dropped, so the child would
//! outlive the test binary. Share through `AMPSECRET_TEST_MOTO_URL` instead.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Environment variable naming an already running moto server to reuse.
pub const MOTO_URL_ENV: &str = "AMPSECRET_TEST_MOTO_URL";

/// How long to wait for a freshly spawned moto to answer HTTP (it takes ~1 s when idle).
const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);
/// Spawn attempts; a retry only happens when another process grabbed the port in between.
const SPAWN_ATTEMPTS: usize = 5;

/// A running moto server: either our own child process or a shared one from the environment.
pub struct MotoServer {
    addr: SocketAddr,
    /// `None` when reusing a server from `AMPSECRET_TEST_MOTO_URL`.
    child: Option<Child>,
    /// moto's stdout+stderr, kept for diagnostics and removed on drop.
    log: Option<PathBuf>,
}

impl MotoServer {
    /// Start (or reuse, see module docs) a moto server that answers HTTP.
    ///
    /// Panics with an actionable message if `moto_server` is not installed or never comes up.
    pub fn start() -> MotoServer {
        if let Ok(url) = std::env::var(MOTO_URL_ENV)
            && !url.trim().is_empty()
        {
            return MotoServer::reuse(url.trim());
        }
        let mut last_failure = String::new();
        for _ in 0..SPAWN_ATTEMPTS {
            match MotoServer::spawn() {
                Ok(server) => return server,
                Err(failure) => last_failure = failure,
            }
        }
        panic!("moto_server did not start after {SPAWN_ATTEMPTS} attempts: {last_failure}");
    }

    /// `http://127.0.0.1:PORT`, suitable for `endpoint_url` or `AWS_ENDPOINT_URL_SSM`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The server's socket address (what `FaultProxy::start` takes as its upstream).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Whether this handle spawned its own server (false when reusing a shared one).
    pub fn is_owned(&self) -> bool {
        self.child.is_some()
    }

    /// Drop all of moto's state (every service, every account). On a shared server this affects
    /// other tests too, so prefer distinct app ids and reset only servers you own.
    pub fn reset(&self) {
        match http_request(self.addr, "POST", "/moto-api/reset") {
            Ok((200, _)) => {}
            Ok((status, body)) => panic!("moto reset answered HTTP {status}: {body}"),
            Err(e) => panic!("moto reset at {} failed: {e}", self.addr),
        }
    }

    fn reuse(url: &str) -> MotoServer {
        let hostport = url
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap_or_default();
        let addr = hostport
            .to_socket_addrs()
            .ok()
            .and_then(|mut addrs| addrs.next())
            .unwrap_or_else(|| panic!("{MOTO_URL_ENV}={url:?} is not an http://HOST:PORT URL"));
        if !answers_http(addr) {
            panic!("{MOTO_URL_ENV}={url:?} is set but nothing answers HTTP there");
        }
        MotoServer {
            addr,
            child: None,
            log: None,
        }
    }

    /// One attempt: pick a free port, spawn, wait until it answers. `Err` means "try again".
    fn spawn() -> Result<MotoServer, String> {
        let port = free_port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let log =
            std::env::temp_dir().join(format!("ampsecret-moto-{}-{port}.log", std::process::id()));
        let log_file = std::fs::File::create(&log)
            .map_err(|e| format!("cannot create moto log {}: {e}", log.display()))?;
        let log_err = log_file
            .try_clone()
            .map_err(|e| format!("cannot clone moto log handle: {e}"))?;
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(log_err)
            .spawn();
        let child = match child {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let _ = std::fs::remove_file(&log);
                panic!(
                    "`moto_server` was not found on PATH; install it with: pip install 'moto[server]'"
                )
            }
            Err(e) => panic!("cannot run moto_server: {e}"),
        };
        // From here on, Drop kills the child and removes the log on every early return.
        let mut server = MotoServer {
            addr,
            child: Some(child),
            log: Some(log),
        };
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if let Some(child) = server.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                // Exited early: most likely the port was taken between probe and bind.
                return Err(format!(
                    "moto_server exited with {status}: {}",
                    server.log_tail()
                ));
            }
            if answers_http(addr) {
                return Ok(server);
            }
            if Instant::now() >= deadline {
                panic!(
                    "moto_server on {addr} did not answer within {STARTUP_TIMEOUT:?}: {}",
                    server.log_tail()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn log_tail(&self) -> String {
        let Some(path) = &self.log else {
            return String::new();
        };
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let start = text.len().saturating_sub(2000);
        let start = (start..text.len())
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(text.len());
        format!("log {}:\n{}", path.display(), &text[start..])
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // `Child::kill` sends SIGKILL to this PID only; the pyenv shim `exec`s into python,
            // so the PID is moto itself. `wait` reaps it so no zombie is left behind.
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(log) = self.log.take() {
            let _ = std::fs::remove_file(log);
        }
    }
}

/// A port that was free a moment ago (bind to :0, read the port, release it). Another process
/// may take it before moto binds; [`MotoServer::start`] retries in that case.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local_addr").port()
}

/// True if something at `addr` answers `GET /moto-api/` with any HTTP response.
fn answers_http(addr: SocketAddr) -> bool {
    matches!(http_request(addr, "GET", "/moto-api/"), Ok((status, _)) if status > 0)
}

/// A minimal blocking HTTP/1.1 request (`Connection: close`) returning status and body text.
/// Enough for moto's control API; keeps this helper free of an HTTP client dependency.
fn http_request(addr: SocketAddr, method: &str, path: &str) -> std::io::Result<(u16, String)> {
    let timeout = Duration::from_secs(5);
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(500))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let text = String::from_utf8_lossy(&response);
    let status = text
        .strip_prefix("HTTP/1.")
        .and_then(|rest| rest.get(2..5))
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP response: {text:.80}")))?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default();
    Ok((status, body))
}
