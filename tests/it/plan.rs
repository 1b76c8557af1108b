//! One plan: what `install --dry-run` shows is what `install` does, and every pin holds.
//!
//! The four defects this plan was built to end, reproduced against loopback servers: a mirror
//! in GitHub's layout that was asked for a wheel, a project's `uv.lock` that was bypassed,
//! `latest` that was whatever channel answered first, and a verdict that blamed the network
//! when every source answered. Then the property that ties them together: in every scenario,
//! every request an install made is in its dry-run plan, verbatim or as a file that a planned
//! page or packument named.

use std::io::{Read, Write};
use std::process::{Command, Output};

use crate::common::{
    assert_exit, describe, host_target, runtime_dir, stderr, PointAt, TestContext, TAG, V,
};
use crate::fixture::{
    host_manylinux_tag, host_wheel_tag, npm_tarball, package_gz, package_zst, sha256_hex, wheel,
    wheel_name, Package,
};
use crate::support::github::{Asset, DigestMode, ReleaseServer};
use crate::support::http::{Fault, RecordedRequest, TestServer};
use crate::support::npm::{integrity, npm_platform, tarball_name, NpmRegistry};
use crate::support::pyindex::PythonIndex;

fn platform() -> &'static str {
    npm_platform(host_target())
}

fn host_wheel(version: &str) -> (String, Vec<u8>) {
    (
        wheel_name(version, host_wheel_tag()),
        wheel(version, host_wheel_tag(), &Package::codex(version)),
    )
}

/// A manifest pinning, for the host target, whatever is given.
fn manifest(version: &str, lines: &[String]) -> String {
    format!(
        "[runtime]\nversion = \"{version}\"\n\n[targets.{}]\n{}\n",
        host_target(),
        lines.join("\n")
    )
}

fn wheel_pin(file: &str, sha256: &str) -> Vec<String> {
    vec![
        format!("\n[targets.{}.wheel]", host_target()),
        format!("file = \"{file}\""),
        format!("sha256 = \"{sha256}\""),
    ]
}

fn npm_pin(version: &str, integrity: &str) -> Vec<String> {
    vec![
        format!("\n[targets.{}.npm]", host_target()),
        format!("file = \"{}\"", tarball_name(version, Some(platform()))),
        format!("integrity = \"{integrity}\""),
    ]
}

/// Use `text` as the bundled manifest (a test knob), instead of dropping its pins.
fn bundled(ctx: &TestContext, cmd: &mut Command, text: &str) {
    let path = ctx.root().join("bundled-manifest.toml");
    std::fs::write(&path, text).unwrap();
    cmd.env("__CODEX_BOOTSTRAP_TEST_BUNDLED_MANIFEST", &path)
        .env_remove("__CODEX_BOOTSTRAP_TEST_IGNORE_BUNDLED_PINS");
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}\n{}", describe(out)))
}

/// A mirror on loopback holding these files under `rust-v<V>/`.
fn mirror_with(files: &[(&str, Vec<u8>)]) -> TestServer {
    let server = TestServer::start();
    for (name, bytes) in files {
        server.add_file(&format!("/mirror/{TAG}/{name}"), bytes.clone());
    }
    server
}

// ---------------------------------------------------------------------------------------------
// 1. A mirror in GitHub's release layout, with the API reachable and no GitHub digest pinned.

