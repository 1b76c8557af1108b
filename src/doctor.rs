//! Health checks: each one a name, a status, a one-line summary, an optional detail, and for
//! anything not ok a hint that names the fix. The command layer decides which checks to run and
//! renders them; every check here is bounded in time.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::pin::{CodexVersion, Pin, PinVia};
use crate::platform::Target;
use crate::store::{InstalledRuntime, Store};
use crate::ui::human_bytes;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Fail,
    Skip,
}

/// One check's result.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub id: &'static str,
    pub status: Status,
    pub summary: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
}

impl Check {
    pub fn ok(id: &'static str, summary: impl Into<String>) -> Check {
        Check {
            id,
            status: Status::Ok,
            summary: summary.into(),
            detail: None,
            hint: None,
        }
    }
    pub fn warn(id: &'static str, summary: impl Into<String>, hint: impl Into<String>) -> Check {
        Check {
            status: Status::Warn,
            hint: Some(hint.into()),
            ..Check::ok(id, summary)
        }
    }
    pub fn fail(id: &'static str, summary: impl Into<String>, hint: impl Into<String>) -> Check {
        Check {
            status: Status::Fail,
            hint: Some(hint.into()),
            ..Check::ok(id, summary)
        }
    }
    pub fn skip(id: &'static str, summary: impl Into<String>) -> Check {
        Check {
            status: Status::Skip,
            ..Check::ok(id, summary)
        }
    }
    pub fn detail(mut self, detail: impl Into<String>) -> Check {
        self.detail = Some(detail.into());
        self
    }
}

/// Everything checked, in order.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub ok: bool,
    pub checks: Vec<Check>,
}

impl Report {
    pub fn push(&mut self, check: Check) {
        self.checks.push(check);
        self.ok = !self.checks.iter().any(|c| c.status == Status::Fail);
    }
}

/// 1. platform: this host's target, and whether Codex publishes a runtime for it.
pub fn platform(target: Result<&Target, &crate::platform::PlatformError>) -> Check {
    let host = format!("{}/{}", std::env::consts::OS, std::env::consts::ARCH);
    match target {
        Ok(t) if t.is_host() => Check::ok("platform", format!("{host} -> {t}")),
        Ok(t) => Check::ok(
            "platform",
            format!("{host}; checking target {t} (not this host: it will not be run)"),
        ),
        Err(e) => Check::fail("platform", e.to_string(), e.hint()),
    }
}

/// 2. pin: the version and where it came from; SDK and runtime pins that disagree.
pub fn pin(pin: &Pin, version: Option<&CodexVersion>) -> Check {
    let v = version.map_or_else(|| "latest".to_string(), |v| v.to_string());
    let check = Check::ok("pin", format!("codex {v} from {}", pin.source));
    if let Some(project) = &pin.project {
        if let PinVia::Python {
            dist,
            other: Some((other_dist, other)),
        } = &project.via
        {
            if other != &project.version {
                return Check::warn(
                    "pin",
                    format!(
                        "{} pins {dist}=={} but {other_dist}=={}",
                        project.file.display(),
                        project.version.pep440(),
                        other.pep440()
                    ),
                    format!(
                        "the SDK requires its runtime at its own version: pin both to the same version in `{}`",
                        project.file.display()
                    ),
                )
                .detail(format!("using codex {v} from {}", pin.source));
            }
        }
    }
    check
}

