//! `codex-bootstrap uninstall VERSION`: remove one runtime (this target, or `--all-targets`).

use std::process::ExitCode;

use crate::cli::RuntimeArgs;
use crate::ui::Ui;
use codex_bootstrap::error::{Failure, Report};
use codex_bootstrap::pin::CodexVersion;
use codex_bootstrap::provision::Context;

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

    /// Also remove its kept archive (`<cache>/downloads/<sha256>/`), which otherwise stays so
    /// that a later install of this version needs no download.
    #[arg(long)]
    pub purge: bool,

    #[command(flatten)]
    pub runtime: RuntimeArgs,

    #[command(flatten)]
    pub output: crate::cli::JsonArg,
}

/// The JSON printed by `uninstall --json`.
#[derive(serde::Serialize)]
struct UninstallReport {
    version: String,
    removed: Vec<Removed>,
    /// Pins found but not used, or that cannot apply (also on stderr).
    warnings: Vec<String>,
    /// The kept archives left in the cache for a later install (none with `--purge`).
    kept_archives: Vec<std::path::PathBuf>,
    /// The kept archives removed with `--purge`.
    purged_archives: Vec<std::path::PathBuf>,
}

#[derive(serde::Serialize)]
struct Removed {
    target: String,
    package_dir: std::path::PathBuf,
}

pub fn run(args: UninstallArgs) -> Result<ExitCode, Report> {
    let ui = Ui::new(args.output.json);
    let version = CodexVersion::parse(&args.remove_version)?;
    let ctx = Context::resolve(&args.runtime.settings())?;
    ctx.warn_pins(&ui);
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
    use codex_bootstrap::store::remove::{remove_runtime, remove_wheel_trees, Archive};
    let archive = if args.purge {
        Archive::Remove
    } else {
        Archive::Keep
    };
    let mut removed = Vec::new();
    let mut archives = Vec::new();
    let mut kept = Vec::new();
    for t in targets {
        // A Node project that symlinks into the runtime (`install --node --link-mode symlink`)
        // would point at nothing: the runtime stays until the project is relinked.
        let linked =
            codex_bootstrap::store::placements::symlinked(&ctx.store.runtime_dir(&version, &t));
        if !linked.is_empty() {
            ui.warn(&format!(
                "kept codex {version} ({t}): Node projects symlink into it ({}); reinstall them with `install --node --link-mode clone` or remove them first",
                linked.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
            ));
            kept.push(t.clone());
        } else if let Some(r) = remove_runtime(&ctx.store, &version, &t, archive)? {
            ui.status("Removed", &format!("codex {version} ({t})"));
            let package_dir = ctx.store.runtime_dir(&version, &t);
            if let Some(w) = codex_bootstrap::proxy::removing_what_runs_here(&package_dir) {
                ui.warn(&w);
            }
            removed.push(Removed {
                package_dir,
                target: t.to_string(),
            });
            archives.extend(r.archive);
        }
        // The wheel trees of `install --python` go with it, unless an environment links in.
        let trees = remove_wheel_trees(&ctx.store, &version, &t, archive)?;
        archives.extend(trees.archives);
        for dir in trees.removed {
            ui.status(
                "Removed",
                &format!("the codex {version} wheel tree {}", dir.display()),
            );
            removed.push(Removed {
                package_dir: dir,
                target: t.to_string(),
            });
        }
        for (dir, envs) in trees.kept {
            ui.warn(&format!(
                "kept the codex {version} wheel tree {}: {} symlink into it ({}); reinstall them with `install --python --link-mode clone` or remove them first",
                dir.display(),
                if envs.len() == 1 { "an environment still has files that" } else { "environments still have files that" },
                envs.iter().map(|e| e.display().to_string()).collect::<Vec<_>>().join(", ")
            ));
        }
    }
    if removed.is_empty() && !kept.is_empty() {
        return Err(Failure::new(format!(
            "codex {version} was kept: Node projects symlink into it"
        ))
        .hint("relink them with `codex-bootstrap install --node --link-mode clone`, then uninstall again")
        .into());
    }
    if removed.is_empty() {
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
    for dir in &archives {
        if args.purge {
            ui.status("Removed", &format!("the kept archive {}", dir.display()));
        } else {
            ui.status(
                "Kept",
                &format!(
                    "the verified archive {}: installing codex {version} again reads it, with no download (`--purge` removes it too)",
                    dir.display()
                ),
            );
        }
    }
    if args.output.json {
        let (kept_archives, purged_archives) = if args.purge {
            (Vec::new(), archives)
        } else {
            (archives, Vec::new())
        };
        super::print_json(&UninstallReport {
            version: version.to_string(),
            removed,
            warnings: ctx.warnings(),
            kept_archives,
            purged_archives,
        })?;
    }
    Ok(ExitCode::SUCCESS)
}
