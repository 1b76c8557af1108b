//! OCI registries (#31): the distribution client against the loopback stand-in
//! (`support::oci`): each auth flow, credentials only to the registry, no re-upload, digests
//! checked.

use codex_bootstrap::net::{Credentials, Http, NetConfig, NetSettings};
use codex_bootstrap::oci::auth::AuthFiles;
use codex_bootstrap::oci::client::Sent;
use codex_bootstrap::oci::{OciError, Reference, Registry};

use crate::support::oci::{sha256_digest, Auth, OciRegistry};

fn http() -> Http {
    let config = NetConfig::new(
        &NetSettings::default(),
        "http://127.0.0.1:9/unreachable-api",
        Credentials::default(),
    );
    Http::new(config).unwrap()
}

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// A docker `config.json` in `dir` with `user:password` for `host`.
fn docker_config(dir: &std::path::Path, host: &str, user: &str, password: &str) -> AuthFiles {
    use base64::Engine;
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let path = dir.join("config.json");
    std::fs::write(
        &path,
        format!(r#"{{"auths":{{"{host}":{{"auth":"{auth}"}}}}}}"#),
    )
    .unwrap();
    AuthFiles { files: vec![path] }
}

fn bearer() -> Auth {
    Auth::Bearer {
        user: "ci".into(),
        password: "s3cret".into(),
    }
}

#[test]
fn a_bearer_registry_takes_a_push_and_serves_it_back_without_reuploads() {
    let reg = OciRegistry::start(bearer());
    let dir = tempfile::tempdir().unwrap();
    let files = docker_config(dir.path(), &reg.host(), "ci", "s3cret");
    let http = http();
    let r = Registry::new(
        &http,
        Reference::parse(&reg.reference("codex/runtime")).unwrap(),
        &files,
    )
    .unwrap()
    .pushing();
    let blob = b"layer bytes".to_vec();
    let digest = sha256_digest(&blob);
    let manifest = br#"{"schemaVersion":2}"#.to_vec();
    block_on(async {
        assert!(
            r.push_blob_bytes(&digest, &blob).await.unwrap(),
            "first push uploads"
        );
        assert!(
            !r.push_blob_bytes(&digest, &blob).await.unwrap(),
            "then HEAD finds it"
        );
        r.put_manifest(
            "0.163.0",
            "application/vnd.oci.image.manifest.v1+json",
            &manifest,
        )
        .await
        .unwrap();
        let doc = r.get_manifest("0.163.0").await.unwrap();
        assert_eq!(doc.bytes, manifest);
        assert_eq!(doc.media_type, "application/vnd.oci.image.manifest.v1+json");
        assert_eq!(doc.digest, sha256_digest(&manifest));
        let out = dir.path().join("blob");
        assert_eq!(
            r.fetch_blob(&digest, &out, 1 << 20).await.unwrap(),
            blob.len() as u64
        );
        assert_eq!(std::fs::read(&out).unwrap(), blob);
    });
    assert_eq!(reg.uploads(), 1);
    assert_eq!(reg.blob(&digest), Some(blob));
    let log: Vec<String> = reg
        .server
        .requests()
        .iter()
        .map(|q| {
            format!(
                "{} {} {:?}",
                q.method,
                q.path,
                q.headers.get("authorization")
            )
        })
        .collect();
    assert_eq!(
        reg.server.count("/token"),
        1,
        "one token for every request: {log:#?}"
    );
    // The login went to the token server alone; the registry saw only the token, and the
    // token was asked for push access to this repository.
    let reqs = reg.server.requests();
    let token_reqs: Vec<_> = reqs
        .iter()
        .filter(|q| q.path.starts_with("/token"))
        .collect();
    assert!(!token_reqs.is_empty());
    for q in &token_reqs {
        assert!(q.headers["authorization"].starts_with("Basic "), "{q:?}");
        assert!(q.path.contains("service=loopback-registry"), "{}", q.path);
        assert!(
            q.path
                .contains("scope=repository%3Acodex%2Fruntime%3Apull%2Cpush"),
            "{}",
            q.path
        );
    }
    for q in reqs.iter().filter(|q| q.path.starts_with("/v2/")) {
        let a = q
            .headers
            .get("authorization")
            .map(String::as_str)
            .unwrap_or("");
        assert!(
            !a.starts_with("Basic"),
            "the login reached the registry: {q:?}"
        );
    }
}

#[test]
fn a_basic_registry_gets_the_login_after_its_challenge() {
    let reg = OciRegistry::start(Auth::Basic {
        user: "u".into(),
        password: "p".into(),
    });
    let dir = tempfile::tempdir().unwrap();
    let files = docker_config(dir.path(), &reg.host(), "u", "p");
    let http = http();
    let r = Registry::new(
        &http,
        Reference::parse(&reg.reference("a")).unwrap(),
        &files,
    )
    .unwrap();
    let digest = reg.put_blob(b"x".to_vec());
    assert!(block_on(r.has_blob(&digest)).unwrap());
    assert!(!block_on(r.has_blob(&sha256_digest(b"y"))).unwrap());
}

#[test]
fn a_wrong_password_names_the_file_it_came_from() {
    let reg = OciRegistry::start(bearer());
    let dir = tempfile::tempdir().unwrap();
    let files = docker_config(dir.path(), &reg.host(), "ci", "wrong");
    let http = http();
    let r = Registry::new(
        &http,
        Reference::parse(&reg.reference("a")).unwrap(),
        &files,
    )
    .unwrap();
    let err = block_on(r.get_manifest("1.0.0")).unwrap_err();
    assert!(matches!(err, OciError::Unauthorized { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("config.json") && text.contains("auths"),
        "{text}"
    );
    assert!(!text.contains("wrong"), "the secret was shown: {text}");
    // No credentials at all: the hint says where we looked and how to log in.
    let none = Registry::new(
        &http,
        Reference::parse(&reg.reference("a")).unwrap(),
        &AuthFiles::default(),
    )
    .unwrap();
    let err = block_on(none.get_manifest("1.0.0")).unwrap_err();
    let hint = codex_bootstrap::error::Hint::hint(&err).unwrap();
    assert!(hint.contains("docker login"), "{hint}");
}

#[test]
fn a_missing_tag_is_named() {
    let reg = OciRegistry::start(Auth::Open);
    let http = http();
    let r = Registry::new(
        &http,
        Reference::parse(&reg.reference("a/b")).unwrap(),
        &AuthFiles::default(),
    )
    .unwrap();
    let err = block_on(r.get_manifest("9.9.9")).unwrap_err();
    assert!(err.to_string().contains("has no tag `9.9.9`"), "{err}");
}

#[test]
fn a_redirected_blob_reaches_the_store_without_credentials_and_is_checked() {
    let reg = OciRegistry::start_with(bearer(), true);
    let dir = tempfile::tempdir().unwrap();
    let files = docker_config(dir.path(), &reg.host(), "ci", "s3cret");
    let http = http();
    let r = Registry::new(
        &http,
        Reference::parse(&reg.reference("a")).unwrap(),
        &files,
    )
    .unwrap();
    let blob = b"the runtime".to_vec();
    let digest = reg.put_blob(blob.clone());
    let out = dir.path().join("blob");
    block_on(r.fetch_blob(&digest, &out, 1 << 20)).unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), blob);
    let store = reg.blob_store.as_ref().unwrap();
    let seen = store.requests();
    assert_eq!(seen.len(), 1);
    assert!(
        !seen[0].headers.contains_key("authorization"),
        "credentials followed the redirect: {:?}",
        seen[0]
    );
    // Bytes that are not their digest are refused, and nothing is left behind.
    reg.corrupt_blob(&digest);
    let err = block_on(r.fetch_blob(&digest, &out, 1 << 20)).unwrap_err();
    assert!(matches!(err, OciError::BlobDigest { .. }), "{err:?}");
    assert!(!out.exists());
}

// ---- mirror --out oci:// ----------------------------------------------------------------

use crate::common::{assert_exit, stderr, stdout, PointAt, TestContext, TAG, V};
use crate::fixture::{codex_script, sha256_hex, Package};
use crate::support::github::{Asset, DigestMode, ReleaseServer};

const LINUX: &str = "x86_64-unknown-linux-musl";
const MAC: &str = "aarch64-apple-darwin";

/// A release with a zstd package for Linux and a gzip one for macOS, both with API digests.
fn two_target_release() -> (ReleaseServer, Package, Vec<u8>, Package, Vec<u8>) {
    let server = ReleaseServer::start();
    let linux = Package::for_target(V, LINUX);
    let mac = Package::for_target(V, MAC);
    let (zst, gz) = (linux.tar_zst(), mac.tar_gz());
    server.add_release(
        TAG,
        &[
            Asset::new(
                &format!("codex-package-{LINUX}.tar.zst"),
                zst.clone(),
                DigestMode::Api,
            ),
            Asset::new(
                &format!("codex-package-{MAC}.tar.gz"),
                gz.clone(),
                DigestMode::Api,
            ),
        ],
    );
    (server, linux, zst, mac, gz)
}

/// `DOCKER_CONFIG` for the sandbox, with `user:password` for the registry.
fn login(ctx: &TestContext, reg: &OciRegistry, user: &str, password: &str) -> std::path::PathBuf {
    let dir = ctx.root().join("docker");
    std::fs::create_dir_all(&dir).unwrap();
    docker_config(&dir, &reg.host(), user, password);
    dir
}

/// `install V --mirror <the registry's codex/runtime>`, with `docker` as DOCKER_CONFIG when given.
fn install_from_image(
    ctx: &TestContext,
    reg: &OciRegistry,
    docker: Option<&std::path::Path>,
) -> std::process::Output {
    let mut cmd = ctx.cmd(["install", V, "--mirror"]);
    cmd.arg(reg.reference("codex/runtime"));
    if let Some(d) = docker {
        cmd.env("DOCKER_CONFIG", d);
    }
    cmd.output().unwrap()
}

fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).unwrap()
}

