//! What every channel publishes for one version, as the pins `codex-bootstrap pin` writes: for
//! each supported target the GitHub asset, the wheel and the npm tarball (names, sizes,
//! digests), and the sha256 of `bin/codex` itself, hashed from the first archive that downloads
//! and verifies; then every wheel's `bin/codex` is hashed too, and a wheel whose `bin/codex` is
//! that one, as its RECORD lists it, is marked `codex_checked` (an install of it then takes
//! `bin/codex`'s digest from RECORD). Each target's plan is built without pins (the channels are asked what they
//! publish now) and settled source by source, without downloading, as `install` would settle
//! it. A channel that cannot be read is a warning: the others are still pinned.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::Hint;
use crate::pin::manifest::{PinnedNpm, PinnedWheel};
use crate::pin::{CodexVersion, PinnedAsset};
use crate::plan::{Asset, Locate, Pins, SourceKind};
use crate::platform::{AssetKind, Target, SUPPORTED_TARGETS};
use crate::provision::{Context, Online};
use crate::report::Reporter;
use crate::sources::artifact::WheelCodex;
use crate::sources::{settle_first, Session, Verdict};
use crate::verify::Digest;

/// Reading the channels failed.
#[derive(Debug, thiserror::Error)]
pub enum SurveyError {
    #[error("no source could describe codex {0}")]
    NothingAnswered(CodexVersion),
    #[error("could not make scratch space for the archives to hash")]
    Scratch(#[source] std::io::Error),
    #[error(transparent)]
    Platform(#[from] crate::platform::PlatformError),
    #[error(transparent)]
    Provision(#[from] crate::provision::ProvisionError),
    #[error(transparent)]
    Plan(#[from] crate::plan::PlanError),
    #[error(transparent)]
    Latest(#[from] crate::sources::AllSourcesFailed),
}

impl Hint for SurveyError {
    fn hint(&self) -> Option<String> {
        match self {
            SurveyError::NothingAnswered(_) => Some("check the network with `codex-bootstrap doctor`, or point at a reachable source with `--index-url`, `--npm-registry` or `--github-api-url`".into()),
            SurveyError::Scratch(_) => Some("set TMPDIR to a writable directory with room for one archive".into()),
            SurveyError::Platform(e) => e.hint(),
            SurveyError::Provision(e) => e.hint(),
            SurveyError::Plan(e) => e.hint(),
            SurveyError::Latest(e) => e.hint(),
        }
    }

    fn is_usage(&self) -> bool {
        match self {
            SurveyError::Platform(e) => e.is_usage(),
            SurveyError::Provision(e) => e.is_usage(),
            _ => false,
        }
    }
}

/// The pins of one version.
#[derive(Debug)]
pub struct Survey {
    pub version: CodexVersion,
    pub targets: BTreeMap<Target, PinnedAsset>,
    /// Supported targets no source had a build for: nothing is pinned for them.
    pub missing_targets: Vec<Target>,
}

/// Resolve the context's version, read every channel of `ctx.order` for it, and pin every
/// supported target (or only `--target`'s).
pub fn version(online: &Online, ctx: &Context, ui: &dyn Reporter) -> Result<Survey, SurveyError> {
    let session = Session::new(&online.http);
    let (version, resolved) = online.resolve_version(ctx, &session, ui)?;
    // Archives are only hashed here, never kept: scratch space in the cache, else the system's.
    let scratch = ctx
        .store
        .prepare_cache()
        .ok()
        .and_then(|()| tempfile::tempdir_in(ctx.store.cache_dir()).ok())
        .map_or_else(tempfile::tempdir, Ok)
        .map_err(SurveyError::Scratch)?;
    let mut targets = BTreeMap::new();
    let mut missing_targets = Vec::new();
    // A channel that could not be read at all is warned about once, and not asked again.
    let mut unreadable: BTreeSet<SourceKind> = BTreeSet::new();
    // `--target T` pins that target alone (its archives are the only ones downloaded).
    let chosen: Vec<String> = match &ctx.settings.target {
        Some(_) => vec![ctx.target.to_string()],
        None => SUPPORTED_TARGETS.iter().map(|t| t.to_string()).collect(),
    };
    for t in &chosen {
        let target: Target = t.parse()?;
        let inputs = ctx.plan_inputs(&version, &target, Pins::ChannelsOnly);
        let plan = inputs.plan(Locate::Now, resolved.clone())?;
        let mut entry = PinnedAsset::default();
        let mut candidates: Vec<Asset> = Vec::new();
        for sp in &plan.sources {
            if sp.source == SourceKind::Mirror || unreadable.contains(&sp.source) {
                continue;
            }
            match online.runtime.block_on(settle_first(&session, &plan, sp)) {
                Ok(asset) => {
                    record(&mut entry, &asset);
                    candidates.push(asset);
                }
                Err(failed) if failed.error.verdict() == Verdict::Missing => {
                    ui.warn(&format!("{}: {} ({t})", sp.source, failed.reason));
                }
                Err(failed) => {
                    ui.warn(&format!(
                        "{}: {}; nothing pinned from it",
                        sp.source, failed.reason
                    ));
                    unreadable.insert(sp.source);
                }
            }
        }
        if candidates.is_empty() {
            ui.warn(&format!("no source has codex {version} for {t}"));
            missing_targets.push(target);
            continue;
        }
        // `bin/codex` is the same in every channel: hash it from the first archive that
        // downloads and verifies, npm's first (it streams), then the wheel, then GitHub's.
        candidates.sort_by_key(|a| match a.source {
            SourceKind::Npm => 0,
            SourceKind::PythonIndex => 1,
            _ => 2,
        });
        // What each wheel hashed so far holds: its `bin/codex`, and what its RECORD says.
        let mut wheels_read: BTreeMap<String, WheelCodex> = BTreeMap::new();
        for asset in &candidates {
            match hash_codex(online, asset, &target, scratch.path(), ui) {
                Ok((codex, size, wheel)) => {
                    if let Some(w) = wheel {
                        wheels_read.insert(asset.name.clone(), w);
                    }
                    entry.codex_sha256 = Some(codex);
                    // The file that was read is sized too, whatever its channel said.
                    if let Some(n) = entry.npm.as_mut().filter(|n| n.file == asset.name) {
                        n.size = Some(size);
                    }
                    if let Some(w) = entry.wheel.as_mut().filter(|w| w.file == asset.name) {
                        w.size = Some(size);
                    }
                    break;
                }
                Err(e) => ui.warn(&format!(
                    "{}: {}",
                    asset.source,
                    crate::sources::reason_of(&e)
                )),
            }
        }
        let mut other_assets = Vec::new();
        if let Some(w) = &entry.wheel {
            let recorded = w.file.clone();
            (entry.other_wheels, other_assets) =
                other_wheels(online, &session, ctx, &version, &target, &recorded, ui)?
                    .into_iter()
                    .unzip();
        }
        // Every wheel's `bin/codex` is hashed too: one that is `codex_sha256`, as its RECORD
        // says, is marked `codex_checked`, and an install of it needs not hash it again.
        if let Some(codex) = entry.codex_sha256 {
            let assets: Vec<&Asset> = candidates
                .iter()
                .filter(|a| a.kind == AssetKind::Wheel)
                .chain(&other_assets)
                .collect();
            let pinned = entry.wheel.iter_mut().chain(entry.other_wheels.iter_mut());
            for w in pinned {
                let Some(asset) = assets.iter().find(|a| a.name == w.file) else {
                    continue;
                };
                let read = match wheels_read.get(&w.file) {
                    Some(r) => Ok(*r),
                    None => hash_codex(online, asset, &target, scratch.path(), ui).map(
                        |(sha256, size, wheel)| {
                            // The file that was read is sized, whatever the index said.
                            w.size = Some(size);
                            wheel.unwrap_or(WheelCodex {
                                sha256,
                                recorded: None,
                            })
                        },
                    ),
                };
                w.codex_checked = match read {
                    Ok(r) => codex_checked(&w.file, &r, &codex, ui),
                    Err(e) => {
                        ui.warn(&format!(
                            "{}: {}; its bin/codex is not checked, so an install of it hashes bin/codex",
                            asset.source,
                            crate::sources::reason_of(&e)
                        ));
                        false
                    }
                };
            }
        }
        // An index without PEP 691 sizes (HTML pages): the wheel's length from the server,
        // when it was not downloaded above.
        if let Some(w) = entry.wheel.as_mut().filter(|w| w.size.is_none()) {
            let url = candidates
                .iter()
                .find(|a| a.kind == AssetKind::Wheel && a.name == w.file)
                .map(|a| a.url.clone());
            w.size = url.and_then(|u| online.runtime.block_on(content_length(&online.http, &u)));
        }
        entry.sigstore_bundle =
            release_bundle(online, ctx, &version, &target, entry.codex_sha256, ui);
        targets.insert(target, entry);
    }
    if targets.is_empty() && unreadable.len() == ctx.order.len() {
        return Err(SurveyError::NothingAnswered(version));
    }
    Ok(Survey {
        version,
        targets,
        missing_targets,
    })
}

/// Download `asset`, verify it, and hash its `bin/codex` (for a wheel, also what its RECORD
/// lists for it); the file is not kept. Its size comes back too.
fn hash_codex(
    online: &Online,
    asset: &Asset,
    target: &Target,
    scratch: &std::path::Path,
    ui: &dyn Reporter,
) -> Result<(crate::verify::Sha256, u64, Option<WheelCodex>), crate::sources::artifact::ArtifactError>
{
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
            scratch,
            &*bar,
        ));
    drop(bar);
    let f = fetched?;
    let read = if asset.kind == AssetKind::Wheel {
        crate::sources::artifact::wheel_codex(&f.path, target).map(|w| (w.sha256, Some(w)))
    } else {
        crate::sources::artifact::codex_sha256(&f.path, asset.kind, target).map(|d| (d, None))
    };
    let _ = std::fs::remove_file(&f.path);
    let (sha256, wheel) = read?;
    Ok((sha256, f.size, wheel))
}

/// Whether a wheel's `bin/codex` is the target's `codex_sha256`, as its RECORD says; when not,
/// a warning says what an install of it will do.
fn codex_checked(
    file: &str,
    read: &WheelCodex,
    codex: &crate::verify::Sha256,
    ui: &dyn Reporter,
) -> bool {
    if read.sha256 != *codex {
        ui.warn(&format!(
            "`{file}` holds a bin/codex with sha256 {}, not {codex} as the other channels' do: an install of it will be refused",
            read.sha256
        ));
        return false;
    }
    if read.recorded != Some(read.sha256) {
        ui.warn(&format!(
            "`{file}`'s RECORD does not list bin/codex's sha256 {}: an install of it hashes bin/codex and refuses it",
            read.sha256
        ));
        return false;
    }
    true
}

/// OpenAI's Sigstore bundle for `target`'s `bin/codex` (base64 of the file), from the release
/// when GitHub is among the sources. It is verified over the `bin/codex` just hashed before it
/// is recorded, so a pin never holds a bundle an install would refuse.
fn release_bundle(
    online: &Online,
    ctx: &Context,
    version: &CodexVersion,
    target: &Target,
    codex_sha256: Option<crate::verify::Sha256>,
    ui: &dyn Reporter,
) -> Option<String> {
    use base64::Engine as _;
    let sources = ctx.release_bundle_sources(version, target)?;
    let Some(sha256) = codex_sha256 else {
        ui.warn(&format!(
            "{target}: no bin/codex digest to check the release's signature bundle against; none pinned"
        ));
        return None;
    };
    match ctx.verified_release_bundle(online, &sources, version, &sha256) {
        Ok(bundle) => bundle.map(|b| base64::engine::general_purpose::STANDARD.encode(b)),
        Err(e) => {
            ui.warn(&format!(
                "{target}: the release's signature bundle is not pinned: {e}"
            ));
            None
        }
    }
}

/// The target's wheels for its other platform tags than `recorded`'s (on Linux the manylinux
/// wheel that pip and uv choose on glibc), settled from the same index page as the recorded
/// one: no further request but a length where the page gives none.
fn other_wheels(
    online: &Online,
    session: &Session,
    ctx: &Context,
    version: &CodexVersion,
    target: &Target,
    recorded: &str,
    ui: &dyn Reporter,
) -> Result<Vec<(PinnedWheel, Asset)>, SurveyError> {
    let mut out = Vec::new();
    for tag in target.wheel_platform_tags() {
        if crate::platform::wheel_has_platform(recorded, tag) {
            continue;
        }
        let inputs = crate::plan::Inputs {
            order: &[SourceKind::PythonIndex],
            wheel_tags: vec![tag.to_string()],
            ..ctx.plan_inputs(version, target, Pins::ChannelsOnly)
        };
        let plan = inputs.plan(Locate::Now, None)?;
        for sp in &plan.sources {
            match online.runtime.block_on(settle_first(session, &plan, sp)) {
                Ok(asset) => {
                    let Digest::Sha256(sha256) = asset.expected.primary().digest else {
                        continue;
                    };
                    let size = match asset.size {
                        Some(n) => Some(n),
                        None => online
                            .runtime
                            .block_on(content_length(&online.http, &asset.url)),
                    };
                    out.push((
                        PinnedWheel {
                            file: asset.name.clone(),
                            size,
                            sha256,
                            codex_checked: false,
                        },
                        asset,
                    ));
                }
                Err(failed) => ui.warn(&format!(
                    "{}: {} ({target}, {tag})",
                    sp.source, failed.reason
                )),
            }
        }
    }
    Ok(out)
}

/// The length a server gives for `url`: one ranged GET for its first byte, whose
/// `Content-Range` names the total (a server ignoring `Range` answers 200 with the length; the
/// body is not read).
async fn content_length(http: &crate::net::Http, url: &str) -> Option<u64> {
    use reqwest::header::{CONTENT_LENGTH, CONTENT_RANGE, RANGE};
    let url = http.url(url).ok()?;
    let resp = http
        .send(&url, http.get(&url).header(RANGE, "bytes=0-0"))
        .await
        .ok()?;
    let header = |name| resp.headers().get(name).and_then(|v| v.to_str().ok());
    match resp.status().as_u16() {
        206 => header(CONTENT_RANGE)?
            .rsplit('/')
            .next()?
            .trim()
            .parse()
            .ok(),
        200 => header(CONTENT_LENGTH)?.trim().parse().ok(),
        _ => None,
    }
}

/// What one channel's settled file pins.
fn record(entry: &mut PinnedAsset, asset: &Asset) {
    let digest = asset.expected.primary().digest;
    match (asset.source, digest) {
        (SourceKind::Github, Digest::Sha256(d)) => {
            entry.asset = Some(asset.name.clone());
            entry.size = asset.size;
            entry.sha256 = Some(d);
        }
        (SourceKind::PythonIndex, Digest::Sha256(sha256)) => {
            entry.wheel = Some(PinnedWheel {
                file: asset.name.clone(),
                size: asset.size,
                sha256,
                codex_checked: false,
            })
        }
        (SourceKind::Npm, Digest::Sha512(integrity)) => {
            entry.npm = Some(PinnedNpm {
                file: asset.name.clone(),
                size: asset.size,
                integrity,
            })
        }
        _ => {}
    }
}
