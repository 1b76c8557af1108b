//! The store: the cache is usable, the pinned runtime is installed, and its files match the
//! receipt.

use std::path::PathBuf;

use crate::fs::free_space;
use crate::pin::CodexVersion;
use crate::platform::Target;
use crate::store::{InstalledRuntime, Store};
use crate::ui::human_bytes;

use super::{Check, Status};

/// cache: writable, room for a runtime, and leftovers of interrupted installs.
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

/// runtime: the pin is installed with a complete layout and a valid receipt.
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

/// integrity: every file's size and sha256 match the receipt.
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
