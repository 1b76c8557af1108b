//! `install --python` and `wheel` against real virtualenvs made by the tests. Skipped, with a
//! message, on a machine without `python3`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{assert_exit, runtime_dir, stderr, TestContext, V};
use crate::fixture::{publish_and_install, Package};

fn python3() -> Option<PathBuf> {
    let ok = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("SKIPPED: python3 is not available on this machine");
    }
    ok.then(|| PathBuf::from("python3"))
}

/// A fresh venv (without pip, for speed); pip runs from the system Python with `--python`.
fn venv(ctx: &TestContext, name: &str) -> PathBuf {
    let dir = ctx.root().join(name);
    let st = Command::new("python3")
        .args(["-m", "venv", "--without-pip"])
        .arg(&dir)
        .status()
        .expect("python3 -m venv");
    assert!(st.success());
    dir.join("bin/python")
}

fn pip(py: &Path, args: &[&str]) -> std::process::Output {
    Command::new("python3")
        .args(["-m", "pip", "--disable-pip-version-check", "--python"])
        .arg(py)
        .args(args)
        .output()
        .expect("run pip")
}

/// The interpreter's platlib (where pip and uv install).
pub(crate) fn site_packages(py: &Path) -> PathBuf {
    let out = Command::new(py)
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_path('platlib'))",
        ])
        .output()
        .expect("ask the venv");
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// `import codex_cli_bin` and run what `bundled_codex_path()` returns.
fn bundled_codex_version(py: &Path) -> String {
    let out = Command::new(py)
        .args([
            "-c",
            "import codex_cli_bin, subprocess; p = codex_cli_bin.bundled_codex_path(); \
             assert codex_cli_bin.bundled_path_dir().name == 'codex-path'; \
             assert codex_cli_bin.PACKAGE_NAME == 'openai-codex-cli-bin'; \
             print(subprocess.run([str(p), '--version'], capture_output=True, text=True, check=True).stdout.strip())",
        ])
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn install_python(ctx: &TestContext, version: &str, py: &Path) -> serde_json::Value {
    let mut cmd = ctx.cmd(["install", "--json", "--version", version, "--python"]);
    cmd.arg(py);
    let out = cmd.output().expect("install --python");
    assert_exit(&out, 0);
    serde_json::from_slice(&out.stdout).expect("--json")
}

fn listing(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        out.push(e.file_name().to_string_lossy().into_owned());
    }
    out.sort();
    out
}

