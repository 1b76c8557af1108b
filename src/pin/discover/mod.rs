//! Find a project's runtime pin by walking up from a directory.
//!
//! In each directory, nearest first: `codex-runtime.toml`, then a Python project that pins
//! `openai-codex-cli-bin==X` (the runtime itself) or `openai-codex==X` (the SDK, which requires
//! its runtime at its own version) in `pyproject.toml` (dependencies, optional-dependencies,
//! dependency-groups), `requirements*.txt` (following `-r`), or `uv.lock`.
//!
//! Lock files pin bytes as well as a version: `uv.lock` lists every wheel of
//! `openai-codex-cli-bin` with its URL, sha256 and size, and a hashed requirements file (as
//! `uv export` and `pip-compile --generate-hashes` write it) gives the digests pip would accept.
//! Every such file in the directory that holds the pin is read into [`WheelPins`].
//!
//! A Python pin we cannot read (a version that is not a Codex version, a file that is not valid
//! TOML, a missing `-r` include) is a [`PinWarning`], and discovery goes on: such files belong to
//! other tools, and one stale line must not stop every command. A broken `codex-runtime.toml` is
//! ours, and stays an error.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::pin::manifest::{Manifest, ManifestError, FILE_NAME};
use crate::pin::version::CodexVersion;
use crate::verify::Sha256;

/// The runtime distribution and the SDK, as PEP 503-normalised names.
pub const RUNTIME_DIST: &str = "openai-codex-cli-bin";
pub const SDK_DIST: &str = "openai-codex";

/// What a walk up the directories found.
#[derive(Debug, Clone, Default)]
pub struct Discovery {
    /// The nearest pin, if any.
    pub pin: Option<ProjectPin>,
    /// Pins that could not be read on the way, nearest first; each was ignored.
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
    /// A Python requirement; `other` is the SDK/runtime counterpart pinned in the same project,
    /// if any, so doctor can warn when the two disagree.
    Python {
        dist: &'static str,
        other: Option<(&'static str, CodexVersion)>,
    },
}

impl ProjectPin {
    pub fn describe(&self) -> String {
        match &self.via {
            PinVia::Manifest(_) => self.file.display().to_string(),
            PinVia::Python { dist, .. } => format!(
                "{} ({dist}=={})",
                self.file.display(),
                self.version.pep440()
            ),
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
                    .and_then(wheel_platform_tags)
                    .is_some_and(|mut tags| tags.any(|t| t == want))
            })
        })
    }

    /// Whether a file with this digest is one the lock accepts.
    pub fn allows(&self, sha256: &Sha256) -> bool {
        self.wheels.iter().any(|w| &w.sha256 == sha256)
    }
}

/// The platform tags of a wheel filename
/// (`{name}-{version}(-{build})?-{python}-{abi}-{platform}.whl`, platform possibly compressed).
fn wheel_platform_tags(filename: &str) -> Option<std::str::Split<'_, char>> {
    let stem = filename.strip_suffix(".whl")?;
    let (_, platform) = stem.rsplit_once('-')?;
    Some(platform.split('.'))
}

