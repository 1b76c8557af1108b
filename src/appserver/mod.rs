//! A minimal client for `codex app-server`: newline-delimited JSON-RPC over the child's stdio.
//!
//! Split like rust-analyzer's lsp-server, one concern per file:
//! [`msg`] the JSON-RPC message shapes and error codes, [`transport`] one message per line,
//! [`session`] request ids, the pending map, server requests answered and the read pump,
//! [`process`] the child (spawn, stderr tail, settle, kill), [`protocol`] the Codex messages as
//! typed structs, [`client`] the Codex conversation over a session and the one scope that
//! starts and ends a server ([`AppServer::supervise`]), and [`turn`] one whole turn.

use crate::error::Hint;

pub(crate) mod client;
pub(crate) mod msg;
pub(crate) mod process;
pub(crate) mod protocol;
pub(crate) mod session;
pub(crate) mod transport;
pub(crate) mod turn;

pub use client::{AppServer, Event, TurnResult};
pub use msg::{Message, RequestId, RpcError};
pub use process::SpawnOptions;
pub use protocol::{AccountInfo, ProtocolError, ServerInfo, TurnStatus, Usage};
pub use turn::{local_auth, one_turn, TurnReport};

/// Everything that can go wrong talking to an app-server.
#[derive(Debug, thiserror::Error)]
pub enum AppServerError {
    #[error("could not start `{program}`")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the app-server exited ({status}) before answering{}", stderr_note(.stderr_tail))]
    Exited { status: String, stderr_tail: String },
    #[error("the app-server closed its output{}", stderr_note(.stderr_tail))]
    Eof { stderr_tail: String },
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    #[error("`{method}` failed: {} (code {})", .error.message, .error.code)]
    Response { method: String, error: RpcError },
    #[error("the turn failed: {message}{}", stderr_note(.stderr_tail))]
    TurnFailed {
        message: String,
        stderr_tail: String,
    },
    #[error("no answer within {secs}s{}", stderr_note(.stderr_tail))]
    Timeout { secs: u64, stderr_tail: String },
    #[error("OpenAI authentication is required and none is configured")]
    AuthRequired,
    /// Ctrl-C ended the conversation; the chain carries [`crate::interrupt::Interrupted`], so the
    /// process exits 130.
    #[error("interrupted")]
    Interrupted(#[source] crate::interrupt::Interrupted),
    #[error("could not talk to the app-server")]
    Io(#[from] std::io::Error),
}

fn stderr_note(tail: &str) -> String {
    if tail.trim().is_empty() {
        String::new()
    } else {
        format!("; its stderr ended with:\n{}", indent(tail.trim_end()))
    }
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl Hint for AppServerError {
    fn hint(&self) -> Option<String> {
        match self {
            AppServerError::Spawn { .. } => Some("install the runtime with `codex-bootstrap install`, or check `--codex PATH`".into()),
            AppServerError::Exited { .. } | AppServerError::Eof { .. } => Some("run `codex-bootstrap doctor` to check the runtime; the stderr above says why it stopped".into()),
            AppServerError::Protocol(_) => Some("the runtime speaks a protocol this client does not understand: check the pinned version with `codex-bootstrap doctor`".into()),
            AppServerError::Response { error, .. } if error.code == msg::SERVER_OVERLOADED => Some("the server stayed overloaded: try again later".into()),
            AppServerError::Response { .. } => Some("check the `-c` overrides and the model configuration".into()),
            AppServerError::TurnFailed { .. } => Some("check the model endpoint and credentials (`codex-bootstrap doctor --turn`)".into()),
            AppServerError::Timeout { .. } => Some("raise `--timeout`, or check that the model endpoint is reachable".into()),
            AppServerError::AuthRequired => Some("run `codex login`, or set OPENAI_API_KEY (or CODEX_API_KEY); a custom model provider can be configured with `-c`".into()),
            AppServerError::Interrupted(_) => None,
            AppServerError::Io(_) => Some("the app-server stopped reading its input: run `codex-bootstrap doctor`".into()),
        }
    }
}
