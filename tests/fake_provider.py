"""A fake OpenAI-compatible chat provider on a real uvicorn server (127.0.0.1, free port).

Use it from any test module. Run pytest as ``python -m pytest`` from the repository
root, as CI does: that puts the root on sys.path, so ``rag`` and ``tests`` (a namespace
package; no ``tests/__init__.py`` is needed) import. Import the fixture by name:

    from tests.fake_provider import MODEL, Reply, fake_provider  # noqa: F401  (fixture)

    def test_something(fake_provider):
        fake_provider.script(Reply.status(429, retry_after="1"))  # one 429, then answers
        env = {"LLM_BASE_URL": fake_provider.url, "LLM_MODEL": MODEL}  # for providers_from_env
        ...
        assert "passage text" in fake_provider.chat_requests[-1].prompt

(Or list ``pytest_plugins = ["tests.fake_provider"]`` in a rootdir conftest.py to make
the fixture global without imports.) Async tests can use anyio's pytest plugin, as
tests/test_llm_client.py does, or call asyncio.run themselves.

One server starts per pytest session, on first use; the fixture resets it for each
test. What the fixture yields (a FakeEndpoint):
  url                       base URL ending in /v1 (chat/completions and models below it)
  script(*replies, then=)   these replies in order, then ``then`` (default: answer) forever
  fail_times(n, status=500) n failures, then answers
  requests / chat_requests  every Received request (method, path, headers, json, prompt)
  endpoint("b")             another independent fake provider on the same server

Replies (``Reply.*``); each follows the request's ``stream`` flag:
  answer(text=None)         JSON completion, or SSE with ": OPENROUTER PROCESSING"
                            comment lines and [DONE]; default text "Echo: <last user message>"
  status(code, retry_after) that HTTP status with an OpenAI-style error body
  garbage()                 200 with an HTML body
  error_body(code, before)  200 carrying {"error": {...}}; when streaming, an error
                            event after the ``before`` text (default: none)
  stall(seconds, before)    sleeps before answering (streaming: after ``before`` text)
"""
from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

MODEL = "fake-model"
_SERVER_KEY = pytest.StashKey["FakeServer"]()


@dataclass(frozen=True)
class Reply:
    kind: str = "answer"
    text: str | None = None
    status_code: int = 200
    retry_after: str | None = None
    seconds: float = 0.0
    before: str = ""

    @classmethod
    def answer(cls, text: str | None = None) -> Reply:
        return cls("answer", text=text)

    @classmethod
    def status(cls, code: int, retry_after: str | None = None) -> Reply:
        return cls("status", status_code=code, retry_after=retry_after)

    @classmethod
    def garbage(cls) -> Reply:
        return cls("garbage")

    @classmethod
    def error_body(cls, code: int = 502, before: str = "") -> Reply:
        return cls("error_body", status_code=code, before=before)

    @classmethod
    def stall(cls, seconds: float = 5.0, before: str = "") -> Reply:
        return cls("stall", seconds=seconds, before=before)


@dataclass(frozen=True)
class Received:
    """One request as the fake provider saw it."""

    method: str
    path: str
    headers: dict[str, str]
    json: Any

    @property
    def prompt(self) -> str:
        """All message contents, joined: assert that a passage reached the model."""
        messages = self.json.get("messages", []) if isinstance(self.json, dict) else []
        return "\n".join(str(m.get("content", "")) for m in messages)


