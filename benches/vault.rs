//! Vault benchmark: 10,000 and 100,000 secrets over 10 scopes.
//!
//! Runs the real binary and the floor as whole processes, interleaved in the same run, and
//! prints the ratios the vault must keep:
//! - `get` one secret against a bare `age -d` of the whole vault as one file (what a vault
//!   of format 4 was: the same payload, indexed, in one age file),
//! - `set` one secret against `age -d | age -e` of it (two processes, two cores),
//! - the peak RSS (`wait4`'s `ru_maxrss`) of `get` above the binary's own start-up footprint,
//!   against the size of the largest file it decrypts (the scope's file).
//!
//! The floor is a copy of this bench's executable run as a bare age CLI (`BENCH_AGE=decrypt` or
//! `encrypt`): the same age crate as ampsecret, no other work. An in-process breakdown then
//! shows where the time of a whole-vault read and write goes. Run with
//! `cargo bench --bench vault` (`BENCH_SIZES=100000` to pick sizes; `BENCH_KEEP=1` leaves
//! the vaults behind for profiling by hand).

use age::secrecy::ExposeSecret;
use ampsecret::scope::ScopeKey;
use ampsecret::secret::SecretValue;
use ampsecret::vault::{Config, Encryption, Key, Stamp, VaultDir, VaultView, crypto, store};
use std::hint::black_box;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SCOPES: usize = 10;
/// Whole-process runs per command (median); interleaved with the floor's, in a random order.
const RUNS: usize = 31;
/// In-process repetitions of each phase (median).
const ROUNDS: usize = 7;
const TARGET_SCOPE: usize = 7;

/// One whole-process run of a round.
#[derive(Debug, Clone, Copy)]
enum Step {
    Decrypt,
    Get,
    Reencrypt,
    Set,
    List,
    RageDecrypt,
    RageReencrypt,
}

