//! Every command tells the truth (issue 27): verdicts name the real cause, files meant for
//! others are readable by them, `--dry-run` refuses what `install` refuses, and the smaller
//! promises of the store and CLI hold.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use crate::common::{assert_exit, describe, stderr, stdout, PointAt, TestContext, TAG, V};
use crate::fixture::{package_gz, publish_and_install, release_gz, Package};
use crate::support::github::DigestMode;

/// Run `cmd` under `umask 027`, through a shell (a test cannot change its own umask safely:
/// the test threads share it).
fn with_umask_027(cmd: &Command) -> Output {
    let mut sh = Command::new("sh");
    sh.arg("-c")
        .arg("umask 027 && exec \"$0\" \"$@\"")
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => sh.env(k, v),
            None => sh.env_remove(k),
        };
    }
    if let Some(dir) = cmd.get_current_dir() {
        sh.current_dir(dir);
    }
    sh.stdin(std::process::Stdio::null());
    sh.output().expect("run through sh")
}

#[track_caller]
fn assert_mode(path: &Path, mode: u32) {
    let actual = std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(actual, mode, "{}: {actual:o}, not {mode:o}", path.display());
}

// ---------------------------------------------------------------------------------------------
// Files meant for others honour the umask

#[test]
fn mirror_pin_and_wheel_outputs_follow_the_umask() {
    let ctx = TestContext::new();
    let server = publish_and_install(&ctx, V, &Package::codex(V));

    let out_dir = ctx.root().join("m");
    let mut mirror = ctx.cmd(["mirror", "--from-cache", "--version", V, "--out"]);
    mirror.arg(&out_dir);
    let out = with_umask_027(&mirror);
    assert_exit(&out, 0);
    let release = out_dir.join(TAG);
    for name in [
        "codex-package_SHA256SUMS",
        "codex-runtime.toml",
        &package_gz(),
    ] {
        assert_mode(&release.join(name), 0o640);
    }

    let mut pin = ctx.cmd(["pin", V]);
    pin.github(&server);
    let out = with_umask_027(&pin);
    assert_exit(&out, 0);
    assert_mode(&ctx.work_dir().join("codex-runtime.toml"), 0o640);

    let mut wheel = ctx.cmd(["wheel", "--out"]);
    wheel.arg(ctx.root().join("dist"));
    let out = with_umask_027(&wheel);
    assert_exit(&out, 0);
    let path = stdout(&out);
    assert_mode(Path::new(path.trim()), 0o640);
}
