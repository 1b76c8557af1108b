//! One file per subcommand, each with its `Args` and its `run` (`crate::cli::Command` lists
//! them and dispatches). Commands orchestrate the library modules and render results; they
//! hold no mechanism of their own.

pub mod cache_key;
pub mod completions;
pub mod dev;
pub mod doctor;
pub mod install;
pub mod list;
pub mod mirror;
pub mod pin;
pub mod prune;
pub mod quickstart;
pub mod uninstall;
pub mod wheel;
pub mod which;

use std::io::Write;

use codex_bootstrap::error::Report;
use codex_bootstrap::pin::CodexVersion;
use codex_bootstrap::provision::Context;

/// The context of a command that needs an exact version, or `refusal` as a usage error for
/// `latest` (which only the network can resolve).
fn resolve_exact(
    args: &crate::cli::ExactArgs,
    refusal: codex_bootstrap::error::Failure,
) -> Result<(Context, CodexVersion), Report> {
    let ctx = Context::resolve(&args.runtime.settings())?;
    match ctx.exact_version().cloned() {
        Some(version) => Ok((ctx, version)),
        None => Err(refusal.usage().into()),
    }
}

/// Print a `--json` result: one pretty-printed JSON document and a newline on stdout. The
/// shapes are documented in the user guide (docs/src/json.md) and pinned by `tests/it/json.rs`.
pub fn print_json(value: &impl serde::Serialize) -> Result<(), Report> {
    // Rendered first and written whole: a closed stdout (`| head`) is then a plain io error
    // that `error::is_broken_pipe` recognises (serde_json's error hides its io source).
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(())
}
