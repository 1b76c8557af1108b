//! `install --python` as pip and uv would install: the interpreter's own wheel from the
//! loopback index, its tree in the store, linked into environments by each link mode; uv's
//! `uv sync`, `uv pip` and pip accepting the result; environments made by `uv venv` (no pip);
//! `.venv` discovery. Needs `python3` and uv (`.ci/run` installs uv into `target/ci-venv`):
//! under `CI=true` a missing one fails the test; elsewhere the test says it skips.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::{assert_exit, describe, stderr, PointAt, TestContext, V};
use crate::fixture::{
    host_manylinux_tag, host_wheel_tag, sha256_hex, wheel, wheel_lying_about, wheel_name, Entry,
    Package,
};
use crate::python::site_packages;
use crate::support::http::Fault;
use crate::support::pyindex::PythonIndex;

/// A tool the test needs: found, or (under CI) a failure, or (elsewhere) a skip.
fn need(name: &str, found: Option<PathBuf>) -> Option<PathBuf> {
    if found.is_none() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{name} is required under CI=true (.ci/run installs uv into target/ci-venv)");
        }
        eprintln!("SKIPPED: {name} is not available on this machine");
    }
    found
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn python3() -> Option<PathBuf> {
    need("python3", on_path("python3"))
}

/// uv: `CODEX_BOOTSTRAP_TEST_UV`, else `target/ci-venv/bin/uv`, else `uv` on PATH.
fn uv() -> Option<PathBuf> {
    let ci_venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/ci-venv/bin/uv");
    let found = std::env::var_os("CODEX_BOOTSTRAP_TEST_UV")
        .map(PathBuf::from)
        .or_else(|| ci_venv.is_file().then_some(ci_venv))
        .or_else(|| on_path("uv"));
    need("uv", found)
}

fn tools() -> Option<(PathBuf, PathBuf)> {
    Some((python3()?, uv()?))
}

/// The wheel tag this machine's python3 accepts of the two Linux wheels, as pip decides.
fn expected_tag() -> &'static str {
    let out = Command::new("python3")
        .args([
            "-c",
            "import os; print(os.confstr('CS_GNU_LIBC_VERSION') or '')",
        ])
        .output()
        .expect("python3");
    if String::from_utf8_lossy(&out.stdout).contains("glibc") {
        host_manylinux_tag()
    } else {
        host_wheel_tag()
    }
}

/// An index with both Linux wheels of V (as the real one has): the product must pick one.
fn index() -> PythonIndex {
    let pkg = Package::codex(V);
    PythonIndex::builder()
        .wheel(
            &wheel_name(V, host_wheel_tag()),
            wheel(V, host_wheel_tag(), &pkg),
        )
        .wheel(
            &wheel_name(V, host_manylinux_tag()),
            wheel(V, host_manylinux_tag(), &pkg),
        )
        .start()
}

/// `uv venv DIR` (no pip in it), run in the sandbox; its interpreter.
fn uv_venv(ctx: &TestContext, uv: &Path, dir: &Path) -> PathBuf {
    let out = uv_cmd(ctx, uv)
        .args(["venv", "-q", "--python", "python3"])
        .arg(dir)
        .output()
        .expect("uv venv");
    assert!(out.status.success(), "{}", describe(&out));
    dir.join("bin/python")
}

fn uv_cmd(ctx: &TestContext, uv: &Path) -> Command {
    let mut cmd = ctx.command(uv);
    cmd.env("UV_CACHE_DIR", ctx.root().join("uv-cache"))
        .env("UV_PYTHON_DOWNLOADS", "never")
        .env("UV_NO_PROGRESS", "1");
    cmd
}

fn install_python(ctx: &TestContext, index: &PythonIndex, py: &Path, extra: &[&str]) -> Output {
    let mut cmd = ctx.cmd(["install", "--json", "--version", V]);
    cmd.args(extra).arg("--python").arg(py).python_index(index);
    cmd.output().expect("install --python")
}

fn json(out: &Output) -> serde_json::Value {
    assert_exit(out, 0);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", describe(out)))
}

fn dist_info(site: &Path) -> PathBuf {
    site.join(format!("openai_codex_cli_bin-{V}.dist-info"))
}

