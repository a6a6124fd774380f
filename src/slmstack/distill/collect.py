"""Stage 1 — collect: select the model calls of a time window / routes / models from the store."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from typing import Any

from ..errors import UserError
from ..store.records import CallRecord
from .artifacts import RunDir, write_jsonl
from .config import CollectConfig

STAGE = "collect"
CALLS = "calls.jsonl"


def collect(run: RunDir, source: Any, cfg: CollectConfig, *, force: bool = False) -> dict[str, Any]:
    """Write the selected CallRecords to ``collect/calls.jsonl``.

    ``source`` is a trace store (anything with ``model_calls(since, until, routes, models)``) or
    any iterable of CallRecords; the filters are applied here as well, so both behave the same.
    Shadow calls (``shadow_of`` set) are never collected: they answered no one.
    """
    if run.finished(STAGE) and not force:
        return run.meta(STAGE) or {}
    started = time.time()
    records = [r for r in _records(source, cfg) if _keep(r, cfg)]
    if not records:
        raise UserError(
            f"no model calls matched the collect filters {cfg.model_dump()!r}",
            "widen the time window / routes / models, or record traffic through the gateway",
        )
    write_jsonl(run.stage(STAGE) / CALLS, records)
    run.invalidate_after(STAGE)
    return run.finish(
        STAGE,
        config=cfg.model_dump(),
        inputs={"source": type(source).__name__},
        metrics=_metrics(records),
        started=started,
    )


def _records(source: Any, cfg: CollectConfig) -> Iterable[CallRecord]:
    if hasattr(source, "model_calls"):
        return source.model_calls(
            since=cfg.since, until=cfg.until, routes=cfg.routes or None, models=cfg.models or None
        )
    return source


def _keep(r: CallRecord, cfg: CollectConfig) -> bool:
    if r.shadow_of is not None:
        return False
    if cfg.since is not None and r.ts < cfg.since:
        return False
    if cfg.until is not None and r.ts >= cfg.until:
        return False
    if cfg.routes and r.route not in cfg.routes:
        return False
    return not (cfg.models and r.model not in cfg.models)


def _metrics(records: list[CallRecord]) -> dict[str, Any]:
    return {
        "calls": len(records),
        "by_route": dict(Counter(r.route or "-" for r in records)),
        "by_model": dict(Counter(r.model for r in records)),
        "cost_usd": round(sum(r.cost_usd for r in records), 8),
        "ts_range": [min(r.ts for r in records), max(r.ts for r in records)],
    }
