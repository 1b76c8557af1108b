//! `codex-bootstrap which`: the pinned runtime's `codex`, or exit 1 when it is not installed.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::cli::RuntimeArgs;
use codex_bootstrap::error::Failure;
use codex_bootstrap::provision::Context;

#[derive(Debug, clap::Args)]
pub struct WhichArgs {
    #[arg(
        value_name = "VERSION",
        help = crate::cli::VERSION_HELP,
        env = codex_bootstrap::pin::VERSION_ENV,
        hide_env_values = true
    )]
    pub runtime_version: Option<String>,

    #[command(flatten)]
    pub runtime: RuntimeArgs,

    /// Print one JSON object (see "JSON output" in the README).
    #[arg(long, help_heading = crate::cli::heading::OUTPUT)]
    pub json: bool,
}

/// The JSON printed by `which --json`.
#[derive(serde::Serialize)]
struct WhichReport {
    version: String,
    target: String,
    path: PathBuf,
    package_dir: PathBuf,
    path_dir: Option<PathBuf>,
    pin_source: String,
}

pub fn run(args: WhichArgs) -> anyhow::Result<ExitCode> {
    let ctx = Context::resolve(&args.runtime.settings())?;
    let Some(version) = ctx.exact_version() else {
        return Err(Failure::new("`which latest` needs the network")
            .hint("name an exact version: `codex-bootstrap which 0.163.0`")
            .usage()
            .into());
    };
    match ctx.store.installed(version, &ctx.target)? {
        Some(rt) if args.json => {
            super::print_json(&WhichReport {
                version: version.to_string(),
                target: ctx.target.to_string(),
                path: rt.codex_path(),
                path_dir: rt.path_dir(),
                package_dir: rt.dir,
                pin_source: ctx.pin.source.to_string(),
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Some(rt) => {
            writeln!(std::io::stdout(), "{}", rt.codex_path().display())?;
            Ok(ExitCode::SUCCESS)
        }
        None => Err(
            Failure::new(format!("codex {version} ({}) is not installed", ctx.target))
                .hint(format!("run `codex-bootstrap install {version}`"))
                .into(),
        ),
    }
}
