//! Against real private registries and an authenticating proxy: devpi-server behind
//! devpi-lockdown's nginx front, verdaccio with htpasswd auth, squid with basic auth, all on
//! loopback and holding the real 0.163.0 wheels and npm tarball. `.ci/private-registries`
//! installs, feeds and starts them and runs these tests (`--ignored`); it passes their
//! locations and secrets in `PRIVATE_*` variables. A plain `cargo test` ignores them.
//!
//! The registries are configured only as the guide's "Private registries and proxies" page
//! (docs/src/private-registries.md) writes it: its blocks are read from the page and given the
//! servers' hosts and secrets.
//! The bundled manifest pins the real bytes, so these installs check them against it (no test
//! knob turns the bundled pins off here).

#[path = "../support/guide.rs"]
mod guide;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use base64::Engine as _;

const V: &str = "0.163.0";
const TARGET: &str = "x86_64-unknown-linux-musl";

// ---------------------------------------------------------------------------------------------
// The servers

/// What `.ci/private-registries` started.
struct Servers {
    /// `http://127.0.0.1:P/fleet/private/+simple/` (nginx in front of devpi), no userinfo.
    devpi_index: String,
    /// The same index over https (a CA of the script's own: `devpi_ca`).
    devpi_tls_index: String,
    devpi_ca: PathBuf,
    devpi_user: String,
    devpi_password: String,
    /// What reached the devpi front: method, URI, status and the credentials that came.
    devpi_log: PathBuf,
    /// `http://127.0.0.1:P/`
    npm_registry: String,
    npm_password: String,
    npm_token: String,
    /// `http://127.0.0.1:P`
    proxy: String,
    proxy_user: String,
    proxy_password: String,
    proxy_log: PathBuf,
    /// The wheels and the npm tarball the registries were fed (`wheels/`, `npm/`).
    artifacts: PathBuf,
}

/// Whether this is CI, where a missing precondition fails instead of skipping.
fn is_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// The servers, or `None` (the test then skips, saying why) off CI when they are not running.
fn servers() -> Option<&'static Servers> {
    static S: OnceLock<Option<Servers>> = OnceLock::new();
    S.get_or_init(|| {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let missing: Vec<&str> = [
            "PRIVATE_DEVPI_INDEX",
            "PRIVATE_NPM_REGISTRY",
            "PRIVATE_PROXY",
        ]
        .into_iter()
        .filter(|n| var(n).is_none())
        .collect();
        if !missing.is_empty() {
            let why = format!(
                "{} not set: the private registries are not running (run these tests through .ci/private-registries)",
                missing.join(", ")
            );
            if is_ci() {
                panic!("{why}");
            }
            eprintln!("skipped: {why}");
            return None;
        }
        let need = |name: &str| {
            var(name).unwrap_or_else(|| panic!("{name} is not set by .ci/private-registries"))
        };
        Some(Servers {
            devpi_index: need("PRIVATE_DEVPI_INDEX"),
            devpi_tls_index: need("PRIVATE_DEVPI_TLS_INDEX"),
            devpi_ca: need("PRIVATE_DEVPI_CA").into(),
            devpi_user: need("PRIVATE_DEVPI_USER"),
            devpi_password: need("PRIVATE_DEVPI_PASSWORD"),
            devpi_log: need("PRIVATE_DEVPI_ACCESS_LOG").into(),
            npm_registry: need("PRIVATE_NPM_REGISTRY"),
            npm_password: need("PRIVATE_NPM_PASSWORD"),
            npm_token: need("PRIVATE_NPM_TOKEN"),
            proxy: need("PRIVATE_PROXY"),
            proxy_user: need("PRIVATE_PROXY_USER"),
            proxy_password: need("PRIVATE_PROXY_PASSWORD"),
            proxy_log: need("PRIVATE_PROXY_ACCESS_LOG").into(),
            artifacts: need("PRIVATE_ARTIFACTS").into(),
        })
    })
    .as_ref()
}

/// The servers, or return from the test (off CI only; see [`servers`]).
macro_rules! servers {
    () => {
        match servers() {
            Some(s) => s,
            None => return,
        }
    };
}

/// Tests that read squid's log one at a time, so each sees only its own requests there.
fn proxy_lock() -> std::sync::MutexGuard<'static, ()> {
    static L: Mutex<()> = Mutex::new(());
    L.lock().unwrap_or_else(|p| p.into_inner())
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// `http://127.0.0.1:P/path` -> `http://127.0.0.1:P`.
fn origin(url: &str) -> String {
    let after = url.find("://").map_or(0, |i| i + 3);
    let end = url[after..].find('/').map_or(url.len(), |i| after + i);
    url[..end].to_string()
}

