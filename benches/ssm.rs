//! SSM benchmark against moto (through a counting proxy): push 1,000 new secrets, push them
//! again unchanged, pull them into a fresh vault; then push 60 secrets through the fault
//! proxy at a write budget of 3 calls/s, once in one scope and once spread over three scopes
//! with `push --all` (one governor for the run). Prints wall times, API calls by operation
//! and the achieved write rate. Run with `cargo bench --bench ssm` (needs moto_server on
//! PATH).

use age::secrecy::ExposeSecret;
use ampsecret::scope::ScopeKey;
use ampsecret::secret::SecretValue;
use ampsecret::vault::{Config, Encryption, Key, Stamp, VaultDir};
use ampsecret_testkit::fault_proxy::{FaultConfig, FaultProxy, ProxyStats};
use ampsecret_testkit::moto::MotoServer;
use ampsecret_testkit::ssm::client_env;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

struct Project {
    root: PathBuf,
    identity_file: PathBuf,
    endpoint: String,
}

impl Project {
    /// A project whose vault holds `count` secrets in branch `main` of `app`.
    fn new(temp: &Path, label: &str, app: &str, count: usize, endpoint: &str) -> Project {
        let main = [ScopeKey::Branch("main".into())];
        Project::with_scopes(temp, label, app, &main, count, endpoint)
    }

