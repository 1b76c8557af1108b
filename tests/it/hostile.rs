//! A hostile server cannot turn the installer against the machine: names it gives are never
//! paths, URLs it gives never reach local files, transfers stop at their expected size, and
//! metadata requests end at their deadline (issue #26).
//!
//! Each server here is a raw loopback [`TestServer`] answering what a compromised index,
//! registry or mirror would; every test checks what reached the disk, inside its own temp dir.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::{assert_exit, describe, host_target, stderr, TestContext, V};
use crate::fixture::{host_wheel_tag, npm_tarball, sha256_hex, wheel, Package};
use crate::support::http::TestServer;
use crate::support::npm::{integrity, npm_platform, NpmRegistry};
use crate::support::pyindex::{PythonIndex, JSON_TYPE, PROJECT};

/// A wheel name for `V` and this host whose build tag climbs out of `<cache>/downloads/` into
/// the test's root: `<root>/escaped/evil-….whl` if it were ever joined to a path.
fn climbing_wheel_name() -> String {
    format!(
        "openai_codex_cli_bin-{V}-1/../../../escaped/evil-py3-none-{}.whl",
        host_wheel_tag()
    )
}

/// An index whose PEP 691 page lists one file, `filename` at `url` (relative to the server
/// when it starts with `/`), with `sha256` when given; the host's genuine wheel of `V` is
/// served at `/files/evil.whl`.
fn index_listing(filename: &str, url: &str, sha256: Option<&str>) -> TestServer {
    let server = TestServer::start();
    let bytes = wheel(V, host_wheel_tag(), &Package::codex(V));
    let url = if url.starts_with('/') {
        format!("{}{url}", server.url())
    } else {
        url.to_string()
    };
    let hashes = match sha256 {
        Some(h) => serde_json::json!({ "sha256": h }),
        None => serde_json::json!({}),
    };
    let page = serde_json::json!({
        "meta": { "api-version": "1.1" },
        "name": PROJECT,
        "files": [{ "filename": filename, "url": url, "hashes": hashes, "size": bytes.len() }],
    });
    server.add_response(
        &format!("/simple/{PROJECT}/"),
        200,
        &[("content-type", JSON_TYPE)],
        page.to_string(),
    );
    server.add_file("/files/evil.whl", bytes);
    server
}

fn genuine_wheel_sha256() -> String {
    sha256_hex(&wheel(V, host_wheel_tag(), &Package::codex(V)))
}

fn install_from_index(ctx: &TestContext, server: &TestServer) -> Output {
    ctx.cmd(["install", V, "--source", "python-index"])
        .env(
            "CODEX_BOOTSTRAP_INDEX_URL",
            format!("{}/simple", server.url()),
        )
        .output()
        .expect("run codex-bootstrap")
}

/// Every file and directory under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() && !p.is_symlink() {
                stack.push(p.clone());
            }
            out.push(p);
        }
    }
    out
}

/// The install was refused naming the server's name for the file, nothing escaped the store,
/// and no download was started.
#[track_caller]
fn assert_refused_before_writing(ctx: &TestContext, out: &Output, name_part: &str) {
    assert_exit(out, 1);
    let err = stderr(out);
    assert!(
        err.contains("which is not a plain file name") && err.contains(name_part),
        "{}",
        describe(out)
    );
    assert!(
        !ctx.root().join("escaped").exists(),
        "a server's name became a path outside the store"
    );
    let strays: Vec<PathBuf> = walk(ctx.root())
        .into_iter()
        .filter(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            name.contains("evil") || name.contains('\\') || name.ends_with(".partial")
        })
        .collect();
    assert!(strays.is_empty(), "written: {strays:?}\n{}", describe(out));
}

#[test]
fn an_index_filename_that_climbs_out_of_the_store_is_refused_before_any_write() {
    let ctx = TestContext::new();
    let name = climbing_wheel_name();
    let server = index_listing(&name, "/files/evil.whl", Some(&genuine_wheel_sha256()));
    let out = install_from_index(&ctx, &server);
    assert_refused_before_writing(&ctx, &out, "/../../../escaped/evil");
    assert!(
        stderr(&out).contains(&server.url()),
        "the error names the server: {}",
        describe(&out)
    );
    assert_eq!(server.count("/files/"), 0, "nothing was downloaded");
}

