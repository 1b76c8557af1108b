//! End to end against the real Codex runtime: release archives built from the official
//! `openai-codex-cli-bin` wheel, served by the loopback release server, installed and driven
//! through codex-bootstrap. Run by `.ci/real-runtime`, which fetches the wheel with pip and sets
//! `CODEX_BOOTSTRAP_REAL_WHEEL_DIR`; ignored by a plain `cargo test`.

#[path = "../support/mod.rs"]
mod support;

#[path = "../it/common.rs"]
#[allow(dead_code)]
mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::{assert_exit, runtime_dir, stderr, stdout, PointAt, TestContext, TAG, V};
use support::github::{Asset, DigestMode, ReleaseServer};
use support::model::{MockModel, Usage};

const TARGET: &str = "x86_64-unknown-linux-musl";

/// The real package, packed like a release: `.tar.gz`, `.tar.zst`, and their SHA256SUMS.
struct RealPackage {
    gz: Vec<u8>,
    zst: Vec<u8>,
}

fn wheel_dir() -> PathBuf {
    PathBuf::from(std::env::var_os("CODEX_BOOTSTRAP_REAL_WHEEL_DIR").expect(
        "CODEX_BOOTSTRAP_REAL_WHEEL_DIR is not set: run these tests through .ci/real-runtime",
    ))
}

fn real_package() -> &'static RealPackage {
    static PKG: OnceLock<RealPackage> = OnceLock::new();
    PKG.get_or_init(|| {
        let dir = wheel_dir();
        let wheel = std::fs::read_dir(&dir)
            .expect("read the wheel dir")
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                p.file_name().is_some_and(|n| {
                    let n = n.to_string_lossy();
                    n.starts_with(&format!("openai_codex_cli_bin-{V}-")) && n.ends_with(".whl")
                })
            })
            .expect("the openai-codex-cli-bin wheel is in CODEX_BOOTSTRAP_REAL_WHEEL_DIR");
        let tar = tar_from_wheel(&wheel);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
        gz.write_all(&tar).expect("gzip");
        let gz = gz.finish().expect("gzip");
        let zst = zstd::stream::encode_all(&tar[..], 3).expect("zstd");
        RealPackage { gz, zst }
    })
}

/// The wheel's `codex_cli_bin/` package (minus the Python module) as a tar, entries relative to
/// the package root as in `codex-package-<target>.tar.gz`.
fn tar_from_wheel(wheel: &Path) -> Vec<u8> {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(wheel).expect("open the wheel"))
        .expect("read the wheel");
    let mut b = tar::Builder::new(Vec::new());
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).expect("wheel entry");
        let name = entry.name().expect("entry name").to_string();
        let Some(rel) = name.strip_prefix("codex_cli_bin/") else {
            continue;
        };
        if rel.is_empty() || rel == "__init__.py" || entry.is_dir() {
            continue;
        }
        let mut data = Vec::with_capacity(entry.size() as usize);
        entry.read_to_end(&mut data).expect("read entry");
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(if rel == "codex-package.json" {
            0o644
        } else {
            0o755
        });
        h.set_mtime(1_700_000_000);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, rel, &data[..]).expect("append");
    }
    b.into_inner().expect("finish tar")
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn gz_name() -> String {
    format!("codex-package-{TARGET}.tar.gz")
}
fn zst_name() -> String {
    format!("codex-package-{TARGET}.tar.zst")
}

/// A release with the real `.tar.gz` (no API digest of its own) and SHA256SUMS (with one).
fn release_gz_via_sums() -> ReleaseServer {
    let pkg = real_package();
    let sums = format!("{}  {}\n", sha256_hex(&pkg.gz), gz_name());
    let server = ReleaseServer::start();
    server.add_release(
        TAG,
        &[
            Asset::new(&gz_name(), pkg.gz.clone(), DigestMode::None),
            Asset::new(
                "codex-package_SHA256SUMS",
                sums.into_bytes(),
                DigestMode::Api,
            ),
        ],
    );
    server
}

