//! One pin resolution for every command: a pin `install` warns about, `which`, `cache-key`,
//! `list` and `doctor` warn about too (stderr, `--json`'s `warnings`, a `pin` check with its
//! fix), and pins that conflict stop `install` and fail `doctor` with the same error.

use std::path::Path;

use crate::common::{assert_exit, describe, host_target, stderr, PointAt, TestContext, V};
use crate::fixture::{host_wheel_tag, publish_and_install, sha256_hex, wheel_name, Package};
use crate::support::github::ReleaseServer;

/// `V` installed, then the project in the work directory given these files.
fn project(files: &[(&str, &str)]) -> (TestContext, ReleaseServer) {
    let ctx = TestContext::new();
    let server = publish_and_install(&ctx, V, &Package::codex(V));
    write(&ctx.work_dir(), files);
    (ctx, server)
}

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
}

fn pyproject(requirement: &str) -> String {
    format!("[project]\nname = \"demo\"\nversion = \"0.1.0\"\ndependencies = [\"{requirement}\"]\n")
}

fn json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}\n{}", describe(out)))
}

/// The `warning:` lines of a run's stderr.
fn warnings(out: &std::process::Output) -> Vec<String> {
    stderr(out)
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .map(str::to_string)
        .collect()
}

/// Every command that names a version says each of `needles` in one warning, on stderr and
/// in `--json`; `doctor` as a warned `pin` check with a hint.
#[track_caller]
fn every_command_warns(ctx: &TestContext, server: &ReleaseServer, needles: &[&str]) {
    let said = |what: &str, lines: &[String]| {
        assert!(
            lines.iter().any(|l| needles.iter().all(|n| l.contains(n))),
            "{what}: no warning with {needles:?} in {lines:#?}"
        );
    };
    let human: [&[&str]; 5] = [
        &["install"],
        &["which"],
        &["cache-key"],
        &["list"],
        &["install", "--dry-run"],
    ];
    for args in human {
        let out = ctx.cmd(args).github(server).output().unwrap();
        assert_exit(&out, 0);
        said(&args.join(" "), &warnings(&out));
        assert_eq!(
            warnings(&out).len(),
            warnings(&out)
                .iter()
                .collect::<std::collections::BTreeSet<_>>()
                .len(),
            "a warning said twice: {}",
            describe(&out)
        );
    }
    for args in [
        &["install", "--json"][..],
        &["which", "--json"],
        &["cache-key", "--json"],
    ] {
        let out = ctx.cmd(args).github(server).output().unwrap();
        assert_exit(&out, 0);
        let listed: Vec<String> = json(&out)["warnings"]
            .as_array()
            .unwrap_or_else(|| panic!("{}: no warnings array", args.join(" ")))
            .iter()
            .map(|w| w.as_str().unwrap().to_string())
            .collect();
        said(&args.join(" "), &listed);
        said(&format!("{} (stderr)", args.join(" ")), &warnings(&out));
    }
    let out = ctx.run(["doctor", "--offline", "--json"]);
    let report = json(&out);
    let pin = check(&report, "pin");
    assert_eq!(pin["status"], "warn", "{pin}");
    let detail = pin["detail"].as_str().unwrap_or_default().to_string();
    said("doctor", &[detail]);
    assert!(pin["hint"].is_string(), "{pin}");
}

fn check<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["checks"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["id"] == id))
        .unwrap_or_else(|| panic!("no check `{id}` in {report}"))
}

#[test]
fn a_pyproject_pin_that_is_not_a_version_is_a_warning_in_every_command() {
    let (ctx, server) = project(&[("pyproject.toml", &pyproject("openai-codex-cli-bin==banana"))]);
    every_command_warns(&ctx, &server, &["pyproject.toml", "banana", "ignoring it"]);
    // The fallback is the one install takes: the bundled pin, and the key says so.
    let out = ctx.run(["cache-key", "--json"]);
    assert!(
        json(&out)["pin_source"]
            .as_str()
            .unwrap()
            .starts_with("bundled manifest"),
        "{}",
        describe(&out)
    );
}

#[test]
fn a_pyproject_that_is_not_toml_is_a_warning_in_every_command() {
    let (ctx, server) = project(&[("pyproject.toml", "[project\nname = \"demo\"\n")]);
    every_command_warns(&ctx, &server, &["pyproject.toml", "is not valid TOML"]);
}

#[test]
fn a_pyproject_pin_shadowed_by_the_manifest_beside_it_names_both_and_the_winner() {
    let (ctx, server) = project(&[
        (
            "pyproject.toml",
            &pyproject("openai-codex-cli-bin==0.162.1"),
        ),
        (
            "codex-runtime.toml",
            &format!("[runtime]\nversion = \"{V}\"\n"),
        ),
    ]);
    every_command_warns(
        &ctx,
        &server,
        &[
            "pyproject.toml",
            "openai-codex-cli-bin==0.162.1",
            &format!("codex-runtime.toml` (codex {V}) wins"),
        ],
    );
}

