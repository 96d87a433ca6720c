//! The project around the working directory: its root, its vault location, its package name
//! and its current git branch. Read from the filesystem only; no git binary needed.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// Directory name of the vault inside a project.
pub const VAULT_DIR: &str = ".ampsecret";

/// The nearest ancestor of `start` (itself included) that looks like a project root: it has
/// `package.json`, `amplify/`, `.git` or an existing vault.
pub fn find_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|dir| {
            ["package.json", "amplify", ".git", VAULT_DIR]
                .iter()
                .any(|marker| dir.join(marker).exists())
        })
        .map(Path::to_path_buf)
}

/// The raw `"name"` of `root/package.json`: Amplify's sandbox namespace.
pub fn package_name(root: &Path) -> Result<Option<String>> {
    let path = root.join("package.json");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("cannot read", &path)(e)),
    };
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        Error::Invalid(format!(
            "{} is not valid JSON ({e}); fix it or pass --app-name",
            path.display()
        ))
    })?;
    Ok(json
        .get("name")
        .and_then(|n| n.as_str())
        .filter(|n| !n.is_empty())
        .map(str::to_owned))
}

/// What `.git/HEAD` says about the branch checked out in the repository containing `start`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GitHead {
    Branch(String),
    Detached,
    NoRepository,
}

/// Reads the current branch from `.git/HEAD`, following a worktree's `gitdir:` file.
pub fn git_head(start: &Path) -> GitHead {
    let Some(dot_git) = start
        .ancestors()
        .map(|d| d.join(".git"))
        .find(|p| p.exists())
    else {
        return GitHead::NoRepository;
    };
    let git_dir = if dot_git.is_file() {
        match std::fs::read_to_string(&dot_git) {
            Ok(text) => match text.trim().strip_prefix("gitdir:") {
                Some(dir) => dot_git.parent().unwrap_or(Path::new(".")).join(dir.trim()),
                None => return GitHead::NoRepository,
            },
            Err(_) => return GitHead::NoRepository,
        }
    } else {
        dot_git
    };
    match std::fs::read_to_string(git_dir.join("HEAD")) {
        Ok(head) => match head.trim().strip_prefix("ref: refs/heads/") {
            Some(branch) if !branch.is_empty() => GitHead::Branch(branch.to_owned()),
            _ => GitHead::Detached,
        },
        Err(_) => GitHead::NoRepository,
    }
}

/// The OS account name from the password database, as Amplify's `os.userInfo().username`
/// (deliberately not `$USER`).
#[cfg(unix)]
pub fn os_user_name() -> Option<String> {
    // SAFETY: getpwuid_r writes into our buffer and `pwd`; we read pw_name only on success
    // and copy it out before the buffer goes away.
    unsafe {
        let uid = libc::geteuid();
        let mut pwd: libc::passwd = std::mem::zeroed();
        let mut buf = vec![0 as libc::c_char; 4096];
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut result);
        if rc != 0 || result.is_null() || pwd.pw_name.is_null() {
            return None;
        }
        std::ffi::CStr::from_ptr(pwd.pw_name)
            .to_str()
            .ok()
            .map(str::to_owned)
    }
}

#[cfg(not(unix))]
pub fn os_user_name() -> Option<String> {
    std::env::var("USERNAME").ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_parsing() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(git_head(dir.path()), GitHead::NoRepository);
        std::fs::create_dir(dir.path().join(".git")).unwrap();
        std::fs::write(
            dir.path().join(".git/HEAD"),
            "ref: refs/heads/feature/login\n",
        )
        .unwrap();
        let sub = dir.path().join("a/b");
        std::fs::create_dir_all(&sub).unwrap();
        assert_eq!(git_head(&sub), GitHead::Branch("feature/login".into()));
        std::fs::write(dir.path().join(".git/HEAD"), "0123456789abcdef\n").unwrap();
        assert_eq!(git_head(&sub), GitHead::Detached);
    }

    #[test]
    fn user_name_is_known() {
        assert!(os_user_name().is_some_and(|n| !n.is_empty()));
    }
}
