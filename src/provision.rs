//! "Make this runtime present": the library's entry point for every command that needs a
//! runtime (install, quickstart, wheel, pin, mirror, doctor).
//!
//! Warm path first (the pin is installed: a stat and a receipt read, no lock, no async runtime,
//! no HTTP client). Otherwise: take the artifact lock, re-check, then ask the sources in order,
//! one at a time (a later source, and the pip or npm lookup that locates its registry, is not
//! touched when an earlier one serves): a source that cannot be reached or cannot serve this
//! version and target hands over to the next at once; a checksum mismatch on one source is a
//! warning and the next is tried. The store's guarantees (lock, staging, rename, receipt) are
//! the same whichever source served the bytes.

use std::path::PathBuf;
use std::time::Instant;

use crate::error::Hint;
use crate::install::{self, InstallError, Job, Outcome};
use crate::net::{Http, NetConfig, Token};
use crate::pin::{CodexVersion, Pin, PinSource, Request, VERSION_ENV};
use crate::plan::{self, Asset, Locate, Pins, Sources};
use crate::platform::{AssetKind, Target};
use crate::report::{human_bytes, Reporter};
use crate::sources::{self, locate, AllSourcesFailed, Attempt, Location, Session, SourceKind};
use crate::store::{Adopted, ArtifactLock, InstalledRuntime, Store};
use crate::verify::{DigestSource, Expectations, Expected};

/// How to find, fetch and store a runtime: plain inputs (the command line fills them in).
/// [`Settings::default`] holds every default, and the command line's flags show and use it.
#[derive(Debug, Clone)]
pub struct Settings {
    pub version: Option<String>,
    pub target: Option<String>,
    pub cache_dir: Option<PathBuf>,
    pub mirror: Option<String>,
    pub github_api_url: String,
    pub github_download_url: String,
    /// `--source` values (comma lists allowed); empty means `auto`.
    pub sources: Vec<String>,
    pub index_url: Option<String>,
    pub npm_registry: Option<String>,
    /// The interpreter whose pip is asked for its default index (`--python`).
    pub python: Option<PathBuf>,
    pub allow_http: bool,
    pub connect_timeout: u64,
    pub read_timeout: u64,
    pub retries: u32,
}

