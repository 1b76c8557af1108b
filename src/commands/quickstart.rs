//! `codex-bootstrap quickstart [PROMPT]`: make sure the pinned runtime is installed, start its
//! app-server, run one turn, stream the answer to stdout and a summary to stderr.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use codex_bootstrap::error::{Failure, Report, ResultExt as _};

use crate::cli::{heading, OnlineArgs};
use crate::ui::Ui;
use codex_bootstrap::appserver::{one_turn, Event, SpawnOptions};

const DEFAULT_PROMPT: &str = "Say hello in one short sentence, and name the model you are.";

#[derive(Debug, clap::Args)]
#[command(mut_arg("version", |a| {
    a.help("The runtime version, as `--runtime` gives it (the older spelling, still accepted)")
}))]
pub struct QuickstartArgs {
    /// What to ask.
    #[arg(value_name = "PROMPT")]
    pub prompt: Option<String>,

    #[arg(
        long = "runtime",
        value_name = "VERSION",
        help = crate::cli::VERSION_HELP,
        env = codex_bootstrap::pin::VERSION_ENV,
        hide_env_values = true,
        help_heading = heading::RUNTIME
    )]
    pub runtime_version: Option<String>,

    #[command(flatten)]
    pub runtime: OnlineArgs,

    /// `key=value` config overrides passed to codex before `app-server` (repeatable).
    #[arg(short = 'c', long = "config", value_name = "KEY=VALUE")]
    pub config: Vec<String>,

    /// CODEX_HOME for the app-server (credentials, config, sessions) [default: ~/.codex].
    #[arg(long, value_name = "DIR", env = "CODEX_HOME", hide_env_values = true)]
    pub codex_home: Option<PathBuf>,

    /// Model to use for the thread.
    #[arg(long)]
    pub model: Option<String>,

    /// Working directory of the thread (default: the current directory).
    #[arg(long, value_name = "DIR")]
    pub cwd: Option<PathBuf>,

    /// Seconds the whole turn may take.
    #[arg(long, value_name = "SECS", default_value_t = 120)]
    pub timeout: u64,

    /// Drive this codex binary instead of the installed runtime.
    #[arg(long, value_name = "PATH", help_heading = heading::RUNTIME)]
    pub codex: Option<PathBuf>,

    /// Print one JSON object instead of streaming text.
    #[arg(long, help_heading = heading::OUTPUT)]
    pub json: bool,

    /// No summary on stderr.
    #[arg(long, short, help_heading = heading::OUTPUT)]
    pub quiet: bool,
}

pub fn run(args: QuickstartArgs) -> Result<ExitCode, Report> {
    let ui = Ui::new(args.quiet || args.json);
    // Checked before the runtime starts: a missing directory is the flag's, not the
    // runtime's (spawning in a missing `--cwd` fails as if the binary were missing).
    if let Some(dir) = &args.cwd {
        must_be_dir(dir, "--cwd", "the thread's working directory")?;
    }
    if let Some(dir) = &args.codex_home {
        must_be_dir(dir, "--codex-home", "CODEX_HOME")?;
    }
    let opts = spawn_options(&args, &ui)?;
    let cwd = match &args.cwd {
        Some(c) => c.clone(),
        None => std::env::current_dir().context("could not read the current directory")?,
    };
    let prompt = args
        .prompt
        .clone()
        .unwrap_or_else(|| DEFAULT_PROMPT.to_string());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")?;
    let json = args.json;
    let started = Instant::now();
    let mut first_delta: Option<Duration> = None;
    let report = runtime.block_on(one_turn(
        &opts,
        &cwd,
        args.model.as_deref(),
        &prompt,
        Duration::from_secs(args.timeout.max(1)),
        |event| {
            let mut out = std::io::stdout().lock();
            match event {
                Event::Delta(d) | Event::Message(d) if !json => {
                    first_delta.get_or_insert_with(|| started.elapsed());
                    let _ = out.write_all(d.as_bytes());
                    let _ = out.flush();
                }
                Event::Warning(w) => ui.warn(&format!("the server will retry: {w}")),
                Event::Declined(m) if ui.chatty => ui.status("Declined", m),
                _ => {}
            }
        },
    ))?;
    let t = &report.turn;
    if json {
        super::print_json(&report)?;
    } else {
        let mut out = std::io::stdout().lock();
        if t.final_response
            .as_deref()
            .is_some_and(|r| !r.ends_with('\n'))
        {
            writeln!(out)?;
        }
    }
    if ui.chatty {
        let mut err = std::io::stderr().lock();
        writeln!(err)?;
        writeln!(
            err,
            "{:>12} {}",
            "runtime:",
            report.runtime_version.as_deref().unwrap_or("unknown")
        )?;
        writeln!(err, "{:>12} {}", "thread:", t.thread_id)?;
        writeln!(err, "{:>12} {:?}", "status:", t.status)?;
        let first = first_delta
            .map(|d| format!(", first text after {:.2}s", d.as_secs_f64()))
            .unwrap_or_default();
        writeln!(
            err,
            "{:>12} {:.2}s{first}",
            "duration:",
            started.elapsed().as_secs_f64()
        )?;
        if let Some(u) = t.usage {
            writeln!(
                err,
                "{:>12} {} input ({} cached), {} output ({} reasoning), {} total",
                "tokens:",
                u.input_tokens,
                u.cached_input_tokens,
                u.output_tokens,
                u.reasoning_output_tokens,
                u.total_tokens
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The installed runtime (or `--codex`), its PATH dir, and the overrides.
fn spawn_options(args: &QuickstartArgs, ui: &Ui) -> Result<SpawnOptions, Report> {
    let mut config = args.config.clone();
    if let Some(bad) = config.iter().find(|kv| !kv.contains('=')) {
        return Err(
            codex_bootstrap::error::Failure::new(format!("`-c {bad}` is not `key=value`"))
                .hint("write overrides as `-c key=value`, e.g. `-c model=\"o3\"`")
                .usage()
                .into(),
        );
    }
    if let Some(m) = &args.model {
        config.push(format!("model={}", toml_string(m)));
    }
    let (codex, path_dir) = match &args.codex {
        Some(p) => (p.clone(), None),
        None => {
            let quiet = Ui {
                chatty: false,
                ..*ui
            };
            let rt =
                codex_bootstrap::provision::ensure_installed(&args.runtime.settings(), &quiet)?;
            (rt.codex_path(), rt.path_dir())
        }
    };
    Ok(SpawnOptions {
        codex,
        path_dir,
        config,
        codex_home: args.codex_home.clone(),
        cwd: args.cwd.clone(),
    })
}

fn toml_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// `dir` (given as `flag`) is a directory, or the error says which flag to fix.
fn must_be_dir(dir: &std::path::Path, flag: &str, what: &str) -> Result<(), Report> {
    if dir.is_dir() {
        return Ok(());
    }
    let problem = if dir.exists() {
        "is not a directory"
    } else {
        "does not exist"
    };
    Err(
        Failure::new(format!("{what} `{}` {problem}", dir.display()))
            .hint(format!(
                "create it (`mkdir -p {}`) or pass another `{flag}`",
                dir.display()
            ))
            .into(),
    )
}
