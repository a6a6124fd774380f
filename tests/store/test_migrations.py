"""Ordered migrations: a fresh store reaches the latest schema (identical to schema.py), a v1
store upgrades in place keeping its rows, and a newer store is refused."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import inspect, text

from slmstack.errors import ConfigError
from slmstack.store import CallRecord, Route, RoutingTable, TraceStore
from slmstack.store.engine import make_engine
from slmstack.store.migrations import LATEST, MIGRATIONS, current_version, migrate
from slmstack.store.schema import metadata


def test_versions_are_numbered_in_order() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))


def test_fresh_store_matches_schema_module(store_url: str) -> None:
    engine = make_engine(store_url)
    assert migrate(engine) == [m.version for m in MIGRATIONS]
    assert migrate(engine) == []  # idempotent
    assert current_version(engine) == LATEST
    insp = inspect(engine)
    for name, table in metadata.tables.items():
        cols = {c["name"]: c for c in insp.get_columns(name)}
        assert set(cols) == {c.name for c in table.columns}, name
        for c in table.columns:
            assert cols[c.name]["nullable"] == (c.nullable and not c.primary_key), (name, c.name)
        indexed = {tuple(ix["column_names"]) for ix in insp.get_indexes(name)}
        assert indexed == {tuple(col.name for col in ix.columns) for ix in table.indexes}, name
    engine.dispose()


def test_upgrade_from_v1_keeps_data(store_url: str) -> None:
    engine = make_engine(store_url)
    assert migrate(engine, target=1) == [1]
    with engine.begin() as conn:  # rows written by a v1 slmstack
        conn.execute(text(
            "INSERT INTO model_calls (id, task_id, ts, route, model, tier, request, response, "
            "input_tokens, output_tokens, latency_s, cost_usd, escalated, api_key_id) VALUES "
            "('old-1', 't', :ts, 'chat', 'embedded:smollm2-135m', 'small', :req, '{}', "
            "3, 4, 0.5, 0.0001, false, 'k1')"), {"ts": time.time(), "req": '{"messages": []}'})
        for v, note in [(1, "first"), (2, "second")]:
            conn.execute(text("INSERT INTO routing_tables (version, created_at, note, body) "
                              "VALUES (:v, :t, :n, :b)"),
                         {"v": v, "t": time.time(), "n": note,
                          "b": RoutingTable(routes={"chat": Route(model=f"m{v}")})
                          .model_dump_json(exclude={"version", "created_at", "note"})})
    assert current_version(engine) == 1
    engine.dispose()

    with TraceStore(store_url) as ts:  # opening migrates
        assert ts.schema_version == LATEST
        (old,) = ts.model_calls()
        assert (old.id, old.model, old.input_tokens, old.api_key_id) == (
            "old-1", "embedded:smollm2-135m", 3, "k1")
        assert old.request == {"messages": []}
        ts.record(CallRecord(model="new"))
        ts.flush()
        assert [r.model for r in ts.model_calls()] == ["embedded:smollm2-135m", "new"]
        assert ts.current_routing_table().routes["chat"].model == "m2"
        assert ts.rollback_routing_table().routes["chat"].model == "m1"


def test_store_newer_than_this_code_is_refused(store_url: str) -> None:
    engine = make_engine(store_url)
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO schema_version VALUES (:v, 0, 'from the future')"),
                     {"v": LATEST + 1})
    with pytest.raises(ConfigError, match=f"v{LATEST + 1}.*upgrade slmstack"):
        migrate(engine)
    engine.dispose()
