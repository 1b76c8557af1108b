//! `codex-bootstrap wheel --out DIR`: an `openai-codex-cli-bin` wheel from the verified store,
//! for pip, uv, lock files and Docker layers.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use crate::cli::{heading, OnlineArgs};
use crate::ui::{human_bytes, Ui};

#[derive(Debug, clap::Args)]
pub struct WheelArgs {
    #[arg(
        value_name = "VERSION",
        help = crate::cli::VERSION_HELP,
        env = crate::pin::VERSION_ENV,
        hide_env_values = true
    )]
    pub runtime_version: Option<String>,

    #[command(flatten)]
    pub runtime: OnlineArgs,

    /// Directory to write the wheel into.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// No status output; print only the wheel's path.
    #[arg(long, short, help_heading = heading::OUTPUT)]
    pub quiet: bool,
}

pub fn run(args: WheelArgs) -> anyhow::Result<ExitCode> {
    let ui = Ui::new(args.quiet);
    let runtime = crate::provision::ensure_installed(&args.runtime.settings(), &ui)?;
    let started = Instant::now();
    let path = crate::python::build_wheel(&runtime, &args.out)?;
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    ui.status(
        "Built",
        &format!(
            "{} ({}, {:.1}s)",
            path.display(),
            human_bytes(size),
            started.elapsed().as_secs_f64()
        ),
    );
    writeln!(std::io::stdout(), "{}", path.display())?;
    Ok(ExitCode::SUCCESS)
}