#[test]
fn a_hashed_requirements_pin_does_not_make_a_climbing_filename_safe() {
    let ctx = TestContext::new();
    let sha = genuine_wheel_sha256();
    std::fs::write(
        ctx.work_dir().join("requirements.txt"),
        format!("{PROJECT}=={V} \\\n    --hash=sha256:{sha}\n"),
    )
    .unwrap();
    // The index publishes no hash: the pin alone would have let the download start.
    let server = index_listing(&climbing_wheel_name(), "/files/evil.whl", None);
    let out = ctx
        .cmd(["install", "--source", "python-index"])
        .env(
            "CODEX_BOOTSTRAP_INDEX_URL",
            format!("{}/simple", server.url()),
        )
        .output()
        .unwrap();
    assert_refused_before_writing(&ctx, &out, "/../../../escaped/evil");
    assert_eq!(server.count("/files/"), 0, "nothing was downloaded");
}

#[test]
fn an_npm_tarball_url_ending_in_backslashes_is_refused_before_any_write() {
    let ctx = TestContext::new();
    let server = TestServer::start();
    let platform = npm_platform(host_target());
    let bytes = npm_tarball(V, host_target(), &Package::codex(V));
    // What Windows would take for `..\..\escaped\evil.tgz` once the URL is split on `/`.
    let tarball = format!("{}/-/..\\..\\..\\escaped\\evil.tgz", server.url());
    let packument = serde_json::json!({
        "name": "@openai/codex",
        "dist-tags": { "latest": V },
        "versions": { format!("{V}-{platform}"): {
            "dist": { "tarball": tarball, "integrity": integrity(&bytes) }
        }},
    });
    server.add_response(
        "/@openai%2fcodex",
        200,
        &[("content-type", "application/json")],
        packument.to_string(),
    );
    let out = ctx
        .cmd(["install", V, "--source", "npm"])
        .env("CODEX_BOOTSTRAP_NPM_REGISTRY", server.url())
        .output()
        .unwrap();
    assert_refused_before_writing(&ctx, &out, "..\\..\\..\\escaped\\evil.tgz");
    assert_eq!(server.count("/-/"), 0, "nothing was downloaded");
}

#[test]
fn an_index_url_pointing_at_a_local_file_is_refused_not_read() {
    let ctx = TestContext::new();
    // A local file with the genuine wheel's bytes and hash: reading it would install it.
    let local = ctx.root().join("local.whl");
    std::fs::write(&local, wheel(V, host_wheel_tag(), &Package::codex(V))).unwrap();
    let url = format!("file://{}", local.display());
    let name = format!("openai_codex_cli_bin-{V}-py3-none-{}.whl", host_wheel_tag());
    let server = index_listing(&name, &url, Some(&genuine_wheel_sha256()));
    let out = install_from_index(&ctx, &server);
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("only http and https are followed") && err.contains(&url),
        "{}",
        describe(&out)
    );
    let written: Vec<PathBuf> = walk(&ctx.cache_dir())
        .into_iter()
        .filter(|p| p.is_file() && !p.starts_with(ctx.cache_dir().join("locks")))
        .filter(|p| p.file_name().is_some_and(|n| n != "CACHEDIR.TAG"))
        .collect();
    assert!(written.is_empty(), "{written:?}\n{}", describe(&out));
}

/// A server of one behaviour for every request, written by hand so that it can do what
/// [`TestServer`] never does: send a body without `Content-Length` (delimited by closing the
/// connection), and hold a response open for as long as the test runs.
struct RawServer {
    addr: std::net::SocketAddr,
    /// Dropped with the server: ends every response still held open.
    _release: std::sync::mpsc::Sender<()>,
}

