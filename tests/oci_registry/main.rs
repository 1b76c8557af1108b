//! Against a real OCI registry: CNCF distribution (Debian's `docker-registry`) with TLS and
//! htpasswd on loopback, and skopeo reading what we pushed. `.ci/oci-registry` starts them and
//! runs these tests (`--ignored`), passing locations and secrets in `OCI_*` variables; a plain
//! `cargo test` ignores them. The runtime pushed is `.ci/fake-codex-release.py`'s package,
//! pinned by its project's `codex-runtime.toml`; GitHub's API, the Python index and npm are
//! unreachable throughout.

#[path = "../support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine as _;
use sha2::Digest as _;

struct Registry {
    /// `127.0.0.1:PORT`
    host: String,
    user: String,
    password: String,
    ca: PathBuf,
    skopeo_cert_dir: PathBuf,
    storage: PathBuf,
    release_download: String,
    release_dir: PathBuf,
    project: PathBuf,
    version: String,
    target: String,
}

fn is_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

fn registry() -> Option<Registry> {
    let var = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
    let Some(host) = var("OCI_REGISTRY") else {
        let why = "OCI_REGISTRY not set: the registry is not running (run these tests through .ci/oci-registry)";
        assert!(!is_ci(), "{why}");
        eprintln!("skipped: {why}");
        return None;
    };
    let need = |n: &str| var(n).unwrap_or_else(|| panic!("{n} not set by .ci/oci-registry"));
    Some(Registry {
        host,
        user: need("OCI_USER"),
        password: need("OCI_PASSWORD"),
        ca: need("OCI_CA").into(),
        skopeo_cert_dir: need("OCI_SKOPEO_CERT_DIR").into(),
        storage: need("OCI_STORAGE").into(),
        release_download: need("OCI_RELEASE_DOWNLOAD"),
        release_dir: need("OCI_RELEASE_DIR").into(),
        project: need("OCI_PROJECT").into(),
        version: need("OCI_VERSION"),
        target: need("OCI_TARGET"),
    })
}

/// One sandbox: its own HOME, store and docker config; every other source unreachable.
struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new(reg: &Registry, password: &str) -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        let docker = dir.path().join("docker");
        std::fs::create_dir_all(&docker).unwrap();
        let auth =
            base64::engine::general_purpose::STANDARD.encode(format!("{}:{password}", reg.user));
        std::fs::write(
            docker.join("config.json"),
            format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, reg.host),
        )
        .unwrap();
        Sandbox { dir }
    }

    fn cmd(&self, reg: &Registry, args: &[&str]) -> Command {
        let root = self.dir.path();
        let mut c = Command::new(env!("CARGO_BIN_EXE_codex-bootstrap"));
        c.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", root.join("home"))
            .env("XDG_CACHE_HOME", root.join("xdg-cache"))
            .env("XDG_CONFIG_HOME", root.join("xdg-config"))
            .env("CODEX_BOOTSTRAP_HOME", root.join("store"))
            .env("CODEX_BOOTSTRAP_BIN_DIR", root.join("bin"))
            .env("CODEX_HOME", root.join("codex-home"))
            .env("DOCKER_CONFIG", root.join("docker"))
            .env("SSL_CERT_FILE", &reg.ca)
            .env(
                "CODEX_BOOTSTRAP_GITHUB_API",
                "http://127.0.0.1:9/unreachable-api",
            )
            .env(
                "CODEX_BOOTSTRAP_GITHUB_DOWNLOAD_URL",
                "http://127.0.0.1:9/unreachable-download",
            )
            .env(
                "CODEX_BOOTSTRAP_INDEX_URL",
                "http://127.0.0.1:9/unreachable-index",
            )
            .env(
                "CODEX_BOOTSTRAP_NPM_REGISTRY",
                "http://127.0.0.1:9/unreachable-npm",
            )
            .env("CODEX_BOOTSTRAP_CONNECT_TIMEOUT", "5")
            // The fake runtime carries the real version number, whose `bin/codex` the bundled
            // manifest pins: those pins are set aside, as in the hermetic tests.
            .env("__CODEX_BOOTSTRAP_TEST_IGNORE_BUNDLED_PINS", "1")
            .current_dir(&reg.project);
        c
    }
}

fn reference(reg: &Registry) -> String {
    format!("oci://{}/codex/runtime", reg.host)
}

