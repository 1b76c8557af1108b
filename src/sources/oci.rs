//! `--mirror oci://REGISTRY/REPO`: the version's tag names an image index; its entry for this
//! target's OCI platform names the image manifest (fetched by digest, so its bytes are checked);
//! the manifest's layer is the package archive, downloaded through the common pipeline by its
//! blob URL with its digest as the channel's expectation.
//!
//! The registry's credentials (the login, or the token its challenge gave) are scoped to the
//! repository's `…/blobs/` URLs for that download: a redirect to a blob store gets none.

use crate::net::{Credential, Http, ScopedCredential};
use crate::oci::auth::AuthFiles;
use crate::oci::image::{self, Platform};
use crate::oci::{OciError, Reference, Registry};
use crate::platform::{AssetKind, Target};

/// This target's image, as far as installing needs it.
pub(super) struct Image {
    pub layers: Vec<Layer>,
    /// The image's annotation for `bin/codex`'s sha256, when it has one.
    pub codex_sha256: Option<String>,
    /// A Sigstore bundle referring to the image (where it was read, its bytes): handed to the
    /// signature check as a bundle found on GitHub is.
    pub bundle: Option<(String, Vec<u8>)>,
}

/// The most a bundle may weigh (real ones are a few kB).
const BUNDLE_LIMIT: u64 = 1 << 20;

/// The first signature bundle among the artifacts referring to `digest`, its bytes checked
/// against their digest. A registry that cannot say (an error) has none: the signature
/// policy decides what that means, as for a release without a bundle.
async fn referred_bundle(registry: &Registry<'_>, digest: &str) -> Option<(String, Vec<u8>)> {
    let found = async {
        let (referrers, _) = registry.referrers(digest).await?;
        for r in referrers {
            if !r
                .artifact_type
                .as_deref()
                .is_some_and(image::is_bundle_type)
            {
                continue;
            }
            let doc = registry.get_manifest(&r.digest).await?;
            let manifest: image::Manifest =
                serde_json::from_slice(&doc.bytes).map_err(|e| OciError::BadDocument {
                    url: doc.url.as_str().into(),
                    what: "referrer manifest",
                    why: e.to_string(),
                })?;
            let Some(layer) = manifest
                .layers
                .iter()
                .find(|l| image::is_bundle_type(&l.media_type))
            else {
                continue;
            };
            let bytes = registry
                .fetch_blob_bytes(&layer.digest, BUNDLE_LIMIT)
                .await?;
            return Ok(Some((doc.url, bytes)));
        }
        Ok::<_, OciError>(None)
    };
    match found.await {
        Ok(b) => b,
        Err(e) => {
            tracing::debug!(reason = %e, "no signature bundle from the image's referrers");
            None
        }
    }
}

pub(crate) struct Layer {
    /// The release asset it is, named by its media type (never by a name the registry gives).
    pub name: String,
    pub digest: crate::verify::Sha256,
    pub size: u64,
    pub url: String,
    /// The wheel or npm tarball the layer was rebuilt from ([`image::ANN_REBUILT_FROM`]): then
    /// it is not the release's archive, and only `bin/codex`'s digest can be checked on it.
    pub rebuilt_from: Option<String>,
}