#[test]
fn a_github_layout_mirror_serves_the_release_asset_the_dry_run_listed() {
    let ctx = TestContext::new();
    let zst = Package::codex(V).tar_zst();
    // GitHub's API answers (digests), its download host is out of reach.
    let github = ReleaseServer::start();
    github.add_release(
        TAG,
        &[Asset::new(&package_zst(), zst.clone(), DigestMode::Api)],
    );
    let mirror = mirror_with(&[(&package_zst(), zst)]);
    // The bundled manifest pins the wheel and npm tarball only, as the real one does.
    let pins = [
        wheel_pin(&wheel_name(V, host_wheel_tag()), &sha256_hex(b"some wheel")),
        npm_pin(V, &integrity(b"some tarball")),
    ]
    .concat();
    let setup = |cmd: &mut Command| {
        bundled(&ctx, cmd, &manifest(V, &pins));
        cmd.env("CODEX_BOOTSTRAP_GITHUB_API", github.api_url())
            .env("CODEX_BOOTSTRAP_MIRROR", format!("{}/mirror", mirror.url()));
    };
    let mut dry = ctx.cmd(["install", "--dry-run", "--json"]);
    setup(&mut dry);
    let plan = json(&dry.output().unwrap());
    let planned: Vec<&str> = plan["urls"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| u.as_str())
        .collect();
    let zst_url = format!("{}/mirror/{TAG}/{}", mirror.url(), package_zst());
    assert!(planned.contains(&zst_url.as_str()), "{planned:#?}");

    let mut cmd = ctx.cmd(["install", "--json"]);
    setup(&mut cmd);
    let out = cmd.output().unwrap();
    assert_exit(&out, 0);
    let report = json(&out);
    assert_eq!(report["source"], "mirror", "{report}");
    assert_eq!(report["asset"], package_zst().as_str());
    assert_eq!(report["verified_by"]["kind"], "github-api");
    // The archive and its signature bundle, each once (the bundle is asked for while the
    // archive downloads: in either order).
    let mut asked: Vec<String> = mirror.requests().iter().map(|r| r.path.clone()).collect();
    asked.sort();
    assert_eq!(
        asked,
        [
            format!("/mirror/{TAG}/{}", package_zst()),
            format!("/mirror/{TAG}/codex-{}.sigstore", host_target())
        ]
    );
}

#[test]
fn a_mirror_filled_from_the_registries_serves_the_pinned_wheel_without_the_api() {
    let ctx = TestContext::new();
    let (name, bytes) = host_wheel(V);
    let mirror = mirror_with(&[(&name, bytes.clone())]);
    let mut cmd = ctx.cmd(["install", "--json"]);
    bundled(
        &ctx,
        &mut cmd,
        &manifest(V, &wheel_pin(&name, &sha256_hex(&bytes))),
    );
    cmd.env("CODEX_BOOTSTRAP_MIRROR", format!("{}/mirror", mirror.url()));
    let out = cmd.output().unwrap();
    assert_exit(&out, 0);
    let report = json(&out);
    assert_eq!(report["source"], "mirror", "{report}");
    assert_eq!(report["asset"], name.as_str());
    assert_eq!(report["verified_by"]["kind"], "manifest");
}

