//! `codex` on PATH, as rustup's proxies are: codex-bootstrap started by the name `codex`
//! (`codex.exe`) runs the runtime the current directory pins, with every argument, the standard
//! streams, the working directory and the exit code passed through untouched.
//!
//! On each call: the pin as `install` resolves it here, the command line aside
//! ([`Context::resolve`] with default settings: `CODEX_BOOTSTRAP_VERSION`, then the project's
//! pin walking up, then the bundled one), then the warm path ([`provision::warm`]: a stat and a
//! receipt read, no lock, no network, no async runtime), then `exec` of the runtime's
//! `bin/codex` with its `codex-path/` first on PATH, as the SDKs launch it. A pin that is not
//! installed is installed on demand through [`provision::provision`] (its store lock makes concurrent
//! first calls install once), with every message on stderr: stdout is codex's (`codex
//! app-server` speaks JSON-RPC there). `CODEX_BOOTSTRAP_AUTO_INSTALL=0` turns that off.
//!
//! Windows has no `exec`: the runtime runs as a child whose exit code becomes ours, and
//! Ctrl-C (which the console delivers to both) is left to the child, as rustup's proxies do.
//!
//! [`bin_dir`] is where the entry point lives and how `install` places it.

pub mod bin_dir;

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Failure, Hint};
use crate::pin::{CodexVersion, PinSource, Request};
use crate::platform::Target;
use crate::provision::{self, Context, ProvisionError, Settings, Warm};
use crate::report::Reporter;
use crate::store::InstalledRuntime;

/// `0` (or `false`, `no`, `off`) turns off installs on demand: a pin that is not installed is
/// then an error naming the install command.
pub const AUTO_INSTALL_ENV: &str = "CODEX_BOOTSTRAP_AUTO_INSTALL";

/// The name the entry point answers to (its file stem: `codex`, `codex.exe`).
pub const NAME: &str = "codex";

/// Whether this process was started as the `codex` entry point: `argv[0]`'s file stem is
/// `codex` (any case on Windows, whose file names ignore it).
pub fn invoked_as_codex(argv0: &OsStr) -> bool {
    Path::new(argv0).file_stem().is_some_and(|stem| {
        if cfg!(windows) {
            stem.eq_ignore_ascii_case(NAME)
        } else {
            stem == NAME
        }
    })
}

/// Whether a pin that is not installed may be installed on demand ([`AUTO_INSTALL_ENV`]).
pub fn auto_install() -> bool {
    auto_install_from(std::env::var_os(AUTO_INSTALL_ENV).as_deref())
}

fn auto_install_from(value: Option<&OsStr>) -> bool {
    let Some(v) = value.and_then(OsStr::to_str) else {
        return true;
    };
    !matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "0" | "false" | "no" | "off"
    )
}

