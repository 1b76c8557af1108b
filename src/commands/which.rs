//! `codex-bootstrap which`: the pinned runtime's `codex`, or exit 1 when it is not installed.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::cli::RuntimeArgs;
use codex_bootstrap::error::Failure;
use codex_bootstrap::provision::Context;

#[derive(Debug, clap::Args)]
pub struct WhichArgs {
    #[command(flatten)]
    pub version: crate::cli::VersionArg,

    #[command(flatten)]
    pub runtime: RuntimeArgs,

    #[command(flatten)]
    pub output: crate::cli::JsonArg,
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
        Some(rt) if args.output.json => {
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
