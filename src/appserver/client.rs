//! The client: an app-server session, spawned (with its process) or connected (tests), that
//! speaks the Codex protocol: `initialize`, `account/read`, `thread/start`, and one turn run to
//! `turn/completed`. [`AppServer::supervise`] is the one scope that starts a server, runs some
//! work against it, and ends the server whichever way the work ends.

use std::future::Future;
use std::path::Path;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{json, Value};
use tokio::io::{AsyncBufRead, AsyncWrite, BufReader};

use super::process::{Process, SpawnOptions};
use super::protocol::{
    self, AccountInfo, AccountRead, ItemKind, ServerInfo, ThreadStarted, TurnNotification,
    TurnStarted, TurnStatus, Usage, RESULT,
};
use super::session::Session;
use super::AppServerError as Error;

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

pub struct AppServer {
    session: Session,
    /// The child, when this client started one.
    process: Option<Process>,
}

impl AppServer {
    /// Start `codex [-c k=v]... app-server --listen stdio://`.
    pub(crate) fn spawn(opts: &SpawnOptions) -> Result<AppServer, Error> {
        let (process, pipes) = Process::spawn(opts)?;
        Ok(AppServer {
            session: Session::new(BufReader::new(pipes.stdout), pipes.stdin),
            process: Some(process),
        })
    }

    /// A client over any reader/writer pair (tests use `tokio::io::duplex`).
    pub fn connect(
        reader: impl AsyncBufRead + Unpin + Send + 'static,
        writer: impl AsyncWrite + Unpin + Send + 'static,
    ) -> AppServer {
        AppServer {
            session: Session::new(reader, writer),
            process: None,
        }
    }

    /// Spawn a server, run `work` against it within `limit` or until `stop` resolves, then shut
    /// the server down when the work succeeded, or kill it and attach the tail of its stderr to
    /// the error when it did not (a timeout is [`Error::Timeout`], `stop` is
    /// [`Error::Interrupted`]).
    pub(crate) async fn supervise<T>(
        opts: &SpawnOptions,
        limit: Duration,
        stop: impl Future<Output = ()>,
        work: impl AsyncFnOnce(&mut AppServer) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut server = AppServer::spawn(opts)?;
        let outcome = tokio::select! {
            r = tokio::time::timeout(limit, work(&mut server)) => r.unwrap_or_else(|_| {
                Err(Error::Timeout { secs: limit.as_secs(), stderr_tail: String::new() })
            }),
            () = stop => Err(Error::Interrupted(crate::interrupt::Interrupted)),
        };
        match outcome {
            Ok(value) => {
                server.shutdown().await;
                Ok(value)
            }
            Err(e) => {
                server.kill().await;
                Err(server.with_stderr(e))
            }
        }
    }

    /// The last lines the child wrote to stderr (empty without a child).
    pub(crate) fn stderr_tail(&self) -> String {
        self.process
            .as_ref()
            .map(Process::stderr_tail)
            .unwrap_or_default()
    }

    /// Errors that should carry the child's stderr get it attached here.
    pub(crate) fn with_stderr(&self, e: Error) -> Error {
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

    /// A session error, with what the process says when the peer went away.
    async fn explain<T>(&mut self, r: Result<T, Error>) -> Result<T, Error> {
        match (r, self.process.as_mut()) {
            (Err(Error::Eof { .. }), Some(process)) => Err(process.closed().await),
            (r, _) => r,
        }
    }

    pub(crate) async fn notify(&mut self, method: &str, params: Value) -> Result<(), Error> {
        let r = self.session.notify(method, params).await;
        self.explain(r).await
    }

    /// Send a request and wait for its response, retrying "overloaded" with backoff.
    pub(crate) async fn request(&mut self, method: &str, params: Value) -> Result<Value, Error> {
        let r = self.session.request(method, params).await;
        self.explain(r).await
    }

    /// The next notification, answering server requests meanwhile.
    pub(crate) async fn next_notification(&mut self) -> Result<(String, Value), Error> {
        let r = self.session.next_notification().await;
        self.explain(r).await
    }

    /// `initialize` then `initialized`.
    pub(crate) async fn initialize(&mut self) -> Result<ServerInfo, Error> {
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
        Ok(protocol::decode("initialize", RESULT, r)?)
    }

    /// `account/read`.
    pub(crate) async fn account(&mut self) -> Result<AccountInfo, Error> {
        let r = self.request("account/read", json!({})).await?;
        let read: AccountRead = protocol::decode("account/read", RESULT, r)?;
        Ok(read.into())
    }

    /// `thread/start`, read-only and without approvals; returns the thread id.
    pub(crate) async fn start_thread(
        &mut self,
        cwd: &Path,
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
        let started: ThreadStarted = protocol::decode("thread/start", RESULT, r)?;
        Ok(started.thread.id)
    }

    /// `turn/start` and follow the turn to `turn/completed`.
    pub(crate) async fn run_turn(
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
        let turn: TurnStarted = protocol::decode("turn/start", RESULT, r)?;
        let turn_id = turn.turn.id;
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
            for method in self.session.take_declined() {
                on_event(Event::Declined(&method));
            }
            let (method, params) = self.next_notification().await?;
            let note = TurnNotification::decode(&method, params)?;
            // Notifications of other turns (or threads) are not ours to report.
            if note.turn_id() != Some(turn_id.as_str()) {
                continue;
            }
            match note {
                TurnNotification::AgentMessageDelta(d) => {
                    result.streamed = true;
                    deltas.push_str(&d.delta);
                    on_event(Event::Delta(&d.delta));
                }
                TurnNotification::ItemCompleted(c) => {
                    if let ItemKind::AgentMessage { text } = c.item.kind {
                        if !result.streamed {
                            on_event(Event::Message(&text));
                        }
                        result.final_response = Some(text);
                    }
                    result.items.push(c.item.raw);
                }
                TurnNotification::TokenUsageUpdated(u) => {
                    result.usage = Some(u.token_usage.total);
                }
                TurnNotification::Error(e) if e.will_retry => on_event(Event::Warning(e.message())),
                TurnNotification::Error(e) => result.error = Some(e.message().to_string()),
                TurnNotification::TurnCompleted(t) => {
                    result.status = t.turn.status;
                    if let Some(m) = t.turn.error.and_then(|e| e.message) {
                        result.error = Some(m);
                    }
                    if result.final_response.is_none() && !deltas.is_empty() {
                        result.final_response = Some(deltas);
                    }
                    result.duration = started.elapsed();
                    return Ok(result);
                }
                TurnNotification::Other => {}
            }
        }
    }