fn main() {
    if let Ok(report) = std::env::var("BENCH_REPORT") {
        return measure(Path::new(&report));
    }
    if let Ok(mode) = std::env::var("BENCH_AGE") {
        return bare_age(&mode);
    }
    let sizes: Vec<usize> = std::env::var("BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 100_000]);
    // What this machine remembers of each vault it opens (trust records) goes into a folder
    // of this run's, not the user's config folder: every run makes vaults of its own.
    let config_home = tempfile::tempdir().unwrap();
    // SAFETY: no other thread has started; every process the bench starts inherits it.
    unsafe { std::env::set_var("XDG_CONFIG_HOME", config_home.path()) };
    // What the program itself needs: a vault of ten secrets.
    let baseline = bench(SCOPES, None);
    for secrets in sizes {
        bench(secrets, Some(baseline));
    }
    if std::env::var_os("BENCH_KEEP").is_some() {
        println!(
            "kept: trust records in {} (XDG_CONFIG_HOME for commands run by hand)",
            config_home.path().display()
        );
        std::mem::forget(config_home);
    }
}

/// A bare age CLI: `decrypt IDENTITY_FILE FILE` to stdout, or `encrypt RECIPIENT` stdin to
/// stdout, streaming as `age -d` and `age -e` do.
fn bare_age(mode: &str) {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut stdout = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    match mode {
        "decrypt" => {
            let text = std::fs::read_to_string(&args[0]).unwrap();
            let identity: age::x25519::Identity = text.trim().parse().unwrap();
            let file = BufReader::new(std::fs::File::open(&args[1]).unwrap());
            let decryptor = age::Decryptor::new_buffered(file).unwrap();
            let mut reader = decryptor
                .decrypt(std::iter::once(&identity as &dyn age::Identity))
                .unwrap();
            std::io::copy(&mut reader, &mut stdout).unwrap();
        }
        "encrypt" => {
            let recipient: age::x25519::Recipient = args[0].parse().unwrap();
            let encryptor =
                age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
                    .unwrap();
            let mut writer = encryptor.wrap_output(&mut stdout).unwrap();
            std::io::copy(&mut std::io::stdin().lock(), &mut writer).unwrap();
            writer.finish().unwrap();
        }
        other => panic!("unknown BENCH_AGE mode {other}"),
    }
    stdout.flush().unwrap();
}

/// Runs the command in its arguments with this process's stdio and writes its start and end
/// (monotonic nanoseconds) and peak RSS to `report`.
///
/// Measured commands are started through this small process: a child's `ru_maxrss` starts at
/// the peak of the memory it was spawned from (spawning shares or copies it until exec), and
/// the bench itself holds a whole vault in memory.
fn measure(report: &Path) {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let start = monotonic_ns();
    let child = Command::new(&args[0])
        .args(&args[1..])
        .env_remove("BENCH_REPORT")
        .spawn()
        .expect("run the measured command");
    let rss = reap(child);
    let end = monotonic_ns();
    std::fs::write(report, format!("{start} {end} {rss}")).unwrap();
}

fn monotonic_ns() -> u64 {
    // SAFETY: clock_gettime writes the timespec it is given.
    let mut now: libc::timespec = unsafe { std::mem::zeroed() };
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64
}

/// `program` with `args`, to be started through [`measure`]: set its stdio, spawn it, and
/// read what it did with [`finish`].
fn measured(program: &Path, args: &[&std::ffi::OsStr]) -> (Command, tempfile::NamedTempFile) {
    let report = tempfile::NamedTempFile::new().unwrap();
    let mut command = Command::new(&executables().wrapper);
    command
        .env("BENCH_REPORT", report.path())
        .arg(program)
        .args(args);
    (command, report)
}

/// The executables a run starts, each a copy beside this executable (replaced by every run):
/// the wrapper [`measure`] runs in and the floor are copies of this one, `ampsecret` a copy of
/// the binary cargo built.
///
/// Copies, all of them, because how a file was written changes what starting it costs: the
/// page cache holds a file written by a linker in small pieces (folios), and one written by a
/// plain copy (as `cargo install` puts a binary in place) in large ones, which a start maps
/// with fewer page faults (measured: `get` 234-238 faults and 1.55-1.93 ms of CPU from the
/// linker's output, 217-222 and 1.21-1.27 ms from a copy; the floor 154-155 against 144-145).
/// The floor and the wrapper are separate files: a floor started from the file its wrapper
/// runs would find the code the two share warm in the CPU's caches.
struct Executables {
    wrapper: PathBuf,
    floor: PathBuf,
    ampsecret: PathBuf,
}

fn executables() -> &'static Executables {
    static EXECUTABLES: std::sync::OnceLock<Executables> = std::sync::OnceLock::new();
    EXECUTABLES.get_or_init(|| {
        let this = std::env::current_exe().unwrap();
        let copy = |from: &Path, extension: &str| {
            let to = this.with_extension(extension);
            std::fs::copy(from, &to).unwrap();
            to
        };
        Executables {
            wrapper: copy(&this, "wrapper"),
            floor: copy(&this, "floor"),
            ampsecret: copy(Path::new(env!("CARGO_BIN_EXE_ampsecret")), "ampsecret"),
        }
    })
}

/// Waits for a command started through [`measure`]: its (start, end, peak RSS in KiB).
fn finish(wrapper: Child, report: tempfile::NamedTempFile) -> (u64, u64, i64) {
    reap(wrapper);
    let text = std::fs::read_to_string(report.path()).unwrap();
    let fields: Vec<i64> = text.split(' ').map(|f| f.parse().unwrap()).collect();
    (fields[0] as u64, fields[1] as u64, fields[2])
}

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

