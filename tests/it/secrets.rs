//! Secrets in configured URLs are split off into scoped credentials and never shown: a
//! `--mirror` with a password and a query token authenticates, and no output, log, JSON,
//! error or receipt carries either.

use std::process::Output;

use base64::Engine as _;

use crate::common::{
    assert_exit, host_target, runtime_dir, stderr, stdout, PointAt, TestContext, TAG, V,
};
use crate::fixture::{package_gz, release_gz, sha256_hex, Package};
use crate::support::github::{DigestMode, ReleaseServer};
use crate::support::http::Response;

const PASSWORD: &str = "pw_SENTINEL_mirror";
const QUERY_TOKEN: &str = "qs_SENTINEL_mirror";

#[track_caller]
fn assert_no_secret(what: &str, text: &str) {
    for secret in [PASSWORD, QUERY_TOKEN] {
        assert!(!text.contains(secret), "{what} shows `{secret}`:\n{text}");
    }
}

#[track_caller]
fn assert_output_clean(out: &Output) {
    assert_no_secret("stdout", &stdout(out));
    assert_no_secret("stderr", &stderr(out));
}

/// A release server whose downloads answer only with the mirror's Basic credentials and its
/// query token; the manifest pins the archive, so no API request is needed.
fn guarded_mirror(ctx: &TestContext) -> ReleaseServer {
    let gz = Package::codex(V).tar_gz();
    std::fs::write(
        ctx.work_dir().join("codex-runtime.toml"),
        format!(
            "[runtime]\nversion = \"{V}\"\n\n[targets.{}]\nasset = \"{}\"\nsize = {}\nsha256 = \"{}\"\n",
            host_target(),
            package_gz(),
            gz.len(),
            sha256_hex(&gz)
        ),
    )
    .unwrap();
    let server = release_gz(V, gz, DigestMode::Api);
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("alice:{PASSWORD}"))
    );
    server.http().gate(move |r| {
        let authorized = r.headers.get("authorization") == Some(&basic)
            && r.path.ends_with(&format!("?token={QUERY_TOKEN}"));
        (r.path.starts_with("/download/") && !authorized).then(|| Response::new(401, "no"))
    });
    server
}

fn mirror_url(server: &ReleaseServer, path: &str) -> String {
    let base = server.http().url();
    let hostport = base.trim_start_matches("http://");
    format!("http://alice:{PASSWORD}@{hostport}{path}?token={QUERY_TOKEN}")
}

#[test]
fn a_mirror_url_with_a_password_and_a_token_authenticates_and_is_never_shown() {
    let ctx = TestContext::new();
    let server = guarded_mirror(&ctx);
    let mirror = mirror_url(&server, "/download");

    // The plan, as text and as JSON: the bare URL.
    let out = ctx.run(["install", "--dry-run", "--mirror", &mirror]);
    assert_exit(&out, 0);
    assert_output_clean(&out);
    assert!(
        stdout(&out).contains(&format!(
            "{}/download/{TAG}/{}",
            server.http().url(),
            package_gz()
        )),
        "{}",
        stdout(&out)
    );
    let out = ctx.run(["install", "--dry-run", "--json", "--mirror", &mirror]);
    assert_exit(&out, 0);
    assert_output_clean(&out);
    assert!(server.requests().is_empty(), "a dry run downloads nothing");

    // The install, logged: the mirror was asked with both credentials and answered.
    let out = ctx.run(["-vv", "install", "--json", "--mirror", &mirror]);
    assert_exit(&out, 0);
    assert_output_clean(&out);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json["source_url"],
        format!("{}/download/{TAG}/{}", server.http().url(), package_gz())
    );
    let downloads = server
        .http()
        .requests_to(&format!("/download/{TAG}/{}", package_gz()));
    assert!(!downloads.is_empty());
    assert!(
        downloads
            .iter()
            .all(|r| r.headers.contains_key("authorization")),
        "every download carried the mirror's credentials"
    );
    let receipt =
        std::fs::read_to_string(runtime_dir(&ctx, V).join(".codex-bootstrap-receipt.json"))
            .unwrap();
    assert_no_secret("the receipt", &receipt);

    // The warm path and doctor read the receipt back.
    let out = ctx.run(["install", "--json", "--mirror", &mirror]);
    assert_exit(&out, 0);
    assert_output_clean(&out);
    let out = ctx.run(["doctor", "--json", "--offline", "--mirror", &mirror]);
    assert_output_clean(&out);
}

#[test]
fn a_failing_mirror_is_named_without_its_secrets() {
    let ctx = TestContext::new();
    let server = guarded_mirror(&ctx);
    // Not there (404), then refused (wrong password): each error names the mirror's bare URL.
    let missing = mirror_url(&server, "/nowhere");
    let out = ctx.run(["-vv", "install", "--source", "github", "--mirror", &missing]);
    assert_exit(&out, 1);
    assert_output_clean(&out);
    assert!(
        stderr(&out).contains(&format!("{}/nowhere/{TAG}/", server.http().url())),
        "{}",
        stderr(&out)
    );
    let wrong = mirror_url(&server, "/download").replace(PASSWORD, "wrong");
    let out = ctx.run(["install", "--source", "github", "--mirror", &wrong]);
    assert_exit(&out, 1);
    assert_output_clean(&out);
    // Not a URL at all: still shown without its password or token.
    let broken = format!("http://alice:{PASSWORD}@[::1/x?token={QUERY_TOKEN}");
    let out = ctx.run(["install", "--source", "github", "--mirror", &broken]);
    assert_ne!(out.status.code(), Some(0));
    assert_output_clean(&out);
}

