//! Vault benchmark: 10,000 secrets over 10 scopes.
//!
//! Prints `get`, `set` and `list` times of the real binary, its peak RSS, and `get` as a ratio
//! to a bare age decrypt of the same vault file (in-process, so process start-up does not
//! hide the difference). Run with `cargo bench --bench vault`.

use age::secrecy::ExposeSecret;
use ampsecret::scope::ScopeKey;
use ampsecret::secret::SecretValue;
use ampsecret::vault::{Config, Encryption, Key, Stamp, VaultDir, crypto};
use std::hint::black_box;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SECRETS: usize = 10_000;
const SCOPES: usize = 10;
const ROUNDS: usize = 30;

fn scopes() -> Vec<ScopeKey> {
    let mut scopes = vec![ScopeKey::Shared, ScopeKey::Sandbox("alice".into())];
    scopes.extend((0..SCOPES - 2).map(|i| ScopeKey::Branch(format!("feature/branch-{i}"))));
    scopes
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn time(rounds: usize, mut f: impl FnMut()) -> Duration {
    median(
        (0..rounds)
            .map(|_| {
                let started = Instant::now();
                f();
                started.elapsed()
            })
            .collect(),
    )
}

/// Runs the binary and returns its wall time and peak RSS in KiB (from wait4's rusage).
// The child is reaped by wait4 below, which std's Child::wait cannot replace: it has no rusage.
#[allow(clippy::zombie_processes)]
fn run_cli(
    project: &Path,
    identity_file: &Path,
    args: &[&str],
    stdin: Option<&str>,
) -> (Duration, i64) {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ampsecret"))
        .args(args)
        .current_dir(project)
        .env("AMPSECRET_IDENTITY_FILE", identity_file)
        .env("AMPSECRET_NO_KEYRING", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("run ampsecret");
    {
        use std::io::Write;
        let mut pipe = child.stdin.take().unwrap();
        if let Some(input) = stdin {
            pipe.write_all(input.as_bytes()).unwrap();
        }
    }
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let elapsed = started.elapsed();
    assert_eq!(rc, pid, "wait4");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{args:?} failed"
    );
    (elapsed, usage.ru_maxrss)
}

fn main() {
    let temp = tempfile::tempdir().unwrap();
    let project = temp.path().join("app");
    std::fs::create_dir_all(project.join(".git")).unwrap();
    std::fs::write(
        project.join(".git/HEAD"),
        "ref: refs/heads/feature/branch-0\n",
    )
    .unwrap();
    std::fs::write(project.join("package.json"), r#"{"name":"bench-app"}"#).unwrap();

    let identity = age::x25519::Identity::generate();
    let identity_file = temp.path().join("identity.txt");
    std::fs::write(
        &identity_file,
        format!("{}\n", identity.to_string().expose_secret()),
    )
    .unwrap();
    // A key file others can read gets a warning on every command: keep it private.
    std::fs::set_permissions(
        &identity_file,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let (vault, key, ()) = VaultDir::create(&project.join(".ampsecret"), |vault_id| {
        let config = Config::new(
            vault_id,
            Some("d1a2b3c4d5e6f7".into()),
            Encryption::X25519,
            vec![identity.to_public().to_string()],
        );
        Ok((config, Key::Identities(vec![identity.clone()]), ()))
    })
    .unwrap();
    let scopes = scopes();
    vault
        .update(&key, |v| {
            for i in 0..SECRETS {
                let value = SecretValue::new(format!("sk_live_{i:08}_{}", "x".repeat(32)));
                v.set(
                    &scopes[i % SCOPES],
                    &format!("SECRET_NUMBER_{i:05}"),
                    value,
                    &Stamp {
                        at: 1_700_000_000,
                        by: "bench".into(),
                    },
                );
            }
            Ok(())
        })
        .unwrap();
    let file_size = std::fs::metadata(vault.vault_path()).unwrap().len();

    // In-process: bare age decrypt of the file vs. ampsecret's whole `get` path.
    let ids = [identity];
    let decrypt = time(ROUNDS, || {
        let bytes = std::fs::read(vault.vault_path()).unwrap();
        black_box(crypto::unseal(&bytes, crypto::Unseal::Identities(&ids)).unwrap());
    });
    let target_scope = &scopes[7];
    let get = time(ROUNDS, || {
        let opened = VaultDir::open(vault.dir()).unwrap();
        let plaintext = opened.read(&key).unwrap();
        let view = plaintext.view().unwrap();
        black_box(
            view.get(target_scope, "SECRET_NUMBER_09997")
                .unwrap()
                .value(),
        );
    });

    // The real binary, end to end.
    let cli = |args: &[&str], stdin: Option<&str>| {
        let runs: Vec<(Duration, i64)> = (0..10)
            .map(|_| run_cli(&project, &identity_file, args, stdin))
            .collect();
        let rss = runs.iter().map(|r| r.1).max().unwrap();
        (median(runs.into_iter().map(|r| r.0).collect()), rss)
    };
    let (cli_get, get_rss) = cli(
        &["get", "SECRET_NUMBER_09997", "--branch", "feature/branch-5"],
        None,
    );
    let (cli_set, set_rss) = cli(&["set", "NEW_SECRET", "--stdin", "--shared"], Some("value"));
    let (cli_list, list_rss) = cli(&["list", "--all"], None);

    println!(
        "vault: {SECRETS} secrets over {SCOPES} scopes, {} KiB encrypted",
        file_size / 1024
    );
    println!(
        "in-process  bare age decrypt   {:>9.3} ms",
        decrypt.as_secs_f64() * 1e3
    );
    println!(
        "in-process  ampsecret get      {:>9.3} ms",
        get.as_secs_f64() * 1e3
    );
    println!(
        "get / bare decrypt ratio       {:>9.2}x  (target <= 1.5x)",
        get.as_secs_f64() / decrypt.as_secs_f64()
    );
    println!(
        "cli  get    {:>8.2} ms   peak RSS {:>6.1} MiB",
        cli_get.as_secs_f64() * 1e3,
        get_rss as f64 / 1024.0
    );
    println!(
        "cli  set    {:>8.2} ms   peak RSS {:>6.1} MiB",
        cli_set.as_secs_f64() * 1e3,
        set_rss as f64 / 1024.0
    );
    println!(
        "cli  list   {:>8.2} ms   peak RSS {:>6.1} MiB  (--all, {SECRETS} rows)",
        cli_list.as_secs_f64() * 1e3,
        list_rss as f64 / 1024.0
    );
}
