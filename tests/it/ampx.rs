//! Interoperability with Amplify's real CLI, `ampx` (npm `@aws-amplify/backend-cli@1.10.0`),
//! against moto's SSM server: what ampsecret pushes, `npx ampx sandbox secret list/get` sees
//! exactly; what `ampx sandbox secret set/remove` does, `ampsecret pull/diff` sees exactly.
//! Branch and shared scopes have no ampx command, so for them the parameters moto recorded
//! are checked against the names and attributes of ../shared/spec/amplify-paths.md.
//!
//! The CLI is installed once into the ignored folder `.cache/ampx` by `tests/install-ampx.sh`
//! (tests/run.sh calls it). Without it these tests fail, naming that command; they never skip.
//!
//! ampx must be launched through `npx` (it reads `npm_config_user_agent`), from the project
//! directory (it reads the sandbox namespace from `./package.json`). `npx --no --prefix CACHE
//! ampx …` does both without touching the project tree, and `--no` forbids npx to download
//! anything. Every call runs in its own process group and is killed after [`AMPX_TIMEOUT`].

use crate::support::{APP_ID, Project, ssm_line};
use ampsecret_testkit::moto::MotoServer;
use ampsecret_testkit::ssm::{Ssm, unique_app_id};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const AMPX_VERSION: &str = "1.10.0";
/// One ampx call takes 2–4 s on an idle machine, far longer on a busy one (npx starts a
/// Node CLI that loads the AWS SDK); anything near this is hung.
const AMPX_TIMEOUT: Duration = Duration::from_secs(240);
/// ampx calls in flight at once (each is a node process of ~2 s CPU).
const PARALLEL_CALLS: usize = 4;
const INSTALL_HINT: &str = "install it with: tests/install-ampx.sh \
     (npm install --no-audit --no-fund --save-exact @aws-amplify/backend-cli@1.10.0 in .cache/ampx)";

// ---------------------------------------------------------------------------------------------
// Running ampx
// ---------------------------------------------------------------------------------------------

/// `npx ampx …` in a project's directory, with the project's HOME and a fake AWS account.
struct Ampx {
    cache: PathBuf,
    cwd: PathBuf,
    env: BTreeMap<String, String>,
}

/// What one ampx call did.
struct AmpxOutput {
    /// `None` when it was killed after the timeout.
    code: Option<i32>,
    stdout: String,
    stderr: String,
    command: String,
    elapsed: Duration,
}

impl std::fmt::Display for AmpxOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let code = match self.code {
            Some(code) => format!("exit {code}"),
            None => format!("killed after {AMPX_TIMEOUT:?}"),
        };
        write!(
            f,
            "`{}` ({code}, {:.1?})\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.command, self.elapsed, self.stdout, self.stderr
        )
    }
}

impl AmpxOutput {
    #[track_caller]
    fn success(self) -> AmpxOutput {
        assert_eq!(self.code, Some(0), "ampx failed: {self}");
        self
    }
}

/// The installed CLI, or a panic that names the install command.
fn ampx_cache() -> PathBuf {
    let cache = Path::new(env!("CARGO_MANIFEST_DIR")).join(".cache/ampx");
    let bin = cache.join("node_modules/.bin/ampx");
    if !bin.exists() {
        panic!(
            "Amplify's CLI is not installed for these tests ({} is missing); {INSTALL_HINT}",
            bin.display()
        );
    }
    let manifest = cache.join("node_modules/@aws-amplify/backend-cli/package.json");
    let manifest = std::fs::read_to_string(&manifest).unwrap_or_default();
    let version = serde_json::from_str::<serde_json::Value>(&manifest)
        .ok()
        .and_then(|v| v["version"].as_str().map(str::to_owned));
    assert_eq!(
        version.as_deref(),
        Some(AMPX_VERSION),
        "{} holds another @aws-amplify/backend-cli; remove .cache/ampx and {INSTALL_HINT}",
        cache.display()
    );
    let path = std::env::var_os("PATH").unwrap_or_default();
    if !std::env::split_paths(&path).any(|dir| dir.join("npx").is_file()) {
        panic!(
            "`npx` is not on PATH; ampx must be launched through it: install Node.js 18+ with npm, \
             then {INSTALL_HINT}"
        );
    }
    cache
}