#[test]
#[ignore = "needs the real runtime wheel: run .ci/real-runtime"]
fn installs_the_real_tar_gz_verified_by_sha256sums_and_runs_it() {
    let ctx = TestContext::new();
    let server = release_gz_via_sums();
    let out = ctx.install(&server, &["--json"]);
    assert_exit(&out, 0);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("--json");
    assert_eq!(json["verified_by"]["kind"], "sha256-sums");
    assert_eq!(json["version"], V);
    let codex = PathBuf::from(json["path"].as_str().expect("path"));
    let version = std::process::Command::new(&codex)
        .arg("--version")
        .output()
        .expect("run the installed codex");
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("codex-cli {V}")
    );
    for f in [
        "bin/codex-code-mode-host",
        "codex-path/rg",
        "codex-resources/bwrap",
        "codex-package.json",
    ] {
        assert!(runtime_dir(&ctx, V).join(f).is_file(), "{f} is missing");
    }

    // Warm: no request, same path; and --verify re-hashes 377 MB against the receipt.
    let before = server.requests().len();
    let out = ctx.install(&server, &["--print-path", "--verify"]);
    assert_exit(&out, 0);
    assert_eq!(stdout(&out).trim(), codex.display().to_string());
    assert_eq!(server.requests().len(), before);
}

#[test]
#[ignore = "needs the real runtime wheel: run .ci/real-runtime"]
fn installs_the_real_tar_zst_with_a_pinned_digest_and_no_api_request() {
    let ctx = TestContext::new();
    let pkg = real_package();
    let server = ReleaseServer::start();
    server.add_release(
        TAG,
        &[Asset::new(&zst_name(), pkg.zst.clone(), DigestMode::Api)],
    );
    std::fs::write(
        ctx.work_dir().join("codex-runtime.toml"),
        format!(
            "[runtime]\nversion = \"{V}\"\n[targets.{TARGET}]\nasset = \"{}\"\nsize = {}\nsha256 = \"{}\"\n",
            zst_name(),
            pkg.zst.len(),
            sha256_hex(&pkg.zst)
        ),
    )
    .expect("write the manifest");
    let out = ctx.install(&server, &[]);
    assert_exit(&out, 0);
    assert!(
        stderr(&out).contains("codex-runtime.toml"),
        "{}",
        stderr(&out)
    );
    assert!(
        server
            .requests()
            .iter()
            .all(|r| !r.path.starts_with("/repos/")),
        "a pinned digest needs no API request"
    );
}

/// Install the real runtime from the loopback release (SHA256SUMS path), quietly.
fn installed(ctx: &TestContext, server: &ReleaseServer) {
    assert_exit(&ctx.install(server, &["-q"]), 0);
}

/// `codex-bootstrap quickstart EXTRA` pointed at `server`, with `model` as the provider.
fn quickstart(
    ctx: &TestContext,
    server: &ReleaseServer,
    model: &MockModel,
    extra: &[&str],
) -> std::process::Output {
    let mut cmd = ctx.cmd(["quickstart"]);
    cmd.github(server);
    for kv in model.config_overrides() {
        cmd.args(["-c".to_string(), kv]);
    }
    cmd.args(extra).output().expect("run quickstart")
}

#[test]
#[ignore = "needs the real runtime wheel: run .ci/real-runtime"]
fn quickstart_runs_one_real_turn_against_the_loopback_model() {
    let ctx = TestContext::new();
    let server = release_gz_via_sums();
    installed(&ctx, &server);
    let usage = Usage {
        input_tokens: 321,
        cached_input_tokens: 20,
        output_tokens: 17,
        reasoning_output_tokens: 3,
        total_tokens: 338,
    };
    let model = MockModel::start("The loopback model says hello.", usage);
    let out = quickstart(&ctx, &server, &model, &["--json", "Say hello"]);
    assert_exit(&out, 0);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("--json");
    assert_eq!(v["final_response"], "The loopback model says hello.");
    assert_eq!(v["status"], "completed");
    assert_eq!(v["runtime_version"], V);
    assert_eq!(v["usage"]["input_tokens"], 321);
    assert_eq!(v["usage"]["cached_input_tokens"], 20);
    assert_eq!(v["usage"]["output_tokens"], 17);
    assert_eq!(v["usage"]["reasoning_output_tokens"], 3);
    assert_eq!(v["usage"]["total_tokens"], 338);
    assert!(
        model.request_count() >= 1,
        "codex never called the model endpoint"
    );

    // Streaming text mode prints the reply to stdout.
    let out = quickstart(&ctx, &server, &model, &["Say hello"]);
    assert_exit(&out, 0);
    assert_eq!(stdout(&out).trim(), "The loopback model says hello.");
    assert!(
        stderr(&out).contains("runtime: 0.163.0"),
        "{}",
        stderr(&out)
    );
}

