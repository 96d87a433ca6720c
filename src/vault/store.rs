//! The vault's files on disk: private permissions, atomic replacement, and an exclusive lock
//! for read–modify–write.

use crate::error::{Error, Result};
use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Name prefix of the temporary files `write_atomic` creates (ignored by git).
const TEMP_PREFIX: &str = ".tmp-";

/// Creates `dir` (and its parents) readable by the owner only.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    let mut builder = DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(Error::io("cannot create directory", dir))
}

/// Replaces `path` with `bytes` so that a crash at any instant leaves either the old or the
/// new file: write a 0600 temporary file beside it, fsync it, rename it over, fsync the
/// directory. `bytes` must already be ciphertext or non-secret.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    // A bare file name (git hands its merge driver those) lives in the current directory.
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // tempfile creates the file 0600 on Unix with a random name, so concurrent writers and
    // leftovers of a killed writer never collide with the real file.
    let mut temp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(dir)
        .map_err(Error::io("cannot create a temporary file in", dir))?;
    temp.write_all(bytes)
        .and_then(|()| temp.as_file().sync_all())
        .map_err(Error::io("cannot write", temp.path()))?;
    temp.persist(path)
        .map_err(|e| Error::io("cannot replace", path)(e.error))?;
    sync_dir(dir)
}

fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(Error::io("cannot sync directory", dir))?;
    Ok(())
}

/// An exclusive lock on the vault, released when dropped (or when the process dies).
#[derive(Debug)]
pub struct WriteLock {
    _file: File,
}

/// Takes the vault's exclusive lock, waiting for other writers. The lock lives on a separate
/// file because the vault file itself is replaced by rename.
pub fn lock(lock_path: &Path) -> Result<WriteLock> {
    let mut options = OpenOptions::new();
    options.create(true).truncate(false).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options
        .open(lock_path)
        .map_err(Error::io("cannot open lock file", lock_path))?;
    file.lock().map_err(Error::io("cannot lock", lock_path))?;
    Ok(WriteLock { _file: file })
}

/// Removes temporary files left by writers that died mid-write. Call only while holding the
/// vault's lock: every writer creates its temporary file under the lock, so any found then
/// belongs to a dead process. They hold ciphertext only; this just keeps the folder tidy.
pub fn remove_stale_temporaries(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Reads a whole file, mapping "missing" to `None`.
pub fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("cannot read", path)(e)),
    }
}

/// The files of one vault directory.
#[derive(Debug, Clone)]
pub struct VaultFiles {
    pub dir: PathBuf,
}

impl VaultFiles {
    pub fn config(&self) -> PathBuf {
        self.dir.join("config.toml")
    }
    pub fn vault(&self) -> PathBuf {
        self.dir.join("vault.age")
    }
    pub fn lock(&self) -> PathBuf {
        self.dir.join("vault.lock")
    }
    pub fn gitignore(&self) -> PathBuf {
        self.dir.join(".gitignore")
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn atomic_write_is_private_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("a/b");
        create_private_dir(&sub).unwrap();
        assert_eq!(
            fs::metadata(&sub).unwrap().permissions().mode() & 0o777,
            0o700
        );
        let file = sub.join("f");
        write_atomic(&file, b"one").unwrap();
        write_atomic(&file, b"two").unwrap();
        assert_eq!(fs::read(&file).unwrap(), b"two");
        assert_eq!(
            fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            fs::read_dir(&sub).unwrap().count(),
            1,
            "no temporary file left"
        );
    }
}
