//! A static mirror in release-download layout (`DIR/rust-v<V>/<asset>`,
//! `codex-package_SHA256SUMS`, `codex-runtime.toml`) that any web server, object store or CDN can
//! serve to `install --mirror`. The archives come from the sources in order (a GitHub asset, a
//! wheel or an npm tarball, each pinned in the mirror's manifest as such), or, offline, from the
//! verified archives the store kept. Every file is verified as it is copied into place.

use std::path::{Path, PathBuf};

mod oci;
mod rebuild;
pub use oci::{push, Pushed, PushedImage};

use crate::error::Hint;
use crate::fs::IoError;
use crate::pin::manifest::{PinnedNpm, PinnedWheel};
use crate::pin::{CodexVersion, Manifest, PinnedAsset};
use crate::plan::{Asset, Locate, Pins};
use crate::platform::{AssetKind, Target};
use crate::provision::{Context, Online};
use crate::report::{human_bytes, Reporter};
use crate::sources::{Attempt, Failed, Session};
use crate::verify::{Expectations, Expected, HashingReader, Sha256, Sha512, SHA256SUMS_ASSET};

/// Filling a mirror failed.
#[derive(Debug, thiserror::Error)]
pub enum MirrorError {
    #[error("could not create `{}`", .0.display())]
    Create(PathBuf, #[source] std::io::Error),
    #[error("could not write `{}`", .0.display())]
    Write(PathBuf, #[source] std::io::Error),
    #[error("could not read `{}`", .0.display())]
    Read(PathBuf, #[source] std::io::Error),
    #[error("`--from-cache` needs an exact version")]
    NeedsExactVersion,
    #[error("codex {version} ({target}) is not in the store")]
    NotInStore {
        version: CodexVersion,
        target: Target,
    },
    #[error("the archive of codex {version} ({target}) was not kept in the store")]
    NotKept {
        version: CodexVersion,
        target: Target,
    },
    #[error("`{}`: {mismatch}", .path.display())]
    Damaged {
        path: PathBuf,
        mismatch: Box<crate::verify::DigestMismatch>,
    },
    /// Defence in depth: the sources vet names where they enter, a receipt is the store's own.
    #[error(transparent)]
    Name(#[from] crate::remote::RemoteError),
    #[error(transparent)]
    Io(#[from] IoError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Provision(#[from] crate::provision::ProvisionError),
    #[error(transparent)]
    Plan(#[from] crate::plan::PlanError),
    #[error(transparent)]
    Latest(#[from] crate::sources::AllSourcesFailed),
    #[error(transparent)]
    Run(#[from] crate::sources::RunError),
    #[error(transparent)]
    Oci(#[from] crate::oci::OciError),
    /// Only the package layout can be an image layer as it is (its tree is the image root).
    #[error(
        "`{name}` ({target}) is not a codex-package archive, so it cannot be the image's layer"
    )]
    NotAPackage { name: String, target: Target },
    #[error("`bin/codex` in `{name}` has sha256 `{actual}`, but the pin says `{pinned}`")]
    CodexMismatch {
        name: String,
        pinned: Sha256,
        actual: Sha256,
    },
    #[error("could not rebuild the package tree of `{name}` as an image layer")]
    Rebuild {
        name: String,
        #[source]
        source: Box<rebuild::RebuildError>,
    },
    #[error("`--mount-from` names repositories of an OCI registry, but `--out` is a directory")]
    MountNeedsOci,
    #[error("`{0}` is neither a directory nor an OCI reference")]
    BadDestination(String),
    #[error("could not encode an image document: {0}")]
    Encode(String),
}

impl Hint for MirrorError {
    fn hint(&self) -> Option<String> {
        match self {
            MirrorError::Create(..) | MirrorError::Write(..) => Some("check that `--out` names a directory you can write to, on a disk with room".into()),
            MirrorError::Io(e) => e.hint(),
            MirrorError::Name(e) => e.hint(),
            MirrorError::Read(..) => Some("check that the store is readable".into()),
            MirrorError::NeedsExactVersion => Some("name an exact version: `codex-bootstrap mirror 0.163.0 --from-cache --out DIR`".into()),
            MirrorError::NotInStore { version, target } => Some(format!("install it first: `codex-bootstrap install {version} --target {target}`")),
            MirrorError::NotKept { .. } => Some("runtimes installed from file:// mirrors or archives keep no copy; mirror without --from-cache, or from that source".into()),
            MirrorError::Damaged { .. } => Some("the local copy is damaged: reinstall it with `codex-bootstrap install --force`".into()),
            MirrorError::Store(e) => e.hint(),
            MirrorError::Provision(e) => e.hint(),
            MirrorError::Plan(e) => e.hint(),
            MirrorError::Latest(e) => e.hint(),
            MirrorError::Run(e) => e.hint(),
            MirrorError::Oci(e) => e.hint(),
            MirrorError::NotAPackage { .. } => Some("push from a source that serves the package archives, a wheel or an npm tarball (a legacy single-binary asset has no package tree)".into()),
            MirrorError::CodexMismatch { .. } => Some("the archive is not the pinned runtime: check the pin (`codex-bootstrap pin`) and the source".into()),
            MirrorError::Encode(_) => None,
            MirrorError::MountNeedsOci => Some("drop `--mount-from`, or push with `--out oci://REGISTRY/REPO`".into()),
            MirrorError::Rebuild { source, .. } => match &**source {
                rebuild::RebuildError::Unpack(e) => e.hint(),
                _ => Some("the cache directory must be writable, on a disk with room for the unpacked runtime (about 400 MB)".into()),
            },
            MirrorError::BadDestination(_) => Some("give `--out` a directory to serve (then `--mirror https://…`), or `oci://REGISTRY/REPO` to push to a registry".into()),
        }
    }

    fn is_usage(&self) -> bool {
        match self {
            MirrorError::NeedsExactVersion
            | MirrorError::BadDestination(_)
            | MirrorError::MountNeedsOci => true,
            MirrorError::Provision(e) => e.is_usage(),
            MirrorError::Oci(crate::oci::OciError::BadReference { .. }) => true,
            _ => false,
        }
    }
}

/// Where the archives come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The sources of the context, in order.
    Sources,
    /// The verified archives the local store kept: no network.
    Store,
}

/// A mirror written: what `mirror --json` prints.
#[derive(Debug, serde::Serialize)]
pub struct Mirror {
    pub version: String,
    pub tag: String,
    /// `DIR/rust-v<V>`: what to serve is `DIR`.
    pub release_dir: PathBuf,
    pub manifest: PathBuf,
    pub sha256sums: PathBuf,
    pub files: Vec<MirroredFile>,
}

#[derive(Debug, serde::Serialize)]
pub struct MirroredFile {
    pub target: String,
    pub name: String,
    pub size: u64,
    pub sha256: Sha256,
    /// Where the bytes came from: `github`, `python-index`, `npm`, `mirror` or `cache`.
    pub source: String,
}

/// Fill `out` with the runtime of the context's version for each of `targets`.
pub fn build(
    ctx: &Context,
    out: &Path,
    targets: &[Target],
    from: Origin,
    ui: &dyn Reporter,
) -> Result<Mirror, MirrorError> {
    // Downloads land here first and are verified before they are copied into place.
    crate::fs::create_dirs(out).map_err(|e| MirrorError::Create(out.to_path_buf(), e))?;
    let staging = tempfile::tempdir_in(out).map_err(IoError::at("write into", out))?;
    let (version, files) = match from {
        Origin::Store => from_store(ctx, targets)?,
        Origin::Sources => from_sources(ctx, targets, ui, staging.path())?,
    };
    let release_dir = out.join(version.tag());
    crate::fs::create_dirs(&release_dir)
        .map_err(|e| MirrorError::Create(release_dir.clone(), e))?;
    let mut pinned: std::collections::BTreeMap<Target, PinnedAsset> = Default::default();
    let mut sums = String::new();
    let mut mirrored = Vec::new();
    for Archive {
        target,
        name,
        path,
        expected,
        source,
        ..
    } in files
    {
        let dest = release_dir.join(crate::remote::file_name(&source, &name)?);
        let (size, sha256, sha512) = copy_verified(&path, &dest, &expected)?;
        ui.status("Mirrored", &format!("{name} ({})", human_bytes(size)));
        sums.push_str(&format!("{sha256}  {name}\n"));
        mirrored.push(MirroredFile {
            target: target.to_string(),
            name: name.clone(),
            size,
            sha256,
            source,
        });
        let entry = pinned.entry(target).or_default();
        match AssetKind::from_name(&name) {
            Some(AssetKind::Wheel) => {
                entry.wheel = Some(PinnedWheel {
                    file: name,
                    size: Some(size),
                    sha256,
                    codex_checked: false,
                })
            }
            Some(AssetKind::NpmTarball) => {
                entry.npm = Some(PinnedNpm {
                    file: name,
                    size: Some(size),
                    integrity: sha512,
                })
            }
            _ => {
                entry.asset = Some(name);
                entry.size = Some(size);
                entry.sha256 = Some(sha256);
            }
        }
    }
    // Keep what the project already pins about bin/codex: the mirror must agree with it. A
    // wheel whose `bin/codex` that manifest checked is the same file here (same sha256).
    for (t, e) in pinned.iter_mut() {
        let pin = ctx.pin.pinned_asset(&version, t).map(|(_, a)| a);
        e.codex_sha256 = pin.and_then(|a| a.codex_sha256);
        if let (Some(w), Some(a)) = (e.wheel.as_mut(), pin.filter(|a| a.codex_sha256.is_some())) {
            w.codex_checked = a
                .wheel
                .iter()
                .chain(&a.other_wheels)
                .any(|p| p.codex_checked && p.sha256 == w.sha256);
        }
    }
    // Each Linux target's Sigstore bundle beside the archives, where GitHub keeps it, and in
    // the mirror's manifest: an install from this mirror, or from any channel with its
    // manifest, is proven as one from GitHub is.
    for (t, e) in pinned.iter_mut() {
        let Some(bytes) = bundle_for(ctx, &version, t, e.codex_sha256, from, ui) else {
            continue;
        };
        let name = format!("codex-{t}.sigstore");
        let dest = release_dir.join(&name);
        crate::fs::write_shared(&dest, &bytes).map_err(|err| MirrorError::Write(dest, err))?;
        ui.status("Mirrored", &format!("{name} (the signature of bin/codex)"));
        use base64::Engine as _;
        e.sigstore_bundle = Some(base64::engine::general_purpose::STANDARD.encode(&bytes));
    }
    let sums_path = release_dir.join(SHA256SUMS_ASSET);
    crate::fs::write_shared(&sums_path, sums.as_bytes())
        .map_err(|e| MirrorError::Write(sums_path.clone(), e))?;
    let manifest = Manifest {
        origin: String::new(),
        version: version.clone(),
        tag: version.tag(),
        require_signature: false,
        targets: pinned,
    };
    let manifest_path = release_dir.join(crate::pin::manifest::FILE_NAME);
    crate::fs::write_shared(&manifest_path, manifest.to_toml().as_bytes())
        .map_err(|e| MirrorError::Write(manifest_path.clone(), e))?;
    Ok(Mirror {
        version: version.to_string(),
        tag: version.tag(),
        release_dir,
        manifest: manifest_path,
        sha256sums: sums_path,
        files: mirrored,
    })
}

/// The Sigstore bundle for `target`'s `bin/codex`: the one the project pins, else the one the
/// store kept when it installed the runtime (both verified then), else, from the sources,
/// the release's, verified over the pinned `bin/codex` digest before it is copied.
fn bundle_for(
    ctx: &Context,
    version: &CodexVersion,
    target: &Target,
    codex_sha256: Option<Sha256>,
    from: Origin,
    ui: &dyn Reporter,
) -> Option<Vec<u8>> {
    if let Some(bytes) = ctx
        .pin
        .pinned_asset(version, target)
        .and_then(|(_, a)| a.sigstore_bundle_bytes())
    {
        return Some(bytes);
    }
    let kept = ctx.store.installed(version, target).ok().flatten();
    if let Some(b) = kept.and_then(|rt| rt.receipt.signature_bundle) {
        return Some(b.into_bytes());
    }
    if from != Origin::Sources {
        return None;
    }
    let sources = ctx.release_bundle_sources(version, target)?;
    let sha256 = codex_sha256?;
    let online = Online::new(ctx).ok()?;
    match ctx.verified_release_bundle(&online, &sources, version, &sha256) {
        Ok(bundle) => bundle.map(String::into_bytes),
        Err(e) => {
            ui.warn(&format!(
                "{target}: the release's signature bundle is not mirrored: {e}"
            ));
            None
        }
    }
}

/// An archive to mirror: verified against `expected` as it is copied into place.
struct Archive {
    target: Target,
    name: String,
    path: PathBuf,
    expected: Expectations,
    /// The source that served it, or `cache`.
    source: String,
    /// For a kept OCI layer rebuilt from a wheel or npm tarball: which.
    rebuilt_from: Option<String>,
}

/// The verified archives the store kept for each target of the pinned version.
fn from_store(
    ctx: &Context,
    targets: &[Target],
) -> Result<(CodexVersion, Vec<Archive>), MirrorError> {
    let Some(version) = ctx.exact_version().cloned() else {
        return Err(MirrorError::NeedsExactVersion);
    };
    let mut files = Vec::new();
    for t in targets {
        let rt = ctx
            .store
            .installed(&version, t)?
            .ok_or_else(|| MirrorError::NotInStore {
                version: version.clone(),
                target: t.clone(),
            })?;
        let archive = ctx
            .store
            .archive_path(&rt.receipt.asset, &rt.receipt.archive_sha256);
        if !archive.is_file() {
            return Err(MirrorError::NotKept {
                version,
                target: t.clone(),
            });
        }
        files.push(Archive {
            target: t.clone(),
            name: rt.receipt.asset.clone(),
            path: archive,
            expected: Expectations::one(Expected::sha256(
                rt.receipt.archive_sha256,
                rt.receipt.verified_by.clone(),
            )),
            source: "cache".into(),
            rebuilt_from: rt.receipt.rebuilt_from.clone(),
        });
    }
    Ok((version, files))
}

/// Download each target's archive from the first source that serves it and verifies.
fn from_sources(
    ctx: &Context,
    targets: &[Target],
    ui: &dyn Reporter,
    staging: &Path,
) -> Result<(CodexVersion, Vec<Archive>), MirrorError> {
    let online = Online::new(ctx)?;
    let session = Session::new(&online.http);
    let (version, resolved) = online.resolve_version(ctx, &session, ui)?;
    let mut files = Vec::new();
    for (i, t) in targets.iter().enumerate() {
        let inputs = ctx.plan_inputs(&version, t, Pins::Enforce);
        let plan = inputs.plan(Locate::WhenReached, resolved.clone())?;
        if i == 0 {
            for w in &plan.warnings {
                ctx.warn_once(ui, w);
            }
        }
        let what = || format!("mirror codex {version} for {t}");
        let archive = online.runtime.block_on(crate::sources::run(
            &session,
            &inputs,
            &plan,
            what,
            ui,
            async |asset: &Asset| {
                let bar = crate::report::announced(
                    ui,
                    "Fetching",
                    format!("{} from {}", asset.name, asset.source),
                    asset.size,
                );
                let fetched =
                    crate::sources::artifact::fetch_verified(&online.http, asset, staging, &*bar)
                        .await;
                drop(bar);
                match fetched {
                    Ok(f) => Attempt::Served(Archive {
                        target: t.clone(),
                        name: asset.name.clone(),
                        path: f.path,
                        expected: asset.expected.clone(),
                        source: asset.source.to_string(),
                        rebuilt_from: asset.rebuilt_from.clone(),
                    }),
                    Err(e) => Attempt::Next(Failed::of(e)),
                }
            },
        ))?;
        files.push(archive);
    }
    Ok((version, files))
}

/// Copy `from` to `to` through a temp file, hashing; refuse a digest that differs. Returns
/// the size and both digests (a mirror's manifest pins npm tarballs by sha512).
fn copy_verified(
    from: &Path,
    to: &Path,
    expected: &Expectations,
) -> Result<(u64, Sha256, Sha512), MirrorError> {
    let (actual, sha512, size) =
        hash_both(from).map_err(|e| MirrorError::Read(from.to_path_buf(), e))?;
    if let Err(mismatch) = expected.check(&actual, Some(&sha512)) {
        return Err(MirrorError::Damaged {
            path: from.to_path_buf(),
            mismatch,
        });
    }
    let dir = to.parent().unwrap_or(Path::new("."));
    // A mirror is served by others: modes follow the umask, not the source file's (a kept
    // download in the store is read-only) nor a private temp file's 0600.
    let mut tmp = crate::fs::shared_tempfile_beside(to).map_err(IoError::at("write into", dir))?;
    let mut src =
        std::fs::File::open(from).map_err(|e| MirrorError::Read(from.to_path_buf(), e))?;
    std::io::copy(&mut src, &mut tmp).map_err(IoError::at("write", to))?;
    tmp.persist(to)
        .map_err(|e| IoError::at("write", to)(e.error))?;
    Ok((size, actual, sha512))
}

/// Check the archive at `path` against `expected` where it lies. Returns its sha256 and size.
fn verify_in_place(path: &Path, expected: &Expectations) -> Result<(Sha256, u64), MirrorError> {
    let (actual, sha512, size) =
        hash_both(path).map_err(|e| MirrorError::Read(path.to_path_buf(), e))?;
    if let Err(mismatch) = expected.check(&actual, Some(&sha512)) {
        return Err(MirrorError::Damaged {
            path: path.to_path_buf(),
            mismatch,
        });
    }
    Ok((actual, size))
}

fn hash_both(path: &Path) -> std::io::Result<(Sha256, Sha512, u64)> {
    let file = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(path)?);
    let (sha256, sha512, size) = HashingReader::with_sha512(file).finish_all()?;
    Ok((sha256, sha512.unwrap_or(Sha512::of(b"")), size))
}
