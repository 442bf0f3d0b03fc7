"""An OpenAI-compatible chat completions endpoint on 127.0.0.1, for the real `openai` client.

It does what the real API does at its edges: it refuses a missing or wrong bearer key (401 with an
OpenAI error body), requires the word "JSON" in the messages for JSON mode (the real API answers 400
otherwise), and answers `POST /v1/chat/completions` with a `chat.completion` object. Every request is
recorded (path, headers, parsed body), so a test asserts on exactly what the reviewer sent.

What it answers is scripted per test: a `Script` is a function from the request body (and the request
number) to a `Reply`; helpers build the common ones (findings, raw text, refusal, cut-off, errors with
headers, a hang past the client's timeout, a server that refuses `json_schema`).
"""

from __future__ import annotations

import http.server
import json
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

API_KEY = "sk-test-fake-0123456789abcdefghij"


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (a hang)


Script = Callable[[dict[str, Any], int], Reply]


def completion(content: str | None, *, finish_reason: str = "stop", refusal: str | None = None) -> dict[str, Any]:
    """A `chat.completion` object as the API returns it."""
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "fake-model",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": refusal},
                "finish_reason": finish_reason,
                "logprobs": None,
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
    }


def error_body(message: str, kind: str = "invalid_request_error", code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def answer(findings: list[dict[str, Any]] | Callable[[dict[str, Any]], list[dict[str, Any]]]) -> Script:
    """Always answer with these findings (or the findings a function makes from the request body)."""

    def script(body: dict[str, Any], _: int) -> Reply:
        items = findings(body) if callable(findings) else findings
        return Reply(body=completion(json.dumps({"findings": items})))

    return script


def raw(content: str, *, finish_reason: str = "stop") -> Script:
    return lambda body, n: Reply(body=completion(content, finish_reason=finish_reason))


def refusal(text: str) -> Script:
    return lambda body, n: Reply(body=completion(None, refusal=text))


def failing(status: int, message: str, headers: Mapping[str, str] | None = None) -> Script:
    return lambda body, n: Reply(status=status, body=error_body(message), headers=dict(headers or {}))


def hang(seconds: float, then: Script) -> Script:
    """Answer only after `seconds` (past the client's timeout), with what `then` says."""

    def script(body: dict[str, Any], n: int) -> Reply:
        reply = then(body, n)
        reply.delay = seconds
        return reply

    return script


def rejects_json_schema(then: Script) -> Script:
    """A server without JSON-schema output (as older vLLM/Ollama builds): 400 on `json_schema`."""

    def script(body: dict[str, Any], n: int) -> Reply:
        if (body.get("response_format") or {}).get("type") == "json_schema":
            return Reply(status=400, body=error_body("response_format of type json_schema is not supported"))
        return then(body, n)

    return script


def sequence(*scripts: Script) -> Script:
    """The first request gets the first script's reply, and so on; the last repeats."""
    return lambda body, n: scripts[min(n, len(scripts) - 1)](body, n)


_DATA = re.compile(r"^<<<DATA (?P<token>[0-9a-f]+)>>>\n(?P<data>.*)\n<<<END OF DATA (?P=token)>>>$", re.M | re.S)


def user_prompt(body: Mapping[str, Any]) -> str:
    return "\n".join(m["content"] for m in body["messages"] if m["role"] == "user")


def data_block(body: Mapping[str, Any]) -> str:
    """The delimited data block of a request, exactly as sent."""
    match = _DATA.search(user_prompt(body))
    assert match is not None, "the user prompt has no delimited data block"
    return match["data"]


def payload_of(body: Mapping[str, Any]) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(data_block(body))
    return value


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        fake = self.server.fake
        length = int(self.headers.get("content-length") or 0)
        raw_body = self.rfile.read(length)
        try:
            body = json.loads(raw_body)
        except ValueError:
            body = {"unparsable": raw_body.decode(errors="replace")}
        with fake.lock:
            number = len(fake.requests)
            headers = {name.lower(): value for name, value in self.headers.items()}
            fake.requests.append({"path": self.path, "headers": headers, "body": body})
        if self.headers.get("authorization") != f"Bearer {fake.api_key}":
            self._send(Reply(401, error_body("Incorrect API key provided.", code="invalid_api_key")))
            return
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send(Reply(404, error_body(f"Unknown request URL: POST {self.path}.")))
            return
        if (body.get("response_format") or {}).get("type") == "json_object":
            texts = " ".join(str(m.get("content", "")) for m in body.get("messages", []))
            if "json" not in texts.lower():
                message = (
                    "'messages' must contain the word 'json' in some form, to use 'response_format' of type "
                    "'json_object'."
                )
                self._send(Reply(400, error_body(message)))
                return
        reply = fake.script(body, number)
        if reply.delay and fake.released.wait(reply.delay):
            return  # the server is shutting down
        self._send(reply)

    def _send(self, reply: Reply) -> None:
        data = json.dumps(reply.body).encode()
        try:
            self.send_response(reply.status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (its timeout): as with a real server, nobody reads the answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    fake: FakeOpenAI


class FakeOpenAI:
    """The endpoint; `base_url` is `http://127.0.0.1:<port>/v1`, the key is `api_key`."""

    def __init__(self, script: Script | None = None, api_key: str = API_KEY) -> None:
        self.script: Script = script or answer([])
        self.api_key = api_key
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.released = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/v1"

    @property
    def bodies(self) -> list[dict[str, Any]]:
        with self.lock:
            return [r["body"] for r in self.requests]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.released.set()
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def fake_openai(script: Script | None = None, api_key: str = API_KEY) -> Iterator[FakeOpenAI]:
    server = FakeOpenAI(script, api_key)
    server.start()
    try:
        yield server
    finally:
        server.stop()
