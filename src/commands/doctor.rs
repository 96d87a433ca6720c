//! `ampsecret doctor`: a checklist of what push, pull and `--remote` need, each line ✓ or ✗
//! with the fix. The local side first (vault, key, file modes, git drivers), then AWS
//! (credentials, Region, endpoint, read access, service setting, tier count, KMS key) with
//! short timeouts and few retries, so a dead endpoint is named within seconds.

use super::git;
use crate::cli::DoctorArgs;
use crate::error::{Result, exit};
use crate::keystore::{self, KeyLocation};
use crate::output::{Output, Render, count};
use crate::scope::ScopeKey;
use crate::session::Context;
use crate::ssm::failure::CallError;
use crate::ssm::remote::Remote;
use crate::ssm::setup::{Patience, Target};
use crate::vault::{Encryption, VaultDir};
use serde::Serialize;
use std::io::{self, Write};
use std::path::Path;
use std::time::{Duration, Instant};

/// SSM's limit on Standard-tier parameters per account and Region.
const STANDARD_LIMIT: u64 = 10_000;
/// From this many, the count is reported as a problem: the next push may hit the limit.
const STANDARD_WARN: u64 = 9_000;
/// How long the Standard-tier count may page through DescribeParameters.
const COUNT_BUDGET: Duration = Duration::from_secs(5);
/// The service setting behind Parameter Store's higher throughput.
const HIGH_THROUGHPUT: &str = "/ssm/parameter-store/high-throughput-enabled";
/// The key SSM (and Amplify, which sends no KeyId) encrypts SecureStrings with by default.
const DEFAULT_KEY: &str = "alias/aws/ssm";

/// How one check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Health {
    Pass,
    Fail,
    /// Could not be told (the endpoint does not answer that call): not a failure.
    Unknown,
    /// Not run, because an earlier check failed or it does not apply.
    Skipped,
}

#[derive(Debug, Serialize)]
struct Check {
    check: &'static str,
    status: Health,
    detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<String>,
}

/// `--json`: `{"scope","target","ok","checks":[{"check","status","detail","fix"}]}`.
#[derive(Serialize)]
struct Diagnosis {
    scope: Option<String>,
    target: Option<Target>,
    ok: bool,
    checks: Vec<Check>,
}

/// The checks so far, and the helpers that add one.
#[derive(Default)]
struct Checklist(Vec<Check>);

impl Checklist {
    fn add(&mut self, check: &'static str, status: Health, detail: String, fix: Option<String>) {
        self.0.push(Check {
            check,
            status,
            detail,
            fix,
        });
    }

    fn pass(&mut self, check: &'static str, detail: impl Into<String>) {
        self.add(check, Health::Pass, detail.into(), None);
    }

    fn fail(&mut self, check: &'static str, detail: impl Into<String>, fix: impl Into<String>) {
        self.add(check, Health::Fail, detail.into(), Some(fix.into()));
    }

    /// A check SSM did not answer: not a failure. When access was denied, the fix is the
    /// permission `grant`.
    fn unknown(&mut self, check: &'static str, what: &str, error: &CallError, grant: &str) {
        let fix = error
            .is_access_denied()
            .then(|| format!("grant {grant} to see it"));
        self.add(check, Health::Unknown, format!("{what} ({error})"), fix);
    }

