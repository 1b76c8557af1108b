//! Which runtime version, and where that answer came from.
//!
//! First match wins: the command line (`install 0.163.0`, or `--version`),
//! `CODEX_BOOTSTRAP_VERSION`, a project pin found walking up from the current directory
//! ([`discover`]), then the manifest compiled into this binary.
//!
//! Alongside the version, a project's lock files may pin the runtime's wheels by digest
//! ([`Pin::wheel_pins`]), and pins discovery could not read come back as [`PinWarning`]s for the
//! commands to print.

pub(crate) mod discover;
pub mod manifest;
pub(crate) mod version;

use std::fmt;
use std::path::Path;

pub use discover::{Discovery, LockedWheel, PinProblem, PinVia, PinWarning, ProjectPin, WheelPins};
pub use manifest::{Manifest, ManifestError, PinnedAsset};
pub use version::{CodexVersion, VersionError};

use crate::error::Hint;
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
            PinSource::Flag => f.write_str("the command line"),
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
    /// Project pins that could not be read and were ignored; commands print them.
    pub warnings: Vec<PinWarning>,
    /// The integrities a Node project's lock files record for `@openai/codex`'s platform
    /// packages (`install --node` sets them): project pins on the npm tarballs.
    pub npm_locks: Vec<NpmLockPin>,
}

/// One lock file's integrity for one platform package of `@openai/codex`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpmLockPin {
    /// `package-lock.json`, `pnpm-lock.yaml`, `yarn.lock`, `bun.lock`, …
    pub file: std::path::PathBuf,
    pub version: CodexVersion,
    /// As npm spells it: `linux-x64`.
    pub platform: String,
    pub integrity: crate::verify::Sha512,
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
    Manifest(#[from] ManifestError),
}

impl Hint for PinError {
    fn hint(&self) -> Option<String> {
        match self {
            PinError::Version { .. } => Some(
                "use a Codex version such as `0.163.0`, `0.154.0-alpha.6`, `0.154.0a6`, or `latest`"
                    .into(),
            ),
            PinError::Manifest(e) => e.hint(),
        }
    }

    /// The version came from the command line or a pin file the user wrote.
    fn is_usage(&self) -> bool {
        match self {
            PinError::Version { source, .. } => source.is_usage(),
            PinError::Manifest(e) => e.is_usage(),
        }
    }
}

/// A test knob: drop the bundled manifest's per-target pins (fixture archives cannot match the
/// real digests). Project manifests and lock files still apply.
pub(crate) const TEST_IGNORE_BUNDLED_PINS: &str = "__CODEX_BOOTSTRAP_TEST_IGNORE_BUNDLED_PINS";
/// A test knob: read the bundled manifest from this file instead, so tests can pin fixture
/// archives at the bundled level and check how project pins compose with it.
pub(crate) const TEST_BUNDLED_MANIFEST: &str = "__CODEX_BOOTSTRAP_TEST_BUNDLED_MANIFEST";

impl Pin {
    /// Resolve the pin for a run started in `cwd`.
    pub fn resolve(flag: Option<&str>, env: Option<&str>, cwd: &Path) -> Result<Pin, PinError> {
        let mut bundled = match std::env::var_os(TEST_BUNDLED_MANIFEST) {
            Some(path) => Manifest {
                origin: manifest::BUNDLED_NAME.into(),
                ..Manifest::load(Path::new(&path))?
            },
            None => Manifest::bundled()?,
        };
        // Tests serve fixture archives as 0.163.0, whose bytes cannot match the real pins.
        if std::env::var_os(TEST_IGNORE_BUNDLED_PINS).is_some()
            && std::env::var_os(TEST_BUNDLED_MANIFEST).is_none()
        {
            bundled.targets.clear();
        }
        let Discovery {
            pin: project,
            warnings,
        } = discover::discover(cwd)?;
        let parse = |s: &str, origin: &str| {
            Request::parse(s).map_err(|source| PinError::Version {
                origin: origin.to_string(),
                source,
            })
        };
        let (request, source) = if let Some(v) = flag {
            (parse(v, "the command line")?, PinSource::Flag)
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
            warnings,
            npm_locks: Vec::new(),
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
            PinVia::Python { .. } | PinVia::Node { .. } => None,
        });
        project
            .into_iter()
            .chain(std::iter::once(&self.bundled))
            .filter(|m| &m.version == version)
            .find_map(|m| m.targets.get(target).map(|a| (m, a)))
    }

    /// The project's wheel pins for the runtime at `version`: the first lock file in the
    /// project's directory that locks `openai-codex-cli-bin` at exactly that version (`uv.lock`
    /// before requirements files). `None` when no lock pins that version, for example when
    /// `--version` asks for another one than the lock holds.
    pub fn wheel_pins(&self, version: &CodexVersion) -> Option<&WheelPins> {
        self.project
            .as_ref()?
            .wheel_pins
            .iter()
            .find(|w| &w.version == version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUNTIME_WHEEL: &str = "75b78cc0d598ad6d8bc15dcebf5ea97ec7de9acadd249a58d3ec204371e7c1a6";

    /// A project whose hashed requirements pin the runtime at 0.163.0, and whose nested
    /// directory holds a pin nobody can read.
    fn project() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("requirements.txt"),
            format!("openai-codex-cli-bin==0.163.0 \\\n    --hash=sha256:{RUNTIME_WHEEL}\n"),
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("app")).unwrap();
        std::fs::write(
            dir.path().join("app/requirements.txt"),
            "openai-codex==soon\n",
        )
        .unwrap();
        dir
    }

    fn version(s: &str) -> CodexVersion {
        CodexVersion::parse(s).unwrap()
    }

    #[test]
    fn wheel_pins_apply_to_the_locked_version_only() {
        let dir = project();
        let cwd = dir.path().join("app");
        let pin = Pin::resolve(None, None, &cwd).unwrap();
        assert_eq!(pin.request, Request::Exact(version("0.163.0")));
        let pins = pin.wheel_pins(&version("0.163.0")).unwrap();
        assert!(pins.allows(&crate::verify::Sha256::parse(RUNTIME_WHEEL).unwrap()));
        assert_eq!(pin.wheel_pins(&version("0.160.0")), None);

        // `--version` asking for the locked version keeps the lock's pins; another one has none.
        let same = Pin::resolve(Some("0.163.0"), None, &cwd).unwrap();
        assert_eq!(same.source, PinSource::Flag);
        assert!(same.wheel_pins(&version("0.163.0")).is_some());
        let other = Pin::resolve(None, Some("0.160.0"), &cwd).unwrap();
        assert_eq!(other.wheel_pins(&version("0.160.0")), None);
    }

    #[test]
    fn unreadable_project_pins_come_back_as_warnings() {
        let dir = project();
        let pin = Pin::resolve(None, None, &dir.path().join("app")).unwrap();
        assert!(matches!(pin.source, PinSource::Project(_)));
        let [warning] = pin.warnings.as_slice() else {
            panic!("{:?}", pin.warnings)
        };
        assert_eq!(warning.file, dir.path().join("app/requirements.txt"));
        assert_eq!(warning.line, Some(1));
        assert!(
            warning.to_string().contains("pins openai-codex to `soon`"),
            "{warning}"
        );
    }
}
