//! The Node projects a runtime tree was placed into (`install --node`): one record per
//! placed platform package (`node_modules/@openai/codex-<platform>`) in
//! `<version dir>/.node-<target>/`, beside the tree, as wheel trees record the environments
//! that symlink into them.
//!
//! `list` shows how many projects use a tree; `prune` and `uninstall` keep a tree that a
//! project still symlinks into (`--link-mode symlink`), since removing it would leave the
//! project pointing at nothing. Projects that hold clones, hard links or copies keep their
//! files whatever happens to the store. A record whose package is gone, or is another version
//! now, is dropped when read.

use std::path::{Path, PathBuf};

use crate::verify::Sha256;

/// One Node project's platform package placed from a tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// `…/node_modules/@openai/codex-<platform>` (pnpm: inside `.pnpm/`).
    pub package_dir: PathBuf,
    /// Its files are symlinks into the tree.
    pub symlinked: bool,
}

/// `<version dir>/.node-<target>/`.
fn records_dir(tree: &Path) -> Option<PathBuf> {
    let name = tree.file_name()?.to_string_lossy().into_owned();
    Some(tree.parent()?.join(format!(".node-{name}")))
}

/// Record that the platform package at `package_dir` was placed from `tree`.
pub fn record(tree: &Path, package_dir: &Path) -> std::io::Result<()> {
    let Some(dir) = records_dir(tree) else {
        return Ok(());
    };
    crate::fs::create_dirs(&dir)?;
    let bytes = package_dir.as_os_str().as_encoded_bytes();
    let key = Sha256::of(bytes).to_hex();
    crate::fs::write_atomic(&dir.join(&key[..16]), bytes)
}

/// The placements of `tree` still there: the package's `package.json` is `@openai/codex` at
/// the tree's version (`<V>-<platform>`). Stale records are dropped.
pub fn placements(tree: &Path) -> Vec<Placement> {
    let Some(dir) = records_dir(tree) else {
        return Vec::new();
    };
    let version = tree
        .parent()
        .and_then(Path::file_name)
        .map(|v| format!("{}-", v.to_string_lossy()))
        .unwrap_or_default();
    let vendor = tree.file_name().map(|t| Path::new("vendor").join(t));
    let mut out = Vec::new();
    for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let package_dir = std::fs::read(e.path())
            .ok()
            .map(|b| PathBuf::from(String::from_utf8_lossy(&b).into_owned()));
        let live = package_dir
            .as_deref()
            .and_then(placed_version)
            .is_some_and(|v| v.starts_with(&version));
        match package_dir {
            Some(package_dir) if live => {
                let symlinked = vendor
                    .as_ref()
                    .is_some_and(|v| links_into(&package_dir.join(v), tree));
                out.push(Placement {
                    package_dir,
                    symlinked,
                });
            }
            _ => {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    let _ = std::fs::remove_dir(&dir);
    out.sort_by(|a, b| a.package_dir.cmp(&b.package_dir));
    out
}

/// The placements of `tree` that symlink into it.
pub fn symlinked(tree: &Path) -> Vec<PathBuf> {
    placements(tree)
        .into_iter()
        .filter(|p| p.symlinked)
        .map(|p| p.package_dir)
        .collect()
}

/// Drop the records of `tree` (it is being removed).
pub fn forget(tree: &Path) {
    if let Some(dir) = records_dir(tree) {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// The `version` in `package_dir/package.json`, when it is `@openai/codex`'s.
pub fn placed_version(package_dir: &Path) -> Option<String> {
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(package_dir.join("package.json")).ok()?).ok()?;
    (doc.get("name")?.as_str()? == crate::pin::discover::package_json::CODEX_PACKAGE)
        .then_some(())?;
    Some(doc.get("version")?.as_str()?.to_string())
}

/// Whether any file under `dir` (walking it) is a symlink into `tree`.
fn links_into(dir: &Path, tree: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    for e in entries.flatten() {
        let p = e.path();
        let Ok(kind) = e.file_type() else { continue };
        if kind.is_symlink() {
            if std::fs::read_link(&p).is_ok_and(|t| t.starts_with(tree)) {
                return true;
            }
        } else if kind.is_dir() && links_into(&p, tree) {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(dir: &Path, version: &str) {
        std::fs::create_dir_all(dir.join("vendor/x86_64-unknown-linux-musl/bin")).unwrap();
        std::fs::write(
            dir.join("package.json"),
            format!(r#"{{"name":"@openai/codex","version":"{version}"}}"#),
        )
        .unwrap();
    }

    #[test]
    fn records_keep_live_placements_and_drop_stale_ones() {
        let d = tempfile::tempdir().unwrap();
        let tree = d.path().join("runtimes/0.163.0/x86_64-unknown-linux-musl");
        std::fs::create_dir_all(tree.join("bin")).unwrap();
        std::fs::write(tree.join("bin/codex"), "codex").unwrap();
        let copied = d.path().join("a/node_modules/@openai/codex-linux-x64");
        let linked = d.path().join("b/node_modules/@openai/codex-linux-x64");
        let other = d.path().join("c/node_modules/@openai/codex-linux-x64");
        package(&copied, "0.163.0-linux-x64");
        package(&linked, "0.163.0-linux-x64");
        package(&other, "0.163.0-linux-x64");
        std::os::unix::fs::symlink(
            tree.join("bin/codex"),
            linked.join("vendor/x86_64-unknown-linux-musl/bin/codex"),
        )
        .unwrap();
        for p in [&copied, &linked, &other] {
            record(&tree, p).unwrap();
        }
        // `c` has moved on to another version; `d` was deleted.
        package(&other, "0.164.0-linux-x64");
        record(
            &tree,
            &d.path().join("d/node_modules/@openai/codex-linux-x64"),
        )
        .unwrap();

        let found = placements(&tree);
        assert_eq!(
            found,
            vec![
                Placement {
                    package_dir: copied.clone(),
                    symlinked: false
                },
                Placement {
                    package_dir: linked.clone(),
                    symlinked: true
                },
            ]
        );
        assert_eq!(symlinked(&tree), vec![linked]);
        let records = tree
            .parent()
            .unwrap()
            .join(".node-x86_64-unknown-linux-musl");
        assert_eq!(std::fs::read_dir(&records).unwrap().count(), 2);
        forget(&tree);
        assert!(!records.exists());
    }
}
