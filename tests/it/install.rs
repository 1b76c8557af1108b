//! `install` scenarios against the loopback release server.

use std::path::Path;

use crate::common::{
    assert_exit, assert_installed, assert_nothing_installed, host_target, runtime_dir, stderr,
    stdout, PointAt, TestContext, TAG, V,
};
use crate::fixture::{package_gz, package_zst, release_gz, sha256_hex, Package};
use crate::support::github::{Asset, DigestMode, ReleaseServer};
use crate::support::http::Fault;

/// A release server with the fixture package published as `.tar.gz` (API digest).
fn release_with_gz() -> (ReleaseServer, Vec<u8>) {
    let gz = Package::codex(V).tar_gz();
    let server = release_gz(V, gz.clone(), DigestMode::Api);
    (server, gz)
}

impl TestContext {
    fn pin_manifest(&self, asset: &str, bytes: &[u8]) {
        std::fs::write(
            self.work_dir().join("codex-runtime.toml"),
            format!(
                "[runtime]\nversion = \"{V}\"\n\n[targets.{}]\nasset = \"{asset}\"\nsize = {}\nsha256 = \"{}\"\n",
                host_target(),
                bytes.len(),
                sha256_hex(bytes)
            ),
        )
        .unwrap();
    }
}

/// Publish `pkg` as the release's only asset, install it, and check that the install fails
/// with a message containing `needle` and leaves nothing installed. Returns the context and
/// stderr for further checks.
fn assert_refused(pkg: &Package, digest: DigestMode, needle: &str) -> (TestContext, String) {
    let ctx = TestContext::new();
    let server = release_gz(V, pkg.tar_gz(), digest);
    let out = ctx.install(&server, &[]);
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(err.contains(needle), "{err}");
    assert_nothing_installed(&ctx);
    (ctx, err)
}

