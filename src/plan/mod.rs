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

use serde::Serialize;

mod build;
mod pins;

pub use build::Inputs;
pub use pins::{expectations, ChannelDisagrees};

use crate::error::Hint;
use crate::pin::{CodexVersion, Pin, PinSource};
use crate::platform::{AssetKind, Target};
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
    /// Without secrets (they are scoped credentials); shown redacted all the same, as every URL.
    #[serde(serialize_with = "crate::redact::serialize")]
    pub download_base: String,
    pub mirror: bool,
    #[serde(serialize_with = "crate::redact::serialize")]
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

    /// Whether this is an OCI repository (`--mirror oci://REGISTRY/REPO`).
    pub fn is_oci(&self) -> bool {
        self.mirror && crate::oci::reference::looks_like_oci(&self.download_base)
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
    /// As requested; serialized as its [`crate::redact::DisplayUrl`] (a URL an index or
    /// registry lists may be signed).
    #[serde(serialize_with = "crate::redact::serialize")]
    pub url: String,
    /// Every digest the bytes must match, most trusted first.
    pub expected: Expectations,
    /// Which source serves it.
    pub source: SourceKind,
    /// `bin/codex`'s sha256 to check when nothing pins it, and who says so: an OCI image's
    /// annotation, for a layer rebuilt from a wheel or an npm tarball.
    #[serde(skip)]
    pub codex_sha256: Option<(crate::verify::Sha256, String)>,
    /// A signature bundle the source holds for it (where it was read, its bytes): an OCI
    /// image's referrer.
    #[serde(skip)]
    pub bundle: Option<(String, Vec<u8>)>,
    /// The wheel or npm tarball an OCI layer was rebuilt from (it is not the release's archive).
    #[serde(skip)]
    pub rebuilt_from: Option<String>,
}

impl Asset {
    /// The local file a `file://` URL names, when the user wrote that URL (`--mirror`,
    /// `--archive`, a download base). An index page or a packument may not point at this
    /// machine's files: their `file://` URLs are refused where they are read, and never taken
    /// for a path here either (the client then refuses the scheme).
    pub fn local_path(&self) -> Option<std::path::PathBuf> {
        match self.source {
            SourceKind::PythonIndex | SourceKind::Npm => None,
            SourceKind::Mirror | SourceKind::Github | SourceKind::Archive => {
                crate::net::local_path(&self.url)
            }
        }
    }
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
    /// The layer digest in the target's image manifest, reached from the version's tag
    /// through the image index (`--mirror oci://…`).
    OciManifest,
}

/// Where a candidate's URL comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Locator {
    /// Requested as it stands.
    Url {
        #[serde(serialize_with = "crate::redact::serialize")]
        url: String,
    },
    /// The URL the page (the index's project page, npm's packument) lists for the file.
    ListedOn {
        #[serde(serialize_with = "crate::redact::serialize")]
        page: String,
    },
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
        #[serde(serialize_with = "crate::redact::serialize")]
        url: String,
        /// `codex-package_SHA256SUMS`, fetched only when the chosen asset has no API digest.
        #[serde(serialize_with = "crate::redact::serialize")]
        sha256sums: String,
    },
    /// The index's project page (PEP 691 JSON or PEP 503 HTML).
    IndexPage {
        #[serde(serialize_with = "crate::redact::serialize")]
        url: String,
    },
    /// npm's packument for `@openai/codex`.
    Packument {
        #[serde(serialize_with = "crate::redact::serialize")]
        url: String,
    },
    /// An OCI image index tagged with the version; this target's image manifest in it names
    /// the layer blob (`…/blobs/sha256:…`) that is downloaded.
    OciImage {
        #[serde(serialize_with = "crate::redact::serialize")]
        url: String,
        /// `…/v2/REPO/blobs/`: the layer's URL is under it.
        #[serde(serialize_with = "crate::redact::serialize")]
        blobs: String,
    },
}

impl Metadata {
    pub fn urls(&self) -> Vec<&str> {
        match self {
            Metadata::GithubRelease { url, sha256sums } => vec![url, sha256sums],
            Metadata::IndexPage { url } | Metadata::Packument { url } => vec![url],
            Metadata::OciImage { url, .. } => vec![url],
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
    /// Its base URL (shown: a [`crate::redact::DisplayUrl`]), and where that was found.
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
    #[serde(serialize_with = "crate::redact::serialize_all")]
    pub urls: Vec<String>,
}

/// The `bin/codex` digest every source's unpacked runtime must have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodexPin {
    pub sha256: crate::verify::Sha256,
    /// The manifest that pins it.
    pub from: String,
    /// The wheels (by sha256) whose `bin/codex` that manifest's `pin` hashed and found to be
    /// `sha256`, as their RECORD lists it (`codex_checked`): an install of one of exactly these
    /// files may take `bin/codex`'s digest from its RECORD.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub checked_wheels: Vec<crate::verify::Sha256>,
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
#[derive(Debug, Clone, thiserror::Error)]
pub enum PlanError {
    #[error("the pins of `{file}` disagree:\n  {first}\n  {second}")]
    Conflict {
        file: String,
        first: String,
        second: String,
    },
}

impl Hint for PlanError {
    fn hint(&self) -> Option<String> {
        match self {
            PlanError::Conflict { .. } => Some("make the pins agree: regenerate the lock (`uv lock`, `uv export`, `pip-compile --generate-hashes`) or re-pin with `codex-bootstrap pin`; nothing was downloaded".into()),
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
#[derive(Clone, Copy)]
pub enum Registry<'a> {
    Found { url: &'a url::Url, from: &'a str },
    Missing(&'a dyn std::fmt::Display),
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

/// Whether to locate the registries now (`--dry-run`), or when their source is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locate {
    Now,
    WhenReached,
}
