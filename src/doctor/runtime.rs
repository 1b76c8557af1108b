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
        Err(e) => Check::fail("executes", e.to_string(), "reinstall it with `codex-bootstrap install --force`; on Linux the runtime is a static musl binary, so a failure here usually means a truncated or foreign-architecture file"),
    }
}

/// path: which `codex` a shell would run, and whether it is this runtime.
pub(crate) fn path(rt: &InstalledRuntime) -> Check {
    let exe = rt.target().exe_name("codex");
    let fix = format!(
        "put the runtime first on PATH: export PATH=\"{}:$PATH\" (or call it by its full path: `codex-bootstrap which`)",
        rt.bin_dir().display()
    );
    let Some(found) = which(&exe, std::env::var_os("PATH").as_deref()) else {
        return Check::warn("path", "no `codex` on PATH", fix);
    };
    let same = match (found.canonicalize(), rt.codex_path().canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if same {
        return Check::ok(
            "path",
            format!("`codex` on PATH is this runtime ({})", found.display()),
        );
    }
    let version = codex_version(&found, Duration::from_secs(5)).unwrap_or_else(|e| e.to_string());
    let verdict = match reported_version(&version) {
        Some(v) if &v == rt.version() => "the same version, another copy",
        Some(_) => "another version",
        None => "unknown version",
    };
    Check::warn(
        "path",
        format!(
            "`codex` on PATH is {} ({version}): {verdict}",
            found.display()
        ),
        fix,
    )
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
            let c = Check::fail(
                "app-server",
                format!("`codex app-server` did not initialize: {e}"),
                e.hint().unwrap_or_default(),
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
        Err(e) => Check::fail(
            "turn",
            format!("the turn failed: {e}"),
            e.hint().unwrap_or_default(),
        ),
    }
}