#[test]
#[ignore = "needs the real runtime wheel: run .ci/real-runtime"]
fn quickstart_with_the_model_endpoint_down_fails_within_the_timeout() {
    let ctx = TestContext::new();
    let server = release_gz_via_sums();
    installed(&ctx, &server);
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let mut cmd = ctx.cmd(["quickstart"]);
    cmd.github(&server).args([
        "-c".into(),
        "model_provider=\"mock\"".into(),
        "-c".into(),
        format!("model_providers.mock={{name=\"mock\",base_url=\"http://127.0.0.1:{port}/v1\",wire_api=\"responses\",stream_max_retries=0,request_max_retries=0}}"),
        "--timeout".into(),
        "15".into(),
        "Say hello".into(),
    ]);
    let started = std::time::Instant::now();
    let out = cmd.output().expect("run quickstart");
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("error:") && err.contains("hint:"), "{err}");
    // An upper bound to catch a hang, not a performance assertion.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(90),
        "{err}"
    );
}

#[test]
#[ignore = "needs the real runtime wheel: run .ci/real-runtime"]
fn doctor_is_all_ok_offline_and_runs_a_turn() {
    let ctx = TestContext::new();
    let server = release_gz_via_sums();
    installed(&ctx, &server);
    let model = MockModel::start("ready", Usage::default());
    // With the runtime first on PATH, every offline check passes.
    let path = format!(
        "{}:{}",
        runtime_dir(&ctx, V).join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = ctx.cmd(["doctor", "--offline", "--json"]);
    cmd.env("PATH", &path);
    for kv in model.config_overrides() {
        cmd.args(["-c", &kv]);
    }
    let started = std::time::Instant::now();
    let out = cmd.output().expect("doctor");
    let took = started.elapsed();
    assert_exit(&out, 0);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("--json");
    for c in report["checks"].as_array().expect("checks") {
        // The loopback release serves the real archive but no Sigstore bundle (OpenAI's
        // bundle for this version cannot be fetched here), so the signature is said to be
        // not verified, and why; it is a skip, never a failure nor an `ok`.
        let expected = match c["id"].as_str() {
            Some("network") => "skip",
            Some("signature") => {
                let summary = c["summary"].as_str().unwrap_or_default();
                assert!(
                    summary.contains("not verified") && summary.contains(".sigstore"),
                    "{c}"
                );
                "skip"
            }
            _ => "ok",
        };
        assert_eq!(c["status"], expected, "{c}");
    }
    eprintln!("doctor --offline on the real runtime took {took:?}");

    let mut cmd = ctx.cmd(["doctor", "--offline", "--turn"]);
    cmd.env("PATH", &path);
    for kv in model.config_overrides() {
        cmd.args(["-c", &kv]);
    }
    let out = cmd.output().expect("doctor --turn");
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains("✓ turn") && stdout(&out).contains("ready"),
        "{}",
        stdout(&out)
    );
}

#[test]
#[ignore = "needs the real runtime wheel: run .ci/real-runtime"]
fn the_official_python_sdk_runs_a_turn_on_the_runtime_we_installed() {
    use std::process::Command;
    let ctx = TestContext::new();
    let server = release_gz_via_sums();
    installed(&ctx, &server);
    let venv = ctx.root().join("venv");
    let st = Command::new("python3")
        .args(["-m", "venv", "--without-pip"])
        .arg(&venv)
        .status()
        .expect("python3 -m venv");
    assert!(st.success());
    let py = venv.join("bin/python");

    let mut cmd = ctx.cmd(["install", "--python"]);
    cmd.arg(&py);
    assert_exit(&cmd.output().expect("install --python"), 0);

    // The SDK and its dependencies from the wheels pip fetched; the runtime requirement is
    // already satisfied by what codex-bootstrap installed.
    let sdk = wheel_dir().join("sdk");
    let out = Command::new("python3")
        .args(["-m", "pip", "--disable-pip-version-check", "--python"])
        .arg(&py)
        .args(["install", "--quiet", "--no-index", "--find-links"])
        .arg(&sdk)
        .arg(format!("openai-codex=={V}"))
        .output()
        .expect("pip install the SDK");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let installer = Command::new(&py)
        .args(["-c", "import importlib.metadata as m; print(m.distribution('openai-codex-cli-bin').read_text('INSTALLER').strip())"])
        .output()
        .expect("read INSTALLER");
    assert_eq!(
        String::from_utf8_lossy(&installer.stdout).trim(),
        "codex-bootstrap"
    );

    let model = MockModel::start("Hello from the SDK turn.", Usage::default());
    let script = "import sys\n\
        from openai_codex import Codex, CodexConfig\n\
        with Codex(CodexConfig(config_overrides=tuple(sys.argv[1:]))) as codex:\n\
        \x20   thread = codex.thread_start()\n\
        \x20   result = thread.run('Say hello')\n\
        \x20   print(result.final_response)\n";
    let out = Command::new(&py)
        .arg("-c")
        .arg(script)
        .args(model.config_overrides())
        .env("CODEX_HOME", ctx.codex_home())
        .env_remove("OPENAI_API_KEY")
        .output()
        .expect("run the SDK");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "Hello from the SDK turn."
    );
}