/// Making a runtime present failed.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error("could not read the current directory")]
    Cwd(#[source] std::io::Error),
    #[error("invalid mirror path `{path}`")]
    MirrorPath {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{0}` is neither a URL nor a directory")]
    BadMirror(String),
    #[error("could not start the async runtime")]
    AsyncRuntime(#[source] std::io::Error),
    #[error("invalid path `{}`", .0.display())]
    ArchivePath(PathBuf, #[source] std::io::Error),
    #[error("`{0}` is not a Codex release asset, runtime wheel or npm tarball")]
    NotAnAsset(String),
    #[error("could not read `{}`", .0.display())]
    ReadArchive(PathBuf, #[source] std::io::Error),
    #[error("no digest to verify `{0}` against")]
    NoDigest(String),
    #[error("`{}` is not an absolute path", .0.display())]
    NotAbsolute(PathBuf),
    #[error(transparent)]
    Pin(#[from] crate::pin::PinError),
    #[error(transparent)]
    Platform(#[from] crate::platform::PlatformError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Lock(#[from] crate::store::LockError),
    #[error(transparent)]
    Source(#[from] sources::UnknownSource),
    #[error(transparent)]
    Net(#[from] crate::net::NetError),
    #[error(transparent)]
    Plan(#[from] plan::PlanError),
    #[error(transparent)]
    Latest(#[from] AllSourcesFailed),
    #[error(transparent)]
    Run(#[from] sources::RunError),
    #[error(transparent)]
    Install(#[from] InstallError),
    #[error(transparent)]
    Interrupted(#[from] crate::interrupt::Interrupted),
}

impl Hint for ProvisionError {
    fn hint(&self) -> String {
        match self {
            ProvisionError::Cwd(_) => "run it from a directory that exists and can be read".into(),
            ProvisionError::MirrorPath { .. } | ProvisionError::BadMirror(_) => {
                "pass `--mirror https://host/path` or `--mirror file:///dir`".into()
            }
            ProvisionError::AsyncRuntime(_) => "the system refused a thread or a timer: check the process limits (`ulimit -u`)".into(),
            ProvisionError::ArchivePath(..) | ProvisionError::NotAbsolute(_) | ProvisionError::ReadArchive(..) => {
                "check the path given to `--archive`".into()
            }
            ProvisionError::NotAnAsset(_) => "pass a codex-package-<target>.tar.zst/.tar.gz, codex-<target>.tar.gz/.exe.zip, openai_codex_cli_bin-*.whl or codex-<v>-<platform>.tgz".into(),
            ProvisionError::NoDigest(_) => "pass `--sha256 HEX`, pin it in codex-runtime.toml (`codex-bootstrap pin`), or accept it unverified with `--trust-archive`".into(),
            ProvisionError::Pin(e) => e.hint(),
            ProvisionError::Platform(e) => e.hint(),
            ProvisionError::Store(e) => e.hint(),
            ProvisionError::Lock(e) => e.hint(),
            ProvisionError::Source(e) => e.hint(),
            ProvisionError::Net(e) => e.hint(),
            ProvisionError::Plan(e) => e.hint(),
            ProvisionError::Latest(e) => e.hint(),
            ProvisionError::Run(e) => e.hint(),
            ProvisionError::Install(e) => e.hint(),
            ProvisionError::Interrupted(e) => e.hint(),
        }
    }

    fn is_usage(&self) -> bool {
        match self {
            ProvisionError::BadMirror(_) | ProvisionError::NotAnAsset(_) => true,
            ProvisionError::Pin(e) => e.is_usage(),
            ProvisionError::Platform(e) => e.is_usage(),
            ProvisionError::Source(e) => e.is_usage(),
            _ => false,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            version: None,
            target: None,
            cache_dir: None,
            mirror: None,
            github_api_url: crate::github::DEFAULT_API_URL.to_string(),
            github_download_url: crate::github::DEFAULT_DOWNLOAD_URL.to_string(),
            sources: Vec::new(),
            index_url: None,
            npm_registry: None,
            python: None,
            allow_http: false,
            connect_timeout: 30,
            read_timeout: 30,
            retries: 5,
        }
    }
}

/// The resolved inputs of every runtime-resolving command: no network, no writes.
pub struct Context {
    pub pin: Pin,
    pub target: Target,
    pub store: Store,
    /// GitHub's release downloads and API.
    pub github: Sources,
    /// `--mirror`, in the same layout.
    pub mirror: Option<Sources>,
    /// The sources to try, in order.
    pub order: Vec<SourceKind>,
    pub settings: Settings,
    cwd: PathBuf,
    python_index: std::sync::OnceLock<Location>,
    npm_registry: std::sync::OnceLock<Location>,
    /// The registries' credentials, shared with the HTTP client: filled in when (and only if)
    /// a registry source is reached and located.
    credentials: crate::net::Credentials,
}

impl Context {
    /// Pin, target, store and sources.
    pub fn resolve(settings: &Settings) -> Result<Context, ProvisionError> {
        let cwd = std::env::current_dir().map_err(ProvisionError::Cwd)?;
        let env = std::env::var(VERSION_ENV).ok();
        let pin = Pin::resolve(settings.version.as_deref(), env.as_deref(), &cwd)?;
        let target = match &settings.target {
            Some(t) => t.parse::<Target>()?,
            None => Target::host()?,
        };
        let store = Store::locate(settings.cache_dir.as_deref())?;
        let api_url = settings.github_api_url.trim_end_matches('/').to_string();
        let mirror = match &settings.mirror {
            Some(m) if !m.trim().is_empty() => Some(Sources {
                download_base: mirror_base(m)?,
                mirror: true,
                api_url: api_url.clone(),
            }),
            _ => None,
        };
        let order = sources::parse_order(&settings.sources, mirror.is_some())?;
        let version = match &pin.request {
            Request::Exact(v) => v.to_string(),
            Request::Latest => "latest".into(),
        };
        tracing::debug!(%version, from = %pin.source, %target, data = %store.data_dir().display(), cache = %store.cache_dir().display(), "pin");
        tracing::debug!(
            order = %order.iter().map(|k| k.name()).collect::<Vec<_>>().join(", "),
            mirror = mirror.as_ref().map(|m| crate::logging::url_str(&m.download_base)),
            "sources"
        );
        Ok(Context {
            pin,
            target,
            store,
            github: Sources {
                download_base: settings.github_download_url.clone(),
                mirror: false,
                api_url,
            },
            mirror,
            order,
            settings: settings.clone(),
            cwd,
            python_index: std::sync::OnceLock::new(),
            npm_registry: std::sync::OnceLock::new(),
            credentials: crate::net::Credentials::default(),
        })
    }

