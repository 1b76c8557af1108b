//! The composite action (action.yml): its shell steps, run by bash the way the runner runs them,
//! against loopback servers for codex-bootstrap's own release and for the Codex release.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::{assert_exit, describe, host_target, stderr, stdout, TestContext, V};
use crate::fixture::{release_gz, sha256_hex, Package};
use crate::support::github::{DigestMode, ReleaseServer};
use crate::support::http::Fault;

/// This crate's version: the release of codex-bootstrap the action looks for.
const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// One step of the composite action in action.yml.
struct ActionStep {
    name: String,
    id: Option<String>,
    /// `uses:` steps (actions/cache) are GitHub's own code: skipped here, listed for the record.
    uses: Option<String>,
    env: Vec<(String, String)>,
    run: Option<String>,
}

/// The action's steps, with `${{ inputs.* }}` in `env:` resolved the way the runner would: the
/// value given in `with`, else the input's default, where `${{ github.token }}` is
/// `github_token`.
fn action_steps(github_token: &str, with: &[(&str, &str)]) -> Vec<ActionStep> {
    use yaml_rust2::{Yaml, YamlLoader};
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml");
    let text = std::fs::read_to_string(&path).expect("read action.yml");
    let docs = YamlLoader::load_from_str(&text).expect("action.yml is YAML");
    let doc = &docs[0];
    let str_of = |y: &Yaml| match y {
        Yaml::String(s) => s.clone(),
        Yaml::Boolean(b) => b.to_string(),
        Yaml::Integer(i) => i.to_string(),
        other => panic!("unexpected YAML value {other:?} in action.yml"),
    };
    for (name, _) in with {
        assert!(
            !doc["inputs"][*name].is_badvalue(),
            "action.yml has no input `{name}`"
        );
    }
    let input = |name: &str| -> String {
        if let Some((_, v)) = with.iter().find(|(k, _)| *k == name) {
            return v.to_string();
        }
        let default = &doc["inputs"][name]["default"];
        assert!(!default.is_badvalue(), "action.yml has no input `{name}`");
        let d = str_of(default);
        if d == "${{ github.token }}" {
            github_token.to_string()
        } else {
            d
        }
    };
    let resolve = |value: &str| -> String {
        let Some(rest) = value.strip_prefix("${{ inputs.") else {
            assert!(!value.contains("${{"), "unhandled expression `{value}`");
            return value.to_string();
        };
        let name = rest.strip_suffix(" }}").expect("a whole-value expression");
        input(name)
    };
    doc["runs"]["steps"]
        .as_vec()
        .expect("runs.steps is a list")
        .iter()
        .map(|s| {
            let env = s["env"]
                .as_hash()
                .map(|h| {
                    h.iter()
                        .map(|(k, v)| (str_of(k), resolve(&str_of(v))))
                        .collect()
                })
                .unwrap_or_default();
            ActionStep {
                name: str_of(&s["name"]),
                id: s["id"].as_str().map(str::to_string),
                uses: s["uses"].as_str().map(str::to_string),
                env,
                run: s["run"].as_str().map(str::to_string),
            }
        })
        .collect()
}

/// `KEY=VALUE` lines of a GITHUB_ENV or GITHUB_OUTPUT file.
fn github_file(path: &Path) -> Vec<(String, String)> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| {
            assert!(!l.contains("<<"), "multi-line values are not expected: {l}");
            let (k, v) = l.split_once('=').expect("KEY=VALUE");
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// The runner's values of `RUNNER_ARCH` for this host.
fn runner_arch() -> &'static str {
    match std::env::consts::ARCH {
        "aarch64" => "ARM64",
        _ => "X64",
    }
}

/// What the runner provides to a composite action's shell steps: `RUNNER_TEMP`, the files behind
/// GITHUB_ENV / GITHUB_PATH / GITHUB_OUTPUT, and a `cargo` first on PATH, a shim that records
/// its arguments and "builds from source" by copying the binary under test.
struct Runner<'a> {
    ctx: &'a TestContext,
    temp: PathBuf,
    path: String,
    cargo_log: PathBuf,
    github_env: PathBuf,
    github_path: PathBuf,
    /// Variables every step sees (the runner's own, the test's servers).
    env: Vec<(String, String)>,
    /// GITHUB_ENV as exported so far.
    carried: Vec<(String, String)>,
    /// Outputs by step id.
    outputs: HashMap<String, Vec<(String, String)>>,
    ran: usize,
}

