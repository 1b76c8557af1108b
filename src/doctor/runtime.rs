//! The installed runtime at work: `codex --version` runs and reports the pin, which `codex` a
//! shell finds, the app-server answers `initialize` with the pinned version, a turn can
//! authenticate, and (on request) one turn completes.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::appserver::{AccountInfo, AppServer, AppServerError, SpawnOptions};
use crate::error::Hint;
use crate::fs::which;
use crate::prove::{reported_version, VersionError};
use crate::store::InstalledRuntime;

use super::Check;

/// Why `codex --version` said nothing a check can use; shown as the check's detail, with
/// its cause on the same line.
#[derive(Debug, thiserror::Error)]
pub(crate) enum NoVersion {
    #[error("{}", crate::error::chain(.0))]
    Run(VersionError),
    #[error("`{} --version` failed ({status}): {said}", .exe.display())]
    Failed {
        exe: std::path::PathBuf,
        status: std::process::ExitStatus,
        /// The last line of its stderr.
        said: String,
    },
}

/// The check that ran it gives the fix.
impl Hint for NoVersion {
    fn hint(&self) -> Option<String> {
        None
    }
}

/// Run `exe --version` with a deadline, in a private CODEX_HOME so doctor leaves the user's as
/// it found it (see [`crate::prove`]); what it says, or why it said nothing.
pub(crate) fn codex_version(exe: &Path, timeout: Duration) -> Result<String, NoVersion> {
    let out = crate::prove::codex_version_blocking(exe, timeout).map_err(NoVersion::Run)?;
    if !out.success() {
        return Err(NoVersion::Failed {
            exe: exe.to_path_buf(),
            status: out.status,
            said: out.stderr.trim().lines().last().unwrap_or("").to_string(),
        });
    }
    Ok(out.stdout)
}

/// executes: `bin/codex --version` runs and reports the pin.
pub(crate) fn executes(rt: &InstalledRuntime) -> Check {
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
        Err(e) => Check::fail("executes", e.to_string(), executes_hint(&e)),
    }
}

/// The fix for a `codex --version` that said nothing: only a runtime that ran and failed is
/// the runtime's fault; a private `CODEX_HOME` that cannot be made is the temp directory's.
fn executes_hint(e: &NoVersion) -> String {
    match e {
        NoVersion::Run(VersionError::ScratchHome { .. }) => "make the temporary directory writable, or point TMPDIR at one that is (doctor runs `codex --version` in a private CODEX_HOME made there)".into(),
        NoVersion::Run(VersionError::TimedOut { .. }) => "the runtime did not answer `--version` in time: run it by hand (`codex-bootstrap which` prints its path) and, if it hangs, reinstall it with `codex-bootstrap install --force`".into(),
        _ => "reinstall it with `codex-bootstrap install --force`; on Linux the runtime is a static musl binary, so a failure here usually means a truncated or foreign-architecture file".into(),
    }
}

