//! `codex-bootstrap prune`: clean leftovers of interrupted installs, and with `--keep` /
//! `--older-than` old runtimes. Never the current pin; each removal takes the artifact's lock,
//! so it is safe beside running installs.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use crate::cli::RuntimeArgs;
use crate::ui::{human_bytes, Ui};
use codex_bootstrap::error::Report;
use codex_bootstrap::provision::Context;

#[derive(Debug, clap::Args)]
#[command(mut_arg("version", |a| {
    a.hide_short_help(false)
        .help("Spare this version as the pinned one [default: the project's pin]")
}))]
pub struct PruneArgs {
    /// Keep the N newest versions (besides the pin).
    #[arg(long, value_name = "N")]
    pub keep: Option<usize>,

    /// Remove runtimes installed more than DAYS days ago and not run since.
    #[arg(long, value_name = "DAYS")]
    pub older_than: Option<u64>,

    /// Show what would go; remove nothing.
    #[arg(long)]
    pub dry_run: bool,

    #[command(flatten)]
    pub runtime: RuntimeArgs,

    #[command(flatten)]
    pub output: crate::cli::JsonArg,
}

/// The JSON printed by `prune --json`: what was removed (or, with `--dry-run`, would be).
#[derive(serde::Serialize)]
struct PruneReport {
    dry_run: bool,
    /// Staging directories, trash and partial downloads of interrupted installs.
    leftovers: Vec<PathBuf>,
    runtimes: Vec<PrunedRuntime>,
    /// The installed size of the runtimes removed, in bytes.
    freed_bytes: u64,
    /// Pins found but not used, or that cannot apply (also on stderr): prune spares the pin.
    warnings: Vec<String>,
}

#[derive(serde::Serialize)]
struct PrunedRuntime {
    version: String,
    target: String,
    package_dir: PathBuf,
    size: u64,
}

pub fn run(args: PruneArgs) -> Result<ExitCode, Report> {
    let ui = Ui::new(args.output.json);
    let ctx = Context::resolve(&args.runtime.settings())?;
    ctx.warn_pins(&ui);
    let pinned = ctx.exact_version().cloned();
    let verb = if args.dry_run {
        "Would remove"
    } else {
        "Removed"
    };

    let mut leftovers = codex_bootstrap::store::remove::leftovers(&ctx.store);
    for trees in ctx.store.wheel_tree_stores() {
        leftovers.extend(codex_bootstrap::store::remove::leftovers(&trees));
    }
    for p in &leftovers {
        if !args.dry_run {
            let _ = if p.is_dir() {
                std::fs::remove_dir_all(p)
            } else {
                std::fs::remove_file(p)
            };
        }
        ui.status(verb, &p.display().to_string());
    }

    // Runtimes and the wheel trees of `install --python`, each with the store that holds it.
    let mut all: Vec<(
        codex_bootstrap::store::Store,
        codex_bootstrap::store::InstalledRuntime,
    )> = ctx
        .store
        .list()
        .into_iter()
        .map(|rt| (ctx.store.clone(), rt))
        .collect();
    for trees in ctx.store.wheel_tree_stores() {
        all.extend(trees.list().into_iter().map(|rt| (trees.clone(), rt)));
    }
    all.sort_by(|a, b| b.1.receipt.version.cmp(&a.1.receipt.version));
    let mut candidates: Vec<_> = all
        .into_iter()
        .filter(|(_, rt)| !(pinned.as_ref() == Some(rt.version()) && rt.target() == &ctx.target))
        .collect();
    // Newest first (list() order); --keep spares the first N distinct versions.
    if let Some(keep) = args.keep {
        let mut versions: Vec<_> = candidates
            .iter()
            .map(|(_, rt)| rt.version().clone())
            .collect();
        versions.dedup();
        let spared: Vec<_> = versions.into_iter().take(keep).collect();
        candidates.retain(|(_, rt)| !spared.contains(rt.version()));
    }
    if let Some(days) = args.older_than {
        let cutoff = SystemTime::now() - Duration::from_secs(days * 86_400);
        candidates.retain(|(_, rt)| {
            let installed = SystemTime::UNIX_EPOCH + Duration::from_secs(rt.receipt.installed_at);
            let used = std::fs::metadata(rt.codex_path())
                .and_then(|m| m.accessed())
                .unwrap_or(installed);
            installed.max(used) < cutoff
        });
    }
    if args.keep.is_none() && args.older_than.is_none() {
        candidates.clear();
    }
    let mut freed = 0;
    let mut runtimes = Vec::new();
    for (store, rt) in candidates {
        let what = match store.wheel_tag() {
            Some(tag) => format!("the codex {} wheel tree ({tag})", rt.version()),
            None => format!("codex {} ({})", rt.version(), rt.target()),
        };
        let (linked, who) = if store.wheel_tag().is_some() {
            (
                codex_bootstrap::store::wheel_tree::linked_environments(&rt.dir),
                "environments",
            )
        } else {
            (
                codex_bootstrap::store::placements::symlinked(&rt.dir),
                "Node projects",
            )
        };
        if !linked.is_empty() {
            ui.warn(&format!(
                "kept {what}: {who} symlink into it ({})",
                linked
                    .iter()
                    .map(|e| e.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            continue;
        }
        if !args.dry_run {
            // An old runtime pruned takes its kept archive with it: the space is what prune is for.
            codex_bootstrap::store::remove::remove_runtime(
                &store,
                rt.version(),
                rt.target(),
                codex_bootstrap::store::remove::Archive::Remove,
            )?;
        }
        let size = rt.receipt.installed_size();
        freed += size;
        ui.status(verb, &what);
        if store.wheel_tag().is_none() {
            if let Some(w) = codex_bootstrap::proxy::removing_what_runs_here(&rt.dir) {
                ui.warn(&w);
            }
        }
        runtimes.push(PrunedRuntime {
            version: rt.version().to_string(),
            target: rt.target().to_string(),
            package_dir: rt.dir,
            size,
        });
    }
    if freed > 0 {
        ui.status("Freed", &human_bytes(freed));
    } else if leftovers.is_empty() && runtimes.is_empty() {
        // Silence would not say whether it ran: say why nothing went.
        ui.status(
            "Nothing",
            if args.keep.is_none() && args.older_than.is_none() {
                "to remove: no leftovers of interrupted installs (pass `--keep N` or `--older-than DAYS` to remove runtimes)"
            } else {
                "to remove: no leftovers, and no runtime matched"
            },
        );
    }
    if args.output.json {
        super::print_json(&PruneReport {
            dry_run: args.dry_run,
            leftovers,
            runtimes,
            freed_bytes: freed,
            warnings: ctx.warnings(),
        })?;
    }
    Ok(ExitCode::SUCCESS)
}
