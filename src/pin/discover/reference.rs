//! Differential checks against the references the Python world uses: PEP 440 versions and
//! PEP 503 names against `packaging` (what pip and uv's users mean by a version or a name), on
//! a generated corpus; and `uv export` of generated lock files, parsed back to the same pins as
//! the lock itself.
//!
//! The references are outside programs: `python3` with `packaging` (`CODEX_BOOTSTRAP_TEST_PYTHON`,
//! else `target/ci-venv/bin/python`, which `.ci/run` provisions with it, else `python3` on
//! PATH) and uv (`CODEX_BOOTSTRAP_TEST_UV`, else `target/ci-venv/bin/uv`, else `uv` on PATH).
//! Under `CI=true` a missing one fails the test; elsewhere the test prints why it skips.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::requirements::{codex_dist, normalize_name};
use super::*;

/// A reference the test needs: found, or (under CI) a failure, or (elsewhere) a skip that says
/// what was looked for.
fn need(what: &str, found: Option<PathBuf>, env: &str, in_venv: &str) -> Option<PathBuf> {
    if found.is_none() {
        let msg = format!(
            "{what} is not available (looked at ${env}, target/ci-venv/bin/{in_venv} and PATH)"
        );
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{msg}; it is required under CI=true (.ci/run provisions target/ci-venv)"
        );
        eprintln!("SKIPPED: {msg}");
    }
    found
}

fn candidates(env: &str, in_venv: &str, on_path: &str) -> Vec<PathBuf> {
    let mut c: Vec<PathBuf> = std::env::var_os(env)
        .map(PathBuf::from)
        .into_iter()
        .collect();
    c.push(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("target/ci-venv/bin")
            .join(in_venv),
    );
    if let Some(path) = std::env::var_os("PATH") {
        c.extend(std::env::split_paths(&path).map(|d| d.join(on_path)));
    }
    c
}

/// An interpreter that imports `packaging`.
fn python_with_packaging() -> Option<PathBuf> {
    let c = candidates("CODEX_BOOTSTRAP_TEST_PYTHON", "python", "python3");
    let found = c.iter().find(|p| {
        p.is_file()
            && Command::new(p)
                .args(["-c", "import packaging.version, packaging.utils"])
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
    });
    need(
        "python3 with `packaging`",
        found.cloned(),
        "CODEX_BOOTSTRAP_TEST_PYTHON",
        "python",
    )
}

fn uv() -> Option<PathBuf> {
    let c = candidates("CODEX_BOOTSTRAP_TEST_UV", "uv", "uv");
    let found = c.iter().find(|p| p.is_file());
    need("uv", found.cloned(), "CODEX_BOOTSTRAP_TEST_UV", "uv")
}

/// Run `script` with `input` (JSON) on stdin; its stdout as JSON.
fn python_json(python: &Path, script: &str, input: &serde_json::Value) -> serde_json::Value {
    let mut child = Command::new(python)
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run python");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "the python reference failed");
    serde_json::from_slice(&out.stdout).expect("the reference's JSON")
}

