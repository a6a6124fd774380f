"""Routing-table versions in the store. Saving, promotion and rollback each write a new version;
nothing is updated in place, so the history is the audit trail."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Connection, Engine, func, select, text

from ..errors import UserError
from .records import RoutingTable
from .schema import routing_tables

_PG_LOCK_KEY = 0x534C5254  # "SLRT": serialises version numbering across processes
_META = {"version", "created_at", "note"}


def _begin(engine: Engine) -> Any:
    return engine.connect().execution_options(begin_immediate=True)


def _lock(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})


def _table(row: Any) -> RoutingTable:
    body = dict(row.body)
    return RoutingTable.model_validate(
        {**body, "version": row.version, "created_at": row.created_at, "note": row.note}
    )


def _insert(conn: Connection, table: RoutingTable, note: str, restored_from: int | None) -> int:
    version = (conn.execute(select(func.max(routing_tables.c.version))).scalar() or 0) + 1
    conn.execute(routing_tables.insert().values(
        version=version,
        created_at=time.time(),
        note=note,
        body=table.model_dump(mode="json", exclude=_META),
        restored_from=restored_from,
    ))
    return version


def save(engine: Engine, table: RoutingTable, note: str = "") -> RoutingTable:
    with _begin(engine) as conn, conn.begin():
        _lock(conn)
        version = _insert(conn, table, note or table.note, None)
        return _get(conn, version)


def _get(conn: Connection, version: int) -> RoutingTable:
    row = conn.execute(select(routing_tables).where(routing_tables.c.version == version)).one()
    return _table(row)


def current(engine: Engine) -> RoutingTable | None:
    with engine.connect() as conn:
        row = conn.execute(
            select(routing_tables).order_by(routing_tables.c.version.desc()).limit(1)
        ).first()
    return None if row is None else _table(row)


def history(engine: Engine) -> list[RoutingTable]:
    with engine.connect() as conn:
        rows = conn.execute(select(routing_tables).order_by(routing_tables.c.version)).all()
    return [_table(r) for r in rows]


def rollback(engine: Engine) -> RoutingTable:
    """Write a new version equal to the one before the current one.

    A version written by a rollback counts as the version it restored, so rolling back twice
    walks further back (v3 → copy of v2 → copy of v1) instead of undoing the first rollback.
    """
    with _begin(engine) as conn, conn.begin():
        _lock(conn)
        rows = {r.version: r for r in conn.execute(select(routing_tables)).all()}
        if not rows:
            raise UserError("there is no routing table to roll back", "save one first")
        cur = rows[max(rows)]
        origin = cur.restored_from or cur.version
        if origin - 1 not in rows:
            raise UserError(
                f"routing table v{cur.version} (content of v{origin}) has no earlier version",
                "there is nothing to roll back to; save or promote a new table instead",
            )
        prev = rows[origin - 1]
        target = prev.restored_from or prev.version
        note = f"rollback of v{cur.version} to v{target}"
        version = _insert(conn, _table(prev), note, target)
        return _get(conn, version)
