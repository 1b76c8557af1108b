//! The client: spawn (or connect to) an app-server, send requests and match their responses
//! through a pending map, answer every server request, and run one turn to `turn/completed`.
//!
//! The child is owned: stdin and stdout are piped, stderr is drained continuously into a
//! bounded buffer (so the child can never block on a full pipe) whose tail goes into errors,
//! and `kill_on_drop` reaps it on every exit path, including timeouts and Ctrl-C.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{json, Value};
use tokio::io::{AsyncBufRead, AsyncReadExt, AsyncWrite, BufReader};

use super::msg::{Message, RequestId, RpcError, METHOD_NOT_FOUND, SERVER_OVERLOADED};
use super::transport::{self, ProtocolError, Reader};
use super::AppServerError as Error;

/// How much of the child's stderr to keep.
const STDERR_TAIL: usize = 16 * 1024;
/// Attempts for a request the server answers with "overloaded".
const OVERLOAD_ATTEMPTS: u32 = 5;

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

/// What `initialize` told us.
#[derive(Debug, Clone, Serialize)]
pub struct ServerInfo {
    pub user_agent: String,
    pub codex_home: Option<String>,
    pub platform_os: Option<String>,
}

impl ServerInfo {
    /// The runtime version inside the user agent (`codex_bootstrap/0.163.0 (...)`).
    pub fn runtime_version(&self) -> Option<String> {
        let first = self.user_agent.split_whitespace().next()?;
        let v = first.rsplit('/').next()?;
        v.chars().next()?.is_ascii_digit().then(|| v.to_string())
    }
}

/// What `account/read` told us.
#[derive(Debug, Clone, Serialize)]
pub struct AccountInfo {
    pub requires_openai_auth: bool,
    /// `apiKey`, `chatgpt`, ... when an account is configured.
    pub account_type: Option<String>,
}

