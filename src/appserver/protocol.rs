//! The Codex side of the conversation: typed serde structs for the messages this client reads,
//! and [`decode`], the one place a result or a notification's params become one of them (as
//! lsp-server's `extract::<P>(method)` does).
//!
//! What the client cannot do without is required (`thread.id`, `turn.id`, a delta's text, the
//! turn a notification belongs to), and a message without it is a [`ProtocolError`] that names
//! the method and the field. What is only shown to the user (the user agent, an error's
//! message, a token count) has a default, as the server may leave it out.
//! The shapes are those `codex app-server generate-json-schema` prints for the v2 protocol.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::transport::MAX_LINE;

use crate::error::Hint;

/// Everything the app-server said that this client cannot accept.
#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    #[error("line {line} from the app-server is not a JSON-RPC message: `{excerpt}`")]
    Malformed { line: u64, excerpt: String },
    #[error("line {line} from the app-server is longer than {MAX_LINE} bytes")]
    TooLong { line: u64 },
    #[error("the app-server answered request {id}, which was never sent")]
    UnknownResponse { id: String },
    #[error("`{method}` {part} has no `{field}`")]
    Missing {
        method: String,
        part: &'static str,
        field: String,
    },
    #[error("`{method}` {part} does not have the expected shape at `{path}`: {message}")]
    Shape {
        method: String,
        part: &'static str,
        path: String,
        message: String,
    },
}

impl Hint for ProtocolError {
    fn hint(&self) -> Option<String> {
        Some("the runtime speaks a protocol this client does not understand: check that the runtime is the pinned version (`codex-bootstrap doctor`), or report it with the line quoted above".into())
    }
}

/// A response's `result`, for [`decode`] and its errors.
pub(crate) const RESULT: &str = "result";
/// A notification's `params`, for [`decode`] and its errors.
pub(crate) const NOTIFICATION: &str = "notification";

/// Decode the `part` (`result` or `notification`) of a `method` message into `T`; an error
/// names the method and the path of the field that is missing or of the wrong type.
pub(crate) fn decode<T: DeserializeOwned>(
    method: &str,
    part: &'static str,
    value: Value,
) -> Result<T, ProtocolError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        // serde words a missing field as "missing field `name`", at the path of its parent.
        let missing = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.strip_suffix('`'));
        match missing {
            Some(name) => ProtocolError::Missing {
                method: method.to_string(),
                part,
                field: if path == "." {
                    name.to_string()
                } else {
                    format!("{path}.{name}")
                },
            },
            None => ProtocolError::Shape {
                method: method.to_string(),
                part,
                path,
                message,
            },
        }
    })
}

/// The `initialize` result: what the server is (`userAgent` carries the runtime version).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all(deserialize = "camelCase"))]
pub struct ServerInfo {
    #[serde(default)]
    pub user_agent: String,
    pub codex_home: Option<String>,
    pub platform_os: Option<String>,
}

impl ServerInfo {
    /// The runtime version inside the user agent (`codex_bootstrap/0.163.0 (...)`).
    pub(crate) fn runtime_version(&self) -> Option<String> {
        let first = self.user_agent.split_whitespace().next()?;
        let v = first.rsplit('/').next()?;
        v.chars().next()?.is_ascii_digit().then(|| v.to_string())
    }
}

/// The `account/read` result on the wire: `{account: {type, ...} | null, requiresOpenaiAuth}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AccountRead {
    pub account: Option<Account>,
    #[serde(default)]
    pub requires_openai_auth: bool,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Account {
    /// `apiKey`, `chatgpt`, ...
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// What `account/read` told us, as the quickstart report shows it.
#[derive(Debug, Clone, Serialize)]
pub struct AccountInfo {
    pub requires_openai_auth: bool,
    /// `apiKey`, `chatgpt`, ... when an account is configured.
    pub account_type: Option<String>,
}

impl From<AccountRead> for AccountInfo {
    fn from(r: AccountRead) -> AccountInfo {
        AccountInfo {
            requires_openai_auth: r.requires_openai_auth,
            account_type: r.account.and_then(|a| a.kind),
        }
    }
}

/// The `thread/start` result.
#[derive(Debug, Deserialize)]
pub(crate) struct ThreadStarted {
    pub thread: Thread,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Thread {
    pub id: String,
}

/// The `turn/start` result.
#[derive(Debug, Deserialize)]
pub(crate) struct TurnStarted {
    pub turn: TurnRef,
}

#[derive(Debug, Deserialize)]
pub(crate) struct TurnRef {
    pub id: String,
}

/// Token usage as the server reports it (camelCase on the wire, snake_case in our JSON).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all(deserialize = "camelCase"), default)]
pub struct Usage {
    pub input_tokens: u64,
    pub cached_input_tokens: u64,
    pub output_tokens: u64,
    pub reasoning_output_tokens: u64,
    pub total_tokens: u64,
}

/// How a turn ended. A status this client does not know reads as `inProgress`: not completed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TurnStatus {
    Completed,
    Interrupted,
    Failed,
    #[default]
    #[serde(other)]
    InProgress,
}

/// An error the server reports about a turn.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct TurnError {
    pub message: Option<String>,
}

