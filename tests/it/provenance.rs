//! Provenance through the real `install`: the Sigstore bundle OpenAI publishes beside the
//! release archives (`codex-<target>.sigstore`) is looked for on the GitHub stand-in (and a
//! mirror), listed by the dry run, and decides the install: absent goes on and says so (refused
//! when a signature is required), present-but-not-proving is refused like a digest mismatch.

use std::process::Output;

use crate::common::{
    assert_exit, assert_installed, assert_nothing_installed, describe, host_target, stderr,
    PointAt, TestContext, TAG, V,
};
use crate::fixture::{package_gz, Package};
use crate::support::github::{Asset, DigestMode, ReleaseServer};
use crate::support::http::TestServer;

fn bundle_name() -> String {
    format!("codex-{}.sigstore", host_target())
}

/// A release of the fixture package, with `bundle` published beside it when given.
fn release(bundle: Option<Vec<u8>>) -> ReleaseServer {
    let server = ReleaseServer::start();
    let mut assets = vec![Asset::new(
        &package_gz(),
        Package::codex(V).tar_gz(),
        DigestMode::Api,
    )];
    if let Some(b) = bundle {
        assets.push(Asset::new(&bundle_name(), b, DigestMode::Api));
    }
    server.add_release(TAG, &assets);
    server
}

/// A real cosign 2.x bundle (tests/data/sigstore-legacy/), signed by someone who is not
/// OpenAI's release workflow, over bytes that are not this runtime's `bin/codex`.
fn someone_elses_bundle() -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/sigstore-legacy/cosign2-blob.sigstore"),
    )
    .unwrap()
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}\n{}", describe(out)))
}

#[test]
fn without_a_bundle_the_install_goes_on_and_says_why() {
    let ctx = TestContext::new();
    let server = release(None);
    let out = ctx.install(&server, &["--json"]);
    assert_exit(&out, 0);
    assert_installed(&ctx);
    let sig = &json(&out)["signature"];
    assert_eq!(sig["verified"], false, "{sig}");
    let reason = sig["reason"].as_str().unwrap();
    assert!(
        reason.contains(&format!("{TAG}/{} has no bundle", bundle_name())),
        "{reason}"
    );
    // The bundle was asked for where the release keeps it.
    assert!(server
        .requests()
        .iter()
        .any(|r| r.path.ends_with(&format!("/{TAG}/{}", bundle_name()))));
    // The human report says so too.
    let ctx = TestContext::new();
    let out = ctx.install(&server, &[]);
    assert_exit(&out, 0);
    assert!(
        stderr(&out).contains("signature: not verified: no signature bundle found"),
        "{}",
        describe(&out)
    );
}

#[test]
fn a_required_signature_that_is_absent_refuses_the_install() {
    let server = release(None);
    let ctx = TestContext::new();
    let out = ctx.install(&server, &["--require-signature"]);
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("no verified signature, and one is required"),
        "{err}"
    );
    assert!(err.contains("--require-signature"), "{err}");
    assert_nothing_installed(&ctx);
    // The environment variable says the same.
    let ctx = TestContext::new();
    let out = ctx
        .cmd(["install"])
        .env("CODEX_BOOTSTRAP_REQUIRE_SIGNATURE", "1")
        .github(&server)
        .output()
        .unwrap();
    assert_exit(&out, 1);
    assert_nothing_installed(&ctx);
}

#[test]
fn a_malformed_bundle_is_refused_and_nothing_is_installed() {
    let ctx = TestContext::new();
    let server = release(Some(b"{\"not\": \"a bundle\"".to_vec()));
    let out = ctx.install(&server, &[]);
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("the signature bundle is malformed"), "{err}");
    assert_nothing_installed(&ctx);
}

#[test]
fn a_bundle_from_another_signer_is_refused_naming_found_and_expected() {
    let ctx = TestContext::new();
    let server = release(Some(someone_elses_bundle()));
    let out = ctx.install(&server, &[]);
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("signed by vu@krnl.xyz"), "{err}");
    assert!(
        err.contains(&format!("expected https://github.com/openai/codex/.github/workflows/rust-release.yml@refs/tags/{TAG}")),
        "{err}"
    );
    assert!(err.contains("do not use them"), "{err}");
    assert_nothing_installed(&ctx);
}

#[test]
fn an_unusable_trusted_root_is_named_when_a_bundle_is_checked() {
    let ctx = TestContext::new();
    let root = ctx.root().join("root.json");
    std::fs::write(&root, "{}").unwrap();
    let server = release(Some(someone_elses_bundle()));
    let out = ctx.install(&server, &["--trusted-root", root.to_str().unwrap()]);
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "the Sigstore trusted root ({}) is unusable",
            root.display()
        )),
        "{err}"
    );
    assert_nothing_installed(&ctx);
}

#[test]
fn the_dry_run_lists_the_bundle_requests_mirror_first() {
    let ctx = TestContext::new();
    let server = release(None);
    let mirror = TestServer::start();
    let mirror_url = format!("{}/mirror", mirror.url());
    let out = ctx
        .cmd([
            "install",
            "--dry-run",
            "--json",
            "--mirror",
            &mirror_url,
            "--require-signature",
        ])
        .github(&server)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let plan = json(&out);
    let bundles: Vec<&str> = plan["signature"]["bundles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_str().unwrap())
        .collect();
    assert_eq!(
        bundles,
        [
            format!("{mirror_url}/{TAG}/{}", bundle_name()),
            format!("{}/{TAG}/{}", server.download_url(), bundle_name())
        ]
    );
    assert_eq!(plan["signature"]["required"], true);
    let urls = plan["urls"].as_array().unwrap();
    assert!(
        bundles.iter().all(|b| urls.iter().any(|u| u == b)),
        "{urls:?}"
    );
    // The human plan shows them as well.
    let out = ctx
        .cmd(["install", "--dry-run", "--mirror", &mirror_url])
        .github(&server)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("{mirror_url}/{TAG}/{}", bundle_name())),
        "{text}"
    );
}

#[test]
fn a_bundle_on_the_mirror_is_checked_before_github() {
    let ctx = TestContext::new();
    let server = release(None);
    let mirror = TestServer::start();
    mirror.add_file(
        &format!("/mirror/{TAG}/{}", bundle_name()),
        someone_elses_bundle(),
    );
    let mirror_url = format!("{}/mirror", mirror.url());
    let out = ctx.install(&server, &["--mirror", &mirror_url, "--source", "github"]);
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains("signed by vu@krnl.xyz"),
        "{}",
        describe(&out)
    );
    assert_nothing_installed(&ctx);
}
