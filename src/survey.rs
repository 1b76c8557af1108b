//! What every channel publishes for one version, as the pins `codex-bootstrap pin` writes: for
//! each supported target the GitHub asset, the wheel and the npm tarball (names, sizes,
//! digests), and the sha256 of `bin/codex` itself, hashed from the first archive that downloads
//! and verifies. A channel that cannot be read is a warning: the others are still pinned.

use std::collections::BTreeMap;

use crate::error::Failure;
use crate::pin::manifest::{PinnedNpm, PinnedWheel};
use crate::pin::{CodexVersion, PinnedAsset};
use crate::plan::{choose_asset, Asset, PlanError, SourceKind};
use crate::platform::{AssetKind, Target, SUPPORTED_TARGETS};
use crate::provision::{Context, Online};
use crate::report::Reporter;
use crate::sources::{npm, pyindex, reason_of};
use crate::verify::{Digest, DigestSource, Expected, Sha256};

/// The pins of one version.
#[derive(Debug)]
pub struct Survey {
    pub targets: BTreeMap<Target, PinnedAsset>,
    /// Supported targets no source had a build for: nothing is pinned for them.
    pub missing_targets: Vec<Target>,
}

/// Read every channel of `ctx.order` for `version`, and pin every supported target.
pub fn version(
    online: &Online,
    ctx: &Context,
    version: &CodexVersion,
    ui: &dyn Reporter,
) -> anyhow::Result<Survey> {
    let channels = Channels::read(online, ctx, version, ui);
    if channels.is_empty() {
        return Err(Failure::new(format!(
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
    let mut targets = BTreeMap::new();
    let mut missing_targets = Vec::new();
    for t in SUPPORTED_TARGETS {
        let target: Target = t.parse()?;
        let (mut entry, candidates) = channels.target(online, ctx, &target, ui);
        if candidates.is_empty() {
            ui.warn(&format!("no source has codex {version} for {t}"));
            missing_targets.push(target);
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
                    &*bar,
                ));
            drop(bar);
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
                    if let Some(w) = entry.wheel.as_mut().filter(|w| w.file == asset.name) {
                        w.size = Some(size);
                    }
                    break;
                }
                Err(reason) => ui.warn(&format!("{}: {reason}", asset.source)),
            }
        }
        // An index without PEP 691 sizes (HTML pages): the wheel's length from the server,
        // when it was not the archive downloaded above.
        if let Some(w) = entry.wheel.as_mut().filter(|w| w.size.is_none()) {
            let url = candidates
                .iter()
                .find(|a| a.kind == AssetKind::Wheel && a.name == w.file)
                .map(|a| a.url.clone());
            w.size = url.and_then(|u| online.runtime.block_on(content_length(&online.http, &u)));
        }
        targets.insert(target, entry);
    }
    Ok(Survey {
        targets,
        missing_targets,
    })
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

/// What each reachable channel publishes for one version.
struct Channels {
    release: Option<crate::github::Release>,
    wheels: Option<Vec<pyindex::IndexFile>>,
    npm: Option<npm::Packument>,
    version: CodexVersion,
    /// `codex-package_SHA256SUMS`, fetched at most once for all targets.
    sums: std::cell::RefCell<Option<Vec<(String, Sha256)>>>,
}

impl Channels {
    fn read(online: &Online, ctx: &Context, version: &CodexVersion, ui: &dyn Reporter) -> Channels {
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
        ui: &dyn Reporter,
    ) -> (PinnedAsset, Vec<Asset>) {
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
            // The first platform tag (most compatible first) with a listed, hashed wheel.
            let wheel = target.wheel_platform_tags().into_iter().find_map(|tag| {
                files.iter().find_map(|f| {
                    let listed = f.yanked.is_none()
                        && f.has_platform(&[tag])
                        && f.version().as_ref() == Some(&self.version);
                    f.sha256.filter(|_| listed).map(|sha256| (f, sha256))
                })
            });
            if let Some((f, sha256)) = wheel {
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
                Err(PlanError::NoAsset { .. }) => {
                    ui.warn(&format!("{} has no asset for {target}", release.tag_name))
                }
                Err(e) => ui.warn(&format!("github: {}", reason_of(&e))),
            }
        }
        (entry, candidates)
    }
}
