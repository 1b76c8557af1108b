//! Carrying out a plan: the sources in order, each one's candidates in order, each settled into
//! an [`Asset`] from the metadata its source publishes, then tried.
//!
//! Metadata (GitHub's release, `codex-package_SHA256SUMS`, the index's page, the packument) is
//! asked once per [`Session`], whichever candidate or target needs it. A failure says what kind
//! of failure it is ([`Verdict`]), so the closing verdict tells an unreachable network from bytes
//! that failed their pins.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use super::{
    npm, pyindex, AllSourcesFailed, Failed, RunError, SourceError, SourceFailure, Verdict,
};
use crate::github::{Github, Release};
use crate::net::{Http, NetError};
use crate::plan::{
    self, Asset, Candidate, ChannelDigest, Locate, Locator, Metadata, Plan, Reach, SourceKind,
    SourcePlan,
};
use crate::report::Reporter;
use crate::verify::{parse_sha256sums, Digest, DigestSource, Expected, Sha256, SHA256SUMS_ASSET};

/// What trying one settled asset came to.
pub enum Attempt<T> {
    /// It served: nothing later is asked.
    Served(T),
    /// It failed; a missing file moves on to the source's next candidate, anything else to the
    /// next source.
    Next(Failed),
    /// A failure no other source can mend (the store is not writable): stop here.
    Abort(SourceError),
}

/// The lines of an authenticated `codex-package_SHA256SUMS`.
type Sums = Vec<(String, Sha256)>;

/// Index pages read, by URL.
pub type IndexPages = HashMap<String, Rc<Vec<pyindex::IndexFile>>>;

/// One run's network side: the HTTP client, and the metadata already asked (successes only:
/// a source that failed is not asked again by the same candidate walk).
pub struct Session<'a> {
    pub http: &'a Http,
    releases: RefCell<HashMap<String, Rc<Release>>>,
    sums: RefCell<HashMap<String, Rc<Sums>>>,
    pages: RefCell<IndexPages>,
    packuments: RefCell<HashMap<String, Rc<npm::Packument>>>,
    images: RefCell<HashMap<String, Rc<super::oci::Image>>>,
}

impl<'a> Session<'a> {
    pub fn new(http: &'a Http) -> Session<'a> {
        Session {
            http,
            releases: RefCell::default(),
            sums: RefCell::default(),
            pages: RefCell::default(),
            packuments: RefCell::default(),
            images: RefCell::default(),
        }
    }

    pub(super) async fn release(&self, url: &str, tag: &str) -> Result<Rc<Release>, SourceError> {
        if let Some(r) = self.releases.borrow().get(url) {
            return Ok(r.clone());
        }
        let r = Rc::new(Github::new(self.http, "").release_at(url, tag).await?);
        self.releases
            .borrow_mut()
            .insert(url.to_string(), r.clone());
        Ok(r)
    }

    /// `codex-package_SHA256SUMS`, accepted only if its sha256 equals GitHub's API digest for it.
    async fn sums(&self, url: &str, release: &Release) -> Result<Option<Rc<Sums>>, SourceError> {
        if let Some(s) = self.sums.borrow().get(url) {
            return Ok(Some(s.clone()));
        }
        let Some(file) = release.asset(SHA256SUMS_ASSET) else {
            return Ok(None);
        };
        let Some(api_digest) = file.digest.as_deref() else {
            return Ok(None);
        };
        let expected = Sha256::parse(api_digest).map_err(|_| SourceError::BadApiDigest {
            asset: file.name.clone(),
            digest: api_digest.to_string(),
        })?;
        let parsed = self.http.url(url)?;
        let (status, _, body) = self.http.get_small(&parsed, false, 1 << 20).await?;
        if status != 200 {
            return Err(NetError::Status {
                url: (&url).into(),
                status,
            }
            .into());
        }
        let actual = Sha256::of(&body);
        if actual != expected {
            return Err(SourceError::SumsMismatch {
                tag: release.tag_name.clone(),
                expected,
                actual,
            });
        }
        let listed = Rc::new(parse_sha256sums(&String::from_utf8_lossy(&body))?);
        self.sums
            .borrow_mut()
            .insert(url.to_string(), listed.clone());
        Ok(Some(listed))
    }

    /// Read the index page at `url` ahead of the plan that will ask for it (an `install
    /// --python` reads it while the interpreter is probed): kept for [`Session::into_pages`].
    /// A page that cannot be read is left for the plan to ask for again, and to report.
    pub async fn prefetch_page(&self, url: &str) {
        if let Err(e) = self.page(url).await {
            tracing::debug!(url = %crate::redact::DisplayUrl::new(url), "the index page could not be read ahead: {e}");
        }
    }

    /// The index pages this session has read, to seed another one ([`Session::with_pages`]).
    pub fn into_pages(self) -> IndexPages {
        self.pages.into_inner()
    }

    /// This session, with index pages an earlier one read.
    pub fn with_pages(self, pages: IndexPages) -> Session<'a> {
        self.pages.borrow_mut().extend(pages);
        self
    }

