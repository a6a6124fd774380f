"""``TraceStore``: the one object the gateway, router, agent and distillation talk to.

Writes (``record*``) go through a bounded queue to a background thread and never block or raise;
reads and routing-table changes go straight to the database.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Iterable, Iterator
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine, delete, func, select

from . import migrations, routing
from .batch import write_batch
from .engine import make_engine
from .records import CallRecord, RoutingTable, new_id
from .rows import call_record, verdict_row
from .schema import metadata, model_calls, steps, tasks, tool_calls, verdicts
from .settings import StoreSettings
from .writer import BackgroundWriter, WriterStats


class TraceStore:
    """Traces in SQLite (WAL, the default) or Postgres, by URL.

    ``url`` overrides ``settings.url``; ``settings`` is a StoreSettings or an slmstack Settings
    (its ``store`` section). Opening migrates the schema to the latest version.
    """

    def __init__(self, url: str | None = None, settings: Any = None) -> None:
        self.settings = StoreSettings.from_settings(settings)
        self.url = url or self.settings.url
        self.engine: Engine = make_engine(self.url)
        self.migrate()
        engine = self.engine  # the writer thread must not keep ``self`` alive
        self._writer = BackgroundWriter(
            lambda items: write_batch(engine, items),
            queue_size=self.settings.queue_size,
            batch_size=self.settings.batch_size,
            linger_s=self.settings.linger_ms / 1000,
        )
        self._finalizer = weakref.finalize(self, _shutdown, self._writer, self.engine)

    # -- lifecycle ------------------------------------------------------------------------------
    def migrate(self) -> list[int]:
        """Apply missing schema migrations; the versions applied (empty when up to date)."""
        return migrations.migrate(self.engine)

    @property
    def schema_version(self) -> int:
        return migrations.current_version(self.engine)

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Wait until every queued record is written; False if ``timeout`` passed first."""
        return self._writer.flush(timeout)

    def close(self) -> None:
        self._finalizer()

    def __enter__(self) -> TraceStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def stats(self) -> WriterStats:
        """written, dropped, failed, errors, queue_depth, max_queue_depth, ..."""
        return self._writer.stats()

    # -- writes: queued, never blocking, never raising -------------------------------------------
    def record(self, rec: CallRecord) -> bool:
        """Queue one model call; False when it was dropped (queue full). Do not mutate ``rec``
        afterwards: it is serialised on the writer thread."""
        return self._writer.submit("call", rec)

    def record_many(self, recs: Iterable[CallRecord]) -> int:
        return sum(self.record(r) for r in recs)

    def record_step(
        self, step: BaseModel | dict[str, Any], *, task_id: str | None = None,
        parent_id: str | None = None,
    ) -> str:
        """Queue one agent step (ModelStep, ToolStep, ... or a dict with kind, started_at,
        duration_s, usage/input_tokens/output_tokens, cost_usd); tool steps also fill
        ``tool_calls``. Returns the step id (use it as ``parent_id`` of its CallRecords)."""
        sid = _get(step, "id") or new_id()
        self._writer.submit("step", (step, task_id or _get(step, "task_id"), parent_id, sid))
        return str(sid)

    def record_verdict(
        self, call_or_task_id: str, score: float, findings: Any = None, *, ts: float | None = None
    ) -> bool:
        """Queue a verifier verdict on a call (also sets its ``verdict_score``) or a task."""
        return self._writer.submit("verdict", verdict_row(call_or_task_id, score, findings, ts))

    def record_task(
        self, task_id: str, *, kind: str | None = None, meta: dict[str, Any] | None = None,
        created_at: float | None = None,
    ) -> bool:
        """Name a task (calls and steps with a task_id create a bare task row on their own)."""
        row = {"id": task_id, "created_at": created_at or time.time(), "kind": kind, "meta": meta}
        return self._writer.submit("task", row)

    # -- reads -----------------------------------------------------------------------------------
    def model_calls(
        self, since: float | None = None, until: float | None = None,
        routes: Iterable[str] | None = None, models: Iterable[str] | None = None,
        task_id: str | None = None,
    ) -> Iterator[CallRecord]:
        """Stored calls in time order; ``since`` inclusive, ``until`` exclusive (unix seconds)."""
        q = select(model_calls).order_by(model_calls.c.ts, model_calls.c.id)
        q = _window(q, model_calls.c.ts, since, until)
        if routes is not None:
            q = q.where(model_calls.c.route.in_(list(routes)))
        if models is not None:
            q = q.where(model_calls.c.model.in_(list(models)))
        if task_id is not None:
            q = q.where(model_calls.c.task_id == task_id)
        with self.engine.connect() as conn:
            for row in conn.execution_options(yield_per=1000).execute(q):
                yield call_record(row)

    def steps(self, task_id: str | None = None, since: float | None = None,
              until: float | None = None) -> list[dict[str, Any]]:
        q = _window(select(steps), steps.c.started_at, since, until)
        q = q.order_by(steps.c.started_at, steps.c.idx)
        return self._rows(q if task_id is None else q.where(steps.c.task_id == task_id))

    def tool_calls(self, task_id: str | None = None, since: float | None = None,
                   until: float | None = None) -> list[dict[str, Any]]:
        q = _window(select(tool_calls), tool_calls.c.ts, since, until).order_by(tool_calls.c.ts)
        return self._rows(q if task_id is None else q.where(tool_calls.c.task_id == task_id))

    def verdicts(self, target_id: str | None = None, since: float | None = None,
                 until: float | None = None) -> list[dict[str, Any]]:
        q = _window(select(verdicts), verdicts.c.ts, since, until).order_by(verdicts.c.ts)
        return self._rows(q if target_id is None else q.where(verdicts.c.target_id == target_id))

    def tasks(self, since: float | None = None, until: float | None = None) -> list[dict[str, Any]]:
        q = _window(select(tasks).order_by(tasks.c.created_at), tasks.c.created_at, since, until)
        return self._rows(q)

    def counts(self) -> dict[str, int]:
        """Rows per table."""
        with self.engine.connect() as conn:
            return {name: conn.execute(select(func.count()).select_from(t)).scalar() or 0
                    for name, t in sorted(metadata.tables.items())}

    def _rows(self, q: Any) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    # -- routing tables --------------------------------------------------------------------------
    def save_routing_table(self, table: RoutingTable, note: str = "") -> RoutingTable:
        """Store ``table`` as the next version (its own ``version`` is ignored); return it."""
        return routing.save(self.engine, table, note)

    def current_routing_table(self) -> RoutingTable | None:
        return routing.current(self.engine)

    def rollback_routing_table(self) -> RoutingTable:
        """Write a NEW version equal to the previous one; UserError when there is none."""
        return routing.rollback(self.engine)

    def routing_history(self) -> list[RoutingTable]:
        return routing.history(self.engine)

    # -- retention, reports, export ---------------------------------------------------------------
    def prune(self, older_than_days: float | None = None) -> dict[str, int]:
        """Delete traces older than ``older_than_days`` (default: settings.retention_days).
        Routing tables are kept. Returns rows deleted per table."""
        days = older_than_days if older_than_days is not None else self.settings.retention_days
        if days is None:
            return {}
        self.flush()
        cutoff = time.time() - days * 86400
        cols = [model_calls.c.ts, steps.c.started_at, tool_calls.c.ts, verdicts.c.ts,
                tasks.c.created_at]
        with self.engine.begin() as conn:
            return {c.table.name: conn.execute(delete(c.table).where(c < cutoff)).rowcount
                    for c in cols}

    def report(self, since: float | None = None, until: float | None = None,
               prices: Any = None) -> Any:
        """Costs, SLM share, escalation rate and latency over a window (see store.report)."""
        from .report import build_report

        return build_report(self, since, until, prices)

    def export_otlp(self, endpoint: str, since: float | None = None,
                    until: float | None = None, **kw: Any) -> int:
        """Send the window's traces as OpenTelemetry GenAI spans over OTLP/HTTP (see store.otel)."""
        from .otel import export_otlp

        return export_otlp(self, endpoint, since=since, until=until, **kw)


def _get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)


def _window(q: Any, col: Any, since: float | None, until: float | None) -> Any:
    if since is not None:
        q = q.where(col >= since)
    if until is not None:
        q = q.where(col < until)
    return q


def _shutdown(writer: BackgroundWriter, engine: Engine) -> None:
    writer.close()
    engine.dispose()
