//! `codex-bootstrap doctor`: run the checks in [`crate::doctor`], render them, exit 1 when any
//! failed.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use crate::appserver::client::AccountInfo;
use crate::appserver::{AppServer, AppServerError, SpawnOptions};
use crate::cli::{heading, OnlineArgs};
use crate::doctor::{self, Check, Report, Status};
use crate::provision::{Context, Online};
use crate::ui::Ui;

#[derive(Debug, clap::Args)]
pub struct DoctorArgs {
    #[arg(
        value_name = "VERSION",
        help = crate::cli::VERSION_HELP,
        env = crate::pin::VERSION_ENV,
        hide_env_values = true
    )]
    pub runtime_version: Option<String>,

    #[command(flatten)]
    pub runtime: OnlineArgs,

    /// Skip the network checks.
    #[arg(long)]
    pub offline: bool,

    /// Print `{"ok": bool, "checks": [...]}`.
    #[arg(long, help_heading = heading::OUTPUT)]
    pub json: bool,

    /// Check this Python interpreter's `openai-codex-cli-bin` (default: the active virtualenv).
    #[arg(long, value_name = "PY", help_heading = heading::PYTHON)]
    pub python: Option<PathBuf>,

    /// Finish with one quickstart turn.
    #[arg(long)]
    pub turn: bool,

    /// `key=value` config overrides passed to codex (repeatable), as for `quickstart`.
    #[arg(short = 'c', long = "config", value_name = "KEY=VALUE")]
    pub config: Vec<String>,

    /// CODEX_HOME for the app-server checks [default: ~/.codex].
    #[arg(long, value_name = "DIR", env = "CODEX_HOME", hide_env_values = true)]
    pub codex_home: Option<PathBuf>,
}

/// About what a runtime needs on disk, before one is installed to tell us exactly.
const RUNTIME_SIZE_ESTIMATE: u64 = 400 << 20;