/// `http://127.0.0.1:P/…` -> `127.0.0.1:P`.
fn authority(url: &str) -> String {
    origin(url)
        .split_once("://")
        .map(|(_, a)| a.to_string())
        .unwrap_or_default()
}

impl Servers {
    /// Every secret a test may hand out, and the forms they take on the wire.
    fn secrets(&self) -> Vec<String> {
        vec![
            self.devpi_password.clone(),
            b64(&format!("{}:{}", self.devpi_user, self.devpi_password)),
            self.npm_password.clone(),
            self.npm_token.clone(),
            self.proxy_password.clone(),
            b64(&format!("{}:{}", self.proxy_user, self.proxy_password)),
        ]
    }

    /// The proxy URL with its credentials.
    fn proxy_with(&self, password: &str) -> String {
        format!(
            "http://{}:{password}@{}",
            self.proxy_user,
            authority(&self.proxy)
        )
    }
}

// ---------------------------------------------------------------------------------------------
// The guide's configurations (docs/src/private-registries.md)

/// The fenced block of the guide's page on private registries whose first line is `# {title}`,
/// without that line.
fn guide_block(title: &str) -> String {
    let section = guide::section("private-registries.md", "Private registries and proxies");
    let mut lines = section.lines();
    while let Some(l) = lines.next() {
        if !l.starts_with("```") {
            continue;
        }
        let body: Vec<&str> = lines
            .by_ref()
            .take_while(|l| !l.starts_with("```"))
            .collect();
        if body.first().map(|l| l.trim()) == Some(&format!("# {title}")) {
            return body[1..].join("\n") + "\n";
        }
    }
    panic!("docs/src/private-registries.md has no block `# {title}`");
}

/// The guide's devpi configuration for `index` (`http://…` or `https://…`, no userinfo).
fn for_devpi(block: &str, index: &str, s: &Servers, password: &str) -> String {
    let host = authority(index);
    let host = host.split(':').next().unwrap_or_default();
    // The guide's path is the script's: `/fleet/private/+simple/`.
    assert!(
        index.ends_with(&format!("/{}/private/+simple/", s.devpi_user)),
        "{index}"
    );
    let scheme = index.split_once("://").map_or("https", |(s, _)| s);
    let at = authority(index);
    block
        .replace(
            "https://fleet:DEVPI_PASSWORD@devpi.example.com",
            &format!("{scheme}://fleet:DEVPI_PASSWORD@{at}"),
        )
        .replace("https://devpi.example.com", &origin(index))
        .replace("devpi.example.com", host)
        .replace("DEVPI_PASSWORD", password)
        .replace("fleet", &s.devpi_user)
}

fn for_npm(block: &str, s: &Servers) -> String {
    block
        .replace("https://npm.example.com", &origin(&s.npm_registry))
        .replace("npm.example.com", &authority(&s.npm_registry))
}

/// `export NAME=VALUE` lines of a shell block, `$OTHER` expanded from the earlier ones.
fn exports(block: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in block.lines() {
        let Some(rest) = line.trim().strip_prefix("export ") else {
            continue;
        };
        let Some((k, v)) = rest.split_once('=') else {
            continue;
        };
        let v = v.split_whitespace().next().unwrap_or_default();
        let v = match v.strip_prefix('$') {
            Some(name) => out
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default(),
            None => v.to_string(),
        };
        out.push((k.to_string(), v));
    }
    out
}

/// The guide's proxy variables, for squid with `password`.
fn proxy_env(s: &Servers, password: &str) -> Vec<(String, String)> {
    let block = guide_block("squid, credentials in the proxy URL").replace(
        "http://proxyuser:PROXY_PASSWORD@proxy.example.com:3128",
        &s.proxy_with(password),
    );
    let env = exports(&block);
    assert!(
        env.iter().any(|(k, _)| k == "HTTPS_PROXY") && env.iter().any(|(k, _)| k == "HTTP_PROXY"),
        "{block}"
    );
    env
}

// ---------------------------------------------------------------------------------------------
// A sandbox: a HOME, XDG dirs, a store and a project of its own, and nothing of the machine's