#[track_caller]
fn assert_exit(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn skopeo(reg: &Registry, args: &[&str]) -> Output {
    let creds = format!("{}:{}", reg.user, reg.password);
    let cert_dir = reg.skopeo_cert_dir.display().to_string();
    let mut c = Command::new("skopeo");
    c.arg(args[0]);
    // The registry's options go to each docker:// side.
    if args[0] == "copy" {
        c.args(["--src-creds", &creds, "--src-cert-dir", &cert_dir]);
    } else {
        c.args(["--creds", &creds, "--cert-dir", &cert_dir]);
    }
    c.args(&args[1..]).output().expect("run skopeo")
}

fn sha256_hex(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The archive the release serves (the one file in the release directory that is a package).
fn archive(reg: &Registry) -> (String, Vec<u8>) {
    let name = format!("codex-package-{}.tar.gz", reg.target);
    (
        name.clone(),
        std::fs::read(reg.release_dir.join(&name)).unwrap(),
    )
}

/// The path distribution keeps a blob's bytes at.
fn blob_data(storage: &Path, hex: &str) -> PathBuf {
    storage.join(format!(
        "docker/registry/v2/blobs/sha256/{}/{hex}/data",
        &hex[..2]
    ))
}

#[test]
#[ignore = "needs .ci/oci-registry"]
fn a_pushed_runtime_is_a_normal_image_that_installs_back_with_every_other_source_down() {
    let Some(reg) = registry() else { return };
    let (_, bytes) = archive(&reg);
    let layer_digest = format!("sha256:{}", sha256_hex(&bytes));

    // Push, from the pinned release on loopback.
    let pusher = Sandbox::new(&reg, &reg.password);
    let out = pusher
        .cmd(&reg, &["mirror", &reg.version, "--out", &reference(&reg)])
        .env("CODEX_BOOTSTRAP_GITHUB_DOWNLOAD_URL", &reg.release_download)
        .output()
        .unwrap();
    assert_exit(&out, 0);

    // skopeo reads a multi-platform image whose layer is the release's archive.
    let tagged = format!("docker://{}/codex/runtime:{}", reg.host, reg.version);
    let out = skopeo(&reg, &["inspect", "--raw", &tagged]);
    assert_exit(&out, 0);
    let index: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        index["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    let entry = &index["manifests"][0];
    assert_eq!(entry["platform"]["os"], "linux");
    let by_digest = format!(
        "docker://{}/codex/runtime@{}",
        reg.host,
        entry["digest"].as_str().unwrap()
    );
    let out = skopeo(&reg, &["inspect", "--raw", &by_digest]);
    assert_exit(&out, 0);
    let manifest: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(manifest["layers"][0]["digest"], layer_digest.as_str());
    assert_eq!(
        manifest["layers"][0]["mediaType"],
        "application/vnd.oci.image.layer.v1.tar+gzip"
    );
    // And copies it whole, checking every digest as it goes.
    let layout = tempfile::tempdir().unwrap();
    let dest = format!("oci:{}:copy", layout.path().join("layout").display());
    let out = skopeo(&reg, &["copy", "--all", &tagged, &dest]);
    assert_exit(&out, 0);

    // Install it back on a machine that reaches nothing but the registry.
    let fresh = Sandbox::new(&reg, &reg.password);
    let out = fresh
        .cmd(
            &reg,
            &["install", "--mirror", &reference(&reg), "--print-path"],
        )
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let codex = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let version = Command::new(&codex).arg("--version").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("codex-cli {}", reg.version)
    );

    // `latest` is the repository's newest version tag (distribution's tag list).
    let out = fresh
        .cmd(&reg, &["install", "latest", "--mirror", &reference(&reg)])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "latest = {} (the OCI repository's newest version tag)",
            reg.version
        )),
        "{err}"
    );

    // A wrong password is a verdict naming where the credentials came from.
    let wrong = Sandbox::new(&reg, "not-the-password");
    let out = wrong
        .cmd(&reg, &["install", "--mirror", &reference(&reg)])
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refused the credentials") && err.contains("config.json"),
        "{err}"
    );

    // A missing tag is named.
    let out = fresh
        .cmd(&reg, &["install", "0.0.1", "--mirror", &reference(&reg)])
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("has no tag `0.0.1`"), "{err}");

    // A layer damaged in the registry's storage is refused (distribution serves it as stored).
    let data = blob_data(&reg.storage, &layer_digest["sha256:".len()..]);
    let mut stored = std::fs::read(&data).unwrap();
    stored[0] ^= 0xff;
    std::fs::write(&data, &stored).unwrap();
    let damaged = Sandbox::new(&reg, &reg.password);
    let out = damaged
        .cmd(&reg, &["install", "--mirror", &reference(&reg)])
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("mirror: checksum mismatch"), "{err}");
    stored[0] ^= 0xff;
    std::fs::write(&data, &stored).unwrap();
}

