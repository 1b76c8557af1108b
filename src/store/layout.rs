//! Where things live, and the lock-free read of an installed runtime.
//!
//! A runtime is an install that IDEs, SDK configs and PATH entries point at, not a cache: it
//! lives in the data directory. Everything that can be fetched again lives in the cache
//! directory, which carries a `CACHEDIR.TAG` so backup tools skip it (as uv, mise and rustup
//! split them).
//!
//! ```text
//! <data>/runtimes/<version>/<target>/             the package, plus RECEIPT_NAME
//! <data>/runtimes/<version>/.staging-<target>-*   an install in progress (or a crashed one)
//! <data>/runtimes/<version>/.trash-<target>-<pid> a runtime moved aside to be deleted
//! <cache>/CACHEDIR.TAG                            "not worth backing up"
//! <cache>/downloads/<key>-<asset>.partial         a resumable download; <key> is the first 16
//!                                                 hex digits of the expected digest
//! <cache>/downloads/<sha256>/<asset>              a verified archive, kept for mirrors
//! <data>/wheels/<tag>/<version>/<target>/        a wheel tree: one wheel's whole content
//!                                                 (`codex_cli_bin/`, `*.dist-info/`) as it
//!                                                 goes into site-packages, files read-only,
//!                                                 plus RECEIPT_NAME (`install --python`)
//! <data>/wheels/<tag>/<version>/.links-<target>/  environments that symlink into that tree
//! <cache>/locks/<version>-<target>.lock           serialises installers of one artifact
//! <cache>/locks/wheel-<tag>-<version>-<target>.lock  ... and of one wheel tree
//! <cache>/registries.json                         where the Python index and npm were found
//! ```
//!
//! `<data>` is `CODEX_BOOTSTRAP_DATA_DIR`, else the platform data directory + `codex-bootstrap`
//! (`$XDG_DATA_HOME`, `~/.local/share`, `~/Library/Application Support`, `%LOCALAPPDATA%`).
//! `<cache>` is `CODEX_BOOTSTRAP_CACHE_DIR`, else the platform cache directory +
//! `codex-bootstrap` (`$XDG_CACHE_HOME`, `~/.cache`, `~/Library/Caches`; on Windows, whose two
//! platform directories are one, `%LOCALAPPDATA%\codex-bootstrap\cache`). `--cache-dir DIR` and
//! `CODEX_BOOTSTRAP_HOME` put both under one root, as before the split; then `downloads/`
//! carries the tag, since the root holds runtimes too.
//!
//! Before the split, runtimes lived at `<platform cache dir>/codex-bootstrap/runtimes`. They are
//! still found there (and used in place) until an install under the artifact lock moves them
//! into the data directory with one rename; across file systems they stay where they are. They
//! are never downloaded again.

use std::path::{Path, PathBuf};

use crate::error::Hint;
use crate::fs::IoError;
use crate::pin::CodexVersion;
use crate::platform::Target;
use crate::store::receipt::{Receipt, SCHEMA};
use crate::store::trust;
use crate::verify::{Digest, Sha256};

