//! The fault matrix: flaky networks, hostile servers and archives, crashes and concurrency.
//! Every scenario ends in success or in a clear error with nothing half-installed.

use std::path::Path;
use std::time::Duration;

use crate::common::{
    assert_exit, assert_installed, assert_nothing_installed, describe, host_target, require,
    runtime_dir, stderr, wait_for, PointAt, TestContext, Tmpfs, TAG, V,
};
use crate::fixture::{package_gz, release_gz, sha256_hex, Entry, Package};
use crate::support::github::{Asset, DigestMode, ReleaseServer};
use crate::support::http::{Fault, Response, TestServer};

fn download_path() -> String {
    format!("/download/{TAG}/{}", package_gz())
}

/// A release whose package is big enough to be cut in the middle.
fn release() -> (ReleaseServer, Vec<u8>) {
    let pkg = Package::codex(V).file("codex-resources/blob", &pseudo_random(768 * 1024), 0o644);
    let gz = pkg.tar_gz();
    let server = release_gz(V, gz.clone(), DigestMode::Api);
    (server, gz)
}

/// Incompressible bytes, so the archive is as big as its content.
fn pseudo_random(n: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// The store holds a complete runtime for the pin that matches its receipt: `--verify`, with
/// GitHub unreachable, passes.
#[track_caller]
fn assert_verified(ctx: &TestContext) {
    let out = ctx.run([
        "install",
        "-q",
        "--verify",
        "--github-api-url",
        "http://127.0.0.1:9/x",
    ]);
    assert_exit(&out, 0);
}

/// After a crash the store holds a complete runtime for the pin, or none: `list` and the
/// directory agree (no runtime directory without a receipt), and a listed runtime verifies.
#[track_caller]
fn assert_complete_or_absent(ctx: &TestContext, round: usize) {
    let out = ctx.run(["list", "--json"]);
    assert_exit(&out, 0);
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("list --json");
    let listed: Vec<&str> = rows
        .as_array()
        .expect("a list")
        .iter()
        .map(|r| r["version"].as_str().expect("a version"))
        .collect();
    let dir = runtime_dir(ctx, V);
    match listed.as_slice() {
        [] => assert!(
            !dir.exists(),
            "round {round}: {} exists but holds no runtime `list` can read",
            dir.display()
        ),
        [v] if *v == V => assert_verified(ctx),
        other => panic!("round {round}: the store lists {other:?}"),
    }
}

/// The `.partial` downloads in the store's cache.
fn partial_files(ctx: &TestContext) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(ctx.cache_dir().join("downloads"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".partial"))
        .collect()
}

fn partials(ctx: &TestContext) -> usize {
    partial_files(ctx).len()
}

/// How many bytes the `.partial` downloads hold.
fn partial_bytes(ctx: &TestContext) -> u64 {
    partial_files(ctx)
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
}

#[test]
fn a_body_truncated_on_every_attempt_gives_up_keeping_the_partial() {
    let ctx = TestContext::new();
    let (server, gz) = release();
    // Each attempt resumes where the last was cut: three cuts of a quarter never finish it (a
    // third would, whenever the archive's length happens to be a multiple of three).
    server
        .http()
        .fault(&download_path(), Fault::CutEveryTime(gz.len() as u64 / 4));
    let out = ctx.install(&server, &["--retries", "3"]);
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("failed after 3 attempts"), "{err}");
    assert!(err.contains("hint:"), "{err}");
    assert!(!runtime_dir(&ctx, V).exists());
    assert_eq!(partials(&ctx), 1, "the partial is kept for a later resume");
}

#[test]
fn a_partial_left_behind_is_resumed_by_the_next_run() {
    let ctx = TestContext::new();
    let (server, gz) = release();
    server
        .http()
        .fault(&download_path(), Fault::CutEveryTime(gz.len() as u64 / 2));
    assert_exit(&ctx.install(&server, &["--retries", "1"]), 1);
    assert_eq!(partials(&ctx), 1);
    // A new server without the fault: the next run sends a Range request for the rest.
    let good = release_gz(V, gz.clone(), DigestMode::Api);
    assert_exit(&ctx.install(&good, &[]), 0);
    let reqs = good.http().requests_to(&download_path());
    assert_eq!(reqs.len(), 1);
    let range = reqs[0].headers.get("range").cloned().unwrap_or_default();
    assert_eq!(range, format!("bytes={}-", gz.len() / 2));
    assert_eq!(partials(&ctx), 0);
}

