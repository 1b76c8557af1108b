//! `-v`, `-vv` and `CODEX_BOOTSTRAP_LOG`: what the tool decides and requests, as `tracing`
//! events on stderr, for a user who must show why a proxy, a registry or a lock misbehaves.
//!
//! The events are written so they can be pasted into a bug report: URLs only as
//! [`crate::redact::DisplayUrl`]s (no userinfo, no query), no header values, no tokens or
//! passwords (a test runs `-vv` with sentinel secrets in every place one can be configured and
//! greps for them). Progress bars are turned off while logging,
//! since log lines and a redrawn bar tear each other on a terminal.

use std::sync::atomic::{AtomicBool, Ordering};

use tracing_subscriber::EnvFilter;

/// A `tracing` filter (`codex_bootstrap=debug`, `codex_bootstrap::net=trace,hyper_util=debug`);
/// it replaces what `-v` would choose.
pub(crate) const LOG_ENV: &str = "CODEX_BOOTSTRAP_LOG";

static ENABLED: AtomicBool = AtomicBool::new(false);

/// The filter `-v` (decisions, requests, locks, children) and `-vv` (also every attempt and the
/// HTTP connection pool) stand for.
fn verbosity_filter(verbose: u8) -> Option<&'static str> {
    match verbose {
        0 => None,
        1 => Some("codex_bootstrap=debug"),
        _ => Some("codex_bootstrap=trace,hyper_util=debug"),
    }
}

/// Start logging to stderr when `-v` or `CODEX_BOOTSTRAP_LOG` asks for it; otherwise install
/// nothing, so an ordinary run pays for no subscriber.
pub fn init(verbose: u8) -> Result<(), crate::error::Failure> {
    let from_env = std::env::var(LOG_ENV).ok().filter(|v| !v.trim().is_empty());
    let directives = match (&from_env, verbosity_filter(verbose)) {
        (Some(env), _) => env.as_str(),
        (None, Some(v)) => v,
        (None, None) => return Ok(()),
    };
    let filter = EnvFilter::builder().parse(directives).map_err(|e| {
        crate::error::Failure::new(format!("{LOG_ENV}=`{directives}` is not a log filter: {e}"))
            .hint(format!(
                "write it like `{LOG_ENV}=codex_bootstrap=debug` (target=level, comma separated), or unset it and pass `-v`"
            ))
            .usage()
    })?;
    let installed = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(true)
        .with_timer(tracing_subscriber::fmt::time::Uptime::default())
        .try_init();
    if installed.is_ok() {
        ENABLED.store(true, Ordering::Relaxed);
    }
    Ok(())
}

/// Whether log lines are being written to stderr.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_verbosity_is_a_valid_filter() {
        for v in 1..=3 {
            let f = verbosity_filter(v).unwrap();
            assert!(EnvFilter::builder().parse(f).is_ok(), "{f}");
        }
        assert!(verbosity_filter(0).is_none());
    }
}