/// Every file under `dir`, relative, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if std::fs::symlink_metadata(&p).is_ok_and(|m| m.is_dir()) {
                walk(base, &p, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn bundled_codex_version(py: &Path) -> String {
    let out = Command::new(py)
        .args([
            "-c",
            // The fixture wheel's __init__.py is a docstring: find bin/codex beside it.
            "import codex_cli_bin, pathlib, subprocess; \
             p = pathlib.Path(codex_cli_bin.__file__).parent / 'bin' / 'codex'; \
             print(subprocess.run([str(p), '--version'], capture_output=True, text=True, check=True).stdout.strip())",
        ])
        .output()
        .expect("run python");
    assert!(out.status.success(), "{}", describe(&out));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[cfg(unix)]
fn inode(p: &Path) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(p).unwrap();
    (m.dev(), m.ino())
}

#[test]
#[cfg(unix)]
fn the_interpreters_own_wheel_goes_in_once_and_uv_and_pip_accept_it() {
    let Some((_, uv)) = tools() else { return };
    let ctx = TestContext::new();
    let index = index();
    let tag = expected_tag();
    let py = uv_venv(&ctx, &uv, &ctx.root().join("venv"));
    let site = site_packages(&py);

    let report = json(&install_python(&ctx, &index, &py, &[]));
    assert_eq!(report["python"]["action"], "installed", "{report}");
    assert_eq!(report["python"]["wheel_tag"], tag, "{report}");
    // Only the wheel this interpreter needs was downloaded, once.
    let chosen = wheel_name(V, tag);
    let other = if tag == host_wheel_tag() {
        wheel_name(V, host_manylinux_tag())
    } else {
        wheel_name(V, host_wheel_tag())
    };
    assert_eq!(index.downloads(&chosen), 1);
    assert_eq!(index.downloads(&other), 0);
    // The project page was read once: ahead, while the interpreter was probed, and the plan
    // that chose the wheel used that reading.
    let page_reads = || index.server().requests_to(&index.project_path()).len();
    assert_eq!(page_reads(), 1);
    // The wheel's own WHEEL file, with its tag, and a RECORD of what is there.
    let wheel_file = std::fs::read_to_string(dist_info(&site).join("WHEEL")).unwrap();
    assert!(
        wheel_file.contains(&format!("Tag: py3-none-{tag}")),
        "{wheel_file}"
    );
    let record = std::fs::read_to_string(dist_info(&site).join("RECORD")).unwrap();
    for line in record.lines() {
        let path = line.rsplitn(3, ',').nth(2).unwrap();
        assert!(site.join(path).exists(), "RECORD lists `{path}`, absent");
    }
    assert!(record.contains("INSTALLER,sha256="), "{record}");
    assert_eq!(bundled_codex_version(&py), "codex-cli 0.163.0");

    // The store keeps the tree apart from full packages, and `list` says which is which.
    let list = ctx.run(["list", "--json"]);
    let rows: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(rows[0]["kind"], "wheel", "{rows}");
    assert_eq!(rows[0]["wheel_tag"], tag, "{rows}");

    // A uv project that locks the runtime: `uv sync --frozen` has nothing to do.
    let project = ctx.root().join("project");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(
        project.join("pyproject.toml"),
        format!(
            "[project]\nname = \"p\"\nversion = \"0.1.0\"\nrequires-python = \">=3.9\"\ndependencies = [\"openai-codex-cli-bin=={V}\"]\n\n[tool.uv]\nindex-url = \"{}\"\n",
            index.url()
        ),
    )
    .unwrap();
    let lock = uv_cmd(&ctx, &uv)
        .current_dir(&project)
        .args(["lock", "--allow-insecure-host", "127.0.0.1"])
        .output()
        .unwrap();
    assert!(lock.status.success(), "{}", describe(&lock));
    // (uv lock reads the wheel's metadata with range requests.)
    let after_lock = index.downloads(&chosen);
    let pages_after_lock = page_reads();
    let project_py = uv_venv(&ctx, &uv, &project.join(".venv"));
    // `install --python` with no value finds the project's .venv, from a subdirectory.
    let sub = project.join("src/pkg");
    std::fs::create_dir_all(&sub).unwrap();
    let out = ctx
        .cmd(["install", "--json", "--version", V, "--python"])
        .current_dir(&sub)
        .python_index(&index)
        .output()
        .unwrap();
    let report = json(&out);
    assert_eq!(
        report["python"]["site_packages"]
            .as_str()
            .map(PathBuf::from),
        Some(site_packages(&project_py)),
        "{report}"
    );
    // The tree was in the store: nothing was asked of the index, not even ahead.
    assert_eq!(page_reads(), pages_after_lock);
    let sync = uv_cmd(&ctx, &uv)
        .current_dir(&project)
        .args(["sync", "--frozen", "--allow-insecure-host", "127.0.0.1"])
        .output()
        .unwrap();
    assert!(sync.status.success(), "{}", describe(&sync));
    let said = stderr(&sync);
    assert!(
        !said.contains("Installed") && !said.contains("Uninstalled"),
        "uv sync reinstalled: {said}"
    );
    // `uv pip install` of the same version: already satisfied.
    let uvpip = uv_cmd(&ctx, &uv)
        .args(["pip", "install", "--python"])
        .arg(&py)
        .args([
            "--index-url",
            &index.url(),
            "--allow-insecure-host",
            "127.0.0.1",
        ])
        .arg(format!("openai-codex-cli-bin=={V}"))
        .output()
        .unwrap();
    assert!(uvpip.status.success(), "{}", describe(&uvpip));
    assert!(
        !stderr(&uvpip).contains("Installed"),
        "{}",
        describe(&uvpip)
    );
    // pip: the requirement is satisfied and nothing is broken.
    let pip = |args: &[&str]| {
        ctx.command("python3")
            .args(["-m", "pip", "--disable-pip-version-check", "--python"])
            .arg(&py)
            .args(args)
            .output()
            .unwrap()
    };
    let check = pip(&["check"]);
    assert!(check.status.success(), "{}", describe(&check));
    let again = pip(&[
        "install",
        "--no-deps",
        "--index-url",
        &index.url(),
        &format!("openai-codex-cli-bin=={V}"),
    ]);
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("Requirement already satisfied"),
        "{}",
        describe(&again)
    );
    assert_eq!(
        index.downloads(&chosen),
        after_lock,
        "neither install --python, uv sync, uv pip nor pip downloaded it again"
    );
}