impl<'a> Runner<'a> {
    /// A runner on Linux for this host's architecture, whose action is checked out at
    /// `action_path`.
    fn new(ctx: &'a TestContext, action_path: &Path) -> Runner<'a> {
        let temp = ctx.root().join("runner-temp");
        let shim = ctx.root().join("shim");
        std::fs::create_dir_all(&temp).unwrap();
        std::fs::create_dir_all(&shim).unwrap();
        let cargo = shim.join("cargo");
        std::fs::write(
            &cargo,
            "#!/bin/sh\necho \"$@\" >> \"$CARGO_SHIM_LOG\"\nroot=\nwhile [ $# -gt 0 ]; do\n  \
             [ \"$1\" = --root ] && root=$2\n  shift\ndone\nmkdir -p \"$root/bin\" && \
             cp \"$CARGO_SHIM_BIN\" \"$root/bin/codex-bootstrap\"\n",
        )
        .unwrap();
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&cargo, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let path = format!(
            "{}:{}",
            shim.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let env = [
            ("GITHUB_ACTIONS", "true".to_string()),
            ("GITHUB_ACTION_PATH", action_path.display().to_string()),
            ("RUNNER_OS", "Linux".to_string()),
            ("RUNNER_ARCH", runner_arch().to_string()),
            ("RUNNER_TEMP", temp.display().to_string()),
            // Where a remote action's releases are looked for; never github.com in a test.
            ("GITHUB_SERVER_URL", "http://127.0.0.1:9".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        Runner {
            ctx,
            cargo_log: ctx.root().join("cargo-args"),
            github_env: ctx.root().join("github_env"),
            github_path: ctx.root().join("github_path"),
            temp,
            path,
            env,
            carried: Vec::new(),
            outputs: HashMap::new(),
            ran: 0,
        }
    }

    fn set(&mut self, key: &str, value: impl Into<String>) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_string(), value.into()));
    }

    /// Run one shell step with bash as the runner does (`-eo pipefail`, GITHUB_ENV carried
    /// between steps, a GITHUB_OUTPUT per step); the caller checks its exit status.
    fn run(&mut self, step: &ActionStep) -> Output {
        let run = step.run.as_deref().expect("a shell step");
        self.ran += 1;
        let output_file = self.ctx.root().join(format!("github_output_{}", self.ran));
        let mut cmd = self.ctx.command("bash");
        cmd.args(["--noprofile", "--norc", "-eo", "pipefail", "-c", run])
            .env("PATH", &self.path)
            .env("CARGO_SHIM_LOG", &self.cargo_log)
            .env("CARGO_SHIM_BIN", env!("CARGO_BIN_EXE_codex-bootstrap"))
            .env("GITHUB_ENV", &self.github_env)
            .env("GITHUB_PATH", &self.github_path)
            .env("GITHUB_OUTPUT", &output_file)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .envs(self.carried.iter().map(|(k, v)| (k, v)))
            .envs(step.env.iter().map(|(k, v)| (k, v)));
        let out = cmd.output().expect("run bash");
        self.carried = github_file(&self.github_env);
        if let Some(id) = &step.id {
            self.outputs.insert(id.clone(), github_file(&output_file));
        }
        out
    }

    /// Run the shell steps of `steps` in order; each must succeed and print no `secret`.
    fn run_all(&mut self, steps: &[ActionStep], secret: &str) {
        for step in steps.iter().filter(|s| s.run.is_some()) {
            let out = self.run(step);
            assert_exit(&out, 0);
            for text in [stdout(&out), stderr(&out)] {
                assert!(
                    !text.contains(secret),
                    "step `{}` printed the token",
                    step.name
                );
            }
        }
    }

    fn output(&self, step: &str, key: &str) -> String {
        self.outputs
            .get(step)
            .and_then(|o| o.iter().find(|(k, _)| k == key))
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("step `{step}` set no output `{key}`: {:?}", self.outputs))
    }