    /// The pinned version, when it is known without the network.
    pub fn exact_version(&self) -> Option<&CodexVersion> {
        match &self.pin.request {
            Request::Exact(v) => Some(v),
            Request::Latest => None,
        }
    }

    /// Where the Python index and the npm registry are, each located on first use.
    pub fn registries(&self) -> (&Location, &Location) {
        (self.python_index(), self.npm_registry())
    }

    /// The Python index, located the first time its source is reached (it may ask pip).
    pub fn python_index(&self) -> &Location {
        self.python_index.get_or_init(|| {
            self.locate(
                SourceKind::PythonIndex,
                &self.settings.index_url,
                locate::python_index,
            )
        })
    }

    /// The npm registry, located the first time its source is reached (it may ask npm).
    pub fn npm_registry(&self) -> &Location {
        self.npm_registry.get_or_init(|| {
            self.locate(
                SourceKind::Npm,
                &self.settings.npm_registry,
                locate::npm_registry,
            )
        })
    }

    /// Locate one registry and hand its credentials to the HTTP client. Each is located on its
    /// own: reaching the Python index never runs `npm`.
    fn locate(
        &self,
        kind: SourceKind,
        flag: &Option<String>,
        find: fn(&locate::LocateInputs) -> Location,
    ) -> Location {
        if !self.order.contains(&kind) {
            return Location::Missing("not among the sources".into());
        }
        let location = find(&locate::LocateInputs {
            flag: flag.clone(),
            cwd: self.cwd.clone(),
            python: self
                .settings
                .python
                .clone()
                .filter(|p| !p.as_os_str().is_empty()),
            cache_file: self.store.registries_file(),
        });
        if let Some(l) = location.found() {
            self.credentials.add(l.credentials.clone());
        }
        location
    }

    /// The `bin/codex` digest a manifest pins for `version` on `target`.
    pub fn codex_sha256_for(
        &self,
        version: &CodexVersion,
        target: &Target,
    ) -> Option<crate::verify::Sha256> {
        self.pin
            .pinned_asset(version, target)
            .and_then(|(_, a)| a.codex_sha256)
    }

    /// What a plan of `version` for `target` is built from.
    pub fn plan_inputs<'a>(
        &'a self,
        version: &'a CodexVersion,
        target: &'a Target,
        pins: Pins,
    ) -> plan::Inputs<'a> {
        plan::Inputs {
            pin: &self.pin,
            version,
            target,
            order: &self.order,
            github: &self.github,
            mirror: self.mirror.as_ref(),
            wheel_tags: target
                .wheel_platform_tags()
                .into_iter()
                .map(String::from)
                .collect(),
            pins,
            registries: self,
        }
    }
}

impl plan::Registries for Context {
    fn python_index(&self) -> plan::Registry<'_> {
        registry(Context::python_index(self))
    }
    fn npm(&self) -> plan::Registry<'_> {
        registry(self.npm_registry())
    }
    fn located(&self, kind: SourceKind) -> bool {
        match kind {
            SourceKind::PythonIndex => self.python_index.get().is_some(),
            SourceKind::Npm => self.npm_registry.get().is_some(),
            _ => true,
        }
    }
}

fn registry(l: &Location) -> plan::Registry<'_> {
    match l {
        Location::Found(l) => plan::Registry::Found {
            url: &l.url,
            from: &l.from,
        },
        Location::Missing(reason) => plan::Registry::Missing(reason),
    }
}