/// Token usage as the server reports it (camelCase on the wire, snake_case in our JSON).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all(deserialize = "camelCase"), default)]
pub struct Usage {
    pub input_tokens: u64,
    pub cached_input_tokens: u64,
    pub output_tokens: u64,
    pub reasoning_output_tokens: u64,
    pub total_tokens: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum TurnStatus {
    Completed,
    Interrupted,
    Failed,
    InProgress,
}

/// The outcome of one turn.
#[derive(Debug, Clone, Serialize)]
pub struct TurnResult {
    pub thread_id: String,
    pub turn_id: String,
    pub status: TurnStatus,
    pub final_response: Option<String>,
    pub items: Vec<Value>,
    pub usage: Option<Usage>,
    pub error: Option<String>,
    #[serde(rename = "duration_ms", serialize_with = "millis")]
    pub duration: Duration,
    /// Whether any `item/agentMessage/delta` arrived (else the text came whole).
    #[serde(skip)]
    pub streamed: bool,
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u128(d.as_millis())
}

/// What happens during a turn, for the caller to show.
#[derive(Debug, Clone)]
pub enum Event<'a> {
    /// A piece of the assistant's reply.
    Delta(&'a str),
    /// A whole assistant message that arrived without deltas.
    Message(&'a str),
    /// A transient error the server will retry.
    Warning(&'a str),
    /// A server request we declined or refused, by method.
    Declined(&'a str),
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

type BoxRead = Box<dyn AsyncBufRead + Unpin + Send>;
type BoxWrite = Box<dyn AsyncWrite + Unpin + Send>;

pub struct AppServer {
    reader: Reader<BoxRead>,
    writer: BoxWrite,
    next_id: i64,
    /// Requests sent and not yet answered: id -> method.
    pending: HashMap<RequestId, String>,
    /// Responses that arrived while we were waiting for another one.
    completed: HashMap<RequestId, Result<Value, RpcError>>,
    notifications: VecDeque<(String, Value)>,
    child: Option<tokio::process::Child>,
    stderr: Arc<Mutex<Tail>>,
    stderr_task: Option<tokio::task::JoinHandle<()>>,
    /// Server requests we declined, by method, reported through [`Event::Declined`].
    declined: Vec<String>,
}

impl AppServer {
    /// Start `codex [-c k=v]... app-server --listen stdio://`.
    pub fn spawn(opts: &SpawnOptions) -> Result<AppServer, Error> {
        let mut cmd = tokio::process::Command::new(&opts.codex);
        for kv in &opts.config {
            cmd.arg("-c").arg(kv);
        }
        cmd.args(["app-server", "--listen", "stdio://"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        if let Some(dir) = &opts.path_dir {
            let mut paths = vec![dir.clone()];
            if let Some(old) = std::env::var_os("PATH") {
                paths.extend(std::env::split_paths(&old).filter(|p| p != dir));
            }
            if let Ok(joined) = std::env::join_paths(paths) {
                cmd.env("PATH", joined);
            }
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
        let mut server = AppServer::connect(BufReader::new(stdout), stdin);
        server.child = Some(child);
        server.stderr = tail;
        server.stderr_task = Some(stderr_task);
        Ok(server)
    }

    /// A client over any reader/writer pair (tests use `tokio::io::duplex`).
    pub fn connect(
        reader: impl AsyncBufRead + Unpin + Send + 'static,
        writer: impl AsyncWrite + Unpin + Send + 'static,
    ) -> AppServer {
        AppServer {
            reader: Reader::new(Box::new(reader)),
            writer: Box::new(writer),
            next_id: 0,
            pending: HashMap::new(),
            completed: HashMap::new(),
            notifications: VecDeque::new(),
            child: None,
            stderr: Arc::new(Mutex::new(Tail::default())),
            stderr_task: None,
            declined: Vec::new(),
        }
    }

    /// The last lines the child wrote to stderr.
    pub fn stderr_tail(&self) -> String {
        let bytes: Vec<u8> = self
            .stderr
            .lock()
            .map(|t| t.0.iter().copied().collect())
            .unwrap_or_default();
        let text = strip_ansi(&String::from_utf8_lossy(&bytes));
        // Keep whole lines, and not too many of them.
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Wait briefly for the child to exit and its stderr to drain, so errors show why it died.
    async fn settle_child(&mut self) -> Option<String> {
        let status = match self.child.as_mut() {
            Some(child) => tokio::time::timeout(Duration::from_secs(2), child.wait())
                .await
                .ok()
                .and_then(Result::ok)
                .map(|s| s.to_string()),
            None => None,
        };
        if let Some(task) = self.stderr_task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(1), task).await;
        }
        status
    }

    async fn eof(&mut self) -> Error {
        let status = self.settle_child().await;
        let stderr_tail = self.stderr_tail();
        match status {
            Some(status) => Error::Exited {
                status,
                stderr_tail,
            },
            None => Error::Eof { stderr_tail },
        }
    }

    /// Errors that should carry the child's stderr get it attached here.
    pub fn with_stderr(&self, e: Error) -> Error {
        match e {
            Error::TurnFailed { message, .. } => Error::TurnFailed {
                message,
                stderr_tail: self.stderr_tail(),
            },
            Error::Timeout { secs, .. } => Error::Timeout {
                secs,
                stderr_tail: self.stderr_tail(),
            },
            other => other,
        }
    }

    async fn send(&mut self, m: &Message) -> Result<(), Error> {
        match transport::write(&mut self.writer, m).await {
            Ok(()) => Ok(()),
            // A closed pipe means the child is gone: report why.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(self.eof().await),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn notify(&mut self, method: &str, params: Value) -> Result<(), Error> {
        self.send(&Message::Notification {
            method: method.to_string(),
            params,
        })
        .await
    }

    /// Send a request and wait for its response, retrying "overloaded" with backoff.
    pub async fn request(&mut self, method: &str, params: Value) -> Result<Value, Error> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.request_once(method, params.clone()).await? {
                Ok(v) => return Ok(v),
                Err(e) if e.code == SERVER_OVERLOADED && attempt < OVERLOAD_ATTEMPTS => {
                    tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
                }
                Err(error) => {
                    return Err(Error::Response {
                        method: method.to_string(),
                        error,
                    })
                }
            }
        }
    }

    async fn request_once(
        &mut self,
        method: &str,
        params: Value,
    ) -> Result<Result<Value, RpcError>, Error> {
        self.next_id += 1;
        let id = RequestId::Int(self.next_id);
        self.pending.insert(id.clone(), method.to_string());
        self.send(&Message::Request {
            id: id.clone(),
            method: method.to_string(),
            params,
        })
        .await?;
        loop {
            if let Some(r) = self.completed.remove(&id) {
                return Ok(r);
            }
            self.pump().await?;
        }
    }

    /// Read one message and route it: responses complete their request, server requests are
    /// answered at once, notifications are queued.
    async fn pump(&mut self) -> Result<(), Error> {
        let Some(msg) = self.reader.read().await? else {
            return Err(self.eof().await);
        };
        match msg {
            Message::Response { id, result } => {
                if self.pending.remove(&id).is_none() {
                    return Err(ProtocolError::UnknownResponse { id: id.to_string() }.into());
                }
                self.completed.insert(id, result);
            }
            Message::Request { id, method, params } => {
                let result = answer_server_request(&method, &params);
                self.declined.push(method);
                self.send(&Message::Response { id, result }).await?;
            }
            Message::Notification { method, params } => {
                self.notifications.push_back((method, params));
            }
        }
        Ok(())
    }

    /// The next notification, answering server requests meanwhile.
    pub async fn next_notification(&mut self) -> Result<(String, Value), Error> {
        loop {
            if let Some(n) = self.notifications.pop_front() {
                return Ok(n);
            }
            self.pump().await?;
        }
    }

    /// `initialize` then `initialized`.
    pub async fn initialize(&mut self) -> Result<ServerInfo, Error> {
        let r = self
            .request(
                "initialize",
                json!({
                    "clientInfo": {
                        "name": "codex_bootstrap",
                        "title": "codex-bootstrap",
                        "version": env!("CARGO_PKG_VERSION"),
                    },
                    "capabilities": {"experimentalApi": false},
                }),
            )
            .await?;
        self.notify("initialized", Value::Null).await?;
        let s = |k: &str| r.get(k).and_then(Value::as_str).map(str::to_string);
        Ok(ServerInfo {
            user_agent: s("userAgent").unwrap_or_default(),
            codex_home: s("codexHome"),
            platform_os: s("platformOs"),
        })
    }

    /// `account/read`.
    pub async fn account(&mut self) -> Result<AccountInfo, Error> {
        let r = self.request("account/read", json!({})).await?;
        Ok(AccountInfo {
            requires_openai_auth: r
                .get("requiresOpenaiAuth")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            account_type: r
                .pointer("/account/type")
                .and_then(Value::as_str)
                .map(str::to_string),
        })
    }

    /// `thread/start`, read-only and without approvals; returns the thread id.
    pub async fn start_thread(
        &mut self,
        cwd: &std::path::Path,
        model: Option<&str>,
    ) -> Result<String, Error> {
        let mut params = json!({
            "cwd": cwd.display().to_string(),
            "approvalPolicy": "never",
            "sandbox": "read-only",
            "ephemeral": true,
        });
        if let Some(m) = model {
            params["model"] = json!(m);
        }
        let r = self.request("thread/start", params).await?;
        r.pointer("/thread/id")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| {
                ProtocolError::Malformed {
                    line: 0,
                    excerpt: format!("thread/start result without thread.id: {r}"),
                }
                .into()
            })
    }

    /// `turn/start` and follow the turn to `turn/completed`.
    pub async fn run_turn(
        &mut self,
        thread_id: &str,
        text: &str,
        mut on_event: impl FnMut(Event<'_>),
    ) -> Result<TurnResult, Error> {
        let started = Instant::now();
        let r = self
            .request(
                "turn/start",
                json!({"threadId": thread_id, "input": [{"type": "text", "text": text}]}),
            )
            .await?;
        let turn_id = r
            .pointer("/turn/id")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| ProtocolError::Malformed {
                line: 0,
                excerpt: format!("turn/start result without turn.id: {r}"),
            })?;
        let mut result = TurnResult {
            thread_id: thread_id.to_string(),
            turn_id: turn_id.clone(),
            status: TurnStatus::InProgress,
            final_response: None,
            items: Vec::new(),
            usage: None,
            error: None,
            duration: Duration::ZERO,
            streamed: false,
        };
        let mut deltas = String::new();
        loop {
            for method in std::mem::take(&mut self.declined) {
                on_event(Event::Declined(&method));
            }
            let (method, params) = self.next_notification().await?;
            // Notifications of other turns (or threads) are not ours to report.
            let ours = params.get("turnId").and_then(Value::as_str) == Some(turn_id.as_str())
                || params.pointer("/turn/id").and_then(Value::as_str) == Some(turn_id.as_str());
            if !ours {
                continue;
            }
            match method.as_str() {
                "item/agentMessage/delta" => {
                    if let Some(d) = params.get("delta").and_then(Value::as_str) {
                        result.streamed = true;
                        deltas.push_str(d);
                        on_event(Event::Delta(d));
                    }
                }
                "item/completed" => {
                    if let Some(item) = params.get("item") {
                        if item.get("type").and_then(Value::as_str) == Some("agentMessage") {
                            let text = item.get("text").and_then(Value::as_str).unwrap_or_default();
                            if !result.streamed {
                                on_event(Event::Message(text));
                            }
                            result.final_response = Some(text.to_string());
                        }
                        result.items.push(item.clone());
                    }
                }
                "thread/tokenUsage/updated" => {
                    result.usage = params
                        .pointer("/tokenUsage/total")
                        .and_then(|u| serde_json::from_value(u.clone()).ok());
                }
                "error" => {
                    let message = params
                        .pointer("/error/message")
                        .and_then(Value::as_str)
                        .unwrap_or("unknown error")
                        .to_string();
                    if params.get("willRetry").and_then(Value::as_bool) == Some(true) {
                        on_event(Event::Warning(&message));
                    } else {
                        result.error = Some(message);
                    }
                }
                "turn/completed" => {
                    let turn = params.get("turn").cloned().unwrap_or_default();
                    result.status = match turn.get("status").and_then(Value::as_str) {
                        Some("completed") => TurnStatus::Completed,
                        Some("interrupted") => TurnStatus::Interrupted,
                        Some("failed") => TurnStatus::Failed,
                        _ => TurnStatus::InProgress,
                    };
                    if let Some(m) = turn.pointer("/error/message").and_then(Value::as_str) {
                        result.error = Some(m.to_string());
                    }
                    if result.final_response.is_none() && !deltas.is_empty() {
                        result.final_response = Some(deltas);
                    }
                    result.duration = started.elapsed();
                    return Ok(result);
                }
                _ => {}
            }
        }
    }

    /// Close stdin and give the child a moment to exit; it is killed when dropped anyway.
    pub async fn shutdown(mut self) {
        drop(std::mem::replace(
            &mut self.writer,
            Box::new(tokio::io::sink()),
        ));
        if let Some(child) = self.child.as_mut() {
            if tokio::time::timeout(Duration::from_millis(500), child.wait())
                .await
                .is_err()
            {
                let _ = child.kill().await;
            }
        }
    }

    /// Kill the child now (timeouts, Ctrl-C) and reap it.
    pub async fn kill(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill().await;
        }
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

/// The answer to a server request: decline approvals (this client never lets the agent act),
/// refuse what we do not implement. Never leave one hanging: the turn would stall.
fn answer_server_request(method: &str, _params: &Value) -> Result<Value, RpcError> {
    match method {
        "item/commandExecution/requestApproval" | "item/fileChange/requestApproval" => {
            Ok(json!({"decision": "decline"}))
        }
        // The v1 approval requests spell it differently.
        "execCommandApproval" | "applyPatchApproval" => Ok(json!({"decision": "denied"})),
        _ => Err(RpcError {
            code: METHOD_NOT_FOUND,
            message: format!("codex-bootstrap does not handle `{method}`"),
            data: None,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

    /// A scripted peer over `tokio::io::duplex`: reads the client's lines, answers by script.
    async fn peer(
        stream: tokio::io::DuplexStream,
        script: impl Fn(&Value) -> Vec<Value> + Send + 'static,
    ) -> Vec<Value> {
        let (r, mut w) = tokio::io::split(stream);
        let mut lines = tokio::io::BufReader::new(r).lines();
        let mut seen = Vec::new();
        while let Ok(Some(line)) = lines.next_line().await {
            let v: Value = serde_json::from_str(&line).unwrap();
            seen.push(v.clone());
            for out in script(&v) {
                let mut s = out.to_string();
                s.push('\n');
                if w.write_all(s.as_bytes()).await.is_err() {
                    return seen;
                }
            }
        }
        seen
    }

    fn client(stream: tokio::io::DuplexStream) -> AppServer {
        let (r, w) = tokio::io::split(stream);
        AppServer::connect(tokio::io::BufReader::new(r), w)
    }

    fn normal_turn(v: &Value) -> Vec<Value> {
        let id = v.get("id").cloned().unwrap_or(Value::Null);
        match v.get("method").and_then(Value::as_str) {
            Some("initialize") => vec![
                json!({"id": id, "result": {"userAgent": "codex_bootstrap/0.163.0 (Linux)", "codexHome": "/h"}}),
            ],
            Some("thread/start") => vec![json!({"id": id, "result": {"thread": {"id": "th1"}}})],
            Some("turn/start") => vec![
                json!({"id": id, "result": {"turn": {"id": "tu1", "status": "inProgress", "items": []}}}),
                json!({"method": "item/agentMessage/delta", "params": {"threadId": "other", "turnId": "tu0", "itemId": "x", "delta": "NOT OURS"}}),
                json!({"id": 99, "method": "item/commandExecution/requestApproval", "params": {"threadId": "th1", "turnId": "tu1"}}),
                json!({"method": "item/agentMessage/delta", "params": {"threadId": "th1", "turnId": "tu1", "itemId": "m", "delta": "Hel"}}),
                json!({"method": "error", "params": {"threadId": "th1", "turnId": "tu1", "willRetry": true, "error": {"message": "reconnecting"}}}),
                json!({"method": "item/agentMessage/delta", "params": {"threadId": "th1", "turnId": "tu1", "itemId": "m", "delta": "lo"}}),
                json!({"method": "item/completed", "params": {"threadId": "th1", "turnId": "tu1", "completedAtMs": 1, "item": {"type": "agentMessage", "id": "m", "text": "Hello"}}}),
                json!({"method": "thread/tokenUsage/updated", "params": {"threadId": "th1", "turnId": "tu1", "tokenUsage": {"total": {"inputTokens": 3, "cachedInputTokens": 0, "outputTokens": 2, "reasoningOutputTokens": 0, "totalTokens": 5}, "last": {}}}}),
                json!({"method": "turn/completed", "params": {"threadId": "th1", "turn": {"id": "tu1", "status": "completed", "items": []}}}),
            ],
            _ => vec![],
        }
    }

    #[tokio::test]
    async fn a_turn_streams_ours_declines_approvals_and_collects_usage() {
        let (a, b) = tokio::io::duplex(1 << 16);
        let peer = tokio::spawn(peer(b, normal_turn));
        let mut c = client(a);
        let info = c.initialize().await.unwrap();
        assert_eq!(info.runtime_version().as_deref(), Some("0.163.0"));
        let th = c
            .start_thread(std::path::Path::new("/"), None)
            .await
            .unwrap();
        let mut seen = Vec::new();
        let r = c
            .run_turn(&th, "hi", |e| seen.push(format!("{e:?}")))
            .await
            .unwrap();
        assert_eq!(r.status, TurnStatus::Completed);
        assert_eq!(r.final_response.as_deref(), Some("Hello"));
        assert_eq!(r.usage.unwrap().total_tokens, 5);
        let joined = seen.join("|");
        assert!(
            joined.contains("Delta(\"Hel\")") && joined.contains("Warning(\"reconnecting\")"),
            "{joined}"
        );
        assert!(!joined.contains("NOT OURS"));
        drop(c);
        let sent = peer.await.unwrap();
        let answer = sent
            .iter()
            .find(|v| v.get("id") == Some(&json!(99)))
            .unwrap();
        assert_eq!(answer["result"]["decision"], "decline");
        assert!(sent.iter().any(|v| v["method"] == "initialized"));
        assert_eq!(sent[0]["params"]["clientInfo"]["name"], "codex_bootstrap");
    }

    #[tokio::test]
    async fn overloaded_is_retried_and_errors_surface_code_and_message() {
        let (a, b) = tokio::io::duplex(1 << 16);
        let count = Arc::new(Mutex::new(0));
        let n = count.clone();
        tokio::spawn(peer(b, move |v| {
            let id = v.get("id").cloned().unwrap_or(Value::Null);
            let mut k = n.lock().unwrap();
            *k += 1;
            match (*k, v["method"].as_str()) {
                (1, _) => vec![json!({"id": id, "error": {"code": -32001, "message": "busy"}})],
                (2, _) => vec![json!({"id": id, "result": {"ok": true}})],
                (_, Some("bad")) => {
                    vec![json!({"id": id, "error": {"code": -32600, "message": "nope"}})]
                }
                _ => vec![],
            }
        }));
        let mut c = client(a);
        assert_eq!(c.request("x", json!({})).await.unwrap()["ok"], true);
        let e = c.request("bad", json!({})).await.unwrap_err().to_string();
        assert!(e.contains("nope") && e.contains("-32600"), "{e}");
    }

    #[tokio::test]
    async fn malformed_lines_and_eof_are_errors_not_hangs() {
        let (a, b) = tokio::io::duplex(1 << 16);
        tokio::spawn(peer(b, |_| vec![json!("this is not a message")]));
        let mut c = client(a);
        let e = c.request("x", json!({})).await.unwrap_err();
        assert!(e.to_string().contains("line 1"), "{e}");

        let (a, b) = tokio::io::duplex(1 << 16);
        drop(b);
        let mut c = client(a);
        assert!(matches!(
            c.request("x", json!({})).await,
            Err(Error::Eof { .. } | Error::Io(_))
        ));
    }

    #[test]
    fn ansi_colours_are_stripped_from_the_stderr_tail() {
        assert_eq!(
            strip_ansi("\u{1b}[2m2026\u{1b}[0m \u{1b}[31mERROR\u{1b}[0m x"),
            "2026 ERROR x"
        );
    }

    #[test]
    fn unknown_server_requests_get_an_error_not_silence() {
        assert!(answer_server_request("item/tool/requestUserInput", &Value::Null).is_err());
        assert_eq!(
            answer_server_request("execCommandApproval", &Value::Null).unwrap()["decision"],
            "denied"
        );
    }
}
