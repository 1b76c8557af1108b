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
/// What a manifest GET accepts: either document.
pub const ACCEPT: &str =
    "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json";

/// Annotation keys (reverse-DNS, as the image spec asks), besides the standard ones.
pub const ANN_VERSION: &str = "org.opencontainers.image.version";
pub const ANN_TARGET: &str = "dev.codex-bootstrap.target";
pub const ANN_CODEX_SHA256: &str = "dev.codex-bootstrap.codex_sha256";
pub const ANN_SOURCE: &str = "dev.codex-bootstrap.source";
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
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
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
}
