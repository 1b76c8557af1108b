//! The app-server child process: how it is started, and how it is made to end.
//!
//! The child is owned: stdin and stdout are piped for the session, stderr is drained
//! continuously into a bounded buffer (so the child can never block on a full pipe) whose tail
//! goes into errors, and `kill_on_drop` reaps it on every exit path, including timeouts and
//! Ctrl-C.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::process::{Child, ChildStdin, ChildStdout};

use super::AppServerError as Error;

/// How much of the child's stderr to keep.
const STDERR_TAIL: usize = 16 * 1024;
/// How many lines of that tail an error shows.
const TAIL_LINES: usize = 20;

/// How to start `codex app-server`.
#[derive(Debug, Clone, Default)]
pub struct SpawnOptions {
    pub codex: PathBuf,
    /// Prepended to PATH (the package's `codex-path/`, which holds `rg`).
    pub path_dir: Option<PathBuf>,
    /// `key=value` overrides, passed as `-c` before `app-server`.
    pub config: Vec<String>,
    pub codex_home: Option<PathBuf>,
    pub cwd: Option<PathBuf>,
}

/// A running `codex app-server`, without its stdin and stdout (the session has those).
pub(crate) struct Process {
    child: Child,
    stderr: Arc<Mutex<Tail>>,
    stderr_task: Option<tokio::task::JoinHandle<()>>,
}

/// The pipes a session talks through.
pub(crate) struct Pipes {
    pub stdout: ChildStdout,
    pub stdin: ChildStdin,
}

impl Process {
    /// Start `codex [-c k=v]... app-server --listen stdio://`, with `path_dir` first on PATH,
    /// in the app-server's environment of [`crate::child_env`] (the model's credentials and
    /// the proxy, none of our own secrets).
    pub(crate) fn spawn(opts: &SpawnOptions) -> Result<(Process, Pipes), Error> {
        let env = crate::child_env::for_app_server(&opts.config, opts.codex_home.as_deref());
        let mut cmd = tokio::process::Command::new(&opts.codex);
        cmd.env_clear().envs(env.iter().map(|(k, v)| (k, v)));
        for kv in &opts.config {
            cmd.arg("-c").arg(kv);
        }
        cmd.args(["app-server", "--listen", "stdio://"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        if let Some(path) = opts
            .path_dir
            .as_deref()
            .and_then(crate::fs::path_with_first)
        {
            cmd.env("PATH", path);
        }
        if let Some(home) = &opts.codex_home {
            cmd.env("CODEX_HOME", home);
        }
        if let Some(cwd) = &opts.cwd {
            cmd.current_dir(cwd);
        }
        // Override values may hold secrets (a provider's key): only their keys are logged.
        let overrides: Vec<&str> = opts
            .config
            .iter()
            .map(|kv| kv.split_once('=').map_or(kv.as_str(), |(k, _)| k))
            .collect();
        tracing::debug!(
            program = %opts.codex.display(),
            ?overrides,
            env = ?crate::child_env::names(&env),
            codex_home = opts.codex_home.as_ref().map(|h| h.display().to_string()),
            "starting `codex app-server`"
        );
        let mut child = cmd.spawn().map_err(|source| Error::Spawn {
            program: opts.codex.display().to_string(),
            source,
        })?;
        tracing::debug!(pid = child.id(), "app-server started");
        let (Some(stdin), Some(stdout), Some(mut stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err(Error::Io(std::io::Error::other(
                "the child's pipes are missing",
            )));
        };
        let tail = Arc::new(Mutex::new(Tail::default()));
        let sink = tail.clone();
        let stderr_task = tokio::spawn(async move {
            let mut buf = vec![0u8; 8192];
            while let Ok(n) = stderr.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                if let Ok(mut t) = sink.lock() {
                    t.push(&buf[..n]);
                }
            }
        });
        let process = Process {
            child,
            stderr: tail,
            stderr_task: Some(stderr_task),
        };
        Ok((process, Pipes { stdout, stdin }))
    }

    /// The last lines the child wrote to stderr, without terminal colours.
    pub(crate) fn stderr_tail(&self) -> String {
        let bytes: Vec<u8> = self
            .stderr
            .lock()
            .map(|t| t.0.iter().copied().collect())
            .unwrap_or_default();
        let text = strip_ansi(&String::from_utf8_lossy(&bytes));
        // Keep whole lines, and not too many of them.
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n")
    }

    /// Wait briefly for the child to exit and its stderr to drain, so errors show why it died;
    /// its exit status, if it did exit.
    pub(crate) async fn settle(&mut self) -> Option<String> {
        let status = tokio::time::timeout(Duration::from_secs(2), self.child.wait())
            .await
            .ok()
            .and_then(Result::ok)
            .map(|s| s.to_string());
        if let Some(task) = self.stderr_task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(1), task).await;
        }
        status
    }

    /// The error for a session whose peer went away: the exit status when the child exited,
    /// and the tail of its stderr either way.
    pub(crate) async fn closed(&mut self) -> Error {
        let status = self.settle().await;
        let stderr_tail = self.stderr_tail();
        match status {
            Some(status) => Error::Exited {
                status,
                stderr_tail,
            },
            None => Error::Eof { stderr_tail },
        }
    }

    /// Give the child (whose stdin is closed) a moment to exit, then kill it.
    pub(crate) async fn shutdown(&mut self) {
        if tokio::time::timeout(Duration::from_millis(500), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }

    /// Kill the child now (timeouts, Ctrl-C) and reap it.
    pub(crate) async fn kill(&mut self) {
        let _ = self.child.kill().await;
    }
}

/// A bounded tail of the child's stderr, shared with the drain task.
#[derive(Debug, Default)]
struct Tail(VecDeque<u8>);

impl Tail {
    fn push(&mut self, bytes: &[u8]) {
        self.0.extend(bytes);
        let excess = self.0.len().saturating_sub(STDERR_TAIL);
        self.0.drain(..excess);
    }
}

/// Remove terminal colour sequences (`ESC [ ... letter`) that codex's logger writes.
fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            for n in chars.by_ref() {
                if n.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ansi_colours_are_stripped_from_the_stderr_tail() {
        assert_eq!(
            strip_ansi("\u{1b}[2m2026\u{1b}[0m \u{1b}[31mERROR\u{1b}[0m x"),
            "2026 ERROR x"
        );
    }

    #[test]
    fn the_tail_keeps_the_last_bytes_only() {
        let mut t = Tail::default();
        t.push(&vec![b'a'; STDERR_TAIL]);
        t.push(b"end");
        assert_eq!(t.0.len(), STDERR_TAIL);
        assert!(t.0.iter().rev().take(3).eq(b"dne".iter()));
    }
}
