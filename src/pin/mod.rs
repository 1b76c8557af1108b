//! Which runtime version, and where that answer came from.
//!
//! First match wins: `--version`, `CODEX_BOOTSTRAP_VERSION`, a project pin found walking up from
//! the current directory ([`discover`]), then the manifest compiled into this binary.

pub mod discover;
pub mod manifest;
pub mod version;

use std::fmt;
use std::path::Path;

pub use discover::{PinVia, ProjectPin};
pub use manifest::{Manifest, ManifestError, PinnedAsset};
pub use version::{CodexVersion, VersionError};

use crate::platform::Target;

/// The environment variable that pins a version.
pub const VERSION_ENV: &str = "CODEX_BOOTSTRAP_VERSION";

/// A version request before it is resolved: `latest` needs GitHub's API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Exact(CodexVersion),
    Latest,
}

impl Request {
    pub fn parse(s: &str) -> Result<Request, VersionError> {
        if s.trim().eq_ignore_ascii_case("latest") {
            Ok(Request::Latest)
        } else {
            CodexVersion::parse(s).map(Request::Exact)
        }
    }
}

/// Where the pin came from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", content = "detail", rename_all = "kebab-case")]
pub enum PinSource {
    Flag,
    Env,
    Project(String),
    Bundled,
}

impl fmt::Display for PinSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PinSource::Flag => f.write_str("--version"),
            PinSource::Env => write!(f, "{VERSION_ENV}"),
            PinSource::Project(p) => f.write_str(p),
            PinSource::Bundled => write!(
                f,
                "bundled manifest (codex-bootstrap {})",
                env!("CARGO_PKG_VERSION")
            ),
        }
    }
}

/// A resolved pin: the request, where it came from, and the manifests that may hold digests.
#[derive(Debug, Clone)]
pub struct Pin {
    pub request: Request,
    pub source: PinSource,
    /// The project's pin, when one was found (even if a flag overrode it).
    pub project: Option<ProjectPin>,
    pub bundled: Manifest,
}

#[derive(Debug, thiserror::Error)]
pub enum PinError {
    #[error("invalid version in {origin}")]
    Version {
        origin: String,
        #[source]
        source: VersionError,
    },
    #[error(transparent)]
    Discover(#[from] discover::DiscoverError),
    #[error(transparent)]
    Manifest(#[from] ManifestError),
}

impl PinError {
    pub fn hint(&self) -> String {
        match self {
            PinError::Version { .. } => {
                "use a Codex version such as `0.163.0`, `0.154.0-alpha.6`, `0.154.0a6`, or `latest`"
                    .into()
            }
            PinError::Discover(_) => "fix the project file, or override it with `--version`".into(),
            PinError::Manifest(e) => e.hint(),
        }
    }
}

impl Pin {
    /// Resolve the pin for a run started in `cwd`.
    pub fn resolve(flag: Option<&str>, env: Option<&str>, cwd: &Path) -> Result<Pin, PinError> {
        let bundled = Manifest::bundled()?;
        let project = discover::discover(cwd)?;
        let parse = |s: &str, origin: &str| {
            Request::parse(s).map_err(|source| PinError::Version {
                origin: origin.to_string(),
                source,
            })
        };
        let (request, source) = if let Some(v) = flag {
            (parse(v, "--version")?, PinSource::Flag)
        } else if let Some(v) = env.filter(|v| !v.trim().is_empty()) {
            (parse(v, VERSION_ENV)?, PinSource::Env)
        } else if let Some(p) = &project {
            (
                Request::Exact(p.version.clone()),
                PinSource::Project(p.describe()),
            )
        } else {
            (Request::Exact(bundled.version.clone()), PinSource::Bundled)
        };
        Ok(Pin {
            request,
            source,
            project,
            bundled,
        })
    }

    /// The manifest entry for `version`/`target`, from the project manifest or the bundled one,
    /// whichever pins that exact version. Returns the manifest too (it names the digest source).
    pub fn pinned_asset(
        &self,
        version: &CodexVersion,
        target: &Target,
    ) -> Option<(&Manifest, &PinnedAsset)> {
        let project = self.project.as_ref().and_then(|p| match &p.via {
            PinVia::Manifest(m) => Some(m.as_ref()),
            PinVia::Python { .. } => None,
        });
        project
            .into_iter()
            .chain(std::iter::once(&self.bundled))
            .filter(|m| &m.version == version)
            .find_map(|m| m.targets.get(target).map(|a| (m, a)))
    }
}
