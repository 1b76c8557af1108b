//! The plan: for one version and target, the sources in order, each with its candidate files in
//! order, and for each file its URL (or the page whose answer names it), its size where known,
//! and every pin its bytes must match. It is built once, from the pins and the registries'
//! locations, before anything is downloaded; `--dry-run` prints it, and `install`, `mirror` and
//! `pin` execute it ([`crate::sources::run`]): nothing else decides which URL to request.
//!
//! Pins compose as `pip --require-hashes` does. A project pin (`codex-runtime.toml`, `uv.lock`,
//! hashed requirements) overrides the bundled manifest for the files it covers; pins at the same
//! level must all hold, and two that cannot both hold are an error here, before any download,
//! naming both. The channel's own digest (GitHub's API digest or its authenticated
//! `codex-package_SHA256SUMS`, the index's sha256, npm's integrity) is settled when the source is
//! reached and must hold too. A pin that cannot apply (a lock without a wheel for this platform)
//! is a warning, never silence.

use std::fmt;
use std::path::Path;

use serde::Serialize;

use crate::error::Hint;
use crate::pin::{CodexVersion, Pin, PinSource, PinVia, WheelPins};
use crate::platform::{wheel_has_platform, AssetKind, Target};
use crate::verify::{Digest, DigestSource, Expectations, Expected, SHA256SUMS_ASSET};

/// One place the runtime can come from.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// `--mirror`: a directory or URL holding release assets (GitHub's layout) or the files the
    /// registries serve, under `rust-v<V>/`.
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

/// Where release files come from: GitHub's release downloads, or a mirror in their layout.
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

/// One file to fetch, settled: its URL and every digest it must have.
#[derive(Debug, Clone, Serialize)]
pub struct Asset {
    pub name: String,
    pub kind: AssetKind,
    pub size: Option<u64>,
    pub url: String,
    /// Every digest the bytes must match, most trusted first.
    pub expected: Expectations,
    /// Which source serves it.
    pub source: SourceKind,
}

/// A pin on a file's bytes: the digests it accepts (any one of them: a requirements file may
/// list several `--hash` values for a version) and where it is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Expectation {
    pub any_of: Vec<Digest>,
    pub from: DigestSource,
}

impl Expectation {
    fn one(digest: Digest, from: DigestSource) -> Expectation {
        Expectation {
            any_of: vec![digest],
            from,
        }
    }

    /// The concrete expectation once the file's own digest is known (a channel's, or the one
    /// pin names alone); `None` when this pin does not allow that digest.
    pub fn narrow(&self, known: Option<&Digest>) -> Option<Expected> {
        match (self.any_of.as_slice(), known) {
            ([only], _) => Some(Expected {
                digest: *only,
                source: self.from.clone(),
            }),
            (_, Some(d)) if self.any_of.contains(d) => Some(Expected {
                digest: *d,
                source: self.from.clone(),
            }),
            _ => None,
        }
    }
}

/// The digest a channel publishes for its file, settled when the source is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChannelDigest {
    /// The asset's `digest` in GitHub's release API, else its line in
    /// `codex-package_SHA256SUMS` whose own API digest matched.
    GithubRelease,
    /// The index's sha256 for the wheel (PEP 691 `hashes`, PEP 503 `#sha256=`).
    PythonIndex,
    /// npm's `dist.integrity`.
    NpmIntegrity,
}

/// Where a candidate's URL comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Locator {
    /// Requested as it stands.
    Url { url: String },
    /// The URL the page (the index's project page, npm's packument) lists for the file.
    ListedOn { page: String },
}

/// One file a source may serve, with everything known before the network is asked.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    /// The file's name; `None` for a wheel only known by its platform tag until the index page
    /// names it.
    pub file: Option<String>,
    /// A wheel's platform tag.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    pub kind: AssetKind,
    pub at: Locator,
    pub size: Option<u64>,
    /// Every pin that applies to this file.
    pub pins: Vec<Expectation>,
    /// The channel's own digest, settled when reached; it must hold too.
    pub channel_digest: Option<ChannelDigest>,
}

impl Candidate {
    /// The URL, when known without asking the source.
    pub fn url(&self) -> Option<&str> {
        match &self.at {
            Locator::Url { url } => Some(url),
            Locator::ListedOn { .. } => None,
        }
    }

