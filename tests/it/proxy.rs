//! `codex` on PATH: the entry point `install` places runs the version each directory pins,
//! passes arguments, streams and exit codes through, installs a missing pin on demand with
//! nothing on stdout (or refuses to, with `CODEX_BOOTSTRAP_AUTO_INSTALL=0`), and never replaces
//! a `codex` that is not codex-bootstrap's.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::common::{assert_exit, describe, stderr, stdout, PointAt, TestContext, V};
use crate::fixture::{package_gz, Package};
use crate::support::github::{Asset, DigestMode, ReleaseServer};

/// The subproject's pin.
const OTHER: &str = "0.160.1";

/// A release server publishing each package as its version's `.tar.gz`.
fn releases(packages: &[(&str, Package)]) -> ReleaseServer {
    let server = ReleaseServer::start();
    for (version, pkg) in packages {
        server.add_release(
            &format!("rust-v{version}"),
            &[Asset::new(&package_gz(), pkg.tar_gz(), DigestMode::Api)],
        );
    }
    server
}

/// Pin `version` in `dir` with a `codex-runtime.toml`.
fn pin(dir: &Path, version: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("codex-runtime.toml"),
        format!("[runtime]\nversion = \"{version}\"\n"),
    )
    .unwrap();
}

/// The entry point `install` placed.
fn entry(ctx: &TestContext) -> PathBuf {
    ctx.bin_dir().join("codex")
}

/// `codex ARGS` through the entry point, in `dir`, pointed at `server`.
fn codex(ctx: &TestContext, server: &ReleaseServer, dir: &Path, args: &[&str]) -> Command {
    let mut cmd = ctx.command(entry(ctx));
    cmd.args(args).current_dir(dir).github(server);
    cmd
}

/// How many times `version`'s package was downloaded.
fn downloads(server: &ReleaseServer, version: &str) -> usize {
    server
        .http()
        .count(&format!("/download/rust-v{version}/{}", package_gz()))
}

/// A project pinning `V`, its subproject pinning [`OTHER`]; `V` installed from the project
/// (which places `codex`).
fn two_pins(packages: &[(&str, Package)]) -> (TestContext, ReleaseServer, PathBuf) {
    let ctx = TestContext::new();
    let server = releases(packages);
    pin(&ctx.work_dir(), V);
    let sub = ctx.work_dir().join("sub");
    pin(&sub, OTHER);
    let out = ctx.install(&server, &[]);
    assert_exit(&out, 0);
    assert!(entry(&ctx).is_file(), "{}", describe(&out));
    (ctx, server, sub)
}

#[test]
fn codex_runs_the_version_each_directory_pins_installing_it_on_demand() {
    let (ctx, server, sub) = two_pins(&[(V, Package::codex(V)), (OTHER, Package::codex(OTHER))]);
    let out = codex(&ctx, &server, &ctx.work_dir(), &["--version"])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_eq!(stdout(&out), format!("codex-cli {V}\n"));
    assert_eq!(stderr(&out), "", "the warm path says nothing");
    assert_eq!(downloads(&server, OTHER), 0);

    // The subproject's pin is not installed: installed on demand, and stdout stays codex's.
    let out = codex(&ctx, &server, &sub, &["--version"]).output().unwrap();
    assert_exit(&out, 0);
    assert_eq!(
        stdout(&out),
        format!("codex-cli {OTHER}\n"),
        "{}",
        describe(&out)
    );
    assert!(
        stderr(&out).contains(&format!("codex {OTHER}")) && stderr(&out).contains("Installed"),
        "{}",
        describe(&out)
    );
    assert_eq!(downloads(&server, OTHER), 1);
    assert!(crate::common::runtime_dir(&ctx, OTHER)
        .join("bin/codex")
        .is_file());

    // From then on the warm path: nothing downloaded, nothing said.
    std::fs::create_dir_all(sub.join("deeper")).unwrap();
    let out = codex(&ctx, &server, &sub.join("deeper"), &["--version"])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_eq!(stdout(&out), format!("codex-cli {OTHER}\n"));
    assert_eq!(stderr(&out), "");
    assert_eq!(downloads(&server, OTHER), 1);

    // CODEX_BOOTSTRAP_VERSION wins over the project's pin, as for `install`.
    let out = codex(&ctx, &server, &sub, &["--version"])
        .env("CODEX_BOOTSTRAP_VERSION", V)
        .output()
        .unwrap();
    assert_eq!(
        stdout(&out),
        format!("codex-cli {V}\n"),
        "{}",
        describe(&out)
    );
}

