"""Shared test pieces: tools, schemas, scripted replies, SSE parsing, loopback servers."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"},
                           "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
            "required": ["city", "unit"],
        },
    },
}
PERSON = {
    "type": "object",
    "properties": {"age": {"type": "integer"},
                   "color": {"type": "string", "enum": ["red", "green", "blue"]}},
    "required": ["age", "color"],
    "additionalProperties": False,
}
CALL_REPLY = json.dumps(
    {"tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}]})


def chat(model: str = "scripted", text: str = "Say hi.", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": text}], **extra}


def sse_events(body: str) -> list[Any]:
    """``data:`` payloads of an SSE body, JSON-decoded ("[DONE]" kept as is)."""
    out: list[Any] = []
    for block in body.split("\n\n"):
        if not block.strip():
            continue
        assert block.startswith("data: "), block
        data = block[len("data: "):]
        out.append(data if data == "[DONE]" else json.loads(data))
    return out


def recorded(store: Any, n: int, timeout: float = 20.0) -> list[Any]:
    """The store's model calls once ``n`` are there (the gateway queues records in batches)."""
    deadline = time.monotonic() + timeout
    while True:
        store.flush()
        recs = list(store.model_calls())
        if len(recs) >= n or time.monotonic() > deadline:
            return recs
        time.sleep(0.02)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def silent_server() -> Iterator[int]:
    """A real loopback server that accepts connections and never answers (a hung upstream)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    conns: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        srv.settimeout(0.1)
        while not stop.is_set():
            try:
                conns.append(srv.accept()[0])
            except OSError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    try:
        yield srv.getsockname()[1]
    finally:
        stop.set()
        t.join()
        for c in conns:
            c.close()
        srv.close()


# ---- a scripted OpenAI-compatible upstream: a real uvicorn server on loopback ------------------
def completion_json(text: str = "Paris.", tool_calls: list[Any] | None = None,
                    usage: tuple[int, int] = (24, 8)) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return {"id": "chatcmpl-up", "object": "chat.completion", "created": 0, "model": "m",
            "choices": [{"index": 0, "message": message,
                         "finish_reason": "tool_calls" if tool_calls else "stop"}],
            "usage": {"prompt_tokens": usage[0], "completion_tokens": usage[1],
                      "total_tokens": sum(usage)}}


class Upstream:
    """Answers each request with the next queued reply (status, headers, body; a list body is
    sent in pieces, so chunked), else 200 with ``completion_json()``; records every request
    (headers, JSON body, the client's port: one port per connection)."""

    def __init__(self) -> None:
        self.replies: list[tuple[int, dict[str, str], Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def reply(self, status: int, body: Any, **headers: str) -> None:
        self.replies.append((status, {k.replace("_", "-"): v for k, v in headers.items()}, body))

    def ports(self) -> list[int]:
        return [r["port"] for r in self.requests]

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        raw, more = b"", True
        while more:
            msg = await receive()
            raw, more = raw + msg.get("body", b""), msg.get("more_body", False)
        self.requests.append({"headers": {k.decode(): v.decode() for k, v in scope["headers"]},
                              "body": json.loads(raw) if raw else None,
                              "path": scope["path"], "port": scope["client"][1]})
        status, headers, body = (self.replies.pop(0) if self.replies
                                 else (200, {}, completion_json()))
        pieces = body if isinstance(body, list) else [body]
        pieces = [p if isinstance(p, bytes) else
                  (p.encode() if isinstance(p, str) else json.dumps(p).encode()) for p in pieces]
        head = [(b"content-type", b"application/json")] if "content-type" not in headers else []
        head += [(k.encode(), v.encode()) for k, v in headers.items()]
        if len(pieces) == 1:
            head.append((b"content-length", str(len(pieces[0])).encode()))
        await send({"type": "http.response.start", "status": status, "headers": head})
        for i, p in enumerate(pieces):
            await send({"type": "http.response.body", "body": p,
                        "more_body": i < len(pieces) - 1})


@contextmanager
def upstream_server(keep_alive_s: float = 5.0) -> Iterator[Upstream]:
    import uvicorn

    up = Upstream()
    up.port = free_port()
    server = uvicorn.Server(uvicorn.Config(up, host="127.0.0.1", port=up.port, lifespan="off",
                                           log_level="warning", timeout_keep_alive=keep_alive_s))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the scripted upstream did not start")
        time.sleep(0.01)
    try:
        yield up
    finally:
        server.should_exit = True
        thread.join(10)
