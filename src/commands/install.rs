//! `codex-bootstrap install`: pin -> plan -> (warm path | lock -> fetch/verify/unpack/store)
//! -> prove -> report.
//!
//! The warm path (the pin is installed) is a stat and a receipt read: no lock, no async
//! runtime, no HTTP client. Everything network-shaped is built only when needed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use serde::Serialize;

use crate::cli::RuntimeArgs;
use crate::error::Failure;
use crate::github::Github;
use crate::install::{self, Job, Outcome};
use crate::net::{Http, NetConfig, Token};
use crate::pin::{CodexVersion, Pin, PinSource, Request, VERSION_ENV};
use crate::plan::{Asset, Choice, Plan, Sources};
use crate::platform::Target;
use crate::store::{ArtifactLock, InstalledRuntime, Store};
use crate::ui::{human_bytes, Ui};

#[derive(Debug, clap::Args)]
pub struct InstallArgs {
    #[command(flatten)]
    pub runtime: RuntimeArgs,

    /// Print the plan (version, pin source, asset, URLs, digest source) and touch nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Print one JSON object describing the installed runtime.
    #[arg(long, conflicts_with = "print_path")]
    pub json: bool,

    /// Print only the absolute path of `bin/codex`.
    #[arg(long)]
    pub print_path: bool,

    /// Reinstall even if the pin is already installed.
    #[arg(long)]
    pub force: bool,

    /// Re-hash the installed files against the receipt.
    #[arg(long)]
    pub verify: bool,

    /// No progress or status output.
    #[arg(long, short)]
    pub quiet: bool,

    /// Also install the runtime into this Python environment as `openai-codex-cli-bin`
    /// (default interpreter: the active virtualenv's, else `python3`).
    #[arg(long, value_name = "PY", num_args = 0..=1, default_missing_value = "")]
    pub python: Option<PathBuf>,

    /// With `--python`: install into an interpreter marked externally managed (PEP 668).
    #[arg(long, requires = "python")]
    pub break_system_packages: bool,

    /// Install from this local file (a codex-package `.tar.zst`/`.tar.gz`, a legacy
    /// `.tar.gz`/`.zip`, or an `openai_codex_cli_bin-*.whl`) instead of downloading.
    #[arg(long, value_name = "FILE")]
    pub archive: Option<PathBuf>,

    /// With `--archive`: the sha256 it must have (when no manifest pins it).
    #[arg(long, value_name = "HEX", requires = "archive")]
    pub sha256: Option<crate::verify::Sha256>,

    /// With `--archive`: install it without a digest to check; recorded as unverified.
    #[arg(long, requires = "archive", conflicts_with = "sha256")]
    pub trust_archive: bool,
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
    /// that pins that very asset, else `--sha256`, else (with `--trust-archive`) whatever it
    /// hashes to, recorded as unverified.
    fn asset(&self, ctx: &Context, version: &CodexVersion) -> anyhow::Result<Asset> {
        use crate::verify::{DigestSource, Expected};
        let path = std::path::absolute(&self.path)
            .with_context(|| format!("invalid path `{}`", self.path.display()))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let kind = crate::platform::AssetKind::from_name(&name).ok_or_else(|| {
            Failure::new(format!("`{name}` is not a Codex release asset, runtime wheel or npm tarball"))
                .hint("pass a codex-package-<target>.tar.zst/.tar.gz, codex-<target>.tar.gz/.exe.zip, openai_codex_cli_bin-*.whl, or codex-<version>-<platform>.tgz")
                .usage()
        })?;
        let size = std::fs::metadata(&path)
            .with_context(|| format!("could not read `{}`", path.display()))?
            .len();
        let pinned = ctx
            .pin
            .pinned_asset(version, &ctx.target)
            .filter(|(_, a)| a.asset == name)
            .and_then(|(m, a)| a.sha256.map(|d| (m, d)));
        let expected = match (pinned, self.sha256, self.trust) {
            (Some((m, sha256)), _, _) => Expected {
                sha256,
                source: DigestSource::Manifest { path: m.origin.clone() },
            },
            (None, Some(sha256), _) => Expected { sha256, source: DigestSource::Flag },
            (None, None, true) => Expected {
                sha256: crate::verify::hash_file(&path)
                    .with_context(|| format!("could not read `{}`", path.display()))?
                    .0,
                source: DigestSource::Unverified,
            },
            (None, None, false) => {
                return Err(Failure::new(format!("no digest to verify `{name}` against"))
                    .hint("pass `--sha256 HEX`, pin it in codex-runtime.toml (`codex-bootstrap pin`), or accept it unverified with `--trust-archive`")
                    .into())
            }
        };
        let url = reqwest::Url::from_file_path(&path)
            .map_err(|_| Failure::new(format!("`{}` is not an absolute path", path.display())))?
            .to_string();
        Ok(Asset {
            name,
            kind,
            size: Some(size),
            url,
            expected,
        })
    }
}

