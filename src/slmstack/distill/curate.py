"""Stage 2 — curate: drop failed / escalated / low-integrity / duplicate calls, redact PII.

Nothing un-redacted leaves this stage: every string of the request messages and the response
goes through :class:`~slmstack.distill.redact.Redactor`. Tool schemas (``tools``,
``response_format``) are the application's own definitions, not user data, and are kept.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from typing import Any

from ..store.records import CallRecord
from .artifacts import RunDir, read_jsonl, write_json, write_jsonl
from .collect import CALLS
from .config import CurateConfig
from .redact import Redactor, installed_spacy_model

STAGE = "curate"
EXAMPLES = "examples.jsonl"
REPORT = "report.json"
SCHEMA_KEYS = ("tools", "response_format", "tool_choice", "parallel_tool_calls")


def curate(run: RunDir, cfg: CurateConfig, *, force: bool = False) -> dict[str, Any]:
    if run.finished(STAGE) and not force:
        return run.meta(STAGE) or {}
    started = time.time()
    records = list(read_jsonl(run.require("collect", STAGE) / CALLS, CallRecord))
    kept, removed = filter_records(records, cfg)
    kept, dupes = dedup(kept)  # exact repeats; before redaction, which makes requests alike
    removed.extend({"id": r.id, "reason": "duplicate"} for r in dupes)
    redactor = Redactor(threshold=cfg.score_threshold)
    kept = [redact_record(r, redactor) for r in kept]
    report = _report(records, kept, removed, redactor)
    write_jsonl(run.stage(STAGE) / EXAMPLES, kept)
    write_json(run.stage(STAGE) / REPORT, report)
    run.invalidate_after(STAGE)
    metrics = {k: report[k] for k in ("input", "kept", "removed_by_reason", "redacted")}
    return run.finish(
        STAGE, config=cfg.model_dump(), inputs={"collect": CALLS}, metrics=metrics, started=started
    )


def drop_reason(r: CallRecord, cfg: CurateConfig) -> str | None:
    """Why a call is unfit to learn from, or None when it is fit."""
    if r.error:
        return "failed"
    if cfg.drop_escalated and r.escalated:
        return "escalated"
    if r.verdict_score is not None and r.verdict_score < cfg.min_verdict:
        return "low_integrity"
    if not r.response.get("text") and not r.response.get("tool_calls"):
        return "empty_response"
    if not r.request.get("messages"):
        return "no_messages"
    return None


def filter_records(
    records: list[CallRecord], cfg: CurateConfig
) -> tuple[list[CallRecord], list[dict[str, Any]]]:
    kept, removed = [], []
    for r in records:
        reason = drop_reason(r, cfg)
        if reason is None:
            kept.append(r)
        else:
            removed.append({"id": r.id, "reason": reason})
    return kept, removed


def redact_record(r: CallRecord, redactor: Redactor) -> CallRecord:
    """Free text and argument values are redacted; roles, ids and tool names are structure."""
    request = dict(r.request)
    request["messages"] = [_redact_message(m, redactor) for m in r.request.get("messages") or []]
    response = _redact_message(r.response, redactor)
    error = redactor.text(r.error) if r.error else None
    return r.model_copy(update={"request": request, "response": response, "error": error})


def _redact_message(m: dict[str, Any], redactor: Redactor) -> dict[str, Any]:
    out = dict(m)
    for key in ("content", "text", "parsed"):
        if out.get(key) is not None:
            out[key] = redactor.value(out[key])
    if out.get("tool_calls"):
        out["tool_calls"] = [_redact_call(c, redactor) for c in out["tool_calls"]]
    return out


def _redact_call(call: dict[str, Any], redactor: Redactor) -> dict[str, Any]:
    if "function" in call:  # OpenAI form: arguments are JSON text
        fn = dict(call["function"])
        fn["arguments"] = redactor.value(fn.get("arguments"))
        return {**call, "function": fn}
    return {**call, "arguments": redactor.value(call.get("arguments"))}


def request_key(r: CallRecord) -> str:
    """The identity of a request: messages, tools and constraints (not ids or timing)."""
    keys = ("messages", *SCHEMA_KEYS)
    blob = json.dumps({k: r.request.get(k) for k in keys}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def dedup(records: list[CallRecord]) -> tuple[list[CallRecord], list[CallRecord]]:
    seen: set[str] = set()
    kept, dupes = [], []
    for r in records:
        key = request_key(r)
        (dupes if key in seen else kept).append(r)
        seen.add(key)
    return kept, dupes


def _report(
    records: list[CallRecord],
    kept: list[CallRecord],
    removed: list[dict[str, Any]],
    redactor: Redactor,
) -> dict[str, Any]:
    return {
        "input": len(records),
        "kept": len(kept),
        "removed_by_reason": dict(Counter(x["reason"] for x in removed)),
        "removed": removed,
        "redacted": dict(redactor.found),
        "ner": installed_spacy_model() or "off (no spaCy model installed: pattern recognizers)",
    }
