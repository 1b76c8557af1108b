//! Provenance: does a Sigstore bundle prove that these bytes are the ones a given signer signed?
//!
//! OpenAI's release workflow signs the Linux `codex` binary with keyless cosign (DESIGN.md,
//! "Provenance"). This module answers, offline, for one file and one bundle: the certificate
//! chains to the trusted root's Fulcio CA and was valid when the log integrated the entry; its
//! SCT verifies against the root's CT log keys; the transparency-log entry verifies (its signed
//! entry timestamp, and the inclusion proof and checkpoint where the bundle has them); the
//! signature verifies over the file's sha256; the certificate names the expected identity (SAN),
//! OIDC issuer and the source-repository and ref claims. All of it is required: there is no
//! policy that skips a step.
//!
//! Every check is `sigstore-verify`'s (sigstore/sigstore-rust, whose CI runs the
//! sigstore-conformance suite, as `tests/it/sigstore_conformance.rs` does through this module).
//! Ours is only the mapping: the legacy cosign bundle onto the standard one ([`legacy`]), the
//! expected signer for a Codex release ([`Signer::codex_release`]), the CI claims the crate
//! reads but does not match, and the trust root ([`TrustRoot`]): Sigstore's production
//! `trusted_root.json`, embedded (`scripts/refresh-trusted-root` refreshes it), or a file the
//! user names, as `cosign --trusted-root` does. Nothing here touches the network.
//!
//! Bundle formats: the legacy cosign bundle (`base64Signature`, `cert`, `rekorBundle`: what
//! cosign 2.x writes) and the standard Sigstore bundle v0.1 to v0.3 (`mediaType` names it),
//! message signatures and DSSE envelopes alike.

mod check;
mod legacy;

pub use check::{
    check, find, judge, recheck, BundleSources, Checked, Found, SignaturePolicy, SignatureRecord,
    REQUIRE_ENV, TRUSTED_ROOT_ENV,
};

use std::fmt;
use std::path::Path;

use serde_json::Value;
use sigstore_verify::crypto::FulcioCiClaims;
use sigstore_verify::trust_root::TrustedRoot;
use sigstore_verify::types::{Bundle, DerPublicKey, Sha256Hash};
use sigstore_verify::{PublicKeyVerificationPolicy, VerificationPolicy, Verifier};

use crate::error::Hint;
use crate::pin::CodexVersion;
use crate::verify::Sha256;

/// Sigstore's production trusted root (Fulcio CAs, Rekor and CT log keys, timestamp
/// authorities), as its TUF repository serves it; `scripts/refresh-trusted-root` refreshes it.
pub const PRODUCTION_TRUSTED_ROOT: &str = include_str!("trusted_root.json");

/// The OIDC issuer of GitHub Actions' workload identity tokens.
pub const GITHUB_ACTIONS_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// Why a bundle proves nothing, or the trust root could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ProvenanceError {
    /// The bundle is not a Sigstore bundle we can read: not JSON, neither format, bad encodings.
    #[error("the signature bundle is malformed: {reason}")]
    Malformed { reason: String },
    /// A readable bundle that does not prove these bytes came from the expected signer.
    #[error("the signature does not prove these bytes: {reason} (signed by {found}; expected {expected})")]
    Refused {
        reason: String,
        /// The identity the bundle's certificate names, or what stands in for it.
        found: String,
        expected: String,
    },
    /// No bundle proved the bytes, and a verified signature is required.
    #[error("no verified signature, and one is required: {reason}")]
    Required {
        reason: String,
        /// What requires it: the flag or environment, or a project manifest.
        by: String,
    },
    /// The trusted root could not be read or used.
    #[error("the Sigstore trusted root ({origin}) is unusable: {reason}")]
    TrustRoot { origin: String, reason: String },
}

impl Hint for ProvenanceError {
    fn hint(&self) -> Option<String> {
        Some(match self {
            ProvenanceError::Malformed { .. } | ProvenanceError::Refused { .. } => {
                "these bytes are not the ones OpenAI's release workflow signed: do not use them; \
                 install from another source (`--source`), and report the one that served them"
                    .into()
            }
            ProvenanceError::Required { by, .. } => format!(
                "a signature is required ({by}): \
                 install where OpenAI's release bundle can be read (GitHub, or a --mirror that copies it), or drop the requirement"
            ),
            ProvenanceError::TrustRoot { .. } => {
                "name a Sigstore trusted_root.json with --trusted-root FILE \
                 (CODEX_BOOTSTRAP_TRUSTED_ROOT), or unset it to use the embedded one"
                    .into()
            }
        })
    }
}

