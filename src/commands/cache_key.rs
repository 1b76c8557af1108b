//! `codex-bootstrap cache-key`: a stable key for CI caches (actions/cache, GitLab `cache:key`).
//! It changes exactly when the runtime that would be installed changes.

use std::io::Write;
use std::process::ExitCode;

use crate::cli::RuntimeArgs;
use codex_bootstrap::error::Failure;
use codex_bootstrap::provision::Context;

#[derive(Debug, clap::Args)]
pub struct CacheKeyArgs {
    #[command(flatten)]
    pub version: crate::cli::VersionArg,

    #[command(flatten)]
    pub runtime: RuntimeArgs,

    #[command(flatten)]
    pub output: crate::cli::JsonArg,
}

/// The JSON printed by `cache-key --json`.
#[derive(serde::Serialize)]
struct CacheKeyReport {
    key: String,
    version: String,
    target: String,
    /// The pinned sha256 of the GitHub asset, when a manifest pins one.
    sha256: Option<codex_bootstrap::verify::Sha256>,
    pin_source: String,
}

pub fn run(args: CacheKeyArgs) -> anyhow::Result<ExitCode> {
    let ctx = Context::resolve(&args.runtime.settings())?;
    let Some(version) = ctx.exact_version() else {
        return Err(Failure::new("`latest` has no stable cache key")
            .hint("pin a version (`codex-bootstrap pin latest`) and key on that")
            .usage()
            .into());
    };
    let sha256 = ctx
        .pin
        .pinned_asset(version, &ctx.target)
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
        })?;
    } else {
        writeln!(std::io::stdout(), "{key}")?;
    }
    Ok(ExitCode::SUCCESS)
}
