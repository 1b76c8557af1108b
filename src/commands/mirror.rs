//! `codex-bootstrap mirror --out DIR`: a static mirror in release-download layout
//! (`DIR/rust-v<V>/<asset>`, `codex-package_SHA256SUMS`, `codex-runtime.toml`) that any web
//! server, object store or CDN can serve to `install --mirror`. The archives come from any
//! source (`--source github,python-index,npm`): a GitHub asset, a wheel or an npm tarball, each
//! pinned in the mirror's manifest as such. Every file is verified as it is written;
//! `--from-cache` builds it from the verified archives in the local store, offline.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;

use crate::cli::OnlineArgs;
use crate::error::Failure;
use crate::pin::manifest::{PinnedNpm, PinnedWheel};
use crate::pin::{CodexVersion, Manifest, PinnedAsset};
use crate::platform::{AssetKind, Target, SUPPORTED_TARGETS};
use crate::provision::{Context, Online};
use crate::ui::{human_bytes, Ui};
use crate::verify::{Digest, Sha256, Sha512, SHA256SUMS_ASSET};

#[derive(Debug, clap::Args)]
pub struct MirrorArgs {
    #[arg(
        value_name = "VERSION",
        help = crate::cli::VERSION_HELP,
        env = crate::pin::VERSION_ENV,
        hide_env_values = true
    )]
    pub runtime_version: Option<String>,

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
    pub runtime: OnlineArgs,

    /// Print one JSON object (see "JSON output" in the README).
    #[arg(long, help_heading = crate::cli::heading::OUTPUT)]
    pub json: bool,
}

/// The JSON printed by `mirror --json`.
#[derive(serde::Serialize)]
struct MirrorReport {
    version: String,
    tag: String,
    /// `DIR/rust-v<V>`: what to serve is `DIR`.
    release_dir: PathBuf,
    manifest: PathBuf,
    sha256sums: PathBuf,
    files: Vec<MirroredFile>,
}

#[derive(serde::Serialize)]
struct MirroredFile {
    target: String,
    name: String,
    size: u64,
    sha256: Sha256,
    /// Where the bytes came from: `github`, `python-index`, `npm`, `mirror` or `cache`.
    source: String,
}