/// The trust material a bundle is checked against, ready to verify with.
pub struct TrustRoot {
    verifier: Verifier,
    origin: String,
}

impl fmt::Debug for TrustRoot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrustRoot")
            .field("origin", &self.origin)
            .finish()
    }
}

impl TrustRoot {
    /// Sigstore's production root, compiled in.
    pub fn embedded() -> Result<TrustRoot, ProvenanceError> {
        TrustRoot::from_json(PRODUCTION_TRUSTED_ROOT, "embedded Sigstore production root")
    }

    /// A `trusted_root.json` the user named (`--trusted-root`), or the embedded one.
    pub fn load(path: Option<&Path>) -> Result<TrustRoot, ProvenanceError> {
        match path {
            None => TrustRoot::embedded(),
            Some(path) => {
                let origin = path.display().to_string();
                let text =
                    std::fs::read_to_string(path).map_err(|e| ProvenanceError::TrustRoot {
                        origin: origin.clone(),
                        reason: e.to_string(),
                    })?;
                TrustRoot::from_json(&text, &origin)
            }
        }
    }

    /// A trusted root from its JSON; `origin` names it in messages.
    pub fn from_json(json: &str, origin: &str) -> Result<TrustRoot, ProvenanceError> {
        let fail = |reason: String| ProvenanceError::TrustRoot {
            origin: origin.to_string(),
            reason,
        };
        let root = TrustedRoot::from_json(json).map_err(|e| fail(e.to_string()))?;
        let verifier = Verifier::new(&root).map_err(|e| fail(e.to_string()))?;
        Ok(TrustRoot {
            verifier,
            origin: origin.to_string(),
        })
    }

    /// Where this root came from: the embedded one, or the file's path.
    pub fn origin(&self) -> &str {
        &self.origin
    }
}

/// Who must have signed.
#[derive(Debug, Clone)]
pub enum Signer {
    /// A Fulcio certificate for this identity (SAN) from this OIDC issuer, carrying these CI
    /// claims.
    Identity {
        identity: String,
        issuer: String,
        claims: Vec<Claim>,
    },
    /// A managed key (PEM `PUBLIC KEY`): no certificate, the log entry still required.
    Key { pem: String },
}

/// One Fulcio CI claim the certificate must carry with exactly this value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub kind: ClaimKind,
    pub expected: String,
}

/// The Fulcio certificate extensions we match (OIDs `1.3.6.1.4.1.57264.1.12` and `.14`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimKind {
    SourceRepository,
    SourceRef,
}

impl ClaimKind {
    fn name(self) -> &'static str {
        match self {
            ClaimKind::SourceRepository => "source repository",
            ClaimKind::SourceRef => "source ref",
        }
    }

    fn read(self, claims: &FulcioCiClaims) -> Option<&str> {
        match self {
            ClaimKind::SourceRepository => claims.source_repository_uri.as_deref(),
            ClaimKind::SourceRef => claims.source_repository_ref.as_deref(),
        }
    }
}

impl Signer {
    /// OpenAI's release workflow at this version's tag: `rust-release.yml` in `openai/codex`,
    /// run by GitHub Actions for `refs/tags/rust-v<V>`.
    pub fn codex_release(version: &CodexVersion) -> Signer {
        let reference = format!("refs/tags/{}", version.tag());
        Signer::Identity {
            identity: format!(
                "https://github.com/openai/codex/.github/workflows/rust-release.yml@{reference}"
            ),
            issuer: GITHUB_ACTIONS_ISSUER.to_string(),
            claims: vec![
                Claim {
                    kind: ClaimKind::SourceRepository,
                    expected: "https://github.com/openai/codex".into(),
                },
                Claim {
                    kind: ClaimKind::SourceRef,
                    expected: reference,
                },
            ],
        }
    }

    /// The signer as a message names it.
    pub fn describe(&self) -> String {
        match self {
            Signer::Identity {
                identity, issuer, ..
            } => format!("{identity} (issuer {issuer})"),
            Signer::Key { .. } => "the given public key".into(),
        }
    }
}

/// What was signed: the file's bytes, or its sha256 (what the store records).
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    Bytes(&'a [u8]),
    Sha256(&'a Sha256),
}

/// Which spelling of a bundle was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BundleFormat {
    /// `{base64Signature, cert, rekorBundle}` (cosign 2.x `--bundle`).
    CosignLegacy,
    /// The standard Sigstore bundle (`mediaType` v0.1 to v0.3).
    Sigstore,
}

