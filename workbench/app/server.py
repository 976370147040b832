"""The reference application over HTTP: an OpenAI-compatible `/v1/chat/completions` on
127.0.0.1, so any client can use it; every request is a trace (id in the `x-trace-id` header)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .assistant import Assistant

HOST = "127.0.0.1"


def _last_user_message(body: dict[str, Any]) -> str | None:
    for message in reversed(body.get("messages") or []):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):  # the parts form: keep the text parts
                content = " ".join(p.get("text", "") for p in content if isinstance(p, dict))
            return str(content) if content else None
    return None


def make_server(app: Assistant, port: int) -> ThreadingHTTPServer:
    """An HTTP server for `app` on 127.0.0.1:`port` (0: a free port); `serve_forever` it."""
    lock = threading.Lock()  # one generation at a time: the model is in this process

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # requests are traced; the terminal stays quiet
            pass

        def _send(
            self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
        ):
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path == "/health":
                return self._send(
                    200, {"status": "ok", "app": app.spec.name, "version": app.version}
                )
            if self.path == "/v1/models":
                return self._send(
                    200,
                    {
                        "object": "list",
                        "data": [{"id": app.spec.name, "object": "model", "owned_by": "workbench"}],
                    },
                )
            return self._send(404, {"error": {"message": f"no route {self.path}"}})

        def do_POST(self):
            if self.path != "/v1/chat/completions":
                return self._send(404, {"error": {"message": f"no route {self.path}"}})
            try:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            except ValueError:
                return self._send(400, {"error": {"message": "the body is not JSON"}})
            question = _last_user_message(body) if isinstance(body, dict) else None
            if not question:
                return self._send(400, {"error": {"message": "no user message"}})
            if body.get("stream"):
                return self._send(400, {"error": {"message": "streaming is not supported"}})
            with lock:
                answer = app.answer(
                    question,
                    request_id=self.headers.get("x-request-id"),
                    parent=self.headers.get("traceparent"),  # a traced client's trace goes on
                )
            if answer.error:
                return self._send(
                    502, {"error": {"message": answer.error}}, {"x-trace-id": answer.trace_id or ""}
                )
            usage = {
                "prompt_tokens": answer.prompt_tokens or 0,
                "completion_tokens": answer.completion_tokens or 0,
            }
            usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
            return self._send(
                200,
                {
                    "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": app.spec.name,
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": "stop",
                            "message": {"role": "assistant", "content": answer.text},
                        }
                    ],
                    "usage": usage,
                    "workbench": {
                        "trace_id": answer.trace_id,
                        "blocked": answer.blocked,
                        "chunks": answer.chunks,
                        "app_version": app.version,
                    },
                },
                {"x-trace-id": answer.trace_id or ""},
            )

    return ThreadingHTTPServer((HOST, port), Handler)
