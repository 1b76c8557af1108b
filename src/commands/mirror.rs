//! `codex-bootstrap mirror --out DIR`: a static mirror in release-download layout that any web
//! server can serve to `install --mirror` ([`codex_bootstrap::mirror`] builds it). The archives come from
//! any source (`--source github,python-index,npm`), or with `--from-cache` from the verified
//! archives in the local store, offline.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::cli::OnlineArgs;
use crate::ui::Ui;
use codex_bootstrap::error::Report;
use codex_bootstrap::mirror::Origin;
use codex_bootstrap::platform::{Target, SUPPORTED_TARGETS};
use codex_bootstrap::provision::Context;

#[derive(Debug, clap::Args)]
pub struct MirrorArgs {
    #[command(flatten)]
    pub version: crate::cli::VersionArg,

    /// The mirror's root directory, or an OCI repository (`oci://REGISTRY/REPO`) to push the
    /// runtime to as a multi-platform image tagged with its version.
    #[arg(long, value_name = "DIR|oci://REGISTRY/REPO")]
    pub out: PathBuf,

    /// `all`, or a comma-separated list of targets (default: this host's).
    #[arg(long, value_name = "all|T,...")]
    pub targets: Option<String>,

    /// With `--out oci://…`: repositories of the same registry to mount layers from when they
    /// have them (cross-repository mount), instead of uploading them again.
    #[arg(long, value_name = "REPO,...", value_delimiter = ',')]
    pub mount_from: Vec<String>,

    /// Build it from the verified archives in the local store: no network.
    #[arg(long)]
    pub from_cache: bool,

    #[command(flatten)]
    pub runtime: OnlineArgs,

    #[command(flatten)]
    pub output: crate::cli::JsonArg,
}

pub fn run(args: MirrorArgs) -> Result<ExitCode, Report> {
    let ui = Ui::new(args.output.json);
    let ctx = Context::resolve(&args.runtime.settings())?;
    ctx.check_pins(&ui)?;
    let targets: Vec<Target> = match args.targets.as_deref() {
        None => vec![ctx.target.clone()],
        Some("all") => SUPPORTED_TARGETS
            .iter()
            .map(|t| t.parse())
            .collect::<Result<_, _>>()?,
        Some(list) => list
            .split(',')
            .map(|t| t.trim().parse())
            .collect::<Result<_, _>>()?,
    };
    let from = if args.from_cache {
        Origin::Store
    } else {
        Origin::Sources
    };
    // An `oci:`-looking destination is a reference or an error, never a directory named `oci:`.
    let out = args.out.to_string_lossy();
    if codex_bootstrap::oci::reference::looks_like_oci(&out) {
        let reference = codex_bootstrap::oci::Reference::parse(&out)?;
        let mount_from = args
            .mount_from
            .iter()
            .map(|r| reference.sibling(r.trim()).map(|s| s.repository))
            .collect::<Result<Vec<_>, _>>()?;
        let pushed =
            codex_bootstrap::mirror::push(&ctx, &reference, &targets, &mount_from, from, &ui)?;
        if args.output.json {
            #[derive(serde::Serialize)]
            struct PushReport<'a> {
                #[serde(flatten)]
                pushed: &'a codex_bootstrap::mirror::Pushed,
                warnings: Vec<String>,
            }
            super::print_json(&PushReport {
                pushed: &pushed,
                warnings: ctx.warnings(),
            })?;
        } else {
            writeln!(
                std::io::stdout(),
                "{}@{}\ninstall with: codex-bootstrap install --mirror {}",
                pushed.reference,
                pushed.index_digest,
                reference.without_tag()
            )?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    if !args.mount_from.is_empty() {
        return Err(codex_bootstrap::mirror::MirrorError::MountNeedsOci.into());
    }
    if out.contains("://") {
        return Err(codex_bootstrap::mirror::MirrorError::BadDestination(out.into_owned()).into());
    }
    let mirror = codex_bootstrap::mirror::build(&ctx, &args.out, &targets, from, &ui)?;
    if args.output.json {
        /// The mirror, and the pin warnings said on the way.
        #[derive(serde::Serialize)]
        struct MirrorReport<'a> {
            #[serde(flatten)]
            mirror: &'a codex_bootstrap::mirror::Mirror,
            warnings: Vec<String>,
        }
        super::print_json(&MirrorReport {
            mirror: &mirror,
            warnings: ctx.warnings(),
        })?;
        return Ok(ExitCode::SUCCESS);
    }
    // An absolute path: what `install --mirror` is given may run from another directory.
    let local = std::path::absolute(&args.out).unwrap_or_else(|_| args.out.clone());
    writeln!(
        std::io::stdout(),
        "{}\nserve it and install with: codex-bootstrap install --mirror <URL of {}>  (or --mirror {})",
        mirror.release_dir.display(),
        args.out.display(),
        local.display()
    )?;
    Ok(ExitCode::SUCCESS)
}