/// A pin that discovery could not read, and ignored.
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
pub fn discover(start: &Path) -> Result<Discovery, ManifestError> {
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

/// Reads one kind of Python pin file.
type Reader = fn(&Path, &mut Vec<PinWarning>) -> Vec<Found>;

fn pin_in_dir(
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
    let mut files: Vec<(PathBuf, Reader)> = vec![(dir.join("pyproject.toml"), read_pyproject)];
    files.extend(
        requirement_files(dir)
            .into_iter()
            .map(|f| (f, read_requirements_file as Reader)),
    );
    files.push((dir.join("uv.lock"), read_uv_lock));
    let read: Vec<(PathBuf, Vec<Found>)> = files
        .into_iter()
        .filter(|(file, _)| file.is_file())
        .map(|(file, reader)| {
            let found = reader(&file, warnings);
            (file, found)
        })
        .collect();

    let pin = manifest_pin.or_else(|| {
        read.iter()
            .find_map(|(file, found)| python_pin(file, found))
    });
    let Some(mut pin) = pin else {
        return Ok(None);
    };
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

/// The pin in one requirement string, if it pins the runtime or the SDK exactly. `hashes` are
/// the line's `--hash` values: for the runtime, they become its wheel pins.
fn pin_in_requirement(
    file: &Path,
    line: Option<usize>,
    req: &str,
    hashes: &[&str],
    warnings: &mut Vec<PinWarning>,
) -> Option<Found> {
    let (dist, spec) = exact_pin(req)?;
    let mut warn = |problem| {
        warnings.push(PinWarning {
            file: file.to_path_buf(),
            line,
            problem,
        })
    };
    let Ok(version) = CodexVersion::parse(&spec) else {
        warn(PinProblem::BadVersion { dist, spec });
        return None;
    };
    let mut wheels = Vec::new();
    if dist == RUNTIME_DIST {
        for hash in hashes {
            match Sha256::parse(hash) {
                Ok(sha256) => wheels.push(LockedWheel {
                    filename: None,
                    url: None,
                    sha256,
                    size: None,
                }),
                Err(_) => warn(PinProblem::BadHash {
                    dist,
                    hash: hash.to_string(),
                }),
            }
        }
    }
    let wheels = (!wheels.is_empty()).then(|| WheelPins {
        file: file.to_path_buf(),
        version: version.clone(),
        wheels,
    });
    Some(Found {
        dist,
        version,
        wheels,
    })
}

/// PEP 503 name normalisation: lowercase, runs of `-_.` become `-`.
fn normalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// `openai-codex-cli-bin[x] == 0.163.0 ; python_version >= "3.10"` -> (dist, "0.163.0").
/// Only exact pins (`==` / `===`) count: a range does not name one runtime.
fn exact_pin(req: &str) -> Option<(&'static str, String)> {
    let req = req.split(';').next()?.split('#').next()?.trim();
    let name_end = req
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(req.len());
    let dist = match normalize_name(&req[..name_end]).as_str() {
        RUNTIME_DIST => RUNTIME_DIST,
        SDK_DIST => SDK_DIST,
        _ => return None,
    };
    let mut rest = req[name_end..].trim_start();
    if rest.starts_with('[') {
        rest = rest[rest.find(']')? + 1..].trim_start();
    }
    let spec = rest
        .strip_prefix("===")
        .or_else(|| rest.strip_prefix("=="))?
        .trim();
    if spec.is_empty() || spec.contains(',') || spec.contains('*') {
        return None;
    }
    Some((dist, spec.to_string()))
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

/// A TOML error's message and line.
fn toml_error(text: &str, e: &toml::de::Error) -> (Option<usize>, String) {
    (
        e.span().map(|s| line_at(text, s.start)),
        e.message().trim().to_string(),
    )
}

// ---------------------------------------------------------------------------------------------
// pyproject.toml

/// Pins in `[project] dependencies`, `[project.optional-dependencies]` and
/// `[dependency-groups]` (PEP 735).
fn read_pyproject(path: &Path, warnings: &mut Vec<PinWarning>) -> Vec<Found> {
    let Some(text) = read_or_warn(path, warnings) else {
        return Vec::new();
    };
    let doc = match text.parse::<toml::Table>() {
        Ok(doc) => doc,
        Err(e) => {
            let (line, message) = toml_error(&text, &e);
            warnings.push(PinWarning {
                file: path.to_path_buf(),
                line,
                problem: PinProblem::NotToml(message),
            });
            return Vec::new();
        }
    };
    pyproject_requirements(&doc)
        .iter()
        .filter_map(|req| {
            // The parsed table has no spans: the requirement's own text finds its line.
            let line = text.find(req.as_str()).map(|at| line_at(&text, at));
            pin_in_requirement(path, line, req, &[], warnings)
        })
        .collect()
}

fn pyproject_requirements(doc: &toml::Table) -> Vec<String> {
    let strings = |v: Option<&toml::Value>| -> Vec<String> {
        v.and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    let project = doc.get("project").and_then(|p| p.as_table());
    if let Some(project) = project {
        out.extend(strings(project.get("dependencies")));
        if let Some(extras) = project
            .get("optional-dependencies")
            .and_then(|t| t.as_table())
        {
            for v in extras.values() {
                out.extend(strings(Some(v)));
            }
        }
    }
    if let Some(groups) = doc.get("dependency-groups").and_then(|t| t.as_table()) {
        for v in groups.values() {
            out.extend(strings(Some(v)));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// requirements files

/// A requirement of a requirements file: where it starts, its PEP 508 text, its `--hash` values.
struct Requirement {
    file: PathBuf,
    line: usize,
    req: String,
    hashes: Vec<String>,
}

/// Pins in a requirements file and the files it includes.
fn read_requirements_file(file: &Path, warnings: &mut Vec<PinWarning>) -> Vec<Found> {
    let mut reqs = Vec::new();
    collect_requirements(file, None, &mut reqs, &mut Vec::new(), warnings);
    reqs.iter()
        .filter_map(|r| {
            let hashes: Vec<&str> = r.hashes.iter().map(String::as_str).collect();
            pin_in_requirement(&r.file, Some(r.line), &r.req, &hashes, warnings)
        })
        .collect()
}

/// Requirements of `file`, following `-r` / `--requirement` (relative to the including file),
/// each file once. `included_from` names the line that included `file`, which a warning about
/// an unreadable include points at.
fn collect_requirements(
    file: &Path,
    included_from: Option<(&Path, usize)>,
    out: &mut Vec<Requirement>,
    seen: &mut Vec<PathBuf>,
    warnings: &mut Vec<PinWarning>,
) {
    let canonical = file.canonicalize().unwrap_or_else(|_| file.to_path_buf());
    if seen.contains(&canonical) {
        return;
    }
    seen.push(canonical);
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(e) => {
            warnings.push(match included_from {
                Some((from, line)) => PinWarning {
                    file: from.to_path_buf(),
                    line: Some(line),
                    problem: PinProblem::Include {
                        path: file.to_path_buf(),
                        reason: e.to_string(),
                    },
                },
                None => PinWarning {
                    file: file.to_path_buf(),
                    line: None,
                    problem: PinProblem::Unreadable(e.to_string()),
                },
            });
            return;
        }
    };
    // Windows editors may start the file with a byte order mark; pip skips it too.
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    for (line, logical) in logical_lines(text) {
        match entry(&logical) {
            Entry::Include(rel) => {
                let path = file.parent().unwrap_or(Path::new(".")).join(rel);
                collect_requirements(&path, Some((file, line)), out, seen, warnings);
            }
            Entry::Requirement { req, hashes } => out.push(Requirement {
                file: file.to_path_buf(),
                line,
                req,
                hashes: hashes.into_iter().map(str::to_string).collect(),
            }),
            Entry::Other => {}
        }
    }
}

/// pip's logical lines, each with the number of its first physical line: a line ending in `\`
/// continues on the next, a comment line ends a continuation, and comments (`#` at the start
/// or after whitespace) are removed. This is the shape `uv export` and
/// `pip-compile --generate-hashes` write:
///
/// ```text
/// openai-codex-cli-bin==0.163.0 ; python_version >= "3.10" \
///     --hash=sha256:75b7… \
///     --hash=sha256:e810…
///     # via openai-codex
/// ```
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (i, raw) in text.lines().enumerate() {
        let (start, mut joined) = pending.take().unwrap_or((i + 1, String::new()));
        let is_comment = raw.trim_start().starts_with('#');
        match raw.trim_end().strip_suffix('\\') {
            Some(head) if !is_comment => {
                joined.push_str(head);
                joined.push(' ');
                pending = Some((start, joined));
            }
            _ => {
                joined.push_str(raw);
                out.push((start, strip_comment(&joined).trim().to_string()));
            }
        }
    }
    // A file that ends inside a continuation: pip takes what it has.
    if let Some((start, joined)) = pending {
        out.push((start, strip_comment(&joined).trim().to_string()));
    }
    out
}

/// The line up to its comment: `#` at the start or after whitespace (so a URL's `#sha256=`
/// fragment stays).
fn strip_comment(line: &str) -> &str {
    let mut after_space = true;
    for (i, c) in line.char_indices() {
        if c == '#' && after_space {
            return &line[..i];
        }
        after_space = c.is_whitespace();
    }
    line
}

/// What a logical line of a requirements file is, as far as pins go.
#[derive(Debug, PartialEq, Eq)]
enum Entry<'a> {
    /// `-r FILE`, `-rFILE`, `--requirement FILE`, `--requirement=FILE`.
    Include(&'a str),
    /// A requirement and its `--hash` values (`sha256:HEX`, as written).
    Requirement { req: String, hashes: Vec<&'a str> },
    /// Blank lines and every other option line (`-e .`, `--index-url …`, `-c FILE`, …).
    Other,
}

fn entry(line: &str) -> Entry<'_> {
    let mut tokens = line.split_whitespace();
    let Some(first) = tokens.next() else {
        return Entry::Other;
    };
    if first.starts_with('-') {
        let include = first.strip_prefix("--requirement").or_else(|| {
            first
                .strip_prefix("-r")
                .filter(|_| !first.starts_with("--"))
        });
        return match include.map(|rest| rest.strip_prefix('=').unwrap_or(rest)) {
            Some("") => tokens.next().map_or(Entry::Other, Entry::Include),
            Some(path) => Entry::Include(path),
            None => Entry::Other,
        };
    }
    // pip's rule: the requirement runs up to the first token that is an option; the rest are
    // per-requirement options, of which only `--hash` matters here.
    let mut req = vec![first];
    let mut hashes = Vec::new();
    let mut in_options = false;
    while let Some(token) = tokens.next() {
        if let Some(value) = token.strip_prefix("--hash") {
            in_options = true;
            match value.strip_prefix('=') {
                Some(v) => hashes.push(v),
                None if value.is_empty() => hashes.extend(tokens.next()),
                None => {}
            }
        } else if token.starts_with('-') {
            in_options = true;
        } else if !in_options {
            req.push(token);
        }
    }
    Entry::Requirement {
        req: req.join(" "),
        hashes,
    }
}

// ---------------------------------------------------------------------------------------------
// uv.lock

/// The parts of a `uv.lock` read here; serde ignores the rest.
#[derive(Deserialize)]
struct UvLock {
    #[serde(default)]
    package: Vec<UvPackage>,
}

#[derive(Deserialize)]
struct UvPackage {
    name: String,
    /// Absent for a workspace member with a dynamic version.
    version: Option<Spanned<String>>,
    #[serde(default)]
    wheels: Vec<Spanned<UvWheel>>,
}

/// `{ url = "…", hash = "sha256:…", size = N, upload-time = "…" }`; a wheel from a local
/// directory has `path` instead of `url`, and uv may add `filename`.
#[derive(Deserialize)]
struct UvWheel {
    url: Option<String>,
    path: Option<String>,
    filename: Option<String>,
    hash: Option<String>,
    size: Option<u64>,
}

/// Pins in a `uv.lock`: the runtime and SDK packages, and the runtime's wheels.
fn read_uv_lock(path: &Path, warnings: &mut Vec<PinWarning>) -> Vec<Found> {
    let Some(text) = read_or_warn(path, warnings) else {
        return Vec::new();
    };
    let lock: UvLock = match toml::from_str(&text) {
        Ok(lock) => lock,
        Err(e) => {
            let (line, message) = toml_error(&text, &e);
            warnings.push(PinWarning {
                file: path.to_path_buf(),
                line,
                problem: PinProblem::NotUvLock(message),
            });
            return Vec::new();
        }
    };
    let mut found = Vec::new();
    for package in lock.package {
        let dist = match normalize_name(&package.name).as_str() {
            RUNTIME_DIST => RUNTIME_DIST,
            SDK_DIST => SDK_DIST,
            _ => continue,
        };
        let Some(spec) = package.version else {
            continue;
        };
        let mut warn = |span: std::ops::Range<usize>, problem| {
            warnings.push(PinWarning {
                file: path.to_path_buf(),
                line: Some(line_at(&text, span.start)),
                problem,
            })
        };
        let Ok(version) = CodexVersion::parse(spec.get_ref()) else {
            let span = spec.span();
            warn(
                span,
                PinProblem::BadVersion {
                    dist,
                    spec: spec.into_inner(),
                },
            );
            continue;
        };
        let mut wheels = Vec::new();
        if dist == RUNTIME_DIST {
            for wheel in package.wheels {
                let span = wheel.span();
                let wheel = wheel.into_inner();
                let filename = wheel
                    .filename
                    .or_else(|| wheel.url.as_deref().and_then(url_filename))
                    .or_else(|| wheel.path.as_deref().and_then(path_filename));
                let sha256 = match wheel.hash.as_deref().map(Sha256::parse) {
                    Some(Ok(sha256)) => sha256,
                    Some(Err(_)) => {
                        let hash = wheel.hash.unwrap_or_default();
                        warn(span, PinProblem::BadHash { dist, hash });
                        continue;
                    }
                    None => {
                        warn(
                            span,
                            PinProblem::WheelWithoutHash {
                                dist,
                                file: filename,
                            },
                        );
                        continue;
                    }
                };
                wheels.push(LockedWheel {
                    filename,
                    url: wheel.url,
                    sha256,
                    size: wheel.size,
                });
            }
        }
        let wheels = (!wheels.is_empty()).then(|| WheelPins {
            file: path.to_path_buf(),
            version: version.clone(),
            wheels,
        });
        found.push(Found {
            dist,
            version,
            wheels,
        });
    }
    found
}

/// The last path segment of a URL, percent-decoded: the wheel's filename.
fn url_filename(url: &str) -> Option<String> {
    let path = url.split(['?', '#']).next()?;
    let name = path.rsplit('/').next()?;
    (!name.is_empty()).then(|| percent_decode(name))
}

fn path_filename(path: &str) -> Option<String> {
    let name = path.rsplit(['/', '\\']).next()?;
    (!name.is_empty()).then(|| name.to_string())
}

/// `%XX` escapes decoded; text that does not decode to UTF-8 is kept as written.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escape = bytes
            .get(i + 1..i + 3)
            .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match escape {
            Some(b) if bytes[i] == b'%' => {
                out.push(b);
                i += 3;
            }
            _ => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}
#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).unwrap();
    }

    /// The nearest pin, failing the test if there is none or if discovery warned.
    fn pin_at(dir: &Path) -> ProjectPin {
        let found = discover(dir).unwrap();
        assert!(found.warnings.is_empty(), "{:?}", found.warnings);
        found.pin.expect("a pin")
    }

    fn sha(hex: &str) -> Sha256 {
        Sha256::parse(hex).unwrap()
    }

    /// The eight wheels of `openai-codex-cli-bin` 0.163.0 used by the fixtures below:
    /// platform tag and sha256 (the digests are fixture values, not the published ones).
    const RUNTIME_WHEELS: [(&str, &str); 8] = [
        (
            "macosx_10_9_x86_64",
            "ccbbc0e1469d4a25b1beb30409440ee018bdbbdd3514830f5cd51882f5ee18f9",
        ),
        (
            "macosx_11_0_arm64",
            "9115e06d5ae94d60437ab591a2e1a79849043f8270fbed46a680e9b228775276",
        ),
        (
            "manylinux_2_17_aarch64",
            "2ee409d8165d2638c99008403e01d3ba630df984705e648d8eee548ab2da4544",
        ),
        (
            "manylinux_2_17_x86_64",
            "e81085b3aedf110bab3a0df19e1a93f26af0ec73b9d1ffde3f5e69f235dbf99a",
        ),
        (
            "musllinux_1_1_aarch64",
            "b5695429697d465060ce377a387a970e827278454de10d17844c9942a5c7c7be",
        ),
        (
            "musllinux_1_1_x86_64",
            "75b78cc0d598ad6d8bc15dcebf5ea97ec7de9acadd249a58d3ec204371e7c1a6",
        ),
        (
            "win_amd64",
            "e49a96fc0432e50a9ea133bd20310e6d4a689d31ee8a88ab67447e50ffc49a5d",
        ),
        (
            "win_arm64",
            "af11297ef29f3e32caa0054173b2dd00f5bb7ab6e41a96187e806a8912c0db76",
        ),
    ];
    /// The SDK's own wheel, which must never be taken for a runtime wheel.
    const SDK_WHEEL: &str = "962088ddb4f359ee098259d825d4335cf48b6234b2de8f378b7f3a1f5c111f60";

    /// `uv export --format requirements-txt` of a project that depends on the SDK, whose
    /// `requires-python` is lower than the SDK's (hence the marker on the SDK's lines).
    const UV_EXPORT: &str = r#"# This file was autogenerated by uv via the following command:
#    uv export --format requirements-txt --output-file requirements.txt
-e .
annotated-types==0.7.0 \
    --hash=sha256:c3f6cbba6fd0b317488de746b05518a9510f8360218174b0ee43ca602fdbdf06 \
    --hash=sha256:3b5d0141991ffb11ccf9165955b9ec0a9e96c9ba548ced66898acd3b1b4d6e7b
    # via pydantic
colorama==0.4.6 ; sys_platform == 'win32' \
    --hash=sha256:bf94572e2dbca581726f8f22633b75af9b7f1abe9605319c2679646d1f0ef1fa \
    --hash=sha256:468f998fd6bd9c6100c174458258081eef2f4b3dcf77fa9b01c3b5162f9a3fb4
    # via tqdm
openai-codex==0.163.0 ; python_full_version >= '3.10' \
    --hash=sha256:d04da816e8125f44f9bb09c3a86ee5aa058fd415206637c7cb8e3d079800d3b5 \
    --hash=sha256:962088ddb4f359ee098259d825d4335cf48b6234b2de8f378b7f3a1f5c111f60
    # via demo
openai-codex-cli-bin==0.163.0 ; python_full_version >= '3.10' \
    --hash=sha256:ccbbc0e1469d4a25b1beb30409440ee018bdbbdd3514830f5cd51882f5ee18f9 \
    --hash=sha256:9115e06d5ae94d60437ab591a2e1a79849043f8270fbed46a680e9b228775276 \
    --hash=sha256:2ee409d8165d2638c99008403e01d3ba630df984705e648d8eee548ab2da4544 \
    --hash=sha256:e81085b3aedf110bab3a0df19e1a93f26af0ec73b9d1ffde3f5e69f235dbf99a \
    --hash=sha256:b5695429697d465060ce377a387a970e827278454de10d17844c9942a5c7c7be \
    --hash=sha256:75b78cc0d598ad6d8bc15dcebf5ea97ec7de9acadd249a58d3ec204371e7c1a6 \
    --hash=sha256:e49a96fc0432e50a9ea133bd20310e6d4a689d31ee8a88ab67447e50ffc49a5d \
    --hash=sha256:af11297ef29f3e32caa0054173b2dd00f5bb7ab6e41a96187e806a8912c0db76
    # via openai-codex
pydantic==2.12.4 ; python_full_version >= '3.10' \
    --hash=sha256:ee0cde06c41cffb78e772e67126222ccf3a20e5893b6d3a4efdc72d446236fe0 \
    --hash=sha256:f4d7d2995dca197417ad444687d6c6d0a2687afb40d9fa982249af82b025379f
    # via openai-codex
tqdm==4.67.1 \
    --hash=sha256:48489d61514a5d68b5116c12cd5bc4ccd205516647282bafcbd209616b973cbf
    # via demo
"#;

    /// `pip-compile --generate-hashes` of a `requirements.in` naming the SDK with a marker,
    /// against a private index (`--index-url` and `--extra-index-url` are emitted).
    const PIP_COMPILE: &str = r#"#
# This file is autogenerated by pip-compile with Python 3.12
# by the following command:
#
#    pip-compile --generate-hashes --output-file=requirements.txt requirements.in
#
--index-url http://127.0.0.1:3141/root/pypi/+simple/
--extra-index-url http://127.0.0.1:3141/team/wheels/+simple/

annotated-types==0.7.0 \
    --hash=sha256:3b5d0141991ffb11ccf9165955b9ec0a9e96c9ba548ced66898acd3b1b4d6e7b \
    --hash=sha256:c3f6cbba6fd0b317488de746b05518a9510f8360218174b0ee43ca602fdbdf06
    # via pydantic
openai-codex==0.163.0 ; python_version >= "3.9" \
    --hash=sha256:962088ddb4f359ee098259d825d4335cf48b6234b2de8f378b7f3a1f5c111f60 \
    --hash=sha256:d04da816e8125f44f9bb09c3a86ee5aa058fd415206637c7cb8e3d079800d3b5
    # via -r requirements.in
openai-codex-cli-bin==0.163.0 \
    --hash=sha256:2ee409d8165d2638c99008403e01d3ba630df984705e648d8eee548ab2da4544 \
    --hash=sha256:75b78cc0d598ad6d8bc15dcebf5ea97ec7de9acadd249a58d3ec204371e7c1a6 \
    --hash=sha256:9115e06d5ae94d60437ab591a2e1a79849043f8270fbed46a680e9b228775276 \
    --hash=sha256:af11297ef29f3e32caa0054173b2dd00f5bb7ab6e41a96187e806a8912c0db76 \
    --hash=sha256:b5695429697d465060ce377a387a970e827278454de10d17844c9942a5c7c7be \
    --hash=sha256:ccbbc0e1469d4a25b1beb30409440ee018bdbbdd3514830f5cd51882f5ee18f9 \
    --hash=sha256:e49a96fc0432e50a9ea133bd20310e6d4a689d31ee8a88ab67447e50ffc49a5d \
    --hash=sha256:e81085b3aedf110bab3a0df19e1a93f26af0ec73b9d1ffde3f5e69f235dbf99a
    # via openai-codex
pydantic==2.12.4 \
    --hash=sha256:ee0cde06c41cffb78e772e67126222ccf3a20e5893b6d3a4efdc72d446236fe0 \
    --hash=sha256:f4d7d2995dca197417ad444687d6c6d0a2687afb40d9fa982249af82b025379f
    # via
    #   -r requirements.in
    #   openai-codex
"#;

    /// A `uv.lock` (revision 3) of a project that depends on the SDK only: the runtime is
    /// locked as the SDK's dependency, with all eight wheels, behind a private index.
    const UV_LOCK: &str = r#"version = 1
revision = 3
requires-python = ">=3.10"

[[package]]
name = "annotated-types"
version = "0.7.0"
source = { registry = "https://artifacts.example.com/api/pypi/pypi-remote/simple" }
sdist = { url = "https://artifacts.example.com/api/pypi/pypi-remote/packages/packages/ee/67/531ea369ba64dcff5ec9c3402f9f51bf748cec26dde048a2f973a4eea7f5/annotated_types-0.7.0.tar.gz", hash = "sha256:3b5d0141991ffb11ccf9165955b9ec0a9e96c9ba548ced66898acd3b1b4d6e7b", size = 16081, upload-time = "2024-05-20T21:33:25.928Z" }
wheels = [
    { url = "https://artifacts.example.com/api/pypi/pypi-remote/packages/packages/78/b6/6307fbef88d9b5ee7421e68d78a9f162e0da4900bc5f5793f6d3d0e34fb8/annotated_types-0.7.0-py3-none-any.whl", hash = "sha256:c3f6cbba6fd0b317488de746b05518a9510f8360218174b0ee43ca602fdbdf06", size = 13643, upload-time = "2024-05-20T21:33:24.1Z" },
]

[[package]]
name = "demo"
version = "0.1.0"
source = { editable = "." }
dependencies = [
    { name = "openai-codex" },
]

[package.metadata]
requires-dist = [{ name = "openai-codex", specifier = "==0.163.0" }]

[[package]]
name = "openai-codex"
version = "0.163.0"
source = { registry = "https://artifacts.example.com/api/pypi/pypi-remote/simple" }
dependencies = [
    { name = "openai-codex-cli-bin" },
    { name = "pydantic" },
]
sdist = { url = "https://artifacts.example.com/api/pypi/pypi-remote/packages/packages/1c/2d/0f3e/openai_codex-0.163.0.tar.gz", hash = "sha256:d04da816e8125f44f9bb09c3a86ee5aa058fd415206637c7cb8e3d079800d3b5", size = 48211, upload-time = "2025-11-20T18:04:02.511Z" }
wheels = [
    { url = "https://artifacts.example.com/api/pypi/pypi-remote/packages/packages/5a/9b/77c1/openai_codex-0.163.0-py3-none-any.whl", hash = "sha256:962088ddb4f359ee098259d825d4335cf48b6234b2de8f378b7f3a1f5c111f60", size = 61733, upload-time = "2025-11-20T18:04:01.907Z" },
]

[[package]]
name = "openai-codex-cli-bin"
version = "0.163.0"
source = { registry = "https://artifacts.example.com/api/pypi/pypi-remote/simple" }
wheels = [
    { url = "https://artifacts.example.com/api/pypi/pypi-remote/packages/packages/0a/11/c4d2/openai_codex_cli_bin-0.163.0-py3-none-macosx_10_9_x86_64.whl", hash = "sha256:ccbbc0e1469d4a25b1beb30409440ee018bdbbdd3514830f5cd51882f5ee18f9", size = 98816203, upload-time = "2025-11-20T18:03:31.104Z" },
    { url = "https://artifacts.example.com/api/pypi/pypi-remote/packages/packages/3e/70/9a1b/openai_codex_cli_bin-0.163.0-py3-none-macosx_11_0_arm64.whl", hash = "sha256:9115e06d5ae94d60437ab591a2e1a79849043f8270fbed46a680e9b228775276", size = 91420577, upload-time = "2025-11-20T18:03:35.662Z" },
    { url = "https://artifacts.example.com/api/pypi/pypi-remote/packages/packages/51/d8/03ee/openai_codex_cli_bin-0.163.0-py3-none-manylinux_2_17_aarch64.whl", hash = "sha256:2ee409d8165d2638c99008403e01d3ba630df984705e648d8eee548ab2da4544", size = 97002361, upload-time = "2025-11-20T18:03:40.284Z" },
    { url = "https://artifacts.example.com/api/pypi/pypi-remote/packages/packages/8c/4f/1e2a/openai_codex_cli_bin-0.163.0-py3-none-manylinux_2_17_x86_64.whl", hash = "sha256:e81085b3aedf110bab3a0df19e1a93f26af0ec73b9d1ffde3f5e69f235dbf99a", size = 102371928, upload-time = "2025-11-20T18:03:45.019Z" },
    { url = "https://artifacts.example.com/api/pypi/pypi-remote/packages/packages/b2/e5/7d31/openai_codex_cli_bin-0.163.0-py3-none-musllinux_1_1_aarch64.whl", hash = "sha256:b5695429697d465060ce377a387a970e827278454de10d17844c9942a5c7c7be", size = 97455310, upload-time = "2025-11-20T18:03:49.870Z" },
    { url = "https://artifacts.example.com/api/pypi/pypi-remote/packages/packages/c9/02/5b6e/openai_codex_cli_bin-0.163.0-py3-none-musllinux_1_1_x86_64.whl", hash = "sha256:75b78cc0d598ad6d8bc15dcebf5ea97ec7de9acadd249a58d3ec204371e7c1a6", size = 102824851, upload-time = "2025-11-20T18:03:54.412Z" },
    { url = "https://artifacts.example.com/api/pypi/pypi-remote/packages/packages/e4/83/aa90/openai_codex_cli_bin-0.163.0-py3-none-win_amd64.whl", hash = "sha256:e49a96fc0432e50a9ea133bd20310e6d4a689d31ee8a88ab67447e50ffc49a5d", size = 104117336, upload-time = "2025-11-20T18:03:59.223Z" },
    { url = "https://artifacts.example.com/api/pypi/pypi-remote/packages/packages/f7/6c/2b48/openai_codex_cli_bin-0.163.0-py3-none-win_arm64.whl", hash = "sha256:af11297ef29f3e32caa0054173b2dd00f5bb7ab6e41a96187e806a8912c0db76", size = 96688414, upload-time = "2025-11-20T18:04:00.731Z" },
]

[[package]]
name = "pydantic"
version = "2.12.4"
source = { registry = "https://artifacts.example.com/api/pypi/pypi-remote/simple" }
dependencies = [
    { name = "annotated-types" },
]
wheels = [
    { url = "https://artifacts.example.com/api/pypi/pypi-remote/packages/packages/82/d4/9e1f/pydantic-2.12.4-py3-none-any.whl", hash = "sha256:ee0cde06c41cffb78e772e67126222ccf3a20e5893b6d3a4efdc72d446236fe0", size = 463395, upload-time = "2025-11-05T10:50:11.802Z" },
]
"#;

    /// Every runtime digest of the fixtures is allowed, and the SDK's is not.
    fn assert_allows_exactly_the_runtime_wheels(pins: &WheelPins) {
        assert_eq!(pins.wheels.len(), 8, "{pins:?}");
        for (tag, hex) in RUNTIME_WHEELS {
            assert!(pins.allows(&sha(hex)), "{tag}");
        }
        assert!(!pins.allows(&sha(SDK_WHEEL)));
    }

    #[test]
    fn requirement_strings() {
        let cases = [
            (
                "openai-codex-cli-bin==0.163.0",
                Some((RUNTIME_DIST, "0.163.0")),
            ),
            (
                "OpenAI_Codex.CLI-bin == 0.154.0a6 ; python_version>='3.10'",
                Some((RUNTIME_DIST, "0.154.0a6")),
            ),
            ("openai-codex[extra]===0.163.0", Some((SDK_DIST, "0.163.0"))),
            ("openai-codex>=0.163.0", None),
            ("openai-codex==0.163.*", None),
            ("openai-codexx==0.163.0", None),
            ("openai==1.0.0", None),
        ];
        for (req, want) in cases {
            let got = exact_pin(req);
            assert_eq!(got.as_ref().map(|(d, s)| (*d, s.as_str())), want, "{req}");
        }
    }

    #[test]
    fn logical_lines_join_continuations_and_drop_comments() {
        let text = "# header \\\n\
                    openai-codex==0.163.0 ; python_version >= \"3.9\" \\\n    \
                    --hash=sha256:aa \\\n    \
                    --hash=sha256:bb\n    \
                    # via -r requirements.in\n\
                    pkg @ https://host.test/pkg-1.0.whl#sha256=cc  # a direct URL\n\
                    left==1 \\\n    \
                    # a comment ends the continuation\n\
                    tail==2 \\";
        let got = logical_lines(text);
        let want = [
            (1, ""),
            (
                2,
                "openai-codex==0.163.0 ; python_version >= \"3.9\"      --hash=sha256:aa      --hash=sha256:bb",
            ),
            (5, ""),
            (6, "pkg @ https://host.test/pkg-1.0.whl#sha256=cc"),
            (7, "left==1"),
            (9, "tail==2"),
        ];
        let got: Vec<(usize, &str)> = got.iter().map(|(n, l)| (*n, l.as_str())).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn requirement_entries() {
        let req = |req: &str, hashes: &[&'static str]| Entry::Requirement {
            req: req.to_string(),
            hashes: hashes.to_vec(),
        };
        let cases = [
            ("-r base.txt", Entry::Include("base.txt")),
            ("-rbase.txt", Entry::Include("base.txt")),
            ("--requirement=base.txt", Entry::Include("base.txt")),
            ("--requirement base.txt", Entry::Include("base.txt")),
            ("-r", Entry::Other),
            ("-e .", Entry::Other),
            ("-c constraints.txt", Entry::Other),
            ("--index-url http://127.0.0.1:3141/simple/", Entry::Other),
            ("--extra-index-url http://127.0.0.1:3141/x/", Entry::Other),
            ("--require-hashes", Entry::Other),
            ("", Entry::Other),
            (
                "openai-codex-cli-bin==0.163.0 ; python_version >= \"3.9\" --hash=sha256:aa --hash sha256:bb",
                req(
                    "openai-codex-cli-bin==0.163.0 ; python_version >= \"3.9\"",
                    &["sha256:aa", "sha256:bb"],
                ),
            ),
            (
                "openai-codex==0.163.0 --config-settings key=value --hash=sha256:aa",
                req("openai-codex==0.163.0", &["sha256:aa"]),
            ),
        ];
        for (line, want) in cases {
            assert_eq!(entry(line), want, "{line}");
        }
    }

    #[test]
    fn uv_export_requirements_pin_the_runtime_and_its_hashes() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "requirements.txt", UV_EXPORT);
        let pin = pin_at(dir.path());
        assert_eq!(pin.version.to_string(), "0.163.0");
        assert!(
            pin.describe()
                .ends_with("requirements.txt (openai-codex-cli-bin==0.163.0)"),
            "{}",
            pin.describe()
        );
        match &pin.via {
            PinVia::Python { dist, other } => {
                assert_eq!(*dist, RUNTIME_DIST);
                let (other_dist, other_version) = other.as_ref().unwrap();
                assert_eq!(
                    (*other_dist, other_version.to_string().as_str()),
                    (SDK_DIST, "0.163.0")
                );
            }
            PinVia::Manifest(_) => panic!("expected a Python pin"),
        }
        assert_eq!(pin.wheel_pins.len(), 1);
        let pins = &pin.wheel_pins[0];
        assert_eq!(pins.file, dir.path().join("requirements.txt"));
        assert_eq!(pins.version, pin.version);
        assert_allows_exactly_the_runtime_wheels(pins);
        // Digests only: no filename, so no wheel can be chosen by platform.
        assert!(pins
            .wheels
            .iter()
            .all(|w| w.filename.is_none() && w.url.is_none() && w.size.is_none()));
        assert_eq!(pins.for_platform("musllinux_1_1_x86_64"), None);
    }

    #[test]
    fn pip_compile_hashes_pin_the_runtime_an_sdk_requires() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "requirements.in",
            "openai-codex==0.163.0 ; python_version >= \"3.9\"\npydantic\n",
        );
        write(dir.path(), "requirements.txt", PIP_COMPILE);
        let pin = pin_at(dir.path());
        assert_eq!(pin.version.to_string(), "0.163.0");
        assert!(matches!(
            pin.via,
            PinVia::Python {
                dist: RUNTIME_DIST,
                ..
            }
        ));
        assert_eq!(pin.wheel_pins.len(), 1);
        assert_eq!(pin.wheel_pins[0].file, dir.path().join("requirements.txt"));
        assert_allows_exactly_the_runtime_wheels(&pin.wheel_pins[0]);
    }

    #[test]
    fn an_sdk_only_hashed_requirement_pins_the_sdk_without_wheel_pins() {
        // The SDK's hashes are the SDK's files, not the runtime's: they pin no runtime bytes.
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "requirements.txt",
            &format!("openai-codex==0.163.0 \\\n    --hash=sha256:{SDK_WHEEL}\n"),
        );
        let pin = pin_at(dir.path());
        assert!(matches!(pin.via, PinVia::Python { dist: SDK_DIST, .. }));
        assert!(pin.wheel_pins.is_empty());
    }

    #[test]
    fn uv_lock_with_both_packages_and_eight_wheels() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "uv.lock", UV_LOCK);
        let pin = pin_at(dir.path());
        assert_eq!(pin.version.to_string(), "0.163.0");
        assert!(pin
            .describe()
            .ends_with("uv.lock (openai-codex-cli-bin==0.163.0)"));
        assert_eq!(pin.wheel_pins.len(), 1);
        let pins = &pin.wheel_pins[0];
        assert_eq!(pins.file, dir.path().join("uv.lock"));
        assert_allows_exactly_the_runtime_wheels(pins);
        for (tag, hex) in RUNTIME_WHEELS {
            let wheel = pins.for_platform(tag).unwrap();
            assert_eq!(
                wheel.filename.as_deref(),
                Some(format!("openai_codex_cli_bin-0.163.0-py3-none-{tag}.whl").as_str())
            );
            assert_eq!(wheel.sha256, sha(hex));
            assert!(wheel
                .url
                .as_deref()
                .unwrap()
                .ends_with(&format!("-{tag}.whl")));
        }
        let musl = pins.for_platform("musllinux_1_1_x86_64").unwrap();
        assert_eq!(musl.size, Some(102_824_851));
        assert_eq!(
            musl.url.as_deref(),
            Some("https://artifacts.example.com/api/pypi/pypi-remote/packages/packages/c9/02/5b6e/openai_codex_cli_bin-0.163.0-py3-none-musllinux_1_1_x86_64.whl")
        );
        // A compressed tag set is a preference order.
        let tag = |w: Option<&LockedWheel>| w.map(|w| w.sha256);
        assert_eq!(
            tag(pins.for_platform("musllinux_1_1_aarch64.manylinux_2_17_aarch64")),
            Some(sha(RUNTIME_WHEELS[4].1))
        );
        assert_eq!(
            tag(pins.for_platform("manylinux_2_17_aarch64.musllinux_1_1_aarch64")),
            Some(sha(RUNTIME_WHEELS[2].1))
        );
        assert_eq!(pins.for_platform("linux_riscv64"), None);
    }

    #[test]
    fn wheels_match_on_any_tag_of_a_compressed_filename() {
        let wheel = |name: &str| LockedWheel {
            filename: Some(name.to_string()),
            url: None,
            sha256: Sha256::of(name.as_bytes()),
            size: None,
        };
        let pins = WheelPins {
            file: PathBuf::from("uv.lock"),
            version: CodexVersion::parse("0.163.0").unwrap(),
            wheels: vec![
                wheel("openai_codex_cli_bin-0.163.0-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"),
                wheel("openai_codex_cli_bin-0.163.0-1-py3-none-win_amd64.whl"),
                wheel("not-a-wheel.tar.gz"),
            ],
        };
        let name = |tag: &str| pins.for_platform(tag).and_then(|w| w.filename.clone());
        assert!(name("manylinux2014_x86_64")
            .unwrap()
            .contains("manylinux_2_17"));
        assert!(name("win_amd64").unwrap().contains("-1-py3"));
        assert_eq!(name("gz"), None);
    }

    #[test]
    fn url_filenames_are_percent_decoded() {
        assert_eq!(
            url_filename("https://h.test/p/openai_codex_cli_bin-0.163.0%2Blocal-py3-none-win_amd64.whl?x=1#sha256=aa")
                .as_deref(),
            Some("openai_codex_cli_bin-0.163.0+local-py3-none-win_amd64.whl")
        );
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(percent_decode("a%+1b"), "a%+1b");
        assert_eq!(percent_decode("%ff"), "%ff");
        assert_eq!(url_filename("https://h.test/dir/"), None);
        assert_eq!(
            path_filename(r"C:\wheels\openai_codex_cli_bin-0.163.0-py3-none-win_arm64.whl")
                .as_deref(),
            Some("openai_codex_cli_bin-0.163.0-py3-none-win_arm64.whl")
        );
    }

    #[test]
    fn uv_lock() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "uv.lock",
            "version = 1\n[[package]]\nname = \"openai-codex-cli-bin\"\nversion = \"0.163.0\"\n",
        );
        let pin = pin_at(dir.path());
        assert_eq!(pin.version.to_string(), "0.163.0");
        assert!(pin.describe().contains("uv.lock"));
        assert!(pin.wheel_pins.is_empty());
    }

    #[test]
    fn an_sdk_pin_takes_the_runtime_wheels_from_the_lock_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "pyproject.toml",
            "[project]\nname = \"demo\"\nversion = \"0.1.0\"\ndependencies = [\"openai-codex==0.163.0\"]\n",
        );
        write(dir.path(), "uv.lock", UV_LOCK);
        write(dir.path(), "requirements.txt", UV_EXPORT);
        let pin = pin_at(dir.path());
        assert_eq!(pin.file, dir.path().join("pyproject.toml"));
        assert!(matches!(pin.via, PinVia::Python { dist: SDK_DIST, .. }));
        // uv.lock first: it names the URLs.
        let files: Vec<&Path> = pin.wheel_pins.iter().map(|w| w.file.as_path()).collect();
        assert_eq!(
            files,
            [
                dir.path().join("uv.lock"),
                dir.path().join("requirements.txt")
            ]
        );
    }

    #[test]
    fn a_runtime_manifest_still_collects_the_wheel_pins_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), FILE_NAME, "[runtime]\nversion = \"0.163.0\"\n");
        write(dir.path(), "uv.lock", UV_LOCK);
        let pin = pin_at(dir.path());
        assert!(matches!(pin.via, PinVia::Manifest(_)));
        assert_eq!(pin.wheel_pins.len(), 1);
        assert_allows_exactly_the_runtime_wheels(&pin.wheel_pins[0]);
    }

    #[test]
    fn pyproject_groups_and_extras() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "pyproject.toml",
            "[project]\nname='x'\ndependencies=['requests']\n[project.optional-dependencies]\nai=['openai-codex==0.160.0']\n[dependency-groups]\ndev=['openai-codex-cli-bin==0.163.0', {include-group='x'}]\n",
        );
        let nested = dir.path().join("a/b");
        std::fs::create_dir_all(&nested).unwrap();
        let pin = pin_at(&nested);
        assert_eq!(pin.version.to_string(), "0.163.0");
        assert!(pin
            .describe()
            .ends_with("pyproject.toml (openai-codex-cli-bin==0.163.0)"));
        match pin.via {
            PinVia::Python { dist, other } => {
                assert_eq!(dist, RUNTIME_DIST);
                assert_eq!(other.unwrap().1.to_string(), "0.160.0");
            }
            PinVia::Manifest(_) => panic!("expected a Python pin"),
        }
    }

    #[test]
    fn requirements_follow_includes_and_survive_cycles() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "requirements.txt",
            "-r more/base.txt\nrequests\n",
        );
        std::fs::create_dir(dir.path().join("more")).unwrap();
        write(
            &dir.path().join("more"),
            "base.txt",
            "--requirement ../requirements.txt\nopenai-codex==0.154.0a6.post2  # the SDK\n",
        );
        let pin = pin_at(dir.path());
        assert_eq!(pin.version.to_string(), "0.154.0-alpha.6.2");
    }

    #[test]
    fn hashes_in_an_included_file_name_that_file() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "requirements.txt", "-r locked.txt\n");
        write(dir.path(), "locked.txt", PIP_COMPILE);
        let pin = pin_at(dir.path());
        assert_eq!(pin.file, dir.path().join("requirements.txt"));
        assert_eq!(pin.wheel_pins[0].file, dir.path().join("locked.txt"));
    }

    #[test]
    fn manifest_wins_in_the_same_directory_and_nearest_wins_overall() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "requirements.txt", "openai-codex==0.150.0\n");
        let inner = dir.path().join("inner");
        std::fs::create_dir(&inner).unwrap();
        write(
            &inner,
            "requirements-dev.txt",
            "openai-codex-cli-bin==0.151.0\n",
        );
        write(&inner, FILE_NAME, "[runtime]\nversion = \"0.152.0\"\n");
        assert_eq!(pin_at(&inner).version.to_string(), "0.152.0");
        std::fs::remove_file(inner.join(FILE_NAME)).unwrap();
        assert_eq!(pin_at(&inner).version.to_string(), "0.151.0");
        assert_eq!(pin_at(dir.path()).version.to_string(), "0.150.0");
    }

    #[test]
    fn windows_line_endings_and_a_byte_order_mark() {
        let dir = tempfile::tempdir().unwrap();
        let good = RUNTIME_WHEELS[6].1;
        write(
            dir.path(),
            "requirements.txt",
            &format!("\u{feff}openai-codex-cli-bin==0.163.0 \\\r\n    --hash=sha256:{good}\r\n"),
        );
        let pin = pin_at(dir.path());
        assert_eq!(pin.version.to_string(), "0.163.0");
        assert!(pin.wheel_pins[0].allows(&sha(good)));
    }

    #[test]
    fn a_bad_pinned_version_is_a_warning_and_discovery_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "requirements.txt", "openai-codex==0.150.0\n");
        let inner = dir.path().join("inner");
        std::fs::create_dir(&inner).unwrap();
        write(
            &inner,
            "requirements.txt",
            "# pinned by hand\nrequests==2.32.3\nopenai-codex-cli-bin==banana\n",
        );
        let found = discover(&inner).unwrap();
        assert_eq!(found.pin.unwrap().version.to_string(), "0.150.0");
        let [warning] = found.warnings.as_slice() else {
            panic!("{:?}", found.warnings)
        };
        assert_eq!(
            warning.to_string(),
            format!(
                "`{}` line 3: pins openai-codex-cli-bin to `banana`, which is not a Codex version; ignoring it",
                inner.join("requirements.txt").display()
            )
        );
        assert!(warning.hint().contains("`0.163.0`"), "{}", warning.hint());
    }

    #[test]
    fn a_bad_line_does_not_hide_the_good_one_in_the_same_file() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "requirements.txt",
            "openai-codex-cli-bin==0.163.0-nightly \\\n    --hash=sha256:aa\nopenai-codex==0.163.0\n",
        );
        let found = discover(dir.path()).unwrap();
        let pin = found.pin.unwrap();
        assert!(matches!(pin.via, PinVia::Python { dist: SDK_DIST, .. }));
        assert_eq!(found.warnings.len(), 1);
        assert_eq!(found.warnings[0].line, Some(1));
    }

    #[test]
    fn a_bad_hash_is_a_warning_and_the_other_hashes_stand() {
        let dir = tempfile::tempdir().unwrap();
        let good = RUNTIME_WHEELS[5].1;
        write(
            dir.path(),
            "requirements.txt",
            &format!(
                "openai-codex-cli-bin==0.163.0 \\\n    --hash=sha256:{good} \\\n    --hash=sha512:abcd\n"
            ),
        );
        let found = discover(dir.path()).unwrap();
        let pin = found.pin.unwrap();
        assert_eq!(pin.wheel_pins.len(), 1);
        assert_eq!(pin.wheel_pins[0].wheels.len(), 1);
        assert!(pin.wheel_pins[0].allows(&sha(good)));
        assert_eq!(
            found.warnings[0].to_string(),
            format!(
                "`{}` line 1: pins openai-codex-cli-bin to the hash `sha512:abcd`, which is not a sha256 digest; ignoring it",
                dir.path().join("requirements.txt").display()
            )
        );
    }

    #[test]
    fn a_malformed_uv_lock_is_a_warning_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "requirements.txt", "openai-codex==0.150.0\n");
        let inner = dir.path().join("inner");
        std::fs::create_dir(&inner).unwrap();
        write(
            &inner,
            "uv.lock",
            "version = 1\n\n[[package]]\nname = \"openai-codex-cli-bin\"\nversion = \"0.163.0\nsource = { registry = \"x\" }\n",
        );
        let found = discover(&inner).unwrap();
        assert_eq!(found.pin.unwrap().version.to_string(), "0.150.0");
        let [warning] = found.warnings.as_slice() else {
            panic!("{:?}", found.warnings)
        };
        assert_eq!(warning.file, inner.join("uv.lock"));
        assert_eq!(warning.line, Some(5));
        assert!(
            matches!(warning.problem, PinProblem::NotUvLock(_)),
            "{warning}"
        );
    }

    #[test]
    fn bad_entries_in_a_uv_lock_are_warnings_with_their_lines() {
        let dir = tempfile::tempdir().unwrap();
        let good = RUNTIME_WHEELS[5].1;
        write(
            dir.path(),
            "uv.lock",
            &format!(
                "version = 1\n\
                 [[package]]\n\
                 name = \"openai-codex\"\n\
                 version = \"banana\"\n\
                 [[package]]\n\
                 name = \"openai-codex-cli-bin\"\n\
                 version = \"0.163.0\"\n\
                 wheels = [\n    \
                 {{ url = \"https://h.test/a/openai_codex_cli_bin-0.163.0-py3-none-win_amd64.whl\", size = 1 }},\n    \
                 {{ url = \"https://h.test/a/openai_codex_cli_bin-0.163.0-py3-none-win_arm64.whl\", hash = \"sha256:zz\" }},\n    \
                 {{ path = \"wheels/openai_codex_cli_bin-0.163.0-py3-none-musllinux_1_1_x86_64.whl\", hash = \"sha256:{good}\" }},\n\
                 ]\n"
            ),
        );
        let found = discover(dir.path()).unwrap();
        let pin = found.pin.unwrap();
        let lines: Vec<Option<usize>> = found.warnings.iter().map(|w| w.line).collect();
        assert_eq!(lines, [Some(4), Some(9), Some(10)], "{:?}", found.warnings);
        assert!(found.warnings[1]
            .to_string()
            .contains("locks an openai-codex-cli-bin wheel (`openai_codex_cli_bin-0.163.0-py3-none-win_amd64.whl`) without a sha256 hash"));
        let pins = &pin.wheel_pins[0];
        assert_eq!(pins.wheels.len(), 1);
        let wheel = pins.for_platform("musllinux_1_1_x86_64").unwrap();
        assert_eq!(wheel.url, None);
        assert_eq!(wheel.sha256, sha(good));
    }

    #[test]
    fn unreadable_includes_and_invalid_pyproject_are_warnings() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "pyproject.toml", "[project\nname = 'x'\n");
        write(
            dir.path(),
            "requirements.txt",
            "requests\n-r missing.txt\nopenai-codex-cli-bin==0.163.0\n",
        );
        let found = discover(dir.path()).unwrap();
        assert_eq!(found.pin.unwrap().file, dir.path().join("requirements.txt"));
        let [toml, include] = found.warnings.as_slice() else {
            panic!("{:?}", found.warnings)
        };
        assert_eq!(toml.file, dir.path().join("pyproject.toml"));
        assert_eq!(toml.line, Some(1));
        assert!(matches!(toml.problem, PinProblem::NotToml(_)), "{toml}");
        assert_eq!(include.file, dir.path().join("requirements.txt"));
        assert_eq!(include.line, Some(2));
        let text = include.to_string();
        assert!(
            text.contains("includes `") && text.contains("missing.txt`, which could not be read ("),
            "{text}"
        );
    }

    #[test]
    fn a_bad_version_in_pyproject_names_its_line() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "pyproject.toml",
            "[project]\nname = \"x\"\ndependencies = [\n  \"requests\",\n  \"openai-codex==latest\",\n]\n",
        );
        let found = discover(dir.path()).unwrap();
        assert!(found.pin.is_none());
        assert_eq!(found.warnings.len(), 1);
        assert_eq!(found.warnings[0].line, Some(5));
    }

    #[test]
    fn a_broken_runtime_manifest_stays_an_error() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), FILE_NAME, "[runtime]\nversion = \"banana\"\n");
        write(dir.path(), "requirements.txt", "openai-codex==0.163.0\n");
        let e = discover(dir.path()).unwrap_err().to_string();
        assert!(e.contains(FILE_NAME), "{e}");
    }
}
