//! `codex-bootstrap mirror --out DIR`: a static mirror in release-download layout
//! (`DIR/rust-v<V>/<asset>`, `codex-package_SHA256SUMS`, `codex-runtime.toml`) that any web
//! server, object store or CDN can serve to `install --mirror`. Every file is verified as it is
//! written; `--from-cache` builds it from the verified archives in the local store, offline.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;

use crate::cli::RuntimeArgs;
use crate::commands::install::{Context, Online};
use crate::error::Failure;
use crate::pin::{CodexVersion, Manifest, PinnedAsset};
use crate::plan::{choose_asset, Plan};
use crate::platform::{Target, SUPPORTED_TARGETS};
use crate::ui::{human_bytes, Ui};
use crate::verify::{Sha256, SHA256SUMS_ASSET};

#[derive(Debug, clap::Args)]
pub struct MirrorArgs {
    /// The mirror's root directory.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// `all`, or a comma-separated list of targets (default: this host's).
    #[arg(long, value_name = "all|T,...")]
    pub targets: Option<String>,

    /// Build it from the verified archives in the local store: no network.
    #[arg(long)]
    pub from_cache: bool,

    #[command(flatten)]
    pub runtime: RuntimeArgs,
}

pub fn run(args: MirrorArgs) -> anyhow::Result<ExitCode> {
    let ui = Ui::new(false);
    let ctx = Context::resolve(&args.runtime)?;
    let targets: Vec<Target> = match args.targets.as_deref() {
        None => vec![ctx.target.clone()],
        Some("all") => SUPPORTED_TARGETS
            .iter()
            .map(|t| t.parse())
            .collect::<Result<_, _>>()?,
        Some(list) => list
            .split(',')
            .map(|t| t.trim().parse())
            .collect::<Result<_, _>>()?,
    };
    // Downloads land here first and are verified before they are copied into place.
    crate::unpack::create_dirs(&args.out)
        .with_context(|| format!("could not create `{}`", args.out.display()))?;
    let staging = tempfile::tempdir_in(&args.out)?;
    let (version, files) = if args.from_cache {
        from_cache(&ctx, &targets)?
    } else {
        from_network(&args, &ctx, &targets, &ui, staging.path())?
    };
    let release_dir = args.out.join(version.tag());
    crate::unpack::create_dirs(&release_dir)
        .with_context(|| format!("could not create `{}`", release_dir.display()))?;
    let mut pinned = std::collections::BTreeMap::new();
    let mut sums = String::new();
    for (target, name, source, expected) in files {
        let dest = release_dir.join(&name);
        let size = copy_verified(&source, &dest, expected)?;
        ui.status("Mirrored", &format!("{name} ({})", human_bytes(size)));
        sums.push_str(&format!("{expected}  {name}\n"));
        pinned.insert(
            target,
            PinnedAsset {
                asset: name,
                size: Some(size),
                sha256: Some(expected),
            },
        );
    }
    crate::commands::pin::write_atomic(&release_dir.join(SHA256SUMS_ASSET), sums.as_bytes())?;
    let manifest = Manifest {
        origin: String::new(),
        version: version.clone(),
        tag: version.tag(),
        targets: pinned,
    };
    crate::commands::pin::write_atomic(
        &release_dir.join(crate::pin::manifest::FILE_NAME),
        manifest.to_toml().as_bytes(),
    )?;
    writeln!(
        std::io::stdout(),
        "{}\nserve it and install with: codex-bootstrap install --mirror <URL of {}>  (or --mirror file://{})",
        release_dir.display(),
        args.out.display(),
        args.out.display()
    )?;
    Ok(ExitCode::SUCCESS)
}

type MirrorFile = (Target, String, PathBuf, Sha256);

