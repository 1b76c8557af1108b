//! A mock OpenAI Responses endpoint for `codex app-server`: `POST /v1/responses` answers an SSE
//! stream of `response.created`, an optional `response.output_text.delta`, one assistant
//! `response.output_item.done`, and `response.completed` with usage.

use crate::support::http::{RecordedRequest, Response, TestServer};

#[derive(Debug, Clone, Copy)]
pub struct Usage {
    pub input_tokens: u64,
    pub cached_input_tokens: u64,
    pub output_tokens: u64,
    pub reasoning_output_tokens: u64,
    pub total_tokens: u64,
}

impl Default for Usage {
    fn default() -> Self {
        Usage {
            input_tokens: 42,
            cached_input_tokens: 0,
            output_tokens: 7,
            reasoning_output_tokens: 0,
            total_tokens: 49,
        }
    }
}

pub struct MockModel {
    http: TestServer,
}

fn event(name: &str, data: serde_json::Value) -> String {
    format!("event: {name}\ndata: {data}\n\n")
}

/// The SSE body codex expects for one assistant reply.
pub fn sse_reply(reply: &str, usage: Usage, with_delta: bool) -> String {
    let mut body = event(
        "response.created",
        serde_json::json!({"type": "response.created", "response": {"id": "resp_1"}}),
    );
    if with_delta {
        body.push_str(&event(
            "response.output_text.delta",
            serde_json::json!({"type": "response.output_text.delta", "delta": reply, "item_id": "msg_1", "output_index": 0, "content_index": 0}),
        ));
    }
    body.push_str(&event(
        "response.output_item.done",
        serde_json::json!({"type": "response.output_item.done", "output_index": 0, "item": {
            "type": "message", "role": "assistant", "id": "msg_1",
            "content": [{"type": "output_text", "text": reply}]
        }}),
    ));
    body.push_str(&event(
        "response.completed",
        serde_json::json!({"type": "response.completed", "response": {"id": "resp_1", "usage": {
            "input_tokens": usage.input_tokens,
            "input_tokens_details": {"cached_tokens": usage.cached_input_tokens},
            "output_tokens": usage.output_tokens,
            "output_tokens_details": {"reasoning_tokens": usage.reasoning_output_tokens},
            "total_tokens": usage.total_tokens
        }}}),
    ));
    body
}

impl MockModel {
    pub fn start(reply: &str, usage: Usage) -> MockModel {
        let http = TestServer::start();
        let body = sse_reply(reply, usage, true);
        http.add_responder("/v1/responses", move |_| {
            Response::new(200, body.clone())
                .header("content-type", "text/event-stream")
                .header("cache-control", "no-cache")
        });
        http.add_response(
            "/v1/models",
            200,
            &[("content-type", "application/json")],
            "{\"data\":[],\"models\":[]}",
        );
        MockModel { http }
    }

    /// `http://127.0.0.1:PORT/v1`
    pub fn base_url(&self) -> String {
        format!("{}/v1", self.http.url())
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.http.requests()
    }

    pub fn request_count(&self) -> usize {
        self.http.count("/v1/responses")
    }

    /// The `-c` overrides that point codex at this endpoint.
    pub fn config_overrides(&self) -> Vec<String> {
        vec![
            "model_provider=\"mock\"".to_string(),
            format!(
                "model_providers.mock={{name=\"mock\",base_url=\"{}\",wire_api=\"responses\"}}",
                self.base_url()
            ),
        ]
    }
}