#[test]
#[ignore = "needs .ci/oci-registry"]
fn a_wheel_is_pushed_as_a_rebuilt_layer_in_chunks_mounted_into_another_repository_and_installs() {
    let Some(reg) = registry() else { return };
    // The wheel on the loopback simple index is the only source; no project pins (another
    // working directory), so nothing pins the release's archive.
    let index = format!(
        "{}/simple",
        reg.release_download.trim_end_matches("/download")
    );
    let elsewhere = tempfile::tempdir().unwrap();
    let pusher = Sandbox::new(&reg, &reg.password);
    let push = |repo: &str, extra: &[&str]| {
        let out_ref = format!("oci://{}/{repo}", reg.host);
        let mut args = vec!["mirror", reg.version.as_str(), "--json", "--out", &out_ref];
        args.extend_from_slice(extra);
        let out = pusher
            .cmd(&reg, &args)
            .current_dir(elsewhere.path())
            .env("CODEX_BOOTSTRAP_INDEX_URL", &index)
            // Chunks of 100 bytes: the small layer goes up as several PATCHes.
            .env("__CODEX_BOOTSTRAP_TEST_OCI_CHUNK_SIZE", "100")
            .output()
            .unwrap();
        assert_exit(&out, 0);
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let first = push("codex/rebuilt-a", &[]);
    let image = &first["images"][0];
    assert_eq!(image["source"], "python-index", "{first:#}");
    assert_eq!(image["uploaded"], true);
    assert!(image["layer_size"].as_u64().unwrap() > 100, "{first:#}");
    assert!(image["rebuilt_from"]
        .as_str()
        .unwrap()
        .starts_with("openai_codex_cli_bin-"));
    // Pushed again, to another repository: the same layer digest (the rebuild is
    // deterministic), which distribution mounts from the first instead of taking the bytes.
    let second = push("codex/rebuilt-b", &["--mount-from", "codex/rebuilt-a"]);
    assert_eq!(second["images"][0]["layer_digest"], image["layer_digest"]);
    assert_eq!(second["images"][0]["mounted_from"], "codex/rebuilt-a");
    assert_eq!(second["images"][0]["uploaded"], false);

    // skopeo reads it as a normal image with a zstd layer, and copies it checking digests.
    let tagged = format!("docker://{}/codex/rebuilt-b:{}", reg.host, reg.version);
    let by_digest = format!(
        "docker://{}/codex/rebuilt-b@{}",
        reg.host,
        second["images"][0]["manifest_digest"].as_str().unwrap()
    );
    let out = skopeo(&reg, &["inspect", "--raw", &by_digest]);
    assert_exit(&out, 0);
    let manifest: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let layer = &manifest["layers"][0];
    assert_eq!(
        layer["mediaType"],
        "application/vnd.oci.image.layer.v1.tar+zstd"
    );
    assert_eq!(
        layer["annotations"]["dev.codex-bootstrap.rebuilt-from"],
        image["rebuilt_from"]
    );
    let layout = tempfile::tempdir().unwrap();
    let dest = format!("oci:{}:copy", layout.path().join("layout").display());
    let out = skopeo(&reg, &["copy", "--all", &tagged, &dest]);
    assert_exit(&out, 0);

    // It installs on a machine that reaches nothing but the registry, `bin/codex` checked
    // against the image's annotation.
    let fresh = Sandbox::new(&reg, &reg.password);
    let out_ref = format!("oci://{}/codex/rebuilt-b", reg.host);
    let out = fresh
        .cmd(&reg, &["install", "--mirror", &out_ref, "--print-path"])
        .current_dir(elsewhere.path())
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let codex = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let version = Command::new(&codex).arg("--version").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("codex-cli {}", reg.version)
    );
}

#[test]
#[ignore = "needs .ci/oci-registry"]
fn a_registry_with_token_auth_takes_a_push_and_serves_the_install_with_one_token_each() {
    let Some(reg) = registry() else { return };
    let var = |n: &str| std::env::var(n).unwrap_or_else(|_| panic!("{n} not set"));
    // The same login, on the registry that answers with a Bearer challenge.
    let token_reg = Registry {
        host: var("OCI_TOKEN_REGISTRY"),
        ..registry().unwrap()
    };
    let log_path = PathBuf::from(var("OCI_TOKEN_LOG"));
    let asked = || -> Vec<serde_json::Value> {
        std::fs::read_to_string(&log_path)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let reference = format!("oci://{}/codex/runtime", token_reg.host);
    let pusher = Sandbox::new(&token_reg, &token_reg.password);
    let out = pusher
        .cmd(&token_reg, &["mirror", &reg.version, "--out", &reference])
        .env("CODEX_BOOTSTRAP_GITHUB_DOWNLOAD_URL", &reg.release_download)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    // One token for the whole push, asked with push access to the repository.
    let tokens = asked();
    assert_eq!(tokens.len(), 1, "{tokens:?}");
    assert_eq!(tokens[0]["service"], "codex-bootstrap-oci-test");
    assert_eq!(tokens[0]["scopes"][0], "repository:codex/runtime:pull,push");
    assert_eq!(tokens[0]["login"], true);

    // skopeo, through the same token server, reads it.
    let tagged = format!("docker://{}/codex/runtime:{}", token_reg.host, reg.version);
    assert_exit(&skopeo(&token_reg, &["inspect", "--raw", &tagged]), 0);

    let fresh = Sandbox::new(&token_reg, &token_reg.password);
    let before = asked().len();
    let out = fresh
        .cmd(
            &token_reg,
            &["install", "--mirror", &reference, "--print-path"],
        )
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let pulls: Vec<_> = asked().into_iter().skip(before).collect();
    assert_eq!(
        pulls
            .iter()
            .map(|t| t["scopes"][0].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["repository:codex/runtime:pull"],
        "{pulls:?}"
    );
    let codex = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let version = Command::new(&codex).arg("--version").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("codex-cli {}", reg.version)
    );

    // A wrong password: the token server refuses it, and the verdict names the file.
    let wrong = Sandbox::new(&token_reg, "not-the-password");
    let out = wrong
        .cmd(&token_reg, &["install", "--mirror", &reference])
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refused the credentials") && err.contains("config.json"),
        "{err}"
    );
    assert!(!err.contains("not-the-password"), "{err}");
}