/// A runtime that shows what it was given, and fails with 3 when asked to.
fn echoing(version: &str) -> Package {
    let script = format!(
        "#!/bin/sh\n\
         if [ \"$1\" = \"--version\" ]; then echo \"codex-cli {version}\"; exit 0; fi\n\
         if [ \"$1\" = \"fail\" ]; then echo \"failing as asked\" >&2; exit 3; fi\n\
         if [ \"$1\" = \"stdin\" ]; then cat; exit 0; fi\n\
         echo \"argv0=$0\"\n\
         for a in \"$@\"; do echo \"arg=$a\"; done\n\
         echo \"cwd=$(pwd)\"\n\
         echo \"path=$PATH\"\n"
    );
    Package::codex(version).file("bin/codex", script.as_bytes(), 0o755)
}

#[test]
fn arguments_streams_cwd_path_and_exit_code_pass_through() {
    let ctx = TestContext::new();
    let server = releases(&[(V, echoing(V))]);
    assert_exit(&ctx.install(&server, &[]), 0);
    let runtime = crate::common::runtime_dir(&ctx, V);
    let dir = ctx.work_dir();

    let out = codex(&ctx, &server, &dir, &["exec", "two words", "--flag=x", ""])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        &lines[..5],
        &[
            format!("argv0={}", runtime.join("bin/codex").display()).as_str(),
            "arg=exec",
            "arg=two words",
            "arg=--flag=x",
            "arg=",
        ],
        "{text}"
    );
    assert_eq!(lines[5], format!("cwd={}", dir.display()));
    let path = lines[6].strip_prefix("path=").unwrap();
    assert_eq!(
        std::env::split_paths(path).next(),
        Some(runtime.join("codex-path")),
        "codex-path/ comes first on PATH: {path}"
    );

    let out = codex(&ctx, &server, &dir, &["fail"]).output().unwrap();
    assert_exit(&out, 3);
    assert_eq!(stderr(&out), "failing as asked\n");

    let mut child = codex(&ctx, &server, &dir, &["stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"line one\nline two\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_exit(&out, 0);
    assert_eq!(stdout(&out), "line one\nline two\n");
}

#[test]
fn app_server_through_codex_answers_initialize_on_stdout() {
    let ctx = TestContext::new();
    let server = releases(&[(V, Package::fake_app_server(V))]);
    assert_exit(&ctx.install(&server, &[]), 0);
    let mut child = codex(
        &ctx,
        &server,
        &ctx.work_dir(),
        &["app-server", "--listen", "stdio://"],
    )
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(
        stdin,
        r#"{{"id":1,"method":"initialize","params":{{"clientInfo":{{"name":"test","version":"0"}},"capabilities":{{}}}}}}"#
    )
    .unwrap();
    stdin.flush().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    drop(stdin);
    let answer: serde_json::Value = serde_json::from_str(&line).expect("the first line is JSON");
    assert_eq!(answer["id"], 1, "{line}");
    assert!(answer["result"]["userAgent"].as_str().is_some(), "{line}");
    assert!(child.wait().unwrap().success());
}

#[test]
fn with_auto_install_off_a_missing_pin_is_one_line_naming_the_install_command() {
    let (ctx, server, sub) = two_pins(&[(V, Package::codex(V)), (OTHER, Package::codex(OTHER))]);
    let out = codex(&ctx, &server, &sub, &["--version"])
        .env("CODEX_BOOTSTRAP_AUTO_INSTALL", "0")
        .output()
        .unwrap();
    assert_exit(&out, 1);
    assert_eq!(stdout(&out), "");
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&format!("`codex-bootstrap install {OTHER}`"))
            && err.contains("CODEX_BOOTSTRAP_AUTO_INSTALL=0")
            && err.contains("sub/codex-runtime.toml"),
        "{err}"
    );
    assert_eq!(downloads(&server, OTHER), 0);
}

