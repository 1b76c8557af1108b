//! `codex-runtime.toml`: a runtime version and, per target, what each channel serves for it and
//! the digest it must have.
//!
//! The same format serves a project's pin and the manifest compiled into this binary from
//! `manifests/codex-runtime.toml`. A target with a `sha256` needs no GitHub API request at all;
//! a `wheel` or `npm` entry makes the Python index or npm trusted for nothing but the bytes.
//!
//! ```toml
//! [runtime]
//! version = "0.163.0"          # any accepted spelling; required
//! tag = "rust-v0.163.0"        # optional, derived from the version
//! require_signature = true     # optional: no verified Sigstore signature, no install
//!
//! [targets.x86_64-unknown-linux-musl]
//! asset = "codex-package-x86_64-unknown-linux-musl.tar.zst"   # the GitHub release asset
//! size = 103062127             # optional, bytes
//! sha256 = "9f86d0…"           # 64 hex digits
//! codex_sha256 = "…"           # bin/codex itself: the same in every channel
//! sigstore_bundle = "eyJ…"     # OpenAI's Sigstore bundle for bin/codex, base64 (Linux)
//!
//! [targets.x86_64-unknown-linux-musl.wheel]     # the Python index
//! file = "openai_codex_cli_bin-0.163.0-py3-none-musllinux_1_1_x86_64.whl"
//! size = 159434059
//! sha256 = "…"
//!
//! [targets.x86_64-unknown-linux-musl.npm]       # the npm registry
//! file = "codex-0.163.0-linux-x64.tgz"
//! size = 162055867
//! integrity = "sha512-…"
//!
//! [[targets.x86_64-unknown-linux-musl.other_wheels]]   # the glibc wheel pip and uv choose
//! file = "openai_codex_cli_bin-0.163.0-py3-none-manylinux_2_17_x86_64.whl"
//! size = 142400402
//! sha256 = "…"
//! codex_checked = true         # its bin/codex was hashed when pinned: it is codex_sha256,
//!                              # as its RECORD says
//! ```
//!
//! Every key but `[runtime] version` is optional, so manifests written before the wheel and npm
//! entries existed read as before.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::Hint;
use crate::pin::version::CodexVersion;
use crate::platform::{AssetKind, Target};
use crate::verify::{Sha256, Sha512};

/// The manifest compiled into this binary.
pub(crate) const BUNDLED: &str = include_str!("../../manifests/codex-runtime.toml");
/// How the bundled manifest is named in messages.
pub(crate) const BUNDLED_NAME: &str = "<bundled manifest>";
/// The file name of a project manifest.
pub const FILE_NAME: &str = "codex-runtime.toml";

/// A parsed manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// Where it was read from (a path, or [`BUNDLED_NAME`]).
    pub origin: String,
    pub version: CodexVersion,
    pub tag: String,
    /// The project requires a verified Sigstore signature of `bin/codex` (as
    /// `--require-signature` does: any of them requires one).
    pub require_signature: bool,
    pub targets: BTreeMap<Target, PinnedAsset>,
}

/// One target's pins: the GitHub release asset, the wheel, the npm tarball, and `bin/codex`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PinnedAsset {
    /// The GitHub release asset's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<Sha256>,
    /// The sha256 of the unpacked `bin/codex`: byte-identical in every channel, so it is checked
    /// after every unpack whichever channel served the archive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codex_sha256: Option<Sha256>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wheel: Option<PinnedWheel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub npm: Option<PinnedNpm>,
    /// The target's other wheels on the index: on Linux the manylinux wheel, which pip and uv
    /// choose on glibc and `install --python` installs there.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_wheels: Vec<PinnedWheel>,
    /// OpenAI's Sigstore bundle for `bin/codex` (`codex-<target>.sigstore`, base64 of the file),
    /// recorded by `pin` from the release: it proves the runtime whichever channel serves it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sigstore_bundle: Option<String>,
}

/// The `openai-codex-cli-bin` wheel for a target, as the Python index serves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PinnedWheel {
    pub file: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    pub sha256: Sha256,
    /// `pin` hashed this wheel's `bin/codex` and found it to be the target's `codex_sha256`,
    /// as the wheel's RECORD lists it. An install of exactly these bytes may then take
    /// `bin/codex`'s digest from that RECORD instead of hashing it again
    /// (`install::wheel_hashing`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub codex_checked: bool,
}