    pub(super) async fn page(&self, url: &str) -> Result<Rc<Vec<pyindex::IndexFile>>, SourceError> {
        if let Some(p) = self.pages.borrow().get(url) {
            return Ok(p.clone());
        }
        let p = Rc::new(pyindex::page_files(self.http, url).await?);
        self.pages.borrow_mut().insert(url.to_string(), p.clone());
        Ok(p)
    }

    /// This target's image in an OCI repository (`reference`), by the version's tag.
    async fn image(
        &self,
        page: &str,
        reference: &str,
        plan: &Plan,
    ) -> Result<Rc<super::oci::Image>, SourceError> {
        if let Some(i) = self.images.borrow().get(page) {
            return Ok(i.clone());
        }
        let tag = plan.version.to_string();
        let i = Rc::new(super::oci::image(self.http, reference, &tag, &plan.target).await?);
        self.images.borrow_mut().insert(page.to_string(), i.clone());
        Ok(i)
    }

    pub(super) async fn packument(&self, url: &str) -> Result<Rc<npm::Packument>, SourceError> {
        if let Some(p) = self.packuments.borrow().get(url) {
            return Ok(p.clone());
        }
        let p = Rc::new(npm::packument_at(self.http, url).await?);
        self.packuments
            .borrow_mut()
            .insert(url.to_string(), p.clone());
        Ok(p)
    }
}

/// Carry out `plan`: each source in order, each of its candidates in order, settled and handed
/// to `attempt`; the first that serves wins. A deferred source is located when reached (by the
/// same planner, so it asks what `--dry-run` shows). When none serves, [`AllSourcesFailed`]
/// lists each with its reason; `what` names the job in it.
pub async fn run<T>(
    session: &Session<'_>,
    inputs: &plan::Inputs<'_>,
    plan: &Plan,
    what: impl FnOnce() -> String,
    ui: &dyn Reporter,
    mut attempt: impl AsyncFnMut(&Asset) -> Attempt<T>,
) -> Result<T, RunError> {
    let mut failures: Vec<SourceFailure> = Vec::new();
    for planned in &plan.sources {
        let reached;
        let sp = if planned.reach == Reach::Deferred {
            reached = inputs.source_plan(planned.source, Locate::Now)?;
            &reached
        } else {
            planned
        };
        let source = sp.source;
        if let Reach::Skipped { reason } = &sp.reach {
            tracing::debug!(%source, %reason, "source skipped");
            ui.status("Skipping", &format!("{source}: {reason}"));
            failures.push(Failed::unserved(reason.clone()).at(source));
            continue;
        }
        match serve(session, plan, sp, &mut attempt).await {
            Ok(t) => return Ok(t),
            Err(Stop::Abort(e)) => return Err(RunError::Aborted(e)),
            Err(Stop::Next { failed, tried }) => {
                if tried {
                    tracing::debug!(%source, reason = %failed.reason, "source failed; trying the next");
                } else {
                    tracing::debug!(%source, reason = %failed.reason, "source skipped");
                }
                if tried || failed.error.verdict() == Verdict::Integrity {
                    ui.warn(&format!(
                        "{source} failed, trying the next source: {}",
                        failed.reason
                    ));
                } else {
                    ui.status("Skipping", &format!("{source}: {}", failed.reason));
                }
                failures.push(failed.at(source));
            }
        }
    }
    Err(AllSourcesFailed {
        what: what(),
        failures,
    }
    .into())
}

/// Why a source's walk stopped without serving.
enum Stop {
    /// Try the next source; `tried` when a download was attempted.
    Next {
        failed: Failed,
        tried: bool,
    },
    Abort(SourceError),
}

