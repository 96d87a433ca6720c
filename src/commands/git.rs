//! Git integration: `git-setup` registers the drivers; git calls `git-merge-driver` to merge
//! two branches' vaults secret by secret and `git-textconv` to show a version's secrets by
//! name (never values); `resolve` settles what a merge left in conflict.

use crate::cli::{MergeDriverArgs, ResolveArgs, TextconvArgs};
use crate::error::{Error, Result};
use crate::output::{self, Output, Render, count};
use crate::session::Context;
use crate::vault::config::Config as VaultConfig;
use crate::vault::{Vault, VaultDir, merge, trust};
use serde::Serialize;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The driver name in .gitattributes and git config.
const DRIVER: &str = "ampsecret";

/// `--json`: `{"attributes","lines_added","config"}`.
#[derive(Serialize)]
struct SetUp {
    attributes: String,
    lines_added: Vec<String>,
    config: Vec<String>,
}

impl Render for SetUp {
    fn render(&self, _: &mut dyn Write, err: &mut dyn Write) -> io::Result<()> {
        if self.lines_added.is_empty() {
            writeln!(
                err,
                "{} already names ampsecret's drivers.",
                self.attributes
            )?;
        } else {
            writeln!(
                err,
                "Added to {} (commit it): {}",
                self.attributes,
                self.lines_added.join("; ")
            )?;
        }
        writeln!(
            err,
            "Registered in .git/config: {}.",
            self.config.join(", ")
        )
    }
}

pub fn setup(cx: &Context, out: &Output) -> Result<()> {
    let dir = cx.require_vault_dir()?;
    out.emit(&register(dir.dir())?)
}

/// Registers the drivers for the vault in `vault_dir`; also called by `init` in a repository.
pub(super) fn register(vault_dir: &Path) -> Result<impl Render + Serialize + use<>> {
    let vault_dir = vault_dir
        .canonicalize()
        .map_err(Error::io("cannot resolve", vault_dir))?;
    let top = git(&vault_dir, &["rev-parse", "--show-toplevel"])?;
    let top = PathBuf::from(top.trim());
    let relative = vault_dir
        .strip_prefix(top.canonicalize().unwrap_or(top.clone()))
        .map_err(|_| {
            Error::Usage(format!(
                "{} is outside the git repository",
                vault_dir.display()
            ))
        })?
        .to_string_lossy()
        .replace('\\', "/");
    let attributes = top.join(".gitattributes");
    let existing = std::fs::read_to_string(&attributes).unwrap_or_default();
    let wanted = [
        format!("{relative}/*.age merge={DRIVER} diff={DRIVER}"),
        format!("{relative}/config.toml merge={DRIVER}"),
    ];
    let lines_added: Vec<String> = wanted
        .iter()
        .filter(|line| !existing.lines().any(|l| l.trim() == line.as_str()))
        .cloned()
        .collect();
    if !lines_added.is_empty() {
        let mut text = existing.clone();
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        for line in &lines_added {
            text.push_str(line);
            text.push('\n');
        }
        crate::vault::store::write_atomic(&attributes, text.as_bytes())?;
    }
    // The local config may name this very binary: it is this clone's, not committed.
    let exe = std::env::current_exe()
        .map_err(|e| Error::Other(format!("cannot find ampsecret's own path: {e}")))?;
    let quoted = |p: &Path| format!("'{}'", p.display().to_string().replace('\'', r"'\''"));
    let base = format!("{} --vault {}", quoted(&exe), quoted(&vault_dir));
    let settings = [
        (
            format!("merge.{DRIVER}.name"),
            "ampsecret vault merge".to_owned(),
        ),
        (
            format!("merge.{DRIVER}.driver"),
            format!("{base} git-merge-driver %O %A %B"),
        ),
        (
            format!("diff.{DRIVER}.textconv"),
            format!("{base} git-textconv"),
        ),
    ];
    for (key, value) in &settings {
        git(&vault_dir, &["config", "--local", key, value])?;
    }
    Ok(SetUp {
        attributes: attributes.display().to_string(),
        lines_added,
        config: settings.iter().map(|(k, _)| k.clone()).collect(),
    })
}

