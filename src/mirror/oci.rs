//! `mirror --out oci://REGISTRY/REPO`: the runtime as one multi-platform image, an image index
//! tagged with the Codex version and one image per target. Each image's single layer is the
//! official `codex-package-<target>.tar.zst` / `.tar.gz`, byte for byte, so the layer digest is
//! the release's digest and every pin on it holds; annotations carry the version, target,
//! `bin/codex`'s sha256 and the source. Blobs the registry has are not sent again (HEAD first).

use std::collections::BTreeMap;

use super::{Archive, MirrorError, Origin};
use crate::fs::IoError;
use crate::oci::auth::AuthFiles;
use crate::oci::image::{self, Descriptor, Platform};
use crate::oci::{Reference, Registry};
use crate::platform::{AssetKind, Target};
use crate::provision::{Context, Online};
use crate::report::{human_bytes, Reporter};

/// An image index pushed: what `mirror --json` prints.
#[derive(Debug, serde::Serialize)]
pub struct Pushed {
    pub version: String,
    /// `oci://REGISTRY/REPO:TAG`.
    pub reference: String,
    pub index_digest: String,
    pub images: Vec<PushedImage>,
}

#[derive(Debug, serde::Serialize)]
pub struct PushedImage {
    pub target: String,
    pub platform: String,
    pub manifest_digest: String,
    pub layer: String,
    pub layer_digest: String,
    pub layer_size: u64,
    /// Whether the layer was sent (false: the registry had it).
    pub uploaded: bool,
    pub source: String,
}

/// Push the context's version for `targets` to `reference` as one image index.
pub fn push(
    ctx: &Context,
    reference: &Reference,
    targets: &[Target],
    from: Origin,
    ui: &dyn Reporter,
) -> Result<Pushed, MirrorError> {
    // Downloads are staged in the cache (a system temp dir may be a small tmpfs), and go with it.
    let cache = ctx.store.cache_dir();
    crate::fs::create_dirs(cache).map_err(|e| MirrorError::Create(cache.to_path_buf(), e))?;
    let staging = tempfile::tempdir_in(cache).map_err(IoError::at("write into", cache))?;
    let (version, archives) = match from {
        Origin::Store => super::from_store(ctx, targets)?,
        Origin::Sources => super::from_sources(ctx, targets, ui, staging.path())?,
    };
    let tagged = match &reference.tag {
        Some(_) => reference.clone(),
        None => reference.with_tag(&version.to_string())?,
    };
    let tag = tagged.tag.clone().unwrap_or_default();
    let online = Online::new(ctx)?;
    let registry = Registry::new(&online.http, tagged.clone(), &AuthFiles::from_env())?.pushing();
    let mut entries = Vec::new();
    let mut images = Vec::new();
    for archive in archives {
        let (descriptor, pushed) = online
            .runtime
            .block_on(push_image(ctx, &registry, &version, archive, ui))?;
        entries.push(descriptor);
        images.push(pushed);
    }
    let index = image::Index {
        schema_version: 2,
        media_type: Some(image::INDEX.into()),
        manifests: entries,
        annotations: BTreeMap::from([(image::ANN_VERSION.to_string(), version.to_string())]),
    };
    let bytes = serde_json::to_vec(&index).map_err(|e| MirrorError::Encode(e.to_string()))?;
    let index_digest = image::digest_of(&bytes);
    online
        .runtime
        .block_on(registry.put_manifest(&tag, image::INDEX, &bytes))?;
    ui.status("Tagged", &format!("{tagged} ({index_digest})"));
    Ok(Pushed {
        version: version.to_string(),
        reference: tagged.to_string(),
        index_digest,
        images,
    })
}

