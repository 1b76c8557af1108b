//! `codex-bootstrap which`: the pinned runtime's `codex`, or exit 1 when it is not installed.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use codex_bootstrap::error::{Failure, Report};

pub type WhichArgs = crate::cli::ExactArgs;

/// The JSON printed by `which --json`.
#[derive(serde::Serialize)]
struct WhichReport {
    version: String,
    target: String,
    path: PathBuf,
    package_dir: PathBuf,
    path_dir: Option<PathBuf>,
    pin_source: String,
    /// Pins found but not used, or that cannot apply (also on stderr).
    warnings: Vec<String>,
    /// What the `codex` entry point runs in this directory (the command line aside), and why.
    codex_here: Option<CodexHere>,
}

#[derive(serde::Serialize)]
struct CodexHere {
    version: String,
    pin_source: String,
    installed: bool,
}

pub fn run(args: WhichArgs) -> Result<ExitCode, Report> {
    let (ctx, version) = super::resolve_exact(
        &args,
        Failure::new("`which latest` needs the network")
            .hint("name an exact version: `codex-bootstrap which 0.163.0`"),
    )?;
    // What `install` would say of these pins: `which` shows what is installed, and goes on.
    ctx.warn_pins(&crate::ui::Ui::new(true));
    match ctx.store.installed(&version, &ctx.target)? {
        Some(rt) if args.output.json => {
            super::print_json(&WhichReport {
                version: version.to_string(),
                target: ctx.target.to_string(),
                path: rt.codex_path(),
                path_dir: rt.path_dir(),
                package_dir: rt.dir,
                pin_source: ctx.pin.source.to_string(),
                codex_here: codex_bootstrap::proxy::Choice::here()
                    .ok()
                    .map(|here| CodexHere {
                        version: here
                            .ctx
                            .exact_version()
                            .map_or_else(|| "latest".into(), |v| v.to_string()),
                        pin_source: here.ctx.pin.source.to_string(),
                        installed: here.runtime().is_some(),
                    }),
                warnings: ctx.warnings(),
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Some(rt) => {
            writeln!(std::io::stdout(), "{}", rt.codex_path().display())?;
            Ok(ExitCode::SUCCESS)
        }
        None => Err(
            Failure::new(format!("codex {version} ({}) is not installed", ctx.target))
                .hint(if ctx.pins().conflict.is_some() {
                    "first make the pins agree (warned above): `codex-bootstrap install` refuses while they conflict".to_string()
                } else {
                    format!("run `codex-bootstrap install {version}`")
                })
                .into(),
        ),
    }
}
