"""Agent step records (``slmstack.agent.records``) and recorded calls → a ``Trace``.

Read by duck typing on the records' ``kind`` so the verifier does not import the agent runtime."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from .trace import Evidence, ToolResult, Trace, answer_text

KB_TOOLS = ("kb_search", "kb_read", "kb_neighbours")


def _get(obj: Any, name: str, default: Any = None) -> Any:
    return obj.get(name, default) if isinstance(obj, dict) else getattr(obj, name, default)


def _content(message: Any) -> str:
    return _get(message, "content") or ""


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def trace_from_records(records: Sequence[Any]) -> Trace:
    trace = Trace()
    for rec in records:
        kind = _get(rec, "kind")
        if kind == "model":
            _model_step(trace, rec)
        elif kind == "tool":
            _tool_step(trace, rec)
        elif kind == "final":
            trace.answer = answer_text(_get(rec, "answer"))
    if trace.answer and trace.steps and trace.steps[-1] == trace.answer.strip():
        trace.steps.pop()  # the answer restated as the last line is not a reasoning step
    return trace


def _model_step(trace: Trace, rec: Any) -> None:
    if not trace.question:
        users = [m for m in _get(rec, "messages", []) if _get(m, "role") == "user"]
        trace.question = _content(users[0]) if users else ""
    completion = _get(rec, "completion")
    if completion is not None:
        trace.steps.extend(_lines(_get(completion, "text") or ""))


def _tool_step(trace: Trace, rec: Any) -> None:
    call = _get(rec, "call")
    name, args = _get(call, "name", ""), _get(call, "arguments", {}) or {}
    output, ok = _get(rec, "output", "") or "", bool(_get(rec, "ok", True))
    trace.tool_results.append(
        ToolResult(name=name, arguments=args, output=output, ok=ok, id=_get(call, "id"))
    )
    if ok and name in KB_TOOLS:
        trace.evidence.extend(passages(output))


def passages(output: str) -> list[Evidence]:
    """Knowledge-base passages (``{"chunk_id", "citation", "text"}``) in a tool's output."""
    try:
        data = json.loads(output)
    except (ValueError, TypeError):
        return []
    items = data if isinstance(data, list) else [data]
    return [
        Evidence(id=str(d.get("chunk_id", d.get("citation", i))), text=str(d["text"]),
                 citation=str(d.get("citation", "")))
        for i, d in enumerate(items)
        if isinstance(d, dict) and "text" in d
    ]


def trace_from_call(request: dict[str, Any], response_text: str) -> Trace:
    messages = request.get("messages", []) or []
    users = [m for m in messages if _get(m, "role") == "user"]
    tools = [
        ToolResult(name=_get(m, "name") or "tool", output=_content(m), id=_get(m, "tool_call_id"))
        for m in messages
        if _get(m, "role") == "tool"
    ]
    lines = _lines(response_text or "")
    return Trace(
        question=_content(users[0]) if users else "",
        steps=lines[:-1] if len(lines) > 1 else lines,
        tool_results=tools,
        answer=lines[-1] if lines else "",
    )