#[test]
fn install_python_then_pip_sees_it_imports_it_and_uninstalls_it_cleanly() {
    if python3().is_none() {
        return;
    }
    let ctx = TestContext::new();
    publish_and_install(&ctx, V, &Package::codex(V));
    let py = venv(&ctx, "venv");
    let site = site_packages(&py);
    let before = listing(&site);

    let json = install_python(&ctx, V, &py);
    assert_eq!(json["python"]["action"], "installed", "{json}");
    let show = pip(&py, &["show", "-f", "openai-codex-cli-bin"]);
    let text = String::from_utf8_lossy(&show.stdout);
    assert!(
        text.contains("Version: 0.163.0") && text.contains("codex_cli_bin/bin/codex"),
        "{text}"
    );
    assert_eq!(bundled_codex_version(&py), "codex-cli 0.163.0");
    let installer =
        std::fs::read_to_string(site.join("openai_codex_cli_bin-0.163.0.dist-info/INSTALLER"))
            .unwrap();
    assert_eq!(installer.trim(), "codex-bootstrap");
    // pip's own check of RECORD-listed metadata.
    let check = pip(&py, &["check"]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );

    // Idempotent: nothing to do the second time.
    let json = install_python(&ctx, V, &py);
    assert_eq!(json["python"]["action"], "already-installed");

    // The store is never written through the environment: files are copies or reflinks.
    let env_codex = site.join("codex_cli_bin/bin/codex");
    let store_codex = runtime_dir(&ctx, V).join("bin/codex");
    std::fs::write(&env_codex, b"#!/bin/sh\necho tampered\n").unwrap();
    assert!(std::fs::read_to_string(&store_codex)
        .unwrap()
        .contains("codex-cli 0.163.0"));
    // ...and a damaged install is repaired by the next run.
    let json = install_python(&ctx, V, &py);
    assert_ne!(json["python"]["action"], "already-installed");
    assert_eq!(bundled_codex_version(&py), "codex-cli 0.163.0");

    let out = pip(&py, &["uninstall", "-y", "openai-codex-cli-bin"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(listing(&site), before, "pip uninstall left files behind");
}

#[test]
fn another_version_is_replaced() {
    if python3().is_none() {
        return;
    }
    let ctx = TestContext::new();
    publish_and_install(&ctx, "0.162.0", &Package::codex("0.162.0"));
    publish_and_install(&ctx, V, &Package::codex(V));
    let py = venv(&ctx, "venv");
    install_python(&ctx, "0.162.0", &py);
    assert_eq!(bundled_codex_version(&py), "codex-cli 0.162.0");
    let json = install_python(&ctx, V, &py);
    assert_eq!(json["python"]["action"], "replaced");
    assert_eq!(json["python"]["previous"], "0.162.0");
    assert_eq!(bundled_codex_version(&py), "codex-cli 0.163.0");
    let site = site_packages(&py);
    assert!(!site.join("openai_codex_cli_bin-0.162.0.dist-info").exists());
}

#[test]
fn an_externally_managed_interpreter_is_refused_without_the_flag() {
    if python3().is_none() {
        return;
    }
    let ctx = TestContext::new();
    publish_and_install(&ctx, V, &Package::codex(V));
    // A stand-in for a distribution's system Python: it reports what a PEP 668 interpreter
    // reports (EXTERNALLY-MANAGED in its stdlib, not a venv), with a site dir of our own.
    let site = ctx.root().join("system-site");
    std::fs::create_dir_all(&site).unwrap();
    let fake = ctx.root().join("system-python");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\necho '{{\"executable\":\"/usr/bin/python3\",\"version\":\"3.12.0\",\"prefix\":\"/usr\",\"purelib\":\"{0}\",\"platlib\":\"{0}\",\"in_venv\":false,\"externally_managed\":true}}'\n",
            site.display()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let mut cmd = ctx.cmd(["install", "--python"]);
    cmd.arg(&fake);
    let out = cmd.output().unwrap();
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains("externally managed") && stderr(&out).contains("venv"),
        "{}",
        stderr(&out)
    );
    assert!(listing(&site).is_empty());

    let mut cmd = ctx.cmd(["install", "--break-system-packages", "--python"]);
    cmd.arg(&fake);
    assert_exit(&cmd.output().unwrap(), 0);
    assert!(site.join("codex_cli_bin/bin/codex").is_file());
}

#[test]
fn the_wheel_is_valid_and_pip_installs_it() {
    if python3().is_none() {
        return;
    }
    let ctx = TestContext::new();
    publish_and_install(&ctx, V, &Package::codex(V));
    let out_dir = ctx.root().join("dist");
    let mut cmd = ctx.cmd(["wheel", "-q", "--out"]);
    cmd.arg(&out_dir);
    let out = cmd.output().unwrap();
    assert_exit(&out, 0);
    let wheel = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let name = wheel.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with("openai_codex_cli_bin-0.163.0-py3-none-") && name.ends_with(".whl"),
        "{name}"
    );

    // Every RECORD line matches the bytes in the archive, and every file is listed.
    let verify = Command::new("python3")
        .arg("-c")
        .arg(
            "import base64, csv, hashlib, io, sys, zipfile\n\
             z = zipfile.ZipFile(sys.argv[1])\n\
             rec = [n for n in z.namelist() if n.endswith('.dist-info/RECORD')][0]\n\
             rows = list(csv.reader(io.TextIOWrapper(z.open(rec), 'utf-8')))\n\
             listed = {r[0] for r in rows}\n\
             assert listed == set(z.namelist()), (listed ^ set(z.namelist()))\n\
             for path, h, size in rows:\n\
             \x20   if path == rec: assert h == '' and size == ''; continue\n\
             \x20   data = z.read(path)\n\
             \x20   d = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()\n\
             \x20   assert h == 'sha256=' + d and int(size) == len(data), path\n\
             assert (z.getinfo('codex_cli_bin/bin/codex').external_attr >> 16) & 0o111\n\
             print('ok', len(rows))\n",
        )
        .arg(&wheel)
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );

    let py = venv(&ctx, "venv");
    let out = pip(
        &py,
        &[
            "install",
            "--no-deps",
            "--no-index",
            wheel.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(bundled_codex_version(&py), "codex-cli 0.163.0");
}

#[test]
fn doctor_checks_the_python_environment() {
    if python3().is_none() {
        return;
    }
    let ctx = TestContext::new();
    publish_and_install(&ctx, V, &Package::codex(V));
    let py = venv(&ctx, "venv");
    let doctor = |ctx: &TestContext| {
        let mut cmd = ctx.cmd(["doctor", "--offline", "--json", "--python"]);
        cmd.arg(&py);
        let out = cmd.output().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == "python")
            .cloned()
            .unwrap()
    };
    let c = doctor(&ctx);
    assert_eq!(c["status"], "fail", "{c}");
    assert!(
        c["hint"].as_str().unwrap().contains("install --python"),
        "{c}"
    );
    install_python(&ctx, V, &py);
    let c = doctor(&ctx);
    assert_eq!(c["status"], "ok", "{c}");
    assert!(
        c["summary"]
            .as_str()
            .unwrap()
            .contains("bundled_codex_path() runs"),
        "{c}"
    );
}

