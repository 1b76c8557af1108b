//! Ctrl-C (SIGINT, sent to the child's own pid) ends every command with exit code 130, and an
//! interrupted install leaves nothing half-visible: no runtime, no staging directory.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::common::{assert_exit, host_target, stderr, wait_for, PointAt, TestContext, TAG, V};
use crate::fixture::{package_gz, Package};
use crate::support::github::{Asset, DigestMode, ReleaseServer};
use crate::support::http::Fault;

fn download_path() -> String {
    format!("/download/{TAG}/{}", package_gz())
}

/// A release whose download stops half way for a minute: an install stays mid-download.
fn stalling_release() -> ReleaseServer {
    let server = ReleaseServer::start();
    // Varied bytes so the archive is large enough to be cut in the middle.
    let blob: Vec<u8> = (0..512 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let gz = Package::codex(V)
        .file("codex-resources/blob", &blob, 0o644)
        .tar_gz();
    let half = gz.len() as u64 / 2;
    server.add_release(TAG, &[Asset::new(&package_gz(), gz, DigestMode::Api)]);
    server.http().fault(
        &download_path(),
        Fault::StallAfter(half, Duration::from_secs(60)),
    );
    server
}

pub(crate) fn ctrl_c(child: &Child) {
    let pid = i32::try_from(child.id()).expect("a pid fits in i32");
    // SAFETY: sends a signal to the child this test started and has not yet reaped.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
}

/// Wait for the child to exit after Ctrl-C and collect its output.
pub(crate) fn finish(mut child: Child) -> Output {
    let interrupted = Instant::now();
    while child.try_wait().expect("poll the child").is_none() {
        if interrupted.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("Ctrl-C was ignored for a minute");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("collect the output")
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .collect()
}

#[test]
fn ctrl_c_mid_download_exits_130_and_removes_the_staging_dir() {
    let ctx = TestContext::new();
    let server = stalling_release();
    let child = ctx
        .cmd(["install", "--read-timeout", "300"])
        .github(&server)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start install");
    // Mid-download: the request arrived and the staging dir beside the runtime exists.
    let version_dir = ctx.cache_dir().join("runtimes").join(V);
    wait_for("the download to start", || {
        !server.http().requests_to(&download_path()).is_empty() && !entries(&version_dir).is_empty()
    });
    let staging = entries(&version_dir);
    assert!(
        staging.iter().all(|p| p
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with(".staging-"))),
        "only a staging dir exists mid-download: {staging:?}"
    );
    ctrl_c(&child);
    let out = finish(child);
    assert_exit(&out, 130);
    assert!(stderr(&out).contains("interrupted"), "{}", stderr(&out));
    assert_eq!(
        entries(&version_dir),
        Vec::<PathBuf>::new(),
        "no runtime and no staging dir after Ctrl-C"
    );
    assert!(!version_dir.join(host_target()).exists());
    // The stall was a one-off: the next install completes.
    let out = ctx.cmd(["install", "-q"]).github(&server).output().unwrap();
    assert_exit(&out, 0);
    assert!(version_dir.join(host_target()).join("bin/codex").is_file());
}

#[test]
fn ctrl_c_while_waiting_for_another_installer_exits_130() {
    let ctx = TestContext::new();
    let locks = ctx.cache_dir().join("locks");
    std::fs::create_dir_all(&locks).unwrap();
    let held = std::fs::File::create(locks.join(format!("{V}-{}.lock", host_target()))).unwrap();
    held.lock().expect("hold the artifact lock");
    let server = stalling_release();
    let mut child = ctx
        .cmd(["install", "-v"])
        .github(&server)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start install");
    let (tx, lines) = mpsc::channel();
    let stderr = child.stderr.take().expect("piped stderr");
    let reader = std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let mut seen = Vec::new();
    let waiting = loop {
        match lines.recv_timeout(Duration::from_secs(60)) {
            Ok(line) if line.contains("another process holds the lock") => break line,
            Ok(line) => seen.push(line),
            Err(e) => panic!("no lock wait was logged ({e}): {seen:#?}"),
        }
    };
    assert!(
        waiting.contains("CODEX_BOOTSTRAP_LOCK_TIMEOUT"),
        "{waiting}"
    );
    ctrl_c(&child);
    let out = finish(child);
    reader.join().unwrap();
    assert_exit(&out, 130);
    assert!(
        server.http().requests_to(&download_path()).is_empty(),
        "nothing was downloaded while the lock was held"
    );
    drop(held);
}
