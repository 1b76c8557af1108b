//! How pins compose: every pin on every file of one version and target, from the project's
//! manifest and lock files and the bundled manifest; which apply to a file; which cannot hold
//! together; and the concrete digests a candidate must match once its channel has spoken.

use std::fmt;
use std::path::Path;

use super::build::Inputs;
use super::{CodexPin, Expectation, Pins, PlanError};
use crate::pin::{PinVia, WheelPins};
use crate::platform::{wheel_has_platform, AssetKind};
use crate::verify::{Digest, DigestSource, Expectations, Expected};

/// What a pin is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PinnedKind {
    /// A GitHub release asset.
    Asset,
    Wheel,
    Npm,
}

impl PinnedKind {
    pub(super) fn asset_kind(self) -> AssetKind {
        match self {
            PinnedKind::Wheel => AssetKind::Wheel,
            PinnedKind::Npm => AssetKind::NpmTarball,
            PinnedKind::Asset => AssetKind::PackageTarZst,
        }
    }
}

/// Which level a pin is written at: a project's pins override the bundled manifest's for the
/// files they cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Level {
    Project,
    Bundled,
}

/// One pin on one file (or, from a requirements file, on any wheel of the version).
#[derive(Debug, Clone)]
pub(super) struct FilePin {
    pub(super) kind: PinnedKind,
    /// Empty for a requirements file's hashes: they may belong to any of the version's wheels.
    pub(super) file: String,
    pub(super) asset_kind: AssetKind,
    pub(super) url: Option<String>,
    pub(super) size: Option<u64>,
    pub(super) level: Level,
    pub(super) expect: Expectation,
}

/// Every pin that applies to the plan's version and target.
pub(super) struct FilePins {
    pub(super) assets: Vec<FilePin>,
    pub(super) wheels: Vec<FilePin>,
    pub(super) npm: Vec<FilePin>,
    pub(super) codex: Option<CodexPin>,
    pub(super) warnings: Vec<String>,
}

impl FilePins {
    pub(super) fn collect(inputs: &Inputs<'_>) -> Result<FilePins, PlanError> {
        let mut pins = FilePins {
            assets: Vec::new(),
            wheels: Vec::new(),
            npm: Vec::new(),
            codex: None,
            warnings: Vec::new(),
        };
        if inputs.pins == Pins::ChannelsOnly {
            return Ok(pins);
        }
        let (version, target) = (inputs.version, inputs.target);
        let project_manifest = inputs.pin.project.as_ref().and_then(|p| match &p.via {
            PinVia::Manifest(m) => Some(m.as_ref()),
            PinVia::Python { .. } | PinVia::Node { .. } => None,
        });
        for (manifest, level) in project_manifest
            .map(|m| (m, Level::Project))
            .into_iter()
            .chain(std::iter::once((&inputs.pin.bundled, Level::Bundled)))
        {
            if &manifest.version != version {
                if level == Level::Project {
                    pins.warnings.push(format!(
                        "`{}` pins codex {}, not {version}: its digests do not apply",
                        manifest.origin, manifest.version
                    ));
                }
                continue;
            }
            let Some(entry) = manifest.targets.get(target) else {
                continue;
            };
            let from = || DigestSource::Manifest {
                path: manifest.origin.clone(),
            };
            if let Some((name, sha256)) = entry.github_digest() {
                pins.assets.push(FilePin {
                    kind: PinnedKind::Asset,
                    file: name.to_string(),
                    asset_kind: AssetKind::from_name(name).unwrap_or(AssetKind::PackageTarGz),
                    url: None,
                    size: entry.size,
                    level,
                    expect: Expectation::one(Digest::Sha256(sha256), from()),
                });
            }
            for w in entry.wheel.iter().chain(&entry.other_wheels) {
                pins.wheels.push(FilePin {
                    kind: PinnedKind::Wheel,
                    file: w.file.clone(),
                    asset_kind: AssetKind::Wheel,
                    url: None,
                    size: w.size,
                    level,
                    expect: Expectation::one(Digest::Sha256(w.sha256), from()),
                });
            }
            if let Some(n) = &entry.npm {
                pins.npm.push(FilePin {
                    kind: PinnedKind::Npm,
                    file: n.file.clone(),
                    asset_kind: AssetKind::NpmTarball,
                    url: None,
                    size: n.size,
                    level,
                    expect: Expectation::one(Digest::Sha512(n.integrity), from()),
                });
            }
            if pins.codex.is_none() {
                pins.codex = entry.codex_sha256.map(|sha256| CodexPin {
                    sha256,
                    from: manifest.origin.clone(),
                    checked_wheels: entry
                        .wheel
                        .iter()
                        .chain(&entry.other_wheels)
                        .filter(|w| w.codex_checked)
                        .map(|w| w.sha256)
                        .collect(),
                });
            }
        }
        if let Some(project) = &inputs.pin.project {
            for lock in &project.wheel_pins {
                if &lock.version != version {
                    pins.warnings.push(format!(
                        "`{}` locks openai-codex-cli-bin {}, not {}: its hashes do not apply",
                        lock.file.display(),
                        lock.version.pep440(),
                        version.pep440()
                    ));
                    continue;
                }
                pins.add_lock(lock, &inputs.wheel_tags);
            }
        }
        for lock in &inputs.pin.npm_locks {
            if lock.platform != target.npm_platform() {
                continue;
            }
            if &lock.version != version {
                pins.warnings.push(format!(
                    "`{}` locks @openai/codex {}, not {version}: its integrity does not apply",
                    lock.file.display(),
                    lock.version
                ));
                continue;
            }
            pins.npm.push(FilePin {
                kind: PinnedKind::Npm,
                file: super::npm_tarball_file(version, target),
                asset_kind: AssetKind::NpmTarball,
                url: None,
                size: None,
                level: Level::Project,
                expect: Expectation::one(
                    Digest::Sha512(lock.integrity),
                    DigestSource::LockFile {
                        path: lock.file.display().to_string(),
                    },
                ),
            });
        }
        pins.check_conflicts(&inputs.wheel_tags)?;
        Ok(pins)
    }

