"""``slmstack store migrate | info | prune | routing`` on a real SQLite file."""

from __future__ import annotations

import json
import time
from pathlib import Path

from typer.testing import CliRunner

from slmstack.cli import app
from slmstack.store import CallRecord, Route, RoutingTable, TraceStore
from slmstack.store.engine import make_engine
from slmstack.store.migrations import LATEST, migrate

runner = CliRunner()


def test_migrate_creates_and_upgrades(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    res = runner.invoke(app, ["store", "migrate", "--store", str(db)])
    assert res.exit_code == 0 and f"schema v0 → v{LATEST}" in res.output
    old = tmp_path / "old.db"
    engine = make_engine(str(old))
    migrate(engine, target=1)
    engine.dispose()
    res = runner.invoke(app, ["store", "migrate", "--store", str(old)])
    assert f"schema v1 → v{LATEST} (applied {list(range(2, LATEST + 1))})" in res.output
    res = runner.invoke(app, ["store", "migrate", "--store", str(old)])
    assert "already up to date" in res.output


def test_info_prune_routing(tmp_path: Path) -> None:
    db = str(tmp_path / "t.db")
    with TraceStore(db) as ts:
        ts.record_many([CallRecord(model="m", ts=time.time() - 10 * 86400), CallRecord(model="m")])
        ts.save_routing_table(RoutingTable(routes={"chat": Route(model="small")}), "first")
        ts.save_routing_table(RoutingTable(routes={"chat": Route(model="student")}), "second")
    res = runner.invoke(app, ["store", "info", "--store", db])
    assert res.exit_code == 0, res.output
    assert "model_calls" in res.output and "routing table: v2" in res.output

    res = runner.invoke(app, ["store", "prune", "--store", db])
    assert res.exit_code == 1 and "--older-than" in res.output  # no retention configured
    res = runner.invoke(app, ["store", "prune", "--store", db, "--older-than", "7d"])
    assert res.exit_code == 0 and "model_calls: 1" in res.output
    with TraceStore(db) as ts:
        assert len(list(ts.model_calls())) == 1

    res = runner.invoke(app, ["store", "routing", "--store", db, "--json"])
    versions = json.loads(res.output)
    assert [(v["version"], v["routes"]["chat"]["model"]) for v in versions] == [
        (1, "small"), (2, "student")]
    res = runner.invoke(app, ["store", "routing", "--store", db])
    assert "chat→student" in res.output and "second" in res.output
