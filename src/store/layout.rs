//! Where things live in the cache, and the lock-free read of an installed runtime.
//!
//! ```text
//! <cache>/runtimes/<version>/<target>/             the package, plus RECEIPT_NAME
//! <cache>/runtimes/<version>/.staging-<target>-*   an install in progress (or a crashed one)
//! <cache>/downloads/<sha256>-<asset>.partial       a resumable download, keyed by digest
//! <cache>/locks/<version>-<target>.lock            serialises installers of one artifact
//! ```

use std::path::{Path, PathBuf};

use crate::pin::CodexVersion;
use crate::platform::Target;
use crate::store::receipt::{Receipt, SCHEMA};

/// The environment variable that moves the cache.
pub const HOME_ENV: &str = "CODEX_BOOTSTRAP_HOME";
/// The receipt's file name inside a runtime directory.
pub const RECEIPT_NAME: &str = ".codex-bootstrap-receipt.json";
/// Prefix of staging directories beside the final runtime directories.
pub const STAGING_PREFIX: &str = ".staging-";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("could not find a cache directory for this user")]
    NoCacheDir,
    #[error("`{path}` is a symbolic link inside the store")]
    Symlink { path: PathBuf },
    #[error("the receipt `{path}` is unreadable")]
    Receipt {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("could not {action} `{path}`")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl StoreError {
    pub fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> StoreError {
        let path = path.to_path_buf();
        move |source| StoreError::Io {
            action,
            path,
            source,
        }
    }

    pub fn hint(&self) -> String {
        match self {
            StoreError::NoCacheDir => format!("set {HOME_ENV} or pass `--cache-dir DIR`"),
            StoreError::Symlink { path } => format!(
                "the store never follows links planted in it; remove `{}` and rerun",
                path.display()
            ),
            StoreError::Receipt { .. } => "reinstall with `codex-bootstrap install --force`".into(),
            StoreError::Io { source, .. } => match source.kind() {
                std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem => {
                    format!("the cache must be writable: pass `--cache-dir DIR` or set {HOME_ENV}")
                }
                std::io::ErrorKind::StorageFull => {
                    "free some disk space, or move the cache with `--cache-dir DIR`".into()
                }
                _ => format!("check the permissions of the cache, or move it with `--cache-dir DIR` / {HOME_ENV}"),
            },
        }
    }
}

/// The cache root and every path derived from it.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    /// `--cache-dir`, else `CODEX_BOOTSTRAP_HOME`, else the platform cache dir + `codex-bootstrap`.
    pub fn locate(flag: Option<&Path>) -> Result<Store, StoreError> {
        let root = match flag {
            Some(p) => p.to_path_buf(),
            None => match std::env::var_os(HOME_ENV).filter(|v| !v.is_empty()) {
                Some(v) => PathBuf::from(v),
                None => dirs::cache_dir()
                    .ok_or(StoreError::NoCacheDir)?
                    .join("codex-bootstrap"),
            },
        };
        let root = if root.is_relative() {
            std::env::current_dir()
                .map_err(StoreError::io("read the current directory", &root))?
                .join(root)
        } else {
            root
        };
        Ok(Store { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
    pub fn runtimes_dir(&self) -> PathBuf {
        self.root.join("runtimes")
    }
    pub fn version_dir(&self, version: &CodexVersion) -> PathBuf {
        self.runtimes_dir().join(version.to_string())
    }
    pub fn runtime_dir(&self, version: &CodexVersion, target: &Target) -> PathBuf {
        self.version_dir(version).join(target.as_str())
    }
    pub fn downloads_dir(&self) -> PathBuf {
        self.root.join("downloads")
    }
    pub fn locks_dir(&self) -> PathBuf {
        self.root.join("locks")
    }
    pub fn lock_path(&self, version: &CodexVersion, target: &Target) -> PathBuf {
        self.locks_dir().join(format!("{version}-{target}.lock"))
    }

    /// The installed runtime for `version`/`target`, if a complete one is there. Takes no lock
    /// and touches no network: a stat and a receipt read. A directory without a readable receipt
    /// is not a runtime (it is repaired by the next install under the lock).
    pub fn installed(
        &self,
        version: &CodexVersion,
        target: &Target,
    ) -> Result<Option<InstalledRuntime>, StoreError> {
        let dir = self.runtime_dir(version, target);
        for p in [self.runtimes_dir(), self.version_dir(version), dir.clone()] {
            refuse_symlink(&p)?;
        }
        let receipt_path = dir.join(RECEIPT_NAME);
        let receipt = match Receipt::read(&receipt_path) {
            Ok(r) => r,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(StoreError::Receipt {
                    path: receipt_path,
                    source,
                })
            }
        };
        if receipt.schema != SCHEMA || &receipt.version != version || &receipt.target != target {
            return Ok(None);
        }
        let runtime = InstalledRuntime { dir, receipt };
        if !runtime.codex_path().is_file() {
            return Ok(None);
        }
        Ok(Some(runtime))
    }

    /// Every runtime with a readable receipt, newest version first.
    pub fn list(&self) -> Vec<InstalledRuntime> {
        let mut out = Vec::new();
        let Ok(versions) = std::fs::read_dir(self.runtimes_dir()) else {
            return out;
        };
        for v in versions.flatten() {
            let Ok(targets) = std::fs::read_dir(v.path()) else {
                continue;
            };
            for t in targets.flatten() {
                let name = t.file_name();
                if name.to_string_lossy().starts_with('.') {
                    continue;
                }
                if let Ok(receipt) = Receipt::read(&t.path().join(RECEIPT_NAME)) {
                    out.push(InstalledRuntime {
                        dir: t.path(),
                        receipt,
                    });
                }
            }
        }
        out.sort_by(|a, b| {
            (&b.receipt.version, b.receipt.target.as_str())
                .cmp(&(&a.receipt.version, a.receipt.target.as_str()))
        });
        out
    }
}

/// Refuse a symlink where the store expects a real directory or file: following a link planted
/// in a shared cache would let someone else choose what we execute or overwrite.
pub fn refuse_symlink(path: &Path) -> Result<(), StoreError> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Err(StoreError::Symlink {
            path: path.to_path_buf(),
        }),
        _ => Ok(()),
    }
}