    /// The `cargo` command lines the steps ran, one per line; empty when none.
    fn cargo_calls(&self) -> String {
        std::fs::read_to_string(&self.cargo_log).unwrap_or_default()
    }

    /// Where the action puts codex-bootstrap (and what actions/cache saves).
    fn tool(&self) -> PathBuf {
        self.temp.join("codex-bootstrap/bin/codex-bootstrap")
    }
}

/// The step named `name`.
fn step<'s>(steps: &'s [ActionStep], name: &str) -> &'s ActionStep {
    steps
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("action.yml has no step `{name}`"))
}

/// The "binary" the test release ships: a script that runs the binary under test, so the archive
/// stays small while every later step really runs codex-bootstrap.
fn tool_binary() -> Vec<u8> {
    format!(
        "#!/bin/sh\nexec '{}' \"$@\"\n",
        env!("CARGO_BIN_EXE_codex-bootstrap")
    )
    .into_bytes()
}

/// codex-bootstrap's release archive for `target`, packed as the release workflow packs it:
/// `bin` at `codex-bootstrap-<target>/codex-bootstrap`, beside the README.
fn tool_archive(target: &str, bin: &[u8]) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for (name, data, mode) in [
        ("codex-bootstrap", bin, 0o755),
        ("README.md", &b"# codex-bootstrap\n"[..], 0o644),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(mode);
        h.set_mtime(1_700_000_000);
        tar.append_data(&mut h, format!("codex-bootstrap-{target}/{name}"), data)
            .expect("append");
    }
    let tar = tar.into_inner().expect("finish tar");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &tar).expect("gzip");
    gz.finish().expect("gzip")
}

/// Publish codex-bootstrap release `v<TOOL_VERSION>` under `base` (a path on `server`): the
/// given archives and a SHA256SUMS listing `sums` (name, bytes) pairs.
fn publish_tool(server: &ReleaseServer, base: &str, archives: &[(String, Vec<u8>)], sums: &str) {
    let dir = format!("{base}/v{TOOL_VERSION}");
    for (name, bytes) in archives {
        server
            .http()
            .add_file(&format!("{dir}/{name}"), bytes.clone());
    }
    server
        .http()
        .add_file(&format!("{dir}/SHA256SUMS"), sums.as_bytes().to_vec());
}

fn sums_line(name: &str, bytes: &[u8]) -> String {
    format!("{}  {name}\n", sha256_hex(bytes))
}

/// The Codex release with the fake app-server as `codex`, for the host target.
fn fake_app_server_release() -> ReleaseServer {
    release_gz(V, Package::fake_app_server(V).tar_gz(), DigestMode::Api)
}

