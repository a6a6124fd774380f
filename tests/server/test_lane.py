"""The chat fast lane answers exactly as the FastAPI route it bypasses: the same requests to an
app with the lane and to one without it give the same statuses, bodies, audit entries and
metrics (ScriptedModel behind both: control flow only)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from slmstack.models.scripted import ScriptedModel
from slmstack.server.chat import ChatLane

from .conftest import gateway_settings
from .helpers import WEATHER, chat, sse_events

JSON = {"content-type": "application/json"}
CASES: list[tuple[str, bytes, dict[str, str]]] = [
    ("plain", json.dumps(chat(text="ping")).encode(), JSON),
    ("stream", json.dumps(chat(text="ping", stream=True,
                               stream_options={"include_usage": True})).encode(), JSON),
    ("tools", json.dumps(chat(text="Weather?", tools=[WEATHER])).encode(), JSON),
    ("+json type", json.dumps(chat(text="ping")).encode(),
     {"content-type": "application/vnd.api+json; charset=utf-8"}),
    ("charset", json.dumps(chat(text="ping")).encode(),
     {"content-type": "application/json; charset=utf-8"}),
    ("not JSON", b'{"model": "scripted", "messages": [', JSON),
    ("not UTF-8", b'{"model": "\xff"}', JSON),
    ("empty", b"", JSON),
    ("array", b"[1, 2]", JSON),
    ("no messages", json.dumps({"model": "scripted", "messages": []}).encode(), JSON),
    ("bad role", json.dumps({"model": "scripted",
                             "messages": [{"role": "wizard", "content": "x"}]}).encode(), JSON),
    ("too many tokens", json.dumps(chat(max_tokens=10**6)).encode(), JSON),
    ("choice without tools", json.dumps(chat(tool_choice="required")).encode(), JSON),
    ("unknown model", json.dumps(chat("nope")).encode(), JSON),
    ("text/plain", json.dumps(chat(text="ping")).encode(), {"content-type": "text/plain"}),
    ("no content-type", json.dumps(chat(text="ping")).encode(), {}),
    ("bad key", json.dumps(chat(text="ping")).encode(), {**JSON, "authorization": "Bearer x"}),
    ("no key", json.dumps(chat(text="ping")).encode(), {**JSON, "authorization": ""}),
]
VARYING = ("id", "created", "request_id", "ts", "hash", "prev", "seq")


def echo(req: Any) -> str:
    return f"echo: {req.messages[-1].content}"


def _normal(value: Any) -> Any:
    """The response without what differs on every call (ids, clocks)."""
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items() if k not in VARYING}
    if isinstance(value, list):
        return [_normal(v) for v in value]
    return value


def _answers(client: Any) -> list[Any]:
    out = []
    for _, body, headers in CASES:
        r = client.post("/v1/chat/completions", content=body, headers=headers)
        ctype = r.headers.get("content-type", "")
        payload = sse_events(r.text) if ctype.startswith("text/event-stream") else r.json()
        out.append((r.status_code, ctype, r.headers.get("x-slmstack-model"), _normal(payload)))
    return out


def _served(tmp: Path, api_key: str, make_client: Any, lane: bool) -> tuple[Any, list[Any]]:
    settings = gateway_settings(tmp)
    client = make_client(settings, {"scripted": ScriptedModel([echo], repeat_last=True)}, api_key)
    app = client.app
    assert any(m.cls is ChatLane for m in app.user_middleware)
    if not lane:
        app.user_middleware = [m for m in app.user_middleware if m.cls is not ChatLane]
        app.middleware_stack = app.build_middleware_stack()
    answers = _answers(client)
    audit = [_normal(json.loads(line)) for line in
             Path(settings.gateway["audit_path"]).read_text().splitlines()]
    metrics = [ln for ln in client.get("/metrics").text.splitlines()
               if ln.startswith(("slmstack_gateway_requests_total", "slmstack_gateway_tokens"))]
    return client, [answers, audit, metrics]


def test_the_lane_answers_as_the_route(tmp_path: Path, settings: Any, api_key: str,
                                       make_client: Any) -> None:
    keys = Path(settings.gateway["keys_path"])
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for sub in ("a", "b"):  # both apps know the one key
        (tmp_path / sub / "keys.json").write_bytes(keys.read_bytes())
    _, with_lane = _served(tmp_path / "a", api_key, make_client, lane=True)
    _, without = _served(tmp_path / "b", api_key, make_client, lane=False)
    answers, audit, metrics = with_lane
    for (name, _, _), got, want in zip(CASES, answers, without[0], strict=True):
        assert got == want, name
    statuses = {name: a[0] for (name, _, _), a in zip(CASES, answers, strict=True)}
    assert statuses["plain"] == statuses["stream"] == statuses["+json type"] == 200
    assert statuses["not JSON"] == statuses["bad role"] == 400 and statuses["bad key"] == 401
    assert audit == without[1] and metrics == without[2]
    assert sum(e["event"] == "request" for e in audit) >= 10  # the same entries, both ways


def test_other_methods_and_paths_are_the_apps(settings: Any, api_key: str,
                                              make_client: Any) -> None:
    client = make_client(settings, {"scripted": ScriptedModel([echo], repeat_last=True)}, api_key)
    assert client.post("/v1/models", json=chat()).status_code == 405
    assert client.put("/v1/chat/completions", json=chat()).status_code == 405
