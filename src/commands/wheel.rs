//! `codex-bootstrap wheel --out DIR`: an `openai-codex-cli-bin` wheel from the verified store,
//! for pip, uv, lock files and Docker layers.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use codex_bootstrap::error::{Report, ResultExt as _};

use crate::cli::{heading, OnlineArgs};
use crate::ui::{human_bytes, Ui};

#[derive(Debug, clap::Args)]
pub struct WheelArgs {
    #[command(flatten)]
    pub version: crate::cli::VersionArg,

    #[command(flatten)]
    pub runtime: OnlineArgs,

    /// Directory to write the wheel into.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// No status output; print only the wheel's path.
    #[arg(long, short, help_heading = heading::OUTPUT)]
    pub quiet: bool,

    #[command(flatten)]
    pub output: crate::cli::JsonArg,
}

/// The JSON printed by `wheel --json`.
#[derive(serde::Serialize)]
struct WheelReport {
    path: PathBuf,
    file: String,
    size: u64,
    /// The wheel's own sha256, for `--hash` pins and lock files.
    sha256: codex_bootstrap::verify::Sha256,
    version: String,
    /// The version as the wheel spells it (PEP 440).
    python_version: String,
    target: String,
    elapsed_ms: u128,
}

pub fn run(args: WheelArgs) -> Result<ExitCode, Report> {
    let ui = Ui::new(args.quiet || args.output.json);
    let runtime = codex_bootstrap::provision::ensure_installed(&args.runtime.settings(), &ui)?;
    let started = Instant::now();
    let path = codex_bootstrap::python::build_wheel(&runtime, &args.out)?;
    let elapsed = started.elapsed();
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    ui.status(
        "Built",
        &format!(
            "{} ({}, {:.1}s)",
            path.display(),
            human_bytes(size),
            elapsed.as_secs_f64()
        ),
    );
    if args.output.json {
        // Only here is the wheel read back: its digest is what a lock file pins.
        let (sha256, size) = codex_bootstrap::verify::hash_file(&path)
            .with_context(|| format!("could not read `{}`", path.display()))?;
        super::print_json(&WheelReport {
            file: codex_bootstrap::python::wheel_name(&runtime),
            path,
            size,
            sha256,
            version: runtime.version().to_string(),
            python_version: runtime.version().pep440(),
            target: runtime.target().to_string(),
            elapsed_ms: elapsed.as_millis(),
        })?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(std::io::stdout(), "{}", path.display())?;
    Ok(ExitCode::SUCCESS)
}
