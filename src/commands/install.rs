//! `codex-bootstrap install`: pin -> plan -> (warm path | lock -> fetch/verify/unpack/store)
//! -> prove -> report.
//!
//! The warm path (the pin is installed) is a stat and a receipt read: no lock, no async
//! runtime, no HTTP client. Everything network-shaped is built only when needed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use serde::Serialize;

use crate::cli::{heading, OnlineArgs};
use crate::ui::{human_bytes, Ui};
use codex_bootstrap::error::{Failure, Report, ResultExt as _};
use codex_bootstrap::install::Outcome;
use codex_bootstrap::plan::{
    ChannelDigest, Locate, Locator, Metadata, Pins, Plan, Reach, SourceKind, SourcePlan,
};
use codex_bootstrap::provision::{provision, Context, LocalArchive, Online, Provisioned};
use codex_bootstrap::redact::DisplayUrl;
use codex_bootstrap::sources::Session;
use codex_bootstrap::store::InstalledRuntime;

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("linked").args(["python", "node"])))]
pub struct InstallArgs {
    #[command(flatten)]
    pub version: crate::cli::VersionArg,

    #[command(flatten)]
    pub runtime: OnlineArgs,

    /// Print the plan (version, pin source, asset, URLs, digest source) and touch nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Print one JSON object describing the installed runtime.
    #[arg(long, conflicts_with = "print_path", help_heading = heading::OUTPUT)]
    pub json: bool,

    /// Print only the absolute path of `bin/codex`.
    #[arg(long, help_heading = heading::OUTPUT)]
    pub print_path: bool,

    /// Reinstall even if the pin is already installed.
    #[arg(long)]
    pub force: bool,

    /// Re-hash the installed files against the receipt.
    #[arg(long)]
    pub verify: bool,

    #[command(flatten)]
    pub quiet: crate::cli::QuietArg,

    /// Also install the runtime into this Python environment as `openai-codex-cli-bin`
    /// (default: the project's virtual environment as uv finds it, `VIRTUAL_ENV`, else a
    /// `.venv` walking up; none found is an error).
    #[arg(
        long,
        value_name = "PY",
        num_args = 0..=1,
        help_heading = heading::PYTHON
    )]
    pub python: Option<Option<PathBuf>>,

    /// With `--python` and no PY: install into `python3` on PATH, not a virtual environment
    /// (as uv's `--system`).
    #[arg(long, requires = "python", help_heading = heading::PYTHON)]
    pub system: bool,

    /// With `--python`: install into an interpreter marked externally managed (PEP 668).
    #[arg(long, requires = "python", help_heading = heading::PYTHON)]
    pub break_system_packages: bool,

    /// With `--python` or `--node`: how files go from the store into the environment or
    /// project, as uv names them [default: clone, else hardlink, else copy] [env:
    /// CODEX_BOOTSTRAP_LINK_MODE]
    #[arg(long, value_enum, value_name = "MODE", requires = "linked", help_heading = heading::PYTHON)]
    pub link_mode: Option<codex_bootstrap::python::LinkMode>,

    /// Also give this Node project (default: the nearest directory upwards with `package.json`
    /// or `node_modules`) the platform package `@openai/codex-<platform>` that npm's optional
    /// dependency would have placed, at the version of the project's `@openai/codex`.
    #[arg(
        long,
        value_name = "DIR",
        num_args = 0..=1,
        conflicts_with = "archive",
        help_heading = heading::NODE
    )]
    pub node: Option<Option<PathBuf>>,

    /// Install from this local file (a codex-package `.tar.zst`/`.tar.gz`, a legacy
    /// `.tar.gz`/`.zip`, or an `openai_codex_cli_bin-*.whl`) instead of downloading.
    #[arg(long, value_name = "FILE")]
    pub archive: Option<PathBuf>,

    /// With `--archive`: the sha256 it must have (when no manifest pins it).
    #[arg(long, value_name = "HEX", requires = "archive")]
    pub sha256: Option<codex_bootstrap::verify::Sha256>,

    /// With `--archive`: install it without a digest to check; recorded as unverified.
    #[arg(long, requires = "archive", conflicts_with = "sha256")]
    pub trust_archive: bool,

    /// Do not place the `codex` entry point (which runs the version each directory pins) in
    /// CODEX_BOOTSTRAP_BIN_DIR, else $XDG_BIN_HOME, else ~/.local/bin.
    #[arg(
        long,
        env = codex_bootstrap::proxy::bin_dir::NO_BIN_ENV,
        hide_env_values = true,
        value_parser = clap::builder::FalseyValueParser::new()
    )]
    pub no_bin: bool,
}