/// One target's image: verify and inspect the archive, send its layer and config unless the
/// registry has them, then its manifest by digest. Returns the index entry.
async fn push_image(
    ctx: &Context,
    registry: &Registry<'_>,
    version: &crate::pin::CodexVersion,
    archive: Archive,
    ui: &dyn Reporter,
) -> Result<(Descriptor, PushedImage), MirrorError> {
    let Archive {
        target,
        name,
        path,
        expected,
        source,
    } = archive;
    let kind = AssetKind::from_name(&name);
    let Some(layer_type) = kind.and_then(crate::oci::layer::media_type) else {
        return Err(MirrorError::NotAPackage { name, target });
    };
    let (sha256, size) = super::verify_in_place(&path, &expected)?;
    let facts = crate::oci::layer::inspect(&path, kind.unwrap_or(AssetKind::PackageTarGz), &target)
        .map_err(|e| MirrorError::Read(path.clone(), e))?;
    // The `bin/codex` pin as an install will compose it (project over bundled): an image that
    // install would refuse is not pushed.
    let pinned = ctx
        .plan_inputs(version, &target, crate::plan::Pins::Enforce)
        .plan(crate::plan::Locate::WhenReached, None)?
        .codex_sha256
        .map(|c| c.sha256);
    let codex_sha256 = match (facts.codex_sha256, pinned) {
        (Some(have), Some(pinned)) if have != pinned => {
            return Err(MirrorError::CodexMismatch {
                name,
                pinned,
                actual: have,
            })
        }
        (Some(have), _) => have,
        (None, _) => return Err(MirrorError::NotAPackage { name, target }),
    };
    let platform = Platform::of(&target);
    let annotations = BTreeMap::from([
        (image::ANN_VERSION.to_string(), version.to_string()),
        (image::ANN_TARGET.to_string(), target.to_string()),
        (image::ANN_CODEX_SHA256.to_string(), codex_sha256.to_hex()),
        (image::ANN_SOURCE.to_string(), source.clone()),
    ]);
    let layer_digest = format!("sha256:{}", sha256.to_hex());
    let uploaded = registry.push_blob_file(&layer_digest, &path, size).await?;
    ui.status(
        if uploaded { "Pushed" } else { "Present" },
        &format!(
            "{name} ({}) for {}/{}",
            human_bytes(size),
            platform.os,
            platform.architecture
        ),
    );
    let config = image::Config {
        architecture: platform.architecture.clone(),
        os: platform.os.clone(),
        rootfs: image::RootFs {
            kind: "layers".into(),
            diff_ids: vec![facts.diff_id],
        },
        config: BTreeMap::new(),
    };
    let config_bytes =
        serde_json::to_vec(&config).map_err(|e| MirrorError::Encode(e.to_string()))?;
    let config_digest = image::digest_of(&config_bytes);
    registry
        .push_blob_bytes(&config_digest, &config_bytes)
        .await?;
    let manifest = image::Manifest {
        schema_version: 2,
        media_type: Some(image::MANIFEST.into()),
        config: Descriptor {
            media_type: image::CONFIG.into(),
            digest: config_digest,
            size: config_bytes.len() as u64,
            platform: None,
            annotations: BTreeMap::new(),
        },
        layers: vec![Descriptor {
            media_type: layer_type.into(),
            digest: layer_digest.clone(),
            size,
            platform: None,
            annotations: BTreeMap::from([(image::ANN_TITLE.to_string(), name.clone())]),
        }],
        annotations: annotations.clone(),
    };
    let bytes = serde_json::to_vec(&manifest).map_err(|e| MirrorError::Encode(e.to_string()))?;
    let manifest_digest = image::digest_of(&bytes);
    registry
        .put_manifest(&manifest_digest, image::MANIFEST, &bytes)
        .await?;
    let descriptor = Descriptor {
        media_type: image::MANIFEST.into(),
        digest: manifest_digest.clone(),
        size: bytes.len() as u64,
        platform: Some(platform.clone()),
        annotations,
    };
    Ok((
        descriptor,
        PushedImage {
            target: target.to_string(),
            platform: format!("{}/{}", platform.os, platform.architecture),
            manifest_digest,
            layer: name,
            layer_digest,
            layer_size: size,
            uploaded,
            source,
        },
    ))
}
