#!/usr/bin/env python3
"""A loopback stand-in for the OpenAI Responses endpoint, for benchmarks: answers
POST /v1/responses with the SSE sequence codex expects. Prints its port, serves until killed."""
import http.server
import json
import sys

REPLY = sys.argv[1] if len(sys.argv) > 1 else "Hello from the benchmark model."


def event(name, data):
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        body = b'{"data":[],"models":[]}'
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        item = {"type": "message", "role": "assistant", "id": "msg_1",
                "content": [{"type": "output_text", "text": REPLY}]}
        usage = {"input_tokens": 12, "input_tokens_details": {"cached_tokens": 0},
                 "output_tokens": 7, "output_tokens_details": {"reasoning_tokens": 0},
                 "total_tokens": 19}
        body = b"".join([
            event("response.created", {"type": "response.created", "response": {"id": "resp_1"}}),
            event("response.output_text.delta", {"type": "response.output_text.delta", "delta": REPLY, "item_id": "msg_1", "output_index": 0, "content_index": 0}),
            event("response.output_item.done", {"type": "response.output_item.done", "item": item, "output_index": 0}),
            event("response.completed", {"type": "response.completed", "response": {"id": "resp_1", "usage": usage}}),
        ])
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
