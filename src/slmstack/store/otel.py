"""Stored traces → OpenTelemetry GenAI spans, sent over OTLP/HTTP to any collector.

One trace per task (calls without a task get their own): a task span (``invoke_agent``) over
its agent steps, model calls (``chat``) and tool calls (``execute_tool``); verdicts become
``gen_ai.evaluation.result`` events. IDs derive from the stored ids, so exporting the same window
twice yields the same spans. Message content is left out unless ``include_content``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from itertools import islice
from typing import Any

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as ga
from opentelemetry.semconv.attributes import error_attributes
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

from ..errors import BackendUnavailable
from .records import CallRecord

SCOPE = InstrumentationScope("slmstack.store", "1")
_PROVIDERS = {"embedded": "llama.cpp", "gguf": "llama.cpp", "hf": "transformers"}


def _id(text: str, nbytes: int) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=nbytes).digest()) or 1


def _ctx(trace_key: str, span_key: str) -> SpanContext:
    return SpanContext(_id(trace_key, 16), _id(span_key, 8), is_remote=False,
                       trace_flags=TraceFlags(TraceFlags.SAMPLED))


def _ns(seconds: float) -> int:
    return int(seconds * 1e9)


def provider(model: str) -> str:
    scheme = model.split(":", 1)[0] if ":" in model else ""
    if scheme.startswith("openai"):
        return "openai"
    return _PROVIDERS.get(scheme, scheme or "unknown")


def call_attributes(rec: CallRecord, include_content: bool) -> dict[str, Any]:
    req, resp = rec.request or {}, rec.response or {}
    attrs: dict[str, Any] = {
        ga.GEN_AI_OPERATION_NAME: "chat",
        ga.GEN_AI_PROVIDER_NAME: provider(rec.model),
        ga.GEN_AI_REQUEST_MODEL: rec.model,
        ga.GEN_AI_RESPONSE_MODEL: resp.get("model") or rec.model,
        ga.GEN_AI_RESPONSE_ID: rec.id,
        ga.GEN_AI_USAGE_INPUT_TOKENS: rec.input_tokens,
        ga.GEN_AI_USAGE_OUTPUT_TOKENS: rec.output_tokens,
        "slmstack.tier": rec.tier,
        "slmstack.cost_usd": rec.cost_usd,
        "slmstack.escalated": rec.escalated,
    }
    optional = {
        ga.GEN_AI_CONVERSATION_ID: rec.task_id,
        ga.GEN_AI_REQUEST_MAX_TOKENS: req.get("max_tokens"),
        ga.GEN_AI_REQUEST_TEMPERATURE: req.get("temperature"),
        ga.GEN_AI_RESPONSE_FINISH_REASONS: _finish(resp),
        "slmstack.route": rec.route,
        "slmstack.routing_version": rec.routing_version,
        "slmstack.escalation_reason": rec.escalation_reason,
        "slmstack.verdict_score": rec.verdict_score,
        "slmstack.shadow_of": rec.shadow_of,
        "slmstack.api_key_id": rec.api_key_id,
        error_attributes.ERROR_TYPE: "error" if rec.error else None,
    }
    if include_content:
        optional[ga.GEN_AI_INPUT_MESSAGES] = _json(req.get("messages"))
        optional[ga.GEN_AI_OUTPUT_MESSAGES] = _json(resp or None)
    attrs.update({k: v for k, v in optional.items() if v is not None})
    return attrs


def _finish(resp: dict[str, Any]) -> list[str] | None:
    reason = resp.get("finish_reason")
    return [str(reason)] if reason else None


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, default=str)


class _Builder:
    """Collects the spans of one export window."""

    def __init__(self, resource: Resource, include_content: bool) -> None:
        self.resource = resource
        self.include_content = include_content
        self.spans: list[ReadableSpan] = []
        self.tasks: dict[str, list[float]] = {}  # task id → [start, end, in, out, cost]
        self.events: dict[str, list[Event]] = {}  # target id → evaluation events

    def _trace_key(self, task_id: str | None, own_id: str) -> str:
        return "task:" + task_id if task_id else "call:" + own_id

    def _parent(self, trace_key: str, task_id: str | None, parent_id: str | None,
                known: set[str]) -> SpanContext | None:
        if parent_id and parent_id in known:
            return _ctx(trace_key, parent_id)
        return _ctx(trace_key, "task:" + task_id) if task_id else None

    def _touch_task(self, task_id: str | None, start: float, end: float, tin: int, tout: int,
                    cost: float) -> None:
        if not task_id:
            return
        t = self.tasks.setdefault(task_id, [start, end, 0, 0, 0.0])
        t[0], t[1] = min(t[0], start), max(t[1], end)
        t[2], t[3], t[4] = t[2] + tin, t[3] + tout, t[4] + cost

    def add_call(self, rec: CallRecord, known: set[str]) -> None:
        key = self._trace_key(rec.task_id, rec.id)
        status = Status(StatusCode.ERROR, rec.error) if rec.error else Status(StatusCode.UNSET)
        self.spans.append(self._span(
            f"chat {rec.model}", _ctx(key, rec.id),
            self._parent(key, rec.task_id, rec.parent_id, known),
            call_attributes(rec, self.include_content), rec.ts, rec.ts + rec.latency_s,
            kind=SpanKind.CLIENT, status=status, events=self.events.get(rec.id, ()),
        ))
        self._touch_task(rec.task_id, rec.ts, rec.ts + rec.latency_s, rec.input_tokens,
                         rec.output_tokens, rec.cost_usd)

    def add_step(self, step: dict[str, Any], known: set[str]) -> None:
        if step["kind"] == "tool":
            return  # exported from tool_calls (execute_tool spans)
        key = self._trace_key(step["task_id"], step["id"])
        attrs: dict[str, Any] = {"slmstack.step.kind": step["kind"],
                                 "slmstack.step.index": step["idx"],
                                 ga.GEN_AI_USAGE_INPUT_TOKENS: step["input_tokens"],
                                 ga.GEN_AI_USAGE_OUTPUT_TOKENS: step["output_tokens"],
                                 "slmstack.cost_usd": step["cost_usd"]}
        if step["model"]:
            attrs[ga.GEN_AI_REQUEST_MODEL] = step["model"]
        start, end = step["started_at"], step["started_at"] + step["duration_s"]
        self.spans.append(self._span(
            f"step {step['kind']}", _ctx(key, step["id"]),
            self._parent(key, step["task_id"], step["parent_id"], known),
            {k: v for k, v in attrs.items() if v is not None}, start, end,
            events=self.events.get(step["id"], ()),
        ))
        self._touch_task(step["task_id"], start, end, 0, 0, 0.0)

    def add_tool(self, tool: dict[str, Any], known: set[str]) -> None:
        key = self._trace_key(tool["task_id"], tool["id"])
        attrs: dict[str, Any] = {ga.GEN_AI_OPERATION_NAME: "execute_tool",
                                 ga.GEN_AI_TOOL_NAME: tool["name"],
                                 ga.GEN_AI_TOOL_CALL_ID: tool["id"],
                                 "slmstack.tool.source": tool["source"] or "python"}
        if self.include_content:
            attrs[ga.GEN_AI_TOOL_CALL_ARGUMENTS] = _json(tool["arguments"]) or "{}"
            attrs[ga.GEN_AI_TOOL_CALL_RESULT] = tool["output"] or ""
        status = (Status(StatusCode.UNSET) if tool["ok"]
                  else Status(StatusCode.ERROR, tool["error"] or "tool failed"))
        if not tool["ok"]:
            attrs[error_attributes.ERROR_TYPE] = "tool_error"
        start, end = tool["ts"], tool["ts"] + tool["duration_s"]
        self.spans.append(self._span(
            f"execute_tool {tool['name']}", _ctx(key, "tool:" + tool["id"]),
            self._parent(key, tool["task_id"], tool["step_id"], known), attrs, start, end,
            status=status,
        ))
        self._touch_task(tool["task_id"], start, end, 0, 0, 0.0)

    def add_verdict(self, v: dict[str, Any]) -> None:
        attrs = {ga.GEN_AI_EVALUATION_NAME: "slmstack.verifier",
                 ga.GEN_AI_EVALUATION_SCORE_VALUE: float(v["score"])}
        if v["findings"] is not None:
            attrs[ga.GEN_AI_EVALUATION_EXPLANATION] = _json(v["findings"]) or ""
        self.events.setdefault(v["target_id"], []).append(
            Event("gen_ai.evaluation.result", attrs, timestamp=_ns(v["ts"])))

    def add_tasks(self, rows: dict[str, dict[str, Any]]) -> None:
        for task_id, (start, end, tin, tout, cost) in self.tasks.items():
            row = rows.get(task_id) or {}
            name = row.get("kind") or "task"
            attrs = {ga.GEN_AI_OPERATION_NAME: "invoke_agent", ga.GEN_AI_CONVERSATION_ID: task_id,
                     ga.GEN_AI_AGENT_NAME: name, ga.GEN_AI_USAGE_INPUT_TOKENS: int(tin),
                     ga.GEN_AI_USAGE_OUTPUT_TOKENS: int(tout), "slmstack.cost_usd": cost}
            key = "task:" + task_id
            self.spans.append(self._span(f"invoke_agent {name}", _ctx(key, key), None, attrs,
                                         start, end, events=self.events.get(task_id, ())))

    def _span(self, name: str, ctx: SpanContext, parent: SpanContext | None,
              attrs: dict[str, Any], start: float, end: float, *,
              kind: SpanKind = SpanKind.INTERNAL, status: Status | None = None,
              events: Any = ()) -> ReadableSpan:
        return ReadableSpan(
            name=name, context=ctx, parent=parent, resource=self.resource, attributes=attrs,
            events=tuple(events), kind=kind, status=status or Status(StatusCode.UNSET),
            start_time=_ns(start), end_time=_ns(max(start, end)), instrumentation_scope=SCOPE,
        )


def build_spans(store: Any, since: float | None = None, until: float | None = None, *,
                include_content: bool = False,
                resource: Resource | None = None) -> list[ReadableSpan]:
    """The window's tasks, steps, model calls, tool calls and verdicts as ReadableSpans."""
    store.flush()
    b = _Builder(resource or Resource.create({"service.name": "slmstack"}), include_content)
    calls = list(store.model_calls(since=since, until=until))
    steps = store.steps(since=since, until=until)
    tools = store.tool_calls(since=since, until=until)
    for v in store.verdicts(since=since, until=until):
        b.add_verdict(v)
    known = {c.id for c in calls} | {s["id"] for s in steps if s["kind"] != "tool"}
    for rec in calls:
        b.add_call(rec, known)
    for s in steps:
        b.add_step(s, known)
    for t in tools:
        b.add_tool(t, known)
    b.add_tasks({t["id"]: t for t in store.tasks() if t["id"] in b.tasks})
    return b.spans


