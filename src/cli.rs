//! Command-line definitions, the binary's own. [`Command`] is the one list of the subcommands
//! (declared through `commands!`, which also writes their dispatch). Each subcommand's own
//! flags live beside its code in [`crate::commands`]; the flags several share are declared
//! once here and flattened: [`VersionArg`], [`JsonArg`], [`QuietArg`] where their help is the
//! same, [`RuntimeArgs`] (which runtime, for which target, kept where: no network) and
//! [`NetworkArgs`] (how to reach the sources), together as [`OnlineArgs`] only in the commands
//! that download. Their defaults are [`Settings::default`]'s, and each becomes [`Settings`] in
//! one `From`.
//!
//! The runtime version is a positional argument (`install 0.163.0`), as in uv and rustup;
//! `--version V` stays accepted on every subcommand so existing CI lines keep working.
//! [`Cli::try_parse_checked`] reconciles the two spellings onto [`RuntimeArgs::version`] and
//! refuses `codex-bootstrap --version 0.163.0 install`, which clap alone would answer with the
//! tool's own version and exit 0, installing nothing.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::PathBuf;

use clap::builder::styling::Styles;
use clap::builder::StyledStr;
use clap::error::ErrorKind;
use clap::parser::ValueSource;
use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::commands;
use codex_bootstrap::error::Report;
use codex_bootstrap::net::NetSettings;
use codex_bootstrap::pin::{Request, VERSION_ENV};
use codex_bootstrap::provision::Settings;
use codex_bootstrap::store::HOME_ENV;

/// Help headings, in the order they appear after the command's own options.
pub mod heading {
    pub const RUNTIME: &str = "Runtime";
    pub const NETWORK: &str = "Network";
    pub const OUTPUT: &str = "Output";
    pub const PYTHON: &str = "Python";
    pub const NODE: &str = "Node";
}

/// The help of every positional `VERSION` (and of `quickstart --runtime`).
pub const VERSION_HELP: &str = "Runtime version: `0.163.0`, `0.154.0-alpha.6`, `0.154.0a6`, \
`rust-v0.163.0` or `latest` [default: the project's codex-runtime.toml, else the bundled pin]";

#[derive(Debug, Parser)]
#[command(
    name = "codex-bootstrap",
    version,
    about = "Provision the Codex CLI runtime: pinned, verified, cached, concurrency-safe.",
    propagate_version = false,
    disable_version_flag = true,
    max_term_width = 100,
    after_help = examples(&[
        ("codex-bootstrap install", "the project's pin, else the bundled one"),
        ("codex-bootstrap install 0.163.0 --print-path", ""),
        ("codex-bootstrap doctor", "what is wrong, and the command that fixes it"),
    ])
)]
pub struct Cli {
    /// Print codex-bootstrap's version (a runtime's version goes after the command)
    #[arg(short = 'V', long = "version", action = clap::ArgAction::Version)]
    tool_version: Option<bool>,

    #[command(subcommand)]
    pub command: Command,

    /// Log decisions, requests, lock waits and child processes to stderr (`-vv`: more);
    /// CODEX_BOOTSTRAP_LOG takes a filter instead, e.g. `codex_bootstrap=debug`
    #[arg(
        short,
        long,
        action = clap::ArgAction::Count,
        global = true,
        help_heading = heading::OUTPUT
    )]
    pub verbose: u8,

    /// When to colour output: `auto` colours a terminal unless NO_COLOR, CLICOLOR=0 or
    /// TERM=dumb is set, and a pipe when CLICOLOR_FORCE is
    #[arg(
        long,
        value_name = "WHEN",
        global = true,
        default_value = "auto",
        help_heading = heading::OUTPUT
    )]
    pub color: crate::ui::ColorWhen,
}