/// A mirror as a URL base: a bare directory path becomes `file://`.
fn mirror_base(m: &str) -> Result<String, ProvisionError> {
    let m = m.trim().trim_end_matches('/');
    if m.contains("://") {
        return Ok(m.to_string());
    }
    let path = std::path::absolute(m).map_err(|source| ProvisionError::MirrorPath {
        path: m.to_string(),
        source,
    })?;
    reqwest::Url::from_directory_path(&path)
        .map(|u| u.to_string().trim_end_matches('/').to_string())
        .map_err(|_| ProvisionError::BadMirror(m.to_string()))
}

/// The network side, built only when the warm path did not answer.
pub struct Online {
    pub runtime: tokio::runtime::Runtime,
    pub http: Http,
}

impl Online {
    pub fn new(ctx: &Context) -> Result<Online, ProvisionError> {
        let settings = &ctx.settings;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(ProvisionError::AsyncRuntime)?;
        let api_origin = reqwest::Url::parse(&settings.github_api_url).ok();
        let http = Http::new(NetConfig {
            connect_timeout: std::time::Duration::from_secs(settings.connect_timeout.max(1)),
            read_timeout: std::time::Duration::from_secs(settings.read_timeout.max(1)),
            allow_http: settings.allow_http,
            attempts: settings.retries.max(1),
            token: Token::from_env().map(|(t, _)| t),
            api_origin,
            credentials: ctx.credentials.clone(),
        })?;
        Ok(Online { runtime, http })
    }

    /// `latest` -> a version, with how it was answered; an exact pin as it is.
    pub fn resolve_version(
        &self,
        ctx: &Context,
        session: &Session<'_>,
        ui: &dyn Reporter,
    ) -> Result<(CodexVersion, Option<plan::Resolved>), AllSourcesFailed> {
        match &ctx.pin.request {
            Request::Exact(v) => Ok((v.clone(), None)),
            Request::Latest => {
                let tags: Vec<String> = ctx
                    .target
                    .wheel_platform_tags()
                    .into_iter()
                    .map(String::from)
                    .collect();
                let latest = self.runtime.block_on(sources::latest(
                    session,
                    &ctx.order,
                    &ctx.github.api_url,
                    ctx,
                    &ctx.target,
                    &tags,
                ))?;
                tracing::debug!(from = %latest.resolved.from, "latest = {}", latest.version);
                ui.status(
                    "Resolved",
                    &format!("latest = {} ({})", latest.version, latest.resolved.from),
                );
                Ok((latest.version, Some(latest.resolved)))
            }
        }
    }
}

/// `install --archive`: a local file instead of a download.
#[derive(Debug, Clone)]
pub struct LocalArchive {
    pub path: PathBuf,
    pub sha256: Option<crate::verify::Sha256>,
    pub trust: bool,
}

impl LocalArchive {
    /// The asset for this file: its kind from its name, its expected digest from the manifest
    /// that pins that very file (as a GitHub asset or a wheel), else `--sha256`, else (with
    /// `--trust-archive`) whatever it hashes to, recorded as unverified.
    fn asset(&self, ctx: &Context, version: &CodexVersion) -> Result<Asset, ProvisionError> {
        let path = std::path::absolute(&self.path)
            .map_err(|e| ProvisionError::ArchivePath(self.path.clone(), e))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let kind =
            AssetKind::from_name(&name).ok_or_else(|| ProvisionError::NotAnAsset(name.clone()))?;
        let size = std::fs::metadata(&path)
            .map_err(|e| ProvisionError::ReadArchive(path.clone(), e))?
            .len();
        // The pins on this very file, as they compose, then `--sha256`: all must hold.
        let pins = ctx
            .plan_inputs(version, &ctx.target, Pins::Enforce)
            .pins_for(kind, &name)?;
        let mut hashed = None;
        let mut hash = || -> Result<crate::verify::Sha256, ProvisionError> {
            if let Some(h) = hashed {
                return Ok(h);
            }
            let h = crate::verify::hash_file(&path)
                .map_err(|e| ProvisionError::ReadArchive(path.clone(), e))?
                .0;
            hashed = Some(h);
            Ok(h)
        };
        let mut all = Vec::new();
        for p in &pins {
            let e = match p.narrow(None) {
                Some(e) => e,
                // Several accepted digests: the file's own says which one it must be.
                None => {
                    let actual = crate::verify::Digest::Sha256(hash()?);
                    p.narrow(Some(&actual)).unwrap_or(Expected {
                        digest: p.any_of[0],
                        source: p.from.clone(),
                    })
                }
            };
            all.push(e);
        }
        if let Some(sha256) = self.sha256 {
            all.push(Expected::sha256(sha256, DigestSource::Flag));
        }
        let expected = match Expectations::from_vec(all) {
            Some(e) => e,
            None if self.trust => {
                Expectations::one(Expected::sha256(hash()?, DigestSource::Unverified))
            }
            None => return Err(ProvisionError::NoDigest(name)),
        };
        let url = reqwest::Url::from_file_path(&path)
            .map_err(|_| ProvisionError::NotAbsolute(path.clone()))?
            .to_string();
        Ok(Asset {
            name,
            kind,
            size: Some(size),
            url,
            expected,
            source: SourceKind::Archive,
        })
    }
}