/// A bundle that proved the bytes: who signed them, and where the log recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The certificate's SAN, or `None` for a managed-key signature.
    pub identity: Option<String>,
    pub issuer: Option<String>,
    pub log_index: Option<u64>,
    /// When the log integrated the entry (RFC 3339), where the log says so.
    pub integrated_time: Option<String>,
    pub format: BundleFormat,
}

/// Whether `bundle` (its file's bytes) proves that `signer` signed `subject`, against `root`.
pub fn verify(
    bundle: &[u8],
    subject: Subject<'_>,
    signer: &Signer,
    root: &TrustRoot,
) -> Result<Verified, ProvenanceError> {
    let (bundle, format) = parse(bundle)?;
    let found = signer_found(&bundle, signer);
    let refuse = |reason: String| ProvenanceError::Refused {
        reason,
        found: found.clone(),
        expected: signer.describe(),
    };
    let artifact = match subject {
        Subject::Bytes(bytes) => sigstore_verify::types::Artifact::from_blob(bytes),
        Subject::Sha256(sha) => {
            let digest = Sha256Hash::from_hex(&sha.to_hex())
                .map_err(|e| refuse(format!("the file's digest: {e}")))?;
            sigstore_verify::types::Artifact::from_digest(digest)
        }
    };
    let result = match signer {
        Signer::Identity {
            identity,
            issuer,
            claims,
        } => {
            let policy = VerificationPolicy::new(identity.as_str(), issuer.as_str());
            let result = root
                .verifier
                .verify(artifact, &bundle, &policy)
                .map_err(|e| refuse(e.to_string()))?;
            // The policy skips nothing; these say so, and a crate change that relaxed a
            // default would fail here rather than pass unnoticed.
            if !(result.certificate_verified()
                && result.sct_verified()
                && result.tlog_verified()
                && result.identity_policy_checked())
            {
                return Err(refuse("not every check of the signature ran".into()));
            }
            let ci = result.certificate().map(|c| &c.ci_claims);
            for claim in claims {
                let value = ci.and_then(|ci| claim.kind.read(ci));
                if value != Some(claim.expected.as_str()) {
                    return Err(refuse(format!(
                        "the certificate's {} is {}, expected {}",
                        claim.kind.name(),
                        value.unwrap_or("absent"),
                        claim.expected
                    )));
                }
            }
            result
        }
        Signer::Key { pem } => {
            let key =
                DerPublicKey::from_pem(pem).map_err(|e| refuse(format!("the public key: {e}")))?;
            let policy = PublicKeyVerificationPolicy::new(key);
            let result = root
                .verifier
                .verify(artifact, &bundle, &policy)
                .map_err(|e| refuse(e.to_string()))?;
            if !result.tlog_verified() {
                return Err(refuse("the transparency log entry was not verified".into()));
            }
            result
        }
    };
    Ok(Verified {
        identity: result.identity().map(|s| s.as_str().to_string()),
        issuer: result.issuer().map(str::to_string),
        log_index: bundle
            .verification_material
            .tlog_entries
            .first()
            .map(|e| e.log_index.get()),
        integrated_time: result.integrated_time().map(|t| t.to_string()),
        format,
    })
}

/// The bundle in the crate's type, whichever format the file is in.
pub(crate) fn parse(bytes: &[u8]) -> Result<(Bundle, BundleFormat), ProvenanceError> {
    let malformed = |reason: String| ProvenanceError::Malformed { reason };
    let doc: Value =
        serde_json::from_slice(bytes).map_err(|e| malformed(format!("not JSON: {e}")))?;
    let (doc, format) = if legacy::is_legacy(&doc) {
        (
            legacy::to_standard(doc).map_err(malformed)?,
            BundleFormat::CosignLegacy,
        )
    } else {
        (doc, BundleFormat::Sigstore)
    };
    let bundle: Bundle = serde_json::from_value(doc).map_err(|e| malformed(e.to_string()))?;
    Ok((bundle, format))
}

