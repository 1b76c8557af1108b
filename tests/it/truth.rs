//! Every command tells the truth (issue 27): verdicts name the real cause, files meant for
//! others are readable by them, `--dry-run` refuses what `install` refuses, and the smaller
//! promises of the store and CLI hold.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use crate::common::{
    assert_exit, assert_installed, describe, host_target, stderr, stdout, PointAt, TestContext,
    TAG, V,
};
use crate::fixture::{package_gz, publish_and_install, Package};
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

// ---------------------------------------------------------------------------------------------
// Verdicts name the real cause

/// A project pin of the host's wheel and npm tarball (made-up digests: nothing is served), so
/// a mirror's plan holds them without asking GitHub.
fn pin_registry_files(ctx: &TestContext) {
    let wheel = crate::fixture::wheel_name(V, crate::fixture::host_wheel_tag());
    let npm = crate::support::npm::tarball_name(
        V,
        Some(crate::support::npm::npm_platform(host_target())),
    );
    std::fs::write(
        ctx.work_dir().join("codex-runtime.toml"),
        format!(
            "[runtime]\nversion = \"{V}\"\n\n[targets.{t}.wheel]\nfile = \"{wheel}\"\nsha256 = \"{}\"\n\n[targets.{t}.npm]\nfile = \"{npm}\"\nintegrity = \"{}\"\n",
            crate::fixture::sha256_hex(b"a wheel"),
            crate::support::npm::integrity(b"a tarball"),
            t = host_target(),
        ),
    )
    .unwrap();
}

/// The line of the closing error that names `source`.
fn source_line(err: &str, source: &str) -> String {
    err.lines()
        .find(|l| l.trim_start().starts_with(&format!("{source}:")))
        .unwrap_or_else(|| panic!("no `{source}:` line in:\n{err}"))
        .to_string()
}

#[test]
fn a_mirror_directory_that_does_not_exist_is_the_mirrors_verdict_and_nothing_is_downloading() {
    let ctx = TestContext::new();
    pin_registry_files(&ctx);
    let missing = ctx.root().join("no-such-mirror");
    let out = ctx
        .cmd(["install", "--source", "github", "--mirror"])
        .arg(&missing)
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(!err.contains("Downloading"), "{err}");
    let mirror = source_line(&err, "mirror");
    assert!(
        mirror.contains("does not exist") && mirror.contains(&missing.display().to_string()),
        "{err}"
    );
    assert!(!mirror.contains("connect"), "{err}");
    assert!(err.contains("codex-bootstrap mirror --out"), "{err}");
}

