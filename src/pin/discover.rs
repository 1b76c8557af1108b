//! Find a project's runtime pin by walking up from a directory.
//!
//! In each directory, nearest first: `codex-runtime.toml`, then a Python project that pins
//! `openai-codex-cli-bin==X` (the runtime itself) or `openai-codex==X` (the SDK, which requires
//! its runtime at its own version) in `pyproject.toml` (dependencies, optional-dependencies,
//! dependency-groups), `requirements*.txt` (following `-r`), or `uv.lock`.

use std::path::{Path, PathBuf};

use crate::pin::manifest::{Manifest, ManifestError, FILE_NAME};
use crate::pin::version::CodexVersion;

/// The runtime distribution and the SDK, as PEP 503-normalised names.
pub const RUNTIME_DIST: &str = "openai-codex-cli-bin";
pub const SDK_DIST: &str = "openai-codex";

/// A pin found in a project file.
#[derive(Debug, Clone)]
pub struct ProjectPin {
    pub file: PathBuf,
    pub version: CodexVersion,
    /// `openai-codex-cli-bin` or `openai-codex`, or `codex-runtime.toml`'s manifest.
    pub via: PinVia,
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

#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error("could not read `{path}`")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{path}` pins {dist} to `{spec}`, which is not a Codex version")]
    BadVersion {
        path: PathBuf,
        dist: &'static str,
        spec: String,
    },
}

/// Walk up from `start` and return the nearest pin.
pub fn discover(start: &Path) -> Result<Option<ProjectPin>, DiscoverError> {
    for dir in start.ancestors() {
        if let Some(pin) = pin_in_dir(dir)? {
            return Ok(Some(pin));
        }
    }
    Ok(None)
}

fn pin_in_dir(dir: &Path) -> Result<Option<ProjectPin>, DiscoverError> {
    let manifest = dir.join(FILE_NAME);
    if manifest.is_file() {
        let m = Manifest::load(&manifest)?;
        return Ok(Some(ProjectPin {
            file: manifest,
            version: m.version.clone(),
            via: PinVia::Manifest(Box::new(m)),
        }));
    }
    let pyproject = dir.join("pyproject.toml");
    if pyproject.is_file() {
        let text = read(&pyproject)?;
        if let Some(pin) = python_pin(&pyproject, &pyproject_requirements(&text))? {
            return Ok(Some(pin));
        }
    }
    let mut requirement_files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("requirements") && n.ends_with(".txt"))
        })
        .collect();
    requirement_files.sort();
    for file in requirement_files {
        let mut lines = Vec::new();
        collect_requirements(&file, &mut lines, &mut Vec::new())?;
        if let Some(pin) = python_pin(&file, &lines)? {
            return Ok(Some(pin));
        }
    }
    let lock = dir.join("uv.lock");
    if lock.is_file() {
        let text = read(&lock)?;
        let reqs = uv_lock_packages(&text);
        if let Some(pin) = python_pin(&lock, &reqs)? {
            return Ok(Some(pin));
        }
    }
    Ok(None)
}

