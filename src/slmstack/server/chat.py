"""``POST /v1/chat/completions``: the answer (JSON or SSE), and a fast lane to it.

:func:`chat` is the route's whole work once the caller is admitted and the body validated. The
FastAPI route calls it; so does :class:`ChatLane`, an ASGI middleware that serves the common
request — a JSON body that validates — without FastAPI's per-request machinery (dependency
solving, content-type parsing, routing, the exception and exit-stack layers: about 0.15 ms of a
gateway's CPU per call). Anything else (a body that does not parse or validate, another content
type, FastAPI's own telemetry switched on) goes on to the route untouched, so errors, OpenAPI and
every other path stay exactly FastAPI's.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import ValidationError

from . import wire
from .build import Parts
from .errors import GatewayError
from .service import Caller, Gateway, OpenStream

PATH = "/v1/chat/completions"


async def chat(parts: Parts, body: wire.ChatCompletionRequest, who: Caller,
               state: dict[str, Any]) -> Response:
    """The completion as JSON, or as server-sent events when ``body.stream``."""
    gateway = parts.gateway
    state["model"] = body.model
    messages = wire.to_messages(body)
    kw = wire.to_kwargs(body, parts.gw.default_max_tokens, parts.gw.max_tokens)
    if body.stream:
        s = await gateway.open_stream(body.model, messages, kw, who)
        include = bool(body.stream_options and body.stream_options.include_usage)
        return StreamingResponse(_sse(gateway, s, who, state, include),
                                 media_type="text/event-stream", headers=_headers(who, s.served))
    comp, served = await gateway.complete(body.model, messages, kw, who)
    state.update(served=served, completion=comp)
    return JSONResponse(gateway.response(comp, served, who), headers=_headers(who, served))


def _headers(who: Caller, served: str) -> dict[str, str]:
    return {"x-request-id": who.request_id, "x-slmstack-model": served}


async def _sse(gateway: Gateway, s: OpenStream, who: Caller, state: dict[str, Any],
               include_usage: bool) -> AsyncIterator[str]:
    """OpenAI chunk format: role, content deltas, tool-call deltas, finish, [usage], [DONE]."""
    cid, created, served = wire.completion_id(who.request_id), int(time.time()), s.served
    yield wire.chunk_json(cid, served, created, {"role": "assistant", "content": ""})
    sent_text, comp = False, None
    try:
        async for ev in gateway.events(s):
            if ev.delta:
                sent_text = True
                yield wire.chunk_json(cid, served, created, {"content": ev.delta})
            comp = ev.completion or comp
        if comp is None:
            raise GatewayError(502, f"model {served!r} ended its stream without a result",
                               type="upstream_error", code="upstream_error")
        state.update(served=served, completion=comp)
        if comp.text and not sent_text:  # constrained output arrives whole at the end
            yield wire.chunk_json(cid, served, created, {"content": comp.text})
        for delta in wire.tool_call_deltas(comp):
            yield wire.chunk_json(cid, served, created, delta)
        yield wire.chunk_json(cid, served, created, {}, wire.finish_reason(comp))
        if include_usage:
            yield wire.usage_chunk(cid, served, created, comp)
    except GatewayError as exc:  # headers are sent: the error travels as an event
        state["status"] = exc.status
        yield "data: " + json.dumps(exc.body()) + "\n\n"
    finally:
        s.pump.stop()
    yield wire.DONE


# ---- the fast lane -----------------------------------------------------------------------------
class ChatLane:
    """ASGI middleware: a valid JSON ``POST /v1/chat/completions`` straight to :func:`chat`,
    admitted as the route's dependency admits it; everything else to the app behind."""

    def __init__(self, app: Any, parts: Parts) -> None:
        self.app = app
        self.parts = parts

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if not _ours(scope):
            await self.app(scope, receive, send)
            return
        read: list[dict[str, Any]] = []
        body = await _read_body(receive, read)
        req = _valid(body) if body else None
        if req is None:  # FastAPI answers it (and its errors) exactly as without the lane
            await self.app(scope, _replay(read, receive), send)
            return
        state = scope.setdefault("state", {})
        try:
            who = admit(self.parts.gateway, scope)
            state["caller"] = who
            response = await chat(self.parts, req, who, state)
        except GatewayError as exc:  # as the app's GatewayError handler answers
            response = JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)
        await response(scope, receive, send)  # the body is read: receive only waits now


def admit(gateway: Gateway, scope: dict[str, Any]) -> Caller:
    """Authenticate and admit (rate limit, budget): the route's ``_caller`` dependency."""
    auth = _header(scope, b"authorization")
    task = _header(scope, b"x-slmstack-task")
    client = scope.get("client")
    return gateway.admit(auth, client[0] if client else "?", task)


def _ours(scope: dict[str, Any]) -> bool:
    if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != PATH:
        return False
    if scope.get("root_path") or scope.get("fastapi.telemetry") is not None:
        return False  # mounted under a prefix, or traced per route: FastAPI's own path
    ctype = _header(scope, b"content-type")
    if not ctype:
        return False
    mime = ctype.split(";", 1)[0].strip().lower()  # FastAPI: application/json or */*+json
    return mime.count("/") == 1 and mime.startswith("application/") and (
        mime == "application/json" or mime.endswith("+json"))


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for k, v in scope["headers"]:
        if k == name:
            return str(v.decode("latin-1"))
    return None


async def _read_body(receive: Any, read: list[dict[str, Any]]) -> bytes:
    """The whole body; every message received is kept in ``read`` (to replay)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        read.append(message)
        if message["type"] != "http.request":
            return b""  # disconnected: the app behind sees it
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _valid(body: bytes) -> wire.ChatCompletionRequest | None:
    try:
        return wire.ChatCompletionRequest.model_validate(json.loads(body))
    except (ValueError, ValidationError):  # not JSON, not UTF-8, not a valid request
        return None


def _replay(read: list[dict[str, Any]], receive: Any) -> Any:
    pending = list(read)

    async def replay() -> Any:
        return pending.pop(0) if pending else await receive()

    return replay
