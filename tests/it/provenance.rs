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
use crate::support::http::{Fault, TestServer};

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

/// The bundle is asked for while the archive downloads, not in a round trip after the unpack:
/// the stand-in holds its answer for the archive until the bundle's request has come.
#[test]
fn the_bundle_is_asked_for_while_the_archive_downloads() {
    let ctx = TestContext::new();
    let server = release(None);
    let archive = format!("/download/{TAG}/{}", package_gz());
    let bundle = format!("/{TAG}/{}", bundle_name());
    server.http().fault(
        &archive,
        Fault::AnswerAfter(bundle, std::time::Duration::from_secs(30)),
    );
    let out = ctx.install(&server, &[]);
    assert_exit(&out, 0);
    assert_installed(&ctx);
    // One request for the archive, answered once the bundle's had come: without the overlap the
    // client gives up on the held answer and asks again.
    assert_eq!(
        (
            server.http().requests_to(&archive).len(),
            server.http().held()
        ),
        (1, vec![true]),
        "the archive was answered before the bundle was asked for\n{}",
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

#[test]
fn a_project_manifest_that_requires_a_signature_refuses_an_unsigned_install() {
    let server = release(None);
    let ctx = TestContext::new();
    let manifest = ctx.work_dir().join("codex-runtime.toml");
    std::fs::write(
        &manifest,
        format!("[runtime]\nversion = \"{V}\"\nrequire_signature = true\n"),
    )
    .unwrap();
    let out = ctx.install(&server, &[]);
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("no verified signature, and one is required"),
        "{err}"
    );
    assert!(err.contains("`require_signature = true` in"), "{err}");
    assert!(err.contains("codex-runtime.toml"), "{err}");
    assert_nothing_installed(&ctx);
    // The flag's absence (or a falsy environment) does not lift it; the dry run says so.
    let out = ctx
        .cmd(["install", "--dry-run", "--json"])
        .env("CODEX_BOOTSTRAP_REQUIRE_SIGNATURE", "0")
        .github(&server)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_eq!(json(&out)["signature"]["required"], true);
    // Without the requirement the same project installs, unsigned.
    std::fs::write(&manifest, format!("[runtime]\nversion = \"{V}\"\n")).unwrap();
    let out = ctx.install(&server, &[]);
    assert_exit(&out, 0);
}

#[test]
fn a_required_signature_refuses_an_unsigned_runtime_already_installed() {
    let server = release(None);
    let ctx = TestContext::new();
    assert_exit(&ctx.install(&server, &[]), 0);
    let asked = server.requests().len();
    let out = ctx.install(&server, &["--require-signature"]);
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("no verified signature, and one is required"),
        "{err}"
    );
    assert!(err.contains("is installed without one"), "{err}");
    assert!(err.contains("install --force"), "{err}");
    // Answered from the receipt: nothing was asked of the network.
    assert_eq!(server.requests().len(), asked);
}

#[test]
fn pin_keeps_the_project_s_signature_requirement() {
    let server = release(None);
    let ctx = TestContext::new();
    let manifest = ctx.work_dir().join("codex-runtime.toml");
    std::fs::write(
        &manifest,
        format!("[runtime]\nversion = \"{V}\"\nrequire_signature = true\n"),
    )
    .unwrap();
    let out = ctx
        .cmd(["pin", V, "--source", "github"])
        .github(&server)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let text = std::fs::read_to_string(&manifest).unwrap();
    assert!(text.contains("require_signature = true"), "{text}");
    assert!(text.contains("sha256 = "), "{text}");
}

mod signed {
    //! A valid signature, end to end: the test's own CA and log keys sign the fixture's
    //! `bin/codex`, and `install --trusted-root` with their root proves it.
    use super::*;
    use crate::fixture::codex_script;
    use crate::support::sigstore::{Identity, TestSigstore};

    fn root_file(ctx: &TestContext, sigstore: &TestSigstore) -> String {
        let path = ctx.root().join("trusted_root.json");
        std::fs::write(&path, sigstore.trusted_root()).unwrap();
        path.to_str().unwrap().to_string()
    }

    fn receipt(ctx: &TestContext) -> serde_json::Value {
        let path = crate::common::runtime_dir(ctx, V).join(".codex-bootstrap-receipt.json");
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    }

