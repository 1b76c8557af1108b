//! `quickstart` against the fake app-server (tests/support/fake_app_server.rs): every mode ends
//! with the right exit code and message, within its timeout, and leaves no child behind.

use std::time::{Duration, Instant};

use crate::common::{assert_exit, stderr, stdout, wait_for, TestContext, V};
use crate::fixture::fake_app_server;

fn quickstart(ctx: &TestContext, mode: &str, extra: &[&str]) -> (std::process::Output, Duration) {
    let fake = fake_app_server();
    let mut cmd = ctx.cmd(["quickstart", "--codex"]);
    cmd.arg(&fake)
        .args(extra)
        .env("FAKE_APP_SERVER_MODE", mode)
        .env("FAKE_APP_SERVER_TAG", tag_of(ctx, mode));
    let started = Instant::now();
    let out = cmd.output().expect("run quickstart");
    (out, started.elapsed())
}

/// No process tagged `tag` is left: the fake was killed and reaped, not orphaned.
#[track_caller]
fn assert_no_fake_left(tag: &str) {
    // SIGKILL is delivered at once but the exit is asynchronous: allow it a moment.
    wait_for(&format!("the fake app-server tagged {tag} to exit"), || {
        tagged(tag).is_empty()
    });
}

/// A tag unique to this test context and mode, to find its fake among concurrent tests'.
fn tag_of(ctx: &TestContext, mode: &str) -> String {
    format!("{}-{mode}", ctx.root().display())
}

#[test]
fn a_normal_turn_streams_the_answer_and_summarises() {
    let ctx = TestContext::new();
    let (out, _) = quickstart(&ctx, "normal", &["-c", "model=\"x\"", "Say hi"]);
    assert_exit(&out, 0);
    assert_eq!(stdout(&out), "Hello from the fake.\n");
    let err = stderr(&out);
    assert!(
        err.contains("runtime: 0.163.0") && err.contains("thread-1"),
        "{err}"
    );
    assert!(err.contains("15 total"), "{err}");
}

#[test]
fn json_output_has_the_documented_fields() {
    let ctx = TestContext::new();
    let (out, _) = quickstart(&ctx, "no-deltas", &["--json"]);
    assert_exit(&out, 0);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(v["final_response"], "Hello from the fake.");
    assert_eq!(v["status"], "completed");
    assert_eq!(v["usage"]["total_tokens"], 15);
    assert_eq!(v["runtime_version"], V);
    assert_eq!(v["thread_id"], "thread-1");
    assert_eq!(v["turn_id"], "turn-1");
    assert!(v["duration_ms"].is_u64() && v["items"].is_array(), "{v}");
}

#[test]
fn without_deltas_the_completed_message_is_printed() {
    let ctx = TestContext::new();
    let (out, _) = quickstart(&ctx, "no-deltas", &[]);
    assert_exit(&out, 0);
    assert_eq!(stdout(&out), "Hello from the fake.\n");
}