/// The result of provisioning, for reports.
pub struct Provisioned {
    pub outcome: Outcome,
    pub pin_source: PinSource,
    /// Where `latest` was answered, when it was asked for.
    pub resolved_from: Option<String>,
    pub elapsed: std::time::Duration,
}

/// Make sure the pinned runtime is installed (the warm path when it is), quietly unless `ui`
/// says otherwise. Used by `install`, `quickstart`, `wheel` and `install --python`.
pub fn ensure_installed(
    settings: &Settings,
    ui: &dyn Reporter,
) -> Result<InstalledRuntime, ProvisionError> {
    let ctx = Context::resolve(settings)?;
    Ok(provision(&ctx, false, None, ui)?.outcome.into_runtime())
}

/// Whether an install failure is the source's fault (try the next one) rather than ours.
fn source_specific(e: &InstallError) -> bool {
    match e {
        InstallError::DigestMismatch(_)
        | InstallError::CodexMismatch { .. }
        | InstallError::WrongVersion { .. }
        | InstallError::Unstable { .. }
        | InstallError::Net(_) => true,
        InstallError::Unpack(u) => !matches!(u, crate::unpack::UnpackError::Write { .. }),
        InstallError::DoesNotRun { .. }
        | InstallError::ScratchHome { .. }
        | InstallError::Store(_) => false,
    }
}

