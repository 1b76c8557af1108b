//! Where the runtime's bytes can come from, and what each place says they must hash to.
//!
//! The same runtime is published through three official channels: GitHub releases (or a mirror
//! in their layout), the Python package index (`openai-codex-cli-bin` wheels) and npm
//! (`@openai/codex@<v>-<platform>` tarballs). Each source turns a version and a target into one
//! [`Asset`]: a URL, a container kind and an expected digest with its provenance. Sources are
//! tried in order ([`SourceKind`]); one that cannot be reached, or cannot serve this version and
//! target, hands over to the next at once.

pub mod artifact;
pub mod locate;
pub mod npm;
pub mod pyindex;
pub mod uv_config;

use crate::error::Hint;
use crate::github::Github;
use crate::net::Http;
use crate::pin::{CodexVersion, Pin};
use crate::plan::{Asset, Plan, Sources};
use crate::platform::{AssetKind, Target};
use crate::report::Reporter;
use crate::verify::{Digest, DigestSource, Expected};

pub use crate::plan::SourceKind;
pub use locate::{Located, Location};

/// The order `auto` stands for.
pub const AUTO: &[SourceKind] = &[SourceKind::Github, SourceKind::PythonIndex, SourceKind::Npm];

#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not a source (expected github, python-index, npm or auto)")]
pub struct UnknownSource(pub String);

impl Hint for UnknownSource {
    fn hint(&self) -> String {
        "pass `--source github,python-index,npm` (or `auto`), or set CODEX_BOOTSTRAP_SOURCES".into()
    }
    /// A `--source` value (or CODEX_BOOTSTRAP_SOURCES) that names no source.
    fn is_usage(&self) -> bool {
        true
    }
}

/// Parse `--source` values (each may be a comma list) into an order without repeats. Empty
/// means `auto`. A mirror, when given, goes first.
pub fn parse_order(values: &[String], mirror: bool) -> Result<Vec<SourceKind>, UnknownSource> {
    let mut order = Vec::new();
    if mirror {
        order.push(SourceKind::Mirror);
    }
    let mut any = false;
    for part in values
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        any = true;
        let kinds: &[SourceKind] = match part.to_ascii_lowercase().as_str() {
            "auto" => AUTO,
            "github" => &[SourceKind::Github],
            "python-index" | "python" | "pypi-index" | "index" => &[SourceKind::PythonIndex],
            "npm" => &[SourceKind::Npm],
            _ => return Err(UnknownSource(part.to_string())),
        };
        for k in kinds {
            if !order.contains(k) {
                order.push(*k);
            }
        }
    }
    if !any {
        for k in AUTO {
            if !order.contains(k) {
                order.push(*k);
            }
        }
    }
    Ok(order)
}

/// Why a source could not provide the runtime: one line, for the list shown when all fail,
/// and the error behind it, whose hint is the fix for that source ([`crate::hints`]).
#[derive(Debug)]
pub struct SourceFailure {
    pub source: SourceKind,
    pub reason: String,
    pub error: Option<anyhow::Error>,
}

/// A source's reason for not serving the runtime, with the error behind it.
#[derive(Debug)]
pub struct Failed {
    pub reason: String,
    pub error: Option<anyhow::Error>,
}

impl Failed {
    pub fn of(err: impl Into<anyhow::Error>) -> Failed {
        let err = err.into();
        Failed {
            reason: reason_of(err.as_ref()),
            error: Some(err),
        }
    }

    pub fn at(self, source: SourceKind) -> SourceFailure {
        SourceFailure {
            source,
            reason: self.reason,
            error: self.error,
        }
    }
}

impl From<String> for Failed {
    fn from(reason: String) -> Failed {
        Failed {
            reason,
            error: None,
        }
    }
}

impl From<&str> for Failed {
    fn from(reason: &str) -> Failed {
        Failed {
            reason: reason.to_string(),
            error: None,
        }
    }
}