#[test]
fn a_404_on_one_candidate_moves_on_to_the_sources_next_candidate() {
    let ctx = TestContext::new();
    let zst = Package::codex(V).tar_zst();
    let gz = Package::codex(V).tar_gz();
    let github = ReleaseServer::start();
    github.add_release(
        TAG,
        &[
            Asset::new(&package_zst(), zst, DigestMode::Api),
            Asset::new(&package_gz(), gz.clone(), DigestMode::Api),
        ],
    );
    // The mirror was filled before the `.tar.zst` existed.
    let mirror = mirror_with(&[(&package_gz(), gz)]);
    let out = ctx
        .cmd(["install", "--json"])
        .env("CODEX_BOOTSTRAP_GITHUB_API", github.api_url())
        .env("CODEX_BOOTSTRAP_MIRROR", format!("{}/mirror", mirror.url()))
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let report = json(&out);
    assert_eq!(report["source"], "mirror", "{report}");
    assert_eq!(report["asset"], package_gz().as_str());
    assert_eq!(
        mirror.counts().keys().cloned().collect::<Vec<_>>(),
        [
            format!("/mirror/{TAG}/{}", package_gz()),
            format!("/mirror/{TAG}/{}", package_zst()),
            format!("/mirror/{TAG}/codex-{}.sigstore", host_target())
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// 2. A project's lock is the user's word; the bundled manifest is our default.

/// A `uv.lock` locking the runtime `V` with these wheels (url, sha256, size).
fn uv_lock(wheels: &[(String, String, usize)]) -> String {
    let wheels: String = wheels
        .iter()
        .map(|(url, sha, size)| {
            format!("    {{ url = \"{url}\", hash = \"sha256:{sha}\", size = {size} }},\n")
        })
        .collect();
    format!(
        "version = 1\nrevision = 2\nrequires-python = \">=3.9\"\n\n[[package]]\nname = \"demo\"\nversion = \"0.1.0\"\nsource = {{ virtual = \".\" }}\ndependencies = [\n    {{ name = \"openai-codex-cli-bin\" }},\n]\n\n[[package]]\nname = \"openai-codex-cli-bin\"\nversion = \"{V}\"\nsource = {{ registry = \"http://127.0.0.1:9/simple\" }}\nwheels = [\n{wheels}]\n"
    )
}

#[test]
fn a_uv_lock_overrides_the_bundled_pin_and_its_url_is_the_only_one_asked() {
    let ctx = TestContext::new();
    let (name, bytes) = host_wheel(V);
    // The project's own index serves the locked bytes; the located index serves others, which
    // the bundled manifest pins.
    let own = PythonIndex::builder().wheel(&name, bytes.clone()).start();
    let other = wheel(
        V,
        host_wheel_tag(),
        &Package::codex(V).file("extra", b"x", 0o644),
    );
    let located = PythonIndex::builder().wheel(&name, other.clone()).start();
    std::fs::write(
        ctx.work_dir().join("uv.lock"),
        uv_lock(&[(own.file_url(&name), sha256_hex(&bytes), bytes.len())]),
    )
    .unwrap();
    let mut cmd = ctx.cmd(["install", "--json", "--source", "python-index"]);
    bundled(
        &ctx,
        &mut cmd,
        &manifest(V, &wheel_pin(&name, &sha256_hex(&other))),
    );
    cmd.python_index(&located);
    let out = cmd.output().unwrap();
    assert_exit(&out, 0);
    let report = json(&out);
    assert_eq!(report["verified_by"]["kind"], "lock-file", "{report}");
    assert_eq!(report["source_url"], own.file_url(&name));
    assert!(
        located.requests().is_empty(),
        "{:?}",
        located.requests_per_path()
    );
    let receipt: serde_json::Value = serde_json::from_slice(
        &std::fs::read(runtime_dir(&ctx, V).join(".codex-bootstrap-receipt.json")).unwrap(),
    )
    .unwrap();
    let checked: Vec<&str> = receipt["checked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["source"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        checked,
        ["lock-file"],
        "the bundled pin is overridden: {receipt}"
    );
}

#[test]
fn hashed_requirements_refuse_what_the_bundled_manifest_would_accept() {
    let ctx = TestContext::new();
    let (name, bytes) = host_wheel(V);
    let index = PythonIndex::builder().wheel(&name, bytes.clone()).start();
    let locked = sha256_hex(b"what the project locked");
    std::fs::write(
        ctx.work_dir().join("requirements.txt"),
        format!("openai-codex-cli-bin=={V} \\\n    --hash=sha256:{locked}\n"),
    )
    .unwrap();
    let mut cmd = ctx.cmd(["install", "--source", "python-index"]);
    bundled(
        &ctx,
        &mut cmd,
        &manifest(V, &wheel_pin(&name, &sha256_hex(&bytes))),
    );
    cmd.python_index(&index);
    let out = cmd.output().unwrap();
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("requirements.txt") && err.contains(&locked),
        "{err}"
    );
    assert_eq!(index.downloads(&name), 0, "refused before any download");
    assert!(
        !err.contains("reachable source"),
        "not the network's fault:\n{err}"
    );
    assert!(!runtime_dir(&ctx, V).exists());
}

#[test]
fn pins_that_cannot_both_hold_are_an_error_before_any_request_naming_both() {
    let ctx = TestContext::new();
    let (name, bytes) = host_wheel(V);
    let index = PythonIndex::builder().wheel(&name, bytes.clone()).start();
    let a = sha256_hex(b"one pin");
    let b = sha256_hex(b"another pin");
    std::fs::write(
        ctx.work_dir().join("codex-runtime.toml"),
        manifest(V, &wheel_pin(&name, &a)),
    )
    .unwrap();
    std::fs::write(
        ctx.work_dir().join("uv.lock"),
        uv_lock(&[(index.file_url(&name), b.clone(), bytes.len())]),
    )
    .unwrap();
    for args in [&["install"][..], &["install", "--dry-run"][..]] {
        let out = ctx.cmd(args).python_index(&index).output().unwrap();
        assert_exit(&out, 1);
        let err = stderr(&out);
        for (file, digest) in [("codex-runtime.toml", &a), ("uv.lock", &b)] {
            assert!(
                err.contains(file) && err.contains(digest.as_str()),
                "{file} not named:\n{err}"
            );
        }
        assert!(err.contains(" line "), "no line named:\n{err}");
    }
    assert!(
        index.requests().is_empty(),
        "{:?}",
        index.requests_per_path()
    );
}

#[test]
fn a_lock_without_a_wheel_for_this_platform_is_a_warning_naming_it() {
    let ctx = TestContext::new();
    let (name, bytes) = host_wheel(V);
    let index = PythonIndex::builder().wheel(&name, bytes).start();
    let mac = wheel_name(V, "macosx_11_0_arm64");
    std::fs::write(
        ctx.work_dir().join("uv.lock"),
        uv_lock(&[(index.file_url(&mac), sha256_hex(b"mac"), 3)]),
    )
    .unwrap();
    let out = ctx
        .cmd(["install", "--source", "python-index"])
        .python_index(&index)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let err = stderr(&out);
    assert!(
        err.lines()
            .any(|l| l.contains("warning:") && l.contains("uv.lock") && l.contains("no ")),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------------
// 3. `latest` without GitHub is the newest the channels publish.

fn newer_npm_than_the_index() -> (PythonIndex, NpmRegistry) {
    let (name, bytes) = host_wheel(V);
    let index = PythonIndex::builder().wheel(&name, bytes).start();
    let newer = "0.171.0";
    let npm = NpmRegistry::builder()
        .tarball(
            V,
            platform(),
            npm_tarball(V, host_target(), &Package::codex(V)),
        )
        .tarball(
            newer,
            platform(),
            npm_tarball(newer, host_target(), &Package::codex(newer)),
        )
        .dist_tag("latest", newer)
        .start();
    (index, npm)
}

#[test]
fn latest_without_github_is_the_higher_of_the_index_and_npm() {
    let ctx = TestContext::new();
    let (index, npm) = newer_npm_than_the_index();
    let out = ctx
        .cmd(["install", "latest", "--json"])
        .python_index(&index)
        .npm_registry(&npm)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let report = json(&out);
    assert_eq!(report["version"], "0.171.0", "{report}");
    assert_eq!(report["source"], "npm");
    let from = report["resolved_from"].as_str().unwrap();
    assert!(from.contains("npm") && from.contains("0.163.0"), "{from}");
    assert!(
        index.page_requests() <= 1,
        "{:?}",
        index.requests_per_path()
    );
}

#[test]
fn latest_dry_run_resolves_then_prints_the_whole_plan() {
    let ctx = TestContext::new();
    let (index, npm) = newer_npm_than_the_index();
    let out = ctx
        .cmd(["install", "latest", "--dry-run", "--json"])
        .python_index(&index)
        .npm_registry(&npm)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let plan = json(&out);
    assert_eq!(plan["version"], "0.171.0", "{plan}");
    let sources: Vec<&str> = plan["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["source"].as_str().unwrap())
        .collect();
    assert_eq!(sources, ["github", "python-index", "npm"]);
    assert!(plan["resolved_from"].as_str().unwrap().contains("npm"));
    // Metadata only: nothing was downloaded.
    assert!(npm.requests().iter().all(|r| !r.path.ends_with(".tgz")));
    assert!(index.requests().iter().all(|r| !r.path.ends_with(".whl")));
}

// ---------------------------------------------------------------------------------------------
// 4. Verdicts say what happened.

#[test]
fn every_source_answering_with_bad_bytes_is_an_integrity_verdict_not_network_advice() {
    let ctx = TestContext::new();
    let gz = Package::codex(V).tar_gz();
    let github = ReleaseServer::start();
    github.add_release(
        TAG,
        &[Asset::new(&package_gz(), gz.clone(), DigestMode::Api)],
    );
    github.http().fault(
        &format!("/download/{TAG}/{}", package_gz()),
        Fault::CorruptByte(gz.len() as u64 / 2),
    );
    let (name, bytes) = host_wheel(V);
    let index = PythonIndex::builder()
        .wheel(&name, bytes)
        .tamper(&name)
        .start();
    let npm = NpmRegistry::builder()
        .tarball(
            V,
            platform(),
            npm_tarball(V, host_target(), &Package::codex(V)),
        )
        .corrupt(V, platform())
        .start();
    let out = ctx
        .cmd(["install"])
        .github(&github)
        .python_index(&index)
        .npm_registry(&npm)
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("failed its pins"), "{err}");
    for s in ["github", "python-index", "npm"] {
        assert!(
            err.contains(&format!("{s}: checksum mismatch")),
            "{s}:\n{err}"
        );
    }
    assert!(err.contains("re-pin") && err.contains("tampering"), "{err}");
    assert!(!err.contains("reachable source"), "network advice:\n{err}");
}

#[test]
fn unreachable_sources_get_the_network_advice() {
    let ctx = TestContext::new();
    let out = ctx.run(["install"]);
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("reachable source"), "{err}");
    assert!(!err.contains("failed its pins"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// The property: every request an install makes is in its plan.

/// `GET` a loopback URL and return the body (for reading a planned page as the product would);
/// empty when nothing listens there (the sandbox's unreachable defaults).
fn get(url: &str) -> String {
    let rest = url.strip_prefix("http://").expect("a loopback http URL");
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let Ok(mut stream) = std::net::TcpStream::connect(host) else {
        return String::new();
    };
    write!(
        stream,
        "GET /{path} HTTP/1.1\r\nHost: {host}\r\nAccept: application/vnd.pypi.simple.v1+json, application/vnd.npm.install-v1+json, */*\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    text
}

/// Every absolute `http://` URL in a page (without a `#` fragment).
fn urls_in(page: &str) -> Vec<String> {
    page.match_indices("http://")
        .map(|(i, _)| {
            page[i..]
                .split(['"', '\'', '<', '>', '#', ' '])
                .next()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

/// Run `install --dry-run --json` and `install` with the same setup, and check that every
/// request the servers saw is a planned URL, or a file a planned page named.
#[track_caller]
fn assert_requests_were_planned(
    name: &str,
    ctx: &TestContext,
    servers: &[&TestServer],
    setup: &dyn Fn(&mut Command),
    expect: i32,
) {
    let mut dry = ctx.cmd(["install", "--dry-run", "--json"]);
    setup(&mut dry);
    let out = dry.output().unwrap();
    assert_exit(&out, 0);
    let plan = json(&out);
    assert!(
        servers.iter().all(|s| s
            .requests()
            .iter()
            .all(|r| r.path.ends_with('/') || !r.path.contains('.'))),
        "{name}: the dry run downloaded"
    );
    let mut allowed: Vec<String> = plan["urls"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| u.as_str().map(str::to_string))
        .collect();
    for source in plan["plan"]["sources"].as_array().unwrap() {
        if let Some(page) = source["metadata"]["url"].as_str() {
            if matches!(
                source["metadata"]["kind"].as_str(),
                Some("index-page" | "packument")
            ) {
                allowed.extend(urls_in(&get(page)));
            }
        }
    }
    let before: usize = servers.iter().map(|s| s.requests().len()).sum();
    let mut cmd = ctx.cmd(["install"]);
    setup(&mut cmd);
    let out = cmd.output().unwrap();
    assert_exit(&out, expect);
    let made: Vec<(String, RecordedRequest)> = servers
        .iter()
        .flat_map(|s| s.requests().into_iter().map(move |r| (s.url(), r)))
        .collect();
    assert!(made.len() > before, "{name}: the install made no request");
    for (base, r) in made {
        let url = format!("{base}{}", r.path.split('?').next().unwrap_or_default());
        let trimmed = url.trim_end_matches('/');
        assert!(
            allowed
                .iter()
                .any(|a| a == &url || a.trim_end_matches('/') == trimmed),
            "{name}: `{url}` was requested but not planned:\n{allowed:#?}\n{}",
            describe(&out)
        );
    }
    // Each scenario installs into its own store.
    let _ = std::fs::remove_dir_all(ctx.cache_dir().join("runtimes"));
}

#[test]
fn every_request_an_install_makes_is_in_its_dry_run_plan() {
    let gz = Package::codex(V).tar_gz();
    let zst = Package::codex(V).tar_zst();
    let (wheel_file, wheel_bytes) = host_wheel(V);
    let many = wheel_name(V, host_manylinux_tag());
    let many_bytes = wheel(V, host_manylinux_tag(), &Package::codex(V));
    let npm_bytes = npm_tarball(V, host_target(), &Package::codex(V));
    let mut count = 0;

    // GitHub, API digests; GitHub with SHA256SUMS; GitHub pinned (no API request).
    for mode in [DigestMode::Api, DigestMode::None] {
        let ctx = TestContext::new();
        let github = ReleaseServer::start();
        let assets = [Asset::new(&package_gz(), gz.clone(), mode)];
        let mut all = assets.to_vec();
        all.push(Asset::new(
            "codex-package_SHA256SUMS",
            crate::support::github::sha256sums(&assets).into_bytes(),
            DigestMode::Api,
        ));
        github.add_release(TAG, &all);
        let setup = |c: &mut Command| {
            c.github(&github);
        };
        assert_requests_were_planned("github", &ctx, &[github.http()], &setup, 0);
        count += 1;
    }
    {
        let ctx = TestContext::new();
        let github = ReleaseServer::start();
        github.add_release(
            TAG,
            &[Asset::new(&package_zst(), zst.clone(), DigestMode::Api)],
        );
        let pins = vec![
            format!("asset = \"{}\"", package_zst()),
            format!("sha256 = \"{}\"", sha256_hex(&zst)),
        ];
        let setup = |c: &mut Command| {
            bundled(&ctx, c, &manifest(V, &pins));
            c.github(&github);
        };
        assert_requests_were_planned("github, pinned", &ctx, &[github.http()], &setup, 0);
        count += 1;
    }
    // A GitHub-layout mirror (API digests), and a registry-layout mirror (manifest pins).
    {
        let ctx = TestContext::new();
        let github = ReleaseServer::start();
        github.add_release(
            TAG,
            &[Asset::new(&package_gz(), gz.clone(), DigestMode::Api)],
        );
        let mirror = mirror_with(&[(&package_gz(), gz.clone())]);
        let setup = |c: &mut Command| {
            c.env("CODEX_BOOTSTRAP_GITHUB_API", github.api_url())
                .env("CODEX_BOOTSTRAP_MIRROR", format!("{}/mirror", mirror.url()));
        };
        assert_requests_were_planned(
            "github-layout mirror",
            &ctx,
            &[github.http(), &mirror],
            &setup,
            0,
        );
        count += 1;
    }
    {
        let ctx = TestContext::new();
        let mirror = mirror_with(&[(&wheel_file, wheel_bytes.clone())]);
        let pins = wheel_pin(&wheel_file, &sha256_hex(&wheel_bytes));
        let setup = |c: &mut Command| {
            bundled(&ctx, c, &manifest(V, &pins));
            c.env("CODEX_BOOTSTRAP_MIRROR", format!("{}/mirror", mirror.url()));
        };
        assert_requests_were_planned("registry-layout mirror", &ctx, &[&mirror], &setup, 0);
        count += 1;
    }
    // The index (musllinux listed), the index with only the manylinux wheel, npm.
    for (label, files) in [
        ("index", vec![(wheel_file.clone(), wheel_bytes.clone())]),
        (
            "index, manylinux only",
            vec![(many.clone(), many_bytes.clone())],
        ),
    ] {
        let ctx = TestContext::new();
        let mut b = PythonIndex::builder();
        for (n, bytes) in files {
            b = b.wheel(&n, bytes);
        }
        let index = b.start();
        let setup = |c: &mut Command| {
            c.python_index(&index);
        };
        assert_requests_were_planned(label, &ctx, &[index.server()], &setup, 0);
        count += 1;
    }
    {
        let ctx = TestContext::new();
        let npm = NpmRegistry::builder()
            .tarball(V, platform(), npm_bytes.clone())
            .start();
        let setup = |c: &mut Command| {
            c.npm_registry(&npm);
        };
        assert_requests_were_planned("npm", &ctx, &[npm.server()], &setup, 0);
        count += 1;
    }
    // uv.lock (URL from the lock), hashed requirements (the index's page).
    {
        let ctx = TestContext::new();
        let index = PythonIndex::builder()
            .wheel(&wheel_file, wheel_bytes.clone())
            .start();
        std::fs::write(
            ctx.work_dir().join("uv.lock"),
            uv_lock(&[(
                index.file_url(&wheel_file),
                sha256_hex(&wheel_bytes),
                wheel_bytes.len(),
            )]),
        )
        .unwrap();
        let setup = |c: &mut Command| {
            c.python_index(&index);
        };
        assert_requests_were_planned("uv.lock", &ctx, &[index.server()], &setup, 0);
        count += 1;
    }
    {
        let ctx = TestContext::new();
        let index = PythonIndex::builder()
            .wheel(&wheel_file, wheel_bytes.clone())
            .start();
        std::fs::write(
            ctx.work_dir().join("requirements.txt"),
            format!(
                "openai-codex-cli-bin=={V} \\\n    --hash=sha256:{} \\\n    --hash=sha256:{}\n",
                sha256_hex(&wheel_bytes),
                sha256_hex(b"another platform's wheel")
            ),
        )
        .unwrap();
        let setup = |c: &mut Command| {
            c.python_index(&index);
        };
        assert_requests_were_planned("hashed requirements", &ctx, &[index.server()], &setup, 0);
        count += 1;
    }
    // Failover after each kind of failure: GitHub rate-limited, then the index without the
    // version, a tampered wheel, a 404 on the wheel, then npm; and every source failing.
    {
        let ctx = TestContext::new();
        let github = ReleaseServer::start();
        github.add_release(
            TAG,
            &[Asset::new(&package_gz(), gz.clone(), DigestMode::Api)],
        );
        github.rate_limited(4_000_000_000);
        let index = PythonIndex::builder()
            .wheel(
                &wheel_name("0.160.0", host_wheel_tag()),
                wheel_bytes.clone(),
            )
            .start();
        let npm = NpmRegistry::builder()
            .tarball(V, platform(), npm_bytes.clone())
            .start();
        let setup = |c: &mut Command| {
            c.github(&github).python_index(&index).npm_registry(&npm);
        };
        assert_requests_were_planned(
            "rate limit, no version, npm",
            &ctx,
            &[github.http(), index.server(), npm.server()],
            &setup,
            0,
        );
        count += 1;
    }
    for tamper in [true, false] {
        let ctx = TestContext::new();
        let mut b = PythonIndex::builder().wheel(&wheel_file, wheel_bytes.clone());
        if tamper {
            b = b.tamper(&wheel_file);
        }
        let index = b.start();
        if !tamper {
            index
                .file_server()
                .fault(&index.file_path(&wheel_file), Fault::status(404));
        }
        let npm = NpmRegistry::builder()
            .tarball(V, platform(), npm_bytes.clone())
            .start();
        let setup = |c: &mut Command| {
            c.python_index(&index).npm_registry(&npm);
        };
        let label = if tamper {
            "tampered wheel, npm"
        } else {
            "wheel 404, npm"
        };
        assert_requests_were_planned(label, &ctx, &[index.server(), npm.server()], &setup, 0);
        count += 1;
    }
    {
        let ctx = TestContext::new();
        let index = PythonIndex::builder()
            .wheel(&wheel_file, wheel_bytes.clone())
            .tamper(&wheel_file)
            .start();
        let npm = NpmRegistry::builder()
            .tarball(V, platform(), npm_bytes.clone())
            .corrupt(V, platform())
            .start();
        let setup = |c: &mut Command| {
            c.python_index(&index).npm_registry(&npm);
        };
        assert_requests_were_planned(
            "every source fails",
            &ctx,
            &[index.server(), npm.server()],
            &setup,
            1,
        );
        count += 1;
    }
    // `latest`, without GitHub.
    {
        let ctx = TestContext::new();
        let (index, npm) = newer_npm_than_the_index();
        let setup = |c: &mut Command| {
            c.arg("latest").python_index(&index).npm_registry(&npm);
        };
        assert_requests_were_planned("latest", &ctx, &[index.server(), npm.server()], &setup, 0);
        count += 1;
    }
    assert_eq!(count, 15, "scenarios");
}

#[test]
fn dry_run_with_python_shows_the_interpreters_wheel_plan_before_the_full_package() {
    let ctx = TestContext::new();
    if crate::common::require(
        "python3",
        crate::common::command_runs("python3", &["--version"]),
    )
    .is_none()
    {
        return;
    }
    let (name, bytes) = host_wheel(V);
    let index = PythonIndex::builder().wheel(&name, bytes).start();
    // An environment of the test's own: a dry run only asks it, but no test names the
    // machine's interpreter.
    let venv = ctx.root().join("venv");
    let made = ctx
        .command("python3")
        .args(["-m", "venv", "--without-pip"])
        .arg(&venv)
        .output()
        .unwrap();
    assert_exit(&made, 0);
    let out = ctx
        .cmd(["install", "--dry-run", "--json", "--python"])
        .arg(venv.join("bin/python"))
        .python_index(&index)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let plan = json(&out);
    let python = &plan["python"];
    let tags: Vec<&str> = python["wheel_tags"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t.as_str())
        .collect();
    assert!(!tags.is_empty(), "{plan}");
    let sources = python["plan"]["sources"].as_array().unwrap();
    assert_eq!(
        sources.len(),
        1,
        "only the Python index serves a wheel: {plan}"
    );
    assert_eq!(sources[0]["source"], "python-index");
    // Its candidates are the interpreter's tags that the runtime is published with, pip's
    // order first.
    let platforms: Vec<&str> = sources[0]["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["platform"].as_str())
        .collect();
    assert!(
        !platforms.is_empty() && platforms.iter().all(|p| tags.contains(p)),
        "{plan}"
    );
    assert!(index.requests().is_empty(), "a dry run downloads nothing");
}
