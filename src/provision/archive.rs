//! `install --archive`: a local file instead of a download, verified against the pins that
//! cover that very file and `--sha256`.

use super::*;

/// `install --archive`: a local file instead of a download.
#[derive(Debug, Clone)]
pub struct LocalArchive {
    pub path: PathBuf,
    pub sha256: Option<crate::verify::Sha256>,
    pub trust: bool,
}

impl LocalArchive {
    /// The asset for this file: its kind from its name, its expected digest from the manifest
    /// that pins that very file (as a GitHub asset or a wheel), else `--sha256`, else (with
    /// `--trust-archive`) whatever it hashes to, recorded as unverified.
    pub(super) fn asset(
        &self,
        ctx: &Context,
        version: &CodexVersion,
    ) -> Result<Asset, ProvisionError> {
        let path = std::path::absolute(&self.path)
            .map_err(|e| ProvisionError::ArchivePath(self.path.clone(), e))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let kind =
            AssetKind::from_name(&name).ok_or_else(|| ProvisionError::NotAnAsset(name.clone()))?;
        // A name that says another version is the first thing wrong with it, before any
        // digest (no pin covers another version's file, and no `--trust-archive` mends it).
        if let Some(found) = version_in_name(&name, kind).filter(|v| v != version) {
            return Err(ProvisionError::ArchiveVersion {
                name,
                found: found.to_string(),
                wanted: version.to_string(),
            });
        }
        let size = std::fs::metadata(&path)
            .map_err(|e| ProvisionError::ReadArchive(path.clone(), e))?
            .len();
        // The pins on this very file, as they compose, then `--sha256`: all must hold.
        let pins = ctx
            .plan_inputs(version, &ctx.target, Pins::Enforce)
            .pins_for(kind, &name)?;
        let mut hashed = None;
        let mut hash = || -> Result<crate::verify::Sha256, ProvisionError> {
            if let Some(h) = hashed {
                return Ok(h);
            }
            let h = crate::verify::hash_file(&path)
                .map_err(|e| ProvisionError::ReadArchive(path.clone(), e))?
                .0;
            hashed = Some(h);
            Ok(h)
        };
        let mut all = Vec::new();
        for p in &pins {
            let e = match p.narrow(None) {
                Some(e) => e,
                // Several accepted digests: the file's own says which one it must be.
                None => {
                    let actual = crate::verify::Digest::Sha256(hash()?);
                    p.narrow(Some(&actual)).unwrap_or(Expected {
                        digest: p.any_of[0],
                        source: p.from.clone(),
                    })
                }
            };
            all.push(e);
        }
        if let Some(sha256) = self.sha256 {
            all.push(Expected::sha256(sha256, DigestSource::Flag));
        }
        let expected = match Expectations::from_vec(all) {
            Some(e) => e,
            None if self.trust => {
                Expectations::one(Expected::sha256(hash()?, DigestSource::Unverified))
            }
            None => return Err(ProvisionError::NoDigest(name)),
        };
        let url = reqwest::Url::from_file_path(&path)
            .map_err(|_| ProvisionError::NotAbsolute(path.clone()))?
            .to_string();
        Ok(Asset {
            name,
            kind,
            size: Some(size),
            url,
            expected,
            source: SourceKind::Archive,
            codex_sha256: None,
            bundle: None,
            rebuilt_from: None,
        })
    }
}

/// The version a wheel's or npm tarball's name carries (`openai_codex_cli_bin-0.163.0-…whl`,
/// `codex-0.163.0-linux-x64.tgz`); release assets name none.
fn version_in_name(name: &str, kind: AssetKind) -> Option<CodexVersion> {
    let spelled = match kind {
        AssetKind::Wheel => name.split('-').nth(1)?,
        AssetKind::NpmTarball => {
            // `codex-<version>-<os>-<arch>.tgz`: the version may hold dashes of its own.
            let stem = name.strip_suffix(".tgz")?.strip_prefix("codex-")?;
            let mut parts = stem.rsplitn(3, '-');
            let (_arch, _os) = (parts.next()?, parts.next()?);
            parts.next()?
        }
        _ => return None,
    };
    CodexVersion::parse(spelled).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_a_file_name_carries() {
        let v = |name: &str, kind| version_in_name(name, kind).map(|v| v.to_string());
        assert_eq!(
            v(
                "openai_codex_cli_bin-0.154.0a6-py3-none-musllinux_1_1_x86_64.whl",
                AssetKind::Wheel
            )
            .as_deref(),
            Some("0.154.0-alpha.6")
        );
        assert_eq!(
            v("codex-0.154.0-alpha.6-linux-x64.tgz", AssetKind::NpmTarball).as_deref(),
            Some("0.154.0-alpha.6")
        );
        assert_eq!(
            v("codex-0.163.0-darwin-arm64.tgz", AssetKind::NpmTarball).as_deref(),
            Some("0.163.0")
        );
        assert_eq!(
            v(
                "codex-package-x86_64-unknown-linux-musl.tar.zst",
                AssetKind::PackageTarZst
            ),
            None
        );
    }
}
