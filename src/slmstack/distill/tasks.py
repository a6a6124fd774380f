"""What a recorded request asks for, read from its shape: the task kinds routes are keyed by."""

from __future__ import annotations

from typing import Any

from ..store.records import CallRecord
from ..types import Message, ToolSpec

KINDS = ("tool_call", "extract", "chat")


def task_kind(request: dict[str, Any]) -> str:
    """tools offered (and not switched off) → tool_call; an output schema → extract; else chat."""
    if request.get("tools") and request.get("tool_choice") != "none":
        return "tool_call"
    if request.get("response_format") or request.get("schema"):
        return "extract"
    return "chat"


def prompt_text(request: dict[str, Any], limit: int = 2000) -> str:
    """The text a request's user and system turns carry, plus the names of its tools."""
    parts = [
        str(m.get("content") or "")
        for m in request.get("messages") or []
        if m.get("role") in ("system", "user")
    ]
    names = [t.name for t in request_tools(request)]
    if names:
        parts.append("tools: " + ", ".join(names))
    return "\n".join(p for p in parts if p)[:limit]


def group_key(request: dict[str, Any], by: str) -> str:
    """What keeps related requests on one side of a train / held-out split.

    ``request``: each request alone (its messages, tools and constraints); ``tools``: every
    request offering the same set of tools together, so held-out requests ask about functions
    the student never saw in training (requests without tools fall back to ``request``).
    """
    import hashlib
    import json

    names = sorted(t.name for t in request_tools(request))
    if by == "tools" and names:
        blob = json.dumps(["tools", names])
    else:
        keys = ("messages", "tools", "response_format", "tool_choice")
        blob = json.dumps({k: request.get(k) for k in keys}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def in_slice(key: str, seed: int | str, fraction: float) -> bool:
    """A stable pseudo-random choice of ``fraction`` of all keys (by hash of seed and key)."""
    import hashlib

    h = int(hashlib.sha256(f"{seed}:{key}".encode()).hexdigest()[:8], 16) / 2**32
    return h < fraction


def request_messages(request: dict[str, Any]) -> list[Message]:
    return [Message.model_validate(_message(m)) for m in request.get("messages") or []]


def _message(m: dict[str, Any]) -> dict[str, Any]:
    """OpenAI message dict → slmstack Message fields (tool-call arguments may be JSON text)."""
    import json

    calls = []
    for c in m.get("tool_calls") or []:
        fn = c.get("function", c)
        args = fn.get("arguments") or {}
        calls.append({"name": fn["name"], "arguments": json.loads(args) if isinstance(args, str)
                      else args, **({"id": c["id"]} if c.get("id") else {})})
    out = {k: m.get(k) for k in ("role", "content", "tool_call_id", "name") if m.get(k)}
    return {**out, "tool_calls": calls}


def request_tools(request: dict[str, Any]) -> list[ToolSpec]:
    return [t if isinstance(t, ToolSpec) else ToolSpec.from_openai(t)
            for t in request.get("tools") or []]


def request_schema(request: dict[str, Any]) -> dict[str, Any] | None:
    """The output JSON Schema of an OpenAI ``response_format`` (or a bare ``schema``)."""
    fmt = request.get("response_format") or {}
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        return (fmt.get("json_schema") or {}).get("schema")
    return request.get("schema")


def complete_kwargs(record: CallRecord, max_tokens: int) -> dict[str, Any]:
    """The ``ChatModel.complete`` arguments that replay a recorded request."""
    req = record.request
    tools = request_tools(req)
    kw: dict[str, Any] = {"max_tokens": req.get("max_tokens") or max_tokens, "temperature": 0.0}
    if tools and req.get("tool_choice") != "none":
        kw["tools"] = tools
        kw["tool_choice"] = req.get("tool_choice") or "auto"
        kw["parallel_tool_calls"] = req.get("parallel_tool_calls", True)
    elif (schema := request_schema(req)) is not None:
        kw["schema"] = schema
    return kw
