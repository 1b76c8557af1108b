//! `mirror --out oci://REGISTRY/REPO`: the runtime as one multi-platform image, an image index
//! tagged with the Codex version and one image per target. Each image's single layer is the
//! official `codex-package-<target>.tar.zst` / `.tar.gz`, byte for byte, so the layer digest is
//! the release's digest and every pin on it holds; annotations carry the version, target,
//! `bin/codex`'s sha256 and the source. Blobs the registry has are not sent again (HEAD first).

use std::collections::BTreeMap;

use super::{Archive, MirrorError, Origin};
use crate::fs::IoError;
use crate::oci::auth::AuthFiles;
use crate::oci::client::Sent;
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
    /// The wheel or npm tarball the layer was rebuilt from, when it is not the release's
    /// package archive itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rebuilt_from: Option<String>,
    /// Whether the layer was sent (false: the registry had it, or mounted it).
    pub uploaded: bool,
    /// The repository of the registry the layer was mounted from, instead of sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mounted_from: Option<String>,
    pub source: String,
    /// The Sigstore bundle pushed as an artifact referring to this image.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<PushedSignature>,
}

#[derive(Debug, serde::Serialize)]
pub struct PushedSignature {
    /// The referrer's manifest digest.
    pub digest: String,
    pub artifact_type: String,
}