/// The real Python index and npm registry, located as a user's tools locate them (pip's own
/// default through `python3`, `npm config get registry`): nothing written here names a host.
/// Each install is checked against the bundled manifest's real pins, and its `bin/codex` must be
/// byte-identical to the one installed from the GitHub-layout archive.
#[test]
#[ignore = "needs the real registries and wheel: run .ci/real-runtime"]
fn installs_from_the_real_python_index_and_npm_identical_to_github() {
    let github_ctx = TestContext::new();
    let server = release_gz_via_sums();
    let out = github_ctx.install(&server, &[]);
    assert_exit(&out, 0);
    let reference = std::fs::read(runtime_dir(&github_ctx, V).join("bin/codex")).expect("codex");

    for (source, asset_suffix) in [("python-index", ".whl"), ("npm", "-linux-x64.tgz")] {
        let ctx = TestContext::new();
        let mut cmd = ctx.cmd(["install", "--json", "--source", source]);
        // The real registries, found as pip and npm find them; the real bundled pins apply.
        cmd.env_remove("CODEX_BOOTSTRAP_INDEX_URL")
            .env_remove("CODEX_BOOTSTRAP_NPM_REGISTRY")
            .env_remove("__CODEX_BOOTSTRAP_TEST_IGNORE_BUNDLED_PINS")
            .env("CODEX_BOOTSTRAP_CONNECT_TIMEOUT", "30")
            .env("CODEX_BOOTSTRAP_READ_TIMEOUT", "60");
        let out = cmd.output().expect("run codex-bootstrap");
        assert_exit(&out, 0);
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("--json");
        assert_eq!(json["source"], source, "{json}");
        assert_eq!(json["verified_by"]["kind"], "manifest", "{json}");
        assert!(
            json["asset"]
                .as_str()
                .unwrap_or_default()
                .ends_with(asset_suffix),
            "{json}"
        );
        let codex = std::fs::read(runtime_dir(&ctx, V).join("bin/codex")).expect("codex");
        assert!(
            codex == reference,
            "bin/codex from {source} differs from the GitHub-layout install"
        );
        let doctor = ctx.run(["doctor", "--offline"]);
        assert_exit(&doctor, 0);
        assert!(
            stdout(&doctor).contains("codex-cli 0.163.0"),
            "{}",
            stdout(&doctor)
        );
        eprintln!("{source}: {}", stderr(&out).trim());
    }
}

/// What `.ci/real-runtime` fetched for the Node side: the real platform package's tarball
/// (`npm pack`, served here by the loopback npm registry), pnpm, and npm's and pnpm's caches.
fn node_dir() -> PathBuf {
    PathBuf::from(std::env::var_os("CODEX_BOOTSTRAP_REAL_NODE_DIR").expect(
        "CODEX_BOOTSTRAP_REAL_NODE_DIR is not set: run these tests through .ci/real-runtime",
    ))
}

/// The official TypeScript SDK's quickstart, as its README gives it.
const SDK_TURN: &str = r#"import { Codex } from "@openai/codex-sdk";
const codex = new Codex();
const thread = codex.startThread({ skipGitRepoCheck: true });
const result = await thread.run("Say hi");
console.log(result.finalResponse);
"#;

