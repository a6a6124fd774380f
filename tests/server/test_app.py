"""The gateway's HTTP surface in-process (ScriptedModel behind it: control flow only): OpenAI
response and chunk shapes, tools, response_format, errors, recording, audit and metrics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from slmstack.models.scripted import ScriptedModel
from slmstack.server.audit import verify_audit

from .helpers import CALL_REPLY, PERSON, WEATHER, chat, recorded, sse_events


def echo(req) -> str:
    return f"echo: {req.messages[-1].content}"


@pytest.fixture
def client(settings, api_key, make_client):
    return make_client(settings, {"scripted": ScriptedModel([echo], repeat_last=True)}, api_key)


def test_chat_completion_has_the_openai_shape(client) -> None:
    r = client.post("/v1/chat/completions", json=chat(text="ping"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["object"] == "chat.completion" and body["id"].startswith("chatcmpl-")
    assert body["model"] == "scripted"
    choice = body["choices"][0]
    assert choice["message"] == {"role": "assistant", "content": "echo: ping", "refusal": None}
    assert choice["finish_reason"] == "stop" and choice["index"] == 0
    u = body["usage"]
    assert u["total_tokens"] == u["prompt_tokens"] + u["completion_tokens"] > 0
    assert r.headers["x-request-id"] and r.headers["x-slmstack-model"] == "scripted"


def test_stream_is_openai_chunks_then_done(client) -> None:
    r = client.post("/v1/chat/completions",
                    json=chat(text="ping", stream=True, stream_options={"include_usage": True}))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    events = sse_events(r.text)
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert len({c["id"] for c in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == "echo: ping"
    finishes = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]]
    assert finishes[-1] == "stop" and not any(finishes[:-1])
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] > 0


def test_tools_and_named_tool_choice(settings, api_key, make_client) -> None:
    model = ScriptedModel([CALL_REPLY], repeat_last=True)
    client = make_client(settings, {"scripted": model}, api_key)
    choice = {"type": "function", "function": {"name": "get_weather"}}
    r = client.post("/v1/chat/completions",
                    json=chat(text="Weather in Paris?", tools=[WEATHER], tool_choice=choice))
    assert r.status_code == 200, r.text
    assert model.calls[-1].tool_choice == "get_weather"
    msg = r.json()["choices"][0]
    assert msg["finish_reason"] == "tool_calls"
    call = msg["message"]["tool_calls"][0]
    assert call["type"] == "function" and call["id"]
    assert call["function"]["name"] == "get_weather"
    assert json.loads(call["function"]["arguments"]) == {"city": "Paris", "unit": "celsius"}

    r = client.post("/v1/chat/completions",
                    json=chat(text="Weather?", tools=[WEATHER], stream=True))
    chunks = [e for e in sse_events(r.text) if e != "[DONE]"]
    deltas = [c["choices"][0]["delta"]["tool_calls"][0] for c in chunks
              if c["choices"] and "tool_calls" in c["choices"][0]["delta"]]
    assert deltas[0]["index"] == 0 and deltas[0]["function"]["name"] == "get_weather"
    assert json.loads(deltas[0]["function"]["arguments"])["city"] == "Paris"
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_a_tool_result_turn_reaches_the_model(settings, api_key, make_client) -> None:
    model = ScriptedModel(["It is sunny."], repeat_last=True)
    client = make_client(settings, {"scripted": model}, api_key)
    call = {"id": "call_1", "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}
    messages = [{"role": "user", "content": "Weather?"},
                {"role": "assistant", "content": None, "tool_calls": [call]},
                {"role": "tool", "tool_call_id": "call_1", "content": "sunny, 21C"}]
    r = client.post("/v1/chat/completions",
                    json={"model": "scripted", "messages": messages, "tools": [WEATHER]})
    assert r.status_code == 200, r.text
    assert "sunny, 21C" in json.dumps([m.model_dump() for m in model.calls[-1].messages])


@pytest.mark.parametrize("fmt", [
    {"type": "json_schema", "json_schema": {"name": "person", "schema": PERSON, "strict": True}},
    {"type": "json_object"},
])
def test_response_format(settings, api_key, make_client, fmt) -> None:
    model = ScriptedModel(['{"age": 7, "color": "red"}'], repeat_last=True)
    client = make_client(settings, {"scripted": model}, api_key)
    r = client.post("/v1/chat/completions", json=chat(response_format=fmt))
    assert r.status_code == 200, r.text
    assert json.loads(r.json()["choices"][0]["message"]["content"]) == {"age": 7, "color": "red"}
    assert model.calls[-1].schema == (PERSON if fmt["type"] == "json_schema" else
                                      {"type": "object"})
    r = client.post("/v1/chat/completions", json=chat(response_format=fmt, stream=True))
    text = "".join(c["choices"][0]["delta"].get("content") or ""
                   for c in sse_events(r.text)[:-1] if c["choices"])
    assert json.loads(text) == {"age": 7, "color": "red"}


def test_a_reply_that_fails_the_schema_is_a_clear_422(settings, api_key, make_client) -> None:
    client = make_client(settings, {"scripted": ScriptedModel(["not json"], repeat_last=True)},
                         api_key)
    fmt = {"type": "json_schema", "json_schema": {"name": "p", "schema": PERSON}}
    r = client.post("/v1/chat/completions", json=chat(response_format=fmt))
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "output_validation_failed" and "'scripted'" in err["message"]


@pytest.mark.parametrize("body, status, code, param", [
    (chat(model="nope"), 404, "model_not_found", "model"),
    ({"model": "scripted", "messages": []}, 400, "invalid_request", "messages"),
    (chat(max_tokens=10**6), 400, "max_tokens_too_large", "max_tokens"),
    (chat(tool_choice="required"), 400, "invalid_request", "tool_choice"),
    ({"model": "scripted", "messages": [{"role": "wizard", "content": "x"}]}, 400,
     "invalid_request", "messages.0"),
    ({"model": "scripted", "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "http://x/y.png"}}]}]}, 400,
     "unsupported_content", "messages[0].content"),
    (chat(response_format={"type": "json_schema", "json_schema": {
        "name": "bad", "schema": {"type": "nonsense"}}}), 400, "invalid_request", None),
])
def test_bad_requests_get_openai_error_bodies(client, body, status, code, param) -> None:
    r = client.post("/v1/chat/completions", json=body)
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert set(err) == {"message", "type", "param", "code"}
    assert err["code"] == code and err["param"] == param and err["message"]


def test_keys_are_required(client) -> None:
    for headers in ({"Authorization": ""}, {"Authorization": "Bearer sk-wrong"},
                    {"Authorization": "Bearer sk-slm-000000000000.nope"}):
        r = client.post("/v1/chat/completions", json=chat(), headers=headers)
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
        assert r.json()["error"]["code"] == "invalid_api_key"
    assert client.get("/v1/models", headers={"Authorization": ""}).status_code == 401
    assert client.get("/healthz", headers={"Authorization": ""}).status_code == 200


def test_oversize_bodies_get_413(settings, api_key, make_client) -> None:
    small = settings.model_copy(update={"gateway": {**settings.gateway,
                                                    "max_request_bytes": 2048}})
    client = make_client(small, {"scripted": ScriptedModel([echo], repeat_last=True)}, api_key)
    r = client.post("/v1/chat/completions", json=chat(text="x" * 4000))
    assert r.status_code == 413
    err = r.json()["error"]
    assert err["code"] == "request_too_large" and "gateway.max_request_bytes" in err["message"]

    def chunked():  # no Content-Length: counted as it arrives
        yield json.dumps(chat(text="y" * 4000)).encode()

    r = client.post("/v1/chat/completions", content=chunked(),
                    headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "request_too_large"
    assert client.post("/v1/chat/completions", json=chat(text="ok")).status_code == 200


def test_models_lists_served_names(client) -> None:
    r = client.get("/v1/models")
    ids = [m["id"] for m in r.json()["data"]]
    assert "scripted" in ids and "all-MiniLM-L6-v2" in ids
    assert client.get("/v1/models/scripted").json()["id"] == "scripted"
    assert client.get("/v1/models/nope").status_code == 404


def test_embedding_requests_are_checked_before_loading(client) -> None:
    r = client.post("/v1/embeddings", json={"model": "nope", "input": "x"})
    assert r.status_code == 404
    r = client.post("/v1/embeddings", json={"model": "all-MiniLM-L6-v2", "input": [1, 2, 3]})
    assert r.status_code == 400 and "token ids" in r.json()["error"]["message"]
    r = client.post("/v1/embeddings", json={"model": "all-MiniLM-L6-v2", "input": "x",
                                            "dimensions": 8})
    assert r.status_code == 400


def test_every_call_is_recorded_with_its_key(client, store, settings, api_key) -> None:
    for text in ("a", "b"):
        assert client.post("/v1/chat/completions", json=chat(text=text)).status_code == 200
    client.post("/v1/chat/completions", json=chat(text="c", stream=True))
    client.post("/v1/chat/completions", json=chat(text="d"), headers={"X-Slmstack-Task": "t-1"})
    recs = recorded(store, 4)
    kid = api_key.split(".")[0].removeprefix("sk-slm-")
    assert len(recs) == 4 and {r.api_key_id for r in recs} == {kid}
    assert all(r.model == "scripted" and r.route == "chat" and r.output_tokens > 0 for r in recs)
    assert recs[-1].task_id == "t-1"
    assert recs[0].request["messages"][-1]["content"] == "a"
    assert recs[0].response["text"] == "echo: a"
    assert store.stats().dropped == 0


def test_audit_log_records_requests_and_refusals(client, settings) -> None:
    client.post("/v1/chat/completions", json=chat())
    client.post("/v1/chat/completions", json=chat(), headers={"Authorization": "Bearer bad"})
    entries = [json.loads(x) for x in Path(settings.gateway["audit_path"]).read_text().splitlines()]
    events = [e["event"] for e in entries]
    assert events[0] == "start" and "request" in events and "auth_failed" in events
    req = next(e for e in entries if e["event"] == "request")
    assert req["status"] == 200 and req["model"] == "scripted" and req["key_id"]
    assert "Say hi." not in json.dumps(entries)  # content stays out of the audit log
    assert verify_audit(settings.gateway["audit_path"]).ok


def test_metrics_and_health(client) -> None:
    client.post("/v1/chat/completions", json=chat())
    client.post("/v1/chat/completions", json=chat(model="nope"))
    text = client.get("/metrics").text
    assert 'slmstack_gateway_requests_total{path="/v1/chat/completions",status="200"} 1' in text
    assert 'slmstack_gateway_requests_total{path="/v1/chat/completions",status="404"} 1' in text
    assert 'slmstack_gateway_tokens_total{direction="output",model="scripted"}' in text
    assert "slmstack_gateway_request_seconds_bucket" in text
    assert "slmstack_store_records_dropped_total 0" in text
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["store"]["dropped"] == 0


def test_a_body_that_is_not_json_is_a_400(client) -> None:
    r = client.post("/v1/chat/completions", content=b"{not json",
                    headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_json"
