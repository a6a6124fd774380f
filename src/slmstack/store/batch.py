"""Write one batch of queued items in one transaction (called by the background writer only)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, Table, bindparam, update
from sqlalchemy.dialects import postgresql, sqlite

from .rows import as_dict, call_row, step_row, tool_row
from .schema import model_calls, steps, tasks, tool_calls, verdicts

Item = tuple[str, Any]


def _insert(conn: Connection, table: Table) -> Any:
    mod = postgresql if conn.dialect.name == "postgresql" else sqlite
    return mod.insert(table)


def _upsert(conn: Connection, table: Table, rows: list[dict[str, Any]], keep: set[str]) -> None:
    """Insert rows; on an id conflict overwrite every column except ``keep``."""
    stmt = _insert(conn, table)
    cols = {c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keep}
    conn.execute(stmt.on_conflict_do_update(index_elements=["id"], set_=cols), rows)


def _insert_new(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    conn.execute(_insert(conn, table).on_conflict_do_nothing(index_elements=["id"]), rows)


def write_batch(engine: Engine, items: Sequence[Item]) -> None:
    groups: dict[str, list[Any]] = defaultdict(list)
    for kind, payload in items:
        groups[kind].append(payload)
    calls = [call_row(r) for r in groups["call"]]
    step_rows = [step_row(as_dict(obj), tid, pid, sid) for obj, tid, pid, sid in groups["step"]]
    tools = [t for t in (tool_row(s) for s in step_rows) if t is not None]
    with engine.begin() as conn:
        _write_tasks(conn, groups["task"], calls, step_rows)
        if calls:
            _upsert(conn, model_calls, _last_per_id(calls), keep={"id"})
        if step_rows:
            _upsert(conn, steps, _last_per_id(step_rows), keep={"id"})
        if tools:
            _upsert(conn, tool_calls, _last_per_id(tools), keep={"id"})
        if groups["verdict"]:
            _write_verdicts(conn, groups["verdict"])


def _last_per_id(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per id (the last one queued), since one statement may not touch a row twice."""
    return list({r["id"]: r for r in rows}.values())


def _write_tasks(conn: Connection, explicit: list[dict[str, Any]], calls: list[dict[str, Any]],
                 step_rows: list[dict[str, Any]]) -> None:
    seen: dict[str, float] = {}
    for r in calls:
        if r["task_id"]:
            seen[r["task_id"]] = min(r["ts"], seen.get(r["task_id"], r["ts"]))
    for r in step_rows:
        if r["task_id"]:
            seen[r["task_id"]] = min(r["started_at"], seen.get(r["task_id"], r["started_at"]))
    implicit = [{"id": k, "created_at": v, "kind": None, "meta": None} for k, v in seen.items()]
    if implicit:
        _insert_new(conn, tasks, implicit)
    if explicit:
        _upsert(conn, tasks, _last_per_id(explicit), keep={"id", "created_at"})


def _write_verdicts(conn: Connection, rows: list[dict[str, Any]]) -> None:
    conn.execute(verdicts.insert(), rows)
    stmt = (
        update(model_calls)
        .where(model_calls.c.id == bindparam("t"))
        .values(verdict_score=bindparam("s"))
    )
    conn.execute(stmt, [{"t": r["target_id"], "s": r["score"]} for r in rows])