/// Warm path, else lock, re-check, then the sources in order: fetch, verify, unpack, store.
pub fn provision(
    ctx: &Context,
    force: bool,
    archive: Option<&LocalArchive>,
    ui: &dyn Reporter,
) -> Result<Provisioned, ProvisionError> {
    let started = Instant::now();
    let resolved = std::cell::RefCell::new(None);
    let done = |outcome| Provisioned {
        outcome,
        pin_source: ctx.pin.source.clone(),
        resolved_from: resolved.borrow().clone(),
        elapsed: started.elapsed(),
    };
    for w in &ctx.pin.warnings {
        ui.warn(&w.to_string());
    }
    if let Some(v) = ctx.exact_version() {
        if !force {
            if let Some(rt) = ctx.store.installed(v, &ctx.target)? {
                if !ctx.store.is_legacy(&rt) {
                    tracing::debug!(dir = %rt.dir.display(), "warm path: codex {v} is installed");
                    return Ok(done(Outcome::AlreadyInstalled(rt)));
                }
                tracing::debug!(dir = %rt.dir.display(), "codex {v} is in the old layout: adopting it");
                if let Some(rt) = adopt_legacy(ctx, v, ui)? {
                    return Ok(done(Outcome::AlreadyInstalled(rt)));
                }
            }
            tracing::debug!("codex {v} ({}) is not installed", ctx.target);
        }
    }

    let online = Online::new(ctx)?;
    // Vet the mirror before any request: a refused mirror should fail fast.
    if let Some(m) = &ctx.mirror {
        if crate::net::local_path(&m.download_base).is_none() {
            online.http.url(&m.download_base)?;
        }
    }
    let session = Session::new(&online.http);
    let (version, resolved_latest) = online.resolve_version(ctx, &session, ui)?;
    *resolved.borrow_mut() = resolved_latest.as_ref().map(|r| r.from.clone());
    // The one plan: built before anything is downloaded, so conflicting pins stop us here.
    let inputs = ctx.plan_inputs(&version, &ctx.target, Pins::Enforce);
    let plan = inputs.plan(Locate::WhenReached, resolved_latest)?;
    for w in &plan.warnings {
        ui.warn(w);
    }
    let _lock = lock(ctx, &version, ui)?;
    // Another installer may have finished while we waited (or, for `latest`, the version it
    // resolved to is one of the old layout's).
    if !force {
        if let Some(adopted) = ctx.store.adopt_legacy(&version, &ctx.target)? {
            return Ok(done(Outcome::AlreadyInstalled(report_adoption(
                adopted, &version, ctx, ui,
            ))));
        }
        if let Some(rt) = ctx.store.installed(&version, &ctx.target)? {
            tracing::debug!(dir = %rt.dir.display(), "installed by another process while we waited");
            ui.status(
                "Found",
                &format!("codex {version} installed by another process"),
            );
            return Ok(done(Outcome::AlreadyInstalled(rt)));
        }
    }
    crate::store::staging::clean_stale(&ctx.store, &version, &ctx.target);

    let job = JobInputs {
        ctx,
        http: &online.http,
        version: &version,
        tag: version.tag(),
        codex_sha256: plan
            .codex_sha256
            .as_ref()
            .map(|c| (c.sha256, c.from.clone())),
        force,
        ui,
    };
    // A fresh install in the data directory makes an old layout's copy (one that could not be
    // moved, or one `--force` replaced) redundant.
    let settled = |outcome: Outcome| {
        if let Outcome::Installed(_) = &outcome {
            crate::store::remove::discard_legacy(&ctx.store, &version, &ctx.target);
        }
        done(outcome)
    };
    if let Some(a) = archive {
        let asset = a.asset(ctx, &version)?;
        tracing::debug!(path = %a.path.display(), expected = %asset.expected.primary().digest, from = %asset.expected.primary().source, "source: local archive");
        let installed = crate::interrupt::or_interrupted(job.install(&asset));
        return Ok(settled(online.runtime.block_on(installed)??));
    }

    let what = || format!("install codex {version} for {}", ctx.target);
    // Ctrl-C drops this future: the staging dir, the unpacker and a proving child go with it.
    let outcome = online
        .runtime
        .block_on(crate::interrupt::or_interrupted(sources::run(
            &session,
            &inputs,
            &plan,
            what,
            ui,
            async |asset: &Asset| match job.install(asset).await {
                Ok(outcome) => Attempt::Served(outcome),
                Err(e) if source_specific(&e) => Attempt::Next(sources::Failed::of(e)),
                Err(e) => Attempt::Abort(e.into()),
            },
        )))??;
    Ok(settled(outcome))
}

/// Take the artifact lock of `version`, saying so when another process holds it. The cache
/// directory (where locks live) is made first, with its `CACHEDIR.TAG`.
fn lock(
    ctx: &Context,
    version: &CodexVersion,
    ui: &dyn Reporter,
) -> Result<ArtifactLock, ProvisionError> {
    ctx.store.prepare_cache()?;
    let lock_path = ctx.store.lock_path(version, &ctx.target);
    Ok(ArtifactLock::acquire(&lock_path, || {
        ui.status(
            "Waiting",
            &format!(
                "for another codex-bootstrap installing {version} ({})",
                lock_path.display()
            ),
        )
    })?)
}

/// The pin is installed under the old layout (runtimes in the cache directory): move it into
/// the data directory under its lock, or use it in place where it cannot be moved. None when it
/// went away meanwhile (then it is installed as usual).
fn adopt_legacy(
    ctx: &Context,
    version: &CodexVersion,
    ui: &dyn Reporter,
) -> Result<Option<InstalledRuntime>, ProvisionError> {
    let _lock = lock(ctx, version, ui)?;
    Ok(match ctx.store.adopt_legacy(version, &ctx.target)? {
        Some(adopted) => Some(report_adoption(adopted, version, ctx, ui)),
        // Another process moved it while we waited.
        None => ctx.store.installed(version, &ctx.target)?,
    })
}