fn read(path: &Path) -> Result<String, DiscoverError> {
    std::fs::read_to_string(path).map_err(|source| DiscoverError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// Choose the runtime pin among requirement strings: `openai-codex-cli-bin` wins over the SDK.
fn python_pin(file: &Path, reqs: &[String]) -> Result<Option<ProjectPin>, DiscoverError> {
    let mut runtime = None;
    let mut sdk = None;
    for req in reqs {
        if let Some((dist, spec)) = exact_pin(req) {
            let version = CodexVersion::parse(&spec).map_err(|_| DiscoverError::BadVersion {
                path: file.to_path_buf(),
                dist,
                spec: spec.clone(),
            })?;
            let slot = if dist == RUNTIME_DIST {
                &mut runtime
            } else {
                &mut sdk
            };
            slot.get_or_insert(version);
        }
    }
    let pin = match (runtime, sdk) {
        (Some(r), sdk) => ProjectPin {
            file: file.to_path_buf(),
            version: r,
            via: PinVia::Python {
                dist: RUNTIME_DIST,
                other: sdk.map(|v| (SDK_DIST, v)),
            },
        },
        (None, Some(s)) => ProjectPin {
            file: file.to_path_buf(),
            version: s,
            via: PinVia::Python {
                dist: SDK_DIST,
                other: None,
            },
        },
        (None, None) => return Ok(None),
    };
    Ok(Some(pin))
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

/// Requirement strings from `[project] dependencies`, `[project.optional-dependencies]` and
/// `[dependency-groups]` (PEP 735). A file that is not valid TOML yields nothing here: it is
/// not ours to judge, and the next candidate file may still pin.
fn pyproject_requirements(text: &str) -> Vec<String> {
    let Ok(doc) = text.parse::<toml::Table>() else {
        return Vec::new();
    };
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

/// Lines of a requirements file, following `-r` / `--requirement` (relative to the including
/// file), each file once.
fn collect_requirements(
    file: &Path,
    out: &mut Vec<String>,
    seen: &mut Vec<PathBuf>,
) -> Result<(), DiscoverError> {
    let canonical = file.canonicalize().unwrap_or_else(|_| file.to_path_buf());
    if seen.contains(&canonical) {
        return Ok(());
    }
    seen.push(canonical);
    let text = read(file)?;
    for line in text.lines() {
        let line = line.split(" #").next().unwrap_or("").trim();
        let include = line
            .strip_prefix("-r")
            .or_else(|| line.strip_prefix("--requirement"))
            .map(|rest| rest.trim_start_matches('=').trim());
        match include {
            Some(rel) if !rel.is_empty() => {
                let path = file.parent().unwrap_or(Path::new(".")).join(rel);
                collect_requirements(&path, out, seen)?;
            }
            _ => out.push(line.to_string()),
        }
    }
    Ok(())
}

/// `[[package]] name/version` pairs of a uv.lock, as `name==version` requirement strings.
fn uv_lock_packages(text: &str) -> Vec<String> {
    let Ok(doc) = text.parse::<toml::Table>() else {
        return Vec::new();
    };
    doc.get("package")
        .and_then(|p| p.as_array())
        .map(|pkgs| {
            pkgs.iter()
                .filter_map(|p| {
                    let name = p.get("name")?.as_str()?;
                    let version = p.get("version")?.as_str()?;
                    Some(format!("{name}=={version}"))
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).unwrap();
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
    fn pyproject_groups_and_extras() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "pyproject.toml",
            "[project]\nname='x'\ndependencies=['requests']\n[project.optional-dependencies]\nai=['openai-codex==0.160.0']\n[dependency-groups]\ndev=['openai-codex-cli-bin==0.163.0', {include-group='x'}]\n",
        );
        let nested = dir.path().join("a/b");
        std::fs::create_dir_all(&nested).unwrap();
        let pin = discover(&nested).unwrap().unwrap();
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
        let pin = discover(dir.path()).unwrap().unwrap();
        assert_eq!(pin.version.to_string(), "0.154.0-alpha.6.2");
    }

    #[test]
    fn uv_lock() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "uv.lock",
            "version = 1\n[[package]]\nname = \"openai-codex-cli-bin\"\nversion = \"0.163.0\"\n",
        );
        let pin = discover(dir.path()).unwrap().unwrap();
        assert_eq!(pin.version.to_string(), "0.163.0");
        assert!(pin.describe().contains("uv.lock"));
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
        assert_eq!(
            discover(&inner).unwrap().unwrap().version.to_string(),
            "0.152.0"
        );
        std::fs::remove_file(inner.join(FILE_NAME)).unwrap();
        assert_eq!(
            discover(&inner).unwrap().unwrap().version.to_string(),
            "0.151.0"
        );
        assert_eq!(
            discover(dir.path()).unwrap().unwrap().version.to_string(),
            "0.150.0"
        );
    }

    #[test]
    fn a_bad_pinned_version_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "requirements.txt",
            "openai-codex-cli-bin==banana\n",
        );
        let e = discover(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("banana") && e.contains("requirements.txt"),
            "{e}"
        );
    }
}