/// The subcommands, listed once: each with its arguments (`module::Args`, run by
/// `module::run`), whether it asked for `--json`, and how its version is reconciled after
/// parsing (see [`Cli::try_parse_checked_from`]). This declares [`Command`] and its dispatch.
macro_rules! commands {
    ($(
        $(#[$meta:meta])*
        $name:ident($module:ident::$args:ident) {
            json($j:pat) => $json:expr,
            reconcile($r:pat, $m:pat) => $reconcile:expr $(,)?
        }
    )*) => {
        #[derive(Debug, Subcommand)]
        pub enum Command {
            $($(#[$meta])* $name(commands::$module::$args),)*
        }

        impl Command {
            /// Whether the command asked for `--json`: then its result, and a failure too, is
            /// one JSON object on stdout.
            pub fn json(&self) -> bool {
                match self {
                    $(Command::$name($j) => $json,)*
                }
            }

            /// Settle what clap alone cannot (see [`Cli::try_parse_checked_from`]); the error
            /// is the message of a usage error.
            fn reconcile(&mut self, m: &ArgMatches) -> Result<(), String> {
                match (self, m) {
                    $((Command::$name($r), $m) => $reconcile,)*
                }
            }

            /// Run the command: `commands::<module>::run`.
            pub fn run(self) -> Result<std::process::ExitCode, Report> {
                match self {
                    $(Command::$name(args) => commands::$module::run(args),)*
                }
            }
        }
    };
}

commands! {
    /// Install the pinned Codex runtime into the store (instant when already there).
    #[command(after_help = examples(&[
        ("codex-bootstrap install", "the project's pin, else the bundled one"),
        ("codex-bootstrap install 0.163.0 --print-path", "install, then print bin/codex"),
        ("codex-bootstrap install latest --python", "also into the active virtualenv"),
    ]))]
    Install(install::InstallArgs) {
        json(a) => a.json,
        reconcile(a, m) => a.version.take(&mut a.runtime.local, m),
    }
    /// Run one turn through `codex app-server` and print the answer.
    #[command(after_help = examples(&[
        ("codex-bootstrap quickstart", "a short hello through the pinned runtime"),
        ("codex-bootstrap quickstart 'Summarise this repository' --runtime 0.163.0", ""),
        ("codex-bootstrap quickstart --json --codex-home /tmp/codex-ci", ""),
    ]))]
    Quickstart(quickstart::QuickstartArgs) {
        json(a) => a.json,
        reconcile(a, m) => {
            from_command_line(m, "codex_home", &mut a.codex_home);
            a.runtime.local.take_version(m, &mut a.runtime_version, "--runtime ")
        },
    }
    /// Check everything a Codex user needs, with a fix for each failure.
    #[command(after_help = examples(&[
        ("codex-bootstrap doctor", "the project's pin"),
        ("codex-bootstrap doctor --offline --json", "no network checks, one JSON object"),
        ("codex-bootstrap doctor 0.163.0 --turn", "that runtime, ending with one real turn"),
    ]))]
    Doctor(doctor::DoctorArgs) {
        json(a) => a.json,
        reconcile(a, m) => {
            from_command_line(m, "codex_home", &mut a.codex_home);
            a.version.take(&mut a.runtime.local, m)
        },
    }
    /// Build an `openai-codex-cli-bin` wheel from the verified runtime.
    #[command(after_help = examples(&[
        ("codex-bootstrap wheel --out dist", "the pinned runtime, for this host"),
        ("codex-bootstrap wheel 0.163.0 --out dist --target aarch64-unknown-linux-musl", ""),
    ]))]
    Wheel(wheel::WheelArgs) {
        json(a) => a.output.json,
        reconcile(a, m) => a.version.take(&mut a.runtime.local, m),
    }
    /// Write a manifest pinning a version's assets and digests for every target.
    #[command(after_help = examples(&[
        ("codex-bootstrap pin latest", "the newest stable, into ./codex-runtime.toml"),
        ("codex-bootstrap pin 0.163.0 --source python-index", "digests from the Python index"),
    ]))]
    Pin(pin::PinArgs) {
        json(a) => a.output.json,
        reconcile(a, m) => a.runtime.local.take_version(m, &mut a.runtime_version, ""),
    }
    /// Write a static mirror (release-download layout) for air gaps and fleets.
    #[command(after_help = examples(&[
        ("codex-bootstrap mirror --out /srv/codex --targets all", "the pin, every target"),
        ("codex-bootstrap mirror 0.163.0 --out mirror --from-cache", "offline, from the store"),
        ("codex-bootstrap install --mirror file:///srv/codex", "then install from it"),
    ]))]
    Mirror(mirror::MirrorArgs) {
        json(a) => a.output.json,
        reconcile(a, m) => a.version.take(&mut a.runtime.local, m),
    }
    /// List installed runtimes.
    #[command(after_help = examples(&[
        ("codex-bootstrap list", ""),
        ("codex-bootstrap list --json", "one JSON array"),
    ]))]
    List(list::ListArgs) {
        json(a) => a.json,
        reconcile(a, m) => a.runtime.take_version(m, &mut None, ""),
    }
    /// Print the path of the pinned runtime's `codex` (exit 1 when not installed).
    #[command(after_help = examples(&[
        ("codex-bootstrap which", "the project's pin"),
        ("\"$(codex-bootstrap which 0.163.0)\" --version", "run that runtime"),
    ]))]
    Which(which::WhichArgs) {
        json(a) => a.output.json,
        reconcile(a, m) => a.version.take(&mut a.runtime, m),
    }
    /// Remove an installed runtime.
    #[command(after_help = examples(&[
        ("codex-bootstrap uninstall 0.154.0-alpha.6", "this target's"),
        ("codex-bootstrap uninstall 0.160.0 --all-targets", "every target's"),
    ]))]
    Uninstall(uninstall::UninstallArgs) {
        json(a) => a.output.json,
        reconcile(a, m) => {
            a.runtime.take_version(m, &mut a.runtime_version, "")?;
            // clap requires the argument or `--version`, and uninstall's `--version` reads no
            // variable: one of them was on the command line.
            a.remove_version = a.runtime.version.clone().unwrap_or_default();
            Ok(())
        },
    }
    /// Remove leftovers of interrupted installs, and old runtimes with --keep/--older-than.
    #[command(after_help = examples(&[
        ("codex-bootstrap prune", "leftovers of interrupted installs only"),
        ("codex-bootstrap prune --keep 2 --dry-run", "what keeping two versions would remove"),
        ("codex-bootstrap prune --older-than 30", "runtimes unused for 30 days"),
    ]))]
    Prune(prune::PruneArgs) {
        json(a) => a.output.json,
        reconcile(a, m) => a.runtime.take_version(m, &mut None, ""),
    }
    /// Print a stable cache key (version, target, digest) for CI caches.
    #[command(after_help = examples(&[
        ("codex-bootstrap cache-key", "the project's pin, this host"),
        ("codex-bootstrap cache-key 0.163.0 --target x86_64-unknown-linux-musl", ""),
    ]))]
    CacheKey(cache_key::CacheKeyArgs) {
        json(a) => a.output.json,
        reconcile(a, m) => a.version.take(&mut a.runtime, m),
    }
    /// Print a shell completion script.
    #[command(after_help = examples(&[
        ("codex-bootstrap completions bash > ~/.local/share/bash-completion/completions/codex-bootstrap", ""),
        ("codex-bootstrap completions fish > ~/.config/fish/completions/codex-bootstrap.fish", ""),
    ]))]
    Completions(completions::CompletionsArgs) {
        json(_) => false,
        reconcile(_, _) => Ok(()),
    }
    /// Tasks for people working on codex-bootstrap (`cargo dev …`); hidden from help.
    #[command(hide = true)]
    Dev(dev::DevArgs) {
        json(_) => false,
        reconcile(_, _) => Ok(()),
    }
}