pub fn run(mut args: InstallArgs) -> Result<ExitCode, Report> {
    let ui = Ui::new(args.quiet.quiet || args.json || args.print_path);
    // The environment is chosen once, before anything is planned or downloaded, and named from
    // here on: with none found (or a stale `VIRTUAL_ENV`) nothing happens, as in uv.
    if let Some(py) = &args.python {
        let chosen = codex_bootstrap::python::find_environment(py.as_deref(), args.system)?;
        args.python = Some(Some(chosen));
    }
    let mut settings = args.runtime.settings();
    settings.python = args.python.clone().flatten();
    if let Some(dir) = &args.node {
        return install_node(&args, dir.as_deref(), &settings, &ui);
    }
    let ctx = Context::resolve(&settings)?;
    // The pins' warnings, and their conflicts as the error, before the warm path and the plan.
    ctx.check_pins(&ui)?;
    if args.dry_run {
        return dry_run(&args, &ctx, None);
    }
    let archive = args.archive.as_ref().map(|path| LocalArchive {
        path: path.clone(),
        sha256: args.sha256,
        trust: args.trust_archive,
    });
    if let (Some(py), None) = (&args.python, &archive) {
        let py = py.clone().unwrap_or_default();
        if let Some((provisioned, report)) = install_python_wheel(&args, &ctx, &py, &ui)? {
            github_actions(provisioned.outcome.runtime())?;
            let bin = place_bin(&args, &ui);
            report_install(
                &args,
                &ui,
                &provisioned,
                Some(&report),
                &bin,
                &ctx.warnings(),
                None,
            )?;
            return Ok(ExitCode::SUCCESS);
        }
    }
    let provisioned = provision(&ctx, args.force, archive.as_ref(), &ui)?;
    let runtime = provisioned.outcome.runtime();
    if args.verify {
        verify_installed(runtime, &ctx.settings.signature, &ui)?;
    }
    let python = match &args.python {
        Some(py) => Some(install_python(
            &ctx,
            runtime,
            &py.clone().unwrap_or_default(),
            args.break_system_packages,
            &ui,
        )?),
        None => None,
    };
    github_actions(runtime)?;
    let bin = place_bin(&args, &ui);
    report_install(
        &args,
        &ui,
        &provisioned,
        python.as_ref(),
        &bin,
        &ctx.warnings(),
        None,
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Where the `codex` entry point is after `install`, for `--json`: its path, or why there is
/// none.
struct BinReport {
    path: Option<PathBuf>,
    skipped: Option<String>,
}

/// Place the `codex` entry point unless `--no-bin`. Never fails the install (the runtime is
/// there): a `codex` that is not ours, or a directory we cannot write, is a warning with its fix.
fn place_bin(args: &InstallArgs, ui: &Ui) -> BinReport {
    use codex_bootstrap::proxy::bin_dir::{place_this, Placed, NO_BIN_ENV};
    let skipped = |why: String| BinReport {
        path: None,
        skipped: Some(why),
    };
    if args.no_bin {
        return skipped(format!("--no-bin (or {NO_BIN_ENV})"));
    }
    let (bin, placed) = match place_this() {
        Ok(p) => p,
        Err(e) => {
            let e = Report::from(e);
            let hint = e.hint().map(|h| format!("\n  hint: {h}"));
            ui.warn(&format!(
                "`codex` was not placed: {e}{}",
                hint.unwrap_or_default()
            ));
            return skipped(e.to_string());
        }
    };
    if let Placed::Created { .. } | Placed::Updated { .. } = placed {
        let dir = bin.dir.display();
        ui.status(
            "Placed",
            &format!("`codex` in {dir}: it runs the version each directory pins"),
        );
    }
    if let Some(advice) = bin.not_on_path().filter(|_| ui.chatty) {
        ui.warn(&advice);
    }
    BinReport {
        path: Some(placed.path().to_path_buf()),
        skipped: None,
    }
}

/// `install --node`: the runtime of the project's `@openai/codex` version (from npm alone when
/// a lock file pins the platform package's integrity: only npm's tarball can be checked against
/// it), then its platform package placed where `@openai/codex` resolves it.
fn install_node(
    args: &InstallArgs,
    dir: Option<&Path>,
    settings: &codex_bootstrap::provision::Settings,
    ui: &Ui,
) -> Result<ExitCode, Report> {
    use codex_bootstrap::node::{self, NodeError};
    use codex_bootstrap::pin::{NpmLockPin, PinSource, Request};
    let mode = codex_bootstrap::python::LinkMode::resolve(args.link_mode)?;
    let mut ctx = Context::resolve(settings)?;
    let cwd = std::env::current_dir().with_context(|| "could not read the current directory")?;
    let project = node::find_project(dir.unwrap_or(&cwd), &ctx.target)?;
    if matches!(ctx.pin.source, PinSource::Flag | PinSource::Env)
        && ctx.pin.request != Request::Exact(project.version.clone())
    {
        let asked = match &ctx.pin.request {
            Request::Exact(v) => v.to_string(),
            Request::Latest => "latest".into(),
        };
        return Err(NodeError::VersionMismatch {
            project: project.version.to_string(),
            from: project.version_from.to_string(),
            asked,
        }
        .into());
    }
    ctx.pin.request = Request::Exact(project.version.clone());
    ctx.pin.source = PinSource::Project(project.describe());
    ctx.pin.npm_locks = project
        .locks
        .iter()
        .flat_map(|l| {
            l.platforms.iter().filter_map(|p| {
                Some(NpmLockPin {
                    file: l.file.clone(),
                    version: p.version.clone(),
                    platform: p.platform.clone(),
                    integrity: p.integrity?,
                })
            })
        })
        .collect();
    let pins = project.integrity_pins();
    if !pins.is_empty() {
        ctx.order = vec![SourceKind::Npm];
    }
    for l in project
        .locks
        .iter()
        .filter_map(|l| Some((&l.file, l.no_integrity?)))
    {
        ui.warn(&format!("`{}` pins no bytes: {}", l.0.display(), l.1));
    }
    let node_plan = DryNode {
        project: &project,
        link_mode: mode.name(),
        lock_pins: pins.iter().map(|(f, _)| f.clone()).collect(),
    };
    if args.dry_run {
        return dry_run(args, &ctx, Some(&node_plan));
    }
    let satisfies = |rt: &InstalledRuntime| {
        pins.iter().all(|(_, i)| {
            rt.receipt
                .checked
                .iter()
                .any(|e| e.digest == codex_bootstrap::verify::Digest::Sha512(*i))
        })
    };
    // A tree another channel served was never checked against the lock's integrity: the
    // npm tarball replaces it (its files are the same; projects keep their own links).
    let stored = ctx.store.installed(&project.version, &ctx.target)?;
    let force = args.force || stored.as_ref().is_some_and(|rt| !satisfies(rt));
    let provisioned = provision(&ctx, force, None, ui)?;
    let runtime = provisioned.outcome.runtime();
    if !satisfies(runtime) {
        return Err(Failure::new(format!(
            "codex {} in `{}` was not checked against the project's lock files",
            runtime.version(),
            runtime.dir.display()
        ))
        .hint("reinstall it with `codex-bootstrap install --node --force`")
        .into());
    }
    if args.verify {
        verify_installed(runtime, &ctx.settings.signature, ui)?;
    }
    let started = Instant::now();
    let report = node::place(runtime, &project, mode, args.force)?;
    let what = match report.action {
        "already-installed" => format!(
            "{}@{} is already in {}",
            report.package,
            report.version,
            report.package_dir.display()
        ),
        _ => format!(
            "{}@{} into {} ({}{}, {:.2}s)",
            report.package,
            report.version,
            report.package_dir.display(),
            report.method,
            report
                .previous
                .as_ref()
                .map(|p| format!(", replaced {p}"))
                .unwrap_or_default(),
            started.elapsed().as_secs_f64()
        ),
    };
    ui.status("Node", &what);
    github_actions(runtime)?;
    let bin = place_bin(args, ui);
    report_install(
        args,
        ui,
        &provisioned,
        None,
        &bin,
        &ctx.warnings(),
        Some(&report),
    )?;
    Ok(ExitCode::SUCCESS)
}

/// What `install --dry-run --node` adds to the plan: where the platform package would go.
struct DryNode<'a> {
    project: &'a codex_bootstrap::node::NodeProject,
    link_mode: &'static str,
    lock_pins: Vec<PathBuf>,
}

/// `install --python` as pip or uv would: the interpreter's own wheel, its tree in the store
/// ([`codex_bootstrap::provision::provision_wheel_tree`]), linked into the environment. None when the
/// Python index is not among the sources or cannot serve: then the full package goes in, as
/// before, and the reason is said.
fn install_python_wheel(
    args: &InstallArgs,
    ctx: &Context,
    py: &Path,
    ui: &Ui,
) -> Result<Option<(Provisioned, codex_bootstrap::python::PythonReport)>, Report> {
    let mode = codex_bootstrap::python::LinkMode::resolve(args.link_mode)?;
    let interpreter = codex_bootstrap::python::choose_interpreter(
        Some(py).filter(|p| !p.as_os_str().is_empty()),
    )?;
    // The interpreter answers while the client is made and the index's page read: neither
    // depends on its tags.
    let probing = codex_bootstrap::python::start_probe(&interpreter)?;
    let prepared = codex_bootstrap::provision::prepare_wheel_tree(ctx, args.force, ui);
    let env = probing.finish()?;
    if env.externally_managed && !args.break_system_packages {
        return Err(codex_bootstrap::python::PythonError::ExternallyManaged {
            interpreter: interpreter.display().to_string(),
        }
        .into());
    }
    let tags = env.wheel_tags();
    tracing::debug!(interpreter = %interpreter.display(), tags = %tags.join(" "), "the interpreter's wheel tags");
    let provisioned = match codex_bootstrap::provision::provision_wheel_tree(
        ctx, &tags, args.force, prepared, ui,
    ) {
        Ok(Some(p)) => p,
        Ok(None) => {
            ui.status(
                "Python",
                "the Python index is not among the sources: installing the full package instead of the wheel pip would choose",
            );
            return Ok(None);
        }
        // Every source failed to serve the wheel (not: the store is broken).
        Err(
            e @ codex_bootstrap::provision::ProvisionError::Run(
                codex_bootstrap::sources::RunError::AllFailed(_),
            ),
        ) => {
            ui.warn(&format!(
                "the wheel for {} could not be installed ({}); installing the full package instead",
                tags.first().map_or("this interpreter", |t| t.as_str()),
                codex_bootstrap::sources::reason_of(&e)
            ));
            return Ok(None);
        }
        Err(e) => return Err(e.into()),
    };
    let tree = provisioned.outcome.runtime();
    if args.verify {
        verify_installed(tree, &ctx.settings.signature, ui)?;
    }
    let started = Instant::now();
    let r =
        codex_bootstrap::python::tree::install_tree(tree, &env, mode, args.break_system_packages)?;
    say_python(&r, started, ui);
    Ok(Some((provisioned, r)))
}

fn say_python(r: &codex_bootstrap::python::PythonReport, started: Instant, ui: &Ui) {
    let what = match r.action {
        "already-installed" => format!(
            "{} {} is already in {}",
            codex_bootstrap::python::DIST_NAME,
            r.version,
            r.site_packages.display()
        ),
        _ => format!(
            "{} {}{} into {} ({}{}, {:.2}s)",
            codex_bootstrap::python::DIST_NAME,
            r.version,
            r.wheel_tag
                .as_ref()
                .map(|t| format!(" ({t})"))
                .unwrap_or_default(),
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
}

fn install_python(
    ctx: &Context,
    runtime: &InstalledRuntime,
    py: &Path,
    break_system_packages: bool,
    ui: &Ui,
) -> Result<codex_bootstrap::python::PythonReport, Report> {
    let started = Instant::now();
    // A runtime that came from the Python index keeps its verified wheel: its own files go in.
    let r = &runtime.receipt;
    let wheel = Some(ctx.store.archive_path(&r.asset, &r.archive_sha256))
        .filter(|p| r.asset.ends_with(".whl") && p.is_file());
    let opts = codex_bootstrap::python::PythonOptions {
        interpreter: Some(py.to_path_buf()).filter(|p| !p.as_os_str().is_empty()),
        break_system_packages,
        wheel,
    };
    let r = codex_bootstrap::python::install_runtime(runtime, &opts)?;
    say_python(&r, started, ui);
    Ok(r)
}

/// `install --verify`: every file against the receipt, then `bin/codex`'s signature again,
/// offline, with the bundle the receipt kept.
fn verify_installed(
    runtime: &InstalledRuntime,
    policy: &codex_bootstrap::provenance::SignaturePolicy,
    ui: &Ui,
) -> Result<(), Report> {
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
    match runtime.recheck_signature(policy) {
        None => {}
        Some(Ok(record)) if record.verified => ui.status(
            "Verified",
            &format!(
                "the signature of {}: signed by {} (Rekor log index {}), checked offline",
                record.file.as_deref().unwrap_or("bin/codex"),
                record.identity.as_deref().unwrap_or("a key"),
                record
                    .log_index
                    .map_or_else(|| "unknown".to_string(), |i| i.to_string())
            ),
        ),
        Some(Ok(record)) => ui.warn(&format!(
            "signature: not verified: {}",
            record.reason.as_deref().unwrap_or("no bundle")
        )),
        Some(Err(e)) => return Err(e.into()),
    }
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
    verified_by: &'a codex_bootstrap::verify::DigestSource,
    /// Every digest the archive was checked against (the pins and the channel's own).
    checked: &'a [codex_bootstrap::verify::Expected],
    source: String,
    source_url: &'a DisplayUrl,
    pin_source: String,
    /// Where `latest` was answered (`install latest` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    resolved_from: Option<&'a str>,
    cached: bool,
    elapsed_ms: u128,
    #[serde(skip_serializing_if = "Option::is_none")]
    python: Option<&'a codex_bootstrap::python::PythonReport>,
    /// The `codex` entry point, or null when none was placed (`bin_skipped` says why).
    bin: Option<&'a Path>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bin_skipped: Option<&'a str>,
    /// Pins found but not used, or that cannot apply (also on stderr).
    warnings: &'a [String],
    /// What the Sigstore signature of `bin/codex` proved, or why there is none.
    signature: codex_bootstrap::provenance::SignatureRecord,
    #[serde(skip_serializing_if = "Option::is_none")]
    node: Option<&'a codex_bootstrap::node::NodeReport>,
}

fn report_install(
    args: &InstallArgs,
    ui: &Ui,
    p: &Provisioned,
    python: Option<&codex_bootstrap::python::PythonReport>,
    bin: &BinReport,
    warnings: &[String],
    node: Option<&codex_bootstrap::node::NodeReport>,
) -> Result<(), Report> {
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
            checked: &r.checked,
            source: codex_bootstrap::provision::source_of(runtime),
            source_url: &r.source_url,
            pin_source: p.pin_source.to_string(),
            resolved_from: p.resolved_from.as_deref(),
            cached,
            elapsed_ms: p.elapsed.as_millis(),
            python,
            bin: bin.path.as_deref(),
            bin_skipped: bin.skipped.as_deref(),
            warnings,
            signature: signature_of(r),
            node,
        };
        super::print_json(&report)?;
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
            "{:>12} {} ({})",
            "source:",
            codex_bootstrap::provision::source_of(runtime),
            r.source_url
        )?;
        let sig = signature_of(r);
        match (&sig.identity, sig.log_index) {
            (Some(identity), Some(index)) if sig.verified => writeln!(
                err,
                "{:>12} {} signed by {identity} (Rekor log index {index})",
                "signature:",
                sig.file.as_deref().unwrap_or("bin/codex")
            )?,
            _ => writeln!(
                err,
                "{:>12} not verified: {}",
                "signature:",
                sig.reason.as_deref().unwrap_or("unknown")
            )?,
        }
        // Every digest that was checked, as it was pinned (an npm integrity is a sha512); a
        // receipt from before `checked` was recorded names only the archive's sha256.
        if !r.checked.is_empty() {
            for (i, e) in r.checked.iter().enumerate() {
                let label = if i == 0 { "verified:" } else { "" };
                writeln!(err, "{label:>12} {} from {}", e.digest, e.source)?;
            }
        } else {
            writeln!(
                err,
                "{:>12} sha256 {} from {}",
                "verified:", r.archive_sha256, r.verified_by
            )?;
        }
    }
    writeln!(stdout, "{}", runtime.codex_path().display())?;
    Ok(())
}