impl Ampx {
    /// ampx from `cache` for `p`: its directory, HOME and PATH, and the SSM server at
    /// `endpoint`.
    fn new(cache: PathBuf, p: &Project, endpoint: &str) -> Ampx {
        let mut env = BTreeMap::new();
        for key in ["PATH", "HOME"] {
            env.insert(key.to_owned(), p.env_map()[key].clone());
        }
        for (key, value) in [
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ENDPOINT_URL_SSM", endpoint),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AMPLIFY_DISABLE_TELEMETRY", "1"),
            ("NPM_CONFIG_UPDATE_NOTIFIER", "false"),
            ("NODE_NO_WARNINGS", "1"),
        ] {
            env.insert(key.to_owned(), value.to_owned());
        }
        Ampx {
            cache,
            cwd: p.root(),
            env,
        }
    }

    /// `npx ampx ARGS…` with `stdin` (or an empty one), killed with its whole process group
    /// after [`AMPX_TIMEOUT`]; no process it started outlives the call.
    fn run(&self, args: &[&str], stdin: &[u8]) -> AmpxOutput {
        let command = format!("npx ampx {}", args.join(" "));
        let mut child = Command::new("npx")
            .env_clear()
            .envs(&self.env)
            .current_dir(&self.cwd)
            .arg("--no")
            .arg("--prefix")
            .arg(&self.cache)
            .arg("ampx")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run npx: {e}; {INSTALL_HINT}"));
        let pid = child.id() as libc::pid_t;

        let mut pipe = child.stdin.take().unwrap();
        let input = stdin.to_vec();
        let writer = std::thread::spawn(move || {
            // ampx may exit before reading stdin (e.g. on a usage error).
            let _ = pipe.write_all(&input);
        });
        let read = |mut pipe: Box<dyn Read + Send>| {
            std::thread::spawn(move || {
                let mut bytes = Vec::new();
                let _ = pipe.read_to_end(&mut bytes);
                String::from_utf8_lossy(&bytes).into_owned()
            })
        };
        let stdout = read(Box::new(child.stdout.take().unwrap()));
        let stderr = read(Box::new(child.stderr.take().unwrap()));

        let started = Instant::now();
        let deadline = started + AMPX_TIMEOUT;
        let timed_out = loop {
            if exited_unreaped(pid) {
                break false;
            }
            if Instant::now() >= deadline {
                break true;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        // npx has exited (still a zombie, so its group id cannot be reused) or has hung: end
        // whatever is left in its process group, then reap it.
        // SAFETY: kill(2) on our own child's process group; no memory is involved.
        unsafe { libc::kill(-pid, libc::SIGKILL) };
        let status = child.wait().expect("wait for npx");
        let _ = writer.join();
        AmpxOutput {
            code: if timed_out { None } else { status.code() },
            stdout: stdout.join().unwrap(),
            stderr: stderr.join().unwrap(),
            command,
            elapsed: started.elapsed(),
        }
    }

    fn set(&self, name: &str, value: &str) -> AmpxOutput {
        self.run(&["sandbox", "secret", "set", name], value.as_bytes())
    }

    fn get(&self, name: &str) -> AmpxOutput {
        self.run(&["sandbox", "secret", "get", name], b"")
    }

    fn remove(&self, name: &str) -> AmpxOutput {
        self.run(&["sandbox", "secret", "remove", name], b"")
    }
}

/// The names `ampx sandbox secret list` printed (` - NAME` lines).
fn list_names(out: &AmpxOutput) -> Vec<String> {
    let names: Vec<String> = out
        .stdout
        .lines()
        .filter_map(|line| line.strip_prefix(" - "))
        .map(str::to_owned)
        .collect();
    assert!(!names.is_empty(), "no ` - NAME` lines: {out}");
    names
}

/// True once `pid` (our child) has exited, without reaping it.
fn exited_unreaped(pid: libc::pid_t) -> bool {
    // SAFETY: waitid with WNOWAIT only fills `info`, a zeroed plain C struct we own.
    unsafe {
        let mut info: libc::siginfo_t = std::mem::zeroed();
        let rc = libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        );
        rc == 0 && info.si_pid() == pid
    }
}

/// One `ampx sandbox secret get` answer.
#[derive(Debug, PartialEq)]
struct Got {
    name: String,
    version: String,
    value: String,
}