/// An `Examples:` section for `after_help`, styled like clap's own headings (plain when colour
/// is off). A non-empty note is aligned after the command as a `#` comment.
fn examples(lines: &[(&str, &str)]) -> StyledStr {
    let styles = Styles::default();
    let (header, literal) = (styles.get_header(), styles.get_literal());
    let width = lines
        .iter()
        .filter(|(_, note)| !note.is_empty())
        .map(|(cmd, _)| cmd.len())
        .max()
        .unwrap_or(0);
    let mut out = StyledStr::new();
    let _ = write!(out, "{header}Examples:{header:#}");
    for (cmd, note) in lines {
        let _ = write!(out, "\n  {literal}{cmd}{literal:#}");
        if !note.is_empty() {
            let pad = width - cmd.len();
            let _ = write!(out, "{:pad$}  # {note}", "");
        }
    }
    out
}

/// The positional `VERSION` of the commands that take one as [`VERSION_HELP`] says.
#[derive(Debug, Clone, Args)]
pub struct VersionArg {
    #[arg(
        value_name = "VERSION",
        help = VERSION_HELP,
        env = VERSION_ENV,
        hide_env_values = true
    )]
    pub runtime_version: Option<String>,
}

impl VersionArg {
    /// Move this version into `runtime` (see [`RuntimeArgs::take_version`]).
    pub fn take(&mut self, runtime: &mut RuntimeArgs, m: &ArgMatches) -> Result<(), String> {
        runtime.take_version(m, &mut self.runtime_version, "")
    }
}