#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// One line: it names the install command itself.
    #[error("codex {version} ({target}) is not installed (pinned by {pin}) and {AUTO_INSTALL_ENV}=0: run `codex-bootstrap install {version}`")]
    NotInstalled {
        version: CodexVersion,
        target: Target,
        pin: PinSource,
    },
    #[error("the pin here is `latest` ({pin}), which only the network can resolve, and {AUTO_INSTALL_ENV}=0: run `codex-bootstrap install latest`, or pin a version")]
    Latest { pin: PinSource },
    #[error("could not run `{}`", .program.display())]
    Exec {
        program: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The settings of an install on demand (its network variables) did not parse.
    #[error(transparent)]
    Settings(Failure),
    #[error(transparent)]
    Provision(#[from] ProvisionError),
}

impl Hint for ProxyError {
    fn hint(&self) -> Option<String> {
        match self {
            ProxyError::NotInstalled { .. } | ProxyError::Latest { .. } => None,
            ProxyError::Exec { .. } => Some(
                "check the runtime with `codex-bootstrap doctor`, or reinstall it with `codex-bootstrap install --force`".into(),
            ),
            ProxyError::Settings(e) => e.hint(),
            ProxyError::Provision(e) => e.hint(),
        }
    }
    fn is_usage(&self) -> bool {
        match self {
            ProxyError::Settings(e) => e.is_usage(),
            ProxyError::Provision(e) => e.is_usage(),
            _ => false,
        }
    }
}

/// What `codex` runs in the current directory: the pin as `install` resolves it here (the
/// command line aside) and, when it is installed, the runtime.
pub struct Choice {
    pub ctx: Context,
    pub warm: Warm,
}

impl Choice {
    /// Resolve it for the current directory: no lock, no network.
    pub fn here() -> Result<Choice, ProvisionError> {
        let ctx = Context::resolve(&Settings::default())?;
        let warm = provision::warm(&ctx)?;
        Ok(Choice { ctx, warm })
    }

    /// The runtime `codex` would run without installing anything.
    pub fn runtime(&self) -> Option<&InstalledRuntime> {
        match &self.warm {
            Warm::Installed(rt) | Warm::Legacy(rt) => Some(rt),
            Warm::Missing => None,
        }
    }

    /// One line for people: `codex 0.163.0 (pinned by …)`, and whether it is installed.
    pub fn describe(&self) -> String {
        let version = match &self.ctx.pin.request {
            Request::Exact(v) => v.to_string(),
            Request::Latest => "latest".into(),
        };
        let state = match self.runtime() {
            Some(_) => "installed",
            None if auto_install() => "not installed: the first `codex` installs it",
            None => "not installed, and installs on demand are off",
        };
        format!(
            "codex {version} (pinned by {}; {state})",
            self.ctx.pin.source
        )
    }
}

/// When `dir` is the runtime `codex` runs here (one `uninstall` or `prune` removes): the
/// warning to give, since the next `codex` will install it again, or fail with
/// `CODEX_BOOTSTRAP_AUTO_INSTALL=0`.
pub fn removing_what_runs_here(dir: &Path) -> Option<String> {
    let here = Choice::here().ok()?;
    let version = here.ctx.exact_version()?;
    if here.ctx.store.runtime_dir(version, &here.ctx.target) != dir {
        return None;
    }
    let then = if auto_install() {
        "the next `codex` here installs it again on demand".to_string()
    } else {
        format!("`codex` here fails until it is installed again ({AUTO_INSTALL_ENV}=0)")
    };
    Some(format!(
        "codex {version} is what `codex` here runs (pinned by {}): {then}",
        here.ctx.pin.source
    ))
}

/// The entry point: run the runtime the current directory pins with `args`, installing it
/// first when needed and allowed. `settings` gives an install on demand its network
/// configuration (the variables `install` reads); it is only called then. Returns the exit
/// code to end with: the runtime's own. On Unix it returns only on failure, `exec` having
/// replaced this process.
pub fn run(
    args: Vec<OsString>,
    settings: impl FnOnce() -> Result<Settings, Failure>,
    ui: &dyn Reporter,
) -> Result<i32, ProxyError> {
    let here = Choice::here()?;
    // The pins are read as `install` reads them, and their warnings said as it says them:
    // an installed runtime runs (as `which` shows it) even while pins conflict; an install
    // on demand refuses the conflict as `install` does.
    match &here.warm {
        Warm::Installed(_) | Warm::Legacy(_) => {
            here.ctx.warn_pins(ui);
        }
        Warm::Missing => {
            here.ctx.check_pins(ui)?;
        }
    }
    let runtime = match here.warm {
        Warm::Installed(rt) | Warm::Legacy(rt) => rt,
        Warm::Missing => {
            if !auto_install() {
                return Err(match here.ctx.exact_version() {
                    Some(v) => ProxyError::NotInstalled {
                        version: v.clone(),
                        target: here.ctx.target.clone(),
                        pin: here.ctx.pin.source.clone(),
                    },
                    None => ProxyError::Latest {
                        pin: here.ctx.pin.source.clone(),
                    },
                });
            }
            install_on_demand(&settings().map_err(ProxyError::Settings)?, ui)?
        }
    };
    exec(&runtime, args)
}

/// The pin installed as `install` would, every message on stderr (through `ui`).
fn install_on_demand(
    settings: &Settings,
    ui: &dyn Reporter,
) -> Result<InstalledRuntime, ProxyError> {
    // Ctrl-C during the download cleans up its staging directory and exits 130.
    if let Err(e) = crate::interrupt::listen() {
        tracing::debug!("could not take over Ctrl-C: {e}");
    }
    let ctx = Context::resolve(settings)?;
    // The pin's warnings were said already (by `run`): this context says nothing twice.
    let quiet = crate::report::Silent;
    ctx.check_pins(&quiet)?;
    let provisioned = provision::provision(&ctx, false, None, ui)?;
    let rt = provisioned.outcome.into_runtime();
    ui.status(
        "Installed",
        &format!(
            "codex {} ({}) for `codex` here (pinned by {})",
            rt.version(),
            rt.target(),
            provisioned.pin_source
        ),
    );
    Ok(rt)
}

/// The command that runs `rt` with `args`: `argv[0]` its own path, its `codex-path/` first on
/// PATH, everything else inherited.
pub fn command(rt: &InstalledRuntime, args: Vec<OsString>) -> Command {
    let program = rt.codex_path();
    let mut cmd = Command::new(&program);
    cmd.args(args);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.arg0(&program);
    }
    if let Some(path) = rt
        .path_dir()
        .as_deref()
        .and_then(crate::fs::path_with_first)
    {
        cmd.env("PATH", path);
    }
    cmd
}