/// Every source failed: each one and why.
#[derive(Debug, thiserror::Error)]
#[error("could not {what} from any source:{}", list(.failures))]
pub struct AllSourcesFailed {
    pub what: String,
    pub failures: Vec<SourceFailure>,
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
    /// The general fix alone; [`crate::hints`] asks [`Hint::hint_with`] for each source's too.
    fn hint(&self) -> String {
        self.hint_with(&|_| None)
    }

    /// Each source's own fix (once each), found in its error chain by `inner`, then the
    /// general one.
    fn hint_with(&self, inner: &dyn Fn(&anyhow::Error) -> Option<String>) -> String {
        let mut hints: Vec<String> = Vec::new();
        for f in &self.failures {
            if let Some(h) = f.error.as_ref().and_then(inner) {
                if !hints.iter().any(|x| x.ends_with(h.as_str())) {
                    hints.push(format!("{}: {h}", f.source));
                }
            }
        }
        hints.push("point at a reachable source with `--index-url`, `--npm-registry` or `--mirror`, or install from a file with `--archive`; `codex-bootstrap doctor` checks each source".into());
        hints.join("\n      ")
    }
}

/// What trying one settled asset came to.
pub enum Attempt<T> {
    /// It served: no later source is asked.
    Served(T),
    /// This source failed (a checksum mismatch, a broken archive): the next one is tried.
    Next(Failed),
    /// A failure no other source can mend (the store is not writable): stop here.
    Abort(anyhow::Error),
}

/// Ask the sources in `order`, one at a time: each settles its asset (one that cannot is
/// skipped, saying why) and `attempt` tries it; the first that serves wins. A later source,
/// and the pip or npm lookup that locates its registry, is not touched when an earlier one
/// serves; one that never answered costs no retries, so the next starts at once. When none
/// serves, [`AllSourcesFailed`] lists each with its reason; `what` names the job in it.
pub async fn first_served<T>(
    inputs: &Inputs<'_>,
    order: &[SourceKind],
    what: impl FnOnce() -> String,
    ui: &dyn Reporter,
    mut attempt: impl AsyncFnMut(&Asset) -> Attempt<T>,
) -> anyhow::Result<T> {
    let mut failures: Vec<SourceFailure> = Vec::new();
    for &source in order {
        let asset = match settle(inputs, source).await {
            Ok(a) => a,
            Err(failed) => {
                tracing::debug!(%source, reason = %failed.reason, "source skipped");
                ui.status("Skipping", &format!("{source}: {}", failed.reason));
                failures.push(failed.at(source));
                continue;
            }
        };
        tracing::debug!(
            %source,
            asset = %asset.name,
            url = %crate::logging::url_str(&asset.url),
            expected = %asset.expected.digest,
            from = %asset.expected.source,
            "source chosen"
        );
        match attempt(&asset).await {
            Attempt::Served(t) => return Ok(t),
            Attempt::Next(failed) => {
                tracing::debug!(%source, reason = %failed.reason, "source failed; trying the next");
                ui.warn(&format!(
                    "{source} failed, trying the next source: {}",
                    failed.reason
                ));
                failures.push(failed.at(source));
            }
            Attempt::Abort(e) => return Err(e),
        }
    }
    Err(AllSourcesFailed {
        what: what(),
        failures,
    }
    .into())
}

/// Everything a source needs to settle an asset.
pub struct Inputs<'a> {
    pub http: &'a Http,
    pub pin: &'a Pin,
    pub version: &'a CodexVersion,
    pub target: &'a Target,
    pub github: &'a Sources,
    pub mirror: Option<&'a Sources>,
    /// Where the registries are; asked only when a registry source is reached.
    pub registries: &'a dyn Registries,
    /// The wheel platform tags the Python index source takes, most preferred first:
    /// `target.wheel_platform_tags()`, or an interpreter's own (`install --python`).
    pub wheel_tags: Vec<String>,
}