/// Parses `get`'s output: `name: N`, `version: V`, `value: …`, `lastUpdated: DATE` joined by
/// newlines (cli-core's `format.record`). The value is printed raw and may span lines, so it
/// runs to the LAST `\nlastUpdated: `, whose date is one line.
fn parse_get(out: &AmpxOutput) -> Got {
    let fail = |why: &str| -> ! { panic!("unexpected `get` output ({why}): {out}") };
    let text = out.stdout.as_str();
    let rest = text.strip_prefix("name: ").unwrap_or_else(|| fail("name"));
    let (name, rest) = rest.split_once('\n').unwrap_or_else(|| fail("name line"));
    let rest = rest
        .strip_prefix("version: ")
        .unwrap_or_else(|| fail("version"));
    let (version, rest) = rest
        .split_once('\n')
        .unwrap_or_else(|| fail("version line"));
    let rest = rest
        .strip_prefix("value: ")
        .unwrap_or_else(|| fail("value"));
    let end = rest
        .rfind("\nlastUpdated: ")
        .unwrap_or_else(|| fail("lastUpdated"));
    let date = &rest[end + "\nlastUpdated: ".len()..];
    if date.trim_end_matches('\n').contains('\n') || date.trim().is_empty() {
        fail("lastUpdated is not one line");
    }
    Got {
        name: name.to_owned(),
        version: version.to_owned(),
        value: rest[..end].to_owned(),
    }
}

/// Runs `f` on every item with at most [`PARALLEL_CALLS`] at once; results in item order.
fn parallel<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..PARALLEL_CALLS.min(items.len()) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(item) = items.get(i) else { break };
                    let result = f(item);
                    results.lock().unwrap().push((i, result));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

// ---------------------------------------------------------------------------------------------
// Projects
// ---------------------------------------------------------------------------------------------

/// A vault project wired to `moto`, with the default sandbox (the OS account name, as ampx).
/// On a private moto the package is the builder's `my-app`. On a shared one (tests run in
/// parallel and the sandbox path depends only on package and user) the package name gets a
/// unique suffix.
fn sandbox_project(moto: &MotoServer) -> Project {
    let p = Project::new().with_ssm(&moto.endpoint());
    if !moto.is_owned() {
        let package = format!("my-app-{}", unique_app_id());
        std::fs::write(
            p.root().join("package.json"),
            serde_json::json!({"name": package, "private": true}).to_string(),
        )
        .unwrap();
    }
    let app = if moto.is_owned() {
        APP_ID.to_owned()
    } else {
        unique_app_id()
    };
    p.cmd(&["init", "--app-id", &app])
        .stderr_matches(&p.init_stderr())
        .success();
    p
}

