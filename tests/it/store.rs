//! Where the store lives: runtimes in the data directory, downloads and locks in a tagged cache
//! directory, and runtimes of the old layout (everything in the cache directory) found, moved
//! or used in place, and never downloaded again.
//!
//! These tests drop `CODEX_BOOTSTRAP_HOME` (which puts everything under one root, as every
//! other test uses) and place the platform directories with `XDG_DATA_HOME` / `XDG_CACHE_HOME`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{
    assert_exit, host_target, require, stderr, stdout, PointAt, TestContext, Tmpfs, V,
};
use crate::fixture::{package_gz, Package};
use crate::support::github::{Asset, DigestMode, ReleaseServer};

const OLD: &str = "0.162.0";
const SIGNATURE: &str = "Signature: 8a477f597d28d172789f06886806bc55";

/// A release server publishing the fixture package for each of `versions`.
fn releases(versions: &[&str]) -> ReleaseServer {
    let server = ReleaseServer::start();
    for v in versions {
        server.add_release(
            &format!("rust-v{v}"),
            &[Asset::new(
                &package_gz(),
                Package::codex(v).tar_gz(),
                DigestMode::Api,
            )],
        );
    }
    server
}

fn downloads(server: &ReleaseServer) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/download/"))
        .count()
}

/// The platform's data and cache directories of the sandbox.
fn xdg_data(ctx: &TestContext) -> PathBuf {
    ctx.root().join("xdg-data")
}
fn xdg_cache(ctx: &TestContext) -> PathBuf {
    ctx.root().join("xdg-cache")
}
/// `<data>/codex-bootstrap` and `<cache>/codex-bootstrap`.
fn data_dir(ctx: &TestContext) -> PathBuf {
    xdg_data(ctx).join("codex-bootstrap")
}
fn cache_dir(ctx: &TestContext) -> PathBuf {
    xdg_cache(ctx).join("codex-bootstrap")
}
fn runtime_in(root: &Path, version: &str) -> PathBuf {
    root.join("runtimes").join(version).join(host_target())
}

/// `codex-bootstrap ARGS` with the default layout: no `CODEX_BOOTSTRAP_HOME`.
fn split(ctx: &TestContext, server: &ReleaseServer, args: &[&str]) -> Command {
    let mut cmd = ctx.cmd(args);
    cmd.env_remove("CODEX_BOOTSTRAP_HOME")
        .env("XDG_DATA_HOME", xdg_data(ctx))
        .env("XDG_CACHE_HOME", xdg_cache(ctx))
        .github(server);
    cmd
}

