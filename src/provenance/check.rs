//! The install's provenance step: find the bundle for a runtime's `bin/codex`, check it, and
//! say what was found, before the store makes the runtime visible.
//!
//! Bundles are small files beside the release's archives (`codex-<target>.sigstore`): a
//! `--mirror` is asked first, then GitHub's release downloads, whichever source served the
//! archive (the signed bytes are the `bin/codex` every channel carries). A bundle that is found
//! decides: it proves the bytes or the install is refused. None found (GitHub unreachable, a
//! target OpenAI signs with platform code signing instead) is reported as such, and refused only
//! when a signature is required.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{verify, ProvenanceError, Signer, Subject, TrustRoot, Verified};
use crate::net::Http;
use crate::pin::CodexVersion;
use crate::platform::Target;
use crate::verify::Sha256;

/// Bundles are a few KiB; anything far larger is not one.
const BUNDLE_LIMIT: usize = 1 << 20;

/// The environment variable that requires a verified signature (`--require-signature`).
pub const REQUIRE_ENV: &str = "CODEX_BOOTSTRAP_REQUIRE_SIGNATURE";
/// The environment variable naming a trusted root (`--trusted-root`).
pub const TRUSTED_ROOT_ENV: &str = "CODEX_BOOTSTRAP_TRUSTED_ROOT";

/// What the user asked of signatures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignaturePolicy {
    /// No verified signature, no install.
    pub require: bool,
    /// The project manifest that requires one (`require_signature = true`), when one does.
    pub required_by: Option<String>,
    /// A `trusted_root.json` instead of the embedded one.
    pub trusted_root: Option<PathBuf>,
}

/// Where the bundle for one runtime may be, in the order they are asked; empty with the reason
/// when OpenAI publishes none for the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleSources {
    /// A bundle a manifest pins (`sigstore_bundle`): where, and its bytes. Checked first.
    pub pinned: Option<(String, Vec<u8>)>,
    pub urls: Vec<String>,
    /// Why there is no URL to ask, when there is none.
    pub none_because: Option<String>,
}

impl BundleSources {
    /// `{base}/rust-v<V>/codex-<target>.sigstore` for each download base (a mirror's first).
    /// OpenAI signs the Linux binaries only; macOS and Windows builds carry the platform's
    /// own code signature (notarization, Authenticode) instead.
    pub fn for_release(version: &CodexVersion, target: &Target, bases: &[&str]) -> BundleSources {
        if !target.as_str().contains("-linux-") {
            return BundleSources {
                pinned: None,
                urls: Vec::new(),
                none_because: Some(format!(
                    "OpenAI publishes no Sigstore bundle for {target} builds (they carry the platform's own code signature)"
                )),
            };
        }
        let name = format!("codex-{target}.sigstore");
        BundleSources {
            pinned: None,
            urls: bases
                .iter()
                .map(|b| format!("{}/{}/{name}", b.trim_end_matches('/'), version.tag()))
                .collect(),
            none_because: None,
        }
    }
}

/// What the receipt, `install --json` and the human report say about the signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureRecord {
    pub verified: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_index: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integrated_time: Option<String>,
    /// The URL (or file) the bundle was read from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle_from: Option<String>,
    /// The file the signature is over, relative to the runtime directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Why there is no verified signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl SignatureRecord {
    fn verified(v: Verified, bundle_from: &str, file: &str) -> SignatureRecord {
        SignatureRecord {
            verified: true,
            identity: v.identity,
            issuer: v.issuer,
            log_index: v.log_index,
            integrated_time: v.integrated_time,
            bundle_from: Some(bundle_from.to_string()),
            file: Some(file.to_string()),
            reason: None,
        }
    }

    fn absent(reason: String) -> SignatureRecord {
        SignatureRecord {
            verified: false,
            identity: None,
            issuer: None,
            log_index: None,
            integrated_time: None,
            bundle_from: None,
            file: None,
            reason: Some(reason),
        }
    }
}

/// What the install's provenance step found: the record, and the bundle that proved the bytes
/// (kept in the receipt, so `doctor` and `install --verify` can check it again offline).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub record: SignatureRecord,
    /// The bundle's text, when one proved the bytes.
    pub bundle: Option<String>,
}

/// Find the bundle for `file` (whose sha256 is `sha256`) and check it: a record of what was
/// verified, or of why nothing could be; an error when a bundle does not prove the bytes, or
/// when none does and one is required.
pub async fn check(
    http: &Http,
    sources: &BundleSources,
    file: &str,
    sha256: &Sha256,
    signer: &Signer,
    policy: &SignaturePolicy,
) -> Result<Checked, ProvenanceError> {
    let found = find(http, sources).await;
    judge(&found, file, sha256, signer, policy)
}

/// What [`find`] found: the first bundle there is and where, and why each place asked before
/// it had none.
#[derive(Debug, Clone)]
pub struct Found {
    bundle: Option<(String, Vec<u8>)>,
    misses: Vec<String>,
}