#[test]
fn a_server_that_ignores_range_is_restarted_from_zero() {
    let ctx = TestContext::new();
    let (server, gz) = release();
    server
        .http()
        .fault(&download_path(), Fault::CutAfter(gz.len() as u64 / 2));
    server.http().fault(&download_path(), Fault::IgnoreRange);
    let out = ctx.install(&server, &[]);
    assert_exit(&out, 0);
    assert_verified(&ctx);
    // Cut, then a full 200 to the Range request (thrown away), then a fresh full download.
    assert!(server.http().requests_to(&download_path()).len() >= 2);
}

#[test]
fn a_stalled_transfer_times_out_and_the_retry_succeeds() {
    let ctx = TestContext::new();
    let (server, gz) = release();
    server.http().fault(
        &download_path(),
        Fault::StallAfter(gz.len() as u64 / 2, Duration::from_secs(5)),
    );
    let out = ctx.install(&server, &["--read-timeout", "1"]);
    assert_exit(&out, 0);
    assert_verified(&ctx);
    assert_eq!(server.http().requests_to(&download_path()).len(), 2);
}

#[test]
fn server_errors_then_success_and_retry_after_are_honoured() {
    for status in [500, 502, 503] {
        let ctx = TestContext::new();
        let (server, _) = release();
        server.http().fault(&download_path(), Fault::status(status));
        server.http().fault(
            &format!("/repos/openai/codex/releases/tags/{TAG}"),
            Fault::status(status),
        );
        assert_exit(&ctx.install(&server, &[]), 0);
    }
    let ctx = TestContext::new();
    let (server, _) = release();
    server.http().fault(
        &download_path(),
        Fault::Status(429, vec![("retry-after".into(), "1".into())], Vec::new()),
    );
    let started = std::time::Instant::now();
    assert_exit(&ctx.install(&server, &[]), 0);
    // Retry-After was waited for (a lower bound: the retry cannot come sooner).
    assert!(started.elapsed() >= Duration::from_millis(900));
}

#[test]
fn connection_refused_names_the_host_and_the_proxy() {
    let ctx = TestContext::new();
    let out = ctx.run([
        "install",
        "--retries",
        "1",
        "--github-api-url",
        "http://127.0.0.1:9",
    ]);
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains("could not connect to `127.0.0.1`"),
        "{}",
        stderr(&out)
    );

    let mut cmd = ctx.cmd([
        "install",
        "--retries",
        "1",
        "--allow-http",
        "--github-api-url",
        "http://api.example.invalid",
    ]);
    cmd.env("HTTP_PROXY", "http://user:secret@127.0.0.1:9");
    let out = cmd.output().unwrap();
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("api.example.invalid") && err.contains("proxy `http://127.0.0.1:9`"),
        "{err}"
    );
    assert!(!err.contains("secret"), "proxy credentials leaked: {err}");
    assert!(err.contains("HTTPS_PROXY"), "{err}");
}

#[test]
fn one_corrupted_byte_is_a_mismatch_and_leaves_nothing() {
    let ctx = TestContext::new();
    let (server, gz) = release();
    server
        .http()
        .fault(&download_path(), Fault::CorruptByte(gz.len() as u64 / 2));
    let out = ctx.install(&server, &[]);
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains("checksum mismatch"),
        "{}",
        stderr(&out)
    );
    assert!(!runtime_dir(&ctx, V).exists());
    assert_eq!(partials(&ctx), 0, "the corrupt partial is deleted");
}

#[test]
fn a_redirect_to_another_host_carries_no_token() {
    let ctx = TestContext::new();
    let (real, _) = release();
    // The API answers with a redirect to another origin (another port), as a renamed repo does.
    let front = TestServer::start();
    let target = format!("{}/repos/openai/codex/releases/tags/{TAG}", real.api_url());
    front.fault(
        &format!("/repos/openai/codex/releases/tags/{TAG}"),
        Fault::Redirect(target),
    );
    let mut cmd = ctx.cmd(["install", "-q"]);
    cmd.github(&real)
        .env("CODEX_BOOTSTRAP_GITHUB_API", front.url())
        .env("GH_TOKEN", "ghp_SENTINEL_redirect");
    let out = cmd.output().unwrap();
    assert_exit(&out, 0);
    let first = &front.requests()[0];
    assert!(first
        .headers
        .get("authorization")
        .is_some_and(|a| a.contains("SENTINEL")));
    for r in real.requests() {
        assert!(
            !r.headers.contains_key("authorization"),
            "token followed the redirect to {}",
            r.path
        );
    }
}

