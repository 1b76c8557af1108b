//! The guide in `docs/` stays true to the binary: its command-line reference is what the clap
//! definitions generate (a flag added, renamed or removed without regenerating fails here,
//! naming the command to run), and every long flag of every command is in it.

use std::path::Path;

use crate::common::*;

#[test]
fn the_cli_reference_is_fresh() {
    let ctx = TestContext::new();
    let reference = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/src/reference/cli.md");
    let out = ctx
        .cmd(["dev", "generate-cli-reference", "--check", "--path"])
        .arg(&reference)
        .output()
        .expect("run codex-bootstrap");
    assert_exit(&out, 0);
}

/// `cargo dev generate-man-pages --out DIR` writes one man page per command, each naming the
/// command's long flags (roff escapes `-` as `\-`).
#[test]
fn man_pages_are_generated_for_every_command() {
    let ctx = TestContext::new();
    let out_dir = ctx.root().join("man");
    let out = ctx
        .cmd(["dev", "generate-man-pages", "--out"])
        .arg(&out_dir)
        .output()
        .expect("run codex-bootstrap");
    assert_exit(&out, 0);
    let top =
        std::fs::read_to_string(out_dir.join("codex-bootstrap.1")).expect("codex-bootstrap.1");
    assert!(top.contains("install"), "{top}");
    for (command, flag) in [
        ("install", "dry\\-run"),
        ("mirror", "from\\-cache"),
        ("doctor", "offline"),
    ] {
        let page = std::fs::read_to_string(out_dir.join(format!("codex-bootstrap-{command}.1")))
            .unwrap_or_else(|e| panic!("codex-bootstrap-{command}.1: {e}"));
        assert!(page.contains(flag), "{command}: no {flag} in\n{page}");
    }
    assert!(
        !out_dir.join("codex-bootstrap-dev.1").exists(),
        "the hidden dev command has no man page"
    );
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

/// ARCHITECTURE.md's code map names every module `src/lib.rs` and `src/main.rs` declare (a
/// `#### `module`` heading) and has a row for every file of `src/` (line counts are
/// `scripts/module-map`'s to refresh; `.ci/docs` checks them).
#[test]
fn architecture_maps_every_module() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let map = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("read ARCHITECTURE.md");
    for crate_root in ["src/lib.rs", "src/main.rs"] {
        let text = std::fs::read_to_string(root.join(crate_root)).unwrap();
        for line in text.lines() {
            let line = line.trim();
            let Some(rest) = ["pub mod ", "pub(crate) mod ", "mod "]
                .iter()
                .find_map(|p| line.strip_prefix(p))
            else {
                continue;
            };
            let module = rest.trim_end_matches(';');
            assert!(
                map.contains(&format!("#### `{module}`")),
                "ARCHITECTURE.md has no section for `{module}` ({crate_root}): add its job, imports and tests"
            );
        }
    }
    let mut stack = vec![root.join("src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(root.join("src")).unwrap();
                let rel = rel.to_string_lossy().replace('\\', "/");
                assert!(
                    map.contains(&format!("| `{rel}` | ")),
                    "ARCHITECTURE.md's code map has no row for src/{rel}: add one, then run `scripts/module-map`"
                );
            }
        }
    }
}

/// What a check printed, reduced to the wording the guide can quote: backtick spans and words
/// that carry a value (a digit, a path, an ellipsis) break the text, and every run of three or
/// more words left is one fragment (`codex 0.163.0 (…) is not installed` gives
/// `is not installed`).
fn quotable_fragments(text: &str) -> Vec<String> {
    let mut plain = String::new();
    let mut rest = text;
    while let Some(start) = rest.find('`') {
        let Some(len) = rest[start + 1..].find('`') else {
            break;
        };
        let span = &rest[start..start + len + 2];
        plain.push_str(&rest[..start]);
        let carries_value = span
            .chars()
            .any(|c| c.is_ascii_digit() || c == '/' || c == '\\');
        plain.push_str(if carries_value { " … " } else { span });
        rest = &rest[start + len + 2..];
    }
    plain.push_str(rest);
    let mut fragments = Vec::new();
    let mut run: Vec<&str> = Vec::new();
    for word in plain.split_whitespace().chain([" … "]) {
        if word
            .chars()
            .any(|c| c.is_ascii_digit() || c == '/' || c == '\\' || c == '…')
        {
            if run.len() >= 3 {
                fragments.push(run.join(" "));
            }
            run.clear();
        } else {
            run.push(word);
        }
    }
    fragments
}

