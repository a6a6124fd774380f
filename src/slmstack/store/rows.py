"""Records ⇄ table rows. CallRecord fields map to columns of the same name; fields added to
CallRecord after the latest migration travel in ``model_calls.extra`` until one promotes them."""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel

from .records import CallRecord, new_id
from .schema import model_calls

CALL_COLUMNS = frozenset(c.name for c in model_calls.columns) - {"extra"}


def call_row(rec: CallRecord) -> dict[str, Any]:
    data = rec.model_dump(mode="json")
    row = {k: v for k, v in data.items() if k in CALL_COLUMNS}
    extra = {k: v for k, v in data.items() if k not in CALL_COLUMNS}
    row["extra"] = extra or None
    return row


def call_record(row: Any) -> CallRecord:
    data = dict(row._mapping)
    extra = data.pop("extra", None) or {}
    data = {k: v for k, v in data.items() if v is not None or k in _NULLABLE}
    return CallRecord.model_validate({**extra, **data})


_NULLABLE = frozenset(
    name for name, f in CallRecord.model_fields.items() if f.default is None
)


def as_dict(obj: BaseModel | dict[str, Any]) -> dict[str, Any]:
    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json")
    if isinstance(obj, dict):
        return dict(obj)
    raise TypeError(f"expected a pydantic model or a dict, got {type(obj).__name__!r}")


def _usage(d: dict[str, Any]) -> tuple[int, int]:
    usage = d.get("usage") or {}
    return (
        int(usage.get("input_tokens", d.get("input_tokens", 0)) or 0),
        int(usage.get("output_tokens", d.get("output_tokens", 0)) or 0),
    )


def step_row(
    d: dict[str, Any], task_id: str | None, parent_id: str | None, step_id: str
) -> dict[str, Any]:
    """One agent step (ModelStep/ToolStep/GuardStep/FinalStep or a dict shaped like one)."""
    tokens_in, tokens_out = _usage(d)
    model = d.get("model") or (d.get("completion") or {}).get("model")
    return {
        "id": step_id,
        "task_id": task_id or d.get("task_id"),
        "parent_id": parent_id or d.get("parent_id"),
        "idx": d.get("index"),
        "kind": str(d.get("kind") or "step"),
        "started_at": float(d.get("started_at") or d.get("ts") or time.time()),
        "duration_s": float(d.get("duration_s") or 0.0),
        "model": model,
        "input_tokens": tokens_in,
        "output_tokens": tokens_out,
        "cost_usd": float(d.get("cost_usd") or 0.0),
        "data": d,
    }


def tool_row(step: dict[str, Any]) -> dict[str, Any] | None:
    """The tool_calls row of a tool step (``call`` = {id, name, arguments}); None otherwise."""
    call = step["data"].get("call")
    if step["kind"] != "tool" or not isinstance(call, dict):
        return None
    d = step["data"]
    return {
        "id": str(call.get("id") or new_id()),
        "task_id": step["task_id"],
        "step_id": step["id"],
        "ts": step["started_at"],
        "name": str(call.get("name") or ""),
        "arguments": call.get("arguments"),
        "ok": bool(d.get("ok", True)),
        "output": d.get("output"),
        "error": d.get("error"),
        "duration_s": step["duration_s"],
        "source": d.get("source"),
    }


def verdict_row(target_id: str, score: float, findings: Any, ts: float | None) -> dict[str, Any]:
    if isinstance(findings, BaseModel):
        findings = findings.model_dump(mode="json")
    elif isinstance(findings, list):
        findings = [as_dict(f) if isinstance(f, BaseModel) else f for f in findings]
    return {
        "id": new_id(),
        "target_id": target_id,
        "ts": ts or time.time(),
        "score": float(score),
        "findings": findings,
    }