#[test]
fn concurrent_first_calls_install_once() {
    let (ctx, server, sub) = two_pins(&[(V, Package::codex(V)), (OTHER, Package::codex(OTHER))]);
    let children: Vec<_> = (0..4)
        .map(|_| {
            codex(&ctx, &server, &sub, &["--version"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert_exit(&out, 0);
        assert_eq!(stdout(&out), format!("codex-cli {OTHER}\n"));
    }
    assert_eq!(
        downloads(&server, OTHER),
        1,
        "the store's lock: one download"
    );
}

#[test]
fn a_codex_that_is_not_ours_is_left_alone_with_the_fix() {
    let ctx = TestContext::new();
    let server = releases(&[(V, Package::codex(V))]);
    std::fs::create_dir_all(ctx.bin_dir()).unwrap();
    let theirs = "#!/bin/sh\necho installed by someone else\n";
    std::fs::write(entry(&ctx), theirs).unwrap();

    let out = ctx.install(&server, &["--json"]);
    assert_exit(&out, 0);
    assert_eq!(std::fs::read_to_string(entry(&ctx)).unwrap(), theirs);
    let err = stderr(&out);
    assert!(
        err.contains("is not codex-bootstrap's") && err.contains("CODEX_BOOTSTRAP_BIN_DIR"),
        "{err}"
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["bin"], serde_json::Value::Null);
    assert!(
        json["bin_skipped"]
            .as_str()
            .unwrap()
            .contains("is not codex-bootstrap's"),
        "{json}"
    );
}

#[test]
fn no_bin_places_nothing() {
    let ctx = TestContext::new();
    let server = releases(&[(V, Package::codex(V))]);
    let out = ctx.install(&server, &["--no-bin", "--json"]);
    assert_exit(&out, 0);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["bin"], serde_json::Value::Null);
    assert!(json["bin_skipped"].as_str().unwrap().contains("--no-bin"));
    assert!(!entry(&ctx).exists());

    let out = ctx
        .cmd(["install", "-q"])
        .github(&server)
        .env("CODEX_BOOTSTRAP_NO_BIN", "1")
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert!(!entry(&ctx).exists());

    // `0` is no: placed.
    let out = ctx
        .cmd(["install", "--json"])
        .github(&server)
        .env("CODEX_BOOTSTRAP_NO_BIN", "0")
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["bin"].as_str(), Some(entry(&ctx).to_str().unwrap()));
    assert!(entry(&ctx).is_file());
}

#[test]
fn install_says_when_the_bin_dir_is_not_on_path_with_the_line_for_the_shell() {
    let ctx = TestContext::new();
    let server = releases(&[(V, Package::codex(V))]);
    let out = ctx
        .cmd(["install"])
        .github(&server)
        .env("SHELL", "/usr/bin/zsh")
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "echo 'export PATH=\"{}:$PATH\"' >> ~/.zshrc",
            ctx.bin_dir().display()
        )),
        "{err}"
    );
    // With the directory on PATH, nothing to say about it.
    let path = std::env::join_paths([
        ctx.bin_dir(),
        PathBuf::from("/usr/bin"),
        PathBuf::from("/bin"),
    ])
    .unwrap();
    let out = ctx
        .cmd(["install"])
        .github(&server)
        .env("PATH", path)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert!(!stderr(&out).contains("not on PATH"), "{}", stderr(&out));
}

/// The `path` check of `doctor --json`, run in `dir` with `PATH` and `SHELL`.
fn doctor_path(
    ctx: &TestContext,
    dir: &Path,
    path: &std::ffi::OsStr,
    shell: &str,
) -> serde_json::Value {
    let out = ctx
        .cmd(["doctor", "--offline", "--json"])
        .current_dir(dir)
        .env("PATH", path)
        .env("SHELL", shell)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "path")
        .cloned()
        .unwrap_or_else(|| panic!("no path check: {report}"))
}

