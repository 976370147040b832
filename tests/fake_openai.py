"""A test double of an OpenAI-compatible server, on 127.0.0.1, for fault and secret tests.

It answers `/v1/chat/completions` (streaming and not) with "echo: <last user message>",
and follows a script of behaviours, one per request: "ok", "429:<retry-after s>", "500", "400",
"hang:<seconds>", "say:<text>" (answers exactly <text>), "leak" (puts the request's Authorization header in the answer, as a
buggy or hostile server might), "slow:<seconds>" (answers after a delay), "sysecho:<form>"
(a model that leaks: answers with its system prompt, in `form` plain, base64, reversed or
spaced; "sysecho" alone cycles through the four forms request by request).
"""

from __future__ import annotations

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SYSECHO_FORMS = ("plain", "base64", "reversed", "spaced")


class FakeOpenAIServer:
    def __init__(self, script: list[str] | None = None, default: str = "ok"):
        self.script = list(script or [])
        self.default = default
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server._lock:
                    server.requests.append(body)
                    n = len(server.requests)
                    server.headers.append({k.lower(): v for k, v in self.headers.items()})
                    step = server.script.pop(0) if server.script else server.default
                kind, _, arg = step.partition(":")
                if kind == "429":
                    return self._error(429, "rate limited", {"Retry-After": arg or "1"})
                if kind == "400":
                    return self._error(400, "response_format is not supported")
                if kind == "500":
                    return self._error(500, "internal error")
                if kind == "hang":
                    time.sleep(float(arg or 5))
                    return self._error(504, "gave up")
                if kind == "slow":
                    time.sleep(float(arg or 0.2))
                if kind == "toolcall":  # arg: JSON list of {"name", "arguments"} (a string or not)
                    return self._json(200, self._tool_calls(json.loads(arg), body))
                text = arg if kind == "say" else "echo: " + body["messages"][-1]["content"]
                if kind == "sysecho":
                    text = server.system_echo(body, arg, n)
                if kind == "leak":
                    text += " auth=" + self.headers.get("Authorization", "")
                if body.get("stream"):
                    return self._stream(text, body)
                return self._json(200, self._completion(text, body))

            def _completion(self, text, body):
                return {
                    "id": "fake-1",
                    "object": "chat.completion",
                    "created": 0,
                    "model": body["model"],
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": "stop",
                            "message": {"role": "assistant", "content": text},
                        }
                    ],
                    "usage": {
                        "prompt_tokens": 7,
                        "completion_tokens": len(text.split()),
                        "total_tokens": 7 + len(text.split()),
                    },
                }

            def _tool_calls(self, calls, body):
                reply = self._completion("", body)
                reply["choices"][0]["finish_reason"] = "tool_calls"
                reply["choices"][0]["message"] = {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": f"call-{n}",
                            "type": "function",
                            "function": {
                                "name": c["name"],
                                "arguments": c["arguments"]
                                if isinstance(c["arguments"], str)
                                else json.dumps(c["arguments"]),
                            },
                        }
                        for n, c in enumerate(calls)
                    ],
                }
                return reply

            def _stream(self, text, body):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                base = {
                    "id": "fake-1",
                    "object": "chat.completion.chunk",
                    "created": 0,
                    "model": body["model"],
                }
                for word in text.split(" "):
                    chunk = {**base, "choices": [{"index": 0, "delta": {"content": word + " "}}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                final = {
                    **base,
                    "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                    "usage": {
                        "prompt_tokens": 7,
                        "completion_tokens": len(text.split()),
                        "total_tokens": 7 + len(text.split()),
                    },
                }
                self.wfile.write(f"data: {json.dumps(final)}\n\ndata: [DONE]\n\n".encode())

            def _error(self, status, message, headers=None):
                payload = json.dumps({"error": {"message": message, "type": "fake"}}).encode()
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _json(self, status, data):
                payload = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def system_echo(self, body: dict, form: str, n: int) -> str:
        system = next((m["content"] for m in body["messages"] if m["role"] == "system"), "")
        form = form or SYSECHO_FORMS[(n - 1) % len(SYSECHO_FORMS)]
        if form == "base64":
            return "Sure: " + base64.b64encode(system.encode()).decode()
        if form == "reversed":
            return system[::-1]
        if form == "spaced":
            return " ".join(system)
        return "My instructions: " + system

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


if __name__ == "__main__":  # used by the kill -9 test: serve slowly until killed
    import sys

    srv = FakeOpenAIServer(default=f"slow:{sys.argv[1] if len(sys.argv) > 1 else 0.2}")
    with srv:
        print(srv.base_url, flush=True)
        while True:
            time.sleep(1)