#[test]
fn approvals_are_declined_and_the_turn_goes_on() {
    let ctx = TestContext::new();
    let (out, _) = quickstart(&ctx, "approval", &[]);
    assert_exit(&out, 0);
    assert!(
        stderr(&out).contains("item/commandExecution/requestApproval"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_failed_turn_exits_1_with_its_message_and_retries_show_as_warnings() {
    let ctx = TestContext::new();
    let (out, _) = quickstart(&ctx, "fail-turn", &[]);
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("model endpoint unreachable"), "{err}");
    assert!(
        err.contains("warning: the server will retry: stream disconnected"),
        "{err}"
    );
    assert!(err.contains("hint:"), "{err}");
}

#[test]
fn a_crash_mid_turn_shows_the_stderr_tail() {
    let ctx = TestContext::new();
    let (out, _) = quickstart(&ctx, "crash-mid-turn", &["--timeout", "30"]);
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("exited") && err.contains("simulated crash"),
        "{err}"
    );
    assert_no_fake_left(&tag_of(&ctx, "crash-mid-turn"));
}

#[test]
fn a_malformed_line_is_a_protocol_error_naming_the_line() {
    let ctx = TestContext::new();
    let (out, _) = quickstart(&ctx, "malformed-line", &[]);
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains("line 1") && stderr(&out).contains("this is not json"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_stderr_flood_cannot_block_the_child() {
    let ctx = TestContext::new();
    let (out, _) = quickstart(&ctx, "stderr-flood", &["--timeout", "60"]);
    assert_exit(&out, 0);
    assert_eq!(stdout(&out), "Hello from the fake.\n");
    assert_no_fake_left(&tag_of(&ctx, "stderr-flood"));
}

#[test]
fn a_hung_server_is_killed_at_the_timeout() {
    let ctx = TestContext::new();
    for mode in ["hang", "hang-turn"] {
        let (out, took) = quickstart(&ctx, mode, &["--timeout", "2"]);
        assert_exit(&out, 1);
        assert!(
            stderr(&out).contains("no answer within 2s"),
            "{}",
            stderr(&out)
        );
        assert!(stderr(&out).contains("--timeout"), "{}", stderr(&out));
        // An upper bound to detect a hang, not a performance assertion.
        assert!(
            took < Duration::from_secs(60),
            "quickstart hung for {took:?}"
        );
        assert_no_fake_left(&tag_of(&ctx, mode));
    }
}

/// The processes whose environment carries `tag`: the fake app-servers of one test, and the
/// quickstart that started them while it runs.
fn tagged(tag: &str) -> Vec<u32> {
    let needle = format!("FAKE_APP_SERVER_TAG={tag}");
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            let env = std::fs::read(e.path().join("environ")).unwrap_or_default();
            env.split(|b| *b == 0).any(|kv| kv == needle.as_bytes())
        })
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect()
}

#[test]
fn ctrl_c_mid_turn_kills_the_child_and_exits_130() {
    let ctx = TestContext::new();
    let tag = tag_of(&ctx, "ctrl-c");
    let mut child = ctx
        .cmd(["quickstart", "--timeout", "600", "--codex"])
        .arg(fake_app_server())
        .env("FAKE_APP_SERVER_MODE", "hang-turn")
        .env("FAKE_APP_SERVER_TAG", &tag)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start quickstart");
    // Interrupt once the app-server is running.
    wait_for("the fake app-server to start", || {
        tagged(&tag).iter().any(|pid| *pid != child.id())
    });
    let pid = i32::try_from(child.id()).expect("a pid fits in i32");
    // SAFETY: sends a signal to the child this test started and has not yet reaped.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    // An upper bound to detect a hang, not a performance assertion.
    let interrupted = Instant::now();
    while child.try_wait().expect("poll quickstart").is_none() {
        if interrupted.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("quickstart ignored Ctrl-C for a minute");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child
        .wait_with_output()
        .expect("collect quickstart's output");
    assert_exit(&out, 130);
    assert!(stderr(&out).contains("interrupted"), "{}", stderr(&out));
    assert_no_fake_left(&tag);
}

#[test]
fn missing_auth_fails_fast_with_the_fix() {
    let ctx = TestContext::new();
    let (out, _) = quickstart(&ctx, "auth-required", &[]);
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("authentication is required"), "{err}");
    assert!(
        err.contains("codex login") && err.contains("OPENAI_API_KEY"),
        "{err}"
    );
    // With a key in the environment the turn goes ahead (and the key is never printed).
    let fake = fake_app_server();
    let mut cmd = ctx.cmd(["quickstart", "--codex"]);
    cmd.arg(&fake)
        .env("FAKE_APP_SERVER_MODE", "auth-required")
        .env("OPENAI_API_KEY", "sk-SENTINEL-never-print");
    let out = cmd.output().unwrap();
    assert_exit(&out, 0);
    assert!(!stdout(&out).contains("SENTINEL") && !stderr(&out).contains("SENTINEL"));
}

#[test]
fn overloaded_is_retried() {
    let ctx = TestContext::new();
    let (out, _) = quickstart(&ctx, "overloaded-once", &[]);
    assert_exit(&out, 0);
}

#[test]
fn a_missing_binary_is_named_with_a_hint() {
    let ctx = TestContext::new();
    let out = ctx.run(["quickstart", "--codex", "/nonexistent/codex"]);
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains("/nonexistent/codex") && stderr(&out).contains("hint:"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bad_config_overrides_are_usage_errors() {
    let ctx = TestContext::new();
    let (out, _) = quickstart(&ctx, "normal", &["-c", "nonsense"]);
    assert_exit(&out, 2);
}