fn kib_to_mib(kib: i64) -> f64 {
    kib as f64 / 1024.0
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Reaps `child` and returns its peak RSS in KiB (from wait4's rusage; std's wait has none).
fn reap(child: Child) -> i64 {
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(rc, pid, "wait4");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "a benchmarked process failed"
    );
    // The child is reaped: forget it so its drop does not touch the pid again.
    std::mem::forget(child);
    usage.ru_maxrss
}

/// One whole-process run: wall time and peak RSS.
struct Run {
    wall: Duration,
    rss: i64,
}

fn ampsecret(project: &Path, identity_file: &Path, args: &[&str], stdin: Option<&str>) -> Run {
    let args: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
    let (mut command, report) = measured(&executables().ampsecret, &args);
    let mut child = command
        .current_dir(project)
        .env("AMPSECRET_IDENTITY_FILE", identity_file)
        .env("AMPSECRET_NO_KEYRING", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run ampsecret");
    {
        let mut pipe = child.stdin.take().unwrap();
        if let Some(input) = stdin {
            pipe.write_all(input.as_bytes()).unwrap();
        }
    }
    let (start, end, rss) = finish(child, report);
    Run {
        wall: Duration::from_nanos(end - start),
        rss,
    }
}

/// An age CLI the bench measures against.
#[derive(Clone, Copy)]
enum Floor<'a> {
    /// This executable as a bare age CLI (`BENCH_AGE`).
    Bare,
    /// rage, the age CLI in Rust (when installed: `cargo install rage`).
    Rage(&'a Path),
}

impl Floor<'_> {
    /// Starts `age -d IDENTITY FILE` (`decrypt` given) or `age -e -r RECIPIENT`, measured.
    fn start(
        self,
        decrypt: Option<(&Path, &Path)>,
        recipient: &Path,
        stdin: Stdio,
        stdout: Stdio,
    ) -> (Child, tempfile::NamedTempFile) {
        let program = match self {
            Floor::Bare => executables().floor.clone(),
            Floor::Rage(rage) => rage.to_path_buf(),
        };
        let args: Vec<&std::ffi::OsStr> = match (self, decrypt) {
            (Floor::Bare, Some((identity, file))) => vec![identity.as_os_str(), file.as_os_str()],
            (Floor::Bare, None) => vec![recipient.as_os_str()],
            (Floor::Rage(_), Some((identity, file))) => {
                vec![
                    "-d".as_ref(),
                    "-i".as_ref(),
                    identity.as_os_str(),
                    file.as_os_str(),
                ]
            }
            (Floor::Rage(_), None) => vec!["-e".as_ref(), "-r".as_ref(), recipient.as_os_str()],
        };
        let (mut command, report) = measured(&program, &args);
        if let Floor::Bare = self {
            command.env(
                "BENCH_AGE",
                if decrypt.is_some() {
                    "decrypt"
                } else {
                    "encrypt"
                },
            );
        }
        let child = command
            .stdin(stdin)
            .stdout(stdout)
            .stderr(Stdio::inherit())
            .spawn()
            .expect("run the age CLI");
        (child, report)
    }

    /// `age -d FILE > /dev/null`.
    fn decrypt(self, identity_file: &Path, vault: &Path) -> Run {
        let (child, report) = self.start(
            Some((identity_file, vault)),
            Path::new(""),
            Stdio::null(),
            Stdio::null(),
        );
        let (start, end, rss) = finish(child, report);
        Run {
            wall: Duration::from_nanos(end - start),
            rss,
        }
    }

    /// `age -d FILE | age -e -r RECIPIENT > /dev/null`: both ends run at once; from the first
    /// start to the last end.
    fn reencrypt(self, identity_file: &Path, vault: &Path, recipient: &Path) -> Run {
        let (mut decrypt, decrypt_report) = self.start(
            Some((identity_file, vault)),
            recipient,
            Stdio::null(),
            Stdio::piped(),
        );
        let pipe = decrypt.stdout.take().unwrap();
        let (encrypt, encrypt_report) =
            self.start(None, recipient, Stdio::from(pipe), Stdio::null());
        let (start_d, end_d, rss_d) = finish(decrypt, decrypt_report);
        let (start_e, end_e, rss_e) = finish(encrypt, encrypt_report);
        Run {
            wall: Duration::from_nanos(end_d.max(end_e) - start_d.min(start_e)),
            rss: rss_d.max(rss_e),
        }
    }
}