/// The composite action's shell steps, run by bash the way the runner runs them, taken from
/// `acme/codex-bootstrap` (the runner's `_actions/acme/codex-bootstrap/<ref>` checkout) on a
/// server whose codex-bootstrap release has an archive for this platform: codex-bootstrap comes
/// from it, verified against SHA256SUMS, with no compile; the runtime is installed and the
/// outputs exported. `actions/cache` is GitHub's and is skipped.
#[test]
fn the_actions_shell_steps_install_and_export_outputs() {
    let ctx = TestContext::new();
    let server = fake_app_server_release();
    let target = host_target();
    let archive_name = format!("codex-bootstrap-{target}.tar.gz");
    let archive = tool_archive(target, &tool_binary());
    let other = b"the macOS archive".to_vec();
    let sums = sums_line(&archive_name, &archive)
        + &sums_line("codex-bootstrap-aarch64-apple-darwin.tar.gz", &other);
    let base = "/acme/codex-bootstrap/releases/download";
    publish_tool(&server, base, &[(archive_name.clone(), archive)], &sums);

    // The runner keeps a remote action at _actions/<owner>/<repo>/<ref>.
    let action_path = ctx.root().join("_actions/acme/codex-bootstrap/v1");
    std::fs::create_dir_all(action_path.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_MANIFEST_DIR"), &action_path).unwrap();

    let token = "ghs_SENTINEL_action_token_42";
    let steps = action_steps(token, &[]);
    for s in &steps {
        if let Some(run) = &s.run {
            // Inputs reach scripts through env: only; `${{ }}` in a script is script injection.
            assert!(
                !run.contains("${{"),
                "step `{}` interpolates into its script",
                s.name
            );
        }
    }
    let skipped: Vec<&str> = steps.iter().filter_map(|s| s.uses.as_deref()).collect();
    assert_eq!(
        skipped.len(),
        2,
        "codex-bootstrap and the runtime: {skipped:?}"
    );
    for uses in &skipped {
        // Pinned by commit, as every third-party action should be.
        let sha = uses
            .strip_prefix("actions/cache@")
            .unwrap_or_else(|| panic!("only actions/cache is skipped: {uses}"));
        assert!(
            sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit()),
            "{uses}"
        );
    }

    let mut runner = Runner::new(&ctx, &action_path);
    runner.set("GITHUB_SERVER_URL", server.api_url());
    runner.set("CODEX_BOOTSTRAP_GITHUB_API", server.api_url());
    runner.set("CODEX_BOOTSTRAP_GITHUB_DOWNLOAD_URL", server.download_url());
    runner.run_all(&steps, token);

    // The archive was downloaded and verified, nothing compiled.
    assert_eq!(runner.cargo_calls(), "", "nothing is built from source");
    let dir = format!("{base}/v{TOOL_VERSION}");
    assert_eq!(
        server
            .http()
            .requests_to(&format!("{dir}/SHA256SUMS"))
            .len(),
        1
    );
    assert_eq!(
        server
            .http()
            .requests_to(&format!("{dir}/{archive_name}"))
            .len(),
        1
    );
    assert_eq!(std::fs::read(runner.tool()).unwrap(), tool_binary());
    let leftovers: Vec<_> = std::fs::read_dir(&runner.temp)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("codex-bootstrap-download"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // The tool's cache key names one binary: version, platform, sources.
    let tool_key = runner.output("tool", "key");
    assert!(
        tool_key.starts_with(&format!(
            "codex-bootstrap-{TOOL_VERSION}-Linux-{}-",
            runner_arch()
        )),
        "{tool_key}"
    );

    assert_eq!(
        format!("{}\n", runner.output("key", "key")),
        stdout(&ctx.run(["cache-key"]))
    );
    // The runtime lands in the directory actions/cache saves, and its bin/ goes on PATH.
    let home = runner.temp.join("codex-bootstrap-home");
    let bin = home.join("runtimes").join(V).join(target).join("bin");
    assert_eq!(
        runner.output("install", "codex-path"),
        bin.join("codex").display().to_string()
    );
    assert_eq!(runner.output("install", "codex-version"), V);
    assert_eq!(
        std::fs::read_to_string(&runner.github_path).unwrap(),
        format!("{}\n", bin.display())
    );
    // CI gets that exact binary on PATH, not the `codex` entry point.
    assert!(!ctx.bin_dir().join("codex").exists());
    // The input token reached the API, and nothing else (codex-bootstrap's release included).
    assert!(server
        .requests()
        .iter()
        .any(|r| r.path.starts_with("/repos/")));
    server.assert_token_went_to_the_api_only(token);

    // Next run, actions/cache restored the binary: no download at all.
    let before = server.http().count(base);
    let out = runner.run(step(&steps, "Get codex-bootstrap"));
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains("from the cache"),
        "{}",
        describe(&out)
    );
    assert_eq!(server.http().count(base), before);
}

