//! Colour: `--color`, `NO_COLOR`, `CLICOLOR`, `CLICOLOR_FORCE` and `TERM=dumb` decide it, per
//! stream; output captured through a pipe is plain by default.

use std::process::Output;

use crate::common::{assert_exit, stderr, stdout, TestContext};

const ESC: char = '\u{1b}';

/// An install that fails at once (nothing to reach): an `error:`/`hint:` on stderr.
fn failing_install(ctx: &TestContext, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = ctx.cmd(args);
    cmd.args(["install", "--retries", "1", "--source", "github"]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run install");
    assert_exit(&out, 1);
    assert!(stderr(&out).contains("error"), "{}", stderr(&out));
    out
}

fn coloured(out: &Output) -> bool {
    stderr(out).contains(ESC)
}

#[test]
fn a_pipe_gets_no_colour_unless_asked() {
    let ctx = TestContext::new();
    assert!(!coloured(&failing_install(&ctx, &[], &[])));
    assert!(!coloured(&failing_install(&ctx, &[], &[("TERM", "dumb")])));
    assert!(!coloured(&failing_install(&ctx, &[], &[("CLICOLOR", "0")])));
    assert!(coloured(&failing_install(
        &ctx,
        &[],
        &[("CLICOLOR_FORCE", "1")]
    )));
    let forced = failing_install(&ctx, &["--color", "always"], &[]);
    assert!(coloured(&forced));
    assert!(
        stderr(&forced).contains(&format!("{ESC}[31merror{ESC}[0m")),
        "{:?}",
        stderr(&forced)
    );
}

#[test]
fn no_color_beats_the_environment_and_the_flag_beats_both() {
    let ctx = TestContext::new();
    let both = [("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")];
    assert!(!coloured(&failing_install(&ctx, &[], &both)));
    assert!(coloured(&failing_install(
        &ctx,
        &["--color", "always"],
        &[("NO_COLOR", "1")]
    )));
    assert!(!coloured(&failing_install(
        &ctx,
        &["--color", "never"],
        &[("CLICOLOR_FORCE", "1")]
    )));
    // The flag is global: after the subcommand too.
    let mut cmd = ctx.cmd(["install", "--retries", "1", "--color", "always"]);
    let out = cmd.output().unwrap();
    assert!(coloured(&out), "{}", stderr(&out));
    let out = ctx.run(["--color", "sometimes", "list"]);
    assert_exit(&out, 2);
}

#[test]
fn doctor_colours_stdout_by_stdout() {
    let ctx = TestContext::new();
    let out = ctx.run(["doctor", "--offline"]);
    assert!(!stdout(&out).contains(ESC), "{}", stdout(&out));
    let out = ctx.run(["--color", "always", "doctor", "--offline"]);
    assert!(stdout(&out).contains(ESC), "{}", stdout(&out));
    let out = ctx.run(["--color", "never", "doctor", "--offline"]);
    assert!(!stdout(&out).contains(ESC), "{}", stdout(&out));
}

#[test]
fn help_and_usage_errors_follow_the_flag() {
    let ctx = TestContext::new();
    let plain = ctx.run(["install", "--help"]);
    assert_exit(&plain, 0);
    assert!(!stdout(&plain).contains(ESC), "{}", stdout(&plain));
    let styled = ctx.run(["--color", "always", "install", "--help"]);
    assert_exit(&styled, 0);
    assert!(stdout(&styled).contains(ESC), "{}", stdout(&styled));
    let usage = ctx.run(["install", "--no-such-flag", "--color=always"]);
    assert_exit(&usage, 2);
    assert!(coloured(&usage), "{}", stderr(&usage));
}
