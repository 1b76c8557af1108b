//! Message shapes. codex app-server speaks JSON-RPC 2.0 without the `"jsonrpc"` field: a line
//! with `method` and `id` is a request, `method` alone a notification, `id` with `result` or
//! `error` a response.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// JSON-RPC: the method does not exist.
pub(crate) const METHOD_NOT_FOUND: i64 = -32601;
/// codex: the server is overloaded; retry with backoff.
pub(crate) const SERVER_OVERLOADED: i64 = -32001;

/// A request id: codex uses integers, JSON-RPC allows strings too.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RequestId {
    Int(i64),
    Str(String),
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RequestId::Int(i) => write!(f, "{i}"),
            RequestId::Str(s) => write!(f, "{s:?}"),
        }
    }
}

/// A JSON-RPC error object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    Request {
        id: RequestId,
        method: String,
        params: Value,
    },
    Notification {
        method: String,
        params: Value,
    },
    Response {
        id: RequestId,
        result: Result<Value, RpcError>,
    },
}

impl Message {
    /// Classify a parsed line by its shape; `None` when it is none of the three.
    pub(crate) fn from_value(mut v: Value) -> Option<Message> {
        let obj = v.as_object_mut()?;
        let id = obj
            .remove("id")
            .and_then(|i| serde_json::from_value::<RequestId>(i).ok());
        let method = obj
            .remove("method")
            .and_then(|m| m.as_str().map(str::to_string));
        let params = obj.remove("params").unwrap_or(Value::Null);
        match (id, method) {
            (Some(id), Some(method)) => Some(Message::Request { id, method, params }),
            (None, Some(method)) => Some(Message::Notification { method, params }),
            (Some(id), None) => {
                let result = if let Some(e) = obj.remove("error") {
                    Err(serde_json::from_value(e).ok()?)
                } else {
                    Ok(obj.remove("result").unwrap_or(Value::Null))
                };
                Some(Message::Response { id, result })
            }
            (None, None) => None,
        }
    }

    pub(crate) fn to_value(&self) -> Value {
        match self {
            Message::Request { id, method, params } => {
                serde_json::json!({"id": id, "method": method, "params": params})
            }
            Message::Notification { method, params } if params.is_null() => {
                serde_json::json!({"method": method})
            }
            Message::Notification { method, params } => {
                serde_json::json!({"method": method, "params": params})
            }
            Message::Response { id, result: Ok(r) } => serde_json::json!({"id": id, "result": r}),
            Message::Response { id, result: Err(e) } => serde_json::json!({"id": id, "error": e}),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let req =
            Message::from_value(serde_json::json!({"id": 1, "method": "x", "params": {}})).unwrap();
        assert!(matches!(
            req,
            Message::Request {
                id: RequestId::Int(1),
                ..
            }
        ));
        let note = Message::from_value(serde_json::json!({"method": "n"})).unwrap();
        assert!(matches!(note, Message::Notification { .. }));
        let ok = Message::from_value(serde_json::json!({"id": "a", "result": 3})).unwrap();
        assert_eq!(
            ok,
            Message::Response {
                id: RequestId::Str("a".into()),
                result: Ok(3.into())
            }
        );
        let err = Message::from_value(
            serde_json::json!({"id": 2, "error": {"code": -32001, "message": "busy"}}),
        )
        .unwrap();
        assert!(matches!(
            err,
            Message::Response {
                result: Err(RpcError {
                    code: SERVER_OVERLOADED,
                    ..
                }),
                ..
            }
        ));
        assert!(Message::from_value(serde_json::json!({"x": 1})).is_none());
        assert!(Message::from_value(serde_json::json!([1])).is_none());
        for m in [req, note, ok, err] {
            assert_eq!(Message::from_value(m.to_value()).unwrap(), m);
        }
    }
}
