//! A JSON-RPC session over one reader/writer pair: request ids, the pending-request map, server
//! requests answered at once, notifications queued for the caller, and the pump that reads one
//! message and routes it.
//!
//! The session knows nothing of processes: when the peer goes away (end of stream, or a broken
//! pipe on write) it reports [`Eof`](super::AppServerError::Eof) with an empty stderr tail, and
//! the owner of the process replaces that with what the process says (`client::AppServer`).

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufRead, AsyncWrite};

use super::msg::{Message, RequestId, RpcError, METHOD_NOT_FOUND, SERVER_OVERLOADED};
use super::protocol::ProtocolError;
use super::transport::{self, Reader};
use super::AppServerError as Error;

/// Attempts for a request the server answers with "overloaded".
const OVERLOAD_ATTEMPTS: u32 = 5;

type BoxRead = Box<dyn AsyncBufRead + Unpin + Send>;
type BoxWrite = Box<dyn AsyncWrite + Unpin + Send>;

/// Requests sent and not yet answered, and answers not yet collected.
#[derive(Debug, Default)]
struct Pending {
    next_id: i64,
    /// id -> method, for requests in flight.
    waiting: HashMap<RequestId, String>,
    /// Responses that arrived while the caller was waiting for another one.
    done: HashMap<RequestId, Result<Value, RpcError>>,
}

impl Pending {
    /// A fresh id for a `method` request, remembered until its response comes.
    fn register(&mut self, method: &str) -> RequestId {
        self.next_id += 1;
        let id = RequestId::Int(self.next_id);
        self.waiting.insert(id.clone(), method.to_string());
        id
    }

    /// A response arrived: it must answer a request in flight.
    fn complete(
        &mut self,
        id: RequestId,
        result: Result<Value, RpcError>,
    ) -> Result<(), ProtocolError> {
        if self.waiting.remove(&id).is_none() {
            return Err(ProtocolError::UnknownResponse { id: id.to_string() });
        }
        self.done.insert(id, result);
        Ok(())
    }

    /// The response to `id`, once it has arrived.
    fn take(&mut self, id: &RequestId) -> Option<Result<Value, RpcError>> {
        self.done.remove(id)
    }
}

pub(crate) struct Session {
    reader: Reader<BoxRead>,
    writer: BoxWrite,
    pending: Pending,
    notifications: VecDeque<(String, Value)>,
    /// Server requests declined since the caller last asked, by method.
    declined: Vec<String>,
}

impl Session {
    pub(crate) fn new(
        reader: impl AsyncBufRead + Unpin + Send + 'static,
        writer: impl AsyncWrite + Unpin + Send + 'static,
    ) -> Session {
        Session {
            reader: Reader::new(Box::new(reader)),
            writer: Box::new(writer),
            pending: Pending::default(),
            notifications: VecDeque::new(),
            declined: Vec::new(),
        }
    }

    /// Close our side of the conversation: the peer reads end of stream.
    pub(crate) fn close_input(&mut self) {
        drop(std::mem::replace(
            &mut self.writer,
            Box::new(tokio::io::sink()),
        ));
    }

    async fn send(&mut self, m: &Message) -> Result<(), Error> {
        match transport::write(&mut self.writer, m).await {
            Ok(()) => Ok(()),
            // A closed pipe means the peer is gone.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(closed()),
            Err(e) => Err(e.into()),
        }
    }

    pub(crate) async fn notify(&mut self, method: &str, params: Value) -> Result<(), Error> {
        self.send(&Message::Notification {
            method: method.to_string(),
            params,
        })
        .await
    }

    /// Send a request and wait for its response, retrying "overloaded" with backoff.
    pub(crate) async fn request(&mut self, method: &str, params: Value) -> Result<Value, Error> {
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
        let id = self.pending.register(method);
        self.send(&Message::Request {
            id: id.clone(),
            method: method.to_string(),
            params,
        })
        .await?;
        loop {
            if let Some(r) = self.pending.take(&id) {
                return Ok(r);
            }
            self.pump().await?;
        }
    }

    /// The next notification, answering server requests meanwhile.
    pub(crate) async fn next_notification(&mut self) -> Result<(String, Value), Error> {
        loop {
            if let Some(n) = self.notifications.pop_front() {
                return Ok(n);
            }
            self.pump().await?;
        }
    }

    /// The server requests declined since the last call, by method.
    pub(crate) fn take_declined(&mut self) -> Vec<String> {
        std::mem::take(&mut self.declined)
    }

    /// Read one message and route it: responses complete their request, server requests are
    /// answered at once, notifications are queued.
    async fn pump(&mut self) -> Result<(), Error> {
        let Some(msg) = self.reader.read().await? else {
            return Err(closed());
        };
        match msg {
            Message::Response { id, result } => self.pending.complete(id, result)?,
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
}

/// The peer went away; its owner knows why.
fn closed() -> Error {
    Error::Eof {
        stderr_tail: String::new(),
    }
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
pub(crate) mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

    /// A scripted peer over `tokio::io::duplex`: reads the client's lines, answers by script.
    pub(crate) async fn peer(
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

    fn session(stream: tokio::io::DuplexStream) -> Session {
        let (r, w) = tokio::io::split(stream);
        Session::new(tokio::io::BufReader::new(r), w)
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
        let mut s = session(a);
        assert_eq!(s.request("x", json!({})).await.unwrap()["ok"], true);
        let e = s.request("bad", json!({})).await.unwrap_err().to_string();
        assert!(e.contains("nope") && e.contains("-32600"), "{e}");
    }

    #[tokio::test]
    async fn malformed_lines_and_eof_are_errors_not_hangs() {
        let (a, b) = tokio::io::duplex(1 << 16);
        tokio::spawn(peer(b, |_| vec![json!("this is not a message")]));
        let mut s = session(a);
        let e = s.request("x", json!({})).await.unwrap_err();
        assert!(e.to_string().contains("line 1"), "{e}");

        let (a, b) = tokio::io::duplex(1 << 16);
        drop(b);
        let mut s = session(a);
        assert!(matches!(
            s.request("x", json!({})).await,
            Err(Error::Eof { .. } | Error::Io(_))
        ));
    }

    #[tokio::test]
    async fn a_response_to_no_request_is_a_protocol_error() {
        let (a, b) = tokio::io::duplex(1 << 16);
        tokio::spawn(peer(b, |_| vec![json!({"id": 42, "result": {}})]));
        let mut s = session(a);
        let e = s.request("x", json!({})).await.unwrap_err();
        assert!(
            matches!(e, Error::Protocol(ProtocolError::UnknownResponse { ref id }) if id == "42"),
            "{e}"
        );
    }

    #[test]
    fn pending_requests_complete_once() {
        let mut p = Pending::default();
        let a = p.register("a");
        let b = p.register("b");
        assert_ne!(a, b);
        p.complete(b.clone(), Ok(json!(2))).unwrap();
        assert!(p.take(&a).is_none());
        assert_eq!(p.take(&b), Some(Ok(json!(2))));
        assert!(p.complete(b, Ok(json!(3))).is_err());
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
