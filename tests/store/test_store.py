"""TraceStore on SQLite and on a real PostgreSQL: records round-trip, filters, steps, tool calls,
verdicts, retention and bad URLs."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import select

from slmstack.agent.records import FinalStep, ModelStep, ToolStep
from slmstack.errors import ConfigError
from slmstack.store import CallRecord, StoreSettings, TraceStore
from slmstack.store.schema import model_calls
from slmstack.types import Completion, Message, ToolCall, Usage


def full_record(**kw: object) -> CallRecord:
    """A CallRecord with every field away from its default."""
    base = dict(
        task_id="task-1", parent_id="step-1", ts=1_700_000_000.25, route="tool_call",
        routing_version=3, model="embedded:smollm2-135m", tier="large",
        request={"messages": [{"role": "user", "content": "héllo ✓"}], "tools": [{"a": [1, 2]}],
                 "temperature": 0.0},
        response={"text": None, "tool_calls": [{"name": "f", "arguments": {"x": 1.5}}]},
        input_tokens=12, output_tokens=34, latency_s=0.125, cost_usd=0.000321, escalated=True,
        escalation_reason="schema: 'x' is required", verdict_score=0.75, shadow_of="call-0",
        error="boom", api_key_id="key-7",
    )
    base.update(kw)
    return CallRecord.model_validate(base)


def test_every_field_round_trips(store: TraceStore) -> None:
    rec = full_record()
    assert store.record(rec)
    assert store.flush()
    (back,) = store.model_calls()
    assert back == rec
    assert store.stats().written == 1 and store.stats().dropped == 0


def test_nul_characters_and_unicode_survive(store: TraceStore) -> None:
    rec = CallRecord(model="m", request={"messages": [{"content": "a\u0000b \U0001f600"}]})
    store.record(rec)
    store.flush()
    assert next(store.model_calls()).request == rec.request


def test_filters_window_routes_models_task(store: TraceStore) -> None:
    recs = [
        CallRecord(ts=100.0 + i, route=["chat", "extract"][i % 2], model=f"m{i % 3}",
                   task_id=f"t{i % 4}")
        for i in range(24)
    ]
    store.record_many(reversed(recs))
    store.flush()
    got = list(store.model_calls(since=105, until=115))
    assert [r.ts for r in got] == [100.0 + i for i in range(5, 15)]  # ordered, [since, until)
    assert {r.route for r in store.model_calls(routes=["extract"])} == {"extract"}
    assert len(list(store.model_calls(routes=["extract"], models=["m0"]))) == sum(
        1 for r in recs if r.route == "extract" and r.model == "m0")
    assert [r.id for r in store.model_calls(task_id="t2")] == [r.id for r in recs
                                                              if r.task_id == "t2"]
    assert list(store.model_calls(routes=[])) == []
    assert {t["id"] for t in store.tasks()} == {"t0", "t1", "t2", "t3"}


def test_recording_the_same_call_again_updates_it(store: TraceStore) -> None:
    rec = CallRecord(model="small", route="chat")
    store.record(rec)
    store.flush()
    store.record(rec.model_copy(update={"escalated": True, "escalation_reason": "verifier 0.2"}))
    store.flush()
    (back,) = store.model_calls()
    assert back.escalated and back.escalation_reason == "verifier 0.2"


def test_fields_newer_than_the_schema_are_kept_in_extra(store: TraceStore) -> None:
    class NewerRecord(CallRecord):
        cache_hit: bool = False

    store.record(NewerRecord(model="m", cache_hit=True))
    store.flush()
    with store.engine.connect() as conn:
        extra = conn.execute(select(model_calls.c.extra)).scalar_one()
    assert extra == {"cache_hit": True}
    assert NewerRecord.model_validate(
        {**next(store.model_calls()).model_dump(), **extra}).cache_hit


def test_agent_steps_tool_calls_and_verdicts(store: TraceStore) -> None:
    call = ToolCall(id="call_1", name="get_weather", arguments={"city": "Oslo"})
    steps = [
        ModelStep(index=0, started_at=10.0, duration_s=0.5, usage=Usage(input_tokens=50,
                  output_tokens=9), cost_usd=0.001, model="embedded:smollm2-135m",
                  messages=[Message.user("weather?")],
                  completion=Completion(tool_calls=[call], model="embedded:smollm2-135m")),
        ToolStep(index=1, started_at=10.5, duration_s=0.01, call=call, output="-3 C, snow"),
        ToolStep(index=2, started_at=10.6, call=ToolCall(name="bad", arguments={}), ok=False,
                 error="unknown tool 'bad'"),
        FinalStep(index=3, started_at=10.7, stop_reason="done", answer="-3 C"),
    ]
    ids = [store.record_step(s, task_id="run-1") for s in steps]
    store.record_step({"kind": "note", "started_at": 11.0, "input_tokens": 3}, task_id="run-1")
    store.record_task("run-1", kind="weather-agent", meta={"user": "u1"})
    call_rec = CallRecord(model="embedded:smollm2-135m", task_id="run-1", parent_id=ids[0])
    store.record(call_rec)
    store.record_verdict(call_rec.id, 0.9, [{"check": "grounded", "ok": True}])
    store.record_verdict("run-1", 0.4, {"summary": "weak"})
    assert store.flush()

    rows = store.steps(task_id="run-1")
    assert [r["kind"] for r in rows] == ["model", "tool", "tool", "final", "note"]
    assert rows[0]["id"] == ids[0]
    assert (rows[0]["input_tokens"], rows[0]["output_tokens"], rows[0]["cost_usd"]) == (50, 9,
                                                                                         0.001)
    assert rows[0]["model"] == "embedded:smollm2-135m" and rows[4]["input_tokens"] == 3
    assert ModelStep.model_validate(rows[0]["data"]) == steps[0]  # the whole record is kept
    tools = store.tool_calls(task_id="run-1")
    assert [(t["name"], t["arguments"], t["ok"], t["step_id"]) for t in tools] == [
        ("get_weather", {"city": "Oslo"}, True, ids[1]), ("bad", {}, False, ids[2])]
    assert tools[1]["error"] == "unknown tool 'bad'"
    assert next(store.model_calls()).verdict_score == 0.9
    assert [v["score"] for v in store.verdicts("run-1")] == [0.4]
    (task,) = store.tasks()
    assert (task["kind"], task["meta"], task["created_at"]) == ("weather-agent", {"user": "u1"},
                                                                10.0)


def test_prune_drops_old_traces_and_keeps_routing(store: TraceStore) -> None:
    from slmstack.store import Route, RoutingTable

    now = time.time()
    old, new = CallRecord(model="m", ts=now - 40 * 86400, task_id="a"), CallRecord(model="m")
    store.record_many([old, new])
    store.record_step({"kind": "model", "started_at": now - 40 * 86400}, task_id="a")
    store.record_verdict(old.id, 0.5, None, ts=now - 40 * 86400)
    store.save_routing_table(RoutingTable(routes={"chat": Route(model="m")}), "keep me")
    store.flush()
    assert store.prune() == {}  # no retention configured: keep everything
    deleted = store.prune(older_than_days=30)
    assert deleted == {"model_calls": 1, "steps": 1, "tool_calls": 0, "verdicts": 1, "tasks": 1}
    assert [r.id for r in store.model_calls()] == [new.id]
    assert store.current_routing_table() is not None


def test_retention_setting_drives_prune(tmp_path: Path) -> None:
    with TraceStore(str(tmp_path / "t.db"), StoreSettings(retention_days=1)) as ts:
        ts.record_many([CallRecord(model="m", ts=time.time() - 2 * 86400), CallRecord(model="m")])
        assert ts.prune()["model_calls"] == 1
        assert len(list(ts.model_calls())) == 1


def test_two_stores_on_one_sqlite_file_see_each_other(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.db")
    with TraceStore(path) as gateway, TraceStore(path) as reader:
        gateway.record_many(CallRecord(model="m") for _ in range(50))
        gateway.flush()
        assert len(list(reader.model_calls())) == 50
        with reader.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_settings_section_of_slmstack_settings(tmp_path: Path) -> None:
    class WithStore:  # what Settings looks like once it carries a [store] table
        store = {"url": str(tmp_path / "from-settings.db"), "retention_days": 7}

    with TraceStore(settings=WithStore()) as ts:
        assert ts.url.endswith("from-settings.db") and ts.settings.retention_days == 7
    assert (tmp_path / "from-settings.db").is_file()
    with pytest.raises(ConfigError, match="retention_days"):
        StoreSettings.from_settings(type("S", (), {"store": {"retention_days": "soon"}})())


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("sqlite://", "in-memory"),
        ("sqlite:///:memory:", "in-memory"),
        ("mysql://u@h/db", "'mysql'"),
        ("/no/such/folder/t.db", "does not exist"),
        ("postgresql://u@h:notaport/db", "not a database URL"),
    ],
)
def test_bad_urls_are_user_errors(url: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match) as info:
        TraceStore(url)
    assert repr(url) in str(info.value)
