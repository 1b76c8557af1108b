//! Give a Python environment its runtime: the verified store's package, installed as the
//! distribution `openai-codex-cli-bin` (module `codex_cli_bin`) so the official SDK finds it
//! unchanged; and the same as a standards-conforming wheel.
//!
//! Files are reflinked from the store where the file system can (copy-on-write), else copied
//! (`copy_file_range` in the kernel: ~0.2 s for the 377 MB package). Never hard-linked: a write
//! through the environment would change the immutable store.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Component, Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

pub use crate::link;
mod probe;
pub mod tree;

pub use link::{LinkMode, LINK_MODE_ENV};
pub use probe::{
    choose_interpreter, find_environment, interpreter_to_ask, probe, project_env, start_probe,
    FoundEnv, Probing, PythonEnv,
};

use crate::error::Hint;
use crate::fs::IoError;
use crate::store::{InstalledRuntime, RECEIPT_NAME};
use crate::verify::Sha256;

pub const DIST_NAME: &str = "openai-codex-cli-bin";
pub const MODULE: &str = "codex_cli_bin";
/// The name pip writes in INSTALLER for what we install.
pub const INSTALLER: &str = "codex-bootstrap";

/// Our `codex_cli_bin/__init__.py`: the same public functions as the official package.
pub const INIT_PY: &str = r#""""The pinned Codex CLI runtime, installed by codex-bootstrap."""

import os
from pathlib import Path

PACKAGE_NAME = "openai-codex-cli-bin"
PACKAGE_METADATA_FILENAME = "codex-package.json"


def bundled_package_dir() -> Path:
    """The runtime package: codex-package.json, bin/, codex-path/, codex-resources/."""
    path = Path(__file__).resolve().parent
    if not (path / PACKAGE_METADATA_FILENAME).is_file():
        raise FileNotFoundError(
            f"{PACKAGE_NAME} lacks {PACKAGE_METADATA_FILENAME} in {path}; "
            "reinstall it with `codex-bootstrap install --python`"
        )
    return path


def bundled_codex_path() -> Path:
    """The `codex` executable."""
    name = "codex.exe" if os.name == "nt" else "codex"
    path = bundled_package_dir() / "bin" / name
    if not path.is_file():
        raise FileNotFoundError(
            f"{PACKAGE_NAME} lacks its codex binary at {path}; "
            "reinstall it with `codex-bootstrap install --python`"
        )
    return path


def bundled_path_dir() -> Path | None:
    """The directory to put on PATH when launching codex (it holds `rg`), if any."""
    path = bundled_package_dir() / "codex-path"
    return path if path.is_dir() else None


__all__ = [
    "PACKAGE_NAME",
    "bundled_codex_path",
    "bundled_package_dir",
    "bundled_path_dir",
]
"#;

