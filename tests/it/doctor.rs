//! `doctor` against broken states built on purpose: each check's status and hint.

use crate::common::{assert_exit, host_target, runtime_dir, stdout, PointAt, TestContext, V};
use crate::fixture::{publish_and_install, Package};
use crate::support::github::ReleaseServer;

/// A context with the pin installed from a loopback release; `bin/codex` is the fake server.
fn installed() -> (TestContext, ReleaseServer) {
    let ctx = TestContext::new();
    let server = publish_and_install(&ctx, V, &Package::fake_app_server(V));
    (ctx, server)
}

/// Run `doctor --json ARGS`, pointed at `server` if given, and return (exit code, checks by id).
fn doctor(
    ctx: &TestContext,
    server: Option<&ReleaseServer>,
    args: &[&str],
    env: &[(&str, &str)],
) -> (i32, serde_json::Value) {
    let mut cmd = ctx.cmd(["doctor", "--json"]);
    cmd.args(args);
    if let Some(server) = server {
        cmd.github(server);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run doctor");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "doctor --json printed no JSON ({e}): {}",
            crate::common::describe(&out)
        )
    });
    (out.status.code().unwrap_or(-1), json)
}

fn check<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["checks"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["id"] == id))
        .unwrap_or_else(|| panic!("no check `{id}` in {report}"))
}

#[track_caller]
fn assert_check(report: &serde_json::Value, id: &str, status: &str, needle: &str) {
    let c = check(report, id);
    assert_eq!(c["status"], status, "{id}: {c}");
    let text = format!("{} {} {}", c["summary"], c["detail"], c["hint"]);
    assert!(text.contains(needle), "{id} should mention `{needle}`: {c}");
    if status != "ok" && status != "skip" {
        assert!(c["hint"].is_string(), "{id} needs a hint: {c}");
    }
}

#[test]
fn a_healthy_install_passes_and_its_json_has_a_stable_shape() {
    let (ctx, server) = installed();
    let (code, report) = doctor(&ctx, Some(&server), &[], &[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["ok"], true);
    // The snapshot: each check's id and status, in order, with paths and timings filtered.
    let shape: Vec<String> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} {}",
                c["id"].as_str().unwrap(),
                c["status"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        shape,
        [
            "platform ok",
            "pin ok",
            "cache ok",
            "runtime ok",
            "integrity ok",
            "signature skip",
            "executes ok",
            "path warn",
            "app-server ok",
            "auth ok",
            "network ok",
        ],
        "{report}"
    );
    for c in report["checks"].as_array().unwrap() {
        for key in ["id", "status", "summary", "detail", "hint"] {
            assert!(c.get(key).is_some(), "{key} missing from {c}");
        }
    }
    assert_check(&report, "network", "ok", "59 requests left (anonymous)");
    assert_check(&report, "app-server", "ok", "codexHome: /fake/home");
    let root = ctx.root().display().to_string();
    let filtered = check(&report, "runtime")["detail"]
        .as_str()
        .unwrap()
        .replace(&root, "[ROOT]");
    assert!(
        filtered.starts_with("[ROOT]/cache/runtimes/0.163.0/"),
        "{filtered}"
    );

    // Human output: one line per check, a verdict, exit 0.
    let out = ctx.run(["doctor", "--offline"]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert!(
        text.contains("✓ integrity") && text.contains("- network") && text.contains("warning"),
        "{text}"
    );
}

#[test]
fn a_missing_runtime_fails_with_the_install_command() {
    let ctx = TestContext::new();
    let (code, report) = doctor(&ctx, None, &["--offline"], &[]);
    assert_eq!(code, 1);
    assert_check(
        &report,
        "runtime",
        "fail",
        "codex-bootstrap install 0.163.0",
    );
    assert_eq!(check(&report, "integrity")["status"], "skip");
}

#[test]
fn a_truncated_file_is_named() {
    let (ctx, _server) = installed();
    let victim = runtime_dir(&ctx, V).join("codex-resources/bwrap");
    let len = std::fs::metadata(&victim).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&victim)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    let (code, report) = doctor(&ctx, None, &["--offline"], &[]);
    assert_eq!(code, 1);
    assert_check(&report, "integrity", "fail", "codex-resources/bwrap");
    assert_check(&report, "integrity", "fail", "install --force");
}