#[test]
fn mirror_pushes_one_multi_platform_image_whose_layers_are_the_release_archives() {
    let ctx = TestContext::new();
    let (server, linux, zst, _mac, gz) = two_target_release();
    let reg = OciRegistry::start(bearer());
    let docker = login(&ctx, &reg, "ci", "s3cret");
    let push = || {
        ctx.cmd(["mirror", V, "--targets", &format!("{LINUX},{MAC}"), "--out"])
            .arg(reg.reference("codex/runtime"))
            .github(&server)
            .env("DOCKER_CONFIG", &docker)
            .output()
            .unwrap()
    };
    let out = push();
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains(&format!(
            "install --mirror {}",
            reg.reference("codex/runtime")
        )),
        "{}",
        stdout(&out)
    );
    let (mt, index) = reg
        .manifest("codex/runtime", V)
        .expect("tagged with the version");
    assert_eq!(mt, "application/vnd.oci.image.index.v1+json");
    let index = json(&index);
    assert_eq!(index["annotations"]["org.opencontainers.image.version"], V);
    let entries = index["manifests"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    let want = [
        (LINUX, "linux", "amd64", &zst, "tar+zstd"),
        (MAC, "darwin", "arm64", &gz, "tar+gzip"),
    ];
    for ((target, os, arch, bytes, kind), e) in want.iter().zip(entries) {
        assert_eq!(e["platform"]["os"], *os);
        assert_eq!(e["platform"]["architecture"], *arch);
        assert_eq!(e["annotations"]["dev.codex-bootstrap.target"], *target);
        assert_eq!(e["annotations"]["dev.codex-bootstrap.source"], "github");
        assert_eq!(
            e["annotations"]["dev.codex-bootstrap.codex_sha256"],
            sha256_hex(codex_script(V).as_bytes())
        );
        let digest = e["digest"].as_str().unwrap();
        let (mt, manifest) = reg.manifest("codex/runtime", digest).unwrap();
        assert_eq!(mt, "application/vnd.oci.image.manifest.v1+json");
        let manifest = json(&manifest);
        let layer = &manifest["layers"][0];
        assert_eq!(manifest["layers"].as_array().unwrap().len(), 1);
        assert_eq!(
            layer["mediaType"],
            format!("application/vnd.oci.image.layer.v1.{kind}")
        );
        // The layer is the release's archive, byte for byte.
        assert_eq!(layer["digest"], format!("sha256:{}", sha256_hex(bytes)));
        assert_eq!(
            reg.blob(layer["digest"].as_str().unwrap()).as_ref(),
            Some(*bytes)
        );
        let config = json(
            &reg.blob(manifest["config"]["digest"].as_str().unwrap())
                .unwrap(),
        );
        assert_eq!(config["os"], *os);
        assert_eq!(config["rootfs"]["diff_ids"].as_array().unwrap().len(), 1);
    }
    // The config lists the uncompressed tar's digest, as runtimes check on unpack.
    let linux_manifest = json(
        &reg.manifest("codex/runtime", entries[0]["digest"].as_str().unwrap())
            .unwrap()
            .1,
    );
    let config = json(
        &reg.blob(linux_manifest["config"]["digest"].as_str().unwrap())
            .unwrap(),
    );
    assert_eq!(
        config["rootfs"]["diff_ids"][0],
        format!("sha256:{}", sha256_hex(&linux.tar()))
    );

    // Pushing again sends no blob: the registry has them all; `--json` says so per image.
    let uploads = reg.uploads();
    let out = ctx
        .cmd([
            "mirror",
            V,
            "--json",
            "--targets",
            &format!("{LINUX},{MAC}"),
            "--out",
        ])
        .arg(reg.reference("codex/runtime"))
        .github(&server)
        .env("DOCKER_CONFIG", &docker)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_eq!(reg.uploads(), uploads, "{}", stderr(&out));
    let report = json(&out.stdout);
    assert_eq!(
        report["reference"],
        format!("{}:{V}", reg.reference("codex/runtime"))
    );
    assert_eq!(
        report["index_digest"],
        sha256_digest(&reg.manifest("codex/runtime", V).unwrap().1)
    );
    assert_eq!(report["images"][0]["platform"], "linux/amd64");
    assert_eq!(report["images"][0]["uploaded"], false);
    assert_eq!(
        report["images"][1]["layer_digest"],
        format!("sha256:{}", sha256_hex(&gz))
    );
}

