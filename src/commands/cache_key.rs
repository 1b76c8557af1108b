//! `codex-bootstrap cache-key`: a stable key for CI caches (actions/cache, GitLab `cache:key`).
//! It changes exactly when the runtime that would be installed changes.

use std::io::Write;
use std::process::ExitCode;

use codex_bootstrap::error::{Failure, Report};

pub type CacheKeyArgs = crate::cli::ExactArgs;

/// The JSON printed by `cache-key --json`.
#[derive(serde::Serialize)]
struct CacheKeyReport {
    key: String,
    version: String,
    target: String,
    /// The pinned sha256 of the GitHub asset, when a manifest pins one.
    sha256: Option<codex_bootstrap::verify::Sha256>,
    pin_source: String,
    /// Pins found but not used, or that cannot apply (also on stderr).
    warnings: Vec<String>,
}

pub fn run(args: CacheKeyArgs) -> Result<ExitCode, Report> {
    let (ctx, version) = super::resolve_exact(
        &args,
        Failure::new("`latest` has no stable cache key")
            .hint("pin a version (`codex-bootstrap pin latest`) and key on that"),
    )?;
    // The key names what `install` would install from here: the same fallbacks and warnings,
    // and no key at all when the pins conflict (`install` would fail: no runtime fills it).
    ctx.check_pins(&crate::ui::Ui::new(true))?;
    let sha256 = ctx
        .pin
        .pinned_asset(&version, &ctx.target)
        .and_then(|(_, a)| a.sha256);
    let digest = sha256
        .map(|d| format!("-{}", &d.to_hex()[..16]))
        .unwrap_or_default();
    let key = format!("codex-runtime-{version}-{}{digest}", ctx.target);
    if args.output.json {
        super::print_json(&CacheKeyReport {
            key,
            version: version.to_string(),
            target: ctx.target.to_string(),
            sha256,
            pin_source: ctx.pin.source.to_string(),
            warnings: ctx.warnings(),
        })?;
    } else {
        writeln!(std::io::stdout(), "{key}")?;
    }
    Ok(ExitCode::SUCCESS)
}
