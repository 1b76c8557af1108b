//! The documents of an image: an image index (one entry per platform), image manifests, their
//! config, and the descriptors that point at blobs by digest.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::platform::Target;

pub const INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
pub const LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// The empty config of an artifact (`{}`), as the image spec's artifact guidance has it.
pub const EMPTY: &str = "application/vnd.oci.empty.v1+json";
pub const EMPTY_BYTES: &[u8] = b"{}";
/// A Sigstore bundle, as cosign (3.x, `--new-bundle-format`) and sigstore-go attach one: the
/// artifact type and layer media type of the referrer. Earlier bundle versions are named by
/// theirs (`…bundle.v0.1+json`, the form the spec gives `…bundle+json;version=0.1` since v0.3).
pub const SIGSTORE_BUNDLE_PREFIX: &str = "application/vnd.dev.sigstore.bundle";
/// cosign 2.x's `--bundle` file (`base64Signature`, `cert`, `rekorBundle`): it has no registered
/// media type and cosign never stores it in a registry, so it is named under our own prefix
/// rather than passed off as a Sigstore bundle a verifier would parse differently.
pub const COSIGN_LEGACY_BUNDLE: &str = "application/vnd.dev.codex-bootstrap.cosign-bundle+json";

/// The media type a bundle's bytes declare: a Sigstore bundle's own `mediaType` (v0.1 and
/// v0.2 spelled as v0.3 spells them), else cosign's legacy bundle.
pub fn bundle_media_type(bytes: &[u8]) -> String {
    let declared = serde_json::from_slice::<serde_json::Value>(bytes)
        .ok()
        .and_then(|v| v.get("mediaType")?.as_str().map(str::to_string));
    match declared {
        Some(m) if m.starts_with(SIGSTORE_BUNDLE_PREFIX) => match m.split_once(";version=") {
            Some((_, v)) => format!("{SIGSTORE_BUNDLE_PREFIX}.v{}+json", v.trim()),
            None => m,
        },
        _ => COSIGN_LEGACY_BUNDLE.into(),
    }
}

/// Whether an artifact type is a signature bundle we push and read.
pub fn is_bundle_type(t: &str) -> bool {
    t == COSIGN_LEGACY_BUNDLE || t.starts_with(SIGSTORE_BUNDLE_PREFIX)
}

/// The tag the referrers tag schema keeps `digest`'s referrers under: `sha256-<hex>`.
pub fn referrers_tag(digest: &str) -> String {
    digest.replacen(':', "-", 1)
}

/// What a manifest GET accepts: either document.
pub const ACCEPT: &str =
    "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json";

/// Annotation keys (reverse-DNS, as the image spec asks), besides the standard ones.
pub const ANN_VERSION: &str = "org.opencontainers.image.version";
pub const ANN_TARGET: &str = "dev.codex-bootstrap.target";
pub const ANN_CODEX_SHA256: &str = "dev.codex-bootstrap.codex_sha256";
pub const ANN_SOURCE: &str = "dev.codex-bootstrap.source";
/// On an image whose layer is not the release's package archive but a deterministic tar of
/// the package tree of this wheel or npm tarball: its file name.
pub const ANN_REBUILT_FROM: &str = "dev.codex-bootstrap.rebuilt-from";
/// The layer's file name, so a puller knows which release asset it is.
pub const ANN_TITLE: &str = "org.opencontainers.image.title";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
}

