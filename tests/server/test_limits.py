"""Per-key rate limits and budgets (spending survives a restart: it is read from the store)."""

from __future__ import annotations

from slmstack.models.scripted import ScriptedModel
from slmstack.server.keys import KeyStore

from .helpers import chat, recorded

PRICED = "smollm2-135m-scripted"  # matches the catalog's smollm2-135m entry: priced per token


def test_rate_limit_is_per_key(settings, make_client) -> None:
    ks = KeyStore(settings.gateway["keys_path"])
    slow, fast = ks.create("slow", rpm=2)[1], ks.create("fast")[1]
    client = make_client(settings, {"scripted": ScriptedModel(["ok"], repeat_last=True)})
    auth = {"Authorization": f"Bearer {slow}"}
    codes = [client.post("/v1/chat/completions", json=chat(), headers=auth).status_code
             for _ in range(3)]
    assert codes == [200, 200, 429]
    r = client.post("/v1/chat/completions", json=chat(), headers=auth)
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    err = r.json()["error"]
    assert err["type"] == "rate_limit_error" and "2 requests/minute" in err["message"]
    other = {"Authorization": f"Bearer {fast}"}
    assert client.post("/v1/chat/completions", json=chat(), headers=other).status_code == 200


def test_budget_is_priced_and_survives_restart(settings, make_client, store) -> None:
    key = KeyStore(settings.gateway["keys_path"]).create("tiny", budget_usd=1e-9)[1]
    auth = {"Authorization": f"Bearer {key}"}
    model = ScriptedModel(["a fairly long answer " * 5], name=PRICED, repeat_last=True)
    client = make_client(settings, {PRICED: model})
    assert client.post("/v1/chat/completions", json=chat(PRICED), headers=auth).status_code == 200
    r = client.post("/v1/chat/completions", json=chat(PRICED), headers=auth)
    assert r.status_code == 429
    err = r.json()["error"]
    assert err["code"] == "insufficient_quota" and "budget" in err["message"]
    assert recorded(store, 1)[0].cost_usd > 0

    restarted = make_client(settings, {PRICED: model})  # spending comes back from the store
    r = restarted.post("/v1/chat/completions", json=chat(PRICED), headers=auth)
    assert r.status_code == 429 and r.json()["error"]["code"] == "insufficient_quota"