#[test]
fn a_full_disk_while_unpacking_removes_the_staging_and_names_the_directory() {
    let ctx = TestContext::new();
    let cache = ctx.root().join("small-fs");
    let Some(_fs) = require(
        "a 600 KiB tmpfs for the cache (root, or passwordless sudo)",
        Tmpfs::mount(&cache, "600k"),
    ) else {
        return;
    };
    let (server, _) = release();
    let mut cmd = ctx.cmd(["install", "--cache-dir"]);
    cmd.arg(&cache).github(&server);
    let out = cmd.output().unwrap();
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(err.contains(&cache.display().to_string()), "{err}");
    assert!(
        err.contains("disk space") || err.contains("No space"),
        "{err}"
    );
    let left: Vec<_> = std::fs::read_dir(cache.join("runtimes").join(V))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "staging left behind: {left:?}");
}

#[test]
fn an_unwritable_cache_is_a_clear_error() {
    let ctx = TestContext::new();
    let (server, _) = release();
    let out = ctx.install(
        &server,
        &["--cache-dir", "/sys/kernel/codex-bootstrap-cache"],
    );
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("/sys/kernel/codex-bootstrap-cache") && err.contains("--cache-dir"),
        "{err}"
    );
}

/// `kill -9` at twelve moments of an install: random ones, and every fourth round in the middle
/// of a transfer (the server stalls half-way through a fresh download, and the kill comes once
/// its bytes are in the `.partial`). After every kill the store holds the complete runtime or
/// none, and the next run completes.
#[test]
fn kill_9_at_random_moments_never_leaves_a_broken_runtime() {
    use std::os::unix::process::ExitStatusExt;
    let ctx = TestContext::new();
    let pkg = Package::codex(V).file("codex-resources/blob", &pseudo_random(6 << 20), 0o644);
    let gz = pkg.tar_gz();
    let server = release_gz(V, gz.clone(), DigestMode::Api);
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let (mut mid_transfer, mut killed_total) = (0, 0);
    for round in 0..12 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let stalled = round % 4 == 0;
        if stalled {
            for partial in partial_files(&ctx) {
                std::fs::remove_file(partial).unwrap();
            }
            // A kept archive would serve `--force` with no transfer to kill.
            let kept = ctx.cache_dir().join("downloads").join(sha256_hex(&gz));
            let _ = std::fs::remove_dir_all(kept);
            server.http().fault(
                &download_path(),
                Fault::StallAfter(gz.len() as u64 / 2, Duration::from_secs(60)),
            );
        }
        let mut child = ctx
            .cmd(["install", "-q", "--force"])
            .github(&server)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        if stalled {
            wait_for("the stalled download to reach its .partial", || {
                partial_bytes(&ctx) > 0
            });
        } else {
            std::thread::sleep(Duration::from_millis(seed % 400));
        }
        let _ = child.kill(); // SIGKILL
        let status = child.wait().unwrap();
        // The kill landed (the installer died of it, rather than finishing first) while a
        // `.partial` existed: a dead process cannot have made the one seen after it.
        let killed = status.signal() == Some(libc::SIGKILL);
        let partial = partials(&ctx) > 0;
        assert!(
            !stalled || (killed && partial),
            "round {round}: the kill did not land mid-transfer ({status}, partial: {partial})"
        );
        mid_transfer += usize::from(killed && partial);
        killed_total += usize::from(killed);
        assert_complete_or_absent(&ctx, round);
    }
    assert!(
        mid_transfer >= 3,
        "only {mid_transfer} kills landed mid-transfer"
    );
    eprintln!("{killed_total} of 12 kills landed, {mid_transfer} of them mid-transfer");
    let out = ctx.install(&server, &["-q"]);
    assert_exit(&out, 0);
    assert_verified(&ctx);
}

/// Eight installers of one pin at once: one download, the same path printed by all, one
/// complete runtime.
#[test]
fn eight_concurrent_installers_download_once_and_agree() {
    let ctx = TestContext::new();
    let (server, _) = release();
    let children: Vec<_> = (0..8)
        .map(|_| {
            let mut cmd = ctx.cmd(["install", "--print-path"]);
            cmd.github(&server)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            cmd.spawn().unwrap()
        })
        .collect();
    let outs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    for o in &outs {
        assert_exit(o, 0);
        assert_eq!(o.stdout, outs[0].stdout, "{}", describe(o));
    }
    assert_eq!(
        server.http().requests_to(&download_path()).len(),
        1,
        "exactly one download"
    );
    assert_installed(&ctx);
}

