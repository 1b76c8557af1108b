//! `--json` on every command that prints a result: each shape is a snapshot (the guide's "JSON
//! output" table, docs/src/json.md, documents the same keys), and a failure under `--json` is one `error` object
//! on stdout besides the human text on stderr. What differs between runs (the temp root,
//! loopback ports, times, digests, the host's target) is redacted by insta filters.

use std::process::Output;

use crate::common::{assert_exit, describe, host_target, stderr, PointAt, TestContext, TAG, V};
use crate::fixture::{codex_release, fake_app_server, package_gz, publish_and_install, Package};
use crate::support::github::{Asset, DigestMode, ReleaseServer};

/// stdout as the one JSON document it must be, after requiring exit `code`.
#[track_caller]
fn json_of(out: &Output, code: i32) -> serde_json::Value {
    assert_exit(out, code);
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {}", describe(out)))
}

/// Regex metacharacters in a literal (a temp path has dots).
pub fn literal(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Snapshot settings for output that names no host-specific target: the context's temp root,
/// loopback ports, durations and timestamps, and digests (they follow the compressor's version)
/// are redacted.
pub fn redacted(ctx: &TestContext) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.add_filter(&literal(&ctx.root().display().to_string()), "[ROOT]");
    s.add_filter(r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]");
    s.add_filter(
        r#""(elapsed_ms|duration_ms|installed_at|last_used)": \d+"#,
        r#""$1": "[TIME]""#,
    );
    s.add_filter(r"\b[0-9a-f]{64}\b", "[SHA256]");
    // doctor's free space and hashing time.
    s.add_filter(r"\d+(\.\d+)? [KMGT]?i?B free", "[SPACE] free");
    s.add_filter(r"\b\d+\.\d+s\b", "[SECS]");
    // The bundled manifest is named with this tool's version.
    s.add_filter(
        &literal(concat!("codex-bootstrap ", env!("CARGO_PKG_VERSION"))),
        "codex-bootstrap [VERSION]",
    );
    s.add_filter(r"sha512-[A-Za-z0-9+/]+=*", "[SHA512]");
    s
}

/// [`redacted`], and this host's target triple and architecture: output about the host's
/// runtime reads the same on x86_64 and aarch64.
pub fn redacted_host(ctx: &TestContext) -> insta::Settings {
    let mut s = redacted(ctx);
    s.add_filter(&literal(host_target()), "[TARGET]");
    s.add_filter(std::env::consts::ARCH, "[ARCH]");
    s
}

