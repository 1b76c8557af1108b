//! `codex-bootstrap list`: installed runtimes, their size, when codex last ran, and which one
//! the current project pins; those still in the old layout's location (the cache directory,
//! before runtimes moved to the data directory) are marked.

use std::io::Write;
use std::process::ExitCode;
use std::time::SystemTime;

use crate::cli::{heading, RuntimeArgs};
use crate::ui::human_bytes;
use codex_bootstrap::error::Report;
use codex_bootstrap::provision::Context;

#[derive(Debug, clap::Args)]
#[command(mut_arg("version", |a| {
    a.hide_short_help(false)
        .help("Mark this version as the pinned one [default: the project's pin]")
}))]
pub struct ListArgs {
    #[command(flatten)]
    pub runtime: RuntimeArgs,

    /// One JSON array.
    #[arg(long, help_heading = heading::OUTPUT)]
    pub json: bool,
}

#[derive(serde::Serialize)]
struct Row {
    version: String,
    target: String,
    path: std::path::PathBuf,
    size: u64,
    installed_at: u64,
    /// When `codex` was last read (run), from the file's access time; coarse on `relatime`.
    last_used: Option<u64>,
    pinned: bool,
    verified_by: codex_bootstrap::verify::DigestSource,
    /// `data` (the data directory, or the one root) or `legacy` (the old layout's location in
    /// the cache directory, used in place until an install moves it).
    location: &'static str,
    /// `package` (the full release package) or `wheel` (the tree of one wheel, for
    /// `install --python`).
    kind: &'static str,
    /// The Node projects' platform packages placed from it (`install --node`), still there.
    node_projects: Vec<std::path::PathBuf>,
    /// The wheel's platform tag, for a wheel tree.
    #[serde(skip_serializing_if = "Option::is_none")]
    wheel_tag: Option<String>,
}

fn secs(t: SystemTime) -> Option<u64> {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .ok()
        .map(|d| d.as_secs())
}

fn ago(then: u64) -> String {
    let now = secs(SystemTime::now()).unwrap_or(then);
    let d = now.saturating_sub(then);
    match d {
        0..=119 => "just now".into(),
        120..=7199 => format!("{} min ago", d / 60),
        7200..=172_799 => format!("{} h ago", d / 3600),
        _ => format!("{} days ago", d / 86_400),
    }
}

pub fn run(args: ListArgs) -> Result<ExitCode, Report> {
    let ctx = Context::resolve(&args.runtime.settings())?;
    // `--json` prints an array: the pin warnings are on stderr only.
    ctx.warn_pins(&crate::ui::Ui::new(true));
    let pinned = ctx.exact_version().cloned();
    let mut all: Vec<(Option<String>, codex_bootstrap::store::InstalledRuntime)> =
        ctx.store.list().into_iter().map(|rt| (None, rt)).collect();
    for trees in ctx.store.wheel_tree_stores() {
        let tag = trees.wheel_tag().map(str::to_string);
        all.extend(trees.list().into_iter().map(|rt| (tag.clone(), rt)));
    }
    let rows: Vec<Row> = all
        .into_iter()
        .map(|(wheel_tag, rt)| Row {
            kind: if wheel_tag.is_some() {
                "wheel"
            } else {
                "package"
            },
            node_projects: if wheel_tag.is_none() {
                codex_bootstrap::store::placements::placements(&rt.dir)
                    .into_iter()
                    .map(|p| p.package_dir)
                    .collect()
            } else {
                Vec::new()
            },
            wheel_tag,
            version: rt.version().to_string(),
            target: rt.target().to_string(),
            path: rt.codex_path(),
            size: rt.receipt.installed_size(),
            installed_at: rt.receipt.installed_at,
            last_used: std::fs::metadata(rt.codex_path())
                .and_then(|m| m.accessed())
                .ok()
                .and_then(secs),
            pinned: pinned.as_ref() == Some(rt.version()) && rt.target() == &ctx.target,
            verified_by: rt.receipt.verified_by.clone(),
            location: if ctx.store.is_legacy(&rt) {
                "legacy"
            } else {
                "data"
            },
        })
        .collect();
    let mut out = std::io::stdout().lock();
    if args.json {
        super::print_json(&rows)?;
        return Ok(ExitCode::SUCCESS);
    }
    let runtimes = ctx.store.runtimes_dir();
    if rows.is_empty() {
        writeln!(out, "no runtimes installed in {}", runtimes.display())?;
        return Ok(ExitCode::SUCCESS);
    }
    let any_legacy = rows.iter().any(|r| r.location == "legacy");
    for r in &rows {
        let mark = if r.pinned { "*" } else { " " };
        let used = r.last_used.map_or_else(|| "never".to_string(), ago);
        let mut old = match (&r.wheel_tag, r.location) {
            (Some(tag), _) => format!("  (wheel tree {tag}, for install --python)"),
            (None, "legacy") => "  (old location)".to_string(),
            _ => String::new(),
        };
        match r.node_projects.len() {
            0 => {}
            1 => old.push_str("  (placed in 1 Node project)"),
            n => old.push_str(&format!("  (placed in {n} Node projects)")),
        }
        writeln!(
            out,
            "{mark} {:18} {:28} {:>10}  installed {}, last used {}{old}",
            r.version,
            r.target,
            human_bytes(r.size),
            ago(r.installed_at),
            used
        )?;
    }
    writeln!(out, "\n* pinned here ({})", ctx.pin.source)?;
    writeln!(out, "runtimes: {}", runtimes.display())?;
    if rows.iter().any(|r| r.wheel_tag.is_some()) {
        writeln!(out, "wheel trees: {}", ctx.store.wheels_dir().display())?;
    }
    if let (true, Some(old)) = (any_legacy, ctx.store.legacy_runtimes_dir()) {
        writeln!(
            out,
            "old location: {} (used where they are; `codex-bootstrap install --version V` moves one into the data directory)",
            old.display()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