/// Version spellings: Codex's, PEP 440's, their near misses, and garbage.
fn version_corpus() -> Vec<String> {
    const PREFIXES: &[&str] = &["", "", "", "v", "rust-v", " ", "V"];
    const NUMBERS: &[&str] = &["0", "1", "9", "10", "163", "01", "00"];
    const SUFFIX: &[&str] = &[
        "-", ".", "_", "a", "b", "c", "rc", "RC", "alpha", "beta", "pre", "post", ".post", "-post",
        "dev", ".dev", "0", "1", "2", "10", "01", "-alpha.", "-beta.", "-rc.", "+", "local", " ",
    ];
    let mut rng = fastrand::Rng::with_seed(440);
    let pick = |rng: &mut fastrand::Rng, from: &[&'static str]| from[rng.usize(..from.len())];
    let mut out: Vec<String> = [
        "0.163.0",
        "0.154.0-alpha.6",
        "0.154.0-alpha.6.2",
        "0.154.0a6",
        "0.154.0a6.post2",
        "0.154.0-beta.1",
        "0.154.0rc1",
        "0.154.0-rc.1",
        "0.154.0c1",
        "0.154.0-1",
        "0.154.0.post1",
        "0.154.0a6post2",
        "0.154.0alpha6",
        "0.154.0.a6",
        "0.154.0-a6",
        "0.154.0_rc_1",
        "1.0.0",
        "1.0.0.0",
        "01.2.3",
        "0.163.0+local",
        "0.163.0.dev1",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for _ in 0..6000 {
        let mut text = String::from(pick(&mut rng, PREFIXES));
        for i in 0..3 {
            if i > 0 {
                text.push('.');
            }
            text.push_str(pick(&mut rng, NUMBERS));
        }
        for _ in 0..rng.usize(0..5) {
            text.push_str(pick(&mut rng, SUFFIX));
        }
        out.push(text);
    }
    out.sort();
    out.dedup();
    out
}

const VERSIONS_PY: &str = r#"
import json, sys
from packaging.version import Version, InvalidVersion
data = json.load(sys.stdin)
def norm(s):
    try:
        return str(Version(s))
    except InvalidVersion:
        return None
ours = [Version(s) for s in data["ours"]]
print(json.dumps({
    "spelled": [norm(s) for s in data["spelled"]],
    "ours": [str(v) for v in ours],
    "rank": [sum(1 for w in set(ours) if w < v) for v in ours],
}))
"#;

/// Every version we accept is one `packaging` accepts, and our PEP 440 spelling is its
/// normal form; a spelling both accept means the same version to both; and our order of the
/// accepted versions is `packaging`'s.
#[test]
fn versions_agree_with_packaging() {
    let Some(python) = python_with_packaging() else {
        return;
    };
    let corpus = version_corpus();
    let accepted: Vec<(String, CodexVersion)> = corpus
        .iter()
        .filter_map(|s| Some((s.clone(), CodexVersion::parse(s).ok()?)))
        .collect();
    assert!(
        accepted.len() > 100 && accepted.len() < corpus.len() / 2,
        "{} of {} accepted: the corpus no longer tests both sides",
        accepted.len(),
        corpus.len()
    );
    let input = serde_json::json!({
        "spelled": accepted.iter().map(|(s, _)| s.trim()).collect::<Vec<_>>(),
        "ours": accepted.iter().map(|(_, v)| v.pep440()).collect::<Vec<_>>(),
    });
    let got = python_json(&python, VERSIONS_PY, &input);
    for (i, (spelled, v)) in accepted.iter().enumerate() {
        assert_eq!(
            got["ours"][i].as_str(),
            Some(v.pep440().as_str()),
            "{spelled:?}: our PEP 440 spelling is not packaging's normal form"
        );
        if let Some(theirs) = got["spelled"][i].as_str() {
            assert_eq!(
                theirs,
                v.pep440(),
                "{spelled:?} is {} to packaging but {} to us",
                theirs,
                v.pep440()
            );
        }
    }
    // Rank among the accepted versions: how many distinct versions sort strictly below.
    for (i, (spelled, v)) in accepted.iter().enumerate() {
        let mut below: Vec<&CodexVersion> =
            accepted.iter().map(|(_, w)| w).filter(|w| *w < v).collect();
        below.sort();
        below.dedup();
        assert_eq!(
            got["rank"][i].as_u64(),
            Some(below.len() as u64),
            "{spelled:?} ({v}) is not ordered as packaging orders it"
        );
    }
}

/// Valid distribution names (PEP 508: letters and digits at both ends, `-_.` inside), in any
/// case, among them the runtime's and the SDK's.
fn name_corpus() -> Vec<String> {
    const PARTS: &[&str] = &[
        "openai", "codex", "cli", "bin", "OpenAI", "CODEX", "Cli", "BIN", "a", "Z", "0", "9x",
    ];
    const SEPS: &[&str] = &["-", "_", ".", "--", "-_", "._.", "__", "-.-"];
    let mut rng = fastrand::Rng::with_seed(503);
    let mut out = vec![
        "openai-codex-cli-bin".to_string(),
        "openai_codex_cli_bin".to_string(),
        "OpenAI.Codex.CLI.Bin".to_string(),
        "openai-codex".to_string(),
        "openai__codex".to_string(),
        "openaicodex".to_string(),
        "openai-codex-cli".to_string(),
    ];
    for _ in 0..3000 {
        let mut name = String::from(PARTS[rng.usize(..PARTS.len())]);
        for _ in 0..rng.usize(0..4) {
            name.push_str(SEPS[rng.usize(..SEPS.len())]);
            name.push_str(PARTS[rng.usize(..PARTS.len())]);
        }
        out.push(name);
    }
    out.sort();
    out.dedup();
    out
}

const NAMES_PY: &str = r#"
import json, sys
from packaging.utils import canonicalize_name
print(json.dumps([canonicalize_name(n) for n in json.load(sys.stdin)]))
"#;

/// Our PEP 503 normalisation is `packaging`'s on every valid name, so the runtime and the SDK
/// are recognised exactly when pip would take the name for theirs.
#[test]
fn names_normalise_as_packaging_does() {
    let Some(python) = python_with_packaging() else {
        return;
    };
    let names = name_corpus();
    let got = python_json(&python, NAMES_PY, &serde_json::json!(names));
    let mut runtime = 0;
    for (i, name) in names.iter().enumerate() {
        let theirs = got[i].as_str().expect("a name");
        assert_eq!(normalize_name(name), theirs, "{name:?}");
        let expect = [RUNTIME_DIST, SDK_DIST].into_iter().find(|d| *d == theirs);
        assert_eq!(codex_dist(name), expect, "{name:?}");
        runtime += usize::from(expect == Some(RUNTIME_DIST));
    }
    assert!(
        runtime > 3,
        "the corpus spells the runtime's name {runtime} times"
    );
}

/// A uv.lock whose project `demo` requires the runtime at `version` (PEP 440), with a wheel per
/// tag of `wheels`.
fn uv_lock(version: &str, wheels: &[(&str, String)]) -> String {
    let mut s = format!(
        r#"version = 1
revision = 3
requires-python = ">=3.10"

[[package]]
name = "demo"
version = "0.1.0"
source = {{ editable = "." }}
dependencies = [
    {{ name = "openai-codex-cli-bin" }},
]

[package.metadata]
requires-dist = [{{ name = "openai-codex-cli-bin", specifier = "=={version}" }}]

[[package]]
name = "openai-codex-cli-bin"
version = "{version}"
source = {{ registry = "http://127.0.0.1:9/simple" }}
wheels = [
"#
    );
    for (i, (tag, hex)) in wheels.iter().enumerate() {
        s.push_str(&format!(
            "    {{ url = \"http://127.0.0.1:9/files/openai_codex_cli_bin-{version}-py3-none-{tag}.whl\", hash = \"sha256:{hex}\", size = {}, upload-time = \"2025-11-20T18:03:31.104Z\" }},\n",
            1000 + i
        ));
    }
    s.push_str("]\n");
    s
}

/// `uv export` of generated lock files (versions in every pre-release shape, one to eight
/// wheels) parses back to the same pin as the lock: the same version and the same digests.
#[test]
fn uv_export_parses_back_to_the_locks_pins() {
    let Some(uv) = uv() else {
        return;
    };
    const TAGS: &[&str] = &[
        "macosx_10_9_x86_64",
        "macosx_11_0_arm64",
        "manylinux_2_17_aarch64",
        "manylinux_2_17_x86_64",
        "musllinux_1_1_aarch64",
        "musllinux_1_1_x86_64",
        "win_amd64",
        "win_arm64",
    ];
    let mut rng = fastrand::Rng::with_seed(7);
    let cache = tempfile::tempdir().unwrap();
    for (n, version) in [
        "0.163.0",
        "0.154.0a6",
        "0.154.0a6.post2",
        "0.158.0b2",
        "0.160.0rc1",
    ]
    .into_iter()
    .enumerate()
    {
        let wheels: Vec<(&str, String)> = TAGS[..1 + (n * 3 + 1) % TAGS.len()]
            .iter()
            .map(|t| (*t, (0..32).map(|_| format!("{:02x}", rng.u8(..))).collect()))
            .collect();
        let project = tempfile::tempdir().unwrap();
        let lock = uv_lock(version, &wheels);
        std::fs::write(project.path().join("uv.lock"), &lock).unwrap();
        std::fs::write(
            project.path().join("pyproject.toml"),
            format!("[project]\nname = \"demo\"\nversion = \"0.1.0\"\nrequires-python = \">=3.10\"\ndependencies = [\"openai-codex-cli-bin=={version}\"]\n"),
        )
        .unwrap();
        let out = Command::new(&uv)
            .args([
                "export",
                "--frozen",
                "--offline",
                "--format",
                "requirements-txt",
            ])
            .current_dir(project.path())
            .env("UV_CACHE_DIR", cache.path())
            .env("UV_NO_PROGRESS", "1")
            .output()
            .expect("run uv export");
        assert!(
            out.status.success(),
            "uv export: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let exported = String::from_utf8(out.stdout).unwrap();

        let (from_lock, from_export) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        std::fs::write(from_lock.path().join("uv.lock"), &lock).unwrap();
        std::fs::write(from_export.path().join("requirements.txt"), &exported).unwrap();
        let pin = |dir: &Path| {
            let found = discover(dir).unwrap();
            assert!(
                found.warnings.is_empty(),
                "{:?}\n{exported}",
                found.warnings
            );
            found.pin.expect("a pin")
        };
        let (a, b) = (pin(from_lock.path()), pin(from_export.path()));
        assert_eq!(a.version.pep440(), version, "the lock's version");
        assert_eq!(b.version, a.version, "uv export of {version}:\n{exported}");
        let digests = |p: &ProjectPin| {
            let mut d: Vec<Sha256> = p
                .wheel_pins
                .iter()
                .flat_map(|w| w.wheels.iter().map(|l| l.sha256))
                .collect();
            d.sort_by_key(|s| s.to_hex());
            d
        };
        let mut want: Vec<Sha256> = wheels
            .iter()
            .map(|(_, h)| Sha256::parse(h).unwrap())
            .collect();
        want.sort_by_key(|s| s.to_hex());
        assert_eq!(digests(&a), want, "the lock's digests");
        assert_eq!(digests(&b), want, "uv export of {version}:\n{exported}");
    }
}