/// The sizes of compressed archives follow the compressor's version, like their digests.
fn redact_sizes(s: &mut insta::Settings) {
    s.add_filter(r#""size": \d+"#, r#""size": "[SIZE]""#);
}

/// A context with `V` installed (its `bin/codex` the fake app-server, so doctor can drive it).
fn installed() -> TestContext {
    let ctx = TestContext::new();
    publish_and_install(&ctx, V, &Package::fake_app_server(V));
    ctx
}

#[test]
fn install_json() {
    let ctx = TestContext::new();
    let server = codex_release(DigestMode::Api);
    let json = json_of(
        &ctx.cmd(["install", "--json"])
            .github(&server)
            .output()
            .unwrap(),
        0,
    );
    assert_eq!(json["cached"], false);
    redacted_host(&ctx).bind(|| insta::assert_json_snapshot!("install", json));
}

#[test]
fn install_dry_run_json() {
    let ctx = TestContext::new();
    let server = codex_release(DigestMode::Api);
    let out = ctx
        .cmd(["install", "--dry-run", "--json", "--source", "github"])
        .github(&server)
        .output()
        .unwrap();
    let json = json_of(&out, 0);
    assert!(server.requests().is_empty(), "a dry run touches nothing");
    redacted_host(&ctx).bind(|| insta::assert_json_snapshot!("install_dry_run", json));
}

#[test]
fn list_json() {
    let ctx = TestContext::new();
    for v in ["0.162.0", V] {
        publish_and_install(&ctx, v, &Package::codex(v));
    }
    let json = json_of(&ctx.run(["list", "--json"]), 0);
    redacted_host(&ctx).bind(|| insta::assert_json_snapshot!("list", json));
}

#[test]
fn which_json() {
    let ctx = TestContext::new();
    publish_and_install(&ctx, V, &Package::codex(V));
    let json = json_of(&ctx.run(["which", "--json"]), 0);
    let codex = json["path"].as_str().expect("path");
    assert!(std::path::Path::new(codex).is_file(), "{json}");
    redacted_host(&ctx).bind(|| insta::assert_json_snapshot!("which", json));
}

#[test]
fn cache_key_json() {
    let ctx = TestContext::new();
    // A pinned digest is part of the key: a fixed one keeps the key readable in the snapshot.
    std::fs::write(
        ctx.work_dir().join("codex-runtime.toml"),
        format!(
            "[runtime]\nversion = \"{V}\"\n[targets.{}]\nasset = \"{}\"\nsha256 = \"{}\"\n",
            host_target(),
            package_gz(),
            "ab".repeat(32)
        ),
    )
    .unwrap();
    let json = json_of(&ctx.run(["cache-key", "--json"]), 0);
    let plain = crate::common::stdout(&ctx.run(["cache-key"]));
    assert_eq!(json["key"], plain.trim(), "the same key either way");
    redacted_host(&ctx).bind(|| insta::assert_json_snapshot!("cache_key", json));
}

#[test]
fn pin_json() {
    let ctx = TestContext::new();
    // Two targets, neither of them this host's: the snapshot is the same on every host, and
    // the other four are reported missing.
    let server = ReleaseServer::start();
    let assets: Vec<_> = ["x86_64-apple-darwin", "aarch64-apple-darwin"]
        .iter()
        .map(|t| {
            Asset::new(
                &format!("codex-package-{t}.tar.gz"),
                Package::for_target(V, t).tar_gz(),
                DigestMode::Api,
            )
        })
        .collect();
    server.add_release(TAG, &assets);
    let manifest = ctx.work_dir().join("codex-runtime.toml");
    let pin = || {
        ctx.cmd(["pin", V, "--json", "--source", "github", "--manifest"])
            .arg(&manifest)
            .github(&server)
            .output()
            .unwrap()
    };
    let first = json_of(&pin(), 0);
    let again = json_of(&pin(), 0);
    assert!(
        again["targets"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["change"] == "unchanged"),
        "{again}"
    );
    let mut s = redacted(&ctx);
    redact_sizes(&mut s);
    s.bind(|| insta::assert_json_snapshot!("pin", first));
}

#[test]
fn mirror_json() {
    let ctx = TestContext::new();
    publish_and_install(&ctx, V, &Package::codex(V));
    let mut cmd = ctx.cmd(["mirror", "--from-cache", "--json", "--version", V, "--out"]);
    cmd.arg(ctx.root().join("mirror"));
    let json = json_of(&cmd.output().unwrap(), 0);
    for f in json["files"].as_array().unwrap() {
        let path = ctx
            .root()
            .join("mirror")
            .join(TAG)
            .join(f["name"].as_str().unwrap());
        assert_eq!(
            f["size"].as_u64(),
            std::fs::metadata(&path).ok().map(|m| m.len()),
            "{f}"
        );
    }
    let mut s = redacted_host(&ctx);
    redact_sizes(&mut s);
    s.bind(|| insta::assert_json_snapshot!("mirror", json));
}

#[test]
fn prune_json() {
    let ctx = TestContext::new();
    for v in ["0.161.0", "0.162.0", V] {
        publish_and_install(&ctx, v, &Package::codex(v));
    }
    // A crashed install's staging directory: a leftover.
    let staging = ctx
        .cache_dir()
        .join("runtimes")
        .join(V)
        .join(format!(".staging-{}-crashed", host_target()));
    std::fs::create_dir_all(&staging).unwrap();
    let dry = json_of(&ctx.run(["prune", "--keep", "1", "--dry-run", "--json"]), 0);
    assert!(staging.exists(), "a dry run removes nothing");
    let json = json_of(&ctx.run(["prune", "--keep", "1", "--json"]), 0);
    assert!(!staging.exists());
    assert_eq!(
        dry["runtimes"], json["runtimes"],
        "the dry run said what would go"
    );
    redacted_host(&ctx).bind(|| insta::assert_json_snapshot!("prune", json));
}

#[test]
fn uninstall_json() {
    let ctx = TestContext::new();
    publish_and_install(&ctx, "0.162.0", &Package::codex("0.162.0"));
    let json = json_of(&ctx.run(["uninstall", "0.162.0", "--json"]), 0);
    assert!(!ctx
        .cache_dir()
        .join("runtimes/0.162.0")
        .join(host_target())
        .exists());
    redacted_host(&ctx).bind(|| insta::assert_json_snapshot!("uninstall", json));
}

#[test]
fn wheel_json() {
    let ctx = TestContext::new();
    publish_and_install(&ctx, V, &Package::codex(V));
    let mut cmd = ctx.cmd(["wheel", "--json", "--out"]);
    cmd.arg(ctx.root().join("dist"));
    let json = json_of(&cmd.output().unwrap(), 0);
    let wheel = std::fs::read(json["path"].as_str().unwrap()).unwrap();
    assert_eq!(json["sha256"], crate::fixture::sha256_hex(&wheel));
    assert_eq!(json["size"], wheel.len());
    let mut s = redacted_host(&ctx);
    redact_sizes(&mut s);
    s.bind(|| insta::assert_json_snapshot!("wheel", json));
}

#[test]
fn quickstart_json() {
    let ctx = TestContext::new();
    let mut cmd = ctx.cmd(["quickstart", "--json", "--codex"]);
    cmd.arg(fake_app_server())
        .env("FAKE_APP_SERVER_MODE", "normal")
        .env("FAKE_APP_SERVER_TAG", ctx.root());
    let json = json_of(&cmd.output().unwrap(), 0);
    redacted_host(&ctx).bind(|| insta::assert_json_snapshot!("quickstart", json));
}

#[test]
fn doctor_json() {
    let ctx = installed();
    // PATH holds no `codex`, whatever the machine has: the `path` check reads the same.
    let empty = ctx.root().join("empty-path");
    std::fs::create_dir_all(&empty).unwrap();
    let out = ctx
        .cmd(["doctor", "--offline", "--json"])
        .env("PATH", &empty)
        .output()
        .unwrap();
    let json = json_of(&out, 0);
    let mut s = redacted_host(&ctx);
    // The installed size: `bin/codex` is the fake app-server, built by this toolchain.
    s.add_filter(r"\d+(\.\d+)? [KMG]iB", "[SIZE]");
    s.bind(|| insta::assert_json_snapshot!("doctor", json));
}

/// A failure under `--json`: one object with exactly `error`, `causes` and `hint` on stdout,
/// and the same failure for people on stderr.
#[track_caller]
fn error_of(out: &Output, code: i32) -> serde_json::Value {
    let json = json_of(out, code);
    let keys: Vec<_> = json
        .as_object()
        .expect("an object")
        .keys()
        .cloned()
        .collect();
    assert_eq!(keys, ["causes", "error", "hint"], "{json}");
    // The same error as stderr's, on one line: no terminal line breaks or padding.
    let err = stderr(out);
    let error = json["error"].as_str().unwrap();
    assert!(!error.contains('\n'), "{json}");
    let first = err
        .lines()
        .find_map(|l| l.strip_prefix("error: "))
        .unwrap_or_else(|| panic!("no error line:\n{err}"));
    assert!(error.starts_with(first.trim_end()), "{json}\n{err}");
    json
}

#[test]
fn error_json_for_a_checksum_mismatch() {
    let ctx = TestContext::new();
    let server = codex_release(DigestMode::Wrong);
    let out = ctx
        .cmd(["install", "--json", "--source", "github"])
        .github(&server)
        .output()
        .unwrap();
    let json = error_of(&out, 1);
    assert!(json.to_string().contains("checksum mismatch"), "{json}");
    redacted_host(&ctx).bind(|| insta::assert_json_snapshot!("error_checksum_mismatch", json));
}

#[test]
fn error_json_for_an_unknown_version() {
    let ctx = TestContext::new();
    let server = codex_release(DigestMode::Api);
    let out = ctx
        .cmd([
            "install",
            "--json",
            "--source",
            "github",
            "--version",
            "9.9.9",
        ])
        .github(&server)
        .output()
        .unwrap();
    let json = error_of(&out, 1);
    redacted_host(&ctx).bind(|| insta::assert_json_snapshot!("error_unknown_version", json));
}

#[test]
fn error_json_for_a_usage_error_keeps_exit_2() {
    let ctx = TestContext::new();
    let json = error_of(&ctx.run(["cache-key", "--json", "--version", "latest"]), 2);
    redacted_host(&ctx).bind(|| insta::assert_json_snapshot!("error_usage", json));
}

#[test]
fn error_json_lists_the_causes() {
    let ctx = TestContext::new();
    publish_and_install(&ctx, V, &Package::codex(V));
    // A mirror directory under a regular file cannot be created: the io error is the cause.
    let file = ctx.root().join("a-file");
    std::fs::write(&file, "").unwrap();
    let mut cmd = ctx.cmd(["mirror", "--from-cache", "--json", "--version", V, "--out"]);
    cmd.arg(file.join("mirror"));
    let json = error_of(&cmd.output().unwrap(), 1);
    assert!(!json["causes"].as_array().unwrap().is_empty(), "{json}");
    redacted_host(&ctx).bind(|| insta::assert_json_snapshot!("error_with_causes", json));
}

#[test]
fn clap_usage_errors_stay_plain_text() {
    let ctx = TestContext::new();
    let out = ctx.run(["which", "--json", "--no-such-flag"]);
    assert_exit(&out, 2);
    assert!(out.stdout.is_empty(), "{}", describe(&out));
    assert!(
        stderr(&out).contains("--no-such-flag"),
        "{}",
        describe(&out)
    );
}