#[test]
fn an_old_receipt_that_kept_a_secret_is_shown_redacted() {
    let ctx = TestContext::new();
    let server = release_gz(V, Package::codex(V).tar_gz(), DigestMode::Api);
    assert_exit(&ctx.install(&server, &[]), 0);
    // A receipt written before URLs were redacted.
    let path = runtime_dir(&ctx, V).join(".codex-bootstrap-receipt.json");
    let mut receipt: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    receipt["source_url"] = mirror_url(&server, "/download").into();
    std::fs::write(&path, serde_json::to_vec_pretty(&receipt).unwrap()).unwrap();

    let out = ctx
        .cmd(["install", "--json"])
        .github(&server)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_output_clean(&out);
    let out = ctx.run(["doctor", "--json", "--offline"]);
    assert_output_clean(&out);
    let out = ctx.run(["list", "--json"]);
    assert_output_clean(&out);
}

/// Secrets a codex child must never see, set in the environment of the command.
const CHILD_SECRETS: &[(&str, &str)] = &[
    ("GH_TOKEN", "ghp_SENTINEL_child"),
    ("GITHUB_TOKEN", "ghp_SENTINEL_child2"),
    ("NPM_TOKEN", "npm_SENTINEL_child"),
    ("CODEX_BOOTSTRAP_SENTINEL", "cb_SENTINEL_child"),
];

/// A `codex` that writes its environment to `dump`, then answers as `then` would.
#[cfg(unix)]
fn env_dumping_codex(dump: &std::path::Path, then: &str) -> Vec<u8> {
    format!("#!/bin/sh\nenv > '{}'\n{then}\n", dump.display()).into_bytes()
}

#[track_caller]
fn env_names(dump: &std::path::Path) -> Vec<String> {
    let text = std::fs::read_to_string(dump).expect("the child wrote its environment");
    text.lines()
        .filter_map(|l| l.split_once('=').map(|(k, _)| k.to_string()))
        .collect()
}

#[cfg(unix)]
#[test]
fn codex_version_runs_with_the_basics_and_no_secret() {
    let ctx = TestContext::new();
    let dump = ctx.root().join("version-env");
    let script = env_dumping_codex(&dump, &format!("echo 'codex-cli {V}'"));
    let pkg = Package::codex(V).file("bin/codex", &script, 0o755);
    let server = release_gz(V, pkg.tar_gz(), DigestMode::Api);
    let mut cmd = ctx.cmd(["install"]);
    cmd.github(&server)
        .envs(CHILD_SECRETS.iter().copied())
        .env("HTTPS_PROXY", "http://u:pw_SENTINEL_proxy@127.0.0.1:9")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("OPENAI_API_KEY", "sk-SENTINEL-model");
    let out = cmd.output().unwrap();
    assert_exit(&out, 0);
    let names = env_names(&dump);
    for present in ["PATH", "HOME", "CODEX_HOME"] {
        assert!(
            names.iter().any(|n| n == present),
            "{present} missing: {names:?}"
        );
    }
    let text = std::fs::read_to_string(&dump).unwrap();
    assert!(
        !text.contains("SENTINEL"),
        "a secret reached `codex --version`:\n{text}"
    );
}

#[cfg(unix)]
#[test]
fn the_app_server_gets_the_model_credentials_and_the_proxy_but_not_our_tokens() {
    let ctx = TestContext::new();
    let dump = ctx.root().join("app-server-env");
    let codex = ctx.root().join("codex");
    let fake = crate::fixture::fake_app_server();
    std::fs::write(
        &codex,
        env_dumping_codex(&dump, &format!("exec '{}' \"$@\"", fake.display())),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&codex, std::fs::Permissions::from_mode(0o755)).unwrap();

    let out = ctx
        .cmd(["quickstart", "--timeout", "60", "--codex"])
        .arg(&codex)
        .args([
            "-c",
            "model_providers.x={name=\"x\",env_key=\"MY_PROVIDER_KEY\"}",
        ])
        .envs(CHILD_SECRETS.iter().copied())
        .env("HTTPS_PROXY", "http://u:pw@127.0.0.1:9")
        .env("OPENAI_API_KEY", "sk-model")
        .env("MY_PROVIDER_KEY", "provider-key")
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let names = env_names(&dump);
    for present in [
        "PATH",
        "HOME",
        "CODEX_HOME",
        "HTTPS_PROXY",
        "OPENAI_API_KEY",
        "MY_PROVIDER_KEY",
    ] {
        assert!(
            names.iter().any(|n| n == present),
            "{present} missing: {names:?}"
        );
    }
    let text = std::fs::read_to_string(&dump).unwrap();
    assert!(
        !text.contains("SENTINEL"),
        "a secret reached the app-server:\n{text}"
    );
}