/// The `@openai/codex@<v>-<platform>` tarball for a target, as the npm registry serves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PinnedNpm {
    pub file: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    pub integrity: Sha512,
}

impl PinnedAsset {
    /// The pinned Sigstore bundle's bytes (the manifest's parse checked the encoding).
    pub fn sigstore_bundle_bytes(&self) -> Option<Vec<u8>> {
        use base64::Engine as _;
        let text = self.sigstore_bundle.as_deref()?;
        base64::engine::general_purpose::STANDARD.decode(text).ok()
    }

    /// The GitHub asset name and its sha256, when both are pinned.
    pub(crate) fn github_digest(&self) -> Option<(&str, Sha256)> {
        Some((self.asset.as_deref()?, self.sha256?))
    }
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    runtime: RawRuntime,
    #[serde(default)]
    targets: BTreeMap<String, PinnedAsset>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RawRuntime {
    version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tag: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    require_signature: bool,
}

/// A manifest that could not be read or understood.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("could not read manifest `{path}`")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid manifest {origin}, line {line}{key}: {message}")]
    Invalid {
        origin: String,
        line: usize,
        /// `, key `x`` when the offending key is known.
        key: String,
        message: String,
    },
}

impl Hint for ManifestError {
    fn hint(&self) -> Option<String> {
        Some("the format is documented in the user guide (\"Pins and the manifest\", docs/src/pins.md); `codex-bootstrap pin` writes a valid one".to_string())
    }
}

impl Manifest {
    /// The manifest compiled into this binary.
    pub(crate) fn bundled() -> Result<Manifest, ManifestError> {
        Manifest::parse(BUNDLED, BUNDLED_NAME)
    }