    /// The file, as a person reads it.
    pub fn describe(&self, version: &CodexVersion) -> String {
        match (&self.file, &self.platform) {
            (Some(f), _) => f.clone(),
            (None, Some(p)) => format!("the {} wheel for {p}", version.pep440()),
            (None, None) => "the file".into(),
        }
    }
}

/// A request the source needs answered before its candidates can be settled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Metadata {
    /// GitHub's release API for the tag (asset digests); asked only when a candidate needs it.
    GithubRelease {
        url: String,
        /// `codex-package_SHA256SUMS`, fetched only when the chosen asset has no API digest.
        sha256sums: String,
    },
    /// The index's project page (PEP 691 JSON or PEP 503 HTML).
    IndexPage { url: String },
    /// npm's packument for `@openai/codex`.
    Packument { url: String },
}

impl Metadata {
    pub fn urls(&self) -> Vec<&str> {
        match self {
            Metadata::GithubRelease { url, sha256sums } => vec![url, sha256sums],
            Metadata::IndexPage { url } | Metadata::Packument { url } => vec![url],
        }
    }
}

/// Whether a source will be asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "state")]
pub enum Reach {
    /// Asked in turn.
    Ready,
    /// Its registry is located only when the source is reached (locating may ask pip or npm,
    /// which is not worth doing when an earlier source serves); `--dry-run` locates it now.
    Deferred,
    /// Not asked, and why.
    Skipped { reason: String },
}

/// One source of the plan.
#[derive(Debug, Clone, Serialize)]
pub struct SourcePlan {
    pub source: SourceKind,
    /// Its base URL, and where that was found.
    pub location: Option<String>,
    pub reach: Reach,
    pub metadata: Option<Metadata>,
    pub candidates: Vec<Candidate>,
}

impl SourcePlan {
    /// Every URL this source may request, in order: its metadata, then each candidate's (a
    /// file listed on a page is named by the page).
    pub fn urls(&self) -> Vec<String> {
        let mut urls: Vec<String> = Vec::new();
        if let Some(m) = &self.metadata {
            urls.extend(m.urls().into_iter().map(str::to_string));
        }
        urls.extend(
            self.candidates
                .iter()
                .filter_map(|c| c.url().map(str::to_string)),
        );
        urls
    }

    fn deferred(source: SourceKind) -> SourcePlan {
        SourcePlan {
            source,
            location: None,
            reach: Reach::Deferred,
            metadata: None,
            candidates: Vec::new(),
        }
    }

    fn skipped(source: SourceKind, reason: impl Into<String>) -> SourcePlan {
        SourcePlan {
            source,
            location: None,
            reach: Reach::Skipped {
                reason: reason.into(),
            },
            metadata: None,
            candidates: Vec::new(),
        }
    }
}

/// How `latest` was answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resolved {
    /// One line: which channels carry the answer, and what the others said.
    pub from: String,
    /// The metadata requests that answered it.
    pub urls: Vec<String>,
}

/// The `bin/codex` digest every source's unpacked runtime must have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodexPin {
    pub sha256: crate::verify::Sha256,
    /// The manifest that pins it.
    pub from: String,
}

/// The one plan of a version and target.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub version: CodexVersion,
    pub tag: String,
    pub target: Target,
    pub pin_source: PinSource,
    /// How `latest` was resolved (`None` for an exact version).
    pub resolved: Option<Resolved>,
    pub codex_sha256: Option<CodexPin>,
    /// Pins that cannot apply here, and why; printed as warnings.
    pub warnings: Vec<String>,
    pub sources: Vec<SourcePlan>,
}

impl Plan {
    /// Every URL the plan may request, in order.
    pub fn urls(&self) -> Vec<String> {
        let mut urls: Vec<String> = self
            .resolved
            .iter()
            .flat_map(|r| r.urls.iter().cloned())
            .collect();
        for s in &self.sources {
            for u in s.urls() {
                if !urls.contains(&u) {
                    urls.push(u);
                }
            }
        }
        urls
    }
}

/// Two pins at the same level that no file can satisfy both of.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("the pins of `{file}` disagree:\n  {first}\n  {second}")]
    Conflict {
        file: String,
        first: String,
        second: String,
    },
}