/// `ampsecret diff --sandbox --json` as name → status.
fn diff_statuses(p: &Project) -> BTreeMap<String, String> {
    let diff = p
        .cmd(&["diff", "--sandbox", "--json"])
        .stdout_json()
        .success()
        .json();
    diff["secrets"]
        .as_array()
        .unwrap_or_else(|| panic!("diff --json without secrets: {diff}"))
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_owned(),
                s["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Values that break naive quoting, splitting or decoding somewhere between the vault, the
/// SDKs, SSM and ampx's printer.
fn tricky_values() -> Vec<(String, String)> {
    let fixed: Vec<(&str, String)> = vec![
        ("PLAIN", "sk_live_51Hx2eZ".into()),
        ("UNICODE", "ünïcødé ✓ 日本語 Ωμέγα".into()),
        ("EMOJI", "🔐 👩\u{200d}💻 🇫🇷".into()),
        ("MULTI_LINE", "line one\nline two\n\nline four".into()),
        ("TRAILING_NEWLINE", "ends with a newline\n".into()),
        ("LEADING_NEWLINE", "\nstarts with a newline".into()),
        ("ONLY_NEWLINES", "\n\n".into()),
        ("QUOTES", r#"double "quotes", 'single' and `back`"#.into()),
        ("DOLLARS", "$HOME ${PATH} $(whoami) $$ $1 \\$".into()),
        ("BACKSLASHES", r"C:\path\to\ \n is not a newline \\ \".into()),
        ("TAB_CRLF", "tab\there\r\nwindows line\r".into()),
        ("SPACES", "  leading and trailing  ".into()),
        ("FIELD_LOOKALIKE", "x\nlastUpdated: never\nname: FAKE\nversion: 9".into()),
        ("FORMAT_SPECIFIERS", "%s %d %o %j %% {0} ${x}".into()),
        ("JSON", r#"{"user":"admin","pass":"p@ss:w/rd","n":[1,2.5,null]}"#.into()),
        (
            "PEM",
            "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"
                .into(),
        ),
        ("URL", "postgres://u:p%40ss@db.example.com:5432/app?ssl=true&x=1#frag".into()),
        ("SHELLISH", "a;b|c&d>e<f*g?h[i]~j!k#l".into()),
        ("HTML", "<script>alert('&amp;')</script>".into()),
        ("LITERALS", "null".into()),
        ("dotted.name-1", "names may hold . and -".into()),
        ("NEAR_STANDARD_LIMIT", "é".repeat(2048)), // exactly 4096 bytes
    ];
    let mut values: Vec<(String, String)> =
        fixed.into_iter().map(|(n, v)| (n.to_owned(), v)).collect();
    // Pad past two GetParametersByPath pages of 10 (and a partial third).
    for i in values.len()..27 {
        values.push((format!("PAD_{i:02}"), format!("padding value {i}")));
    }
    values
}

/// `ampsecret set NAME --file F --sandbox` for each value (a file keeps every byte; `--stdin`
/// would drop one trailing newline).
fn store_in_vault(p: &Project, values: &[(String, String)]) {
    let dir = p.temp().join("values");
    std::fs::create_dir_all(&dir).unwrap();
    for (i, (name, value)) in values.iter().enumerate() {
        let file = dir.join(i.to_string());
        std::fs::write(&file, value).unwrap();
        // A one-line value ending in a newline is kept whole, with a note.
        let note = if value.ends_with('\n') && value.matches('\n').count() == 1 {
            format!(
                "note: {} ends with a newline, kept as part of the value; pass \
                 --strip-newline to drop it\n",
                file.display()
            )
        } else {
            String::new()
        };
        p.cmd(&["set", name, "--file", file.to_str().unwrap(), "--sandbox"])
            .stderr(format!("{note}Stored {name} in sandbox:root.\n"))
            .success();
    }
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[test]
fn ampx_lists_and_gets_every_secret_ampsecret_pushes() {
    let cache = ampx_cache();
    let moto = MotoServer::start();
    let p = sandbox_project(&moto);
    let ampx = Ampx::new(cache, &p, &moto.endpoint());
    let ssm = Ssm::new(&moto.endpoint());

    let mut values = tricky_values();
    // ampx's printer strips ANSI escape sequences when stdout is not a terminal, so `get`
    // shows this one without them; SSM holds it intact (checked below).
    let ansi = (
        "ANSI_ESCAPES".to_owned(),
        "\u{1b}[31mred\u{1b}[0m plain".to_owned(),
    );
    values.push(ansi.clone());
    assert!(values.len() >= 25);
    store_in_vault(&p, &values);
    let push = p
        .cmd(&["push", "--sandbox", "--yes", "--json"])
        .stdout_json()
        .success()
        .json();
    assert_eq!(
        push["applied"].as_array().map(Vec::len),
        Some(values.len()),
        "{push}"
    );

    // ampx and ampsecret agree on the sandbox path: ampx names it in its not-found error.
    let prefix = p
        .cmd(&["path", "--prefix", "--sandbox"])
        .stdout_matches(r"/amplify/myapp[0-9a-z-]*/root-sandbox-[0-9a-f]{10}\n")
        .success()
        .stdout
        .trim_end()
        .to_owned();
    let expected_path = format!("{prefix}/NOT_THERE");

    // Every ampx call of this test at once (bounded): a miss, the list, and a get per secret.
    let mut calls: Vec<Vec<&str>> = vec![
        vec!["sandbox", "secret", "get", "NOT_THERE"],
        vec!["sandbox", "secret", "list"],
    ];
    calls.extend(
        values
            .iter()
            .map(|(name, _)| vec!["sandbox", "secret", "get", name.as_str()]),
    );
    let mut outputs = parallel(&calls, |args| ampx.run(args, b"")).into_iter();
    let (missing, list) = (outputs.next().unwrap(), outputs.next().unwrap());

    assert_eq!(missing.code, Some(1), "{missing}");
    let all = format!("{}{}", missing.stdout, missing.stderr);
    assert!(
        all.contains(&format!(
            "[SSMParameterNotFoundError] Failed to get NOT_THERE secret. \
             ParameterNotFound: Parameter {expected_path} not found."
        )),
        "ampx looked elsewhere than {expected_path}: {missing}"
    );

    // list: every name, through ampx's own GetParametersByPath paging.
    let listed: BTreeSet<String> = list_names(&list.success()).into_iter().collect();
    let pushed: BTreeSet<String> = values.iter().map(|(n, _)| n.clone()).collect();
    assert_eq!(listed, pushed, "ampx sandbox secret list");

    // get: every value, byte for byte.
    let mut mismatches = Vec::new();
    for ((name, value), out) in values.iter().zip(outputs) {
        if out.code != Some(0) {
            mismatches.push(format!("{name}: ampx failed: {out}"));
            continue;
        }
        let got = parse_get(&out);
        let shown = if *name == ansi.0 {
            "red plain".to_owned()
        } else {
            value.clone()
        };
        let want = Got {
            name: name.clone(),
            version: "1".into(),
            value: shown,
        };
        if got != want {
            mismatches.push(format!("{name}: want {want:?}, got {got:?}; {out}"));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n\n"));
    assert_eq!(
        ssm.value(&format!("{prefix}/{}", ansi.0)),
        Some(ansi.1),
        "SSM holds the escapes that ampx's printer hides"
    );
}

#[test]
fn ampsecret_pulls_what_ampx_sets_and_sees_its_changes_and_removals() {
    let cache = ampx_cache();
    let moto = MotoServer::start();
    let p = sandbox_project(&moto);
    let ampx = Ampx::new(cache, &p, &moto.endpoint());

    // As typed into a pipe: `echo` keeps a newline, which ampx stores.
    let values: Vec<(&str, &str)> = vec![
        ("ECHOED", "sk_test_123\n"),
        ("PRINTF", "no newline"),
        ("UNICODE_LINES", "ünïcødé ✓ 日本語\n🔐 second line\n"),
        ("QUOTED", "\"double\" 'single' `back` $HOME ${X} \\ \\n"),
        ("CRLF", "a\r\nb\r\n"),
        ("SPACES", "  padded  "),
        ("OVERWRITTEN", "first"),
        ("REMOVED", "soon gone"),
    ];
    let outputs = parallel(&values, |(name, value)| ampx.set(name, value));
    for ((name, _), out) in values.iter().zip(outputs) {
        let out = out.success();
        assert_eq!(
            out.stdout,
            format!("Successfully created version 1 of secret {name}\n"),
            "{out}"
        );
    }

    let pull = p
        .cmd(&["pull", "--sandbox", "--yes", "--json"])
        .stdout_json()
        .success()
        .json();
    assert_eq!(
        pull["stored"].as_array().map(Vec::len),
        Some(values.len()),
        "{pull}"
    );
    for (name, value) in &values {
        assert_eq!(
            p.get(name, &["--sandbox"]),
            *value,
            "{name} pulled from what ampx set"
        );
    }
    let statuses = diff_statuses(&p);
    assert_eq!(statuses.len(), values.len(), "{statuses:?}");
    assert!(
        statuses.values().all(|s| s == "unchanged"),
        "after pull: {statuses:?}"
    );
    let push = p
        .cmd(&["push", "--sandbox", "--yes", "--json"])
        .stdout_json()
        .success()
        .json();
    assert_eq!(
        push["applied"].as_array().map(Vec::len),
        Some(0),
        "an in-sync push writes nothing: {push}"
    );

    // ampx overwrites one and removes another: diff tells which side changed.
    let (set, removed) = std::thread::scope(|s| {
        let set = s.spawn(|| ampx.set("OVERWRITTEN", "second\n"));
        let removed = ampx.remove("REMOVED");
        (set.join().unwrap(), removed)
    });
    let out = set.success();
    assert_eq!(
        out.stdout, "Successfully created version 2 of secret OVERWRITTEN\n",
        "{out}"
    );
    let out = removed.success();
    assert_eq!(out.stdout, "Successfully removed secret REMOVED\n", "{out}");
    let statuses = diff_statuses(&p);
    for (name, _) in &values {
        let want = match *name {
            "OVERWRITTEN" => "changed_there",
            "REMOVED" => "deleted_remote",
            _ => "unchanged",
        };
        assert_eq!(
            statuses.get(*name).map(String::as_str),
            Some(want),
            "{name}: {statuses:?}"
        );
    }

    // And the overwrite comes in with the next pull.
    let sandbox = p
        .cmd(&["path", "--prefix", "--sandbox"])
        .stdout_any()
        .success()
        .stdout;
    // ampx's removal comes in too: what ampx removed is removed here.
    p.cmd(&["pull", "--sandbox", "--yes"])
        .stderr(format!(
            "{}Plan for sandbox:root from {prefix}:\n\
             \x20 ~ OVERWRITTEN  update (changed in SSM)\n\
             \x20 - REMOVED      delete from the vault (removed in SSM since the last sync)\n\
             Applied 2 changes to sandbox:root from {prefix}: 1 updated, 1 deleted.\n",
            ssm_line(&moto.endpoint(), true),
            prefix = sandbox.trim_end()
        ))
        .success();
    assert_eq!(p.get("OVERWRITTEN", &["--sandbox"]), "second\n");
    p.cmd(&["get", "REMOVED", "--sandbox"])
        .stderr_any()
        .fails(3);
    let got = parse_get(&ampx.get("OVERWRITTEN").success());
    assert_eq!(
        (got.version.as_str(), got.value.as_str()),
        ("2", "second\n")
    );
}

#[test]
fn branch_and_shared_parameters_have_amplify_names_and_attributes() {
    // The spec's worked example, from Amplify's own functions (amplify-paths.md §3).
    assert_eq!(
        ampsecret::amplify::backend_hash("d1a2b3c4d5e6f7", "feature/login"),
        "976afe7de1"
    );
    let moto = MotoServer::start();
    // A real-looking app id only where nothing else writes to the server.
    let app = if moto.is_owned() {
        APP_ID.to_owned()
    } else {
        unique_app_id()
    };
    let p = Project::with_app(&moto.endpoint(), &app);
    let ssm = Ssm::new(&moto.endpoint());

    p.set("API_KEY", "branch-secret", &["--branch", "feature/login"]);
    p.set(
        "DATABASE_URL",
        "postgres://branch",
        &["--branch", "feature/login"],
    );
    p.set("STRIPE_KEY", "shared-secret", &["--shared"]);
    p.set("API_KEY", "shared-fallback", &["--shared"]);
    let branch_prefix = format!(
        "/amplify/{app}/featurelogin-branch-{}",
        ampsecret::amplify::backend_hash(&app, "feature/login")
    );
    p.cmd(&["push", "--branch", "feature/login", "--yes"])
        .stderr(format!(
            "{}Plan for {branch_prefix} (branch:feature/login):\n\
             \x20 + API_KEY       create (new)\n\
             \x20 + DATABASE_URL  create (new)\n\
             Applied 2 changes to {branch_prefix}: 2 created.\n",
            ssm_line(&moto.endpoint(), false),
        ))
        .success();
    p.cmd(&["push", "--shared", "--yes"])
        .stderr(format!(
            "{}Plan for /amplify/shared/{app} (shared):\n\
             \x20 + API_KEY     create (new)\n\
             \x20 + STRIPE_KEY  create (new)\n\
             Applied 2 changes to /amplify/shared/{app}: 2 created.\n",
            ssm_line(&moto.endpoint(), false),
        ))
        .success();
    if moto.is_owned() {
        assert_eq!(
            branch_prefix,
            "/amplify/d1a2b3c4d5e6f7/featurelogin-branch-976afe7de1"
        );
    }
    let shared_prefix = format!("/amplify/shared/{app}");
    let expected: Vec<(String, &str)> = vec![
        (format!("{branch_prefix}/API_KEY"), "branch-secret"),
        (format!("{branch_prefix}/DATABASE_URL"), "postgres://branch"),
        (format!("{shared_prefix}/API_KEY"), "shared-fallback"),
        (format!("{shared_prefix}/STRIPE_KEY"), "shared-secret"),
    ];

    // Exactly these parameters, nothing beside them.
    let mut recorded = ssm.names_under(&format!("/amplify/{app}"));
    recorded.extend(ssm.names_under(&shared_prefix));
    recorded.sort();
    let mut want: Vec<String> = expected.iter().map(|(n, _)| n.clone()).collect();
    want.sort();
    assert_eq!(recorded, want);
    if moto.is_owned() {
        assert_eq!(
            ssm.names_under("/amplify"),
            want,
            "nothing else under /amplify"
        );
    }

    // Written as Amplify's `ampx sandbox secret set` writes (amplify-paths.md §5).
    for (name, value) in &expected {
        assert_eq!(ssm.value(name).as_deref(), Some(*value), "{name}");
        let meta = ssm.describe(name);
        let attributes = (
            meta.name(),
            meta.r#type().map(|t| t.as_str()),
            meta.description(),
            meta.key_id(),
            meta.tier().map(|t| t.as_str()),
            meta.version(),
            meta.data_type(),
        );
        assert_eq!(
            attributes,
            (
                Some(name.as_str()),
                Some("SecureString"),
                Some("Amplify Secret"),
                Some("alias/aws/ssm"),
                Some("Standard"),
                1,
                Some("text"),
            ),
            "{meta:?}"
        );
    }
}

/// `get`'s format as ampx 1.10.0 printed it for a value with a look-alike field and a
/// trailing newline (recorded), so a parser slip cannot hide behind a 4 s CLI call.
#[test]
fn get_output_is_parsed_to_the_last_last_updated_line() {
    let out = AmpxOutput {
        code: Some(0),
        stdout: "name: K\nversion: 3\nvalue: a\nlastUpdated: no\n\nlastUpdated: Wed Nov 25 2026 \
                 04:09:58 GMT+0000 (Coordinated Universal Time)\n"
            .into(),
        stderr: String::new(),
        command: "npx ampx sandbox secret get K".into(),
        elapsed: Duration::ZERO,
    };
    assert_eq!(
        parse_get(&out),
        Got {
            name: "K".into(),
            version: "3".into(),
            value: "a\nlastUpdated: no\n".into(),
        }
    );
}

/// Standalone and shared-namespace paths against Amplify's published
/// `@aws-amplify/platform-core` (the copy ampx 1.10.0 installs), on generated inputs: every
/// identifier `ampx deploy` accepts and every namespace SSM can hold must give Amplify's path,
/// through ampsecret's scopes and, for a sample, through `ampsecret path`.
#[test]
fn standalone_and_shared_namespace_paths_equal_platform_core() {
    let cache = ampx_cache();
    let mut seed = 0x5eed_u64;
    let mut next = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let pick = |set: &[u8], len: usize, next: &mut dyn FnMut(usize) -> usize| -> String {
        (0..len).map(|_| set[next(set.len())] as char).collect()
    };
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    const ID_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-";
    const NS_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.";
    let mut cases: Vec<(&str, String, String)> = Vec::new();
    for i in 0..400 {
        let secret = pick(NS_CHARS, 1 + next(20), &mut next);
        if i % 2 == 0 {
            let len = next(128);
            let id = format!(
                "{}{}",
                pick(LETTERS, 1, &mut next),
                pick(ID_CHARS, len, &mut next)
            );
            cases.push(("standalone", id, secret));
        } else {
            let ns = pick(NS_CHARS, 1 + next(120), &mut next);
            cases.push(("shared", ns, secret));
        }
    }
    let input = serde_json::to_string(&cases).unwrap();
    let script = r#"
        const { ParameterPathConversions: P } = require('@aws-amplify/platform-core');
        const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));
        const out = cases.map(([kind, ns, secret]) => kind === 'shared'
            ? P.toParameterFullPath(ns, secret)
            : P.toParameterFullPath({ namespace: ns, name: 'backend', type: 'standalone' }, secret));
        process.stdout.write(JSON.stringify(out));
    "#;
    let mut node = Command::new("node")
        .args(["-e", script])
        .current_dir(&cache)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node is on PATH (installed with npm for ampx)");
    node.stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let output = node.wait_with_output().unwrap();
    assert!(output.status.success(), "node failed");
    let amplify: Vec<String> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(amplify.len(), cases.len());

    let app = ampsecret::scope::AppIdentity::default();
    for ((kind, ns, secret), expected) in cases.iter().zip(&amplify) {
        let key = match *kind {
            "standalone" => {
                ampsecret::amplify::validate_standalone_id(ns).unwrap();
                ampsecret::scope::ScopeKey::Standalone(ns.clone())
            }
            _ => ampsecret::scope::ScopeKey::shared_namespace(ns).unwrap(),
        };
        let path = key.parameter_scope(&app).unwrap().parameter_name(secret);
        assert_eq!(&path, expected, "{kind} {ns:?} {secret:?}");
    }

    // The CLI gives the same for a sample (no vault or app id needed for these scopes).
    let p = Project::new();
    for ((kind, ns, secret), expected) in cases.iter().zip(&amplify).step_by(50) {
        let flag = format!("--{kind}={ns}");
        p.cmd(&["path", secret, &flag])
            .stdout(format!("{expected}\n"))
            .success();
    }
}