#[test]
#[ignore = "needs .ci/oci-registry"]
fn a_signed_runtime_carries_its_bundle_as_a_referrer_distribution_keeps_by_the_tag_schema() {
    use support::sigstore::{Identity, TestSigstore};
    let Some(reg) = registry() else { return };
    // The test's own Sigstore signs the fake runtime's `bin/codex`; the pusher's project pins
    // that bundle beside the release's archive, so the push has a bundle to attach.
    let (name, archive) = archive(&reg);
    let mut codex = Vec::new();
    {
        use std::io::Read as _;
        let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(&archive[..]));
        for entry in tar.entries().unwrap() {
            let mut entry = entry.unwrap();
            if entry
                .path()
                .unwrap()
                .to_string_lossy()
                .trim_start_matches("./")
                == "bin/codex"
            {
                entry.read_to_end(&mut codex).unwrap();
            }
        }
    }
    assert!(!codex.is_empty());
    let tag = format!("rust-v{}", reg.version);
    let sigstore = TestSigstore::new();
    let bundle = sigstore.sign_bundle(&codex, &Identity::codex_release(&tag));
    let project = tempfile::tempdir().unwrap();
    std::fs::write(
        project.path().join("codex-runtime.toml"),
        format!(
            "[runtime]\nversion = \"{v}\"\n\n[targets.{t}]\nasset = \"{name}\"\nsize = {size}\nsha256 = \"{sha}\"\nsigstore_bundle = \"{b64}\"\n",
            v = reg.version,
            t = reg.target,
            size = archive.len(),
            sha = sha256_hex(&archive),
            b64 = base64::engine::general_purpose::STANDARD.encode(&bundle),
        ),
    )
    .unwrap();
    let root = project.path().join("trusted_root.json");
    std::fs::write(&root, sigstore.trusted_root()).unwrap();
    let root = root.display().to_string();
    let reference = format!("oci://{}/codex/signed", reg.host);
    let pusher = Sandbox::new(&reg, &reg.password);
    let out = pusher
        .cmd(
            &reg,
            &["mirror", &reg.version, "--json", "--out", &reference],
        )
        .current_dir(project.path())
        .env("CODEX_BOOTSTRAP_GITHUB_DOWNLOAD_URL", &reg.release_download)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let image = &report["images"][0];
    assert_eq!(
        image["signature"]["artifact_type"], "application/vnd.dev.sigstore.bundle.v0.1+json",
        "{report:#}"
    );
    // distribution 2.8 has no referrers API: the artifact is listed in the tag schema's
    // index, which skopeo reads like any other.
    let fallback = image["manifest_digest"]
        .as_str()
        .unwrap()
        .replace("sha256:", "sha256-");
    let out = skopeo(
        &reg,
        &[
            "inspect",
            "--raw",
            &format!("docker://{}/codex/signed:{fallback}", reg.host),
        ],
    );
    assert_exit(&out, 0);
    let index: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        index["manifests"][0]["digest"],
        image["signature"]["digest"]
    );
    assert_eq!(
        index["manifests"][0]["artifactType"],
        "application/vnd.dev.sigstore.bundle.v0.1+json"
    );

    // A machine with no project (nothing pinned, no bundle of its own) and only the registry
    // reachable, a signature required: the referrer proves the install.
    let elsewhere = tempfile::tempdir().unwrap();
    let fresh = Sandbox::new(&reg, &reg.password);
    let out = fresh
        .cmd(
            &reg,
            &[
                "install",
                &reg.version,
                "--json",
                "--require-signature",
                "--trusted-root",
                &root,
                "--mirror",
                &reference,
            ],
        )
        .current_dir(elsewhere.path())
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let installed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(installed["signature"]["verified"], true, "{installed:#}");
}