/// rage on PATH or in cargo's bin folder, if installed.
fn find_rage() -> Option<PathBuf> {
    let cargo_bin = std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo/bin"));
    std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain(cargo_bin)
        .map(|dir| dir.join("rage"))
        .find(|candidate| candidate.is_file())
}

struct Summary {
    wall: Duration,
    rss: i64,
}

fn summarize(runs: Vec<Run>) -> Summary {
    let rss = runs.iter().map(|r| r.rss).max().unwrap();
    Summary {
        wall: median(runs.into_iter().map(|r| r.wall).collect()),
        rss,
    }
}

/// Measures a vault of `secrets`; returns the peak RSS of its `get` (KiB).
fn bench(secrets: usize, baseline: Option<i64>) -> i64 {
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
    let recipient: PathBuf = identity.to_public().to_string().into();
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
            for i in 0..secrets {
                let value = SecretValue::new(format!("sk_live_{i:08}_{}", "x".repeat(32)));
                v.set(
                    &scopes[i % SCOPES],
                    &format!("SECRET_NUMBER_{i:06}"),
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
    // The floor decrypts the whole vault as one age file: what format 4 kept.
    let vault_file = temp.path().join("whole-vault.age");
    let whole = vault
        .payload()
        .view(&key)
        .unwrap()
        .to_vault()
        .encode_unsplit();
    std::fs::write(
        &vault_file,
        crypto::seal(&whole, crypto::Seal::Recipients(&[&identity.to_public()])).unwrap(),
    )
    .unwrap();
    drop(whole);
    let file_size = std::fs::metadata(&vault_file).unwrap().len();
    let scope_file = vault.dir().join(ampsecret::vault::split::file_name(
        &vault.config.vault_id,
        &scopes[TARGET_SCOPE],
    ));
    let files_size = || -> u64 {
        std::fs::read_dir(vault.dir())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".age"))
            .map(|e| e.metadata().unwrap().len())
            .sum()
    };
    let (files_before, scope_file_before) =
        (files_size(), std::fs::metadata(&scope_file).unwrap().len());
    let probe = format!("SECRET_NUMBER_{:06}", (secrets - SCOPES) + TARGET_SCOPE);
    let target_branch = format!("feature/branch-{}", TARGET_SCOPE - 2);
    let get_args = ["get", probe.as_str(), "--branch", target_branch.as_str()];

    // Whole processes, interleaved so that the machine's load falls on both sides alike.
    let rage = find_rage();
    let (mut get, mut decrypt, mut set, mut reencrypt, mut list) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut rage_decrypt, mut rage_reencrypt) = (Vec::new(), Vec::new());
    let mut rng = rand::thread_rng();
    for round in 0..RUNS {
        let mut steps = vec![Step::Decrypt, Step::Get, Step::Reencrypt, Step::Set];
        if round < 5 {
            steps.push(Step::List);
        }
        if rage.is_some() {
            steps.extend([Step::RageDecrypt, Step::RageReencrypt]);
        }
        // A fixed order hands each command the state the one before left (the page cache, the
        // writeback a `set` starts, the CPU's clock): each round runs them in a random order.
        rand::seq::SliceRandom::shuffle(&mut steps[..], &mut rng);
        for step in steps {
            match (step, &rage) {
                (Step::Decrypt, _) => {
                    decrypt.push(Floor::Bare.decrypt(&identity_file, &vault_file))
                }
                (Step::Reencrypt, _) => {
                    reencrypt.push(Floor::Bare.reencrypt(&identity_file, &vault_file, &recipient))
                }
                (Step::RageDecrypt, Some(rage)) => {
                    rage_decrypt.push(Floor::Rage(rage).decrypt(&identity_file, &vault_file))
                }
                (Step::RageReencrypt, Some(rage)) => rage_reencrypt
                    .push(Floor::Rage(rage).reencrypt(&identity_file, &vault_file, &recipient)),
                (Step::Get, _) => get.push(ampsecret(&project, &identity_file, &get_args, None)),
                (Step::Set, _) => {
                    // A new value every round: an unchanged value writes nothing.
                    let value = format!("rotated-{round}");
                    set.push(ampsecret(
                        &project,
                        &identity_file,
                        &["set", &probe, "--stdin", "--branch", &target_branch],
                        Some(&value),
                    ));
                }
                (Step::List, _) => list.push(ampsecret(
                    &project,
                    &identity_file,
                    &["list", "--branch", &target_branch],
                    None,
                )),
                (Step::RageDecrypt | Step::RageReencrypt, None) => {}
            }
        }
    }
    let (files_after, scope_file_after) =
        (files_size(), std::fs::metadata(&scope_file).unwrap().len());
    let (get, decrypt, set, reencrypt, list) = (
        summarize(get),
        summarize(decrypt),
        summarize(set),
        summarize(reencrypt),
        summarize(list),
    );

    println!();
    let kib = |bytes: u64| bytes as f64 / 1024.0;
    println!(
        "== {secrets} secrets over {SCOPES} scopes: the vault as one file {:.1} KiB; its files {:.1} KiB, the scope's {:.1} KiB ({:.1} / {:.1} KiB after the sets)",
        kib(file_size),
        kib(files_before),
        kib(scope_file_before),
        kib(files_after),
        kib(scope_file_after)
    );
    println!(
        "{:<28} {:>9} {:>11} {:>9}",
        "whole process (median)", "ms", "peak MiB", "ratio"
    );
    // `against`: the floor this row is a ratio of, and the target ratio.
    let row = |what: &str, s: &Summary, against: Option<(&Summary, &str)>| {
        let ratio = against.map_or(String::new(), |(floor, target)| {
            let r = s.wall.as_secs_f64() / floor.wall.as_secs_f64();
            format!("{r:>8.2}x  (target <= {target})")
        });
        println!(
            "{what:<28} {:>9.2} {:>11.1} {ratio}",
            ms(s.wall),
            kib_to_mib(s.rss)
        );
    };
    row("age -d (floor of get)", &decrypt, None);
    row("ampsecret get", &get, Some((&decrypt, "1.0x")));
    row("age -d | age -e (floor)", &reencrypt, None);
    row("ampsecret set", &set, Some((&reencrypt, "1.5x")));
    row("ampsecret list --branch", &list, None);
    if !rage_decrypt.is_empty() {
        let (rage_decrypt, rage_reencrypt) = (summarize(rage_decrypt), summarize(rage_reencrypt));
        row("rage -d", &rage_decrypt, None);
        row(
            "  ampsecret get / rage -d",
            &get,
            Some((&rage_decrypt, "1.0x")),
        );
        row("rage -d | rage -e", &rage_reencrypt, None);
        row(
            "  ampsecret set / rage pipe",
            &set,
            Some((&rage_reencrypt, "1.5x")),
        );
    }
    if let Some(baseline) = baseline {
        let get_extra_kib = (get.rss - baseline).max(0);
        println!(
            "get peak RSS above a get on 10 secrets {:>6.1} MiB = {:.2}x the scope's file (target <= 2x)",
            kib_to_mib(get_extra_kib),
            get_extra_kib as f64 * 1024.0 / scope_file_after as f64
        );
    }
    phases(
        &vault,
        &vault_file,
        &key,
        &identity,
        &scopes[TARGET_SCOPE],
        &probe,
    );
    if std::env::var_os("BENCH_KEEP").is_some() {
        // Left for profiling by hand.
        println!(
            "kept: {} (identity {})",
            project.display(),
            identity_file.display()
        );
        std::mem::forget(temp);
    }
    get.rss
}