/// `item/agentMessage/delta`: a piece of the assistant's reply.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AgentMessageDelta {
    pub turn_id: String,
    pub delta: String,
}

/// `item/completed`: an item of the turn, kept whole for the report.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ItemCompleted {
    pub turn_id: String,
    pub item: Item,
}

/// A thread item: the kind this client reads, and the item as it came.
#[derive(Debug)]
pub(crate) struct Item {
    pub kind: ItemKind,
    pub raw: Value,
}

/// The kinds of item this client reads; every other kind is kept, unread.
#[derive(Debug, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub(crate) enum ItemKind {
    AgentMessage {
        #[serde(default)]
        text: String,
    },
    #[serde(other)]
    Other,
}

impl<'de> Deserialize<'de> for Item {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Item, D::Error> {
        let raw = Value::deserialize(d)?;
        let kind = ItemKind::deserialize(&raw).map_err(serde::de::Error::custom)?;
        Ok(Item { kind, raw })
    }
}

/// `thread/tokenUsage/updated`: the thread's usage so far.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TokenUsageUpdated {
    pub turn_id: String,
    pub token_usage: TokenUsage,
}

#[derive(Debug, Deserialize)]
pub(crate) struct TokenUsage {
    pub total: Usage,
}

/// `error`: a turn's error; with `willRetry` the server tries again and the turn goes on.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ErrorNotification {
    pub turn_id: String,
    #[serde(default)]
    pub will_retry: bool,
    #[serde(default)]
    pub error: TurnError,
}

impl ErrorNotification {
    pub(crate) fn message(&self) -> &str {
        self.error.message.as_deref().unwrap_or("unknown error")
    }
}

/// `turn/completed`: the turn's end, how it ended and why.
#[derive(Debug, Deserialize)]
pub(crate) struct TurnCompleted {
    pub turn: CompletedTurn,
}

#[derive(Debug, Deserialize)]
pub(crate) struct CompletedTurn {
    pub id: String,
    #[serde(default)]
    pub status: TurnStatus,
    pub error: Option<TurnError>,
}

/// The notifications a turn is followed by; any other method is [`TurnNotification::Other`].
#[derive(Debug)]
pub(crate) enum TurnNotification {
    AgentMessageDelta(AgentMessageDelta),
    ItemCompleted(ItemCompleted),
    TokenUsageUpdated(TokenUsageUpdated),
    Error(ErrorNotification),
    TurnCompleted(TurnCompleted),
    Other,
}

impl TurnNotification {
    /// Decode a notification by its method.
    pub(crate) fn decode(method: &str, params: Value) -> Result<TurnNotification, ProtocolError> {
        Ok(match method {
            "item/agentMessage/delta" => {
                Self::AgentMessageDelta(decode(method, NOTIFICATION, params)?)
            }
            "item/completed" => Self::ItemCompleted(decode(method, NOTIFICATION, params)?),
            "thread/tokenUsage/updated" => {
                Self::TokenUsageUpdated(decode(method, NOTIFICATION, params)?)
            }
            "error" => Self::Error(decode(method, NOTIFICATION, params)?),
            "turn/completed" => Self::TurnCompleted(decode(method, NOTIFICATION, params)?),
            _ => Self::Other,
        })
    }

