"""Stage 6b — promote: a new routing-table version sends each passing task kind to its student
(the incumbent becomes its first fallback); ``rollback`` restores the previous version."""

from __future__ import annotations

import time
from typing import Any

from ..store.records import Route, RoutingTable
from .artifacts import RunDir
from .protocols import RoutingSink
from .shadow import load_decisions

STAGE = "promote"


def promoted_table(table: RoutingTable, kind: str, candidate: str) -> RoutingTable:
    new = table.model_copy(deep=True)
    old = new.routes.get(kind) or new.routes.get(new.default)
    if old is None:
        new.routes[kind] = Route(model=candidate)
    else:
        chain = [m for m in [old.model, *old.fallbacks] if m != candidate]
        new.routes[kind] = old.model_copy(update={"model": candidate, "fallbacks": chain,
                                                  "shadow": None})
    return new


def promote(run: RunDir, sink: RoutingSink, *, force: bool = False) -> dict[str, Any]:
    """Write one routing-table version promoting every kind whose shadow run passed."""
    if run.finished(STAGE) and not force:
        return run.meta(STAGE) or {}
    started = time.time()
    decisions = load_decisions(run, STAGE)
    passed = {k: d for k, d in decisions.items() if d["passed"]}
    before = sink.current_routing_table() or RoutingTable()  # a store with no table yet
    metrics: dict[str, Any] = {"promoted": sorted(passed), "previous_version": before.version,
                               "held_back": sorted(set(decisions) - set(passed))}
    if passed:
        table = before
        for kind, d in passed.items():
            table = promoted_table(table, kind, d["candidate"])
        note = "distill: " + ", ".join(
            f"{k} → {d['candidate']} ({_why(d)})" for k, d in passed.items())
        metrics["version"] = sink.save_routing_table(table, note).version
    return run.finish(STAGE, config={}, inputs={"shadow": "decisions.json"}, metrics=metrics,
                      started=started)


def rollback(sink: RoutingSink) -> RoutingTable:
    return sink.rollback_routing_table()


def _why(decision: dict[str, Any]) -> str:
    v = decision.get("verified") or {}
    why = f"agreement {decision['agreement']:.2f}"
    if v.get("incumbent_pass"):
        why += f", verifier accepts {v['candidate_pass']:.2f} vs {v['incumbent_pass']:.2f}"
    return why
