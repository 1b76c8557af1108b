//! What an image needs to know of its layer, read in one pass over the decompressed tar: the
//! `diff_id` (sha256 of the uncompressed tar, which the config lists and runtimes check on
//! unpack) and the sha256 of `bin/codex` (annotated, and checked against any pin).

use std::io::Read;
use std::path::Path;

use crate::platform::{AssetKind, Target};
use crate::verify::{Hasher, Sha256};

/// The layer media type of an archive that can be a layer as it is: the package layout
/// (its tree at the image root) in zstd or gzip.
pub fn media_type(kind: AssetKind) -> Option<&'static str> {
    match kind {
        AssetKind::PackageTarZst => Some(super::image::LAYER_ZSTD),
        AssetKind::PackageTarGz => Some(super::image::LAYER_GZIP),
        _ => None,
    }
}

/// A layer's facts.
#[derive(Debug, Clone)]
pub struct Facts {
    /// `sha256:<hex>` of the uncompressed tar.
    pub diff_id: String,
    /// sha256 of `bin/codex[.exe]`, when the tar has it.
    pub codex_sha256: Option<Sha256>,
}

/// A reader that hashes everything read through it.
struct Tee<R> {
    inner: R,
    hasher: Hasher,
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// Read the archive at `path` (a package `.tar.zst` or `.tar.gz`) once.
pub fn inspect(path: &Path, kind: AssetKind, target: &Target) -> std::io::Result<Facts> {
    let file = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(path)?);
    let decoded: Box<dyn Read> = match kind {
        AssetKind::PackageTarZst => Box::new(zstd::stream::read::Decoder::with_buffer(file)?),
        _ => Box::new(flate2::read::GzDecoder::new(file)),
    };
    let mut tee = Tee {
        inner: decoded,
        hasher: Hasher::new(),
    };
    let want = format!("bin/{}", target.exe_name("codex"));
    let mut codex_sha256 = None;
    {
        let mut archive = tar::Archive::new(&mut tee);
        for entry in archive.entries()? {
            let mut entry = entry?;
            let path = entry
                .path()?
                .to_string_lossy()
                .trim_start_matches("./")
                .to_string();
            if path == want && entry.header().entry_type().is_file() {
                let mut h = Hasher::new();
                let mut buf = vec![0u8; 1 << 16];
                loop {
                    let n = entry.read(&mut buf)?;
                    if n == 0 {
                        break;
                    }
                    h.update(&buf[..n]);
                }
                codex_sha256 = Some(h.finish().0);
            }
        }
    }
    // The tar's end padding, and anything after it, are part of the layer too.
    std::io::copy(&mut tee, &mut std::io::sink())?;
    Ok(Facts {
        diff_id: format!("sha256:{}", tee.hasher.finish().0.to_hex()),
        codex_sha256,
    })
}