    fn skip(&mut self, checks: &[&'static str], why: &str) {
        for check in checks {
            self.add(check, Health::Skipped, why.to_owned(), None);
        }
    }
}

/// The AWS checks, in order (those after a failure that makes them moot are skipped).
const AFTER_CREDENTIALS: &[&str] = &[
    "endpoint",
    "read_scope",
    "read_shared",
    "high_throughput",
    "standard_tier",
    "kms_key",
];

pub fn run(cx: &Context, out: &Output, args: DoctorArgs) -> Result<i32> {
    // doctor reports file modes itself, as checks.
    crate::vault::store::silence_warnings();
    let mut checks = Checklist::default();
    local_checks(cx, &mut checks);
    let scope = match cx.scope(&args.scope) {
        Ok(scope) => Some(scope),
        Err(e) => {
            checks.fail("scope", "no scope to check", e.to_string());
            None
        }
    };
    let target = aws_checks(cx, &args, scope.as_ref(), &mut checks);
    let ok = !checks.0.iter().any(|c| c.status == Health::Fail);
    out.emit(&Diagnosis {
        scope: scope.map(|s| s.to_string()),
        target,
        ok,
        checks: checks.0,
    })?;
    Ok(if ok { exit::SUCCESS } else { exit::UNHEALTHY })
}

/// The vault opens with a key found where ampsecret looks; its files are private enough;
/// git's drivers for it are registered.
fn local_checks(cx: &Context, checks: &mut Checklist) {
    let dir = match cx.require_vault_dir() {
        Ok(dir) => dir,
        Err(e) => {
            checks.fail(
                "vault",
                e.to_string(),
                "run 'ampsecret init --app-id ID' (or pass --vault DIR)",
            );
            checks.skip(&["key", "file_modes", "git_drivers"], "no vault");
            return;
        }
    };
    let location = open_vault(cx, dir, checks);
    file_modes(dir, location.as_ref(), checks);
    git_drivers(dir, checks);
}

/// Opens the vault as every command does; returns where its key came from.
fn open_vault(cx: &Context, dir: &VaultDir, checks: &mut Checklist) -> Option<KeyLocation> {
    // Scopes and secrets in a payload, counted once it is decrypted.
    let counts = |view: &crate::vault::VaultView<'_>| {
        (
            view.scopes.len(),
            view.scopes.iter().map(|s| s.secrets.len()).sum::<usize>(),
        )
    };
    let (location, opened) = match dir.config.encryption {
        Encryption::X25519 => match keystore::find_key(&dir.config.vault_id) {
            Ok((key, location)) => (
                Some(location),
                dir.read(&key).and_then(|p| Ok(counts(&p.view(&key)?))),
            ),
            Err(e) => {
                checks.fail(
                    "key",
                    "no key for this vault",
                    format!("{e} (a teammate's vault: 'ampsecret join')"),
                );
                checks.skip(&["vault"], "no key");
                return None;
            }
        },
        Encryption::Passphrase => (None, cx.vault().and_then(|v| Ok(counts(&v.view()?)))),
    };
    let key = location
        .as_ref()
        .map_or_else(|| "a passphrase".to_owned(), KeyLocation::describe);
    checks.pass("key", format!("from {key}"));
    match opened {
        Ok((scopes, secrets)) => checks.pass(
            "vault",
            format!(
                "opens: {} ({} in {})",
                dir.dir().display(),
                count(secrets, "secret"),
                count(scopes, "scope")
            ),
        ),
        Err(e) => checks.fail("vault", "does not open", e.to_string()),
    }
    location
}

