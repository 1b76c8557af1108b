//! `codex-bootstrap doctor`: pick the checks from the flags, run them ([`codex_bootstrap::doctor`]),
//! render them, exit 1 when any failed.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::cli::{heading, OnlineArgs};
use crate::ui::Ui;
use codex_bootstrap::doctor::{
    self, AppServerInputs, NodeCheck, PythonCheck, Report, Selection, Status,
};
use codex_bootstrap::error;
use codex_bootstrap::remote::printable;

#[derive(Debug, clap::Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub version: crate::cli::VersionArg,

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

    /// Check this Node project's `@openai/codex-<platform>` (default: the project around the
    /// working directory, when it has `@openai/codex`).
    #[arg(long, value_name = "DIR", num_args = 0..=1, help_heading = heading::NODE)]
    pub node: Option<Option<PathBuf>>,

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

pub fn run(args: DoctorArgs) -> Result<ExitCode, error::Report> {
    let ui = Ui::new(args.json);
    let python = match &args.python {
        Some(py) => PythonCheck::Interpreter(py.clone()),
        // The project's environment as uv finds it: VIRTUAL_ENV, else a `.venv` walking up. One
        // that is named but broken (a stale VIRTUAL_ENV) is checked, to fail with its fix.
        None => match std::env::current_dir().map(|cwd| codex_bootstrap::python::project_env(&cwd))
        {
            Ok(Ok(None)) | Err(_) => PythonCheck::Skip,
            Ok(Ok(Some(_)) | Err(_)) => PythonCheck::Default,
        },
    };
    let cwd = std::env::current_dir().unwrap_or_default();
    let node = match &args.node {
        Some(dir) => NodeCheck::Named(dir.clone().unwrap_or_else(|| cwd.clone())),
        None => NodeCheck::Found(cwd),
    };
    let selection = Selection {
        network: !args.offline,
        python,
        node,
        turn: args.turn,
        app_server: AppServerInputs {
            config: args.config.clone(),
            codex_home: args.codex_home.clone(),
        },
    };
    let report = doctor::run(&args.runtime.settings(), &selection);
    finish(&args, &ui, report)
}

fn finish(args: &DoctorArgs, ui: &Ui, report: Report) -> Result<ExitCode, error::Report> {
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
            // A check's words may quote a server's (an index's error, GitHub's message).
            writeln!(out, "{mark} {:width$}  {}", c.id, printable(&c.summary))?;
            if let Some(d) = &c.detail {
                for line in d.lines() {
                    writeln!(out, "  {:width$}  {}", "", ui.paint("2", &printable(line)))?;
                }
            }
            if let Some(h) = &c.hint {
                let h = printable(h);
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
