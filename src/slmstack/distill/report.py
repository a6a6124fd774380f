"""What promotion buys: the share of recorded traffic now routed to small models, and the cost
of that traffic before (incumbent, as recorded) and after (the student's price on the tokens it
used in shadow, scaled to the kind's traffic)."""

from __future__ import annotations

from typing import Any

from ..store.records import CallRecord
from .artifacts import RunDir, read_jsonl
from .collect import CALLS
from .shadow import load_decisions
from .tasks import task_kind


def savings(run_dir: RunDir) -> dict[str, Any]:
    calls = list(read_jsonl(run_dir.require("collect", "report") / CALLS, CallRecord))
    promoted = set(((run_dir.meta("promote") or {}).get("metrics") or {}).get("promoted", []))
    decisions = load_decisions(run_dir, "report")
    moved = [c for c in calls if task_kind(c.request) in promoted]
    before = sum(c.cost_usd for c in calls)
    after = before
    for kind in promoted:
        d = decisions[kind]
        kind_cost = sum(c.cost_usd for c in moved if task_kind(c.request) == kind)
        ratio = d["cost_usd"] / d["incumbent_cost_usd"] if d["incumbent_cost_usd"] else 0.0
        after -= kind_cost * (1 - ratio)
    return {
        "calls": len(calls),
        "slm_share": round(len(moved) / len(calls), 4) if calls else 0.0,
        "cost_before_usd": round(before, 8),
        "cost_after_usd": round(after, 8),
        "cost_drop": round(1 - after / before, 4) if before else 0.0,
        "promoted": sorted(promoted),
    }
