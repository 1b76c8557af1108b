//! Whole archives as files, for `pin` and `mirror`: download one, verify it against its
//! expected digest, and read the sha256 of `bin/codex` out of it without unpacking anything else.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::Hint;
use crate::net::{download, Fetched, Http, NetError, Progress, Transfer};
use crate::plan::Asset;
use crate::platform::{AssetKind, Target};
use crate::verify::{DigestMismatch, HashingReader, Sha256, Sha512};

/// A whole archive could not be fetched, verified or read.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    #[error("checksum mismatch for `{name}`: {mismatch}")]
    Mismatch {
        name: String,
        #[source]
        mismatch: Box<DigestMismatch>,
    },
    #[error("the server kept restarting `{url}`")]
    Unstable { url: crate::redact::DisplayUrl },
    #[error("could not read `{}`", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{}` is not a {what}: {reason}", .path.display())]
    NotAnArchive {
        path: PathBuf,
        what: &'static str,
        reason: String,
    },
    #[error("`{}` has no `{member}`", .path.display())]
    NoMember { path: PathBuf, member: String },
    #[error(transparent)]
    Name(#[from] crate::remote::RemoteError),
    #[error(transparent)]
    Net(#[from] NetError),
}

impl Hint for ArtifactError {
    fn hint(&self) -> Option<String> {
        match self {
            ArtifactError::Mismatch { .. } => Some("nothing was kept: if the pin is stale, re-pin with `codex-bootstrap pin`; otherwise check your mirror or proxy for tampering".into()),
            ArtifactError::Unstable { .. } => Some("the server ignores range requests and changes its content; try again later".into()),
            ArtifactError::Read { .. } => Some("check that the directory is readable and the disk is not full".into()),
            ArtifactError::NotAnArchive { .. } | ArtifactError::NoMember { .. } => Some("the archive is not a Codex runtime; check where it came from".into()),
            ArtifactError::Name(e) => e.hint(),
            ArtifactError::Net(e) => e.hint(),
        }
    }
}

/// A downloaded, verified archive.
#[derive(Debug, Clone)]
pub struct Fetched256 {
    pub path: PathBuf,
    pub sha256: Sha256,
    pub sha512: Option<Sha512>,
    pub size: u64,
}

/// Download `asset` to `dir/<name>` and check it against every digest it must have.
pub(crate) async fn fetch_verified(
    http: &Http,
    asset: &Asset,
    dir: &Path,
    progress: &dyn Progress,
) -> Result<Fetched256, ArtifactError> {
    // The sources vet names where they enter; this is the last line before one is a path.
    let dest = dir.join(crate::remote::file_name(
        &crate::redact::DisplayUrl::new(&asset.url).to_string(),
        &asset.name,
    )?);
    let sha512 = asset.expected.needs_sha512();
    let fetched = match asset.local_path() {
        Some(path) => {
            let f = download::read_local(&path, sha512, download::Sink::None, progress).await?;
            std::fs::copy(&path, &dest).map_err(|source| ArtifactError::Read {
                path: path.clone(),
                source,
            })?;
            f
        }
        None => {
            let transfer = Transfer {
                url: http.url(&asset.url)?,
                partial: dest.clone(),
                expected_size: asset.size,
                sha512,
            };
            download::fetch(http, &transfer, download::Sink::None, progress).await?
        }
    };
    let Fetched::Complete {
        sha256,
        sha512,
        size,
    } = fetched
    else {
        download::discard_partial(&dest);
        return Err(ArtifactError::Unstable {
            url: (&asset.url).into(),
        });
    };
    if let Err(mismatch) = asset.expected.check(&sha256, sha512.as_ref()) {
        download::discard_partial(&dest);
        return Err(ArtifactError::Mismatch {
            name: asset.name.clone(),
            mismatch,
        });
    }
    Ok(Fetched256 {
        path: dest,
        sha256,
        sha512,
        size,
    })
}

/// What a wheel says of its `bin/codex` and what it holds: the sha256 of its bytes, and the
/// one its RECORD lists for it (`None` when RECORD lists none, or more than one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WheelCodex {
    pub sha256: Sha256,
    pub recorded: Option<Sha256>,
}

/// Hash a wheel's `codex_cli_bin/bin/codex` and read the digest its RECORD lists for it.
pub(crate) fn wheel_codex(file: &Path, target: &Target) -> Result<WheelCodex, ArtifactError> {
    let sha256 = codex_sha256(file, AssetKind::Wheel, target)?;
    let err = |source: std::io::Error| ArtifactError::Read {
        path: file.to_path_buf(),
        source,
    };
    let opened = std::fs::File::open(file).map_err(err)?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(opened)).map_err(|e| {
        ArtifactError::NotAnArchive {
            path: file.to_path_buf(),
            what: "zip",
            reason: e.to_string(),
        }
    })?;
    let names: Vec<String> = zip
        .file_names()
        .filter_map(|n| n.ok().map(std::borrow::Cow::into_owned))
        .collect();
    let record = crate::store::wheel_tree::dist_info_of(names.iter().map(String::as_str))
        .map(|d| format!("{d}/RECORD"))
        .ok_or_else(|| ArtifactError::NoMember {
            path: file.to_path_buf(),
            member: "*.dist-info/RECORD".into(),
        })?;
    let mut text = String::new();
    zip.by_name(&record)
        .map_err(|_| ArtifactError::NoMember {
            path: file.to_path_buf(),
            member: record.clone(),
        })?
        .read_to_string(&mut text)
        .map_err(err)?;
    let member = format!(
        "{}/bin/{}",
        crate::store::wheel_tree::MODULE_DIR,
        target.exe_name("codex")
    );
    let lines = crate::store::wheel_tree::record_lines(&text);
    let mut listed = lines.iter().filter(|l| l.path == member);
    let recorded = match (listed.next(), listed.next()) {
        (Some(line), None) => line.sha256,
        _ => None,
    };
    Ok(WheelCodex { sha256, recorded })
}

/// The sha256 of the archive's `bin/codex` (`bin/codex.exe` on Windows), read in one pass.
pub(crate) fn codex_sha256(
    file: &Path,
    kind: AssetKind,
    target: &Target,
) -> Result<Sha256, ArtifactError> {
    let exe = target.exe_name("codex");
    let err = |source: std::io::Error| ArtifactError::Read {
        path: file.to_path_buf(),
        source,
    };
    let open = || std::fs::File::open(file).map_err(err);
    let hash = |r: &mut dyn Read| -> Result<Sha256, ArtifactError> {
        Ok(HashingReader::new(r).finish().map_err(err)?.0)
    };
    let no_member = |member: String| ArtifactError::NoMember {
        path: file.to_path_buf(),
        member,
    };
    let not_an = |what: &'static str, reason: String| ArtifactError::NotAnArchive {
        path: file.to_path_buf(),
        what,
        reason,
    };
    let tar_member = |reader: Box<dyn Read>, wanted: String| -> Result<Sha256, ArtifactError> {
        let mut archive = tar::Archive::new(reader);
        for entry in archive.entries().map_err(err)? {
            let mut entry = entry.map_err(err)?;
            let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            if path.trim_start_matches("./") == wanted {
                return hash(&mut entry);
            }
        }
        Err(no_member(wanted))
    };
    match kind {
        AssetKind::Wheel | AssetKind::LegacyZip => {
            let mut zip = zip::ZipArchive::new(std::io::BufReader::new(open()?))
                .map_err(|e| not_an("zip", e.to_string()))?;
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
                .map_err(|_| no_member(wanted.clone()))?;
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
                    .map_err(|e| not_an("zstd stream", e.to_string()))?,
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