#[test]
#[cfg(unix)]
fn each_link_mode_links_as_named_and_the_store_stays_read_only() {
    let Some((_, uv)) = tools() else { return };
    let ctx = TestContext::new();
    let index = index();
    let mut store_codex = None;
    for mode in [
        "clone",
        "copy",
        "hardlink",
        "symlink",
        "default",
        "env-hardlink",
    ] {
        let py = uv_venv(&ctx, &uv, &ctx.root().join(format!("venv-{mode}")));
        let site = site_packages(&py);
        let mut cmd = ctx.cmd(["install", "--json", "--version", V]);
        match mode {
            "default" => {}
            "env-hardlink" => {
                cmd.env("CODEX_BOOTSTRAP_LINK_MODE", "hardlink");
            }
            m => {
                cmd.args(["--link-mode", m]);
            }
        }
        let report = json(
            cmd.arg("--python")
                .arg(&py)
                .python_index(&index)
                .output()
                .as_ref()
                .unwrap(),
        );
        let tree_codex = PathBuf::from(report["path"].as_str().unwrap());
        store_codex.get_or_insert(tree_codex.clone());
        let env_codex = site.join("codex_cli_bin/bin/codex");
        let method = report["python"]["method"].as_str().unwrap().to_string();
        match mode {
            "symlink" => {
                assert_eq!(method, "symlink");
                assert_eq!(std::fs::read_link(&env_codex).unwrap(), tree_codex);
            }
            "hardlink" | "env-hardlink" => {
                assert_eq!(method, "hardlink", "{report}");
                assert_eq!(inode(&env_codex), inode(&tree_codex));
            }
            "copy" => {
                assert_eq!(method, "copy");
                assert_ne!(inode(&env_codex), inode(&tree_codex));
            }
            "clone" => {
                assert!(method == "clone" || method == "copy", "{report}");
                assert_ne!(inode(&env_codex), inode(&tree_codex));
            }
            _ => {
                // The default: a clone where the file system can, else a hard link.
                assert!(method == "clone" || method == "hardlink", "{report}");
            }
        }
        assert_eq!(bundled_codex_version(&py), "codex-cli 0.163.0", "{mode}");
        // RECORD and INSTALLER are the environment's own; everything else is the wheel's.
        let own: Vec<_> = files_under(&dist_info(&site));
        assert!(own.contains(&"RECORD".to_string()) && own.contains(&"INSTALLER".to_string()));
    }
    // One tree, one download, whatever the number of environments.
    assert_eq!(index.downloads(&wheel_name(V, expected_tag())), 1);
    // The store's files are read-only: a write through a hard link fails (unless root, whom
    // modes do not stop: then the receipt catches it).
    let store_codex = store_codex.unwrap();
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&store_codex)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o222, 0, "store file mode {mode:o}");
}

#[test]
#[cfg(unix)]
fn a_changed_store_tree_is_refused_and_verify_catches_it() {
    let Some((_, uv)) = tools() else { return };
    let ctx = TestContext::new();
    let index = index();
    let py = uv_venv(&ctx, &uv, &ctx.root().join("v1"));
    let report = json(&install_python(
        &ctx,
        &index,
        &py,
        &["--link-mode", "hardlink"],
    ));
    let tree_codex = PathBuf::from(report["path"].as_str().unwrap());
    let env_codex = site_packages(&py).join("codex_cli_bin/bin/codex");
    let written = std::fs::OpenOptions::new().append(true).open(&env_codex);
    match written {
        // Not root: the write through the environment fails, and the store is unchanged.
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::PermissionDenied),
        Ok(mut f) => {
            use std::io::Write;
            f.write_all(b"\n# tampered\n").unwrap();
            drop(f);
            // Root wrote through the hard link: the next install refuses the tree, and
            // --verify names what changed.
            let py2 = uv_venv(&ctx, &uv, &ctx.root().join("v2"));
            let out = install_python(&ctx, &index, &py2, &[]);
            assert_exit(&out, 1);
            assert!(stderr(&out).contains("changed"), "{}", describe(&out));
            let out = install_python(&ctx, &index, &py2, &["--verify"]);
            assert_ne!(out.status.code(), Some(0), "{}", describe(&out));
            // --force puts a fresh tree in place.
            let report = json(&install_python(&ctx, &index, &py2, &["--force"]));
            assert_eq!(report["python"]["action"], "installed", "{report}");
            assert_eq!(bundled_codex_version(&py2), "codex-cli 0.163.0");
        }
    }
    assert!(tree_codex.is_file());
}