/// One source's candidates in order.
async fn serve<T>(
    session: &Session<'_>,
    plan: &Plan,
    sp: &SourcePlan,
    attempt: &mut impl AsyncFnMut(&Asset) -> Attempt<T>,
) -> Result<T, Stop> {
    if let Some(failed) = missing_mirror_dir(sp) {
        return Err(Stop::Next {
            failed,
            tried: false,
        });
    }
    let mut walk = Walk::default();
    let mut tried = false;
    for c in &sp.candidates {
        let asset = match walk.settle(session, plan, sp, c).await {
            Ok(a) => a,
            Err(failed) if failed.error.verdict() == Verdict::Missing => {
                walk.missed(failed);
                continue;
            }
            Err(failed) => return Err(Stop::Next { failed, tried }),
        };
        tracing::debug!(
            source = %sp.source,
            asset = %asset.name,
            url = %crate::redact::DisplayUrl::new(&asset.url),
            expected = %asset.expected.primary().digest,
            from = %asset.expected.primary().source,
            checks = asset.expected.all().len(),
            "source chosen"
        );
        tried = true;
        match attempt(&asset).await {
            Attempt::Served(t) => return Ok(t),
            Attempt::Next(failed) if failed.error.verdict() == Verdict::Missing => {
                tracing::debug!(source = %sp.source, reason = %failed.reason, "not there; trying the next candidate");
                walk.absent.push(asset.name.clone());
                walk.missed(failed);
            }
            Attempt::Next(failed) => return Err(Stop::Next { failed, tried }),
            Attempt::Abort(e) => return Err(Stop::Abort(e)),
        }
    }
    Err(Stop::Next {
        failed: walk.verdict(plan, sp),
        tried,
    })
}

/// The first candidate each source can settle, without downloading anything: what `pin`
/// records. Metadata is asked once per session for every target.
pub async fn settle_first(
    session: &Session<'_>,
    plan: &Plan,
    sp: &SourcePlan,
) -> Result<Asset, Failed> {
    if let Reach::Skipped { reason } = &sp.reach {
        return Err(Failed::unserved(reason.clone()));
    }
    if let Some(failed) = missing_mirror_dir(sp) {
        return Err(failed);
    }
    let mut walk = Walk::default();
    for c in &sp.candidates {
        match walk.settle(session, plan, sp, c).await {
            Ok(a) => return Ok(a),
            Err(failed) if failed.error.verdict() == Verdict::Missing => walk.missed(failed),
            Err(failed) => return Err(failed),
        }
    }
    Err(walk.verdict(plan, sp))
}

/// What one walk over a source's candidates has met.
#[derive(Default)]
struct Walk {
    /// Candidates the source does not have, in order.
    missed: Vec<Failed>,
    /// A metadata request that failed: later candidates that need it are not asked again
    /// (others, such as a mirror's registry files, still are), and it is the source's reason
    /// when nothing serves.
    metadata_failed: Option<(String, Failed)>,
    /// Files the source was asked for and does not have (a 404, a file not in the mirror).
    absent: Vec<String>,
}

impl Walk {
    fn missed(&mut self, failed: Failed) {
        self.missed.push(failed);
    }

    /// The source's reason when no candidate served: every file the release lacks is one
    /// error; otherwise the first candidate's reason.
    fn verdict(self, plan: &Plan, sp: &SourcePlan) -> Failed {
        if let Some((_, mut failed)) = self.metadata_failed {
            // The metadata's failure stays the verdict (its hint fits it), and the files that
            // were asked for and are not there are said too: both are true.
            if !self.absent.is_empty() {
                failed.reason = format!(
                    "{}; and it has no {}",
                    failed.reason,
                    quoted(&self.absent).join(", ")
                );
            }
            return failed;
        }
        if sp.source == SourceKind::Mirror
            && !self.absent.is_empty()
            && self.absent.len() == sp.candidates.len()
        {
            return Failed::of(SourceError::MirrorLacks {
                version: plan.version.to_string(),
                target: plan.target.to_string(),
                candidates: quoted(&self.absent),
            });
        }
        let release_lacks_all = !self.missed.is_empty()
            && self.missed.len() == sp.candidates.len()
            && self
                .missed
                .iter()
                .all(|f| f.reason.starts_with("the release has no "));
        if release_lacks_all {
            return Failed::of(SourceError::NoAsset {
                tag: plan.tag.clone(),
                target: plan.target.to_string(),
                candidates: sp
                    .candidates
                    .iter()
                    .filter_map(|c| c.file.clone())
                    .collect(),
            });
        }
        self.missed
            .into_iter()
            .next()
            .unwrap_or_else(|| Failed::unserved("it has no file for this version and target"))
    }

