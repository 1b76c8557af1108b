//! Wheel trees: the wheel pip or uv would choose for an interpreter, unpacked whole into the
//! store (`<data>/wheels/<tag>/<version>/<target>/`, see [`crate::store::layout`]) so that
//! `install --python` links its files into environments instead of copying them.
//!
//! A tree holds exactly what the wheel holds: `codex_cli_bin/` (the runtime package and the
//! wheel's own `__init__.py`) and `openai_codex_cli_bin-<v>.dist-info/` (METADATA, WHEEL with
//! its tag, RECORD), plus the receipt. It is published by the same pipeline as every runtime
//! (one pass of download, hash and unpack; the archive digest, `bin/codex` against the
//! manifest's `codex_sha256`, `codex --version`, fsyncs, one rename), and checked once more
//! by [`crate::package::validate_wheel_tree`]: every file the wheel's RECORD lists is the file
//! that was unpacked.
//!
//! Its files are made read-only: environments share them by hard link, and a write through an
//! environment must fail rather than change the store. Environments that link to it by
//! symlink are recorded in `.links-<target>/` beside it, so `prune` and `uninstall` keep a tree
//! that an environment still points into.

use std::path::{Path, PathBuf};

use crate::store::receipt::FileRecord;
use crate::store::InstalledRuntime;
use crate::verify::Sha256;

/// The module directory every runtime wheel carries.
pub const MODULE_DIR: &str = "codex_cli_bin";

/// The `*.dist-info` directory that holds a RECORD among `paths`.
pub fn dist_info_of<'a>(mut paths: impl Iterator<Item = &'a str>) -> Option<String> {
    paths.find_map(|p| {
        p.strip_suffix("/RECORD")
            .filter(|d| d.ends_with(".dist-info") && !d.contains('/'))
            .map(str::to_string)
    })
}

/// `(path, base64url sha256)` of every line of a RECORD (quoted paths unquoted).
pub fn parse_record(text: &str) -> Vec<(String, Option<String>)> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| {
            let mut parts = l.rsplitn(3, ',');
            let _size = parts.next()?;
            let hash = parts.next()?;
            let path = parts.next()?;
            let path = match path.strip_prefix('"').and_then(|p| p.strip_suffix('"')) {
                Some(q) => q.replace("\"\"", "\""),
                None => path.to_string(),
            };
            let hash = hash.strip_prefix("sha256=").map(str::to_string);
            Some((path, hash))
        })
        .collect()
}

/// Make every file of a staged tree read-only (the receipt is written after this). Best
/// effort: a file system without modes still gets its hashes checked.
pub fn make_read_only(pkg: &Path, files: &[FileRecord]) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for f in files {
            let mode = if f.executable { 0o555 } else { 0o444 };
            let _ =
                std::fs::set_permissions(pkg.join(&f.path), std::fs::Permissions::from_mode(mode));
        }
    }
    #[cfg(not(unix))]
    for f in files {
        let p = pkg.join(&f.path);
        if let Ok(m) = std::fs::metadata(&p) {
            let mut perms = m.permissions();
            perms.set_readonly(true);
            let _ = std::fs::set_permissions(&p, perms);
        }
    }
}

/// How a wheel tree differs from what was published.
#[derive(Debug, thiserror::Error)]
pub enum TreeChange {
    #[error("its receipt is unreadable: {0}")]
    Receipt(std::io::Error),
    #[error("its RECORD: {0}")]
    Record(std::io::Error),
    #[error("`{0}` is missing")]
    Missing(String),
    #[error("`{0}` changed size")]
    Resized(String),
    #[error("`{0}` was written after it was installed")]
    WrittenAfter(String),
}

/// The fix is the tree's reinstall, which the error that carries this names.
impl crate::error::Hint for TreeChange {
    fn hint(&self) -> Option<String> {
        None
    }
}

/// A quick check, without hashing, that nothing wrote to a tree since it was published: every
/// file has its recorded size and is no newer than the receipt. `install --verify` and
/// `doctor` re-hash every file.
pub fn looks_untouched(tree: &InstalledRuntime) -> Result<(), TreeChange> {
    let receipt = tree.dir.join(crate::store::RECEIPT_NAME);
    let published = std::fs::metadata(&receipt)
        .and_then(|m| m.modified())
        .map_err(TreeChange::Receipt)?;
    for f in &tree.receipt.files {
        let p = tree.dir.join(&f.path);
        let m = std::fs::symlink_metadata(&p).map_err(|_| TreeChange::Missing(f.path.clone()))?;
        if m.len() != f.size {
            return Err(TreeChange::Resized(f.path.clone()));
        }
        if m.modified().is_ok_and(|t| t > published) {
            return Err(TreeChange::WrittenAfter(f.path.clone()));
        }
    }
    Ok(())
}

/// The RECORD of the tree's wheel, as the tree holds it.
pub fn wheel_record(tree: &InstalledRuntime) -> std::io::Result<(String, String)> {
    let dist_info =
        dist_info_of(tree.receipt.files.iter().map(|f| f.path.as_str())).ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::NotFound, "no *.dist-info/RECORD")
        })?;
    let text = std::fs::read_to_string(tree.dir.join(&dist_info).join("RECORD"))?;
    Ok((dist_info, text))
}

/// The platform tag of the tree (its store's), from its directory.
pub fn tag_of(tree: &InstalledRuntime) -> Option<String> {
    tree.dir
        .parent()?
        .parent()?
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
}

/// `<version dir>/.links-<target>/`: environments that symlink into `tree`.
fn links_dir(tree: &Path) -> Option<PathBuf> {
    let name = tree.file_name()?.to_string_lossy().into_owned();
    Some(tree.parent()?.join(format!(".links-{name}")))
}

/// Record that the environment at `site` symlinks into `tree`.
pub fn record_link(tree: &Path, site: &Path) -> std::io::Result<()> {
    let Some(dir) = links_dir(tree) else {
        return Ok(());
    };
    crate::fs::create_dirs(&dir)?;
    let key = Sha256::of(site.as_os_str().as_encoded_bytes()).to_hex();
    crate::fs::write_atomic(&dir.join(&key[..16]), site.as_os_str().as_encoded_bytes())
}

/// The environments (site-packages directories) that still symlink into `tree`: recorded
/// ones whose `codex_cli_bin/` entries still resolve into it. Stale records are dropped.
pub fn linked_environments(tree: &Path) -> Vec<PathBuf> {
    let Some(dir) = links_dir(tree) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let site = std::fs::read(e.path())
            .ok()
            .map(|b| PathBuf::from(String::from_utf8_lossy(&b).into_owned()));
        let linked = site.as_ref().is_some_and(|s| {
            std::fs::read_link(s.join(MODULE_DIR).join("__init__.py"))
                .is_ok_and(|t| t.starts_with(tree))
        });
        match site {
            Some(s) if linked => out.push(s),
            _ => {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    let _ = std::fs::remove_dir(&dir);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_lines_are_parsed_with_quotes() {
        let r =
            "codex_cli_bin/__init__.py,sha256=abc,10\n\"a,b\",sha256=d,1\nx.dist-info/RECORD,,\n";
        assert_eq!(
            parse_record(r),
            vec![
                ("codex_cli_bin/__init__.py".into(), Some("abc".into())),
                ("a,b".into(), Some("d".into())),
                ("x.dist-info/RECORD".into(), None),
            ]
        );
        assert_eq!(
            dist_info_of(["codex_cli_bin/x", "o-1.dist-info/RECORD"].into_iter()),
            Some("o-1.dist-info".into())
        );
    }
}
