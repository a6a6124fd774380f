"""Upstream failures: fallback to the next model, clear 502s with the reason, never a hang.
The upstreams are real loopback sockets: a closed port (down) and a server that never answers."""

from __future__ import annotations

import time

from slmstack.config import HTTPSettings, Settings
from slmstack.models.openai_compat import OpenAIChatModel
from slmstack.models.scripted import ScriptedModel

from .conftest import gateway_settings
from .helpers import chat, free_port, recorded, silent_server, sse_events

NO_RETRY = Settings(http=HTTPSettings(timeout_s=30, max_retries=0))


def _remote(port: int) -> OpenAIChatModel:
    return OpenAIChatModel(f"http://127.0.0.1:{port}/v1", "m", settings=NO_RETRY)


def test_down_upstream_falls_back_and_both_tries_are_recorded(tmp_path, api_key, make_client,
                                                              store) -> None:
    settings = gateway_settings(tmp_path, fallbacks={"primary": ["backup"]})
    models = {"primary": _remote(free_port()), "backup": ScriptedModel(["from backup"],
                                                                       repeat_last=True)}
    client = make_client(settings, models, api_key)
    r = client.post("/v1/chat/completions", json=chat("primary"))
    assert r.status_code == 200, r.text
    assert r.headers["x-slmstack-model"] == "backup"
    assert r.json()["choices"][0]["message"]["content"] == "from backup"
    r = client.post("/v1/chat/completions", json=chat("primary", stream=True))
    assert "from backup" in r.text
    recs = recorded(store, 4)
    assert [r.error is not None for r in recs] == [True, False, True, False]
    assert "not reachable" in recs[0].error
    assert 'slmstack_gateway_fallbacks_total{served="backup"} 2' in client.get("/metrics").text


def test_all_upstreams_down_is_a_502_naming_them(tmp_path, api_key, make_client) -> None:
    port = free_port()
    settings = gateway_settings(tmp_path, fallbacks={"a": ["b"]})
    client = make_client(settings, {"a": _remote(port), "b": _remote(port)}, api_key)
    for body in (chat("a"), chat("a", stream=True)):
        r = client.post("/v1/chat/completions", json=body)
        assert r.status_code == 502
        err = r.json()["error"]
        assert err["code"] == "upstream_unavailable" and err["type"] == "upstream_error"
        assert "'a'" in err["message"] and "'b'" in err["message"]
        assert f"127.0.0.1:{port}" in err["message"]


def test_a_hung_upstream_times_out(tmp_path, api_key, make_client) -> None:
    settings = gateway_settings(tmp_path, upstream_timeout_s=0.5)
    with silent_server() as port:
        client = make_client(settings, {"hung": _remote(port)}, api_key)
        for body in (chat("hung"), chat("hung", stream=True)):
            r = client.post("/v1/chat/completions", json=body)
            assert r.status_code == 502, r.text
            err = r.json()["error"]
            # the gateway's own timeout, not the upstream client's 30 s one
            assert err["code"] == "upstream_timeout" and "no answer within 0.5 s" in err["message"]


def test_a_slow_model_times_out_then_falls_back(tmp_path, api_key, make_client) -> None:
    def slow(req):
        time.sleep(2.0)
        return "late"

    settings = gateway_settings(tmp_path, upstream_timeout_s=0.3, fallbacks={"slow": ["fast"]})
    models = {"slow": ScriptedModel([slow], repeat_last=True),
              "fast": ScriptedModel(["quick"], repeat_last=True)}
    client = make_client(settings, models, api_key)
    r = client.post("/v1/chat/completions", json=chat("slow"))
    assert r.status_code == 200 and r.json()["choices"][0]["message"]["content"] == "quick"
    events = sse_events(client.post("/v1/chat/completions", json=chat("slow", stream=True)).text)
    assert events[-1] == "[DONE]"
    assert "quick" in "".join(e["choices"][0]["delta"].get("content") or ""
                              for e in events[:-1] if e["choices"])
