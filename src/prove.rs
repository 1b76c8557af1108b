//! prove: run a runtime's `codex --version` and read the version it reports.
//!
//! One way to run it, for every caller: `install` proves a staged runtime before publishing it
//! ([`codex_version`], async, inside the install's runtime), `doctor` checks the installed one
//! and any `codex` on PATH ([`codex_version_blocking`], no async runtime needed). Both build the
//! command in [`command`] and read the answer as a [`VersionOutput`]; each caller decides what
//! a failure means for it.
//!
//! Every codex run writes helper files into `CODEX_HOME` (`tmp/arg0/codex-arg0*/`), so each run
//! gets a private one, removed afterwards: proving a runtime never touches the user's.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::error::Hint;
use crate::pin::CodexVersion;

/// Why `codex --version` gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum VersionError {
    #[error("could not create a private CODEX_HOME to run `{program}` in")]
    ScratchHome {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("could not run `{program}`")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("could not read the output of `{program}`")]
    Output {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{program} --version` did not finish within {secs}s")]
    TimedOut { program: String, secs: u64 },
}

impl VersionError {
    /// The underlying I/O error; a timeout as `TimedOut`.
    pub(crate) fn into_io(self) -> std::io::Error {
        match self {
            VersionError::ScratchHome { source, .. }
            | VersionError::Spawn { source, .. }
            | VersionError::Output { source, .. } => source,
            e @ VersionError::TimedOut { .. } => {
                std::io::Error::new(std::io::ErrorKind::TimedOut, e.to_string())
            }
        }
    }
}

impl Hint for VersionError {
    fn hint(&self) -> Option<String> {
        Some(match self {
            VersionError::ScratchHome { .. } => "the temporary directory must be writable: check TMPDIR".into(),
            _ => "the binary cannot run on this machine: check `--target` and `codex-bootstrap doctor`".into(),
        })
    }
}

/// What `codex --version` answered, whether it succeeded or not.
#[derive(Debug, Clone)]
pub(crate) struct VersionOutput {
    pub status: std::process::ExitStatus,
    /// Stdout, trimmed: `codex-cli 0.163.0`.
    pub stdout: String,
    pub stderr: String,
}

impl VersionOutput {
    fn from_output(out: Output) -> VersionOutput {
        VersionOutput {
            status: out.status,
            stdout: String::from_utf8_lossy(&out.stdout).trim().to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    pub(crate) fn success(&self) -> bool {
        self.status.success()
    }

    /// The version it reports, if it reports one.
    pub(crate) fn version(&self) -> Option<CodexVersion> {
        reported_version(&self.stdout)
    }
}

/// The version token of `codex-cli 0.163.0`.
pub(crate) fn reported_version(output: &str) -> Option<CodexVersion> {
    output
        .split_whitespace()
        .last()
        .and_then(|v| CodexVersion::parse(v).ok())
}

/// `exe --version` in `codex_home`, with no input, both outputs captured, and the minimal
/// environment of [`crate::child_env`]: no token, proxy or model credential reaches it.
pub(crate) fn command(exe: &Path, codex_home: &Path) -> Command {
    let mut cmd = Command::new(exe);
    cmd.arg("--version")
        .env_clear()
        .envs(crate::child_env::for_child(
            crate::child_env::Child::Version,
            &[],
        ))
        .env("CODEX_HOME", codex_home)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

fn program(exe: &Path) -> String {
    exe.display().to_string()
}

/// A private CODEX_HOME for one run, removed when dropped.
fn scratch_home(exe: &Path) -> Result<tempfile::TempDir, VersionError> {
    tempfile::Builder::new()
        .prefix("codex-bootstrap-home-")
        .tempdir()
        .map_err(|source| VersionError::ScratchHome {
            program: program(exe),
            source,
        })
}

/// Run `exe --version` within `timeout`; the child is killed if it takes longer.
pub(crate) async fn codex_version(
    exe: &Path,
    timeout: Duration,
) -> Result<VersionOutput, VersionError> {
    tracing::debug!(program = %exe.display(), "starting `codex --version`");
    let home = scratch_home(exe)?;
    let mut cmd = tokio::process::Command::from(command(exe, home.path()));
    cmd.kill_on_drop(true);
    let child = cmd.spawn().map_err(|source| VersionError::Spawn {
        program: program(exe),
        source,
    })?;
    match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(Ok(out)) => Ok(VersionOutput::from_output(out)),
        Ok(Err(source)) => Err(VersionError::Output {
            program: program(exe),
            source,
        }),
        Err(_) => Err(VersionError::TimedOut {
            program: program(exe),
            secs: timeout.as_secs(),
        }),
    }
}

/// [`codex_version`] for callers without an async runtime.
pub(crate) fn codex_version_blocking(
    exe: &Path,
    timeout: Duration,
) -> Result<VersionOutput, VersionError> {
    tracing::debug!(program = %exe.display(), "starting `codex --version`");
    let home = scratch_home(exe)?;
    let mut child = command(exe, home.path())
        .spawn()
        .map_err(|source| VersionError::Spawn {
            program: program(exe),
            source,
        })?;
    // `--version` prints one line: it cannot fill a pipe, so waiting before reading is safe.
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(VersionError::TimedOut {
                    program: program(exe),
                    secs: timeout.as_secs(),
                });
            }
        }
    }
    let out = child
        .wait_with_output()
        .map_err(|source| VersionError::Output {
            program: program(exe),
            source,
        })?;
    Ok(VersionOutput::from_output(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reported_versions() {
        assert_eq!(
            reported_version("codex-cli 0.163.0").unwrap().to_string(),
            "0.163.0"
        );
        assert!(reported_version("garbage").is_none());
    }

    #[cfg(unix)]
    fn script(dir: &Path, body: &str) -> std::path::PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join("codex");
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    /// Run `f` again while the script is still open for writing in a child that another test
    /// thread forked meanwhile (ETXTBSY): a test-only race, not one users meet.
    #[cfg(unix)]
    fn retry_busy<T>(mut f: impl FnMut() -> Result<T, VersionError>) -> Result<T, VersionError> {
        for _ in 0..100 {
            match f() {
                Err(VersionError::Spawn { source, .. })
                    if source.raw_os_error() == Some(libc::ETXTBSY) =>
                {
                    std::thread::sleep(Duration::from_millis(10))
                }
                other => return other,
            }
        }
        f()
    }

    #[cfg(unix)]
    #[test]
    fn both_ways_read_the_same_answer() {
        let dir = tempfile::tempdir().unwrap();
        let exe = script(dir.path(), "echo \"codex-cli 0.163.0\"; echo warm >&2");
        let blocking =
            retry_busy(|| codex_version_blocking(&exe, Duration::from_secs(10))).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let asynchronous =
            retry_busy(|| rt.block_on(codex_version(&exe, Duration::from_secs(10)))).unwrap();
        for out in [blocking, asynchronous] {
            assert!(out.success());
            assert_eq!(out.stdout, "codex-cli 0.163.0");
            assert_eq!(out.version().unwrap().to_string(), "0.163.0");
            assert_eq!(out.stderr.trim(), "warm");
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_hang_is_a_timeout_and_a_missing_binary_a_spawn_error() {
        let dir = tempfile::tempdir().unwrap();
        let exe = script(dir.path(), "exec sleep 30");
        let e =
            retry_busy(|| codex_version_blocking(&exe, Duration::from_millis(100))).unwrap_err();
        assert!(matches!(e, VersionError::TimedOut { secs: 0, .. }), "{e}");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let e = retry_busy(|| rt.block_on(codex_version(&exe, Duration::from_millis(100))))
            .unwrap_err();
        assert_eq!(e.into_io().kind(), std::io::ErrorKind::TimedOut);
        let e =
            codex_version_blocking(&dir.path().join("absent"), Duration::from_secs(1)).unwrap_err();
        assert!(matches!(e, VersionError::Spawn { .. }), "{e}");
    }
}