fn report_adoption(
    adopted: Adopted,
    version: &CodexVersion,
    ctx: &Context,
    ui: &dyn Reporter,
) -> InstalledRuntime {
    match &adopted {
        Adopted::Moved { from, runtime } => ui.status(
            "Moved",
            &format!(
                "codex {version} from {} to {} (runtimes now live in the data directory)",
                from.display(),
                runtime.dir.display()
            ),
        ),
        Adopted::InPlace { runtime, why } => ui.status(
            "Using",
            &format!(
                "codex {version} where it is, {} (it could not be moved into {}: {why})",
                runtime.dir.display(),
                ctx.store.runtimes_dir().display()
            ),
        ),
    }
    adopted.into_runtime()
}

/// What every attempt shares.
struct JobInputs<'a> {
    ctx: &'a Context,
    http: &'a Http,
    version: &'a CodexVersion,
    tag: String,
    codex_sha256: Option<(crate::verify::Sha256, String)>,
    force: bool,
    ui: &'a dyn Reporter,
}

impl JobInputs<'_> {
    /// Fetch, verify, unpack and publish one asset.
    async fn install(&self, asset: &Asset) -> Result<Outcome, InstallError> {
        let ui = self.ui;
        if asset.expected.primary().source == DigestSource::Unverified {
            ui.warn(&format!(
                "installing `{}` without verification (--trust-archive)",
                asset.name
            ));
        }
        let progress = announce(asset, ui);
        let job = Job {
            store: &self.ctx.store,
            version: self.version,
            tag: &self.tag,
            target: &self.ctx.target,
            asset,
            force: self.force,
            codex_sha256: self.codex_sha256.clone(),
            progress: progress.as_ref(),
        };
        install::run(self.http, &job).await
    }
}

/// Say what is downloaded from where, and start its progress bar.
fn announce(asset: &Asset, ui: &dyn Reporter) -> Box<dyn crate::net::Progress> {
    ui.status(
        "Downloading",
        &format!(
            "{}{} from {}",
            asset.name,
            asset
                .size
                .map(|s| format!(" ({})", human_bytes(s)))
                .unwrap_or_default(),
            asset.source
        ),
    );
    ui.progress(asset.size, "Downloading")
}

/// The receipt's source, for reports (older receipts name none).
pub fn source_of(runtime: &InstalledRuntime) -> String {
    runtime
        .receipt
        .source
        .map(|s| s.name().to_string())
        .unwrap_or_else(|| {
            if runtime.receipt.source_url.starts_with("file:") {
                "archive".into()
            } else {
                "github".into()
            }
        })
}

/// The sources that can serve an interpreter's own wheel: the Python index alone (a lock
/// file's URLs included), since only it publishes the wheel pip and uv would choose.
pub const WHEEL_SOURCES: &[SourceKind] = &[SourceKind::PythonIndex];

impl Context {
    /// What the plan of an interpreter's wheel is built from: the interpreter's `tags` (most
    /// preferred first) that the runtime is published with for this target, in place of the
    /// target's own order; the Python index as the only source.
    pub fn wheel_plan_inputs<'a>(
        &'a self,
        version: &'a CodexVersion,
        tags: &[String],
    ) -> plan::Inputs<'a> {
        let published = self.target.wheel_platform_tags();
        let mut wanted: Vec<String> = tags
            .iter()
            .filter(|t| published.contains(&t.as_str()))
            .cloned()
            .collect();
        if wanted.is_empty() {
            wanted = tags.to_vec();
        }
        plan::Inputs {
            order: WHEEL_SOURCES,
            wheel_tags: wanted,
            ..self.plan_inputs(version, &self.target, Pins::Enforce)
        }
    }
}

