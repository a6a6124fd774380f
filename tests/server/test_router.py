"""The router behind the gateway: exposed as virtual model names, escalation through its tiers,
and its own records (route, escalation reason) carrying the caller's API key and task ids."""

from __future__ import annotations

import json

import pytest

from slmstack.models.scripted import ScriptedModel

from .conftest import gateway_settings
from .helpers import PERSON, chat

router = pytest.importorskip("slmstack.router")
SMALL, LARGE = "scripted:small", "scripted:large"


def _settings(tmp_path):
    s = gateway_settings(tmp_path)
    return s.model_copy(update={"router": {"tiers": {"small": SMALL, "large": LARGE}}})


def test_virtual_models_are_listed_by_default(tmp_path, api_key, make_client) -> None:
    client = make_client(_settings(tmp_path), None, api_key)
    ids = {m["id"] for m in client.get("/v1/models").json()["data"]}
    assert {"slmstack/auto", "slmstack/small", "slmstack/large", "default"} <= ids


def test_escalation_through_the_gateway_is_recorded_once(tmp_path, api_key, make_client,
                                                         store) -> None:
    settings = _settings(tmp_path)
    small = ScriptedModel(["no json here"], name=SMALL, repeat_last=True)
    large = ScriptedModel(['{"age": 30, "color": "blue"}'], name=LARGE, repeat_last=True)
    routed = router.build_router(settings, store=store, models={SMALL: small, LARGE: large})
    client = make_client(settings, {"slmstack/auto": routed}, api_key)
    fmt = {"type": "json_schema", "json_schema": {"name": "p", "schema": PERSON}}
    r = client.post("/v1/chat/completions", json=chat("slmstack/auto", response_format=fmt),
                    headers={"X-Slmstack-Task": "task-7"})
    assert r.status_code == 200, r.text
    assert json.loads(r.json()["choices"][0]["message"]["content"]) == {"age": 30,
                                                                          "color": "blue"}
    assert store.flush()
    recs = list(store.model_calls())
    kid = api_key.split(".")[0].removeprefix("sk-slm-")
    assert [(r.model, r.escalated) for r in recs] == [(SMALL, True), (LARGE, False)]
    assert all(r.api_key_id == kid and r.task_id == "task-7" and r.route == "extract"
               for r in recs)


def test_the_router_and_the_gateway_share_loaded_models(tmp_path) -> None:
    """A model the gateway serves by name and the router routes to is loaded once, not twice."""
    from slmstack.server.build import make_loader
    from slmstack.server.settings import GatewaySettings

    uri = "embedded:smollm2-135m"
    settings = gateway_settings(tmp_path).model_copy(
        update={"router": {"tiers": {"small": uri, "large": uri}}})
    load = make_loader(settings, GatewaySettings.from_settings(settings), None)
    served = load(uri)
    assert load(uri) is served
    routed = load("router:slmstack/auto")
    assert routed.model("small") is served and routed.model("large") is served
    assert load("router:slmstack/small").model("small") is served