/// A complete runtime in the store.
#[derive(Debug, Clone)]
pub struct InstalledRuntime {
    /// `<cache>/runtimes/<version>/<target>`: the package root.
    pub dir: PathBuf,
    pub receipt: Receipt,
}

impl InstalledRuntime {
    pub fn version(&self) -> &CodexVersion {
        &self.receipt.version
    }
    pub fn target(&self) -> &Target {
        &self.receipt.target
    }
    /// `bin/codex` (or `bin/codex.exe`).
    pub fn codex_path(&self) -> PathBuf {
        self.dir.join(&self.receipt.entrypoint)
    }
    /// The directory holding `codex`, for PATH.
    pub fn bin_dir(&self) -> PathBuf {
        self.codex_path()
            .parent()
            .map_or_else(|| self.dir.clone(), Path::to_path_buf)
    }
    /// `codex-path/`, to prepend to PATH when launching codex (it holds `rg`).
    pub fn path_dir(&self) -> Option<PathBuf> {
        self.receipt.path_dir.as_ref().map(|p| self.dir.join(p))
    }
    pub fn receipt_path(&self) -> PathBuf {
        self.dir.join(RECEIPT_NAME)
    }
}

/// The first way an installed runtime differs from its receipt.
#[derive(Debug, thiserror::Error)]
pub enum IntegrityError {
    #[error("`{path}` is missing")]
    Missing { path: String },
    #[error("`{path}` has {actual} bytes, the receipt says {expected}")]
    Size {
        path: String,
        expected: u64,
        actual: u64,
    },
    #[error("`{path}` has sha256 {actual}, the receipt says {expected}")]
    Digest {
        path: String,
        expected: crate::verify::Sha256,
        actual: crate::verify::Sha256,
    },
    #[error("`{path}` could not be read: {source}")]
    Unreadable {
        path: String,
        source: std::io::Error,
    },
}

impl InstalledRuntime {
    /// Re-hash every installed file against the receipt; report the first that differs.
    /// Sizes are checked for all files first, so a truncation is found without hashing.
    pub fn verify_files(&self) -> Result<(), IntegrityError> {
        for f in &self.receipt.files {
            let path = self.dir.join(&f.path);
            match std::fs::symlink_metadata(&path) {
                Ok(m) if m.len() == f.size && m.is_file() => {}
                Ok(m) => {
                    return Err(IntegrityError::Size {
                        path: f.path.clone(),
                        expected: f.size,
                        actual: m.len(),
                    })
                }
                Err(_) => {
                    return Err(IntegrityError::Missing {
                        path: f.path.clone(),
                    })
                }
            }
        }
        for f in &self.receipt.files {
            let (actual, _) =
                crate::verify::hash_file(&self.dir.join(&f.path)).map_err(|source| {
                    IntegrityError::Unreadable {
                        path: f.path.clone(),
                        source,
                    }
                })?;
            if actual != f.sha256 {
                return Err(IntegrityError::Digest {
                    path: f.path.clone(),
                    expected: f.sha256,
                    actual,
                });
            }
        }
        Ok(())
    }
}
