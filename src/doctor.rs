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

/// 3. cache: writable, room for a runtime, and leftovers of interrupted installs.
pub fn cache(store: &Store, needed: u64) -> Check {
    let root = store.root();
    // Doctor changes nothing: probe the cache, or the nearest existing parent it would be made in.
    let Some(existing) = root.ancestors().find(|p| p.exists()) else {
        return Check::fail(
            "cache",
            format!("no part of `{}` exists", root.display()),
            "pass `--cache-dir DIR` or set CODEX_BOOTSTRAP_HOME to a writable directory",
        );
    };
    if let Err(e) = tempfile::tempfile_in(existing) {
        return Check::fail(
            "cache",
            format!(
                "the cache `{}` is not writable (`{}`: {e})",
                root.display(),
                existing.display()
            ),
            "pass `--cache-dir DIR` or set CODEX_BOOTSTRAP_HOME to a writable directory",
        );
    }
    let leftovers: Vec<PathBuf> = crate::store::remove::leftovers(store)
        .into_iter()
        .filter(|p| !p.to_string_lossy().ends_with(".meta"))
        .collect();
    let free = free_space(existing);
    let mut summary = if existing == root {
        format!("{} is writable", root.display())
    } else {
        format!(
            "{} will be created (its parent is writable)",
            root.display()
        )
    };
    if let Some(free) = free {
        summary.push_str(&format!(", {} free", human_bytes(free)));
        if free < needed {
            return Check::warn(
                "cache",
                format!("{summary}: a runtime needs about {}", human_bytes(needed)),
                "free disk space, or move the cache with `--cache-dir DIR` / CODEX_BOOTSTRAP_HOME",
            );
        }
    }
    if !leftovers.is_empty() {
        let list: Vec<String> = leftovers.iter().map(|p| p.display().to_string()).collect();
        return Check::warn(
            "cache",
            format!("{summary}; {} leftover(s) of interrupted installs", leftovers.len()),
            "they are resumed or cleaned by the next `codex-bootstrap install`; `codex-bootstrap prune` removes them now",
        )
        .detail(list.join("\n"));
    }
    Check::ok("cache", summary)
}

/// Free bytes on the file system holding `path`.
#[cfg(unix)]
pub fn free_space(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated path and `s` a properly sized out-parameter.
    let rc = unsafe { libc::statvfs(c.as_ptr(), &mut s) };
    (rc == 0).then(|| (s.f_bavail as u64).saturating_mul(s.f_frsize as u64))
}

#[cfg(not(unix))]
pub fn free_space(_path: &Path) -> Option<u64> {
    None
}

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
                format!("run `codex-bootstrap install --version {version}`"),
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

/// Run `exe --version` with a deadline (see [`crate::prove`]); what it says, or why it
/// said nothing, as a check shows it.
pub fn codex_version(exe: &Path, timeout: Duration) -> Result<String, String> {
    use crate::prove::VersionError;
    let out = crate::prove::codex_version_blocking(exe, timeout).map_err(|e| match &e {
        VersionError::Spawn { source, .. } | VersionError::Output { source, .. } => {
            format!("{e}: {source}")
        }
        VersionError::TimedOut { .. } => e.to_string(),
    })?;
    if !out.success() {
        return Err(format!(
            "`{} --version` failed ({}): {}",
            exe.display(),
            out.status,
            out.stderr.trim().lines().last().unwrap_or("")
        ));
    }
    Ok(out.stdout)
}

pub use crate::prove::reported_version;

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

/// The first executable named `name` on `path_var`.
pub fn which(name: &str, path_var: Option<&std::ffi::OsStr>) -> Option<PathBuf> {
    let path_var = path_var?;
    std::env::split_paths(path_var)
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        p.is_file()
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

/// 10 (part). The proxy and CA settings in effect, for the network check's detail.
pub fn network_settings(url: &reqwest::Url) -> String {
    let proxy = crate::net::client::proxy_for(url).unwrap_or_else(|| "none".into());
    let ca = std::env::var("SSL_CERT_FILE")
        .map(|p| format!("SSL_CERT_FILE={p}"))
        .unwrap_or_else(|_| "system trust store".into());
    format!("proxy: {proxy}; CA: {ca}")
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
    fn free_space_is_known_here() {
        if cfg!(unix) {
            assert!(free_space(Path::new("/")).is_some());
        }
    }
}
