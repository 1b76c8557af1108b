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

/// What the interpreter says of itself, as one JSON object. It runs before anything is
/// downloaded, so it imports little: no `json` (its `re` import alone is about 9 ms), no
/// `platform` but on macOS; `q` writes a JSON string, escaping quotes, backslashes and control
/// characters as `\uXXXX`.
const PROBE: &str = r#"
import os, sys, sysconfig
def q(v):
    if v is None:
        return "null"
    if v is True or v is False:
        return "true" if v else "false"
    return '"' + "".join(c if c not in '"\\' and ord(c) >= 0x20 else "\\u%04x" % ord(c) for c in v) + '"'
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
macos = None
if sys.platform == "darwin":
    import platform
    macos = platform.mac_ver()[0] or None
machine = os.uname().machine if hasattr(os, "uname") else __import__("platform").machine()
print("{" + ", ".join([
    '"executable": ' + q(sys.executable),
    '"version": ' + q("%d.%d.%d" % sys.version_info[:3]),
    '"prefix": ' + q(sys.prefix),
    '"purelib": ' + q(sysconfig.get_path("purelib")),
    '"platlib": ' + q(sysconfig.get_path("platlib")),
    '"in_venv": ' + q(sys.prefix != sys.base_prefix),
    '"externally_managed": ' + q(sys.prefix == sys.base_prefix and os.path.isfile(os.path.join(stdlib, "EXTERNALLY-MANAGED"))),
    '"platform": {' + ", ".join([
        '"sys_platform": ' + q(sys.platform),
        '"machine": ' + q(machine.lower()),
        '"is_32bit": ' + q(sys.maxsize <= 2**32),
        '"glibc": ' + q(glibc),
        '"musl": ' + q(musl),
        '"macos": ' + q(macos),
    ]) + "}",
]) + "}")
"#;

/// The environment to write into, as uv chooses one for `uv pip install`: the interpreter
/// given; else, with `system`, `python3` on PATH; else the project's environment
/// ([`project_env`]). No environment found is an error with the fix, never a silent fall back
/// to whatever `python3` is on PATH (that is the user's global site-packages).
pub fn find_environment(given: Option<&Path>, system: bool) -> Result<PathBuf, PythonError> {
    if let Some(p) = given.filter(|p| !p.as_os_str().is_empty()) {
        return Ok(p.to_path_buf());
    }
    if system {
        return system_interpreter();
    }
    let cwd = std::env::current_dir().unwrap_or_default();
    match project_env(&cwd)? {
        Some(env) => Ok(env.interpreter),
        None => Err(PythonError::NoEnvironment {
            cwd: cwd.display().to_string(),
        }),
    }
}

/// The interpreter to write into without `--system`: see [`find_environment`].
pub fn choose_interpreter(given: Option<&Path>) -> Result<PathBuf, PythonError> {
    find_environment(given, false)
}

/// An interpreter to ask a question of (pip's default index), never to write into: the one
/// given, else the project's environment, else `python3` on PATH.
pub fn interpreter_to_ask(given: Option<&Path>) -> Result<PathBuf, PythonError> {
    let cwd = std::env::current_dir().unwrap_or_default();
    match given.filter(|p| !p.as_os_str().is_empty()) {
        Some(p) => Ok(p.to_path_buf()),
        None => match project_env(&cwd) {
            Ok(Some(env)) => Ok(env.interpreter),
            _ => system_interpreter(),
        },
    }
}

/// `python3` (`python.exe` on Windows) on PATH.
fn system_interpreter() -> Result<PathBuf, PythonError> {
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

/// Why `dir` is not a usable virtual environment, if it is not: it must exist, hold a
/// `pyvenv.cfg` (what makes a directory a virtual environment, PEP 405) and its interpreter.
fn not_a_venv(dir: &Path) -> Option<&'static str> {
    if !dir.is_dir() {
        Some("does not exist")
    } else if !dir.join("pyvenv.cfg").is_file() {
        Some("is not a virtual environment (it has no `pyvenv.cfg`)")
    } else if !env_python(dir).is_file() {
        Some("has no interpreter")
    } else {
        None
    }
}

/// The environment uv would use: the active one (`VIRTUAL_ENV`), else a `.venv` directory in
/// `cwd` or the nearest parent that has one. As in uv, what is found must be a virtual
/// environment: a `VIRTUAL_ENV` that names nothing (left over from a deleted venv) or a `.venv`
/// without a `pyvenv.cfg` is an error naming it, not a reason to look further. `Ok(None)`:
/// neither is there.
pub fn project_env(cwd: &Path) -> Result<Option<FoundEnv>, PythonError> {
    if let Some(venv) = std::env::var_os("VIRTUAL_ENV").filter(|v| !v.is_empty()) {
        let dir = PathBuf::from(venv);
        if let Some(why) = not_a_venv(&dir) {
            return Err(PythonError::BadVirtualEnv {
                path: dir.display().to_string(),
                why,
            });
        }
        return Ok(Some(FoundEnv {
            interpreter: env_python(&dir),
            from: "VIRTUAL_ENV".into(),
        }));
    }
    let Some(venv) = cwd
        .ancestors()
        .map(|dir| dir.join(".venv"))
        .find(|venv| venv.is_dir())
    else {
        return Ok(None);
    };
    if let Some(why) = not_a_venv(&venv) {
        return Err(PythonError::BadDotVenv {
            path: venv.display().to_string(),
            why,
        });
    }
    Ok(Some(FoundEnv {
        interpreter: env_python(&venv),
        from: venv.display().to_string(),
    }))
}

/// Ask the interpreter where it installs things.
pub fn probe(interpreter: &Path) -> Result<PythonEnv, PythonError> {
    start_probe(interpreter)?.finish()
}

/// Start the interpreter on the probe and return while it runs: the caller does what does not
/// depend on the answer meanwhile, then [`Probing::finish`] collects it.
pub fn start_probe(interpreter: &Path) -> Result<Probing, PythonError> {
    let shown = interpreter.display().to_string();
    tracing::debug!(program = %shown, "starting the interpreter to probe its environment");
    let child = Command::new(interpreter)
        .args(["-I", "-c", PROBE])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|source| PythonError::Run {
            interpreter: shown.clone(),
            source,
        })?;
    Ok(Probing { child, shown })
}

/// An interpreter answering the probe ([`start_probe`]).
#[derive(Debug)]
pub struct Probing {
    child: std::process::Child,
    shown: String,
}

impl Probing {
    /// Wait for the interpreter's answer.
    pub fn finish(self) -> Result<PythonEnv, PythonError> {
        let Probing { child, shown } = self;
        let out = child
            .wait_with_output()
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
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The probe writes its JSON by hand: a path with a quote, a backslash and a tab in it
    /// comes back as it is. Skipped where no Python 3 is on PATH.
    #[test]
    #[cfg(unix)]
    fn the_probe_s_json_carries_any_path() {
        let Some(python3) = crate::fs::which("python3", std::env::var_os("PATH").as_deref()) else {
            return;
        };
        // The real interpreter (not a version manager's shim), linked from a strange place.
        let Ok(out) = Command::new(&python3)
            .args(["-c", "import sys; print(sys.executable)"])
            .output()
        else {
            return;
        };
        let real = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let dir = tempfile::tempdir().unwrap();
        let odd = dir.path().join("we\"ird\\dir\twith tab");
        std::fs::create_dir_all(&odd).unwrap();
        let link = odd.join("python3");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let env = probe(&link).unwrap();
        assert_eq!(env.executable, link.display().to_string());
        assert!(!env.version.is_empty());
        assert!(!env.platform.machine.is_empty());
    }
}
