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

use super::{artifact, npm, pyindex};
use crate::error::Hint;
use crate::github::{Github, GithubError, Release};
use crate::install::InstallError;
use crate::net::{Http, NetError};
use crate::pin::CodexVersion;
use crate::plan::{
    self, Asset, Candidate, ChannelDigest, ChannelDisagrees, Locate, Locator, Metadata, Plan,
    PlanError, Reach, Resolved, SourceKind, SourcePlan,
};
use crate::report::Reporter;
use crate::verify::{
    parse_sha256sums, Digest, DigestSource, Expected, Sha256, SumsError, SHA256SUMS_ASSET,
};

/// Why a source, or one of its files, could not serve.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The source does not have it (a file the release lacks, a yanked wheel, no location).
    #[error("{0}")]
    Unserved(String),
    /// A pin does not allow the digest the channel publishes: refused before any download.
    #[error("{0}")]
    Disagrees(Box<ChannelDisagrees>),
    #[error("release `{tag}` has no runtime asset for `{target}` (looked for {})", .candidates.join(", "))]
    NoAsset {
        tag: String,
        target: String,
        candidates: Vec<String>,
    },
    #[error("no trustworthy sha256 for `{asset}` in release `{tag}`: GitHub publishes no digest for it, and no {SHA256SUMS_ASSET} with a digest of its own lists it")]
    NoDigest { tag: String, asset: String },
    #[error("{SHA256SUMS_ASSET} of `{tag}` does not match GitHub's digest for it (expected {expected}, got {actual})")]
    SumsMismatch {
        tag: String,
        expected: Sha256,
        actual: Sha256,
    },
    #[error("GitHub's digest for `{asset}` is malformed: `{digest}`")]
    BadApiDigest { asset: String, digest: String },
    #[error(transparent)]
    Sums(#[from] SumsError),
    #[error(transparent)]
    Github(#[from] GithubError),
    #[error(transparent)]
    Index(#[from] pyindex::IndexError),
    #[error(transparent)]
    Npm(#[from] npm::NpmError),
    #[error(transparent)]
    Net(#[from] NetError),
    #[error(transparent)]
    Install(#[from] InstallError),
    #[error(transparent)]
    Artifact(#[from] artifact::ArtifactError),
    #[error(transparent)]
    Plan(#[from] PlanError),
}

impl Hint for SourceError {
    fn hint(&self) -> String {
        match self {
            SourceError::Unserved(_) => String::new(),
            SourceError::Disagrees(_) => "nothing was downloaded. If the pin is stale, re-pin with `codex-bootstrap pin` or regenerate the lock; if not, the source was tampered with: check your mirror or proxy".into(),
            SourceError::NoAsset { .. } => "pick another `--version` or `--target`".into(),
            SourceError::NoDigest { asset, .. } => format!(
                "pin its digest in codex-runtime.toml (`codex-bootstrap pin`), or pass `--archive FILE --sha256 HEX` for `{asset}`"
            ),
            SourceError::SumsMismatch { .. } => "the release's checksum file was tampered with or corrupted in transit; do not install it".into(),
            SourceError::BadApiDigest { .. } | SourceError::Sums(_) => "pin digests in codex-runtime.toml with `codex-bootstrap pin` from a trusted network".into(),
            SourceError::Github(e) => e.hint(),
            SourceError::Index(e) => e.hint(),
            SourceError::Npm(e) => e.hint(),
            SourceError::Net(e) => e.hint(),
            SourceError::Install(e) => e.hint(),
            SourceError::Artifact(e) => e.hint(),
            SourceError::Plan(e) => e.hint(),
        }
    }
}

/// What kind of failure it was, for the closing verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The source never answered: the network's fault, or its address is wrong.
    Unreachable,
    /// It answered, and refused (credentials, rate limit).
    Refused,
    /// It answered, and has no such file.
    Missing,
    /// It served bytes (or digests) that failed their pins.
    Integrity,
    /// Anything else: a malformed answer, a broken archive.
    Broken,
}

impl SourceError {
    pub fn verdict(&self) -> Verdict {
        match self {
            SourceError::Unserved(_) | SourceError::NoAsset { .. } => Verdict::Missing,
            SourceError::Disagrees(_) | SourceError::SumsMismatch { .. } => Verdict::Integrity,
            SourceError::NoDigest { .. }
            | SourceError::BadApiDigest { .. }
            | SourceError::Sums(_)
            | SourceError::Plan(_) => Verdict::Broken,
            SourceError::Github(e) => match e {
                GithubError::RateLimited { .. } => Verdict::Refused,
                GithubError::NotFound { .. } => Verdict::Missing,
                GithubError::Status { status, .. } => status_verdict(*status),
                GithubError::Malformed { .. } => Verdict::Broken,
                GithubError::Net(e) => net_verdict(e),
            },
            SourceError::Index(e) => match e {
                pyindex::IndexError::NoProject { .. } => Verdict::Missing,
                pyindex::IndexError::Unauthorized { .. } => Verdict::Refused,
                pyindex::IndexError::Status { status, .. } => status_verdict(*status),
                pyindex::IndexError::Malformed { .. } => Verdict::Broken,
                pyindex::IndexError::Net(e) => net_verdict(e),
            },
            SourceError::Npm(e) => match e {
                npm::NpmError::NoPackage { .. } => Verdict::Missing,
                npm::NpmError::Unauthorized { .. } => Verdict::Refused,
                npm::NpmError::Status { status, .. } => status_verdict(*status),
                npm::NpmError::Malformed { .. } => Verdict::Broken,
                npm::NpmError::Net(e) => net_verdict(e),
            },
            SourceError::Net(e) => net_verdict(e),
            SourceError::Install(e) => match e {
                InstallError::DigestMismatch(_)
                | InstallError::CodexMismatch { .. }
                | InstallError::WrongVersion { .. } => Verdict::Integrity,
                InstallError::Net(e) => net_verdict(e),
                _ => Verdict::Broken,
            },
            SourceError::Artifact(e) => match e {
                artifact::ArtifactError::Mismatch { .. } => Verdict::Integrity,
                artifact::ArtifactError::Net(e) => net_verdict(e),
                _ => Verdict::Broken,
            },
        }
    }
}

fn status_verdict(status: u16) -> Verdict {
    match status {
        401 | 403 | 407 | 429 => Verdict::Refused,
        404 | 410 => Verdict::Missing,
        _ => Verdict::Broken,
    }
}

fn net_verdict(e: &NetError) -> Verdict {
    match e {
        NetError::Connect { .. } | NetError::Timeout { .. } | NetError::Truncated { .. } => {
            Verdict::Unreachable
        }
        NetError::Status { status, .. } => status_verdict(*status),
        NetError::GaveUp { source, .. } => net_verdict(source),
        NetError::File { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            Verdict::Missing
        }
        NetError::Request { .. } => Verdict::Unreachable,
        _ => Verdict::Broken,
    }
}

/// A source's reason for not serving, with the error behind it.
#[derive(Debug)]
pub struct Failed {
    pub reason: String,
    pub error: Box<SourceError>,
}

impl Failed {
    pub fn of(err: impl Into<SourceError>) -> Failed {
        let error = err.into();
        Failed {
            reason: reason_of(&error),
            error: Box::new(error),
        }
    }

    pub fn at(self, source: SourceKind) -> SourceFailure {
        SourceFailure {
            source,
            reason: self.reason,
            error: self.error,
        }
    }

    fn unserved(reason: impl Into<String>) -> Failed {
        let reason = reason.into();
        Failed {
            error: Box::new(SourceError::Unserved(reason.clone())),
            reason,
        }
    }
}

/// Why one source could not provide the runtime.
#[derive(Debug)]
pub struct SourceFailure {
    pub source: SourceKind,
    pub reason: String,
    pub error: Box<SourceError>,
}

/// Every source failed: each one and why.
#[derive(Debug, thiserror::Error)]
#[error("could not {what}{}:{}", headline(.failures), list(.failures))]
pub struct AllSourcesFailed {
    pub what: String,
    pub failures: Vec<SourceFailure>,
}

impl AllSourcesFailed {
    fn all(&self, verdict: Verdict) -> bool {
        !self.failures.is_empty() && self.failures.iter().all(|f| f.error.verdict() == verdict)
    }
}

fn headline(failures: &[SourceFailure]) -> &'static str {
    let integrity = !failures.is_empty()
        && failures
            .iter()
            .all(|f| f.error.verdict() == Verdict::Integrity);
    if integrity {
        ": every source answered, and what each served failed its pins"
    } else {
        " from any source"
    }
}

fn list(failures: &[SourceFailure]) -> String {
    if failures.is_empty() {
        return " no source was tried".into();
    }
    // A multi-line reason (a checksum mismatch's expected/actual) stays aligned under its line.
    failures
        .iter()
        .map(|f| {
            format!(
                "\n  {:>12}: {}",
                f.source.name(),
                f.reason.replace('\n', &format!("\n{:16}", ""))
            )
        })
        .collect()
}

impl Hint for AllSourcesFailed {
    /// Each source's own fix (once each), then the verdict's: network advice only when a
    /// source could not be reached, integrity advice when every source's bytes failed.
    fn hint(&self) -> String {
        let mut hints: Vec<String> = Vec::new();
        for f in &self.failures {
            let h = f.error.hint();
            if !h.is_empty() && !hints.iter().any(|x| x.ends_with(h.as_str())) {
                hints.push(format!("{}: {h}", f.source));
            }
        }
        if self.all(Verdict::Integrity) {
            hints.push("nothing was installed. Every source answered, so this is not the network: if a pin is stale, re-pin with `codex-bootstrap pin`; otherwise check your mirror or proxy for tampering".into());
        } else if self
            .failures
            .iter()
            .any(|f| f.error.verdict() == Verdict::Unreachable)
            || self.failures.is_empty()
        {
            hints.push("point at a reachable source with `--index-url`, `--npm-registry` or `--mirror`, or install from a file with `--archive`; `codex-bootstrap doctor` checks each source".into());
        }
        hints.join("\n      ")
    }
}

/// Carrying out a plan failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    AllFailed(#[from] AllSourcesFailed),
    /// A failure no other source can mend (the store is not writable).
    #[error(transparent)]
    Aborted(SourceError),
    #[error(transparent)]
    Plan(#[from] PlanError),
}

impl Hint for RunError {
    fn hint(&self) -> String {
        match self {
            RunError::AllFailed(e) => e.hint(),
            RunError::Aborted(e) => e.hint(),
            RunError::Plan(e) => e.hint(),
        }
    }
}

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

/// The one-line reason of an error chain: what failed (the outermost message) and why (the
/// innermost cause), without the transport layers in between.
pub fn reason_of(err: &(dyn std::error::Error + 'static)) -> String {
    let top = err.to_string();
    let mut root = err;
    while let Some(next) = root.source() {
        root = next;
    }
    let root = root.to_string();
    if top.contains(&root) {
        top
    } else {
        format!("{top}: {root}")
    }
}

/// The lines of an authenticated `codex-package_SHA256SUMS`.
type Sums = Vec<(String, Sha256)>;

/// One run's network side: the HTTP client, and the metadata already asked (successes only:
/// a source that failed is not asked again by the same candidate walk).
pub struct Session<'a> {
    pub http: &'a Http,
    releases: RefCell<HashMap<String, Rc<Release>>>,
    sums: RefCell<HashMap<String, Rc<Sums>>>,
    pages: RefCell<HashMap<String, Rc<Vec<pyindex::IndexFile>>>>,
    packuments: RefCell<HashMap<String, Rc<npm::Packument>>>,
}

impl<'a> Session<'a> {
    pub fn new(http: &'a Http) -> Session<'a> {
        Session {
            http,
            releases: RefCell::default(),
            sums: RefCell::default(),
            pages: RefCell::default(),
            packuments: RefCell::default(),
        }
    }

    async fn release(&self, url: &str, tag: &str) -> Result<Rc<Release>, SourceError> {
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
                url: url.to_string(),
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

    async fn page(&self, url: &str) -> Result<Rc<Vec<pyindex::IndexFile>>, SourceError> {
        if let Some(p) = self.pages.borrow().get(url) {
            return Ok(p.clone());
        }
        let p = Rc::new(pyindex::page_files(self.http, url).await?);
        self.pages.borrow_mut().insert(url.to_string(), p.clone());
        Ok(p)
    }

    async fn packument(&self, url: &str) -> Result<Rc<npm::Packument>, SourceError> {
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
            url = %crate::logging::url_str(&asset.url),
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
}

impl Walk {
    fn missed(&mut self, failed: Failed) {
        self.missed.push(failed);
    }

    /// The source's reason when no candidate served: every file the release lacks is one
    /// error; otherwise the first candidate's reason.
    fn verdict(self, plan: &Plan, sp: &SourcePlan) -> Failed {
        if let Some((_, failed)) = self.metadata_failed {
            return failed;
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
            None => Ok(Settled {
                name: c.file.clone().unwrap_or_default(),
                url: c.url().unwrap_or_default().to_string(),
                size: c.size,
                channel: None,
            }),
        }?;
        let expected = plan::expectations(&c.pins, result.channel)
            .map_err(|d| Failed::of(SourceError::Disagrees(d)))?
            .ok_or_else(|| Failed::unserved(nothing_to_check(sp.source, &result.name)))?;
        Ok(Asset {
            kind: c.kind,
            size: result.size,
            url: result.url,
            name: result.name,
            expected,
            source: sp.source,
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
        return Err(Failed::unserved(format!(
            "the index ({}) has no {} {} wheel",
            crate::logging::url_str(page.trim_end_matches(&format!("{}/", pyindex::PROJECT))),
            pyindex::PROJECT,
            version.pep440()
        )));
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
            Some(y) => format!(
                "`{}` is yanked{}",
                y.filename,
                y.yanked
                    .as_deref()
                    .filter(|r| !r.is_empty())
                    .map(|r| format!(": {r}"))
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
        .tarball(&plan.version, &plan.target)
        .ok_or_else(|| {
            Failed::unserved(format!(
                "the registry ({}) has no {}@{}",
                crate::logging::url_str(page.trim_end_matches(npm::PACKAGE_PATH)),
                npm::PACKAGE,
                npm::version_key(&plan.version, &plan.target)
            ))
        })?;
    Ok(Settled {
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

/// What `latest` resolved to.
pub struct Latest {
    pub version: CodexVersion,
    pub resolved: Resolved,
}

/// `latest`: GitHub's latest release when GitHub answers (it is the origin); otherwise the
/// higher of the index's newest stable version with a wheel for the target and npm's `latest`
/// dist-tag, both asked. The answer says which channels carry it.
pub async fn latest(
    session: &Session<'_>,
    order: &[SourceKind],
    api_url: &str,
    registries: &dyn plan::Registries,
    target: &crate::platform::Target,
    wheel_tags: &[String],
) -> Result<Latest, AllSourcesFailed> {
    let mut failures = Vec::new();
    let mut urls = Vec::new();
    if order
        .iter()
        .any(|k| matches!(k, SourceKind::Github | SourceKind::Mirror))
    {
        let url = crate::github::latest_url(api_url);
        urls.push(url.clone());
        match session.release(&url, "latest").await.and_then(|r| {
            CodexVersion::parse(&r.tag_name).map_err(|e| SourceError::Unserved(e.to_string()))
        }) {
            Ok(version) => {
                return Ok(Latest {
                    version,
                    resolved: Resolved {
                        from: "GitHub's latest release".into(),
                        urls,
                    },
                })
            }
            Err(e) => failures.push(Failed::of(e).at(SourceKind::Github)),
        }
    }
    let mut answers: Vec<(SourceKind, CodexVersion, bool)> = Vec::new();
    if order.contains(&SourceKind::PythonIndex) {
        match registries.python_index() {
            plan::Registry::Found { url, .. } => {
                let page = pyindex::project_url(url);
                urls.push(page.clone());
                let tags: Vec<&str> = wheel_tags.iter().map(String::as_str).collect();
                match session.page(&page).await {
                    Ok(files) => match pyindex::newest_stable(&files, &tags) {
                        Some(v) => answers.push((SourceKind::PythonIndex, v, true)),
                        None => failures.push(
                            Failed::unserved("the index has no stable wheel for this target")
                                .at(SourceKind::PythonIndex),
                        ),
                    },
                    Err(e) => failures.push(Failed::of(e).at(SourceKind::PythonIndex)),
                }
            }
            plan::Registry::Missing(reason) => {
                failures.push(Failed::unserved(reason).at(SourceKind::PythonIndex))
            }
        }
    }
    if order.contains(&SourceKind::Npm) {
        match registries.npm() {
            plan::Registry::Found { url, .. } => {
                let url = npm::packument_url(url);
                urls.push(url.clone());
                match session.packument(&url).await {
                    Ok(p) => match p.latest() {
                        Some(v) => {
                            let carried = p.tarball(&v, target).is_some();
                            answers.push((SourceKind::Npm, v, carried))
                        }
                        None => failures.push(
                            Failed::unserved("the packument has no usable `latest` dist-tag")
                                .at(SourceKind::Npm),
                        ),
                    },
                    Err(e) => failures.push(Failed::of(e).at(SourceKind::Npm)),
                }
            }
            plan::Registry::Missing(reason) => {
                failures.push(Failed::unserved(reason).at(SourceKind::Npm))
            }
        }
    }
    let Some(version) = answers.iter().map(|(_, v, _)| v.clone()).max() else {
        return Err(AllSourcesFailed {
            what: "resolve `latest`".into(),
            failures,
        });
    };
    let said = |kind: SourceKind| match kind {
        SourceKind::Npm => "npm's `latest` dist-tag",
        _ => "the newest stable version on the Python index",
    };
    let carriers: Vec<String> = answers
        .iter()
        .filter(|(_, v, _)| *v == version)
        .map(|(k, _, carried)| {
            let mut s = said(*k).to_string();
            if !carried {
                s.push_str(" (no tarball for this platform yet)");
            }
            s
        })
        .collect();
    let others: Vec<String> = answers
        .iter()
        .filter(|(_, v, _)| *v != version)
        .map(|(k, v, _)| format!("{} is {v}", said(*k)))
        .collect();
    let mut from = carriers.join(" and ");
    if !others.is_empty() {
        from.push_str(&format!("; {}", others.join(", ")));
    }
    Ok(Latest {
        version,
        resolved: Resolved { from, urls },
    })
}