    /// A project whose vault holds `count` secrets in each of `scopes`.
    fn with_scopes(
        temp: &Path,
        label: &str,
        app: &str,
        scopes: &[ScopeKey],
        count: usize,
        endpoint: &str,
    ) -> Project {
        let root = temp.join(label);
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::write(root.join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
        std::fs::write(root.join("package.json"), r#"{"name":"bench-app"}"#).unwrap();
        let identity = age::x25519::Identity::generate();
        let identity_file = temp.join(format!("{label}.key"));
        std::fs::write(&identity_file, identity.to_string().expose_secret()).unwrap();
        // A key file others can read gets a warning on every command: keep it private.
        std::fs::set_permissions(
            &identity_file,
            std::os::unix::fs::PermissionsExt::from_mode(0o600),
        )
        .unwrap();
        let (vault, key, ()) = VaultDir::create(&root.join(".ampsecret"), |vault_id| {
            let config = Config::new(
                vault_id,
                Some(app.into()),
                Encryption::X25519,
                vec![identity.to_public().to_string()],
            );
            Ok((config, Key::Identities(vec![identity]), ()))
        })
        .unwrap();
        vault
            .update(&key, |v| {
                for scope in scopes {
                    for i in 0..count {
                        let value = SecretValue::new(format!("value {i} ✓ {}", "x".repeat(40)));
                        let stamp = Stamp {
                            at: 1,
                            by: "bench".into(),
                        };
                        v.set(scope, &format!("SECRET_{i:04}"), value, &stamp);
                    }
                }
                Ok(())
            })
            .unwrap();
        Project {
            root,
            identity_file,
            endpoint: endpoint.into(),
        }
    }

    /// Runs ampsecret with `args`; returns wall time and the JSON report.
    fn run(&self, args: &[&str]) -> (Duration, serde_json::Value) {
        let started = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_ampsecret"))
            .args(args)
            .arg("--json")
            .current_dir(&self.root)
            .env("AMPSECRET_IDENTITY_FILE", &self.identity_file)
            .env("AMPSECRET_NO_KEYRING", "1")
            .envs(client_env(&self.endpoint))
            .output()
            .unwrap();
        let elapsed = started.elapsed();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        (elapsed, serde_json::from_slice(&out.stdout).unwrap())
    }
}

fn calls(before: &ProxyStats, after: &ProxyStats) -> String {
    after
        .ops
        .iter()
        .filter(|(op, _)| !op.is_empty())
        .map(|(op, s)| (op, s.total() - before.op(op).total()))
        .filter(|(_, n)| *n > 0)
        .map(|(op, n)| format!("{op}={n}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn main() {
    let moto = MotoServer::start();
    let temp = tempfile::tempdir().unwrap();
    let app = format!("bench{}", std::process::id());

    let proxy = FaultProxy::start(moto.addr(), FaultConfig::default());
    let source = Project::new(temp.path(), "source", &app, 1000, &proxy.endpoint());
    let fast = ["push", "--yes", "--max-tps", "1000", "--concurrency", "16"];

    let s0 = proxy.stats();
    let (t, report) = source.run(&fast);
    let s1 = proxy.stats();
    println!(
        "push 1000 new       {:>8.2} s   applied {}   calls: {}",
        t.as_secs_f64(),
        report["applied"].as_array().unwrap().len(),
        calls(&s0, &s1)
    );
    let (t, _) = source.run(&fast);
    let s2 = proxy.stats();
    let puts = s2.op("PutParameter").total() - s1.op("PutParameter").total();
    println!(
        "push 1000 unchanged {:>8.2} s   PutParameter calls {puts} (target 0)   calls: {}",
        t.as_secs_f64(),
        calls(&s1, &s2)
    );
    let target = Project::new(temp.path(), "target", &app, 0, &proxy.endpoint());
    let (t, report) = target.run(&["pull", "--yes"]);
    let s3 = proxy.stats();
    println!(
        "pull 1000           {:>8.2} s   stored {}   calls: {}",
        t.as_secs_f64(),
        report["stored"].as_array().unwrap().len(),
        calls(&s2, &s3)
    );

    let budget = 3.0;
    let main = [ScopeKey::Branch("main".into())];
    let one_scope = budgeted_push(&moto, temp.path(), &format!("{app}t"), &main, 60, &["push"]);
    report_budget("push 60 at 3/s", budget, &one_scope);
    // Three scopes in one run: one governor shares the account's budget among them.
    let three = [
        ScopeKey::Branch("main".into()),
        ScopeKey::Shared,
        ScopeKey::Standalone("prod".into()),
    ];
    let all = budgeted_push(
        &moto,
        temp.path(),
        &format!("{app}a"),
        &three,
        20,
        &["push", "--all"],
    );
    report_budget("push --all 3x20 at 3/s", budget, &all);
}

/// What one push through a write budget of 3 calls/s did.
struct Budgeted {
    elapsed: Duration,
    applied: usize,
    failed: usize,
    stats: ProxyStats,
}

/// Pushes `count` secrets in each of `scopes` through a proxy that admits 3 writes/s.
fn budgeted_push(
    moto: &MotoServer,
    temp: &Path,
    app: &str,
    scopes: &[ScopeKey],
    count: usize,
    command: &[&str],
) -> Budgeted {
    let limited = FaultProxy::start(
        moto.addr(),
        FaultConfig {
            write_budget_tps: Some(3.0),
            ..FaultConfig::default()
        },
    );
    let project = Project::with_scopes(temp, app, app, scopes, count, &limited.endpoint());
    let mut args = command.to_vec();
    args.extend(["--yes", "--max-tps", "20"]);
    let (elapsed, report) = project.run(&args);
    let reports: Vec<&serde_json::Value> = match report["scopes"].as_array() {
        Some(scopes) => scopes.iter().collect(),
        None => vec![&report],
    };
    let count = |key: &str| -> usize {
        reports
            .iter()
            .map(|r| r[key].as_array().unwrap().len())
            .sum()
    };
    Budgeted {
        elapsed,
        applied: count("applied"),
        failed: count("failed"),
        stats: limited.stats(),
    }
}

fn report_budget(label: &str, budget: f64, run: &Budgeted) {
    let stats = &run.stats;
    let writes = stats.write_times.len();
    let span = stats
        .write_times
        .last()
        .unwrap()
        .duration_since(stats.write_times[0])
        .as_secs_f64();
    // Two views of the rate: over the whole command (start-up and the reads included), and
    // between the first and last accepted write (the server's view).
    let overall = writes as f64 / run.elapsed.as_secs_f64();
    let sustained = (writes - 1) as f64 / span;
    println!(
        "{label:<22} {:>6.2} s   applied {} failed {}   throttled calls {}",
        run.elapsed.as_secs_f64(),
        run.applied,
        run.failed,
        stats.op("PutParameter").throttled,
    );
    println!(
        "  achieved {overall:.2} writes/s over the command = {:.0}% of budget; {sustained:.2}/s between first and last write = {:.0}% (target >= 90%)",
        100.0 * overall / budget,
        100.0 * sustained / budget
    );
    stats
        .check_write_budget(budget)
        .expect("the proxy's budget held");
}