/// Nobody else can change the vault's files, and nobody else can read the key file.
fn file_modes(dir: &VaultDir, key: Option<&KeyLocation>, checks: &mut Checklist) {
    let mut problems = Vec::new();
    if let Err(e) = crate::vault::store::check_folder(dir.dir()) {
        problems.push(e.to_string());
    }
    let mut files = vec![
        (dir.vault_path(), 0o022, "other users can change it"),
        (
            dir.dir().join("config.toml"),
            0o022,
            "other users can change it",
        ),
    ];
    if let Some(KeyLocation::IdentityFile(path) | KeyLocation::EnvironmentFile(path)) = key {
        files.push((path.clone(), 0o077, "other users can read it"));
    }
    let mut seen = Vec::new();
    for (path, too_open, what) in files {
        let Some(mode) = mode(&path) else { continue };
        seen.push(format!("{} {mode:04o}", file_name(&path)));
        if mode & too_open != 0 {
            problems.push(format!(
                "{} has mode {mode:04o}: {what}; fix it with: chmod {:o} {}",
                path.display(),
                mode & !too_open & 0o777,
                path.display()
            ));
        }
    }
    match problems.as_slice() {
        [] => checks.pass("file_modes", seen.join(", ")),
        _ => checks.fail(
            "file_modes",
            "files others can change or read",
            problems.join("; "),
        ),
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

#[cfg(unix)]
fn mode(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .ok()
        .map(|m| m.permissions().mode() & 0o7777)
}

#[cfg(not(unix))]
fn mode(_: &Path) -> Option<u32> {
    None
}

/// In a git repository: vault.age and the scopes' files have ampsecret's merge and diff
/// drivers, and this clone's git config defines them.
fn git_drivers(dir: &VaultDir, checks: &mut Checklist) {
    if !git::in_repository(dir.dir()) {
        checks.skip(&["git_drivers"], "not in a git repository");
        return;
    }
    let scope_file = dir.scope_path(&crate::scope::ScopeKey::Shared);
    let attributed = [dir.vault_path(), scope_file].iter().all(|file| {
        let attributes = git::git(
            dir.dir(),
            &["check-attr", "merge", "diff", "--", &file.to_string_lossy()],
        )
        .unwrap_or_default();
        ["merge", "diff"]
            .iter()
            .all(|a| attributes.contains(&format!(": {a}: ampsecret")))
    });
    let configured = ["merge.ampsecret.driver", "diff.ampsecret.textconv"]
        .iter()
        .all(|key| {
            git::git(dir.dir(), &["config", "--get", key]).is_ok_and(|v| !v.trim().is_empty())
        });
    if attributed && configured {
        checks.pass(
            "git_drivers",
            "merge and diff drivers registered for the vault's files",
        );
    } else {
        let missing = match (attributed, configured) {
            (false, false) => ".gitattributes and .git/config lack them",
            (false, true) => ".gitattributes lacks them",
            _ => "this clone's .git/config lacks them",
        };
        checks.fail(
            "git_drivers",
            format!("merge and diff drivers for the vault's files: {missing}"),
            "run 'ampsecret git-setup' (each clone once; commit .gitattributes)",
        );
    }
}

/// The AWS side; returns where the calls went, once a connection is configured.
fn aws_checks(
    cx: &Context,
    args: &DoctorArgs,
    scope: Option<&ScopeKey>,
    checks: &mut Checklist,
) -> Option<Target> {
    let remote = match Remote::connect_with(&args.aws, Patience::Quick) {
        Ok(remote) => remote,
        Err(e) => {
            checks.fail("region", "no AWS Region", e.to_string());
            checks.skip(&["credentials"], "no Region");
            checks.skip(AFTER_CREDENTIALS, "no Region");
            return None;
        }
    };
    let ssm = remote.ssm();
    let profile = args
        .aws
        .profile
        .clone()
        .or_else(|| std::env::var("AWS_PROFILE").ok().filter(|p| !p.is_empty()));
    let profile = profile.map_or_else(String::new, |p| format!(" (profile {p})"));
    match remote.run(ssm.credential_source()) {
        Ok(source) => checks.pass("credentials", format!("from {source}{profile}")),
        Err(help) => {
            checks.fail("credentials", format!("none found{profile}"), help);
            checks.pass("region", ssm.target().region);
            checks.skip(AFTER_CREDENTIALS, "no credentials");
            return Some(remote.target());
        }
    }
    checks.pass("region", ssm.target().region);
    let Some(scope) = scope else {
        checks.skip(AFTER_CREDENTIALS, "no scope");
        return Some(remote.target());
    };
    let prefixes = match prefixes(cx, scope) {
        Ok(prefixes) => prefixes,
        Err(e) => {
            checks.fail(
                "read_scope",
                format!("no SSM path for {scope}"),
                e.to_string(),
            );
            checks.skip(&AFTER_CREDENTIALS[2..], "no SSM path");
            return Some(remote.target());
        }
    };
    let (own, shared) = prefixes;
    // The first call tells whether the endpoint answers at all.
    let started = Instant::now();
    let first = remote.run(ssm.probe_read(&own));
    if let Err(e) = &first
        && e.is_unreachable()
    {
        checks.fail(
            "endpoint",
            format!(
                "{} does not answer (gave up after {:.1} s)",
                ssm.target().endpoint,
                started.elapsed().as_secs_f64()
            ),
            "check the network or VPN, --region, and AWS_ENDPOINT_URL_SSM / AWS_ENDPOINT_URL",
        );
        checks.skip(&AFTER_CREDENTIALS[1..], "endpoint unreachable");
        return Some(remote.target());
    }
    checks.pass("endpoint", format!("{} answers", ssm.target().endpoint));
    read_access(checks, "read_scope", &own, first);
    match shared {
        Some(Ok(prefix)) => {
            let result = remote.run(ssm.probe_read(&prefix));
            read_access(checks, "read_shared", &prefix, result);
        }
        Some(Err(why)) => checks.add(
            "read_shared",
            Health::Unknown,
            format!("{scope} has no shared namespace SSM can hold: {why}"),
            None,
        ),
        None => checks.skip(&["read_shared"], "a shared scope has no fallback"),
    }
    high_throughput(checks, remote.run(ssm.service_setting(HIGH_THROUGHPUT)));
    standard_tier(
        checks,
        remote.run(ssm.count_standard(Instant::now() + COUNT_BUDGET)),
    );
    kms_key(checks, &own, remote.run(ssm.key_ids(&own)));
    Some(remote.target())
}

/// The scope's own SSM prefix, and that of the shared namespace it falls back to (`None`
/// for a shared scope; `Err` when the namespace cannot be a path, a scoped package name).
type Prefixes = (String, Option<Result<String, String>>);

fn prefixes(cx: &Context, scope: &ScopeKey) -> Result<Prefixes> {
    let app = cx.app_identity()?;
    let own = scope.parameter_scope(&app)?.prefix();
    let shared = scope.fallback(&app)?.map(|fallback| {
        fallback
            .parameter_scope(&app)
            .map(|p| p.prefix())
            .map_err(|e| e.to_string())
    });
    Ok((own, shared))
}

fn read_access(
    checks: &mut Checklist,
    check: &'static str,
    prefix: &str,
    result: Result<bool, CallError>,
) {
    match result {
        Ok(any) => checks.pass(
            check,
            format!(
                "can read {prefix}{}",
                if any { "" } else { " (empty so far)" }
            ),
        ),
        Err(e) if e.is_access_denied() => checks.fail(
            check,
            format!("cannot read {prefix}"),
            format!(
                "grant ssm:GetParametersByPath and ssm:GetParameters on {prefix} and kms:Decrypt on its key ({e})"
            ),
        ),
        Err(e) => checks.fail(check, format!("cannot read {prefix}"), e.to_string()),
    }
}

fn high_throughput(checks: &mut Checklist, result: Result<Option<String>, CallError>) {
    match result {
        Ok(Some(value)) if value == "true" => {
            checks.pass("high_throughput", "on: Parameter Store's higher throughput")
        }
        Ok(_) => checks.pass(
            "high_throughput",
            "off: SSM's standard throughput (push paces its writes to it; turn higher throughput on in Systems Manager's settings for large pushes, at a cost)",
        ),
        Err(e) => checks.unknown(
            "high_throughput",
            "not known: GetServiceSetting failed",
            &e,
            "ssm:GetServiceSetting",
        ),
    }
}

fn standard_tier(checks: &mut Checklist, result: Result<(u64, bool), CallError>) {
    match result {
        Ok((n, complete)) => {
            let counted = if complete {
                format!("{n} of {STANDARD_LIMIT}")
            } else {
                format!(
                    "at least {n} of {STANDARD_LIMIT} (counting stopped after {} s)",
                    COUNT_BUDGET.as_secs()
                )
            };
            let detail = format!("{counted} Standard-tier parameters in this account and Region");
            if n >= STANDARD_WARN {
                checks.fail(
                    "standard_tier",
                    detail,
                    "delete unused parameters, or push with --tier advanced (Advanced parameters cost extra)",
                );
            } else {
                checks.pass("standard_tier", detail);
            }
        }
        Err(e) => checks.unknown(
            "standard_tier",
            "not counted: DescribeParameters failed",
            &e,
            "ssm:DescribeParameters",
        ),
    }
}

fn kms_key(checks: &mut Checklist, prefix: &str, result: Result<Vec<String>, CallError>) {
    match result {
        Ok(keys) if keys.iter().all(|k| k == DEFAULT_KEY) => checks.pass(
            "kms_key",
            format!(
                "{DEFAULT_KEY}: the account's default key, which Amplify decrypts with (push sends no KeyId unless --kms-key-id)"
            ),
        ),
        Ok(keys) => {
            let keys: Vec<&str> = keys.iter().map(String::as_str).filter(|k| *k != DEFAULT_KEY).collect();
            checks.pass(
                "kms_key",
                format!(
                    "{} under {prefix}: Amplify's roles need kms:Decrypt on {}",
                    keys.join(", "),
                    if keys.len() == 1 { "it" } else { "each" }
                ),
            )
        }
        Err(e) => checks.unknown(
            "kms_key",
            "not known: DescribeParameters failed",
            &e,
            "ssm:DescribeParameters",
        ),
    }
}

impl Render for Diagnosis {
    fn render(&self, out: &mut dyn Write, _: &mut dyn Write) -> io::Result<()> {
        for check in &self.checks {
            let mark = match check.status {
                Health::Pass => "✓",
                Health::Fail => "✗",
                Health::Unknown => "?",
                Health::Skipped => "-",
            };
            let skipped = if check.status == Health::Skipped {
                "skipped: "
            } else {
                ""
            };
            writeln!(out, "{mark} {}: {skipped}{}", check.check, check.detail)?;
            if let Some(fix) = &check.fix {
                writeln!(out, "    fix: {fix}")?;
            }
        }
        let failed = self
            .checks
            .iter()
            .filter(|c| c.status == Health::Fail)
            .count();
        if failed == 0 {
            writeln!(out, "No problem found.")
        } else {
            writeln!(out, "{} to fix.", count(failed, "problem"))
        }
    }
}