struct Sandbox {
    temp: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        let temp = tempfile::tempdir().expect("create a temp dir");
        for d in [
            "home",
            "work",
            "store",
            "xdg-config",
            "xdg-cache",
            "xdg-data",
            "codex",
        ] {
            std::fs::create_dir_all(temp.path().join(d)).expect("create sandbox dirs");
        }
        Sandbox { temp }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.temp.path().join(rel)
    }

    fn store(&self) -> PathBuf {
        self.path("store")
    }

    /// Write a configuration file under the sandbox (`home/.netrc`, `work/.npmrc`, …).
    fn write(&self, rel: &str, text: &str) {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().expect("a parent")).expect("create the dir");
        std::fs::write(&p, text).expect("write the config");
    }

    /// `codex-bootstrap ARGS` with an environment cleared down to the sandbox: the user's
    /// configuration is what the test wrote into it, and nothing else.
    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_codex-bootstrap"));
        cmd.args(args)
            .env_clear()
            // No pip or npm to ask for their defaults: a registry the test did not configure
            // is not found, rather than looked up in the machine's public default.
            .env("PATH", self.path("bin"))
            .env("HOME", self.path("home"))
            .env("XDG_CONFIG_HOME", self.path("xdg-config"))
            .env("XDG_CACHE_HOME", self.path("xdg-cache"))
            .env("XDG_DATA_HOME", self.path("xdg-data"))
            .env("XDG_CONFIG_DIRS", self.path("xdg-config-dirs"))
            .env("npm_config_globalconfig", self.path("npm-globalconfig"))
            .env("CODEX_BOOTSTRAP_HOME", self.store())
            .env("CODEX_HOME", self.path("codex"))
            // Installing into an environment outside the sandbox is an error, as in tests/it.
            .env("__CODEX_BOOTSTRAP_TEST_SANDBOX", self.temp.path())
            .current_dir(self.path("work"))
            .stdin(Stdio::null());
        cmd
    }

    /// devpi configured as the guide's pip.conf and netrc blocks give it.
    fn devpi_by_pip_conf(&self, s: &Servers, index: &str, password: &str) {
        self.write(
            "xdg-config/pip/pip.conf",
            &for_devpi(&guide_block("~/.config/pip/pip.conf"), index, s, password),
        );
        self.write(
            "home/.netrc",
            &for_devpi(&guide_block("~/.netrc"), index, s, password),
        );
    }

    /// verdaccio configured as the guide's project `.npmrc` block `title` gives it.
    /// The guide's block, in the user's own `.npmrc` (a `${NPM_TOKEN}` in a project's file goes
    /// only where the user's side agrees: `tests/it/hostile.rs`).
    fn npm_by_npmrc(&self, s: &Servers, title: &str) {
        self.write("home/.npmrc", &for_npm(&guide_block(title), s));
    }
}

/// `PIP_INDEX_URL` as the guide's block gives it, for `index` with `password`.
fn pip_index_url(s: &Servers, index: &str, password: &str) -> String {
    let block = for_devpi(
        &guide_block("devpi, credentials in the URL"),
        index,
        s,
        password,
    );
    let env = exports(&block);
    assert!(
        block.contains("codex-bootstrap install --source python-index"),
        "{block}"
    );
    env.into_iter()
        .find(|(k, _)| k == "PIP_INDEX_URL")
        .map(|(_, v)| v)
        .expect("the block exports PIP_INDEX_URL")
}

fn run(mut cmd: impl std::borrow::BorrowMut<Command>) -> Output {
    cmd.borrow_mut().output().expect("run codex-bootstrap")
}

fn describe(out: &Output) -> String {
    format!(
        "exit: {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[track_caller]
fn assert_exit(out: &Output, code: i32) {
    assert_eq!(out.status.code(), Some(code), "{}", describe(out));
}

#[track_caller]
fn assert_says(out: &Output, needles: &[&str]) {
    let err = stderr(out);
    for n in needles {
        assert!(err.contains(n), "`{n}` missing:\n{}", describe(out));
    }
}

/// `install --json`'s report after exit 0, with bin/codex run and its source checked.
#[track_caller]
fn installed(out: &Output, source: &str) -> serde_json::Value {
    assert_exit(out, 0);
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}\n{}", describe(out)));
    assert_eq!(json["source"], source, "{json}");
    assert_eq!(json["version"], V, "{json}");
    // The real bytes, checked against the bundled manifest's pins.
    assert_eq!(json["verified_by"]["kind"], "manifest", "{json}");
    let codex = json["path"].as_str().expect("path");
    let version = Command::new(codex)
        .arg("--version")
        .output()
        .expect("run the installed codex");
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("codex-cli {V}")
    );
    json
}

