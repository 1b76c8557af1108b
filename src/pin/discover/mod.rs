//! Find a project's runtime pin by walking up from a directory.
//!
//! In each directory, nearest first: `codex-runtime.toml`, then a Python project that pins
//! `openai-codex-cli-bin==X` (the runtime itself) or `openai-codex==X` (the SDK, which requires
//! its runtime at its own version) in `pyproject.toml` (dependencies, optional-dependencies,
//! dependency-groups), `requirements*.txt` (following `-r`), or `uv.lock`; then a Node project
//! whose `package.json` requires `@openai/codex` or `@openai/codex-sdk` at an exact version.
//!
//! Lock files pin bytes as well as a version: `uv.lock` lists every wheel of
//! `openai-codex-cli-bin` with its URL, sha256 and size, and a hashed requirements file (as
//! `uv export` and `pip-compile --generate-hashes` write it) gives the digests pip would accept.
//! Every such file in the directory that holds the pin is read into [`WheelPins`].
//!
//! One file per format: [`requirements`] (pip's line lexer, `-r` includes, `--hash`, and the
//! PEP 508 subset that finds an exact pin), [`pyproject`] and [`uv_lock`]. This module walks the
//! directories and holds what they share.
//!
//! A Python pin we cannot read (a version that is not a Codex version, a file that is not valid
//! TOML, a missing `-r` include) is a [`PinWarning`], and discovery goes on: such files belong to
//! other tools, and one stale line must not stop every command. A broken `codex-runtime.toml` is
//! ours, and stays an error. A readable pin of another version in the directory that holds the
//! winning pin (a `pyproject.toml` beside `codex-runtime.toml`, an SDK pin beside its runtime's)
//! is a warning too, naming the pin that wins: no pin is ignored silently.

pub(crate) mod package_json;
mod pyproject;
mod requirements;
mod uv_lock;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::pin::manifest::{Manifest, ManifestError, FILE_NAME};
use crate::pin::version::CodexVersion;
use crate::platform::WheelFilename;
use crate::verify::Sha256;

/// The runtime distribution and the SDK, as PEP 503-normalised names.
pub(crate) const RUNTIME_DIST: &str = "openai-codex-cli-bin";
pub(crate) const SDK_DIST: &str = "openai-codex";

/// What a walk up the directories found.
#[derive(Debug, Clone, Default)]
pub struct Discovery {
    /// The nearest pin, if any.
    pub pin: Option<ProjectPin>,
    /// Pins that could not be read on the way, and pins of another version beside the one
    /// that wins, nearest first; each was ignored.
    pub warnings: Vec<PinWarning>,
}

/// A pin found in a project file.
#[derive(Debug, Clone)]
pub struct ProjectPin {
    pub file: PathBuf,
    pub version: CodexVersion,
    /// `openai-codex-cli-bin` or `openai-codex`, or `codex-runtime.toml`'s manifest.
    pub via: PinVia,
    /// The runtime wheels locked by `uv.lock` and hashed requirements files in the same
    /// directory, `uv.lock` first (it names URLs), each at the version that file locks.
    pub wheel_pins: Vec<WheelPins>,
}

#[derive(Debug, Clone)]
pub enum PinVia {
    Manifest(Box<Manifest>),
    /// A Python requirement; `other` is the SDK/runtime counterpart pinned in the same file,
    /// if any (at another version, discovery also warns that it is not used).
    Python {
        dist: &'static str,
        other: Option<(&'static str, CodexVersion)>,
    },
    /// A Node project's `package.json` that requires `@openai/codex` or `@openai/codex-sdk`
    /// (which requires `@openai/codex` at its own version) at an exact version.
    Node {
        package: &'static str,
    },
}

impl ProjectPin {
    /// The pin as a warning about another one names it: `` `FILE` (codex 0.163.0) ``.
    fn winner(&self) -> String {
        match &self.via {
            PinVia::Manifest(_) => format!("`{}` (codex {})", self.file.display(), self.version),
            PinVia::Python { dist, .. } => format!(
                "`{}` ({dist}=={})",
                self.file.display(),
                self.version.pep440()
            ),
            PinVia::Node { package } => {
                format!("`{}` ({package}@{})", self.file.display(), self.version)
            }
        }
    }