    /// Close stdin and give the child a moment to exit; it is killed when dropped anyway.
    pub(crate) async fn shutdown(mut self) {
        self.session.close_input();
        if let Some(process) = self.process.as_mut() {
            process.shutdown().await;
        }
    }

    /// Kill the child now (timeouts, Ctrl-C) and reap it.
    pub(crate) async fn kill(&mut self) {
        if let Some(process) = self.process.as_mut() {
            process.kill().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::appserver::session::tests::peer;
    use crate::appserver::ProtocolError;

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
        let th = c.start_thread(Path::new("/"), None).await.unwrap();
        let mut seen = Vec::new();
        let r = c
            .run_turn(&th, "hi", |e| seen.push(format!("{e:?}")))
            .await
            .unwrap();
        assert_eq!(r.status, TurnStatus::Completed);
        assert_eq!(r.final_response.as_deref(), Some("Hello"));
        assert_eq!(r.usage.unwrap().total_tokens, 5);
        assert_eq!(r.items.len(), 1);
        let joined = seen.join("|");
        assert!(
            joined.contains("Delta(\"Hel\")")
                && joined.contains("Warning(\"reconnecting\")")
                && joined.contains("Declined(\"item/commandExecution/requestApproval\")"),
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
    async fn a_thread_without_an_id_is_a_protocol_error_naming_the_field() {
        let (a, b) = tokio::io::duplex(1 << 16);
        tokio::spawn(peer(b, |v| {
            vec![json!({"id": v["id"], "result": {"thread": {"name": "no id"}}})]
        }));
        let mut c = client(a);
        let e = c.start_thread(Path::new("/"), None).await.unwrap_err();
        assert!(
            matches!(e, Error::Protocol(ProtocolError::Missing { .. })),
            "{e:?}"
        );
        assert_eq!(e.to_string(), "`thread/start` result has no `thread.id`");
    }

    #[tokio::test]
    async fn a_delta_of_our_turn_without_text_names_the_field() {
        let (a, b) = tokio::io::duplex(1 << 16);
        tokio::spawn(peer(b, |v| match v["method"].as_str() {
            Some("turn/start") => vec![
                json!({"id": v["id"], "result": {"turn": {"id": "tu1"}}}),
                json!({"method": "item/agentMessage/delta", "params": {"turnId": "tu1", "itemId": "m"}}),
            ],
            _ => vec![],
        }));
        let mut c = client(a);
        let e = c.run_turn("th1", "hi", |_| {}).await.unwrap_err();
        assert_eq!(
            e.to_string(),
            "`item/agentMessage/delta` notification has no `delta`"
        );
    }

    #[tokio::test]
    async fn supervise_reports_a_program_that_cannot_start() {
        let opts = SpawnOptions {
            codex: "/nonexistent/codex".into(),
            ..SpawnOptions::default()
        };
        let e = AppServer::supervise(
            &opts,
            Duration::from_secs(5),
            std::future::pending(),
            async |server: &mut AppServer| server.initialize().await,
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&e, Error::Spawn { program, .. } if program == "/nonexistent/codex"),
            "{e:?}"
        );
    }
}
