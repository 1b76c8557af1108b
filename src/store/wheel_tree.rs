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

/// One line of a RECORD, its digest and size kept only when well formed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordLine {
    pub path: String,
    /// `sha256=` and 43 characters of unpadded base64url that decode to 32 bytes.
    pub sha256: Option<Sha256>,
    /// Decimal digits only.
    pub size: Option<u64>,
}

/// Every line of a RECORD with its digest and size ([`RecordLine`]).
pub fn record_lines(text: &str) -> Vec<RecordLine> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| {
            let mut parts = l.rsplitn(3, ',');
            let size = parts.next()?;
            let hash = parts.next()?;
            let path = unquote(parts.next()?);
            Some(RecordLine {
                path,
                sha256: hash
                    .strip_prefix("sha256=")
                    .and_then(Sha256::from_base64url),
                size: (!size.is_empty() && size.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| size.parse().ok())
                    .flatten(),
            })
        })
        .collect()
}

/// A RECORD path, its CSV quotes removed.
fn unquote(path: &str) -> String {
    match path.strip_prefix('"').and_then(|p| p.strip_suffix('"')) {
        Some(q) => q.replace("\"\"", "\""),
        None => path.to_string(),
    }
}

/// `(path, base64url sha256)` of every line of a RECORD (quoted paths unquoted).
pub fn parse_record(text: &str) -> Vec<(String, Option<String>)> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| {
            let mut parts = l.rsplitn(3, ',');
            let _size = parts.next()?;
            let hash = parts.next()?;
            let path = unquote(parts.next()?);
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
    #[error("its RECORD: {0}")]
    Record(std::io::Error),
    #[error("{0}")]
    Changed(#[from] crate::store::layout::IntegrityError),
}

/// The fix is the tree's reinstall, which the error that carries this names.
impl crate::error::Hint for TreeChange {
    fn hint(&self) -> Option<String> {
        None
    }
}

/// Check, before linking its files into an environment, that a tree is what was published:
/// every file is its recorded size and sha256.
///
/// Sizes and mtimes are no proof: through a venv's hard link the owner can `chmod u+w`,
/// rewrite a file at the same size and put mode and mtime back. Its ctime they cannot put
/// back, but a hard link made or removed (every `install --python` with hard links, every
/// venv deleted) changes it too, so ctime alone cannot tell a tampered file from a linked
/// one. So: a tree whose files' inode, size and ctime are all as they were when it last
/// matched its receipt (the stamp, [`stamp_verified`]) is taken as it is (a stat per file);
/// any other is re-hashed in full (0.4 to 0.8 s for the real
/// runtime's 360 MB on two cores, against 11 µs for the stamp) and stamped again.
/// `install --verify` and `doctor` always re-hash.
pub fn check_untouched(tree: &InstalledRuntime) -> Result<(), TreeChange> {
    let stamp = stamp_path(&tree.dir);
    if let (Some(now), Some(path)) = (stamp_of(tree), &stamp) {
        if read_stamp(path).as_deref() == Some(now.as_str()) {
            return Ok(());
        }
    }
    tracing::debug!(tree = %tree.dir.display(), "re-hashing the wheel tree before linking it");
    tree.verify_files()?;
    stamp_verified(tree);
    Ok(())
}

/// Record the inode, size and ctime of every file of `tree`, whose files were just found (or
/// written) to be the receipt's: the stamp [`check_untouched`] compares with. Best effort:
/// without a stamp, the next check re-hashes.
pub fn stamp_verified(tree: &InstalledRuntime) {
    let (Some(path), Some(stamp)) = (stamp_path(&tree.dir), stamp_of(tree)) else {
        return;
    };
    // A cache of a check, not data: no fsync; a torn one only costs a re-hash.
    let written = path
        .parent()
        .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))
        .and_then(tempfile::NamedTempFile::new_in)
        .and_then(|mut tmp| {
            std::io::Write::write_all(&mut tmp, stamp.as_bytes())?;
            tmp.persist(&path).map_err(|e| e.error)
        });
    if let Err(e) = written {
        tracing::debug!("could not stamp the wheel tree: {e}");
    }
}

/// Forget the stamp of the tree at `tree` (removed, or never one).
pub fn remove_stamp(tree: &Path) {
    if let Some(p) = stamp_path(tree) {
        let _ = std::fs::remove_file(p);
    }
}

/// `<version dir>/.checked-<target>`: the stamp of the tree at `<version dir>/<target>`.
fn stamp_path(tree: &Path) -> Option<PathBuf> {
    let name = tree.file_name()?.to_string_lossy().into_owned();
    Some(tree.parent()?.join(format!(".checked-{name}")))
}

/// A stamp is small; one that is not is not ours.
fn read_stamp(path: &Path) -> Option<String> {
    let mut text = String::new();
    let f = std::fs::File::open(path).ok()?;
    std::io::Read::read_to_string(&mut std::io::Read::take(f, 1 << 20), &mut text).ok()?;
    Some(text)
}

/// One line per file: path, inode, size, ctime. None where ctime is not available (not Unix)
/// or a file is not there (then the re-hash names it).
fn stamp_of(tree: &InstalledRuntime) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let mut out = String::new();
        for f in &tree.receipt.files {
            let m = std::fs::symlink_metadata(tree.dir.join(&f.path)).ok()?;
            out.push_str(&format!(
                "{}\t{}\t{}\t{}.{:09}\n",
                f.path,
                m.ino(),
                m.len(),
                m.ctime(),
                m.ctime_nsec()
            ));
        }
        Some(out)
    }
    #[cfg(not(unix))]
    {
        let _ = tree;
        None
    }
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
    fn record_lines_keep_only_well_formed_digests_and_sizes() {
        let d = Sha256::of(b"x");
        let r = format!(
            "a,sha256={},1\n\"b,c\",sha256={},12\nd,sha256=short,1\ne,md5={},1\nf,sha256={},1k\nx.dist-info/RECORD,,\n",
            d.to_base64url(),
            d.to_base64url(),
            d.to_base64url(),
            d.to_base64url()
        );
        let lines = record_lines(&r);
        let got: Vec<_> = lines
            .iter()
            .map(|l| (l.path.as_str(), l.sha256, l.size))
            .collect();
        assert_eq!(
            got,
            [
                ("a", Some(d), Some(1)),
                ("b,c", Some(d), Some(12)),
                ("d", None, Some(1)),
                ("e", None, Some(1)),
                ("f", Some(d), None),
                ("x.dist-info/RECORD", None, None),
            ]
        );
    }

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