    /// A lock file's wheels: from `uv.lock`, each with its file name and URL; from a
    /// requirements file, digests that may belong to any wheel of the version.
    fn add_lock(&mut self, lock: &WheelPins, tags: &[String]) {
        let from = DigestSource::LockFile {
            path: lock.file.display().to_string(),
        };
        let named: Vec<_> = lock
            .wheels
            .iter()
            .filter(|w| w.filename.is_some())
            .collect();
        if named.is_empty() {
            self.wheels.push(FilePin {
                kind: PinnedKind::Wheel,
                file: String::new(),
                asset_kind: AssetKind::Wheel,
                url: None,
                size: None,
                level: Level::Project,
                expect: Expectation {
                    any_of: lock
                        .wheels
                        .iter()
                        .map(|w| Digest::Sha256(w.sha256))
                        .collect(),
                    from,
                },
            });
            return;
        }
        let mut any_here = false;
        for w in named {
            let file = w.filename.clone().unwrap_or_default();
            any_here |= tags.iter().any(|t| wheel_has_platform(&file, t));
            self.wheels.push(FilePin {
                kind: PinnedKind::Wheel,
                file,
                asset_kind: AssetKind::Wheel,
                url: w.url.clone(),
                size: w.size,
                level: Level::Project,
                expect: Expectation::one(Digest::Sha256(w.sha256), from.clone()),
            });
        }
        if !any_here {
            self.warnings.push(format!(
                "`{}` locks no openai-codex-cli-bin {} wheel for {}: its hashes cannot pin this install",
                lock.file.display(),
                lock.version.pep440(),
                tags.join(" or ")
            ));
        }
    }

    fn list(&self, kind: PinnedKind) -> &[FilePin] {
        match kind {
            PinnedKind::Asset => &self.assets,
            PinnedKind::Wheel => &self.wheels,
            PinnedKind::Npm => &self.npm,
        }
    }

    /// The pins that apply to one file: the project's when any covers it, else the bundled
    /// manifest's.
    pub(super) fn for_file(&self, kind: PinnedKind, file: &str) -> Vec<&FilePin> {
        let covers =
            |p: &&FilePin| p.file == file || (kind == PinnedKind::Wheel && p.file.is_empty());
        let project: Vec<&FilePin> = self
            .list(kind)
            .iter()
            .filter(covers)
            .filter(|p| p.level == Level::Project)
            .collect();
        if !project.is_empty() {
            return project;
        }
        self.list(kind).iter().filter(covers).collect()
    }

    /// The pins that apply to whichever wheel the index lists when no pin names one:
    /// digest-only lock pins.
    pub(super) fn for_any_wheel(&self) -> Vec<&FilePin> {
        self.wheels.iter().filter(|p| p.file.is_empty()).collect()
    }

    /// The wheel file a pin names for `tag`: the project's; else, unless the project's
    /// digest-only pins cover every wheel, the bundled manifest's.
    pub(super) fn named_wheel(&self, tag: &str) -> Option<&FilePin> {
        let named = |level| {
            self.wheels.iter().find(|p| {
                !p.file.is_empty() && p.level == level && wheel_has_platform(&p.file, tag)
            })
        };
        let project_covers_all = self
            .wheels
            .iter()
            .any(|p| p.file.is_empty() && p.level == Level::Project);
        named(Level::Project).or_else(|| {
            if project_covers_all {
                None
            } else {
                named(Level::Bundled)
            }
        })
    }

    /// A lock file's wheel for `tag` with its URL.
    pub(super) fn locked_url(&self, tag: &str) -> Option<&FilePin> {
        self.wheels
            .iter()
            .find(|p| p.url.is_some() && wheel_has_platform(&p.file, tag))
    }

