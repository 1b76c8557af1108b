//! The command line as users type and read it: the help of every command (snapshots), the
//! runtime version as a positional argument with `--version` still accepted, and the usage
//! errors around the two spellings.

use crate::common::{assert_exit, describe, stderr, stdout, TestContext};

/// `codex-bootstrap ARGS` with the help width pinned, so snapshots do not follow the terminal.
fn run(ctx: &TestContext, args: &[&str]) -> std::process::Output {
    ctx.cmd(args)
        .env("COLUMNS", "100")
        .output()
        .expect("run codex-bootstrap")
}

fn help(args: &[&str]) -> String {
    let ctx = TestContext::new();
    let out = run(&ctx, args);
    assert_exit(&out, 0);
    stdout(&out)
}

/// Runtimes in the sandbox's store: none of the refused command lines may install one.
fn installed(ctx: &TestContext) -> usize {
    std::fs::read_dir(ctx.cache_dir().join("runtimes")).map_or(0, |d| d.count())
}

macro_rules! help_snapshots {
    ($($test:ident => $command:literal,)*) => {
        /// The commands with a snapshot test, checked against the CLI itself below.
        const SNAPSHOTTED: &[&str] = &[$($command),*];
        $(
            #[test]
            fn $test() {
                insta::assert_snapshot!(
                    concat!(stringify!($test), "_short"),
                    help(&[$command, "-h"])
                );
                insta::assert_snapshot!(
                    concat!(stringify!($test), "_long"),
                    help(&[$command, "--help"])
                );
            }
        )*
    };
}

help_snapshots! {
    help_install => "install",
    help_quickstart => "quickstart",
    help_doctor => "doctor",
    help_wheel => "wheel",
    help_pin => "pin",
    help_mirror => "mirror",
    help_list => "list",
    help_which => "which",
    help_uninstall => "uninstall",
    help_prune => "prune",
    help_cache_key => "cache-key",
    help_completions => "completions",
}

#[test]
fn help_top_level() {
    insta::assert_snapshot!(help(&["--help"]));
}

#[test]
fn every_command_has_a_help_snapshot() {
    // The CLI is the binary's: its own help lists the commands.
    let top = help(&["--help"]);
    let commands: Vec<&str> = top
        .lines()
        .skip_while(|l| *l != "Commands:")
        .skip(1)
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .collect();
    assert_eq!(
        commands, SNAPSHOTTED,
        "add the new command to help_snapshots!"
    );
}

#[test]
fn the_version_is_a_positional_argument() {
    let ctx = TestContext::new();
    let out = run(&ctx, &["cache-key", "0.1.0"]);
    assert_exit(&out, 0);
    assert!(
        stdout(&out).starts_with("codex-runtime-0.1.0-"),
        "{}",
        describe(&out)
    );
}

#[test]
fn version_flag_is_still_accepted_and_means_the_same() {
    let ctx = TestContext::new();
    let positional = run(&ctx, &["cache-key", "0.1.0"]);
    let flag = run(&ctx, &["cache-key", "--version", "0.1.0"]);
    assert_exit(&flag, 0);
    assert_eq!(stdout(&flag), stdout(&positional));
}

#[test]
fn both_spellings_of_one_version_agree() {
    let ctx = TestContext::new();
    let out = run(
        &ctx,
        &["cache-key", "0.154.0a6", "--version", "0.154.0-alpha.6"],
    );
    assert_exit(&out, 0);
    assert!(
        stdout(&out).starts_with("codex-runtime-0.154.0-alpha.6-"),
        "{}",
        describe(&out)
    );
}

#[test]
fn two_different_versions_are_a_usage_error() {
    let ctx = TestContext::new();
    let out = run(&ctx, &["install", "0.163.0", "--version", "0.160.0"]);
    assert_exit(&out, 2);
    insta::assert_snapshot!(stderr(&out));
    assert_eq!(installed(&ctx), 0);
}

#[test]
fn quickstart_runtime_and_version_disagreeing_is_a_usage_error() {
    let ctx = TestContext::new();
    let out = run(
        &ctx,
        &[
            "quickstart",
            "hi",
            "--runtime",
            "0.163.0",
            "--version",
            "0.160.0",
        ],
    );
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("as `--runtime 0.163.0` and as `--version 0.160.0`"),
        "{}",
        describe(&out)
    );
}