/// The receipt's signature record; a receipt from before signatures were checked says so.
fn signature_of(
    r: &codex_bootstrap::store::receipt::Receipt,
) -> codex_bootstrap::provenance::SignatureRecord {
    r.signature
        .clone()
        .unwrap_or_else(|| codex_bootstrap::provenance::SignatureRecord {
            verified: false,
            identity: None,
            issuer: None,
            log_index: None,
            integrated_time: None,
            bundle_from: None,
            file: None,
            reason: Some(
                if r.source_url.is_file()
                    && r.source == Some(codex_bootstrap::plan::SourceKind::Archive)
                {
                    "installed from a local --archive: its provenance is not checked".into()
                } else {
                    "installed before signatures were checked".into()
                },
            ),
        })
}

/// `--dry-run`: the plan `install` would carry out, every registry located, `latest` resolved
/// with metadata requests only; nothing is downloaded and nothing is written.
fn dry_run(
    args: &InstallArgs,
    ctx: &Context,
    node: Option<&DryNode<'_>>,
) -> Result<ExitCode, Report> {
    /// A source as `--dry-run --json` prints it: the plan's, with its URLs and why it is
    /// skipped beside it (the keys scripts read before candidates were listed).
    #[derive(Serialize)]
    struct DrySource<'a> {
        #[serde(flatten)]
        plan: &'a SourcePlan,
        urls: Vec<DisplayUrl>,
        skipped: Option<&'a str>,
    }
    #[derive(Serialize)]
    struct DryRun<'a> {
        version: String,
        pin_source: String,
        target: &'a str,
        store_dir: PathBuf,
        installed: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        resolved_from: Option<&'a str>,
        /// The one plan, whole.
        plan: &'a Plan,
        sources: Vec<DrySource<'a>>,
        /// Every URL the install may request: the plan's, then the signature bundles'.
        urls: Vec<DisplayUrl>,
        /// Where the Sigstore bundle for `bin/codex` is looked for, and what is required of it.
        signature: DrySignature,
        /// With `--python`: the interpreter's own wheel, tried before the full package.
        #[serde(skip_serializing_if = "Option::is_none")]
        python: Option<DryPython<'a>>,
        /// Every pin warning: the resolution's and the plan's (also on stderr).
        warnings: Vec<String>,
        /// With `--node`: where the platform package would go, how, and which locks pin it.
        #[serde(skip_serializing_if = "Option::is_none")]
        node: Option<DryNodeJson<'a>>,
    }
    #[derive(Serialize)]
    struct DrySignature {
        /// A bundle a manifest pins: checked first, no request.
        #[serde(skip_serializing_if = "Option::is_none")]
        pinned: Option<String>,
        /// An OCI mirror's referrers of the image (asked once its manifest digest is known).
        #[serde(skip_serializing_if = "Option::is_none")]
        referrers: Option<String>,
        bundles: Vec<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        none_because: Option<String>,
        required: bool,
        trusted_root: String,
    }
    #[derive(Serialize)]
    struct DryNodeJson<'a> {
        project: &'a Path,
        package_manager: &'static str,
        package_dir: &'a Path,
        version: String,
        version_from: &'a codex_bootstrap::node::VersionFrom,
        link_mode: &'static str,
        lock_pins: &'a [PathBuf],
    }
    #[derive(Serialize)]
    struct DryPython<'a> {
        interpreter: PathBuf,
        wheel_tags: &'a [String],
        /// Whether the store has the wheel tree for this interpreter: then nothing is
        /// downloaded, whatever `installed` (the full package's) says.
        installed: bool,
        /// That tree, when it is there.
        #[serde(skip_serializing_if = "Option::is_none")]
        tree_dir: Option<&'a Path>,
        plan: &'a Plan,
    }
    let ui = Ui::new(true);
    let (version, resolved) = match ctx.exact_version() {
        Some(v) => (v.clone(), None),
        None => {
            let online = Online::new(ctx)?;
            let session = Session::new(&online.http);
            online.resolve_version(ctx, &session, &Ui::new(true))?
        }
    };
    // `install --python` first carries out the plan of the interpreter's own wheel.
    let python = match &args.python {
        Some(py) if args.archive.is_none() && ctx.order.contains(&SourceKind::PythonIndex) => {
            let given = py.as_deref().filter(|p| !p.as_os_str().is_empty());
            let interpreter = codex_bootstrap::python::choose_interpreter(given)?;
            let tags = codex_bootstrap::python::probe(&interpreter)?.wheel_tags();
            let plan = ctx
                .wheel_plan_inputs(&version, &tags)
                .plan(Locate::Now, resolved.clone())?;
            // The run takes the wheel tree's own warm path, not the full package's.
            let tree = codex_bootstrap::provision::installed_wheel_tree(ctx, &version, &tags)?;
            Some((interpreter, tags, plan, tree.map(|t| t.dir)))
        }
        _ => None,
    };
    let plan = ctx
        .plan_inputs(&version, &ctx.target, Pins::Enforce)
        .plan(Locate::Now, resolved)?;
    for w in &plan.warnings {
        ctx.warn_once(&ui, w);
    }
    let installed = ctx.store.installed(&version, &ctx.target)?.is_some();
    let bundles = ctx.bundle_sources(&version);
    // From an OCI mirror, a bundle referring to the image is looked for first (after a pinned
    // one): through the referrers API, else the tag schema's `sha256-<digest>` index.
    let referrers = ctx
        .mirror
        .as_ref()
        .filter(|m| m.is_oci() && bundles.pinned.is_none())
        .and_then(|m| codex_bootstrap::oci::Reference::parse(&m.download_base).ok())
        .map(|r| {
            format!(
                "{} (else the tag sha256-<digest>): the image's referrers",
                DisplayUrl::new(&r.referrers_url("<image manifest digest>"))
            )
        });
    let trusted_root = ctx.settings.signature.trusted_root.as_ref().map_or_else(
        || "embedded Sigstore production root".to_string(),
        |p| p.display().to_string(),
    );
    let store_dir = ctx.store.runtime_dir(&version, &ctx.target);
    let mut out = std::io::stdout().lock();
    if args.json {
        let sources = plan
            .sources
            .iter()
            .map(|s| DrySource {
                plan: s,
                urls: s.urls().iter().map(DisplayUrl::from).collect(),
                skipped: match &s.reach {
                    Reach::Skipped { reason } => Some(reason),
                    _ => None,
                },
            })
            .collect();
        let d = DryRun {
            version: version.to_string(),
            pin_source: ctx.pin.source.to_string(),
            target: ctx.target.as_str(),
            store_dir,
            installed,
            resolved_from: plan.resolved.as_ref().map(|r| r.from.as_str()),
            urls: plan
                .urls()
                .iter()
                .chain(&bundles.urls)
                .map(DisplayUrl::from)
                .collect(),
            signature: DrySignature {
                pinned: bundles.pinned.as_ref().map(|(origin, _)| origin.clone()),
                referrers: referrers.clone(),
                bundles: bundles.urls.clone(),
                none_because: bundles.none_because.clone(),
                required: ctx.settings.signature.require,
                trusted_root: trusted_root.clone(),
            },
            sources,
            plan: &plan,
            python: python
                .as_ref()
                .map(|(interpreter, wheel_tags, plan, tree)| DryPython {
                    interpreter: interpreter.clone(),
                    wheel_tags,
                    installed: tree.is_some(),
                    tree_dir: tree.as_deref(),
                    plan,
                }),
            warnings: ctx.warnings(),
            node: node.map(|n| DryNodeJson {
                project: &n.project.root,
                package_manager: n.project.manager,
                package_dir: &n.project.package_dir,
                version: format!("{}-{}", n.project.version, n.project.platform),
                version_from: &n.project.version_from,
                link_mode: n.link_mode,
                lock_pins: &n.lock_pins,
            }),
        };
        super::print_json(&d)?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(out, "version:   {version}")?;
    writeln!(out, "pin:       {}", ctx.pin.source)?;
    if let Some(r) = &plan.resolved {
        writeln!(out, "latest:    {} ({})", version, r.from)?;
    }
    writeln!(out, "target:    {}", ctx.target)?;
    writeln!(out, "install:   {}", store_dir.display())?;
    // What the run would download: with `--python`, the wheel tree decides, not the package.
    match (&python, installed) {
        (Some((_, _, _, Some(tree))), _) => writeln!(
            out,
            "state:     the wheel tree for this interpreter is installed ({}): nothing would be downloaded",
            tree.display()
        )?,
        (Some((_, _, _, None)), true) => writeln!(
            out,
            "state:     the full package is installed, but not the wheel tree for this interpreter: its wheel would be downloaded"
        )?,
        (Some(_), false) => {}
        (None, true) => writeln!(
            out,
            "state:     already installed: nothing would be downloaded"
        )?,
        (None, false) => {}
    }
    if let Some(c) = &plan.codex_sha256 {
        writeln!(
            out,
            "bin/codex: sha256 {} (from {}), checked after any source",
            c.sha256, c.from
        )?;
    }
    if let Some(n) = node {
        let p = n.project;
        writeln!(
            out,
            "node:      {} ({}): @openai/codex {} ({})",
            p.root.display(),
            p.manager,
            p.version,
            p.version_from
        )?;
        writeln!(
            out,
            "           @openai/codex-{} into {}, files by {}",
            p.platform,
            p.package_dir.display(),
            n.link_mode
        )?;
        for lock in &n.lock_pins {
            writeln!(
                out,
                "           pinned by {}: npm's tarball only",
                lock.display()
            )?;
        }
    }
    if let Some((interpreter, tags, wheel, _)) = &python {
        writeln!(
            out,
            "python:    {}: first the wheel pip and uv would choose ({}), into the store's wheel trees",
            interpreter.display(),
            tags.join(", ")
        )?;
        for (i, s) in wheel.sources.iter().enumerate() {
            write_source(&mut out, i + 1, s, &version)?;
        }
        writeln!(
            out,
            "then, if no source serves that wheel, the full package:"
        )?;
    }
    writeln!(
        out,
        "sources:   in order, each file in order; the first that serves wins"
    )?;
    for (i, s) in plan.sources.iter().enumerate() {
        write_source(&mut out, i + 1, s, &version)?;
    }
    let required = if ctx.settings.signature.require {
        "required"
    } else {
        "checked when found"
    };
    writeln!(
        out,
        "signature: Sigstore bundle of bin/codex, {required}, against the {trusted_root}"
    )?;
    if let Some((origin, _)) = &bundles.pinned {
        writeln!(out, "           {origin} (checked first)")?;
    }
    if let Some(r) = &referrers {
        writeln!(out, "           {r}")?;
    }
    for url in &bundles.urls {
        writeln!(
            out,
            "           {}",
            codex_bootstrap::redact::DisplayUrl::new(url)
        )?;
    }
    if let Some(why) = &bundles.none_because {
        writeln!(out, "           none: {why}")?;
    }
    Ok(ExitCode::SUCCESS)
}

