"""The store with real inference: the embedded SmolLM2-135M's completions and a real agent run
go in; the report's costs and tokens and the stored steps match what the model produced."""

from __future__ import annotations

import time
from typing import Any

import pytest

from slmstack.agent import Agent
from slmstack.store import CallRecord, PriceTable, TraceStore
from slmstack.types import Message


def call_record(model: Any, prompt: str, **kw: Any) -> CallRecord:
    t0 = time.time()
    c = model.complete([Message.user(prompt)], max_tokens=16, temperature=0.0)
    return CallRecord(
        ts=t0, model=c.model or "embedded:smollm2-135m", tier=model.profile.tier,
        request={"messages": [{"role": "user", "content": prompt}], "max_tokens": 16},
        response={"text": c.text, "finish_reason": c.finish_reason},
        input_tokens=c.usage.input_tokens, output_tokens=c.usage.output_tokens,
        latency_s=c.latency_s, cost_usd=c.cost_usd, **kw)


@pytest.mark.slow
def test_real_completions_priced_and_reported(embedded_model, sqlite_store: TraceStore) -> None:
    recs = [call_record(embedded_model, q, task_id="t1", route="chat")
            for q in ("Name a colour.", "Say hello.")]
    assert all(r.output_tokens > 0 for r in recs)
    sqlite_store.record_many(recs)
    rep = sqlite_store.report(prices=PriceTable())
    assert rep.total.calls == 2 and rep.small_share == 1.0
    assert rep.total.input_tokens == sum(r.input_tokens for r in recs)
    assert rep.total.cost_usd == pytest.approx(sum(r.cost_usd for r in recs))  # catalog prices
    assert rep.total.latency_p95_s == pytest.approx(
        max(r.latency_s for r in recs) * 0.95 + min(r.latency_s for r in recs) * 0.05)
    stored = list(sqlite_store.model_calls(task_id="t1"))
    assert [r.response["text"] for r in stored] == [r.response["text"] for r in recs]


@pytest.mark.slow
def test_agent_run_steps_are_stored(embedded_model, sqlite_store: TraceStore) -> None:
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    agent = Agent(embedded_model, [add], budgets={"max_steps": 3, "max_output_tokens": 48},
                  on_step=lambda s: sqlite_store.record_step(s, task_id="run-1"))
    result = agent.run("What is 2 + 3? Use the add tool.")
    assert sqlite_store.flush()
    rows = sqlite_store.steps(task_id="run-1")
    assert [r["kind"] for r in rows] == [s.kind for s in result.steps]
    assert sum(r["input_tokens"] for r in rows) == result.usage.input_tokens
    assert sum(r["output_tokens"] for r in rows) == result.usage.output_tokens
    tools = sqlite_store.tool_calls(task_id="run-1")
    assert [(t["name"], t["arguments"], t["ok"]) for t in tools] == [
        (s.call.name, s.call.arguments, s.ok) for s in result.tool_steps]
