//! `-v`, `-vv` and `CODEX_BOOTSTRAP_LOG`: each request, retry, source decision and child
//! process is logged on stderr, and no credential ever is.

use std::process::Output;

use crate::common::{assert_exit, host_target, stderr, stdout, PointAt, TestContext, TAG, V};
use crate::fixture::{
    codex_release, host_wheel_tag, npm_tarball, package_gz, wheel, wheel_name, Package,
};
use crate::support::github::DigestMode;
use crate::support::http::Fault;
use crate::support::npm::{npm_platform, NpmRegistry};
use crate::support::pyindex::PythonIndex;

const GH_SENTINEL: &str = "ghp_SENTINEL_log_token";
const INDEX_SENTINEL: &str = "pw_SENTINEL_log_index";
const NPM_SENTINEL: &str = "npm_SENTINEL_log_token";
const PROXY_SENTINEL: &str = "pw_SENTINEL_log_proxy";

#[track_caller]
fn assert_no_secret(out: &Output) {
    for text in [stdout(out), stderr(out)] {
        for secret in [GH_SENTINEL, INDEX_SENTINEL, NPM_SENTINEL, PROXY_SENTINEL] {
            assert!(!text.contains(secret), "`{secret}` was printed:\n{text}");
        }
    }
}

#[track_caller]
fn assert_logged(out: &Output, lines: &[&str]) {
    let err = stderr(out);
    for l in lines {
        assert!(err.contains(l), "`{l}` is not in the log:\n{err}");
    }
}

#[test]
fn vv_logs_every_request_and_decision_and_never_a_credential() {
    let ctx = TestContext::new();
    // Every place a secret can be configured holds a sentinel: a GitHub token, a password in
    // the index URL, an npm token in .npmrc, a proxy password (bypassed for loopback).
    let (older, bytes) = (
        wheel_name("0.162.0", host_wheel_tag()),
        wheel("0.162.0", host_wheel_tag(), &Package::codex("0.162.0")),
    );
    let index = PythonIndex::builder()
        .wheel(&older, bytes)
        .basic_auth("alice", INDEX_SENTINEL)
        .start();
    let npm = NpmRegistry::builder()
        .tarball(
            V,
            npm_platform(host_target()),
            npm_tarball(V, host_target(), &Package::codex(V)),
        )
        .bearer_token(NPM_SENTINEL)
        .start();
    std::fs::write(
        ctx.work_dir().join(".npmrc"),
        format!(
            "registry={}\n{}:_authToken={NPM_SENTINEL}\n",
            npm.url(),
            npm.nerf_dart()
        ),
    )
    .unwrap();
    let github = codex_release(DigestMode::Api);
    let with_secrets = |args: &[&str]| {
        let mut cmd = ctx.cmd(args);
        cmd.github(&github)
            .env_remove("CODEX_BOOTSTRAP_NPM_REGISTRY")
            .env("GH_TOKEN", GH_SENTINEL)
            .env(
                "HTTPS_PROXY",
                format!("http://user:{PROXY_SENTINEL}@127.0.0.1:9"),
            )
            .env("NO_PROXY", "127.0.0.1,localhost")
            .args([
                "--index-url",
                &index.url_with_credentials("alice", INDEX_SENTINEL),
            ]);
        cmd.output().expect("run install")
    };

    // The index lacks the version (asked with its password), npm serves it (with its token).
    let out = with_secrets(&["-vv", "install", "--source", "python-index,npm"]);
    assert_exit(&out, 0);
    index.assert_credentials_stayed_on_the_index();
    npm.assert_token_arrived();
    assert_no_secret(&out);
    assert_logged(
        &out,
        &[
            "DEBUG codex_bootstrap::provision: pin version=0.163.0",
            "order=python-index, npm",
            "python index located url=http://127.0.0.1:",
            "from=--index-url credentials=1",
            "npm registry located",
            "credentials=1",
            &format!("GET {}/openai-codex-cli-bin/ -> ", index.url()),
            "source skipped source=python-index",
            "source chosen source=npm",
            &format!("GET {}@openai/codex/-/", npm.url()),
            &format!("-{}.tgz -> 200 in ", npm_platform(host_target())),
            " bytes in ",
            "starting `codex --version`",
            "published",
        ],
    );

    // GitHub, with the token on the API request.
    let out = with_secrets(&["install", "-vv", "--force", "--source", "github"]);
    assert_exit(&out, 0);
    github.assert_token_went_to_the_api_only(GH_SENTINEL);
    assert_no_secret(&out);
    assert_logged(
        &out,
        &[
            &format!(
                "GET {}/repos/openai/codex/releases/tags/{TAG} -> 200",
                github.api_url()
            ),
            &format!(
                "GET {}/{TAG}/{} -> 200",
                github.download_url(),
                package_gz()
            ),
            "source chosen source=github",
        ],
    );
}

#[test]
fn v_logs_the_reason_for_each_retry() {
    let ctx = TestContext::new();
    let github = codex_release(DigestMode::Api);
    let download = format!("/download/{TAG}/{}", package_gz());
    github.http().fault(&download, Fault::status(503));
    github.http().fault(&download, Fault::CutAfter(100));
    let out = ctx.cmd(["install", "-v"]).github(&github).output().unwrap();
    assert_exit(&out, 0);
    let url = format!("{}/{TAG}/{}", github.download_url(), package_gz());
    assert_logged(
        &out,
        &[
            &format!("GET {url} -> 503"),
            "(attempt 2 of 5): HTTP 503",
            "(attempt 3 of 5): the body ",
        ],
    );
}

#[test]
fn without_v_nothing_is_logged_and_the_variable_takes_a_filter() {
    let ctx = TestContext::new();
    let github = codex_release(DigestMode::Api);
    let out = ctx.cmd(["install"]).github(&github).output().unwrap();
    assert_exit(&out, 0);
    assert!(!stderr(&out).contains("DEBUG"), "{}", stderr(&out));

    // Only the store's events: the lock, not the requests.
    let out = ctx
        .cmd(["install", "--force"])
        .github(&github)
        .env("CODEX_BOOTSTRAP_LOG", "codex_bootstrap::store=trace")
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_logged(&out, &["TRACE codex_bootstrap::store::lock: lock taken"]);
    assert!(!stderr(&out).contains("GET "), "{}", stderr(&out));

    let out = ctx
        .cmd(["which"])
        .env("CODEX_BOOTSTRAP_LOG", "codex_bootstrap=loud")
        .output()
        .unwrap();
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("CODEX_BOOTSTRAP_LOG") && stderr(&out).contains("hint:"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn logs_name_child_processes() {
    let ctx = TestContext::new();
    let out = ctx
        .cmd(["-v", "quickstart", "--timeout", "60", "--codex"])
        .arg(crate::fixture::fake_app_server())
        .args(["-c", "model_providers.x.api_key=\"sk-SENTINEL-override\""])
        .env("FAKE_APP_SERVER_MODE", "normal")
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_logged(
        &out,
        &[
            "starting `codex app-server`",
            "overrides=[\"model_providers.x.api_key\"]",
            "app-server started pid=",
        ],
    );
    assert!(!stderr(&out).contains("sk-SENTINEL-override"));
}