    /// Pins at the same level on the same file must be able to hold together.
    fn check_conflicts(&self, tags: &[String]) -> Result<(), PlanError> {
        for list in [&self.assets, &self.wheels, &self.npm] {
            for (i, a) in list.iter().enumerate() {
                for b in &list[i + 1..] {
                    let same_file = a.file == b.file
                        || (a.kind == PinnedKind::Wheel
                            && (a.file.is_empty() || b.file.is_empty())
                            && tags.iter().any(|t| {
                                wheel_has_platform(&a.file, t) || wheel_has_platform(&b.file, t)
                            }));
                    if a.level != b.level || !same_file || a.expect.from == b.expect.from {
                        continue;
                    }
                    let comparable = a.expect.any_of.iter().any(|x| {
                        b.expect
                            .any_of
                            .iter()
                            .any(|y| x.is_sha512() == y.is_sha512())
                    });
                    let agree = a.expect.any_of.iter().any(|x| b.expect.any_of.contains(x));
                    if comparable && !agree {
                        let file = if a.file.is_empty() { &b.file } else { &a.file };
                        return Err(PlanError::Conflict {
                            file: file.clone(),
                            first: describe_pin(&a.expect),
                            second: describe_pin(&b.expect),
                        });
                    }
                }
            }
        }
        Ok(())
    }
}

/// `` `uv.lock` line 12 pins sha256 … `` (the line found by the digest it writes).
fn describe_pin(e: &Expectation) -> String {
    let path = match &e.from {
        DigestSource::Manifest { path } | DigestSource::LockFile { path } => path.clone(),
        other => other.to_string(),
    };
    let digests: Vec<String> = e.any_of.iter().map(|d| d.to_string()).collect();
    let line = e
        .any_of
        .iter()
        .find_map(|d| line_of(Path::new(&path), &digest_text(d)))
        .map(|l| format!(" line {l}"))
        .unwrap_or_default();
    format!("`{path}`{line} pins {}", digests.join(" or "))
}

/// The digest as files write it: hex for sha256, base64 for sha512.
fn digest_text(d: &Digest) -> String {
    match d {
        Digest::Sha256(s) => s.to_hex(),
        Digest::Sha512(s) => s.to_integrity(),
    }
}

/// The 1-based line of `path` that holds `needle`.
fn line_of(path: &Path, needle: &str) -> Option<usize> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines()
        .position(|l| {
            l.to_ascii_lowercase()
                .contains(&needle.to_ascii_lowercase())
        })
        .map(|i| i + 1)
}

/// The concrete expectations of a candidate, once its name and the channel's digest are known:
/// every pin narrowed to the digest it allows, then the channel's. A pin that allows none of
/// the channel's digests is the error (an integrity verdict, before any download).
pub fn expectations(
    pins: &[Expectation],
    channel: Option<Expected>,
) -> Result<Option<Expectations>, Box<ChannelDisagrees>> {
    let known = channel.as_ref().map(|c| c.digest);
    let mut out: Vec<Expected> = Vec::new();
    for p in pins {
        match p.narrow(known.as_ref()) {
            Some(e) => out.push(e),
            None => {
                return Err(Box::new(ChannelDisagrees {
                    pin: p.clone(),
                    channel: channel.clone(),
                }))
            }
        }
    }
    if let Some(c) = channel {
        for p in &out {
            if p.digest.is_sha512() == c.digest.is_sha512() && p.digest != c.digest {
                return Err(Box::new(ChannelDisagrees {
                    pin: Expectation::one(p.digest, p.source.clone()),
                    channel: Some(c),
                }));
            }
        }
        out.push(c);
    }
    Ok(Expectations::from_vec(out))
}

/// A channel publishes a digest that a pin does not allow (or, with several digests to choose
/// from and none published, the pin cannot say which is this file's).
#[derive(Debug, Clone)]
pub struct ChannelDisagrees {
    pub pin: Expectation,
    pub channel: Option<Expected>,
}

impl fmt::Display for ChannelDisagrees {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pinned: Vec<String> = self.pin.any_of.iter().map(|d| d.to_string()).collect();
        match &self.channel {
            Some(c) => write!(
                f,
                "{} gives {}, which {} does not allow ({})",
                c.source,
                c.digest,
                self.pin.from,
                pinned.join(", ")
            ),
            None => write!(
                f,
                "nothing says which of the {} digests of {} is this file's",
                pinned.len(),
                self.pin.from
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::Sha256;

    fn sha(s: &str) -> Digest {
        Digest::Sha256(Sha256::of(s.as_bytes()))
    }

    #[test]
    fn a_pin_narrows_to_the_channels_digest_or_refuses_it() {
        let lock = DigestSource::LockFile {
            path: "requirements.txt".into(),
        };
        let set = Expectation {
            any_of: vec![sha("a"), sha("b")],
            from: lock.clone(),
        };
        let index = |d| {
            Some(Expected {
                digest: d,
                source: DigestSource::PythonIndex,
            })
        };
        let e = expectations(std::slice::from_ref(&set), index(sha("b")))
            .unwrap()
            .unwrap();
        assert_eq!(e.all().len(), 2);
        assert_eq!(e.primary().source, lock);
        assert!(expectations(std::slice::from_ref(&set), index(sha("c"))).is_err());
        assert!(
            expectations(std::slice::from_ref(&set), None).is_err(),
            "which of two?"
        );
        let one = Expectation::one(sha("a"), lock);
        assert!(expectations(std::slice::from_ref(&one), index(sha("c"))).is_err());
        assert!(expectations(&[], None).unwrap().is_none());
    }
}