#[test]
fn doctor_names_the_line_for_the_shell_and_the_pin_codex_runs_here() {
    let (ctx, _server, sub) = two_pins(&[(V, Package::codex(V)), (OTHER, Package::codex(OTHER))]);
    let system = std::ffi::OsString::from("/usr/bin:/bin");
    let check = doctor_path(&ctx, &ctx.work_dir(), &system, "/usr/bin/fish");
    assert_eq!(check["status"], "warn", "{check}");
    assert_eq!(
        check["hint"].as_str().unwrap(),
        format!("fish_add_path '{}'", ctx.bin_dir().display()),
        "{check}"
    );

    // On PATH: `codex` is the entry point, and it says what it runs here and why.
    let path = std::env::join_paths([ctx.bin_dir(), "/usr/bin".into(), "/bin".into()]).unwrap();
    let check = doctor_path(&ctx, &ctx.work_dir(), &path, "/bin/bash");
    assert_eq!(check["status"], "ok", "{check}");
    let said = check.to_string();
    assert!(
        said.contains(&format!("codex {V}")) && said.contains("codex-runtime.toml"),
        "{check}"
    );
    let check = doctor_path(&ctx, &sub, &path, "/bin/bash");
    let said = check.to_string();
    assert!(
        said.contains(&format!("codex {OTHER}")) && said.contains("the first `codex` installs it"),
        "{check}"
    );

    // Another `codex` first on PATH shadows it: named, with the line that puts ours first.
    let other = ctx.root().join("other-bin");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("codex"), "#!/bin/sh\necho codex-cli 0.1.0\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(other.join("codex"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
    }
    let path = std::env::join_paths([
        other.clone(),
        ctx.bin_dir(),
        "/usr/bin".into(),
        "/bin".into(),
    ])
    .unwrap();
    let check = doctor_path(&ctx, &ctx.work_dir(), &path, "/bin/bash");
    assert_eq!(check["status"], "warn", "{check}");
    let said = check.to_string();
    assert!(
        said.contains(&other.join("codex").display().to_string()),
        "{check}"
    );
    assert!(said.contains("~/.bashrc"), "{check}");
}

#[test]
fn which_prune_and_uninstall_say_what_codex_runs_here() {
    let (ctx, server, _sub) = two_pins(&[(V, Package::codex(V)), (OTHER, Package::codex(OTHER))]);
    let out = ctx.run(["which", "--json"]);
    assert_exit(&out, 0);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["codex_here"]["version"], V, "{json}");
    assert!(
        json["codex_here"]["pin_source"]
            .as_str()
            .unwrap()
            .ends_with("codex-runtime.toml"),
        "{json}"
    );
    assert_eq!(json["codex_here"]["installed"], true, "{json}");

    // `prune` spares the pin it is given; the one `codex` runs here goes, and it says so.
    assert_exit(&ctx.install(&server, &[OTHER, "-q"]), 0);
    let out = ctx.run(["prune", "--keep", "0", "--version", OTHER, "--dry-run"]);
    assert_exit(&out, 0);
    let err = stderr(&out);
    assert!(
        err.contains(&format!("codex {V} is what `codex` here runs")),
        "{err}"
    );

    let out = ctx.run(["uninstall", V]);
    assert_exit(&out, 0);
    let err = stderr(&out);
    assert!(
        err.contains("warning:") && err.contains("`codex` here") && err.contains("on demand"),
        "{err}"
    );
}

/// The entry point reads the pins as `install` does and says what `install` says of them: a pin
/// it cannot read is a warning on stderr (stdout stays codex's), once.
#[test]
fn codex_says_the_pin_warnings_install_says_on_stderr_once() {
    let (ctx, server, sub) = two_pins(&[(V, Package::codex(V)), (OTHER, Package::codex(OTHER))]);
    std::fs::write(
        sub.join("pyproject.toml"),
        "[project]\nname = \"app\"\ndependencies = [\"openai-codex-cli-bin==banana\"]\n",
    )
    .unwrap();
    let install = ctx
        .cmd(["install", "--dry-run"])
        .current_dir(&sub)
        .github(&server)
        .output()
        .unwrap();
    let said_by_install: Vec<String> = stderr(&install)
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .map(str::to_string)
        .collect();
    assert!(
        said_by_install.iter().any(|w| w.contains("banana")),
        "{}",
        describe(&install)
    );
    let out = codex(&ctx, &server, &sub, &["--version"]).output().unwrap();
    assert_exit(&out, 0);
    assert_eq!(stdout(&out), format!("codex-cli {OTHER}\n"));
    for w in &said_by_install {
        assert_eq!(
            stderr(&out).matches(w.as_str()).count(),
            1,
            "{w}\n{}",
            describe(&out)
        );
    }
}