#[test]
fn an_oci_looking_destination_is_never_taken_for_a_directory() {
    let ctx = TestContext::new();
    for bad in ["oci://x/Y", "oci:registry/repo", "oci://x"] {
        let out = ctx
            .cmd(["mirror", V, "--from-cache", "--out", bad])
            .output()
            .unwrap();
        assert_exit(&out, 2);
        assert!(
            stderr(&out).contains("not an OCI reference"),
            "{}",
            stderr(&out)
        );
    }
    let out = ctx
        .cmd([
            "mirror",
            V,
            "--from-cache",
            "--out",
            "https://mirror.example/m",
        ])
        .output()
        .unwrap();
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("neither a directory nor an OCI reference"),
        "{}",
        stderr(&out)
    );
    let made: Vec<_> = std::fs::read_dir(ctx.work_dir()).unwrap().collect();
    assert!(made.is_empty(), "{made:?}");
}

#[test]
fn a_wrong_password_on_push_names_where_it_was_read() {
    let ctx = TestContext::new();
    let (server, ..) = two_target_release();
    let reg = OciRegistry::start(bearer());
    let docker = login(&ctx, &reg, "ci", "nope");
    let out = ctx
        .cmd(["mirror", V, "--targets", LINUX, "--out"])
        .arg(reg.reference("codex/runtime"))
        .github(&server)
        .env("DOCKER_CONFIG", &docker)
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("refused the credentials") && err.contains("config.json"),
        "{err}"
    );
    assert!(!err.contains("nope"), "{err}");
    assert_eq!(reg.uploads(), 0);
}

// ---- install --mirror oci:// ------------------------------------------------------------

use crate::common::{assert_installed, assert_nothing_installed, host_target};

/// A registry holding `V` for the host, pushed by `mirror --out oci://` from a loopback release.
fn pushed(redirect_blobs: bool) -> (OciRegistry, Vec<u8>) {
    let pusher = TestContext::new();
    let server = ReleaseServer::start();
    let zst = Package::codex(V).tar_zst();
    server.add_release(
        TAG,
        &[Asset::new(
            &format!("codex-package-{}.tar.zst", host_target()),
            zst.clone(),
            DigestMode::Api,
        )],
    );
    let reg = OciRegistry::start_with(bearer(), redirect_blobs);
    let docker = login(&pusher, &reg, "ci", "s3cret");
    let out = pusher
        .cmd(["mirror", V, "--out"])
        .arg(reg.reference("codex/runtime"))
        .github(&server)
        .env("DOCKER_CONFIG", &docker)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    (reg, zst)
}

#[test]
fn install_from_an_oci_mirror_with_every_other_source_unreachable() {
    let (reg, zst) = pushed(true);
    let ctx = TestContext::new();
    let docker = login(&ctx, &reg, "ci", "s3cret");
    // CODEX_BOOTSTRAP_MIRROR as a fleet's image would set it; GitHub, the index and npm are
    // unreachable (the test context's defaults).
    let out = ctx
        .cmd(["install", V])
        .env("CODEX_BOOTSTRAP_MIRROR", reg.reference("codex/runtime"))
        .env("DOCKER_CONFIG", &docker)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_installed(&ctx);
    let receipt = std::fs::read_to_string(
        crate::common::runtime_dir(&ctx, V).join(".codex-bootstrap-receipt.json"),
    )
    .unwrap();
    assert!(receipt.contains(&sha256_hex(&zst)), "{receipt}");
    // The layer came from the blob store the registry redirected to, without credentials.
    let store = reg.blob_store.as_ref().unwrap();
    let fetched = store.requests();
    assert_eq!(fetched.len(), 1, "{fetched:?}");
    assert!(
        !fetched[0].headers.contains_key("authorization"),
        "{:?}",
        fetched[0]
    );
}

#[test]
fn the_dry_run_shows_the_image_and_blob_urls_and_asks_nothing() {
    let reg = OciRegistry::start(bearer());
    let ctx = TestContext::new();
    let out = ctx
        .cmd(["install", V, "--dry-run", "--mirror"])
        .arg(reg.reference("codex/runtime"))
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let text = stdout(&out);
    let base = format!("http://{}/v2/codex/runtime", reg.host());
    assert!(text.contains(&format!("{base}/manifests/{V}")), "{text}");
    assert!(text.contains(&format!("{base}/blobs/sha256:")), "{text}");
    assert!(text.contains("the image manifest's layer digest"), "{text}");
    assert!(
        text.contains(&format!(
            "{base}/referrers/<image manifest digest> (else the tag sha256-<digest>)"
        )),
        "{text}"
    );
    assert!(reg.server.requests().is_empty());
    // `--mirror` names the repository: the tag is the version's.
    let out = ctx
        .cmd(["install", V, "--dry-run", "--mirror"])
        .arg(format!("{}:latest", reg.reference("codex/runtime")))
        .output()
        .unwrap();
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("the tag is the version"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_corrupted_layer_is_refused_with_an_integrity_verdict() {
    let (reg, zst) = pushed(false);
    reg.corrupt_blob(&format!("sha256:{}", sha256_hex(&zst)));
    let ctx = TestContext::new();
    let docker = login(&ctx, &reg, "ci", "s3cret");
    let out = install_from_image(&ctx, &reg, Some(&docker));
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("OCI image manifest's layer digest"), "{err}");
    // The mirror's verdict is integrity, not the network (the other sources are unreachable).
    assert!(err.contains("mirror: checksum mismatch"), "{err}");
    assert!(err.contains("mirror: nothing was installed"), "{err}");
    assert_nothing_installed(&ctx);
}

#[test]
fn a_missing_version_and_a_wrong_password_are_named() {
    let (reg, _) = pushed(false);
    let ctx = TestContext::new();
    let docker = login(&ctx, &reg, "ci", "s3cret");
    let out = ctx
        .cmd(["install", "9.9.9", "--mirror"])
        .arg(reg.reference("codex/runtime"))
        .env("DOCKER_CONFIG", &docker)
        .output()
        .unwrap();
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains("has no tag `9.9.9`"),
        "{}",
        stderr(&out)
    );

    let docker = login(&ctx, &reg, "ci", "wrong");
    let out = install_from_image(&ctx, &reg, Some(&docker));
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("refused the credentials") && err.contains("config.json"),
        "{err}"
    );
    assert_nothing_installed(&ctx);
}

