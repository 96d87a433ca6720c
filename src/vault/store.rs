//! The vault's files on disk: private permissions, atomic replacement, an exclusive lock for
//! read–modify–write, and the checks that keep a vault from being shared by accident.

use crate::error::{Error, Result};
use std::collections::BTreeSet;
use std::fs::{self, DirBuilder, File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Name prefix of the temporary files `write_atomic` creates (ignored by git). Distinctive,
/// so that the sweep of a killed writer's leftovers never touches anyone else's file.
pub const TEMP_PREFIX: &str = ".ampsecret-tmp-";

/// Seconds a writer waits for another writer's lock before giving up.
pub const LOCK_TIMEOUT_ENV: &str = "AMPSECRET_LOCK_TIMEOUT";
const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(30);
/// How often a waiting writer tries the lock again.
const LOCK_RETRY: Duration = Duration::from_millis(50);

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
    write_atomic_with(path, |file| {
        file.write_all(bytes)
            .map_err(|e| Error::io("cannot write", path)(e))
    })
}

/// A file being written that starts each mebibyte's way to disk as soon as it is written, so
/// that the closing fsync of a large vault waits for little more than the last of it.
pub struct WritebackFile<'f> {
    file: &'f mut File,
    written: u64,
    started: u64,
}

impl WritebackFile<'_> {
    const STEP: u64 = 1 << 20;
}

impl Write for WritebackFile<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(bytes)?;
        self.written += n as u64;
        if self.written - self.started >= Self::STEP {
            crate::sys::start_writeback(self.file, self.started, self.written - self.started);
            self.started = self.written;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// [`write_atomic`], with the new content streamed into the temporary file by `write`
/// (ciphertext or non-secret only). Nothing replaces `path` if `write` fails.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut WritebackFile<'_>) -> Result<()>,
) -> Result<()> {
    prepare_atomic(path, write)?.commit()
}

/// A new version of a file, written and synced beside it under a temporary name: nothing has
/// changed until [`Prepared::commit`] renames it over the file.
pub struct Prepared {
    temp: tempfile::NamedTempFile,
    path: PathBuf,
    dir: PathBuf,
}

impl Prepared {
    /// Replaces the file with the new version, durably.
    pub fn commit(self) -> Result<()> {
        let path = self.path;
        self.temp
            .persist(&path)
            .map_err(|e| Error::io("cannot replace", &path)(e.error))?;
        sync_dir(&self.dir)
    }
}

/// The first half of [`write_atomic_with`]: the new content written and synced, not yet in
/// place (dropping the result removes it).
pub fn prepare_atomic(
    path: &Path,
    write: impl FnOnce(&mut WritebackFile<'_>) -> Result<()>,
) -> Result<Prepared> {
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
    write(&mut WritebackFile {
        file: temp.as_file_mut(),
        written: 0,
        started: 0,
    })?;
    // The data and the size it needs to be read back; times are not worth a wait.
    temp.as_file()
        .sync_data()
        .map_err(Error::io("cannot write", temp.path()))?;
    Ok(Prepared {
        temp,
        path: path.to_path_buf(),
        dir: dir.to_path_buf(),
    })
}

/// Makes a change to `dir`'s entries (a rename, a removal) durable.
pub fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(Error::io("cannot sync directory", dir))?;
    Ok(())
}

/// An exclusive lock on the vault, released when dropped (or when the process dies).
#[derive(Debug)]
pub struct WriteLock {
    _dir: File,
}

/// Takes the vault's exclusive lock, waiting for another writer at most
/// `AMPSECRET_LOCK_TIMEOUT` seconds (30 by default) and saying once on stderr that it waits.
///
/// The lock is on the vault folder itself, not on a file in it: a lock file can be deleted
/// while held (`git clean -fdX` removes ignored files) and a second writer would then lock a
/// new file while the first still writes; it can also be replaced by a FIFO or a symlink.
/// The folder is opened without following a symlink and, once locked, checked to be the
/// folder at `dir` (same device and inode); if it was replaced meanwhile, the new one is
/// locked instead.
pub fn lock(dir: &Path) -> Result<WriteLock> {
    let timeout = lock_timeout();
    let started = Instant::now();
    let mut announced = false;
    let mut folder = open_folder(dir)?;
    loop {
        match folder.try_lock() {
            Ok(()) if is_same_file(&folder, dir)? => return Ok(WriteLock { _dir: folder }),
            Ok(()) => {
                folder = open_folder(dir)?;
                continue;
            }
            Err(TryLockError::WouldBlock) => {}
            Err(TryLockError::Error(e)) => return Err(Error::io("cannot lock", dir)(e)),
        }
        if started.elapsed() >= timeout {
            return Err(Error::Other(format!(
                "gave up after {}s waiting for another ampsecret command to finish writing the vault at {}; nothing was changed; try again when it has finished",
                timeout.as_secs(),
                dir.display()
            )));
        }
        if !announced {
            eprintln!(
                "Waiting for another ampsecret command to finish writing the vault at {} (at most {}s)…",
                dir.display(),
                timeout.as_secs()
            );
            announced = true;
        }
        std::thread::sleep(LOCK_RETRY);
    }
}

fn lock_timeout() -> Duration {
    std::env::var(LOCK_TIMEOUT_ENV)
        .ok()
        .and_then(|text| text.trim().parse::<u64>().ok())
        .map_or(DEFAULT_LOCK_TIMEOUT, Duration::from_secs)
}