pub fn run(args: DoctorArgs) -> anyhow::Result<ExitCode> {
    let ui = Ui::new(args.json);
    let mut report = Report {
        ok: true,
        checks: Vec::new(),
    };
    let host = crate::platform::Target::host();
    let explicit = args
        .runtime
        .local
        .target
        .as_deref()
        .map(|t| t.parse::<crate::platform::Target>());
    match (&explicit, &host) {
        (Some(Ok(t)), _) => report.push(doctor::platform(Ok(t))),
        (Some(Err(e)), _) => report.push(doctor::platform(Err(e))),
        (None, h) => report.push(doctor::platform(h.as_ref())),
    }
    let ctx = match Context::resolve(&args.runtime.settings()) {
        Ok(ctx) => ctx,
        Err(e) => {
            let hint = crate::error::hint_for(&e)
                .unwrap_or_else(|| "see `codex-bootstrap install --help`".into());
            report.push(Check::fail("pin", format!("{e:#}"), hint));
            return finish(&args, &ui, report);
        }
    };
    let version = ctx.exact_version().cloned();
    report.push(doctor::pin(&ctx.pin, version.as_ref()));

    let installed = version
        .as_ref()
        .and_then(|v| ctx.store.installed(v, &ctx.target).ok().flatten());
    let needed = installed
        .as_ref()
        .map_or(RUNTIME_SIZE_ESTIMATE, |rt| rt.receipt.installed_size());
    report.push(doctor::cache(
        &ctx.store,
        needed.saturating_mul(2).min(RUNTIME_SIZE_ESTIMATE * 2),
    ));

    let runtime = match &version {
        Some(v) => {
            let (check, rt) = doctor::runtime(&ctx.store, v, &ctx.target);
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
    match &runtime {
        Some(rt) => {
            report.push(doctor::integrity(rt));
            report.push(doctor::executes(rt));
            report.push(doctor::path(rt));
            let (server, auth) = app_server(&args, rt);
            report.push(server);
            report.push(auth);
        }
        None => {
            for id in ["integrity", "executes", "path", "app-server", "auth"] {
                report.push(Check::skip(id, "no runtime to check"));
            }
        }
    }
    if args.offline {
        report.push(Check::skip("network", "skipped (--offline)"));
    } else {
        report.push(network(&args.runtime, &ctx));
    }
    if args.python.is_some() || std::env::var_os("VIRTUAL_ENV").is_some_and(|v| !v.is_empty()) {
        report.push(python(args.python.as_deref(), version.as_ref()));
    }
    if args.turn {
        report.push(match &runtime {
            Some(rt) => turn(&args, rt),
            None => Check::skip("turn", "no runtime to run a turn with"),
        });
    }
    finish(&args, &ui, report)
}

fn spawn_options(args: &DoctorArgs, rt: &crate::store::InstalledRuntime) -> SpawnOptions {
    SpawnOptions {
        codex: rt.codex_path(),
        path_dir: rt.path_dir(),
        config: args.config.clone(),
        codex_home: args.codex_home.clone(),
        cwd: None,
    }
}

/// 8 and 9: `initialize` answers with the pinned version; can a turn authenticate?
fn app_server(args: &DoctorArgs, rt: &crate::store::InstalledRuntime) -> (Check, Check) {
    if !rt.target().is_host() {
        let skip = |id| {
            Check::skip(
                id,
                format!("{} binaries do not run on this host", rt.target()),
            )
        };
        return (skip("app-server"), skip("auth"));
    }
    let opts = spawn_options(args, rt);
    let probe = async {
        let mut server = AppServer::spawn(&opts)?;
        let result = async {
            let info = server.initialize().await?;
            let account = server.account().await?;
            Ok::<_, AppServerError>((info, account))
        }
        .await;
        match result {
            Ok(r) => {
                server.shutdown().await;
                Ok(r)
            }
            Err(e) => {
                server.kill().await;
                Err(server.with_stderr(e))
            }
        }
    };
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
    let outcome = runtime.block_on(async {
        tokio::time::timeout(Duration::from_secs(20), probe)
            .await
            .unwrap_or(Err(AppServerError::Timeout {
                secs: 20,
                stderr_tail: String::new(),
            }))
    });
    let (info, account) = match outcome {
        Ok(r) => r,
        Err(e) => {
            let c = Check::fail(
                "app-server",
                format!("`codex app-server` did not initialize: {e}"),
                e.hint(),
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
    (server, auth(&account, args.codex_home.as_deref()))
}

/// Check 9: whether a turn can authenticate, from `account/read` and the environment. Never
/// prints a secret: only which variable or file holds one.
fn auth(account: &AccountInfo, codex_home: Option<&std::path::Path>) -> Check {
    if let Some(kind) = &account.account_type {
        return Check::ok("auth", format!("signed in ({kind})"));
    }
    if let Some(source) = crate::commands::quickstart::local_auth(codex_home) {
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

/// 11. The Python environment's `openai-codex-cli-bin` is the pin and its codex runs.
fn python(py: Option<&std::path::Path>, pin: Option<&crate::pin::CodexVersion>) -> Check {
    let fix = "run `codex-bootstrap install --python PY`";
    let interpreter = match crate::python::choose_interpreter(py) {
        Ok(i) => i,
        Err(e) => return Check::fail("python", e.to_string(), e.hint()),
    };
    let env = match crate::python::probe(&interpreter) {
        Ok(env) => env,
        Err(e) => return Check::fail("python", e.to_string(), e.hint()),
    };
    let (runtime, sdk) = crate::python::dist_versions(&env);
    let sdk_note = sdk.as_ref().map_or_else(
        || "openai-codex not installed".to_string(),
        |v| format!("openai-codex {v}"),
    );
    let detail = format!(
        "{} (Python {}); {sdk_note}",
        env.executable.display(),
        env.version
    );
    let Some(runtime) = runtime else {
        return Check::fail(
            "python",
            format!(
                "{} is not installed in this environment",
                crate::python::DIST_NAME
            ),
            fix,
        )
        .detail(detail);
    };
    let wanted = pin.map(|v| v.pep440());
    if wanted.as_ref().is_some_and(|w| w != &runtime) {
        return Check::fail(
            "python",
            format!(
                "{} {runtime} is installed, the pin is {}",
                crate::python::DIST_NAME,
                wanted.unwrap_or_default()
            ),
            fix,
        )
        .detail(detail);
    }
    let out = std::process::Command::new(&interpreter)
        .args([
            "-c",
            "import codex_cli_bin; print(codex_cli_bin.bundled_codex_path())",
        ])
        .stdin(std::process::Stdio::null())
        .output();
    let codex = match out {
        Ok(o) if o.status.success() => {
            std::path::PathBuf::from(String::from_utf8_lossy(&o.stdout).trim())
        }
        Ok(o) => {
            let err = String::from_utf8_lossy(&o.stderr);
            return Check::fail(
                "python",
                format!(
                    "`import codex_cli_bin` failed: {}",
                    err.trim().lines().last().unwrap_or("")
                ),
                fix,
            )
            .detail(detail);
        }
        Err(e) => {
            return Check::fail(
                "python",
                format!("could not run {}: {e}", interpreter.display()),
                "pass `--python PATH`",
            )
        }
    };
    match doctor::codex_version(&codex, Duration::from_secs(10)) {
        Ok(text) => {
            let check = Check::ok(
                "python",
                format!(
                    "{} {runtime}: bundled_codex_path() runs (`{text}`)",
                    crate::python::DIST_NAME
                ),
            )
            .detail(detail);
            match (&sdk, &wanted) {
                (Some(s), Some(w)) if s != w => Check::warn(
                    "python",
                    format!(
                        "{}; but openai-codex {s} expects runtime {s}",
                        check.summary
                    ),
                    "install the SDK and the runtime at the same version",
                )
                .detail(check.detail.unwrap_or_default()),
                _ => check,
            }
        }
        Err(e) => Check::fail(
            "python",
            format!("the packaged codex does not run: {e}"),
            fix,
        )
        .detail(detail),
    }
}

/// 12. One quickstart turn.
fn turn(args: &DoctorArgs, rt: &crate::store::InstalledRuntime) -> Check {
    let opts = spawn_options(args, rt);
    let cwd = std::env::current_dir().unwrap_or_else(|_| std::path::PathBuf::from("."));
    let result = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(AppServerError::Io)
        .and_then(|r| {
            r.block_on(crate::commands::quickstart::one_turn(
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
        Err(e) => Check::fail("turn", format!("the turn failed: {e}"), e.hint()),
    }
}

/// Check 10: each source reachable (the GitHub API with its rate limit, the Python index,
/// npm, the mirror), and the proxy and CA in effect.
fn network(args: &OnlineArgs, ctx: &Context) -> Check {
    let mut quick = args.clone();
    quick.network.connect_timeout = quick.network.connect_timeout.min(5);
    quick.network.read_timeout = quick.network.read_timeout.min(5);
    quick.network.retries = 1;
    let quick_ctx = match Context::resolve(&quick.settings()) {
        Ok(c) => c,
        Err(e) => return Check::warn("network", format!("{e:#}"), "check the flags"),
    };
    let online = match Online::new(&quick_ctx) {
        Ok(o) => o,
        Err(e) => {
            return Check::warn(
                "network",
                format!("{e:#}"),
                "check SSL_CERT_FILE and the proxy variables",
            )
        }
    };
    let token = crate::net::Token::from_env().map(|(_, name)| name);
    let api = format!("{}/rate_limit", ctx.github.api_url);
    let Ok(url) = online.http.url(&api) else {
        return Check::warn(
            "network",
            format!("`{api}` is not an allowed URL"),
            "check `--github-api-url`",
        );
    };
    let settings = doctor::network_settings(&url, online.http.roots());
    let result = online.runtime.block_on(async {
        tokio::time::timeout(
            Duration::from_secs(10),
            online.http.get_small(&url, true, 1 << 20),
        )
        .await
    });
    let mut check = match result {
        Ok(Ok((200, _, body))) => {
            let remaining = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v.pointer("/resources/core/remaining").and_then(|r| r.as_u64()));
            let who = token.map_or("anonymous".to_string(), |t| format!("token from {t}"));
            match remaining {
                Some(0) => Check::warn(
                    "network",
                    format!("GitHub API reachable, but its rate limit is used up ({who})"),
                    "set GH_TOKEN, or pin digests with `codex-bootstrap pin` so install needs no API request",
                ),
                Some(n) => Check::ok("network", format!("GitHub API reachable, {n} requests left ({who})")),
                None => Check::ok("network", format!("GitHub API reachable ({who})")),
            }
        }
        Ok(Ok((status, _, _))) => Check::warn(
            "network",
            format!("GitHub API answered HTTP {status} at {api}"),
            "check `--github-api-url` and GH_TOKEN; pinned digests make the API unnecessary (`codex-bootstrap pin`)",
        ),
        Ok(Err(e)) => Check::warn("network", format!("GitHub API unreachable: {e}"), e.hint()),
        Err(_) => Check::warn(
            "network",
            format!("GitHub API did not answer within 10s at {api}"),
            "check HTTPS_PROXY / NO_PROXY, or use a mirror (`--mirror URL`)",
        ),
    };
    let mut detail = settings;
    let (registries, any_registry) = registries_reachable(&online, &quick_ctx);
    detail.push_str(&registries);
    if check.status != Status::Ok && any_registry.is_some() {
        check = Check::ok(
            "network",
            format!(
                "{}; installs will use {}",
                check.summary,
                any_registry.unwrap_or_default()
            ),
        );
    }
    if let Some(mirror) = &ctx.mirror {
        let base = &mirror.download_base;
        let reachable = match crate::install::local_path(base) {
            Some(dir) => dir.is_dir(),
            None => online.http.url(base).ok().is_some_and(|u| {
                online.runtime.block_on(async {
                    tokio::time::timeout(
                        Duration::from_secs(10),
                        online.http.send(&u, online.http.get(&u)),
                    )
                    .await
                    .is_ok_and(|r| r.is_ok())
                })
            }),
        };
        detail.push_str(&format!(
            "; mirror {base}: {}",
            if reachable {
                "reachable"
            } else {
                "UNREACHABLE"
            }
        ));
        if !reachable && check.status == Status::Ok {
            check = Check::warn(
                "network",
                format!("{}; the mirror is unreachable", check.summary),
                "check `--mirror` / CODEX_BOOTSTRAP_MIRROR",
            );
        }
    }
    if online.http.roots().is_bundled() {
        // Not a failure (the bundled roots work for public hosts), but a proxy that intercepts
        // TLS will not be trusted until its CA is where SSL_CERT_FILE / SSL_CERT_DIR point.
        check
            .summary
            .push_str("; TLS trusts the bundled Mozilla roots (the system store has none)");
    }
    check.detail(detail)
}

/// One line per registry source: where it was found and whether it answers. Returns the lines
/// and the first reachable registry source.
fn registries_reachable(online: &Online, ctx: &Context) -> (String, Option<String>) {
    use crate::sources::{npm, pyindex, Location, SourceKind};
    let (python, npm_loc) = ctx.registries();
    let mut lines = String::new();
    let mut first = None;
    for kind in &ctx.order {
        let (location, probe): (&Location, fn(&url::Url) -> String) = match kind {
            SourceKind::PythonIndex => (python, pyindex::project_url),
            SourceKind::Npm => (npm_loc, npm::packument_url),
            _ => continue,
        };
        let line = match location {
            Location::Missing(reason) => format!("{kind}: not found ({reason})"),
            Location::Found(l) => {
                let probe = probe(&l.url);
                let answer = online
                    .http
                    .url(&probe)
                    .map_err(|e| e.to_string())
                    .and_then(|u| {
                        online.runtime.block_on(async {
                            match tokio::time::timeout(
                                Duration::from_secs(10),
                                online.http.send(&u, online.http.get(&u)),
                            )
                            .await
                            {
                                Ok(Ok(r)) => Ok(r.status().as_u16()),
                                Ok(Err(e)) => Err(crate::sources::reason_of(&e)),
                                Err(_) => Err("no answer within 10s".into()),
                            }
                        })
                    });
                match answer {
                    Ok(200) => {
                        first.get_or_insert_with(|| kind.to_string());
                        format!("{kind}: {} (from {}) reachable", l.url, l.from)
                    }
                    Ok(status) => {
                        format!("{kind}: {} (from {}) answered HTTP {status}", l.url, l.from)
                    }
                    Err(e) => format!("{kind}: {} (from {}) UNREACHABLE: {e}", l.url, l.from),
                }
            }
        };
        lines.push_str("; ");
        lines.push_str(&line);
    }
    (lines, first)
}

fn finish(args: &DoctorArgs, ui: &Ui, report: Report) -> anyhow::Result<ExitCode> {
    let mut out = anstream::stdout().lock();
    // The checks go to stdout: colour follows stdout, not stderr.
    let ui = &ui.for_stdout();
    if args.json {
        super::print_json(&report)?;
    } else {
        let width = report.checks.iter().map(|c| c.id.len()).max().unwrap_or(0);
        for c in &report.checks {
            let mark = match c.status {
                Status::Ok => ui.paint("32", "✓"),
                Status::Warn => ui.paint("33", "!"),
                Status::Fail => ui.paint("31", "✗"),
                Status::Skip => ui.paint("2", "-"),
            };
            writeln!(out, "{mark} {:width$}  {}", c.id, c.summary)?;
            if let Some(d) = &c.detail {
                for line in d.lines() {
                    writeln!(out, "  {:width$}  {}", "", ui.paint("2", line))?;
                }
            }
            if let Some(h) = &c.hint {
                writeln!(out, "  {:width$}  {} {h}", "", ui.paint("36", "hint:"))?;
            }
        }
        let failed = report
            .checks
            .iter()
            .filter(|c| c.status == Status::Fail)
            .count();
        let warned = report
            .checks
            .iter()
            .filter(|c| c.status == Status::Warn)
            .count();
        let verdict = match (failed, warned) {
            (0, 0) => ui.paint("32", "all checks passed"),
            (0, w) => ui.paint("33", &format!("ok, with {w} warning(s)")),
            (f, w) => ui.paint("31", &format!("{f} check(s) failed, {w} warning(s)")),
        };
        writeln!(out, "\n{verdict}")?;
    }
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