#[test]
fn installers_of_different_pins_do_not_block_each_other() {
    let ctx = TestContext::new();
    let pkg =
        Package::codex("0.162.0").file("codex-resources/blob", &pseudo_random(256 * 1024), 0o644);
    let gz = pkg.tar_gz();
    let slow = release_gz("0.162.0", gz.clone(), DigestMode::Api);
    slow.http().fault(
        &format!("/download/rust-v0.162.0/{}", package_gz()),
        Fault::StallAfter(gz.len() as u64 / 2, Duration::from_secs(20)),
    );
    let mut cmd = ctx.cmd([
        "install",
        "-q",
        "--version",
        "0.162.0",
        "--read-timeout",
        "30",
    ]);
    cmd.github(&slow);
    let mut stalled = cmd.spawn().unwrap();
    // Wait until the stalled installer holds its lock and is mid-download.
    wait_for("the stalled installer's download request", || {
        !slow
            .http()
            .requests_to(&format!("/download/rust-v0.162.0/{}", package_gz()))
            .is_empty()
    });
    let (fast, _) = release();
    let out = ctx.install(&fast, &["-q"]);
    assert_exit(&out, 0);
    assert!(
        stalled.try_wait().unwrap().is_none(),
        "the other pin finished while this one stalled"
    );
    let _ = stalled.kill();
    let _ = stalled.wait();
}

#[test]
fn hostile_archives_are_refused_and_nothing_is_written_outside() {
    let cases: Vec<(&str, Package)> = vec![
        (
            "absolute path",
            Package::codex(V).with(Entry::File {
                path: "/tmp/codex-bootstrap-evil".into(),
                data: b"x".to_vec(),
                mode: 0o644,
            }),
        ),
        (
            "dot-dot",
            Package::codex(V).with(Entry::File {
                path: "bin/../../evil".into(),
                data: b"x".to_vec(),
                mode: 0o644,
            }),
        ),
        (
            "dot-dot at the top",
            Package::codex(V).with(Entry::File {
                path: "../../evil".into(),
                data: b"x".to_vec(),
                mode: 0o644,
            }),
        ),
        (
            "escaping symlink",
            Package::codex(V).with(Entry::Symlink {
                path: "bin/up".into(),
                target: "../../../..".into(),
            }),
        ),
        (
            "escaping symlink in codex-path",
            Package::codex(V).with(Entry::Symlink {
                path: "codex-path/link".into(),
                target: "../../../../tmp".into(),
            }),
        ),
        (
            "a file written through a symlink",
            Package::codex(V)
                .with(Entry::Symlink {
                    path: "out".into(),
                    target: "codex-path".into(),
                })
                .with(Entry::File {
                    path: "out/evil".into(),
                    data: b"x".to_vec(),
                    mode: 0o644,
                }),
        ),
        (
            "hard link outside",
            Package::codex(V).with(Entry::HardLink {
                path: "bin/pw".into(),
                target: "/etc/passwd".into(),
            }),
        ),
        (
            "hard link outside from codex-path",
            Package::codex(V).with(Entry::HardLink {
                path: "codex-path/pw".into(),
                target: "/etc/passwd".into(),
            }),
        ),
        (
            "hard link with dot-dot",
            Package::codex(V).with(Entry::HardLink {
                path: "codex-path/up".into(),
                target: "../../evil".into(),
            }),
        ),
        (
            "duplicate entry",
            Package::codex(V).with(Entry::File {
                path: "bin/codex".into(),
                data: b"#!/bin/sh\necho evil\n".to_vec(),
                mode: 0o755,
            }),
        ),
        (
            "another target",
            Package::for_target(V, "aarch64-apple-darwin"),
        ),
    ];
    for (what, pkg) in cases {
        let ctx = TestContext::new();
        let server = release_gz(V, pkg.tar_gz(), DigestMode::Api);
        let out = ctx.install(&server, &[]);
        assert_exit(&out, 1);
        let err = stderr(&out);
        assert!(err.contains("hint:"), "{what}: {err}");
        assert!(err.contains("refused"), "{what}: {err}");
        assert_nothing_installed(&ctx);
        assert!(!Path::new("/tmp/codex-bootstrap-evil").exists(), "{what}");
        assert!(
            !ctx.root().join("evil").exists() && !ctx.cache_dir().join("evil").exists(),
            "{what}"
        );
    }
}