/// `--json` where it prints one JSON object documented in the user guide (docs/src/json.md).
#[derive(Debug, Clone, Copy, Args)]
pub struct JsonArg {
    /// Print one JSON object (see "JSON output" in the user guide).
    #[arg(long, help_heading = heading::OUTPUT)]
    pub json: bool,
}

/// `VERSION`, [`RuntimeArgs`] and `--json`: what `which` and `cache-key`, which read an exact
/// pin and the store and never download, take.
#[derive(Debug, Args)]
pub struct ExactArgs {
    #[command(flatten)]
    pub version: VersionArg,

    #[command(flatten)]
    pub runtime: RuntimeArgs,

    #[command(flatten)]
    pub output: JsonArg,
}

/// `--quiet` where it silences all progress and status output.
#[derive(Debug, Clone, Copy, Args)]
pub struct QuietArg {
    /// No progress or status output.
    #[arg(long, short, help_heading = heading::OUTPUT)]
    pub quiet: bool,
}

/// Which runtime, for which target, kept where: shared by every command that resolves one.
/// None of these touch the network.
#[derive(Debug, Clone, Args)]
pub struct RuntimeArgs {
    /// The runtime version. After [`Cli::try_parse_checked`] this holds the version from
    /// whichever spelling was used on the command line (the VERSION argument, `--version`,
    /// `quickstart --runtime`), and is `None` when it came from nowhere or from the environment:
    /// the pin resolver reads CODEX_BOOTSTRAP_VERSION itself, to report it as the source.
    #[arg(
        long = "version",
        help = "The runtime version, as the VERSION argument gives it (the older spelling, still accepted)",
        value_name = "VERSION",
        env = VERSION_ENV,
        hide_env_values = true,
        hide_short_help = true,
        help_heading = heading::RUNTIME
    )]
    pub version: Option<String>,

    /// Target triple of the runtime, e.g. `aarch64-unknown-linux-musl` [default: this host].
    #[arg(long, value_name = "TRIPLE", help_heading = heading::RUNTIME)]
    pub target: Option<String>,

    /// Only a value given on the command line lands here: the store reads CODEX_BOOTSTRAP_HOME
    /// itself (see [`codex_bootstrap::store::Store::locate`]).
    #[arg(
        long,
        help = "One root for the whole store: runtimes, downloads, locks [default: runtimes in the platform data dir, downloads in the platform cache dir]",
        value_name = "DIR",
        env = HOME_ENV,
        hide_env_values = true,
        help_heading = heading::RUNTIME
    )]
    pub cache_dir: Option<PathBuf>,
}

impl RuntimeArgs {
    /// The library's view of these flags, with the network at its defaults: for the commands
    /// that never download.
    pub fn settings(&self) -> Settings {
        Settings::from(self)
    }
}

impl From<&RuntimeArgs> for Settings {
    fn from(local: &RuntimeArgs) -> Settings {
        Settings {
            version: local.version.clone(),
            target: local.target.clone(),
            cache_dir: local.cache_dir.clone(),
            ..Settings::default()
        }
    }
}