/// The resolved inputs of every runtime-resolving command.
pub struct Context {
    pub pin: Pin,
    pub target: Target,
    pub store: Store,
    pub sources: Sources,
}

impl Context {
    /// Pin, target, store and sources: no network, no filesystem writes.
    pub fn resolve(args: &RuntimeArgs) -> anyhow::Result<Context> {
        let cwd = std::env::current_dir().context("could not read the current directory")?;
        let env = std::env::var(VERSION_ENV).ok();
        let pin = Pin::resolve(args.version.as_deref(), env.as_deref(), &cwd)?;
        let target = match &args.target {
            Some(t) => t.parse::<Target>()?,
            None => Target::host()?,
        };
        let store = Store::locate(args.cache_dir.as_deref())?;
        let (download_base, mirror) = match &args.mirror {
            Some(m) if !m.trim().is_empty() => (mirror_base(m)?, true),
            _ => (args.github_download_url.clone(), false),
        };
        Ok(Context {
            pin,
            target,
            store,
            sources: Sources {
                download_base,
                mirror,
                api_url: args.github_api_url.trim_end_matches('/').to_string(),
            },
        })
    }

    /// The pinned version, when it is known without the network.
    pub fn exact_version(&self) -> Option<&CodexVersion> {
        match &self.pin.request {
            Request::Exact(v) => Some(v),
            Request::Latest => None,
        }
    }
}

/// A mirror as a URL base: a bare directory path becomes `file://`.
fn mirror_base(m: &str) -> anyhow::Result<String> {
    let m = m.trim().trim_end_matches('/');
    if m.contains("://") {
        return Ok(m.to_string());
    }
    let path = std::path::absolute(m).with_context(|| format!("invalid mirror path `{m}`"))?;
    reqwest::Url::from_directory_path(&path)
        .map(|u| u.to_string().trim_end_matches('/').to_string())
        .map_err(|_| {
            Failure::new(format!("`{m}` is neither a URL nor a directory"))
                .hint("pass `--mirror https://host/path` or `--mirror file:///dir`")
                .usage()
                .into()
        })
}

/// The network side, built only when the warm path did not answer.
pub struct Online {
    pub runtime: tokio::runtime::Runtime,
    pub http: Http,
}

impl Online {
    pub fn new(args: &RuntimeArgs) -> anyhow::Result<Online> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("could not start the async runtime")?;
        let api_origin = reqwest::Url::parse(&args.github_api_url).ok();
        let http = Http::new(NetConfig {
            connect_timeout: std::time::Duration::from_secs(args.connect_timeout.max(1)),
            read_timeout: std::time::Duration::from_secs(args.read_timeout.max(1)),
            allow_http: args.allow_http,
            attempts: args.retries.max(1),
            token: Token::from_env().map(|(t, _)| t),
            api_origin,
        })?;
        Ok(Online { runtime, http })
    }

    pub fn github(&self, ctx: &Context) -> Github<'_> {
        Github::new(&self.http, &ctx.sources.api_url)
    }

    /// `latest` -> the newest stable release's version.
    pub fn resolve_version(&self, ctx: &Context) -> anyhow::Result<CodexVersion> {
        match &ctx.pin.request {
            Request::Exact(v) => Ok(v.clone()),
            Request::Latest => {
                let release = self.runtime.block_on(self.github(ctx).latest())?;
                CodexVersion::parse(&release.tag_name).with_context(|| {
                    format!(
                        "the latest release's tag `{}` is not a Codex version",
                        release.tag_name
                    )
                })
            }
        }
    }
}

