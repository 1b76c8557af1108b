//! Publishing into the store, and taking out of it: staging directories beside the final one,
//! the commit that makes a staged runtime visible with one rename, and the one way a runtime
//! directory disappears (moved aside with one rename, then deleted).
//!
//! Readers take no lock, so every change a reader could see is a single rename: a runtime
//! directory either does not exist or is complete. What a crash leaves behind (a staging dir, a
//! trash dir) is invisible to readers and cleaned by the next installer under the lock
//! ([`clean_stale`]) or by `prune`.

use std::path::{Path, PathBuf};

use crate::fs::{create_dirs, sync_dir, write_durable, IoError};
use crate::pin::CodexVersion;
use crate::platform::Target;
use crate::store::layout::{refuse_symlink, STAGING_PREFIX, TRASH_PREFIX};
use crate::store::receipt::Receipt;
use crate::store::trust;
use crate::store::{InstalledRuntime, Store, StoreError, RECEIPT_NAME};

/// A staging directory for one runtime, beside its final place. Dropped without
/// [`Staging::commit`], it is deleted.
pub struct Staging {
    dir: tempfile::TempDir,
    final_dir: PathBuf,
}

impl Staging {
    /// Create `<version>/.staging-<target>-*`, creating the version directory if needed.
    /// Refuses a symlink where the store expects its own directories.
    pub fn new(
        store: &Store,
        version: &CodexVersion,
        target: &Target,
    ) -> Result<Staging, StoreError> {
        let version_dir = store.version_dir(version);
        // Checked before `mkdir -p` (which would follow a planted link) and after.
        trust::chain(store.data_dir(), &version_dir)?;
        create_dirs(&version_dir).map_err(IoError::at("create", &version_dir))?;
        trust::chain(store.data_dir(), &version_dir)?;
        let dir = tempfile::Builder::new()
            .prefix(&format!("{STAGING_PREFIX}{target}-"))
            .tempdir_in(&version_dir)
            .map_err(IoError::at("create a staging directory in", &version_dir))?;
        Ok(Staging {
            dir,
            final_dir: store.runtime_dir(version, target),
        })
    }

    /// Where the runtime's files go.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Write the receipt durably, make the staging dir the runtime with one rename, and make
    /// the rename durable. With `force`, an existing runtime is moved aside and deleted first;
    /// without it, an existing directory is one without a receipt (e.g. made by hand) and is
    /// removed.
    pub fn commit(self, receipt: Receipt, force: bool) -> Result<InstalledRuntime, StoreError> {
        let final_dir = self.final_dir;
        let receipt_path = self.dir.path().join(RECEIPT_NAME);
        write_durable(&receipt_path, &receipt.to_json())
            .map_err(IoError::at("write the receipt", &receipt_path))?;
        if force && final_dir.exists() {
            // Gone from view is what matters here: trash that resists deletion is cleaned by
            // the next install or `prune`.
            let _ = move_aside_and_remove(&final_dir)?;
        } else if final_dir.exists() {
            refuse_symlink(&final_dir)?;
            remove_entry(&final_dir).map_err(IoError::at("remove", &final_dir))?;
        }
        let staged = self.dir.keep();
        // tempfile makes staging dirs 0700; a published runtime is readable, not writable, by
        // others.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&staged, std::fs::Permissions::from_mode(0o755));
        }
        std::fs::rename(&staged, &final_dir).map_err(|e| {
            let _ = std::fs::remove_dir_all(&staged);
            IoError::at("rename the staged runtime into", &final_dir)(e)
        })?;
        if let Some(version_dir) = final_dir.parent() {
            sync_dir(version_dir);
        }
        Ok(InstalledRuntime {
            dir: final_dir,
            receipt,
        })
    }
}

/// Move the runtime directory `dir` (`<version>/<target>`) aside as
/// `<version>/.trash-<target>-<pid>` with one rename, so readers see all of it or none, then
/// delete it. The outer error: `dir` is still in place. The inner one: `dir` is gone from view
/// but its trash could not be deleted (the next install or `prune` cleans it).
pub fn move_aside_and_remove(dir: &Path) -> Result<Result<(), StoreError>, StoreError> {
    refuse_symlink(dir)?;
    let (Some(parent), Some(name)) = (dir.parent(), dir.file_name()) else {
        return Err(IoError::at("move aside", dir)(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a directory inside the store",
        ))
        .into());
    };
    let trash = parent.join(format!(
        "{TRASH_PREFIX}{}-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    std::fs::rename(dir, &trash).map_err(IoError::at("move aside", dir))?;
    Ok(remove_entry(&trash).map_err(|e| IoError::at("remove", &trash)(e).into()))
}

/// Remove what is at `path` in the store: a directory with its content, or a file (one made
/// by hand where a runtime's directory belongs). Never follows a link: the caller refused it.
fn remove_entry(path: &Path) -> std::io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(e) => Err(e),
    }
}