/// How to reach the sources: only on the commands that use the network.
#[derive(Debug, Clone, Args)]
pub struct NetworkArgs {
    /// Download release assets from this mirror (`{mirror}/rust-v{V}/{asset}`; `file://` works).
    #[arg(
        long,
        env = "CODEX_BOOTSTRAP_MIRROR",
        hide_env_values = true,
        value_name = "URL",
        help_heading = heading::NETWORK
    )]
    pub mirror: Option<String>,

    /// GitHub API base URL.
    #[arg(
        long,
        env = "CODEX_BOOTSTRAP_GITHUB_API",
        hide_env_values = true,
        value_name = "URL",
        default_value_t = Settings::default().github_api_url,
        help_heading = heading::NETWORK
    )]
    pub github_api_url: String,

    /// GitHub release download base URL (for GitHub Enterprise or tests).
    #[arg(
        long,
        env = "CODEX_BOOTSTRAP_GITHUB_DOWNLOAD_URL",
        hide_env_values = true,
        value_name = "URL",
        default_value_t = Settings::default().github_download_url,
        hide_short_help = true,
        help_heading = heading::NETWORK
    )]
    pub github_download_url: String,

    /// Allow plain `http://` to hosts other than loopback.
    #[arg(long, help_heading = heading::NETWORK)]
    pub allow_http: bool,

    /// Seconds to wait for a connection.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = Settings::default().net.connect_timeout,
        env = "CODEX_BOOTSTRAP_CONNECT_TIMEOUT",
        hide_env_values = true,
        help_heading = heading::NETWORK
    )]
    pub connect_timeout: u64,

    /// Seconds a transfer may stall before it is retried.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = Settings::default().net.read_timeout,
        env = "CODEX_BOOTSTRAP_READ_TIMEOUT",
        hide_env_values = true,
        help_heading = heading::NETWORK
    )]
    pub read_timeout: u64,

    /// Seconds a metadata request (index page, packument, release JSON, SHA256SUMS) may take in
    /// all, retries included.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = Settings::default().net.metadata_timeout,
        env = "CODEX_BOOTSTRAP_METADATA_TIMEOUT",
        hide_env_values = true,
        help_heading = heading::NETWORK
    )]
    pub metadata_timeout: u64,

    /// Attempts per download before giving up.
    #[arg(
        long,
        value_name = "N",
        default_value_t = Settings::default().net.retries,
        env = "CODEX_BOOTSTRAP_RETRIES",
        hide_env_values = true,
        help_heading = heading::NETWORK
    )]
    pub retries: u32,

    /// Where to get the runtime, in order: github, python-index, npm, or auto (all three, in
    /// that order). Repeatable or a comma list. A `--mirror` is always tried first.
    #[arg(
        long = "source",
        visible_alias = "sources",
        value_name = "SOURCE",
        env = "CODEX_BOOTSTRAP_SOURCES",
        hide_env_values = true,
        value_delimiter = ',',
        help_heading = heading::NETWORK
    )]
    pub sources: Vec<String>,

    /// The Python package index [default: UV_DEFAULT_INDEX, UV_INDEX_URL, PIP_INDEX_URL,
    /// pip.conf, else pip's own default].
    // The value may carry credentials (`https://user:token@host/simple`): never echo it in help.
    #[arg(
        long,
        env = "CODEX_BOOTSTRAP_INDEX_URL",
        hide_env_values = true,
        value_name = "URL",
        help_heading = heading::NETWORK
    )]
    pub index_url: Option<String>,

    /// The npm registry [default: npm_config_registry, .npmrc, else `npm config get registry`].
    #[arg(
        long,
        env = "CODEX_BOOTSTRAP_NPM_REGISTRY",
        hide_env_values = true,
        value_name = "URL",
        help_heading = heading::NETWORK
    )]
    pub npm_registry: Option<String>,

    /// Refuse a runtime whose Sigstore signature was not verified (OpenAI signs the Linux
    /// `codex`; the guide's "Provenance"). A bundle that is found is always checked.
    #[arg(
        long,
        env = "CODEX_BOOTSTRAP_REQUIRE_SIGNATURE",
        hide_env_values = true,
        value_parser = clap::builder::FalseyValueParser::new(),
        default_value_t = false,
        num_args = 0,
        default_missing_value = "true",
        help_heading = heading::NETWORK
    )]
    pub require_signature: bool,

    /// Verify signatures against this Sigstore `trusted_root.json` instead of the embedded
    /// production root (as cosign's `--trusted-root`).
    #[arg(
        long,
        env = "CODEX_BOOTSTRAP_TRUSTED_ROOT",
        hide_env_values = true,
        value_name = "FILE",
        help_heading = heading::NETWORK
    )]
    pub trusted_root: Option<std::path::PathBuf>,
}

/// [`RuntimeArgs`] and [`NetworkArgs`]: what a command that downloads a runtime takes.
#[derive(Debug, Clone, Args)]
pub struct OnlineArgs {
    #[command(flatten)]
    pub local: RuntimeArgs,
    #[command(flatten)]
    pub network: NetworkArgs,
}

