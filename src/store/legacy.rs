//! Runtimes that earlier releases kept in the cache directory (`<platform cache
//! dir>/codex-bootstrap/runtimes/<version>/<target>`): found and used where they are until an
//! install moves them into the data directory with one rename, under the artifact's lock, or
//! uses them in place where a rename cannot reach. Everything the migration needs is here, so
//! that it can go in one commit once no such runtimes are left.

use std::path::PathBuf;

use super::layout::{read_runtime, refuse_symlink, InstalledRuntime, Store, StoreError};
use crate::fs::IoError;
use crate::pin::CodexVersion;
use crate::platform::Target;

impl Store {
    /// The runtime for `version`/`target` under the old layout. Anything wrong there (a link, an
    /// unreadable receipt) means none: the next install puts a fresh one in the data directory.
    pub fn installed_legacy(
        &self,
        version: &CodexVersion,
        target: &Target,
    ) -> Option<InstalledRuntime> {
        let old = self.legacy_runtimes_dir()?;
        read_runtime(old.parent().unwrap_or(old), old, version, target)
            .ok()
            .flatten()
    }

    /// Whether `runtime` is one of the old layout's, used in place.
    pub fn is_legacy(&self, runtime: &InstalledRuntime) -> bool {
        self.legacy_runtimes_dir()
            .is_some_and(|old| runtime.dir.starts_with(old))
    }

    /// Move the old layout's runtime for `version`/`target` into the data directory with one
    /// rename. Call with the artifact lock held. Where the rename cannot be done (another file
    /// system, a directory that is not ours to write), it stays and is used in place.
    pub fn adopt_legacy(
        &self,
        version: &CodexVersion,
        target: &Target,
    ) -> Result<Option<Adopted>, StoreError> {
        if read_runtime(self.data_dir(), &self.runtimes_dir(), version, target)?.is_some() {
            return Ok(None);
        }
        let Some(old) = self.installed_legacy(version, target) else {
            return Ok(None);
        };
        let version_dir = self.version_dir(version);
        refuse_symlink(&self.runtimes_dir())?;
        if let Err(why) = crate::fs::create_dirs(&version_dir) {
            return Ok(Some(Adopted::InPlace { runtime: old, why }));
        }
        refuse_symlink(&version_dir)?;
        let dest = self.runtime_dir(version, target);
        if dest.exists() {
            // A directory without a receipt (made by hand, or half-removed): not a runtime.
            refuse_symlink(&dest)?;
            std::fs::remove_dir_all(&dest).map_err(IoError::at("remove", &dest))?;
        }
        match std::fs::rename(&old.dir, &dest) {
            Ok(()) => {
                crate::fs::sync_dir(&version_dir);
                // The old layout's directories go once empty (remove_dir refuses otherwise).
                if let Some(old_version_dir) = old.dir.parent() {
                    let _ = std::fs::remove_dir(old_version_dir);
                }
                if let Some(old_runtimes) = self.legacy_runtimes_dir() {
                    let _ = std::fs::remove_dir(old_runtimes);
                }
                Ok(Some(Adopted::Moved {
                    from: old.dir,
                    runtime: InstalledRuntime {
                        dir: dest,
                        receipt: old.receipt,
                    },
                }))
            }
            Err(why) => {
                let _ = std::fs::remove_dir(&version_dir);
                Ok(Some(Adopted::InPlace { runtime: old, why }))
            }
        }
    }

    /// Remove the old layout's copy of a runtime just installed in the data directory: it would
    /// only shadow nothing and take room. Call with the artifact lock held. Best effort.
    pub fn discard_legacy(&self, version: &CodexVersion, target: &Target) {
        if let Some(old) = self.installed_legacy(version, target) {
            let _ = super::remove::remove_dir(&old.dir);
        }
    }
}

/// What became of a runtime found under the old layout.
#[derive(Debug)]
pub enum Adopted {
    /// Moved into the data directory with one rename.
    Moved {
        from: PathBuf,
        runtime: InstalledRuntime,
    },
    /// Left where it is and used in place: `why` the rename could not be done (typically
    /// another file system).
    InPlace {
        runtime: InstalledRuntime,
        why: std::io::Error,
    },
}

impl Adopted {
    pub fn into_runtime(self) -> InstalledRuntime {
        match self {
            Adopted::Moved { runtime, .. } | Adopted::InPlace { runtime, .. } => runtime,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::store::{Locations, Receipt, RECEIPT_NAME};

    /// A store on platform directories under `root` (where old-layout runtimes are looked for).
    fn platform_store(root: &Path) -> Store {
        Store::from_locations(Locations {
            platform_data: Some(root.join("share")),
            platform_cache: Some(root.join("cache")),
            ..Locations::default()
        })
        .unwrap()
    }

    /// A minimal runtime with a receipt under `runtimes`.
    fn plant(runtimes: &Path, version: &str, target: &str) -> PathBuf {
        let dir = runtimes.join(version).join(target);
        std::fs::create_dir_all(dir.join("bin")).unwrap();
        std::fs::write(dir.join("bin/codex"), b"#!/bin/sh\n").unwrap();
        let receipt = Receipt::for_test(version, target);
        std::fs::write(dir.join(RECEIPT_NAME), receipt.to_json()).unwrap();
        dir
    }

    #[test]
    fn an_old_layout_runtime_is_found_listed_and_moved_with_one_rename() {
        let d = tempfile::tempdir().unwrap();
        let s = platform_store(d.path());
        let t = "x86_64-unknown-linux-musl";
        let (v, target): (CodexVersion, Target) = ("0.163.0".parse().unwrap(), t.parse().unwrap());
        let old = plant(s.legacy_runtimes_dir().unwrap(), "0.163.0", t);
        plant(&s.runtimes_dir(), "0.162.0", t);

        let found = s.installed(&v, &target).unwrap().unwrap();
        assert_eq!(found.dir, old);
        assert!(s.is_legacy(&found));
        let listed: Vec<(String, bool)> = s
            .list()
            .iter()
            .map(|rt| (rt.version().to_string(), s.is_legacy(rt)))
            .collect();
        assert_eq!(
            listed,
            [("0.163.0".into(), true), ("0.162.0".into(), false)]
        );

        let moved = s.adopt_legacy(&v, &target).unwrap().unwrap();
        let Adopted::Moved { from, runtime } = moved else {
            panic!("not moved: {moved:?}");
        };
        assert_eq!(from, old);
        assert_eq!(runtime.dir, s.runtime_dir(&v, &target));
        assert!(runtime.codex_path().is_file() && !old.exists());
        assert!(
            !s.legacy_runtimes_dir().unwrap().exists(),
            "the emptied old directories go too"
        );
        let found = s.installed(&v, &target).unwrap().unwrap();
        assert!(!s.is_legacy(&found));
        assert!(
            s.adopt_legacy(&v, &target).unwrap().is_none(),
            "nothing left to move"
        );
    }

    #[test]
    fn a_broken_old_receipt_is_no_runtime_and_no_error() {
        let d = tempfile::tempdir().unwrap();
        let s = platform_store(d.path());
        let t = "x86_64-unknown-linux-musl";
        let old = plant(s.legacy_runtimes_dir().unwrap(), "0.163.0", t);
        std::fs::write(old.join(RECEIPT_NAME), b"{not json").unwrap();
        let (v, target) = ("0.163.0".parse().unwrap(), t.parse().unwrap());
        assert!(s.installed(&v, &target).unwrap().is_none());
        assert!(s.adopt_legacy(&v, &target).unwrap().is_none());
        assert!(old.exists(), "what is not a runtime is not touched");
    }
}