/// Resolve `reference:tag` to this target's image.
pub(super) async fn image(
    http: &Http,
    reference: &str,
    tag: &str,
    target: &Target,
) -> Result<Image, OciError> {
    let reference = Reference::parse(reference)?.with_tag(tag)?;
    let registry = Registry::new(http, reference.clone(), &AuthFiles::from_env())?;
    let top = registry.get_manifest(tag).await?;
    let bad = |url: &str, why: String| OciError::BadDocument {
        url: url.into(),
        what: "image manifest",
        why,
    };
    let want = Platform::of(target);
    let manifest_doc = if top.media_type == image::INDEX || looks_like_index(&top.bytes) {
        let index: image::Index =
            serde_json::from_slice(&top.bytes).map_err(|e| bad(&top.url, e.to_string()))?;
        let digest = platform_manifest(&index, &want)
            .map_err(|why| bad(&top.url, why))?
            .ok_or_else(|| OciError::NoPlatform {
                image: reference.to_string(),
                target: format!("{target} ({}/{})", want.os, want.architecture),
            })?;
        registry.get_manifest(digest).await?
    } else {
        top
    };
    let manifest: image::Manifest = serde_json::from_slice(&manifest_doc.bytes)
        .map_err(|e| bad(&manifest_doc.url, e.to_string()))?;
    let bundle = referred_bundle(&registry, &manifest_doc.digest).await;
    let layers = layers(&manifest, &reference, target);
    // The download goes through the common client: it carries the registry's credentials
    // under this repository's blobs, and nowhere else.
    let scope = http.url(&reference.blob_url(""))?;
    let credential = match (registry.bearer(), registry.basic()) {
        (Some(token), _) => Some(Credential::Bearer(token)),
        (None, Some((user, password))) => Some(Credential::Basic { user, password }),
        _ => None,
    };
    http.config
        .credentials
        .add(credential.map(|credential| ScopedCredential { scope, credential }));
    Ok(Image {
        layers,
        codex_sha256: manifest.annotations.get(image::ANN_CODEX_SHA256).cloned(),
        bundle,
    })
}

/// The digest of the manifest an index gives for `want`, if it lists that platform; an entry
/// whose digest is not `sha256:` and 64 lowercase hex digits is refused (why).
pub(crate) fn platform_manifest<'a>(
    index: &'a image::Index,
    want: &Platform,
) -> Result<Option<&'a str>, String> {
    let Some(entry) = index
        .manifests
        .iter()
        .find(|d| d.platform.as_ref() == Some(want))
    else {
        return Ok(None);
    };
    if image::sha256_of_digest(&entry.digest).is_none() {
        return Err(format!("`{}` is not a sha256 digest", entry.digest));
    }
    Ok(Some(&entry.digest))
}

/// The layers of `manifest` that are a package archive for `target` (by media type, with a
/// sha256 digest), each named as the release asset it is and fetched from `reference`'s blobs.
pub(crate) fn layers(
    manifest: &image::Manifest,
    reference: &Reference,
    target: &Target,
) -> Vec<Layer> {
    manifest
        .layers
        .iter()
        .filter_map(|l| {
            let kind = match l.media_type.as_str() {
                image::LAYER_ZSTD => AssetKind::PackageTarZst,
                image::LAYER_GZIP => AssetKind::PackageTarGz,
                _ => return None,
            };
            let name = target
                .asset_candidates()
                .into_iter()
                .find(|(_, k)| *k == kind)?
                .0;
            Some(Layer {
                name,
                digest: image::sha256_of_digest(&l.digest)?,
                size: l.size,
                url: reference.blob_url(&l.digest),
                rebuilt_from: l
                    .annotations
                    .get(image::ANN_REBUILT_FROM)
                    .or_else(|| manifest.annotations.get(image::ANN_REBUILT_FROM))
                    .cloned(),
            })
        })
        .collect()
}

/// An index that a registry served without its media type.
fn looks_like_index(bytes: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(bytes)
        .is_ok_and(|v| v.get("manifests").is_some_and(|m| m.is_array()))
}

/// The newest stable Codex version among the repository's tags, and the tag list's URL.
pub(super) async fn newest_tag(
    http: &Http,
    reference: &str,
) -> Result<(crate::pin::CodexVersion, String), OciError> {
    let reference = Reference::parse(reference)?.without_tag();
    let registry = Registry::new(http, reference.clone(), &AuthFiles::from_env())?;
    let tags = registry.list_tags().await?;
    let url = format!("{}tags/list", reference.api_base());
    tags.iter()
        .filter_map(|t| crate::pin::CodexVersion::parse(t).ok())
        .filter(|v| !v.is_prerelease())
        .max()
        .map(|v| (v, url))
        .ok_or_else(|| OciError::NoVersionTag {
            reference: reference.to_string(),
            tags: if tags.is_empty() {
                "none".into()
            } else {
                let mut shown: Vec<String> =
                    tags.iter().take(10).map(|t| format!("`{t}`")).collect();
                if tags.len() > 10 {
                    shown.push(format!("and {} more", tags.len() - 10));
                }
                shown.join(", ")
            },
        })
}
