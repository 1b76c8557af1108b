//! `codex-bootstrap uninstall VERSION`: remove one runtime (this target, or `--all-targets`).

use std::process::ExitCode;

use crate::cli::RuntimeArgs;
use crate::error::Failure;
use crate::pin::CodexVersion;
use crate::provision::Context;
use crate::ui::Ui;

#[derive(Debug, clap::Args)]
// Removing what CODEX_BOOTSTRAP_VERSION names would surprise: `--version` reads no variable here.
// It is still required: clap cannot say "this or that", so the usage line says it instead.
#[command(
    mut_arg("version", |a| a.env(None)),
    override_usage = "codex-bootstrap uninstall [OPTIONS] <VERSION>"
)]
pub struct UninstallArgs {
    /// The version to remove.
    #[arg(value_name = "VERSION", required_unless_present = "version")]
    pub runtime_version: Option<String>,

    /// The version to remove, from the argument or `--version` (see `Cli::try_parse_checked`).
    #[arg(skip)]
    pub remove_version: String,

    /// Remove it for every target in the store, not only this one.
    #[arg(long)]
    pub all_targets: bool,

    #[command(flatten)]
    pub runtime: RuntimeArgs,
}

pub fn run(args: UninstallArgs) -> anyhow::Result<ExitCode> {
    let ui = Ui::new(false);
    let version = CodexVersion::parse(&args.remove_version)?;
    let ctx = Context::resolve(&args.runtime.settings())?;
    let targets: Vec<_> = if args.all_targets {
        ctx.store
            .list()
            .into_iter()
            .filter(|rt| rt.version() == &version)
            .map(|rt| rt.target().clone())
            .collect()
    } else {
        vec![ctx.target.clone()]
    };
    let mut removed = 0;
    for t in targets {
        if crate::store::remove::remove_runtime(&ctx.store, &version, &t)? {
            ui.status("Removed", &format!("codex {version} ({t})"));
            removed += 1;
        }
    }
    if removed == 0 {
        return Err(Failure::new(format!(
            "codex {version} is not installed{}",
            if args.all_targets {
                ""
            } else {
                " for this target"
            }
        ))
        .hint("see what is installed with `codex-bootstrap list`")
        .into());
    }
    Ok(ExitCode::SUCCESS)
}
