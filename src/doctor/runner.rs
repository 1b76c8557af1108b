//! The runner: every selected check, in one fixed order, each fed by the ones before it.
//!
//! platform, pin, cache, runtime, integrity, executes, path, app-server, auth, network, python,
//! node, turn. A check that cannot run because an earlier one failed is reported as skipped, with why.

use std::path::PathBuf;

use crate::platform::Target;
use crate::provision::{Context, Settings};

use super::node::NodeCheck;
use super::runtime::AppServerInputs;
use super::{network, node, pin, python, runtime, store, Check, Report};

/// About what a runtime needs on disk, before one is installed to tell us exactly.
const RUNTIME_SIZE_ESTIMATE: u64 = 400 << 20;

/// Which of the optional checks to run, and what the app-server checks need.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Reach the network: the GitHub API, the registries, the mirror.
    pub network: bool,
    pub python: PythonCheck,
    pub node: NodeCheck,
    /// Finish with one turn.
    pub turn: bool,
    pub app_server: AppServerInputs,
}

/// Whether to check a Python environment's runtime, and which.
#[derive(Debug, Clone, Default)]
pub enum PythonCheck {
    #[default]
    Skip,
    /// The interpreter `python::choose_interpreter` picks (the active virtualenv's).
    Default,
    Interpreter(PathBuf),
}

/// Run the checks for the runtime `settings` resolve to.
pub fn run(settings: &Settings, select: &Selection) -> Report {
    let mut report = Report {
        ok: true,
        checks: Vec::new(),
    };
    let host = Target::host();
    let explicit = settings.target.as_deref().map(|t| t.parse::<Target>());
    match (&explicit, &host) {
        (Some(Ok(t)), _) => report.push(pin::platform(Ok(t))),
        (Some(Err(e)), _) => report.push(pin::platform(Err(e))),
        (None, h) => report.push(pin::platform(h.as_ref())),
    }
    let ctx = match Context::resolve(settings) {
        Ok(ctx) => ctx,
        Err(e) => {
            let hint = crate::error::Hint::hint(&e)
                .unwrap_or_else(|| "see `codex-bootstrap install --help`".into());
            report.push(Check::fail("pin", crate::error::chain(&e), hint));
            return report;
        }
    };
    let version = ctx.exact_version().cloned();
    report.push(pin::pin(&ctx.pin, version.as_ref()));

    let installed = version
        .as_ref()
        .and_then(|v| ctx.store.installed(v, &ctx.target).ok().flatten());
    let needed = installed
        .as_ref()
        .map_or(RUNTIME_SIZE_ESTIMATE, |rt| rt.receipt.installed_size());
    report.push(store::cache(
        &ctx.store,
        needed.saturating_mul(2).min(RUNTIME_SIZE_ESTIMATE * 2),
    ));

    let installed = match &version {
        Some(v) => {
            let (check, rt) = store::runtime(&ctx.store, v, &ctx.target);
            report.push(check);
            rt
        }
        None => {
            report.push(Check::skip(
                "runtime",
                "the pin is `latest`: pin a version to check its install",
            ));
            None
        }
    };
    match &installed {
        Some(rt) => {
            report.push(store::integrity(rt));
            report.push(runtime::executes(rt));
            report.push(runtime::path(rt));
            let (server, auth) = runtime::app_server(&select.app_server, rt);
            report.push(server);
            report.push(auth);
        }
        None => {
            for id in ["integrity", "executes", "path", "app-server", "auth"] {
                report.push(Check::skip(id, "no runtime to check"));
            }
        }
    }
    if select.network {
        report.push(network::network(&ctx));
    } else {
        report.push(Check::skip("network", "skipped (--offline)"));
    }
    match &select.python {
        PythonCheck::Skip => {}
        PythonCheck::Default => report.push(python::python(None, version.as_ref(), &ctx.store)),
        PythonCheck::Interpreter(py) => {
            report.push(python::python(Some(py), version.as_ref(), &ctx.store))
        }
    }
    if let Some(check) = node::node(&select.node, &ctx) {
        report.push(check);
    }
    if select.turn {
        report.push(match &installed {
            Some(rt) => runtime::turn(&select.app_server, rt),
            None => Check::skip("turn", "no runtime to run a turn with"),
        });
    }
    report
}
