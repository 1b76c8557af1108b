//! Fleets and air gaps: pin, mirror, --archive, list/which/uninstall/prune, cache-key,
//! completions. The composite action's steps are in `action.rs`.

use crate::common::{
    assert_exit, host_target, runtime_dir, stderr, stdout, PointAt, TestContext, TAG, V,
};
use crate::fixture::{
    package_gz, package_zst, publish_and_install, release_gz, sha256_hex, Package,
};
use crate::support::github::{Asset, DigestMode, ReleaseServer};

/// A release with every supported target: zstd with API digests for two, gzip covered only by
/// SHA256SUMS for the others.
fn full_release() -> ReleaseServer {
    let server = ReleaseServer::start();
    let mut assets = Vec::new();
    let mut sums = String::new();
    for t in [
        "x86_64-unknown-linux-musl",
        "aarch64-unknown-linux-musl",
        "x86_64-apple-darwin",
        "aarch64-apple-darwin",
        "x86_64-pc-windows-msvc",
        "aarch64-pc-windows-msvc",
    ] {
        let pkg = Package::for_target(V, t);
        if t.contains("linux") {
            assets.push(Asset::new(
                &format!("codex-package-{t}.tar.zst"),
                pkg.tar_zst(),
                DigestMode::Api,
            ));
        } else {
            let gz = pkg.tar_gz();
            sums.push_str(&format!("{}  codex-package-{t}.tar.gz\n", sha256_hex(&gz)));
            assets.push(Asset::new(
                &format!("codex-package-{t}.tar.gz"),
                gz,
                DigestMode::None,
            ));
        }
    }
    assets.push(Asset::new(
        "codex-package_SHA256SUMS",
        sums.into_bytes(),
        DigestMode::Api,
    ));
    server.add_release(TAG, &assets);
    server
}

#[test]
fn pin_writes_digests_that_a_later_install_uses_with_the_api_down() {
    let ctx = TestContext::new();
    let server = full_release();
    let pin = || ctx.cmd(["pin", V]).github(&server).output().unwrap();
    let out = pin();
    assert_exit(&out, 0);
    let manifest = std::fs::read_to_string(ctx.work_dir().join("codex-runtime.toml")).unwrap();
    assert!(
        manifest.contains("[targets.aarch64-apple-darwin]") && manifest.contains("sha256 = "),
        "{manifest}"
    );
    assert!(manifest.contains(&package_zst()), "{manifest}");
    assert_eq!(
        server
            .http()
            .count(&format!("/download/{TAG}/codex-package_SHA256SUMS")),
        1,
        "SUMS fetched once"
    );
    assert!(
        stdout(&out).contains("+ x86_64-pc-windows-msvc"),
        "{}",
        stdout(&out)
    );

    // Re-pinning the same version reports no change.
    let out = pin();
    assert!(
        stdout(&out).contains("= x86_64-unknown-linux-musl"),
        "{}",
        stdout(&out)
    );

    // Now the API is gone: install needs only the download.
    let api_before = server.http().count("/repos/");
    let out = ctx
        .cmd(["install", "--json"])
        .github(&server)
        .env("CODEX_BOOTSTRAP_GITHUB_API", "http://127.0.0.1:9/down")
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_eq!(
        server.http().count("/repos/"),
        api_before,
        "no API request after pin"
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["verified_by"]["kind"], "manifest");
}

#[test]
fn a_mirror_from_the_cache_serves_a_fresh_store_without_github() {
    let ctx = TestContext::new();
    let server = publish_and_install(&ctx, V, &Package::codex(V));
    drop(server);
    let mirror = ctx.root().join("mirror");
    let mut cmd = ctx.cmd(["mirror", "--from-cache", "--version", V, "--out"]);
    cmd.arg(&mirror);
    let out = cmd.output().unwrap();
    assert_exit(&out, 0);
    let rel = mirror.join(TAG);
    assert!(rel.join(package_gz()).is_file() && rel.join("codex-package_SHA256SUMS").is_file());
    let manifest = rel.join("codex-runtime.toml");
    assert!(manifest.is_file());

    // A fresh machine: the manifest pins the digest, the mirror has the bytes, GitHub is absent.
    let fresh = TestContext::new();
    std::fs::copy(&manifest, fresh.work_dir().join("codex-runtime.toml")).unwrap();
    let mirror_url = format!("file://{}", mirror.display());
    let out = fresh.run(["install", "--json", "--mirror", &mirror_url]);
    assert_exit(&out, 0);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["verified_by"]["kind"], "manifest");
    assert!(json["source_url"].as_str().unwrap().starts_with("file://"));
}