    /// Read and parse a manifest file.
    pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Manifest::parse(&text, &path.display().to_string())
    }

    /// Parse manifest text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Manifest, ManifestError> {
        let invalid = |span: Option<std::ops::Range<usize>>, message: String| {
            let at = span.map_or(0, |s| s.start.min(text.len()));
            let line = text[..at].matches('\n').count() + 1;
            let key = text
                .lines()
                .nth(line - 1)
                .and_then(|l| l.split_once('='))
                .map(|(k, _)| format!(", key `{}`", k.trim()))
                .unwrap_or_default();
            ManifestError::Invalid {
                origin: origin.to_string(),
                line,
                key,
                message,
            }
        };
        let raw: RawManifest =
            toml::from_str(text).map_err(|e| invalid(e.span(), e.message().trim().to_string()))?;
        let find = |needle: &str| text.find(needle).map(|i| i..i + needle.len());
        let version = CodexVersion::parse(&raw.runtime.version)
            .map_err(|e| invalid(find(&raw.runtime.version), e.to_string()))?;
        let tag = raw.runtime.tag.clone().unwrap_or_else(|| version.tag());
        if CodexVersion::parse(&tag).ok().as_ref() != Some(&version) {
            return Err(invalid(
                find(&tag),
                format!("tag `{tag}` does not name version {version}"),
            ));
        }
        let mut targets = BTreeMap::new();
        for (name, asset) in raw.targets {
            let target: Target = name
                .parse()
                .map_err(|e: crate::platform::PlatformError| invalid(find(&name), e.to_string()))?;
            if let Some(a) = &asset.asset {
                if AssetKind::from_name(a).is_none() || !a.contains(target.as_str()) {
                    return Err(invalid(
                        find(a),
                        format!("asset `{a}` is not a Codex release asset for `{target}`"),
                    ));
                }
            } else if asset.sha256.is_some() {
                return Err(invalid(
                    find(&name),
                    format!("`{target}` pins a sha256 but names no `asset`"),
                ));
            }
            for w in asset.wheel.iter().chain(&asset.other_wheels) {
                let tags = target.wheel_platform_tags();
                let ok = w.file.starts_with("openai_codex_cli_bin-")
                    && w.file.ends_with(".whl")
                    && tags
                        .iter()
                        .any(|t| crate::platform::wheel_has_platform(&w.file, t));
                if !ok {
                    return Err(invalid(
                        find(&w.file),
                        format!(
                            "wheel `{}` is not an openai-codex-cli-bin wheel for `{target}` ({})",
                            w.file,
                            tags.join(" or ")
                        ),
                    ));
                }
                if w.codex_checked && asset.codex_sha256.is_none() {
                    return Err(invalid(
                        find(&w.file),
                        format!(
                            "wheel `{}` says `codex_checked` but `{target}` pins no `codex_sha256` it was checked against",
                            w.file
                        ),
                    ));
                }
            }
            if let Some(n) = &asset.npm {
                let ok = n.file.ends_with(&format!("-{}.tgz", target.npm_platform()));
                if !ok {
                    return Err(invalid(
                        find(&n.file),
                        format!(
                            "npm tarball `{}` is not the `{}` package for `{target}`",
                            n.file,
                            target.npm_platform()
                        ),
                    ));
                }
            }
            if let Some(b) = &asset.sigstore_bundle {
                if asset.sigstore_bundle_bytes().is_none() {
                    return Err(invalid(
                        find(b),
                        format!("`sigstore_bundle` of `{target}` is not base64"),
                    ));
                }
            }
            targets.insert(target, asset);
        }
        Ok(Manifest {
            origin: origin.to_string(),
            version,
            tag,
            require_signature: raw.runtime.require_signature,
            targets,
        })
    }

    /// Render as TOML (what `codex-bootstrap pin` writes).
    pub fn to_toml(&self) -> String {
        let raw = RawManifest {
            runtime: RawRuntime {
                version: self.version.to_string(),
                tag: Some(self.tag.clone()),
                require_signature: self.require_signature,
            },
            targets: self
                .targets
                .iter()
                .map(|(t, a)| (t.to_string(), a.clone()))
                .collect(),
        };
        let body = toml::to_string(&raw).unwrap_or_default();
        format!(
            "# Written by codex-bootstrap {}: the Codex runtime this project uses.\n\
             # Each channel's file is pinned by digest, and bin/codex by its sha256; with a GitHub\n\
             # `sha256` per target, `codex-bootstrap install` makes no GitHub API request.\n\n{body}",
            env!("CARGO_PKG_VERSION")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_manifest_pins_0_163_0() {
        let m = Manifest::bundled().unwrap();
        assert_eq!(m.version.to_string(), "0.163.0");
        assert_eq!(m.tag, "rust-v0.163.0");
    }

    #[test]
    fn full_manifest_round_trips() {
        let d = Sha256::of(b"x");
        let text = format!(
            "[runtime]\nversion = \"0.154.0a6\"\n\n[targets.x86_64-unknown-linux-musl]\nasset = \"codex-package-x86_64-unknown-linux-musl.tar.gz\"\nsize = 12\nsha256 = \"{d}\"\n"
        );
        let m = Manifest::parse(&text, "t.toml").unwrap();
        assert_eq!(m.tag, "rust-v0.154.0-alpha.6");
        let t: Target = "x86_64-unknown-linux-musl".parse().unwrap();
        assert_eq!(m.targets[&t].sha256, Some(d));
        let again = Manifest::parse(&m.to_toml(), "t.toml").unwrap();
        assert_eq!(again, m);
    }

    #[test]
    fn require_signature_is_read_written_and_off_by_default() {
        let m = Manifest::parse("[runtime]\nversion = \"0.163.0\"\n", "t.toml").unwrap();
        assert!(!m.require_signature);
        assert!(!m.to_toml().contains("require_signature"));
        let text = "[runtime]\nversion = \"0.163.0\"\nrequire_signature = true\n";
        let m = Manifest::parse(text, "t.toml").unwrap();
        assert!(m.require_signature);
        assert!(m.to_toml().contains("require_signature = true"));
        assert_eq!(Manifest::parse(&m.to_toml(), "t.toml").unwrap(), m);
        let e = error_of("[runtime]\nversion = \"0.163.0\"\nrequire_signature = \"yes\"\n");
        assert!(e.contains("line 3, key `require_signature`"), "{e}");
    }

    #[test]
    fn a_pinned_bundle_must_be_base64() {
        let t = "x86_64-unknown-linux-musl";
        let m = Manifest::parse(
            &format!(
                "[runtime]\nversion = \"0.163.0\"\n[targets.{t}]\nsigstore_bundle = \"e30=\"\n"
            ),
            "t.toml",
        )
        .unwrap();
        let target: Target = t.parse().unwrap();
        assert_eq!(m.targets[&target].sigstore_bundle_bytes().unwrap(), b"{}");
        assert_eq!(Manifest::parse(&m.to_toml(), "t.toml").unwrap(), m);
        let e = error_of(&format!(
            "[runtime]\nversion = \"0.163.0\"\n[targets.{t}]\nsigstore_bundle = \"not base64!\"\n"
        ));
        assert!(e.contains("line 4") && e.contains("is not base64"), "{e}");
    }

    #[test]
    fn codex_checked_is_read_written_and_needs_the_codex_sha256_it_was_checked_against() {
        let t = "x86_64-unknown-linux-musl";
        let wheel = format!(
            "[targets.{t}.wheel]\nfile = \"openai_codex_cli_bin-0.163.0-py3-none-musllinux_1_1_x86_64.whl\"\nsha256 = \"{}\"\ncodex_checked = true\n",
            Sha256::of(b"wheel")
        );
        let text = format!(
            "[runtime]\nversion = \"0.163.0\"\n[targets.{t}]\ncodex_sha256 = \"{}\"\n{wheel}",
            Sha256::of(b"codex")
        );
        let m = Manifest::parse(&text, "t.toml").unwrap();
        let target: Target = t.parse().unwrap();
        assert!(m.targets[&target].wheel.as_ref().unwrap().codex_checked);
        assert!(m.to_toml().contains("codex_checked = true"));
        assert_eq!(Manifest::parse(&m.to_toml(), "t.toml").unwrap(), m);
        // Absent means not checked, and is not written.
        let unchecked = text.replace("codex_checked = true\n", "");
        let m = Manifest::parse(&unchecked, "t.toml").unwrap();
        assert!(!m.targets[&target].wheel.as_ref().unwrap().codex_checked);
        assert!(!m.to_toml().contains("codex_checked"));
        // Checked against nothing: refused, naming the wheel.
        let e = error_of(&format!("[runtime]\nversion = \"0.163.0\"\n{wheel}"));
        assert!(
            e.contains("says `codex_checked` but") && e.contains("musllinux_1_1_x86_64.whl"),
            "{e}"
        );
    }

    fn error_of(text: &str) -> String {
        Manifest::parse(text, "p/codex-runtime.toml")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let e = error_of("[runtime]\nversion = \"0.163.0\"\ncolour = \"red\"\n");
        assert!(e.contains("p/codex-runtime.toml, line 3"), "{e}");
        assert!(e.contains("colour"), "{e}");

        let e = error_of(
            "[runtime]\nversion = \"0.163.0\"\n[targets.x86_64-unknown-linux-musl]\nasset = \"codex-package-x86_64-unknown-linux-musl.tar.gz\"\nsha256 = \"nothex\"\n",
        );
        assert!(e.contains("line 5, key `sha256`"), "{e}");

        let e = error_of("[runtime]\nversion = \"0.163\"\n");
        assert!(e.contains("line 2, key `version`"), "{e}");

        let e = error_of("[runtime]\nversion = \"0.163.0\"\n[targets.sparc-sun-solaris]\nasset = \"codex-package-x.tar.gz\"\n");
        assert!(
            e.contains("line 3") && e.contains("sparc-sun-solaris"),
            "{e}"
        );

        let e = error_of("[runtime\n");
        assert!(e.contains("line 1"), "{e}");

        let e = error_of("[runtime]\nversion = \"0.163.0\"\ntag = \"rust-v0.1.0\"\n");
        assert!(e.contains("line 3, key `tag`"), "{e}");

        let e = error_of("[runtime]\nversion = \"0.163.0\"\n[targets.x86_64-unknown-linux-musl]\nasset = \"evil.sh\"\n");
        assert!(e.contains("line 4, key `asset`"), "{e}");
    }
}