/// The result of provisioning, for reports.
pub struct Provisioned {
    pub outcome: Outcome,
    pub pin_source: PinSource,
    pub elapsed: std::time::Duration,
}

/// Make sure the pinned runtime is installed (the warm path when it is), quietly unless `ui`
/// says otherwise. Used by `install`, `quickstart`, `wheel` and `install --python`.
pub fn ensure_installed(args: &RuntimeArgs, ui: &Ui) -> anyhow::Result<InstalledRuntime> {
    let ctx = Context::resolve(args)?;
    Ok(provision(args, &ctx, false, None, ui)?
        .outcome
        .into_runtime())
}

/// Warm path, else lock, re-check, plan, fetch, verify, unpack, store.
pub fn provision(
    args: &RuntimeArgs,
    ctx: &Context,
    force: bool,
    archive: Option<&LocalArchive>,
    ui: &Ui,
) -> anyhow::Result<Provisioned> {
    let started = Instant::now();
    let done = |outcome| Provisioned {
        outcome,
        pin_source: ctx.pin.source.clone(),
        elapsed: started.elapsed(),
    };
    if let Some(v) = ctx.exact_version() {
        if !force {
            if let Some(rt) = ctx.store.installed(v, &ctx.target)? {
                return Ok(done(Outcome::AlreadyInstalled(rt)));
            }
        }
    }

    let online = Online::new(args)?;
    // Vet the download base before any request: a refused mirror should fail fast.
    if install::local_path(&ctx.sources.download_base).is_none() {
        online.http.url(&ctx.sources.download_base)?;
    }
    let version = online.resolve_version(ctx)?;
    let lock_path = ctx.store.lock_path(&version, &ctx.target);
    let _lock = ArtifactLock::acquire(&lock_path, || {
        ui.status(
            "Waiting",
            &format!(
                "for another codex-bootstrap installing {version} ({})",
                lock_path.display()
            ),
        )
    })?;
    // Another installer may have finished while we waited.
    if !force {
        if let Some(rt) = ctx.store.installed(&version, &ctx.target)? {
            ui.status(
                "Found",
                &format!("codex {version} installed by another process"),
            );
            return Ok(done(Outcome::AlreadyInstalled(rt)));
        }
    }
    install::clean_stale_staging(&ctx.store, &version, &ctx.target);

    let plan = Plan::offline(
        &ctx.pin,
        version.clone(),
        ctx.target.clone(),
        ctx.sources.clone(),
    );
    let asset = match archive {
        Some(a) => a.asset(ctx, &version)?,
        None => {
            if let Choice::FromRelease { api_url, .. } = &plan.choice {
                ui.status("Resolving", &format!("{} ({api_url})", plan.tag));
            }
            online.runtime.block_on(plan.settle(&online.github(ctx)))?
        }
    };
    if asset.expected.source == crate::verify::DigestSource::Unverified {
        ui.warn(&format!(
            "installing `{}` without verification (--trust-archive)",
            asset.name
        ));
    }
    ui.status(
        "Downloading",
        &format!(
            "{}{}",
            asset.name,
            asset
                .size
                .map(|s| format!(" ({})", human_bytes(s)))
                .unwrap_or_default()
        ),
    );
    let progress = ui.progress(asset.size, "Downloading");
    let job = Job {
        store: &ctx.store,
        version: &version,
        tag: &plan.tag,
        target: &ctx.target,
        asset: &asset,
        force,
        progress: &progress,
    };
    let outcome = online.runtime.block_on(install::run(&online.http, &job));
    progress.finish_and_clear();
    Ok(done(outcome?))
}

pub fn run(args: InstallArgs) -> anyhow::Result<ExitCode> {
    let ui = Ui::new(args.quiet || args.json || args.print_path);
    let ctx = Context::resolve(&args.runtime)?;
    if args.dry_run {
        return dry_run(&args, &ctx);
    }
    let archive = args.archive.as_ref().map(|path| LocalArchive {
        path: path.clone(),
        sha256: args.sha256,
        trust: args.trust_archive,
    });
    let provisioned = provision(&args.runtime, &ctx, args.force, archive.as_ref(), &ui)?;
    let runtime = provisioned.outcome.runtime();
    if args.verify {
        verify_installed(runtime, &ui)?;
    }
    let python = match &args.python {
        Some(py) => Some(install_python(
            runtime,
            py,
            args.break_system_packages,
            &ui,
        )?),
        None => None,
    };
    github_actions(runtime)?;
    report(&args, &ui, &provisioned, python.as_ref())?;
    Ok(ExitCode::SUCCESS)
}

