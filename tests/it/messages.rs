//! What users read when something fails, exactly: the product's error output is its selling
//! point, so the main failures are snapshots, not substring checks (temp paths, ports, times,
//! digests and the host's target redacted). Plus `--dry-run` and `doctor` for a healthy install.

use std::process::Output;

use crate::common::{assert_exit, host_target, stderr, stdout, TestContext, V};
use crate::fixture::{codex_release, fake_app_server, publish_and_install, Package};
use crate::json::redacted_host;
use crate::support::github::DigestMode;

/// stderr of a failed command, with run-specific text redacted.
fn failure(ctx: &TestContext, name: &str, out: &Output) {
    assert_exit(out, 1);
    let mut settings = redacted_host(ctx);
    settings.add_filter(r"resets at [^)]*\(in \d+ min\)", "resets at [TIME]");
    settings.add_filter(r"\(os error \d+\)", "(os error [N])");
    settings.bind(|| insta::assert_snapshot!(name, stderr(out)));
}

#[test]
fn checksum_mismatch() {
    let ctx = TestContext::new();
    let server = codex_release(DigestMode::Wrong);
    let out = ctx.install(&server, &["--source", "github"]);
    failure(&ctx, "checksum_mismatch", &out);
}

#[test]
fn rate_limit() {
    let ctx = TestContext::new();
    let server = codex_release(DigestMode::Api);
    server.rate_limited(4_000_000_000);
    let out = ctx.install(&server, &["--source", "github"]);
    failure(&ctx, "rate_limit", &out);
}

#[test]
fn offline_every_source_unreachable() {
    let ctx = TestContext::new();
    let out = ctx.run(["install"]);
    failure(&ctx, "offline", &out);
}

#[test]
fn unwritable_cache() {
    let ctx = TestContext::new();
    let server = codex_release(DigestMode::Api);
    let out = ctx.install(
        &server,
        &["--cache-dir", "/sys/kernel/codex-bootstrap-cache"],
    );
    failure(&ctx, "unwritable_cache", &out);
}

#[test]
fn lock_timeout() {
    let ctx = TestContext::new();
    publish_and_install(&ctx, V, &Package::codex(V));
    let lock = ctx
        .cache_dir()
        .join("locks")
        .join(format!("{V}-{}.lock", host_target()));
    let _held = codex_bootstrap::store::ArtifactLock::acquire(&lock, || {}).unwrap();
    let out = ctx
        .cmd(["uninstall", V])
        .env("CODEX_BOOTSTRAP_LOCK_TIMEOUT", "1")
        .output()
        .unwrap();
    failure(&ctx, "lock_timeout", &out);
}

#[test]
fn bad_manifest_line() {
    let ctx = TestContext::new();
    std::fs::write(
        ctx.work_dir().join("codex-runtime.toml"),
        "[runtime]\nversion = \"0.163.0\"\n\n[targets.x86_64-unknown-linux-musl]\nsha256 = \"not hex\"\n",
    )
    .unwrap();
    let out = ctx.run(["install", "--dry-run"]);
    failure(&ctx, "bad_manifest_line", &out);
}

#[test]
fn auth_missing() {
    let ctx = TestContext::new();
    let out = ctx
        .cmd(["quickstart", "--codex"])
        .arg(fake_app_server())
        .env("FAKE_APP_SERVER_MODE", "auth-required")
        .output()
        .unwrap();
    let mut settings = redacted_host(&ctx);
    settings.add_filter(
        &crate::json::literal(&fake_app_server().display().to_string()),
        "[FAKE]",
    );
    assert_exit(&out, 1);
    settings.bind(|| insta::assert_snapshot!("auth_missing", stderr(&out)));
}

#[test]
fn dry_run_of_the_bundled_pin() {
    let ctx = TestContext::new();
    let out = ctx.run(["install", "--dry-run"]);
    assert_exit(&out, 0);
    redacted_host(&ctx).bind(|| insta::assert_snapshot!("dry_run", stdout(&out)));
}

#[test]
fn doctor_offline_on_a_healthy_install() {
    let ctx = TestContext::new();
    publish_and_install(&ctx, V, &Package::fake_app_server(V));
    let out = ctx
        .cmd(["doctor", "--offline"])
        .env("PATH", "")
        .output()
        .unwrap();
    let mut settings = redacted_host(&ctx);
    settings.add_filter(r"\d+(\.\d+)? [KMGT]?i?B", "[SIZE]");
    settings.bind(|| insta::assert_snapshot!("doctor_offline", stdout(&out)));
}