    /// A candidate's URL and every digest it must have: from the plan, and from the metadata
    /// its source publishes.
    async fn settle(
        &mut self,
        session: &Session<'_>,
        plan: &Plan,
        sp: &SourcePlan,
        c: &Candidate,
    ) -> Result<Asset, Failed> {
        // A file in a mirror directory is there or not before any metadata is asked for it.
        if let Some(path) = c.url().and_then(crate::net::local_path) {
            if !path.is_file() {
                let name = c.file.clone().unwrap_or_else(|| path.display().to_string());
                self.absent.push(name);
                return Err(Failed::unserved(format!(
                    "`{}` does not exist",
                    path.display()
                )));
            }
        }
        let result = match c.channel_digest {
            Some(ChannelDigest::GithubRelease) => self.settle_release(session, plan, sp, c).await,
            Some(ChannelDigest::PythonIndex) => {
                let files = self.metadata(page_of(c), session.page(page_of(c))).await?;
                from_index(&files, plan, c)
            }
            Some(ChannelDigest::NpmIntegrity) => {
                let packument = self
                    .metadata(page_of(c), session.packument(page_of(c)))
                    .await?;
                from_packument(&packument, page_of(c), plan, c)
            }
            Some(ChannelDigest::OciManifest) => {
                let reference = sp.location.as_deref().unwrap_or_default();
                let image = self
                    .metadata(page_of(c), session.image(page_of(c), reference, plan))
                    .await?;
                from_image(&image, plan, c)
            }
            None => Ok(Settled {
                archive_pins: true,
                codex: None,
                bundle: None,
                rebuilt_from: None,
                name: c.file.clone().unwrap_or_default(),
                url: c.url().unwrap_or_default().to_string(),
                size: c.size,
                channel: None,
            }),
        }?;
        let pins: &[_] = if result.archive_pins { &c.pins } else { &[] };
        let expected = plan::expectations(pins, result.channel)
            .map_err(|d| Failed::of(SourceError::Disagrees(d)))?
            .ok_or_else(|| Failed::unserved(nothing_to_check(sp.source, &result.name)))?;
        Ok(Asset {
            kind: c.kind,
            size: result.size,
            url: result.url,
            name: result.name,
            expected,
            source: sp.source,
            codex_sha256: result.codex,
            bundle: result.bundle,
            rebuilt_from: result.rebuilt_from,
        })
    }

    /// Ask one metadata request, unless it already failed in this walk.
    async fn metadata<T>(
        &mut self,
        url: &str,
        ask: impl std::future::Future<Output = Result<T, SourceError>>,
    ) -> Result<T, Failed> {
        if let Some((failed_url, failed)) = &self.metadata_failed {
            if failed_url == url {
                return Err(Failed::unserved(failed.reason.clone()));
            }
        }
        match ask.await {
            Ok(t) => Ok(t),
            Err(e) => {
                let failed = Failed::of(e);
                let reason = failed.reason.clone();
                if self.metadata_failed.is_none() {
                    self.metadata_failed = Some((url.to_string(), failed));
                }
                // Reported as "not here" so the walk goes on to candidates that need no
                // metadata; the real failure is the source's verdict when nothing serves.
                Err(Failed::unserved(reason))
            }
        }
    }

