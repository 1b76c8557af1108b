//! A plan is plain data: which version, for which target, which asset from which URL, and the
//! digest it must have with where that digest came from. `--dry-run` and `--json` print it
//! before anything is downloaded.
//!
//! Planning is two steps. [`Plan::offline`] needs no network: with a pinned digest it is already
//! complete, otherwise it lists the candidates and the one API URL that will settle them.
//! [`Plan::settle`] makes that one request (and fetches `codex-package_SHA256SUMS` only when the
//! chosen asset has no API digest of its own).

use std::fmt;

use serde::Serialize;

use crate::error::Hint;
use crate::github::{Github, GithubError, Release};
use crate::net::NetError;
use crate::pin::{CodexVersion, Pin, PinSource};
use crate::platform::{AssetKind, Target};
use crate::verify::{
    parse_sha256sums, DigestSource, Expected, Sha256, SumsError, SHA256SUMS_ASSET,
};

/// One place the runtime can come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// `--mirror`: a directory or URL in GitHub's release-download layout.
    Mirror,
    Github,
    PythonIndex,
    Npm,
    /// `install --archive`: a local file.
    Archive,
}

impl SourceKind {
    pub fn name(self) -> &'static str {
        match self {
            SourceKind::Mirror => "mirror",
            SourceKind::Github => "github",
            SourceKind::PythonIndex => "python-index",
            SourceKind::Npm => "npm",
            SourceKind::Archive => "archive",
        }
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where release files come from.
#[derive(Debug, Clone, Serialize)]
pub struct Sources {
    /// `{base}/{tag}/{asset}`: GitHub's release downloads or a mirror (`file://` allowed).
    pub download_base: String,
    pub mirror: bool,
    pub api_url: String,
}

impl Sources {
    /// The source these URLs belong to.
    pub fn kind(&self) -> SourceKind {
        if self.mirror {
            SourceKind::Mirror
        } else {
            SourceKind::Github
        }
    }

