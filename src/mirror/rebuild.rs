//! A layer rebuilt from a wheel or an npm tarball: the verified package tree, unpacked through
//! the install's defensive unpacker and its layout checked as an install would, written as a
//! deterministic `tar+zstd` so every push of a version gives one layer digest.

use std::path::Path;

use crate::oci::layer::Facts;
use crate::platform::{AssetKind, Target};
use crate::verify::{Hasher, Sha256};

/// A layer rebuilt from a wheel or an npm tarball: a deterministic `tar+zstd` of the verified
/// codex-package tree.
#[derive(Debug)]
pub struct Rebuilt {
    pub path: std::path::PathBuf,
    /// sha256 of the compressed layer (its digest) and its size.
    pub sha256: Sha256,
    pub size: u64,
    pub facts: Facts,
}

/// Rebuilding a layer failed.
#[derive(Debug, thiserror::Error)]
pub enum RebuildError {
    #[error(transparent)]
    Unpack(#[from] crate::unpack::UnpackError),
    #[error("could not write the rebuilt layer `{}`", .0.display())]
    Write(std::path::PathBuf, #[source] std::io::Error),
    #[error("`{0}` holds no codex-package tree")]
    NotAPackage(String),
}

/// The fixed modification time of every entry of a rebuilt layer (the one npm's tarballs use).
pub const REBUILT_MTIME: u64 = 499_162_500;
/// The zstd level of a rebuilt layer: zstd's default, fast; the output is the same for the
/// same input, level and zstd version (one thread, no dictionary).
const REBUILT_ZSTD_LEVEL: i32 = 3;

/// Unpack the verified wheel or npm tarball at `archive` (its package tree only: the wheel's
/// `codex_cli_bin/` without the Python module's files, the tarball's `package/vendor/<target>/`)
/// through the install's defensive unpacker into `work/tree`, check its layout as an install
/// would, and write `work/layer.tar.zst`: every entry sorted by path, directories first as
/// their own entries, mtime [`REBUILT_MTIME`], uid/gid 0 with no user or group names, modes
/// 0755 (directories, executables) or 0644, symlinks as they are, no extended attributes. The
/// same archive gives the same bytes, so two pushes give one layer digest.
pub fn rebuild(
    archive: &Path,
    kind: AssetKind,
    version: &crate::pin::CodexVersion,
    target: &Target,
    work: &Path,
) -> Result<Rebuilt, RebuildError> {
    use crate::unpack::{self, Limits};
    let name = archive.display().to_string();
    let tree = work.join("tree");
    let write_err = |p: &Path| {
        let p = p.to_path_buf();
        move |e| RebuildError::Write(p, e)
    };
    std::fs::create_dir_all(&tree).map_err(write_err(&tree))?;
    let root = kind.member_root(target);
    let open = || std::fs::File::open(archive).map_err(write_err(archive));
    let mut unpacked = match kind {
        AssetKind::Wheel => {
            unpack::unpack_zip(&open()?, &tree, Limits::default(), root.as_deref())?
        }
        AssetKind::NpmTarball => {
            unpack::unpack_stream(kind, open()?, &tree, Limits::default(), root.as_deref())?
        }
        _ => return Err(RebuildError::NotAPackage(name)),
    };
    let layout = crate::package::validate_layout(
        &tree,
        &mut unpacked,
        AssetKind::PackageTarZst,
        version,
        target,
    )?;
    let codex_sha256 = unpacked
        .files
        .iter()
        .find(|f| f.path == layout.entrypoint)
        .map(|f| f.sha256);
    let mut entries = Vec::new();
    walk(&tree, &tree, &mut entries).map_err(write_err(&tree))?;
    entries.sort();
    let out = work.join("layer.tar.zst");
    let file = std::fs::File::create(&out).map_err(write_err(&out))?;
    let compressed = HashWriter {
        inner: std::io::BufWriter::with_capacity(1 << 20, file),
        hasher: Hasher::new(),
    };
    let encoder = zstd::stream::write::Encoder::new(compressed, REBUILT_ZSTD_LEVEL)
        .map_err(write_err(&out))?;
    let tar_stream = HashWriter {
        inner: encoder,
        hasher: Hasher::new(),
    };
    let executable: std::collections::BTreeSet<&str> = unpacked
        .files
        .iter()
        .filter(|f| f.executable)
        .map(|f| f.path.as_str())
        .collect();
    let mut builder = tar::Builder::new(tar_stream);
    builder.mode(tar::HeaderMode::Deterministic);
    for rel in &entries {
        let exec = executable.contains(rel.as_str());
        append(&mut builder, &tree, rel, exec).map_err(write_err(&out))?;
    }
    let tar_stream = builder.into_inner().map_err(write_err(&out))?;
    let diff_id = tar_stream.hasher.finish().0;
    let mut compressed = tar_stream.inner.finish().map_err(write_err(&out))?;
    std::io::Write::flush(&mut compressed.inner).map_err(write_err(&out))?;
    let (sha256, size) = compressed.hasher.finish();
    // The tree was only the layer's source.
    let _ = std::fs::remove_dir_all(&tree);
    Ok(Rebuilt {
        path: out,
        sha256,
        size,
        facts: Facts {
            diff_id: format!("sha256:{}", diff_id.to_hex()),
            codex_sha256,
        },
    })
}

/// Every entry under `dir`, relative to `root` with `/`, directories with a trailing `/`.
fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let rel = path
            .strip_prefix(root)
            .map_err(std::io::Error::other)?
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        if entry.file_type()?.is_dir() {
            out.push(format!("{rel}/"));
            walk(root, &path, out)?;
        } else {
            out.push(rel);
        }
    }
    Ok(())
}

/// One entry, its header made from what the layer keeps of it (type, size, the executable bit
/// the unpack recorded, link target) and nothing else.
fn append<W: std::io::Write>(
    builder: &mut tar::Builder<W>,
    root: &Path,
    rel: &str,
    executable: bool,
) -> std::io::Result<()> {
    let path = root.join(rel.trim_end_matches('/'));
    let meta = std::fs::symlink_metadata(&path)?;
    let mut h = tar::Header::new_gnu();
    h.set_mtime(REBUILT_MTIME);
    h.set_uid(0);
    h.set_gid(0);
    if meta.file_type().is_symlink() {
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_mode(0o777);
        h.set_size(0);
        let target = std::fs::read_link(&path)?;
        builder.append_link(&mut h, rel, target)
    } else if meta.is_dir() {
        h.set_entry_type(tar::EntryType::Directory);
        h.set_mode(0o755);
        h.set_size(0);
        builder.append_data(&mut h, rel, std::io::empty())
    } else {
        h.set_entry_type(tar::EntryType::Regular);
        h.set_mode(if executable { 0o755 } else { 0o644 });
        h.set_size(meta.len());
        builder.append_data(&mut h, rel, std::fs::File::open(&path)?)
    }
}

/// A writer that hashes everything written through it.
struct HashWriter<W> {
    inner: W,
    hasher: Hasher,
}

impl<W: std::io::Write> std::io::Write for HashWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