    pub(crate) fn describe(&self) -> String {
        match &self.via {
            PinVia::Manifest(_) => self.file.display().to_string(),
            PinVia::Python { dist, .. } => format!(
                "{} ({dist}=={})",
                self.file.display(),
                self.version.pep440()
            ),
            PinVia::Node { package } => {
                format!("{} ({package}@{})", self.file.display(), self.version)
            }
        }
    }
}

/// The `openai-codex-cli-bin` wheels one lock file accepts for one version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WheelPins {
    /// The `uv.lock` or requirements file that holds the digests.
    pub file: PathBuf,
    /// The runtime version the file locks.
    pub version: CodexVersion,
    /// From `uv.lock`: one per wheel, with filename, URL and size. From a requirements file:
    /// one per `--hash`, digest only (a hash there may belong to any of the version's files).
    pub wheels: Vec<LockedWheel>,
}

/// One wheel (or, from a requirements file, one accepted digest) of a lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedWheel {
    /// `openai_codex_cli_bin-0.163.0-py3-none-musllinux_1_1_x86_64.whl`, percent-decoded.
    pub filename: Option<String>,
    pub url: Option<String>,
    pub sha256: Sha256,
    pub size: Option<u64>,
    /// The 1-based line of the file where this digest is written: the `{ url = …, hash = … }`
    /// entry of `uv.lock`, the `--hash` option of a requirements file.
    pub line: Option<usize>,
}

impl WheelPins {
    /// The locked wheel for a platform tag. `platform_tag` may be a compressed tag set
    /// (`musllinux_1_1_x86_64.manylinux_2_17_x86_64`): its tags are tried in the order given,
    /// so the caller states its preference. `None` for digest-only pins (requirements files).
    pub fn for_platform(&self, platform_tag: &str) -> Option<&LockedWheel> {
        platform_tag.split('.').find_map(|want| {
            self.wheels.iter().find(|w| {
                w.filename
                    .as_deref()
                    .and_then(WheelFilename::parse)
                    .is_some_and(|name| name.has_platform(want))
            })
        })
    }

    /// Whether a file with this digest is one the lock accepts.
    pub fn allows(&self, sha256: &Sha256) -> bool {
        self.wheels.iter().any(|w| &w.sha256 == sha256)
    }
}

/// A pin that discovery could not read, or found beside the winning one at another version,
/// and ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinWarning {
    pub file: PathBuf,
    /// 1-based; `None` when the problem is the whole file.
    pub line: Option<usize>,
    pub problem: PinProblem,
}

impl fmt::Display for PinWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, " line {line}")?;
        }
        write!(f, ": {}; ignoring it", self.problem)
    }
}

impl PinWarning {
    /// What to do about it.
    pub fn hint(&self) -> String {
        match &self.problem {
            PinProblem::BadVersion { .. } => {
                "pin an exact Codex version such as `0.163.0` or `0.154.0a6`, or pass `--version`"
                    .into()
            }
            PinProblem::BadHash { .. } | PinProblem::WheelWithoutHash { .. } => {
                "regenerate the lock (`uv lock`, `uv export`, `pip-compile --generate-hashes`)"
                    .into()
            }
            PinProblem::Include { .. } => "fix the `-r` path, or remove the line".into(),
            PinProblem::Shadowed { .. } => format!(
                "make the pins agree, or remove the one that should not apply (in one directory `{FILE_NAME}` is read first, then `pyproject.toml`, `requirements*.txt`, `uv.lock`)"
            ),
            PinProblem::SdkDisagrees { .. } => format!(
                "the SDK requires its runtime at its own version: pin both to the same version in `{}`",
                self.file.display()
            ),
            PinProblem::Unreadable(_) | PinProblem::NotToml(_) | PinProblem::NotUvLock(_) => {
                format!("fix the file, or pin the runtime in `{FILE_NAME}` or with `--version`")
            }
        }
    }
}