/// Install `version` as releases before the split did: everything under
/// `<platform cache dir>/codex-bootstrap`, runtimes included.
fn install_old_layout(ctx: &TestContext, server: &ReleaseServer, version: &str) {
    let out = split(ctx, server, &["install", "-q", "--version", version])
        .env("CODEX_BOOTSTRAP_HOME", cache_dir(ctx))
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert!(runtime_in(&cache_dir(ctx), version)
        .join("bin/codex")
        .is_file());
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn runtimes_go_to_the_data_dir_and_downloads_to_a_tagged_cache_dir() {
    let ctx = TestContext::new();
    let server = releases(&[V]);
    let out = split(&ctx, &server, &["install", "--print-path"])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let runtime = runtime_in(&data_dir(&ctx), V);
    assert_eq!(
        stdout(&out).trim(),
        runtime.join("bin/codex").display().to_string()
    );
    assert!(runtime.join(".codex-bootstrap-receipt.json").is_file());
    assert_eq!(
        names(&data_dir(&ctx)),
        ["runtimes"],
        "only runtimes are data"
    );

    let cache = cache_dir(&ctx);
    assert_eq!(
        names(&cache),
        ["CACHEDIR.TAG", "downloads", "locks"],
        "no runtime in the cache"
    );
    let tag = std::fs::read_to_string(cache.join("CACHEDIR.TAG")).unwrap();
    assert!(tag.starts_with(SIGNATURE), "{tag}");
    let sha = crate::fixture::sha256_hex(&Package::codex(V).tar_gz());
    assert!(
        cache
            .join("downloads")
            .join(sha)
            .join(package_gz())
            .is_file(),
        "the verified archive is kept in the cache: {:?}",
        names(&cache.join("downloads"))
    );

    // Warm: the same path, no request.
    let before = server.requests().len();
    let out = split(&ctx, &server, &["install", "--print-path"])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_eq!(
        stdout(&out).trim(),
        runtime.join("bin/codex").display().to_string()
    );
    assert_eq!(server.requests().len(), before);
    let out = split(&ctx, &server, &["which"]).output().unwrap();
    assert_eq!(
        stdout(&out).trim(),
        runtime.join("bin/codex").display().to_string()
    );
}

#[test]
fn the_data_and_cache_variables_move_each_directory() {
    let ctx = TestContext::new();
    let server = releases(&[V]);
    let (data, cache) = (ctx.root().join("my-data"), ctx.root().join("my-cache"));
    let out = split(&ctx, &server, &["install", "-q"])
        .env("CODEX_BOOTSTRAP_DATA_DIR", &data)
        .env("CODEX_BOOTSTRAP_CACHE_DIR", &cache)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert!(runtime_in(&data, V).join("bin/codex").is_file());
    assert!(cache.join("CACHEDIR.TAG").is_file());
    assert!(cache.join("downloads").is_dir());
    assert!(!data_dir(&ctx).exists() && !cache_dir(&ctx).exists());
}

#[test]
fn one_root_keeps_everything_together_and_tags_only_the_downloads() {
    let ctx = TestContext::new();
    let server = releases(&[V]);
    let out = ctx.cmd(["install", "-q"]).github(&server).output().unwrap();
    assert_exit(&out, 0);
    let root = ctx.cache_dir();
    assert_eq!(names(&root), ["downloads", "locks", "runtimes"]);
    let tag = std::fs::read_to_string(root.join("downloads/CACHEDIR.TAG")).unwrap();
    assert!(tag.starts_with(SIGNATURE), "{tag}");
    assert!(!data_dir(&ctx).exists() && !cache_dir(&ctx).exists());
}

#[test]
fn a_runtime_of_the_old_layout_is_moved_into_the_data_dir_without_a_download() {
    let ctx = TestContext::new();
    let server = releases(&[V]);
    install_old_layout(&ctx, &server, V);
    let fetched = downloads(&server);

    // The old runtime answers `which` where it is, before anything moved it.
    let old = runtime_in(&cache_dir(&ctx), V);
    let out = split(&ctx, &server, &["which"]).output().unwrap();
    assert_exit(&out, 0);
    assert_eq!(
        stdout(&out).trim(),
        old.join("bin/codex").display().to_string()
    );

    let out = split(&ctx, &server, &["install"]).output().unwrap();
    assert_exit(&out, 0);
    let new = runtime_in(&data_dir(&ctx), V);
    assert!(stderr(&out).contains("Moved"), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&new.join("bin/codex").display().to_string()),
        "{}",
        stdout(&out)
    );
    assert_eq!(downloads(&server), fetched, "nothing was downloaded again");
    assert!(new.join(".codex-bootstrap-receipt.json").is_file());
    assert!(!old.exists(), "moved, not copied");
    assert!(
        !cache_dir(&ctx).join("runtimes").exists(),
        "the emptied old directories go"
    );
    // The receipt still vouches for every file where they are now.
    let out = split(&ctx, &server, &["install", "--verify"])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let out = split(&ctx, &server, &["which"]).output().unwrap();
    assert_eq!(
        stdout(&out).trim(),
        new.join("bin/codex").display().to_string()
    );
}

