"""Fuzzed requests from the gateway's own OpenAPI schema (schemathesis strategies, bounded
examples per operation): no 5xx with a good key, 401 for every API request with a bad one.
A scripted model serves ``scripted`` (control flow only: it echoes, so tool and schema requests
exercise the 422 path too)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from slmstack.models.scripted import ScriptedModel
from slmstack.server import create_app
from slmstack.server.keys import KeyStore

from .conftest import gateway_settings

EXAMPLES = settings(max_examples=15, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))
OPEN = ("/healthz", "/metrics")
PRE_AUTH = {"request_too_large", "invalid_json", "404", "405"}


@pytest.fixture
def gateway(tmp_path, store):
    s = gateway_settings(tmp_path, max_request_bytes=20_000, default_rpm=None)
    key = KeyStore(s.gateway["keys_path"]).create("fuzz")[1]
    model = ScriptedModel([lambda req: f"echo {len(req.messages)}"], repeat_last=True)
    app = create_app(s, models={"scripted": model}, store=store)
    return schemathesis.openapi.from_asgi("/openapi.json", app), key


def _operations(schema):
    ops = [r.ok() for r in schema.get_all_operations()]
    assert {op.path for op in ops} >= {"/v1/chat/completions", "/v1/embeddings", "/v1/models"}
    return ops


def test_no_server_errors(gateway) -> None:
    schema, key = gateway
    for op in _operations(schema):
        @given(case=op.as_strategy(), served=st.booleans())
        @EXAMPLES
        def check(case, served: bool) -> None:
            if served and case.path == "/v1/chat/completions" and isinstance(case.body, dict):
                _reach_the_model(case.body)
            response = case.call(headers={"Authorization": f"Bearer {key}"})
            case.validate_response(response, checks=[not_a_server_error])
            if response.status_code >= 400:
                err = response.json()["error"]
                assert set(err) == {"message", "type", "param", "code"} and err["message"]

        check()


def _reach_the_model(body: dict) -> None:
    """Half the chat cases: a served model and text-only content, so more get past the 404
    and 400 checks and into the model, its tool/schema handling and the response."""
    body["model"] = "scripted"
    for m in body.get("messages") or []:
        if isinstance(m, dict) and isinstance(m.get("content"), list):
            m["content"] = " ".join(str(p.get("text") or "") for p in m["content"]
                                    if isinstance(p, dict))


def test_bad_keys_get_401(gateway) -> None:
    schema, _ = gateway
    for op in _operations(schema):
        if op.path in OPEN:
            continue

        @given(case=op.as_strategy())
        @EXAMPLES
        def check(case) -> None:
            response = case.call(headers={"Authorization": "Bearer sk-slm-0123456789ab.forged"})
            code = response.json()["error"]["code"]
            seen = (case.method, case.formatted_path, response.status_code, response.text)
            if response.status_code != 401:  # refused before any endpoint runs: size, JSON,
                assert code in PRE_AUTH, seen  # or a path no route matches
            else:
                assert code == "invalid_api_key", seen

        check()
