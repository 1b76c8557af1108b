//! Building the plan: one [`SourcePlan`] per source in order, each with its candidates, from
//! the pins ([`super::pins`]) and the registries' locations.

use super::pins::{FilePins, PinnedKind};
use super::*;

/// Everything a plan is built from.
pub struct Inputs<'a> {
    pub pin: &'a Pin,
    pub version: &'a CodexVersion,
    pub target: &'a Target,
    pub order: &'a [SourceKind],
    pub github: &'a Sources,
    pub mirror: Option<&'a Sources>,
    /// The wheels' platform tags, most wanted first.
    pub wheel_tags: Vec<String>,
    pub pins: Pins,
    pub registries: &'a dyn Registries,
}

impl Inputs<'_> {
    /// The plan. Pin conflicts are errors here, before anything is downloaded.
    pub fn plan(&self, locate: Locate, resolved: Option<Resolved>) -> Result<Plan, PlanError> {
        let pins = FilePins::collect(self)?;
        let sources = self
            .order
            .iter()
            .map(|kind| self.source(&pins, *kind, locate))
            .collect();
        Ok(Plan {
            version: self.version.clone(),
            tag: self.version.tag(),
            target: self.target.clone(),
            pin_source: self.pin.source.clone(),
            resolved,
            codex_sha256: pins.codex.clone(),
            warnings: pins.warnings.clone(),
            sources,
        })
    }

    /// What the pins say of this version and target before any source is asked: the pins
    /// that cannot apply here (the plan's warnings), or the conflict that stops the plan.
    pub fn pin_warnings(&self) -> Result<Vec<String>, PlanError> {
        Ok(FilePins::collect(self)?.warnings)
    }

    /// One source's plan; a deferred registry source is planned again with [`Locate::Now`]
    /// when reached.
    pub fn source_plan(&self, kind: SourceKind, locate: Locate) -> Result<SourcePlan, PlanError> {
        Ok(self.source(&FilePins::collect(self)?, kind, locate))
    }

    /// The pins on one file, as they compose: for `install --archive`, whose file is no
    /// source's.
    pub fn pins_for(&self, kind: AssetKind, file: &str) -> Result<Vec<Expectation>, PlanError> {
        let pinned = match kind {
            AssetKind::Wheel => PinnedKind::Wheel,
            AssetKind::NpmTarball => PinnedKind::Npm,
            _ => PinnedKind::Asset,
        };
        let pins = FilePins::collect(self)?;
        Ok(pins
            .for_file(pinned, file)
            .into_iter()
            .map(|p| p.expect.clone())
            .collect())
    }

    fn source(&self, pins: &FilePins, kind: SourceKind, locate: Locate) -> SourcePlan {
        match kind {
            SourceKind::Github => self.release_layout(pins, self.github),
            SourceKind::Mirror => match self.mirror {
                Some(m) if m.is_oci() => self.oci_image(pins, m),
                Some(m) => {
                    let mut plan = self.release_layout(pins, m);
                    plan.candidates
                        .extend(self.mirrored_registry_files(pins, m));
                    plan
                }
                None => SourcePlan::skipped(kind, "no mirror given"),
            },
            SourceKind::PythonIndex => self.python_index(pins, locate),
            SourceKind::Npm => self.npm(pins, locate),
            SourceKind::Archive => {
                SourcePlan::skipped(kind, "a local archive is not a network source")
            }
        }
    }

    /// An OCI repository: the version's tag names an image index, whose entry for this target
    /// names the image whose layer is the package archive. The layer's digest is settled when
    /// the source is reached; the pins on the archive apply to it as they do to GitHub's file.
    fn oci_image(&self, pins: &FilePins, m: &Sources) -> SourcePlan {
        let reference = match crate::oci::Reference::parse(&m.download_base) {
            Ok(r) => r,
            Err(e) => return SourcePlan::skipped(SourceKind::Mirror, e.to_string()),
        };
        let page = reference.manifest_url(&self.version.to_string());
        let candidates = self
            .target
            .asset_candidates()
            .into_iter()
            .filter(|(_, kind)| crate::oci::layer::media_type(*kind).is_some())
            .map(|(name, kind)| {
                let applying = pins.for_file(PinnedKind::Asset, &name);
                Candidate {
                    at: Locator::ListedOn { page: page.clone() },
                    file: Some(name),
                    platform: None,
                    kind,
                    size: applying.iter().find_map(|p| p.size),
                    channel_digest: Some(ChannelDigest::OciManifest),
                    pins: applying.iter().map(|p| p.expect.clone()).collect(),
                }
            })
            .collect();
        SourcePlan {
            source: SourceKind::Mirror,
            location: Some(reference.to_string()),
            reach: Reach::Ready,
            metadata: Some(Metadata::OciImage {
                url: page,
                blobs: reference.blob_url(""),
            }),
            candidates,
        }
    }

    /// GitHub's release assets (or a mirror's copies of them): a pinned asset alone, with no
    /// API request; else every candidate, best first, settled by one API request.
    fn release_layout(&self, pins: &FilePins, sources: &Sources) -> SourcePlan {
        let tag = self.version.tag();
        let pinned: Vec<(String, AssetKind, Option<u64>)> = pins
            .assets
            .iter()
            .map(|p| (p.file.clone(), p.asset_kind, p.size))
            .fold(Vec::new(), |mut v, a| {
                if !v
                    .iter()
                    .any(|x: &(String, AssetKind, Option<u64>)| x.0 == a.0)
                {
                    v.push(a);
                }
                v
            });
        let (files, metadata) = if pinned.is_empty() {
            let files = self
                .target
                .asset_candidates()
                .into_iter()
                .map(|(name, kind)| (name, kind, None))
                .collect();
            let metadata = Metadata::GithubRelease {
                url: crate::github::release_url(&sources.api_url, &tag),
                sha256sums: sources.asset_url(&tag, SHA256SUMS_ASSET),
            };
            (files, Some(metadata))
        } else {
            (pinned, None)
        };
        let candidates = files
            .into_iter()
            .map(|(name, kind, size)| {
                let applying = pins.for_file(PinnedKind::Asset, &name);
                Candidate {
                    at: Locator::Url {
                        url: sources.asset_url(&tag, &name),
                    },
                    file: Some(name),
                    platform: None,
                    kind,
                    size: size.or_else(|| applying.iter().find_map(|p| p.size)),
                    channel_digest: metadata.as_ref().map(|_| ChannelDigest::GithubRelease),
                    pins: applying.iter().map(|p| p.expect.clone()).collect(),
                }
            })
            .collect();
        SourcePlan {
            source: sources.kind(),
            location: Some(crate::redact::DisplayUrl::new(&sources.download_base).to_string()),
            reach: Reach::Ready,
            metadata,
            candidates,
        }
    }

    /// The registries' files a mirror filled from them holds: those a pin names, so that their
    /// bytes can be checked without the registry.
    fn mirrored_registry_files(&self, pins: &FilePins, mirror: &Sources) -> Vec<Candidate> {
        let tag = self.version.tag();
        let mut out: Vec<Candidate> = Vec::new();
        let wheel = self
            .wheel_tags
            .iter()
            .find_map(|t| pins.named_wheel(t).map(|p| (p, t.clone())));
        if let Some((p, platform)) = wheel {
            out.push(self.pinned_file(
                pins,
                PinnedKind::Wheel,
                &p.file,
                Some(platform),
                mirror,
                &tag,
            ));
        }
        if let Some(p) = pins.npm.first() {
            out.push(self.pinned_file(pins, PinnedKind::Npm, &p.file, None, mirror, &tag));
        }
        out
    }

    fn pinned_file(
        &self,
        pins: &FilePins,
        kind: PinnedKind,
        file: &str,
        platform: Option<String>,
        mirror: &Sources,
        tag: &str,
    ) -> Candidate {
        let applying = pins.for_file(kind, file);
        Candidate {
            file: Some(file.to_string()),
            platform,
            kind: kind.asset_kind(),
            at: Locator::Url {
                url: mirror.asset_url(tag, file),
            },
            size: applying.iter().find_map(|p| p.size),
            pins: applying.iter().map(|p| p.expect.clone()).collect(),
            channel_digest: None,
        }
    }

    /// The index's wheels, one candidate per platform tag: from a lock file's URL when it names
    /// one (the index is then not asked at all), else as the index's page lists it.
    fn python_index(&self, pins: &FilePins, locate: Locate) -> SourcePlan {
        let kind = SourceKind::PythonIndex;
        let mut candidates = Vec::new();
        let mut needs_page = false;
        for tag in &self.wheel_tags {
            if let Some(locked) = pins.locked_url(tag) {
                let applying = pins.for_file(PinnedKind::Wheel, &locked.file);
                candidates.push(Candidate {
                    file: Some(locked.file.clone()),
                    platform: Some(tag.clone()),
                    kind: AssetKind::Wheel,
                    at: Locator::Url {
                        url: locked.url.clone().unwrap_or_default(),
                    },
                    size: applying.iter().find_map(|p| p.size),
                    pins: applying.iter().map(|p| p.expect.clone()).collect(),
                    channel_digest: None,
                });
                continue;
            }
            needs_page = true;
            let named = pins.named_wheel(tag);
            let applying = match named {
                Some(p) => pins.for_file(PinnedKind::Wheel, &p.file),
                None => pins.for_any_wheel(),
            };
            candidates.push(Candidate {
                file: named.map(|p| p.file.clone()),
                platform: Some(tag.clone()),
                kind: AssetKind::Wheel,
                at: Locator::ListedOn {
                    page: String::new(),
                },
                size: applying.iter().find_map(|p| p.size),
                pins: applying.iter().map(|p| p.expect.clone()).collect(),
                channel_digest: Some(ChannelDigest::PythonIndex),
            });
        }
        if !needs_page {
            return SourcePlan {
                source: kind,
                location: Some("the lock file's URLs".into()),
                reach: Reach::Ready,
                metadata: None,
                candidates,
            };
        }
        let (url, from) = match self.registry_at(kind, locate) {
            Ok(found) => found,
            Err(not_ready) => return *not_ready,
        };
        let page = index_page_url(url);
        for c in &mut candidates {
            if let Locator::ListedOn { page: p } = &mut c.at {
                p.clone_from(&page);
            }
        }
        SourcePlan {
            source: kind,
            location: Some(located_at(url, from)),
            reach: Reach::Ready,
            metadata: Some(Metadata::IndexPage { url: page }),
            candidates,
        }
    }

    /// npm's tarball for the target's platform, as the packument lists it.
    fn npm(&self, pins: &FilePins, locate: Locate) -> SourcePlan {
        let kind = SourceKind::Npm;
        let (url, from) = match self.registry_at(kind, locate) {
            Ok(found) => found,
            Err(not_ready) => return *not_ready,
        };
        let packument = packument_url(url);
        let file = npm_tarball_file(self.version, self.target);
        let applying = pins.for_file(PinnedKind::Npm, &file);
        SourcePlan {
            source: kind,
            location: Some(located_at(url, from)),
            reach: Reach::Ready,
            metadata: Some(Metadata::Packument {
                url: packument.clone(),
            }),
            candidates: vec![Candidate {
                file: Some(file),
                platform: Some(npm_version_key(self.version, self.target)),
                kind: AssetKind::NpmTarball,
                at: Locator::ListedOn { page: packument },
                size: applying.iter().find_map(|p| p.size),
                pins: applying.iter().map(|p| p.expect.clone()).collect(),
                channel_digest: Some(ChannelDigest::NpmIntegrity),
            }],
        }
    }

    /// A registry's base URL and the setting that named it; else the source's plan as it
    /// stands (skipped for want of a location, or deferred until reached).
    fn registry_at(
        &self,
        kind: SourceKind,
        locate: Locate,
    ) -> Result<(&url::Url, &str), Box<SourcePlan>> {
        match self.location(kind, locate) {
            Some(Registry::Found { url, from }) => Ok((url, from)),
            Some(Registry::Missing(reason)) => {
                Err(Box::new(SourcePlan::skipped(kind, reason.to_string())))
            }
            None => Err(Box::new(SourcePlan::deferred(kind))),
        }
    }

    fn location(&self, kind: SourceKind, locate: Locate) -> Option<Registry<'_>> {
        if locate == Locate::WhenReached && !self.registries.located(kind) {
            return None;
        }
        Some(match kind {
            SourceKind::Npm => self.registries.npm(),
            _ => self.registries.python_index(),
        })
    }
}

/// `URL (from SETTING)`, the URL without its credentials.
fn located_at(url: &url::Url, from: &str) -> String {
    format!(
        "{} (from {from})",
        crate::redact::DisplayUrl::new(url.as_str())
    )
}