impl Platform {
    /// The OCI platform of a target (Go's `GOOS`/`GOARCH` names).
    pub fn of(target: &Target) -> Platform {
        let t = target.as_str();
        let os = if t.contains("-linux-") {
            "linux"
        } else if t.contains("-apple-darwin") {
            "darwin"
        } else {
            "windows"
        };
        let architecture = if t.starts_with("aarch64") {
            "arm64"
        } else {
            "amd64"
        };
        Platform {
            os: os.into(),
            architecture: architecture.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    /// An artifact's type, in a referrers index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub schema_version: u32,
    #[serde(default)]
    pub media_type: Option<String>,
    /// An artifact's type (a referrer's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
    /// The manifest this one refers to (a referrer's subject).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    pub schema_version: u32,
    #[serde(default)]
    pub media_type: Option<String>,
    pub manifests: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// The image config: the platform again, and an empty root filesystem diff list is not allowed,
/// so the layer's uncompressed digest (`diff_id`) when known. Runtimes that only copy files out
/// (`COPY --from`, image volumes) read the platform alone.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    pub architecture: String,
    pub os: String,
    pub rootfs: RootFs,
    #[serde(default)]
    pub config: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RootFs {
    #[serde(rename = "type")]
    pub kind: String,
    pub diff_ids: Vec<String>,
}

/// `sha256:<hex>` of some bytes.
pub fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{}", crate::verify::Sha256::of(bytes).to_hex())
}

/// The sha256 a `sha256:<hex>` digest names, spelled as the image spec has it (64 lowercase hex
/// digits, nothing around them: the digest also goes into blob and manifest URLs); anything
/// else is no digest of ours.
pub fn sha256_of_digest(d: &str) -> Option<crate::verify::Sha256> {
    d.strip_prefix("sha256:")
        .filter(|h| h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .and_then(|h| crate::verify::Sha256::parse(h).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_target_has_its_oci_platform() {
        let want = [
            ("x86_64-unknown-linux-musl", "linux", "amd64"),
            ("aarch64-unknown-linux-musl", "linux", "arm64"),
            ("x86_64-apple-darwin", "darwin", "amd64"),
            ("aarch64-apple-darwin", "darwin", "arm64"),
            ("x86_64-pc-windows-msvc", "windows", "amd64"),
            ("aarch64-pc-windows-msvc", "windows", "arm64"),
        ];
        assert_eq!(want.len(), crate::platform::SUPPORTED_TARGETS.len());
        for (t, os, arch) in want {
            let p = Platform::of(&t.parse().unwrap());
            assert_eq!((p.os.as_str(), p.architecture.as_str()), (os, arch), "{t}");
        }
    }

    /// Found by the `oci` fuzz target: the digest parser trimmed, took a second `sha256:` and
    /// `+` signs, so a manifest's digest string (which also goes into the blob URL) could
    /// differ from the digest it was taken for.
    #[test]
    fn only_the_spec_spelling_of_a_sha256_digest_is_one() {
        let hex = "ab".repeat(32);
        assert!(sha256_of_digest(&format!("sha256:{hex}")).is_some());
        for bad in [
            format!("sha256:sha256:{hex}"),
            format!("sha256: {hex}"),
            format!("sha256:{hex}\n"),
            format!("sha256:{}", hex.to_uppercase()),
            format!("sha256:{}", "+a".repeat(32)),
            format!("sha512:{hex}"),
            hex.clone(),
        ] {
            assert!(sha256_of_digest(&bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn documents_serialize_in_the_spec_spelling() {
        let d = Descriptor {
            media_type: MANIFEST.into(),
            digest: digest_of(b"x"),
            size: 1,
            artifact_type: None,
            platform: Some(Platform::of(&"aarch64-apple-darwin".parse().unwrap())),
            annotations: BTreeMap::new(),
        };
        let v = serde_json::to_value(Index {
            schema_version: 2,
            media_type: Some(INDEX.into()),
            manifests: vec![d],
            annotations: BTreeMap::new(),
        })
        .unwrap();
        assert_eq!(v["schemaVersion"], 2);
        assert_eq!(v["mediaType"], INDEX);
        assert_eq!(v["manifests"][0]["mediaType"], MANIFEST);
        assert_eq!(v["manifests"][0]["platform"]["architecture"], "arm64");
        assert!(v["manifests"][0].get("annotations").is_none());
    }

    #[test]
    fn bundles_are_named_by_the_version_they_declare() {
        let v01 = br#"{"mediaType":"application/vnd.dev.sigstore.bundle+json;version=0.1"}"#;
        assert_eq!(
            bundle_media_type(v01),
            "application/vnd.dev.sigstore.bundle.v0.1+json"
        );
        let v03 = br#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}"#;
        assert_eq!(
            bundle_media_type(v03),
            "application/vnd.dev.sigstore.bundle.v0.3+json"
        );
        let legacy = br#"{"base64Signature":"","cert":"","rekorBundle":{}}"#;
        assert_eq!(bundle_media_type(legacy), COSIGN_LEGACY_BUNDLE);
        assert!(is_bundle_type(&bundle_media_type(v01)) && is_bundle_type(COSIGN_LEGACY_BUNDLE));
        assert_eq!(referrers_tag("sha256:ab"), "sha256-ab");
    }
}