/// No secret in the outputs, nor in any file of the sandbox's store and caches (the files
/// the test wrote its configuration into hold them by design and are not looked at).
#[track_caller]
fn assert_no_secret(s: &Servers, sandbox: &Sandbox, outs: &[&Output]) {
    for out in outs {
        for secret in s.secrets() {
            for (name, stream) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
                assert!(
                    !contains(stream, &secret),
                    "a secret is in {name}:\n{}",
                    describe(out)
                );
            }
        }
    }
    for dir in ["store", "xdg-cache", "xdg-data", "codex", "work"] {
        for file in walk(&sandbox.path(dir)) {
            if file.file_name().is_some_and(|n| n == ".npmrc") {
                continue;
            }
            let Ok(bytes) = std::fs::read(&file) else {
                continue;
            };
            for secret in s.secrets() {
                assert!(
                    !contains(&bytes, &secret),
                    "`{}` holds a secret",
                    file.display()
                );
            }
        }
    }
}

fn contains(hay: &[u8], needle: &str) -> bool {
    memchr::memmem::find(hay, needle.as_bytes()).is_some()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            match e.file_type() {
                Ok(t) if t.is_dir() => todo.push(p),
                Ok(t) if t.is_file() => out.push(p),
                _ => {}
            }
        }
    }
    out
}

fn sha256_file(path: &Path) -> String {
    use sha2::Digest;
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    sha2::Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The real wheel the index serves for this host (musllinux first, as the product picks).
fn host_wheel(s: &Servers) -> PathBuf {
    let dir = s.artifacts.join("wheels");
    std::fs::read_dir(&dir)
        .expect("read the wheel dir")
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().contains("musllinux_1_1_x86_64"))
        })
        .unwrap_or_else(|| panic!("no musllinux wheel in {}", dir.display()))
}

// ---------------------------------------------------------------------------------------------
// The proxy's log

/// squid's access log lines, from line `from` on.
fn proxy_lines(s: &Servers, from: usize) -> Vec<String> {
    std::fs::read_to_string(&s.proxy_log)
        .unwrap_or_default()
        .lines()
        .skip(from)
        .map(str::to_string)
        .collect()
}