/// A project that depends on the official `@openai/codex-sdk`, installed by `manager`
/// without optional dependencies (so without the platform package), as the issue's users do.
fn sdk_project(ctx: &TestContext, manager: &str) -> PathBuf {
    use std::process::Command;
    let root = ctx.root().join(format!("{manager}-app"));
    std::fs::create_dir_all(&root).expect("project dir");
    std::fs::write(
        root.join("package.json"),
        format!(r#"{{"name":"app","private":true,"type":"module","dependencies":{{"@openai/codex-sdk":"{V}"}}}}"#),
    )
    .expect("package.json");
    std::fs::write(root.join("turn.mjs"), SDK_TURN).expect("turn.mjs");
    let node = node_dir();
    let mut cmd = match manager {
        "npm" => {
            let mut c = Command::new("npm");
            c.args([
                "install",
                "--omit=optional",
                "--prefer-offline",
                "--no-audit",
                "--no-fund",
            ])
            .env("npm_config_cache", node.join("npm-cache"));
            c
        }
        _ => {
            let mut c = Command::new(node.join("tools/node_modules/.bin/pnpm"));
            c.args([
                "install",
                "--no-optional",
                "--prefer-offline",
                "--store-dir",
            ])
            .arg(node.join("pnpm-store"));
            c
        }
    };
    let out = cmd
        .current_dir(&root)
        .output()
        .expect("run the package manager");
    assert!(
        out.status.success(),
        "{manager} install: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    root
}

/// `node turn.mjs` in `root`, its codex pointed at `model` by `CODEX_HOME/config.toml`.
fn sdk_turn(ctx: &TestContext, root: &Path, model: &MockModel) -> std::process::Output {
    let home = ctx.codex_home();
    std::fs::create_dir_all(&home).expect("CODEX_HOME");
    std::fs::write(
        home.join("config.toml"),
        format!(
            "model_provider = \"mock\"\n\n[model_providers.mock]\nname = \"mock\"\nbase_url = \"{}\"\nwire_api = \"responses\"\n",
            model.base_url()
        ),
    )
    .expect("config.toml");
    std::process::Command::new("node")
        .arg("turn.mjs")
        .current_dir(root)
        .env("CODEX_HOME", &home)
        .env_remove("OPENAI_API_KEY")
        .env_remove("CODEX_API_KEY")
        .output()
        .expect("run node")
}

/// The issue's scenario with the official SDK: installed without optional dependencies it
/// cannot find codex; after `install --node` (the real platform package, checked against the
/// lock file the package manager wrote) one turn answers.
fn the_official_typescript_sdk_runs_a_turn_after_install_node(manager: &str, lock: &str) {
    let ctx = TestContext::new();
    let root = sdk_project(&ctx, manager);
    let model = MockModel::start("Hello from the Node SDK turn.", Usage::default());

    let before = sdk_turn(&ctx, &root, &model);
    assert!(
        !before.status.success(),
        "the SDK found codex before install --node"
    );
    assert!(
        String::from_utf8_lossy(&before.stderr).contains("Unable to locate Codex CLI binaries"),
        "{}",
        String::from_utf8_lossy(&before.stderr)
    );

    let tarball = std::fs::read(node_dir().join(format!("openai-codex-{V}-linux-x64.tgz")))
        .expect("the platform package's tarball from .ci/real-runtime");
    let npm = support::npm::NpmRegistry::builder()
        .tarball(V, "linux-x64", tarball)
        .start();
    let out = ctx
        .cmd(["install", "--json", "--node"])
        .arg(&root)
        .npm_registry(&npm)
        .output()
        .expect("install --node");
    assert_exit(&out, 0);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("--json");
    assert_eq!(json["node"]["package_manager"], manager, "{json}");
    assert!(
        json["node"]["lock_pins"].as_array().is_some_and(|p| p
            .iter()
            .any(|f| f.as_str().is_some_and(|f| f.ends_with(lock)))),
        "the lock's integrity was not a pin: {json}"
    );

    let out = sdk_turn(&ctx, &root, &model);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "Hello from the Node SDK turn."
    );
    assert!(
        model.request_count() >= 1,
        "codex never called the model endpoint"
    );
    if manager == "npm" {
        // npm accepts what was placed as the optional dependency it left out.
        let ls = std::process::Command::new("npm")
            .args(["ls", "--all"])
            .current_dir(&root)
            .output()
            .expect("npm ls");
        assert!(
            ls.status.success(),
            "npm ls --all: {}",
            String::from_utf8_lossy(&ls.stdout)
        );
    }

    let doctor = ctx
        .cmd(["doctor", "--json", "--offline", "--node"])
        .arg(&root)
        .output()
        .expect("doctor");
    let report: serde_json::Value = serde_json::from_slice(&doctor.stdout).expect("--json");
    let node = report["checks"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["id"] == "node"))
        .expect("a node check");
    assert_eq!(node["status"], "ok", "{node}");
}

#[test]
#[ignore = "needs node, npm and what .ci/real-runtime fetches"]
fn the_official_typescript_sdk_runs_a_turn_in_an_npm_project() {
    the_official_typescript_sdk_runs_a_turn_after_install_node("npm", "package-lock.json");
}

#[test]
#[ignore = "needs node, pnpm and what .ci/real-runtime fetches"]
fn the_official_typescript_sdk_runs_a_turn_in_a_pnpm_project() {
    the_official_typescript_sdk_runs_a_turn_after_install_node("pnpm", "pnpm-lock.yaml");
}
