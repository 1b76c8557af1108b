//! The full package's path: warm path, lock, re-check, the plan carried out, the store settled;
//! runtimes an earlier release kept in the cache directory are adopted on the way.

use super::*;

/// Whether an install failure is the source's fault (try the next one) rather than ours.
pub(super) fn source_specific(e: &InstallError) -> bool {
    match e {
        InstallError::DigestMismatch(_)
        | InstallError::CodexMismatch { .. }
        | InstallError::WrongVersion { .. }
        | InstallError::Unstable { .. }
        | InstallError::Net(_) => true,
        // A bundle that does not prove the bytes this source served: like a digest mismatch.
        InstallError::Signature(s) => matches!(
            s,
            crate::provenance::ProvenanceError::Refused { .. }
                | crate::provenance::ProvenanceError::Malformed { .. }
        ),
        InstallError::Unpack(u) => !matches!(u, crate::unpack::UnpackError::Write { .. }),
        InstallError::DoesNotRun { .. }
        | InstallError::ScratchHome { .. }
        | InstallError::Store(_) => false,
    }
}

/// With a signature required, an installed runtime must hold one: the bundle its receipt kept,
/// checked again offline. One installed without (or before signatures were checked) is
/// refused, with the reinstall that would look for one.
pub(super) fn signature_held(ctx: &Context, rt: &InstalledRuntime) -> Result<(), ProvisionError> {
    if !ctx.settings.signature.require {
        return Ok(());
    }
    match rt.recheck_signature(&ctx.settings.signature) {
        None | Some(Ok(_)) => Ok(()),
        Some(Err(crate::provenance::ProvenanceError::Required { reason, by })) => Err(
            InstallError::Signature(crate::provenance::ProvenanceError::Required {
                reason: format!(
                    "codex {} is installed without one ({reason}); `install --force` reinstalls it",
                    rt.version()
                ),
                by,
            })
            .into(),
        ),
        Some(Err(e)) => Err(InstallError::Signature(e).into()),
    }
}

/// What the warm path found for the pin.
pub enum Warm {
    /// Installed in the data directory: ready to run.
    Installed(InstalledRuntime),
    /// Installed under the old layout: runnable in place, moved by the next install.
    Legacy(InstalledRuntime),
    /// Not installed, or the pin is `latest` (only the network can say which version that is).
    Missing,
}

/// The warm path alone: the pinned runtime if it is installed, from a stat and a receipt read,
/// with no lock, no async runtime and no HTTP client. [`provision`] starts here, and so does
/// the `codex` proxy ([`crate::proxy`]) on every call.
pub fn warm(ctx: &Context) -> Result<Warm, ProvisionError> {
    let Some(v) = ctx.exact_version() else {
        return Ok(Warm::Missing);
    };
    Ok(match ctx.store.installed(v, &ctx.target)? {
        Some(rt) if ctx.store.is_legacy(&rt) => Warm::Legacy(rt),
        Some(rt) => {
            tracing::debug!(dir = %rt.dir.display(), "warm path: codex {v} is installed");
            Warm::Installed(rt)
        }
        None => Warm::Missing,
    })
}