/// The archive served is not the one SHA256SUMS lists: the step fails before anything runs,
/// installs nothing, leaves no download behind and does not fall back to a build.
#[test]
fn the_action_refuses_a_codex_bootstrap_archive_that_does_not_match_sha256sums() {
    let ctx = TestContext::new();
    let server = ReleaseServer::start();
    let target = host_target();
    let archive_name = format!("codex-bootstrap-{target}.tar.gz");
    // Were it ever run or installed, this would pass for the right version.
    let impostor = format!("#!/bin/sh\necho codex-bootstrap {TOOL_VERSION}\n");
    let archive = tool_archive(target, impostor.as_bytes());
    let sums = sums_line(&archive_name, &archive);
    let middle = archive.len() as u64 / 2;
    publish_tool(&server, "/tool", &[(archive_name.clone(), archive)], &sums);
    let path = format!("/tool/v{TOOL_VERSION}/{archive_name}");
    server.http().fault(&path, Fault::CorruptByte(middle));

    let release_url = format!("{}/tool", server.api_url());
    let steps = action_steps("unused", &[("release-url", &release_url)]);
    let mut runner = Runner::new(&ctx, Path::new(env!("CARGO_MANIFEST_DIR")));
    assert_exit(&runner.run(step(&steps, "Locate codex-bootstrap")), 0);
    let out = runner.run(step(&steps, "Get codex-bootstrap"));
    assert_exit(&out, 1);
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "{archive_name} does not match the release's SHA256SUMS (expected sha256 {}",
            sums.split_whitespace().next().unwrap()
        )),
        "{}",
        describe(&out)
    );
    assert!(text.contains("hint: "), "{text}");
    assert_eq!(server.http().requests_to(&path).len(), 1);
    assert!(!runner.tool().exists(), "a refused binary was installed");
    assert_eq!(
        runner.cargo_calls(),
        "",
        "a refused archive is no reason to build"
    );
    assert!(
        !github_file(&runner.github_env)
            .iter()
            .any(|(k, _)| k == "CODEX_BOOTSTRAP"),
        "nothing is exported"
    );
    let leftovers = std::fs::read_dir(&runner.temp)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("codex-bootstrap-download")
        })
        .count();
    assert_eq!(leftovers, 0, "the refused download is deleted");
}

/// No archive for the runner, for each reason: the release lists only other platforms; there is
/// no such release (a fork, an unreleased version); the platform has no prebuilt binary at all
/// (no request is made). codex-bootstrap is built from the action's source (`cargo install`,
/// shimmed), and the rest of the action works with it.
#[test]
fn the_action_builds_codex_bootstrap_from_source_without_a_release_archive() {
    let other = "codex-bootstrap-x86_64-apple-darwin.tar.gz";
    let cases: [(&str, bool, &str); 3] = [
        ("only other platforms", true, runner_arch()),
        ("no release", false, runner_arch()),
        ("32-bit ARM runner", true, "ARM"),
    ];
    for (case, release, arch) in cases {
        let ctx = TestContext::new();
        let server = fake_app_server_release();
        if release {
            publish_tool(
                &server,
                "/tool",
                &[(other.to_string(), b"macOS".to_vec())],
                &sums_line(other, b"macOS"),
            );
        }
        let release_url = format!("{}/tool", server.api_url());
        let steps = action_steps("unused", &[("release-url", &release_url)]);
        let mut runner = Runner::new(&ctx, Path::new(env!("CARGO_MANIFEST_DIR")));
        runner.set("RUNNER_ARCH", arch);
        runner.set("CODEX_BOOTSTRAP_GITHUB_API", server.api_url());
        runner.set("CODEX_BOOTSTRAP_GITHUB_DOWNLOAD_URL", server.download_url());
        runner.run_all(&steps, "unused");

        let calls = runner.cargo_calls();
        let root = runner.temp.join("codex-bootstrap");
        assert_eq!(
            calls,
            format!(
                "install --locked --quiet --path {} --root {}\n",
                env!("CARGO_MANIFEST_DIR"),
                root.display()
            ),
            "{case}"
        );
        let sums_requests = server
            .http()
            .requests_to(&format!("/tool/v{TOOL_VERSION}/SHA256SUMS"))
            .len();
        assert_eq!(sums_requests, usize::from(arch != "ARM"), "{case}");
        assert_eq!(
            server
                .http()
                .count(&format!("/tool/v{TOOL_VERSION}/{other}")),
            0
        );
        assert_eq!(runner.output("install", "codex-version"), V, "{case}");
    }
}
