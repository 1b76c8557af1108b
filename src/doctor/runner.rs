//! The runner: every selected check, in one fixed order, each fed by the ones before it.
//!
//! platform, pin, cache, runtime, integrity, signature, executes, path, app-server, auth, network, python,
//! node, turn. A check that cannot run because an earlier one failed is reported as skipped, with why.

use std::path::PathBuf;

use crate::platform::Target;
use crate::provision::{Context, Settings};

use super::node::NodeCheck;
use super::runtime::AppServerInputs;
use super::{network, node, pin, python, runtime, store, Check, Report, Status};

/// Why the checks that run the runtime did not: it is not the runtime that was installed.
const NOT_RUN: &str =
    "not run: the runtime failed its integrity check (reinstall it with `codex-bootstrap install --force`)";

/// Why they did not when its signature check failed.
const NOT_RUN_UNSIGNED: &str =
    "not run: the runtime failed its signature check (reinstall it with `codex-bootstrap install --force`)";

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
    /// The project's environment as `python::choose_interpreter` finds it (`VIRTUAL_ENV`, else a
    /// `.venv` walking up); a broken one fails the check, naming it.
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
    report.push(pin::pin(ctx.pins()));

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
    // Nothing whose integrity check failed is executed: a changed `bin/codex` is someone
    // else's program, and doctor may be running as root.
    let mut intact = false;
    match &installed {
        Some(rt) => {
            let integrity = store::integrity(rt);
            intact = integrity.status != Status::Fail;
            report.push(integrity);
            // A signature that no longer proves the bytes (or the root in effect refuses) is
            // treated as a failed integrity check: nothing of it is executed.
            let mut not_run = NOT_RUN;
            if intact {
                let signature = store::signature(rt, &ctx.settings.signature);
                if signature.status == Status::Fail {
                    intact = false;
                    not_run = NOT_RUN_UNSIGNED;
                }
                report.push(signature);
            } else {
                report.push(Check::skip("signature", NOT_RUN));
            }
            if intact {
                report.push(runtime::executes(rt));
            } else {
                report.push(Check::skip("executes", not_run));
            }
            report.push(runtime::path(Some(rt)));
            if intact {
                let (server, auth) = runtime::app_server(&select.app_server, rt);
                report.push(server);
                report.push(auth);
            } else {
                report.push(Check::skip("app-server", not_run));
                report.push(Check::skip("auth", not_run));
            }
        }
        None => {
            for id in ["integrity", "signature", "executes"] {
                report.push(Check::skip(id, "no runtime to check"));
            }
            // `codex` on PATH runs the pin here, installed or not.
            report.push(runtime::path(None));
            for id in ["app-server", "auth"] {
                report.push(Check::skip(id, "no runtime to check"));
            }
        }
    }
    if select.network {
        report.push(network::network(&ctx));
    } else {
        report.push(Check::skip("network", "skipped (--offline)"));
    }
    // The environment's codex is the host's: the pin of this version for the host.
    let codex_pin: python::CodexPin = version.as_ref().and_then(|v| {
        let host = Target::host().ok()?;
        let (manifest, asset) = ctx.pin.pinned_asset(v, &host)?;
        Some((asset.codex_sha256?, format!("`{}`", manifest.origin)))
    });
    match &select.python {
        PythonCheck::Skip => {}
        PythonCheck::Default => report.push(python::python(
            None,
            version.as_ref(),
            &ctx.store,
            &codex_pin,
        )),
        PythonCheck::Interpreter(py) => report.push(python::python(
            Some(py),
            version.as_ref(),
            &ctx.store,
            &codex_pin,
        )),
    }
    if let Some(check) = node::node(&select.node, &ctx) {
        report.push(check);
    }
    if select.turn {
        report.push(match &installed {
            Some(rt) if intact => runtime::turn(&select.app_server, rt),
            Some(_) => Check::skip("turn", NOT_RUN),
            None => Check::skip("turn", "no runtime to run a turn with"),
        });
    }
    if ctx.pins().conflict.is_some() {
        // `install` refuses while the pins conflict: no check may send the user to it.
        for c in report.checks.iter_mut().filter(|c| c.id != "pin") {
            if c.hint
                .as_ref()
                .is_some_and(|h| h.contains("codex-bootstrap install"))
            {
                c.hint = Some(
                    "first make the pins agree (see the `pin` check): `codex-bootstrap install` refuses while they conflict".into(),
                );
            }
        }
    }
    report
}