/// `install --python`: the tree of the wheel pip or uv would choose for an interpreter that
/// accepts `tags` (most preferred first), in the store beside the full package
/// ([`Store::wheel_trees`]). Warm path: a tree for one of `tags` is there (a few stats).
/// Otherwise the plan of that wheel ([`Context::wheel_plan_inputs`]) is carried out: the wheel
/// the index lists for the first tag is streamed into the store by the same pipeline as every
/// runtime, under the lock of that tree. None when the Python index is not among the sources.
pub fn provision_wheel_tree(
    ctx: &Context,
    tags: &[String],
    force: bool,
    ui: &dyn Reporter,
) -> Result<Option<Provisioned>, ProvisionError> {
    let started = Instant::now();
    if !ctx.order.contains(&SourceKind::PythonIndex) {
        return Ok(None);
    }
    let done = |outcome, resolved_from| Provisioned {
        outcome,
        pin_source: ctx.pin.source.clone(),
        resolved_from,
        elapsed: started.elapsed(),
    };
    let installed = |version: &CodexVersion| -> Result<Option<InstalledRuntime>, ProvisionError> {
        let present = ctx.store.wheel_tree_stores();
        for tag in tags {
            if let Some(store) = present.iter().find(|s| s.wheel_tag() == Some(tag.as_str())) {
                if let Some(rt) = store.installed(version, &ctx.target)? {
                    return Ok(Some(rt));
                }
            }
        }
        Ok(None)
    };
    if let (Some(v), false) = (ctx.exact_version(), force) {
        if let Some(rt) = installed(v)? {
            tracing::debug!(dir = %rt.dir.display(), "warm path: the wheel tree of codex {v} is installed");
            return Ok(Some(done(Outcome::AlreadyInstalled(rt), None)));
        }
    }
    for w in &ctx.pin.warnings {
        ui.warn(&w.to_string());
    }
    let online = Online::new(ctx)?;
    let session = Session::new(&online.http);
    let (version, resolved) = online.resolve_version(ctx, &session, ui)?;
    let from = resolved.as_ref().map(|r| r.from.clone());
    if !force {
        if let Some(rt) = installed(&version)? {
            return Ok(Some(done(Outcome::AlreadyInstalled(rt), from)));
        }
    }
    ctx.store.prepare_cache()?;
    let inputs = ctx.wheel_plan_inputs(&version, tags);
    let plan = inputs.plan(Locate::WhenReached, resolved)?;
    for w in &plan.warnings {
        ui.warn(w);
    }
    let tag_str = version.tag();
    let codex_sha256 = plan
        .codex_sha256
        .as_ref()
        .map(|c| (c.sha256, c.from.clone()));
    let what = || {
        format!(
            "install the codex {version} wheel for {}",
            tags.first().map_or("", |t| t.as_str())
        )
    };
    let outcome = online
        .runtime
        .block_on(crate::interrupt::or_interrupted(sources::run(
            &session,
            &inputs,
            &plan,
            what,
            ui,
            async |asset: &Asset| {
                // The plan's candidates are the interpreter's tags: the wheel carries one.
                let tag = tags
                    .iter()
                    .find(|t| crate::platform::wheel_has_platform(&asset.name, t))
                    .or(tags.first())
                    .map_or("", String::as_str);
                let store = ctx.store.wheel_trees(tag);
                let lock_path = store.lock_path(&version, &ctx.target);
                let _lock = match ArtifactLock::acquire(&lock_path, || {
                    ui.status(
                        "Waiting",
                        &format!(
                            "for another codex-bootstrap installing {} ({})",
                            asset.name,
                            lock_path.display()
                        ),
                    )
                }) {
                    Ok(l) => l,
                    Err(e) => return Attempt::Abort(e.into()),
                };
                match store.installed(&version, &ctx.target) {
                    Ok(Some(rt)) if !force => {
                        return Attempt::Served(Outcome::AlreadyInstalled(rt))
                    }
                    Err(e) => return Attempt::Abort(e.into()),
                    _ => {}
                }
                crate::store::staging::clean_stale(&store, &version, &ctx.target);
                let progress = announce(asset, ui);
                let job = install::Job {
                    store: &store,
                    version: &version,
                    tag: &tag_str,
                    target: &ctx.target,
                    asset,
                    force,
                    codex_sha256: codex_sha256.clone(),
                    progress: progress.as_ref(),
                };
                match install::run(&online.http, &job).await {
                    Ok(outcome) => Attempt::Served(outcome),
                    Err(e) if source_specific(&e) => Attempt::Next(sources::Failed::of(e)),
                    Err(e) => Attempt::Abort(e.into()),
                }
            },
        )))??;
    Ok(Some(done(outcome, from)))
}