/// The reproduction: through a venv's hard link the owner makes a store file
/// writable, rewrites it at the same size, and puts its mode and mtime back. Size and mtime
/// match the receipt; its ctime does not match the tree's stamp, so the next `install
/// --python` re-hashes the tree and refuses it.
#[test]
#[cfg(unix)]
fn a_tree_file_rewritten_at_its_size_with_mode_and_mtime_put_back_is_refused() {
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;
    let Some(python) = python3() else { return };
    let ctx = TestContext::new();
    let index = index();
    let venv = |name: &str| {
        let dir = ctx.root().join(name);
        let out = ctx
            .command(&python)
            .args(["-m", "venv", "--without-pip"])
            .arg(&dir)
            .output()
            .expect("python3 -m venv");
        assert!(out.status.success(), "{}", describe(&out));
        dir.join("bin/python")
    };
    let py = venv("v1");
    json(&install_python(
        &ctx,
        &index,
        &py,
        &["--link-mode", "hardlink"],
    ));
    let rg = site_packages(&py).join("codex_cli_bin/codex-path/rg");
    let before = std::fs::metadata(&rg).unwrap();
    let mut bytes = std::fs::read(&rg).unwrap();
    let at = bytes.len() - 2;
    bytes[at] ^= 0x20;
    std::fs::set_permissions(&rg, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut f = std::fs::OpenOptions::new().write(true).open(&rg).unwrap();
    f.write_all(&bytes).unwrap();
    f.set_modified(before.modified().unwrap()).unwrap();
    drop(f);
    std::fs::set_permissions(&rg, before.permissions()).unwrap();
    let after = std::fs::metadata(&rg).unwrap();
    assert_eq!(
        (
            after.len(),
            after.modified().unwrap(),
            after.permissions().mode()
        ),
        (
            before.len(),
            before.modified().unwrap(),
            before.permissions().mode()
        )
    );

    let py2 = venv("v2");
    let out = install_python(&ctx, &index, &py2, &[]);
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("changed")
            && err.contains("codex_cli_bin/codex-path/rg")
            && err.contains("sha256"),
        "{err}"
    );
    assert!(
        !site_packages(&py2).join("codex_cli_bin").exists(),
        "the changed tree was linked"
    );
    // --force puts a fresh tree in place.
    json(&install_python(&ctx, &index, &py2, &["--force"]));
}

#[test]
#[cfg(unix)]
fn a_tree_that_an_environment_symlinks_into_outlives_uninstall() {
    let Some((_, uv)) = tools() else { return };
    let ctx = TestContext::new();
    let index = index();
    let linked = uv_venv(&ctx, &uv, &ctx.root().join("linked"));
    let report = json(&install_python(
        &ctx,
        &index,
        &linked,
        &["--link-mode", "symlink"],
    ));
    let tree = PathBuf::from(report["path"].as_str().unwrap());
    let out = ctx.run(["uninstall", V]);
    assert!(
        stderr(&out).contains("symlink into it"),
        "{}",
        describe(&out)
    );
    assert!(tree.is_file(), "the tree must stay while linked");
    assert_eq!(bundled_codex_version(&linked), "codex-cli 0.163.0");
    // Once that environment is gone, uninstall removes the tree.
    std::fs::remove_dir_all(ctx.root().join("linked")).unwrap();
    let out = ctx.run(["uninstall", V]);
    assert_exit(&out, 0);
    assert!(!tree.exists(), "{}", describe(&out));
}

