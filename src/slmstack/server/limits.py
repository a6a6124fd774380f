"""Per-key rate limits (token buckets) and budgets (USD spent, priced like the trace store).

Spending survives restarts: at start the gateway sums what each key's calls in the trace store
cost under the current price table, then adds each new call as it finishes.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from .errors import GatewayError


class RateLimiter:
    """``rpm`` requests per minute per key, with bursts up to ``rpm``."""

    def __init__(self) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}  # key → (tokens, last refill)
        self._lock = threading.Lock()

    def acquire(self, key: str, rpm: int | None) -> None:
        """Take one request from ``key``'s bucket, or raise 429 with Retry-After."""
        if rpm is None:
            return
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(rpm), now))
            tokens = min(float(rpm), tokens + (now - last) * rpm / 60.0)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                wait = (1.0 - tokens) * 60.0 / rpm
                raise GatewayError(
                    429, f"rate limit of {rpm} requests/minute reached for key {key!r}; "
                    f"retry in {wait:.1f} s or ask for a higher limit (`slmstack keys create "
                    "--rpm`)",
                    type="rate_limit_error", code="rate_limit_exceeded",
                    headers={"Retry-After": str(max(1, round(wait + 0.5)))},
                )
            self._buckets[key] = (tokens - 1.0, now)


class Budgets:
    """USD spent per key; a key at or over its budget is refused with 429 insufficient_quota."""

    def __init__(self, spent: dict[str, float] | None = None) -> None:
        self._spent = dict(spent or {})
        self._lock = threading.Lock()

    def spent(self, key: str) -> float:
        return self._spent.get(key, 0.0)

    def check(self, key: str, budget_usd: float | None) -> None:
        if budget_usd is None:
            return
        spent = self.spent(key)
        if spent >= budget_usd:
            raise GatewayError(
                429, f"key {key!r} has spent ${spent:.6f} of its ${budget_usd:.6f} budget; "
                "create a key with a larger --budget or raise this key's budget",
                type="insufficient_quota", code="insufficient_quota",
            )

    def add(self, key: str | None, usd: float) -> None:
        if key is None or usd <= 0:
            return
        with self._lock:
            self._spent[key] = self._spent.get(key, 0.0) + usd


def spent_per_key(store: Any, prices: Any) -> dict[str, float]:
    """USD each key has spent so far, from the trace store, priced by ``prices``."""
    from sqlalchemy import func, select

    from ..store.schema import model_calls as mc

    store.flush()
    q = (select(mc.c.api_key_id, mc.c.model, func.sum(mc.c.input_tokens),
                func.sum(mc.c.output_tokens), func.sum(mc.c.latency_s), func.sum(mc.c.cost_usd))
         .where(mc.c.api_key_id.is_not(None)).group_by(mc.c.api_key_id, mc.c.model))
    out: dict[str, float] = {}
    with store.engine.connect() as conn:
        for kid, model, n_in, n_out, secs, recorded in conn.execute(q):
            priced = prices.cost(model, int(n_in or 0), int(n_out or 0), float(secs or 0.0))
            out[kid] = out.get(kid, 0.0) + (float(recorded or 0.0) if priced is None else priced)
    return out