    async fn settle_release(
        &mut self,
        session: &Session<'_>,
        plan: &Plan,
        sp: &SourcePlan,
        c: &Candidate,
    ) -> Result<Settled, Failed> {
        let Some(Metadata::GithubRelease { url, sha256sums }) = &sp.metadata else {
            return Err(Failed::unserved("no release metadata planned"));
        };
        let release = self.metadata(url, session.release(url, &plan.tag)).await?;
        let name = c.file.clone().unwrap_or_default();
        let Some(asset) = release.asset(&name) else {
            return Err(Failed::unserved(format!("the release has no `{name}`")));
        };
        let channel = match &asset.digest {
            Some(d) => Expected::sha256(
                Sha256::parse(d).map_err(|_| {
                    Failed::of(SourceError::BadApiDigest {
                        asset: name.clone(),
                        digest: d.clone(),
                    })
                })?,
                DigestSource::GithubApi,
            ),
            None => {
                let listed = session
                    .sums(sha256sums, &release)
                    .await
                    .map_err(Failed::of)?
                    .and_then(|l| l.iter().find(|(n, _)| *n == name).map(|(_, d)| *d));
                match listed {
                    Some(d) => Expected::sha256(d, DigestSource::Sha256Sums),
                    None if !c.pins.is_empty() => {
                        return Ok(Settled {
                            archive_pins: true,
                            codex: None,
                            bundle: None,
                            rebuilt_from: None,
                            url: c.url().unwrap_or_default().to_string(),
                            size: c.size.or(asset.size),
                            name,
                            channel: None,
                        })
                    }
                    None => {
                        return Err(Failed::of(SourceError::NoDigest {
                            tag: plan.tag.clone(),
                            asset: name,
                        }))
                    }
                }
            }
        };
        Ok(Settled {
            archive_pins: true,
            codex: None,
            bundle: None,
            rebuilt_from: None,
            url: c.url().unwrap_or_default().to_string(),
            size: c.size.or(asset.size),
            name,
            channel: Some(channel),
        })
    }
}

/// What the metadata said about one candidate.
struct Settled {
    name: String,
    url: String,
    size: Option<u64>,
    channel: Option<Expected>,
    /// Whether the candidate's pins on the archive apply (not to a rebuilt OCI layer).
    archive_pins: bool,
    /// `bin/codex`'s digest to check when nothing pins it, and who says so.
    codex: Option<(Sha256, String)>,
    /// A signature bundle the source holds for it (where, bytes).
    bundle: Option<(String, Vec<u8>)>,
    /// What an OCI layer was rebuilt from.
    rebuilt_from: Option<String>,
}

/// The candidate's layer in this target's image, its digest the channel's; an annotation for
/// `bin/codex` that contradicts the pin stops it before any download. A layer rebuilt from a
/// wheel or an npm tarball is not the release's archive: the archive's pins cannot apply to
/// it, so it is taken only where `bin/codex` is checked instead (pinned, or else the image's
/// annotation), never in place of an archive pin alone.
fn from_image(image: &super::oci::Image, plan: &Plan, c: &Candidate) -> Result<Settled, Failed> {
    let name = c.file.clone().unwrap_or_default();
    let Some(layer) = image.layers.iter().find(|l| l.name == name) else {
        return Err(Failed::unserved(format!("the image has no `{name}` layer")));
    };
    if let (Some(annotated), Some(pin)) = (&image.codex_sha256, &plan.codex_sha256) {
        if !annotated.eq_ignore_ascii_case(&pin.sha256.to_hex()) {
            return Err(Failed::of(SourceError::OciCodexDisagrees {
                target: plan.target.to_string(),
                annotated: annotated.clone(),
                pinned: pin.sha256.to_hex(),
                pin_from: pin.from.clone(),
            }));
        }
    }
    let mut codex = None;
    if let Some(from) = &layer.rebuilt_from {
        if plan.codex_sha256.is_none() {
            if !c.pins.is_empty() {
                return Err(Failed::of(SourceError::OciRebuiltUnpinned {
                    layer: name,
                    rebuilt_from: from.clone(),
                }));
            }
            let annotated = image
                .codex_sha256
                .as_deref()
                .and_then(|h| Sha256::parse(h).ok())
                .ok_or_else(|| {
                    Failed::of(SourceError::OciRebuiltUnpinned {
                        layer: name.clone(),
                        rebuilt_from: from.clone(),
                    })
                })?;
            codex = Some((
                annotated,
                format!("the image's annotation (rebuilt from `{from}`)"),
            ));
        }
    }
    Ok(Settled {
        name,
        url: layer.url.clone(),
        size: Some(layer.size),
        channel: Some(Expected::sha256(layer.digest, DigestSource::OciManifest)),
        archive_pins: layer.rebuilt_from.is_none(),
        codex,
        bundle: image.bundle.clone(),
        rebuilt_from: layer.rebuilt_from.clone(),
    })
}

fn page_of(c: &Candidate) -> &str {
    match &c.at {
        Locator::ListedOn { page } => page,
        Locator::Url { url } => url,
    }
}