/// Where the Python index and the npm registry are, located on first use.
pub trait Registries {
    fn python_index(&self) -> &Location;
    fn npm(&self) -> &Location;
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

/// `Failed` from a format string.
macro_rules! failed {
    ($($t:tt)*) => {
        Failed::from(format!($($t)*))
    };
}

/// Settle the asset `kind` would serve.
pub async fn settle(inputs: &Inputs<'_>, kind: SourceKind) -> Result<Asset, Failed> {
    match kind {
        SourceKind::Github => github_like(inputs, inputs.github).await,
        SourceKind::Mirror => match inputs.mirror {
            Some(m) => match mirrored_pin(inputs, m) {
                Some(a) => Ok(a),
                None => github_like(inputs, m).await,
            },
            None => Err("no mirror given".into()),
        },
        SourceKind::PythonIndex => python_index(inputs).await,
        SourceKind::Npm => npm(inputs).await,
        SourceKind::Archive => Err("a local archive is not a network source".into()),
    }
}

/// A mirror filled from the Python index or npm holds a wheel or an npm tarball that the
/// manifest pins: serve that when no GitHub asset is pinned.
fn mirrored_pin(inputs: &Inputs<'_>, mirror: &Sources) -> Option<Asset> {
    let (m, a) = inputs.pin.pinned_asset(inputs.version, inputs.target)?;
    if a.github_digest().is_some() {
        return None;
    }
    let source = DigestSource::Manifest {
        path: m.origin.clone(),
    };
    if let Some(w) = &a.wheel {
        return Some(Asset {
            name: w.file.clone(),
            kind: AssetKind::Wheel,
            size: w.size,
            url: mirror.asset_url(&m.tag, &w.file),
            expected: Expected::sha256(w.sha256, source),
            source: SourceKind::Mirror,
        });
    }
    a.npm.as_ref().map(|n| Asset {
        name: n.file.clone(),
        kind: AssetKind::NpmTarball,
        size: n.size,
        url: mirror.asset_url(&m.tag, &n.file),
        expected: Expected {
            digest: Digest::Sha512(n.integrity),
            source,
        },
        source: SourceKind::Mirror,
    })
}

async fn github_like(inputs: &Inputs<'_>, sources: &Sources) -> Result<Asset, Failed> {
    let plan = Plan::offline(
        inputs.pin,
        inputs.version.clone(),
        inputs.target.clone(),
        sources.clone(),
    );
    let github = Github::new(inputs.http, &sources.api_url);
    plan.settle(&github).await.map_err(Failed::of)
}

async fn python_index(inputs: &Inputs<'_>) -> Result<Asset, Failed> {
    let target = inputs.target;
    let version = inputs.version;
    let tags = &inputs.wheel_tags;
    let manifest_pin = inputs
        .pin
        .pinned_asset(version, target)
        .and_then(|(m, a)| a.wheel.as_ref().map(|w| (m, w)));
    let lock = inputs.pin.wheel_pins(version);

    // A lock file with the wheel's URL pins everything: no index request at all.
    if let Some(lock) = lock {
        if let Some(w) = tags.iter().find_map(|t| lock.for_platform(t)) {
            if let (Some(url), Some(file)) = (&w.url, &w.filename) {
                return Ok(Asset {
                    name: file.clone(),
                    kind: AssetKind::Wheel,
                    size: w.size,
                    url: url.clone(),
                    expected: Expected::sha256(
                        w.sha256,
                        DigestSource::LockFile {
                            path: lock.file.display().to_string(),
                        },
                    ),
                    source: SourceKind::PythonIndex,
                });
            }
        }
    }

    let located = match inputs.registries.python_index() {
        Location::Found(l) => l,
        Location::Missing(reason) => return Err(reason.clone().into()),
    };
    let files = pyindex::project_files(inputs.http, &located.url)
        .await
        .map_err(Failed::of)?;
    let of_version: Vec<&pyindex::IndexFile> = files
        .iter()
        .filter(|f| f.version().as_ref() == Some(version))
        .collect();
    if of_version.is_empty() {
        return Err(failed!(
            "the index ({}) has no {} {} wheel",
            located.url,
            pyindex::PROJECT,
            version.pep440()
        ));
    }
    let for_target: Vec<&&pyindex::IndexFile> = tags
        .iter()
        .flat_map(|t| {
            of_version
                .iter()
                .filter(move |f| crate::platform::wheel_has_platform(&f.filename, t))
        })
        .collect();
    let Some(file) = for_target.iter().find(|f| f.yanked.is_none()) else {
        return Err(match for_target.first() {
            Some(y) => failed!(
                "`{}` is yanked{}",
                y.filename,
                y.yanked
                    .as_deref()
                    .filter(|r| !r.is_empty())
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            ),
            None => failed!(
                "the index has {} {} but no wheel for {}",
                pyindex::PROJECT,
                version.pep440(),
                tags.join(" or ")
            ),
        });
    };

    let expected = if let Some((m, w)) = manifest_pin.filter(|(_, w)| w.file == file.filename) {
        if let Some(index_hash) = file.sha256.filter(|h| *h != w.sha256) {
            return Err(failed!(
                "the index's sha256 for `{}` ({index_hash}) is not the one {} pins ({})",
                file.filename,
                m.origin,
                w.sha256
            ));
        }
        Expected::sha256(
            w.sha256,
            DigestSource::Manifest {
                path: m.origin.clone(),
            },
        )
    } else if let Some(lock) = lock {
        let path = lock.file.display().to_string();
        match file.sha256 {
            Some(h) if lock.allows(&h) => {
                Expected::sha256(h, DigestSource::LockFile { path })
            }
            Some(h) => {
                let allowed: Vec<String> = lock.wheels.iter().map(|w| w.sha256.to_hex()).collect();
                return Err(failed!(
                    "the index's `{}` has sha256 {h}, which {path} does not allow ({})",
                    file.filename,
                    allowed.join(", ")
                ));
            }
            None => match lock
                .wheels
                .iter()
                .filter(|w| w.filename.as_ref().is_none_or(|f| *f == file.filename))
                .map(|w| w.sha256)
                .collect::<Vec<_>>()
                .as_slice()
            {
                [only] => Expected::sha256(*only, DigestSource::LockFile { path }),
                _ => {
                    return Err(failed!(
                        "the index gives no sha256 for `{}`, and {path} does not say which of its hashes is this wheel's",
                        file.filename
                    ))
                }
            },
        }
    } else if let Some(h) = file.sha256 {
        Expected::sha256(h, DigestSource::PythonIndex)
    } else {
        return Err(failed!(
            "the index publishes no sha256 for `{}` and nothing pins it; pin it with `codex-bootstrap pin`",
            file.filename
        ));
    };
    Ok(Asset {
        name: file.filename.clone(),
        kind: AssetKind::Wheel,
        size: file
            .size
            .or(manifest_pin.and_then(|(_, w)| w.size.filter(|_| w.file == file.filename))),
        url: file.url.clone(),
        expected,
        source: SourceKind::PythonIndex,
    })
}

async fn npm(inputs: &Inputs<'_>) -> Result<Asset, Failed> {
    let located = match inputs.registries.npm() {
        Location::Found(l) => l,
        Location::Missing(reason) => return Err(reason.clone().into()),
    };
    let packument = npm::packument(inputs.http, &located.url)
        .await
        .map_err(Failed::of)?;
    let tarball = packument
        .tarball(inputs.version, inputs.target)
        .ok_or_else(|| {
            failed!(
                "the registry ({}) has no {}@{}",
                located.url,
                npm::PACKAGE,
                npm::version_key(inputs.version, inputs.target)
            )
        })?;
    let pinned = inputs
        .pin
        .pinned_asset(inputs.version, inputs.target)
        .and_then(|(m, a)| a.npm.as_ref().map(|n| (m, n)))
        .filter(|(_, n)| n.file == tarball.file);
    let (expected, size) = match (pinned, tarball.integrity) {
        (Some((m, n)), registry) => {
            if let Some(r) = registry.filter(|r| *r != n.integrity) {
                return Err(failed!(
                    "the registry's integrity for `{}` ({r}) is not the one {} pins ({})",
                    tarball.file,
                    m.origin,
                    n.integrity
                ));
            }
            (
                Expected {
                    digest: Digest::Sha512(n.integrity),
                    source: DigestSource::Manifest {
                        path: m.origin.clone(),
                    },
                },
                n.size,
            )
        }
        (None, Some(i)) => (
            Expected {
                digest: Digest::Sha512(i),
                source: DigestSource::NpmIntegrity,
            },
            None,
        ),
        (None, None) => {
            return Err(failed!(
                "the registry publishes no sha512 integrity for `{}` and nothing pins it",
                tarball.file
            ))
        }
    };
    Ok(Asset {
        name: tarball.file,
        kind: AssetKind::NpmTarball,
        size,
        url: tarball.url,
        expected,
        source: SourceKind::Npm,
    })
}

/// `latest` through one source: GitHub's latest release, the newest stable non-yanked version
/// on the Python index with a wheel for the target, or npm's `latest` dist-tag.
pub async fn latest(
    inputs: &Inputs<'_>,
    kind: SourceKind,
) -> Result<(CodexVersion, String), Failed> {
    match kind {
        SourceKind::Github | SourceKind::Mirror => {
            let github = Github::new(inputs.http, &inputs.github.api_url);
            let release = github.latest().await.map_err(Failed::of)?;
            let v = CodexVersion::parse(&release.tag_name).map_err(Failed::of)?;
            Ok((v, "GitHub's latest release".into()))
        }
        SourceKind::PythonIndex => {
            let located = inputs
                .registries
                .python_index()
                .found()
                .ok_or("no Python index found")?;
            let files = pyindex::project_files(inputs.http, &located.url)
                .await
                .map_err(Failed::of)?;
            let v = pyindex::newest_stable(&files, &inputs.target.wheel_platform_tags())
                .ok_or("the index has no stable wheel for this target")?;
            Ok((v, "the newest stable version on the Python index".into()))
        }
        SourceKind::Npm => {
            let located = inputs
                .registries
                .npm()
                .found()
                .ok_or("no npm registry found")?;
            let p = npm::packument(inputs.http, &located.url)
                .await
                .map_err(Failed::of)?;
            let v = p
                .latest()
                .ok_or("the packument has no usable `latest` dist-tag")?;
            Ok((v, "npm's `latest` dist-tag".into()))
        }
        SourceKind::Archive => Err(Failed::from("not a network source")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_parses_lists_expands_auto_and_puts_the_mirror_first() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(parse_order(&[], false).unwrap(), AUTO);
        assert_eq!(
            parse_order(&s(&["npm,python-index"]), false).unwrap(),
            [SourceKind::Npm, SourceKind::PythonIndex]
        );
        assert_eq!(
            parse_order(&s(&["npm", "auto"]), true).unwrap(),
            [
                SourceKind::Mirror,
                SourceKind::Npm,
                SourceKind::Github,
                SourceKind::PythonIndex
            ]
        );
        assert!(parse_order(&s(&["ftp"]), false).is_err());
    }

    #[test]
    fn reasons_join_the_chain_once() {
        #[derive(Debug, thiserror::Error)]
        #[error("outer")]
        struct Outer(#[source] std::io::Error);
        let e = Outer(std::io::Error::other("inner"));
        assert_eq!(reason_of(&e), "outer: inner");
    }
}
