//! File-system primitives shared across the library: finding an executable on PATH, and the
//! free space of a file system.
//!
//! Known gap: the other primitives (atomic and durable writes, directory sync, symlink refusal,
//! reflink-or-copy) still live beside their first users; this is where they belong.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// The first executable named `name` on `path_var`.
pub fn which(name: &str, path_var: Option<&OsStr>) -> Option<PathBuf> {
    let path_var = path_var?;
    std::env::split_paths(path_var)
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

/// A regular file that may be executed (on Windows: a regular file).
pub fn is_executable(p: &Path) -> bool {
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

/// Free bytes on the file system holding `path`.
#[cfg(unix)]
pub fn free_space(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated path and `s` a properly sized out-parameter.
    let rc = unsafe { libc::statvfs(c.as_ptr(), &mut s) };
    (rc == 0).then(|| (s.f_bavail as u64).saturating_mul(s.f_frsize as u64))
}

#[cfg(not(unix))]
pub fn free_space(_path: &Path) -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_space_is_known_here() {
        if cfg!(unix) {
            assert!(free_space(Path::new("/")).is_some());
        }
    }

    #[cfg(unix)]
    #[test]
    fn which_finds_executables_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("tool");
        std::fs::write(&plain, "").unwrap();
        let path_var = std::env::join_paths([dir.path()]).unwrap();
        assert_eq!(which("tool", Some(&path_var)), None);
        std::fs::set_permissions(&plain, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(which("tool", Some(&path_var)), Some(plain));
        assert_eq!(which("tool", None), None);
    }
}