#[test]
#[cfg(unix)]
fn a_uv_venv_without_pip_finds_the_index_in_uv_config_or_another_pip() {
    let Some((_, uv)) = tools() else { return };
    let ctx = TestContext::new();
    let index = index();
    let py = uv_venv(&ctx, &uv, &ctx.root().join("venv"));
    // uv's own configuration: [tool.uv] in the project's pyproject.toml, found walking up.
    std::fs::create_dir_all(ctx.work_dir().join("sub")).unwrap();
    std::fs::write(
        ctx.work_dir().join("pyproject.toml"),
        format!(
            "[project]\nname = \"p\"\n\n[tool.uv]\nindex-url = \"{}\"\n",
            index.url()
        ),
    )
    .unwrap();
    let out = ctx
        .cmd(["install", "--json", "--version", V, "--python"])
        .arg(&py)
        .current_dir(ctx.work_dir().join("sub"))
        .env_remove("CODEX_BOOTSTRAP_INDEX_URL")
        .output()
        .unwrap();
    let report = json(&out);
    assert_eq!(report["python"]["wheel_tag"], expected_tag(), "{report}");
    std::fs::remove_file(ctx.work_dir().join("pyproject.toml")).unwrap();

    // Nothing configured and no pip in the venv: the pip of python3 on PATH is asked (here a
    // stand-in that answers as pip would, with the loopback index).
    let bin = ctx.root().join("fake-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let fake = bin.join("python3");
    std::fs::write(&fake, format!("#!/bin/sh\necho '{}'\n", index.url())).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let py2 = uv_venv(&ctx, &uv, &ctx.root().join("venv2"));
    let path = format!("{}:/usr/bin:/bin", bin.display());
    let out = ctx
        .cmd(["install", "--version", V, "--python"])
        .arg(&py2)
        .env_remove("CODEX_BOOTSTRAP_INDEX_URL")
        .env("PATH", &path)
        .env("PIP_CONFIG_FILE", "/dev/null")
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert!(
        site_packages(&py2)
            .join(format!("openai_codex_cli_bin-{V}.dist-info/WHEEL"))
            .is_file(),
        "{}",
        describe(&out)
    );
}

#[test]
#[cfg(unix)]
fn an_index_skipped_for_want_of_a_location_says_why_without_v() {
    let Some((_, uv)) = tools() else { return };
    let ctx = TestContext::new();
    let py = uv_venv(&ctx, &uv, &ctx.root().join("venv"));
    // Nothing configured, no pip in the venv, and no other interpreter on PATH.
    let empty = ctx.root().join("empty-bin");
    std::fs::create_dir_all(&empty).unwrap();
    let out = ctx
        .cmd([
            "install",
            "--version",
            V,
            "--source",
            "python-index",
            "--python",
        ])
        .arg(&py)
        .env_remove("CODEX_BOOTSTRAP_INDEX_URL")
        .env("PATH", &empty)
        .env("PIP_CONFIG_FILE", "/dev/null")
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0), "{}", describe(&out));
    let said = stderr(&out);
    assert!(
        said.contains("Skipping") && said.contains("has no pip"),
        "the reason must be in the normal output: {said}"
    );
}

#[test]
#[cfg(unix)]
fn doctor_checks_the_projects_venv_without_being_asked() {
    let Some((_, uv)) = tools() else { return };
    let ctx = TestContext::new();
    let index = index();
    let py = uv_venv(&ctx, &uv, &ctx.work_dir().join(".venv"));
    json(&install_python(&ctx, &index, &py, &[]));
    let sub = ctx.work_dir().join("a/b");
    std::fs::create_dir_all(&sub).unwrap();
    let out = ctx
        .cmd(["doctor", "--offline", "--json", "--version", V])
        .current_dir(&sub)
        .output()
        .unwrap();
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", describe(&out)));
    let checks = report["checks"].as_array().unwrap();
    let python = checks
        .iter()
        .find(|c| c["id"] == "python")
        .unwrap_or_else(|| panic!("no python check: {report}"));
    assert_eq!(python["status"], "ok", "{python}");
}

/// A wheel tree is unpacked from the `.partial` as it grows: a transfer that breaks off part
/// way resumes with `Range`, and the tree holds the whole wheel.
#[test]
#[cfg(unix)]
fn a_wheel_download_that_breaks_off_resumes_into_a_whole_tree() {
    let Some((_, uv)) = tools() else { return };
    let ctx = TestContext::new();
    let chosen = wheel_name(V, expected_tag());
    let bytes = wheel(V, expected_tag(), &Package::codex(V));
    let half = bytes.len() as u64 / 2;
    let index = PythonIndex::builder().wheel(&chosen, bytes).start();
    index
        .file_server()
        .fault(&index.file_path(&chosen), Fault::CutAfter(half));
    let py = uv_venv(&ctx, &uv, &ctx.root().join("venv"));
    let report = json(&install_python(&ctx, &index, &py, &[]));
    assert_eq!(report["python"]["action"], "installed", "{report}");
    let requests = index.file_server().requests_to(&index.file_path(&chosen));
    assert_eq!(requests.len(), 2, "{requests:?}");
    let range = requests[1]
        .headers
        .get("range")
        .cloned()
        .unwrap_or_default();
    assert!(
        range.starts_with("bytes="),
        "the second request resumes: {range:?}"
    );
    assert_ne!(range, "bytes=0-", "{range:?}");
    assert_eq!(bundled_codex_version(&py), "codex-cli 0.163.0");
    // Named: in the sandbox's work directory there is no environment to find.
    let out = ctx
        .cmd(["install", "--verify", "--version", V, "--python"])
        .arg(&py)
        .output()
        .unwrap();
    assert_exit(&out, 0);
}

/// A wheel whose bytes are not the ones its index lists: no tree of it is published, though its
/// entries were unpacked as it downloaded; the full package goes in instead, as the warning says.
#[test]
#[cfg(unix)]
fn a_tampered_wheel_leaves_no_tree() {
    let Some((_, uv)) = tools() else { return };
    let ctx = TestContext::new();
    let index = index();
    let chosen = wheel_name(V, expected_tag());
    index
        .file_server()
        .fault(&index.file_path(&chosen), Fault::CorruptByte(100));
    let py = uv_venv(&ctx, &uv, &ctx.root().join("venv"));
    let out = install_python(&ctx, &index, &py, &[]);
    let err = stderr(&out);
    assert!(err.contains("checksum mismatch"), "{}", describe(&out));
    assert!(
        err.contains("installing the full package instead"),
        "{}",
        describe(&out)
    );
    let list = ctx.run(["list", "--json"]);
    let rows: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert!(rows.iter().all(|r| r["kind"] != "wheel"), "{rows:?}");
    // Nothing is left of the staged tree either.
    let trees = ctx.cache_dir().join("wheels");
    let left = files_under(&trees);
    assert!(left.is_empty(), "{left:?}");
}

