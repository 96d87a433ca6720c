//! An Amplify Gen 2 backend's sources (`amplify/` at the project root): which secrets its
//! `secret('NAME')` calls need, and which function environments hold literal credentials.

pub mod analyze;
pub mod credentials;

use crate::error::{Error, Result};
use oxc_span::SourceType;
use std::path::{Path, PathBuf};

/// The backend's directory under the project root.
pub const BACKEND_DIR: &str = "amplify";
/// The source files read, by extension.
pub const EXTENSIONS: &[&str] = &["ts", "tsx", "js", "mjs", "cjs", "mts", "cts"];

/// A place in a backend file; `file` is relative to the project root, with `/` separators.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    pub file: String,
    pub line: usize,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Shown escaped, as scopes are: a file name may hold what a terminal acts on.
        write!(f, "{}:{}", crate::text::escape(&self.file), self.line)
    }
}

/// A `secret('NAME')` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretUse {
    pub name: String,
    pub at: Location,
}

/// A literal in a `defineFunction` environment that looks like a credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiteralCredential {
    pub key: String,
    pub reason: String,
    pub at: Location,
}

/// Everything found in the backend, in file and line order.
#[derive(Debug, Default)]
pub struct Scan {
    pub files: usize,
    pub secrets: Vec<SecretUse>,
    /// `secret(…)` calls whose name is computed, which cannot be checked.
    pub dynamic: Vec<Location>,
    pub credentials: Vec<LiteralCredential>,
}

/// Reads and analyses every backend source under `root/amplify` (not `node_modules`).
pub fn scan(root: &Path) -> Result<Scan> {
    let dir = root.join(BACKEND_DIR);
    if !dir.is_dir() {
        return Err(Error::NotFound(format!(
            "no Amplify backend at {}: 'check' reads the amplify/ directory of the project root",
            dir.display()
        )));
    }
    let mut files = Vec::new();
    collect_sources(&dir, &mut files)?;
    files.sort();
    let mut scan = Scan {
        files: files.len(),
        ..Scan::default()
    };
    for path in files {
        let source = std::fs::read_to_string(&path).map_err(Error::io("cannot read", &path))?;
        let shown = relative(root, &path);
        let at = |offset: u32| Location {
            file: shown.clone(),
            line: line_of(&source, offset),
        };
        // Every extension collected is one oxc knows.
        let source_type = SourceType::from_path(&path).unwrap_or_default();
        let findings = analyze::analyze(&source, source_type).map_err(|failure| {
            Error::Invalid(format!(
                "cannot parse {}: {}",
                at(failure.offset),
                failure.message
            ))
        })?;
        scan.secrets
            .extend(findings.secrets.into_iter().map(|call| SecretUse {
                name: call.name,
                at: at(call.offset),
            }));
        scan.dynamic.extend(findings.dynamic.into_iter().map(&at));
        scan.credentials
            .extend(findings.environment.into_iter().filter_map(|literal| {
                credentials::suspicion(&literal.key, &literal.value).map(|reason| {
                    LiteralCredential {
                        key: literal.key,
                        reason,
                        at: at(literal.offset),
                    }
                })
            }));
    }
    Ok(scan)
}

fn collect_sources(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(Error::io("cannot read", dir))?;
    for entry in entries {
        let entry = entry.map_err(Error::io("cannot read", dir))?;
        let path = entry.path();
        // Symbolic links are not followed: no loops, and nothing outside the backend.
        let kind = entry.file_type().map_err(Error::io("cannot read", &path))?;
        if kind.is_dir() {
            if entry.file_name() != "node_modules" {
                collect_sources(&path, out)?;
            }
        } else if kind.is_file()
            && path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| EXTENSIONS.contains(&e))
        {
            out.push(path);
        }
    }
    Ok(())
}

/// `path` relative to `root`, with `/` separators on every platform.
fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// The 1-based line of byte `offset` in `source`.
pub fn line_of(source: &str, offset: u32) -> usize {
    let end = (offset as usize).min(source.len());
    source.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 99), 3);
    }

    #[test]
    fn scans_a_tree() {
        let dir = tempfile::tempdir().unwrap();
        let write = |rel: &str, text: &str| {
            let path = dir.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        let import = "import { secret } from '@aws-amplify/backend';\n";
        write("amplify/b.ts", &format!("{import}secret('B');"));
        write("amplify/a/x.mjs", &format!("{import}\n\nsecret('A');"));
        write(
            "amplify/node_modules/x.ts",
            &format!("{import}secret('NO');"),
        );
        write("amplify/notes.md", "secret('NO')");
        let scan = scan(dir.path()).unwrap();
        assert_eq!(scan.files, 2);
        let found: Vec<String> = scan
            .secrets
            .iter()
            .map(|s| format!("{} {}", s.at, s.name))
            .collect();
        assert_eq!(found, ["amplify/a/x.mjs:4 A", "amplify/b.ts:2 B"]);

        write("amplify/bad.ts", "const = ;");
        let err = super::scan(dir.path()).unwrap_err();
        assert!(
            err.to_string().starts_with("cannot parse amplify/bad.ts:1"),
            "{err}"
        );
    }
}
