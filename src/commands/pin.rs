//! `codex-bootstrap pin [VERSION|latest]`: write a manifest with, for every supported target,
//! what each reachable channel serves, the sha256 of `bin/codex`, and which wheels were checked
//! to hold that `bin/codex` ([`codex_bootstrap::survey`] reads them), so later installs trust no
//! channel for more than the bytes and need no GitHub API request; show what changed.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use codex_bootstrap::error::{Report, ResultExt as _};

use crate::cli::OnlineArgs;
use crate::ui::Ui;
use codex_bootstrap::pin::manifest::PinnedWheel;
use codex_bootstrap::pin::{CodexVersion, Manifest, PinnedAsset};
use codex_bootstrap::platform::Target;
use codex_bootstrap::provision::{Context, Online};

#[derive(Debug, clap::Args)]
pub struct PinArgs {
    /// The version to pin: `0.163.0`, `0.154.0a6`, `latest` [default: the current pin].
    #[arg(
        value_name = "VERSION",
        env = codex_bootstrap::pin::VERSION_ENV,
        hide_env_values = true
    )]
    pub runtime_version: Option<String>,

    /// Where to write the manifest.
    #[arg(long, value_name = "FILE", default_value = codex_bootstrap::pin::manifest::FILE_NAME)]
    pub manifest: PathBuf,

    #[command(flatten)]
    pub runtime: OnlineArgs,

    #[command(flatten)]
    pub quiet: crate::cli::QuietArg,

    #[command(flatten)]
    pub output: crate::cli::JsonArg,
}

/// The JSON printed by `pin --json`.
#[derive(serde::Serialize)]
struct PinReport<'a> {
    version: String,
    tag: String,
    manifest: &'a std::path::Path,
    /// The version the manifest pinned before, when it was another one.
    previous_version: Option<String>,
    targets: Vec<PinnedTarget<'a>>,
    /// Supported targets no source had a build for: nothing is pinned for them.
    missing_targets: Vec<String>,
    /// Project pins found but not used (also on stderr).
    warnings: Vec<String>,
}

/// One target's pins, and how they compare with what the manifest held before.
#[derive(serde::Serialize)]
struct PinnedTarget<'a> {
    target: &'a str,
    change: Change,
    asset: Option<&'a str>,
    size: Option<u64>,
    sha256: Option<codex_bootstrap::verify::Sha256>,
    wheel: Option<PinnedFile<'a, codex_bootstrap::verify::Sha256>>,
    npm: Option<PinnedFile<'a, codex_bootstrap::verify::Sha512>>,
    /// The target's other wheels (on Linux the manylinux wheel pip and uv choose on glibc).
    other_wheels: Vec<PinnedFile<'a, codex_bootstrap::verify::Sha256>>,
    codex_sha256: Option<codex_bootstrap::verify::Sha256>,
    /// A Sigstore bundle for `bin/codex` was verified and pinned (`sigstore_bundle`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    signed: bool,
}

/// How a target's pins compare with what the manifest held before for the same version.
#[derive(Clone, Copy, serde::Serialize)]
#[serde(rename_all = "snake_case")]
enum Change {
    Added,
    Changed,
    Unchanged,
}

impl Change {
    fn mark(self) -> &'static str {
        match self {
            Change::Added => "+",
            Change::Changed => "~",
            Change::Unchanged => "=",
        }
    }
}

/// A wheel (`digest`: sha256 hex) or an npm tarball (`digest`: `sha512-…` integrity).
#[derive(serde::Serialize)]
struct PinnedFile<'a, D> {
    file: &'a str,
    size: Option<u64>,
    digest: D,
    /// A wheel's: its `bin/codex` was hashed and is `codex_sha256`, as its RECORD says.
    #[serde(skip_serializing_if = "Option::is_none")]
    codex_checked: Option<bool>,
}