#[derive(Debug, thiserror::Error)]
pub enum PythonError {
    #[error("could not run `{interpreter}`")]
    Run {
        interpreter: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{interpreter}` is not a usable Python: {detail}")]
    Probe { interpreter: String, detail: String },
    #[error("`{interpreter}` is marked externally managed (PEP 668)")]
    ExternallyManaged { interpreter: String },
    #[error("no `python3` on PATH")]
    NotFound,
    #[error("no virtual environment found: `VIRTUAL_ENV` is not set and there is no `.venv` in `{cwd}` or a parent")]
    NoEnvironment { cwd: String },
    #[error("`VIRTUAL_ENV` names `{path}`, which {why}")]
    BadVirtualEnv { path: String, why: &'static str },
    #[error("the project's environment `{path}` {why}")]
    BadDotVenv { path: String, why: &'static str },
    #[error("refusing to write into `{site}`: it is outside the test sandbox `{sandbox}`")]
    OutsideTestSandbox { site: String, sandbox: String },
    #[error("`{path}` in the RECORD of {dist} points outside the environment")]
    UnsafeRecord { dist: String, path: String },
    #[error("the wheel tree `{tree}` in the store changed: {change}")]
    TreeChanged {
        tree: String,
        change: crate::store::wheel_tree::TreeChange,
    },
    #[error(transparent)]
    Io(#[from] IoError),
}

impl Hint for PythonError {
    fn hint(&self) -> Option<String> {
        match self {
            PythonError::Run { .. } | PythonError::Probe { .. } => Some("pass an interpreter with `--python PATH`".into()),
            PythonError::NotFound => Some("install Python, or pass `--python PATH`".into()),
            PythonError::NoEnvironment { .. } => Some("create one with `uv venv` or `python3 -m venv .venv`, name an interpreter with `--python PY`, or pass `--system` to install into `python3` on PATH".into()),
            PythonError::BadVirtualEnv { .. } => Some("activate an existing virtual environment, or unset `VIRTUAL_ENV` (`deactivate`); or name an interpreter with `--python PY`".into()),
            PythonError::BadDotVenv { .. } => Some("recreate it with `uv venv` or `python3 -m venv .venv`, or name an interpreter with `--python PY`".into()),
            PythonError::OutsideTestSandbox { .. } => Some(format!("a test must name an interpreter of its own (`--python PY`, a venv in its temporary directory); `{TEST_SANDBOX}` is set")),
            PythonError::ExternallyManaged { .. } => Some("create a virtualenv (`python3 -m venv .venv`) and pass `--python .venv/bin/python`, or pass `--break-system-packages` if you mean it".into()),
            PythonError::UnsafeRecord { .. } => Some("the environment's metadata is damaged: remove the distribution by hand".into()),
            PythonError::TreeChanged { .. } => Some("reinstall it with `codex-bootstrap install --python --force`; `codex-bootstrap doctor` shows what else changed".into()),
            PythonError::Io(_) => Some("check that the environment is writable".into()),
        }
    }
}

/// A test knob: when set to a directory, writing into an environment whose site-packages is
/// outside it is an error. The integration tests set it to their temporary directory, so a test
/// that would install into the machine's own interpreter fails instead of doing it.
pub const TEST_SANDBOX: &str = "__CODEX_BOOTSTRAP_TEST_SANDBOX";

/// Under [`TEST_SANDBOX`], refuse a `site` outside the sandbox (both resolved through links).
pub(crate) fn check_test_sandbox(site: &Path) -> Result<(), PythonError> {
    let Some(sandbox) = std::env::var_os(TEST_SANDBOX).filter(|v| !v.is_empty()) else {
        return Ok(());
    };
    let real = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let sandbox = real(Path::new(&sandbox));
    if real(site).starts_with(&sandbox) {
        return Ok(());
    }
    Err(PythonError::OutsideTestSandbox {
        site: site.display().to_string(),
        sandbox: sandbox.display().to_string(),
    })
}

/// Options for [`install_runtime`].
#[derive(Debug, Clone, Default)]
pub struct PythonOptions {
    pub interpreter: Option<PathBuf>,
    pub break_system_packages: bool,
    /// The verified wheel the runtime was installed from (when it came from the Python
    /// index): its own `__init__.py`, metadata and RECORD go into the environment.
    pub wheel: Option<PathBuf>,
}

/// What [`install_runtime`] did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PythonReport {
    pub interpreter: PathBuf,
    pub site_packages: PathBuf,
    pub version: String,
    /// `installed`, `already-installed` or `replaced`.
    pub action: &'static str,
    /// The version that was there before, when replaced.
    pub previous: Option<String>,
    /// How the files went in: `clone`, `hardlink`, `symlink` or `copy` (`reflink` for
    /// installs from the full package), `none` when already installed.
    pub method: &'static str,
    /// The platform tag of the wheel whose files these are, when from a wheel tree.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wheel_tag: Option<String>,
}

/// One file of the distribution: its path under site-packages, digest and size.
struct RecordLine {
    path: String,
    sha256: Sha256,
    size: u64,
}

fn dist_info_name(version: &str) -> String {
    format!("openai_codex_cli_bin-{version}.dist-info")
}

fn metadata(version: &str) -> String {
    format!(
        "Metadata-Version: 2.1\nName: {DIST_NAME}\nVersion: {version}\nSummary: Pinned Codex CLI runtime for the Python SDK (installed by codex-bootstrap)\nHome-page: https://github.com/openai/codex\nLicense: Apache-2.0\nRequires-Python: >=3.10\n"
    )
}

fn wheel_file(tag: &str) -> String {
    let mut s = format!(
        "Wheel-Version: 1.0\nGenerator: codex-bootstrap {}\nRoot-Is-Purelib: false\n",
        env!("CARGO_PKG_VERSION")
    );
    for platform in tag.split('.') {
        let _ = writeln!(s, "Tag: py3-none-{platform}");
    }
    s
}

/// RECORD: `path,sha256=<base64url>,size` per file, then RECORD itself without a hash.
fn record(lines: &[RecordLine], dist_info: &str) -> String {
    let mut s = String::new();
    for l in lines {
        let _ = writeln!(
            s,
            "{},sha256={},{}",
            csv(&l.path),
            l.sha256.to_base64url(),
            l.size
        );
    }
    let _ = writeln!(s, "{dist_info}/RECORD,,");
    s
}

fn csv(field: &str) -> String {
    if field.contains([',', '"', '\n']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

/// The files of the distribution for `runtime`, in RECORD order, with their contents' origin.
enum Source {
    Store(PathBuf),
    Bytes(Vec<u8>),
}

/// The wheel's own non-runtime files: `codex_cli_bin/__init__.py` and everything under its
/// `*.dist-info/` (RECORD returned apart), by path.
type WheelOwn = (Vec<(String, Vec<u8>)>, Option<String>);

fn wheel_own_files(wheel: &Path, dist_info: &str) -> Option<WheelOwn> {
    use std::io::Read;
    let file = std::fs::File::open(wheel).ok()?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file)).ok()?;
    let mut own = Vec::new();
    let mut record = None;
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).ok()?;
        let name = entry.name().ok()?.to_string();
        let wanted =
            name == format!("{MODULE}/__init__.py") || name.starts_with(&format!("{dist_info}/"));
        if !wanted || entry.size() > 1 << 20 || name.contains("..") {
            continue;
        }
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).ok()?;
        if name == format!("{dist_info}/RECORD") {
            record = Some(String::from_utf8_lossy(&bytes).into_owned());
        } else if name != format!("{dist_info}/INSTALLER") {
            own.push((name, bytes));
        }
    }
    own.iter()
        .any(|(n, _)| n.ends_with("/__init__.py"))
        .then_some((own, record))
}

fn distribution(
    runtime: &InstalledRuntime,
    wheel: Option<&Path>,
) -> (String, Vec<(String, Source, RecordLine)>, Option<String>) {
    let version = runtime.version().pep440();
    let dist_info = dist_info_name(&version);
    if let Some((own, record)) = wheel.and_then(|w| wheel_own_files(w, &dist_info)) {
        let mut files = Vec::new();
        for (path, bytes) in own.iter().filter(|(p, _)| p.starts_with(MODULE)) {
            files.push(bytes_line(path.clone(), bytes.clone()));
        }
        files.extend(store_files(runtime));
        for (path, bytes) in own.iter().filter(|(p, _)| !p.starts_with(MODULE)) {
            files.push(bytes_line(path.clone(), bytes.clone()));
        }
        return (dist_info, files, record);
    }
    let (dist_info, files) = own_distribution(runtime);
    (dist_info, files, None)
}

fn bytes_line(path: String, bytes: Vec<u8>) -> (String, Source, RecordLine) {
    let line = RecordLine {
        path: path.clone(),
        sha256: Sha256::of(&bytes),
        size: bytes.len() as u64,
    };
    (path, Source::Bytes(bytes), line)
}

fn store_files(runtime: &InstalledRuntime) -> Vec<(String, Source, RecordLine)> {
    runtime
        .receipt
        .files
        .iter()
        .filter(|f| f.path != RECEIPT_NAME)
        .map(|f| {
            let path = format!("{MODULE}/{}", f.path);
            (
                path.clone(),
                Source::Store(runtime.dir.join(&f.path)),
                RecordLine {
                    path,
                    sha256: f.sha256,
                    size: f.size,
                },
            )
        })
        .collect()
}

fn own_distribution(runtime: &InstalledRuntime) -> (String, Vec<(String, Source, RecordLine)>) {
    let version = runtime.version().pep440();
    let dist_info = dist_info_name(&version);
    let mut files = vec![bytes_line(
        format!("{MODULE}/__init__.py"),
        INIT_PY.as_bytes().to_vec(),
    )];
    files.extend(store_files(runtime));
    files.push(bytes_line(
        format!("{dist_info}/METADATA"),
        metadata(&version).into_bytes(),
    ));
    files.push(bytes_line(
        format!("{dist_info}/WHEEL"),
        wheel_file(runtime.target().wheel_platform_tag()).into_bytes(),
    ));
    (dist_info, files)
}

/// Install `runtime` into the environment of `opts.interpreter`.
pub fn install_runtime(
    runtime: &InstalledRuntime,
    opts: &PythonOptions,
) -> Result<PythonReport, PythonError> {
    let interpreter = choose_interpreter(opts.interpreter.as_deref())?;
    let env = probe(&interpreter)?;
    if env.externally_managed && !opts.break_system_packages {
        return Err(PythonError::ExternallyManaged {
            interpreter: interpreter.display().to_string(),
        });
    }
    let site = env.platlib.clone();
    check_test_sandbox(&site)?;
    let version = runtime.version().pep440();
    let (dist_info, files, wheel_record) = distribution(runtime, opts.wheel.as_deref());
    let installer_line = RecordLine {
        path: format!("{dist_info}/INSTALLER"),
        sha256: Sha256::of(format!("{INSTALLER}\n").as_bytes()),
        size: INSTALLER.len() as u64 + 1,
    };
    let expected_record = match wheel_record {
        // The wheel's own RECORD, plus the INSTALLER file pip would also add.
        Some(text) => {
            let record_line = format!("{dist_info}/RECORD,,");
            let mut out: String = text
                .lines()
                .filter(|l| !l.is_empty() && *l != record_line)
                .map(|l| format!("{l}\n"))
                .collect();
            out.push_str(&record(&[installer_line], &dist_info));
            out
        }
        None => {
            let mut lines: Vec<RecordLine> = files
                .iter()
                .map(|(_, _, l)| RecordLine {
                    path: l.path.clone(),
                    sha256: l.sha256,
                    size: l.size,
                })
                .collect();
            lines.push(installer_line);
            record(&lines, &dist_info)
        }
    };

    let existing = installed_versions(&site);
    let mut previous = None;
    let report = |action, previous, method| PythonReport {
        interpreter: env.executable.clone(),
        site_packages: site.clone(),
        version: version.clone(),
        action,
        previous,
        method,
        wheel_tag: None,
    };
    for (old_version, old_dist_info) in &existing {
        if old_version == &version && is_intact(&site, old_dist_info, &expected_record) {
            return Ok(report("already-installed", None, "none"));
        }
    }
    for (old_version, old_dist_info) in existing {
        remove_distribution(&site, &old_dist_info)?;
        previous = Some(old_version);
    }
    // A package directory left without metadata (an interrupted install) is ours to replace.
    let pkg = site.join(MODULE);
    if pkg.exists() {
        std::fs::remove_dir_all(&pkg).map_err(IoError::at("remove", &pkg))?;
    }

    // Package first (staged, then renamed), metadata last: pip only sees a complete install.
    let staging = tempfile::Builder::new()
        .prefix(".codex_cli_bin-")
        .tempdir_in(&site)
        .map_err(IoError::at("create a staging directory in", &site))?;
    let mut method = "reflink";
    let dist_dir = site.join(&dist_info);
    for (path, source, _) in &files {
        let (base, rel) = match path.strip_prefix(&format!("{MODULE}/")) {
            Some(rel) => (staging.path().to_path_buf(), rel.to_string()),
            None => (site.clone(), path.clone()),
        };
        if base == site {
            // dist-info files are written after the rename below.
            continue;
        }
        let dest = base.join(&rel);
        if let Some(parent) = dest.parent() {
            crate::fs::create_dirs(parent).map_err(IoError::at("create", parent))?;
        }
        match source {
            Source::Bytes(b) => std::fs::write(&dest, b).map_err(IoError::at("write", &dest))?,
            Source::Store(from) => {
                if !crate::fs::reflink_or_copy(from, &dest).map_err(IoError::at("copy", &dest))? {
                    method = "copy";
                }
            }
        }
    }
    let staged = staging.keep();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&staged, std::fs::Permissions::from_mode(0o755));
    }
    std::fs::rename(&staged, &pkg).map_err(IoError::at("rename into", &pkg))?;
    crate::fs::create_dirs(&dist_dir).map_err(IoError::at("create", &dist_dir))?;
    for (path, source, _) in &files {
        if let (Some(rel), Source::Bytes(b)) = (path.strip_prefix(&format!("{dist_info}/")), source)
        {
            let dest = dist_dir.join(rel);
            std::fs::write(&dest, b).map_err(IoError::at("write", &dest))?;
        }
    }
    let installer = dist_dir.join("INSTALLER");
    std::fs::write(&installer, format!("{INSTALLER}\n"))
        .map_err(IoError::at("write", &installer))?;
    let record_path = dist_dir.join("RECORD");
    std::fs::write(&record_path, &expected_record).map_err(IoError::at("write", &record_path))?;
    let action = if previous.is_some() {
        "replaced"
    } else {
        "installed"
    };
    Ok(report(action, previous, method))
}

/// `(version, dist-info dir name)` of every `openai-codex-cli-bin` in `site`.
pub fn installed_versions(site: &Path) -> Vec<(String, String)> {
    installed_dists(site, "openai_codex_cli_bin")
}

/// `(version, dist-info dir name)` of every distribution whose normalised name is `prefix`.
pub fn installed_dists(site: &Path, prefix: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(site).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(stem) = name.strip_suffix(".dist-info") else {
            continue;
        };
        let Some((dist, version)) = stem.rsplit_once('-') else {
            continue;
        };
        if dist.to_ascii_lowercase().replace(['-', '.'], "_") == prefix {
            out.push((version.to_string(), name));
        }
    }
    out
}

/// Same RECORD as we would write, and every listed file present with its recorded size.
pub(crate) fn is_intact(site: &Path, dist_info: &str, expected_record: &str) -> bool {
    let Ok(record) = std::fs::read_to_string(site.join(dist_info).join("RECORD")) else {
        return false;
    };
    record == expected_record
        && record.lines().all(|l| {
            let mut parts = l.rsplitn(3, ',');
            let size = parts.next().unwrap_or("");
            let _hash = parts.next();
            let path = parts.next().unwrap_or("");
            size.is_empty()
                || std::fs::metadata(site.join(path)).is_ok_and(|m| m.len().to_string() == size)
        })
}

/// Remove every file a distribution's RECORD lists (never outside `site`), then its empty dirs.
pub(crate) fn remove_distribution(site: &Path, dist_info: &str) -> Result<(), PythonError> {
    let record = std::fs::read_to_string(site.join(dist_info).join("RECORD")).unwrap_or_default();
    let mut dirs = std::collections::BTreeSet::new();
    for line in record.lines() {
        let path = line.rsplitn(3, ',').nth(2).unwrap_or("").trim_matches('"');
        if path.is_empty() {
            continue;
        }
        let rel = Path::new(path);
        if rel.is_absolute() || rel.components().any(|c| !matches!(c, Component::Normal(_))) {
            return Err(PythonError::UnsafeRecord {
                dist: dist_info.to_string(),
                path: path.to_string(),
            });
        }
        let full = site.join(rel);
        match std::fs::remove_file(&full) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(IoError::at("remove", &full)(e).into()),
        }
        let mut parent = rel.parent();
        while let Some(p) = parent.filter(|p| !p.as_os_str().is_empty()) {
            dirs.insert(site.join(p));
            parent = p.parent();
        }
    }
    // Deepest first; a directory that still holds something (e.g. __pycache__) is left alone
    // unless it is the package's own cache.
    for d in dirs.iter().rev() {
        let _ = std::fs::remove_dir_all(d.join("__pycache__"));
        let _ = std::fs::remove_dir(d);
    }
    let info = site.join(dist_info);
    if info.exists() {
        std::fs::remove_dir_all(&info).map_err(IoError::at("remove", &info))?;
    }
    Ok(())
}

/// The wheel file name for `runtime`.
pub fn wheel_name(runtime: &InstalledRuntime) -> String {
    format!(
        "openai_codex_cli_bin-{}-py3-none-{}.whl",
        runtime.version().pep440(),
        runtime.target().wheel_platform_tag()
    )
}

/// Build `openai_codex_cli_bin-<v>-py3-none-<platform>.whl` in `out_dir`.
pub fn build_wheel(runtime: &InstalledRuntime, out_dir: &Path) -> Result<PathBuf, PythonError> {
    use zip::write::SimpleFileOptions;
    crate::fs::create_dirs(out_dir).map_err(IoError::at("create", out_dir))?;
    let path = out_dir.join(wheel_name(runtime));
    // The wheel is for others to install: its mode follows the umask.
    let tmp = crate::fs::shared_tempfile_beside(&path)
        .map_err(IoError::at("create a file in", out_dir))?;
    let (dist_info, files) = own_distribution(runtime);
    let zio = |e: zip::result::ZipError| IoError::at("write", &path)(std::io::Error::other(e));
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(tmp.as_file()));
    // Fast deflate: the binaries shrink ~2.6x at level 1, and level 9 buys little on them.
    let base = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1))
        .last_modified_time(zip::DateTime::default());
    let mut lines = Vec::new();
    for (name, source, line) in files {
        let executable = matches!(&source, Source::Store(p) if crate::fs::is_executable(p));
        let options = base.unix_permissions(if executable { 0o755 } else { 0o644 });
        zip.start_file(name.as_str(), options).map_err(zio)?;
        match source {
            Source::Bytes(b) => zip.write_all(&b).map_err(IoError::at("write", &path))?,
            Source::Store(from) => {
                let mut f = std::fs::File::open(&from).map_err(IoError::at("read", &from))?;
                std::io::copy(&mut f, &mut zip).map_err(IoError::at("write", &path))?;
            }
        }
        lines.push(line);
    }
    zip.start_file(format!("{dist_info}/RECORD"), base.unix_permissions(0o644))
        .map_err(zio)?;
    zip.write_all(record(&lines, &dist_info).as_bytes())
        .map_err(IoError::at("write", &path))?;
    zip.finish().map_err(zio)?;
    tmp.persist(&path)
        .map_err(|e| IoError::at("write", &path)(e.error))?;
    Ok(path)
}

/// For doctor: the `openai-codex-cli-bin` and `openai-codex` versions in an environment.
pub fn dist_versions(env: &PythonEnv) -> (Option<String>, Option<String>) {
    let first = |site: &Path, prefix| {
        installed_dists(site, prefix)
            .into_iter()
            .next()
            .map(|(v, _)| v)
    };
    let runtime = first(&env.platlib, "openai_codex_cli_bin")
        .or_else(|| first(&env.purelib, "openai_codex_cli_bin"));
    let sdk = first(&env.purelib, "openai_codex").or_else(|| first(&env.platlib, "openai_codex"));
    (runtime, sdk)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_lines_and_csv_quoting() {
        let lines = vec![RecordLine {
            path: "codex_cli_bin/a,b".into(),
            sha256: Sha256::of(b""),
            size: 0,
        }];
        let r = record(&lines, "x-1.dist-info");
        assert_eq!(
            r,
            "\"codex_cli_bin/a,b\",sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\nx-1.dist-info/RECORD,,\n"
        );
    }

    #[test]
    fn wheel_metadata_files() {
        assert!(metadata("0.154.0a6").contains("Version: 0.154.0a6\n"));
        let w = wheel_file("manylinux_2_17_x86_64.musllinux_1_1_x86_64");
        assert!(w.contains("Root-Is-Purelib: false\n"));
        assert!(
            w.contains("Tag: py3-none-manylinux_2_17_x86_64\nTag: py3-none-musllinux_1_1_x86_64\n")
        );
    }

    #[test]
    fn dist_info_discovery_normalises_names() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("openai_codex_cli_bin-0.163.0.dist-info")).unwrap();
        std::fs::create_dir(d.path().join("openai_codex-0.163.0.dist-info")).unwrap();
        std::fs::create_dir(d.path().join("other-1.0.dist-info")).unwrap();
        assert_eq!(
            installed_versions(d.path()),
            vec![(
                "0.163.0".to_string(),
                "openai_codex_cli_bin-0.163.0.dist-info".to_string()
            )]
        );
        assert_eq!(installed_dists(d.path(), "openai_codex").len(), 1);
    }
}