#[test]
fn a_modified_file_is_named() {
    let (ctx, _server) = installed();
    let victim = runtime_dir(&ctx, V).join("codex-path/rg");
    let mut bytes = std::fs::read(&victim).unwrap();
    bytes[0] ^= 0x20;
    std::fs::write(&victim, &bytes).unwrap();
    let (code, report) = doctor(&ctx, None, &["--offline"], &[]);
    assert_eq!(code, 1);
    assert_check(&report, "integrity", "fail", "`codex-path/rg` has sha256");
}

#[test]
fn a_binary_reporting_another_version_fails_executes() {
    let (ctx, _server) = installed();
    let (code, report) = doctor(
        &ctx,
        None,
        &["--offline"],
        &[("FAKE_CODEX_VERSION", "0.150.0")],
    );
    assert_eq!(code, 1);
    assert_check(&report, "executes", "fail", "codex-cli 0.150.0");
    assert_check(&report, "integrity", "ok", "match the receipt");
}

/// A `bin/codex` that is not the one installed is someone else's program: doctor names the
/// integrity failure and runs none of it (it may be running as root).
#[cfg(unix)]
#[test]
fn a_tampered_codex_is_never_run() {
    let (ctx, _server) = installed();
    let marker = ctx.root().join("the-tampered-codex-ran");
    let codex = runtime_dir(&ctx, V).join("bin/codex");
    std::fs::write(
        &codex,
        format!(
            "#!/bin/sh\ntouch '{}'\necho codex-cli {V}\n",
            marker.display()
        ),
    )
    .unwrap();
    let (code, report) = doctor(&ctx, None, &["--offline", "--turn"], &[]);
    assert_eq!(code, 1, "{report}");
    assert_check(&report, "integrity", "fail", "bin/codex");
    for id in ["executes", "app-server", "auth", "turn"] {
        assert_check(&report, id, "skip", "integrity check");
    }
    assert!(!marker.exists(), "doctor ran the tampered `bin/codex`");
}