/// Who the bundle says signed, for a refusal's message: read from the certificate before any
/// check, so it is a claim, and the message says only that it is the one found.
fn signer_found(bundle: &Bundle, signer: &Signer) -> String {
    let Some(cert) = bundle.signing_certificate() else {
        return match signer {
            Signer::Key { .. } => "a key".into(),
            Signer::Identity { .. } => "no certificate".into(),
        };
    };
    match sigstore_verify::crypto::parse_certificate_info(cert) {
        Ok(info) => {
            let identity = info.identity.map(|i| i.as_str().to_string());
            format!(
                "{} (issuer {})",
                identity.as_deref().unwrap_or("no identity"),
                info.issuer.as_deref().unwrap_or("none")
            )
        }
        Err(_) => "an unreadable certificate".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Days of warning before a key or certificate of the embedded root stops being valid.
    const WARNING_DAYS: i64 = 90;

    fn now_seconds() -> i64 {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("the clock is after 1970");
        since.as_secs() as i64
    }

    /// The embedded root keeps working for at least `WARNING_DAYS` more days: every authority
    /// and log key still in force (no `validFor.end`, or one in the future) is valid that long,
    /// and so is every certificate of a CA or TSA still in force. This fails while there is time
    /// to run `scripts/refresh-trusted-root`, not on the day installs start failing.
    #[test]
    fn the_embedded_trusted_root_is_valid_for_ninety_more_days() {
        let root = TrustedRoot::from_json(PRODUCTION_TRUSTED_ROOT).unwrap();
        let now = now_seconds();
        let horizon = now + WARNING_DAYS * 24 * 3600;
        let mut in_force = 0;
        let mut check_window = |what: &str, end: Option<i64>| -> bool {
            match end {
                Some(end) if end < now => false, // retired: kept for old signatures
                Some(end) => {
                    assert!(
                        end > horizon,
                        "{what} stops being valid within {WARNING_DAYS} days: run scripts/refresh-trusted-root"
                    );
                    in_force += 1;
                    true
                }
                None => {
                    in_force += 1;
                    true
                }
            }
        };
        let logs = root.tlogs.iter().map(|l| (&l.base_url, &l.public_key));
        let ct = root.ctlogs.iter().map(|l| (&l.base_url, &l.public_key));
        for (url, key) in logs.chain(ct) {
            let end = key
                .valid_for
                .as_ref()
                .and_then(|v| v.end)
                .map(|t| t.as_second());
            check_window(&format!("the log key of {url}"), end);
        }
        let cas = root
            .certificate_authorities
            .iter()
            .map(|a| (&a.uri, &a.valid_for, &a.cert_chain));
        let tsas = root.timestamp_authorities.iter().map(|a| {
            let name = a.uri.clone().or(a.subject.common_name.clone());
            (name.unwrap_or_default(), &a.valid_for, &a.cert_chain)
        });
        let cas = cas.map(|(uri, valid_for, chain)| (uri.clone(), valid_for, chain));
        for (uri, valid_for, chain) in cas.chain(tsas) {
            let end = valid_for
                .as_ref()
                .and_then(|v| v.end)
                .map(|t| t.as_second());
            if !check_window(&format!("the authority {uri}"), end) {
                continue;
            }
            for cert in &chain.certificates {
                let info =
                    sigstore_verify::crypto::parse_certificate_info(&cert.raw_bytes).unwrap();
                assert!(
                    info.not_after.as_second() > horizon,
                    "a certificate of {uri} expires within {WARNING_DAYS} days ({}): run scripts/refresh-trusted-root",
                    info.not_after
                );
            }
        }
        assert!(
            in_force >= 4,
            "the embedded root has too few keys in force: {in_force}"
        );
    }

    #[test]
    fn the_embedded_root_loads_and_a_broken_one_names_its_origin() {
        assert_eq!(
            TrustRoot::embedded().unwrap().origin(),
            "embedded Sigstore production root"
        );
        let err = TrustRoot::from_json("{}", "/tmp/root.json").unwrap_err();
        assert!(err.to_string().contains("/tmp/root.json"), "{err}");
        assert!(err.hint().unwrap().contains("--trusted-root"));
    }

    #[test]
    fn a_codex_release_is_signed_by_its_tag_s_workflow() {
        let version = CodexVersion::parse("0.154.0-alpha.6").unwrap();
        let Signer::Identity {
            identity,
            issuer,
            claims,
        } = Signer::codex_release(&version)
        else {
            panic!("a release is signed by an identity");
        };
        assert_eq!(
            identity,
            "https://github.com/openai/codex/.github/workflows/rust-release.yml@refs/tags/rust-v0.154.0-alpha.6"
        );
        assert_eq!(issuer, GITHUB_ACTIONS_ISSUER);
        assert_eq!(claims[1].expected, "refs/tags/rust-v0.154.0-alpha.6");
    }

    #[test]
    fn a_file_that_is_not_json_is_malformed() {
        let root = TrustRoot::embedded().unwrap();
        let signer = Signer::codex_release(&CodexVersion::parse("0.147.0").unwrap());
        let err = verify(b"not json", Subject::Bytes(b"x"), &signer, &root).unwrap_err();
        assert!(matches!(err, ProvenanceError::Malformed { .. }), "{err}");
    }
}
