//! `install` from the three channels (GitHub, the Python index, npm) against loopback servers:
//! failover, digests and pins, credentials, and every way of locating a registry.
//!
//! The environment of [`TestContext`] points GitHub, the index and npm at a closed port, so a
//! source a test does not set up fails at once (connection refused) and hands over to the next.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::{
    assert_exit, describe, host_target, runtime_dir, stderr, stdout, PointAt, TestContext, TAG, V,
};
use crate::fixture::{
    codex_release, host_manylinux_tag, host_wheel_tag, npm_tarball,
    npm_tarball_with_escaping_symlink, npm_tarball_with_traversal, package_gz, release_gz,
    sha256_hex, wheel, wheel_name, wheel_with_duplicate, wheel_with_traversal, Entry, Package,
};
use crate::install::assert_no_file_contains;
use crate::support::github::{DigestMode, ReleaseServer};
use crate::support::http::{Fault, TestServer};
use crate::support::npm::{npm_platform, tarball_name, NpmRegistry};
use crate::support::pyindex::{PythonIndex, PROJECT};

// ---------------------------------------------------------------------------------------------
// Fixtures and assertions

fn platform() -> &'static str {
    npm_platform(host_target())
}

/// The wheel the product should pick on this host, for `version`.
fn host_wheel(version: &str) -> (String, Vec<u8>) {
    (
        wheel_name(version, host_wheel_tag()),
        wheel(version, host_wheel_tag(), &Package::codex(version)),
    )
}

/// An index serving `V`'s host wheel.
fn index_with_wheel() -> (PythonIndex, String) {
    let (name, bytes) = host_wheel(V);
    (PythonIndex::builder().wheel(&name, bytes).start(), name)
}

/// An index serving `V`'s host wheel with one byte flipped (its listed hash is the true one).
fn index_with_tampered_wheel() -> (PythonIndex, String) {
    let (name, bytes) = host_wheel(V);
    let index = PythonIndex::builder()
        .wheel(&name, bytes)
        .tamper(&name)
        .start();
    (index, name)
}

fn host_npm_tarball(version: &str) -> Vec<u8> {
    npm_tarball(version, host_target(), &Package::codex(version))
}

/// A registry serving `V` for this host.
fn npm_with_tarball() -> NpmRegistry {
    NpmRegistry::builder()
        .tarball(V, platform(), host_npm_tarball(V))
        .start()
}

/// A GitHub release of `V` whose `.tar.gz` is served with one byte flipped.
fn tampered_github() -> ReleaseServer {
    let gz = Package::codex(V).tar_gz();
    let len = gz.len() as u64;
    let server = release_gz(V, gz, DigestMode::Api);
    server.http().fault(
        &format!("/download/{TAG}/{}", package_gz()),
        Fault::CorruptByte(len / 2),
    );
    server
}

fn install_cmd(ctx: &TestContext, extra: &[&str]) -> Command {
    let mut cmd = ctx.cmd(["install", "--json"]);
    cmd.args(extra);
    cmd
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run codex-bootstrap")
}

/// `install --json`'s report, after checking the exit code.
#[track_caller]
fn installed(out: &Output) -> serde_json::Value {
    assert_exit(out, 0);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}\n{}", describe(out)))
}

/// The runtime of `version` is installed, runs, and `--json` said where it came from.
#[track_caller]
fn assert_installed_from(ctx: &TestContext, json: &serde_json::Value, version: &str, source: &str) {
    assert_eq!(json["source"], source, "{json}");
    let kind = json["verified_by"]["kind"].as_str().unwrap_or_default();
    assert!(!kind.is_empty() && kind != "unverified", "{json}");
    let codex = runtime_dir(ctx, version).join("bin/codex");
    assert_eq!(json["path"], codex.display().to_string(), "{json}");
    let out = Command::new(&codex).arg("--version").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("codex-cli {version}")
    );
    assert!(runtime_dir(ctx, version)
        .join(".codex-bootstrap-receipt.json")
        .is_file());
}

/// Nothing under `runtimes/`: no runtime, no staging left behind.
#[track_caller]
fn assert_nothing_installed(ctx: &TestContext) {
    let runtimes = ctx.cache_dir().join("runtimes");
    let left: Vec<PathBuf> = walk(&runtimes)
        .into_iter()
        .filter(|p| p.is_file() || p.is_symlink())
        .collect();
    assert!(left.is_empty(), "left under runtimes/: {left:?}");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() && !p.is_symlink() {
            out.extend(walk(&p));
        }
        out.push(p);
    }
    out
}

/// How a source may be named in messages.
fn spellings(source: &str) -> &'static [&'static str] {
    match source {
        "github" => &["github"],
        "python-index" => &["python-index", "python index"],
        "npm" => &["npm"],
        other => panic!("unknown source `{other}`"),
    }
}

fn names(text: &str, source: &str) -> bool {
    let text = text.to_ascii_lowercase();
    spellings(source).iter().any(|s| text.contains(s))
}

/// stderr has a `warning:` line naming `source`.
#[track_caller]
fn assert_warning_names(out: &Output, source: &str) {
    let err = stderr(out);
    assert!(
        err.lines()
            .any(|l| l.trim_start().starts_with("warning:") && names(l, source)),
        "no warning naming {source}:\n{err}"
    );
}

