//! Command-line definitions. Each subcommand's own flags live beside its code in
//! [`crate::commands`]; the flags every runtime-resolving command shares live here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::commands;

#[derive(Debug, Parser)]
#[command(
    name = "codex-bootstrap",
    version,
    about = "Provision the Codex CLI runtime: pinned, verified, cached, concurrency-safe.",
    propagate_version = false,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Install the pinned Codex runtime into the cache (instant when already there).
    Install(commands::install::InstallArgs),
    /// Run one turn through `codex app-server` and print the answer.
    Quickstart(commands::quickstart::QuickstartArgs),
    /// Check everything a Codex user needs, with a fix for each failure.
    Doctor(commands::doctor::DoctorArgs),
    /// Build an `openai-codex-cli-bin` wheel from the verified runtime.
    Wheel(commands::wheel::WheelArgs),
    /// Write a manifest pinning a version's assets and digests for every target.
    Pin(commands::pin::PinArgs),
    /// Write a static mirror (release-download layout) for air gaps and fleets.
    Mirror(commands::mirror::MirrorArgs),
    /// List installed runtimes.
    List(commands::list::ListArgs),
    /// Print the path of the pinned runtime's `codex` (exit 1 when not installed).
    Which(commands::which::WhichArgs),
    /// Remove an installed runtime.
    Uninstall(commands::uninstall::UninstallArgs),
    /// Remove leftovers of interrupted installs, and old runtimes with --keep/--older-than.
    Prune(commands::prune::PruneArgs),
    /// Print a stable cache key (version, target, digest) for CI caches.
    CacheKey(commands::cache_key::CacheKeyArgs),
    /// Print a shell completion script.
    Completions(commands::completions::CompletionsArgs),
}

/// How to find, fetch and store a runtime: shared by every command that resolves one.
#[derive(Debug, Clone, Args, Default)]
pub struct RuntimeArgs {
    /// Runtime version (`0.163.0`, `0.154.0-alpha.6`, `0.154.0a6`, `rust-v0.163.0`, `latest`).
    /// Default: CODEX_BOOTSTRAP_VERSION, then the project's pin, then the bundled manifest.
    #[arg(long = "version", value_name = "VERSION")]
    pub version: Option<String>,

    /// Target triple to provision, e.g. `aarch64-unknown-linux-musl` (default: this host).
    #[arg(long, value_name = "TRIPLE")]
    pub target: Option<String>,

    /// One root for the whole store: runtimes, downloads, locks (default: CODEX_BOOTSTRAP_HOME,
    /// else runtimes in the platform data dir and downloads in the platform cache dir).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Download release assets from this mirror (`{mirror}/rust-v{V}/{asset}`; `file://` works).
    #[arg(long, env = "CODEX_BOOTSTRAP_MIRROR", value_name = "URL")]
    pub mirror: Option<String>,

    /// GitHub API base URL.
    #[arg(
        long,
        env = "CODEX_BOOTSTRAP_GITHUB_API",
        value_name = "URL",
        default_value = crate::github::DEFAULT_API_URL
    )]
    pub github_api_url: String,

    /// GitHub release download base URL (for GitHub Enterprise or tests).
    #[arg(
        long,
        env = "CODEX_BOOTSTRAP_GITHUB_DOWNLOAD_URL",
        value_name = "URL",
        default_value = crate::github::DEFAULT_DOWNLOAD_URL,
        hide_short_help = true
    )]
    pub github_download_url: String,

    /// Allow plain `http://` to hosts other than loopback.
    #[arg(long)]
    pub allow_http: bool,

    /// Seconds to wait for a connection.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 30,
        env = "CODEX_BOOTSTRAP_CONNECT_TIMEOUT"
    )]
    pub connect_timeout: u64,

    /// Seconds a transfer may stall before it is retried.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 30,
        env = "CODEX_BOOTSTRAP_READ_TIMEOUT"
    )]
    pub read_timeout: u64,

    /// Attempts per download before giving up.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 5,
        env = "CODEX_BOOTSTRAP_RETRIES"
    )]
    pub retries: u32,

    /// Where to get the runtime, in order: github, python-index, npm, or auto (all three, in
    /// that order). Repeatable or a comma list. A `--mirror` is always tried first.
    #[arg(
        long = "source",
        visible_alias = "sources",
        value_name = "SOURCE",
        env = "CODEX_BOOTSTRAP_SOURCES",
        value_delimiter = ','
    )]
    pub sources: Vec<String>,

    /// The Python package index (default: UV_DEFAULT_INDEX, UV_INDEX_URL, PIP_INDEX_URL,
    /// pip.conf, else pip's own default).
    #[arg(long, env = "CODEX_BOOTSTRAP_INDEX_URL", value_name = "URL")]
    pub index_url: Option<String>,

    /// The npm registry (default: npm_config_registry, .npmrc, else `npm config get registry`).
    #[arg(long, env = "CODEX_BOOTSTRAP_NPM_REGISTRY", value_name = "URL")]
    pub npm_registry: Option<String>,
}

impl RuntimeArgs {
    /// The library's view of these flags.
    pub fn settings(&self) -> crate::provision::Settings {
        crate::provision::Settings {
            version: self.version.clone(),
            target: self.target.clone(),
            cache_dir: self.cache_dir.clone(),
            mirror: self.mirror.clone(),
            github_api_url: self.github_api_url.clone(),
            github_download_url: self.github_download_url.clone(),
            sources: self.sources.clone(),
            index_url: self.index_url.clone(),
            npm_registry: self.npm_registry.clone(),
            python: None,
            allow_http: self.allow_http,
            connect_timeout: self.connect_timeout,
            read_timeout: self.read_timeout,
            retries: self.retries,
        }
    }
}