/// Send a request for a unique URL through squid and wait until squid has logged it: every
/// transaction that ended before it (those of a command that has exited) is in the log then.
/// Returns the log's lines from `from` up to the marker, the marker excluded.
fn proxy_lines_until_now(s: &Servers, from: usize) -> Vec<String> {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let marker = format!(
        "/marker-{}-{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    );
    let mut conn = TcpStream::connect(authority(&s.proxy)).expect("connect to squid");
    let auth = b64(&format!("{}:{}", s.proxy_user, s.proxy_password));
    write!(
        conn,
        "GET http://127.0.0.1:9{marker} HTTP/1.1\r\nHost: 127.0.0.1:9\r\nProxy-Authorization: Basic {auth}\r\nConnection: close\r\n\r\n"
    )
    .expect("write to squid");
    let mut sink = Vec::new();
    let _ = conn.read_to_end(&mut sink);
    // A bound on a wait for an event, not a timing that decides the test.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let lines = proxy_lines(s, from);
        if let Some(at) = lines.iter().position(|l| l.contains(&marker)) {
            return lines[..at].to_vec();
        }
        assert!(
            Instant::now() < deadline,
            "squid never logged {marker}: {lines:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn devpi_log_lines(s: &Servers) -> Vec<String> {
    std::fs::read_to_string(&s.devpi_log)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// devpi

#[test]
#[ignore = "needs the private registries: run .ci/private-registries"]
fn devpi_through_pip_index_url_with_userinfo() {
    let s = servers!();
    let sandbox = Sandbox::new();
    let out = run(sandbox
        .cmd(&["install", "--source", "python-index", "--json", "-vv"])
        .env(
            "PIP_INDEX_URL",
            pip_index_url(s, &s.devpi_index, &s.devpi_password),
        ));
    let json = installed(&out, "python-index");
    assert!(
        json["source_url"]
            .as_str()
            .is_some_and(|u| u.starts_with(&origin(&s.devpi_index)) && u.contains("musllinux")),
        "{json}"
    );
    assert_says(&out, &["from=PIP_INDEX_URL", "credentials=1"]);
    // The warm path reads no index.
    let warm = run(sandbox
        .cmd(&["install", "--source", "python-index", "--print-path"])
        .env(
            "PIP_INDEX_URL",
            pip_index_url(s, &s.devpi_index, &s.devpi_password),
        ));
    assert_exit(&warm, 0);
    assert_no_secret(s, &sandbox, &[&out, &warm]);
}

#[test]
#[ignore = "needs the private registries: run .ci/private-registries"]
fn devpi_through_pip_conf_and_netrc() {
    let s = servers!();
    let sandbox = Sandbox::new();
    sandbox.devpi_by_pip_conf(s, &s.devpi_index, &s.devpi_password);
    let out = run(sandbox.cmd(&["install", "--source", "python-index", "--json", "-vv"]));
    installed(&out, "python-index");
    assert_says(&out, &["pip.conf [global]", "credentials=1"]);
    assert_no_secret(s, &sandbox, &[&out]);

    // doctor reads the same configuration and finds the index answering.
    let doctor = run(sandbox.cmd(&["doctor", "--json", "--source", "python-index"]));
    let report: serde_json::Value = serde_json::from_slice(&doctor.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", describe(&doctor)));
    let network = network_check(&report);
    assert!(
        network["detail"]
            .as_str()
            .is_some_and(|d| d.contains("python-index") && d.contains("reachable")),
        "{network}"
    );
    assert_no_secret(s, &sandbox, &[&doctor]);
}

fn network_check(report: &serde_json::Value) -> serde_json::Value {
    report["checks"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["id"] == "network"))
        .unwrap_or_else(|| panic!("no network check: {report}"))
        .clone()
}

#[test]
#[ignore = "needs the private registries: run .ci/private-registries"]
fn devpi_refusals_name_the_authentication_problem() {
    let s = servers!();
    // A wrong password: devpi-lockdown's front redirects it to /+login, which answers 200.
    let sandbox = Sandbox::new();
    let wrong = run(sandbox.cmd(&["install", "--source", "python-index"]).env(
        "PIP_INDEX_URL",
        pip_index_url(s, &s.devpi_index, "not-the-password"),
    ));
    assert_exit(&wrong, 1);
    assert_says(
        &wrong,
        &["login page", "rejected", "PIP_INDEX_URL", "netrc"],
    );
    assert!(!stderr(&wrong).contains("has no"), "{}", describe(&wrong));
    assert!(!stderr(&wrong).contains("not-the-password"));

    // The same through pip.conf and netrc.
    let sandbox = Sandbox::new();
    sandbox.devpi_by_pip_conf(s, &s.devpi_index, "not-the-password");
    let netrc = run(sandbox.cmd(&["install", "--source", "python-index"]));
    assert_exit(&netrc, 1);
    assert_says(&netrc, &["login page", "rejected", "netrc"]);

    // No credentials at all.
    let sandbox = Sandbox::new();
    let none = run(sandbox
        .cmd(&["install", "--source", "python-index"])
        .env("PIP_INDEX_URL", &s.devpi_index));
    assert_exit(&none, 1);
    assert_says(
        &none,
        &[
            "login page",
            "none were given",
            "give the index's credentials",
        ],
    );

    // doctor says it is an authentication problem, not a network one.
    let sandbox = Sandbox::new();
    sandbox.devpi_by_pip_conf(s, &s.devpi_index, "not-the-password");
    let doctor = run(sandbox.cmd(&["doctor", "--json", "--source", "python-index"]));
    let report: serde_json::Value = serde_json::from_slice(&doctor.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", describe(&doctor)));
    let network = network_check(&report);
    assert_eq!(network["status"], "warn", "{network}");
    assert!(
        network["summary"]
            .as_str()
            .is_some_and(|t| t.contains("authentication failed")),
        "{network}"
    );
    assert!(
        network["hint"]
            .as_str()
            .is_some_and(|h| h.contains("netrc") && !h.contains("offline")),
        "{network}"
    );
    for out in [&wrong, &netrc, &none, &doctor] {
        assert!(
            !contains(&out.stdout, "not-the-password")
                && !contains(&out.stderr, "not-the-password"),
            "{}",
            describe(out)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// verdaccio

#[test]
#[ignore = "needs the private registries: run .ci/private-registries"]
fn verdaccio_through_the_users_npmrc_registry() {
    let s = servers!();
    let sandbox = Sandbox::new();
    sandbox.npm_by_npmrc(s, "~/.npmrc (yours)");
    let out = run(sandbox
        .cmd(&["install", "--source", "npm", "--json", "-vv"])
        .env("NPM_TOKEN", &s.npm_token));
    let json = installed(&out, "npm");
    assert!(
        json["source_url"]
            .as_str()
            .is_some_and(|u| u.starts_with(&origin(&s.npm_registry))),
        "{json}"
    );
    assert_says(&out, &[".npmrc", "credentials=1"]);
    assert_no_secret(s, &sandbox, &[&out]);
}

#[test]
#[ignore = "needs the private registries: run .ci/private-registries"]
fn verdaccio_through_an_npmrc_scope_registry_and_other_credential_lines() {
    let s = servers!();
    let dart = format!("//{}/", authority(&s.npm_registry));
    let scoped = for_npm(&guide_block("~/.npmrc (yours, scoped)"), s);
    // The guide's scoped block; then what Nexus and Artifactory set-ups write: `_auth`, or
    // `username` + `_password`. `mirror` asks the sources as install does and fetches and
    // verifies the whole tarball, without unpacking it again.
    for npmrc in [
        scoped,
        format!(
            "registry={}\n{dart}:_auth={}\n",
            s.npm_registry,
            b64(&format!("builder:{}", s.npm_password))
        ),
        format!(
            "@openai:registry={}\n{dart}:username=builder\n{dart}:_password={}\n",
            s.npm_registry,
            b64(&s.npm_password)
        ),
    ] {
        let sandbox = Sandbox::new();
        // The scoped block takes `${NPM_TOKEN}`: the user's file; the literal credential lines
        // Nexus and Artifactory set-ups write are the project's own and go from its file.
        let file = if npmrc.contains("${NPM_TOKEN}") {
            "home/.npmrc"
        } else {
            "work/.npmrc"
        };
        sandbox.write(file, &npmrc);
        let out = run(sandbox
            .cmd(&["mirror", "--json", "-vv", "--sources", "npm", "--out"])
            .arg(sandbox.path("mirror"))
            .env("NPM_TOKEN", &s.npm_token));
        assert_exit(&out, 0);
        let json: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", describe(&out)));
        assert!(
            json["files"]
                .as_array()
                .is_some_and(|f| f.iter().any(|f| f["source"] == "npm")),
            "{npmrc}\n{json}"
        );
        assert_says(&out, &[".npmrc", "credentials=1"]);
        assert_no_secret(s, &sandbox, &[&out]);
    }
}

#[test]
#[ignore = "needs the private registries: run .ci/private-registries"]
fn verdaccio_refusals_name_the_npmrc() {
    let s = servers!();
    let sandbox = Sandbox::new();
    sandbox.npm_by_npmrc(s, "~/.npmrc (yours)");
    let wrong = run(sandbox
        .cmd(&["install", "--source", "npm"])
        .env("NPM_TOKEN", "bm90LWEtdG9rZW4="));
    assert_exit(&wrong, 1);
    assert_says(&wrong, &["HTTP 401", "rejected", ".npmrc"]);

    let sandbox = Sandbox::new();
    sandbox.write("work/.npmrc", &format!("registry={}\n", s.npm_registry));
    let none = run(sandbox.cmd(&["install", "--source", "npm"]));
    assert_exit(&none, 1);
    assert_says(&none, &["HTTP 401", "none were given", "_authToken"]);
}

// ---------------------------------------------------------------------------------------------
// squid

#[test]
#[ignore = "needs the private registries: run .ci/private-registries"]
fn both_registries_through_squid_and_none_with_no_proxy() {
    let s = servers!();
    let _one = proxy_lock();
    let before_devpi = devpi_log_lines(s).len();

    // https devpi (CONNECT) and plain-http verdaccio (absolute-form GET), as the guide's
    // proxy block sets them.
    let start = proxy_lines(s, 0).len();
    let devpi = Sandbox::new();
    devpi.devpi_by_pip_conf(s, &s.devpi_tls_index, &s.devpi_password);
    let out_devpi = run(devpi
        .cmd(&["install", "--source", "python-index", "--json", "-vv"])
        .envs(proxy_env(s, &s.proxy_password))
        .env("SSL_CERT_FILE", &s.devpi_ca));
    installed(&out_devpi, "python-index");
    let npm = Sandbox::new();
    npm.npm_by_npmrc(s, "~/.npmrc (yours)");
    let out_npm = run(npm
        .cmd(&["install", "--source", "npm", "--json", "-vv"])
        .envs(proxy_env(s, &s.proxy_password))
        .env("NPM_TOKEN", &s.npm_token));
    installed(&out_npm, "npm");
    let through = proxy_lines_until_now(s, start);
    let tls = authority(&s.devpi_tls_index);
    let connects: Vec<&String> = through
        .iter()
        .filter(|l| l.contains(&format!("CONNECT {tls}")))
        .collect();
    assert!(!connects.is_empty(), "no CONNECT to devpi: {through:#?}");
    let gets: Vec<&String> = through
        .iter()
        .filter(|l| l.contains(&format!("GET {}", origin(&s.npm_registry))))
        .collect();
    assert!(
        gets.len() >= 2,
        "the packument and the tarball: {through:#?}"
    );
    for l in connects.iter().chain(&gets) {
        assert!(l.contains(" 200 "), "{l}");
        assert!(l.contains(&format!("user={}", s.proxy_user)), "{l}");
    }
    // The index's credentials stay inside the tunnel: the proxy sees none on CONNECT.
    for l in &connects {
        assert!(l.contains("origin_auth=[-]"), "{l}");
    }
    // Plain http carries the registry's own token to the registry (through the proxy, as http
    // must), never anything of the proxy's.
    for l in &gets {
        assert!(
            l.contains(&format!("origin_auth=[Bearer {}]", s.npm_token)),
            "{l}"
        );
        assert!(!l.contains(&s.proxy_password), "{l}");
    }
    assert_no_secret(s, &devpi, &[&out_devpi]);
    assert_no_secret(s, &npm, &[&out_npm]);

    // NO_PROXY names loopback: nothing goes through the proxy.
    let start = proxy_lines(s, 0).len();
    let direct = Sandbox::new();
    direct.devpi_by_pip_conf(s, &s.devpi_index, &s.devpi_password);
    let out = run(direct
        .cmd(&["mirror", "--json", "--sources", "python-index", "--out"])
        .arg(direct.path("mirror"))
        .envs(proxy_env(s, &s.proxy_password))
        .env("NO_PROXY", "127.0.0.1"));
    assert_exit(&out, 0);
    let direct_npm = Sandbox::new();
    direct_npm.npm_by_npmrc(s, "~/.npmrc (yours, scoped)");
    let out = run(direct_npm
        .cmd(&["mirror", "--json", "--sources", "npm", "--out"])
        .arg(direct_npm.path("mirror"))
        .envs(proxy_env(s, &s.proxy_password))
        .env("NO_PROXY", "127.0.0.1")
        .env("NPM_TOKEN", &s.npm_token));
    assert_exit(&out, 0);
    let through = proxy_lines_until_now(s, start);
    assert!(through.is_empty(), "NO_PROXY was ignored: {through:#?}");

    // What reached devpi's front: its own credentials only, never the proxy's.
    let proxy_basic = b64(&format!("{}:{}", s.proxy_user, s.proxy_password));
    for l in &devpi_log_lines(s)[before_devpi..] {
        assert!(l.contains("proxy_auth=[-]"), "{l}");
        assert!(
            !l.contains(&proxy_basic) && !l.contains(&s.npm_token),
            "{l}"
        );
    }
}

#[test]
#[ignore = "needs the private registries: run .ci/private-registries"]
fn squid_refusals_are_the_proxy_s_and_name_its_variables() {
    let s = servers!();
    let _one = proxy_lock();
    let proxy = origin(&s.proxy);

    // Plain http: squid answers the GET itself with 407.
    let npm = Sandbox::new();
    npm.npm_by_npmrc(s, "~/.npmrc (yours)");
    let plain = run(npm
        .cmd(&["install", "--source", "npm"])
        .envs(proxy_env(s, "not-the-proxy-password"))
        .env("NPM_TOKEN", &s.npm_token));
    assert_exit(&plain, 1);
    assert_says(
        &plain,
        &[
            &format!("the proxy `{proxy}`"),
            "HTTP 407",
            "rejected",
            "HTTP_PROXY",
        ],
    );
    assert!(
        !stderr(&plain).contains("check `--npm-registry`"),
        "{}",
        describe(&plain)
    );

    // https: squid refuses the CONNECT.
    let devpi = Sandbox::new();
    devpi.devpi_by_pip_conf(s, &s.devpi_tls_index, &s.devpi_password);
    let tunnel = run(devpi
        .cmd(&["install", "--source", "python-index"])
        .envs(proxy_env(s, "not-the-proxy-password"))
        .env("SSL_CERT_FILE", &s.devpi_ca));
    assert_exit(&tunnel, 1);
    assert_says(
        &tunnel,
        &[
            &format!("the proxy `{proxy}`"),
            "HTTP 407",
            "rejected",
            "HTTPS_PROXY",
        ],
    );
    assert!(
        !stderr(&tunnel).contains("could not connect"),
        "{}",
        describe(&tunnel)
    );

    // No proxy credentials at all.
    let bare = run(devpi
        .cmd(&["install", "--source", "python-index"])
        .env("HTTPS_PROXY", &s.proxy)
        .env("SSL_CERT_FILE", &s.devpi_ca));
    assert_exit(&bare, 1);
    assert_says(&bare, &["HTTP 407", "none were given", "HTTPS_PROXY"]);
    for out in [&plain, &tunnel, &bare] {
        assert!(
            !contains(&out.stderr, "not-the-proxy-password"),
            "{}",
            describe(out)
        );
    }
    assert_no_secret(s, &devpi, &[&plain, &tunnel, &bare]);
}

// ---------------------------------------------------------------------------------------------
// A fleet, pin and mirror

#[test]
#[ignore = "needs the private registries: run .ci/private-registries"]
fn a_fleet_of_six_installers_against_devpi_agrees() {
    let s = servers!();
    let url = pip_index_url(s, &s.devpi_index, &s.devpi_password);
    let runners: Vec<_> = (0..6)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || {
                let sandbox = Sandbox::new();
                let out = run(sandbox
                    .cmd(&["install", "--source", "python-index", "--json"])
                    .env("PIP_INDEX_URL", url));
                (sandbox, out)
            })
        })
        .collect();
    let mut digests = Vec::new();
    for r in runners {
        let (sandbox, out) = r.join().expect("an installer thread");
        let json = installed(&out, "python-index");
        let codex = PathBuf::from(json["path"].as_str().expect("path"));
        assert!(codex.starts_with(sandbox.store()), "{json}");
        digests.push(sha256_file(&codex));
        assert_no_secret(s, &sandbox, &[&out]);
    }
    digests.dedup();
    assert_eq!(
        digests.len(),
        1,
        "the fleet disagrees on bin/codex: {digests:?}"
    );
}

#[test]
#[ignore = "needs the private registries: run .ci/private-registries"]
fn pin_reads_both_private_registries() {
    let s = servers!();
    let sandbox = Sandbox::new();
    sandbox.devpi_by_pip_conf(s, &s.devpi_index, &s.devpi_password);
    sandbox.npm_by_npmrc(s, "~/.npmrc (yours)");
    let out = run(sandbox
        .cmd(&["pin", V, "--source", "python-index,npm"])
        .env("NPM_TOKEN", &s.npm_token));
    assert_exit(&out, 0);
    let text = std::fs::read_to_string(sandbox.path("work/codex-runtime.toml"))
        .expect("pin wrote codex-runtime.toml");
    let manifest: toml::Value = toml::from_str(&text).expect("a manifest");
    let t = &manifest["targets"][TARGET];
    let wheel = host_wheel(s);
    let name = wheel
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    assert_eq!(t["wheel"]["file"].as_str(), Some(name.as_str()), "{text}");
    assert_eq!(
        t["wheel"]["sha256"].as_str(),
        Some(sha256_file(&wheel).as_str()),
        "{text}"
    );
    let size = std::fs::metadata(&wheel).expect("the wheel").len();
    assert_eq!(t["wheel"]["size"].as_integer(), Some(size as i64), "{text}");
    assert_eq!(
        t["npm"]["file"].as_str(),
        Some(format!("codex-{V}-linux-x64.tgz").as_str()),
        "{text}"
    );
    assert!(t["npm"]["size"].as_integer().is_some(), "{text}");
    assert!(t["codex_sha256"].as_str().is_some(), "{text}");
    assert_no_secret(s, &sandbox, &[&out]);
}

#[test]
#[ignore = "needs the private registries: run .ci/private-registries"]
fn mirror_sources_from_each_private_registry_serves_an_install() {
    let s = servers!();
    for source in ["python-index", "npm"] {
        let sandbox = Sandbox::new();
        if source == "python-index" {
            sandbox.devpi_by_pip_conf(s, &s.devpi_index, &s.devpi_password);
        } else {
            sandbox.npm_by_npmrc(s, "~/.npmrc (yours)");
        }
        let mirror = sandbox.path("mirror");
        let out = run(sandbox
            .cmd(&["mirror", "--json", "--sources", source, "--out"])
            .arg(&mirror)
            .env("NPM_TOKEN", &s.npm_token));
        assert_exit(&out, 0);
        let json: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", describe(&out)));
        let files = json["files"].as_array().expect("files");
        assert!(files.iter().any(|f| f["source"] == source), "{json}");
        assert_no_secret(s, &sandbox, &[&out]);

        // An air-gapped runner installs from it. (Only from the wheel mirror: a mirror filled
        // from npm is not used by `install --mirror` while the bundled manifest also pins a
        // wheel, which it then looks for instead; see the report of issue 22.)
        if source == "python-index" {
            let runner = Sandbox::new();
            let out = run(runner
                .cmd(&["install", "--json", "--source", source, "--mirror"])
                .arg(&mirror));
            installed(&out, "mirror");
        }
    }
}