/// Warm path, else lock, re-check, then the sources in order: fetch, verify, unpack, store.
pub fn provision(
    ctx: &Context,
    force: bool,
    archive: Option<&LocalArchive>,
    ui: &dyn Reporter,
) -> Result<Provisioned, ProvisionError> {
    let started = Instant::now();
    let resolved = std::cell::RefCell::new(None);
    let done = |outcome| Provisioned {
        outcome,
        pin_source: ctx.pin.source.clone(),
        resolved_from: resolved.borrow().clone(),
        elapsed: started.elapsed(),
    };
    // A runtime already installed answers a required signature from its receipt, offline.
    let installed = |rt: InstalledRuntime| -> Result<Provisioned, ProvisionError> {
        signature_held(ctx, &rt)?;
        Ok(done(Outcome::AlreadyInstalled(rt)))
    };
    ctx.check_pins(ui)?;
    if let Some(v) = ctx.exact_version() {
        if !force {
            match warm(ctx)? {
                Warm::Installed(rt) => return installed(rt),
                Warm::Legacy(rt) => {
                    tracing::debug!(dir = %rt.dir.display(), "codex {v} is in the old layout: adopting it");
                    if let Some(rt) = adopt_legacy(ctx, v, ui)? {
                        return installed(rt);
                    }
                }
                Warm::Missing => {}
            }
            tracing::debug!("codex {v} ({}) is not installed", ctx.target);
        }
    }

    // The mirror was vetted when the context was resolved (`--dry-run` refuses it the same).
    let online = Online::new(ctx)?;
    let session = Session::new(&online.http);
    let (version, resolved_latest) = online.resolve_version(ctx, &session, ui)?;
    *resolved.borrow_mut() = resolved_latest.as_ref().map(|r| r.from.clone());
    // The one plan: built before anything is downloaded, so conflicting pins stop us here.
    let inputs = ctx.plan_inputs(&version, &ctx.target, Pins::Enforce);
    let plan = inputs.plan(Locate::WhenReached, resolved_latest)?;
    for w in &plan.warnings {
        ctx.warn_once(ui, w);
    }
    let _lock = lock(ctx, &version, ui)?;
    // Another installer may have finished while we waited (or, for `latest`, the version it
    // resolved to is one of the old layout's).
    if !force {
        if let Some(adopted) = ctx.store.adopt_legacy(&version, &ctx.target)? {
            return installed(report_adoption(adopted, &version, ctx, ui));
        }
        if let Some(rt) = ctx.store.installed(&version, &ctx.target)? {
            tracing::debug!(dir = %rt.dir.display(), "installed by another process while we waited");
            ui.status(
                "Found",
                &format!("codex {version} installed by another process"),
            );
            return installed(rt);
        }
    }
    crate::store::staging::clean_stale(&ctx.store, &version, &ctx.target);

    let bundles = ctx.bundle_sources(&version);
    let signer = crate::provenance::Signer::codex_release(&version);
    let job = JobInputs {
        ctx,
        bundles: &bundles,
        signer: &signer,
        http: &online.http,
        version: &version,
        tag: version.tag(),
        codex_sha256: plan
            .codex_sha256
            .as_ref()
            .map(|c| (c.sha256, c.from.clone())),
        codex_checked_wheels: plan
            .codex_sha256
            .as_ref()
            .map_or(&[][..], |c| c.checked_wheels.as_slice()),
        force,
        ui,
    };
    // A fresh install in the data directory makes an old layout's copy (one that could not be
    // moved, or one `--force` replaced) redundant.
    let settled = |outcome: Outcome| {
        if let Outcome::Installed(_) = &outcome {
            ctx.store.discard_legacy(&version, &ctx.target);
        }
        done(outcome)
    };
    if let Some(a) = archive {
        let asset = a.asset(ctx, &version)?;
        tracing::debug!(path = %a.path.display(), expected = %asset.expected.primary().digest, from = %asset.expected.primary().source, "source: local archive");
        let installed = crate::interrupt::or_interrupted(job.install(&asset));
        return Ok(settled(online.runtime.block_on(installed)??));
    }

    let what = || format!("install codex {version} for {}", ctx.target);
    // Ctrl-C drops this future: the staging dir, the unpacker and a proving child go with it.
    let outcome = online
        .runtime
        .block_on(crate::interrupt::or_interrupted(sources::run(
            &session,
            &inputs,
            &plan,
            what,
            ui,
            async |asset: &Asset| match job.install(asset).await {
                Ok(outcome) => Attempt::Served(outcome),
                Err(e) if source_specific(&e) => Attempt::Next(sources::Failed::of(e)),
                Err(e) => Attempt::Abort(e.into()),
            },
        )))??;
    Ok(settled(outcome))
}

/// Take the artifact lock of `version`, saying so when another process holds it. The cache
/// directory (where locks live) is made first, with its `CACHEDIR.TAG`.
fn lock(
    ctx: &Context,
    version: &CodexVersion,
    ui: &dyn Reporter,
) -> Result<ArtifactLock, ProvisionError> {
    ctx.store.prepare_cache()?;
    let lock_path = ctx.store.lock_path(version, &ctx.target);
    Ok(ArtifactLock::acquire(&lock_path, || {
        ui.status(
            "Waiting",
            &format!(
                "for another codex-bootstrap installing {version} ({})",
                lock_path.display()
            ),
        )
    })?)
}

