//! The test context every integration test starts from: a sandboxed HOME, cache and working
//! directory, an environment scrubbed of proxies, tokens, registry locations and credentials and
//! CI variables, and the binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::github::ReleaseServer;
use crate::support::npm::NpmRegistry;
use crate::support::pyindex::PythonIndex;

/// The release most tests install, and its tag.
pub const V: &str = "0.163.0";
pub const TAG: &str = "rust-v0.163.0";

/// The host's target triple as codex-bootstrap sees it.
pub fn host_target() -> &'static str {
    match std::env::consts::ARCH {
        "aarch64" => "aarch64-unknown-linux-musl",
        _ => "x86_64-unknown-linux-musl",
    }
}

/// Where `version` is installed for the host target in `ctx`'s store.
pub fn runtime_dir(ctx: &TestContext, version: &str) -> PathBuf {
    ctx.cache_dir()
        .join("runtimes")
        .join(version)
        .join(host_target())
}

/// `V` is installed in `ctx`'s store: its `codex --version` answers and its receipt is there.
#[track_caller]
pub fn assert_installed(ctx: &TestContext) {
    let codex = runtime_dir(ctx, V).join("bin/codex");
    let out = Command::new(&codex).arg("--version").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("codex-cli {V}")
    );
    assert!(runtime_dir(ctx, V)
        .join(".codex-bootstrap-receipt.json")
        .is_file());
}

/// Nothing of `V` is in `ctx`'s store: no runtime and no staging left behind.
#[track_caller]
pub fn assert_nothing_installed(ctx: &TestContext) {
    assert!(!runtime_dir(ctx, V).exists(), "a runtime was installed");
    let leftovers: Vec<_> = std::fs::read_dir(ctx.cache_dir().join("runtimes").join(V))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(leftovers.is_empty(), "staging left behind: {leftovers:?}");
}

/// Environment variables that would make a test depend on the machine it runs on.
const SCRUBBED: &[&str] = &[
    "GH_TOKEN",
    "GITHUB_TOKEN",
    "GITHUB_ACTIONS",
    "GITHUB_PATH",
    "GITHUB_OUTPUT",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
    "CODEX_BOOTSTRAP_VERSION",
    "CODEX_BOOTSTRAP_HOME",
    "CODEX_BOOTSTRAP_MIRROR",
    "CODEX_BOOTSTRAP_GITHUB_API",
    "CODEX_BOOTSTRAP_GITHUB_DOWNLOAD_URL",
    "CODEX_HOME",
    "OPENAI_API_KEY",
    "CODEX_API_KEY",
    "VIRTUAL_ENV",
    "NO_COLOR",
    "CLICOLOR",
    "CLICOLOR_FORCE",
    "CODEX_BOOTSTRAP_LOG",
    // Which root certificates TLS trusts, and where the store lives.
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "XDG_DATA_HOME",
    "CODEX_BOOTSTRAP_DATA_DIR",
    "CODEX_BOOTSTRAP_CACHE_DIR",
    // Where the Python index and npm registry are, and their credentials: a test must never
    // reach the machine's registries or read its user's configuration.
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "PIP_CONFIG_FILE",
    "UV_DEFAULT_INDEX",
    "UV_INDEX_URL",
    "UV_INDEX",
    "UV_CONFIG_FILE",
    "UV_NO_CONFIG",
    "UV_LINK_MODE",
    "CODEX_BOOTSTRAP_LINK_MODE",
    "NETRC",
    "npm_config_registry",
    "NPM_CONFIG_REGISTRY",
    "npm_config_userconfig",
    "NPM_CONFIG_USERCONFIG",
    "npm_config_globalconfig",
    "CODEX_BOOTSTRAP_SOURCES",
    "CODEX_BOOTSTRAP_INDEX_URL",
    "CODEX_BOOTSTRAP_NPM_REGISTRY",
    // Where `install` places the `codex` entry point, and what it does: the context sets its
    // own bin directory.
    "XDG_BIN_HOME",
    "CODEX_BOOTSTRAP_BIN_DIR",
    "CODEX_BOOTSTRAP_NO_BIN",
    "CODEX_BOOTSTRAP_AUTO_INSTALL",
    // The shell doctor and install write their PATH line for.
    "SHELL",
    // Where container tools keep registry credentials (OCI mirrors).
    "DOCKER_CONFIG",
    "REGISTRY_AUTH_FILE",
    "XDG_RUNTIME_DIR",
];

pub struct TestContext {
    pub temp: tempfile::TempDir,
}

impl TestContext {
    pub fn new() -> TestContext {
        let temp = tempfile::tempdir().expect("create a temp dir");
        for d in ["home", "cache", "work", "codex-home"] {
            std::fs::create_dir_all(temp.path().join(d)).expect("create sandbox dirs");
        }
        TestContext { temp }
    }