/// Check 3, cache: the data and cache directories writable, room for a runtime, leftovers of
/// interrupted installs, and runtimes still under the old layout.
pub fn cache(store: &Store, needed: u64) -> Check {
    const FIX: &str = "pass `--cache-dir DIR` or set CODEX_BOOTSTRAP_HOME to a writable directory (or CODEX_BOOTSTRAP_DATA_DIR / CODEX_BOOTSTRAP_CACHE_DIR)";
    let mut dirs = vec![store.data_dir()];
    if !store.is_one_root() {
        dirs.push(store.cache_dir());
    }
    // Doctor changes nothing: probe each directory, or the nearest existing parent it would be
    // made in.
    let mut data_fs = None;
    let mut states = Vec::new();
    for dir in dirs {
        let Some(existing) = dir.ancestors().find(|p| p.exists()) else {
            return Check::fail(
                "cache",
                format!("no part of `{}` exists", dir.display()),
                FIX,
            );
        };
        if let Err(e) = tempfile::tempfile_in(existing) {
            return Check::fail(
                "cache",
                format!(
                    "`{}` is not writable (`{}`: {e})",
                    dir.display(),
                    existing.display()
                ),
                FIX,
            );
        }
        data_fs.get_or_insert(existing);
        states.push(if existing == dir {
            format!("{} is writable", dir.display())
        } else {
            format!("{} will be created (its parent is writable)", dir.display())
        });
    }
    let mut summary = states.join("; ");
    let mut detail = vec![format!("runtimes: {}", store.runtimes_dir().display())];
    if store.is_one_root() {
        detail.push(format!(
            "downloads and locks: {} (one root)",
            store.cache_dir().display()
        ));
    } else {
        detail.push(format!(
            "downloads and locks: {} (tagged {}: backups skip it)",
            store.cache_dir().display(),
            crate::store::CACHEDIR_TAG
        ));
    }
    let mut legacy_note = String::new();
    let legacy: Vec<InstalledRuntime> = store
        .list()
        .into_iter()
        .filter(|rt| store.is_legacy(rt))
        .collect();
    if let (Some(old), false) = (store.legacy_runtimes_dir(), legacy.is_empty()) {
        let versions: Vec<String> = legacy.iter().map(|rt| rt.version().to_string()).collect();
        detail.push(format!(
            "old location: {} ({} runtime(s): {}; used where they are, moved into the data directory by the next `codex-bootstrap install` of each)",
            old.display(),
            legacy.len(),
            versions.join(", ")
        ));
        legacy_note = format!("; {} runtime(s) in the old location", legacy.len());
    }
    let free = data_fs.and_then(free_space);
    if let Some(free) = free {
        summary.push_str(&format!(", {} free", human_bytes(free)));
    }
    summary.push_str(&legacy_note);
    if let Some(free) = free {
        if free < needed {
            return Check::warn(
                "cache",
                format!("{summary}: a runtime needs about {}", human_bytes(needed)),
                "free disk space, or move the store with `--cache-dir DIR` / CODEX_BOOTSTRAP_HOME (or CODEX_BOOTSTRAP_DATA_DIR)",
            )
            .detail(detail.join("\n"));
        }
    }
    let leftovers: Vec<PathBuf> = crate::store::remove::leftovers(store)
        .into_iter()
        .filter(|p| !p.to_string_lossy().ends_with(".meta"))
        .collect();
    if !leftovers.is_empty() {
        detail.extend(leftovers.iter().map(|p| p.display().to_string()));
        return Check::warn(
            "cache",
            format!("{summary}; {} leftover(s) of interrupted installs", leftovers.len()),
            "they are resumed or cleaned by the next `codex-bootstrap install`; `codex-bootstrap prune` removes them now",
        )
        .detail(detail.join("\n"));
    }
    Check::ok("cache", summary).detail(detail.join("\n"))
}

pub use crate::fs::{free_space, which};

/// 4. runtime: the pin is installed with a complete layout and a valid receipt.
pub fn runtime(
    store: &Store,
    version: &CodexVersion,
    target: &Target,
) -> (Check, Option<InstalledRuntime>) {
    match store.installed(version, target) {
        Ok(Some(rt)) => {
            let r = &rt.receipt;
            let check = Check::ok(
                "runtime",
                format!(
                    "codex {version} installed ({} files, {})",
                    r.files.len(),
                    human_bytes(r.installed_size())
                ),
            )
            .detail(format!(
                "{}\nverified by {} (sha256 {})",
                rt.dir.display(),
                r.verified_by,
                r.archive_sha256
            ));
            let check = if r.verified_by == crate::verify::DigestSource::Unverified {
                Check {
                    status: Status::Warn,
                    hint: Some("it was installed with `--trust-archive`: reinstall from a verified source with `codex-bootstrap install --force`".into()),
                    summary: format!("{} — installed without verification", check.summary),
                    ..check
                }
            } else {
                check
            };
            (check, Some(rt))
        }
        Ok(None) => (
            Check::fail(
                "runtime",
                format!("codex {version} ({target}) is not installed"),
                format!("run `codex-bootstrap install {version}`"),
            )
            .detail(store.runtime_dir(version, target).display().to_string()),
            None,
        ),
        Err(e) => (Check::fail("runtime", e.to_string(), e.hint()), None),
    }
}

/// 5. integrity: every file's size and sha256 match the receipt.
pub fn integrity(rt: &InstalledRuntime) -> Check {
    let started = std::time::Instant::now();
    match rt.verify_files() {
        Ok(()) => Check::ok(
            "integrity",
            format!(
                "{} files match the receipt ({} hashed in {:.2}s)",
                rt.receipt.files.len(),
                human_bytes(rt.receipt.installed_size()),
                started.elapsed().as_secs_f64()
            ),
        ),
        Err(e) => Check::fail(
            "integrity",
            format!("the runtime differs from its receipt: {e}"),
            "reinstall it with `codex-bootstrap install --force`",
        ),
    }
}