/// One source of the plan: where it is, what it asks first, then each candidate with its URL
/// and every digest it must match.
fn write_source(
    out: &mut impl Write,
    n: usize,
    s: &SourcePlan,
    version: &codex_bootstrap::pin::CodexVersion,
) -> std::io::Result<()> {
    if let Reach::Skipped { reason } = &s.reach {
        return writeln!(out, "  {n}. {}: skipped: {reason}", s.source);
    }
    let location = s
        .location
        .as_deref()
        .map(|l| format!(": {l}"))
        .unwrap_or_default();
    writeln!(out, "  {n}. {}{location}", s.source)?;
    match &s.metadata {
        Some(Metadata::GithubRelease { url, sha256sums }) => {
            writeln!(
                out,
                "       asks {} for the assets' digests",
                DisplayUrl::new(url)
            )?;
            writeln!(
                out,
                "       and {} only if the chosen asset has none",
                DisplayUrl::new(sha256sums)
            )?;
        }
        Some(Metadata::IndexPage { url }) | Some(Metadata::Packument { url }) => {
            writeln!(out, "       asks {}", DisplayUrl::new(url))?
        }
        Some(Metadata::OciImage { url, blobs }) => {
            writeln!(
                out,
                "       asks {} (the image index), then this platform's manifest by digest",
                DisplayUrl::new(url)
            )?;
            writeln!(
                out,
                "       and downloads the layer it names from {}sha256:…",
                DisplayUrl::new(blobs)
            )?;
        }
        None if s.source == SourceKind::Github || s.source == SourceKind::Mirror => {
            writeln!(out, "       no GitHub API request: the asset is pinned")?
        }
        None => {}
    }
    for (i, c) in s.candidates.iter().enumerate() {
        let letter = (b'a' + (i % 26) as u8) as char;
        let size = c
            .size
            .map(|b| format!(" ({})", human_bytes(b)))
            .unwrap_or_default();
        writeln!(out, "       {letter}. {}{size}", c.describe(version))?;
        match &c.at {
            Locator::Url { url } => writeln!(out, "          {}", DisplayUrl::new(url))?,
            Locator::ListedOn { page } => {
                writeln!(out, "          as listed on {}", DisplayUrl::new(page))?
            }
        }
        let mut checks: Vec<String> = c
            .pins
            .iter()
            .map(|p| {
                let digests: Vec<String> = p.any_of.iter().map(|d| d.to_string()).collect();
                format!("{} (from {})", digests.join(" or "), p.from)
            })
            .collect();
        if let Some(d) = c.channel_digest {
            checks.push(match d {
                ChannelDigest::GithubRelease => format!(
                    "GitHub's API digest, else {} checked against its own",
                    codex_bootstrap::verify::SHA256SUMS_ASSET
                ),
                ChannelDigest::PythonIndex => "the index's sha256".into(),
                ChannelDigest::NpmIntegrity => "the registry's sha512 integrity".into(),
                ChannelDigest::OciManifest => "the image manifest's layer digest".into(),
            });
        }
        writeln!(out, "          must match: {}", checks.join("; "))?;
    }
    Ok(())
}

/// Under GitHub Actions, put codex on PATH for later steps and set step outputs.
fn github_actions(runtime: &InstalledRuntime) -> Result<(), Report> {
    if std::env::var("GITHUB_ACTIONS").as_deref() != Ok("true") {
        return Ok(());
    }
    let append = |var: &str, line: String| -> Result<(), Report> {
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