#[test]
fn an_empty_mirror_directory_says_which_files_it_lacks_without_asking_github() {
    let ctx = TestContext::new();
    pin_registry_files(&ctx);
    let dir = ctx.root().join("empty-mirror");
    std::fs::create_dir_all(&dir).unwrap();
    let out = ctx
        .cmd(["install", "--source", "github", "--mirror"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(!err.contains("Downloading"), "{err}");
    let mirror = source_line(&err, "mirror");
    assert!(
        mirror.contains("the mirror has none of") && mirror.contains(&package_gz()),
        "{err}"
    );
    assert!(!mirror.contains("connect"), "{err}");
}

#[test]
fn an_http_mirror_answering_404_is_never_announced_as_downloading() {
    let ctx = TestContext::new();
    pin_registry_files(&ctx);
    let mirror = crate::support::http::TestServer::start();
    let out = ctx
        .cmd(["install", "--source", "github", "--mirror"])
        .arg(format!("{}/mirror", mirror.url()))
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(!err.contains("Downloading"), "{err}");
    assert!(!mirror.requests().is_empty(), "the mirror was asked");
    // GitHub's API (out of reach) and the files the mirror lacks are both said.
    let line = source_line(&err, "mirror");
    let wheel = crate::fixture::wheel_name(V, crate::fixture::host_wheel_tag());
    assert!(line.contains("connect") && line.contains(&wheel), "{err}");
}

fn host_wheel_index() -> crate::support::pyindex::PythonIndex {
    let tag = crate::fixture::host_wheel_tag();
    crate::support::pyindex::PythonIndex::builder()
        .wheel(
            &crate::fixture::wheel_name(V, tag),
            crate::fixture::wheel(V, tag, &Package::codex(V)),
        )
        .start()
}

fn host_npm() -> crate::support::npm::NpmRegistry {
    crate::support::npm::NpmRegistry::builder()
        .tarball(
            V,
            crate::support::npm::npm_platform(host_target()),
            crate::fixture::npm_tarball(V, host_target(), &Package::codex(V)),
        )
        .start()
}

#[test]
fn a_version_the_registries_say_does_not_exist_gets_no_network_advice() {
    let ctx = TestContext::new();
    let (index, npm) = (host_wheel_index(), host_npm());
    // GitHub is out of reach; the index and npm both answer that 0.999.0 does not exist.
    let out = ctx
        .cmd(["install", "0.999.0"])
        .python_index(&index)
        .npm_registry(&npm)
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let err = stderr(&out);
    let hint = &err[err
        .find("hint:")
        .unwrap_or_else(|| panic!("no hint:\n{err}"))..];
    assert!(hint.contains("no such version"), "{err}");
    for network in ["proxy", "offline", "reachable"] {
        assert!(!hint.contains(network), "network advice:\n{err}");
    }

    // npm alone says so too, with the same hint.
    let out = ctx
        .cmd(["install", "0.999.0", "--source", "npm"])
        .npm_registry(&npm)
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("hint:") && err.contains("no such version"),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------------
// `--dry-run` refuses what `install` refuses

#[test]
fn dry_run_refuses_every_mirror_install_refuses_with_the_same_error() {
    let ctx = TestContext::new();
    for mirror in [
        "ftp://mirror.example/codex",
        "http://mirror.example/codex",
        "http://",
        "file://host.example/srv/mirror",
    ] {
        let install = ctx.run(["install", "--source", "github", "--mirror", mirror]);
        let dry = ctx.run(["install", "--dry-run", "--mirror", mirror]);
        assert_ne!(install.status.code(), Some(0), "{}", describe(&install));
        assert_eq!(
            dry.status.code(),
            install.status.code(),
            "{}",
            describe(&dry)
        );
        let first = |out: &Output| stderr(out).lines().next().unwrap_or_default().to_string();
        assert!(first(&dry).starts_with("error:"), "{}", describe(&dry));
        assert_eq!(first(&dry), first(&install), "{mirror}");
        // `http://` is not taken for a directory named `http:`.
        assert!(!first(&dry).contains("http:`"), "{}", describe(&dry));
    }
    // Plain http to a host the user trusts is theirs to allow.
    let dry = ctx.run([
        "install",
        "--dry-run",
        "--allow-http",
        "--mirror",
        "http://mirror.example/codex",
    ]);
    assert_exit(&dry, 0);
}

#[test]
fn the_mirror_command_suggests_a_mirror_install_accepts_and_a_relative_file_url_works() {
    let ctx = TestContext::new();
    publish_and_install(&ctx, V, &Package::codex(V));
    let out = ctx.run(["mirror", "--from-cache", "--version", V, "--out", "./m1"]);
    assert_exit(&out, 0);
    let suggested = format!("--mirror {}", ctx.work_dir().join("m1").display());
    assert!(stdout(&out).contains(&suggested), "{}", describe(&out));

    // The mirror's own manifest pins what it holds: a fresh store installs from it through
    // `file://./m1`, which the dry run shows as the same directory.
    std::fs::copy(
        ctx.work_dir()
            .join("m1")
            .join(TAG)
            .join("codex-runtime.toml"),
        ctx.work_dir().join("codex-runtime.toml"),
    )
    .unwrap();
    let fresh = ctx.root().join("fresh-store");
    let dry = ctx
        .cmd(["install", "--dry-run", "--mirror", "file://./m1"])
        .env("CODEX_BOOTSTRAP_HOME", &fresh)
        .output()
        .unwrap();
    assert_exit(&dry, 0);
    let url = format!("file://{}", ctx.work_dir().join("m1").display());
    assert!(stdout(&dry).contains(&url), "{}", describe(&dry));
    let out = ctx
        .cmd(["install", "--json", "--mirror", "file://./m1"])
        .env("CODEX_BOOTSTRAP_HOME", &fresh)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["source"], "mirror", "{report}");
}

// ---------------------------------------------------------------------------------------------
// The smaller promises of the CLI and the store

#[test]
fn completions_into_a_closed_pipe_exit_0() {
    let ctx = TestContext::new();
    for shell in ["bash", "fish"] {
        // A pipe whose reading end is already closed: every write fails with EPIPE.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = ctx
            .cmd(["completions", shell])
            .stdout(writer)
            .output()
            .unwrap();
        assert_exit(&out, 0);
        assert!(!stderr(&out).contains("panicked"), "{}", describe(&out));
    }
}

#[test]
fn uninstalling_a_version_that_is_not_installed_leaves_no_lock_file() {
    let ctx = TestContext::new();
    let out = ctx.run(["uninstall", "0.999.0"]);
    assert_exit(&out, 1);
    assert!(stderr(&out).contains("not installed"), "{}", describe(&out));
    let locks = ctx.cache_dir().join("locks");
    let left: Vec<_> = std::fs::read_dir(&locks)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "left in {}: {left:?}", locks.display());
}

#[test]
fn prune_says_so_when_nothing_is_removed() {
    let ctx = TestContext::new();
    let out = ctx.run(["prune"]);
    assert_exit(&out, 0);
    assert!(
        stderr(&out).contains("Nothing to remove"),
        "{}",
        describe(&out)
    );
    let out = ctx.run(["prune", "--keep", "1"]);
    assert_exit(&out, 0);
    assert!(
        stderr(&out).contains("Nothing to remove"),
        "{}",
        describe(&out)
    );
}

#[test]
fn the_guide_says_quickstart_exits_130_on_ctrl_c() {
    let page = crate::support::guide::page("quickstart.md");
    let row = page
        .lines()
        .find(|l| l.starts_with("| `--timeout SECS`"))
        .expect("the quickstart table's --timeout row");
    assert!(
        row.contains("Ctrl-C (exit 130") && !row.contains("Ctrl-C (exit 1,"),
        "{row}"
    );
}

/// The one digest an npm tarball was checked against, as the manifest pinned it: a sha512
/// integrity, not the archive's sha256 said to come from the manifest.
#[test]
fn an_npm_tarball_pinned_by_integrity_says_sha512_from_the_manifest() {
    let ctx = TestContext::new();
    let platform = crate::support::npm::npm_platform(host_target());
    let tgz = crate::fixture::npm_tarball(V, host_target(), &Package::codex(V));
    let name = crate::support::npm::tarball_name(V, Some(platform));
    std::fs::write(
        ctx.work_dir().join("codex-runtime.toml"),
        format!(
            "[runtime]\nversion = \"{V}\"\n\n[targets.{t}.npm]\nfile = \"{name}\"\nintegrity = \"{}\"\n",
            crate::support::npm::integrity(&tgz),
            t = host_target(),
        ),
    )
    .unwrap();
    let file = ctx.root().join(&name);
    std::fs::write(&file, &tgz).unwrap();
    let out = ctx
        .cmd(["install", "--archive"])
        .arg(&file)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let err = stderr(&out);
    let verified = err
        .lines()
        .find(|l| l.trim_start().starts_with("verified:"))
        .unwrap_or_else(|| panic!("no verified line:\n{err}"));
    assert!(
        verified.contains("sha512-") && verified.contains("manifest"),
        "{err}"
    );
    assert!(!verified.contains("sha256"), "{err}");
}

#[test]
fn quickstart_blames_a_missing_cwd_or_codex_home_not_the_runtime() {
    let ctx = TestContext::new();
    let missing = ctx.root().join("nonexistent").join("dir");
    for flag in ["--cwd", "--codex-home"] {
        let out = ctx
            .cmd(["quickstart", "--codex"])
            .arg(crate::fixture::fake_app_server())
            .arg(flag)
            .arg(&missing)
            .output()
            .unwrap();
        assert_exit(&out, 1);
        let err = stderr(&out);
        let first = err.lines().next().unwrap_or_default();
        assert!(
            first.contains(&missing.display().to_string()) && first.contains("does not exist"),
            "{err}"
        );
        assert!(
            err.contains(flag) && !err.contains("install the runtime"),
            "{err}"
        );
    }
}

#[test]
fn an_archive_of_another_version_says_so_and_never_suggests_trusting_it() {
    let ctx = TestContext::new();
    let tag = crate::fixture::host_wheel_tag();
    let name = crate::fixture::wheel_name(V, tag);
    let file = ctx.root().join(&name);
    std::fs::write(&file, crate::fixture::wheel(V, tag, &Package::codex(V))).unwrap();
    let out = ctx
        .cmd(["install", "0.162.1", "--archive"])
        .arg(&file)
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let err = stderr(&out);
    let first = err.lines().next().unwrap_or_default();
    assert!(
        first.contains(&format!("is codex {V}")) && first.contains("0.162.1"),
        "{err}"
    );
    assert!(!err.contains("--trust-archive"), "{err}");
    assert!(err.contains(&format!("--version {V}")), "{err}");
}

#[test]
fn pin_with_a_target_downloads_and_pins_that_target_alone() {
    let ctx = TestContext::new();
    let server = crate::support::github::ReleaseServer::start();
    let targets = ["x86_64-unknown-linux-musl", "aarch64-unknown-linux-musl"];
    let assets: Vec<_> = targets
        .iter()
        .map(|t| {
            crate::support::github::Asset::new(
                &format!("codex-package-{t}.tar.gz"),
                Package::for_target(V, t).tar_gz(),
                DigestMode::Api,
            )
        })
        .collect();
    server.add_release(TAG, &assets);
    let downloads = || -> Vec<String> {
        server
            .requests()
            .into_iter()
            .map(|r| r.path)
            .filter(|p| p.starts_with("/download/"))
            .collect()
    };
    let manifest = || -> toml::Value {
        toml::from_str(&std::fs::read_to_string(ctx.work_dir().join("codex-runtime.toml")).unwrap())
            .unwrap()
    };

    let out = ctx
        .cmd(["pin", V, "--target", targets[1]])
        .github(&server)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    // That target's archive, and its Sigstore bundle (which this release does not have).
    assert_eq!(
        downloads(),
        [
            format!("/download/{TAG}/codex-package-{}.tar.gz", targets[1]),
            format!("/download/{TAG}/codex-{}.sigstore", targets[1])
        ]
    );
    let pinned: Vec<String> = manifest()["targets"]
        .as_table()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(pinned, [targets[1]]);

    // Pinning another target keeps the first: the manifest pins both.
    let out = ctx
        .cmd(["pin", V, "--target", targets[0]])
        .github(&server)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let mut pinned: Vec<String> = manifest()["targets"]
        .as_table()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    pinned.sort();
    assert_eq!(pinned, [targets[1], targets[0]]);
}

// ---------------------------------------------------------------------------------------------
// Kept archives serve reinstalls

/// `<cache>/downloads/<sha256>/` is "kept for mirrors and reinstalls": `install --force`, and an
/// install after `uninstall`, read it (hashed again) instead of downloading; `uninstall` says it
/// kept it, and `--purge` removes it. A kept archive that no longer has its digest is dropped
/// and the asset downloaded again.
#[test]
fn a_kept_archive_serves_reinstalls_without_a_download() {
    let ctx = TestContext::new();
    let gz = Package::codex(V).tar_gz();
    let server = crate::fixture::release_gz(V, gz.clone(), DigestMode::Api);
    let file = format!("/download/{TAG}/{}", package_gz());
    let downloads = || server.http().requests_to(&file).len();
    let kept_dir = ctx
        .cache_dir()
        .join("downloads")
        .join(crate::fixture::sha256_hex(&gz));
    let kept = kept_dir.join(package_gz());

    assert_exit(&ctx.install(&server, &[]), 0);
    assert_eq!(downloads(), 1);
    assert!(kept.is_file(), "the verified archive is kept");

    let out = ctx.install(&server, &["--force"]);
    assert_exit(&out, 0);
    assert_eq!(downloads(), 1, "--force reads the kept archive");
    let err = stderr(&out);
    assert!(
        err.contains("Reusing") && !err.contains("Downloading"),
        "{err}"
    );
    assert_installed(&ctx);

    let out = ctx.run(["uninstall", V]);
    assert_exit(&out, 0);
    assert!(kept.is_file(), "uninstall keeps the archive");
    assert!(
        stderr(&out).contains(&format!("Kept the verified archive {}", kept_dir.display())),
        "{}",
        describe(&out)
    );
    let out = ctx.install(&server, &[]);
    assert_exit(&out, 0);
    assert_eq!(downloads(), 1, "an install after uninstall reads it too");
    assert_installed(&ctx);

    // Bytes that are no longer the archive's: dropped, downloaded again, kept again.
    std::fs::write(&kept, b"not the archive").unwrap();
    let out = ctx.install(&server, &["--force"]);
    assert_exit(&out, 0);
    assert_eq!(downloads(), 2, "{}", describe(&out));
    assert_installed(&ctx);
    assert_eq!(std::fs::read(&kept).unwrap(), gz);

    let out = ctx.run(["uninstall", V, "--purge", "--json"]);
    assert_exit(&out, 0);
    assert!(!kept_dir.exists(), "--purge removes the kept archive");
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        json["purged_archives"][0].as_str(),
        Some(kept_dir.to_str().unwrap()),
        "{json}"
    );
    assert_eq!(json["kept_archives"].as_array().map(Vec::len), Some(0));
}

