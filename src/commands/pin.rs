//! `codex-bootstrap pin [VERSION|latest]`: write a manifest with, for every supported target,
//! what each reachable channel serves (the GitHub asset, the wheel, the npm tarball, with sizes
//! and digests) and the sha256 of `bin/codex` itself, so later installs trust no channel for
//! more than the bytes and need no GitHub API request.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::cli::{heading, OnlineArgs};
use crate::pin::manifest::{PinnedNpm, PinnedWheel};
use crate::pin::{CodexVersion, Manifest, PinnedAsset};
use crate::plan::{choose_asset, Asset};
use crate::platform::{AssetKind, Target, SUPPORTED_TARGETS};
use crate::provision::{Context, Online};
use crate::ui::Ui;

#[derive(Debug, clap::Args)]
pub struct PinArgs {
    /// The version to pin: `0.163.0`, `0.154.0a6`, `latest` [default: the current pin].
    #[arg(
        value_name = "VERSION",
        env = crate::pin::VERSION_ENV,
        hide_env_values = true
    )]
    pub runtime_version: Option<String>,

    /// Where to write the manifest.
    #[arg(long, value_name = "FILE", default_value = crate::pin::manifest::FILE_NAME)]
    pub manifest: PathBuf,

    #[command(flatten)]
    pub runtime: OnlineArgs,

    /// No progress or status output.
    #[arg(long, short, help_heading = heading::OUTPUT)]
    pub quiet: bool,

    /// Print one JSON object (see "JSON output" in the README).
    #[arg(long, help_heading = crate::cli::heading::OUTPUT)]
    pub json: bool,
}

/// The JSON printed by `pin --json`.
#[derive(serde::Serialize)]
struct PinReport<'a> {
    version: String,
    tag: String,
    manifest: &'a std::path::Path,
    /// The version the manifest pinned before, when it was another one.
    previous_version: Option<String>,
    targets: Vec<PinnedTarget<'a>>,
    /// Supported targets no source had a build for: nothing is pinned for them.
    missing_targets: Vec<String>,
}

/// One target's pins, and how they compare with what the manifest held before.
#[derive(serde::Serialize)]
struct PinnedTarget<'a> {
    target: &'a str,
    change: Change,
    asset: Option<&'a str>,
    size: Option<u64>,
    sha256: Option<crate::verify::Sha256>,
    wheel: Option<PinnedFile<'a, crate::verify::Sha256>>,
    npm: Option<PinnedFile<'a, crate::verify::Sha512>>,
    codex_sha256: Option<crate::verify::Sha256>,
}

/// How a target's pins compare with what the manifest held before for the same version.
#[derive(Clone, Copy, serde::Serialize)]
#[serde(rename_all = "snake_case")]
enum Change {
    Added,
    Changed,
    Unchanged,
}

impl Change {
    fn mark(self) -> &'static str {
        match self {
            Change::Added => "+",
            Change::Changed => "~",
            Change::Unchanged => "=",
        }
    }
}

/// A wheel (`digest`: sha256 hex) or an npm tarball (`digest`: `sha512-…` integrity).
#[derive(serde::Serialize)]
struct PinnedFile<'a, D> {
    file: &'a str,
    size: Option<u64>,
    digest: D,
}