/// What was wrong with a pin. Messages are kept as text so a warning can be cloned and shown
/// more than once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PinProblem {
    #[error("pins {dist} to `{spec}`, which is not a Codex version")]
    BadVersion { dist: &'static str, spec: String },
    #[error("pins {dist} to the hash `{hash}`, which is not a sha256 digest")]
    BadHash { dist: &'static str, hash: String },
    #[error("locks an {dist} wheel{} without a sha256 hash", .file.as_ref().map(|f| format!(" (`{f}`)")).unwrap_or_default())]
    WheelWithoutHash {
        dist: &'static str,
        file: Option<String>,
    },
    #[error("pins {dist}=={version}, but {winner} wins")]
    Shadowed {
        dist: &'static str,
        version: String,
        /// The pin that is used, with its file.
        winner: String,
    },
    #[error("pins {SDK_DIST}=={sdk}, but its {RUNTIME_DIST}=={runtime} wins (the SDK requires its runtime at its own version)")]
    SdkDisagrees { sdk: String, runtime: String },
    #[error("includes `{}`, which could not be read ({reason})", .path.display())]
    Include { path: PathBuf, reason: String },
    #[error("could not be read ({0})")]
    Unreadable(String),
    #[error("is not valid TOML ({0})")]
    NotToml(String),
    #[error("is not a uv lock file ({0})")]
    NotUvLock(String),
}

/// Walk up from `start` and return the nearest pin, with the warnings met on the way.
pub(crate) fn discover(start: &Path) -> Result<Discovery, ManifestError> {
    let mut found = Discovery::default();
    for dir in start.ancestors() {
        if let Some(pin) = pin_in_dir(dir, &mut found.warnings)? {
            found.pin = Some(pin);
            break;
        }
    }
    Ok(found)
}

/// An exact pin of the runtime or the SDK read from a file, with the wheels locked with it.
struct Found {
    dist: &'static str,
    version: CodexVersion,
    wheels: Option<WheelPins>,
}

impl Found {
    /// A pin read from `file`; `wheels` are the runtime wheels it locks, if any.
    fn new(
        file: &Path,
        dist: &'static str,
        version: CodexVersion,
        wheels: Vec<LockedWheel>,
    ) -> Found {
        let wheels = (!wheels.is_empty()).then(|| WheelPins {
            file: file.to_path_buf(),
            version: version.clone(),
            wheels,
        });
        Found {
            dist,
            version,
            wheels,
        }
    }
}

/// Reads one kind of Python pin file.
type Reader = fn(&Path, &mut Vec<PinWarning>) -> Vec<Found>;

pub(crate) fn pin_in_dir(
    dir: &Path,
    warnings: &mut Vec<PinWarning>,
) -> Result<Option<ProjectPin>, ManifestError> {
    let manifest = dir.join(FILE_NAME);
    let manifest_pin = if manifest.is_file() {
        let m = Manifest::load(&manifest)?;
        Some(ProjectPin {
            file: manifest,
            version: m.version.clone(),
            via: PinVia::Manifest(Box::new(m)),
            wheel_pins: Vec::new(),
        })
    } else {
        None
    };
    // The Python pin files, in order of precedence. All are read even when an earlier one
    // pins: a later lock file may still pin the bytes of that version.
    let mut files: Vec<(PathBuf, Reader)> = vec![(dir.join("pyproject.toml"), pyproject::read)];
    files.extend(
        requirement_files(dir)
            .into_iter()
            .map(|f| (f, requirements::read as Reader)),
    );
    files.push((dir.join("uv.lock"), uv_lock::read));
    let read: Vec<(PathBuf, Vec<Found>)> = files
        .into_iter()
        .filter(|(file, _)| file.is_file())
        .map(|(file, reader)| {
            let found = reader(&file, warnings);
            (file, found)
        })
        .collect();

    let pin = manifest_pin
        .or_else(|| {
            read.iter()
                .find_map(|(file, found)| python_pin(file, found))
        })
        .or_else(|| node_pin(dir));
    let Some(mut pin) = pin else {
        return Ok(None);
    };
    // No pin is ignored silently: every other version pinned in this directory is a warning
    // naming the pin that wins. Lock pins (with hashes) are left to the plan, which says
    // whether their digests apply to the version asked for.
    for (file, found) in &read {
        for f in found.iter().filter(|f| f.wheels.is_none()) {
            if f.version == pin.version {
                continue;
            }
            let problem = if file == &pin.file {
                PinProblem::SdkDisagrees {
                    sdk: f.version.pep440(),
                    runtime: pin.version.pep440(),
                }
            } else {
                PinProblem::Shadowed {
                    dist: f.dist,
                    version: f.version.pep440(),
                    winner: pin.winner(),
                }
            };
            let warning = PinWarning {
                file: file.clone(),
                line: None,
                problem,
            };
            if !warnings.contains(&warning) {
                warnings.push(warning);
            }
        }
    }
    for wheels in read
        .into_iter()
        .flat_map(|(_, found)| found)
        .filter_map(|f| f.wheels)
    {
        // A requirements file included by two others is read twice.
        if !pin.wheel_pins.contains(&wheels) {
            pin.wheel_pins.push(wheels);
        }
    }
    // Pins that name their wheels (`uv.lock`) first: they give URLs, not only digests.
    pin.wheel_pins
        .sort_by_key(|w| w.wheels.iter().all(|w| w.filename.is_none()));
    Ok(Some(pin))
}

/// `requirements*.txt` in `dir`, sorted by name.
fn requirement_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("requirements") && n.ends_with(".txt"))
                && p.is_file()
        })
        .collect();
    files.sort();
    files
}