impl Hint for PlanError {
    fn hint(&self) -> String {
        match self {
            PlanError::Conflict { .. } => "make the pins agree: regenerate the lock (`uv lock`, `uv export`, `pip-compile --generate-hashes`) or re-pin with `codex-bootstrap pin`; nothing was downloaded".into(),
        }
    }
}

/// Whether the manifests' and lock files' pins apply (they do, except for `pin`, which asks the
/// channels what they publish now).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pins {
    Enforce,
    ChannelsOnly,
}

/// Where a registry is, as a plan needs it: its base URL and the setting that named it, or why
/// it could not be found.
#[derive(Debug, Clone, Copy)]
pub enum Registry<'a> {
    Found { url: &'a url::Url, from: &'a str },
    Missing(&'a str),
}

/// Where the registries are: located on first use (locating may ask pip or npm).
pub trait Registries {
    fn python_index(&self) -> Registry<'_>;
    fn npm(&self) -> Registry<'_>;
    /// Whether a registry is located already (then asking costs nothing).
    fn located(&self, kind: SourceKind) -> bool;
}

/// The project page of `openai-codex-cli-bin` under an index base (PEP 503).
pub fn index_page_url(index: &url::Url) -> String {
    format!(
        "{}/{}/",
        index.as_str().trim_end_matches('/'),
        crate::pin::discover::RUNTIME_DIST
    )
}

/// `@openai/codex`, URL-encoded as registries expect a scoped name in a path.
pub const NPM_PACKAGE_PATH: &str = "@openai%2fcodex";

/// The packument of `@openai/codex` under a registry base.
pub fn packument_url(registry: &url::Url) -> String {
    format!(
        "{}/{NPM_PACKAGE_PATH}",
        registry.as_str().trim_end_matches('/')
    )
}

/// `<version>-<platform>`: the npm version of a target's package.
pub fn npm_version_key(version: &CodexVersion, target: &Target) -> String {
    format!("{version}-{}", target.npm_platform())
}

/// `codex-<version>-<platform>.tgz`: the tarball's file name, as the registry names it.
pub fn npm_tarball_file(version: &CodexVersion, target: &Target) -> String {
    format!("codex-{}.tgz", npm_version_key(version, target))
}

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

/// Whether to locate the registries now (`--dry-run`), or when their source is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locate {
    Now,
    WhenReached,
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
            location: Some(crate::logging::url_str(&sources.download_base)),
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
        let (url, from) = match self.location(kind, locate) {
            Some(Registry::Found { url, from }) => (url, from),
            Some(Registry::Missing(reason)) => return SourcePlan::skipped(kind, reason),
            None => return SourcePlan::deferred(kind),
        };
        let page = index_page_url(url);
        for c in &mut candidates {
            if let Locator::ListedOn { page: p } = &mut c.at {
                p.clone_from(&page);
            }
        }
        SourcePlan {
            source: kind,
            location: Some(format!(
                "{} (from {from})",
                crate::logging::url_str(url.as_str())
            )),
            reach: Reach::Ready,
            metadata: Some(Metadata::IndexPage { url: page }),
            candidates,
        }
    }

    /// npm's tarball for the target's platform, as the packument lists it.
    fn npm(&self, pins: &FilePins, locate: Locate) -> SourcePlan {
        let kind = SourceKind::Npm;
        let (url, from) = match self.location(kind, locate) {
            Some(Registry::Found { url, from }) => (url, from),
            Some(Registry::Missing(reason)) => return SourcePlan::skipped(kind, reason),
            None => return SourcePlan::deferred(kind),
        };
        let packument = packument_url(url);
        let file = npm_tarball_file(self.version, self.target);
        let applying = pins.for_file(PinnedKind::Npm, &file);
        SourcePlan {
            source: kind,
            location: Some(format!(
                "{} (from {from})",
                crate::logging::url_str(url.as_str())
            )),
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

/// What a pin is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PinnedKind {
    /// A GitHub release asset.
    Asset,
    Wheel,
    Npm,
}

impl PinnedKind {
    fn asset_kind(self) -> AssetKind {
        match self {
            PinnedKind::Wheel => AssetKind::Wheel,
            PinnedKind::Npm => AssetKind::NpmTarball,
            PinnedKind::Asset => AssetKind::PackageTarZst,
        }
    }
}

/// Which level a pin is written at: a project's pins override the bundled manifest's for the
/// files they cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Project,
    Bundled,
}