impl RawServer {
    /// Answer each request with `head` (the status line and headers, without the blank line),
    /// then `body`; with `hold`, keep the connection open after the body until the test ends.
    fn start(head: &'static str, body: Vec<u8>, hold: bool) -> RawServer {
        use std::io::{BufRead, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (release, held) = std::sync::mpsc::channel::<()>();
        let held = std::sync::Arc::new(std::sync::Mutex::new(held));
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { return };
                let (body, held) = (body.clone(), held.clone());
                std::thread::spawn(move || {
                    let mut reader = std::io::BufReader::new(conn.try_clone().unwrap());
                    let mut line = String::new();
                    while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                        line.clear();
                    }
                    let _ =
                        conn.write_all(format!("{head}\r\nconnection: close\r\n\r\n").as_bytes());
                    let _ = conn.write_all(&body);
                    let _ = conn.flush();
                    if hold {
                        // Blocks until the server is dropped (the sender goes away).
                        let _ = held.lock().map(|h| h.recv());
                    }
                });
            }
        });
        RawServer {
            addr,
            _release: release,
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// The host's genuine wheel of `V`, listed by an index with its true sha256 and size, served
/// from `file_url`.
fn index_listing_the_genuine_wheel(file_url: &str) -> TestServer {
    let name = format!("openai_codex_cli_bin-{V}-py3-none-{}.whl", host_wheel_tag());
    index_listing(&name, file_url, Some(&genuine_wheel_sha256()))
}

fn genuine_wheel_len() -> u64 {
    wheel(V, host_wheel_tag(), &Package::codex(V)).len() as u64
}

/// The bytes of every `.partial` download under the cache.
fn partial_bytes(ctx: &TestContext) -> u64 {
    walk(&ctx.cache_dir())
        .iter()
        .filter(|p| p.to_string_lossy().ends_with(".partial"))
        .map(|p| std::fs::metadata(p).map_or(0, |m| m.len()))
        .sum()
}

#[test]
fn a_download_that_runs_past_its_expected_size_is_cut_off() {
    let ctx = TestContext::new();
    let expected = genuine_wheel_len();
    // The genuine bytes, then 8 MiB more, with no Content-Length to announce them.
    let mut body = wheel(V, host_wheel_tag(), &Package::codex(V));
    body.extend(std::iter::repeat_n(b'z', 8 << 20));
    let files = RawServer::start("HTTP/1.1 200 OK", body, false);
    let index = index_listing_the_genuine_wheel(&format!("{}/evil.whl", files.url()));
    let out = install_from_index(&ctx, &index);
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains(&format!("sent more than the {expected} bytes expected")),
        "{}",
        describe(&out)
    );
    let kept = partial_bytes(&ctx);
    assert!(
        kept <= expected + 1,
        "{kept} bytes on disk for a {expected}-byte file"
    );
    assert!(!crate::common::runtime_dir(&ctx, V).exists());
}

#[test]
fn a_content_length_beyond_the_expected_size_is_refused_before_reading() {
    let ctx = TestContext::new();
    let expected = genuine_wheel_len();
    let index = index_listing_the_genuine_wheel("/files/evil.whl");
    let mut bigger = wheel(V, host_wheel_tag(), &Package::codex(V));
    bigger.extend(std::iter::repeat_n(b'z', 1 << 20));
    index.add_file("/files/evil.whl", bigger);
    let out = install_from_index(&ctx, &index);
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains(&format!("sent more than the {expected} bytes expected")),
        "{}",
        describe(&out)
    );
    assert_eq!(partial_bytes(&ctx), 0, "not a byte of the body was written");
    assert_eq!(index.count("/files/"), 1, "a refusal is not retried");
}

#[test]
fn a_metadata_server_that_never_finishes_hits_the_total_deadline() {
    let ctx = TestContext::new();
    // Headers, one byte of the page, then nothing until the test ends: the read timeout (a
    // minute here) never fires before the one-second deadline.
    let index = RawServer::start(
        "HTTP/1.1 200 OK\r\ncontent-type: application/vnd.pypi.simple.v1+json\r\ncontent-length: 100",
        b"{".to_vec(),
        true,
    );
    let out = ctx
        .cmd(["install", V, "--source", "python-index", "--retries", "1"])
        .env(
            "CODEX_BOOTSTRAP_INDEX_URL",
            format!("{}/simple", index.url()),
        )
        .env("CODEX_BOOTSTRAP_READ_TIMEOUT", "60")
        .env("CODEX_BOOTSTRAP_METADATA_TIMEOUT", "1")
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("did not answer in full within 1 s") && err.contains("--metadata-timeout"),
        "{}",
        describe(&out)
    );
}

/// A netrc with only a catch-all `default` login, and an index that wants it.
fn netrc_default_and_an_index_wanting_it(ctx: &TestContext) -> (PathBuf, PythonIndex) {
    let name = format!("openai_codex_cli_bin-{V}-py3-none-{}.whl", host_wheel_tag());
    let index = PythonIndex::builder()
        .wheel(&name, wheel(V, host_wheel_tag(), &Package::codex(V)))
        .basic_auth("bob", "pw_SENTINEL_default")
        .start();
    let netrc = ctx.root().join("netrc");
    std::fs::write(&netrc, "default login bob password pw_SENTINEL_default\n").unwrap();
    (netrc, index)
}