#[cfg(unix)]
#[test]
fn a_credential_helper_is_run_as_docker_runs_it() {
    use std::os::unix::fs::PermissionsExt;
    let (reg, _) = pushed(false);
    let ctx = TestContext::new();
    // `docker-credential-fleet get`, the registry on stdin, JSON out; it logs what it was asked.
    let bin = ctx.root().join("helpers");
    std::fs::create_dir_all(&bin).unwrap();
    let helper = bin.join("docker-credential-fleet");
    let asked = ctx.root().join("asked");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\n[ \"$1\" = get ] || exit 3\ncat > '{}'\necho '{{\"Username\":\"ci\",\"Secret\":\"s3cret\"}}'\n",
            asked.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let docker = ctx.root().join("docker");
    std::fs::create_dir_all(&docker).unwrap();
    std::fs::write(
        docker.join("config.json"),
        format!(r#"{{"credHelpers":{{"{}":"fleet"}}}}"#, reg.host()),
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = ctx
        .cmd(["install", V, "--mirror"])
        .arg(reg.reference("codex/runtime"))
        .env("DOCKER_CONFIG", &docker)
        .env("PATH", path)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_installed(&ctx);
    assert_eq!(std::fs::read_to_string(&asked).unwrap(), reg.host());
}

#[test]
fn an_archive_whose_codex_contradicts_the_pin_is_not_pushed() {
    let ctx = TestContext::new();
    let (server, ..) = two_target_release();
    std::fs::write(
        ctx.work_dir().join("codex-runtime.toml"),
        format!(
            "[runtime]\nversion = \"{V}\"\n\n[targets.{LINUX}]\ncodex_sha256 = \"{}\"\n",
            "0".repeat(64)
        ),
    )
    .unwrap();
    let reg = OciRegistry::start(Auth::Open);
    let out = ctx
        .cmd(["mirror", V, "--targets", LINUX, "--out"])
        .arg(reg.reference("codex/runtime"))
        .github(&server)
        .output()
        .unwrap();
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains("but the pin says"),
        "{}",
        stderr(&out)
    );
    assert_eq!(reg.uploads(), 0);
    assert!(reg.manifest("codex/runtime", V).is_none());
}

// ---- a layer rebuilt from a wheel or an npm tarball ---------------------------------------

use crate::fixture::{host_wheel_tag, npm_tarball, wheel, wheel_name};
use crate::support::npm::{npm_platform, NpmRegistry};
use crate::support::pyindex::PythonIndex;

/// Points a command at one source.
type Point<'a> = &'a dyn Fn(&mut std::process::Command);

/// Push `V` for the host from the one source `point` sets up (GitHub unreachable) to a fresh
/// open registry; returns it and `mirror --json`'s report.
fn push_from(point: Point) -> (OciRegistry, serde_json::Value) {
    let ctx = TestContext::new();
    let reg = OciRegistry::start(Auth::Open);
    let mut cmd = ctx.cmd(["mirror", V, "--json", "--out"]);
    cmd.arg(reg.reference("codex/runtime"));
    point(&mut cmd);
    let out = cmd.output().unwrap();
    assert_exit(&out, 0);
    let report = json(&out.stdout);
    (reg, report)
}

/// Every entry of a layer: (path, mode, uid, gid, mtime, user name).
fn layer_entries(zst: &[u8]) -> Vec<(String, u32, u64, u64, u64, String)> {
    let tar = zstd::decode_all(zst).unwrap();
    let mut archive = tar::Archive::new(&tar[..]);
    archive
        .entries()
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let h = e.header();
            (
                e.path().unwrap().to_string_lossy().into_owned(),
                h.mode().unwrap(),
                h.uid().unwrap(),
                h.gid().unwrap(),
                h.mtime().unwrap(),
                h.username().unwrap().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_wheel_or_an_npm_tarball_becomes_one_deterministic_layer_that_installs() {
    let pkg = Package::codex(V);
    let index = PythonIndex::builder()
        .wheel(
            &wheel_name(V, host_wheel_tag()),
            wheel(V, host_wheel_tag(), &pkg),
        )
        .start();
    let npm = NpmRegistry::builder()
        .tarball(
            V,
            npm_platform(host_target()),
            npm_tarball(V, host_target(), &pkg),
        )
        .start();
    let from_wheel = |c: &mut std::process::Command| {
        c.python_index(&index);
    };
    let from_npm = |c: &mut std::process::Command| {
        c.npm_registry(&npm);
    };
    let sources: [(&str, Point); 2] = [("python-index", &from_wheel), ("npm", &from_npm)];
    for (source, point) in sources {
        // Two pushes to two registries: each rebuilds the layer, to the same bytes.
        let (reg, first) = push_from(point);
        let (other, second) = push_from(point);
        let image = &first["images"][0];
        assert_eq!(image["source"], source, "{first:#}");
        let digest = image["layer_digest"].as_str().unwrap();
        assert_eq!(second["images"][0]["layer_digest"], digest, "{source}");
        assert_eq!(reg.blob(digest), other.blob(digest));
        let rebuilt_from = image["rebuilt_from"].as_str().unwrap();
        assert!(
            rebuilt_from.ends_with(if source == "npm" { ".tgz" } else { ".whl" }),
            "{rebuilt_from}"
        );
        assert_eq!(
            image["layer"],
            format!("codex-package-{}.tar.zst", host_target())
        );
        // The manifest says what the layer is, and where it came from.
        let (_, manifest) = reg
            .manifest("codex/runtime", image["manifest_digest"].as_str().unwrap())
            .unwrap();
        let manifest = json(&manifest);
        let layer = &manifest["layers"][0];
        assert_eq!(
            layer["mediaType"],
            "application/vnd.oci.image.layer.v1.tar+zstd"
        );
        assert_eq!(
            layer["annotations"]["dev.codex-bootstrap.rebuilt-from"],
            rebuilt_from
        );
        assert_eq!(
            manifest["annotations"]["dev.codex-bootstrap.codex_sha256"],
            sha256_hex(codex_script(V).as_bytes())
        );
        // The layer is the package tree at the root: sorted, owned by 0:0 with no names, one
        // fixed mtime, 0755 or 0644; the wheel's Python module is not in it.
        let blob = reg.blob(digest).unwrap();
        let entries = layer_entries(&blob);
        let paths: Vec<&str> = entries.iter().map(|e| e.0.as_str()).collect();
        let mut sorted = paths.clone();
        sorted.sort();
        assert_eq!(paths, sorted);
        assert!(paths.contains(&"bin/codex"), "{paths:?}");
        assert!(paths.contains(&"codex-package.json"), "{paths:?}");
        assert!(!paths.iter().any(|p| p.contains("__init__")), "{paths:?}");
        for (path, mode, uid, gid, mtime, user) in &entries {
            assert!([0o755, 0o644].contains(mode), "{path} {mode:o}");
            assert_eq!((*uid, *gid, user.as_str()), (0, 0, ""), "{path}");
            assert_eq!(*mtime, entries[0].4, "{path}");
        }
        let codex = entries.iter().find(|e| e.0 == "bin/codex").unwrap();
        assert_eq!(codex.1, 0o755);
        let config = json(
            &reg.blob(manifest["config"]["digest"].as_str().unwrap())
                .unwrap(),
        );
        assert_eq!(
            config["rootfs"]["diff_ids"][0],
            sha256_digest(&zstd::decode_all(&blob[..]).unwrap())
        );

        // It installs, every other source unreachable, `bin/codex` checked against the
        // image's annotation.
        let ctx = TestContext::new();
        let out = install_from_image(&ctx, &reg, None);
        assert_exit(&out, 0);
        assert_installed(&ctx);
        let receipt = std::fs::read_to_string(
            crate::common::runtime_dir(&ctx, V).join(".codex-bootstrap-receipt.json"),
        )
        .unwrap();
        assert!(
            receipt.contains(digest.trim_start_matches("sha256:")),
            "{receipt}"
        );
        // Pushed again from that store: the kept layer as it is, still said to be rebuilt.
        let again = OciRegistry::start(Auth::Open);
        let out = ctx
            .cmd(["mirror", V, "--from-cache", "--json", "--out"])
            .arg(again.reference("codex/runtime"))
            .output()
            .unwrap();
        assert_exit(&out, 0);
        let report = json(&out.stdout);
        assert_eq!(report["images"][0]["layer_digest"], digest);
        assert_eq!(report["images"][0]["rebuilt_from"], rebuilt_from);
        assert_eq!(report["images"][0]["source"], "cache");
    }
}

#[test]
fn a_rebuilt_layer_whose_codex_is_not_the_one_annotated_is_refused() {
    let pkg = Package::codex(V);
    let index = PythonIndex::builder()
        .wheel(
            &wheel_name(V, host_wheel_tag()),
            wheel(V, host_wheel_tag(), &pkg),
        )
        .start();
    let (reg, report) = push_from(&|c: &mut std::process::Command| {
        c.python_index(&index);
    });
    // Rewrite the image as a registry could: the annotation names another `bin/codex`.
    let (_, index_doc) = reg.manifest("codex/runtime", V).unwrap();
    let mut index_doc = json(&index_doc);
    let digest = report["images"][0]["manifest_digest"].as_str().unwrap();
    let (mt, manifest) = reg.manifest("codex/runtime", digest).unwrap();
    let mut manifest = json(&manifest);
    manifest["annotations"]["dev.codex-bootstrap.codex_sha256"] = "ab".repeat(32).into();
    let bytes = serde_json::to_vec(&manifest).unwrap();
    index_doc["manifests"][0]["digest"] = sha256_digest(&bytes).into();
    index_doc["manifests"][0]["size"] = bytes.len().into();
    reg.put_manifest("codex/runtime", "tampered", &mt, bytes);
    reg.put_manifest(
        "codex/runtime",
        V,
        "application/vnd.oci.image.index.v1+json",
        serde_json::to_vec(&index_doc).unwrap(),
    );
    let ctx = TestContext::new();
    let out = install_from_image(&ctx, &reg, None);
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("the image's annotation"), "{err}");
    assert!(err.contains(&"ab".repeat(32)), "{err}");
    assert_nothing_installed(&ctx);
}

// ---- mirror --from-cache --out oci:// -----------------------------------------------------

#[test]
fn a_push_from_the_cache_needs_no_source_and_gives_the_same_layers() {
    // Installed from a release, its archive kept; the release goes away.
    let ctx = TestContext::new();
    let server = crate::fixture::publish_and_install(&ctx, V, &Package::codex(V));
    drop(server);
    let reg = OciRegistry::start(bearer());
    let docker = login(&ctx, &reg, "ci", "s3cret");
    let out = ctx
        .cmd(["mirror", V, "--from-cache", "--json", "--out"])
        .arg(reg.reference("codex/runtime"))
        .env("DOCKER_CONFIG", &docker)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let report = json(&out.stdout);
    let image = &report["images"][0];
    assert_eq!(image["source"], "cache");
    assert_eq!(image["uploaded"], true);
    assert!(image.get("rebuilt_from").is_none(), "{report:#}");
    assert_eq!(
        image["layer_digest"],
        format!("sha256:{}", sha256_hex(&Package::codex(V).tar_gz()))
    );
    // What it pushed installs on a fresh machine, every other source unreachable.
    let fresh = TestContext::new();
    let docker = login(&fresh, &reg, "ci", "s3cret");
    let out = install_from_image(&fresh, &reg, Some(&docker));
    assert_exit(&out, 0);
    assert_installed(&fresh);

    // Installed from an npm tarball, which the store keeps: the push from the cache rebuilds
    // the layer the push from npm itself gives, byte for byte.
    let npm = NpmRegistry::builder()
        .tarball(
            V,
            npm_platform(host_target()),
            npm_tarball(V, host_target(), &Package::codex(V)),
        )
        .start();
    let (_, direct) = push_from(&|c: &mut std::process::Command| {
        c.npm_registry(&npm);
    });
    let ctx = TestContext::new();
    let out = ctx.cmd(["install", V]).npm_registry(&npm).output().unwrap();
    assert_exit(&out, 0);
    drop(npm);
    let reg = OciRegistry::start(Auth::Open);
    let out = ctx
        .cmd(["mirror", V, "--from-cache", "--json", "--out"])
        .arg(reg.reference("codex/runtime"))
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let report = json(&out.stdout);
    assert_eq!(report["images"][0]["source"], "cache");
    assert_eq!(
        report["images"][0]["rebuilt_from"],
        direct["images"][0]["rebuilt_from"]
    );
    assert_eq!(
        report["images"][0]["layer_digest"],
        direct["images"][0]["layer_digest"]
    );
}

// ---- uploads: chunks that resume, cross-repository mounts ---------------------------------

#[test]
fn a_large_blob_goes_up_in_chunks_and_resumes_where_the_registry_got_to() {
    let reg = OciRegistry::start(bearer());
    let dir = tempfile::tempdir().unwrap();
    let files = docker_config(dir.path(), &reg.host(), "ci", "s3cret");
    let http = http();
    let r = Registry::new(
        &http,
        Reference::parse(&reg.reference("codex/runtime")).unwrap(),
        &files,
    )
    .unwrap()
    .pushing()
    .chunk_size(10);
    let blob: Vec<u8> = (0..35u8).collect();
    let digest = sha256_digest(&blob);
    let path = dir.path().join("layer");
    std::fs::write(&path, &blob).unwrap();
    // The first chunk reaches the registry in part (4 bytes), then the connection drops.
    reg.drop_next_patch_after(4);
    let sent = block_on(r.push_blob_file(&digest, &path, blob.len() as u64)).unwrap();
    assert_eq!(sent, Sent::Uploaded);
    assert_eq!(reg.blob(&digest), Some(blob));
    assert_eq!(reg.uploads(), 1);
    let reqs = reg.server.requests();
    let ranges: Vec<&str> = reqs
        .iter()
        .filter(|q| q.method == "PATCH")
        .map(|q| q.headers["content-range"].as_str())
        .collect();
    // After the drop, the upload's status said 4 bytes arrived: the next chunk starts there.
    assert_eq!(ranges, ["0-9", "4-13", "14-23", "24-33", "34-34"]);
    let status = reqs
        .iter()
        .filter(|q| q.method == "GET" && q.path.contains("/blobs/uploads/"))
        .count();
    assert_eq!(status, 1);
    let put = reqs.iter().find(|q| q.method == "PUT").unwrap();
    assert!(
        put.body.is_empty() && put.path.contains("digest=sha256"),
        "{put:?}"
    );
    // A drop that leaves one byte: the status says `0-0` as for none (as distribution does);
    // the resend from zero is refused as out of range, and the upload goes on from one.
    let blob2: Vec<u8> = (100..125u8).collect();
    let path2 = dir.path().join("layer2");
    std::fs::write(&path2, &blob2).unwrap();
    reg.drop_next_patch_after(1);
    let before = reg.server.requests().len();
    let sent = block_on(r.push_blob_file(&sha256_digest(&blob2), &path2, 25)).unwrap();
    assert_eq!(sent, Sent::Uploaded);
    assert_eq!(reg.blob(&sha256_digest(&blob2)), Some(blob2));
    let ranges: Vec<String> = reg.server.requests()[before..]
        .iter()
        .filter(|q| q.method == "PATCH")
        .map(|q| q.headers["content-range"].clone())
        .collect();
    assert_eq!(ranges, ["0-9", "0-9", "1-10", "11-20", "21-24"]);
    // A blob no larger than a chunk goes up in one PUT.
    let small = b"small".to_vec();
    let path = dir.path().join("small");
    std::fs::write(&path, &small).unwrap();
    let patches = reg
        .server
        .requests()
        .iter()
        .filter(|q| q.method == "PATCH")
        .count();
    block_on(r.push_blob_file(&sha256_digest(&small), &path, 5)).unwrap();
    let after = reg
        .server
        .requests()
        .iter()
        .filter(|q| q.method == "PATCH")
        .count();
    assert_eq!(patches, after);
    assert_eq!(reg.blob(&sha256_digest(&small)), Some(small));
}

#[test]
fn a_blob_another_repository_holds_is_mounted_and_a_refused_mount_uploads() {
    let reg = OciRegistry::start(bearer());
    let dir = tempfile::tempdir().unwrap();
    let files = docker_config(dir.path(), &reg.host(), "ci", "s3cret");
    let http = http();
    let repo = |name: &str| {
        Registry::new(
            &http,
            Reference::parse(&reg.reference(name)).unwrap(),
            &files,
        )
        .unwrap()
        .pushing()
    };
    let blob = b"the layer".to_vec();
    let digest = sha256_digest(&blob);
    let path = dir.path().join("layer");
    std::fs::write(&path, &blob).unwrap();
    let size = blob.len() as u64;
    block_on(async {
        assert_eq!(
            repo("codex/old")
                .push_blob_file(&digest, &path, size)
                .await
                .unwrap(),
            Sent::Uploaded
        );
        let new = repo("codex/runtime").mounting_from(vec!["codex/old".into()]);
        assert_eq!(
            new.push_blob_file(&digest, &path, size).await.unwrap(),
            Sent::Mounted {
                from: "codex/old".into()
            }
        );
    });
    assert_eq!((reg.uploads(), reg.mounts()), (1, 1));
    assert!(reg.has("codex/runtime", &digest));
    // The mount's token was asked for reading the source repository too.
    let token = reg
        .server
        .requests()
        .into_iter()
        .rfind(|q| q.path.starts_with("/token"))
        .unwrap();
    assert!(
        token.path.contains("repository%3Acodex%2Fold%3Apull"),
        "{}",
        token.path
    );
    // A registry that does not mount answers 202 with an upload: the bytes go there.
    reg.refuse_mounts();
    let posts = reg
        .server
        .requests()
        .iter()
        .filter(|q| q.method == "POST")
        .count();
    let sent = block_on(
        repo("codex/other")
            .mounting_from(vec!["codex/old".into()])
            .push_blob_file(&digest, &path, size),
    )
    .unwrap();
    assert_eq!(sent, Sent::Uploaded);
    assert_eq!((reg.uploads(), reg.mounts()), (2, 1));
    let posts_after = reg
        .server
        .requests()
        .iter()
        .filter(|q| q.method == "POST")
        .count();
    assert_eq!(
        posts_after - posts,
        1,
        "the mount's upload was used, no second POST"
    );
    assert!(reg.has("codex/other", &digest));
}

#[test]
fn mirror_mounts_the_layers_another_repository_of_the_registry_holds() {
    let ctx = TestContext::new();
    let (server, ..) = two_target_release();
    let reg = OciRegistry::start(bearer());
    let docker = login(&ctx, &reg, "ci", "s3cret");
    let push = |repo: &str, extra: &[&str]| {
        let out = ctx
            .cmd(["mirror", V, "--json", "--targets", LINUX, "--out"])
            .arg(reg.reference(repo))
            .args(extra)
            .github(&server)
            .env("DOCKER_CONFIG", &docker)
            .output()
            .unwrap();
        assert_exit(&out, 0);
        json(&out.stdout)
    };
    push("codex/a", &[]);
    let uploads = reg.uploads();
    let report = push("codex/b", &["--mount-from", "codex/a"]);
    assert_eq!(report["images"][0]["mounted_from"], "codex/a", "{report:#}");
    assert_eq!(report["images"][0]["uploaded"], false);
    assert_eq!(reg.mounts(), 1);
    // The config blob is small and sent again; the layer is not.
    assert_eq!(reg.uploads(), uploads + 1);
    // `--mount-from` is for a registry; a bad name is refused before anything is asked.
    let out = ctx
        .cmd(["mirror", V, "--mount-from", "Bad Name", "--out"])
        .arg(reg.reference("codex/c"))
        .output()
        .unwrap();
    assert_exit(&out, 2);
    let out = ctx
        .cmd(["mirror", V, "--mount-from", "codex/a", "--out", "dir"])
        .output()
        .unwrap();
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("`--mount-from`"), "{}", stderr(&out));
}

// ---- latest: the repository's newest version tag ------------------------------------------

#[test]
fn latest_from_an_oci_mirror_is_its_newest_stable_version_tag_across_pages() {
    let (reg, zst) = pushed(false);
    // Other tags: older versions (one that sorts after V as text), a pre-release above it,
    // and names that are no version.
    for tag in ["0.99.0", "0.150.0", "0.170.0-alpha.1", "nightly", "latest"] {
        reg.put_manifest(
            "codex/runtime",
            tag,
            "application/vnd.oci.image.index.v1+json",
            format!(r#"{{"schemaVersion":2,"manifests":[],"annotations":{{"t":"{tag}"}}}}"#)
                .into_bytes(),
        );
    }
    reg.tags_per_page(2);
    let ctx = TestContext::new();
    let docker = login(&ctx, &reg, "ci", "s3cret");
    let out = ctx
        .cmd(["install", "latest", "--mirror"])
        .arg(reg.reference("codex/runtime"))
        .env("DOCKER_CONFIG", &docker)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert!(
        stderr(&out).contains(&format!(
            "latest = {V} (the OCI repository's newest version tag)"
        )),
        "{}",
        stderr(&out)
    );
    assert_installed(&ctx);
    let receipt = std::fs::read_to_string(
        crate::common::runtime_dir(&ctx, V).join(".codex-bootstrap-receipt.json"),
    )
    .unwrap();
    assert!(receipt.contains(&sha256_hex(&zst)), "{receipt}");
    // Six tags, two a page: three pages, each after the `Link` of the one before (the first
    // asked twice: its 401 called for a token).
    let mut pages: Vec<String> = reg
        .server
        .requests()
        .into_iter()
        .filter(|q| q.path.contains("/tags/list"))
        .map(|q| q.path)
        .collect();
    pages.dedup();
    assert_eq!(
        pages,
        [
            "/v2/codex/runtime/tags/list?n=1000",
            "/v2/codex/runtime/tags/list?n=2&last=0.163.0",
            "/v2/codex/runtime/tags/list?n=2&last=0.99.0"
        ]
    );

    // A repository with no version tag says so, and lists what it has.
    let empty = OciRegistry::start(Auth::Open);
    empty.put_manifest(
        "codex/runtime",
        "nightly",
        "application/vnd.oci.image.index.v1+json",
        br#"{"schemaVersion":2,"manifests":[]}"#.to_vec(),
    );
    let out = TestContext::new()
        .cmd(["install", "latest", "--mirror"])
        .arg(empty.reference("codex/runtime"))
        .output()
        .unwrap();
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains("has no tag that is a stable Codex version (its tags: `nightly`)"),
        "{}",
        stderr(&out)
    );
}

// ---- the Sigstore bundle as a referrer ----------------------------------------------------

#[test]
fn the_signature_bundle_is_pushed_as_a_referrer_and_proves_an_install_from_the_registry() {
    use crate::support::sigstore::{Identity, TestSigstore};
    let sigstore = TestSigstore::new();
    let codex = codex_script(V);
    // A registry without the referrers API (the tag schema's fallback) and one with it; a
    // cosign 2.x bundle to the first, a standard v0.1 bundle to the second.
    let cases = [
        (
            false,
            sigstore.sign_legacy(codex.as_bytes(), &Identity::codex_release(TAG)),
            "application/vnd.dev.codex-bootstrap.cosign-bundle+json",
        ),
        (
            true,
            sigstore.sign_bundle(codex.as_bytes(), &Identity::codex_release(TAG)),
            "application/vnd.dev.sigstore.bundle.v0.1+json",
        ),
    ];
    for (api, bundle, artifact_type) in cases {
        // Installed from a release with its bundle: the receipt keeps the bundle.
        let server = ReleaseServer::start();
        server.add_release(
            TAG,
            &[
                Asset::new(
                    &crate::fixture::package_gz(),
                    Package::codex(V).tar_gz(),
                    DigestMode::Api,
                ),
                Asset::new(
                    &format!("codex-{}.sigstore", host_target()),
                    bundle.clone(),
                    DigestMode::Api,
                ),
            ],
        );
        let ctx = TestContext::new();
        let root = ctx.root().join("trusted_root.json");
        std::fs::write(&root, sigstore.trusted_root()).unwrap();
        let root = root.to_str().unwrap().to_string();
        assert_exit(&ctx.install(&server, &["--trusted-root", &root]), 0);
        drop(server);
        let reg = OciRegistry::start(bearer());
        if api {
            reg.with_referrers_api();
        }
        let docker = login(&ctx, &reg, "ci", "s3cret");
        let out = ctx
            .cmd(["mirror", V, "--from-cache", "--json", "--out"])
            .arg(reg.reference("codex/runtime"))
            .env("DOCKER_CONFIG", &docker)
            .output()
            .unwrap();
        assert_exit(&out, 0);
        let report = json(&out.stdout);
        let image = &report["images"][0];
        let signature = &image["signature"];
        assert_eq!(signature["artifact_type"], artifact_type, "{report:#}");
        // The referrer: an artifact whose subject is the image, its one layer the bundle.
        let (_, referrer) = reg
            .manifest("codex/runtime", signature["digest"].as_str().unwrap())
            .unwrap();
        let referrer = json(&referrer);
        assert_eq!(referrer["artifactType"], artifact_type);
        assert_eq!(referrer["subject"]["digest"], image["manifest_digest"]);
        assert_eq!(
            referrer["config"]["mediaType"],
            "application/vnd.oci.empty.v1+json"
        );
        assert_eq!(
            reg.blob(referrer["layers"][0]["digest"].as_str().unwrap()),
            Some(bundle.clone())
        );
        // Without the API, the tag schema's index lists it under `sha256-<hex>`.
        let fallback = image["manifest_digest"]
            .as_str()
            .unwrap()
            .replace("sha256:", "sha256-");
        match reg.manifest("codex/runtime", &fallback) {
            Some((_, index)) if !api => {
                assert_eq!(json(&index)["manifests"][0]["digest"], signature["digest"])
            }
            None if api => {}
            other => panic!("api: {api}, fallback tag: {other:?}"),
        }

        // A fresh machine reaching only the registry, a signature required: the referrer's
        // bundle proves the layer's `bin/codex`.
        let fresh = TestContext::new();
        let docker = login(&fresh, &reg, "ci", "s3cret");
        let out = fresh
            .cmd([
                "install",
                V,
                "--json",
                "--require-signature",
                "--trusted-root",
            ])
            .arg(&root)
            .arg("--mirror")
            .arg(reg.reference("codex/runtime"))
            .env("DOCKER_CONFIG", &docker)
            .output()
            .unwrap();
        assert_exit(&out, 0);
        let sig = &json(&out.stdout)["signature"];
        assert_eq!(sig["verified"], true, "{sig}");
        let bundle_from = sig["bundle_from"].as_str().unwrap();
        assert!(
            bundle_from.ends_with(&format!(
                "/v2/codex/runtime/manifests/{}",
                signature["digest"].as_str().unwrap()
            )),
            "{bundle_from}"
        );
        let asked = |p: &str| reg.server.requests().iter().any(|q| q.path.contains(p));
        assert!(asked("/referrers/sha256:"));
        assert_eq!(asked(&format!("/manifests/{fallback}")), !api);
    }
}

// ---- the guide's Dockerfile and Pod spec --------------------------------------------------

/// The fenced block of the guide's "OCI registries" page whose first line is `# {title}`.
fn guide_block(title: &str) -> String {
    let page = crate::support::guide::page("oci.md");
    let mut lines = page.lines();
    while let Some(l) = lines.next() {
        if !l.starts_with("```") {
            continue;
        }
        let body: Vec<&str> = lines
            .by_ref()
            .take_while(|l| !l.starts_with("```"))
            .collect();
        if body.first().map(|l| l.trim()) == Some(&format!("# {title}")) {
            return body[1..].join("\n") + "\n";
        }
    }
    panic!("docs/src/oci.md has no block `# {title}`");
}

/// Every `/opt/codex/…` path a block names, relative to `/opt/codex/`.
fn opt_codex_paths(block: &str) -> Vec<String> {
    block
        .split("/opt/codex/")
        .skip(1)
        .map(|rest| {
            rest.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || "._-/".contains(*c))
                .collect::<String>()
        })
        .filter(|p| !p.is_empty())
        .collect()
}

#[test]
fn the_guide_s_dockerfile_and_pod_spec_name_what_the_pushed_layer_holds() {
    let (reg, zst) = pushed(false);
    // The tree the layer unpacks to: the pushed blob, as a runtime reads it.
    let digest = format!("sha256:{}", sha256_hex(&zst));
    let tar = zstd::decode_all(&reg.blob(&digest).unwrap()[..]).unwrap();
    let tree: Vec<String> = tar::Archive::new(&tar[..])
        .entries()
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path().unwrap().to_string_lossy().into_owned();
            p.trim_start_matches("./").trim_end_matches('/').to_string()
        })
        .collect();
    let has = |p: &str| tree.iter().any(|t| t == p.trim_end_matches('/'));
    // The guide pushes to this repository; its blocks name it at the version's tag.
    let push = guide_block_containing("codex-bootstrap mirror 0.163.0");
    let pushed_to = push
        .split_whitespace()
        .find_map(|w| w.strip_prefix("oci://"))
        .expect("the push names an oci:// reference")
        .to_string();
    let tagged = format!("{pushed_to}:{V}");

    let dockerfile = guide_block("Dockerfile: the runtime copied out of the registry");
    let copy: Vec<&str> = dockerfile
        .lines()
        .find(|l| l.starts_with("COPY --from="))
        .expect("a COPY --from line")
        .split_whitespace()
        .collect();
    assert_eq!(copy[1], format!("--from={tagged}"));
    // The image root is the package tree: `/` copied to the destination.
    assert_eq!((copy[2], copy[3]), ("/", "/opt/codex/"));
    let paths = opt_codex_paths(&dockerfile);
    assert!(paths.contains(&"bin".to_string()), "{paths:?}");
    for p in &paths {
        assert!(
            has(p),
            "the Dockerfile names /opt/codex/{p}, not in {tree:?}"
        );
    }

    let pod = guide_block("Kubernetes: the runtime as an image volume");
    let field = |name: &str| -> Vec<String> {
        pod.lines()
            .filter_map(|l| l.trim().trim_start_matches("- ").strip_prefix(name))
            .map(|v| v.trim().to_string())
            .collect()
    };
    assert_eq!(field("reference:"), std::slice::from_ref(&tagged));
    assert_eq!(field("mountPath:"), ["/opt/codex"]);
    // The volume and its mount are one name.
    let names = field("name:");
    assert!(
        names.iter().filter(|n| *n == "codex").count() == 2,
        "{names:?}"
    );
    let paths = opt_codex_paths(&pod);
    assert!(paths.contains(&"bin/codex".to_string()), "{paths:?}");
    for p in &paths {
        assert!(has(p), "the Pod names /opt/codex/{p}, not in {tree:?}");
    }
    // And the reference is one `install --mirror` and the registry take.
    let r = Reference::parse(&format!("oci://{tagged}")).unwrap();
    assert_eq!(
        (r.repository.as_str(), r.tag.as_deref()),
        ("codex/runtime", Some(V))
    );
}

