//! `install --python`'s path: the tree of the interpreter's own wheel, by its own plan.

use super::runtime::{announce, source_specific};
use super::*;

/// The sources that can serve an interpreter's own wheel: the Python index alone (a lock
/// file's URLs included), since only it publishes the wheel pip and uv would choose.
pub const WHEEL_SOURCES: &[SourceKind] = &[SourceKind::PythonIndex];

impl Context {
    /// What the plan of an interpreter's wheel is built from: the interpreter's `tags` (most
    /// preferred first) that the runtime is published with for this target, in place of the
    /// target's own order; the Python index as the only source.
    pub fn wheel_plan_inputs<'a>(
        &'a self,
        version: &'a CodexVersion,
        tags: &[String],
    ) -> plan::Inputs<'a> {
        let published = self.target.wheel_platform_tags();
        let mut wanted: Vec<String> = tags
            .iter()
            .filter(|t| published.contains(&t.as_str()))
            .cloned()
            .collect();
        if wanted.is_empty() {
            wanted = tags.to_vec();
        }
        plan::Inputs {
            order: WHEEL_SOURCES,
            wheel_tags: wanted,
            ..self.plan_inputs(version, &self.target, Pins::Enforce)
        }
    }
}

/// The wheel tree of `version` for an interpreter that accepts `tags` (most preferred first),
/// when the store has one: what `install --python` uses without downloading anything.
pub fn installed_wheel_tree(
    ctx: &Context,
    version: &CodexVersion,
    tags: &[String],
) -> Result<Option<InstalledRuntime>, ProvisionError> {
    let present = ctx.store.wheel_tree_stores();
    for tag in tags {
        if let Some(store) = present.iter().find(|s| s.wheel_tag() == Some(tag.as_str())) {
            if let Some(rt) = store.installed(version, &ctx.target)? {
                return Ok(Some(rt));
            }
        }
    }
    Ok(None)
}

/// The network side of a cold `install --python` that the interpreter's answer does not
/// change, made ready while the interpreter is probed ([`crate::python::start_probe`]): the HTTP
/// client (its TLS roots read) and the index's project page the plan will ask for.
pub struct Prepared {
    online: Online,
    pages: sources::IndexPages,
}

/// [`Prepared`] for `install --python`, or `None` where the store already holds a tree of the
/// pinned version for some tag (the warm path, which needs neither) or the Python index is not
/// a source. Nothing here fails the install: what cannot be prepared is done as before once the
/// interpreter's tags are known, and any error is reported there.
pub fn prepare_wheel_tree(ctx: &Context, force: bool, ui: &dyn Reporter) -> Option<Prepared> {
    if !ctx.order.contains(&SourceKind::PythonIndex) || ctx.check_pins(ui).is_err() {
        return None;
    }
    let version = ctx.exact_version();
    if let (Some(v), false) = (version, force) {
        let stores = ctx.store.wheel_tree_stores();
        if stores
            .iter()
            .any(|s| s.runtime_dir(v, &ctx.target).exists())
        {
            return None;
        }
    }
    let online = Online::new(ctx).ok()?;
    let session = Session::new(&online.http);
    // The page is the same whatever the interpreter's tags: read it with the target's own. A
    // plan that reads none (a lock file names each wheel's URL) reads none here either.
    let page = version.and_then(|v| {
        let inputs = plan::Inputs {
            order: WHEEL_SOURCES,
            ..ctx.plan_inputs(v, &ctx.target, Pins::Enforce)
        };
        let plan = inputs.plan(Locate::Now, None).ok()?;
        plan.sources
            .into_iter()
            .find_map(|s| match (s.reach, s.metadata) {
                (plan::Reach::Ready, Some(plan::Metadata::IndexPage { url })) => Some(url),
                _ => None,
            })
    });
    if let Some(url) = page {
        online.runtime.block_on(session.prefetch_page(&url));
    }
    let pages = session.into_pages();
    Some(Prepared { online, pages })
}