/// Run `exe --version` with a deadline; the version it reports. Codex writes helper files into
/// `CODEX_HOME` on every run: it gets a private one, removed afterwards, so doctor leaves the
/// user's as it found it.
pub fn codex_version(exe: &Path, timeout: Duration) -> Result<String, String> {
    tracing::debug!(program = %exe.display(), "starting `codex --version`");
    let codex_home = tempfile::Builder::new()
        .prefix("codex-bootstrap-home-")
        .tempdir()
        .map_err(|e| {
            format!(
                "could not create a private CODEX_HOME to run `{}` in: {e}",
                exe.display()
            )
        })?;
    let mut child = std::process::Command::new(exe)
        .arg("--version")
        .env("CODEX_HOME", codex_home.path())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not run `{}`: {e}", exe.display()))?;
    let deadline = std::time::Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10))
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "`{} --version` did not finish within {}s",
                    exe.display(),
                    timeout.as_secs()
                ));
            }
        }
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("could not read the output of `{}`: {e}", exe.display()))?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!(
            "`{} --version` failed ({}): {}",
            exe.display(),
            out.status,
            err.trim().lines().last().unwrap_or("")
        ));
    }
    Ok(text)
}

/// The version token of `codex-cli 0.163.0`.
pub fn reported_version(output: &str) -> Option<CodexVersion> {
    output
        .split_whitespace()
        .last()
        .and_then(|v| CodexVersion::parse(v).ok())
}

/// 6. executes: `bin/codex --version` runs and reports the pin.
pub fn executes(rt: &InstalledRuntime) -> Check {
    if !rt.target().is_host() {
        return Check::skip(
            "executes",
            format!("{} binaries do not run on this host", rt.target()),
        );
    }
    match codex_version(&rt.codex_path(), Duration::from_secs(10)) {
        Ok(text) if reported_version(&text).as_ref() == Some(rt.version()) => {
            Check::ok("executes", format!("`codex --version` says `{text}`"))
        }
        Ok(text) => Check::fail(
            "executes",
            format!("`codex --version` says `{text}`, expected {}", rt.version()),
            "reinstall it with `codex-bootstrap install --force`",
        ),
        Err(e) => Check::fail("executes", e, "reinstall it with `codex-bootstrap install --force`; on Linux the runtime is a static musl binary, so a failure here usually means a truncated or foreign-architecture file"),
    }
}

/// 7. PATH: which `codex` a shell would run, and whether it is this runtime.
pub fn path(rt: &InstalledRuntime) -> Check {
    let exe = rt.target().exe_name("codex");
    let fix = format!(
        "put the runtime first on PATH: export PATH=\"{}:$PATH\" (or call it by its full path: `codex-bootstrap which`)",
        rt.bin_dir().display()
    );
    let Some(found) = which(&exe, std::env::var_os("PATH").as_deref()) else {
        return Check::warn("path", "no `codex` on PATH", fix);
    };
    let same = match (found.canonicalize(), rt.codex_path().canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if same {
        return Check::ok(
            "path",
            format!("`codex` on PATH is this runtime ({})", found.display()),
        );
    }
    let version = codex_version(&found, Duration::from_secs(5))
        .map(|t| t.to_string())
        .unwrap_or_else(|e| e);
    let verdict = match reported_version(&version) {
        Some(v) if &v == rt.version() => "the same version, another copy",
        Some(_) => "another version",
        None => "unknown version",
    };
    Check::warn(
        "path",
        format!(
            "`codex` on PATH is {} ({version}): {verdict}",
            found.display()
        ),
        fix,
    )
}

/// 10 (part). The proxy and the root certificates in effect, for the network check's detail.
pub fn network_settings(url: &reqwest::Url, roots: &crate::net::client::Roots) -> String {
    let proxy = crate::net::client::proxy_for(url).unwrap_or_else(|| "none".into());
    format!("proxy: {proxy}; CA: {roots}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_ok_means_no_failure() {
        let mut r = Report::default();
        r.push(Check::ok("a", "fine"));
        r.push(Check::warn("b", "meh", "fix it"));
        assert!(r.ok);
        r.push(Check::fail("c", "bad", "fix it"));
        assert!(!r.ok);
    }

    #[test]
    fn reported_versions() {
        assert_eq!(
            reported_version("codex-cli 0.163.0").unwrap().to_string(),
            "0.163.0"
        );
        assert!(reported_version("garbage").is_none());
    }

    #[test]
    fn free_space_is_known_here() {
        if cfg!(unix) {
            assert!(free_space(Path::new("/")).is_some());
        }
    }
}