    #[test]
    fn a_valid_legacy_bundle_is_verified_and_recorded() {
        let sigstore = TestSigstore::new();
        let bundle =
            sigstore.sign_legacy(codex_script(V).as_bytes(), &Identity::codex_release(TAG));
        let server = release(Some(bundle));
        let ctx = TestContext::new();
        let root = root_file(&ctx, &sigstore);
        let out = ctx.install(&server, &["--json", "--trusted-root", &root]);
        assert_exit(&out, 0);
        assert_installed(&ctx);
        let sig = &json(&out)["signature"];
        assert_eq!(sig["verified"], true, "{sig}");
        assert_eq!(sig["identity"], Identity::codex_release(TAG).san.as_str());
        assert_eq!(sig["issuer"], "https://token.actions.githubusercontent.com");
        assert_eq!(sig["log_index"], 4242);
        assert_eq!(
            sig["bundle_from"],
            format!("{}/{TAG}/{}", server.download_url(), bundle_name())
        );
        assert_eq!(sig["file"], "bin/codex");
        // The receipt says the same.
        assert_eq!(&receipt(&ctx)["signature"], sig);
        // And the human report names the signer and the log entry.
        let ctx = TestContext::new();
        let out = ctx.install(&server, &["--trusted-root", &root]);
        assert_exit(&out, 0);
        let err = stderr(&out);
        assert!(
            err.contains("signed by https://github.com/openai/codex/"),
            "{err}"
        );
        assert!(err.contains("4242"), "{err}");
    }

    #[test]
    fn a_valid_standard_bundle_satisfies_a_required_signature() {
        let sigstore = TestSigstore::new();
        let bundle =
            sigstore.sign_bundle(codex_script(V).as_bytes(), &Identity::codex_release(TAG));
        let server = release(Some(bundle));
        let ctx = TestContext::new();
        let root = root_file(&ctx, &sigstore);
        let out = ctx.install(
            &server,
            &["--json", "--require-signature", "--trusted-root", &root],
        );
        assert_exit(&out, 0);
        assert_eq!(json(&out)["signature"]["verified"], true);
        assert_installed(&ctx);
        // Installed and signed: a second required install is ready from the receipt.
        let out = ctx.install(&server, &["--require-signature", "--trusted-root", &root]);
        assert_exit(&out, 0);
    }

    #[test]
    fn a_project_that_requires_a_signature_installs_a_signed_runtime() {
        let sigstore = TestSigstore::new();
        let bundle =
            sigstore.sign_legacy(codex_script(V).as_bytes(), &Identity::codex_release(TAG));
        let server = release(Some(bundle));
        let ctx = TestContext::new();
        std::fs::write(
            ctx.work_dir().join("codex-runtime.toml"),
            format!("[runtime]\nversion = \"{V}\"\nrequire_signature = true\n"),
        )
        .unwrap();
        let root = root_file(&ctx, &sigstore);
        let out = ctx.install(&server, &["--json", "--trusted-root", &root]);
        assert_exit(&out, 0);
        assert_eq!(json(&out)["signature"]["verified"], true);
    }