/// Opens the vault folder for locking, refusing a symlink or anything not a folder.
fn open_folder(dir: &Path) -> Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(
        &mut options,
        libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
    );
    options.open(dir).map_err(|e| {
        if dir.is_symlink() {
            symlinked_folder(dir)
        } else {
            Error::io("cannot open the vault folder", dir)(e)
        }
    })
}

/// Whether the open `file` is the one now at `path` (not replaced since it was opened).
#[cfg(unix)]
fn is_same_file(file: &File, path: &Path) -> Result<bool> {
    use std::os::unix::fs::MetadataExt;
    let open = file.metadata().map_err(Error::io("cannot read", path))?;
    Ok(match fs::symlink_metadata(path) {
        Ok(now) => open.dev() == now.dev() && open.ino() == now.ino(),
        Err(_) => false,
    })
}

#[cfg(not(unix))]
fn is_same_file(_: &File, _: &Path) -> Result<bool> {
    Ok(true)
}

fn symlinked_folder(dir: &Path) -> Error {
    Error::Other(format!(
        "the vault folder {} is a symlink; ampsecret uses only a real folder: pass --vault with the folder it points to, or replace the link with the folder",
        dir.display()
    ))
}

/// Checks the vault folder before it is used: a symlink is refused (a link could send writes
/// and the sweep of leftovers anywhere), and so is a folder everyone can write to (anyone
/// could swap the vault or its config). Returns the folder's owner, if the folder exists.
pub fn check_folder(dir: &Path) -> Result<Option<u32>> {
    let metadata = match fs::symlink_metadata(dir) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("cannot read", dir)(e)),
    };
    if metadata.file_type().is_symlink() {
        return Err(symlinked_folder(dir));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let mode = metadata.mode() & 0o7777;
        if mode & 0o002 != 0 {
            return Err(Error::Other(format!(
                "the vault folder {} has mode {mode:04o}: everyone can write to it, so anyone could replace the vault; fix it with: chmod 700 {}",
                dir.display(),
                dir.display()
            )));
        }
        Ok(Some(metadata.uid()))
    }
    #[cfg(not(unix))]
    Ok(None)
}

/// Refuses to write a vault whose folder belongs to another user: writing it (as root, say)
/// would replace its files with files this user owns, and its owner would lose them.
pub fn check_writable_by_owner(dir: &Path, owner: Option<u32>) -> Result<()> {
    #[cfg(unix)]
    if let Some(owner) = owner {
        let me = crate::sys::effective_uid();
        if owner != me {
            return Err(Error::Other(format!(
                "the vault at {} belongs to user id {owner}, and this is user id {me}; ampsecret does not write another user's vault (its files would change owner): run the command as that user",
                dir.display()
            )));
        }
    }
    #[cfg(not(unix))]
    let _ = (dir, owner);
    Ok(())
}

/// Warns, as ssh does, when `path` grants group or others any of the permission bits in
/// `too_open` (e.g. `0o077` for a key, `0o022` for a file others must not change). Each
/// file is named at most once per run.
pub fn warn_if_exposed(path: &Path, too_open: u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        static WARNED: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());
        let Ok(metadata) = fs::metadata(path) else {
            return;
        };
        let mode = metadata.permissions().mode() & 0o7777;
        if mode & too_open == 0 {
            return;
        }
        let mut warned = WARNED.lock().unwrap_or_else(|e| e.into_inner());
        if !warned.insert(path.to_path_buf()) || QUIET.load(std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        let what = if too_open & 0o044 != 0 && mode & 0o044 != 0 {
            "other users can read it"
        } else {
            "other users can change it"
        };
        eprintln!(
            "warning: {} has mode {mode:04o}: {what}; fix it with: chmod {:o} {}",
            path.display(),
            mode & !too_open & 0o777,
            path.display()
        );
    }
    #[cfg(not(unix))]
    let _ = (path, too_open);
}

/// Set when warnings must not be printed (a shell-completion request answers on a terminal
/// line the user is editing).
static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Stops [`warn_if_exposed`] from printing for the rest of the run.
pub fn silence_warnings() {
    QUIET.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Removes temporary files left by writers that died mid-write. Call only while holding the
/// vault's lock: every writer creates its temporary file under the lock, so any found then
/// belongs to a dead process. Only regular files with ampsecret's own temporary-file prefix
/// are touched, in a folder [`lock`] checked is not a symlink.
pub fn remove_stale_temporaries(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let ours = entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX);
        // `file_type` does not follow symlinks: a link is never followed or removed.
        if ours && entry.file_type().is_ok_and(|t| t.is_file()) {
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
    pub fn gitignore(&self) -> PathBuf {
        self.dir.join(".gitignore")
    }
    /// The file of `scope` in vault `vault_id` (format 5 on).
    pub fn scope(&self, vault_id: &str, scope: &crate::scope::ScopeKey) -> PathBuf {
        self.dir.join(super::split::file_name(vault_id, scope))
    }
    /// Every scope's file, by name.
    pub fn scope_files(&self) -> Result<Vec<PathBuf>> {
        let entries = fs::read_dir(&self.dir).map_err(Error::io("cannot read", &self.dir))?;
        let mut files = Vec::new();
        for entry in entries {
            let entry = entry.map_err(Error::io("cannot read", &self.dir))?;
            if entry
                .file_name()
                .to_str()
                .is_some_and(super::split::is_file_name)
            {
                files.push(entry.path());
            }
        }
        files.sort();
        Ok(files)
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
