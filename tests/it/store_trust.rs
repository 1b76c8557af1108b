//! A store that trusts only itself, and the bytes hashed are the bytes unpacked: a local user
//! who can write the store, or rename a file onto the archive being installed, changes nothing.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::common::{
    assert_exit, assert_installed, assert_nothing_installed, describe, runtime_dir, stderr,
    PointAt, TestContext, V,
};
use crate::fixture::Package;
use crate::fixture::{host_wheel_tag, package_gz, release_gz, sha256_hex, wheel, wheel_name};
use crate::support::github::DigestMode;
use crate::support::pyindex::PythonIndex;

const SWAP: &str = "__CODEX_BOOTSTRAP_TEST_SWAP_AFTER_HASH";

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn mode_of(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777
}

/// The runtime `V` whose `codex-path/rg` says `rg`: the verified one and a lookalike differ
/// only there, as the swap did (`bin/codex` is also pinned by `codex_sha256`).
fn package_with_rg(rg: &[u8]) -> Package {
    Package::codex(V).file("codex-path/rg", rg, 0o755)
}

fn receipt(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join(".codex-bootstrap-receipt.json")).unwrap())
        .unwrap()
}

/// The receipt's sha256 of `path`.
fn recorded(receipt: &serde_json::Value, path: &str) -> String {
    receipt["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == path)
        .unwrap_or_else(|| panic!("`{path}` is not in the receipt: {receipt}"))["sha256"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn a_file_renamed_onto_an_archive_after_it_was_hashed_is_not_what_gets_installed() {
    let ctx = TestContext::new();
    let tag = host_wheel_tag();
    let good = wheel(V, tag, &package_with_rg(b"#!/bin/sh\necho good rg\n"));
    let evil = wheel(V, tag, &package_with_rg(b"#!/bin/sh\necho EVIL rg\n"));
    let archive = ctx.root().join(wheel_name(V, tag));
    std::fs::write(&archive, &good).unwrap();
    let swap_in = ctx.root().join("evil.whl");
    std::fs::write(&swap_in, &evil).unwrap();
    let out = ctx
        .cmd(["install", "--archive"])
        .arg(&archive)
        .args(["--sha256", &sha256_hex(&good)])
        .env(SWAP, &swap_in)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_eq!(
        std::fs::read(&archive).unwrap(),
        evil,
        "the test knob did not swap the archive"
    );
    let dir = runtime_dir(&ctx, V);
    let rg = std::fs::read(dir.join("codex-path/rg")).unwrap();
    assert_eq!(
        rg, b"#!/bin/sh\necho good rg\n",
        "the swapped file was unpacked"
    );
    let r = receipt(&dir);
    assert_eq!(r["archive_sha256"], sha256_hex(&good));
    assert_eq!(recorded(&r, "codex-path/rg"), sha256_hex(&rg));
}

#[test]
fn a_file_renamed_onto_a_partial_download_after_it_was_hashed_is_not_what_gets_installed() {
    let ctx = TestContext::new();
    let tag = host_wheel_tag();
    let name = wheel_name(V, tag);
    let good = wheel(V, tag, &package_with_rg(b"#!/bin/sh\necho good rg\n"));
    let evil = wheel(V, tag, &package_with_rg(b"#!/bin/sh\necho EVIL rg\n"));
    let index = PythonIndex::builder().wheel(&name, good.clone()).start();
    let swap_in = ctx.root().join("evil.whl");
    std::fs::write(&swap_in, &evil).unwrap();
    let out = ctx
        .cmd(["install"])
        .python_index(&index)
        .env(SWAP, &swap_in)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert!(!swap_in.exists(), "the test knob did not swap the partial");
    let dir = runtime_dir(&ctx, V);
    let rg = std::fs::read(dir.join("codex-path/rg")).unwrap();
    assert_eq!(
        rg, b"#!/bin/sh\necho good rg\n",
        "the swapped file was unpacked"
    );
    let r = receipt(&dir);
    assert_eq!(r["archive_sha256"], sha256_hex(&good));
    assert_eq!(recorded(&r, "codex-path/rg"), sha256_hex(&rg));
}

#[test]
fn a_store_root_others_can_write_is_refused_with_the_fix() {
    let ctx = TestContext::new();
    let server = release_gz(V, Package::codex(V).tar_gz(), DigestMode::Api);
    chmod(&ctx.cache_dir(), 0o777);
    let out = ctx.install(&server, &[]);
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("another user")
            && err.contains(&format!("chmod go-w {}", ctx.cache_dir().display())),
        "{err}"
    );
    assert_nothing_installed(&ctx);

    // Installed while it was private, then opened to everyone: the warm path refuses too.
    chmod(&ctx.cache_dir(), 0o755);
    assert_exit(&ctx.install(&server, &[]), 0);
    chmod(&ctx.cache_dir(), 0o777);
    let out = ctx.run(["which"]);
    assert_exit(&out, 1);
    assert!(stderr(&out).contains("chmod go-w"), "{}", describe(&out));
}

#[test]
fn a_store_root_of_another_user_is_refused() {
    let ctx = TestContext::new();
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("SKIPPED the ownership assertion: only root can give a directory to `nobody` (CI runs as root)");
        return;
    }
    let server = release_gz(V, Package::codex(V).tar_gz(), DigestMode::Api);
    std::os::unix::fs::chown(ctx.cache_dir(), Some(65534), Some(65534)).unwrap();
    let out = ctx.install(&server, &[]);
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("owned by uid 65534") && err.contains("chown"),
        "{err}"
    );
    assert_nothing_installed(&ctx);
}

