"""Replaying recorded requests on another model, one result line per request, resumable."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ..errors import SlmstackError
from ..store.records import CallRecord
from ..types import Completion
from .protocols import Verifier
from .score import agreement, response_calls
from .tasks import complete_kwargs, request_messages


def digest(record: CallRecord) -> str:
    """What a replay result depends on: the request and the incumbent's response."""
    import hashlib

    blob = json.dumps([record.request, record.response], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


class ReplayResult(BaseModel):
    id: str  # the incumbent's CallRecord id
    digest: str = ""  # of the record it replayed: a changed record is replayed again
    model: str
    agreement: float
    verdict: float | None = None
    error: str | None = None
    shadow: CallRecord  # the candidate's call, recorded as a shadow of the incumbent's


def replay_one(
    model: Any, uri: str, record: CallRecord, max_tokens: int, verifier: Verifier | None
) -> ReplayResult:
    t0 = time.time()
    try:
        comp = model.complete(request_messages(record.request),
                              **complete_kwargs(record, max_tokens))
    except SlmstackError as exc:
        comp, error = Completion(model=uri, finish_reason="error"), str(exc)
    else:
        error = None
    score = 0.0 if error else agreement(record, comp)
    verdict = verifier(record, comp) if verifier is not None and error is None else None
    return ReplayResult(
        id=record.id, digest=digest(record), model=uri, agreement=score, verdict=verdict,
        error=error,
        shadow=_shadow_record(record, comp, uri, t0, error, verdict),
    )


def _shadow_record(
    record: CallRecord, comp: Completion, uri: str, t0: float, error: str | None,
    verdict: float | None,
) -> CallRecord:
    return CallRecord(
        task_id=record.task_id, ts=t0, route=record.route, model=uri, request=record.request,
        response={"text": comp.text, "tool_calls": [c.model_dump() for c in comp.tool_calls],
                  "parsed": comp.parsed},
        input_tokens=comp.usage.input_tokens, output_tokens=comp.usage.output_tokens,
        latency_s=comp.latency_s, cost_usd=comp.cost_usd, shadow_of=record.id, error=error,
        verdict_score=verdict,
    )


class ResultLog:
    """Append-only JSON lines of ReplayResults keyed by (model, id, digest); survives kill -9."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.done: dict[tuple[str, str, str], ReplayResult] = {}
        if path.is_file():
            for line in path.read_text("utf-8").splitlines():
                self._load(line)

    def _load(self, line: str) -> None:
        try:
            r = ReplayResult.model_validate_json(line)
        except ValueError:  # a line cut short by a crash: that request is replayed again
            return
        self.done[(r.model, r.id, r.digest)] = r

    def has(self, model: str, record: CallRecord) -> bool:
        return (model, record.id, digest(record)) in self.done

    def add(self, r: ReplayResult) -> None:
        self.done[(r.model, r.id, r.digest)] = r
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(r.model_dump_json() + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def results(self, model: str, records: Iterable[CallRecord]) -> list[ReplayResult]:
        keys = [(model, r.id, digest(r)) for r in records]
        return [self.done[k] for k in keys if k in self.done]


def summarize(results: list[ReplayResult]) -> dict[str, Any]:
    n = len(results) or 1
    verdicts = [r.verdict for r in results if r.verdict is not None]
    return {
        "n": len(results),
        "agreement": round(sum(r.agreement for r in results) / n, 4),
        "verdict": round(sum(verdicts) / len(verdicts), 4) if verdicts else None,
        "errors": sum(r.error is not None for r in results),
        "cost_usd": round(sum(r.shadow.cost_usd for r in results), 8),
        "latency_s": round(sum(r.shadow.latency_s for r in results) / n, 4),
        "examples": [json.loads(r.model_dump_json(include={"id", "agreement", "error"}))
                     for r in results[:3]],
    }


def recorded_completion(record: CallRecord) -> Completion:
    """The incumbent's recorded reply as a Completion (what a verifier scores)."""
    response = record.response or {}
    return Completion(model=record.model, text=response.get("text") or "",
                      tool_calls=response_calls(response), parsed=response.get("parsed"))


def rescored(result: ReplayResult, record: CallRecord, verifier: Verifier) -> ReplayResult:
    """``result`` with its verdict from ``verifier`` (the log keeps the verdict of the run that
    replayed it, which may have used another verifier)."""
    if result.error is not None:
        return result
    verdict = verifier(record, recorded_completion(result.shadow))
    return result.model_copy(update={"verdict": verdict})
