//! Taking things out of the store: one runtime (under its artifact lock, so never from under a
//! running install), and the leftovers of interrupted installs.

use std::path::{Path, PathBuf};

use crate::error::Hint;
use crate::pin::CodexVersion;
use crate::platform::Target;
use crate::store::layout::refuse_symlink;
use crate::store::staging::{is_leftover_dir_name, move_aside_and_remove};
use crate::store::{ArtifactLock, LockError, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum RemoveError {
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Hint for RemoveError {
    /// `#[error(transparent)]` hands `source()` to the inner error's cause, so the inner error
    /// itself is not in the chain: its hint has to be passed on here.
    fn hint(&self) -> Option<String> {
        match self {
            RemoveError::Lock(e) => e.hint(),
            RemoveError::Store(e) => e.hint(),
        }
    }
}

/// What happens to a runtime's kept archive (`<cache>/downloads/<sha256>/`) when the runtime
/// goes: kept, a later install of the same version reads it instead of downloading it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Archive {
    Keep,
    Remove,
}

/// What [`remove_runtime`] removed.
#[derive(Debug)]
pub struct Removal {
    /// The runtime's kept archive directory, when it had one: kept or removed as asked.
    pub archive: Option<PathBuf>,
}

/// Remove `runtimes/<version>/<target>` (in the data directory and under the old layout), and
/// its kept archive when `archive` says so. Waits for an installer of the same artifact; each
/// directory disappears with one rename, so readers see all of it or none. None when nothing
/// was there.
pub fn remove_runtime(
    store: &Store,
    version: &CodexVersion,
    target: &Target,
    archive: Archive,
) -> Result<Option<Removal>, RemoveError> {
    // Nothing there, and no install of it under way: nothing to wait for, and no lock file
    // (nor cache directory) is left behind by asking (`uninstall 0.999.0`).
    let lock_path = store.lock_path(version, target);
    let present = |p: &Path| std::fs::symlink_metadata(p).is_ok();
    if !present(&store.runtime_dir(version, target))
        && store.installed_legacy(version, target).is_none()
        && !present(&lock_path)
    {
        return Ok(None);
    }
    store.prepare_cache()?;
    let _lock = ArtifactLock::acquire(&lock_path, || {})?;
    let kept = store
        .installed(version, target)
        .ok()
        .flatten()
        .map(|rt| store.archive_dir(&rt.receipt.archive_sha256))
        .filter(|dir| dir.is_dir());
    // Node projects placed from it keep their own files (the callers keep a tree that one
    // symlinks into); the records would only keep the version directory.
    crate::store::placements::forget(&store.runtime_dir(version, target));
    let mut removed = remove_dir(&store.runtime_dir(version, target))?;
    if let Some(old) = store.installed_legacy(version, target) {
        removed |= remove_dir(&old.dir)?;
    }
    if !removed {
        return Ok(None);
    }
    if let (Some(dir), Archive::Remove) = (&kept, archive) {
        let _ = std::fs::remove_dir_all(dir);
    }
    Ok(Some(Removal { archive: kept }))
}

/// Move `dir` aside in its version directory, delete it, and drop the version directory once
/// empty. False when there was nothing to remove.
pub(super) fn remove_dir(dir: &Path) -> Result<bool, StoreError> {
    refuse_symlink(dir)?;
    if !dir.exists() {
        return Ok(false);
    }
    let Some(version_dir) = dir.parent() else {
        return Ok(false);
    };
    move_aside_and_remove(dir)??;
    crate::store::wheel_tree::remove_stamp(dir);
    let _ = std::fs::remove_dir(version_dir);
    Ok(true)
}

/// Staging dirs, trash and partial downloads that no running installer owns. Empty while any
/// install holds a lock: then they may be in use.
pub fn leftovers(store: &Store) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let held_any = std::fs::read_dir(store.locks_dir())
        .into_iter()
        .flatten()
        .flatten()
        .any(|l| ArtifactLock::is_held(&l.path()));
    if held_any {
        return out;
    }
    let runtimes = std::iter::once(store.runtimes_dir())
        .chain(store.legacy_runtimes_dir().map(Path::to_path_buf));
    for runtimes in runtimes {
        for v in std::fs::read_dir(runtimes).into_iter().flatten().flatten() {
            for e in std::fs::read_dir(v.path()).into_iter().flatten().flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if is_leftover_dir_name(&name) {
                    out.push(e.path());
                }
            }
        }
    }
    for e in std::fs::read_dir(store.downloads_dir())
        .into_iter()
        .flatten()
        .flatten()
    {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.ends_with(".partial") || name.ends_with(".partial.meta") {
            out.push(e.path());
        }
    }
    out
}

/// What [`remove_wheel_trees`] did with the wheel trees of one version and target.
#[derive(Debug, Default)]
pub struct TreesRemoved {
    /// The trees removed.
    pub removed: Vec<PathBuf>,
    /// The trees kept because environments still symlink into them, with those environments.
    pub kept: Vec<(PathBuf, Vec<PathBuf>)>,
    /// The kept wheels of the trees removed: kept or removed as asked.
    pub archives: Vec<PathBuf>,
}

/// Remove the wheel trees (every platform tag's) of `version`/`target`, each under its own
/// lock, except those an environment still symlinks into (`install --python --link-mode
/// symlink`): removing them would leave that environment pointing at nothing. Environments
/// that hold clones, hard links or copies keep their files whatever happens to the store.
pub fn remove_wheel_trees(
    store: &Store,
    version: &CodexVersion,
    target: &Target,
    archive: Archive,
) -> Result<TreesRemoved, RemoveError> {
    let mut out = TreesRemoved::default();
    for trees in store.wheel_tree_stores() {
        let Some(tree) = trees.installed(version, target).ok().flatten() else {
            continue;
        };
        let linked = crate::store::wheel_tree::linked_environments(&tree.dir);
        if !linked.is_empty() {
            out.kept.push((tree.dir, linked));
            continue;
        }
        if let Some(r) = remove_runtime(&trees, version, target, archive)? {
            out.removed.push(tree.dir);
            out.archives.extend(r.archive);
        }
    }
    Ok(out)
}