def traces_url(endpoint: str) -> str:
    """``http://host:4318`` → ``http://host:4318/v1/traces`` (a full traces URL is kept)."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith("/v1/traces") else endpoint + "/v1/traces"


def _chunks(items: list[ReadableSpan], n: int) -> Iterator[list[ReadableSpan]]:
    it = iter(items)
    while chunk := list(islice(it, n)):
        yield chunk


def export_otlp(store: Any, endpoint: str, *, since: float | None = None,
                until: float | None = None, include_content: bool = False,
                timeout_s: float = 10.0, batch_size: int = 512,
                headers: dict[str, str] | None = None, service_name: str = "slmstack") -> int:
    """Send the window's spans to an OTLP/HTTP collector; the number of spans sent."""
    resource = Resource.create({"service.name": service_name})
    spans = build_spans(store, since, until, include_content=include_content, resource=resource)
    url = traces_url(endpoint)
    exporter = OTLPSpanExporter(endpoint=url, timeout=timeout_s, headers=headers)
    try:
        sent = 0
        for chunk in _chunks(spans, batch_size):
            if exporter.export(chunk) is not SpanExportResult.SUCCESS:
                raise BackendUnavailable(
                    f"OTLP collector at {url!r} refused or did not answer "
                    f"({sent} of {len(spans)} spans sent)",
                    "check that the collector listens there (OTLP/HTTP, usually port 4318)",
                )
            sent += len(chunk)
        return sent
    finally:
        exporter.shutdown()