#[test]
fn a_runtime_others_could_have_replaced_is_not_taken_as_installed() {
    let ctx = TestContext::new();
    let server = release_gz(V, Package::codex(V).tar_gz(), DigestMode::Api);
    assert_exit(&ctx.install(&server, &[]), 0);
    let dir = runtime_dir(&ctx, V);
    let receipt_path = dir.join(".codex-bootstrap-receipt.json");
    for (what, path, mode) in [
        ("directory", &dir, 0o757),
        ("receipt", &receipt_path, 0o666),
    ] {
        let before = mode_of(path);
        chmod(path, mode);
        let out = ctx.run(["which"]);
        assert_exit(&out, 1);
        assert!(
            stderr(&out).contains("another user") && stderr(&out).contains("chmod go-w"),
            "a writable {what}: {}",
            describe(&out)
        );
        // The warm path of `install` refuses it as well; `--force` replaces it.
        assert_exit(&ctx.install(&server, &[]), 1);
        assert_exit(&ctx.install(&server, &["--force"]), 0);
        assert_eq!(mode_of(path), before, "{what}");
        assert_installed(&ctx);
    }
}

#[test]
fn a_link_planted_at_a_partials_meta_is_not_followed() {
    let ctx = TestContext::new();
    let gz = Package::codex(V).tar_gz();
    let server = release_gz(V, gz.clone(), DigestMode::Api);
    let downloads = ctx.cache_dir().join("downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    let victim = ctx.root().join("victim");
    std::fs::write(&victim, "keep").unwrap();
    let meta: PathBuf = downloads.join(format!(
        "{}-{}.partial.meta",
        &sha256_hex(&gz)[..16],
        package_gz()
    ));
    std::os::unix::fs::symlink(&victim, &meta).unwrap();
    let out = ctx.install(&server, &[]);
    assert_exit(&out, 0);
    assert_eq!(
        std::fs::read_to_string(&victim).unwrap(),
        "keep",
        "the validator was written through the planted link"
    );

    // A link at the partial itself is refused, and nothing is written through it.
    let ctx = TestContext::new();
    let downloads = ctx.cache_dir().join("downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    let victim = ctx.root().join("victim");
    std::fs::write(&victim, "keep").unwrap();
    let partial = downloads.join(format!(
        "{}-{}.partial",
        &sha256_hex(&gz)[..16],
        package_gz()
    ));
    std::os::unix::fs::symlink(&victim, &partial).unwrap();
    let out = ctx.install(&server, &[]);
    assert_exit(&out, 1);
    assert!(stderr(&out).contains(".partial"), "{}", describe(&out));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
    assert_nothing_installed(&ctx);
}
