//! The sigstore-conformance suite's `bundle-verify` cases (tests/data/sigstore-conformance/,
//! copied from sigstore/sigstore-conformance with its README; SOURCE.md names the commit), run
//! through our provenance module as its README lays them out: a case passes or fails as its
//! directory's name says (`_fail`), with its own `artifact` (else `a.txt`), `identity`, `issuer`,
//! `key.pub` (a managed key instead of a certificate) and `trusted_root.json` (else Sigstore's
//! production root, the one we embed).

use std::path::{Path, PathBuf};

use codex_bootstrap::provenance::{self, Signer, Subject, TrustRoot};

const DEFAULT_IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const DEFAULT_ISSUER: &str = "https://token.actions.githubusercontent.com";

fn suite() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sigstore-conformance")
}

fn read_opt(dir: &Path, name: &str) -> Option<String> {
    std::fs::read_to_string(dir.join(name)).ok()
}

/// Runs one case: `Ok` when our module accepted the bundle, `Err(why)` when it refused.
fn run_case(dir: &Path) -> Result<(), String> {
    let bundle = std::fs::read(dir.join("bundle.sigstore.json")).unwrap();
    let artifact = std::fs::read(dir.join("artifact"))
        .or_else(|_| std::fs::read(suite().join("a.txt")))
        .unwrap();
    let root = match read_opt(dir, "trusted_root.json") {
        Some(json) => TrustRoot::from_json(&json, "case trusted_root.json"),
        None => TrustRoot::embedded(),
    }
    .map_err(|e| e.to_string())?;
    let signer = match read_opt(dir, "key.pub") {
        Some(pem) => Signer::Key { pem },
        None => Signer::Identity {
            identity: read_opt(dir, "identity")
                .map_or(DEFAULT_IDENTITY.into(), |s| s.trim().into()),
            issuer: read_opt(dir, "issuer").map_or(DEFAULT_ISSUER.into(), |s| s.trim().into()),
            claims: Vec::new(),
        },
    };
    provenance::verify(&bundle, Subject::Bytes(&artifact), &signer, &root)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[test]
fn every_bundle_verify_case_passes_or_fails_as_the_suite_says() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(suite())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 70,
        "the suite's cases are missing: {}",
        cases.len()
    );
    let mut wrong = Vec::new();
    for dir in &cases {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let expect_ok = !name.ends_with("_fail");
        let outcome = run_case(dir);
        if outcome.is_ok() != expect_ok {
            wrong.push(format!(
                "{name}: expected {}, got {outcome:?}",
                if expect_ok { "pass" } else { "fail" }
            ));
        }
    }
    println!(
        "sigstore-conformance bundle-verify: {}/{} as expected",
        cases.len() - wrong.len(),
        cases.len()
    );
    assert!(
        wrong.is_empty(),
        "{} case(s) disagree with the suite:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// The legacy cosign bundle (what cosign 2.x and OpenAI's release workflow write), verified
/// through our mapping against Sigstore's production root: a real one, logged in Rekor.
mod legacy_cosign_bundle {
    use super::*;
    use codex_bootstrap::provenance::{BundleFormat, Claim, ClaimKind, ProvenanceError};
    use codex_bootstrap::verify::Sha256;

    const SIGNED: &str = "d03cd623efbfe33052baa75e9dc6df83c3d957ecb67801a887ef6368d595c34e";

    fn bundle() -> Vec<u8> {
        std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/data/sigstore-legacy/cosign2-blob.sigstore"),
        )
        .unwrap()
    }

    fn signer(identity: &str, claims: Vec<Claim>) -> Signer {
        Signer::Identity {
            identity: identity.into(),
            issuer: "https://github.com/login/oauth".into(),
            claims,
        }
    }

    #[test]
    fn proves_the_digest_its_signer_signed() {
        let root = TrustRoot::embedded().unwrap();
        let digest = Sha256::parse(SIGNED).unwrap();
        let verified = provenance::verify(
            &bundle(),
            Subject::Sha256(&digest),
            &signer("vu@krnl.xyz", vec![]),
            &root,
        )
        .unwrap();
        assert_eq!(verified.format, BundleFormat::CosignLegacy);
        assert_eq!(verified.identity.as_deref(), Some("vu@krnl.xyz"));
        assert_eq!(
            verified.issuer.as_deref(),
            Some("https://github.com/login/oauth")
        );
        assert_eq!(verified.log_index, Some(544674367));
        assert_eq!(
            verified.integrated_time.as_deref(),
            Some("2025-09-22T02:42:45Z")
        );
    }

    #[test]
    fn other_bytes_are_refused() {
        let root = TrustRoot::embedded().unwrap();
        let other = Sha256::of(b"not the signed file");
        let err = provenance::verify(
            &bundle(),
            Subject::Sha256(&other),
            &signer("vu@krnl.xyz", vec![]),
            &root,
        )
        .unwrap_err();
        assert!(matches!(err, ProvenanceError::Refused { .. }), "{err}");
    }

    #[test]
    fn another_signer_is_refused_naming_both() {
        let root = TrustRoot::embedded().unwrap();
        let digest = Sha256::parse(SIGNED).unwrap();
        let err = provenance::verify(
            &bundle(),
            Subject::Sha256(&digest),
            &signer("someone@else.example", vec![]),
            &root,
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("signed by vu@krnl.xyz"), "{text}");
        assert!(text.contains("expected someone@else.example"), "{text}");
    }

    #[test]
    fn a_missing_source_repository_claim_is_refused() {
        let root = TrustRoot::embedded().unwrap();
        let digest = Sha256::parse(SIGNED).unwrap();
        let claim = Claim {
            kind: ClaimKind::SourceRepository,
            expected: "https://github.com/openai/codex".into(),
        };
        let err = provenance::verify(
            &bundle(),
            Subject::Sha256(&digest),
            &signer("vu@krnl.xyz", vec![claim]),
            &root,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("source repository is absent"),
            "{err}"
        );
    }

    #[test]
    fn a_broken_set_is_refused() {
        let root = TrustRoot::embedded().unwrap();
        let digest = Sha256::parse(SIGNED).unwrap();
        let text = String::from_utf8(bundle())
            .unwrap()
            .replace("MEQCICTH9eG9", "MEQCICTH9eG8");
        let err = provenance::verify(
            text.as_bytes(),
            Subject::Sha256(&digest),
            &signer("vu@krnl.xyz", vec![]),
            &root,
        )
        .unwrap_err();
        assert!(matches!(err, ProvenanceError::Refused { .. }), "{err}");
    }
}