/// One pin on one file (or, from a requirements file, on any wheel of the version).
#[derive(Debug, Clone)]
struct FilePin {
    kind: PinnedKind,
    /// Empty for a requirements file's hashes: they may belong to any of the version's wheels.
    file: String,
    asset_kind: AssetKind,
    url: Option<String>,
    size: Option<u64>,
    level: Level,
    expect: Expectation,
}

/// Every pin that applies to the plan's version and target.
struct FilePins {
    assets: Vec<FilePin>,
    wheels: Vec<FilePin>,
    npm: Vec<FilePin>,
    codex: Option<CodexPin>,
    warnings: Vec<String>,
}

impl FilePins {
    fn collect(inputs: &Inputs<'_>) -> Result<FilePins, PlanError> {
        let mut pins = FilePins {
            assets: Vec::new(),
            wheels: Vec::new(),
            npm: Vec::new(),
            codex: None,
            warnings: Vec::new(),
        };
        if inputs.pins == Pins::ChannelsOnly {
            return Ok(pins);
        }
        let (version, target) = (inputs.version, inputs.target);
        let project_manifest = inputs.pin.project.as_ref().and_then(|p| match &p.via {
            PinVia::Manifest(m) => Some(m.as_ref()),
            PinVia::Python { .. } => None,
        });
        for (manifest, level) in project_manifest
            .map(|m| (m, Level::Project))
            .into_iter()
            .chain(std::iter::once((&inputs.pin.bundled, Level::Bundled)))
        {
            if &manifest.version != version {
                if level == Level::Project {
                    pins.warnings.push(format!(
                        "`{}` pins codex {}, not {version}: its digests do not apply",
                        manifest.origin, manifest.version
                    ));
                }
                continue;
            }
            let Some(entry) = manifest.targets.get(target) else {
                continue;
            };
            let from = || DigestSource::Manifest {
                path: manifest.origin.clone(),
            };
            if let Some((name, sha256)) = entry.github_digest() {
                pins.assets.push(FilePin {
                    kind: PinnedKind::Asset,
                    file: name.to_string(),
                    asset_kind: AssetKind::from_name(name).unwrap_or(AssetKind::PackageTarGz),
                    url: None,
                    size: entry.size,
                    level,
                    expect: Expectation::one(Digest::Sha256(sha256), from()),
                });
            }
            if let Some(w) = &entry.wheel {
                pins.wheels.push(FilePin {
                    kind: PinnedKind::Wheel,
                    file: w.file.clone(),
                    asset_kind: AssetKind::Wheel,
                    url: None,
                    size: w.size,
                    level,
                    expect: Expectation::one(Digest::Sha256(w.sha256), from()),
                });
            }
            if let Some(n) = &entry.npm {
                pins.npm.push(FilePin {
                    kind: PinnedKind::Npm,
                    file: n.file.clone(),
                    asset_kind: AssetKind::NpmTarball,
                    url: None,
                    size: n.size,
                    level,
                    expect: Expectation::one(Digest::Sha512(n.integrity), from()),
                });
            }
            if pins.codex.is_none() {
                pins.codex = entry.codex_sha256.map(|sha256| CodexPin {
                    sha256,
                    from: manifest.origin.clone(),
                });
            }
        }
        if let Some(project) = &inputs.pin.project {
            for lock in &project.wheel_pins {
                if &lock.version != version {
                    pins.warnings.push(format!(
                        "`{}` locks openai-codex-cli-bin {}, not {}: its hashes do not apply",
                        lock.file.display(),
                        lock.version.pep440(),
                        version.pep440()
                    ));
                    continue;
                }
                pins.add_lock(lock, &inputs.wheel_tags);
            }
        }
        pins.check_conflicts(&inputs.wheel_tags)?;
        Ok(pins)
    }