    /// The turn this notification is about (`None` for methods a turn does not follow).
    pub(crate) fn turn_id(&self) -> Option<&str> {
        match self {
            Self::AgentMessageDelta(n) => Some(&n.turn_id),
            Self::ItemCompleted(n) => Some(&n.turn_id),
            Self::TokenUsageUpdated(n) => Some(&n.turn_id),
            Self::Error(n) => Some(&n.turn_id),
            Self::TurnCompleted(n) => Some(&n.turn.id),
            Self::Other => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_thread_start_result_without_a_thread_id_names_it() {
        let e = decode::<ThreadStarted>("thread/start", RESULT, json!({"thread": {}})).unwrap_err();
        assert_eq!(e.to_string(), "`thread/start` result has no `thread.id`");
        let e = decode::<ThreadStarted>("thread/start", RESULT, json!({})).unwrap_err();
        assert_eq!(e.to_string(), "`thread/start` result has no `thread`");
        let e = decode::<TurnStarted>("turn/start", RESULT, Value::Null).unwrap_err();
        assert!(
            matches!(e, ProtocolError::Shape { ref path, .. } if path == "."),
            "{e}"
        );
    }

    #[test]
    fn a_field_of_the_wrong_type_names_its_path() {
        let e =
            decode::<TurnStarted>("turn/start", RESULT, json!({"turn": {"id": 7}})).unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with("`turn/start` result does not have the expected shape at `turn.id`: invalid type: integer `7`"),
            "{text}"
        );
    }

    #[test]
    fn notifications_decode_by_method_and_name_what_they_lack() {
        let n = TurnNotification::decode(
            "item/agentMessage/delta",
            json!({"threadId": "th", "turnId": "tu", "itemId": "m", "delta": "Hel"}),
        )
        .unwrap();
        assert!(matches!(&n, TurnNotification::AgentMessageDelta(d) if d.delta == "Hel"));
        assert_eq!(n.turn_id(), Some("tu"));

        let e = TurnNotification::decode("item/agentMessage/delta", json!({"turnId": "tu"}))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "`item/agentMessage/delta` notification has no `delta`"
        );
        let e = TurnNotification::decode(
            "thread/tokenUsage/updated",
            json!({"turnId": "tu", "tokenUsage": {"last": {}}}),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "`thread/tokenUsage/updated` notification has no `tokenUsage.total`"
        );

        let other = TurnNotification::decode("thread/started", json!({"anything": 1})).unwrap();
        assert!(matches!(other, TurnNotification::Other));
        assert_eq!(other.turn_id(), None);
    }

    #[test]
    fn items_keep_their_json_and_read_agent_messages() {
        let n = TurnNotification::decode(
            "item/completed",
            json!({"turnId": "tu", "item": {"type": "agentMessage", "id": "m", "text": "Hello"}}),
        )
        .unwrap();
        let TurnNotification::ItemCompleted(c) = n else {
            panic!("not an item: {n:?}")
        };
        assert_eq!(
            c.item.kind,
            ItemKind::AgentMessage {
                text: "Hello".into()
            }
        );
        assert_eq!(c.item.raw["id"], "m");

        let n = TurnNotification::decode(
            "item/completed",
            json!({"turnId": "tu", "item": {"type": "commandExecution", "id": "c"}}),
        )
        .unwrap();
        assert!(
            matches!(n, TurnNotification::ItemCompleted(ref c) if c.item.kind == ItemKind::Other)
        );
    }

    #[test]
    fn a_completed_turn_reads_its_status_and_error_and_tolerates_new_statuses() {
        let n = TurnNotification::decode(
            "turn/completed",
            json!({"threadId": "th", "turn": {"id": "tu", "status": "failed", "items": [], "error": {"message": "boom"}}}),
        )
        .unwrap();
        let TurnNotification::TurnCompleted(t) = &n else {
            panic!("not a completion: {n:?}")
        };
        assert_eq!(t.turn.status, TurnStatus::Failed);
        assert_eq!(
            t.turn.error.as_ref().and_then(|e| e.message.as_deref()),
            Some("boom")
        );
        assert_eq!(n.turn_id(), Some("tu"));

        let n = TurnNotification::decode(
            "turn/completed",
            json!({"turn": {"id": "tu", "status": "somethingNew"}}),
        )
        .unwrap();
        assert!(
            matches!(n, TurnNotification::TurnCompleted(ref t) if t.turn.status == TurnStatus::InProgress)
        );
    }

    #[test]
    fn error_notifications_default_their_message_and_retry_flag() {
        let n = TurnNotification::decode("error", json!({"turnId": "tu", "error": {}})).unwrap();
        let TurnNotification::Error(e) = n else {
            panic!("not an error: {n:?}")
        };
        assert!(!e.will_retry);
        assert_eq!(e.message(), "unknown error");
    }

    #[test]
    fn initialize_and_account_results_tolerate_missing_fields() {
        let info: ServerInfo = decode("initialize", RESULT, json!({})).unwrap();
        assert_eq!(info.user_agent, "");
        assert_eq!(info.runtime_version(), None);
        let info: ServerInfo = decode(
            "initialize",
            RESULT,
            json!({"userAgent": "codex_bootstrap/0.163.0 (Linux)", "codexHome": "/h"}),
        )
        .unwrap();
        assert_eq!(info.runtime_version().as_deref(), Some("0.163.0"));
        assert_eq!(info.codex_home.as_deref(), Some("/h"));

        let account: AccountRead = decode(
            "account/read",
            RESULT,
            json!({"account": null, "requiresOpenaiAuth": true}),
        )
        .unwrap();
        let account = AccountInfo::from(account);
        assert!(account.requires_openai_auth && account.account_type.is_none());
        let account: AccountRead = decode(
            "account/read",
            RESULT,
            json!({"account": {"type": "apiKey"}}),
        )
        .unwrap();
        assert_eq!(
            AccountInfo::from(account).account_type.as_deref(),
            Some("apiKey")
        );
    }
}
