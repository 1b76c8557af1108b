//! Why a source could not serve, and what kind of failure that was ([`Verdict`]): the closing
//! verdict tells an unreachable network from bytes that failed their pins.

use super::{artifact, npm, pyindex};
use crate::error::Hint;
use crate::github::GithubError;
use crate::install::InstallError;
use crate::net::NetError;
use crate::plan::{ChannelDisagrees, PlanError, SourceKind};
use crate::verify::{Sha256, SumsError, SHA256SUMS_ASSET};

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
    /// The source answered that the version does not exist (the index lists no file of it,
    /// the packument has no such version).
    #[error("{0}")]
    NoVersion(String),
    /// A `--mirror` directory that is not there: none of its files were read.
    #[error("the mirror directory `{path}` does not exist")]
    NoMirrorDir { path: String },
    /// A mirror (directory or server) that has none of the version's files for the target.
    #[error("the mirror has none of codex {version}'s files for `{target}` (looked for {})", .candidates.join(", "))]
    MirrorLacks {
        version: String,
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
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Lock(#[from] crate::store::LockError),
    #[error(transparent)]
    Oci(#[from] crate::oci::OciError),
    /// The image's annotation for `bin/codex` disagrees with the pin: refused before download.
    #[error("the image for `{target}` says `bin/codex` has sha256 `{annotated}`, but {pin_from} pins `{pinned}`")]
    OciCodexDisagrees {
        target: String,
        annotated: String,
        pinned: String,
        pin_from: String,
    },
    /// A layer rebuilt from a wheel or an npm tarball where the archive is pinned and
    /// `bin/codex` is not: nothing could check it against the pin.
    #[error("the image's `{layer}` layer was rebuilt from `{rebuilt_from}`, so it is not the pinned archive, and no `codex_sha256` pins what it must hold")]
    OciRebuiltUnpinned { layer: String, rebuilt_from: String },
}

impl Hint for SourceError {
    fn hint(&self) -> Option<String> {
        match self {
            SourceError::Unserved(_) | SourceError::NoVersion(_) => None,
            SourceError::Disagrees(_) => Some("nothing was downloaded. If the pin is stale, re-pin with `codex-bootstrap pin` or regenerate the lock; if not, the source was tampered with: check your mirror or proxy".into()),
            SourceError::NoAsset { .. } => Some("pick another `--version` or `--target`".into()),
            SourceError::NoMirrorDir { .. } => Some("check the `--mirror` path (or CODEX_BOOTSTRAP_MIRROR); `codex-bootstrap mirror --out DIR` writes one".into()),
            SourceError::MirrorLacks { version, target, .. } => Some(format!(
                "fill the mirror with `codex-bootstrap mirror {version} --targets {target} --out DIR`, or check the `--mirror` path"
            )),
            SourceError::NoDigest { asset, .. } => Some(format!(
                "pin its digest in codex-runtime.toml (`codex-bootstrap pin`), or pass `--archive FILE --sha256 HEX` for `{asset}`"
            )),
            SourceError::SumsMismatch { .. } => Some("the release's checksum file was tampered with or corrupted in transit; do not install it".into()),
            SourceError::BadApiDigest { .. } | SourceError::Sums(_) => Some("pin digests in codex-runtime.toml with `codex-bootstrap pin` from a trusted network".into()),
            SourceError::Github(e) => e.hint(),
            SourceError::Index(e) => e.hint(),
            SourceError::Npm(e) => e.hint(),
            SourceError::Net(e) => e.hint(),
            SourceError::Install(e) => e.hint(),
            SourceError::Artifact(e) => e.hint(),
            SourceError::Plan(e) => e.hint(),
            SourceError::Store(e) => e.hint(),
            SourceError::Lock(e) => e.hint(),
            SourceError::Oci(e) => e.hint(),
            SourceError::OciCodexDisagrees { .. } => Some("nothing was downloaded: the image is not the pinned runtime; push it again (`codex-bootstrap mirror VERSION --out oci://REGISTRY/REPO`) or re-pin".into()),
            SourceError::OciRebuiltUnpinned { .. } => Some("nothing was downloaded: pin `bin/codex` too (`codex-bootstrap pin` records `codex_sha256`), or push the image from the release's package archives".into()),
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
    /// The source answered that the version does not exist at all.
    pub fn no_such_version(&self) -> bool {
        matches!(
            self,
            SourceError::NoVersion(_) | SourceError::Github(GithubError::NotFound { .. })
        )
    }

    pub fn verdict(&self) -> Verdict {
        match self {
            SourceError::Unserved(_)
            | SourceError::NoVersion(_)
            | SourceError::NoAsset { .. }
            | SourceError::NoMirrorDir { .. }
            | SourceError::MirrorLacks { .. } => Verdict::Missing,
            SourceError::Disagrees(_) | SourceError::SumsMismatch { .. } => Verdict::Integrity,
            SourceError::NoDigest { .. }
            | SourceError::BadApiDigest { .. }
            | SourceError::Sums(_)
            | SourceError::Plan(_)
            | SourceError::Store(_)
            | SourceError::Lock(_) => Verdict::Broken,
            SourceError::Github(e) => match e {
                GithubError::RateLimited { .. } => Verdict::Refused,
                GithubError::NotFound { .. } => Verdict::Missing,
                GithubError::Status { status, .. } => status_verdict(*status),
                GithubError::Malformed { .. } => Verdict::Broken,
                GithubError::Net(e) => net_verdict(e),
            },
            SourceError::Index(e) => match e {
                pyindex::IndexError::NoProject { .. } => Verdict::Missing,
                pyindex::IndexError::Unauthorized { .. }
                | pyindex::IndexError::LoginRedirect { .. } => Verdict::Refused,
                pyindex::IndexError::Status { status, .. } => status_verdict(*status),
                pyindex::IndexError::Malformed { .. } => Verdict::Broken,
                // A listing that names a path or a local file is an attack, not a glitch.
                pyindex::IndexError::Hostile(_) => Verdict::Integrity,
                pyindex::IndexError::Net(e) => net_verdict(e),
            },
            SourceError::Npm(e) => match e {
                npm::NpmError::NoPackage { .. } => Verdict::Missing,
                npm::NpmError::Unauthorized { .. } => Verdict::Refused,
                npm::NpmError::Status { status, .. } => status_verdict(*status),
                npm::NpmError::Malformed { .. } => Verdict::Broken,
                npm::NpmError::Hostile(_) => Verdict::Integrity,
                npm::NpmError::Net(e) => net_verdict(e),
            },
            SourceError::Net(e) => net_verdict(e),
            SourceError::Install(e) => match e {
                InstallError::DigestMismatch(_)
                | InstallError::CodexMismatch { .. }
                | InstallError::WrongVersion { .. }
                | InstallError::Signature(crate::provenance::ProvenanceError::Refused { .. })
                | InstallError::Signature(crate::provenance::ProvenanceError::Malformed {
                    ..
                }) => Verdict::Integrity,
                InstallError::Net(e) => net_verdict(e),
                _ => Verdict::Broken,
            },
            SourceError::OciCodexDisagrees { .. } | SourceError::OciRebuiltUnpinned { .. } => {
                Verdict::Integrity
            }
            SourceError::Oci(e) => {
                use crate::oci::OciError as O;
                match e {
                    O::Unauthorized { .. } | O::Denied { .. } => Verdict::Refused,
                    O::NoTag { .. } | O::NoPlatform { .. } | O::NoVersionTag { .. } => {
                        Verdict::Missing
                    }
                    O::BlobDigest { .. } => Verdict::Integrity,
                    O::Net(e) => net_verdict(e),
                    _ => Verdict::Broken,
                }
            }
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
        NetError::ProxyAuth { .. } => Verdict::Refused,
        NetError::GaveUp { source, .. } => net_verdict(source),
        NetError::File { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            Verdict::Missing
        }
        NetError::Request { .. } | NetError::Deadline { .. } => Verdict::Unreachable,
        // More bytes than the file it promised: what it serves is not what was pinned.
        NetError::TooLarge { .. } => Verdict::Integrity,
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

    pub(super) fn unserved(reason: impl Into<String>) -> Failed {
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

impl AllSourcesFailed {
    /// Sources answered that the version does not exist, and the others were skipped or out
    /// of reach: the version is the likely mistake, not the network.
    fn no_such_version_hint(&self) -> Option<String> {
        let said: Vec<String> = self
            .failures
            .iter()
            .filter(|f| f.error.no_such_version())
            .map(|f| f.source.to_string())
            .collect();
        let others_silent = self.failures.iter().all(|f| {
            f.error.no_such_version()
                || matches!(f.error.verdict(), Verdict::Unreachable | Verdict::Missing)
        });
        (!said.is_empty() && others_silent).then(|| {
            format!(
                "{} answered that there is no such version: check the version you asked for (releases are listed at https://github.com/openai/codex/releases)",
                said.join(" and ")
            )
        })
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
    fn hint(&self) -> Option<String> {
        if let Some(hint) = self.no_such_version_hint() {
            return Some(hint);
        }
        let mut hints: Vec<String> = Vec::new();
        for f in &self.failures {
            // Each failure's own enum finds its hint, however deep the error that has it.
            let Some(h) = f.error.hint() else { continue };
            if !hints.iter().any(|x| x.ends_with(h.as_str())) {
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
        (!hints.is_empty()).then(|| hints.join("\n      "))
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
    fn hint(&self) -> Option<String> {
        match self {
            RunError::AllFailed(e) => e.hint(),
            RunError::Aborted(e) => e.hint(),
            RunError::Plan(e) => e.hint(),
        }
    }
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