/// Replace this process with the runtime (Unix).
#[cfg(unix)]
fn exec(rt: &InstalledRuntime, args: Vec<OsString>) -> Result<i32, ProxyError> {
    use std::os::unix::process::CommandExt;
    tracing::debug!(program = %rt.codex_path().display(), "exec");
    let source = command(rt, args).exec();
    Err(ProxyError::Exec {
        program: rt.codex_path(),
        source,
    })
}

/// Run the runtime as a child and end with its exit code (Windows has no `exec`). The console
/// sends Ctrl-C to the child too: ours is ignored while it runs, so the child decides.
#[cfg(not(unix))]
fn exec(rt: &InstalledRuntime, args: Vec<OsString>) -> Result<i32, ProxyError> {
    let _ignored = ignore_ctrl_c();
    // When an install on demand took over Ctrl-C, a scope keeps it from ending us at once.
    let _scope = crate::interrupt::scope();
    let status = command(rt, args)
        .status()
        .map_err(|source| ProxyError::Exec {
            program: rt.codex_path(),
            source,
        })?;
    Ok(status.code().unwrap_or(1))
}

/// A Ctrl-C listener nobody reads: while it lives, Ctrl-C does not end this process.
#[cfg(windows)]
fn ignore_ctrl_c() -> Option<(tokio::runtime::Runtime, tokio::signal::windows::CtrlC)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    let listener = {
        let _entered = runtime.enter();
        tokio::signal::windows::ctrl_c().ok()?
    };
    Some((runtime, listener))
}

#[cfg(all(not(unix), not(windows)))]
fn ignore_ctrl_c() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_decides_not_the_directory() {
        for yes in ["codex", "/home/me/.local/bin/codex", "./codex"] {
            assert!(invoked_as_codex(OsStr::new(yes)), "{yes}");
        }
        for no in [
            "codex-bootstrap",
            "/usr/bin/codex-bootstrap",
            "/opt/codex/bin/codex-bootstrap",
            "codexx",
            "",
        ] {
            assert!(!invoked_as_codex(OsStr::new(no)), "{no}");
        }
        // `codex.exe`'s stem is `codex` on every platform.
        assert!(invoked_as_codex(OsStr::new("codex.exe")));
    }

    #[test]
    fn installs_on_demand_unless_turned_off() {
        assert!(auto_install_from(None));
        assert!(auto_install_from(Some(OsStr::new("1"))));
        assert!(auto_install_from(Some(OsStr::new(""))));
        for off in ["0", "false", "No", " off "] {
            assert!(!auto_install_from(Some(OsStr::new(off))), "{off}");
        }
    }
}