    pub fn root(&self) -> &Path {
        self.temp.path()
    }
    pub fn home(&self) -> PathBuf {
        self.root().join("home")
    }
    pub fn cache_dir(&self) -> PathBuf {
        self.root().join("cache")
    }
    /// The current directory of commands: a project with no pin of its own.
    pub fn work_dir(&self) -> PathBuf {
        self.root().join("work")
    }
    pub fn codex_home(&self) -> PathBuf {
        self.root().join("codex-home")
    }
    /// Where `install` places the `codex` entry point (`CODEX_BOOTSTRAP_BIN_DIR`).
    pub fn bin_dir(&self) -> PathBuf {
        self.root().join("bin")
    }

    /// `codex-bootstrap ARGS` in the sandbox. Unreachable GitHub, Python index and npm endpoints
    /// by default, so a test that forgets to point at its loopback server fails fast instead of
    /// touching the network.
    pub fn cmd<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut cmd = self.command(env!("CARGO_BIN_EXE_codex-bootstrap"));
        cmd.args(args);
        cmd
    }

    /// Any program, in the same sandboxed environment as [`TestContext::cmd`].
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        for v in SCRUBBED {
            cmd.env_remove(v);
        }
        cmd.current_dir(self.work_dir())
            .env("HOME", self.home())
            .env("XDG_CACHE_HOME", self.root().join("xdg-cache"))
            // pip's user configuration, and npm's global one (the machine's may name a registry).
            .env("XDG_CONFIG_HOME", self.root().join("xdg-config"))
            .env(
                "npm_config_globalconfig",
                self.root().join("npm-globalconfig"),
            )
            .env("CODEX_BOOTSTRAP_HOME", self.cache_dir())
            .env("CODEX_BOOTSTRAP_BIN_DIR", self.bin_dir())
            .env("CODEX_HOME", self.codex_home())
            .env(
                "CODEX_BOOTSTRAP_GITHUB_API",
                "http://127.0.0.1:9/unreachable-api",
            )
            .env(
                "CODEX_BOOTSTRAP_GITHUB_DOWNLOAD_URL",
                "http://127.0.0.1:9/unreachable-download",
            )
            .env(
                "CODEX_BOOTSTRAP_INDEX_URL",
                "http://127.0.0.1:9/unreachable-index",
            )
            .env(
                "CODEX_BOOTSTRAP_NPM_REGISTRY",
                "http://127.0.0.1:9/unreachable-npm",
            )
            .env("CODEX_BOOTSTRAP_RETRY_BASE_MS", "1")
            // Codex children get a minimal environment: the fake app-server's knobs by name.
            .env(
                "CODEX_BOOTSTRAP_PASS_ENV",
                "FAKE_APP_SERVER_MODE,FAKE_APP_SERVER_TAG,FAKE_CODEX_VERSION",
            )
            .env("__CODEX_BOOTSTRAP_TEST_IGNORE_BUNDLED_PINS", "1")
            // Installing into an environment outside the sandbox (the machine's python3) is an
            // error, not a write into the user's site-packages.
            .env("__CODEX_BOOTSTRAP_TEST_SANDBOX", self.root())
            .env("CODEX_BOOTSTRAP_CONNECT_TIMEOUT", "5")
            .env("CODEX_BOOTSTRAP_READ_TIMEOUT", "5")
            .stdin(std::process::Stdio::null());
        cmd
    }

    /// `codex-bootstrap install EXTRA` pointed at `server`, run and captured.
    pub fn install(&self, server: &ReleaseServer, extra: &[&str]) -> Output {
        self.cmd(["install"])
            .args(extra)
            .github(server)
            .output()
            .expect("run install")
    }

    /// Run and capture.
    pub fn run<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.cmd(args).output().expect("run codex-bootstrap")
    }
}

/// Point a command at a loopback server, through the variables [`TestContext::command`] sets to
/// unreachable defaults.
pub trait PointAt {
    /// GitHub's API and downloads: `CODEX_BOOTSTRAP_GITHUB_API`, `..._GITHUB_DOWNLOAD_URL`.
    fn github(&mut self, server: &ReleaseServer) -> &mut Self;
    /// The Python index: `CODEX_BOOTSTRAP_INDEX_URL`.
    fn python_index(&mut self, index: &PythonIndex) -> &mut Self;
    /// The npm registry: `CODEX_BOOTSTRAP_NPM_REGISTRY`.
    fn npm_registry(&mut self, registry: &NpmRegistry) -> &mut Self;
}

