"""Ordered, append-only schema migrations. Never edit a released one: add the next number.

``migrate(engine)`` applies the missing ones in one transaction (under an advisory lock on
Postgres, ``BEGIN IMMEDIATE`` on SQLite) and records each in ``schema_version``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    inspect,
    select,
    text,
)

from ..errors import ConfigError
from .schema import schema_version

_PG_LOCK_KEY = 0x534C4D53  # "SLMS": one advisory lock for migrations


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    up: Callable[[Connection], None]


def _json() -> JSON:
    return JSON(none_as_null=True)  # Postgres json, not jsonb: keeps any string (\u0000)


def _v1_tables(md: MetaData) -> None:
    """The first schema, frozen as it was released."""
    Table("schema_version", md, Column("version", Integer, primary_key=True, autoincrement=False),
          Column("applied_at", Float, nullable=False), Column("description", Text, nullable=False))
    Table("tasks", md, Column("id", String, primary_key=True),
          Column("created_at", Float, nullable=False, index=True), Column("kind", String),
          Column("meta", _json()))
    Table("steps", md, Column("id", String, primary_key=True),
          Column("task_id", String, index=True), Column("parent_id", String),
          Column("idx", Integer), Column("kind", String, nullable=False),
          Column("started_at", Float, nullable=False, index=True),
          Column("duration_s", Float, nullable=False), Column("model", String),
          Column("input_tokens", Integer, nullable=False),
          Column("output_tokens", Integer, nullable=False),
          Column("cost_usd", Float, nullable=False), Column("data", _json()))
    Table("model_calls", md, Column("id", String, primary_key=True),
          Column("task_id", String, index=True), Column("parent_id", String),
          Column("ts", Float, nullable=False, index=True), Column("route", String, index=True),
          Column("routing_version", Integer), Column("model", String, nullable=False, index=True),
          Column("tier", String, nullable=False), Column("request", _json()),
          Column("response", _json()), Column("input_tokens", Integer, nullable=False),
          Column("output_tokens", Integer, nullable=False),
          Column("latency_s", Float, nullable=False), Column("cost_usd", Float, nullable=False),
          Column("escalated", Boolean, nullable=False), Column("escalation_reason", Text),
          Column("verdict_score", Float), Column("shadow_of", String), Column("error", Text),
          Column("api_key_id", String))
    Table("tool_calls", md, Column("id", String, primary_key=True),
          Column("task_id", String, index=True), Column("step_id", String),
          Column("ts", Float, nullable=False, index=True), Column("name", String, nullable=False),
          Column("arguments", _json()), Column("ok", Boolean, nullable=False),
          Column("output", Text), Column("error", Text),
          Column("duration_s", Float, nullable=False), Column("source", String))
    Table("verdicts", md, Column("id", String, primary_key=True),
          Column("target_id", String, nullable=False, index=True),
          Column("ts", Float, nullable=False, index=True), Column("score", Float, nullable=False),
          Column("findings", _json()))
    Table("routing_tables", md,
          Column("version", Integer, primary_key=True, autoincrement=False),
          Column("created_at", Float, nullable=False), Column("note", Text, nullable=False),
          Column("body", _json(), nullable=False))


def _v1(conn: Connection) -> None:
    md = MetaData()
    _v1_tables(md)
    md.create_all(conn)


def _add_column(conn: Connection, table: str, column: str, type_: object) -> None:
    ddl = type_.compile(dialect=conn.dialect)  # type: ignore[attr-defined]
    conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {ddl}"))


def _v2(conn: Connection) -> None:
    _add_column(conn, "model_calls", "extra", _json())
    _add_column(conn, "routing_tables", "restored_from", Integer())
    conn.execute(text("CREATE INDEX ix_model_calls_api_key_id ON model_calls (api_key_id)"))


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "tasks, steps, model_calls, tool_calls, verdicts, routing_tables", _v1),
    Migration(2, "model_calls.extra for newer CallRecord fields; api_key_id index; "
                 "routing_tables.restored_from", _v2),
)
LATEST = MIGRATIONS[-1].version


def applied_versions(conn: Connection) -> set[int]:
    if not inspect(conn).has_table("schema_version"):
        return set()
    return set(conn.execute(select(schema_version.c.version)).scalars())


def current_version(engine: Engine) -> int:
    with engine.connect() as conn:
        return max(applied_versions(conn), default=0)


def migrate(engine: Engine, target: int | None = None) -> list[int]:
    """Apply the missing migrations up to ``target`` (default: all); return those applied."""
    with engine.connect() as raw:
        conn = raw.execution_options(begin_immediate=True)
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
            have = applied_versions(conn)
            _refuse_newer(have, engine)
            return [m.version for m in MIGRATIONS if _apply(conn, m, have, target)]


def _apply(conn: Connection, m: Migration, have: set[int], target: int | None) -> bool:
    if m.version in have or (target is not None and m.version > target):
        return False
    m.up(conn)
    conn.execute(schema_version.insert().values(
        version=m.version, applied_at=time.time(), description=m.description))
    return True


def _refuse_newer(have: set[int], engine: Engine) -> None:
    newest = max(have, default=0)
    if newest > LATEST:
        raise ConfigError(
            f"trace store {engine.url.render_as_string()!r} is at schema v{newest}, "
            f"this slmstack knows up to v{LATEST}",
            "upgrade slmstack (migrations only move forward)",
        )