impl OnlineArgs {
    /// The library's view of these flags.
    pub fn settings(&self) -> Settings {
        Settings::from(self)
    }
}

impl From<&OnlineArgs> for Settings {
    fn from(args: &OnlineArgs) -> Settings {
        let net = &args.network;
        Settings {
            mirror: net.mirror.clone(),
            github_api_url: net.github_api_url.clone(),
            github_download_url: net.github_download_url.clone(),
            sources: net.sources.clone(),
            index_url: net.index_url.clone(),
            npm_registry: net.npm_registry.clone(),
            net: NetSettings {
                allow_http: net.allow_http,
                connect_timeout: net.connect_timeout,
                read_timeout: net.read_timeout,
                metadata_timeout: net.metadata_timeout,
                retries: net.retries,
            },
            signature: codex_bootstrap::provenance::SignaturePolicy {
                require: net.require_signature,
                trusted_root: net.trusted_root.clone(),
                required_by: None,
            },
            ..Settings::from(&args.local)
        }
    }
}

/// The settings `codex-bootstrap install` would run with here, from the variables its flags
/// read (the network's above all): what the `codex` entry point installs on demand with.
pub fn install_settings() -> Result<Settings, codex_bootstrap::error::Failure> {
    match Cli::try_parse_checked_from(["codex-bootstrap", "install"]) {
        Ok(Cli {
            command: Command::Install(args),
            ..
        }) => Ok(args.runtime.settings()),
        Ok(_) => Err(codex_bootstrap::error::Failure::new(
            "`codex-bootstrap install` did not parse as install",
        )),
        // A variable with a value its flag refuses (CODEX_BOOTSTRAP_RETRIES=many).
        Err(e) => {
            let text = e.to_string();
            let first = text.lines().next().unwrap_or_default();
            Err(codex_bootstrap::error::Failure::new(
                first.strip_prefix("error: ").unwrap_or(first).to_string(),
            )
            .hint("fix the CODEX_BOOTSTRAP_* variable it names, or unset it")
            .usage())
        }
    }
}

impl Cli {
    /// Parse `std::env::args_os()`; see [`Cli::try_parse_checked_from`].
    pub fn try_parse_checked() -> Result<Cli, clap::Error> {
        Cli::try_parse_checked_from(std::env::args_os())
    }

    /// Parse like [`Parser::try_parse_from`], then: refuse `--version` before the subcommand
    /// when something follows it; put the runtime version from the positional (or
    /// `quickstart --runtime`) or `--version` into [`RuntimeArgs::version`], refusing two
    /// different ones; and drop values clap took from the environment for flags whose
    /// variable the library reads itself (CODEX_BOOTSTRAP_VERSION, CODEX_BOOTSTRAP_HOME,
    /// CODEX_HOME), so the library keeps its precedence and can say where a value came from.
    /// Every refusal is a clap usage error (exit 2).
    pub fn try_parse_checked_from<I, T>(args: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString>,
    {
        let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
        let mut cmd = Cli::command();
        refuse_version_before_subcommand(&mut cmd, &args)?;
        let matches = cmd.try_get_matches_from_mut(&args)?;
        let mut cli = Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut cmd))?;
        if let Some((name, sub_matches)) = matches.subcommand() {
            if let Err(message) = cli.command.reconcile(sub_matches) {
                let sub = cmd
                    .find_subcommand_mut(name)
                    .expect("clap matched this subcommand");
                return Err(sub.error(ErrorKind::ArgumentConflict, message));
            }
        }
        Ok(cli)
    }
}

/// The id of each command's positional `VERSION` (and of `quickstart --runtime`).
const VERSION_ARG: &str = "runtime_version";

impl RuntimeArgs {
    /// Move the version spelled by `positional` (flag `spelling`, empty for an argument) into
    /// `self.version`, refusing a different `--version`; drop what came from the environment.
    pub fn take_version(
        &mut self,
        m: &ArgMatches,
        positional: &mut Option<String>,
        spelling: &str,
    ) -> Result<(), String> {
        from_command_line(m, "version", &mut self.version);
        from_command_line(m, "cache_dir", &mut self.cache_dir);
        if positional.is_some() {
            from_command_line(m, VERSION_ARG, positional);
        }
        match (positional.take(), self.version.take()) {
            (Some(a), Some(b)) if !same_version(&a, &b) => Err(format!(
                "the runtime version is given twice, as `{spelling}{a}` and as `--version {b}`\n\n\
                 hint: drop `--version`: it is the old spelling of the same thing"
            )),
            (a, b) => {
                self.version = a.or(b);
                Ok(())
            }
        }
    }
}