#[test]
fn another_codex_first_on_path_is_shown_with_its_version() {
    let (ctx, _server) = installed();
    let bin = ctx.root().join("other-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let other = bin.join("codex");
    std::fs::write(&other, "#!/bin/sh\necho codex-cli 0.150.0\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&other, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let (code, report) = doctor(&ctx, None, &["--offline"], &[("PATH", &path)]);
    assert_eq!(code, 0, "a PATH problem is a warning");
    assert_check(&report, "path", "warn", &other.display().to_string());
    assert_check(&report, "path", "warn", "codex-cli 0.150.0");
    assert_check(&report, "path", "warn", "export PATH=");

    // With the runtime first on PATH, the check passes.
    let path = format!("{}:{path}", runtime_dir(&ctx, V).join("bin").display());
    let (_, report) = doctor(&ctx, None, &["--offline"], &[("PATH", &path)]);
    assert_check(&report, "path", "ok", "is this runtime");
}

#[test]
fn no_auth_is_a_warning_with_the_fix_and_keys_are_never_printed() {
    let (ctx, _server) = installed();
    let (code, report) = doctor(
        &ctx,
        None,
        &["--offline"],
        &[("FAKE_APP_SERVER_MODE", "auth-required")],
    );
    assert_eq!(code, 0);
    assert_check(&report, "auth", "warn", "codex login");
    let (_, report) = doctor(
        &ctx,
        None,
        &["--offline"],
        &[
            ("FAKE_APP_SERVER_MODE", "auth-required"),
            ("OPENAI_API_KEY", "sk-SENTINEL-doctor"),
        ],
    );
    assert_check(&report, "auth", "ok", "OPENAI_API_KEY");
    assert!(!report.to_string().contains("SENTINEL"));
}

#[test]
fn an_unreachable_api_is_a_warning_naming_the_proxy_fix() {
    let (ctx, _server) = installed();
    let (code, report) = doctor(&ctx, None, &[], &[]);
    assert_eq!(code, 0);
    assert_check(&report, "network", "warn", "unreachable");
    assert_check(&report, "network", "warn", "proxy");
}

#[test]
fn an_unwritable_cache_fails_with_the_flag_to_move_it() {
    let ctx = TestContext::new();
    // sysfs refuses new directories even to root.
    let (code, report) = doctor(
        &ctx,
        None,
        &[
            "--offline",
            "--cache-dir",
            "/sys/kernel/codex-bootstrap-cache",
        ],
        &[],
    );
    assert_eq!(code, 1);
    assert_check(&report, "cache", "fail", "--cache-dir");
}

#[test]
fn leftovers_of_a_killed_install_are_reported_with_the_cleanup() {
    let (ctx, _server) = installed();
    let staging = ctx
        .cache_dir()
        .join("runtimes")
        .join(V)
        .join(format!(".staging-{}-dead", host_target()));
    std::fs::create_dir_all(&staging).unwrap();
    std::fs::create_dir_all(ctx.cache_dir().join("downloads")).unwrap();
    std::fs::write(
        ctx.cache_dir().join("downloads/0123-x.tar.gz.partial"),
        b"half",
    )
    .unwrap();
    let (code, report) = doctor(&ctx, None, &["--offline"], &[]);
    assert_eq!(code, 0);
    assert_check(&report, "cache", "warn", "2 leftover(s)");
    assert_check(&report, "cache", "warn", ".staging-");
}

#[test]
fn doctor_turn_runs_one_turn() {
    let (ctx, _server) = installed();
    let (code, report) = doctor(&ctx, None, &["--offline", "--turn"], &[]);
    assert_eq!(code, 0, "{report}");
    assert_check(&report, "turn", "ok", "Hello from the fake.");
    let (code, report) = doctor(
        &ctx,
        None,
        &["--offline", "--turn"],
        &[("FAKE_APP_SERVER_MODE", "fail-turn")],
    );
    assert_eq!(code, 1);
    assert_check(&report, "turn", "fail", "model endpoint unreachable");
}

#[test]
fn no_color_is_respected() {
    let (ctx, _server) = installed();
    let mut cmd = ctx.cmd(["doctor", "--offline"]);
    cmd.env("CLICOLOR_FORCE", "1");
    assert!(
        stdout(&cmd.output().unwrap()).contains('\u{1b}'),
        "CLICOLOR_FORCE colours"
    );
    cmd.env("NO_COLOR", "1");
    assert!(
        !stdout(&cmd.output().unwrap()).contains('\u{1b}'),
        "NO_COLOR wins"
    );
}

/// ISRG Root X2: one real root certificate, as a proxy's CA file would hold one.
const ONE_ROOT: &str = include_str!("../support/isrg-root-x2.pem");

#[test]
fn an_empty_trust_store_falls_back_to_the_bundled_roots_and_doctor_says_so() {
    let (ctx, server) = installed();
    let empty = ctx.root().join("empty.pem");
    std::fs::write(&empty, b"").unwrap();
    let empty_dir = ctx.root().join("no-certs");
    std::fs::create_dir(&empty_dir).unwrap();
    let (code, report) = doctor(
        &ctx,
        Some(&server),
        &[],
        &[
            ("SSL_CERT_FILE", empty.to_str().unwrap()),
            ("SSL_CERT_DIR", empty_dir.to_str().unwrap()),
        ],
    );
    assert_eq!(code, 0, "{report}");
    assert_check(&report, "network", "ok", "bundled Mozilla roots");
    assert_check(&report, "network", "ok", "SSL_CERT_FILE=");
    assert_check(&report, "network", "ok", "holds no certificate");
}

#[test]
fn a_cert_file_with_a_root_is_trusted_alone() {
    let (ctx, server) = installed();
    let ca = ctx.root().join("proxy-ca.pem");
    std::fs::write(&ca, ONE_ROOT).unwrap();
    let (code, report) = doctor(
        &ctx,
        Some(&server),
        &[],
        &[("SSL_CERT_FILE", ca.to_str().unwrap())],
    );
    assert_eq!(code, 0, "{report}");
    assert_check(&report, "network", "ok", "proxy-ca.pem (1 certificate)");
    let c = check(&report, "network");
    assert!(!c.to_string().contains("bundled"), "{c}");
}