/// The verified archives the store kept for each target of the pinned version.
fn from_cache(
    ctx: &Context,
    targets: &[Target],
) -> anyhow::Result<(CodexVersion, Vec<MirrorFile>)> {
    let Some(version) = ctx.exact_version().cloned() else {
        return Err(Failure::new("`--from-cache` needs an exact version")
            .hint("pass `--version V`")
            .usage()
            .into());
    };
    let mut files = Vec::new();
    for t in targets {
        let rt = ctx.store.installed(&version, t)?.ok_or_else(|| {
            Failure::new(format!("codex {version} ({t}) is not in the store")).hint(format!(
                "install it first: `codex-bootstrap install --version {version} --target {t}`"
            ))
        })?;
        let archive = ctx
            .store
            .downloads_dir()
            .join(rt.receipt.archive_sha256.to_hex())
            .join(&rt.receipt.asset);
        if !archive.is_file() {
            return Err(Failure::new(format!("the archive of codex {version} ({t}) was not kept in the store"))
                .hint("runtimes installed from file:// mirrors or archives keep no copy; mirror without --from-cache, or from that source")
                .into());
        }
        files.push((
            t.clone(),
            rt.receipt.asset.clone(),
            archive,
            rt.receipt.archive_sha256,
        ));
    }
    Ok((version, files))
}

/// Download each target's asset (pinned digests, else one API request) into a temp dir.
fn from_network(
    args: &MirrorArgs,
    ctx: &Context,
    targets: &[Target],
    ui: &Ui,
    staging: &Path,
) -> anyhow::Result<(CodexVersion, Vec<MirrorFile>)> {
    let online = Online::new(&args.runtime)?;
    let version = online.resolve_version(ctx)?;
    let github = online.github(ctx);
    let mut release = None;
    let mut sums = None;
    let mut files = Vec::new();
    for t in targets {
        let plan = Plan::offline(&ctx.pin, version.clone(), t.clone(), ctx.sources.clone());
        let asset = match &plan.choice {
            crate::plan::Choice::Pinned(a) => a.clone(),
            crate::plan::Choice::FromRelease { candidates, .. } => {
                if release.is_none() {
                    release = Some(online.runtime.block_on(github.release(&plan.tag))?);
                }
                let r = release
                    .as_ref()
                    .ok_or_else(|| anyhow::anyhow!("release missing"))?;
                online.runtime.block_on(choose_asset(
                    &github,
                    r,
                    t,
                    candidates,
                    &ctx.sources,
                    &mut sums,
                ))?
            }
        };
        ui.status("Fetching", &asset.name);
        let dest = staging.join(&asset.name);
        let url = online.http.url(&asset.url)?;
        let transfer = crate::net::Transfer {
            url,
            partial: dest.clone(),
            expected_size: asset.size,
        };
        let bar = ui.progress(asset.size, "Fetching");
        let fetched = online.runtime.block_on(crate::net::download::fetch(
            &online.http,
            &transfer,
            None,
            &bar,
        ))?;
        bar.finish_and_clear();
        if let crate::net::Fetched::Complete { sha256, .. } = fetched {
            if sha256 != asset.expected.sha256 {
                return Err(Failure::new(format!(
                    "checksum mismatch for `{}`: expected {} (from {}), got {sha256}",
                    asset.name, asset.expected.sha256, asset.expected.source
                ))
                .hint("nothing was mirrored for it; check the source")
                .into());
            }
        }
        files.push((t.clone(), asset.name.clone(), dest, asset.expected.sha256));
    }
    Ok((version, files))
}

/// Copy `from` to `to` through a temp file, hashing; refuse a digest that differs.
fn copy_verified(from: &Path, to: &Path, expected: Sha256) -> anyhow::Result<u64> {
    let (actual, size) = crate::verify::hash_file(from)
        .with_context(|| format!("could not read `{}`", from.display()))?;
    if actual != expected {
        return Err(Failure::new(format!(
            "`{}` has sha256 {actual}, expected {expected}",
            from.display()
        ))
        .hint("the local copy is damaged: reinstall it with `codex-bootstrap install --force`")
        .into());
    }
    let dir = to.parent().unwrap_or(Path::new("."));
    let tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::fs::copy(from, tmp.path())?;
    tmp.persist(to).map_err(|e| e.error)?;
    Ok(size)
}