pub fn run(args: PinArgs) -> anyhow::Result<ExitCode> {
    let ui = Ui::new(args.quiet || args.json);
    let ctx = Context::resolve(&args.runtime.settings())?;
    let online = Online::new(&ctx)?;
    let version: CodexVersion = online.resolve_version(&ctx, &ui)?;
    let channels = Channels::read(&online, &ctx, &version, &ui);
    if channels.is_empty() {
        return Err(crate::error::Failure::new(format!(
            "no source could describe codex {version}"
        ))
        .hint("check the network with `codex-bootstrap doctor`, or point at a reachable source with `--index-url`, `--npm-registry` or `--github-api-url`")
        .into());
    }
    // Archives are only hashed here, never kept: scratch space in the cache, else the system's.
    let scratch = ctx
        .store
        .prepare_cache()
        .ok()
        .and_then(|()| tempfile::tempdir_in(ctx.store.cache_dir()).ok())
        .map_or_else(tempfile::tempdir, Ok)?;
    let mut targets = std::collections::BTreeMap::new();
    let mut missing_targets = Vec::new();
    for t in SUPPORTED_TARGETS {
        let target: Target = t.parse()?;
        let (mut entry, candidates) = channels.target(&online, &ctx, &target, &ui);
        if candidates.is_empty() {
            ui.warn(&format!("no source has codex {version} for {t}"));
            missing_targets.push(t.to_string());
            continue;
        }
        // `bin/codex` is the same in every channel: hash it from the first archive that
        // downloads and verifies (the one it came from is then also sized).
        for asset in &candidates {
            ui.status(
                "Hashing",
                &format!("bin/codex of {} ({})", asset.name, asset.source),
            );
            let bar = ui.progress(asset.size, "Fetching");
            let fetched = online
                .runtime
                .block_on(crate::sources::artifact::fetch_verified(
                    &online.http,
                    asset,
                    scratch.path(),
                    &bar,
                ));
            bar.finish_and_clear();
            let result = fetched.and_then(|f| {
                let d = crate::sources::artifact::codex_sha256(&f.path, asset.kind, &target);
                let _ = std::fs::remove_file(&f.path);
                d.map(|d| (d, f.size))
            });
            match result {
                Ok((codex, size)) => {
                    entry.codex_sha256 = Some(codex);
                    if let Some(n) = entry.npm.as_mut().filter(|n| n.file == asset.name) {
                        n.size = Some(size);
                    }
                    break;
                }
                Err(reason) => ui.warn(&format!("{}: {reason}", asset.source)),
            }
        }
        targets.insert(target, entry);
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
    let before = |t: &Target| {
        old.as_ref()
            .filter(|m| m.version == version)
            .and_then(|m| m.targets.get(t))
    };
    let change = |t: &Target, a: &PinnedAsset| match before(t) {
        None => Change::Added,
        Some(b) if b == a => Change::Unchanged,
        Some(_) => Change::Changed,
    };
    let previous_version = old
        .as_ref()
        .filter(|m| m.version != version)
        .map(|m| m.version.to_string());
    if args.json {
        super::print_json(&PinReport {
            version: version.to_string(),
            tag: version.tag(),
            manifest: &args.manifest,
            previous_version,
            targets: manifest
                .targets
                .iter()
                .map(|(t, a)| PinnedTarget {
                    target: t.as_str(),
                    change: change(t, a),
                    asset: a.asset.as_deref(),
                    size: a.size,
                    sha256: a.sha256,
                    wheel: a.wheel.as_ref().map(|w| PinnedFile {
                        file: &w.file,
                        size: w.size,
                        digest: w.sha256,
                    }),
                    npm: a.npm.as_ref().map(|n| PinnedFile {
                        file: &n.file,
                        size: n.size,
                        digest: n.integrity,
                    }),
                    codex_sha256: a.codex_sha256,
                })
                .collect(),
            missing_targets,
        })?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "pinned codex {version} in {}", args.manifest.display())?;
    for (t, a) in &manifest.targets {
        let mark = change(t, a).mark();
        let short = |d: String| d[..16.min(d.len())].to_string();
        let mut what = Vec::new();
        if let (Some(name), Some(d)) = (&a.asset, a.sha256) {
            what.push(format!("{name} sha256:{}", short(d.to_hex())));
        }
        if let Some(w) = &a.wheel {
            what.push(format!("{} sha256:{}", w.file, short(w.sha256.to_hex())));
        }
        if let Some(n) = &a.npm {
            what.push(format!("{} {}", n.file, short(n.integrity.to_integrity())));
        }
        if let Some(c) = a.codex_sha256 {
            what.push(format!("bin/codex sha256:{}", short(c.to_hex())));
        }
        writeln!(out, "  {mark} {t:28} {}", what.join(", "))?;
    }
    if let Some(v) = previous_version {
        writeln!(out, "  (was codex {v})")?;
    }
    Ok(ExitCode::SUCCESS)
}

/// What each reachable channel publishes for one version.
struct Channels {
    release: Option<crate::github::Release>,
    wheels: Option<Vec<crate::sources::pyindex::IndexFile>>,
    npm: Option<crate::sources::npm::Packument>,
    version: CodexVersion,
    /// `codex-package_SHA256SUMS`, fetched at most once for all targets.
    sums: std::cell::RefCell<Option<Vec<(String, crate::verify::Sha256)>>>,
}

impl Channels {
    fn read(online: &Online, ctx: &Context, version: &CodexVersion, ui: &Ui) -> Channels {
        use crate::sources::{npm, pyindex, reason_of, SourceKind};
        let (python, registry) = ctx.registries();
        let warn = |kind: SourceKind, reason: String| {
            ui.warn(&format!("{kind}: {reason}; nothing pinned from it"))
        };
        let mut c = Channels {
            release: None,
            wheels: None,
            npm: None,
            version: version.clone(),
            sums: Default::default(),
        };
        if ctx.order.contains(&SourceKind::Github) {
            match online
                .runtime
                .block_on(online.github(ctx).release(&version.tag()))
            {
                Ok(r) => c.release = Some(r),
                Err(e) => warn(SourceKind::Github, reason_of(&e)),
            }
        }
        if ctx.order.contains(&SourceKind::PythonIndex) {
            match python.found() {
                Some(l) => match online
                    .runtime
                    .block_on(pyindex::project_files(&online.http, &l.url))
                {
                    Ok(f) => c.wheels = Some(f),
                    Err(e) => warn(SourceKind::PythonIndex, reason_of(&e)),
                },
                None => warn(SourceKind::PythonIndex, "no Python index found".into()),
            }
        }
        if ctx.order.contains(&SourceKind::Npm) {
            match registry.found() {
                Some(l) => match online
                    .runtime
                    .block_on(npm::packument(&online.http, &l.url))
                {
                    Ok(p) => c.npm = Some(p),
                    Err(e) => warn(SourceKind::Npm, reason_of(&e)),
                },
                None => warn(SourceKind::Npm, "no npm registry found".into()),
            }
        }
        c
    }

    fn is_empty(&self) -> bool {
        self.release.is_none() && self.wheels.is_none() && self.npm.is_none()
    }

    /// The pins for one target, and the archives that could be hashed for `bin/codex` (npm
    /// first: it streams; then the wheel; then GitHub's).
    fn target(
        &self,
        online: &Online,
        ctx: &Context,
        target: &Target,
        ui: &Ui,
    ) -> (PinnedAsset, Vec<Asset>) {
        use crate::sources::SourceKind;
        use crate::verify::{Digest, DigestSource, Expected};
        let mut entry = PinnedAsset::default();
        let mut candidates = Vec::new();
        if let Some(p) = &self.npm {
            if let Some(tb) = p.tarball(&self.version, target) {
                if let Some(integrity) = tb.integrity {
                    entry.npm = Some(PinnedNpm {
                        file: tb.file.clone(),
                        size: None,
                        integrity,
                    });
                    candidates.push(Asset {
                        name: tb.file,
                        kind: AssetKind::NpmTarball,
                        size: None,
                        url: tb.url,
                        expected: Expected {
                            digest: Digest::Sha512(integrity),
                            source: DigestSource::NpmIntegrity,
                        },
                        source: SourceKind::Npm,
                    });
                }
            }
        }
        if let Some(files) = &self.wheels {
            let wheel = target.wheel_platform_tags().into_iter().find_map(|tag| {
                files.iter().find(|f| {
                    f.yanked.is_none()
                        && f.sha256.is_some()
                        && crate::platform::wheel_has_platform(&f.filename, tag)
                        && crate::platform::wheel_version(&f.filename)
                            .and_then(|v| CodexVersion::parse(v).ok())
                            .as_ref()
                            == Some(&self.version)
                })
            });
            if let Some(f) = wheel {
                let sha256 = f.sha256.unwrap_or(crate::verify::Sha256::of(b""));
                entry.wheel = Some(PinnedWheel {
                    file: f.filename.clone(),
                    size: f.size,
                    sha256,
                });
                candidates.push(Asset {
                    name: f.filename.clone(),
                    kind: AssetKind::Wheel,
                    size: f.size,
                    url: f.url.clone(),
                    expected: Expected::sha256(sha256, DigestSource::PythonIndex),
                    source: SourceKind::PythonIndex,
                });
            }
        }
        if let Some(release) = &self.release {
            let github = online.github(ctx);
            match online.runtime.block_on(choose_asset(
                &github,
                release,
                target,
                &target.asset_candidates(),
                &ctx.github,
                &mut self.sums.borrow_mut(),
            )) {
                Ok(asset) => {
                    if let Digest::Sha256(d) = asset.expected.digest {
                        entry.asset = Some(asset.name.clone());
                        entry.size = asset.size;
                        entry.sha256 = Some(d);
                    }
                    candidates.push(asset);
                }
                // A release without a build for some platform still pins the others.
                Err(crate::plan::PlanError::NoAsset { .. }) => {
                    ui.warn(&format!("{} has no asset for {target}", release.tag_name))
                }
                Err(e) => ui.warn(&format!("github: {}", crate::sources::reason_of(&e))),
            }
        }
        (entry, candidates)
    }
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