/// A wheel whose central directory gives one entry (`METADATA`) a CRC-32 that its local header
/// and its data do not have: found by the `zip` fuzz target (the zip crate refuses it as
/// corrupt; the streamed unpacker checked the local header's CRC and the reconcile compared
/// only names and sizes). The streamed wheel tree is refused, naming the entry and the
/// disagreement, and no tree is left.
#[test]
#[cfg(unix)]
fn a_wheel_whose_central_directory_disagrees_with_a_local_header_leaves_no_tree() {
    let Some((_, uv)) = tools() else { return };
    let ctx = TestContext::new();
    let hostile = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fuzz/regressions/zip/central-directory-crc-disagrees-with-local-header"
    ))
    .expect("the committed regression input");
    let chosen = expected_tag();
    let other = if chosen == host_manylinux_tag() {
        host_wheel_tag()
    } else {
        host_manylinux_tag()
    };
    let index = PythonIndex::builder()
        .wheel(&wheel_name(V, chosen), hostile)
        .wheel(&wheel_name(V, other), wheel(V, other, &Package::codex(V)))
        .start();
    let py = uv_venv(&ctx, &uv, &ctx.root().join("venv"));
    let out = install_python(&ctx, &index, &py, &[]);
    let err = stderr(&out);
    assert!(
        err.contains("openai_codex_cli_bin-0.163.0.dist-info/METADATA")
            && err.contains("the central directory and the entry's local header disagree"),
        "{}",
        describe(&out)
    );
    let list = ctx.run(["list", "--json"]);
    let rows: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert!(rows.iter().all(|r| r["kind"] != "wheel"), "{rows:?}");
    let left = files_under(&ctx.cache_dir().join("wheels"));
    assert!(left.is_empty(), "{left:?}");
}

