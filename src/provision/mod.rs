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
use crate::net::{Http, NetConfig, NetSettings};
use crate::pin::{CodexVersion, Pin, PinSource, Request, VERSION_ENV};
use crate::plan::{self, Asset, Locate, Pins, Sources};
use crate::platform::{AssetKind, Target};
use crate::report::{human_bytes, Reporter};
use crate::sources::{self, locate, AllSourcesFailed, Attempt, Location, Session, SourceKind};
use crate::store::{Adopted, ArtifactLock, InstalledRuntime, Store};
use crate::verify::{DigestSource, Expectations, Expected};

mod archive;
mod error;
mod pins;
mod runtime;
mod wheel;

pub use archive::LocalArchive;
pub use error::ProvisionError;
pub use pins::{PinNotice, PinResolution};
pub use runtime::{provision, warm, Warm};
pub use wheel::{
    installed_wheel_tree, prepare_wheel_tree, provision_wheel_tree, Prepared, WHEEL_SOURCES,
};

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
    /// Timeouts, attempts and the plain-http policy.
    pub net: NetSettings,
    /// `--require-signature`, `--trusted-root`.
    pub signature: crate::provenance::SignaturePolicy,
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
            net: NetSettings::default(),
            signature: crate::provenance::SignaturePolicy::default(),
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
    /// The pin resolution every command shares ([`Context::pins`]).
    pins: std::sync::OnceLock<PinResolution>,
    /// The pin warnings said so far, each once.
    said: pins::Said,
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
        // Configured URLs lose their secrets here, before any plan holds them: the plan, its
        // printouts, errors and receipts see bare URLs, and the client alone the credentials.
        let credentials = crate::net::Credentials::default();
        let bare = |raw: &str| {
            let (url, scoped) = crate::net::split_secrets(raw);
            credentials.add(scoped);
            url
        };
        let api_url = bare(&settings.github_api_url)
            .trim_end_matches('/')
            .to_string();
        let download_base = bare(&settings.github_download_url);
        let mirror = match &settings.mirror {
            Some(m) if !m.trim().is_empty() => Some(Sources {
                download_base: mirror_url(&bare(m), &settings.net)?,
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
            mirror = mirror.as_ref().map(|m| crate::redact::DisplayUrl::new(&m.download_base).to_string()),
            "sources"
        );
        let mut settings = settings.clone();
        // A project's `require_signature = true` composes with the flag and the environment:
        // any of them requires a verified signature, and none of them can lift another's.
        if let Some(crate::pin::discover::PinVia::Manifest(m)) =
            pin.project.as_ref().map(|p| &p.via)
        {
            if m.require_signature {
                settings.signature.require = true;
                settings.signature.required_by = Some(m.origin.clone());
            }
        }
        Ok(Context {
            pin,
            target,
            store,
            github: Sources {
                download_base,
                mirror: false,
                api_url,
            },
            mirror,
            order,
            settings,
            cwd,
            python_index: std::sync::OnceLock::new(),
            npm_registry: std::sync::OnceLock::new(),
            credentials,
            pins: std::sync::OnceLock::new(),
            said: pins::Said::default(),
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
            return Location::Missing(locate::Unlocated::NotASource);
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

    /// Where `version`'s signature bundle may be: the mirror first, then GitHub's release
    /// downloads when GitHub is among the sources (a user who left it out is not sent there).
    pub fn bundle_sources(&self, version: &CodexVersion) -> crate::provenance::BundleSources {
        let mut bases = Vec::new();
        // An OCI repository holds no bundle files (yet): only a release-layout mirror does.
        if let Some(m) = self.mirror.as_ref().filter(|m| !m.is_oci()) {
            bases.push(m.download_base.as_str());
        }
        if self.order.contains(&SourceKind::Github) {
            bases.push(self.github.download_base.as_str());
        }
        let mut sources =
            crate::provenance::BundleSources::for_release(version, &self.target, &bases);
        if sources.none_because.is_none() && bases.is_empty() {
            sources.none_because =
                Some("GitHub is not among the sources, and there is no --mirror".into());
        }
        // A bundle the manifest pins proves the runtime whichever channel serves it.
        sources.pinned = self
            .pin
            .pinned_asset(version, &self.target)
            .and_then(|(m, a)| {
                let bytes = a.sigstore_bundle_bytes()?;
                Some((format!("sigstore_bundle in {}", m.origin), bytes))
            });
        sources
    }

    /// Where the release publishes OpenAI's Sigstore bundle for `target`'s `bin/codex`, when
    /// GitHub is among this run's sources and OpenAI signs that target (Linux); `None`
    /// otherwise (macOS and Windows carry the platform's own code signing).
    pub fn release_bundle_sources(
        &self,
        version: &CodexVersion,
        target: &Target,
    ) -> Option<crate::provenance::BundleSources> {
        if !self.order.contains(&SourceKind::Github) {
            return None;
        }
        let sources = crate::provenance::BundleSources::for_release(
            version,
            target,
            &[self.github.download_base.as_str()],
        );
        (!sources.urls.is_empty()).then_some(sources)
    }

    /// The release's bundle from `sources`, verified over `codex_sha256` before it is
    /// returned (what `pin` records and `mirror` copies), whatever this run requires of
    /// signatures: `Ok(None)` when the release has none.
    pub fn verified_release_bundle(
        &self,
        online: &Online,
        sources: &crate::provenance::BundleSources,
        version: &CodexVersion,
        codex_sha256: &crate::verify::Sha256,
    ) -> Result<Option<String>, crate::provenance::ProvenanceError> {
        let policy = crate::provenance::SignaturePolicy {
            require: false,
            ..self.settings.signature.clone()
        };
        let checked = online.runtime.block_on(crate::provenance::check(
            &online.http,
            sources,
            "bin/codex",
            codex_sha256,
            &crate::provenance::Signer::codex_release(version),
            &policy,
        ))?;
        Ok(checked.bundle)
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

/// `--mirror` as every command will use it, refused here (so `--dry-run` refuses what
/// `install` refuses) when a download could not use it: a scheme other than https (plain http
/// only to loopback or with `--allow-http`), or no host (`http://`). `file://./m1` and
/// `file://../m` are directories relative to the current one, as `mirror --out ./m1` names them.
fn mirror_url(m: &str, net: &NetSettings) -> Result<String, ProvisionError> {
    let m = m.trim();
    // An OCI repository: a reference, never a directory; a tag is the version's to give.
    if crate::oci::reference::looks_like_oci(m) {
        let r = crate::oci::Reference::parse(m)?;
        if r.tag.is_some() {
            return Err(crate::oci::OciError::BadReference {
                reference: m.to_string(),
                why: "`--mirror` names the repository; the tag is the version (`--version`)".into(),
            }
            .into());
        }
        let api = r.api_base();
        crate::net::allowed_url(&api, net.allow_http)?;
        return Ok(r.to_string());
    }
    let m = m
        .strip_prefix("file://")
        .filter(|path| path.starts_with('.'))
        .unwrap_or(m);
    if m.contains("://") && !m.starts_with("file:") {
        crate::net::allowed_url(m, net.allow_http)?;
    }
    let base = mirror_base(m)?;
    if base.starts_with("file:") && crate::net::local_path(&base).is_none() {
        return Err(ProvisionError::BadMirror(m.to_string()));
    }
    Ok(base)
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
        // Its blocking threads write downloads into their partial files, woken for each write.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .on_thread_start(crate::unpack::defer_on_wake)
            .build()
            .map_err(ProvisionError::AsyncRuntime)?;
        let config = NetConfig::new(&settings.net, &ctx.github.api_url, ctx.credentials.clone());
        let http = Http::new(config)?;
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
                    ctx.mirror
                        .as_ref()
                        .filter(|m| m.is_oci())
                        .map(|m| m.download_base.as_str()),
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

/// The receipt's source, for reports (older receipts name none).
pub fn source_of(runtime: &InstalledRuntime) -> String {
    runtime
        .receipt
        .source
        .map(|s| s.name().to_string())
        .unwrap_or_else(|| {
            if runtime.receipt.source_url.is_file() {
                "archive".into()
            } else {
                "github".into()
            }
        })
}