/// path: which `codex` a shell would run. Best the entry point `install` places in the bin
/// directory (it runs what each directory pins: the detail says what it runs here and why),
/// else this runtime itself; otherwise the exact line that puts the bin directory first on
/// PATH for the user's shell, naming the `codex` a shell runs instead.
pub(crate) fn path(rt: Option<&InstalledRuntime>) -> Check {
    use crate::proxy::bin_dir::{self, BinDir, Ownership, Shell};
    let here = match crate::proxy::Choice::here() {
        Ok(choice) => format!("here `codex` runs {}", choice.describe()),
        Err(e) => format!("`codex` cannot resolve a pin here: {e}"),
    };
    let path_var = std::env::var_os("PATH");
    let found = which(
        &format!("{}{}", crate::proxy::NAME, std::env::consts::EXE_SUFFIX),
        path_var.as_deref(),
    );
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    let bin = match BinDir::locate() {
        Ok(bin) => bin,
        Err(e) => return Check::warn("path", e.to_string(), e.hint().unwrap_or_default()),
    };
    let entry = bin.entry();
    let ownership = std::env::current_exe()
        .and_then(|exe| bin_dir::ownership(&entry, &exe))
        .unwrap_or(Ownership::Missing);
    let ours = matches!(ownership, Ownership::Current | Ownership::Older);
    let line = Shell::of_this_user().path_line(&bin.dir);
    // Which `codex` a shell runs now, when it is not the entry point.
    let instead = || match &found {
        None => "no `codex` on PATH".to_string(),
        Some(f) => {
            let said = codex_version(f, Duration::from_secs(5)).unwrap_or_else(|e| e.to_string());
            let verdict = match (reported_version(&said), rt) {
                (Some(v), Some(rt)) if &v == rt.version() => ": the pinned version, another copy",
                (Some(_), _) => ": another version",
                (None, _) => ": unknown version",
            };
            format!("`codex` on PATH is {} ({said}){verdict}", f.display())
        }
    };
    match &found {
        Some(f) if ours && same(f, &entry) => {
            return Check::ok(
                "path",
                format!(
                    "`codex` on PATH is codex-bootstrap's entry point ({})",
                    entry.display()
                ),
            )
            .detail(here)
        }
        Some(f) if rt.is_some_and(|rt| same(f, &rt.codex_path())) => {
            return Check::ok(
                "path",
                format!("`codex` on PATH is this runtime ({})", f.display()),
            )
            .detail(here)
        }
        _ => {}
    }
    let (summary, hint) = match ownership {
        Ownership::Foreign => {
            let e = bin_dir::BinError::Foreign {
                path: entry.clone(),
            };
            (format!("{}; {e}", instead()), e.hint().unwrap_or_default())
        }
        Ownership::Missing => (
            format!("{}; no entry point in {}", instead(), bin.dir.display()),
            if bin.on_path(path_var.as_deref()) {
                "run `codex-bootstrap install` to place `codex` there".to_string()
            } else {
                format!("run `codex-bootstrap install` to place `codex` there, then put it on PATH: {line}")
            },
        ),
        Ownership::Current | Ownership::Older if !bin.on_path(path_var.as_deref()) => (
            format!(
                "{}; {} (where codex-bootstrap placed `codex`) is not on PATH",
                instead(),
                bin.dir.display()
            ),
            line,
        ),
        Ownership::Current | Ownership::Older => (
            format!(
                "{}, found before codex-bootstrap's in {}",
                instead(),
                bin.dir.display()
            ),
            format!("put {} first on PATH: {line}", bin.dir.display()),
        ),
    };
    Check::warn("path", summary, hint).detail(here)
}

/// How the app-server checks start `codex app-server`: the user's overrides and CODEX_HOME.
#[derive(Debug, Clone, Default)]
pub struct AppServerInputs {
    /// `key=value` overrides, passed as `-c`.
    pub config: Vec<String>,
    pub codex_home: Option<PathBuf>,
}

impl AppServerInputs {
    fn spawn_options(&self, rt: &InstalledRuntime) -> SpawnOptions {
        SpawnOptions {
            codex: rt.codex_path(),
            path_dir: rt.path_dir(),
            config: self.config.clone(),
            codex_home: self.codex_home.clone(),
            cwd: None,
        }
    }
}