/// A `python3` first on PATH that only leaves a mark that it ran: the refusals below must not
/// fall back to the interpreter on PATH, not even to ask it something.
fn marking_python3(ctx: &TestContext) -> (String, PathBuf) {
    let bin = ctx.root().join("marking-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let mark = ctx.root().join("python3-ran");
    let fake = bin.join("python3");
    std::fs::write(
        &fake,
        format!("#!/bin/sh\ntouch '{}'\nexit 1\n", mark.display()),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap();
    (path.to_string_lossy().into_owned(), mark)
}

/// `install --python` (and its dry run) with `extra` args and `VIRTUAL_ENV`, if any: refused
/// with exit 1 before any interpreter runs; its stderr.
#[track_caller]
fn refused(ctx: &TestContext, virtual_env: Option<&Path>) -> Vec<String> {
    let (path, mark) = marking_python3(ctx);
    let mut said = Vec::new();
    for args in [
        &["install", "--python"][..],
        &["install", "--dry-run", "--python"],
    ] {
        let mut cmd = ctx.cmd(args);
        cmd.env("PATH", &path);
        if let Some(v) = virtual_env {
            cmd.env("VIRTUAL_ENV", v);
        }
        let out = cmd.output().unwrap();
        assert_exit(&out, 1);
        said.push(stderr(&out));
    }
    assert!(!mark.exists(), "python3 on PATH ran");
    said
}

#[test]
fn a_stale_virtual_env_is_refused_naming_it_not_replaced_by_python3_on_path() {
    let ctx = TestContext::new();
    let stale = ctx.root().join("deleted-venv");
    for err in refused(&ctx, Some(&stale)) {
        assert!(
            err.contains(&format!(
                "`VIRTUAL_ENV` names `{}`, which does not exist",
                stale.display()
            )) && err.contains("unset `VIRTUAL_ENV`")
                && err.contains("--python PY"),
            "{err}"
        );
    }
    // A directory that is not a virtual environment is no better.
    let plain = ctx.root().join("plain-dir");
    std::fs::create_dir_all(plain.join("bin")).unwrap();
    for err in refused(&ctx, Some(&plain)) {
        assert!(
            err.contains(&format!("`{}`", plain.display()))
                && err.contains("is not a virtual environment (it has no `pyvenv.cfg`)"),
            "{err}"
        );
    }
    // doctor checks the environment it names, and fails with the fix.
    let out = ctx
        .cmd(["doctor", "--offline", "--json"])
        .env("VIRTUAL_ENV", &stale)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let c = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "python")
        .cloned()
        .unwrap_or_else(|| panic!("no python check: {v}"));
    assert_eq!(c["status"], "fail", "{c}");
    assert!(
        c["summary"]
            .as_str()
            .unwrap()
            .contains(&stale.display().to_string()),
        "{c}"
    );
}

#[test]
fn no_environment_is_refused_with_the_fix() {
    let ctx = TestContext::new();
    for err in refused(&ctx, None) {
        assert!(
            err.contains("no virtual environment found")
                && err.contains(&ctx.work_dir().display().to_string())
                && err.contains("`uv venv`")
                && err.contains("`python3 -m venv .venv`")
                && err.contains("`--python PY`")
                && err.contains("`--system`"),
            "{err}"
        );
    }
    // A `.venv` that is not a virtual environment is named, as uv names it, not passed over.
    let dot_venv = ctx.work_dir().join(".venv");
    std::fs::create_dir_all(&dot_venv).unwrap();
    for err in refused(&ctx, None) {
        assert!(
            err.contains(&format!("`{}`", dot_venv.display()))
                && err.contains("no `pyvenv.cfg`")
                && err.contains("uv venv"),
            "{err}"
        );
    }
    // `--system` means nothing without `--python`.
    assert_exit(&ctx.run(["install", "--system"]), 2);
}

#[test]
fn a_named_interpreter_and_system_still_install() {
    if crate::common::require(
        "python3",
        crate::common::command_runs("python3", &["--version"]),
    )
    .is_none()
    {
        return;
    }
    let ctx = TestContext::new();
    publish_and_install(&ctx, V, &Package::codex(V));
    let stale = ctx.root().join("deleted-venv");
    // Named: used whatever VIRTUAL_ENV says.
    let py = venv(&ctx, "named");
    let out = ctx
        .cmd(["install", "--json", "--version", V, "--python"])
        .arg(&py)
        .env("VIRTUAL_ENV", &stale)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_eq!(bundled_codex_version(&py), "codex-cli 0.163.0");

    // `--system`: `python3` on PATH, virtual environments ignored. The "system" interpreter
    // here is one the test made, first on PATH.
    let system = venv(&ctx, "system");
    let bin = system.parent().unwrap().to_path_buf();
    let path = std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap();
    let out = ctx
        .cmd(["install", "--json", "--version", V, "--python", "--system"])
        .env("PATH", &path)
        .env("VIRTUAL_ENV", &stale)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json["python"]["site_packages"].as_str().map(PathBuf::from),
        Some(site_packages(&system)),
        "{json}"
    );
    assert_eq!(bundled_codex_version(&system), "codex-cli 0.163.0");
}