/// The page and file requests of the index, and the packument and tarball requests of the
/// registry, carried no `authorization` header.
#[track_caller]
fn assert_no_credentials(requests: &[crate::support::http::RecordedRequest], host: &str) {
    for r in requests {
        assert_eq!(
            r.headers.get("authorization"),
            None,
            "credentials sent to {host} for {}",
            r.path
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Failover

#[test]
fn github_unreachable_falls_over_to_the_python_index() {
    let ctx = TestContext::new();
    let (index, name) = index_with_wheel();
    let npm = npm_with_tarball();
    let out = run(install_cmd(&ctx, &[])
        .python_index(&index)
        .npm_registry(&npm));
    let json = installed(&out);
    assert_installed_from(&ctx, &json, V, "python-index");
    assert_eq!(json["asset"], name.as_str());
    assert_eq!(index.downloads(&name), 1);
    assert_eq!(npm.downloads(V, platform()), 0, "the index came first");

    // Warm: no request anywhere.
    let before = (index.requests().len(), npm.requests().len());
    let warm = run(install_cmd(&ctx, &[])
        .python_index(&index)
        .npm_registry(&npm));
    installed(&warm);
    assert_eq!((index.requests().len(), npm.requests().len()), before);
}

#[test]
fn github_rate_limited_without_a_token_falls_over_to_the_index() {
    let ctx = TestContext::new();
    let github = codex_release(DigestMode::Api);
    github.rate_limited(4_000_000_000);
    let (index, name) = index_with_wheel();
    let out = run(install_cmd(&ctx, &[]).github(&github).python_index(&index));
    let json = installed(&out);
    assert_installed_from(&ctx, &json, V, "python-index");
    assert_eq!(json["asset"], name.as_str());
    assert!(!github.requests().is_empty(), "GitHub was asked first");
    // No archive from GitHub's downloads; only the look for the signature bundle.
    let bundle = format!("/download/{TAG}/codex-{}.sigstore", host_target());
    assert_eq!(
        github.http().count("/download/"),
        github.http().count(&bundle)
    );
}

#[test]
fn the_index_lacking_the_version_falls_over_to_npm() {
    let ctx = TestContext::new();
    let (older, bytes) = host_wheel("0.162.0");
    let index = PythonIndex::builder().wheel(&older, bytes).start();
    let npm = npm_with_tarball();
    let out = run(install_cmd(&ctx, &[])
        .python_index(&index)
        .npm_registry(&npm));
    let json = installed(&out);
    assert_installed_from(&ctx, &json, V, "npm");
    assert_eq!(json["asset"], tarball_name(V, Some(platform())).as_str());
    assert!(index.page_requests() >= 1, "the index was asked");
    assert_eq!(index.downloads(&older), 0);
    assert_eq!(npm.downloads(V, platform()), 1);
}

#[test]
fn an_index_without_the_project_falls_over_to_npm() {
    let ctx = TestContext::new();
    // Every path is 404 here.
    let empty = TestServer::start();
    let npm = npm_with_tarball();
    let out = run(install_cmd(&ctx, &[])
        .env(
            "CODEX_BOOTSTRAP_INDEX_URL",
            format!("{}/simple", empty.url()),
        )
        .npm_registry(&npm));
    let json = installed(&out);
    assert_installed_from(&ctx, &json, V, "npm");
    assert_eq!(
        empty.count(&format!("/simple/{PROJECT}")),
        1,
        "asked once, not retried"
    );
}

#[test]
fn a_transient_index_error_is_retried_on_the_index() {
    let ctx = TestContext::new();
    let (index, name) = index_with_wheel();
    index
        .server()
        .fault(&index.project_path(), Fault::status(503));
    index
        .file_server()
        .fault(&index.file_path(&name), Fault::status(502));
    let npm = npm_with_tarball();
    let out = run(install_cmd(&ctx, &[])
        .python_index(&index)
        .npm_registry(&npm));
    let json = installed(&out);
    assert_installed_from(&ctx, &json, V, "python-index");
    assert_eq!(
        index.count(&index.project_path()),
        2,
        "a 503, then the page"
    );
    assert_eq!(index.downloads(&name), 2, "a 502, then the wheel");
    assert_eq!(npm.downloads(V, platform()), 0);
}

#[test]
fn a_tampered_wheel_is_a_warning_then_npm_serves_the_runtime() {
    let ctx = TestContext::new();
    let (index, name) = index_with_tampered_wheel();
    let npm = npm_with_tarball();
    let out = run(install_cmd(&ctx, &[])
        .python_index(&index)
        .npm_registry(&npm));
    let json = installed(&out);
    assert_warning_names(&out, "python-index");
    assert_installed_from(&ctx, &json, V, "npm");
    assert!(index.downloads(&name) >= 1);
    assert_eq!(npm.downloads(V, platform()), 1);
}

#[test]
fn every_source_tampered_exits_1_names_each_and_installs_nothing() {
    let ctx = TestContext::new();
    let github = tampered_github();
    let (index, name) = index_with_tampered_wheel();
    let npm = NpmRegistry::builder()
        .tarball(V, platform(), host_npm_tarball(V))
        .corrupt(V, platform())
        .start();
    let out = run(install_cmd(&ctx, &[])
        .github(&github)
        .python_index(&index)
        .npm_registry(&npm));
    assert_exit(&out, 1);
    let err = stderr(&out);
    for source in ["github", "python-index", "npm"] {
        assert!(names(&err, source), "{source} is not named:\n{err}");
    }
    // Under --json the failure is also one error object on stdout, never a report.
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("an error object");
    assert!(
        json["path"].is_null() && json["error"].is_string(),
        "{}",
        describe(&out)
    );
    assert_nothing_installed(&ctx);
    assert!(github.http().count("/download/") >= 1);
    assert!(index.downloads(&name) >= 1);
    assert!(npm.downloads(V, platform()) >= 1);
}

#[test]
fn an_npm_integrity_mismatch_is_refused() {
    let ctx = TestContext::new();
    let npm = NpmRegistry::builder()
        .tarball(V, platform(), host_npm_tarball(V))
        .wrong_integrity(V, platform())
        .start();
    let out = run(install_cmd(&ctx, &["--source", "npm"]).npm_registry(&npm));
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(names(&err, "npm"), "{err}");
    assert!(
        err.contains("integrity") || err.contains("sha512") || err.contains("mismatch"),
        "{err}"
    );
    assert_nothing_installed(&ctx);
    assert_eq!(npm.downloads(V, platform()), 1);
}

#[test]
fn a_yanked_wheel_is_skipped() {
    let ctx = TestContext::new();
    let (name, bytes) = host_wheel(V);
    let index = PythonIndex::builder()
        .wheel(&name, bytes)
        .yank(&name, "the runtime crashes on start")
        .start();
    let npm = npm_with_tarball();
    let out = run(install_cmd(&ctx, &[])
        .python_index(&index)
        .npm_registry(&npm));
    let json = installed(&out);
    assert_installed_from(&ctx, &json, V, "npm");
    assert_eq!(index.downloads(&name), 0, "a yanked wheel is not fetched");
}

#[test]
fn the_musllinux_wheel_is_preferred_over_the_manylinux_one() {
    let ctx = TestContext::new();
    let many = wheel_name(V, host_manylinux_tag());
    let (musl, musl_bytes) = host_wheel(V);
    let index = PythonIndex::builder()
        .wheel(&many, wheel(V, host_manylinux_tag(), &Package::codex(V)))
        .wheel(&musl, musl_bytes)
        .wheel(
            &wheel_name(V, "macosx_11_0_arm64"),
            wheel(
                V,
                "macosx_11_0_arm64",
                &Package::for_target(V, "aarch64-apple-darwin"),
            ),
        )
        .start();
    let out = run(install_cmd(&ctx, &["--source", "python-index"]).python_index(&index));
    let json = installed(&out);
    assert_eq!(json["asset"], musl.as_str());
    assert_eq!(index.downloads(&many), 0);
}

#[test]
fn source_restricts_and_orders_the_candidates() {
    // Only the index: a working GitHub is not asked.
    let ctx = TestContext::new();
    let github = codex_release(DigestMode::Api);
    let (index, _) = index_with_wheel();
    let npm = npm_with_tarball();
    let out = run(install_cmd(&ctx, &["--source", "python-index"])
        .github(&github)
        .python_index(&index)
        .npm_registry(&npm));
    assert_installed_from(&ctx, &installed(&out), V, "python-index");
    assert!(github.requests().is_empty(), "{:?}", github.http().counts());
    assert!(npm.requests().is_empty(), "{:?}", npm.requests_per_path());

    // npm first, by the environment.
    let ctx = TestContext::new();
    let out = run(install_cmd(&ctx, &[])
        .env("CODEX_BOOTSTRAP_SOURCES", "npm,python-index")
        .github(&github)
        .python_index(&index)
        .npm_registry(&npm));
    assert_installed_from(&ctx, &installed(&out), V, "npm");
    assert!(github.requests().is_empty());
}

#[test]
fn dry_run_lists_the_sources_in_order_with_their_urls() {
    let ctx = TestContext::new();
    let (index, _) = index_with_wheel();
    let npm = npm_with_tarball();
    let position = |text: &str, source: &str| {
        let lower = text.to_ascii_lowercase();
        spellings(source)
            .iter()
            .filter_map(|s| lower.find(s))
            .min()
            .unwrap_or_else(|| panic!("{source} is not listed:\n{text}"))
    };
    for (flags, order) in [
        (vec![], ["github", "python-index", "npm"]),
        (vec!["--source", "auto"], ["github", "python-index", "npm"]),
        (
            vec![
                "--source",
                "npm",
                "--source",
                "github",
                "--source",
                "python-index",
            ],
            ["npm", "github", "python-index"],
        ),
        (
            vec!["--source", "python-index,npm,github"],
            ["python-index", "npm", "github"],
        ),
    ] {
        let mut cmd = ctx.cmd(["install", "--dry-run"]);
        cmd.args(&flags).python_index(&index).npm_registry(&npm);
        let out = run(&mut cmd);
        assert_exit(&out, 0);
        let text = stdout(&out);
        let at: Vec<usize> = order.iter().map(|s| position(&text, s)).collect();
        assert!(
            at.windows(2).all(|w| w[0] < w[1]),
            "{flags:?}: {order:?} at {at:?}\n{text}"
        );
        assert!(text.contains(&index.url()), "{text}");
        assert!(text.contains(npm.url().trim_end_matches('/')), "{text}");
        assert!(text.contains("127.0.0.1:9/unreachable-api"), "{text}");
    }
    assert!(index.requests().is_empty(), "--dry-run touched the index");
    assert!(npm.requests().is_empty(), "--dry-run touched npm");
    assert!(!ctx.cache_dir().join("runtimes").exists());
}

/// `mirror` asks the sources the way `install` does: GitHub (unreachable here) is skipped, the
/// index's tampered wheel is a warning, and npm's tarball is mirrored and pinned by its sha512.
#[test]
fn mirror_fails_over_like_install_and_pins_what_served() {
    let ctx = TestContext::new();
    let (index, name) = index_with_tampered_wheel();
    let tgz = host_npm_tarball(V);
    let npm = NpmRegistry::builder()
        .tarball(V, platform(), tgz.clone())
        .start();
    let out_dir = ctx.root().join("m");
    let out = run(ctx
        .cmd(["mirror", V, "--out"])
        .arg(&out_dir)
        .python_index(&index)
        .npm_registry(&npm));
    assert_exit(&out, 0);
    assert!(
        stderr(&out)
            .lines()
            .any(|l| l.trim_start().starts_with("Skipping github")),
        "{}",
        stderr(&out)
    );
    assert_warning_names(&out, "python-index");
    let release = out_dir.join(TAG);
    let file = tarball_name(V, Some(platform()));
    assert_eq!(std::fs::read(release.join(&file)).unwrap(), tgz);
    assert!(
        !release.join(&name).exists(),
        "the tampered wheel is not mirrored"
    );
    let sums = std::fs::read_to_string(release.join("codex-package_SHA256SUMS")).unwrap();
    assert_eq!(sums, format!("{}  {file}\n", sha256_hex(&tgz)));
    let manifest = std::fs::read_to_string(release.join("codex-runtime.toml")).unwrap();
    assert!(
        manifest.contains(&format!("[targets.{}.npm]", host_target()))
            && manifest.contains(&crate::support::npm::integrity(&tgz)),
        "{manifest}"
    );
}

#[test]
fn latest_without_github_is_npms_latest_dist_tag() {
    let ctx = TestContext::new();
    let npm = NpmRegistry::builder()
        .tarball(V, platform(), host_npm_tarball(V))
        .tarball("0.170.0", platform(), host_npm_tarball("0.170.0"))
        .tarball(
            "0.171.0-alpha.1",
            platform(),
            host_npm_tarball("0.171.0-alpha.1"),
        )
        .dist_tag("latest", "0.170.0")
        .dist_tag("alpha", "0.171.0-alpha.1")
        .start();
    let out = run(install_cmd(&ctx, &["--version", "latest"]).npm_registry(&npm));
    let json = installed(&out);
    assert_eq!(json["version"], "0.170.0", "{json}");
    assert_installed_from(&ctx, &json, "0.170.0", "npm");
    let from = json["resolved_from"].as_str().unwrap_or_default();
    assert!(names(from, "npm"), "say which: {json}");
}

#[test]
fn latest_from_the_index_is_its_newest_stable_unyanked_version() {
    let ctx = TestContext::new();
    let mut builder = PythonIndex::builder();
    for v in [V, "0.169.0", "0.170.0", "0.171.0a1"] {
        let (name, bytes) = host_wheel(v);
        builder = builder.wheel(&name, bytes);
    }
    let index = builder
        .yank(&wheel_name("0.170.0", host_wheel_tag()), "bad build")
        .start();
    let out = run(
        install_cmd(&ctx, &["--version", "latest", "--source", "python-index"])
            .python_index(&index),
    );
    let json = installed(&out);
    assert_eq!(json["version"], "0.169.0", "{json}");
    assert_installed_from(&ctx, &json, "0.169.0", "python-index");
    let from = json["resolved_from"].as_str().unwrap_or_default();
    assert!(from.contains("Python index"), "say which: {json}");
}

// ---------------------------------------------------------------------------------------------
// Credentials

#[test]
fn index_credentials_in_the_url_reach_only_the_index_host() {
    let ctx = TestContext::new();
    let (name, bytes) = host_wheel(V);
    let index = PythonIndex::builder()
        .wheel(&name, bytes)
        .basic_auth("alice", "pw_SENTINEL_index")
        .files_on_another_host()
        .start();
    let npm = npm_with_tarball();
    let url = index.url_with_credentials("alice", "pw_SENTINEL_index");
    let out = run(install_cmd(&ctx, &["--index-url", &url]).npm_registry(&npm));
    let json = installed(&out);
    assert_installed_from(&ctx, &json, V, "python-index");
    index.assert_credentials_stayed_on_the_index();
    assert_no_credentials(&npm.requests(), "npm");
    for text in [stdout(&out), stderr(&out)] {
        assert!(!text.contains("pw_SENTINEL_index"), "{text}");
    }
    assert_no_file_contains(&ctx.cache_dir(), "pw_SENTINEL_index");
}

#[test]
fn index_credentials_from_netrc() {
    let ctx = TestContext::new();
    let (name, bytes) = host_wheel(V);
    let index = PythonIndex::builder()
        .wheel(&name, bytes)
        .basic_auth("bob", "pw_SENTINEL_netrc")
        .start();
    let netrc = ctx.root().join("netrc");
    std::fs::write(
        &netrc,
        format!(
            "machine example.invalid login nobody password nothing\nmachine {} login bob password pw_SENTINEL_netrc\n",
            index.host()
        ),
    )
    .unwrap();
    let out = run(install_cmd(&ctx, &["--source", "python-index"])
        .python_index(&index)
        .env("NETRC", &netrc));
    assert_installed_from(&ctx, &installed(&out), V, "python-index");
    assert!(index.downloads(&name) >= 1);
    index.assert_credentials_stayed_on_the_index();
    assert!(!stderr(&out).contains("pw_SENTINEL_netrc"));
    assert_no_file_contains(&ctx.cache_dir(), "pw_SENTINEL_netrc");
}

#[test]
fn the_npm_token_reaches_only_the_registry() {
    let ctx = TestContext::new();
    let npm = NpmRegistry::builder()
        .tarball(V, platform(), host_npm_tarball(V))
        .bearer_token("npm_SENTINEL_token")
        .start();
    // The index is asked first and lacks the version: the token must not go there either.
    let (older, bytes) = host_wheel("0.162.0");
    let index = PythonIndex::builder().wheel(&older, bytes).start();
    std::fs::write(
        ctx.work_dir().join(".npmrc"),
        format!(
            "registry={}\n{}:_authToken=npm_SENTINEL_token\n",
            npm.url(),
            npm.nerf_dart()
        ),
    )
    .unwrap();
    let out = run(install_cmd(&ctx, &[])
        .env_remove("CODEX_BOOTSTRAP_NPM_REGISTRY")
        .python_index(&index));
    let json = installed(&out);
    assert_installed_from(&ctx, &json, V, "npm");
    npm.assert_token_arrived();
    assert_no_credentials(&index.requests(), "the index");
    for text in [stdout(&out), stderr(&out)] {
        assert!(!text.contains("npm_SENTINEL_token"), "{text}");
    }
    assert_no_file_contains(&ctx.cache_dir(), "npm_SENTINEL_token");
}

// ---------------------------------------------------------------------------------------------
// Locating the Python index

/// Install with only the index configured by `configure`, which receives the command (with
/// `CODEX_BOOTSTRAP_INDEX_URL` removed), the sandbox and the index URL.
fn installs_from_an_index_configured_by(configure: impl Fn(&mut Command, &TestContext, &str)) {
    let ctx = TestContext::new();
    let (index, name) = index_with_wheel();
    let mut cmd = install_cmd(&ctx, &["--source", "python-index"]);
    cmd.env_remove("CODEX_BOOTSTRAP_INDEX_URL");
    configure(&mut cmd, &ctx, &index.url());
    let json = installed(&run(&mut cmd));
    assert_installed_from(&ctx, &json, V, "python-index");
    assert_eq!(index.downloads(&name), 1);
}

#[test]
fn index_from_the_flag() {
    installs_from_an_index_configured_by(|cmd, _, url| {
        cmd.args(["--index-url", url]);
    });
}

#[test]
fn index_from_codex_bootstrap_index_url() {
    installs_from_an_index_configured_by(|cmd, _, url| {
        cmd.env("CODEX_BOOTSTRAP_INDEX_URL", url);
    });
}

#[test]
fn index_from_uv_default_index() {
    installs_from_an_index_configured_by(|cmd, _, url| {
        cmd.env("UV_DEFAULT_INDEX", url);
    });
}

#[test]
fn index_from_uv_index_url() {
    installs_from_an_index_configured_by(|cmd, _, url| {
        cmd.env("UV_INDEX_URL", url);
    });
}

#[test]
fn index_from_pip_index_url_with_a_trailing_slash() {
    installs_from_an_index_configured_by(|cmd, _, url| {
        cmd.env("PIP_INDEX_URL", format!("{url}/"));
    });
}

#[test]
fn index_from_pip_conf_named_by_pip_config_file() {
    installs_from_an_index_configured_by(|cmd, ctx, url| {
        let conf = ctx.root().join("pip.conf");
        std::fs::write(
            &conf,
            format!("# the company index\n[global]\ntimeout = 60\nindex-url = {url}\n\n[install]\nno-binary = none\n"),
        )
        .unwrap();
        cmd.env("PIP_CONFIG_FILE", &conf);
    });
}

#[test]
fn the_index_settings_rank_flag_then_variables_then_pip_conf() {
    // Best first. Each level, when it names the good index, beats every lower one naming a
    // decoy that records what it is asked.
    let levels = [
        "--index-url",
        "CODEX_BOOTSTRAP_INDEX_URL",
        "UV_DEFAULT_INDEX",
        "UV_INDEX_URL",
        "PIP_INDEX_URL",
        "PIP_CONFIG_FILE",
    ];
    let decoy = PythonIndex::builder().start();
    for (i, winner) in levels.iter().enumerate() {
        let ctx = TestContext::new();
        let (index, name) = index_with_wheel();
        let mut cmd = install_cmd(&ctx, &["--source", "python-index"]);
        cmd.env_remove("CODEX_BOOTSTRAP_INDEX_URL");
        for (j, level) in levels.iter().enumerate().skip(i) {
            let url = if j == i { index.url() } else { decoy.url() };
            match *level {
                "--index-url" => {
                    cmd.args(["--index-url", &url]);
                }
                "PIP_CONFIG_FILE" => {
                    let conf = ctx.root().join("pip.conf");
                    std::fs::write(&conf, format!("[global]\nindex-url = {url}\n")).unwrap();
                    cmd.env("PIP_CONFIG_FILE", &conf);
                }
                var => {
                    cmd.env(var, &url);
                }
            }
        }
        let out = run(&mut cmd);
        assert_exit(&out, 0);
        assert_eq!(index.downloads(&name), 1, "{winner} should have won");
    }
    assert!(
        decoy.requests().is_empty(),
        "{:?}",
        decoy.requests_per_path()
    );
}

// ---------------------------------------------------------------------------------------------
// Locating the npm registry

/// Install with only the registry configured by `configure` (`CODEX_BOOTSTRAP_NPM_REGISTRY`
/// removed); the registry is served under a path prefix, as a company proxy would.
fn installs_from_a_registry_configured_by(
    configure: impl Fn(&mut Command, &TestContext, &NpmRegistry),
) {
    let ctx = TestContext::new();
    let npm = NpmRegistry::builder()
        .prefix("/npm")
        .tarball(V, platform(), host_npm_tarball(V))
        .start();
    let mut cmd = install_cmd(&ctx, &["--source", "npm"]);
    cmd.env_remove("CODEX_BOOTSTRAP_NPM_REGISTRY");
    configure(&mut cmd, &ctx, &npm);
    let json = installed(&run(&mut cmd));
    assert_installed_from(&ctx, &json, V, "npm");
    assert_eq!(npm.packument_requests(), 1, "{:?}", npm.requests_per_path());
    assert_eq!(npm.downloads(V, platform()), 1);
}

#[test]
fn npm_registry_from_the_flag() {
    installs_from_a_registry_configured_by(|cmd, _, npm| {
        cmd.args(["--npm-registry", &npm.url()]);
    });
}

#[test]
fn npm_registry_from_codex_bootstrap_npm_registry() {
    installs_from_a_registry_configured_by(|cmd, _, npm| {
        cmd.npm_registry(npm);
    });
}

#[test]
fn npm_registry_from_npm_config_registry() {
    installs_from_a_registry_configured_by(|cmd, _, npm| {
        cmd.env("npm_config_registry", npm.url());
    });
}

#[test]
fn npm_registry_from_the_projects_npmrc() {
    installs_from_a_registry_configured_by(|_, ctx, npm| {
        std::fs::write(
            ctx.work_dir().join(".npmrc"),
            format!("; the company proxy\nregistry={}\nfund=false\n", npm.url()),
        )
        .unwrap();
    });
}

#[test]
fn npm_registry_from_the_users_npmrc_scoped_to_openai() {
    installs_from_a_registry_configured_by(|_, ctx, npm| {
        std::fs::write(
            ctx.home().join(".npmrc"),
            format!(
                "registry=http://127.0.0.1:9/not-for-openai/\n@openai:registry={}\n",
                npm.url()
            ),
        )
        .unwrap();
    });
}

#[test]
fn the_npm_settings_rank_flag_then_variables_then_npmrc() {
    let levels = [
        "--npm-registry",
        "CODEX_BOOTSTRAP_NPM_REGISTRY",
        "npm_config_registry",
        "project .npmrc",
        "user .npmrc",
    ];
    let decoy = NpmRegistry::builder().start();
    for (i, winner) in levels.iter().enumerate() {
        let ctx = TestContext::new();
        let npm = npm_with_tarball();
        let mut cmd = install_cmd(&ctx, &["--source", "npm"]);
        cmd.env_remove("CODEX_BOOTSTRAP_NPM_REGISTRY");
        for (j, level) in levels.iter().enumerate().skip(i) {
            let url = if j == i { npm.url() } else { decoy.url() };
            match *level {
                "--npm-registry" => {
                    cmd.args(["--npm-registry", &url]);
                }
                "project .npmrc" => {
                    std::fs::write(ctx.work_dir().join(".npmrc"), format!("registry={url}\n"))
                        .unwrap();
                }
                "user .npmrc" => {
                    std::fs::write(ctx.home().join(".npmrc"), format!("registry={url}\n")).unwrap();
                }
                var => {
                    cmd.env(var, &url);
                }
            }
        }
        let out = run(&mut cmd);
        assert_exit(&out, 0);
        assert_eq!(npm.downloads(V, platform()), 1, "{winner} should have won");
    }
    assert!(
        decoy.requests().is_empty(),
        "{:?}",
        decoy.requests_per_path()
    );
}

// ---------------------------------------------------------------------------------------------
// Lock files pin bytes

/// A `uv.lock` as uv writes it, pinning `openai-codex-cli-bin` `V` with these wheels
/// (url, sha256, size), beside the SDK that depends on it.
fn uv_lock(index_url: &str, wheels: &[(String, String, usize)]) -> String {
    let wheels: String = wheels
        .iter()
        .map(|(url, sha, size)| {
            format!("    {{ url = \"{url}\", hash = \"sha256:{sha}\", size = {size}, upload-time = \"2026-11-01T00:00:00.000Z\" }},\n")
        })
        .collect();
    format!(
        r#"version = 1
revision = 2
requires-python = ">=3.9"

[[package]]
name = "demo"
version = "0.1.0"
source = {{ virtual = "." }}
dependencies = [
    {{ name = "openai-codex" }},
]

[[package]]
name = "openai-codex"
version = "{V}"
source = {{ registry = "{index_url}" }}
dependencies = [
    {{ name = "openai-codex-cli-bin" }},
]
wheels = [
    {{ url = "http://127.0.0.1:9/files/openai_codex-{V}-py3-none-any.whl", hash = "sha256:{sdk}", size = 1234, upload-time = "2026-11-01T00:00:00.000Z" }},
]

[[package]]
name = "openai-codex-cli-bin"
version = "{V}"
source = {{ registry = "{index_url}" }}
wheels = [
{wheels}]
"#,
        sdk = sha256_hex(b"the sdk wheel"),
    )
}

#[test]
fn a_uv_lock_wheel_is_installed_from_its_url_with_no_index_request() {
    let ctx = TestContext::new();
    let (name, bytes) = host_wheel(V);
    let mac = wheel_name(V, "macosx_11_0_arm64");
    let index = PythonIndex::builder().wheel(&name, bytes.clone()).start();
    std::fs::write(
        ctx.work_dir().join("uv.lock"),
        uv_lock(
            &index.url(),
            &[
                (index.file_url(&mac), sha256_hex(b"the mac wheel"), 999),
                (index.file_url(&name), sha256_hex(&bytes), bytes.len()),
            ],
        ),
    )
    .unwrap();
    let out = run(install_cmd(&ctx, &[]).python_index(&index));
    let json = installed(&out);
    assert_installed_from(&ctx, &json, V, "python-index");
    assert_eq!(json["asset"], name.as_str());
    assert_eq!(index.page_requests(), 0, "{:?}", index.requests_per_path());
    assert_eq!(index.downloads(&name), 1);
    assert_eq!(index.downloads(&mac), 0);
}

#[test]
fn a_wheel_that_does_not_match_the_lock_is_refused_naming_both_digests() {
    let ctx = TestContext::new();
    let (name, bytes) = host_wheel(V);
    let index = PythonIndex::builder().wheel(&name, bytes.clone()).start();
    let locked = sha256_hex(b"the wheel uv locked");
    std::fs::write(
        ctx.work_dir().join("uv.lock"),
        uv_lock(
            &index.url(),
            &[(index.file_url(&name), locked.clone(), bytes.len())],
        ),
    )
    .unwrap();
    let out = run(install_cmd(&ctx, &["--source", "python-index"]).python_index(&index));
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains(&locked),
        "the lock's digest is not named:\n{err}"
    );
    assert!(
        err.contains(&sha256_hex(&bytes)),
        "the wheel's digest is not named:\n{err}"
    );
    assert!(err.contains("uv.lock"), "{err}");
    assert_nothing_installed(&ctx);
}

/// A requirements file as `pip-compile --generate-hashes` writes it.
fn pip_compile_requirements(cli_bin_hashes: &[String]) -> String {
    let hashes: Vec<String> = cli_bin_hashes
        .iter()
        .map(|h| format!("    --hash=sha256:{h}"))
        .collect();
    format!(
        "#\n# This file is autogenerated by pip-compile with Python 3.12\n# by the following command:\n#\n#    pip-compile --generate-hashes requirements.in\n#\nopenai-codex=={V} \\\n    --hash=sha256:{sdk}\n    # via -r requirements.in\nopenai-codex-cli-bin=={V} ; python_version >= \"3.9\" \\\n{}\n    # via openai-codex\n",
        hashes.join(" \\\n"),
        sdk = sha256_hex(b"the sdk wheel"),
    )
}

/// A requirements file as `uv export` writes it.
fn uv_export_requirements(cli_bin_hashes: &[String]) -> String {
    let hashes: Vec<String> = cli_bin_hashes
        .iter()
        .map(|h| format!("    --hash=sha256:{h}"))
        .collect();
    format!(
        "# This file was autogenerated by uv via the following command:\n#    uv export --format requirements-txt\n-e .\nopenai-codex=={V} \\\n    --hash=sha256:{sdk}\n    # via demo\nopenai-codex-cli-bin=={V} ; python_full_version >= '3.9' \\\n{}\n    # via openai-codex\n",
        hashes.join(" \\\n"),
        sdk = sha256_hex(b"the sdk wheel"),
    )
}

#[test]
fn hashed_requirements_parse_and_pin_the_wheel() {
    let (name, bytes) = host_wheel(V);
    let index = PythonIndex::builder().wheel(&name, bytes.clone()).start();
    let other = sha256_hex(b"the wheel of another platform");
    for (file, text) in [
        (
            "requirements.txt",
            pip_compile_requirements(&[other.clone(), sha256_hex(&bytes)]),
        ),
        (
            "requirements-lock.txt",
            uv_export_requirements(&[sha256_hex(&bytes), other.clone()]),
        ),
    ] {
        let ctx = TestContext::new();
        std::fs::write(ctx.work_dir().join(file), &text).unwrap();
        let dry = run(ctx
            .cmd(["install", "--dry-run", "--json"])
            .python_index(&index));
        let plan = installed(&dry);
        assert_eq!(plan["version"], V, "{file}: {plan}");
        assert!(
            plan["pin_source"]
                .as_str()
                .unwrap_or_default()
                .contains(file),
            "{file}: {plan}"
        );
        let out = run(install_cmd(&ctx, &["--source", "python-index"]).python_index(&index));
        let json = installed(&out);
        assert_installed_from(&ctx, &json, V, "python-index");
        assert!(
            !stderr(&out).contains("warning:"),
            "{file}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn a_wheel_whose_hash_is_not_among_the_requirements_is_refused() {
    let ctx = TestContext::new();
    let (name, bytes) = host_wheel(V);
    let index = PythonIndex::builder().wheel(&name, bytes.clone()).start();
    let pinned = [sha256_hex(b"one platform"), sha256_hex(b"another platform")];
    std::fs::write(
        ctx.work_dir().join("requirements.txt"),
        pip_compile_requirements(&pinned),
    )
    .unwrap();
    let out = run(install_cmd(&ctx, &["--source", "python-index"]).python_index(&index));
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(err.contains(&sha256_hex(&bytes)), "{err}");
    assert!(err.contains("requirements.txt"), "{err}");
    assert_nothing_installed(&ctx);
}

#[test]
fn an_unreadable_pin_is_a_warning_naming_the_file_and_line() {
    let ctx = TestContext::new();
    std::fs::write(
        ctx.work_dir().join("requirements.txt"),
        "# tools\nrequests==2.32.3\nopenai-codex-cli-bin==banana\n",
    )
    .unwrap();
    let out = run(&mut ctx.cmd(["install", "--dry-run", "--json"]));
    let plan = installed(&out);
    assert_eq!(plan["version"], V, "the bundled pin: {plan}");
    let err = stderr(&out);
    assert!(
        err.lines().any(|l| l.starts_with("warning:")
            && (l.contains("requirements.txt:3") || l.contains("line 3"))),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------------
// Hostile archives from the new channels

/// No file named `needle` anywhere in the sandbox or beside it.
#[track_caller]
fn assert_not_escaped(ctx: &TestContext, needle: &str) {
    let hits: Vec<PathBuf> = walk(ctx.root())
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n == needle))
        .collect();
    assert!(hits.is_empty(), "escaped: {hits:?}");
    let beside = ctx.root().parent().unwrap().join(needle);
    assert!(!beside.exists(), "escaped: {}", beside.display());
}

fn refused_from_the_index(bytes: Vec<u8>) -> (TestContext, Output) {
    let ctx = TestContext::new();
    let name = wheel_name(V, host_wheel_tag());
    let index = PythonIndex::builder().wheel(&name, bytes).start();
    let out = run(install_cmd(&ctx, &["--source", "python-index"]).python_index(&index));
    assert_exit(&out, 1);
    assert!(stderr(&out).contains("refused"), "{}", stderr(&out));
    assert_nothing_installed(&ctx);
    (ctx, out)
}

fn refused_from_npm(bytes: Vec<u8>) -> (TestContext, Output) {
    let ctx = TestContext::new();
    let npm = NpmRegistry::builder().tarball(V, platform(), bytes).start();
    let out = run(install_cmd(&ctx, &["--source", "npm"]).npm_registry(&npm));
    assert_exit(&out, 1);
    assert!(stderr(&out).contains("refused"), "{}", stderr(&out));
    assert_nothing_installed(&ctx);
    (ctx, out)
}

#[test]
fn a_wheel_with_a_duplicate_entry_is_refused() {
    let pkg = Package::codex(V);
    let (_, out) = refused_from_the_index(wheel_with_duplicate(
        V,
        host_wheel_tag(),
        &pkg,
        "codex-resources/bwrap",
    ));
    assert!(
        stderr(&out).contains("codex-resources/bwrap"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_wheel_with_traversal_is_refused() {
    let (ctx, _) = refused_from_the_index(wheel_with_traversal(
        V,
        host_wheel_tag(),
        &Package::codex(V),
    ));
    assert_not_escaped(&ctx, "escaped-by-wheel");
}

/// A plain install from a wheel keeps only its `codex_cli_bin/` package, moved up out of the
/// wheel once checked: a wheel holds regular files only, so a link (here one that would reach
/// the rest of the wheel, its RECORD, which is not kept) refuses it.
#[test]
fn a_wheel_with_a_link_is_refused() {
    let pkg = Package::codex(V).with(Entry::Symlink {
        path: "codex-path/record".into(),
        target: format!("../../openai_codex_cli_bin-{V}.dist-info/RECORD"),
    });
    let (_, out) = refused_from_the_index(wheel(V, host_wheel_tag(), &pkg));
    assert!(
        stderr(&out).contains("codex_cli_bin/codex-path/record")
            && stderr(&out).contains("a wheel tree holds regular files only"),
        "{}",
        stderr(&out)
    );
}

/// A plain install from a wheel holds it to its RECORD, as `install --python` does: from the
/// index's digest alone every file is hashed, and a RECORD that lies refuses the wheel.
#[test]
fn a_wheel_whose_record_lies_is_refused_by_a_plain_install() {
    let ctx = TestContext::new();
    let name = wheel_name(V, host_wheel_tag());
    let bytes = crate::fixture::wheel_lying_about(
        V,
        host_wheel_tag(),
        &Package::codex(V),
        "codex_cli_bin/codex-resources/bwrap",
    );
    let index = PythonIndex::builder().wheel(&name, bytes).start();
    let out = run(install_cmd(&ctx, &["--source", "python-index"]).python_index(&index));
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains(
            "`codex_cli_bin/codex-resources/bwrap` does not have the sha256 the wheel's RECORD lists"
        ),
        "{}",
        stderr(&out)
    );
    assert_nothing_installed(&ctx);
}

#[test]
fn an_npm_tarball_with_traversal_is_refused() {
    let (ctx, out) = refused_from_npm(npm_tarball_with_traversal(
        V,
        host_target(),
        &Package::codex(V),
    ));
    assert!(stderr(&out).contains("escaped-by-npm"), "{}", stderr(&out));
    assert_not_escaped(&ctx, "escaped-by-npm");
}

#[test]
fn an_npm_tarball_with_an_escaping_symlink_is_refused() {
    refused_from_npm(npm_tarball_with_escaping_symlink(
        V,
        host_target(),
        &Package::codex(V),
    ));
}

/// `install --archive` of a wheel: the zip path refuses a duplicate as the tar path does
/// (today one copy silently wins).
#[test]
fn an_archive_wheel_with_a_duplicate_entry_is_refused() {
    let ctx = TestContext::new();
    let bytes = wheel_with_duplicate(
        V,
        host_wheel_tag(),
        &Package::codex(V),
        "codex-resources/bwrap",
    );
    let path = ctx.root().join(wheel_name(V, host_wheel_tag()));
    std::fs::write(&path, &bytes).unwrap();
    let out = ctx.run([
        "install",
        "--archive",
        path.to_str().unwrap(),
        "--sha256",
        &sha256_hex(&bytes),
    ]);
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("refused") && err.contains("codex-resources/bwrap"),
        "{err}"
    );
    assert_nothing_installed(&ctx);
}

#[test]
fn an_archive_wheel_with_traversal_is_refused() {
    let ctx = TestContext::new();
    let bytes = wheel_with_traversal(V, host_wheel_tag(), &Package::codex(V));
    let path = ctx.root().join(wheel_name(V, host_wheel_tag()));
    std::fs::write(&path, &bytes).unwrap();
    let out = ctx.run([
        "install",
        "--archive",
        path.to_str().unwrap(),
        "--sha256",
        &sha256_hex(&bytes),
    ]);
    assert_exit(&out, 1);
    assert!(stderr(&out).contains("refused"), "{}", stderr(&out));
    assert_nothing_installed(&ctx);
    assert_not_escaped(&ctx, "escaped-by-wheel");
}

// ---------------------------------------------------------------------------------------------
// pin records every channel, and bin/codex must agree with it

/// `pin` from the loopback index and npm registry, which must succeed.
fn pin_from_index_and_npm(ctx: &TestContext, index: &PythonIndex, npm: &NpmRegistry) -> Output {
    let out = run(ctx
        .cmd(["pin", V, "--source", "python-index,npm"])
        .python_index(index)
        .npm_registry(npm));
    assert_exit(&out, 0);
    out
}

#[test]
fn pin_records_the_wheel_the_npm_tarball_and_bin_codex() {
    let ctx = TestContext::new();
    let (index, name) = index_with_wheel();
    let npm = npm_with_tarball();
    pin_from_index_and_npm(&ctx, &index, &npm);
    let text = std::fs::read_to_string(ctx.work_dir().join("codex-runtime.toml")).unwrap();
    let manifest: toml::Value = toml::from_str(&text).unwrap();
    let t = &manifest["targets"][host_target()];
    assert_eq!(t["wheel"]["file"].as_str(), Some(name.as_str()), "{text}");
    assert_eq!(
        t["wheel"]["sha256"].as_str(),
        Some(index.sha256(&name).as_str()),
        "{text}"
    );
    assert_eq!(
        t["npm"]["integrity"].as_str(),
        Some(npm.integrity(V, platform()).as_str()),
        "{text}"
    );
    let codex = t["codex_sha256"]
        .as_str()
        .expect("codex_sha256")
        .to_string();
    // The wheel's bin/codex was hashed too: it is npm's, as its RECORD says.
    assert_eq!(t["wheel"]["codex_checked"].as_bool(), Some(true), "{text}");

    // The pin is then what a later install checks, whichever source serves it.
    let out = run(install_cmd(&ctx, &["--source", "npm"]).npm_registry(&npm));
    let json = installed(&out);
    assert_installed_from(&ctx, &json, V, "npm");
    assert_eq!(json["verified_by"]["kind"], "manifest", "{json}");
    let receipt: serde_json::Value = serde_json::from_slice(
        &std::fs::read(runtime_dir(&ctx, V).join(".codex-bootstrap-receipt.json")).unwrap(),
    )
    .unwrap();
    let entry = receipt["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "bin/codex")
        .expect("bin/codex in the receipt");
    assert_eq!(entry["sha256"].as_str(), Some(codex.as_str()));
}

/// A wheel whose `bin/codex` is not the npm tarball's: `pin` says so and does not mark it
/// `codex_checked`, so an install of it hashes `bin/codex` and is refused.
#[test]
fn pin_does_not_mark_a_wheel_whose_bin_codex_is_not_the_other_channels() {
    let ctx = TestContext::new();
    let name = wheel_name(V, host_wheel_tag());
    let other = Package::codex(V).file("bin/codex", b"#!/bin/sh\necho another codex\n", 0o755);
    let index = PythonIndex::builder()
        .wheel(&name, wheel(V, host_wheel_tag(), &other))
        .start();
    let npm = npm_with_tarball();
    let out = pin_from_index_and_npm(&ctx, &index, &npm);
    let err = stderr(&out);
    assert!(
        err.contains(&format!("`{name}` holds a bin/codex with sha256"))
            && err.contains("as the other channels' do: an install of it will be refused"),
        "{}",
        describe(&out)
    );
    let text = std::fs::read_to_string(ctx.work_dir().join("codex-runtime.toml")).unwrap();
    assert!(!text.contains("codex_checked"), "{text}");
    let out = run(install_cmd(&ctx, &["--source", "python-index"]).python_index(&index));
    assert_exit(&out, 1);
    assert!(stderr(&out).contains("bin/codex"), "{}", describe(&out));
}

#[test]
fn a_bin_codex_that_differs_from_the_pin_is_refused_whichever_source_serves_it() {
    let ctx = TestContext::new();
    let (index, name) = index_with_wheel();
    std::fs::write(
        ctx.work_dir().join("codex-runtime.toml"),
        format!(
            "[runtime]\nversion = \"{V}\"\n\n[targets.{}]\ncodex_sha256 = \"{}\"\n",
            host_target(),
            "ab".repeat(32)
        ),
    )
    .unwrap();
    let out = run(install_cmd(&ctx, &["--source", "python-index"]).python_index(&index));
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("bin/codex") && err.contains(&"ab".repeat(32)),
        "{err}"
    );
    assert!(err.contains("codex-runtime.toml"), "{err}");
    assert!(index.downloads(&name) >= 1);
    assert_nothing_installed(&ctx);
}

#[test]
fn doctor_reports_each_registry_source() {
    let ctx = TestContext::new();
    let (index, _) = index_with_wheel();
    let mut cmd = ctx.cmd(["doctor", "--json"]);
    cmd.python_index(&index);
    let out = run(&mut cmd);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("--json");
    let network = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "network")
        .expect("a network check")
        .clone();
    let detail = network["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains(&format!("python-index: {}", index.url())) && detail.contains("reachable"),
        "{network}"
    );
    assert!(
        detail.contains("npm:") && detail.contains("UNREACHABLE"),
        "{network}"
    );
    assert_eq!(
        network["status"], "ok",
        "the index can serve installs: {network}"
    );
}