/// In-process: where the time of a whole-vault read and write goes (`path`: the whole vault
/// as one file), and of a `get` and `set`.
fn phases(
    vault: &VaultDir,
    path: &Path,
    key: &Key,
    identity: &age::x25519::Identity,
    scope: &ScopeKey,
    probe: &str,
) {
    let ids = [identity.clone()];
    let read = time(ROUNDS, || {
        black_box(std::fs::read(path).unwrap());
    });
    let ciphertext = std::fs::read(path).unwrap();
    let decrypt = time(ROUNDS, || {
        black_box(crypto::unseal(&ciphertext, crypto::Unseal::Identities(&ids)).unwrap());
    });
    let plaintext = crypto::unseal(&ciphertext, crypto::Unseal::Identities(&ids)).unwrap();
    let parse = time(ROUNDS, || {
        black_box(VaultView::parse(&plaintext).unwrap());
    });
    let trust = time(ROUNDS, || {
        let team = VaultView::parse_team(&plaintext).unwrap();
        ampsecret::vault::trust::verify(&vault.config.vault_id, &team, path).unwrap();
    });
    let view = VaultView::parse(&plaintext).unwrap();
    let lookup = time(ROUNDS, || {
        black_box(view.get(scope, probe).unwrap().value());
    });
    let to_vault = time(ROUNDS, || {
        black_box(view.to_vault());
    });
    let owned = view.to_vault();
    let encode = time(ROUNDS, || {
        black_box(owned.encode());
    });
    let encoded = owned.encode();
    let recipient = identity.to_public();
    let seal = time(ROUNDS, || {
        black_box(crypto::seal(&encoded, crypto::Seal::Recipients(&[&recipient])).unwrap());
    });
    let sealed = crypto::seal(&encoded, crypto::Seal::Recipients(&[&recipient])).unwrap();
    let scratch = vault.dir().join("bench-scratch.age");
    let write = time(ROUNDS, || store::write_atomic(&scratch, &sealed).unwrap());
    let _ = std::fs::remove_file(&scratch);
    let drop_owned = time(ROUNDS, || drop(black_box(view.to_vault()))).saturating_sub(to_vault);
    let open = time(ROUNDS, || {
        let opened = VaultDir::open(vault.dir()).unwrap();
        black_box(opened.read(key).unwrap());
    });
    let get = time(ROUNDS, || {
        let opened = VaultDir::open(vault.dir()).unwrap();
        let payload = opened.payload();
        let part = payload.part(key, &[(scope, probe)], &[]).unwrap();
        black_box(part.view().unwrap().get(scope, probe).unwrap().value());
    });
    let mut round = 0;
    let set = time(ROUNDS, || {
        round += 1;
        let value = SecretValue::new(format!("in-process-{round}"));
        vault
            .update_secret(key, scope, probe, |v| {
                Ok(v.set(scope, probe, value, &Stamp::new(1_800_000_000, "bench")))
            })
            .unwrap();
    });
    println!("in-process phases (median of {ROUNDS}):");
    for (what, d) in [
        ("read the vault as one file", read),
        ("age decrypt (whole file)", decrypt),
        ("parse payload (VaultView)", parse),
        ("trust check (team + record)", trust),
        ("look up one secret", lookup),
        ("copy to owned Vault", to_vault),
        ("drop (wipe) owned Vault", drop_owned),
        ("encode payload", encode),
        ("age encrypt (whole payload)", seal),
        ("atomic write + fsyncs", write),
        ("open: vault.age + trust check", open),
        ("get: scope's file, one block", get),
        ("set: update_secret", set),
    ] {
        println!("  {what:<30} {:>9.3} ms", ms(d));
    }
}