#[test]
fn an_unhashed_requirements_file_disagreeing_with_pyproject_is_a_warning() {
    let (ctx, server) = project(&[
        (
            "pyproject.toml",
            &pyproject(&format!("openai-codex-cli-bin=={V}")),
        ),
        ("requirements.txt", "openai-codex-cli-bin==0.162.1\n"),
    ]);
    every_command_warns(
        &ctx,
        &server,
        &[
            "requirements.txt",
            "0.162.1",
            "pyproject.toml` (openai-codex-cli-bin==0.163.0) wins",
        ],
    );
}

/// A `codex-runtime.toml` and a `uv.lock` in one directory naming different digests for the
/// host's wheel of `V`; returns the two digests.
fn conflicting_pins(dir: &Path) -> (String, String) {
    let name = wheel_name(V, host_wheel_tag());
    let a = sha256_hex(b"the manifest's wheel");
    let b = sha256_hex(b"the lock's wheel");
    let manifest = format!(
        "[runtime]\nversion = \"{V}\"\n\n[targets.{t}]\n\n[targets.{t}.wheel]\nfile = \"{name}\"\nsha256 = \"{a}\"\n",
        t = host_target()
    );
    let lock = format!(
        "version = 1\nrevision = 2\nrequires-python = \">=3.9\"\n\n[[package]]\nname = \"openai-codex-cli-bin\"\nversion = \"{V}\"\nsource = {{ registry = \"http://127.0.0.1:9/simple\" }}\nwheels = [\n    {{ url = \"http://127.0.0.1:9/files/{name}\", hash = \"sha256:{b}\", size = 3 }},\n]\n"
    );
    write(
        dir,
        &[("codex-runtime.toml", &manifest), ("uv.lock", &lock)],
    );
    (a, b)
}

#[test]
fn pins_that_conflict_stop_install_and_cache_key_and_fail_doctors_pin_check_with_the_same_error() {
    let ctx = TestContext::new();
    let (a, b) = conflicting_pins(&ctx.work_dir());
    let install = ctx.run(["install"]);
    assert_exit(&install, 1);
    let error = stderr(&install);
    for needle in ["codex-runtime.toml", "uv.lock", &a, &b] {
        assert!(error.contains(needle), "{needle} not named:\n{error}");
    }
    // A CI cache key for a runtime no install can produce would only hide the failure.
    let key = ctx.run(["cache-key"]);
    assert_exit(&key, 1);
    assert!(
        stderr(&key).contains(&a) && stderr(&key).contains(&b),
        "{}",
        describe(&key)
    );

    let out = ctx.run(["doctor", "--offline", "--json"]);
    assert_exit(&out, 1);
    let report = json(&out);
    let pin = check(&report, "pin");
    assert_eq!(pin["status"], "fail", "{pin}");
    let shown = format!(
        "{}\n{}",
        pin["summary"].as_str().unwrap(),
        pin["detail"].as_str().unwrap()
    );
    let first_line = error
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap()
        .trim_start_matches("error: ");
    assert!(shown.contains(first_line), "{shown}\nvs\n{error}");
    for needle in [&a, &b] {
        assert!(shown.contains(needle.as_str()), "{shown}");
    }
    // No check sends the user to the command that fails.
    for c in report["checks"].as_array().unwrap() {
        let hint = c["hint"].as_str().unwrap_or_default();
        assert!(
            !hint.contains("run `codex-bootstrap install"),
            "{} suggests install: {hint}",
            c["id"]
        );
    }
    assert_eq!(check(&report, "runtime")["status"], "fail");

    // `which` reads what is installed and goes on, saying why nothing can be.
    let which = ctx.run(["which"]);
    assert_exit(&which, 1);
    assert!(
        warnings(&which)
            .iter()
            .any(|w| w.contains(&a) && w.contains(&b)),
        "{}",
        describe(&which)
    );
    assert!(
        !stderr(&which).contains("run `codex-bootstrap install"),
        "{}",
        describe(&which)
    );
}

#[test]
fn without_project_pins_no_command_warns() {
    let (ctx, server) = project(&[]);
    for args in [&["install"][..], &["which"], &["cache-key"], &["list"]] {
        // No entry point: its "not on PATH" advice is about the sandbox's bin dir, not a pin.
        let out = ctx
            .cmd(args)
            .github(&server)
            .env("CODEX_BOOTSTRAP_NO_BIN", "1")
            .output()
            .unwrap();
        assert_exit(&out, 0);
        assert!(warnings(&out).is_empty(), "{}", describe(&out));
    }
    let report = json(&ctx.run(["doctor", "--offline", "--json"]));
    assert_eq!(check(&report, "pin")["status"], "ok");
}