    /// A lock file's wheels: from `uv.lock`, each with its file name and URL; from a
    /// requirements file, digests that may belong to any wheel of the version.
    fn add_lock(&mut self, lock: &WheelPins, tags: &[String]) {
        let from = DigestSource::LockFile {
            path: lock.file.display().to_string(),
        };
        let named: Vec<_> = lock
            .wheels
            .iter()
            .filter(|w| w.filename.is_some())
            .collect();
        if named.is_empty() {
            self.wheels.push(FilePin {
                kind: PinnedKind::Wheel,
                file: String::new(),
                asset_kind: AssetKind::Wheel,
                url: None,
                size: None,
                level: Level::Project,
                expect: Expectation {
                    any_of: lock
                        .wheels
                        .iter()
                        .map(|w| Digest::Sha256(w.sha256))
                        .collect(),
                    from,
                },
            });
            return;
        }
        let mut any_here = false;
        for w in named {
            let file = w.filename.clone().unwrap_or_default();
            any_here |= tags.iter().any(|t| wheel_has_platform(&file, t));
            self.wheels.push(FilePin {
                kind: PinnedKind::Wheel,
                file,
                asset_kind: AssetKind::Wheel,
                url: w.url.clone(),
                size: w.size,
                level: Level::Project,
                expect: Expectation::one(Digest::Sha256(w.sha256), from.clone()),
            });
        }
        if !any_here {
            self.warnings.push(format!(
                "`{}` locks no openai-codex-cli-bin {} wheel for {}: its hashes cannot pin this install",
                lock.file.display(),
                lock.version.pep440(),
                tags.join(" or ")
            ));
        }
    }

    fn list(&self, kind: PinnedKind) -> &[FilePin] {
        match kind {
            PinnedKind::Asset => &self.assets,
            PinnedKind::Wheel => &self.wheels,
            PinnedKind::Npm => &self.npm,
        }
    }

    /// The pins that apply to one file: the project's when any covers it, else the bundled
    /// manifest's.
    fn for_file(&self, kind: PinnedKind, file: &str) -> Vec<&FilePin> {
        let covers =
            |p: &&FilePin| p.file == file || (kind == PinnedKind::Wheel && p.file.is_empty());
        let project: Vec<&FilePin> = self
            .list(kind)
            .iter()
            .filter(covers)
            .filter(|p| p.level == Level::Project)
            .collect();
        if !project.is_empty() {
            return project;
        }
        self.list(kind).iter().filter(covers).collect()
    }

    /// The pins that apply to whichever wheel the index lists when no pin names one:
    /// digest-only lock pins.
    fn for_any_wheel(&self) -> Vec<&FilePin> {
        self.wheels.iter().filter(|p| p.file.is_empty()).collect()
    }

    /// The wheel file a pin names for `tag`: the project's; else, unless the project's
    /// digest-only pins cover every wheel, the bundled manifest's.
    fn named_wheel(&self, tag: &str) -> Option<&FilePin> {
        let named = |level| {
            self.wheels.iter().find(|p| {
                !p.file.is_empty() && p.level == level && wheel_has_platform(&p.file, tag)
            })
        };
        let project_covers_all = self
            .wheels
            .iter()
            .any(|p| p.file.is_empty() && p.level == Level::Project);
        named(Level::Project).or_else(|| {
            if project_covers_all {
                None
            } else {
                named(Level::Bundled)
            }
        })
    }

    /// A lock file's wheel for `tag` with its URL.
    fn locked_url(&self, tag: &str) -> Option<&FilePin> {
        self.wheels
            .iter()
            .find(|p| p.url.is_some() && wheel_has_platform(&p.file, tag))
    }

    /// Pins at the same level on the same file must be able to hold together.
    fn check_conflicts(&self, tags: &[String]) -> Result<(), PlanError> {
        for list in [&self.assets, &self.wheels, &self.npm] {
            for (i, a) in list.iter().enumerate() {
                for b in &list[i + 1..] {
                    let same_file = a.file == b.file
                        || (a.kind == PinnedKind::Wheel
                            && (a.file.is_empty() || b.file.is_empty())
                            && tags.iter().any(|t| {
                                wheel_has_platform(&a.file, t) || wheel_has_platform(&b.file, t)
                            }));
                    if a.level != b.level || !same_file || a.expect.from == b.expect.from {
                        continue;
                    }
                    let comparable = a.expect.any_of.iter().any(|x| {
                        b.expect
                            .any_of
                            .iter()
                            .any(|y| x.is_sha512() == y.is_sha512())
                    });
                    let agree = a.expect.any_of.iter().any(|x| b.expect.any_of.contains(x));
                    if comparable && !agree {
                        let file = if a.file.is_empty() { &b.file } else { &a.file };
                        return Err(PlanError::Conflict {
                            file: file.clone(),
                            first: describe_pin(&a.expect),
                            second: describe_pin(&b.expect),
                        });
                    }
                }
            }
        }
        Ok(())
    }
}

