"""Gateway metrics in the Prometheus text exposition format (version 0.0.4).

Counters and one latency histogram, kept per app (no global registry); the trace store's writer
counters (written, dropped, queue depth) are read at scrape time.
"""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict
from typing import Any

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
Labels = tuple[tuple[str, str], ...]

_HELP = {
    "slmstack_gateway_requests_total": ("counter", "HTTP requests answered, by path and status"),
    "slmstack_gateway_tokens_total": ("counter", "tokens served, by model and direction"),
    "slmstack_gateway_cost_usd_total": ("counter", "USD spent, by model"),
    "slmstack_gateway_upstream_failures_total": ("counter", "failed upstream tries, by reason"),
    "slmstack_gateway_fallbacks_total": ("counter", "requests served by a fallback model"),
    "slmstack_gateway_request_seconds": ("histogram", "request latency, by path"),
}


def _labels(labels: Labels) -> str:
    if not labels:
        return ""
    body = ",".join(f'{k}="{_escape(v)}"' for k, v in labels)
    return "{" + body + "}"


def _escape(v: str) -> str:
    return str(v).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[str, dict[Labels, float]] = defaultdict(lambda: defaultdict(float))
        self._hist: dict[Labels, list[float]] = {}  # per-bucket counts + [sum, count]

    def inc(self, name: str, value: float = 1.0, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            self._counters[name][key] += value

    def observe(self, seconds: float, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            h = self._hist.setdefault(key, [0.0] * (len(BUCKETS) + 3))  # +Inf, sum, count
            h[bisect.bisect_left(BUCKETS, seconds)] += 1  # cumulated at render time
            h[-2] += seconds
            h[-1] += 1

    def render(self, store_stats: Any = None) -> str:
        lines: list[str] = []
        with self._lock:
            for name, series in sorted(self._counters.items()):
                lines += _header(name)
                lines += [f"{name}{_labels(k)} {v:g}" for k, v in sorted(series.items())]
            if self._hist:
                lines += self._render_hist("slmstack_gateway_request_seconds")
        if store_stats is not None:
            lines += _store_lines(store_stats)
        return "\n".join(lines) + "\n"

    def _render_hist(self, name: str) -> list[str]:
        lines = _header(name)
        for key, h in sorted(self._hist.items()):
            running = 0.0
            for bound, n in zip([*BUCKETS, float("inf")], h[:-2], strict=True):
                running += n
                le = "+Inf" if bound == float("inf") else f"{bound:g}"
                lines.append(f"{name}_bucket{_labels((*key, ('le', le)))} {running:g}")
            lines.append(f"{name}_sum{_labels(key)} {h[-2]:.6f}")
            lines.append(f"{name}_count{_labels(key)} {h[-1]:g}")
        return lines


def _header(name: str) -> list[str]:
    kind, text = _HELP.get(name, ("counter", name))
    return [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]


def _store_lines(stats: Any) -> list[str]:
    out = []
    for field in ("enqueued", "written", "dropped", "failed", "queue_depth"):
        kind = "gauge" if field == "queue_depth" else "counter"
        name = ("slmstack_store_queue_depth" if kind == "gauge"
                else f"slmstack_store_records_{field}_total")
        out += [f"# HELP {name} trace store writer: {field}", f"# TYPE {name} {kind}",
                f"{name} {getattr(stats, field)}"]
    return out