#[test]
fn version_before_the_subcommand_is_a_usage_error_naming_the_right_line() {
    let ctx = TestContext::new();
    let out = run(&ctx, &["--version", "0.163.0", "install"]);
    assert_exit(&out, 2);
    insta::assert_snapshot!(stderr(&out));
    assert!(stdout(&out).is_empty(), "{}", describe(&out));
    assert_eq!(installed(&ctx), 0);
}

#[test]
fn every_spelling_of_the_tool_version_before_a_subcommand_is_refused() {
    let ctx = TestContext::new();
    for (args, hint) in [
        (
            &["-V", "0.163.0", "install"][..],
            "codex-bootstrap install 0.163.0",
        ),
        (
            &["--version=0.163.0", "which"][..],
            "codex-bootstrap which 0.163.0",
        ),
        (
            &["--version", "install"][..],
            "codex-bootstrap install VERSION",
        ),
        (
            &["--version", "0.163.0", "quickstart"][..],
            "codex-bootstrap quickstart --runtime 0.163.0",
        ),
        (
            &["--version", "0.163.0", "list"][..],
            "codex-bootstrap list --version 0.163.0",
        ),
        (
            &["--version", "0.163.0"][..],
            "codex-bootstrap install 0.163.0",
        ),
    ] {
        let out = run(&ctx, args);
        assert_exit(&out, 2);
        assert!(
            stderr(&out).contains(&format!("hint: write `{hint}`")),
            "{args:?}: {}",
            describe(&out)
        );
    }
    assert_eq!(installed(&ctx), 0);
}

#[test]
fn the_tool_version_alone_still_prints_it() {
    let ctx = TestContext::new();
    for flag in ["--version", "-V"] {
        let out = run(&ctx, &[flag]);
        assert_exit(&out, 0);
        assert_eq!(
            stdout(&out),
            format!("codex-bootstrap {}\n", env!("CARGO_PKG_VERSION"))
        );
    }
}

#[test]
fn the_command_line_is_named_as_the_pin_source() {
    let ctx = TestContext::new();
    let out = run(&ctx, &["install", "0.1.0", "--dry-run", "--json"]);
    assert_exit(&out, 0);
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(plan["version"], "0.1.0");
    assert_eq!(plan["pin_source"], "the command line");
}

#[test]
fn the_command_line_wins_over_the_variable_without_a_conflict() {
    let ctx = TestContext::new();
    for args in [
        &["cache-key", "0.2.0"][..],
        &["cache-key", "--version", "0.2.0"][..],
    ] {
        let out = ctx
            .cmd(args)
            .env("CODEX_BOOTSTRAP_VERSION", "0.1.0")
            .output()
            .unwrap();
        assert_exit(&out, 0);
        assert!(
            stdout(&out).starts_with("codex-runtime-0.2.0-"),
            "{args:?}: {}",
            describe(&out)
        );
    }
}

#[test]
fn the_variable_alone_still_pins() {
    let ctx = TestContext::new();
    let out = ctx
        .cmd(["install", "--dry-run", "--json"])
        .env("CODEX_BOOTSTRAP_VERSION", "0.2.0")
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(plan["version"], "0.2.0");
    assert_eq!(plan["pin_source"], "CODEX_BOOTSTRAP_VERSION");
}

#[test]
fn uninstall_needs_its_version_on_the_command_line() {
    let ctx = TestContext::new();
    let out = ctx
        .cmd(["uninstall"])
        .env("CODEX_BOOTSTRAP_VERSION", "0.1.0")
        .output()
        .unwrap();
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("<VERSION>"), "{}", describe(&out));
}

#[test]
fn uninstall_takes_the_version_flag_too() {
    let ctx = TestContext::new();
    let out = run(&ctx, &["uninstall", "--version", "0.1.0"]);
    // Parsed, then refused for what it is: not a usage error.
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains("codex 0.1.0 is not installed"),
        "{}",
        describe(&out)
    );
}

#[test]
fn which_names_the_install_line_for_a_missing_version() {
    let ctx = TestContext::new();
    let out = run(&ctx, &["which", "0.1.0"]);
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains("run `codex-bootstrap install 0.1.0`"),
        "{}",
        describe(&out)
    );
}

#[test]
fn commands_that_stay_local_take_no_network_flags() {
    let ctx = TestContext::new();
    for command in ["list", "which", "uninstall", "prune", "cache-key"] {
        let out = run(&ctx, &[command, "--mirror", "file:///nowhere"]);
        assert_exit(&out, 2);
        assert!(
            stderr(&out).contains("unexpected argument '--mirror'"),
            "{command}: {}",
            describe(&out)
        );
    }
}