@dataclass
class FakeEndpoint:
    """One fake provider: a script of replies, then ``default`` forever."""

    name: str
    url: str
    default: Reply = field(default_factory=Reply)
    requests: list[Received] = field(default_factory=list)
    server: FakeServer | None = field(default=None, repr=False)
    _queue: list[Reply] = field(default_factory=list, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def endpoint(self, name: str) -> FakeEndpoint:
        """Another, independent fake provider on the same server."""
        assert self.server is not None, "only endpoints made by the fixture have siblings"
        return self.server.endpoint(name)

    def script(self, *replies: Reply, then: Reply | None = None) -> None:
        with self._lock:
            self._queue[:] = replies
            self.default = then or Reply()

    def fail_times(self, n: int, status: int = 500) -> None:
        """Fail ``n`` times with ``status``, then answer."""
        self.script(*[Reply.status(status)] * n)

    @property
    def chat_requests(self) -> list[Received]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def next_reply(self, received: Received) -> Reply:
        with self._lock:
            self.requests.append(received)
            return self._queue.pop(0) if self._queue else self.default

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()
            self.requests.clear()
            self.default = Reply()


class FakeServer:
    """The uvicorn server and its endpoints; the fixture hands out endpoint "a"."""

    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self.root = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self.endpoints: dict[str, FakeEndpoint] = {}
        config = uvicorn.Config(_app(self), log_level="warning", lifespan="off", timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True)

    def start(self) -> FakeServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"fake provider did not start on {self.root}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)

    def endpoint(self, name: str) -> FakeEndpoint:
        if name not in self.endpoints:
            self.endpoints[name] = FakeEndpoint(name, f"{self.root}/{name}/v1", server=self)
        return self.endpoints[name]


@pytest.fixture
def fake_provider(request: pytest.FixtureRequest) -> FakeEndpoint:
    """A running fake provider, reset for this test (see the module docstring)."""
    server = request.config.stash.get(_SERVER_KEY, None)
    if server is None:
        server = request.config.stash[_SERVER_KEY] = FakeServer().start()
        request.config.add_cleanup(server.stop)
    for endpoint in server.endpoints.values():
        endpoint.reset()
    return server.endpoint("a")


def _app(server: FakeServer) -> Starlette:
    async def chat(request: Request) -> Response:
        endpoint = server.endpoint(request.path_params["name"])
        received = await _receive(request)
        return await _reply(request, endpoint.next_reply(received), received.json)

    async def models(request: Request) -> Response:
        server.endpoint(request.path_params["name"]).next_reply(await _receive(request))
        return JSONResponse({"object": "list", "data": [{"id": MODEL, "object": "model", "owned_by": "fake"}]})

    return Starlette(routes=[
        Route("/{name}/v1/chat/completions", chat, methods=["POST"]),
        Route("/{name}/v1/models", models, methods=["GET"]),
    ])


async def _receive(request: Request) -> Received:
    raw = await request.body()
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = raw.decode("utf-8", "replace")
    return Received(request.method, request.url.path, dict(request.headers), body)


async def _reply(request: Request, reply: Reply, body: Any) -> Response:
    streaming = isinstance(body, dict) and bool(body.get("stream"))
    if reply.kind == "status":
        headers = {"Retry-After": reply.retry_after} if reply.retry_after else {}
        error = {"error": {"message": f"fake failure {reply.status_code}", "code": reply.status_code}}
        return JSONResponse(error, status_code=reply.status_code, headers=headers)
    if reply.kind == "garbage":
        return PlainTextResponse("<html><body>Bad gateway, oh no</body></html>", media_type="text/html")
    if reply.kind == "stall" and not streaming:
        await _sleep_unless_gone(request, reply.seconds)
    if reply.kind == "error_body" and not streaming:
        return JSONResponse({"error": {"message": "upstream model failed", "code": reply.status_code}})
    text = reply.text if reply.text is not None else _echo(body)
    if streaming:
        return StreamingResponse(_sse(request, reply, text), media_type="text/event-stream")
    return JSONResponse(_completion(text))


def _echo(body: Any) -> str:
    messages = body.get("messages", []) if isinstance(body, dict) else []
    users = [m.get("content", "") for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    return "Echo: " + (str(users[-1]) if users else "")


def _completion(text: str) -> dict[str, Any]:
    message = {"role": "assistant", "content": text}
    return {"id": "fake-1", "object": "chat.completion", "created": int(time.time()), "model": MODEL,
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}


def _chunk(delta: dict[str, Any], finish: str | None = None) -> str:
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    payload = {"id": "fake-1", "object": "chat.completion.chunk", "model": MODEL, "choices": [choice]}
    return f"data: {json.dumps(payload)}\n\n"


def _pieces(text: str) -> list[str]:
    words = text.split(" ")
    return [word + " " for word in words[:-1]] + [words[-1]] if text else []


async def _sse(request: Request, reply: Reply, text: str) -> AsyncIterator[str]:
    yield ": OPENROUTER PROCESSING\n\n"
    yield _chunk({"role": "assistant", "content": ""})
    for piece in _pieces(reply.before if reply.kind in ("stall", "error_body") else text):
        yield _chunk({"content": piece})
        await asyncio.sleep(0)
    if reply.kind == "stall":
        yield ": still thinking\n\n"
        await _sleep_unless_gone(request, reply.seconds)
    if reply.kind == "error_body":
        yield "data: " + json.dumps({"error": {"message": "upstream model failed", "code": reply.status_code}}) + "\n\n"
        return
    yield _chunk({}, finish="stop")
    yield "data: [DONE]\n\n"


async def _sleep_unless_gone(request: Request, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end and not await request.is_disconnected():
        await asyncio.sleep(0.05)