#[test]
fn cold_install_with_the_api_digest_then_warm_with_no_request() {
    let ctx = TestContext::new();
    let (server, gz) = release_with_gz();
    let out = ctx.install(&server, &[]);
    assert_exit(&out, 0);
    assert_installed(&ctx);
    assert_eq!(
        stdout(&out).trim(),
        runtime_dir(&ctx, V).join("bin/codex").display().to_string()
    );
    assert!(
        stderr(&out).contains("GitHub release API asset digest"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        server.requests().len(),
        3,
        "one API request, one download and one look for the signature bundle"
    );

    let receipt: serde_json::Value = serde_json::from_slice(
        &std::fs::read(runtime_dir(&ctx, V).join(".codex-bootstrap-receipt.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(receipt["archive_sha256"], sha256_hex(&gz));
    assert_eq!(receipt["verified_by"]["kind"], "github-api");
    assert_eq!(receipt["files"].as_array().unwrap().len(), 5);

    let before = server.requests().len();
    let warm = ctx.install(&server, &["--json"]);
    assert_exit(&warm, 0);
    assert_eq!(
        server.requests().len(),
        before,
        "the warm path makes no request"
    );
    let json: serde_json::Value = serde_json::from_slice(&warm.stdout).unwrap();
    assert_eq!(json["cached"], true);
    for key in [
        "version",
        "tag",
        "target",
        "path",
        "package_dir",
        "sha256",
        "verified_by",
        "source_url",
        "pin_source",
    ] {
        assert!(!json[key].is_null(), "--json lacks {key}: {json}");
    }
    assert_eq!(json["version"], V);
    assert_eq!(json["tag"], TAG);
}

#[test]
fn zstd_is_preferred_when_the_release_has_it() {
    let ctx = TestContext::new();
    let server = ReleaseServer::start();
    let pkg = Package::codex(V);
    server.add_release(
        TAG,
        &[
            Asset::new(&package_gz(), pkg.tar_gz(), DigestMode::Api),
            Asset::new(&package_zst(), pkg.tar_zst(), DigestMode::Api),
        ],
    );
    let out = ctx.install(&server, &["--json"]);
    assert_exit(&out, 0);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["asset"], package_zst());
    assert_installed(&ctx);
}

#[test]
fn pinned_digest_needs_no_api_at_all() {
    let ctx = TestContext::new();
    let (server, gz) = release_with_gz();
    ctx.pin_manifest(&package_gz(), &gz);
    // The flags themselves, not PointAt's variables: the API URL is dead, downloads are served.
    let out = ctx.run([
        "install",
        "--github-api-url",
        "http://127.0.0.1:9/nope",
        "--github-download-url",
        &server.download_url(),
    ]);
    assert_exit(&out, 0);
    assert_installed(&ctx);
    assert_eq!(
        server
            .requests()
            .iter()
            .filter(|r| r.path.contains("/repos/"))
            .count(),
        0
    );
    assert!(
        stderr(&out).contains("codex-runtime.toml"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn sha256sums_is_used_when_the_asset_has_no_digest() {
    let ctx = TestContext::new();
    let server = ReleaseServer::start();
    let gz = Package::codex(V).tar_gz();
    let sums = format!("{}  {}\n", sha256_hex(&gz), package_gz());
    server.add_release(
        TAG,
        &[
            Asset::new(&package_gz(), gz, DigestMode::None),
            Asset::new(
                "codex-package_SHA256SUMS",
                sums.into_bytes(),
                DigestMode::Api,
            ),
        ],
    );
    let out = ctx.install(&server, &["--json"]);
    assert_exit(&out, 0);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["verified_by"]["kind"], "sha256-sums");
}

#[test]
fn sha256sums_with_a_wrong_digest_is_refused() {
    let ctx = TestContext::new();
    let server = ReleaseServer::start();
    let gz = Package::codex(V).tar_gz();
    let sums = format!("{}  {}\n", sha256_hex(&gz), package_gz());
    server.add_release(
        TAG,
        &[
            Asset::new(&package_gz(), gz, DigestMode::None),
            Asset::new(
                "codex-package_SHA256SUMS",
                sums.into_bytes(),
                DigestMode::Wrong,
            ),
        ],
    );
    let out = ctx.install(&server, &[]);
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains("does not match GitHub's digest"),
        "{}",
        stderr(&out)
    );
    assert_nothing_installed(&ctx);
}

#[test]
fn no_trustworthy_digest_is_refused_with_the_fix() {
    let (_, err) = assert_refused(
        &Package::codex(V),
        DigestMode::None,
        "no trustworthy sha256",
    );
    assert!(
        err.contains("hint:") && err.contains("codex-bootstrap pin"),
        "{err}"
    );
}

#[test]
fn digest_mismatch_installs_nothing_and_says_where_the_expectation_came_from() {
    let ctx = TestContext::new();
    let (server, gz) = release_with_gz();
    let mut other = gz.clone();
    let last = other.len() - 1;
    other[last] ^= 0xff;
    ctx.pin_manifest(&package_gz(), &other);
    let out = ctx.install(&server, &[]);
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("checksum mismatch"), "{err}");
    assert!(
        err.contains(&sha256_hex(&gz)) && err.contains(&sha256_hex(&other)),
        "{err}"
    );
    assert!(err.contains("codex-runtime.toml"), "{err}");
    assert_nothing_installed(&ctx);
    let partials: Vec<_> = std::fs::read_dir(ctx.cache_dir().join("downloads"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
        .collect();
    assert!(partials.is_empty(), "the partial download was kept");
}

#[test]
fn a_cut_connection_resumes_with_a_range_request() {
    let ctx = TestContext::new();
    let server = ReleaseServer::start();
    // Big enough that the cut happens mid-body.
    let pkg = Package::codex(V).file("codex-resources/blob", &vec![7u8; 512 * 1024], 0o644);
    let gz = pkg.tar_gz();
    server.add_release(
        TAG,
        &[Asset::new(&package_gz(), gz.clone(), DigestMode::Api)],
    );
    let path = format!("/download/{TAG}/{}", package_gz());
    server
        .http()
        .fault(&path, Fault::CutAfter(gz.len() as u64 / 2));
    let out = ctx.install(&server, &[]);
    assert_exit(&out, 0);
    assert_installed(&ctx);
    let downloads = server.http().requests_to(&path);
    assert_eq!(downloads.len(), 2, "one cut transfer and one resumed one");
    let range = downloads[1]
        .headers
        .get("range")
        .cloned()
        .unwrap_or_default();
    assert!(
        range.starts_with("bytes=") && !range.starts_with("bytes=0-"),
        "{range}"
    );
}

#[test]
fn rate_limit_says_so_and_names_both_fixes() {
    let ctx = TestContext::new();
    let (server, _) = release_with_gz();
    server.rate_limited(4_000_000_000);
    let out = ctx.install(&server, &[]);
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("rate limit"), "{err}");
    assert!(err.contains("resets at"), "{err}");
    assert!(
        err.contains("GH_TOKEN") && err.contains("codex-bootstrap pin"),
        "{err}"
    );
}

#[test]
fn latest_resolves_the_newest_stable_release_through_the_api() {
    let ctx = TestContext::new();
    let server = ReleaseServer::start();
    let assets = [Asset::new(
        &package_gz(),
        Package::codex("0.170.0").tar_gz(),
        DigestMode::Api,
    )];
    server.add_release("rust-v0.170.0", &assets);
    server.set_latest("rust-v0.170.0", &assets);
    let out = ctx.install(&server, &["--version", "latest", "--json"]);
    assert_exit(&out, 0);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["version"], "0.170.0");
    assert_eq!(
        server.http().count("/repos/openai/codex/releases/latest"),
        1
    );
}

#[test]
fn a_missing_release_is_named() {
    let ctx = TestContext::new();
    let (server, _) = release_with_gz();
    let out = ctx.install(&server, &["--version", "0.1.0"]);
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains("no release `rust-v0.1.0`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn mirror_over_http_and_file_urls() {
    let (server, gz) = release_with_gz();
    for kind in ["http", "file", "dir"] {
        let ctx = TestContext::new();
        ctx.pin_manifest(&package_gz(), &gz);
        let mirror_dir = ctx.root().join("mirror");
        std::fs::create_dir_all(mirror_dir.join(TAG)).unwrap();
        std::fs::write(mirror_dir.join(TAG).join(package_gz()), &gz).unwrap();
        let mirror = match kind {
            "http" => server.download_url(),
            "file" => format!("file://{}", mirror_dir.display()),
            _ => mirror_dir.display().to_string(),
        };
        let out = ctx.run(["install", "--mirror", &mirror, "--json"]);
        assert_exit(&out, 0);
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(
            json["source_url"]
                .as_str()
                .unwrap()
                .ends_with(&package_gz()),
            "{json}"
        );
        assert_installed(&ctx);
    }
}

#[test]
fn tokens_go_to_the_api_only_and_never_into_output_or_the_store() {
    let ctx = TestContext::new();
    let (server, _) = release_with_gz();
    let sentinel = "ghp_SENTINEL_do_not_leak_123";
    let mut cmd = ctx.cmd(["install", "--json"]);
    cmd.github(&server).env("GH_TOKEN", sentinel);
    let out = cmd.output().unwrap();
    assert_exit(&out, 0);
    server.assert_token_went_to_the_api_only(sentinel);
    assert!(!stdout(&out).contains(sentinel) && !stderr(&out).contains(sentinel));
    assert_no_file_contains(&ctx.cache_dir(), sentinel);
}

/// Search every file under `dir` for `needle`; there must be files to search.
#[track_caller]
pub fn assert_no_file_contains(dir: &Path, needle: &str) {
    let mut read = 0;
    for e in walk(dir) {
        if let Ok(bytes) = std::fs::read(&e) {
            read += 1;
            assert!(
                memchr::memmem::find(&bytes, needle.as_bytes()).is_none(),
                "`{}` contains the secret",
                e.display()
            );
        }
    }
    assert!(read > 0, "no file under {} to search", dir.display());
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() && !p.is_symlink() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_package_for_another_version_is_refused() {
    assert_refused(
        &Package::codex("0.1.0"),
        DigestMode::Api,
        "says version `0.1.0`",
    );
}

#[test]
fn a_package_without_its_entrypoint_is_refused() {
    assert_refused(
        &Package::codex(V).without("bin/codex"),
        DigestMode::Api,
        "entrypoint `bin/codex` is missing",
    );
}

#[test]
fn print_path_and_dry_run() {
    let ctx = TestContext::new();
    let (server, _) = release_with_gz();
    let dry = ctx.install(&server, &["--dry-run"]);
    assert_exit(&dry, 0);
    let text = stdout(&dry);
    assert!(
        text.contains("version:   0.163.0") && text.contains("bundled manifest"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "{}/repos/openai/codex/releases/tags/{TAG}",
            server.api_url()
        )),
        "{text}"
    );
    assert!(
        server.requests().is_empty(),
        "--dry-run touched the network"
    );
    assert!(
        !ctx.cache_dir().join("runtimes").exists(),
        "--dry-run wrote to the store"
    );

    let out = ctx.install(&server, &["--print-path"]);
    assert_exit(&out, 0);
    assert_eq!(
        stdout(&out),
        format!("{}\n", runtime_dir(&ctx, V).join("bin/codex").display())
    );
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
}

#[test]
fn github_actions_files_are_written() {
    let ctx = TestContext::new();
    let (server, _) = release_with_gz();
    let path_file = ctx.root().join("github_path");
    let output_file = ctx.root().join("github_output");
    let mut cmd = ctx.cmd(["install", "-q"]);
    cmd.github(&server)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_PATH", &path_file)
        .env("GITHUB_OUTPUT", &output_file);
    assert_exit(&cmd.output().unwrap(), 0);
    let bin = runtime_dir(&ctx, V).join("bin");
    assert_eq!(
        std::fs::read_to_string(&path_file).unwrap(),
        format!("{}\n", bin.display())
    );
    let outputs = std::fs::read_to_string(&output_file).unwrap();
    assert!(
        outputs.contains(&format!("codex-path={}\n", bin.join("codex").display())),
        "{outputs}"
    );
    assert!(outputs.contains("codex-version=0.163.0\n"), "{outputs}");
}

#[test]
fn pins_from_python_projects() {
    let (server, _) = release_with_gz();
    for (file, text) in [
        (
            "pyproject.toml",
            "[project]\nname = \"x\"\ndependencies = [\"openai-codex==0.163.0\"]\n",
        ),
        ("requirements.txt", "openai-codex-cli-bin==0.163.0\n"),
        (
            "uv.lock",
            "version = 1\n[[package]]\nname = \"openai-codex-cli-bin\"\nversion = \"0.163.0\"\n",
        ),
    ] {
        let ctx = TestContext::new();
        std::fs::write(ctx.work_dir().join(file), text).unwrap();
        let out = ctx.install(&server, &["--dry-run", "--json"]);
        assert_exit(&out, 0);
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(
            json["pin_source"].as_str().unwrap().contains(file),
            "{json}"
        );
    }
    // The flag and the environment win over the project.
    let ctx = TestContext::new();
    std::fs::write(
        ctx.work_dir().join("requirements.txt"),
        "openai-codex-cli-bin==0.163.0\n",
    )
    .unwrap();
    let mut cmd = ctx.cmd(["install", "--dry-run", "--json"]);
    cmd.env("CODEX_BOOTSTRAP_VERSION", "0.154.0a6");
    let json: serde_json::Value = serde_json::from_slice(&cmd.output().unwrap().stdout).unwrap();
    assert_eq!(json["version"], "0.154.0-alpha.6");
    assert_eq!(json["pin_source"], "CODEX_BOOTSTRAP_VERSION");
}

#[test]
fn usage_errors_exit_2() {
    let ctx = TestContext::new();
    for args in [
        vec!["install", "--version", "banana"],
        vec!["install", "--target", "sparc-sun-solaris"],
        vec!["install", "--no-such-flag"],
    ] {
        let out = ctx.run(&args);
        assert_exit(&out, 2);
    }
}