/// The pin is installed under the old layout (runtimes in the cache directory): move it into
/// the data directory under its lock, or use it in place where it cannot be moved. None when it
/// went away meanwhile (then it is installed as usual).
fn adopt_legacy(
    ctx: &Context,
    version: &CodexVersion,
    ui: &dyn Reporter,
) -> Result<Option<InstalledRuntime>, ProvisionError> {
    let _lock = lock(ctx, version, ui)?;
    Ok(match ctx.store.adopt_legacy(version, &ctx.target)? {
        Some(adopted) => Some(report_adoption(adopted, version, ctx, ui)),
        // Another process moved it while we waited.
        None => ctx.store.installed(version, &ctx.target)?,
    })
}

fn report_adoption(
    adopted: Adopted,
    version: &CodexVersion,
    ctx: &Context,
    ui: &dyn Reporter,
) -> InstalledRuntime {
    match &adopted {
        Adopted::Moved { from, runtime } => ui.status(
            "Moved",
            &format!(
                "codex {version} from {} to {} (runtimes now live in the data directory)",
                from.display(),
                runtime.dir.display()
            ),
        ),
        Adopted::InPlace { runtime, why } => ui.status(
            "Using",
            &format!(
                "codex {version} where it is, {} (it could not be moved into {}: {why})",
                runtime.dir.display(),
                ctx.store.runtimes_dir().display()
            ),
        ),
    }
    adopted.into_runtime()
}

/// What every attempt shares.
struct JobInputs<'a> {
    ctx: &'a Context,
    bundles: &'a crate::provenance::BundleSources,
    signer: &'a crate::provenance::Signer,
    http: &'a Http,
    version: &'a CodexVersion,
    tag: String,
    codex_sha256: Option<(crate::verify::Sha256, String)>,
    codex_checked_wheels: &'a [crate::verify::Sha256],
    force: bool,
    ui: &'a dyn Reporter,
}

impl JobInputs<'_> {
    /// Fetch, verify, unpack and publish one asset.
    async fn install(&self, asset: &Asset) -> Result<Outcome, InstallError> {
        let ui = self.ui;
        if asset.expected.primary().source == DigestSource::Unverified {
            ui.warn(&format!(
                "installing `{}` without verification (--trust-archive)",
                asset.name
            ));
        }
        let kept = install::kept_archive(&self.ctx.store, asset);
        let progress = announce(asset, kept.as_deref(), ui);
        // A bundle the source holds (an OCI image's referrer) is checked as a found one is,
        // after any the manifest pins.
        let bundles = match (&asset.bundle, &self.bundles.pinned) {
            (Some(found), None) => crate::provenance::BundleSources {
                pinned: Some(found.clone()),
                ..self.bundles.clone()
            },
            _ => self.bundles.clone(),
        };
        let job = Job {
            store: &self.ctx.store,
            version: self.version,
            tag: &self.tag,
            target: &self.ctx.target,
            asset,
            force: self.force,
            codex_sha256: self
                .codex_sha256
                .clone()
                .or_else(|| asset.codex_sha256.clone()),
            // Only the manifest's `codex_sha256` comes with wheels it checked.
            codex_checked_wheels: match self.codex_sha256 {
                Some(_) => self.codex_checked_wheels,
                None => &[],
            },
            kept,
            // A local `--archive` is the user's to vouch for; every download is checked.
            signature: (asset.source != SourceKind::Archive).then_some(install::SignatureCheck {
                sources: &bundles,
                signer: self.signer,
                policy: &self.ctx.settings.signature,
            }),
            progress: progress.as_ref(),
        };
        install::run(self.http, &job).await
    }
}

/// Say what is downloaded from where, and show its progress bar, once the source answers; or,
/// for an archive the store `kept` from an earlier install, that it is read again from there.
pub(super) fn announce<'a>(
    asset: &Asset,
    kept: Option<&std::path::Path>,
    ui: &'a dyn Reporter,
) -> Box<dyn crate::net::Progress + 'a> {
    if let Some(path) = kept {
        return crate::report::announced(
            ui,
            "Reusing",
            format!(
                "{} kept in {} (hashed again as it is read; no download)",
                asset.name,
                path.parent().unwrap_or(path).display()
            ),
            asset.size,
        );
    }
    crate::report::announced(
        ui,
        "Downloading",
        format!(
            "{}{} from {}",
            asset.name,
            asset
                .size
                .map(|s| format!(" ({})", human_bytes(s)))
                .unwrap_or_default(),
            asset.source
        ),
        asset.size,
    )
}
