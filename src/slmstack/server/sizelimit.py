"""Request-size limit as plain ASGI middleware: 413 with an OpenAI-style JSON error.

A declared ``Content-Length`` over the limit is refused before the body is read. A body without
one (chunked) is read here up to the limit — refused as soon as it passes it — then handed on.
"""

from __future__ import annotations

import json
from typing import Any

from .errors import error_body

Scope = dict[str, Any]


def _too_large_body(size: str, limit: int) -> bytes:
    msg = (f"request body is {size} bytes; this gateway accepts at most {limit} bytes "
           "(gateway.max_request_bytes): send fewer or shorter messages")
    return json.dumps(error_body(msg, "invalid_request_error", "request_too_large")).encode()


class BodySizeLimit:
    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None:
            if declared > self.limit:
                await _send_413(send, _too_large_body(str(declared), self.limit))
                return
            await self.app(scope, receive, send)
            return
        body = await self._read_bounded(receive)
        if body is None:
            await _send_413(send, _too_large_body(f"over {self.limit}", self.limit))
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read_bounded(self, receive: Any) -> bytes | None:
        parts, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(parts)  # disconnected: the app sees an empty body
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                return None
            parts.append(chunk)
            more = message.get("more_body", False)
        return b"".join(parts)


def _replay(body: bytes, receive: Any) -> Any:
    sent = False

    async def replay() -> Any:
        nonlocal sent
        if sent:
            return await receive()  # e.g. waiting for http.disconnect while streaming
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def _content_length(scope: Scope) -> int | None:
    for k, v in scope.get("headers", []):
        if k == b"content-length":
            try:
                return int(v)
            except ValueError:
                return None
    return None


async def _send_413(send: Any, body: bytes) -> None:
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
