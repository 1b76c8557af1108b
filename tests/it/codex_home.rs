//! `install` and doctor's `--version` checks leave the user's `CODEX_HOME` as they found it:
//! the fixture's `codex`, like the real one, writes into `CODEX_HOME` on every run.

use crate::common::{assert_exit, runtime_dir, PointAt, TestContext, V};
use crate::fixture::{codex_release, publish_and_install, Package, CODEX_HOME_LOG};
use crate::support::github::DigestMode;

fn codex(ctx: &TestContext) -> std::path::PathBuf {
    runtime_dir(ctx, V).join("bin/codex")
}

fn entries(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn install_runs_codex_with_a_private_codex_home_and_removes_it() {
    let ctx = TestContext::new();
    let tmp = ctx.root().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let server = codex_release(DigestMode::Api);
    let out = ctx
        .cmd(["install", "-q"])
        .github(&server)
        .env("TMPDIR", &tmp)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert!(
        entries(&ctx.codex_home()).is_empty(),
        "install wrote into the user's CODEX_HOME: {:?}",
        entries(&ctx.codex_home())
    );
    assert!(
        !ctx.home().join(".codex").exists(),
        "install wrote ~/.codex"
    );
    assert!(
        entries(&tmp).is_empty(),
        "the private CODEX_HOME was left behind: {:?}",
        entries(&tmp)
    );

    // The fixture really writes into CODEX_HOME when run: the emptiness above means something.
    let out = ctx.command(codex(&ctx)).arg("--version").output().unwrap();
    assert_exit(&out, 0);
    let log = std::fs::read_to_string(ctx.codex_home().join(CODEX_HOME_LOG)).unwrap();
    assert_eq!(log.trim(), "--version");
}

#[test]
fn doctor_runs_codex_version_with_a_private_codex_home() {
    let ctx = TestContext::new();
    let _server = publish_and_install(&ctx, V, &Package::codex(V));
    let out = ctx.run(["doctor", "--offline", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let executes = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "executes")
        .unwrap();
    assert_eq!(executes["status"], "ok", "{executes}");
    // The app-server checks use the user's CODEX_HOME, as they must; `--version` never does.
    let log = std::fs::read_to_string(ctx.codex_home().join(CODEX_HOME_LOG)).unwrap_or_default();
    assert!(
        !log.lines().any(|l| l == "--version"),
        "doctor ran `codex --version` in the user's CODEX_HOME: {log}"
    );
    assert!(
        log.lines().any(|l| l.starts_with("app-server")),
        "the app-server check should have used the user's CODEX_HOME: {log:?}"
    );
}