/// Remove staging and trash directories left by crashed installers of this artifact. Call with
/// the artifact lock held: then no live installer owns them.
pub fn clean_stale(store: &Store, version: &CodexVersion, target: &Target) {
    let staging = format!("{STAGING_PREFIX}{target}-");
    let trash = format!("{TRASH_PREFIX}{target}-");
    let Ok(entries) = std::fs::read_dir(store.version_dir(version)) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(&staging) || name.starts_with(&trash) {
            let _ = remove_entry(&e.path());
        }
    }
}

/// True for the name of a staging or trash directory (of any target) in a version directory.
pub fn is_leftover_dir_name(name: &str) -> bool {
    name.starts_with(STAGING_PREFIX) || name.starts_with(TRASH_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const V: &str = "0.163.0";
    const T: &str = "x86_64-unknown-linux-musl";

    fn receipt() -> Receipt {
        Receipt::for_test(V, T)
    }

    fn stage(store: &Store, content: &[u8]) -> Staging {
        let staging = Staging::new(store, &V.parse().unwrap(), &T.parse().unwrap()).unwrap();
        std::fs::create_dir_all(staging.path().join("bin")).unwrap();
        std::fs::write(staging.path().join("bin/codex"), content).unwrap();
        staging
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_staging_dir_sits_beside_the_runtime_and_commit_publishes_it_with_its_receipt() {
        let d = tempfile::tempdir().unwrap();
        let store = Store::at(d.path().to_path_buf());
        let staging = stage(&store, b"one");
        let version_dir = store.version_dir(&V.parse().unwrap());
        assert_eq!(staging.path().parent(), Some(version_dir.as_path()));
        assert!(is_leftover_dir_name(&names(&version_dir)[0]));

        let rt = staging.commit(receipt(), false).unwrap();
        assert_eq!(
            rt.dir,
            store.runtime_dir(&V.parse().unwrap(), &T.parse().unwrap())
        );
        assert_eq!(names(&version_dir), [T]);
        let found = store
            .installed(&V.parse().unwrap(), &T.parse().unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(found.receipt.asset, "a.tar.gz");
        assert_eq!(std::fs::read(rt.codex_path()).unwrap(), b"one");
    }

    #[test]
    fn a_forced_commit_replaces_the_runtime_and_leaves_no_trash() {
        let d = tempfile::tempdir().unwrap();
        let store = Store::at(d.path().to_path_buf());
        stage(&store, b"old").commit(receipt(), false).unwrap();
        let rt = stage(&store, b"new").commit(receipt(), true).unwrap();
        assert_eq!(std::fs::read(rt.codex_path()).unwrap(), b"new");
        assert_eq!(names(&store.version_dir(&V.parse().unwrap())), [T]);
    }

    #[test]
    fn a_dropped_staging_dir_is_deleted() {
        let d = tempfile::tempdir().unwrap();
        let store = Store::at(d.path().to_path_buf());
        drop(stage(&store, b"x"));
        assert!(names(&store.version_dir(&V.parse().unwrap())).is_empty());
    }

    #[test]
    fn move_aside_and_remove_deletes_the_directory_and_refuses_a_symlink() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("v").join(T);
        std::fs::create_dir_all(dir.join("bin")).unwrap();
        std::fs::write(dir.join("bin/codex"), b"x").unwrap();
        move_aside_and_remove(&dir).unwrap().unwrap();
        assert!(names(&d.path().join("v")).is_empty());

        #[cfg(unix)]
        {
            let real = d.path().join("real");
            std::fs::create_dir(&real).unwrap();
            let link = d.path().join("v").join("link");
            std::os::unix::fs::symlink(&real, &link).unwrap();
            let err = move_aside_and_remove(&link).unwrap_err();
            assert!(matches!(err, StoreError::Symlink { .. }), "{err:?}");
            assert!(real.is_dir());
        }
    }

    #[test]
    fn clean_stale_removes_staging_and_trash_of_this_artifact_only() {
        let d = tempfile::tempdir().unwrap();
        let store = Store::at(d.path().to_path_buf());
        let version_dir = store.version_dir(&V.parse().unwrap());
        let other = "aarch64-apple-darwin";
        for name in [
            format!("{STAGING_PREFIX}{T}-abc"),
            format!("{TRASH_PREFIX}{T}-42"),
            format!("{STAGING_PREFIX}{other}-abc"),
            T.to_string(),
        ] {
            std::fs::create_dir_all(version_dir.join(name)).unwrap();
        }
        clean_stale(&store, &V.parse().unwrap(), &T.parse().unwrap());
        let mut want = vec![format!("{STAGING_PREFIX}{other}-abc"), T.to_string()];
        want.sort();
        assert_eq!(names(&version_dir), want);
    }
}