fn install_python(
    runtime: &InstalledRuntime,
    py: &Path,
    break_system_packages: bool,
    ui: &Ui,
) -> anyhow::Result<crate::python::PythonReport> {
    let started = Instant::now();
    let opts = crate::python::PythonOptions {
        interpreter: Some(py.to_path_buf()).filter(|p| !p.as_os_str().is_empty()),
        break_system_packages,
    };
    let r = crate::python::install_runtime(runtime, &opts)?;
    let what = match r.action {
        "already-installed" => format!(
            "{} {} is already in {}",
            crate::python::DIST_NAME,
            r.version,
            r.site_packages.display()
        ),
        _ => format!(
            "{} {} into {} ({}{}, {:.2}s)",
            crate::python::DIST_NAME,
            r.version,
            r.site_packages.display(),
            r.method,
            r.previous
                .as_ref()
                .map(|p| format!(", replaced {p}"))
                .unwrap_or_default(),
            started.elapsed().as_secs_f64()
        ),
    };
    ui.status("Python", &what);
    Ok(r)
}

fn verify_installed(runtime: &InstalledRuntime, ui: &Ui) -> anyhow::Result<()> {
    let started = Instant::now();
    if let Err(problem) = runtime.verify_files() {
        return Err(Failure::new(format!(
            "codex {} in `{}` does not match its receipt: {problem}",
            runtime.version(),
            runtime.dir.display()
        ))
        .hint("reinstall it with `codex-bootstrap install --force`")
        .into());
    }
    ui.status(
        "Verified",
        &format!(
            "{} files, {} against the receipt in {:.2}s",
            runtime.receipt.files.len(),
            human_bytes(runtime.receipt.installed_size()),
            started.elapsed().as_secs_f64()
        ),
    );
    Ok(())
}

/// The JSON printed by `install --json`.
#[derive(Serialize)]
struct InstallReport<'a> {
    version: String,
    tag: &'a str,
    target: &'a str,
    path: PathBuf,
    package_dir: &'a Path,
    path_dir: Option<PathBuf>,
    sha256: String,
    asset: &'a str,
    verified_by: &'a crate::verify::DigestSource,
    source_url: &'a str,
    pin_source: String,
    cached: bool,
    elapsed_ms: u128,
    #[serde(skip_serializing_if = "Option::is_none")]
    python: Option<&'a crate::python::PythonReport>,
}

fn report(
    args: &InstallArgs,
    ui: &Ui,
    p: &Provisioned,
    python: Option<&crate::python::PythonReport>,
) -> anyhow::Result<()> {
    let runtime = p.outcome.runtime();
    let r = &runtime.receipt;
    let cached = matches!(p.outcome, Outcome::AlreadyInstalled(_));
    let mut stdout = std::io::stdout().lock();
    if args.print_path {
        writeln!(stdout, "{}", runtime.codex_path().display())?;
        return Ok(());
    }
    if args.json {
        let report = InstallReport {
            version: r.version.to_string(),
            tag: &r.tag,
            target: r.target.as_str(),
            path: runtime.codex_path(),
            package_dir: &runtime.dir,
            path_dir: runtime.path_dir(),
            sha256: r.archive_sha256.to_hex(),
            asset: &r.asset,
            verified_by: &r.verified_by,
            source_url: &r.source_url,
            pin_source: p.pin_source.to_string(),
            cached,
            elapsed_ms: p.elapsed.as_millis(),
            python,
        };
        serde_json::to_writer_pretty(&mut stdout, &report)?;
        writeln!(stdout)?;
        return Ok(());
    }
    if ui.chatty {
        let head = if cached {
            format!("codex {} ({}) is already installed", r.version, r.target)
        } else {
            format!(
                "codex {} ({}) in {:.1}s",
                r.version,
                r.target,
                p.elapsed.as_secs_f64()
            )
        };
        ui.status(if cached { "Ready" } else { "Installed" }, &head);
        let mut err = std::io::stderr().lock();
        writeln!(err, "{:>12} {}", "pin:", p.pin_source)?;
        writeln!(
            err,
            "{:>12} sha256 {} from {}",
            "verified:", r.archive_sha256, r.verified_by
        )?;
    }
    writeln!(stdout, "{}", runtime.codex_path().display())?;
    Ok(())
}