/// The guard the test context sets: with `__CODEX_BOOTSTRAP_TEST_SANDBOX` naming a directory,
/// an install into an environment outside it is an error and writes nothing there.
#[test]
fn the_test_sandbox_knob_turns_a_write_outside_it_into_an_error() {
    if crate::common::require(
        "python3",
        crate::common::command_runs("python3", &["--version"]),
    )
    .is_none()
    {
        return;
    }
    let ctx = TestContext::new();
    publish_and_install(&ctx, V, &Package::codex(V));
    let py = venv(&ctx, "outside");
    let site = site_packages(&py);
    let before = listing(&site);
    let sandbox = ctx.root().join("sandbox");
    std::fs::create_dir_all(&sandbox).unwrap();
    let out = ctx
        .cmd(["install", "--version", V, "--python"])
        .arg(&py)
        .env("__CODEX_BOOTSTRAP_TEST_SANDBOX", &sandbox)
        .output()
        .unwrap();
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains(&format!("refusing to write into `{}`", site.display()))
            && stderr(&out).contains("outside the test sandbox"),
        "{}",
        stderr(&out)
    );
    assert_eq!(listing(&site), before, "written outside the sandbox");
    // The same install inside the sandbox the context names goes ahead.
    let json = install_python(&ctx, V, &py);
    assert_eq!(json["python"]["action"], "installed", "{json}");
}

