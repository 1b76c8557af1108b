//! A per-artifact cross-process lock: an OS advisory lock on `<cache>/locks/<v>-<t>.lock`.
//!
//! The OS releases it when the holder dies, even by `kill -9`, so a lock file left behind is
//! never stale in the sense of blocking anyone. Waiting is bounded by a timeout whose error
//! names its environment variable.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::Hint;
use crate::fs::IoError;

/// How long to wait for another installer, in seconds.
pub const LOCK_TIMEOUT_ENV: &str = "CODEX_BOOTSTRAP_LOCK_TIMEOUT";
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("timed out after {}s waiting for another installer holding `{path}`", timeout.as_secs())]
    Timeout { path: PathBuf, timeout: Duration },
    #[error("`{path}` is a symbolic link; the store refuses to follow it")]
    Symlink { path: PathBuf },
    #[error(transparent)]
    Io(#[from] IoError),
}

impl Hint for LockError {
    fn hint(&self) -> Option<String> {
        match self {
            LockError::Timeout { .. } => Some(format!(
                "another codex-bootstrap is still installing; wait for it, or raise {LOCK_TIMEOUT_ENV} (seconds)"
            )),
            LockError::Symlink { path } => Some(format!("remove `{}` and rerun", path.display())),
            LockError::Io(_) => Some("the cache must be writable: pass `--cache-dir DIR` or set CODEX_BOOTSTRAP_HOME".into()),
        }
    }
}

/// A held lock; released on drop.
#[derive(Debug)]
pub struct ArtifactLock {
    file: File,
    path: PathBuf,
}

impl ArtifactLock {
    /// Take the lock at `path`, calling `on_wait` once if another process holds it.
    pub fn acquire(path: &Path, on_wait: impl FnOnce()) -> Result<ArtifactLock, LockError> {
        let timeout = std::env::var(LOCK_TIMEOUT_ENV)
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .map_or(DEFAULT_TIMEOUT, Duration::from_secs);
        Self::acquire_with_timeout(path, timeout, on_wait)
    }

    pub fn acquire_with_timeout(
        path: &Path,
        timeout: Duration,
        on_wait: impl FnOnce(),
    ) -> Result<ArtifactLock, LockError> {
        let io = |source| LockError::Io(IoError::at("lock", path)(source));
        if let Some(parent) = path.parent() {
            crate::fs::create_dirs(parent).map_err(io)?;
        }
        if crate::fs::is_symlink(path) {
            return Err(LockError::Symlink {
                path: path.to_path_buf(),
            });
        }
        let file = open_no_follow(path).map_err(io)?;
        let started = Instant::now();
        let mut on_wait = Some(on_wait);
        loop {
            match file.try_lock() {
                Ok(()) => {
                    if on_wait.is_none() {
                        tracing::debug!(
                            lock = %path.display(),
                            "lock taken after waiting {} ms",
                            started.elapsed().as_millis()
                        );
                    } else {
                        tracing::trace!(lock = %path.display(), "lock taken");
                    }
                    return Ok(ArtifactLock {
                        file,
                        path: path.to_path_buf(),
                    });
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    if let Some(f) = on_wait.take() {
                        tracing::debug!(
                            lock = %path.display(),
                            "another process holds the lock: waiting up to {}s ({LOCK_TIMEOUT_ENV})",
                            timeout.as_secs()
                        );
                        f();
                    }
                    if started.elapsed() >= timeout {
                        tracing::debug!(lock = %path.display(), "gave up waiting for the lock");
                        return Err(LockError::Timeout {
                            path: path.to_path_buf(),
                            timeout,
                        });
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
            }
        }
    }

    /// Whether someone holds the lock at `path` right now (for doctor and prune).
    pub fn is_held(path: &Path) -> bool {
        let Ok(file) = open_no_follow(path) else {
            return false;
        };
        let held = matches!(file.try_lock(), Err(std::fs::TryLockError::WouldBlock));
        held
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ArtifactLock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

fn open_no_follow(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW).mode(0o644);
    }
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_waits_then_times_out_naming_the_env_var() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("locks/x.lock");
        let _held = ArtifactLock::acquire(&path, || {}).unwrap();
        let mut waited = false;
        let err = ArtifactLock::acquire_with_timeout(&path, Duration::ZERO, || waited = true)
            .unwrap_err();
        assert!(waited);
        assert!(ArtifactLock::is_held(&path));
        assert!(err.hint().unwrap().contains(LOCK_TIMEOUT_ENV));
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_lock_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let path = dir.path().join("x.lock");
        std::os::unix::fs::symlink(&victim, &path).unwrap();
        assert!(matches!(
            ArtifactLock::acquire(&path, || {}),
            Err(LockError::Symlink { .. })
        ));
    }
}