/// `` `uv.lock` line 12 pins sha256 … `` (the line found by the digest it writes).
fn describe_pin(e: &Expectation) -> String {
    let path = match &e.from {
        DigestSource::Manifest { path } | DigestSource::LockFile { path } => path.clone(),
        other => other.to_string(),
    };
    let digests: Vec<String> = e.any_of.iter().map(|d| d.to_string()).collect();
    let line = e
        .any_of
        .iter()
        .find_map(|d| line_of(Path::new(&path), &digest_text(d)))
        .map(|l| format!(" line {l}"))
        .unwrap_or_default();
    format!("`{path}`{line} pins {}", digests.join(" or "))
}

/// The digest as files write it: hex for sha256, base64 for sha512.
fn digest_text(d: &Digest) -> String {
    match d {
        Digest::Sha256(s) => s.to_hex(),
        Digest::Sha512(s) => s.to_integrity(),
    }
}

/// The 1-based line of `path` that holds `needle`.
fn line_of(path: &Path, needle: &str) -> Option<usize> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines()
        .position(|l| {
            l.to_ascii_lowercase()
                .contains(&needle.to_ascii_lowercase())
        })
        .map(|i| i + 1)
}

/// The concrete expectations of a candidate, once its name and the channel's digest are known:
/// every pin narrowed to the digest it allows, then the channel's. A pin that allows none of
/// the channel's digests is the error (an integrity verdict, before any download).
pub fn expectations(
    pins: &[Expectation],
    channel: Option<Expected>,
) -> Result<Option<Expectations>, Box<ChannelDisagrees>> {
    let known = channel.as_ref().map(|c| c.digest);
    let mut out: Vec<Expected> = Vec::new();
    for p in pins {
        match p.narrow(known.as_ref()) {
            Some(e) => out.push(e),
            None => {
                return Err(Box::new(ChannelDisagrees {
                    pin: p.clone(),
                    channel: channel.clone(),
                }))
            }
        }
    }
    if let Some(c) = channel {
        for p in &out {
            if p.digest.is_sha512() == c.digest.is_sha512() && p.digest != c.digest {
                return Err(Box::new(ChannelDisagrees {
                    pin: Expectation::one(p.digest, p.source.clone()),
                    channel: Some(c),
                }));
            }
        }
        out.push(c);
    }
    Ok(Expectations::from_vec(out))
}

/// A channel publishes a digest that a pin does not allow (or, with several digests to choose
/// from and none published, the pin cannot say which is this file's).
#[derive(Debug, Clone)]
pub struct ChannelDisagrees {
    pub pin: Expectation,
    pub channel: Option<Expected>,
}

impl fmt::Display for ChannelDisagrees {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pinned: Vec<String> = self.pin.any_of.iter().map(|d| d.to_string()).collect();
        match &self.channel {
            Some(c) => write!(
                f,
                "{} gives {}, which {} does not allow ({})",
                c.source,
                c.digest,
                self.pin.from,
                pinned.join(", ")
            ),
            None => write!(
                f,
                "nothing says which of the {} digests of {} is this file's",
                pinned.len(),
                self.pin.from
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::Sha256;

    fn sha(s: &str) -> Digest {
        Digest::Sha256(Sha256::of(s.as_bytes()))
    }

    #[test]
    fn a_pin_narrows_to_the_channels_digest_or_refuses_it() {
        let lock = DigestSource::LockFile {
            path: "requirements.txt".into(),
        };
        let set = Expectation {
            any_of: vec![sha("a"), sha("b")],
            from: lock.clone(),
        };
        let index = |d| {
            Some(Expected {
                digest: d,
                source: DigestSource::PythonIndex,
            })
        };
        let e = expectations(std::slice::from_ref(&set), index(sha("b")))
            .unwrap()
            .unwrap();
        assert_eq!(e.all().len(), 2);
        assert_eq!(e.primary().source, lock);
        assert!(expectations(std::slice::from_ref(&set), index(sha("c"))).is_err());
        assert!(
            expectations(std::slice::from_ref(&set), None).is_err(),
            "which of two?"
        );
        let one = Expectation::one(sha("a"), lock);
        assert!(expectations(std::slice::from_ref(&one), index(sha("c"))).is_err());
        assert!(expectations(&[], None).unwrap().is_none());
    }
}