/// Push the context's version for `targets` to `reference` as one image index.
pub fn push(
    ctx: &Context,
    reference: &Reference,
    targets: &[Target],
    mount_from: &[String],
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
    let registry = Registry::new(&online.http, tagged.clone(), &AuthFiles::from_env())?
        .pushing()
        .mounting_from(mount_from.to_vec());
    let mut entries = Vec::new();
    let mut images = Vec::new();
    for archive in archives {
        let target = archive.target.clone();
        let (descriptor, mut pushed, codex_sha256) = online.runtime.block_on(push_image(
            ctx,
            &registry,
            &version,
            archive,
            staging.path(),
            ui,
        ))?;
        // The Sigstore bundle of `bin/codex`, when we hold one (pinned, kept, or the
        // release's, verified), as an artifact referring to the image.
        if let Some(bundle) =
            super::bundle_for(ctx, &version, &target, Some(codex_sha256), from, ui)
        {
            let subject = Descriptor {
                media_type: image::MANIFEST.into(),
                digest: descriptor.digest.clone(),
                size: descriptor.size,
                artifact_type: None,
                platform: None,
                annotations: BTreeMap::new(),
            };
            let annotations = BTreeMap::from([
                (image::ANN_TARGET.to_string(), target.to_string()),
                (
                    image::ANN_TITLE.to_string(),
                    format!("codex-{target}.sigstore"),
                ),
            ]);
            let artifact_type = image::bundle_media_type(&bundle);
            let digest = online.runtime.block_on(registry.push_referrer(
                subject,
                &artifact_type,
                &bundle,
                annotations,
            ))?;
            ui.status(
                "Signed",
                &format!(
                    "{target}: the Sigstore bundle of bin/codex refers to its image ({digest})"
                ),
            );
            pushed.signature = Some(PushedSignature {
                digest,
                artifact_type,
            });
        }
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

/// The blob that is an image's layer.
struct Layer {
    name: String,
    path: std::path::PathBuf,
    media_type: &'static str,
    sha256: crate::verify::Sha256,
    size: u64,
}

/// One target's image: verify and inspect the archive, send its layer and config unless the
/// registry has them, then its manifest by digest. Returns the index entry.
async fn push_image(
    ctx: &Context,
    registry: &Registry<'_>,
    version: &crate::pin::CodexVersion,
    archive: Archive,
    staging: &std::path::Path,
    ui: &dyn Reporter,
) -> Result<(Descriptor, PushedImage, crate::verify::Sha256), MirrorError> {
    let Archive {
        target,
        name,
        path,
        expected,
        source,
        rebuilt_from: kept_rebuilt,
    } = archive;
    let kind = AssetKind::from_name(&name);
    let (sha256, size) = super::verify_in_place(&path, &expected)?;
    // The official package archive is the layer as it is; a wheel or an npm tarball is
    // unpacked (verified above) and its package tree rebuilt as a deterministic layer.
    let (layer, facts, rebuilt_from) = match kind {
        Some(k) if crate::oci::layer::media_type(k).is_some() => {
            let facts = crate::oci::layer::inspect(&path, k, &target)
                .map_err(|e| MirrorError::Read(path.clone(), e))?;
            (
                Layer {
                    name: name.clone(),
                    path: path.clone(),
                    media_type: crate::oci::layer::media_type(k).unwrap_or(image::LAYER_GZIP),
                    sha256,
                    size,
                },
                facts,
                // A layer the store kept from an image rebuilt from a wheel or npm tarball
                // is pushed as it is, and says so again.
                kept_rebuilt,
            )
        }
        Some(k @ (AssetKind::Wheel | AssetKind::NpmTarball)) => {
            let work = tempfile::tempdir_in(staging).map_err(IoError::at("write into", staging))?;
            ui.status(
                "Rebuilding",
                &format!("the package tree of {name} as a layer"),
            );
            let r =
                super::rebuild::rebuild(&path, k, version, &target, work.path()).map_err(|e| {
                    MirrorError::Rebuild {
                        name: name.clone(),
                        source: Box::new(e),
                    }
                })?;
            // The layer outlives the work dir's tree: keep it beside the other downloads.
            let kept = staging.join(format!("{}-rebuilt.tar.zst", target));
            std::fs::rename(&r.path, &kept).map_err(|e| MirrorError::Write(kept.clone(), e))?;
            let layer_name = target
                .asset_candidates()
                .into_iter()
                .find(|(_, k)| *k == AssetKind::PackageTarZst)
                .map(|(n, _)| n)
                .unwrap_or_else(|| format!("codex-package-{target}.tar.zst"));
            (
                Layer {
                    name: layer_name,
                    path: kept,
                    media_type: image::LAYER_ZSTD,
                    sha256: r.sha256,
                    size: r.size,
                },
                r.facts,
                Some(name.clone()),
            )
        }
        _ => return Err(MirrorError::NotAPackage { name, target }),
    };
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
    let mut annotations = BTreeMap::from([
        (image::ANN_VERSION.to_string(), version.to_string()),
        (image::ANN_TARGET.to_string(), target.to_string()),
        (image::ANN_CODEX_SHA256.to_string(), codex_sha256.to_hex()),
        (image::ANN_SOURCE.to_string(), source.clone()),
    ]);
    if let Some(from) = &rebuilt_from {
        annotations.insert(image::ANN_REBUILT_FROM.to_string(), from.clone());
    }
    let Layer {
        name: layer_name,
        path: layer_path,
        media_type: layer_type,
        sha256: layer_sha256,
        size,
    } = layer;
    let layer_digest = format!("sha256:{}", layer_sha256.to_hex());
    let sent = registry
        .push_blob_file(&layer_digest, &layer_path, size)
        .await?;
    let (uploaded, mounted_from) = match sent {
        Sent::Uploaded => (true, None),
        Sent::Present => (false, None),
        Sent::Mounted { from } => (false, Some(from)),
    };
    ui.status(
        match (uploaded, &mounted_from) {
            (true, _) => "Pushed",
            (false, Some(_)) => "Mounted",
            (false, None) => "Present",
        },
        &format!(
            "{layer_name} ({}) for {}/{}",
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
        artifact_type: None,
        subject: None,
        config: Descriptor {
            media_type: image::CONFIG.into(),
            digest: config_digest,
            size: config_bytes.len() as u64,
            artifact_type: None,
            platform: None,
            annotations: BTreeMap::new(),
        },
        layers: vec![Descriptor {
            media_type: layer_type.into(),
            digest: layer_digest.clone(),
            size,
            artifact_type: None,
            platform: None,
            annotations: {
                let mut a = BTreeMap::from([(image::ANN_TITLE.to_string(), layer_name.clone())]);
                if let Some(from) = &rebuilt_from {
                    a.insert(image::ANN_REBUILT_FROM.to_string(), from.clone());
                }
                a
            },
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
        artifact_type: None,
        platform: Some(platform.clone()),
        annotations,
    };
    Ok((
        descriptor,
        PushedImage {
            target: target.to_string(),
            platform: format!("{}/{}", platform.os, platform.architecture),
            manifest_digest,
            layer: layer_name,
            rebuilt_from,
            layer_digest,
            layer_size: size,
            uploaded,
            mounted_from,
            source,
            signature: None,
        },
        codex_sha256,
    ))
}