#[test]
fn a_decompression_bomb_is_refused_before_it_fills_the_disk() {
    // A 3 GiB entry of zeros: a few MB of zstd, refused from its header.
    let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 1).unwrap();
    {
        let mut b = tar::Builder::new(&mut enc);
        let mut h = tar::Header::new_gnu();
        h.set_path("codex-resources/zeros").unwrap();
        h.set_size(3 << 30);
        h.set_mode(0o644);
        h.set_cksum();
        b.append(&h, std::io::Read::take(std::io::repeat(0), 3 << 30))
            .unwrap();
        b.finish().unwrap();
    }
    let bomb = enc.finish().unwrap();
    let ctx = TestContext::new();
    let server = ReleaseServer::start();
    let name = format!("codex-package-{}.tar.zst", host_target());
    server.add_release(TAG, &[Asset::new(&name, bomb, DigestMode::Api)]);
    let out = ctx.install(&server, &[]);
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains("decompression bomb"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_zip_with_traversal_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("codex-x86_64-pc-windows-msvc.exe.zip");
    {
        let mut z = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
        z.start_file("../../evil.exe", zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut z, b"MZ").unwrap();
        z.finish().unwrap();
    }
    let ctx = TestContext::new();
    let out = ctx.run([
        "install",
        "--target",
        "x86_64-pc-windows-msvc",
        "--trust-archive",
        "--archive",
        zip_path.to_str().unwrap(),
    ]);
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains("refused") && stderr(&out).contains(".."),
        "{}",
        stderr(&out)
    );
    assert!(!dir.path().parent().unwrap().join("evil.exe").exists());
}

#[test]
fn malformed_api_json_is_a_clear_error() {
    let ctx = TestContext::new();
    let server = ReleaseServer::start();
    server
        .http()
        .add_responder(&format!("/repos/openai/codex/releases/tags/{TAG}"), |_| {
            Response::new(200, "{\"tag_name\": 3, \"assets\": \"no\"")
                .header("content-type", "application/json")
        });
    let out = ctx.install(&server, &[]);
    assert_exit(&out, 1);
    assert!(stderr(&out).contains("cannot read"), "{}", stderr(&out));
}

#[test]
fn plain_http_to_other_hosts_is_refused_without_the_flag() {
    let ctx = TestContext::new();
    let out = ctx.run(["install", "--mirror", "http://mirror.example.com/codex"]);
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains("refusing plain http://") && stderr(&out).contains("--allow-http"),
        "{}",
        stderr(&out)
    );
}

#[cfg(unix)]
#[test]
fn nothing_in_the_store_is_group_or_world_writable_even_with_umask_0() {
    use std::os::unix::fs::PermissionsExt;
    let ctx = TestContext::new();
    let (server, _) = release();
    let mut sh = ctx.command("sh");
    sh.args([
        "-c",
        "umask 000; exec \"$0\" \"$@\"",
        env!("CARGO_BIN_EXE_codex-bootstrap"),
    ])
    .args(["install", "-q"])
    .github(&server);
    let out = sh.output().unwrap();
    assert_exit(&out, 0);
    fn walk(p: &Path, out: &mut Vec<std::path::PathBuf>) {
        out.push(p.to_path_buf());
        if p.is_dir() && !p.is_symlink() {
            for e in std::fs::read_dir(p).unwrap().flatten() {
                walk(&e.path(), out);
            }
        }
    }
    let mut all = Vec::new();
    // The whole store: runtimes, the kept archive (the download's `.partial`), locks, tags.
    walk(&ctx.cache_dir(), &mut all);
    assert!(all.iter().any(|p| p.ends_with(package_gz())));
    for p in all {
        let mode = std::fs::symlink_metadata(&p).unwrap().permissions().mode();
        assert_eq!(mode & 0o022, 0, "{} is {:o}", p.display(), mode & 0o777);
    }
}

#[cfg(unix)]
#[test]
fn symlinks_planted_in_the_store_are_refused() {
    let ctx = TestContext::new();
    let (server, _) = release();
    let elsewhere = ctx.root().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::create_dir_all(ctx.cache_dir().join("runtimes")).unwrap();
    std::os::unix::fs::symlink(&elsewhere, ctx.cache_dir().join("runtimes").join(V)).unwrap();
    let out = ctx.install(&server, &[]);
    assert_exit(&out, 1);
    assert!(stderr(&out).contains("symbolic link"), "{}", stderr(&out));
    assert!(
        std::fs::read_dir(&elsewhere).unwrap().next().is_none(),
        "wrote through the link"
    );

    let ctx = TestContext::new();
    let victim = ctx.root().join("victim");
    std::fs::write(&victim, "keep").unwrap();
    std::fs::create_dir_all(ctx.cache_dir().join("locks")).unwrap();
    std::os::unix::fs::symlink(
        &victim,
        ctx.cache_dir()
            .join("locks")
            .join(format!("{V}-{}.lock", host_target())),
    )
    .unwrap();
    let out = ctx.install(&server, &[]);
    assert_exit(&out, 1);
    assert!(stderr(&out).contains("symbolic link"), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
}