/// `install --python`: the tree of the wheel pip or uv would choose for an interpreter that
/// accepts `tags` (most preferred first), in the store beside the full package
/// ([`Store::wheel_trees`]). Warm path: a tree for one of `tags` is there (a few stats).
/// Otherwise the plan of that wheel ([`Context::wheel_plan_inputs`]) is carried out: the wheel
/// the index lists for the first tag is streamed into the store by the same pipeline as every
/// runtime, under the lock of that tree. None when the Python index is not among the sources.
pub fn provision_wheel_tree(
    ctx: &Context,
    tags: &[String],
    force: bool,
    prepared: Option<Prepared>,
    ui: &dyn Reporter,
) -> Result<Option<Provisioned>, ProvisionError> {
    let started = Instant::now();
    if !ctx.order.contains(&SourceKind::PythonIndex) {
        return Ok(None);
    }
    ctx.check_pins(ui)?;
    let done = |outcome, resolved_from| Provisioned {
        outcome,
        pin_source: ctx.pin.source.clone(),
        resolved_from,
        elapsed: started.elapsed(),
    };
    let installed = |version: &CodexVersion| installed_wheel_tree(ctx, version, tags);
    if let (Some(v), false) = (ctx.exact_version(), force) {
        if let Some(rt) = installed(v)? {
            tracing::debug!(dir = %rt.dir.display(), "warm path: the wheel tree of codex {v} is installed");
            super::runtime::signature_held(ctx, &rt)?;
            return Ok(Some(done(Outcome::AlreadyInstalled(rt), None)));
        }
    }
    let (online, pages) = match prepared {
        Some(p) => (p.online, p.pages),
        None => (Online::new(ctx)?, sources::IndexPages::new()),
    };
    let session = Session::new(&online.http).with_pages(pages);
    let (version, resolved) = online.resolve_version(ctx, &session, ui)?;
    let from = resolved.as_ref().map(|r| r.from.clone());
    if !force {
        if let Some(rt) = installed(&version)? {
            super::runtime::signature_held(ctx, &rt)?;
            return Ok(Some(done(Outcome::AlreadyInstalled(rt), from)));
        }
    }
    ctx.store.prepare_cache()?;
    let inputs = ctx.wheel_plan_inputs(&version, tags);
    let plan = inputs.plan(Locate::WhenReached, resolved)?;
    for w in &plan.warnings {
        ctx.warn_once(ui, w);
    }
    let tag_str = version.tag();
    let bundles = ctx.bundle_sources(&version);
    let signer = crate::provenance::Signer::codex_release(&version);
    let codex_sha256 = plan
        .codex_sha256
        .as_ref()
        .map(|c| (c.sha256, c.from.clone()));
    let codex_checked_wheels = plan
        .codex_sha256
        .as_ref()
        .map_or(&[][..], |c| c.checked_wheels.as_slice());
    let what = || {
        format!(
            "install the codex {version} wheel for {}",
            tags.first().map_or("", |t| t.as_str())
        )
    };
    let outcome = online
        .runtime
        .block_on(crate::interrupt::or_interrupted(sources::run(
            &session,
            &inputs,
            &plan,
            what,
            ui,
            async |asset: &Asset| {
                // The plan's candidates are the interpreter's tags: the wheel carries one.
                let tag = tags
                    .iter()
                    .find(|t| crate::platform::wheel_has_platform(&asset.name, t))
                    .or(tags.first())
                    .map_or("", String::as_str);
                let store = ctx.store.wheel_trees(tag);
                let lock_path = store.lock_path(&version, &ctx.target);
                let _lock = match ArtifactLock::acquire(&lock_path, || {
                    ui.status(
                        "Waiting",
                        &format!(
                            "for another codex-bootstrap installing {} ({})",
                            asset.name,
                            lock_path.display()
                        ),
                    )
                }) {
                    Ok(l) => l,
                    Err(e) => return Attempt::Abort(e.into()),
                };
                match store.installed(&version, &ctx.target) {
                    Ok(Some(rt)) if !force => {
                        return Attempt::Served(Outcome::AlreadyInstalled(rt))
                    }
                    Err(e) => return Attempt::Abort(e.into()),
                    _ => {}
                }
                crate::store::staging::clean_stale(&store, &version, &ctx.target);
                let kept = install::kept_archive(&store, asset);
                let progress = announce(asset, kept.as_deref(), ui);
                let job = install::Job {
                    store: &store,
                    version: &version,
                    tag: &tag_str,
                    target: &ctx.target,
                    asset,
                    force,
                    codex_sha256: codex_sha256.clone(),
                    codex_checked_wheels,
                    kept,
                    signature: Some(install::SignatureCheck {
                        sources: &bundles,
                        signer: &signer,
                        policy: &ctx.settings.signature,
                    }),
                    progress: progress.as_ref(),
                };
                match install::run(&online.http, &job).await {
                    Ok(outcome) => Attempt::Served(outcome),
                    Err(e) if source_specific(&e) => Attempt::Next(sources::Failed::of(e)),
                    Err(e) => Attempt::Abort(e.into()),
                }
            },
        )))??;
    Ok(Some(done(outcome, from)))
}