/// The environment variable that puts the whole store under one root (as `--cache-dir` does).
pub const HOME_ENV: &str = "CODEX_BOOTSTRAP_HOME";
/// The environment variable that moves the data directory (runtimes).
pub const DATA_ENV: &str = "CODEX_BOOTSTRAP_DATA_DIR";
/// The environment variable that moves the cache directory (downloads, locks).
pub const CACHE_ENV: &str = "CODEX_BOOTSTRAP_CACHE_DIR";
/// The receipt's file name inside a runtime directory.
pub const RECEIPT_NAME: &str = ".codex-bootstrap-receipt.json";
/// Prefix of staging directories beside the final runtime directories.
pub const STAGING_PREFIX: &str = ".staging-";
/// Prefix of runtime directories moved aside to be deleted.
pub const TRASH_PREFIX: &str = ".trash-";
/// The cache directory tag's file name (<https://bford.info/cachedir/>).
pub const CACHEDIR_TAG: &str = "CACHEDIR.TAG";
/// The tag's content: the standard signature line first, which is what tools check.
const CACHEDIR_TAG_CONTENT: &str = "Signature: 8a477f597d28d172789f06886806bc55\n\
# This file is a cache directory tag created by codex-bootstrap.\n\
# For information about cache directory tags see https://bford.info/cachedir/\n";
/// The directory name under the platform's data and cache directories.
const APP_DIR: &str = "codex-bootstrap";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("could not find a cache directory for this user")]
    NoCacheDir,
    #[error("could not find a data directory for this user")]
    NoDataDir,
    #[error("`{path}` is a symbolic link inside the store")]
    Symlink { path: PathBuf },
    #[error("`{}` in the store could have been changed by another user: {why}", path.display())]
    Untrusted {
        path: PathBuf,
        why: crate::store::trust::Distrust,
    },
    /// A path of the store that is not what the store makes there (a file where a runtime's
    /// directory belongs, a directory where its receipt belongs). Made by hand: the store never
    /// makes one.
    #[error("`{}` in the store is a {found}, where the store keeps a {want}", path.display())]
    WrongKind {
        path: PathBuf,
        found: &'static str,
        want: &'static str,
        /// The command that replaces it, when it is part of an entry the store replaces
        /// (`install --force` for a runtime).
        replace: Option<&'static str>,
    },
    #[error("the receipt `{path}` is unreadable")]
    Receipt {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Io(#[from] IoError),
}

/// `name` when it is one plain path component, else `archive`: the digest in the path still
/// tells one file from another. Names from servers are vetted where they enter
/// ([`crate::remote`]); this keeps any that slipped through inside the store.
fn component(name: &str) -> &str {
    match crate::remote::file_name_problem(name) {
        None => name,
        Some(_) => "archive",
    }
}

impl Hint for StoreError {
    fn hint(&self) -> Option<String> {
        match self {
            StoreError::NoCacheDir => Some(format!(
                "set {CACHE_ENV}, or put everything under one root with {HOME_ENV} or `--cache-dir DIR`"
            )),
            StoreError::NoDataDir => Some(format!(
                "set {DATA_ENV}, or put everything under one root with {HOME_ENV} or `--cache-dir DIR`"
            )),
            StoreError::Symlink { path } => Some(format!(
                "the store never follows links planted in it; remove `{}` and rerun",
                path.display()
            )),
            StoreError::Untrusted { path, why } => Some(crate::store::trust::fix(path, why)),
            StoreError::WrongKind {
                path,
                found,
                replace,
                ..
            } => {
                let rm = format!(
                    "`rm{} '{}'`",
                    if *found == "directory" { " -r" } else { "" },
                    path.display()
                );
                Some(match replace {
                    Some(command) => format!("`{command}` replaces it (or remove it: {rm})"),
                    None => format!("remove it ({rm}) and rerun"),
                })
            }
            StoreError::Receipt { .. } => Some("reinstall with `codex-bootstrap install --force`".into()),
            StoreError::Io(e) => Some(match e.kind() {
                std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem => {
                    format!("the store must be writable: pass `--cache-dir DIR` or set {HOME_ENV} (or {DATA_ENV} and {CACHE_ENV})")
                }
                std::io::ErrorKind::StorageFull => {
                    "free some disk space, or move the store with `--cache-dir DIR`".into()
                }
                _ => format!("check the permissions of the store, or move it with `--cache-dir DIR` / {HOME_ENV}"),
            }),
        }
    }
}

/// What decides where the store is: [`Store::locate`] reads it from the flag, the environment
/// and the platform; tests pass their own.
#[derive(Debug, Clone, Default)]
pub struct Locations {
    /// `--cache-dir`: one root.
    pub flag: Option<PathBuf>,
    /// `CODEX_BOOTSTRAP_HOME`: one root.
    pub home: Option<PathBuf>,
    /// `CODEX_BOOTSTRAP_DATA_DIR`.
    pub data: Option<PathBuf>,
    /// `CODEX_BOOTSTRAP_CACHE_DIR`.
    pub cache: Option<PathBuf>,
    /// The platform's data directory (`dirs::data_local_dir`).
    pub platform_data: Option<PathBuf>,
    /// The platform's cache directory (`dirs::cache_dir`), also where the old layout lived.
    pub platform_cache: Option<PathBuf>,
}

impl Locations {
    /// The flag, this process's environment and this user's platform directories.
    pub fn of_this_process(flag: Option<&Path>) -> Locations {
        let env = |name| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        Locations {
            flag: flag.map(Path::to_path_buf),
            home: env(HOME_ENV),
            data: env(DATA_ENV),
            cache: env(CACHE_ENV),
            platform_data: dirs::data_local_dir(),
            platform_cache: dirs::cache_dir(),
        }
    }
}

/// The data and cache directories and every path derived from them.
#[derive(Debug, Clone)]
pub struct Store {
    /// Runtimes and their receipts.
    data: PathBuf,
    /// Downloads, partials, locks, the registry cache. The same as `data` under one root.
    cache: PathBuf,
    /// `<platform cache dir>/codex-bootstrap/runtimes`, where runtimes lived before the split,
    /// when that is not [`Store::runtimes_dir`].
    legacy_runtimes: Option<PathBuf>,
    /// For the store of one wheel platform tag's trees ([`Store::wheel_trees`]): that tag.
    wheel_tag: Option<String>,
}

impl Store {
    /// `--cache-dir`, else `CODEX_BOOTSTRAP_HOME` (one root for everything), else the data and
    /// cache directories (`CODEX_BOOTSTRAP_DATA_DIR`, `CODEX_BOOTSTRAP_CACHE_DIR`, else the
    /// platform's). Relative paths are taken from the current directory.
    pub fn locate(flag: Option<&Path>) -> Result<Store, StoreError> {
        let store = Store::from_locations(Locations::of_this_process(flag))?;
        let absolute = |p: PathBuf| -> Result<PathBuf, StoreError> {
            if p.is_relative() {
                Ok(std::env::current_dir()
                    .map_err(IoError::at("read the current directory", &p))?
                    .join(p))
            } else {
                Ok(p)
            }
        };
        Ok(Store {
            data: absolute(store.data)?,
            cache: absolute(store.cache)?,
            legacy_runtimes: store.legacy_runtimes.map(absolute).transpose()?,
            wheel_tag: None,
        })
    }

    /// The layout `locations` describe (paths as given).
    pub fn from_locations(l: Locations) -> Result<Store, StoreError> {
        if let Some(root) = l.flag.or(l.home) {
            return Ok(Store::at(root));
        }
        let platform_data = l.platform_data.map(|d| d.join(APP_DIR));
        let platform_cache = l.platform_cache.map(|d| d.join(APP_DIR));
        let data = l
            .data
            .or_else(|| platform_data.clone())
            .ok_or(StoreError::NoDataDir)?;
        let cache = match l.cache {
            Some(c) => c,
            // Windows has one directory for both (%LOCALAPPDATA%): the cache goes below it.
            None => match platform_cache.clone().ok_or(StoreError::NoCacheDir)? {
                c if Some(&c) == platform_data.as_ref() => c.join("cache"),
                c => c,
            },
        };
        let legacy_runtimes = platform_cache
            .map(|c| c.join("runtimes"))
            .filter(|old| *old != data.join("runtimes"));
        Ok(Store {
            data,
            cache,
            legacy_runtimes,
            wheel_tag: None,
        })
    }

    /// Everything under `root`, as `--cache-dir` and `CODEX_BOOTSTRAP_HOME` ask.
    pub fn at(root: PathBuf) -> Store {
        Store {
            data: root.clone(),
            cache: root,
            legacy_runtimes: None,
            wheel_tag: None,
        }
    }

    /// The store of the unpacked wheels with platform tag `tag` (`manylinux_2_17_x86_64`): the
    /// same data and cache directories, with trees at `<data>/wheels/<tag>/<version>/<target>/`
    /// and locks of their own. A wheel tree is the wheel's whole content (`codex_cli_bin/`,
    /// `*.dist-info/`) as pip would unpack it into site-packages, beside the full package.
    pub fn wheel_trees(&self, tag: &str) -> Store {
        Store {
            data: self.data.clone(),
            cache: self.cache.clone(),
            legacy_runtimes: None,
            wheel_tag: Some(tag.to_string()),
        }
    }

    /// The platform tag whose wheel trees this store holds, if it is such a store.
    pub fn wheel_tag(&self) -> Option<&str> {
        self.wheel_tag.as_deref()
    }

    /// `<data>/wheels`: where every tag's wheel trees live.
    pub fn wheels_dir(&self) -> PathBuf {
        self.data.join("wheels")
    }

    /// The store of every wheel platform tag that has trees, by tag.
    pub fn wheel_tree_stores(&self) -> Vec<Store> {
        let mut tags: Vec<String> = std::fs::read_dir(self.wheels_dir())
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.'))
            .collect();
        tags.sort();
        tags.iter().map(|t| self.wheel_trees(t)).collect()
    }

    /// Where runtimes live (the parent of [`Store::runtimes_dir`]).
    pub fn data_dir(&self) -> &Path {
        &self.data
    }
    /// Where downloads, partials, locks and the registry cache live.
    pub fn cache_dir(&self) -> &Path {
        &self.cache
    }
    /// Whether data and cache are one directory (`--cache-dir`, `CODEX_BOOTSTRAP_HOME`).
    pub fn is_one_root(&self) -> bool {
        self.data == self.cache
    }
    pub fn runtimes_dir(&self) -> PathBuf {
        match &self.wheel_tag {
            Some(tag) => self.wheels_dir().join(tag),
            None => self.data.join("runtimes"),
        }
    }
    /// Where runtimes installed before the data/cache split are looked for, if anywhere.
    pub fn legacy_runtimes_dir(&self) -> Option<&Path> {
        self.legacy_runtimes.as_deref()
    }
    pub fn version_dir(&self, version: &CodexVersion) -> PathBuf {
        self.runtimes_dir().join(version.to_string())
    }
    pub fn runtime_dir(&self, version: &CodexVersion, target: &Target) -> PathBuf {
        self.version_dir(version).join(target.as_str())
    }
    pub fn downloads_dir(&self) -> PathBuf {
        self.cache.join("downloads")
    }
    /// The resumable download of asset `name`: keyed by its expected digest, so a partial from
    /// another build of the same name is never mixed in.
    pub fn partial_path(&self, expected: &Digest, name: &str) -> PathBuf {
        self.downloads_dir()
            .join(format!("{}-{}.partial", expected.key(), component(name)))
    }
    /// Where a verified archive is kept: `<cache>/downloads/<sha256>/<asset>`, keyed by its
    /// actual sha256 whichever digest verified it. Only names the path: creates nothing.
    pub fn archive_path(&self, name: &str, sha256: &Sha256) -> PathBuf {
        self.archive_dir(sha256).join(component(name))
    }
    /// The directory that holds the kept archive with this sha256.
    pub fn archive_dir(&self, sha256: &Sha256) -> PathBuf {
        self.downloads_dir().join(sha256.to_hex())
    }
    pub fn locks_dir(&self) -> PathBuf {
        self.cache.join("locks")
    }
    pub fn lock_path(&self, version: &CodexVersion, target: &Target) -> PathBuf {
        match &self.wheel_tag {
            Some(tag) => self
                .locks_dir()
                .join(format!("wheel-{tag}-{version}-{target}.lock")),
            None => self.locks_dir().join(format!("{version}-{target}.lock")),
        }
    }
    /// Where the located Python index and npm registry are remembered.
    pub fn registries_file(&self) -> PathBuf {
        self.cache.join("registries.json")
    }
    /// The `CACHEDIR.TAG` of the cache: at its root, or in `downloads/` under one root (whose
    /// runtimes are worth a backup).
    pub fn cache_tag(&self) -> PathBuf {
        if self.is_one_root() {
            self.downloads_dir().join(CACHEDIR_TAG)
        } else {
            self.cache.join(CACHEDIR_TAG)
        }
    }

    /// Create the cache directory with its `CACHEDIR.TAG`, `downloads/` and `locks/`, before
    /// anything is written there, and refuse them (and the cache root) if another user could
    /// write them ([`trust`]).
    pub fn prepare_cache(&self) -> Result<(), StoreError> {
        let tag = self.cache_tag();
        for dir in [self.downloads_dir(), self.locks_dir()] {
            trust::chain(&self.cache, &dir)?;
            crate::fs::create_dirs(&dir).map_err(IoError::at("create", &dir))?;
            trust::chain(&self.cache, &dir)?;
        }
        let mut options = std::fs::OpenOptions::new();
        // `create_new` neither follows a link planted at the name nor rewrites an existing tag.
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o644);
        let created = options
            .open(&tag)
            .and_then(|mut f| std::io::Write::write_all(&mut f, CACHEDIR_TAG_CONTENT.as_bytes()));
        match created {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                Err(IoError::at("write", &tag)(e).into())
            }
            _ => Ok(()),
        }
    }

    /// The installed runtime for `version`/`target`, if a complete one is there: in the data
    /// directory, else under the old layout (used in place). Takes no lock and touches no
    /// network: a stat and a receipt read. A directory without a readable receipt is not a
    /// runtime (it is repaired by the next install under the lock).
    pub fn installed(
        &self,
        version: &CodexVersion,
        target: &Target,
    ) -> Result<Option<InstalledRuntime>, StoreError> {
        if let Some(rt) = read_runtime(&self.data, &self.runtimes_dir(), version, target)? {
            return Ok(Some(rt));
        }
        Ok(self.installed_legacy(version, target))
    }

    /// Every runtime with a readable receipt, in the data directory and under the old layout,
    /// newest version first.
    pub fn list(&self) -> Vec<InstalledRuntime> {
        let mut out = list_in(&self.runtimes_dir());
        if let Some(old) = &self.legacy_runtimes {
            out.extend(list_in(old));
        }
        out.sort_by(|a, b| {
            (&b.receipt.version, b.receipt.target.as_str())
                .cmp(&(&a.receipt.version, a.receipt.target.as_str()))
        });
        out
    }
}

