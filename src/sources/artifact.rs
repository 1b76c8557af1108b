//! Whole archives as files, for `pin` and `mirror`: download one, verify it against its
//! expected digest, and read the sha256 of `bin/codex` out of it without unpacking anything else.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::net::{download, Fetched, Http, Progress, Transfer};
use crate::plan::Asset;
use crate::platform::{AssetKind, Target};
use crate::verify::{Digest, HashingReader, Sha256, Sha512};

/// A downloaded, verified archive.
#[derive(Debug, Clone)]
pub struct Fetched256 {
    pub path: PathBuf,
    pub sha256: Sha256,
    pub sha512: Option<Sha512>,
    pub size: u64,
}

/// Download `asset` to `dir/<name>` and check it against its expected digest.
pub async fn fetch_verified(
    http: &Http,
    asset: &Asset,
    dir: &Path,
    progress: &dyn Progress,
) -> Result<Fetched256, String> {
    let dest = dir.join(&asset.name);
    let sha512 = asset.expected.digest.is_sha512();
    let fetched = match crate::net::local_path(&asset.url) {
        Some(path) => {
            let f = download::read_local(&path, sha512, None, progress)
                .await
                .map_err(|e| super::reason_of(&e))?;
            std::fs::copy(&path, &dest)
                .map_err(|e| format!("could not copy `{}`: {e}", path.display()))?;
            f
        }
        None => {
            let url = http.url(&asset.url).map_err(|e| super::reason_of(&e))?;
            let transfer = Transfer {
                url,
                partial: dest.clone(),
                expected_size: asset.size,
                sha512,
            };
            download::fetch(http, &transfer, None, progress)
                .await
                .map_err(|e| super::reason_of(&e))?
        }
    };
    let Fetched::Complete {
        sha256,
        sha512,
        size,
    } = fetched
    else {
        download::discard_partial(&dest);
        return Err(format!("the server kept restarting `{}`", asset.url));
    };
    if !asset.expected.digest.matches(&sha256, sha512.as_ref()) {
        download::discard_partial(&dest);
        let actual = match (asset.expected.digest, sha512) {
            (Digest::Sha512(_), Some(d)) => Digest::Sha512(d),
            _ => Digest::Sha256(sha256),
        };
        return Err(format!(
            "checksum mismatch for `{}`: expected {} (from {}), got {actual}",
            asset.name, asset.expected.digest, asset.expected.source
        ));
    }
    Ok(Fetched256 {
        path: dest,
        sha256,
        sha512,
        size,
    })
}

/// The sha256 of the archive's `bin/codex` (`bin/codex.exe` on Windows), read in one pass.
pub fn codex_sha256(file: &Path, kind: AssetKind, target: &Target) -> Result<Sha256, String> {
    let exe = target.exe_name("codex");
    let err = |e: std::io::Error| format!("could not read `{}`: {e}", file.display());
    let open = || std::fs::File::open(file).map_err(err);
    let hash = |r: &mut dyn Read| -> Result<Sha256, String> {
        Ok(HashingReader::new(r).finish().map_err(err)?.0)
    };
    let tar_member = |reader: Box<dyn Read>, wanted: String| -> Result<Sha256, String> {
        let mut archive = tar::Archive::new(reader);
        for entry in archive.entries().map_err(err)? {
            let mut entry = entry.map_err(err)?;
            let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            if path.trim_start_matches("./") == wanted {
                return hash(&mut entry);
            }
        }
        Err(format!("`{}` has no `{wanted}`", file.display()))
    };
    match kind {
        AssetKind::Wheel | AssetKind::LegacyZip => {
            let mut zip = zip::ZipArchive::new(std::io::BufReader::new(open()?))
                .map_err(|e| format!("`{}` is not a zip: {e}", file.display()))?;
            let wanted = if kind == AssetKind::Wheel {
                format!("codex_cli_bin/bin/{exe}")
            } else {
                // The legacy Windows zip holds one executable.
                (0..zip.len())
                    .find_map(|i| {
                        zip.by_index(i)
                            .ok()
                            .and_then(|e| e.name().ok().map(|n| n.to_string()))
                            .filter(|n| n.ends_with(".exe"))
                    })
                    .unwrap_or_default()
            };
            let mut entry = zip
                .by_name(&wanted)
                .map_err(|_| format!("`{}` has no `{wanted}`", file.display()))?;
            hash(&mut entry)
        }
        AssetKind::NpmTarball => tar_member(
            Box::new(flate2::read::GzDecoder::new(std::io::BufReader::new(
                open()?
            ))),
            format!("package/vendor/{target}/bin/{exe}"),
        ),
        AssetKind::PackageTarGz => tar_member(
            Box::new(flate2::read::GzDecoder::new(std::io::BufReader::new(
                open()?
            ))),
            format!("bin/{exe}"),
        ),
        AssetKind::PackageTarZst => tar_member(
            Box::new(
                zstd::stream::read::Decoder::new(open()?)
                    .map_err(|e| format!("`{}` is not zstd: {e}", file.display()))?,
            ),
            format!("bin/{exe}"),
        ),
        AssetKind::LegacyTarGz => tar_member(
            Box::new(flate2::read::GzDecoder::new(std::io::BufReader::new(
                open()?
            ))),
            format!("codex-{target}"),
        ),
    }
}
