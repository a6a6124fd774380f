"""Cost per task, route and model; share of answers served by small models; escalation rate;
p50/p95 latency — over a time window of the store.

Definitions: a call *answered* when it is not a shadow call, not escalated and has no error (one
per answered request). ``small_share`` = answered calls on tier "small" / answered calls.
``escalation_rate`` = escalated calls / answered calls (with two tiers: the share of requests
that needed the large model). Latency percentiles are per model call, shadow calls excluded.
Costs include shadow calls (they are paid for) and are re-priced with the current PriceTable.
"""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel, Field

from .pricing import PriceTable
from .records import CallRecord


class Group(BaseModel):
    key: str
    calls: int = 0
    answered: int = 0
    escalated: int = 0
    errors: int = 0
    shadow: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    latency_p50_s: float | None = None
    latency_p95_s: float | None = None
    small_share: float | None = None
    escalation_rate: float | None = None
    tiers: list[str] = Field(default_factory=list)
    first_ts: float | None = None
    last_ts: float | None = None


class Report(BaseModel):
    since: float | None = None
    until: float | None = None
    generated_at: float = Field(default_factory=time.time)
    total: Group
    by_task: list[Group] = Field(default_factory=list)  # costliest first
    by_route: list[Group] = Field(default_factory=list)
    by_model: list[Group] = Field(default_factory=list)
    pricing: dict[str, str] = Field(default_factory=dict)  # model → gpu-hour | tokens | recorded

    @property
    def small_share(self) -> float | None:
        return self.total.small_share

    @property
    def escalation_rate(self) -> float | None:
        return self.total.escalation_rate


def percentile(values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default), ``q`` in [0, 100]."""
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


class _Acc:
    def __init__(self, key: str) -> None:
        self.g = Group(key=key)
        self.latencies: list[float] = []
        self.small = 0
        self.tiers: set[str] = set()

    def add(self, rec: CallRecord, cost: float) -> None:
        g = self.g
        g.calls += 1
        g.input_tokens += rec.input_tokens
        g.output_tokens += rec.output_tokens
        g.cost_usd += cost
        g.first_ts = rec.ts if g.first_ts is None else min(g.first_ts, rec.ts)
        g.last_ts = max(g.last_ts or rec.ts, rec.ts + rec.latency_s)
        self.tiers.add(rec.tier)
        if rec.shadow_of is not None:
            g.shadow += 1
            return
        self.latencies.append(rec.latency_s)
        g.escalated += rec.escalated
        g.errors += rec.error is not None and not rec.escalated
        if not rec.escalated and rec.error is None:
            g.answered += 1
            self.small += rec.tier == "small"

    def done(self) -> Group:
        g = self.g
        g.latency_p50_s = percentile(self.latencies, 50)
        g.latency_p95_s = percentile(self.latencies, 95)
        g.small_share = self.small / g.answered if g.answered else None
        g.escalation_rate = g.escalated / g.answered if g.answered else None
        g.tiers = sorted(self.tiers)
        return g


def summarize(records: Any, prices: PriceTable | None = None, since: float | None = None,
              until: float | None = None) -> Report:
    """Build a Report from any iterable of CallRecords."""
    prices = prices or PriceTable()
    total = _Acc("total")
    groups: dict[str, dict[str, _Acc]] = {k: {} for k in ("task", "route", "model")}
    pricing: dict[str, str] = {}
    for rec in records:
        cost = prices.cost_of(rec)
        if rec.model not in pricing:
            pricing[rec.model] = prices.basis(rec.model)
        total.add(rec, cost)
        keys = {"task": rec.task_id or rec.id, "route": rec.route or "-", "model": rec.model}
        for kind, key in keys.items():
            acc = groups[kind].get(key) or groups[kind].setdefault(key, _Acc(key))
            acc.add(rec, cost)
    done = {k: sorted((a.done() for a in v.values()), key=lambda g: (-g.cost_usd, g.key))
            for k, v in groups.items()}
    return Report(since=since, until=until, total=total.done(), by_task=done["task"],
                  by_route=done["route"], by_model=done["model"], pricing=pricing)


def build_report(store: Any, since: float | None = None, until: float | None = None,
                 prices: PriceTable | None = None) -> Report:
    store.flush()
    records = store.model_calls(since=since, until=until)
    return summarize(records, prices or PriceTable.from_settings(store.settings), since, until)