// ---------------------------------------------------------------------------------------------
// A store entry of the wrong kind

/// `runtimes/<v>/<target>` that is a regular file, or a receipt that is a directory: the
/// verdict names the entry and what it is, and `install --force`, which it suggests, replaces
/// it.
#[test]
fn a_store_entry_of_the_wrong_kind_is_named_and_force_replaces_it() {
    let ctx = TestContext::new();
    let server = crate::fixture::codex_release(DigestMode::Api);
    let dir = crate::common::runtime_dir(&ctx, V);
    let receipt = dir.join(".codex-bootstrap-receipt.json");
    let break_it: [(&str, &Path, &dyn Fn()); 2] = [
        ("runtime directory", &dir, &|| {
            std::fs::remove_dir_all(&dir).unwrap();
            std::fs::write(&dir, b"not a runtime").unwrap();
        }),
        ("receipt", &receipt, &|| {
            std::fs::remove_file(&receipt).unwrap();
            std::fs::create_dir(&receipt).unwrap();
        }),
    ];
    for (what, path, break_it) in break_it {
        assert_exit(&ctx.install(&server, &[]), 0);
        break_it();
        let out = ctx.install(&server, &[]);
        assert_exit(&out, 1);
        let err = stderr(&out);
        assert!(
            err.contains(&format!("`{}`", path.display())) && !err.contains("unreadable"),
            "{what}: {err}"
        );
        assert!(err.contains("install --force"), "{what}: {err}");
        let out = ctx.install(&server, &["--force"]);
        assert_exit(&out, 0);
        assert_installed(&ctx);
        let left: Vec<_> = std::fs::read_dir(dir.parent().unwrap())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(left.len(), 1, "{what}: nothing set aside is left: {left:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// `install --python --dry-run` says what the run would download

/// A loopback release, an index with both Linux wheels of V (as the real index has: the
/// interpreter's tags choose one), an environment of the test's own (never the machine's
/// interpreter), and the wheels' names. None without python3.
fn python_setup(
    ctx: &TestContext,
) -> Option<(
    crate::support::github::ReleaseServer,
    crate::support::pyindex::PythonIndex,
    std::path::PathBuf,
    Vec<String>,
)> {
    crate::common::require(
        "python3",
        crate::common::command_runs("python3", &["--version"]),
    )?;
    let server = crate::fixture::codex_release(DigestMode::Api);
    let tags = [
        crate::fixture::host_wheel_tag(),
        crate::fixture::host_manylinux_tag(),
    ];
    let wheels: Vec<String> = tags
        .iter()
        .map(|tag| crate::fixture::wheel_name(V, tag))
        .collect();
    let mut builder = crate::support::pyindex::PythonIndex::builder();
    for (name, tag) in wheels.iter().zip(tags) {
        builder = builder.wheel(name, crate::fixture::wheel(V, tag, &Package::codex(V)));
    }
    let venv = ctx.root().join("venv");
    let made = ctx
        .command("python3")
        .args(["-m", "venv", "--without-pip"])
        .arg(&venv)
        .output()
        .unwrap();
    assert_exit(&made, 0);
    Some((server, builder.start(), venv.join("bin/python"), wheels))
}

/// With the full package installed but no wheel tree for the interpreter, the run downloads the
/// wheel: the dry run says so, not "nothing would be downloaded"; once the tree is there, it
/// says that nothing would be.
#[test]
fn a_python_dry_run_says_the_wheel_would_be_downloaded_when_only_the_package_is_installed() {
    let ctx = TestContext::new();
    let Some((server, index, py, wheels)) = python_setup(&ctx) else {
        return;
    };
    let downloads = || -> usize { wheels.iter().map(|w| index.downloads(w)).sum() };
    assert_exit(&ctx.install(&server, &[]), 0);
    let run = |args: &[&str]| {
        let mut cmd = ctx.cmd(["install"]);
        cmd.args(args).arg("--python").arg(&py);
        cmd.github(&server).python_index(&index).output().unwrap()
    };

    let dry = run(&["--dry-run"]);
    assert_exit(&dry, 0);
    let text = stdout(&dry);
    assert!(
        !text.contains("nothing would be downloaded")
            && text.contains("its wheel would be downloaded"),
        "{text}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&run(&["--dry-run", "--json"]))).expect("dry-run JSON");
    assert_eq!(json["installed"], true, "the full package: {json}");
    assert_eq!(json["python"]["installed"], false, "the wheel tree: {json}");
    assert_eq!(downloads(), 0, "a dry run downloads nothing");

    // The run does download it, as the dry run said.
    assert_exit(&run(&["-q"]), 0);
    assert_eq!(downloads(), 1);

    let dry = run(&["--dry-run"]);
    assert_exit(&dry, 0);
    assert!(
        stdout(&dry).contains("nothing would be downloaded"),
        "{}",
        describe(&dry)
    );
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&run(&["--dry-run", "--json"]))).expect("dry-run JSON");
    assert_eq!(json["python"]["installed"], true, "{json}");
    assert_eq!(downloads(), 1);
}

/// `python.method` in `install --python --json` is one of the values the guide's JSON page
/// lists for it: `none` when the environment already had the runtime (nothing went in).
#[test]
fn every_python_method_install_reports_is_one_the_guide_documents() {
    let ctx = TestContext::new();
    let Some((server, index, py, _)) = python_setup(&ctx) else {
        return;
    };
    let page = crate::support::guide::section("json.md", "JSON output");
    let row = page
        .lines()
        .find(|l| l.starts_with("| `install` | "))
        .expect("the JSON output table's install row");
    let documented = row
        .split("`method`:")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .expect("the row says what `method` can be");
    let mut seen = Vec::new();
    for _ in 0..2 {
        let out = ctx
            .cmd(["install", "--json", "--python"])
            .arg(&py)
            .github(&server)
            .python_index(&index)
            .output()
            .unwrap();
        assert_exit(&out, 0);
        let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        let (action, method) = (&json["python"]["action"], &json["python"]["method"]);
        let method = method.as_str().unwrap_or_default().to_string();
        assert!(
            documented.contains(&format!("`{method}`")),
            "`{method}` (action {action}) is not among: {documented}"
        );
        seen.push((action.as_str().unwrap_or_default().to_string(), method));
    }
    assert_eq!(
        seen[1],
        ("already-installed".to_string(), "none".to_string())
    );
}
