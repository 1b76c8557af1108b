//! `codex-bootstrap pin [VERSION|latest]`: write a manifest with every supported target's asset,
//! size and sha256, so later installs make no GitHub API request.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::cli::RuntimeArgs;
use crate::commands::install::{Context, Online};
use crate::pin::{CodexVersion, Manifest, PinnedAsset};
use crate::plan::choose_asset;
use crate::platform::{Target, SUPPORTED_TARGETS};
use crate::ui::Ui;

#[derive(Debug, clap::Args)]
pub struct PinArgs {
    /// The version to pin (`0.163.0`, `0.154.0a6`, `latest`); default: the current pin.
    #[arg(value_name = "VERSION")]
    pub pin_version: Option<String>,

    /// Where to write the manifest (default: ./codex-runtime.toml).
    #[arg(long, value_name = "FILE", default_value = crate::pin::manifest::FILE_NAME)]
    pub manifest: PathBuf,

    #[command(flatten)]
    pub runtime: RuntimeArgs,

    #[arg(long, short)]
    pub quiet: bool,
}

pub fn run(mut args: PinArgs) -> anyhow::Result<ExitCode> {
    let ui = Ui::new(args.quiet);
    if args.pin_version.is_some() {
        args.runtime.version = args.pin_version.clone();
    }
    let ctx = Context::resolve(&args.runtime)?;
    let online = Online::new(&args.runtime)?;
    let version: CodexVersion = online.resolve_version(&ctx)?;
    let github = online.github(&ctx);
    let release = online.runtime.block_on(github.release(&version.tag()))?;
    let mut targets = std::collections::BTreeMap::new();
    let mut sums = None;
    for t in SUPPORTED_TARGETS {
        let target: Target = t.parse()?;
        let chosen = online.runtime.block_on(choose_asset(
            &github,
            &release,
            &target,
            &target.asset_candidates(),
            &ctx.sources,
            &mut sums,
        ));
        match chosen {
            Ok(asset) => {
                targets.insert(
                    target,
                    PinnedAsset {
                        asset: asset.name,
                        size: asset.size,
                        sha256: Some(asset.expected.sha256),
                    },
                );
            }
            // A release without a build for some platform still pins the others.
            Err(crate::plan::PlanError::NoAsset { .. }) => {
                ui.warn(&format!("{} has no asset for {t}", release.tag_name))
            }
            Err(e) => return Err(e.into()),
        }
    }
    let manifest = Manifest {
        origin: args.manifest.display().to_string(),
        version: version.clone(),
        tag: version.tag(),
        targets,
    };
    let old = Manifest::load(&args.manifest).ok();
    let text = manifest.to_toml();
    write_atomic(&args.manifest, text.as_bytes())
        .with_context(|| format!("could not write `{}`", args.manifest.display()))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "pinned codex {version} in {}", args.manifest.display())?;
    for (t, a) in &manifest.targets {
        let before = old
            .as_ref()
            .filter(|m| m.version == version)
            .and_then(|m| m.targets.get(t));
        let mark = match before {
            None => "+",
            Some(b) if b == a => "=",
            Some(_) => "~",
        };
        let digest = a.sha256.map(|d| d.to_hex()).unwrap_or_default();
        writeln!(
            out,
            "  {mark} {t:28} {} sha256:{}",
            a.asset,
            &digest[..16.min(digest.len())]
        )?;
    }
    if let Some(old) = old.filter(|m| m.version != version) {
        writeln!(out, "  (was codex {})", old.version)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Write beside the destination, then rename: a reader never sees half a manifest.
pub fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