/// The guide's OCI page's first fenced block that contains `needle`.
fn guide_block_containing(needle: &str) -> String {
    crate::support::guide::page("oci.md")
        .split("```")
        .skip(1)
        .step_by(2)
        .find(|b| b.contains(needle))
        .unwrap_or_else(|| panic!("docs/src/oci.md has no block with `{needle}`"))
        .to_string()
}

#[test]
fn a_referred_bundle_from_another_signer_refuses_the_install() {
    let (reg, _) = pushed(false);
    reg.with_referrers_api();
    // Another client attached a bundle to the image: a real cosign 2.x bundle, signed by
    // someone who is not OpenAI's release workflow, over other bytes.
    let bundle = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/sigstore-legacy/cosign2-blob.sigstore"),
    )
    .unwrap();
    let (_, index) = reg.manifest("codex/runtime", V).unwrap();
    let entry = json(&index)["manifests"][0].clone();
    let artifact = "application/vnd.dev.codex-bootstrap.cosign-bundle+json";
    let empty = reg.put_blob(b"{}".to_vec());
    let layer = reg.put_blob(bundle.clone());
    let referrer = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": artifact,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty, "size": 2},
        "layers": [{"mediaType": artifact, "digest": layer, "size": bundle.len()}],
        "subject": {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": entry["digest"],
            "size": entry["size"],
        },
    });
    reg.put_manifest(
        "codex/runtime",
        "attached",
        "application/vnd.oci.image.manifest.v1+json",
        serde_json::to_vec(&referrer).unwrap(),
    );
    let ctx = TestContext::new();
    let docker = login(&ctx, &reg, "ci", "s3cret");
    let out = install_from_image(&ctx, &reg, Some(&docker));
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("signed by vu@krnl.xyz"), "{err}");
    assert!(
        err.contains("mirror: the signature does not prove"),
        "{err}"
    );
    assert_nothing_installed(&ctx);
}