/// Runs git in `dir`; its stdout, or an error naming what failed.
pub(super) fn git(dir: &Path, args: &[&str]) -> Result<String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| Error::Other(format!("cannot run git: {e}")))?;
    if !output.status.success() {
        return Err(Error::Usage(format!(
            "git {} failed: {}",
            args.first().copied().unwrap_or_default(),
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Whether `dir` is inside a git work tree (and git is installed).
pub(super) fn in_repository(dir: &Path) -> bool {
    let start = if dir.exists() {
        dir
    } else {
        dir.parent().unwrap_or(dir)
    };
    git(start, &["rev-parse", "--is-inside-work-tree"]).is_ok_and(|out| out.trim() == "true")
}

/// git's merge driver: merges %B into %A given %O. Exit 0 when clean; otherwise the merged
/// vault (our values for the conflicts) is left in %A and the merge stops.
pub fn merge_driver(cx: &Context, args: MergeDriverArgs) -> Result<i32> {
    let head = std::fs::read(&args.ours).map_err(Error::io("cannot read", &args.ours))?;
    if !head.starts_with(b"age-encryption.org/") {
        return merge_config(&args);
    }
    let dir = cx.require_vault_dir()?;
    let key = cx.key()?;
    let base = VaultDir::read_version(key, &args.base)?;
    let ours = VaultDir::read_version(key, &args.ours)?;
    let theirs = VaultDir::read_version(key, &args.theirs)?;
    // A vault of one file (format 4 and earlier) holds every scope; one of format 5 holds
    // them in files of their own, which this file's merge does not see.
    if [&base, &theirs]
        .iter()
        .any(|v| v.format.is_some() && v.is_split() != ours.is_split())
    {
        return Err(Error::Usage(
            "one branch's vault is one file (written by an earlier ampsecret) and the other's is a file per scope; upgrade the earlier one first (on that branch, any change with this ampsecret, e.g. 'ampsecret set', rewrites it), commit, and merge again".into(),
        ));
    }
    let split = ours.is_split();
    let (base, mut ours, theirs) = (base.vault, ours.vault, theirs.vault);
    ours.keep_versions(usize::from(dir.config.history));
    dir.check_version(&ours, &args.ours)?;
    // A version that shares no token with ours was not written by a member (one with none
    // at all, too: only a vault from before tokens had none, and ours has one now).
    if !trust::shares_token(&ours.team, &theirs.team) && !ours.team.tokens.is_empty() {
        return Err(Error::Key(
            "the vault on the branch being merged was not written by a member of this vault (it shares no membership token with ours); refusing to merge it".into(),
        ));
    }
    let merged = merge::merge(&base, &ours, &theirs);
    VaultDir::write_version(&merged, split, key, &args.ours)?;
    let conflicts = &merged.team.conflicts;
    if conflicts.is_empty() {
        return Ok(0);
    }
    let mut message = format!(
        "ampsecret: {} changed on both branches:",
        count(conflicts.len(), "secret")
    );
    for conflict in conflicts {
        let what = if conflict.theirs.is_some() {
            "changed differently"
        } else {
            "changed here, removed there"
        };
        message.push_str(&format!(
            "\n  {}  {}  ({what})",
            conflict.scope, conflict.name
        ));
    }
    message.push_str("\nEvery other change merged. Settle these with 'ampsecret resolve --ours' or '--theirs' (optionally naming secrets), then commit.");
    eprintln!("{message}");
    Ok(1)
}

/// config.toml: ours, with the recipients merged three ways (the member list inside the
/// vault is what counts; this keeps its mirror in step).
fn merge_config(args: &MergeDriverArgs) -> Result<i32> {
    let read = |path: &Path| -> Result<Option<VaultConfig>> {
        let text = std::fs::read_to_string(path).map_err(Error::io("cannot read", path))?;
        if text.trim().is_empty() {
            return Ok(None);
        }
        VaultConfig::parse(&text, path).map(Some)
    };
    let base = read(&args.base)?;
    let (Some(mut ours), Some(theirs)) = (read(&args.ours)?, read(&args.theirs)?) else {
        return Ok(1);
    };
    let in_base = |r: &String| base.as_ref().is_some_and(|b| b.recipients.contains(r));
    let mut recipients: Vec<String> = Vec::new();
    for r in ours.recipients.iter().chain(&theirs.recipients) {
        let (o, t, b) = (
            ours.recipients.contains(r),
            theirs.recipients.contains(r),
            in_base(r),
        );
        if merge::kept(b, o, t) && !recipients.contains(r) {
            recipients.push(r.clone());
        }
    }
    ours.recipients = recipients;
    if ours.app_id.is_none() {
        ours.app_id = theirs.app_id;
    }
    crate::vault::store::write_atomic(&args.ours, ours.to_toml().as_bytes())?;
    Ok(0)
}

/// git's diff text conversion: one line per member and per secret (scope, name, last
/// update), never a value, so `git diff` and `git log -p` say which secrets changed.
pub fn textconv(cx: &Context, args: TextconvArgs) -> Result<()> {
    let described = cx
        .key()
        .and_then(|key| VaultDir::read_version(key, &args.file))
        .map(|version| describe(&version.vault))
        .unwrap_or_else(|e| format!("(ampsecret cannot open this version: {e})\n"));
    let mut stdout = io::stdout().lock();
    stdout
        .write_all(described.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(Error::stdout)
}

fn describe(vault: &Vault) -> String {
    let mut text = String::from("members:\n");
    for member in &vault.team.members {
        text.push_str(&format!("  {}  {}\n", member.name, member.recipient));
    }
    text.push_str("secrets:\n");
    for (scope, name, entry) in vault.entries() {
        text.push_str(&format!(
            "  {scope}  {name}  (updated {})\n",
            output::timestamp(entry.updated)
        ));
    }
    for conflict in &vault.team.conflicts {
        text.push_str(&format!(
            "unresolved: {}  {}\n",
            conflict.scope, conflict.name
        ));
    }
    text
}

/// `--json`: `{"resolved":[{"scope","name","kept"}],"remaining":n,"staged":bool,
/// "taken_in":[scope]}`.
#[derive(Serialize)]
struct Resolved {
    resolved: Vec<Settled>,
    remaining: usize,
    staged: bool,
    /// Scopes whose file was written before the last member removal, taken in.
    taken_in: Vec<String>,
}

#[derive(Serialize)]
struct Settled {
    scope: String,
    name: String,
    kept: &'static str,
}

impl Render for Resolved {
    fn render(&self, _: &mut dyn Write, err: &mut dyn Write) -> io::Result<()> {
        for s in &self.resolved {
            writeln!(err, "  {}  {}  kept {}", s.scope, s.name, s.kept)?;
        }
        if !self.taken_in.is_empty() {
            writeln!(
                err,
                "Took in {} written before the last member removal: {}; their secrets are marked to rotate.",
                count(self.taken_in.len(), "scope file"),
                self.taken_in.join(", ")
            )?;
        }
        if self.remaining > 0 {
            writeln!(
                err,
                "{} still in conflict.",
                count(self.remaining, "secret")
            )
        } else if self.staged {
            writeln!(
                err,
                "No conflict left; the vault is staged: commit the merge."
            )
        } else {
            writeln!(err, "No conflict left.")
        }
    }
}

pub fn resolve(cx: &Context, out: &Output, args: ResolveArgs) -> Result<()> {
    let vault = cx.vault()?;
    let kept = if args.theirs { "theirs" } else { "ours" };
    let taken_in: Vec<String> = if args.theirs && args.names.is_empty() {
        // Only what the branch being merged holds, byte for byte: a file pushed on its own is
        // not a merge to resolve.
        let merged_branch_has = |path: &Path, bytes: &[u8]| {
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                return false;
            };
            Command::new("git")
                .arg("-C")
                .arg(vault.dir.dir())
                .args(["show", &format!("MERGE_HEAD:./{name}")])
                .output()
                .is_ok_and(|out| out.status.success() && out.stdout == bytes)
        };
        let adopted = vault
            .dir
            .adopt_earlier_scope_files(vault.key, merged_branch_has)?;
        adopted.iter().map(ToString::to_string).collect()
    } else {
        Vec::new()
    };
    let (resolved, remaining) = vault.dir.update(vault.key, |v| {
        let mut conflicts = std::mem::take(&mut v.team.conflicts);
        let stamp = v.stamp(vault.key);
        let chosen = |name: &str| args.names.is_empty() || args.names.iter().any(|n| n == name);
        if !args.names.is_empty() && !conflicts.iter().any(|c| chosen(&c.name)) {
            return Err(Error::NotFound(format!(
                "no conflict on {}: conflicts are {}",
                args.names.join(", "),
                if conflicts.is_empty() {
                    "none".to_owned()
                } else {
                    conflicts
                        .iter()
                        .map(|c| c.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            )));
        }
        let mut resolved = Vec::new();
        conflicts.retain(|c| {
            if !chosen(&c.name) {
                return true;
            }
            if args.theirs {
                match &c.theirs {
                    Some(value) => {
                        v.set(&c.scope, &c.name, value.clone(), &stamp);
                    }
                    None => {
                        v.remove(&c.scope, &c.name);
                    }
                }
            }
            resolved.push(Settled {
                scope: c.scope.to_string(),
                name: c.name.clone(),
                kept,
            });
            false
        });
        let remaining = conflicts.len();
        v.team.conflicts = conflicts;
        Ok((resolved, remaining))
    })?;
    if resolved.is_empty() && taken_in.is_empty() {
        return Err(Error::NotFound(
            "no merge conflict in the vault; nothing to resolve".into(),
        ));
    }
    let staged = remaining == 0
        && in_repository(vault.dir.dir())
        // The vault's files: vault.age, config.toml and the scopes' files (a removed one too).
        && git(vault.dir.dir(), &["add", "-A", "--", "."]).is_ok();
    out.emit(&Resolved {
        resolved,
        remaining,
        staged,
        taken_in,
    })
}