/// app-server and auth: `initialize` answers with the pinned version; can a turn authenticate?
pub(crate) fn app_server(inputs: &AppServerInputs, rt: &InstalledRuntime) -> (Check, Check) {
    if !rt.target().is_host() {
        let skip = |id| {
            Check::skip(
                id,
                format!("{} binaries do not run on this host", rt.target()),
            )
        };
        return (skip("app-server"), skip("auth"));
    }
    let opts = inputs.spawn_options(rt);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            let c = Check::fail(
                "app-server",
                format!("could not start the async runtime: {e}"),
                "report this as a bug",
            );
            return (c, Check::skip("auth", "app-server unavailable"));
        }
    };
    let outcome = runtime.block_on(AppServer::supervise(
        &opts,
        Duration::from_secs(20),
        std::future::pending(),
        async |server: &mut AppServer| {
            let info = server.initialize().await?;
            let account = server.account().await?;
            Ok::<_, AppServerError>((info, account))
        },
    ));
    let (info, account) = match outcome {
        Ok(r) => r,
        Err(e) => {
            // doctor's wait is fixed (it has no `--timeout`): a timeout's fix is the server's.
            let hint = match &e {
                AppServerError::Timeout { .. } => "`codex app-server` did not answer `initialize` within 20 s: run `codex-bootstrap doctor --turn -v` to see its stderr, and check that the runtime runs (`codex --version`) and that CODEX_HOME is readable".to_string(),
                _ => e.hint().unwrap_or_default(),
            };
            let c = Check::fail(
                "app-server",
                format!("`codex app-server` did not initialize: {e}"),
                hint,
            );
            return (c, Check::skip("auth", "app-server unavailable"));
        }
    };
    let reported = info.runtime_version();
    let server = match &reported {
        Some(v) if v == &rt.version().to_string() => {
            Check::ok("app-server", format!("`initialize` answered: codex {v}"))
        }
        other => Check::fail(
            "app-server",
            format!(
                "`initialize` reports version {}, the pin is {}",
                other.as_deref().unwrap_or("unknown"),
                rt.version()
            ),
            "reinstall with `codex-bootstrap install --force`",
        ),
    }
    .detail(format!(
        "userAgent: {}\ncodexHome: {}",
        info.user_agent,
        info.codex_home.as_deref().unwrap_or("unknown")
    ));
    (server, auth(&account, inputs.codex_home.as_deref()))
}

/// auth: whether a turn can authenticate, from `account/read` and the environment. Never
/// prints a secret: only which variable or file holds one.
fn auth(account: &AccountInfo, codex_home: Option<&Path>) -> Check {
    if let Some(kind) = &account.account_type {
        return Check::ok("auth", format!("signed in ({kind})"));
    }
    if let Some(source) = crate::appserver::local_auth(codex_home) {
        return Check::ok("auth", format!("credentials found in {source}"));
    }
    if account.requires_openai_auth {
        return Check::warn(
            "auth",
            "no OpenAI credentials: a turn against OpenAI will fail",
            "run `codex login`, or set OPENAI_API_KEY (or CODEX_API_KEY); a custom provider needs none",
        );
    }
    Check::ok(
        "auth",
        "the configured model provider needs no OpenAI credentials",
    )
}

/// turn: one quickstart turn.
pub(crate) fn turn(inputs: &AppServerInputs, rt: &InstalledRuntime) -> Check {
    let opts = inputs.spawn_options(rt);
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let result = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(AppServerError::Io)
        .and_then(|r| {
            r.block_on(crate::appserver::one_turn(
                &opts,
                &cwd,
                None,
                "Reply with the single word: ready",
                Duration::from_secs(120),
                |_| {},
            ))
        });
    match result {
        Ok(report) => {
            let answer: String = report
                .turn
                .final_response
                .unwrap_or_default()
                .chars()
                .take(80)
                .collect();
            Check::ok(
                "turn",
                format!(
                    "one turn completed in {:.2}s: \"{}\"",
                    report.turn.duration.as_secs_f64(),
                    answer.trim()
                ),
            )
        }
        // A failed turn says "the turn failed" itself; other errors get it said here.
        Err(e @ AppServerError::TurnFailed { .. }) => {
            Check::fail("turn", e.to_string(), e.hint().unwrap_or_default())
        }
        // doctor's wait is fixed (it has no `--timeout`); quickstart's is not.
        Err(e @ AppServerError::Timeout { .. }) => Check::fail(
            "turn",
            format!("the turn failed: {e}"),
            "check that the model endpoint is reachable (`codex-bootstrap doctor` without `--offline` checks the network); `codex-bootstrap quickstart --timeout SECS` runs a turn with a longer wait",
        ),
        Err(e) => Check::fail(
            "turn",
            format!("the turn failed: {e}"),
            e.hint().unwrap_or_default(),
        ),
    }
}
