//! File-system primitives the rest of the crate shares: directories with known modes, durable
//! and atomic writes, directory sync, symlink detection, executability, `which`, free space,
//! and copy-on-write copies. One home, so each trap (a rename that is not durable until its
//! directory is synced, a half-written manifest seen by a reader, a hard link that would let a
//! venv write into the immutable store) is handled once. [`IoError`] is the library's one I/O
//! error: what it was doing, on which path, and the OS's reason.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::error::Hint;

/// A file-system call that failed: what it was doing (`create`, `write`, `lock`...), on which
/// path, and the OS's reason. A module's own error wraps it (`Io(#[from] IoError)`) to suggest
/// its own fix.
#[derive(Debug, thiserror::Error)]
#[error("could not {action} `{}`", path.display())]
pub struct IoError {
    pub action: &'static str,
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

impl IoError {
    /// For `map_err`: `fs::create_dirs(dir).map_err(IoError::at("create", dir))?`.
    pub(crate) fn at(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> IoError {
        let path = path.to_path_buf();
        move |source| IoError {
            action,
            path,
            source,
        }
    }

    /// The OS's reason, for a hint that depends on it.
    pub fn kind(&self) -> io::ErrorKind {
        self.source.kind()
    }
}

impl Hint for IoError {
    fn hint(&self) -> Option<String> {
        match self.kind() {
            io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem => Some(format!(
                "make `{}` writable for this user, or choose another directory",
                self.path.parent().unwrap_or(&self.path).display()
            )),
            io::ErrorKind::StorageFull => Some("free some disk space".into()),
            _ => None,
        }
    }
}

/// `mkdir -p` with mode 0755 on Unix (the store is readable, never writable, by others).
pub(crate) fn create_dirs(path: &Path) -> io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o755);
    }
    b.create(path)
}

/// The user this process acts as (the effective uid): who the store's files must belong to.
#[cfg(unix)]
pub(crate) fn effective_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Whether `path` itself is a symbolic link (never followed). The store refuses one where it
/// expects a real file or directory: a link planted in a shared cache would let someone else
/// choose what is executed or overwritten.
pub fn is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// A relative path with `/` separators, as receipts and RECORD files spell them.
pub(crate) fn slash_path(p: &Path) -> String {
    p.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Create `path` (which must not exist) with `bytes`, mode 0644, and fsync it.
pub(crate) fn write_durable(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o644);
    }
    let mut f = o.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Write beside the destination, fsync, then rename: a reader never sees half a file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// A temporary file beside `path`, for a file meant for others (a mirror's archives and
/// manifests, a project's pin, a built wheel): created 0666 less the umask, as `cp` or a
/// shell's redirection would make it, not the 0600 of a private temporary file. Persist it
/// onto `path` when written.
pub fn shared_tempfile_beside(path: &Path) -> io::Result<tempfile::NamedTempFile> {
    let mut b = tempfile::Builder::new();
    b.prefix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        b.permissions(std::fs::Permissions::from_mode(0o666));
    }
    b.tempfile_in(parent_or_cwd(path))
}

/// [`write_atomic`] for a file meant for others: its mode is 0666 less the umask.
pub fn write_shared(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut tmp = shared_tempfile_beside(path)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

fn parent_or_cwd(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Make a rename in `dir` durable. Linux needs the directory fsynced; other platforms do not
/// need (or allow) it.
pub(crate) fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// A regular file a shell could run: an executable bit on Unix, any file elsewhere.
pub(crate) fn is_executable(p: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        p.is_file()
    }
}

/// The first executable named `name` on `path_var` (a `PATH` value).
pub(crate) fn which(name: &str, path_var: Option<&std::ffi::OsStr>) -> Option<PathBuf> {
    let path_var = path_var?;
    std::env::split_paths(path_var)
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

/// `PATH` with `dir` first (and not again later), as the SDKs launch codex with the package's
/// `codex-path/`; `None` when the result cannot be a `PATH` (a `:` in a directory name on Unix).
pub(crate) fn path_with_first(dir: &Path) -> Option<std::ffi::OsString> {
    let mut paths = vec![dir.to_path_buf()];
    if let Some(old) = std::env::var_os("PATH") {
        paths.extend(std::env::split_paths(&old).filter(|p| p != dir));
    }
    std::env::join_paths(paths).ok()
}

/// Free bytes on the file system holding `path`.
#[cfg(unix)]
pub(crate) fn free_space(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated path and `s` a properly sized out-parameter.
    let rc = unsafe { libc::statvfs(c.as_ptr(), &mut s) };
    (rc == 0).then(|| (s.f_bavail as u64).saturating_mul(s.f_frsize as u64))
}

#[cfg(not(unix))]
pub(crate) fn free_space(_path: &Path) -> Option<u64> {
    None
}

/// A copy-on-write clone where the file system supports it (btrfs, XFS, APFS, ReFS), else an
/// ordinary copy (`copy_file_range` on Linux). Returns whether it was a clone. Never a hard
/// link: a write through the copy must not change the original.
pub(crate) fn reflink_or_copy(from: &Path, to: &Path) -> io::Result<bool> {
    match reflink_copy::reflink(from, to) {
        Ok(()) => {
            // A clone keeps the data, not always the mode.
            let perms = std::fs::metadata(from)?.permissions();
            std::fs::set_permissions(to, perms)?;
            Ok(true)
        }
        Err(_) => {
            // A failed clone may leave an empty destination behind.
            let _ = std::fs::remove_file(to);
            std::fs::copy(from, to)?;
            Ok(false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_writes_replace_whole_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.toml");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp left"
        );
        assert!(
            write_durable(&p, b"x").is_err(),
            "durable writes create new files only"
        );
    }

    #[test]
    fn copies_are_independent_of_their_source() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::fs::write(&a, b"store").unwrap();
        reflink_or_copy(&a, &b).unwrap();
        std::fs::write(&b, b"venv").unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), b"store");
    }

    #[test]
    fn which_finds_executables_only() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("tool");
        std::fs::write(&f, b"#!/bin/sh\n").unwrap();
        #[cfg(unix)]
        {
            assert!(which("tool", Some(dir.path().as_os_str())).is_none());
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        assert_eq!(which("tool", Some(dir.path().as_os_str())), Some(f));
        assert_eq!(slash_path(Path::new("a/b/c")), "a/b/c");
    }
}