#[test]
fn mirror_from_the_network_verifies_what_it_writes() {
    let ctx = TestContext::new();
    let server = full_release();
    let out_dir = ctx.root().join("m");
    let out = ctx
        .cmd(["mirror", "--targets", "all", "--out"])
        .arg(&out_dir)
        .github(&server)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let sums = std::fs::read_to_string(out_dir.join(TAG).join("codex-package_SHA256SUMS")).unwrap();
    assert_eq!(sums.lines().count(), 6, "{sums}");
    for line in sums.lines() {
        let (hex, name) = line.split_once("  ").unwrap();
        assert_eq!(
            sha256_hex(&std::fs::read(out_dir.join(TAG).join(name)).unwrap()),
            hex
        );
    }
}

#[test]
fn install_from_archives_of_each_kind() {
    let pkg = Package::codex(V);
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join(package_gz());
    std::fs::write(&gz, pkg.tar_gz()).unwrap();
    let zst = dir.path().join(package_zst());
    std::fs::write(&zst, pkg.tar_zst()).unwrap();
    // A legacy single-binary asset: one file named after the target.
    let legacy = dir.path().join(format!("codex-{}.tar.gz", host_target()));
    let legacy_pkg = crate::fixture::Package {
        entries: vec![crate::fixture::Entry::File {
            path: format!("codex-{}", host_target()),
            data: crate::fixture::codex_script(V).into_bytes(),
            mode: 0o755,
        }],
    };
    std::fs::write(&legacy, legacy_pkg.tar_gz()).unwrap();
    // A wheel, as `codex-bootstrap wheel` or pip would have it (a RECORD listing every file).
    let wheel = dir
        .path()
        .join("openai_codex_cli_bin-0.163.0-py3-none-manylinux_2_17_x86_64.whl");
    std::fs::write(
        &wheel,
        crate::fixture::wheel(V, "manylinux_2_17_x86_64", &pkg),
    )
    .unwrap();
    for file in [&gz, &zst, &legacy, &wheel] {
        let ctx = TestContext::new();
        let digest = sha256_hex(&std::fs::read(file).unwrap());
        // Without a digest: refused with the three ways out.
        let out = ctx.run(["install", "--archive", file.to_str().unwrap()]);
        assert_exit(&out, 1);
        assert!(
            stderr(&out).contains("--sha256") && stderr(&out).contains("--trust-archive"),
            "{}",
            stderr(&out)
        );
        // A wrong digest: refused.
        let out = ctx.run([
            "install",
            "--archive",
            file.to_str().unwrap(),
            "--sha256",
            &sha256_hex(b"no"),
        ]);
        assert_exit(&out, 1);
        assert!(
            stderr(&out).contains("checksum mismatch"),
            "{}",
            stderr(&out)
        );
        // The right one: installed, verified by the flag.
        let out = ctx.run([
            "install",
            "--json",
            "--archive",
            file.to_str().unwrap(),
            "--sha256",
            &digest,
        ]);
        assert_exit(&out, 0);
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(json["verified_by"]["kind"], "flag", "{}", file.display());
        let v = std::process::Command::new(json["path"].as_str().unwrap())
            .arg("--version")
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&v.stdout).trim(),
            "codex-cli 0.163.0"
        );
    }
    // --trust-archive: installed, recorded and reported as unverified.
    let ctx = TestContext::new();
    let out = ctx.run([
        "install",
        "--json",
        "--archive",
        gz.to_str().unwrap(),
        "--trust-archive",
    ]);
    assert_exit(&out, 0);
    assert!(
        stderr(&out).contains("without verification"),
        "{}",
        stderr(&out)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["verified_by"]["kind"], "unverified");
    let out = ctx.run(["doctor", "--offline", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let runtime = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "runtime")
        .unwrap();
    assert_eq!(runtime["status"], "warn", "{runtime}");
    // With the digest pinned in a manifest, no flag is needed.
    let ctx = TestContext::new();
    std::fs::write(
        ctx.work_dir().join("codex-runtime.toml"),
        format!(
            "[runtime]\nversion = \"{V}\"\n[targets.{}]\nasset = \"{}\"\nsha256 = \"{}\"\n",
            host_target(),
            package_gz(),
            sha256_hex(&std::fs::read(&gz).unwrap())
        ),
    )
    .unwrap();
    assert_exit(&ctx.run(["install", "--archive", gz.to_str().unwrap()]), 0);
}