    pub fn asset_url(&self, tag: &str, asset: &str) -> String {
        format!("{}/{tag}/{asset}", self.download_base.trim_end_matches('/'))
    }
}

/// The asset to fetch, settled.
#[derive(Debug, Clone, Serialize)]
pub struct Asset {
    pub name: String,
    pub kind: AssetKind,
    pub size: Option<u64>,
    pub url: String,
    pub expected: Expected,
    /// Which source serves it.
    pub source: SourceKind,
}

/// What is known before the network is asked.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum Choice {
    /// The manifest pins the asset and its digest: no API request at all.
    Pinned(Asset),
    /// One API request settles it: the first candidate the release has with a trustworthy digest.
    FromRelease {
        api_url: String,
        candidates: Vec<(String, AssetKind)>,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub version: CodexVersion,
    pub tag: String,
    pub target: Target,
    pub pin_source: PinSource,
    pub sources: Sources,
    pub choice: Choice,
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("release `{tag}` has no runtime asset for `{target}` (looked for {})", candidates.join(", "))]
    NoAsset {
        tag: String,
        target: Target,
        candidates: Vec<String>,
    },
    #[error("no trustworthy sha256 for `{asset}` in release `{tag}`: GitHub publishes no digest for it, and no {SHA256SUMS_ASSET} with a digest of its own lists it")]
    NoDigest { tag: String, asset: String },
    #[error("{SHA256SUMS_ASSET} of `{tag}` does not match GitHub's digest for it (expected {expected}, got {actual})")]
    SumsMismatch {
        tag: String,
        expected: Sha256,
        actual: Sha256,
    },
    #[error("GitHub's digest for `{asset}` is malformed: `{digest}`")]
    BadApiDigest { asset: String, digest: String },
    #[error(transparent)]
    Sums(#[from] SumsError),
    #[error(transparent)]
    Github(#[from] GithubError),
    #[error(transparent)]
    Net(#[from] NetError),
}

impl Hint for PlanError {
    fn hint(&self) -> String {
        match self {
            PlanError::NoAsset { .. } => "pick another `--version` or `--target`".into(),
            PlanError::NoDigest { asset, .. } => format!(
                "pin its digest in codex-runtime.toml (`codex-bootstrap pin`), or pass `--archive FILE --sha256 HEX` for `{asset}`"
            ),
            PlanError::SumsMismatch { .. } => "the release's checksum file was tampered with or corrupted in transit; do not install it".into(),
            PlanError::BadApiDigest { .. } | PlanError::Sums(_) => "pin digests in codex-runtime.toml with `codex-bootstrap pin` from a trusted network".into(),
            PlanError::Github(e) => e.hint(),
            PlanError::Net(e) => e.hint(),
        }
    }
}

impl Plan {
    /// Everything that can be decided without the network.
    pub fn offline(pin: &Pin, version: CodexVersion, target: Target, sources: Sources) -> Plan {
        let tag = version.tag();
        let pinned = pin
            .pinned_asset(&version, &target)
            .and_then(|(m, a)| a.github_digest().map(|(name, d)| (m, name.to_string(), d)));
        let choice = match pinned {
            Some((manifest, name, sha256)) => Choice::Pinned(Asset {
                kind: AssetKind::from_name(&name).unwrap_or(AssetKind::PackageTarGz),
                size: pin
                    .pinned_asset(&version, &target)
                    .and_then(|(_, a)| a.size),
                url: sources.asset_url(&manifest.tag, &name),
                name,
                expected: Expected::sha256(
                    sha256,
                    DigestSource::Manifest {
                        path: manifest.origin.clone(),
                    },
                ),
                source: sources.kind(),
            }),
            None => Choice::FromRelease {
                api_url: crate::github::release_url(&sources.api_url, &tag),
                candidates: target.asset_candidates(),
            },
        };
        Plan {
            version,
            tag,
            target,
            pin_source: pin.source.clone(),
            sources,
            choice,
        }
    }

    /// Every URL this plan may touch, in order.
    pub fn urls(&self) -> Vec<String> {
        match &self.choice {
            Choice::Pinned(a) => vec![a.url.clone()],
            Choice::FromRelease {
                api_url,
                candidates,
            } => {
                let mut v = vec![api_url.clone()];
                v.extend(
                    candidates
                        .iter()
                        .map(|(name, _)| self.sources.asset_url(&self.tag, name)),
                );
                v.push(format!(
                    "{} (only if the chosen asset has no API digest)",
                    self.sources.asset_url(&self.tag, SHA256SUMS_ASSET)
                ));
                v
            }
        }
    }

    /// Settle the asset: nothing to do when pinned, else one API request (plus SHA256SUMS when
    /// the chosen asset has no digest of its own).
    pub async fn settle(&self, github: &Github<'_>) -> Result<Asset, PlanError> {
        match &self.choice {
            Choice::Pinned(a) => Ok(a.clone()),
            Choice::FromRelease { candidates, .. } => {
                let release = github.release(&self.tag).await?;
                self.choose(github, &release, candidates).await
            }
        }
    }

    /// Settle the asset for this plan's target from an already-fetched release.
    pub async fn choose(
        &self,
        github: &Github<'_>,
        release: &Release,
        candidates: &[(String, AssetKind)],
    ) -> Result<Asset, PlanError> {
        choose_asset(
            github,
            release,
            &self.target,
            candidates,
            &self.sources,
            &mut None,
        )
        .await
    }
}

/// The best candidate a release has for `target` with a trustworthy digest: its own API
/// digest, else a line of `codex-package_SHA256SUMS` whose own API digest matched (fetched at
/// most once per release through `sums`).
pub async fn choose_asset(
    github: &Github<'_>,
    release: &Release,
    target: &Target,
    candidates: &[(String, AssetKind)],
    sources: &Sources,
    sums: &mut Option<Vec<(String, Sha256)>>,
) -> Result<Asset, PlanError> {
    let tag = release.tag_name.clone();
    let present: Vec<_> = candidates
        .iter()
        .filter_map(|(name, kind)| release.asset(name).map(|a| (a, *kind)))
        .collect();
    if present.is_empty() {
        return Err(PlanError::NoAsset {
            tag: tag.clone(),
            target: target.clone(),
            candidates: candidates.iter().map(|c| c.0.clone()).collect(),
        });
    }
    let url_of = |name: &str| sources.asset_url(&tag, name);
    // First pass: an asset with its own API digest, best candidate first.
    for (asset, kind) in &present {
        if let Some(d) = &asset.digest {
            let sha256 = Sha256::parse(d).map_err(|_| PlanError::BadApiDigest {
                asset: asset.name.clone(),
                digest: d.clone(),
            })?;
            return Ok(Asset {
                name: asset.name.clone(),
                kind: *kind,
                size: asset.size,
                url: url_of(&asset.name),
                expected: Expected::sha256(sha256, DigestSource::GithubApi),
                source: sources.kind(),
            });
        }
    }
    // Second: SHA256SUMS, trusted only through its own API digest.
    let sums_file = release.asset(SHA256SUMS_ASSET);
    let sums_digest = sums_file.and_then(|s| s.digest.as_deref());
    let (Some(sums_asset), Some(sums_digest)) = (sums_file, sums_digest) else {
        return Err(PlanError::NoDigest {
            tag: tag.clone(),
            asset: present[0].0.name.clone(),
        });
    };
    if sums.is_none() {
        *sums = Some(
            fetch_sums(
                github,
                sums_asset,
                sums_digest,
                &tag,
                &url_of(SHA256SUMS_ASSET),
            )
            .await?,
        );
    }
    let listed = sums.as_deref().unwrap_or_default();
    for (asset, kind) in &present {
        if let Some((_, sha256)) = listed.iter().find(|(n, _)| n == &asset.name) {
            return Ok(Asset {
                name: asset.name.clone(),
                kind: *kind,
                size: asset.size,
                url: url_of(&asset.name),
                expected: Expected::sha256(*sha256, DigestSource::Sha256Sums),
                source: sources.kind(),
            });
        }
    }
    Err(PlanError::NoDigest {
        tag: tag.clone(),
        asset: present[0].0.name.clone(),
    })
}

/// Download SHA256SUMS and accept it only if its sha256 equals GitHub's API digest for it.
async fn fetch_sums(
    github: &Github<'_>,
    file: &crate::github::ReleaseAsset,
    api_digest: &str,
    tag: &str,
    url: &str,
) -> Result<Vec<(String, Sha256)>, PlanError> {
    let expected = Sha256::parse(api_digest).map_err(|_| PlanError::BadApiDigest {
        asset: file.name.clone(),
        digest: api_digest.to_string(),
    })?;
    let url = github.http.url(url)?;
    let (status, _, body) = github.http.get_small(&url, false, 1 << 20).await?;
    if status != 200 {
        return Err(NetError::Status {
            url: url.to_string(),
            status,
        }
        .into());
    }
    let actual = Sha256::of(&body);
    if actual != expected {
        return Err(PlanError::SumsMismatch {
            tag: tag.to_string(),
            expected,
            actual,
        });
    }
    Ok(parse_sha256sums(&String::from_utf8_lossy(&body))?)
}