/// The runtime for `version`/`target` under `runtimes` (a `runtimes/` directory below the
/// store's `root`). Every directory from `root` to the runtime's, and its receipt, must be
/// this user's alone ([`trust`]): one another user could have replaced is refused, not run.
pub(super) fn read_runtime(
    root: &Path,
    runtimes: &Path,
    version: &CodexVersion,
    target: &Target,
) -> Result<Option<InstalledRuntime>, StoreError> {
    let dir = runtimes.join(version.to_string()).join(target.as_str());
    // The runtime's directory and its receipt are replaced whole by `install --force`, whatever
    // is at their names: say so when that is a file where the directory belongs, or the like.
    let replaceable = |e: StoreError| match e {
        StoreError::WrongKind {
            path,
            found,
            want,
            replace: None,
        } if path == dir || path == dir.join(RECEIPT_NAME) => StoreError::WrongKind {
            path,
            found,
            want,
            replace: Some("codex-bootstrap install --force"),
        },
        e => e,
    };
    trust::chain(root, &dir).map_err(replaceable)?;
    let receipt_path = dir.join(RECEIPT_NAME);
    trust::file(&receipt_path).map_err(replaceable)?;
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

/// Every runtime with a readable receipt under `runtimes`.
fn list_in(runtimes: &Path) -> Vec<InstalledRuntime> {
    let mut out = Vec::new();
    let Ok(versions) = std::fs::read_dir(runtimes) else {
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
    out
}

/// Refuse a symlink where the store expects a real directory or file: following a link planted
/// in a shared cache would let someone else choose what we execute or overwrite.
pub fn refuse_symlink(path: &Path) -> Result<(), StoreError> {
    if crate::fs::is_symlink(path) {
        return Err(StoreError::Symlink {
            path: path.to_path_buf(),
        });
    }
    Ok(())
}

/// A complete runtime in the store.
#[derive(Debug, Clone)]
pub struct InstalledRuntime {
    /// `<data>/runtimes/<version>/<target>`: the package root.
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

impl Hint for IntegrityError {
    fn hint(&self) -> Option<String> {
        Some("the runtime changed after it was installed: reinstall it with `codex-bootstrap install --force`".into())
    }
}

impl InstalledRuntime {
    /// Check `bin/codex`'s signature again, offline, with the bundle the receipt kept and the
    /// digest it records (so call this after [`InstalledRuntime::verify_files`]). `None` for
    /// a target OpenAI publishes no bundle for, or a local `--archive` the install did not check.
    pub fn recheck_signature(
        &self,
        policy: &crate::provenance::SignaturePolicy,
    ) -> Option<Result<crate::provenance::SignatureRecord, crate::provenance::ProvenanceError>>
    {
        let r = &self.receipt;
        let signed_target = r.target.as_str().contains("-linux-");
        let checked_at_install = r.signature.is_some() || r.signature_bundle.is_some();
        if !signed_target
            || (!checked_at_install && r.source == Some(crate::plan::SourceKind::Archive))
        {
            return None;
        }
        let sha = r
            .files
            .iter()
            .find(|f| f.path == r.entrypoint)
            .map_or(Sha256::of(b""), |f| f.sha256);
        let signer = crate::provenance::Signer::codex_release(&r.version);
        Some(crate::provenance::recheck(
            r.signature.as_ref(),
            r.signature_bundle.as_deref(),
            &sha,
            &signer,
            policy,
        ))
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> PathBuf {
        PathBuf::from(s)
    }

    /// Linux's platform directories, as `dirs` reports them.
    fn linux() -> Locations {
        Locations {
            platform_data: Some(p("/home/u/.local/share")),
            platform_cache: Some(p("/home/u/.cache")),
            ..Locations::default()
        }
    }

    #[test]
    fn runtimes_go_to_the_data_dir_and_downloads_to_the_cache_dir() {
        let s = Store::from_locations(linux()).unwrap();
        assert_eq!(
            s.runtimes_dir(),
            p("/home/u/.local/share/codex-bootstrap/runtimes")
        );
        assert_eq!(
            s.downloads_dir(),
            p("/home/u/.cache/codex-bootstrap/downloads")
        );
        assert_eq!(s.locks_dir(), p("/home/u/.cache/codex-bootstrap/locks"));
        assert_eq!(
            s.registries_file(),
            p("/home/u/.cache/codex-bootstrap/registries.json")
        );
        assert_eq!(
            s.cache_tag(),
            p("/home/u/.cache/codex-bootstrap/CACHEDIR.TAG")
        );
        assert_eq!(
            s.legacy_runtimes_dir(),
            Some(Path::new("/home/u/.cache/codex-bootstrap/runtimes"))
        );
        assert!(!s.is_one_root());
    }

    #[test]
    fn the_flag_and_codex_bootstrap_home_put_everything_under_one_root() {
        for l in [
            Locations {
                flag: Some(p("/ci/store")),
                home: Some(p("/elsewhere")),
                data: Some(p("/data")),
                ..linux()
            },
            Locations {
                home: Some(p("/ci/store")),
                cache: Some(p("/cache")),
                ..linux()
            },
        ] {
            let s = Store::from_locations(l).unwrap();
            assert!(s.is_one_root());
            assert_eq!(s.runtimes_dir(), p("/ci/store/runtimes"));
            assert_eq!(s.downloads_dir(), p("/ci/store/downloads"));
            assert_eq!(
                s.lock_path(
                    &"0.163.0".parse().unwrap(),
                    &"x86_64-unknown-linux-musl".parse().unwrap()
                ),
                p("/ci/store/locks/0.163.0-x86_64-unknown-linux-musl.lock")
            );
            // Runtimes live in the root too: only the downloads are tagged.
            assert_eq!(s.cache_tag(), p("/ci/store/downloads/CACHEDIR.TAG"));
            assert_eq!(s.legacy_runtimes_dir(), None);
        }
    }

    #[test]
    fn partials_are_keyed_by_the_expected_digest_and_archives_by_their_sha256() {
        let s = Store::at(p("/c"));
        let sha = Sha256::of(b"archive");
        let hex = sha.to_hex();
        assert_eq!(
            s.partial_path(&Digest::Sha256(sha), "codex.tar.gz"),
            p(&format!("/c/downloads/{}-codex.tar.gz.partial", &hex[..16]))
        );
        assert_eq!(
            s.archive_path("codex.tar.gz", &sha),
            p(&format!("/c/downloads/{hex}/codex.tar.gz"))
        );
        assert_eq!(s.archive_dir(&sha), p(&format!("/c/downloads/{hex}")));
        // A name that is a path never leaves the downloads directory, whoever let it through.
        let climbing = "x-1/../../../../tmp/x/evil.whl";
        assert_eq!(
            s.partial_path(&Digest::Sha256(sha), climbing),
            p(&format!("/c/downloads/{}-archive.partial", &hex[..16]))
        );
        assert_eq!(
            s.archive_path("..", &sha),
            p(&format!("/c/downloads/{hex}/archive"))
        );
    }

    #[test]
    fn data_and_cache_dirs_move_one_at_a_time() {
        let s = Store::from_locations(Locations {
            data: Some(p("/srv/runtimes-here")),
            ..linux()
        })
        .unwrap();
        assert_eq!(s.runtimes_dir(), p("/srv/runtimes-here/runtimes"));
        assert_eq!(s.cache_dir(), Path::new("/home/u/.cache/codex-bootstrap"));
        let s = Store::from_locations(Locations {
            cache: Some(p("/tmp/c")),
            ..linux()
        })
        .unwrap();
        assert_eq!(
            s.data_dir(),
            Path::new("/home/u/.local/share/codex-bootstrap")
        );
        assert_eq!(s.downloads_dir(), p("/tmp/c/downloads"));
        // The old layout was in the platform cache dir, wherever the cache is now.
        assert_eq!(
            s.legacy_runtimes_dir(),
            Some(Path::new("/home/u/.cache/codex-bootstrap/runtimes"))
        );
    }

    #[test]
    fn where_data_and_cache_are_one_platform_dir_the_cache_goes_below() {
        // Windows: both are %LOCALAPPDATA%, and the old runtimes are already where they belong.
        let s = Store::from_locations(Locations {
            platform_data: Some(p("C:/Users/u/AppData/Local")),
            platform_cache: Some(p("C:/Users/u/AppData/Local")),
            ..Locations::default()
        })
        .unwrap();
        assert_eq!(
            s.runtimes_dir(),
            p("C:/Users/u/AppData/Local/codex-bootstrap/runtimes")
        );
        assert_eq!(
            s.downloads_dir(),
            p("C:/Users/u/AppData/Local/codex-bootstrap/cache/downloads")
        );
        assert_eq!(s.legacy_runtimes_dir(), None);
        assert!(!s.is_one_root());
    }

    #[test]
    fn no_platform_dirs_names_the_variables() {
        let e = Store::from_locations(Locations::default()).unwrap_err();
        assert!(matches!(e, StoreError::NoDataDir));
        assert!(e.hint().unwrap().contains(DATA_ENV) && e.hint().unwrap().contains(HOME_ENV));
        let e = Store::from_locations(Locations {
            data: Some(p("/d")),
            ..Locations::default()
        })
        .unwrap_err();
        assert!(e.hint().unwrap().contains(CACHE_ENV));
    }

    #[test]
    fn the_cache_tag_is_written_once_with_the_signature() {
        let d = tempfile::tempdir().unwrap();
        let s = Store::from_locations(Locations {
            data: Some(d.path().join("data")),
            cache: Some(d.path().join("cache")),
            ..Locations::default()
        })
        .unwrap();
        s.prepare_cache().unwrap();
        let tag = std::fs::read_to_string(d.path().join("cache/CACHEDIR.TAG")).unwrap();
        assert!(tag.starts_with("Signature: 8a477f597d28d172789f06886806bc55"));
        std::fs::write(
            d.path().join("cache/CACHEDIR.TAG"),
            "Signature: 8a477f597d28d172789f06886806bc55\n# mine\n",
        )
        .unwrap();
        s.prepare_cache().unwrap();
        let again = std::fs::read_to_string(d.path().join("cache/CACHEDIR.TAG")).unwrap();
        assert!(again.ends_with("# mine\n"), "an existing tag is left alone");
        assert!(
            !d.path().join("data").exists(),
            "preparing the cache writes no data dir"
        );
    }
}