/// Ctrl-C while a wheel tree is unpacking from a download that has stalled: the unpacker's
/// threads, waiting for bytes that will not come, stop too; exit 130 and nothing is left.
#[test]
#[cfg(unix)]
fn ctrl_c_mid_wheel_download_exits_130_and_leaves_no_tree() {
    let Some((_, uv)) = tools() else { return };
    let ctx = TestContext::new();
    let blob: Vec<u8> = (0..512 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let pkg = Package::codex(V).file("codex-resources/blob", &blob, 0o644);
    let chosen = wheel_name(V, expected_tag());
    let bytes = wheel(V, expected_tag(), &pkg);
    let half = bytes.len() as u64 / 2;
    let index = PythonIndex::builder().wheel(&chosen, bytes).start();
    index.file_server().fault(
        &index.file_path(&chosen),
        Fault::StallAfter(half, std::time::Duration::from_secs(60)),
    );
    let py = uv_venv(&ctx, &uv, &ctx.root().join("venv"));
    let child = ctx
        .cmd([
            "install",
            "--version",
            V,
            "--read-timeout",
            "300",
            "--python",
        ])
        .arg(&py)
        .python_index(&index)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start install");
    let trees = ctx.cache_dir().join("wheels");
    // Mid-download: the request arrived and the tree's staging dir exists.
    let version_dir = trees.join(expected_tag()).join(V);
    crate::common::wait_for("the wheel download to start", || {
        index.downloads(&chosen) > 0
            && std::fs::read_dir(&version_dir).is_ok_and(|mut d| {
                d.any(|e| e.is_ok_and(|e| e.file_name().to_string_lossy().starts_with(".staging-")))
            })
    });
    crate::interrupt::ctrl_c(&child);
    let out = crate::interrupt::finish(child);
    assert_exit(&out, 130);
    assert_eq!(files_under(&trees), Vec::<String>::new());
    assert!(!site_packages(&py).join("codex_cli_bin").exists());
}

/// `pin` records both Linux wheels (the musllinux one the full package comes from, and the
/// manylinux one pip and uv choose on glibc), and `install --python` holds the interpreter's
/// wheel to its pin: a pin it does not match refuses it before a byte is downloaded.
#[test]
#[cfg(unix)]
fn pin_records_both_linux_wheels_and_install_python_holds_its_wheel_to_them() {
    let Some((_, uv)) = tools() else { return };
    let ctx = TestContext::new();
    let index = index();
    pin_from(&ctx, &index);
    let path = ctx.work_dir().join("codex-runtime.toml");
    let genuine = std::fs::read_to_string(&path).unwrap();
    let manifest: toml::Value = toml::from_str(&genuine).unwrap();
    let t = &manifest["targets"][crate::common::host_target()];
    let (own, other) = (
        wheel_name(V, host_wheel_tag()),
        wheel_name(V, host_manylinux_tag()),
    );
    assert_eq!(t["wheel"]["file"].as_str(), Some(own.as_str()), "{genuine}");
    let others = t["other_wheels"].as_array().expect("other_wheels");
    assert_eq!(others.len(), 1, "{genuine}");
    assert_eq!(
        others[0]["file"].as_str(),
        Some(other.as_str()),
        "{genuine}"
    );
    assert_eq!(
        others[0]["sha256"].as_str(),
        Some(index.sha256(&other).as_str()),
        "{genuine}"
    );
    // Each wheel's bin/codex was hashed: it is codex_sha256, as its RECORD says.
    assert_eq!(
        t["wheel"]["codex_checked"].as_bool(),
        Some(true),
        "{genuine}"
    );
    assert_eq!(
        others[0]["codex_checked"].as_bool(),
        Some(true),
        "{genuine}"
    );

    // The interpreter's wheel, pinned wrongly: refused from its index digest alone.
    let chosen = wheel_name(V, expected_tag());
    let wrong = genuine.replace(&index.sha256(&chosen), &"ab".repeat(32));
    std::fs::write(&path, &wrong).unwrap();
    let py = uv_venv(&ctx, &uv, &ctx.root().join("venv"));
    // `pin` downloaded it once, to hash its bin/codex; the install must not.
    let before = index.downloads(&chosen);
    let out = install_python(&ctx, &index, &py, &[]);
    assert!(
        stderr(&out).contains(&"ab".repeat(32)),
        "the pin is named: {}",
        describe(&out)
    );
    assert_eq!(index.downloads(&chosen), before, "{}", describe(&out));

    // Pinned rightly: installed, and the pin is among what was checked.
    std::fs::write(&path, &genuine).unwrap();
    let py = uv_venv(&ctx, &uv, &ctx.root().join("venv2"));
    let report = json(&install_python(&ctx, &index, &py, &[]));
    assert_eq!(report["python"]["wheel_tag"], expected_tag(), "{report}");
    let checked = report["checked"].to_string();
    assert!(checked.contains("codex-runtime.toml"), "{report}");
}

/// `pin` from `index` alone, which must succeed.
fn pin_from(ctx: &TestContext, index: &PythonIndex) -> Output {
    let out = ctx
        .cmd(["pin", V, "--source", "python-index"])
        .python_index(index)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    out
}

/// An index serving only `wheel` as the interpreter's wheel, pinned (or not) by the project's
/// manifest as `pin` writes it from that index.
fn lying_index(ctx: &TestContext, bytes: Vec<u8>, pinned: bool) -> PythonIndex {
    let index = PythonIndex::builder()
        .wheel(&wheel_name(V, expected_tag()), bytes)
        .start();
    if pinned {
        pin_from(ctx, &index);
    }
    index
}

/// A wheel whose RECORD lies about a file (here `__init__.py`, the same size, other bytes).
/// From the index's own digest alone, every file is hashed and the lie refuses the wheel.
/// Pinned by the project's manifest, the files' digests are taken from the pinned RECORD (the
/// bytes are the pinned ones either way): the lie is recorded as the publisher wrote it, and
/// `install --verify`, which hashes the files themselves, reports the file.
#[test]
#[cfg(unix)]
fn a_record_that_lies_is_refused_unpinned_and_reported_by_verify_when_pinned() {
    let Some((_, uv)) = tools() else { return };
    let lie = "codex_cli_bin/__init__.py";
    let bytes = wheel_lying_about(V, expected_tag(), &Package::codex(V), lie);

    let ctx = TestContext::new();
    let index = lying_index(&ctx, bytes.clone(), false);
    let py = uv_venv(&ctx, &uv, &ctx.root().join("venv"));
    let out = install_python(&ctx, &index, &py, &[]);
    assert!(
        stderr(&out).contains("does not have the sha256 the wheel's RECORD lists"),
        "{}",
        describe(&out)
    );
    let trees = ctx.cache_dir().join("wheels");
    assert_eq!(files_under(&trees), Vec::<String>::new());

    let ctx = TestContext::new();
    let index = lying_index(&ctx, bytes, true);
    // bin/codex itself is honest: `pin` found it to be codex_sha256, as RECORD says.
    let manifest = std::fs::read_to_string(ctx.work_dir().join("codex-runtime.toml")).unwrap();
    assert!(manifest.contains("codex_checked = true"), "{manifest}");
    let py = uv_venv(&ctx, &uv, &ctx.root().join("venv"));
    let report = json(&install_python(&ctx, &index, &py, &[]));
    assert_eq!(report["python"]["action"], "installed", "{report}");
    assert!(
        report["checked"].to_string().contains("codex-runtime.toml"),
        "{report}"
    );
    assert_verify_names(&ctx, &py, lie);
}

/// `install --verify`, which hashes the installed files themselves, exits 1 naming `member`.
fn assert_verify_names(ctx: &TestContext, py: &Path, member: &str) {
    let out = ctx
        .cmd(["install", "--verify", "--version", V, "--python"])
        .arg(py)
        .output()
        .unwrap();
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains("does not match its receipt") && stderr(&out).contains(member),
        "{}",
        describe(&out)
    );
}