fn dry_run(args: &InstallArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    #[derive(Serialize)]
    struct DryRun<'a> {
        version: String,
        pin_source: String,
        target: &'a str,
        store_dir: PathBuf,
        installed: bool,
        plan: Option<&'a Plan>,
        urls: Vec<String>,
    }
    let (plan, urls, version_text) = match ctx.exact_version() {
        Some(v) => {
            let plan = Plan::offline(&ctx.pin, v.clone(), ctx.target.clone(), ctx.sources.clone());
            let urls = plan.urls();
            (Some(plan), urls, v.to_string())
        }
        None => {
            let latest = format!(
                "{}/repos/{}/releases/latest",
                ctx.sources.api_url,
                crate::github::REPO
            );
            (None, vec![latest], "latest".to_string())
        }
    };
    let installed = ctx
        .exact_version()
        .map(|v| ctx.store.installed(v, &ctx.target))
        .transpose()?
        .flatten();
    let store_dir = match ctx.exact_version() {
        Some(v) => ctx.store.runtime_dir(v, &ctx.target),
        None => ctx.store.runtimes_dir(),
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        let d = DryRun {
            version: version_text,
            pin_source: ctx.pin.source.to_string(),
            target: ctx.target.as_str(),
            store_dir,
            installed: installed.is_some(),
            plan: plan.as_ref(),
            urls,
        };
        serde_json::to_writer_pretty(&mut out, &d)?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(out, "version:   {version_text}")?;
    writeln!(out, "pin:       {}", ctx.pin.source)?;
    writeln!(out, "target:    {}", ctx.target)?;
    writeln!(out, "install:   {}", store_dir.display())?;
    if installed.is_some() {
        writeln!(
            out,
            "state:     already installed: nothing would be downloaded"
        )?;
    }
    match plan.as_ref().map(|p| &p.choice) {
        Some(Choice::Pinned(Asset {
            name,
            expected,
            size,
            ..
        })) => {
            writeln!(
                out,
                "asset:     {name}{}",
                size.map(|s| format!(" ({})", human_bytes(s)))
                    .unwrap_or_default()
            )?;
            writeln!(
                out,
                "digest:    sha256 {} from {}",
                expected.sha256, expected.source
            )?;
            writeln!(out, "requests:  no GitHub API request")?;
        }
        Some(Choice::FromRelease { candidates, .. }) => {
            let names: Vec<_> = candidates.iter().map(|c| c.0.as_str()).collect();
            writeln!(
                out,
                "asset:     first of {} present in the release",
                names.join(", ")
            )?;
            writeln!(out, "digest:    the asset's GitHub API digest, else {} checked against its own API digest", crate::verify::SHA256SUMS_ASSET)?;
            writeln!(out, "requests:  1 GitHub API request")?;
        }
        None => writeln!(
            out,
            "asset:     decided after resolving `latest` through the API"
        )?,
    }
    writeln!(out, "urls:")?;
    for u in urls {
        writeln!(out, "  {u}")?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Under GitHub Actions, put codex on PATH for later steps and set step outputs.
fn github_actions(runtime: &InstalledRuntime) -> anyhow::Result<()> {
    if std::env::var("GITHUB_ACTIONS").as_deref() != Ok("true") {
        return Ok(());
    }
    let append = |var: &str, line: String| -> anyhow::Result<()> {
        let Some(path) = std::env::var_os(var).filter(|p| !p.is_empty()) else {
            return Ok(());
        };
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_context(|| {
                format!(
                    "could not append to ${var} (`{}`)",
                    Path::new(&path).display()
                )
            })?;
        writeln!(f, "{line}").with_context(|| format!("could not write ${var}"))?;
        Ok(())
    };
    append("GITHUB_PATH", runtime.bin_dir().display().to_string())?;
    append(
        "GITHUB_OUTPUT",
        format!("codex-path={}", runtime.codex_path().display()),
    )?;
    append(
        "GITHUB_OUTPUT",
        format!("codex-version={}", runtime.version()),
    )?;
    Ok(())
}
