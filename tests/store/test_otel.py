"""OTel export against a real OTLP/HTTP receiver on loopback: GenAI attribute names, one trace per
task with task → step → call / tool spans, verdicts as evaluation events; a down collector is a
clear error, not a hang."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from slmstack.agent.records import ModelStep, ToolStep
from slmstack.cli import app
from slmstack.errors import BackendUnavailable
from slmstack.store import CallRecord, TraceStore
from slmstack.types import Message, ToolCall, Usage

from .otlp_receiver import OTLPReceiver


@pytest.fixture
def receiver() -> Iterator[OTLPReceiver]:
    r = OTLPReceiver()
    yield r
    r.close()


def populate(store: TraceStore, t0: float) -> dict[str, object]:
    step_id = store.record_step(
        ModelStep(index=0, started_at=t0, duration_s=0.4, model="embedded:smollm2-135m",
                  messages=[Message.user("weather in Oslo?")],
                  usage=Usage(input_tokens=30, output_tokens=8)), task_id="task-A")
    store.record_step(ToolStep(index=1, started_at=t0 + 0.5, duration_s=0.05,
                               call=ToolCall(id="call_w", name="get_weather",
                                             arguments={"city": "Oslo"}), output="-3 C"),
                      task_id="task-A")
    call = CallRecord(task_id="task-A", parent_id=step_id, ts=t0, model="embedded:smollm2-135m",
                      route="tool_call", routing_version=4, tier="small", latency_s=0.4,
                      input_tokens=30, output_tokens=8, cost_usd=1e-6,
                      request={"messages": [{"role": "user", "content": "weather in Oslo?"}],
                               "max_tokens": 64, "temperature": 0.0},
                      response={"finish_reason": "tool_calls", "text": None})
    lone = CallRecord(ts=t0 + 1, model="openai+http://127.0.0.1:9/v1#qwen3.5-9b", tier="large",
                      latency_s=1.0, error="upstream timed out", input_tokens=5)
    store.record_task("task-A", kind="weather-agent")
    store.record_many([call, lone])
    store.record_verdict(call.id, 0.8, [{"check": "grounded"}], ts=t0 + 0.6)
    store.flush()
    return {"call": call, "lone": lone, "step": step_id}


def test_spans_reach_a_real_receiver(store: TraceStore, receiver: OTLPReceiver) -> None:
    ids = populate(store, time.time() - 60)
    call, lone = ids["call"], ids["lone"]
    sent = store.export_otlp(receiver.url, service_name="gw-test")
    spans = {s["name"]: s for s in receiver.spans()}
    assert sent == len(receiver.spans()) == 5
    assert set(spans) == {"invoke_agent weather-agent", "step model", "execute_tool get_weather",
                          f"chat {call.model}", f"chat {lone.model}"}
    chat = spans[f"chat {call.model}"]
    a = chat["attributes"]
    assert a["gen_ai.operation.name"] == "chat" and a["gen_ai.provider.name"] == "llama.cpp"
    assert a["gen_ai.request.model"] == call.model and a["gen_ai.response.id"] == call.id
    assert (a["gen_ai.usage.input_tokens"], a["gen_ai.usage.output_tokens"]) == (30, 8)
    assert (a["gen_ai.request.max_tokens"], a["gen_ai.request.temperature"]) == (64, 0.0)
    assert a["gen_ai.response.finish_reasons"] == ["tool_calls"]
    assert a["gen_ai.conversation.id"] == "task-A" and a["slmstack.route"] == "tool_call"
    assert a["slmstack.routing_version"] == 4 and a["slmstack.verdict_score"] == 0.8
    assert "gen_ai.input.messages" not in a  # content stays out unless asked for
    assert chat["end"] - chat["start"] == pytest.approx(0.4e9, rel=1e-3)
    assert chat["events"] == [("gen_ai.evaluation.result", {
        "gen_ai.evaluation.name": "slmstack.verifier", "gen_ai.evaluation.score.value": 0.8,
        "gen_ai.evaluation.explanation": '[{"check": "grounded"}]'})]
    assert chat["resource"]["service.name"] == "gw-test" and chat["scope"] == "slmstack.store"

    task, step, tool = (spans["invoke_agent weather-agent"], spans["step model"],
                        spans["execute_tool get_weather"])
    assert len({s["trace_id"] for s in (task, step, tool, chat)}) == 1  # one trace per task
    assert task["parent"] == "" and step["parent"] == task["span_id"]
    assert chat["parent"] == step["span_id"]  # the call belongs to its agent step
    assert tool["parent"] == task["span_id"]
    assert tool["attributes"]["gen_ai.tool.name"] == "get_weather"
    assert tool["attributes"]["gen_ai.tool.call.id"] == "call_w"
    assert task["attributes"]["gen_ai.operation.name"] == "invoke_agent"
    assert task["start"] <= min(s["start"] for s in (step, tool, chat))
    assert task["end"] >= max(s["end"] for s in (step, tool, chat))

    err = spans[f"chat {lone.model}"]
    assert err["trace_id"] != task["trace_id"] and err["parent"] == ""
    assert err["status"] == 2 and err["attributes"]["error.type"] == "error"  # STATUS_CODE_ERROR
    assert err["attributes"]["gen_ai.provider.name"] == "openai"


def test_content_window_and_idempotent_ids(store: TraceStore, receiver: OTLPReceiver) -> None:
    t0 = time.time() - 60
    ids = populate(store, t0)
    assert store.export_otlp(receiver.url + "/v1/traces", since=t0 + 0.9, include_content=True) == 1
    (lone,) = receiver.spans()
    assert lone["name"] == f"chat {ids['lone'].model}"
    store.export_otlp(receiver.url, include_content=True)
    by_name = {}
    for s in receiver.spans():
        by_name.setdefault(s["name"], []).append(s["span_id"])
    assert len(set(by_name[f"chat {ids['lone'].model}"])) == 1  # same ids on re-export
    chat = next(s for s in receiver.spans() if s["name"] == f"chat {ids['call'].model}")
    assert "weather in Oslo?" in chat["attributes"]["gen_ai.input.messages"]


def test_collector_down_is_a_clear_error(sqlite_store: TraceStore) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sqlite_store.record(CallRecord(model="m"))
    t0 = time.monotonic()
    with pytest.raises(BackendUnavailable, match=f"127.0.0.1:{port}.*0 of 1 spans"):
        sqlite_store.export_otlp(f"http://127.0.0.1:{port}", timeout_s=1.0)
    assert time.monotonic() - t0 < 10


def test_export_cli(store: TraceStore, receiver: OTLPReceiver) -> None:
    populate(store, time.time() - 60)
    res = CliRunner().invoke(app, ["store", "export-otlp", "--endpoint", receiver.url,
                                   "--store", store.url, "--since", "1h"])
    assert res.exit_code == 0, res.output
    assert "5 spans sent" in res.output and len(receiver.spans()) == 5
