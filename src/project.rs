//! The project around the working directory: its root, its vault location, its package name
//! and its current git branch. Read from the filesystem only; no git binary needed.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// Directory name of the vault inside a project.
pub const VAULT_DIR: &str = ".ampsecret";

/// The project root above `start` (itself included): the nearest ancestor holding a vault or
/// an Amplify backend (`amplify/`), else the nearest with `package.json` or `.git`. The first
/// rule comes first so that from inside `amplify/`, whose own package.json only sets the
/// module type, the root is still the app's.
pub fn find_root(start: &Path) -> Option<PathBuf> {
    let nearest = |markers: &[&str]| {
        start
            .ancestors()
            .find(|dir| markers.iter().any(|marker| dir.join(marker).exists()))
            .map(Path::to_path_buf)
    };
    nearest(&[VAULT_DIR, crate::backend::BACKEND_DIR])
        .or_else(|| nearest(&["package.json", ".git"]))
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
        assert!(crate::sys::os_user_name().is_some_and(|n| !n.is_empty()));
    }

    #[test]
    fn root_is_the_app_from_inside_the_backend() {
        let dir = tempfile::tempdir().unwrap();
        let inner = dir.path().join("amplify/functions/f");
        std::fs::create_dir_all(&inner).unwrap();
        // amplify/ has a package.json of its own ({"type": "module"}).
        std::fs::write(dir.path().join("amplify/package.json"), "{}").unwrap();
        std::fs::write(dir.path().join("package.json"), "{}").unwrap();
        assert_eq!(find_root(&inner).as_deref(), Some(dir.path()));
        let plain = tempfile::tempdir().unwrap();
        let sub = plain.path().join("src");
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(plain.path().join("package.json"), "{}").unwrap();
        assert_eq!(find_root(&sub).as_deref(), Some(plain.path()));
    }
}