pub fn run(args: PinArgs) -> Result<ExitCode, Report> {
    let ui = Ui::new(args.quiet.quiet || args.output.json);
    let ctx = Context::resolve(&args.runtime.settings())?;
    // The pins discovery could not use. The old pins' digests are not applied (`pin` asks the
    // channels afresh and rewrites the manifest), so what they say of this version is moot.
    for w in &ctx.pin.warnings {
        ctx.warn_once(&ui, &w.to_string());
    }
    let online = Online::new(&ctx)?;
    let survey = codex_bootstrap::survey::version(&online, &ctx, &ui)?;
    let version: CodexVersion = survey.version.clone();
    let old = Manifest::load(&args.manifest).ok();
    let mut targets = survey.targets;
    // `--target T` re-pins T alone: the other targets a manifest of the same version pins stay.
    if ctx.settings.target.is_some() {
        if let Some(m) = old.as_ref().filter(|m| m.version == version) {
            for (t, a) in &m.targets {
                targets.entry(t.clone()).or_insert_with(|| a.clone());
            }
        }
    }
    let manifest = Manifest {
        origin: args.manifest.display().to_string(),
        version: version.clone(),
        tag: version.tag(),
        // The project's requirement is its own: re-pinning keeps it.
        require_signature: old.as_ref().is_some_and(|m| m.require_signature),
        targets,
    };
    let text = manifest.to_toml();
    codex_bootstrap::fs::write_shared(&args.manifest, text.as_bytes())
        .with_context(|| format!("could not write `{}`", args.manifest.display()))?;
    let before = |t: &Target| {
        old.as_ref()
            .filter(|m| m.version == version)
            .and_then(|m| m.targets.get(t))
    };
    let change = |t: &Target, a: &PinnedAsset| match before(t) {
        None => Change::Added,
        Some(b) if b == a => Change::Unchanged,
        Some(_) => Change::Changed,
    };
    let previous_version = old
        .as_ref()
        .filter(|m| m.version != version)
        .map(|m| m.version.to_string());
    if args.output.json {
        super::print_json(&PinReport {
            version: version.to_string(),
            tag: version.tag(),
            manifest: &args.manifest,
            previous_version,
            targets: manifest
                .targets
                .iter()
                .map(|(t, a)| PinnedTarget {
                    target: t.as_str(),
                    change: change(t, a),
                    asset: a.asset.as_deref(),
                    size: a.size,
                    sha256: a.sha256,
                    wheel: a.wheel.as_ref().map(pinned_wheel),
                    npm: a.npm.as_ref().map(|n| PinnedFile {
                        file: &n.file,
                        size: n.size,
                        digest: n.integrity,
                        codex_checked: None,
                    }),
                    other_wheels: a.other_wheels.iter().map(pinned_wheel).collect(),
                    codex_sha256: a.codex_sha256,
                    signed: a.sigstore_bundle.is_some(),
                })
                .collect(),
            missing_targets: survey
                .missing_targets
                .iter()
                .map(Target::to_string)
                .collect(),
            warnings: ctx.warnings(),
        })?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "pinned codex {version} in {}", args.manifest.display())?;
    for (t, a) in &manifest.targets {
        let mark = change(t, a).mark();
        let short = |d: String| d[..16.min(d.len())].to_string();
        let mut what = Vec::new();
        if let (Some(name), Some(d)) = (&a.asset, a.sha256) {
            what.push(format!("{name} sha256:{}", short(d.to_hex())));
        }
        for w in a.wheel.iter().chain(&a.other_wheels) {
            let checked = if w.codex_checked {
                " (its bin/codex checked)"
            } else {
                ""
            };
            what.push(format!(
                "{} sha256:{}{checked}",
                w.file,
                short(w.sha256.to_hex())
            ));
        }
        if let Some(n) = &a.npm {
            what.push(format!("{} {}", n.file, short(n.integrity.to_integrity())));
        }
        if let Some(c) = a.codex_sha256 {
            what.push(format!("bin/codex sha256:{}", short(c.to_hex())));
        }
        if a.sigstore_bundle.is_some() {
            what.push("its Sigstore bundle".into());
        }
        writeln!(out, "  {mark} {t:28} {}", what.join(", "))?;
    }
    if let Some(v) = previous_version {
        writeln!(out, "  (was codex {v})")?;
    }
    Ok(ExitCode::SUCCESS)
}

fn pinned_wheel(w: &PinnedWheel) -> PinnedFile<'_, codex_bootstrap::verify::Sha256> {
    PinnedFile {
        file: &w.file,
        size: w.size,
        digest: w.sha256,
        codex_checked: Some(w.codex_checked),
    }
}