#[test]
fn quotable_fragments_drop_the_values_and_keep_the_wording() {
    assert_eq!(
        quotable_fragments("codex 0.163.0 (x86_64-unknown-linux-musl) is not installed"),
        ["is not installed"]
    );
    assert_eq!(
        quotable_fragments("no Node project at or above `/tmp/x`: no `package.json` and no"),
        ["no Node project at or above", ": no `package.json` and no"]
    );
    assert!(quotable_fragments("run `codex-bootstrap install 0.163.0`").is_empty());
}

/// `doctor.md` documents every check `doctor` runs, and what the user sees when one is not ok:
/// a hermetic `doctor --json` with every optional check selected and nothing installed (so
/// `runtime`, `python` and `node` fail and the checks after them are skipped) gives the ids,
/// each of which needs a row in the table of checks and a `### `id`` section under "Every
/// outcome, and what to do" (and no section names a check doctor does not have). Each check
/// that is not ok must be there with its status mark and the wording it printed, values aside.
#[test]
fn the_doctor_page_covers_every_check_and_what_it_says() {
    let ctx = TestContext::new();
    let no_project = ctx.root().join("not-a-node-project");
    std::fs::create_dir_all(&no_project).unwrap();
    let out = ctx
        .cmd(["doctor", "--json", "--offline", "--turn", "--python"])
        .arg(ctx.root().join("no-such-python"))
        .arg("--node")
        .arg(&no_project)
        .output()
        .expect("run codex-bootstrap");
    assert_exit(&out, 1);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("doctor --json printed no JSON ({e}): {}", describe(&out)));
    let checks = report["checks"].as_array().expect("checks");
    let ids: Vec<&str> = checks.iter().filter_map(|c| c["id"].as_str()).collect();
    assert_eq!(ids.len(), 14, "every check of doctor ran: {ids:?}");

    let page = crate::support::guide::page("doctor.md");
    let outcomes = crate::support::guide::section("doctor.md", "Every outcome, and what to do");
    let flat = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    for c in checks {
        let id = c["id"].as_str().unwrap();
        assert!(
            page.contains(&format!("| `{id}` |")),
            "docs/src/doctor.md's table of checks has no row for `{id}`"
        );
        let section = flat(&crate::support::guide::section(
            "doctor.md",
            &format!("`{id}`"),
        ));
        let status = c["status"].as_str().unwrap();
        let said = match status {
            "ok" => continue,
            // A skip because an earlier check did not pass is explained once, for all.
            "skip" => flat(&outcomes),
            _ => {
                let mark = if status == "fail" { "✗" } else { "!" };
                assert!(
                    section.contains(&format!("| {mark} ")),
                    "doctor.md's `{id}` section lists no `{mark}` ({status}) outcome, and doctor gave: {c}"
                );
                section
            }
        };
        for field in ["summary", "hint"] {
            for fragment in quotable_fragments(c[field].as_str().unwrap_or_default()) {
                assert!(
                    said.contains(&fragment),
                    "doctor.md does not quote the {field} of `{id}` ({status}): `{fragment}` in {c}"
                );
            }
        }
    }
    for line in outcomes.lines() {
        if let Some(id) = line.strip_prefix("### `").and_then(|l| l.strip_suffix('`')) {
            assert!(
                ids.contains(&id),
                "doctor.md documents a check `{id}` that doctor does not run ({ids:?})"
            );
        }
    }
}