/// A RECORD that lies about `bin/codex` refuses the wheel's tree even when the wheel is pinned:
/// `pin` hashes the wheel's `bin/codex`, finds RECORD's word for it false and says so, so the
/// manifest does not mark it `codex_checked`, and the install hashes `bin/codex` (as it does for
/// any wheel whose pin did not check it), for `codex_sha256` and the signature speak for it.
#[test]
#[cfg(unix)]
fn a_record_that_lies_about_bin_codex_is_refused_even_pinned() {
    let Some((_, uv)) = tools() else { return };
    let bytes = wheel_lying_about(
        V,
        expected_tag(),
        &Package::codex(V),
        "codex_cli_bin/bin/codex",
    );
    let ctx = TestContext::new();
    let index = PythonIndex::builder()
        .wheel(&wheel_name(V, expected_tag()), bytes)
        .start();
    let out = pin_from(&ctx, &index);
    assert!(
        stderr(&out).contains("RECORD does not list bin/codex's sha256"),
        "{}",
        describe(&out)
    );
    let manifest = std::fs::read_to_string(ctx.work_dir().join("codex-runtime.toml")).unwrap();
    assert!(!manifest.contains("codex_checked"), "{manifest}");
    let py = uv_venv(&ctx, &uv, &ctx.root().join("venv"));
    let out = install_python(&ctx, &index, &py, &[]);
    assert!(
        stderr(&out).contains(
            "`codex_cli_bin/bin/codex` does not have the sha256 the wheel's RECORD lists"
        ),
        "{}",
        describe(&out)
    );
    let trees = ctx.cache_dir().join("wheels");
    assert_eq!(files_under(&trees), Vec::<String>::new());
    // The full package goes in instead: its files hashed, `bin/codex` the one pinned.
    assert!(
        stderr(&out).contains("installing the full package instead"),
        "{}",
        describe(&out)
    );
}

/// `codex_checked` is the manifest's word that its `pin` hashed that very wheel's `bin/codex`
/// and found it to be `codex_sha256`, as RECORD lists it: an install of those exact bytes takes
/// `bin/codex`'s digest from RECORD instead of hashing 300 MB again. Shown with a wheel whose
/// RECORD lies about `bin/codex` and a hand-written manifest that marks it checked against
/// the lie (a manifest that could lie so could as well pin another `codex_sha256`): the install
/// takes RECORD's word, and `install --verify`, which hashes the files themselves, names
/// `bin/codex`. Without the mark the same wheel is refused (the test above).
#[test]
#[cfg(unix)]
fn a_wheel_the_manifest_checked_is_not_hashed_again_and_verify_still_hashes_it() {
    let Some((_, uv)) = tools() else { return };
    let member = "codex_cli_bin/bin/codex";
    let pkg = Package::codex(V);
    let bytes = wheel_lying_about(V, expected_tag(), &pkg, member);
    let codex = pkg
        .entries
        .iter()
        .find_map(|e| match e {
            Entry::File { path, data, .. } if path == "bin/codex" => Some(data.clone()),
            _ => None,
        })
        .expect("the package has bin/codex");
    // What the lying RECORD lists for bin/codex: the digest of other bytes of its size.
    let lie = sha256_hex(&codex.iter().map(|b| !b).collect::<Vec<u8>>());
    let ctx = TestContext::new();
    let index = PythonIndex::builder()
        .wheel(&wheel_name(V, expected_tag()), bytes)
        .start();
    let target = crate::common::host_target();
    let manifest = format!(
        "[runtime]\nversion = \"{V}\"\n\n[targets.{target}]\ncodex_sha256 = \"{lie}\"\n\n[targets.{target}.wheel]\nfile = \"{}\"\nsha256 = \"{}\"\ncodex_checked = true\n",
        wheel_name(V, expected_tag()),
        index.sha256(&wheel_name(V, expected_tag())),
    );
    std::fs::write(ctx.work_dir().join("codex-runtime.toml"), &manifest).unwrap();
    let py = uv_venv(&ctx, &uv, &ctx.root().join("venv"));
    let report = json(&install_python(&ctx, &index, &py, &[]));
    assert_eq!(report["python"]["action"], "installed", "{report}");
    assert_verify_names(&ctx, &py, member);

    // The mark speaks for its wheel's bytes only: the same manifest without it is refused.
    let ctx = TestContext::new();
    std::fs::write(
        ctx.work_dir().join("codex-runtime.toml"),
        manifest.replace("codex_checked = true\n", ""),
    )
    .unwrap();
    let py = uv_venv(&ctx, &uv, &ctx.root().join("venv"));
    let out = install_python(&ctx, &index, &py, &[]);
    assert!(
        stderr(&out).contains(&format!(
            "`{member}` does not have the sha256 the wheel's RECORD lists"
        )),
        "{}",
        describe(&out)
    );
}
