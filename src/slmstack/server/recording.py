"""What the gateway writes to the trace store for each upstream attempt (one ``CallRecord``)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from ..store.records import CallRecord
from ..types import Completion, Message


@dataclass
class Attempt:
    """One try of one model for one request; becomes a CallRecord."""

    task_id: str  # the client's task (X-Slmstack-Task) or the request id
    served: str  # the name the gateway served it under (e.g. "default", "slmstack/auto")
    uri: str  # the model's own name/URI
    key_id: str | None
    messages: list[Message]
    kwargs: dict[str, Any]
    routed: bool = False  # served by the router: it takes the task and key ids
    self_recorded: bool = False  # ... and writes its own records (route, escalations)
    ts: float = field(default_factory=time.time)
    t0: float = field(default_factory=time.perf_counter)

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0


def request_json(messages: list[Message], kwargs: dict[str, Any]) -> dict[str, Any]:
    req: dict[str, Any] = {"messages": [m.to_openai() for m in messages]}
    for k, v in kwargs.items():
        if v is None:
            continue
        if k == "tools":
            v = [t.to_openai() for t in v]
        req[k] = v
    return req


def response_json(comp: Completion) -> dict[str, Any]:
    out: dict[str, Any] = {"text": comp.text, "finish_reason": comp.finish_reason}
    if comp.tool_calls:
        out["tool_calls"] = [c.to_openai() for c in comp.tool_calls]
    if comp.parsed is not None:
        out["parsed"] = comp.parsed
    if comp.repairs:
        out["repairs"] = comp.repairs
    return out


def call_record(a: Attempt, comp: Completion | None, *, cost: float, tier: str,
                content: bool, error: str | None = None, rid: str) -> CallRecord:
    rec = CallRecord(
        id=rid,
        task_id=a.task_id,
        ts=a.ts,
        route=_route(a.kwargs),
        model=(comp.model if comp is not None and comp.model else a.uri),
        tier=tier,
        latency_s=comp.latency_s if comp is not None and comp.latency_s else a.elapsed(),
        cost_usd=cost,
        error=error,
        api_key_id=a.key_id,
    )
    if comp is not None:
        rec.input_tokens, rec.output_tokens = comp.usage.input_tokens, comp.usage.output_tokens
    if content:
        rec.request = request_json(a.messages, a.kwargs)
        rec.response = response_json(comp) if comp is not None else {}
    rec.request["gateway_model"] = a.served
    return rec


def _route(kwargs: dict[str, Any]) -> str:
    """The request's structural kind, the router's first cut: tool_call, extract or chat."""
    if kwargs.get("tools") and kwargs.get("tool_choice") != "none":
        return "tool_call"
    return "extract" if kwargs.get("schema") is not None else "chat"