    fn doctor(
        ctx: &TestContext,
        server: &ReleaseServer,
        args: &[&str],
    ) -> (Output, serde_json::Value) {
        let out = ctx
            .cmd(["doctor", "--offline", "--json"])
            .args(args)
            .github(server)
            .output()
            .unwrap();
        let report = json(&out);
        let check = report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == "signature")
            .cloned()
            .unwrap_or_else(|| panic!("no signature check: {report}"));
        (out, check)
    }

    fn bundle_requests(server: &ReleaseServer) -> usize {
        server
            .requests()
            .iter()
            .filter(|r| r.path.ends_with(".sigstore"))
            .count()
    }

    #[test]
    fn doctor_and_install_verify_check_the_kept_bundle_again_offline() {
        let sigstore = TestSigstore::new();
        let bundle =
            sigstore.sign_legacy(codex_script(V).as_bytes(), &Identity::codex_release(TAG));
        let server = release(Some(bundle));
        let ctx = TestContext::new();
        let root = root_file(&ctx, &sigstore);
        assert_exit(&ctx.install(&server, &["--trusted-root", &root]), 0);
        assert!(receipt(&ctx)["signature_bundle"].is_string());
        let asked = bundle_requests(&server);

        let (out, check) = doctor(&ctx, &server, &["--trusted-root", &root]);
        assert_eq!(check["status"], "ok", "{}", describe(&out));
        let summary = check["summary"].as_str().unwrap();
        assert!(
            summary.contains("signed by https://github.com/openai/codex/"),
            "{summary}"
        );
        assert!(summary.contains("4242"), "{summary}");

        let out = ctx.install(&server, &["--verify", "--trusted-root", &root]);
        assert_exit(&out, 0);
        assert!(
            stderr(&out).contains("checked offline"),
            "{}",
            describe(&out)
        );
        // Neither asked for the bundle again.
        assert_eq!(bundle_requests(&server), asked);

        // Against a root that does not trust the test CA (the embedded one), the same bundle
        // proves nothing: doctor fails the check and runs nothing of the runtime.
        let (out, check) = doctor(&ctx, &server, &[]);
        assert_eq!(check["status"], "fail", "{}", describe(&out));
        assert!(check["hint"].is_string());
        let executes = json(&out)["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == "executes")
            .cloned()
            .unwrap();
        assert_eq!(executes["status"], "skip", "{executes}");
        let out = ctx.install(&server, &["--verify"]);
        assert_exit(&out, 1);
        assert!(
            stderr(&out).contains("the signature does not prove these bytes"),
            "{}",
            describe(&out)
        );
    }

    #[test]
    fn a_kept_bundle_swapped_for_one_over_other_bytes_fails_the_recheck() {
        let sigstore = TestSigstore::new();
        let who = Identity::codex_release(TAG);
        let server = release(Some(sigstore.sign_legacy(codex_script(V).as_bytes(), &who)));
        let ctx = TestContext::new();
        let root = root_file(&ctx, &sigstore);
        assert_exit(&ctx.install(&server, &["--trusted-root", &root]), 0);
        let path = crate::common::runtime_dir(&ctx, V).join(".codex-bootstrap-receipt.json");
        let mut r = receipt(&ctx);
        r["signature_bundle"] = String::from_utf8(sigstore.sign_legacy(b"another codex", &who))
            .unwrap()
            .into();
        std::fs::write(&path, serde_json::to_vec(&r).unwrap()).unwrap();
        let out = ctx.install(&server, &["--verify", "--trusted-root", &root]);
        assert_exit(&out, 1);
        assert!(
            stderr(&out).contains("the signature does not prove these bytes"),
            "{}",
            describe(&out)
        );
        let (_, check) = doctor(&ctx, &server, &["--trusted-root", &root]);
        assert_eq!(check["status"], "fail", "{check}");
    }

    #[test]
    fn an_unsigned_runtime_is_said_by_doctor_and_refused_by_a_required_verify() {
        let server = release(None);
        let ctx = TestContext::new();
        assert_exit(&ctx.install(&server, &[]), 0);
        let (_, check) = doctor(&ctx, &server, &[]);
        assert_eq!(check["status"], "skip", "{check}");
        assert!(
            check["summary"]
                .as_str()
                .unwrap()
                .contains("no signature bundle found"),
            "{check}"
        );
        let (_, check) = doctor(&ctx, &server, &["--require-signature"]);
        assert_eq!(check["status"], "fail", "{check}");
        assert_exit(&ctx.install(&server, &["--verify"]), 0);
        let out = ctx.install(&server, &["--verify", "--require-signature"]);
        assert_exit(&out, 1);
        assert!(
            stderr(&out).contains("no verified signature, and one is required"),
            "{}",
            describe(&out)
        );
    }

    /// An index serving `V`'s host wheel (whose `bin/codex` is the fixture's).
    fn index() -> crate::support::pyindex::PythonIndex {
        use crate::fixture::{host_wheel_tag, wheel, wheel_name};
        crate::support::pyindex::PythonIndex::builder()
            .wheel(
                &wheel_name(V, host_wheel_tag()),
                wheel(V, host_wheel_tag(), &crate::fixture::Package::codex(V)),
            )
            .start()
    }

    #[test]
    fn pin_records_the_release_s_bundle_and_an_install_from_the_index_is_proven_by_it() {
        let sigstore = TestSigstore::new();
        let bundle =
            sigstore.sign_legacy(codex_script(V).as_bytes(), &Identity::codex_release(TAG));
        let server = release(Some(bundle.clone()));
        let ctx = TestContext::new();
        let root = root_file(&ctx, &sigstore);
        let out = ctx
            .cmd(["pin", V, "--source", "github", "--trusted-root", &root])
            .github(&server)
            .output()
            .unwrap();
        assert_exit(&out, 0);
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("its Sigstore bundle"),
            "{}",
            describe(&out)
        );
        let manifest = ctx.work_dir().join("codex-runtime.toml");
        let text = std::fs::read_to_string(&manifest).unwrap();
        use base64::Engine as _;
        let encoded = base64::engine::general_purpose::STANDARD.encode(&bundle);
        assert!(
            text.contains(&format!("sigstore_bundle = \"{encoded}\"")),
            "{text}"
        );

        // The index serves the runtime; GitHub is not asked (it is not among the sources),
        // and the pinned bundle proves the bytes.
        let index = index();
        let asked = server.requests().len();
        let out = ctx
            .cmd([
                "install",
                "--json",
                "--source",
                "python-index",
                "--trusted-root",
                &root,
                "--require-signature",
            ])
            .python_index(&index)
            .output()
            .unwrap();
        assert_exit(&out, 0);
        let report = json(&out);
        assert_eq!(report["source"], "python-index", "{report}");
        let sig = &report["signature"];
        assert_eq!(sig["verified"], true, "{sig}");
        assert_eq!(
            sig["bundle_from"],
            format!("sigstore_bundle in {}", manifest.display())
        );
        assert_eq!(server.requests().len(), asked);
    }

    #[test]
    fn a_pinned_bundle_proves_an_install_from_npm() {
        use crate::support::npm::{npm_platform, NpmRegistry};
        use base64::Engine as _;
        let sigstore = TestSigstore::new();
        let bundle =
            sigstore.sign_bundle(codex_script(V).as_bytes(), &Identity::codex_release(TAG));
        let ctx = TestContext::new();
        std::fs::write(
            ctx.work_dir().join("codex-runtime.toml"),
            format!(
                "[runtime]\nversion = \"{V}\"\n\n[targets.{}]\nsigstore_bundle = \"{}\"\n",
                host_target(),
                base64::engine::general_purpose::STANDARD.encode(bundle)
            ),
        )
        .unwrap();
        let root = root_file(&ctx, &sigstore);
        let npm = NpmRegistry::builder()
            .tarball(
                V,
                npm_platform(host_target()),
                crate::fixture::npm_tarball(V, host_target(), &crate::fixture::Package::codex(V)),
            )
            .start();
        let out = ctx
            .cmd([
                "install",
                "--json",
                "--source",
                "npm",
                "--trusted-root",
                &root,
                "--require-signature",
            ])
            .npm_registry(&npm)
            .output()
            .unwrap();
        assert_exit(&out, 0);
        let report = json(&out);
        assert_eq!(report["source"], "npm", "{report}");
        assert_eq!(report["signature"]["verified"], true, "{report}");
    }

    #[test]
    fn pin_does_not_record_a_bundle_that_does_not_prove_the_runtime() {
        let sigstore = TestSigstore::new();
        let bundle = sigstore.sign_legacy(b"another codex", &Identity::codex_release(TAG));
        let server = release(Some(bundle));
        let ctx = TestContext::new();
        let root = root_file(&ctx, &sigstore);
        let out = ctx
            .cmd(["pin", V, "--source", "github", "--trusted-root", &root])
            .github(&server)
            .output()
            .unwrap();
        assert_exit(&out, 0);
        assert!(
            stderr(&out).contains("signature bundle is not pinned"),
            "{}",
            describe(&out)
        );
        let text = std::fs::read_to_string(ctx.work_dir().join("codex-runtime.toml")).unwrap();
        assert!(!text.contains("sigstore_bundle"), "{text}");
    }

    #[test]
    fn a_pinned_bundle_over_other_bytes_refuses_an_install_from_the_index() {
        use base64::Engine as _;
        let sigstore = TestSigstore::new();
        let bundle = sigstore.sign_legacy(b"another codex", &Identity::codex_release(TAG));
        let ctx = TestContext::new();
        std::fs::write(
            ctx.work_dir().join("codex-runtime.toml"),
            format!(
                "[runtime]\nversion = \"{V}\"\n\n[targets.{}]\nsigstore_bundle = \"{}\"\n",
                host_target(),
                base64::engine::general_purpose::STANDARD.encode(bundle)
            ),
        )
        .unwrap();
        let root = root_file(&ctx, &sigstore);
        let index = index();
        let out = ctx
            .cmd([
                "install",
                "--source",
                "python-index",
                "--trusted-root",
                &root,
            ])
            .python_index(&index)
            .output()
            .unwrap();
        assert_exit(&out, 1);
        assert!(
            stderr(&out).contains("the signature does not prove these bytes"),
            "{}",
            describe(&out)
        );
        assert_nothing_installed(&ctx);
    }

    #[test]
    fn mirror_copies_the_kept_bundle_and_an_install_from_the_mirror_is_proven() {
        let sigstore = TestSigstore::new();
        let bundle =
            sigstore.sign_legacy(codex_script(V).as_bytes(), &Identity::codex_release(TAG));
        let server = release(Some(bundle.clone()));
        let ctx = TestContext::new();
        let root = root_file(&ctx, &sigstore);
        assert_exit(&ctx.install(&server, &["--trusted-root", &root]), 0);
        drop(server);
        let mirror = ctx.root().join("mirror");
        let out = ctx
            .cmd(["mirror", "--from-cache", "--version", V, "--out"])
            .arg(&mirror)
            .output()
            .unwrap();
        assert_exit(&out, 0);
        let rel = mirror.join(TAG);
        assert_eq!(std::fs::read(rel.join(bundle_name())).unwrap(), bundle);
        let manifest = std::fs::read_to_string(rel.join("codex-runtime.toml")).unwrap();
        assert!(manifest.contains("sigstore_bundle = "), "{manifest}");

        // A fresh machine with GitHub gone and the mirror's manifest, its bundle left out: the
        // mirror's copy proves the mirror's bytes.
        let fresh = TestContext::new();
        let without_bundle: String = manifest
            .lines()
            .filter(|l| !l.starts_with("sigstore_bundle"))
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(fresh.work_dir().join("codex-runtime.toml"), without_bundle).unwrap();
        let mirror_url = format!("file://{}", mirror.display());
        let out = fresh.run([
            "install",
            "--json",
            "--mirror",
            &mirror_url,
            "--trusted-root",
            &root,
            "--require-signature",
        ]);
        assert_exit(&out, 0);
        let sig = &json(&out)["signature"];
        assert_eq!(sig["verified"], true, "{sig}");
        assert_eq!(
            sig["bundle_from"],
            format!("{mirror_url}/{TAG}/{}", bundle_name())
        );
    }

    #[test]
    fn the_test_ca_s_certificate_for_another_identity_is_refused() {
        let sigstore = TestSigstore::new();
        let mut other = Identity::codex_release(TAG);
        other.san = "https://github.com/someone/fork/.github/workflows/rust-release.yml@refs/tags/rust-v0.163.0".into();
        let bundle = sigstore.sign_legacy(codex_script(V).as_bytes(), &other);
        let server = release(Some(bundle));
        let ctx = TestContext::new();
        let root = root_file(&ctx, &sigstore);
        let out = ctx.install(&server, &["--trusted-root", &root]);
        assert_exit(&out, 1);
        let err = stderr(&out);
        assert!(
            err.contains("signed by https://github.com/someone/fork/"),
            "{err}"
        );
        assert!(
            err.contains("expected https://github.com/openai/codex/"),
            "{err}"
        );
        assert_nothing_installed(&ctx);
    }

    #[test]
    fn the_right_signer_s_claims_for_another_ref_are_refused() {
        let sigstore = TestSigstore::new();
        let mut other = Identity::codex_release(TAG);
        other.source_ref = "refs/heads/main".into();
        let bundle = sigstore.sign_legacy(codex_script(V).as_bytes(), &other);
        let server = release(Some(bundle));
        let ctx = TestContext::new();
        let root = root_file(&ctx, &sigstore);
        let out = ctx.install(&server, &["--trusted-root", &root]);
        assert_exit(&out, 1);
        assert!(
            stderr(&out).contains("source ref is refs/heads/main"),
            "{}",
            describe(&out)
        );
        assert_nothing_installed(&ctx);
    }

    #[test]
    fn a_valid_signature_over_other_bytes_is_refused() {
        let sigstore = TestSigstore::new();
        let bundle = sigstore.sign_legacy(b"another codex", &Identity::codex_release(TAG));
        let server = release(Some(bundle));
        let ctx = TestContext::new();
        let root = root_file(&ctx, &sigstore);
        let out = ctx.install(&server, &["--trusted-root", &root]);
        assert_exit(&out, 1);
        assert!(
            stderr(&out).contains("the signature does not prove these bytes"),
            "{}",
            describe(&out)
        );
        assert_nothing_installed(&ctx);
    }

    #[test]
    fn a_valid_bundle_against_the_embedded_root_is_refused() {
        // The test CA is not Sigstore's: without --trusted-root nothing it signed is trusted.
        let sigstore = TestSigstore::new();
        let bundle =
            sigstore.sign_legacy(codex_script(V).as_bytes(), &Identity::codex_release(TAG));
        let server = release(Some(bundle));
        let ctx = TestContext::new();
        let out = ctx.install(&server, &[]);
        assert_exit(&out, 1);
        assert_nothing_installed(&ctx);
    }
}
