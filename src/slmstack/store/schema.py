"""The tables as the latest migration leaves them; queries use these, migrations create them.

A test reflects a migrated database and compares it with these definitions, so the two never drift.
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Float, Integer, MetaData, String, Table, Text


def json_type() -> JSON:
    return JSON(none_as_null=True)  # Postgres json, not jsonb: keeps any string (\u0000)


metadata = MetaData()

tasks = Table(
    "tasks", metadata,
    Column("id", String, primary_key=True),
    Column("created_at", Float, nullable=False, index=True),
    Column("kind", String),
    Column("meta", json_type()),
)

steps = Table(
    "steps", metadata,
    Column("id", String, primary_key=True),
    Column("task_id", String, index=True),
    Column("parent_id", String),
    Column("idx", Integer),
    Column("kind", String, nullable=False),
    Column("started_at", Float, nullable=False, index=True),
    Column("duration_s", Float, nullable=False, default=0.0),
    Column("model", String),
    Column("input_tokens", Integer, nullable=False, default=0),
    Column("output_tokens", Integer, nullable=False, default=0),
    Column("cost_usd", Float, nullable=False, default=0.0),
    Column("data", json_type()),
)

model_calls = Table(
    "model_calls", metadata,
    Column("id", String, primary_key=True),
    Column("task_id", String, index=True),
    Column("parent_id", String),
    Column("ts", Float, nullable=False, index=True),
    Column("route", String, index=True),
    Column("routing_version", Integer),
    Column("model", String, nullable=False, index=True),
    Column("tier", String, nullable=False),
    Column("request", json_type()),
    Column("response", json_type()),
    Column("input_tokens", Integer, nullable=False),
    Column("output_tokens", Integer, nullable=False),
    Column("latency_s", Float, nullable=False),
    Column("cost_usd", Float, nullable=False),
    Column("escalated", Boolean, nullable=False),
    Column("escalation_reason", Text),
    Column("verdict_score", Float),
    Column("shadow_of", String),
    Column("error", Text),
    Column("api_key_id", String, index=True),  # v2: index for per-key budget queries
    Column("extra", json_type()),  # v2: CallRecord fields newer than the columns
)

tool_calls = Table(
    "tool_calls", metadata,
    Column("id", String, primary_key=True),
    Column("task_id", String, index=True),
    Column("step_id", String),
    Column("ts", Float, nullable=False, index=True),
    Column("name", String, nullable=False),
    Column("arguments", json_type()),
    Column("ok", Boolean, nullable=False),
    Column("output", Text),
    Column("error", Text),
    Column("duration_s", Float, nullable=False, default=0.0),
    Column("source", String),
)

verdicts = Table(
    "verdicts", metadata,
    Column("id", String, primary_key=True),
    Column("target_id", String, nullable=False, index=True),
    Column("ts", Float, nullable=False, index=True),
    Column("score", Float, nullable=False),
    Column("findings", json_type()),
)

routing_tables = Table(
    "routing_tables", metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("created_at", Float, nullable=False),
    Column("note", Text, nullable=False, default=""),
    Column("body", json_type(), nullable=False),
    Column("restored_from", Integer),  # v2: the version a rollback copied
)

schema_version = Table(
    "schema_version", metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("applied_at", Float, nullable=False),
    Column("description", Text, nullable=False),
)