/// A script package answering `codex-cli 0.163.0`, with a RECORD that agrees with it, in the
/// environment of `py`; `ran` is created if its `codex` is ever run.
fn fake_runtime_package(py: &Path, ran: &Path) {
    use base64::Engine as _;
    use sha2::Digest as _;
    let site = site_packages(py);
    let pkg = site.join("codex_cli_bin");
    std::fs::create_dir_all(pkg.join("bin")).unwrap();
    let init = "from pathlib import Path\n\ndef bundled_codex_path():\n    return Path(__file__).parent / 'bin' / 'codex'\n";
    let codex = format!(
        "#!/bin/sh\ntouch '{}'\necho 'codex-cli {V}'\n",
        ran.display()
    );
    std::fs::write(pkg.join("__init__.py"), init).unwrap();
    std::fs::write(pkg.join("bin/codex"), &codex).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            pkg.join("bin/codex"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
    }
    let line = |path: &str, bytes: &[u8]| {
        let digest =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(bytes));
        format!("{path},sha256={digest},{}\n", bytes.len())
    };
    let info = site.join(format!("openai_codex_cli_bin-{V}.dist-info"));
    std::fs::create_dir_all(&info).unwrap();
    let metadata = format!("Metadata-Version: 2.1\nName: openai-codex-cli-bin\nVersion: {V}\n");
    std::fs::write(info.join("METADATA"), &metadata).unwrap();
    let record = format!(
        "{}{}{}openai_codex_cli_bin-{V}.dist-info/RECORD,,\n",
        line("codex_cli_bin/__init__.py", init.as_bytes()),
        line("codex_cli_bin/bin/codex", codex.as_bytes()),
        line(
            &format!("openai_codex_cli_bin-{V}.dist-info/METADATA"),
            metadata.as_bytes()
        ),
    );
    std::fs::write(info.join("RECORD"), record).unwrap();
}

#[test]
fn doctor_refuses_a_codex_in_the_environment_that_is_not_the_pinned_one_without_running_it() {
    if python3().is_none() {
        return;
    }
    let ctx = TestContext::new();
    publish_and_install(&ctx, V, &Package::codex(V));
    // The project pins the bytes of `bin/codex`, as `codex-bootstrap pin` records them.
    let pinned = crate::fixture::sha256_hex(crate::fixture::codex_script(V).as_bytes());
    std::fs::write(
        ctx.work_dir().join("codex-runtime.toml"),
        format!(
            "[runtime]\nversion = \"{V}\"\n\n[targets.{}]\ncodex_sha256 = \"{pinned}\"\n",
            crate::common::host_target()
        ),
    )
    .unwrap();
    let py = venv(&ctx, ".venv");
    let ran = ctx.root().join("the-fake-codex-ran");
    fake_runtime_package(&py, &ran);
    let doctor = || {
        let mut cmd = ctx.cmd(["doctor", "--offline", "--json", "--python"]);
        cmd.arg(&py);
        let out = cmd.output().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == "python")
            .cloned()
            .unwrap()
    };
    let c = doctor();
    assert_eq!(c["status"], "fail", "{c}");
    let summary = c["summary"].as_str().unwrap();
    assert!(
        summary.contains("codex_cli_bin/bin/codex")
            && summary.contains(&pinned)
            && summary.contains("codex-runtime.toml"),
        "{c}"
    );
    assert!(!ran.exists(), "doctor ran the fake codex");

    // `install --python` replaces it with the runtime, which doctor then accepts and runs.
    install_python(&ctx, V, &py);
    let c = doctor();
    assert_eq!(c["status"], "ok", "{c}");
    assert!(!ran.exists());

    // A codex changed after the install, whatever its size, is refused by its RECORD.
    let env_codex = site_packages(&py).join("codex_cli_bin/bin/codex");
    let tampered = crate::fixture::codex_script(V).replace("fake codex", "evil codex");
    std::fs::write(&env_codex, tampered).unwrap();
    std::fs::write(
        ctx.work_dir().join("codex-runtime.toml"),
        format!("[runtime]\nversion = \"{V}\"\n"),
    )
    .unwrap();
    let c = doctor();
    assert_eq!(c["status"], "fail", "{c}");
    assert!(c["summary"].as_str().unwrap().contains("RECORD"), "{c}");
}
