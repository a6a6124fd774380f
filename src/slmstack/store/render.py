"""A Report as rich tables (the ``slmstack report`` output)."""

from __future__ import annotations

from datetime import datetime

from rich.console import Group as RichGroup
from rich.table import Table

from .report import Group, Report


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _ms(x: float | None) -> str:
    return "-" if x is None else f"{1000 * x:,.0f}"


def _when(ts: float | None) -> str:
    return "…" if ts is None else datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M")


def _table(title: str, head: str, groups: list[Group], *, tier: bool = False) -> Table:
    """Per-model tables show the tier instead of the SLM share (which follows from it)."""
    t = Table(title=title, title_justify="left")
    t.add_column(head, overflow="fold", min_width=12)  # URIs wrap rather than lose their tail
    names = ("tier" if tier else "SLM", "calls", "tokens in/out", "cost $", "escal.", "p50 ms",
             "p95 ms")
    for name in names:
        t.add_column(name, justify="right", no_wrap=True)
    for g in groups:
        t.add_row(g.key, ",".join(g.tiers) if tier else _pct(g.small_share), f"{g.calls:,}",
                  f"{g.input_tokens:,}/{g.output_tokens:,}", f"{g.cost_usd:.6f}",
                  _pct(g.escalation_rate), _ms(g.latency_p50_s), _ms(g.latency_p95_s))
    return t


def render(report: Report, top_tasks: int = 20) -> RichGroup:
    tot = report.total
    summary = Table.grid(padding=(0, 2))
    summary.add_row("window", f"{_when(report.since)} → {_when(report.until)}")
    summary.add_row("model calls", f"{tot.calls:,} ({tot.answered:,} answered, "
                    f"{tot.escalated:,} escalated, {tot.errors:,} errors, {tot.shadow:,} shadow)")
    summary.add_row("tasks", f"{len(report.by_task):,}")
    summary.add_row("cost", f"${tot.cost_usd:.6f}")
    summary.add_row("served by small models", _pct(tot.small_share))
    summary.add_row("escalation rate", _pct(tot.escalation_rate))
    summary.add_row("latency p50 / p95", f"{_ms(tot.latency_p50_s)} / {_ms(tot.latency_p95_s)} ms")
    tasks = report.by_task[:top_tasks]
    shown = f" (costliest {len(tasks)} of {len(report.by_task)})" if tasks != report.by_task else ""
    return RichGroup(
        summary,
        _table("per route", "route", report.by_route),
        _table("per model", "model", report.by_model, tier=True),
        _table("per task" + shown, "task", tasks),
    )