/// Look for the bundle in `sources`, in order, until one is there. It needs nothing of the
/// file it will be checked against, so an install asks while the archive downloads.
pub async fn find(http: &Http, sources: &BundleSources) -> Found {
    if let Some(pinned) = &sources.pinned {
        return Found {
            bundle: Some(pinned.clone()),
            misses: Vec::new(),
        };
    }
    let mut misses: Vec<String> = sources.none_because.iter().cloned().collect();
    for url in &sources.urls {
        match fetch(http, url).await {
            Ok(Some(bytes)) => {
                return Found {
                    bundle: Some((url.clone(), bytes)),
                    misses,
                }
            }
            Ok(None) => misses.push(format!("{url} has no bundle")),
            Err(why) => misses.push(format!("{url}: {why}")),
        }
    }
    Found {
        bundle: None,
        misses,
    }
}

/// Check what [`find`] found against `file`, whose sha256 is `sha256`: a bundle found decides
/// (it proves the bytes or is an error); none found is recorded with why, and refused when a
/// signature is required.
pub fn judge(
    found: &Found,
    file: &str,
    sha256: &Sha256,
    signer: &Signer,
    policy: &SignaturePolicy,
) -> Result<Checked, ProvenanceError> {
    if let Some((origin, bytes)) = &found.bundle {
        let root = TrustRoot::load(policy.trusted_root.as_deref())?;
        let verified = verify(bytes, Subject::Sha256(sha256), signer, &root)?;
        tracing::debug!(%origin, identity = ?verified.identity, "signature verified");
        return Ok(Checked {
            record: SignatureRecord::verified(verified, origin, file),
            // It parsed as JSON, so it is UTF-8.
            bundle: Some(String::from_utf8_lossy(bytes).into_owned()),
        });
    }
    let reason = if found.misses.is_empty() {
        "no place to look for a signature bundle".to_string()
    } else {
        format!("no signature bundle found ({})", found.misses.join("; "))
    };
    if policy.require {
        return Err(required(reason, policy));
    }
    Ok(Checked {
        record: SignatureRecord::absent(reason),
        bundle: None,
    })
}

fn required(reason: String, policy: &SignaturePolicy) -> ProvenanceError {
    let by = match &policy.required_by {
        Some(file) => format!("`require_signature = true` in {file}"),
        None => format!("--require-signature or {REQUIRE_ENV}"),
    };
    ProvenanceError::Required { reason, by }
}

/// Check an installed runtime's signature again, offline: the bundle its receipt kept (`bundle`,
/// with the install's `record`), over `sha256` (the file as it is now), against the trusted root
/// in effect. A receipt that kept no bundle has nothing to check: the record says why, and
/// a required signature refuses.
pub fn recheck(
    record: Option<&SignatureRecord>,
    bundle: Option<&str>,
    sha256: &Sha256,
    signer: &Signer,
    policy: &SignaturePolicy,
) -> Result<SignatureRecord, ProvenanceError> {
    let Some(bundle) = bundle else {
        let reason = match record {
            Some(r) if r.verified => {
                "the receipt keeps no signature bundle (installed by an older codex-bootstrap)"
                    .to_string()
            }
            Some(r) => r
                .reason
                .clone()
                .unwrap_or_else(|| "no signature was verified at install".into()),
            None => "installed before signatures were checked".into(),
        };
        if policy.require {
            return Err(required(reason, policy));
        }
        return Ok(SignatureRecord::absent(reason));
    };
    let root = TrustRoot::load(policy.trusted_root.as_deref())?;
    let verified = verify(bundle.as_bytes(), Subject::Sha256(sha256), signer, &root)?;
    let from = record
        .and_then(|r| r.bundle_from.clone())
        .unwrap_or_default();
    let file = record
        .and_then(|r| r.file.clone())
        .unwrap_or_else(|| "bin/codex".into());
    Ok(SignatureRecord::verified(verified, &from, &file))
}

/// The bundle's bytes, `None` when the place has none (404, no such file).
/// A place that cannot be read says why, for the report; it never fails the install itself.
async fn fetch(http: &Http, url: &str) -> Result<Option<Vec<u8>>, String> {
    if let Some(path) = crate::net::local_path(url) {
        return match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.to_string()),
        };
    }
    let parsed = http.url(url).map_err(|e| e.to_string())?;
    let (status, _, body) = http
        .get_small(&parsed, false, BUNDLE_LIMIT)
        .await
        .map_err(|e| crate::net::client::log_reason(&e))?;
    match status {
        200 => Ok(Some(body)),
        404 | 410 => Ok(None),
        status => Err(format!("HTTP {status}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linux_bundles_come_from_each_base_in_order() {
        let v = CodexVersion::parse("0.147.0").unwrap();
        let t: Target = "x86_64-unknown-linux-musl".parse().unwrap();
        let s = BundleSources::for_release(&v, &t, &["file:///m/", "https://dl.example/releases"]);
        assert_eq!(
            s.urls,
            [
                "file:///m/rust-v0.147.0/codex-x86_64-unknown-linux-musl.sigstore",
                "https://dl.example/releases/rust-v0.147.0/codex-x86_64-unknown-linux-musl.sigstore"
            ]
        );
    }

    #[test]
    fn macos_and_windows_have_none_and_say_why() {
        let v = CodexVersion::parse("0.147.0").unwrap();
        for t in ["aarch64-apple-darwin", "x86_64-pc-windows-msvc"] {
            let s = BundleSources::for_release(&v, &t.parse().unwrap(), &["https://x"]);
            assert!(s.urls.is_empty());
            assert!(s.none_because.unwrap().contains("code signature"));
        }
    }
}
