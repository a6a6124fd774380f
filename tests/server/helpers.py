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
