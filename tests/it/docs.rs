//! The guide in `docs/` stays true to the binary: its command-line reference is what the clap
//! definitions generate (a flag added, renamed or removed without regenerating fails here,
//! naming the command to run), and every long flag of every command is in it.

use crate::common::*;

#[test]
fn the_cli_reference_is_fresh() {
    let ctx = TestContext::new();
    let out = ctx.run(["dev", "generate-cli-reference", "--check"]);
    assert_exit(&out, 0);
}

/// Independently of the generator: every long flag each command's `--help` shows (aliases
/// included) is in the reference, in that command's section.
#[test]
fn every_long_flag_of_every_command_is_in_the_reference() {
    let ctx = TestContext::new();
    let help = stdout(&ctx.run(["--help"]));
    let commands: Vec<String> = help
        .split("Commands:")
        .nth(1)
        .expect("--help lists the commands")
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .filter(|c| c != "help")
        .collect();
    assert!(commands.len() >= 12, "{help}");
    for command in &commands {
        let out = ctx.run([command.as_str(), "--help"]);
        assert_exit(&out, 0);
        let section = crate::support::guide::section(
            "reference/cli.md",
            &format!("`codex-bootstrap {command}`"),
        );
        for word in stdout(&out).split(|c: char| c.is_whitespace() || c == ',') {
            let Some(flag) = word.strip_prefix("--") else {
                continue;
            };
            let flag: String = flag
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            if flag.is_empty() || flag == "help" || !word.starts_with(&format!("--{flag}")) {
                continue;
            }
            assert!(
                section.contains(&format!("<code>--{flag}</code>")),
                "`{command} --{flag}` is in --help but not in docs/src/reference/cli.md; \
                 run `cargo dev generate-cli-reference`"
            );
        }
    }
}