#[test]
fn list_and_doctor_show_both_locations_until_the_old_runtime_is_moved() {
    let ctx = TestContext::new();
    let server = releases(&[OLD, V]);
    install_old_layout(&ctx, &server, OLD);
    let out = split(&ctx, &server, &["install", "-q"]).output().unwrap();
    assert_exit(&out, 0);

    let out = split(&ctx, &server, &["list"]).output().unwrap();
    assert_exit(&out, 0);
    let text = stdout(&out);
    let old_line = text.lines().find(|l| l.contains(OLD)).unwrap_or_default();
    assert!(old_line.contains("(old location)"), "{text}");
    let new_line = text.lines().find(|l| l.contains(V)).unwrap_or_default();
    assert!(!new_line.contains("old location"), "{text}");
    assert!(
        text.contains(&format!(
            "runtimes: {}",
            data_dir(&ctx).join("runtimes").display()
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "old location: {}",
            cache_dir(&ctx).join("runtimes").display()
        )),
        "{text}"
    );
    let out = split(&ctx, &server, &["list", "--json"]).output().unwrap();
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let locations: Vec<(&str, &str)> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["version"].as_str().unwrap(),
                r["location"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(locations, [(V, "data"), (OLD, "legacy")]);

    let out = split(&ctx, &server, &["doctor", "--offline", "--json"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cache = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "cache")
        .unwrap()
        .clone();
    assert_eq!(cache["status"], "ok", "{cache}");
    let detail = cache["detail"].as_str().unwrap();
    for needle in [
        format!("runtimes: {}", data_dir(&ctx).join("runtimes").display()),
        format!("downloads and locks: {}", cache_dir(&ctx).display()),
        format!(
            "old location: {} (1 runtime(s): {OLD}",
            cache_dir(&ctx).join("runtimes").display()
        ),
    ] {
        assert!(detail.contains(&needle), "`{needle}` not in {detail}");
    }
    assert!(
        cache["summary"]
            .as_str()
            .unwrap()
            .contains("1 runtime(s) in the old location"),
        "{cache}"
    );

    // Installing the old version moves it; then there is one location left.
    let fetched = downloads(&server);
    let out = split(&ctx, &server, &["install", "-q", "--version", OLD])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_eq!(downloads(&server), fetched);
    let out = split(&ctx, &server, &["list"]).output().unwrap();
    assert!(!stdout(&out).contains("old location"), "{}", stdout(&out));
}

#[test]
fn uninstall_and_force_reach_the_old_location_too() {
    let ctx = TestContext::new();
    let server = releases(&[OLD, V]);
    install_old_layout(&ctx, &server, OLD);
    install_old_layout(&ctx, &server, V);

    let out = split(&ctx, &server, &["uninstall", OLD]).output().unwrap();
    assert_exit(&out, 0);
    assert!(!runtime_in(&cache_dir(&ctx), OLD).exists());

    // `--force` reinstalls into the data directory, and the old copy does not linger.
    let out = split(&ctx, &server, &["install", "-q", "--force"])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert!(runtime_in(&data_dir(&ctx), V).join("bin/codex").is_file());
    assert!(!runtime_in(&cache_dir(&ctx), V).exists());
    let out = split(&ctx, &server, &["list", "--json"]).output().unwrap();
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 1, "{rows}");
}

#[test]
fn an_old_runtime_on_another_file_system_is_used_in_place() {
    let ctx = TestContext::new();
    let Some(_fs) = require(
        "a tmpfs for the old cache, another file system (root, or passwordless sudo)",
        Tmpfs::mount(&xdg_cache(&ctx), "64m"),
    ) else {
        return;
    };
    let server = releases(&[V]);
    install_old_layout(&ctx, &server, V);
    let fetched = downloads(&server);
    let old = runtime_in(&cache_dir(&ctx), V);

    for _ in 0..2 {
        let out = split(&ctx, &server, &["install"]).output().unwrap();
        assert_exit(&out, 0);
        assert!(stderr(&out).contains("where it is"), "{}", stderr(&out));
        assert!(
            stdout(&out).contains(&old.join("bin/codex").display().to_string()),
            "{}",
            stdout(&out)
        );
    }
    assert_eq!(downloads(&server), fetched, "nothing was downloaded again");
    assert!(old.join(".codex-bootstrap-receipt.json").is_file());
    assert!(
        !runtime_in(&data_dir(&ctx), V).exists(),
        "no copy in the data directory"
    );
    let out = split(&ctx, &server, &["list"]).output().unwrap();
    assert!(stdout(&out).contains("(old location)"), "{}", stdout(&out));
}