#[test]
fn list_which_uninstall_and_prune() {
    let ctx = TestContext::new();
    let out = ctx.run(["which"]);
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains("codex-bootstrap install"),
        "{}",
        stderr(&out)
    );
    for v in ["0.161.0", "0.162.0", V] {
        publish_and_install(&ctx, v, &Package::codex(v));
    }
    let out = ctx.run(["which"]);
    assert_exit(&out, 0);
    assert!(stdout(&out)
        .trim()
        .ends_with(&format!("{V}/{}/bin/codex", host_target())));

    let out = ctx.run(["list", "--json"]);
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let versions: Vec<_> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["version"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(versions, ["0.163.0", "0.162.0", "0.161.0"]);
    assert_eq!(rows[0]["pinned"], true);
    let text = stdout(&ctx.run(["list"]));
    assert!(text.contains("* 0.163.0"), "{text}");

    // prune --keep 1 keeps the pin and the newest other version.
    let out = ctx.run(["prune", "--keep", "1"]);
    assert_exit(&out, 0);
    let left: Vec<_> =
        serde_json::from_slice::<serde_json::Value>(&ctx.run(["list", "--json"]).stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["version"].as_str().unwrap().to_string())
            .collect();
    assert_eq!(left, ["0.163.0", "0.162.0"]);

    let out = ctx.run(["uninstall", "0.162.0"]);
    assert_exit(&out, 0);
    let out = ctx.run(["uninstall", "0.162.0"]);
    assert_exit(&out, 1);

    // prune never removes the pin, even with --keep 0.
    assert_exit(&ctx.run(["prune", "--keep", "0", "--older-than", "0"]), 0);
    assert_exit(&ctx.run(["which"]), 0);
}

#[test]
fn prune_beside_a_concurrent_install_is_safe() {
    let ctx = TestContext::new();
    for v in ["0.161.0", "0.162.0"] {
        publish_and_install(&ctx, v, &Package::codex(v));
    }
    let server = release_gz(
        V,
        Package::codex(V)
            .file("big", &vec![1u8; 4 << 20], 0o644)
            .tar_gz(),
        DigestMode::Api,
    );
    let mut install = ctx.cmd(["install", "-q"]);
    install.github(&server);
    let child = install.spawn().unwrap();
    let pruned = ctx.run(["prune", "--keep", "0"]);
    let installed = child.wait_with_output().unwrap();
    assert_exit(&pruned, 0);
    assert_exit(&installed, 0);
    assert_exit(&ctx.run(["which"]), 0);
    assert_exit(&ctx.run(["install", "-q", "--verify"]), 0);
}

#[test]
fn cache_key_is_stable_and_tracks_the_digest() {
    let ctx = TestContext::new();
    let a = stdout(&ctx.run(["cache-key"]));
    assert_eq!(a, stdout(&ctx.run(["cache-key"])));
    assert_eq!(a.trim(), format!("codex-runtime-{V}-{}", host_target()));
    let digest = sha256_hex(b"x");
    std::fs::write(
        ctx.work_dir().join("codex-runtime.toml"),
        format!(
            "[runtime]\nversion = \"{V}\"\n[targets.{}]\nasset = \"{}\"\nsha256 = \"{digest}\"\n",
            host_target(),
            package_gz()
        ),
    )
    .unwrap();
    let b = stdout(&ctx.run(["cache-key"]));
    assert_eq!(
        b.trim(),
        format!("codex-runtime-{V}-{}-{}", host_target(), &digest[..16])
    );
    assert_exit(&ctx.run(["cache-key", "--version", "latest"]), 2);
}

#[test]
fn completions_for_each_shell() {
    let ctx = TestContext::new();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = ctx.run(["completions", shell]);
        assert_exit(&out, 0);
        assert!(stdout(&out).contains("codex-bootstrap"), "{shell}");
        assert!(stdout(&out).contains("install"), "{shell}");
    }
}

#[test]
fn uninstall_waiting_on_a_held_lock_names_the_timeout_variable() {
    let ctx = TestContext::new();
    publish_and_install(&ctx, V, &Package::codex(V));
    let lock_path = ctx
        .cache_dir()
        .join("locks")
        .join(format!("{V}-{}.lock", host_target()));
    // Another installer of this artifact holds its lock for the whole test.
    let _held = codex_bootstrap::store::ArtifactLock::acquire(&lock_path, || {}).unwrap();
    let out = ctx
        .cmd(["uninstall", V])
        .env("CODEX_BOOTSTRAP_LOCK_TIMEOUT", "1")
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("hint:") && err.contains("CODEX_BOOTSTRAP_LOCK_TIMEOUT"),
        "{err}"
    );
    assert!(runtime_dir(&ctx, V).exists(), "nothing was removed");
}
