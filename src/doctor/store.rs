//! The store: the cache is usable, the pinned runtime is installed, and its files match the
//! receipt.

use std::path::PathBuf;

use crate::error::Hint;
use crate::fs::free_space;
use crate::pin::CodexVersion;
use crate::platform::Target;
use crate::report::human_bytes;
use crate::store::{InstalledRuntime, Store};

use super::{Check, Status};

/// cache: the data and cache directories writable, room for a runtime, leftovers of
/// interrupted installs, and runtimes still under the old layout.
pub(crate) fn cache(store: &Store, needed: u64) -> Check {
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

/// runtime: the pin is installed with a complete layout and a valid receipt.
pub(crate) fn runtime(
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
        Err(e) => (
            Check::fail("runtime", e.to_string(), e.hint().unwrap_or_default()),
            None,
        ),
    }
}

/// signature: `bin/codex`'s Sigstore signature, checked again offline with the bundle the
/// receipt kept, against the trusted root in effect (`--trusted-root`).
pub(crate) fn signature(
    rt: &InstalledRuntime,
    policy: &crate::provenance::SignaturePolicy,
) -> Check {
    const REINSTALL: &str = "reinstall it with `codex-bootstrap install --force` (where OpenAI's release bundle can be read: GitHub, or a --mirror that copies it)";
    match rt.recheck_signature(policy) {
        None => Check::skip(
            "signature",
            format!(
                "OpenAI publishes no Sigstore bundle for this runtime ({}, {})",
                rt.receipt.target, rt.receipt.asset
            ),
        ),
        Some(Ok(r)) if r.verified => Check::ok(
            "signature",
            format!(
                "{} signed by {} (Rekor log index {})",
                r.file.as_deref().unwrap_or("bin/codex"),
                r.identity.as_deref().unwrap_or("a key"),
                r.log_index
                    .map_or_else(|| "unknown".to_string(), |i| i.to_string())
            ),
        ),
        // Nothing to check, and nothing requires it: said, not warned (the install said so).
        Some(Ok(r)) => Check::skip(
            "signature",
            format!(
                "not verified: {}",
                r.reason.as_deref().unwrap_or("no bundle")
            ),
        ),
        Some(Err(e)) => Check::fail(
            "signature",
            e.to_string(),
            e.hint().unwrap_or_else(|| REINSTALL.into()),
        ),
    }
}

/// integrity: every file's size and sha256 match the receipt.
pub(crate) fn integrity(rt: &InstalledRuntime) -> Check {
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
