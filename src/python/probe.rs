//! Which interpreter, and what it is: its environment, its site-packages, the wheel tags pip
//! would accept there, and the project's environment as uv finds it.

use super::*;

/// What one interpreter told us about itself.
#[derive(Debug, Clone, Deserialize)]
pub struct PythonEnv {
    pub executable: PathBuf,
    pub version: String,
    pub prefix: PathBuf,
    pub purelib: PathBuf,
    pub platlib: PathBuf,
    pub in_venv: bool,
    pub externally_managed: bool,
    /// What pip's tag logic decides from (absent from probes of old caches).
    #[serde(default)]
    pub platform: crate::platform::InterpreterPlatform,
}

impl PythonEnv {
    /// The wheel platform tags this interpreter accepts, most preferred first.
    pub fn wheel_tags(&self) -> Vec<String> {
        self.platform.wheel_tags()
    }
}

const PROBE: &str = r#"
import json, os, platform, sys, sysconfig
stdlib = sysconfig.get_path("stdlib")
glibc = None
musl = None
try:
    glibc = os.confstr("CS_GNU_LIBC_VERSION").split()[1]
except Exception:
    pass
if glibc is None and sys.platform.startswith("linux"):
    import glob, re, subprocess
    for loader in sorted(glob.glob("/lib/ld-musl-*.so.1")):
        try:
            err = subprocess.run([loader], capture_output=True, text=True).stderr
        except OSError:
            continue
        m = re.search(r"Version (\d+)\.(\d+)", err)
        if m:
            musl = "%s.%s" % m.groups()
            break
print(json.dumps({
    "executable": sys.executable,
    "version": "%d.%d.%d" % sys.version_info[:3],
    "prefix": sys.prefix,
    "purelib": sysconfig.get_path("purelib"),
    "platlib": sysconfig.get_path("platlib"),
    "in_venv": sys.prefix != sys.base_prefix,
    "externally_managed": sys.prefix == sys.base_prefix and os.path.isfile(os.path.join(stdlib, "EXTERNALLY-MANAGED")),
    "platform": {
        "sys_platform": sys.platform,
        "machine": platform.machine().lower(),
        "is_32bit": sys.maxsize <= 2**32,
        "glibc": glibc,
        "musl": musl,
        "macos": platform.mac_ver()[0] or None,
    },
}))
"#;

/// The interpreter to use: the one given, else the project's environment as uv finds it
/// ([`project_env`]), else `python3` on PATH.
pub fn choose_interpreter(given: Option<&Path>) -> Result<PathBuf, PythonError> {
    if let Some(p) = given.filter(|p| !p.as_os_str().is_empty()) {
        return Ok(p.to_path_buf());
    }
    let cwd = std::env::current_dir().unwrap_or_default();
    if let Some(env) = project_env(&cwd) {
        return Ok(env.interpreter);
    }
    let name = if cfg!(windows) {
        "python.exe"
    } else {
        "python3"
    };
    crate::fs::which(name, std::env::var_os("PATH").as_deref()).ok_or(PythonError::NotFound)
}

/// A virtual environment found without being named, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundEnv {
    pub interpreter: PathBuf,
    /// `VIRTUAL_ENV` or the `.venv` directory it was found as.
    pub from: String,
}

fn env_python(dir: &Path) -> PathBuf {
    if cfg!(windows) {
        dir.join("Scripts").join("python.exe")
    } else {
        dir.join("bin").join("python")
    }
}

/// The environment uv would use: the active one (`VIRTUAL_ENV`), else a `.venv` (one with a
/// `pyvenv.cfg`) in `cwd` or the nearest parent that has one.
pub fn project_env(cwd: &Path) -> Option<FoundEnv> {
    if let Some(venv) = std::env::var_os("VIRTUAL_ENV").filter(|v| !v.is_empty()) {
        let p = env_python(Path::new(&venv));
        if p.is_file() {
            return Some(FoundEnv {
                interpreter: p,
                from: "VIRTUAL_ENV".into(),
            });
        }
    }
    cwd.ancestors().find_map(|dir| {
        let venv = dir.join(".venv");
        let p = env_python(&venv);
        (venv.join("pyvenv.cfg").is_file() && p.is_file()).then(|| FoundEnv {
            interpreter: p,
            from: venv.display().to_string(),
        })
    })
}

/// Ask the interpreter where it installs things.
pub fn probe(interpreter: &Path) -> Result<PythonEnv, PythonError> {
    let shown = interpreter.display().to_string();
    tracing::debug!(program = %shown, "starting the interpreter to probe its environment");
    let out = Command::new(interpreter)
        .args(["-I", "-c", PROBE])
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|source| PythonError::Run {
            interpreter: shown.clone(),
            source,
        })?;
    if !out.status.success() {
        return Err(PythonError::Probe {
            interpreter: shown,
            detail: String::from_utf8_lossy(&out.stderr)
                .trim()
                .lines()
                .last()
                .unwrap_or("")
                .to_string(),
        });
    }
    serde_json::from_slice(&out.stdout).map_err(|e| PythonError::Probe {
        interpreter: shown,
        detail: e.to_string(),
    })
}