#[test]
fn netrc_default_goes_to_the_users_index_but_not_to_one_a_project_file_chose() {
    let ctx = TestContext::new();
    let (netrc, index) = netrc_default_and_an_index_wanting_it(&ctx);
    // The project's uv.toml names the index: the catch-all login stays home.
    std::fs::write(
        ctx.work_dir().join("uv.toml"),
        format!("index-url = \"{}\"\n", index.url()),
    )
    .unwrap();
    let out = ctx
        .cmd(["install", V, "--source", "python-index"])
        .env_remove("CODEX_BOOTSTRAP_INDEX_URL")
        .env("PIP_CONFIG_FILE", "/dev/null")
        .env("NETRC", &netrc)
        .output()
        .unwrap();
    assert_exit(&out, 1);
    assert!(
        index
            .requests()
            .iter()
            .all(|r| !r.headers.contains_key("authorization")),
        "the netrc default reached an index only the project named"
    );
    assert!(
        stderr(&out).contains("wants credentials"),
        "{}",
        describe(&out)
    );

    // The same index chosen by the user: the default login is sent, as pip and uv send it.
    let ctx = TestContext::new();
    let (netrc, index) = netrc_default_and_an_index_wanting_it(&ctx);
    let out = ctx
        .cmd(["install", V, "--source", "python-index"])
        .env("CODEX_BOOTSTRAP_INDEX_URL", index.url())
        .env("NETRC", &netrc)
        .output()
        .unwrap();
    assert_exit(&out, 0);
}

#[test]
fn a_projects_npmrc_sends_an_environment_token_only_where_the_user_agrees() {
    let platform = npm_platform(host_target());
    let registry = || {
        NpmRegistry::builder()
            .tarball(
                V,
                platform,
                npm_tarball(V, host_target(), &Package::codex(V)),
            )
            .bearer_token("npm_SENTINEL_env")
            .start()
    };
    let install = |ctx: &TestContext| {
        ctx.cmd(["install", V, "--source", "npm"])
            .env_remove("CODEX_BOOTSTRAP_NPM_REGISTRY")
            .env("NPM_TOKEN", "npm_SENTINEL_env")
            .output()
            .unwrap()
    };
    let project_npmrc = |ctx: &TestContext, npm: &NpmRegistry| {
        std::fs::write(
            ctx.work_dir().join(".npmrc"),
            format!(
                "registry={}\n{}:_authToken=${{NPM_TOKEN}}\n",
                npm.url(),
                npm.nerf_dart()
            ),
        )
        .unwrap();
    };

    // The project names the registry and asks for $NPM_TOKEN: it is not sent.
    let ctx = TestContext::new();
    let npm = registry();
    project_npmrc(&ctx, &npm);
    let out = install(&ctx);
    assert_exit(&out, 1);
    assert!(
        npm.requests()
            .iter()
            .all(|r| !r.headers.contains_key("authorization")),
        "the environment's token reached a registry only the project named"
    );
    assert!(
        stderr(&out).contains("your own npm configuration names"),
        "{}",
        describe(&out)
    );

    // The user's own .npmrc knows that registry: the project's line is taken, as npm takes it.
    let ctx = TestContext::new();
    let npm = registry();
    project_npmrc(&ctx, &npm);
    std::fs::write(
        ctx.home().join(".npmrc"),
        format!("{}:always-auth=true\n", npm.nerf_dart()),
    )
    .unwrap();
    let out = install(&ctx);
    assert_exit(&out, 0);
    npm.assert_token_arrived();
}

#[test]
fn a_yank_reason_reaches_the_terminal_without_control_characters() {
    let ctx = TestContext::new();
    let name = format!("openai_codex_cli_bin-{V}-py3-none-{}.whl", host_wheel_tag());
    let index = PythonIndex::builder()
        .wheel(&name, wheel(V, host_wheel_tag(), &Package::codex(V)))
        .yank(
            &name,
            "broken\u{1b}[2J\u{1b}]0;pwned\u{7}\rFAKE: installed ok",
        )
        .start();
    let out = install_from_index(&ctx, index.server());
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("is yanked: brokenFAKE: installed ok"),
        "{}",
        describe(&out)
    );
    assert!(
        !err.contains(['\u{1b}', '\r', '\u{7}']),
        "control characters reached the terminal: {err:?}"
    );
}
