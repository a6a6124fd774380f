"""The router's calls as ``CallRecord``s: the OpenAI-shaped request (what distillation replays),
the response, tokens, cost, route, routing-table version and why an answer was escalated."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..store.records import CallRecord
from ..types import Completion, Message, ToolSpec
from .escalation import Attempt


@dataclass
class RoutedRequest:
    """A normalised request as the router handles it."""

    messages: list[Message]
    tools: list[ToolSpec] = field(default_factory=list)
    tool_choice: Any = "auto"
    schema: dict[str, Any] | None = None
    max_tokens: int = 512
    temperature: float = 0.0
    stop: list[str] | None = None
    parallel_tool_calls: bool = True
    offered: list[ToolSpec] | None = None  # the tools the tiers see (the tool gate's); None: all

    @property
    def offered_tools(self) -> list[ToolSpec]:
        return self.tools if self.offered is None else self.offered

    def kwargs(self, constraints: dict[str, Any] | None = None) -> dict[str, Any]:
        """``ChatModel.complete`` keyword arguments, with a route's constraints applied:
        ``max_tokens`` caps the caller's, ``temperature``/``stop``/``parallel_tool_calls``
        replace them; other constraint keys are ignored here."""
        kw: dict[str, Any] = {
            "max_tokens": self.max_tokens, "temperature": self.temperature, "stop": self.stop,
        }
        tools = self.offered_tools
        if tools:
            kw |= {"tools": tools, "parallel_tool_calls": self.parallel_tool_calls}
        if tools or self.tool_choice != "auto":  # the backend checks it against the tools
            kw["tool_choice"] = self.tool_choice
        if self.schema is not None:
            kw["schema"] = self.schema
        c = constraints or {}
        if isinstance(c.get("max_tokens"), int) and c["max_tokens"] > 0:
            kw["max_tokens"] = min(kw["max_tokens"], c["max_tokens"])
        for key in ("temperature", "stop"):
            if key in c:
                kw[key] = c[key]
        if "parallel_tool_calls" in c and tools:
            kw["parallel_tool_calls"] = bool(c["parallel_tool_calls"])
        return kw

    def to_openai(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "messages": [m.to_openai() for m in self.messages],
            "max_tokens": self.max_tokens, "temperature": self.temperature,
        }
        if self.tools:
            out |= {"tools": [t.to_openai() for t in self.tools],
                    "tool_choice": self.tool_choice,
                    "parallel_tool_calls": self.parallel_tool_calls}
        if self.schema is not None:
            out["response_format"] = {"type": "json_schema",
                                      "json_schema": {"name": "output", "schema": self.schema}}
        if self.stop:
            out["stop"] = self.stop
        return out


def response_of(comp: Completion | None) -> dict[str, Any]:
    if comp is None:
        return {}
    return {"text": comp.text, "tool_calls": [c.model_dump() for c in comp.tool_calls],
            "parsed": comp.parsed, "finish_reason": comp.finish_reason}


@dataclass
class RecordContext:
    """What every record of one routed request shares."""

    request: dict[str, Any]
    content: bool  # write request/response content to the store
    route: str
    routing_version: int | None
    kind_source: str
    router: str
    task_id: str | None = None
    parent_id: str | None = None
    api_key_id: str | None = None
    threshold: float | None = None  # the route's verifier threshold


def call_record(
    ctx: RecordContext, att: Attempt, index: int, parent: str | None, *, escalated: bool,
    shadow_of: str | None = None, content: bool | None = None,
) -> CallRecord:
    """``content``: keep messages and replies (default: the context's setting)."""
    comp, keep = att.completion, ctx.content if content is None else content
    meta = {"router": ctx.router, "attempt": index, "kind_source": ctx.kind_source}
    if att.error is not None:
        error: str | None = f"{type(att.error).__name__}: {att.error}"[:1000]
    else:
        error = None
    return CallRecord(
        id=att.record_id, task_id=ctx.task_id, parent_id=parent, ts=att.started,
        route=ctx.route, routing_version=ctx.routing_version, model=att.model, tier=att.tier,
        request={**(ctx.request if keep else {}), "metadata": meta},
        response=response_of(comp) if keep else {},
        input_tokens=comp.usage.input_tokens if comp else 0,
        output_tokens=comp.usage.output_tokens if comp else 0,
        latency_s=att.latency_s, cost_usd=comp.cost_usd if comp else 0.0,
        escalated=escalated, escalation_reason=att.reason if escalated else None,
        verdict_score=att.score, shadow_of=shadow_of, error=error, api_key_id=ctx.api_key_id,
    )
