//! The install pipeline for one artifact, run under its lock: fetch -> verify -> unpack ->
//! store -> prove.
//!
//! Download, hashing and unpacking overlap: bytes go from the network to the `.partial` file,
//! the archive hasher and a bounded channel feeding the unpacker thread, which writes (and
//! hashes, for the receipt) each file into a staging directory beside the final one. A wheel
//! tree's entries are instead inflated in parallel, each read from the `.partial` as the
//! download writes it ([`unpack::unpack_wheel_growing`]). Nothing is
//! visible until the archive digest matched, the layout validated and `codex --version` agreed;
//! then one rename publishes the runtime. A crash at any point leaves the old state plus
//! leftovers (a staging dir, a partial download) that the next run cleans or resumes.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::mpsc;

use crate::error::Hint;
use crate::fs::IoError;
use crate::net::download::{self, Chunk, Fetched, Sink, Transfer};
use crate::net::{Http, NetError, Progress};
use crate::package;
use crate::pin::CodexVersion;
use crate::plan::Asset;
use crate::platform::{AssetKind, Target};
use crate::provenance::{self, ProvenanceError};
use crate::store::receipt::{Receipt, SCHEMA};
use crate::store::{InstalledRuntime, Staging, Store, StoreError};
use crate::unpack::{self, Limits, UnpackError, Unpacked};
use crate::verify::{Digest, DigestSource, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("checksum mismatch for `{}` from `{}`\n  expected: {} (from {})\n  actual:   {}", .0.asset, .0.url, .0.expected, .0.source_of, .0.actual)]
    DigestMismatch(Box<Mismatch>),
    #[error("`bin/codex` from `{url}` is not the one {origin} pins\n  expected: sha256 {expected}\n  actual:   sha256 {actual}")]
    CodexMismatch {
        url: crate::redact::DisplayUrl,
        origin: String,
        expected: Sha256,
        actual: Sha256,
    },
    #[error("the installed `codex --version` said `{said}`, but {expected} was pinned")]
    WrongVersion {
        expected: CodexVersion,
        said: String,
    },
    #[error("the unpacked `codex` does not run")]
    DoesNotRun {
        #[source]
        source: std::io::Error,
    },
    #[error("could not create a private CODEX_HOME for `codex --version`")]
    ScratchHome {
        #[source]
        source: std::io::Error,
    },
    #[error("the server kept restarting the download of `{url}` from zero")]
    Unstable { url: crate::redact::DisplayUrl },
    #[error(transparent)]
    Signature(#[from] ProvenanceError),
    #[error(transparent)]
    Net(#[from] NetError),
    #[error(transparent)]
    Unpack(#[from] UnpackError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The details of a checksum mismatch (boxed: errors stay small on the happy path).
#[derive(Debug)]
pub struct Mismatch {
    pub asset: String,
    pub url: crate::redact::DisplayUrl,
    pub expected: Digest,
    pub actual: Digest,
    pub source_of: DigestSource,
}

impl Hint for InstallError {
    fn hint(&self) -> Option<String> {
        match self {
            InstallError::DigestMismatch(m) => Some(match &m.source_of {
                DigestSource::Manifest { path } => format!(
                    "nothing was installed. If `{path}` is stale, re-pin with `codex-bootstrap pin`; if the download was tampered with, check your mirror or proxy"
                ),
                _ if m.url.is_file() => "nothing was installed: the file is not the one expected; check where it came from, or the `--sha256` given".into(),
                _ => "nothing was installed and the download was deleted; rerun, and if it persists check your mirror or proxy".into(),
            }),
            InstallError::CodexMismatch { origin, .. } => Some(format!(
                "the channels disagree about this runtime: nothing was installed. If `{origin}` is stale, re-pin with `codex-bootstrap pin`; otherwise report it"
            )),
            InstallError::WrongVersion { .. } => Some("the release asset does not contain the pinned version; report it, or pin another `--version`".into()),
            InstallError::DoesNotRun { .. } => Some("the binary cannot run on this machine: check `--target` and `codex-bootstrap doctor`".into()),
            InstallError::ScratchHome { .. } => Some("the temporary directory must be writable: set TMPDIR to one that is".into()),
            InstallError::Unstable { .. } => Some("the server ignores range requests and changes its content; try again later or use `--mirror`".into()),
            InstallError::Signature(e) => e.hint(),
            InstallError::Net(e) => e.hint(),
            InstallError::Unpack(e) => e.hint(),
            InstallError::Store(e) => e.hint(),
        }
    }
}

/// What an install did.
#[derive(Debug)]
pub enum Outcome {
    Installed(InstalledRuntime),
    AlreadyInstalled(InstalledRuntime),
}

impl Outcome {
    pub fn runtime(&self) -> &InstalledRuntime {
        match self {
            Outcome::Installed(r) | Outcome::AlreadyInstalled(r) => r,
        }
    }
    pub(crate) fn into_runtime(self) -> InstalledRuntime {
        match self {
            Outcome::Installed(r) | Outcome::AlreadyInstalled(r) => r,
        }
    }
}

/// Everything the pipeline needs for one artifact.
pub struct Job<'a> {
    pub store: &'a Store,
    pub version: &'a CodexVersion,
    pub tag: &'a str,
    pub target: &'a Target,
    pub asset: &'a Asset,
    /// Replace an existing runtime.
    pub force: bool,
    /// The sha256 `bin/codex` must have, and the manifest that pins it.
    pub codex_sha256: Option<(Sha256, String)>,
    /// The wheels (by sha256) whose `bin/codex` that manifest's `pin` hashed and found to be
    /// `codex_sha256`, as their RECORD lists it ([`wheel_hashing`]).
    pub codex_checked_wheels: &'a [Sha256],
    /// The archive the store kept from an earlier install, when it has the digest the asset
    /// must have ([`kept_archive`]): read instead of downloaded.
    pub kept: Option<PathBuf>,
    /// Where the signature bundle may be and what is asked of it; `None` checks none (a
    /// local `--archive`, whose provenance is the user's).
    pub signature: Option<SignatureCheck<'a>>,
    pub progress: &'a dyn Progress,
}

/// The provenance step's inputs (see [`provenance::check`]).
pub struct SignatureCheck<'a> {
    pub sources: &'a provenance::BundleSources,
    pub signer: &'a provenance::Signer,
    pub policy: &'a provenance::SignaturePolicy,
}

/// The verified archive the store kept (`<cache>/downloads/<sha256>/<asset>`) under a sha256
/// the asset must have, for a reinstall (`--force`, or after `uninstall`) without a download.
/// Only a regular file of the store's own, in directories only this user can change, counts
/// ([`crate::store::trust`]); it is hashed again as it is read, and unpacked from that one
/// read, like any local archive. None for an asset that is a local file already, or that only
/// a sha512 pins (npm's integrity: the store keys archives by sha256).
pub fn kept_archive(store: &Store, asset: &Asset) -> Option<PathBuf> {
    if asset.local_path().is_some() {
        return None;
    }
    let sha256 = asset.expected.all().iter().find_map(|e| match e.digest {
        Digest::Sha256(d) => Some(d),
        Digest::Sha512(_) => None,
    })?;
    let path = store.archive_path(&asset.name, &sha256);
    let trusted = crate::store::trust::chain(store.cache_dir(), &store.archive_dir(&sha256))
        .is_ok()
        && crate::store::trust::file(&path).unwrap_or(false);
    trusted.then_some(path)
}

/// Forget a kept archive that failed to serve (unreadable, or no longer its digest): the next
/// attempt downloads the asset, and keeps that.
fn forget_kept(path: &Path, why: &dyn std::fmt::Display) {
    tracing::warn!(path = %path.display(), "the kept archive cannot be reused ({why}): downloading it again");
    if let Some(dir) = path.parent() {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Run the pipeline. The caller holds the artifact lock and has re-checked the store.
pub async fn run(http: &Http, job: &Job<'_>) -> Result<Outcome, InstallError> {
    let store = job.store;
    let partial = store.partial_path(&job.asset.expected.primary().digest, &job.asset.name);
    let download = || -> Result<Source, InstallError> {
        Ok(match job.asset.local_path() {
            Some(path) => Source::File(path),
            None => Source::Http(Transfer {
                url: http.url(&job.asset.url)?,
                partial: partial.clone(),
                expected_size: job.asset.size,
                sha512: job.asset.expected.needs_sha512(),
            }),
        })
    };
    // A kept archive is read as a local file is: one open file from hash to unpack.
    let mut reusing = job.kept.clone();
    let mut source = match &reusing {
        Some(path) => Source::File(path.clone()),
        None => download()?,
    };

    // The signature bundle, asked for once, while the first attempt downloads: a few KiB from
    // the release's host, which would otherwise be a round trip after the unpack.
    let mut bundle: Option<provenance::Found> = None;
    // A server that ignores Range, or whose file changed, makes us start over; twice is plenty.
    for _ in 0..3 {
        let staging = Staging::new(store, job.version, job.target)?;
        let pkg = staging.path().to_path_buf();
        tracing::debug!(staging = %pkg.display(), "unpacking {}", job.asset.name);
        let kept = open_kept(job, &source)?;
        let hashing = wheel_hashing(job);
        let unpacking = fetch_and_unpack(http, job, &source, kept.as_ref(), &pkg, &hashing);
        let fetched = match (&job.signature, &bundle) {
            (Some(check), None) => {
                let (fetched, found) =
                    tokio::join!(unpacking, provenance::find(http, check.sources));
                bundle = Some(found);
                fetched
            }
            _ => unpacking.await,
        };
        let (fetched, unpacked) = match (fetched, reusing.take()) {
            (Err(e), Some(path)) => {
                forget_kept(&path, &e);
                source = download()?;
                continue;
            }
            (result, was) => {
                reusing = was;
                result?
            }
        };
        let (actual, sha512, size) = match fetched {
            Fetched::Restart => {
                download::discard_partial(&partial);
                continue;
            }
            Fetched::Complete {
                sha256,
                sha512,
                size,
            } => (sha256, sha512, size),
        };
        if let Err(m) = job.asset.expected.check(&actual, sha512.as_ref()) {
            if let Some(path) = reusing.take() {
                forget_kept(&path, &m);
                source = download()?;
                continue;
            }
            download::discard_partial(&partial);
            return Err(InstallError::DigestMismatch(Box::new(Mismatch {
                asset: job.asset.name.clone(),
                url: (&job.asset.url).into(),
                expected: m.expected.digest,
                actual: m.actual,
                source_of: m.expected.source,
            })));
        }
        let mut unpacked = match unpacked {
            Ok(u) => u,
            Err(e) => {
                // Verified bytes that are not a safe package will not get better on retry.
                download::discard_partial(&partial);
                return Err(e.into());
            }
        };
        let layout = match job.asset.kind {
            // A wheel is unpacked whole as it downloads (a wheel tree keeps it so; a plain
            // install into `.wheel/`); the package is its `codex_cli_bin/`. Its modes come from
            // the central directory, now that the whole file is here.
            AssetKind::Wheel => {
                let Some(file) = &kept else {
                    return Err(
                        UnpackError::Layout("a wheel is unpacked from a file".into()).into(),
                    );
                };
                let tree = wheel_dir(job, &pkg);
                // The wheel's sha256 has matched: now RECORD may speak for what it fixed.
                let reconciled = package::digests_from_record(&tree, &mut unpacked)
                    .and_then(|()| unpack::reconcile_streamed_wheel(file, &tree, &mut unpacked));
                if let Err(e) = reconciled {
                    download::discard_partial(&partial);
                    return Err(e.into());
                }
                let layout =
                    package::validate_wheel_tree(&tree, &mut unpacked, job.version, job.target)?;
                let checked = job.codex_checked_wheels.contains(&actual);
                entrypoint_hashed(&tree, &mut unpacked, &layout.entrypoint, &hashing, checked)?;
                if tree == pkg {
                    layout
                } else {
                    package::hoist_wheel_package(&pkg, &tree, &mut unpacked, layout)?
                }
            }
            _ => package::validate_layout(
                &pkg,
                &mut unpacked,
                job.asset.kind,
                job.version,
                job.target,
            )?,
        };
        // The channels must agree: `bin/codex` is byte-identical in all of them.
        if let Some((want, origin)) = &job.codex_sha256 {
            let got = unpacked
                .files
                .iter()
                .find(|f| f.path == layout.entrypoint)
                .map(|f| f.sha256);
            if got != Some(*want) {
                download::discard_partial(&partial);
                return Err(InstallError::CodexMismatch {
                    url: (&job.asset.url).into(),
                    origin: origin.clone(),
                    expected: *want,
                    actual: got.unwrap_or(Sha256::of(b"")),
                });
            }
        }
        // Provenance: before anything runs or becomes visible, the bundle OpenAI's release
        // publishes for `bin/codex` must prove these bytes (or be absent, and say so).
        let checked = match &job.signature {
            Some(check) => {
                let entry = unpacked.files.iter().find(|f| f.path == layout.entrypoint);
                let sha = entry.map_or(Sha256::of(b""), |f| f.sha256);
                let found = match bundle.take() {
                    Some(found) => found,
                    None => provenance::find(http, check.sources).await,
                };
                let record =
                    provenance::judge(&found, &layout.entrypoint, &sha, check.signer, check.policy);
                if record.is_err() {
                    download::discard_partial(&partial);
                }
                Some(record?)
            }
            None => None,
        };
        let (signature, signature_bundle) = match checked {
            Some(c) => (Some(c.record), c.bundle),
            None => (None, None),
        };
        if job.target.is_host() {
            prove(&pkg.join(&layout.entrypoint), job.version).await?;
        }
        let receipt = Receipt {
            schema: SCHEMA,
            installer: env!("CARGO_PKG_VERSION").to_string(),
            version: job.version.clone(),
            tag: job.tag.to_string(),
            target: job.target.clone(),
            asset: job.asset.name.clone(),
            source_url: (&job.asset.url).into(),
            archive_sha256: actual,
            archive_size: size,
            verified_by: job.asset.expected.primary().source.clone(),
            checked: job.asset.expected.all().to_vec(),
            source: Some(job.asset.source),
            signature,
            signature_bundle,
            rebuilt_from: job.asset.rebuilt_from.clone(),
            installed_at: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            entrypoint: layout.entrypoint,
            path_dir: layout.path_dir,
            files: unpacked.files,
        };
        if job.store.wheel_tag().is_some() {
            // Shared by hard links with environments: a write through one must fail.
            crate::store::wheel_tree::make_read_only(&pkg, &receipt.files);
        }
        let runtime = staging.commit(receipt, job.force)?;
        if job.store.wheel_tag().is_some() {
            // Its files are the ones just hashed into the receipt: the stamp the check before
            // each link compares with (`wheel_tree::check_untouched`).
            crate::store::wheel_tree::stamp_verified(&runtime);
        }
        tracing::debug!(dir = %runtime.dir.display(), "published");
        if let Source::Http(_) = source {
            keep_archive(store, &partial, job.asset, &actual);
        }
        return Ok(Outcome::Installed(runtime));
    }
    Err(InstallError::Unstable {
        url: (&job.asset.url).into(),
    })
}

/// Which files of a wheel tree are hashed as they are written, for the receipt.
///
/// Every file, unless the wheel's sha256 is checked against a pin that does not come from the
/// channel serving it (a `codex-runtime.toml` manifest, the project's lock file, `--sha256`).
/// Then the wheel's bytes are the pinned ones, its RECORD among them, and so is every file
/// unpacked from it: each entry is inflated (deterministically) with its CRC-32 and size
/// checked against the headers the pinned bytes carry, and the central directory must list
/// exactly what was unpacked. A file's digest is then taken from the pinned RECORD
/// ([`package::digests_from_record`]): the same bytes uv or pip would install from that pin,
/// recorded as their publisher recorded them, and re-hashed by `install --verify` and
/// `doctor`, which compare them with the receipt.
///
/// `bin/codex` is hashed all the same, unless the manifest that pins `codex_sha256` says
/// (`codex_checked`) that its `pin` hashed this very wheel's `bin/codex` and found it to be
/// `codex_sha256`, as the wheel's RECORD lists it. The manifest's `codex_sha256` and the
/// release's signature speak for `bin/codex`'s bytes, not for what a RECORD says of them; a
/// wheel pinned from the index's listing alone (a lock file, `--sha256`, a manifest without
/// the mark) may carry a RECORD whose publisher lied, so only hashing the file proves that
/// its `bin/codex` is the one npm's tarball carries. A wheel the manifest checked is that
/// proof already made, over these exact bytes (their sha256 is the one checked): hashing it
/// again would find the same digest. The mark is the manifest's own statement; a manifest that
/// could lie in it could as well pin another `codex_sha256`.
fn wheel_hashing(job: &Job<'_>) -> unpack::Hashing {
    let pinned = |e: &&crate::verify::Expected| {
        matches!(
            e.source,
            DigestSource::Manifest { .. } | DigestSource::LockFile { .. } | DigestSource::Flag
        )
    };
    let digests = || {
        job.asset
            .expected
            .all()
            .iter()
            .filter(pinned)
            .filter_map(|e| match e.digest {
                Digest::Sha256(d) => Some(d),
                Digest::Sha512(_) => None,
            })
    };
    if digests().next().is_none() {
        return unpack::Hashing::Every;
    }
    // Decided before the download from what the wheel must hash to; should the verified file
    // turn out to be another one, `entrypoint_hashed` hashes `bin/codex` after all.
    if digests().any(|d| job.codex_checked_wheels.contains(&d)) {
        return unpack::Hashing::Only(Vec::new());
    }
    unpack::Hashing::Only(vec![format!(
        "{}/bin/{}",
        crate::store::wheel_tree::MODULE_DIR,
        job.target.exe_name("codex")
    )])
}

/// The entrypoint's digest is its bytes' own: when the package names another file than the
/// one hashed as it was written ([`wheel_hashing`]), it is hashed now, and must agree with
/// the RECORD its digest was taken from; unless the wheel is one whose `bin/codex` the
/// manifest checked (`codex_checked`: the wheel's verified sha256 is among those), when
/// RECORD's digest is the one its `pin` found.
fn entrypoint_hashed(
    pkg: &Path,
    unpacked: &mut Unpacked,
    entrypoint: &str,
    hashing: &unpack::Hashing,
    codex_checked: bool,
) -> Result<(), UnpackError> {
    if hashing.hashes(entrypoint) || codex_checked {
        return Ok(());
    }
    if let Some(f) = unpacked.files.iter_mut().find(|f| f.path == entrypoint) {
        if package::hash_file(&pkg.join(&f.path))? != f.sha256 {
            return Err(UnpackError::Layout(format!(
                "`{entrypoint}` does not have the sha256 the wheel's RECORD lists"
            )));
        }
    }
    Ok(())
}

/// Where the archive comes from.
enum Source {
    Http(Transfer),
    /// A `file://` mirror: read in place, nothing to resume.
    File(PathBuf),
}

/// A test knob: once the archive is hashed and before it is unpacked, rename this file onto
/// the archive's path (the `.partial`, or the `--archive` file), as a local attacker racing
/// the install would. What is unpacked must still be what was hashed.
pub(crate) const TEST_SWAP_AFTER_HASH: &str = "__CODEX_BOOTSTRAP_TEST_SWAP_AFTER_HASH";

fn swap_for_test(source: &Source) {
    if let Some(from) = std::env::var_os(TEST_SWAP_AFTER_HASH) {
        let to = match source {
            Source::File(path) => path,
            Source::Http(t) => &t.partial,
        };
        let _ = std::fs::rename(from, to);
    }
}

/// Whether the asset is a zip, which is unpacked from a file (random access), not a stream.
fn is_zip(kind: AssetKind) -> bool {
    matches!(kind, AssetKind::LegacyZip | AssetKind::Wheel)
}

/// The one open file the archive's bytes go through from hash to unpack: the `.partial` of a
/// download ([`download::open_partial`]), or for a local zip (`--archive`, a `file://`
/// mirror) a private copy in the cache, made as it is hashed, that has no name anyone could
/// rename something onto and that the original's owner cannot write. A local tar is hashed
/// and unpacked from one read, and needs none.
fn open_kept(job: &Job<'_>, source: &Source) -> Result<Option<std::fs::File>, InstallError> {
    match source {
        Source::Http(t) => download::open_partial(&t.partial)
            .map(Some)
            .map_err(|source| {
                NetError::Write {
                    path: t.partial.display().to_string(),
                    source,
                }
                .into()
            }),
        Source::File(_) if is_zip(job.asset.kind) => {
            let dir = job.store.downloads_dir();
            crate::fs::create_dirs(&dir)
                .and_then(|()| tempfile::tempfile_in(&dir))
                .map(Some)
                .map_err(|e| {
                    StoreError::from(IoError::at("create a private copy in", &dir)(e)).into()
                })
        }
        Source::File(_) => Ok(None),
    }
}

/// Download (or read) the archive while the unpacker consumes it; `kept` is its file
/// ([`open_kept`]).
async fn fetch_and_unpack(
    http: &Http,
    job: &Job<'_>,
    source: &Source,
    kept: Option<&std::fs::File>,
    pkg: &Path,
    hashing: &unpack::Hashing,
) -> Result<(Fetched, Result<Unpacked, UnpackError>), InstallError> {
    let kind = job.asset.kind;
    if let (AssetKind::Wheel, Some(file)) = (kind, kept) {
        let dest = wheel_dir(job, pkg);
        crate::fs::create_dirs(&dest)
            .map_err(|e| InstallError::from(StoreError::from(IoError::at("create", &dest)(e))))?;
        return fetch_and_unpack_wheel(http, job, source, file, &dest, hashing.clone()).await;
    }
    if let (true, Some(file)) = (is_zip(kind), kept) {
        // Zip needs random access: download first, then unpack from the same open file.
        let fetched = fetch(http, job, source, kept, Sink::None).await?;
        swap_for_test(source);
        let root = kind
            .member_root(job.target)
            .filter(|_| job.store.wheel_tag().is_none());
        let unpacked = unpack::unpack_zip(file, pkg, Limits::default(), root.as_deref());
        return Ok((fetched, unpacked));
    }
    // A few MB in flight at most: enough to keep both sides busy, small enough for peak RSS.
    let (tx, rx) = mpsc::channel::<Chunk>(16);
    let dest = pkg.to_path_buf();
    let root = kind.member_root(job.target);
    let unpacker = Unpacker {
        tx: Some(tx),
        file: None,
        thread: Some(unpack::spawn_named("unpack", move || {
            let reader = ChannelReader::new(rx);
            unpack::unpack_stream(kind, reader, &dest, Limits::default(), root.as_deref())
        })),
    };
    let sink = unpacker.tx.as_ref().map_or(Sink::None, Sink::Chunks);
    let fetched = fetch(http, job, source, kept, sink).await;
    let unpacked = unpacker.finish();
    Ok((fetched?, unpacked))
}

/// Where a wheel is unpacked: a wheel tree (`install --python`) is the whole wheel, so the
/// staging dir itself; a plain install keeps only its package, so `<staging>/.wheel`, whose
/// `codex_cli_bin/` is moved up once checked ([`package::hoist_wheel_package`]).
fn wheel_dir(job: &Job<'_>, pkg: &Path) -> PathBuf {
    match job.store.wheel_tag() {
        Some(_) => pkg.to_path_buf(),
        None => pkg.join(package::WHEEL_SUBDIR),
    }
}

/// A wheel: its entries are inflated in parallel from `kept` (the `.partial`, or the
/// private copy of a local wheel) as it is written ([`unpack::unpack_wheel_growing`]), into
/// `pkg` ([`wheel_dir`]).
async fn fetch_and_unpack_wheel(
    http: &Http,
    job: &Job<'_>,
    source: &Source,
    kept: &std::fs::File,
    pkg: &Path,
    hashing: unpack::Hashing,
) -> Result<(Fetched, Result<Unpacked, UnpackError>), InstallError> {
    let path = match source {
        Source::File(path) => path,
        Source::Http(t) => &t.partial,
    };
    let cloned = kept
        .try_clone()
        .map_err(|e| StoreError::from(IoError::at("read", path)(e)))?;
    let file = unpack::Growing::new(cloned);
    let dest = pkg.to_path_buf();
    let growing = std::sync::Arc::clone(&file);
    let unpacker = Unpacker {
        tx: None,
        file: Some(std::sync::Arc::clone(&file)),
        thread: Some(unpack::spawn_named("walk", move || {
            unpack::unpack_wheel_growing(&growing, &dest, Limits::default(), &hashing)
        })),
    };
    let written = |len| file.publish(len);
    let fetched = fetch(http, job, source, Some(kept), Sink::Written(&written)).await;
    if fetched.is_ok() {
        swap_for_test(source);
    }
    match &fetched {
        Ok(Fetched::Complete { .. }) => file.complete(),
        _ => file.stop(),
    }
    let unpacked = unpacker.finish();
    Ok((fetched?, unpacked))
}

/// The unpacker thread and what feeds it: the channel of a streamed archive, or the growing
/// file of a wheel. Dropped part way (Ctrl-C drops the install future mid-download), it closes
/// the channel or stops the file and waits for the thread, so nothing is written into the
/// staging dir once its `Staging` is being removed.
struct Unpacker {
    tx: Option<mpsc::Sender<Chunk>>,
    file: Option<std::sync::Arc<unpack::Growing>>,
    thread: Option<std::thread::JoinHandle<Result<Unpacked, UnpackError>>>,
}

impl Unpacker {
    /// Signal the end of the archive and take the unpacker's result.
    fn finish(mut self) -> Result<Unpacked, UnpackError> {
        self.join()
    }

    fn join(&mut self) -> Result<Unpacked, UnpackError> {
        drop(self.tx.take());
        if let Some(file) = self.file.take() {
            // Complete already when the download finished; otherwise its readers stop here.
            file.stop();
        }
        match self.thread.take().map(std::thread::JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(payload)) => Err(UnpackError::panicked("unpacker", payload)),
            None => Err(UnpackError::panicked("unpacker", Box::new("joined twice"))),
        }
    }
}

impl Drop for Unpacker {
    fn drop(&mut self) {
        if self.thread.is_some() {
            let _ = self.join();
        }
    }
}

/// Hash the archive into `kept` (from [`open_kept`]) and pass it to `sink`.
async fn fetch(
    http: &Http,
    job: &Job<'_>,
    source: &Source,
    kept: Option<&std::fs::File>,
    sink: Sink<'_>,
) -> Result<Fetched, NetError> {
    match (source, kept) {
        (Source::File(path), _) => {
            tracing::debug!(path = %path.display(), "reading the archive from a file");
            let sha512 = job.asset.expected.needs_sha512();
            download::read_local_into(path, kept, sha512, sink, job.progress).await
        }
        (Source::Http(t), Some(file)) => {
            download::fetch_into(http, t, file, sink, job.progress).await
        }
        (Source::Http(t), None) => download::fetch(http, t, sink, job.progress).await,
    }
}

/// Run `codex --version` from the staging dir and require the pinned version. It runs in a
/// private CODEX_HOME ([`crate::prove`]): installing never touches the user's.
async fn prove(codex: &Path, version: &CodexVersion) -> Result<(), InstallError> {
    let output = crate::prove::codex_version(codex, Duration::from_secs(60))
        .await
        .map_err(|e| match e {
            crate::prove::VersionError::ScratchHome { source, .. } => {
                InstallError::ScratchHome { source }
            }
            crate::prove::VersionError::TimedOut { secs, .. } => InstallError::DoesNotRun {
                source: std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("`codex --version` did not finish within {secs}s"),
                ),
            },
            other => InstallError::DoesNotRun {
                source: other.into_io(),
            },
        })?;
    if !output.success() || output.version().as_ref() != Some(version) {
        return Err(InstallError::WrongVersion {
            expected: version.clone(),
            said: if output.stdout.is_empty() {
                output.stderr.trim().chars().take(200).collect()
            } else {
                output.stdout
            },
        });
    }
    Ok(())
}

/// Move the verified archive from `.partial` to its final name, so `mirror --from-cache` and
/// reinstalls need no network. Best effort: the runtime is already installed.
fn keep_archive(store: &Store, partial: &Path, asset: &Asset, sha256: &Sha256) {
    if partial.exists() {
        let dest = store.archive_path(&asset.name, sha256);
        if let Some(dir) = dest.parent() {
            let _ = crate::fs::create_dirs(dir);
        }
        let _ = std::fs::rename(partial, dest);
        download::discard_partial(partial);
    }
}

/// A blocking `Read` over the chunks the downloader sends.
struct ChannelReader {
    rx: mpsc::Receiver<Chunk>,
    current: Chunk,
}

impl ChannelReader {
    fn new(rx: mpsc::Receiver<Chunk>) -> Self {
        ChannelReader {
            rx,
            current: Chunk::new(),
        }
    }
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(c) => self.current = c,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}