/// Both spellings name one version (`0.154.0a6` and `0.154.0-alpha.6` do).
fn same_version(a: &str, b: &str) -> bool {
    match (Request::parse(a), Request::parse(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// Keep `value` only if the user typed it: clap fills it from `env = ...` too.
pub fn from_command_line<T>(m: &ArgMatches, id: &str, value: &mut Option<T>) {
    if m.value_source(id) != Some(ValueSource::CommandLine) {
        *value = None;
    }
}

/// `codex-bootstrap --version 0.163.0 install` would print the tool's version and exit 0,
/// installing nothing: a CI step that looks right and does nothing. The top-level `--version`
/// is the tool's, so anything but flags after it is a usage error naming the intended line.
fn refuse_version_before_subcommand(
    cmd: &mut clap::Command,
    args: &[OsString],
) -> Result<(), clap::Error> {
    let names: Vec<String> = cmd
        .get_subcommands()
        .flat_map(|s| std::iter::once(s.get_name()).chain(s.get_all_aliases()))
        .chain(["help"])
        .map(str::to_owned)
        .collect();
    let rest: Vec<String> = args
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let sub_at = rest.iter().position(|a| names.contains(a));
    let Some(flag_at) = rest[..sub_at.unwrap_or(rest.len())]
        .iter()
        .position(|a| a == "--version" || a == "-V" || a.starts_with("--version="))
    else {
        return Ok(());
    };
    let flag = &rest[flag_at];
    let value = match flag.strip_prefix("--version=") {
        Some(v) => Some(v.to_string()),
        None => rest
            .get(flag_at + 1)
            .filter(|a| !a.starts_with('-') && !names.contains(a))
            .cloned(),
    };
    if value.is_none() && sub_at.is_none() {
        return Ok(());
    }
    let sub = sub_at.map(|i| rest[i].as_str());
    let version = value.as_deref().unwrap_or("VERSION");
    let hint = match sub {
        Some("quickstart") => format!("write `codex-bootstrap quickstart --runtime {version}`"),
        Some(s @ ("list" | "prune")) => format!("write `codex-bootstrap {s} --version {version}`"),
        Some(s @ ("completions" | "help")) => {
            format!("`--version` prints codex-bootstrap's own version; drop it from `codex-bootstrap {s}`")
        }
        Some(s) => format!("write `codex-bootstrap {s} {version}`"),
        None => format!("write `codex-bootstrap install {version}`"),
    };
    Err(cmd.error(
        ErrorKind::ArgumentConflict,
        format!(
            "`{flag}` before the subcommand is codex-bootstrap's own version, not the runtime's\n\n\
             hint: {hint}"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_checked_from(std::iter::once("codex-bootstrap").chain(args.iter().copied()))
    }

    fn install(args: &[&str]) -> commands::install::InstallArgs {
        match parse(args).map(|cli| cli.command) {
            Ok(Command::Install(a)) => a,
            other => panic!("{args:?}: {other:?}"),
        }
    }

    #[test]
    fn the_definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn either_spelling_lands_in_runtime_args_version() {
        for args in [
            &["install", "0.1.0"][..],
            &["install", "--version", "0.1.0"],
            &["install", "0.1.0", "--version", "0.1.0"],
        ] {
            let a = install(args);
            assert_eq!(
                a.runtime.local.version.as_deref(),
                Some("0.1.0"),
                "{args:?}"
            );
            assert_eq!(
                a.version.runtime_version, None,
                "{args:?}: one place holds it"
            );
        }
        assert_eq!(install(&["install"]).runtime.local.version, None);
    }

    #[test]
    fn quickstart_takes_the_version_as_runtime_and_the_prompt_as_argument() {
        let Ok(Command::Quickstart(a)) =
            parse(&["quickstart", "hi", "--runtime", "0.1.0"]).map(|c| c.command)
        else {
            panic!("quickstart did not parse");
        };
        assert_eq!(a.prompt.as_deref(), Some("hi"));
        assert_eq!(a.runtime.local.version.as_deref(), Some("0.1.0"));
    }

    #[test]
    fn uninstall_removes_the_version_of_either_spelling() {
        for args in [
            &["uninstall", "0.1.0"][..],
            &["uninstall", "--version", "0.1.0"],
        ] {
            let Ok(Command::Uninstall(a)) = parse(args).map(|c| c.command) else {
                panic!("{args:?} did not parse");
            };
            assert_eq!(a.remove_version, "0.1.0", "{args:?}");
        }
        let e = parse(&["uninstall"]).expect_err("a version is required");
        assert_eq!(e.kind(), ErrorKind::MissingRequiredArgument);
    }

    #[test]
    fn two_different_versions_conflict() {
        let e = parse(&["install", "0.163.0", "--version", "0.160.0"]).expect_err("a conflict");
        assert_eq!(e.kind(), ErrorKind::ArgumentConflict);
        assert!(
            e.to_string()
                .contains("`0.163.0` and as `--version 0.160.0`"),
            "{e}"
        );
        // One version in two spellings is no conflict.
        assert!(parse(&["which", "0.154.0a6", "--version", "0.154.0-alpha.6"]).is_ok());
    }

    #[test]
    fn the_tool_version_before_a_subcommand_is_refused() {
        let e = parse(&["--version", "0.163.0", "install"]).expect_err("refused");
        assert_eq!(e.kind(), ErrorKind::ArgumentConflict);
        assert!(
            e.to_string()
                .contains("hint: write `codex-bootstrap install 0.163.0`"),
            "{e}"
        );
        let alone = parse(&["--version"]).expect_err("clap prints the version");
        assert_eq!(alone.kind(), ErrorKind::DisplayVersion);
        // After the subcommand, `--version` is the runtime's.
        assert!(parse(&["install", "--version", "0.163.0"]).is_ok());
    }

    #[test]
    fn network_flags_only_on_commands_that_download() {
        let cli = Cli::command();
        let online: Vec<&str> = cli
            .get_subcommands()
            .filter(|c| c.get_arguments().any(|a| a.get_id() == "mirror"))
            .map(|c| c.get_name())
            .collect();
        assert_eq!(
            online,
            ["install", "quickstart", "doctor", "wheel", "pin", "mirror"]
        );
    }

    #[test]
    fn every_variable_is_shown_never_its_value() {
        let cli = Cli::command();
        let env = |sub: &str, id: &str| {
            let sub = cli.find_subcommand(sub).expect("a subcommand");
            let arg = sub.get_arguments().find(|a| a.get_id() == id);
            arg.and_then(|a| a.get_env())
                .map(|e| e.to_string_lossy().into_owned())
        };
        for sub in [
            "install",
            "which",
            "cache-key",
            "doctor",
            "wheel",
            "pin",
            "mirror",
        ] {
            assert_eq!(env(sub, VERSION_ARG).as_deref(), Some(VERSION_ENV), "{sub}");
        }
        assert_eq!(env("quickstart", VERSION_ARG).as_deref(), Some(VERSION_ENV));
        assert_eq!(env("list", "version").as_deref(), Some(VERSION_ENV));
        assert_eq!(
            env("uninstall", "version"),
            None,
            "uninstall reads no variable"
        );
        assert_eq!(env("list", "cache_dir").as_deref(), Some(HOME_ENV));
        assert_eq!(env("doctor", "codex_home").as_deref(), Some("CODEX_HOME"));
        for sub in cli.get_subcommands() {
            for arg in sub.get_arguments().filter(|a| a.get_env().is_some()) {
                assert!(
                    arg.is_hide_env_values_set(),
                    "{} --{}: a value may hold credentials",
                    sub.get_name(),
                    arg.get_id()
                );
            }
        }
    }

    #[test]
    fn every_command_ends_with_two_or_three_examples() {
        for sub in Cli::command()
            .get_subcommands()
            .filter(|s| !s.is_hide_set())
        {
            let after = sub
                .get_after_help()
                .map(ToString::to_string)
                .unwrap_or_default();
            let examples = after
                .lines()
                .filter(|l| l.contains("codex-bootstrap "))
                .count();
            assert!(
                after.starts_with("Examples:") && (2..=3).contains(&examples),
                "{}: {after}",
                sub.get_name()
            );
        }
    }
}