pub fn run(args: MirrorArgs) -> anyhow::Result<ExitCode> {
    let ui = Ui::new(args.json);
    let ctx = Context::resolve(&args.runtime.settings())?;
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
    crate::fs::create_dirs(&args.out)
        .with_context(|| format!("could not create `{}`", args.out.display()))?;
    let staging = tempfile::tempdir_in(&args.out)?;
    let (version, files) = if args.from_cache {
        from_cache(&ctx, &targets)?
    } else {
        from_network(&ctx, &targets, &ui, staging.path())?
    };
    let release_dir = args.out.join(version.tag());
    crate::fs::create_dirs(&release_dir)
        .with_context(|| format!("could not create `{}`", release_dir.display()))?;
    let mut pinned: std::collections::BTreeMap<Target, PinnedAsset> = Default::default();
    let mut sums = String::new();
    let mut mirrored = Vec::new();
    for MirrorFile {
        target,
        name,
        path,
        expected,
        source,
    } in files
    {
        let dest = release_dir.join(&name);
        let (size, sha256, sha512) = copy_verified(&path, &dest, expected)?;
        ui.status("Mirrored", &format!("{name} ({})", human_bytes(size)));
        sums.push_str(&format!("{sha256}  {name}\n"));
        mirrored.push(MirroredFile {
            target: target.to_string(),
            name: name.clone(),
            size,
            sha256,
            source,
        });
        let entry = pinned.entry(target).or_default();
        match AssetKind::from_name(&name) {
            Some(AssetKind::Wheel) => {
                entry.wheel = Some(PinnedWheel {
                    file: name,
                    size: Some(size),
                    sha256,
                })
            }
            Some(AssetKind::NpmTarball) => {
                entry.npm = Some(PinnedNpm {
                    file: name,
                    size: Some(size),
                    integrity: sha512,
                })
            }
            _ => {
                entry.asset = Some(name);
                entry.size = Some(size);
                entry.sha256 = Some(sha256);
            }
        }
    }
    // Keep what the project already pins about bin/codex: the mirror must agree with it.
    for (t, e) in pinned.iter_mut() {
        e.codex_sha256 = ctx.codex_sha256_for(&version, t);
    }
    let sums_path = release_dir.join(SHA256SUMS_ASSET);
    crate::fs::write_atomic(&sums_path, sums.as_bytes())?;
    let manifest = Manifest {
        origin: String::new(),
        version: version.clone(),
        tag: version.tag(),
        targets: pinned,
    };
    let manifest_path = release_dir.join(crate::pin::manifest::FILE_NAME);
    crate::fs::write_atomic(&manifest_path, manifest.to_toml().as_bytes())?;
    if args.json {
        super::print_json(&MirrorReport {
            version: version.to_string(),
            tag: version.tag(),
            release_dir,
            manifest: manifest_path,
            sha256sums: sums_path,
            files: mirrored,
        })?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(
        std::io::stdout(),
        "{}\nserve it and install with: codex-bootstrap install --mirror <URL of {}>  (or --mirror file://{})",
        release_dir.display(),
        args.out.display(),
        args.out.display()
    )?;
    Ok(ExitCode::SUCCESS)
}

/// An archive to mirror: verified against `expected` as it is copied into place.
struct MirrorFile {
    target: Target,
    name: String,
    path: PathBuf,
    expected: Digest,
    /// The source that served it, or `cache`.
    source: String,
}

/// The verified archives the store kept for each target of the pinned version.
fn from_cache(
    ctx: &Context,
    targets: &[Target],
) -> anyhow::Result<(CodexVersion, Vec<MirrorFile>)> {
    let Some(version) = ctx.exact_version().cloned() else {
        return Err(Failure::new("`--from-cache` needs an exact version")
            .hint("name an exact version: `codex-bootstrap mirror 0.163.0 --from-cache --out DIR`")
            .usage()
            .into());
    };
    let mut files = Vec::new();
    for t in targets {
        let rt = ctx.store.installed(&version, t)?.ok_or_else(|| {
            Failure::new(format!("codex {version} ({t}) is not in the store")).hint(format!(
                "install it first: `codex-bootstrap install {version} --target {t}`"
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
        files.push(MirrorFile {
            target: t.clone(),
            name: rt.receipt.asset.clone(),
            path: archive,
            expected: Digest::Sha256(rt.receipt.archive_sha256),
            source: "cache".into(),
        });
    }
    Ok((version, files))
}

/// Download each target's archive from the first source that serves it and verifies.
fn from_network(
    ctx: &Context,
    targets: &[Target],
    ui: &Ui,
    staging: &Path,
) -> anyhow::Result<(CodexVersion, Vec<MirrorFile>)> {
    let online = Online::new(ctx)?;
    let version = online.resolve_version(ctx, ui)?;
    let mut files = Vec::new();
    for t in targets {
        let mut failures = Vec::new();
        let mut done = None;
        for kind in &ctx.order {
            let asset = match online.runtime.block_on(crate::sources::settle(
                &online.inputs_for(ctx, &version, t),
                *kind,
            )) {
                Ok(a) => a,
                Err(failed) => {
                    failures.push(failed.at(*kind));
                    continue;
                }
            };
            ui.status("Fetching", &format!("{} from {kind}", asset.name));
            let bar = ui.progress(asset.size, "Fetching");
            let fetched = online
                .runtime
                .block_on(crate::sources::artifact::fetch_verified(
                    &online.http,
                    &asset,
                    staging,
                    &bar,
                ));
            bar.finish_and_clear();
            match fetched {
                Ok(f) => {
                    done = Some(MirrorFile {
                        target: t.clone(),
                        name: asset.name.clone(),
                        path: f.path,
                        expected: asset.expected.digest,
                        source: kind.to_string(),
                    });
                    break;
                }
                Err(reason) => {
                    ui.warn(&format!("{kind} failed, trying the next source: {reason}"));
                    failures.push(crate::sources::Failed::from(reason).at(*kind));
                }
            }
        }
        match done {
            Some(f) => files.push(f),
            None => {
                return Err(crate::provision::AllSourcesFailed {
                    what: format!("mirror codex {version} for {t}"),
                    failures,
                }
                .into())
            }
        }
    }
    Ok((version, files))
}

/// Copy `from` to `to` through a temp file, hashing; refuse a digest that differs. Returns
/// the size and both digests (a mirror's manifest pins npm tarballs by sha512).
fn copy_verified(
    from: &Path,
    to: &Path,
    expected: Digest,
) -> anyhow::Result<(u64, Sha256, Sha512)> {
    let (actual, sha512, size) =
        hash_both(from).with_context(|| format!("could not read `{}`", from.display()))?;
    if !expected.matches(&actual, Some(&sha512)) {
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
    Ok((size, actual, sha512))
}

fn hash_both(path: &Path) -> std::io::Result<(Sha256, Sha512, u64)> {
    let file = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(path)?);
    let (sha256, sha512, size) = crate::verify::HashingReader::with_sha512(file).finish_all()?;
    Ok((sha256, sha512.unwrap_or(Sha512::of(b"")), size))
}