/// The wheel the index's page lists for the candidate: the named file, else the version's
/// wheel for its platform tag; yanked files are not taken.
fn from_index(files: &[pyindex::IndexFile], plan: &Plan, c: &Candidate) -> Result<Settled, Failed> {
    let page = page_of(c);
    let version = &plan.version;
    let of_version: Vec<&pyindex::IndexFile> = files
        .iter()
        .filter(|f| f.version().as_ref() == Some(version))
        .collect();
    if of_version.is_empty() {
        return Err(Failed::of(SourceError::NoVersion(format!(
            "the index ({}) has no {} {} wheel",
            crate::redact::DisplayUrl::new(
                page.trim_end_matches(&format!("{}/", pyindex::PROJECT))
            ),
            pyindex::PROJECT,
            version.pep440()
        ))));
    }
    let platform = c.platform.as_deref().unwrap_or_default();
    let matching: Vec<&&pyindex::IndexFile> = of_version
        .iter()
        .filter(|f| match &c.file {
            Some(name) => &f.filename == name,
            None => f.has_platform(&[platform]),
        })
        .collect();
    let Some(file) = matching.iter().find(|f| f.yanked.is_none()) else {
        return Err(Failed::unserved(match matching.first() {
            // The reason is the index's text: shown without its control characters.
            Some(y) => format!(
                "`{}` is yanked{}",
                y.filename,
                y.yanked
                    .as_deref()
                    .filter(|r| !r.is_empty())
                    .map(|r| format!(": {}", crate::remote::printable(r)))
                    .unwrap_or_default()
            ),
            None => format!(
                "the index has {} {} but no wheel for {}",
                pyindex::PROJECT,
                version.pep440(),
                c.describe(version).trim_start_matches("the ")
            ),
        }));
    };
    Ok(Settled {
        archive_pins: true,
        codex: None,
        bundle: None,
        rebuilt_from: None,
        name: file.filename.clone(),
        url: file.url.clone(),
        size: file.size.or(c.size),
        channel: file
            .sha256
            .map(|h| Expected::sha256(h, DigestSource::PythonIndex)),
    })
}

/// The platform's tarball as the packument lists it.
fn from_packument(
    packument: &npm::Packument,
    page: &str,
    plan: &Plan,
    c: &Candidate,
) -> Result<Settled, Failed> {
    let tarball = packument
        .vetted_tarball(page, &plan.version, &plan.target)
        .map_err(|e| Failed::of(SourceError::Npm(e)))?
        .ok_or_else(|| {
            let reason = format!(
                "the registry ({}) has no {}@{}",
                crate::redact::DisplayUrl::new(page.trim_end_matches(npm::PACKAGE_PATH)),
                npm::PACKAGE,
                npm::version_key(&plan.version, &plan.target)
            );
            // Without the version itself, the version is what is wrong, not the platform.
            if packument.versions.contains_key(&plan.version.to_string()) {
                Failed::unserved(reason)
            } else {
                Failed::of(SourceError::NoVersion(reason))
            }
        })?;
    Ok(Settled {
        archive_pins: true,
        codex: None,
        bundle: None,
        rebuilt_from: None,
        name: tarball.file,
        url: tarball.url,
        size: c.size,
        channel: tarball.integrity.map(|i| Expected {
            digest: Digest::Sha512(i),
            source: DigestSource::NpmIntegrity,
        }),
    })
}

fn nothing_to_check(source: SourceKind, name: &str) -> String {
    match source {
        SourceKind::PythonIndex => format!(
            "the index publishes no sha256 for `{name}` and nothing pins it; pin it with `codex-bootstrap pin`"
        ),
        SourceKind::Npm => format!(
            "the registry publishes no sha512 integrity for `{name}` and nothing pins it"
        ),
        _ => format!("nothing pins `{name}` and its source publishes no digest for it"),
    }
}

/// `name` -> `` `name` ``, for lists of files in a reason.
fn quoted(names: &[String]) -> Vec<String> {
    names.iter().map(|n| format!("`{n}`")).collect()
}

/// A mirror that is a directory which does not exist: the source's verdict before any file or
/// metadata is asked (so an unreachable GitHub API is not blamed for it).
fn missing_mirror_dir(sp: &SourcePlan) -> Option<Failed> {
    if sp.source != SourceKind::Mirror {
        return None;
    }
    let dir = sp.location.as_deref().and_then(crate::net::local_path)?;
    (!dir.is_dir()).then(|| {
        Failed::of(SourceError::NoMirrorDir {
            path: dir.display().to_string(),
        })
    })
}