impl PointAt for Command {
    fn github(&mut self, server: &ReleaseServer) -> &mut Self {
        self.env("CODEX_BOOTSTRAP_GITHUB_API", server.api_url())
            .env("CODEX_BOOTSTRAP_GITHUB_DOWNLOAD_URL", server.download_url())
    }
    fn python_index(&mut self, index: &PythonIndex) -> &mut Self {
        self.env("CODEX_BOOTSTRAP_INDEX_URL", index.url())
    }
    fn npm_registry(&mut self, registry: &NpmRegistry) -> &mut Self {
        self.env("CODEX_BOOTSTRAP_NPM_REGISTRY", registry.url())
    }
}

/// stdout and stderr of a finished command, for assertion messages.
pub fn describe(out: &Output) -> String {
    format!(
        "exit: {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Assert a command exited with `code`, showing its output otherwise.
#[track_caller]
pub fn assert_exit(out: &Output, code: i32) {
    assert_eq!(out.status.code(), Some(code), "{}", describe(out));
}

/// Whether the tests run in CI: `CI` set to `true` or `1`, as CI services set it (the same test
/// as cargo-test-support's `is_ci`).
pub fn is_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// A test's precondition: `found` is `Ok` where the machine provides `what`, else the reason it
/// does not. Off CI a missing precondition skips the test: the reason is printed and `None`
/// returned, for the test to return. Under CI it fails the test, naming what was expected: CI
/// provides every precondition, so there a skip would only hide a test that checks nothing.
#[track_caller]
pub fn require<T>(what: &str, found: Result<T, String>) -> Option<T> {
    let why = match found {
        Ok(t) => return Some(t),
        Err(why) => why,
    };
    assert!(
        !is_ci(),
        "expected {what}: {why} (CI is set, so a missing precondition fails the test)"
    );
    let test = std::thread::current()
        .name()
        .unwrap_or("a test")
        .to_string();
    eprintln!("SKIPPED {test}: expected {what}: {why}");
    None
}

/// `Ok` when `program ARGS` runs and exits 0, else why not: a precondition for [`require`].
pub fn command_runs(program: &str, args: &[&str]) -> Result<(), String> {
    let shown = format!("`{program} {}`", args.join(" "));
    match Command::new(program).args(args).output() {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(format!("{shown} failed ({})", out.status)),
        Err(e) => Err(format!("{shown} could not run: {e}")),
    }
}

/// Poll `ready` until it holds. The minute is an upper bound to detect a hang, not a timing
/// assertion: running out of it fails the test, naming `what` was waited for.
#[track_caller]
pub fn wait_for(what: &str, mut ready: impl FnMut() -> bool) {
    let started = std::time::Instant::now();
    while !ready() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "waited a minute for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// A tmpfs mounted for one test (`size` as `mount` takes it: `600k`, `64m`), unmounted on drop.
/// As root it is mounted directly; otherwise through `sudo -n` (CI runners allow it), owned by
/// the user running the tests.
pub struct Tmpfs {
    at: PathBuf,
    sudo: bool,
}

impl Tmpfs {
    /// Mount it at `at` (created if missing), or say why it could not be.
    pub fn mount(at: &Path, size: &str) -> Result<Tmpfs, String> {
        use std::os::unix::fs::MetadataExt;
        std::fs::create_dir_all(at).map_err(|e| format!("cannot create {}: {e}", at.display()))?;
        // The directory was just made by this process: its owner is who the tests run as.
        let owner = std::fs::metadata(at).map_err(|e| e.to_string())?;
        let sudo = owner.uid() != 0;
        let mut cmd = Command::new(if sudo { "sudo" } else { "mount" });
        if sudo {
            cmd.args(["-n", "mount"]);
        }
        let shown = if sudo { "sudo -n mount" } else { "mount" };
        let options = format!(
            "size={size},mode=0755,uid={},gid={}",
            owner.uid(),
            owner.gid()
        );
        let out = cmd
            .args(["-t", "tmpfs", "-o", &options, "tmpfs"])
            .arg(at)
            .output()
            .map_err(|e| format!("`{shown}` could not run: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "`{shown} -t tmpfs` failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        let mounted = Tmpfs {
            at: at.to_path_buf(),
            sudo,
        };
        // A test that needs another file system must get one: compare the devices.
        let dev = |p: &Path| {
            std::fs::metadata(p)
                .map(|m| m.dev())
                .map_err(|e| e.to_string())
        };
        let parent = at.parent().unwrap_or(Path::new("/"));
        if dev(at)? == dev(parent)? {
            return Err(format!(
                "`{shown}` succeeded but {} is still on its parent's file system",
                at.display()
            ));
        }
        Ok(mounted)
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let mut cmd = Command::new(if self.sudo { "sudo" } else { "umount" });
        if self.sudo {
            cmd.args(["-n", "umount"]);
        }
        // No panic in a drop that may run while unwinding; a mount left behind is reported.
        if !cmd.arg(&self.at).status().is_ok_and(|s| s.success()) {
            eprintln!("could not unmount the test tmpfs at {}", self.at.display());
        }
    }
}
