"""Prices (catalog per-token, GPU-hour for local models, recorded cost otherwise) and the report:
cost per task/route/model, share served by small models, escalation rate, p50/p95 latency."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from slmstack.cli import app
from slmstack.errors import UserError
from slmstack.models.catalog import Catalog
from slmstack.store import CallRecord, PriceTable, TraceStore
from slmstack.store.report import percentile, summarize
from slmstack.store.window import parse_days, parse_when

SMALL, LARGE, LOCAL = "embedded:smollm2-135m", "openai+http://h/v1#qwen3.5-9b", "gguf:/m/mine.gguf"


def test_price_table_bases() -> None:
    prices = PriceTable(Catalog.builtin(), gpu_hour_usd={"mine": 3.6})
    prof = Catalog.builtin().lookup(SMALL)
    assert prices.basis(SMALL) == "tokens"
    assert prices.cost(SMALL, 1_000_000, 500_000, 9.0) == pytest.approx(
        prof.price_in + prof.price_out / 2)
    assert prices.basis(LOCAL) == "gpu-hour"
    assert prices.cost(LOCAL, 10**6, 10**6, 2.0) == pytest.approx(2.0 * 3.6 / 3600)
    unknown = CallRecord(model="openai+http://h/v1#some-hosted-model", cost_usd=0.42)
    assert prices.basis(unknown.model) == "recorded"
    assert prices.cost_of(unknown) == 0.42


def test_price_table_from_settings_uses_user_models_and_gpu_rates() -> None:
    class S:
        models = {"mine": {"match": ["mine.gguf"], "price_in": 1.0, "price_out": 2.0}}
        store = {"gpu_hour_usd": {"qwen3.5-9b": 2.5}}

    prices = PriceTable.from_settings(S())
    assert prices.cost(LOCAL, 10**6, 10**6, 1.0) == pytest.approx(3.0)
    assert prices.cost(LARGE, 0, 0, 36.0) == pytest.approx(0.025)


def workload(t0: float) -> list[CallRecord]:
    """Six requests: four answered by the small model, two escalated to the large one, one
    failed call, one shadow call (paid for, answered no one)."""
    recs = []
    for i in range(4):
        recs.append(CallRecord(task_id=f"t{i}", route="chat", model=SMALL, tier="small",
                               ts=t0 + i, input_tokens=100, output_tokens=10,
                               latency_s=0.1 * (i + 1)))
    for i in (4, 5):
        recs.append(CallRecord(task_id=f"t{i}", route="tool_call", model=SMALL, tier="small",
                               ts=t0 + i, input_tokens=200, output_tokens=20, latency_s=0.2,
                               escalated=True, escalation_reason="schema"))
        recs.append(CallRecord(task_id=f"t{i}", route="tool_call", model=LARGE, tier="large",
                               ts=t0 + i + 0.5, input_tokens=200, output_tokens=30, latency_s=1.5))
    recs.append(CallRecord(task_id="t6", route="chat", model=LARGE, tier="large", ts=t0 + 7,
                           latency_s=3.0, error="upstream 503"))
    recs.append(CallRecord(task_id="t0", route="chat", model=LOCAL, tier="small", ts=t0 + 8,
                           latency_s=7.2, shadow_of=recs[0].id))
    return recs


def test_summary_definitions() -> None:
    prices = PriceTable(Catalog.builtin(), gpu_hour_usd={"mine": 10.0})
    recs = workload(1000.0)
    rep = summarize(recs, prices)
    tot = rep.total
    assert (tot.calls, tot.answered, tot.escalated, tot.errors, tot.shadow) == (10, 6, 2, 1, 1)
    assert tot.small_share == pytest.approx(4 / 6)
    assert tot.escalation_rate == pytest.approx(2 / 6)
    assert tot.cost_usd == pytest.approx(sum(prices.cost_of(r) for r in recs))
    non_shadow = [r.latency_s for r in recs if r.shadow_of is None]
    assert tot.latency_p50_s == pytest.approx(np.percentile(non_shadow, 50))
    assert tot.latency_p95_s == pytest.approx(np.percentile(non_shadow, 95))
    routes = {g.key: g for g in rep.by_route}
    assert routes["tool_call"].small_share == 0.0 and routes["tool_call"].escalation_rate == 1.0
    assert routes["chat"].small_share == 1.0 and routes["chat"].errors == 1
    models = {g.key: g for g in rep.by_model}
    assert models[LOCAL].cost_usd == pytest.approx(7.2 * 10.0 / 3600)  # shadow cost counts
    assert models[LARGE].tiers == ["large"] and models[SMALL].calls == 6
    tasks = {g.key: g for g in rep.by_task}
    assert tasks["t5"].calls == 2 and tasks["t5"].cost_usd == pytest.approx(
        sum(prices.cost_of(r) for r in recs if r.task_id == "t5"))
    assert rep.by_task[0].cost_usd == max(g.cost_usd for g in rep.by_task)  # costliest first
    assert rep.pricing == {SMALL: "tokens", LARGE: "tokens", LOCAL: "gpu-hour"}


@given(st.lists(st.floats(0, 1e4, allow_nan=False), min_size=1, max_size=50),
       st.floats(0, 100))
def test_percentile_matches_numpy(xs: list[float], q: float) -> None:
    assert percentile(xs, q) == pytest.approx(np.percentile(xs, q), rel=1e-9, abs=1e-9)


def test_empty_window() -> None:
    rep = summarize([])
    assert rep.total.calls == 0 and rep.small_share is None and rep.total.latency_p50_s is None


def test_time_arguments() -> None:
    assert parse_when("24h", now=100_000.0) == 100_000.0 - 86400
    assert parse_when("90s", now=1000.0) == 910.0
    assert parse_when("1700000000") == 1_700_000_000.0
    assert parse_when("2026-01-31T12:00:00+00:00") == 1769860800.0
    assert parse_when(None) is None and parse_days("12h") == 0.5 and parse_days("30") == 30
    with pytest.raises(UserError, match="'yesterday'"):
        parse_when("yesterday")


def test_store_report_window_and_cli(store: TraceStore) -> None:
    now = time.time()
    store.record_many(workload(now - 3600))
    store.record(CallRecord(model=SMALL, ts=now - 3 * 86400, input_tokens=5))  # outside 24h
    rep = store.report(since=now - 86400)
    assert rep.total.calls == 10 and rep.small_share == pytest.approx(4 / 6)
    assert store.report().total.calls == 11

    runner = CliRunner()
    res = runner.invoke(app, ["report", "--since", "24h", "--store", store.url, "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["total"]["calls"] == 10
    assert data["total"]["cost_usd"] == pytest.approx(rep.total.cost_usd)
    assert {g["key"] for g in data["by_route"]} == {"chat", "tool_call"}
    res = runner.invoke(app, ["report", "--since", "24h", "--store", store.url])
    assert res.exit_code == 0, res.output
    for words in ("served by small models  66.7%", "escalation rate         33.3%",
                  "per route", "per model", "per task", "│ chat "):
        assert words in res.output


def test_report_cli_errors(tmp_path) -> None:
    runner = CliRunner()
    missing = str(tmp_path / "nope.db")
    res = runner.invoke(app, ["report", "--store", missing])
    assert res.exit_code == 1 and "does not exist" in res.output
    assert not (tmp_path / "nope.db").exists()  # nothing conjured
    res = runner.invoke(app, ["report", "--store", missing, "--since", "last week"])
    assert res.exit_code == 1 and "'last week'" in res.output