/// Choose the runtime pin among a file's pins: `openai-codex-cli-bin` wins over the SDK.
fn python_pin(file: &Path, found: &[Found]) -> Option<ProjectPin> {
    let first = |dist: &str| {
        found
            .iter()
            .find(|f| f.dist == dist)
            .map(|f| f.version.clone())
    };
    let (dist, version, other) = match (first(RUNTIME_DIST), first(SDK_DIST)) {
        (Some(runtime), sdk) => (RUNTIME_DIST, runtime, sdk.map(|v| (SDK_DIST, v))),
        (None, Some(sdk)) => (SDK_DIST, sdk, None),
        (None, None) => return None,
    };
    Some(ProjectPin {
        file: file.to_path_buf(),
        version,
        via: PinVia::Python { dist, other },
        wheel_pins: Vec::new(),
    })
}

/// A Node project's exact requirement of `@openai/codex` (first) or `@openai/codex-sdk` in
/// `package.json`; ranges and tags pin nothing.
fn node_pin(dir: &Path) -> Option<ProjectPin> {
    let file = dir.join("package.json");
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).ok()?).ok()?;
    for package in [package_json::CODEX_PACKAGE, package_json::SDK_PACKAGE] {
        for section in ["dependencies", "devDependencies", "optionalDependencies"] {
            let spec = doc.get(section).and_then(|s| s.get(package)?.as_str());
            if let Some(version) = spec.and_then(package_json::exact_spec) {
                return Some(ProjectPin {
                    file,
                    version,
                    via: PinVia::Node { package },
                    wheel_pins: Vec::new(),
                });
            }
        }
    }
    None
}

/// The text of a file, or a warning that it could not be read.
fn read_or_warn(path: &Path, warnings: &mut Vec<PinWarning>) -> Option<String> {
    std::fs::read_to_string(path)
        .map_err(|e| {
            warnings.push(PinWarning {
                file: path.to_path_buf(),
                line: None,
                problem: PinProblem::Unreadable(e.to_string()),
            })
        })
        .ok()
}

/// The 1-based line holding byte `offset` of `text`.
fn line_at(text: &str, offset: usize) -> usize {
    let offset = offset.min(text.len());
    text.as_bytes()[..offset]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// A TOML file's text and what it deserializes to, or a warning: that it could not be read, or
/// `problem` made of the parser's message, at the line the parser names.
fn read_toml<T: serde::de::DeserializeOwned>(
    path: &Path,
    problem: fn(String) -> PinProblem,
    warnings: &mut Vec<PinWarning>,
) -> Option<(String, T)> {
    let text = read_or_warn(path, warnings)?;
    match toml::from_str(&text) {
        Ok(doc) => Some((text, doc)),
        Err(e) => {
            warnings.push(PinWarning {
                file: path.to_path_buf(),
                line: e.span().map(|s| line_at(&text, s.start)),
                problem: problem(e.message().trim().to_string()),
            });
            None
        }
    }
}

#[cfg(test)]
mod reference;
#[cfg(test)]
mod tests;
