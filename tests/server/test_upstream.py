"""The gateway's fast path to OpenAI-compatible upstreams: the pooled HTTP/1.1 client, and
``OpenAIChatModel.acomplete`` giving what ``complete`` (the openai client) gives — the same
request, reply, errors, retries — against real loopback servers (uvicorn in a thread)."""

from __future__ import annotations

import asyncio
import gzip
import json
import time
import zlib
from pathlib import Path
from typing import Any

import pytest

from slmstack.config import HTTPSettings, Settings
from slmstack.errors import BackendUnavailable, ModelNotFound, UserError
from slmstack.models.openai_compat import AsyncPathDeclined, OpenAIChatModel
from slmstack.server import upstream as up_mod
from slmstack.server.upstream import Http11Pool, UpstreamConnectionError, fast_path
from slmstack.types import ToolSpec

from .conftest import gateway_settings
from .helpers import (
    WEATHER,
    chat,
    completion_json,
    free_port,
    recorded,
    silent_server,
    upstream_server,
)

NO_RETRY = Settings(http=HTTPSettings(timeout_s=10, max_retries=0))
BODY = [(b"content-type", b"application/json")]


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def model(url: str, settings: Settings = NO_RETRY, **kw: Any) -> OpenAIChatModel:
    return OpenAIChatModel(url, "qwen3.5-4b", settings=settings, **kw)


# ---- the pooled client -------------------------------------------------------------------------
def test_keep_alive_one_connection_and_chunked_replies() -> None:
    with upstream_server() as up:
        up.reply(200, {"a": 1})
        up.reply(201, [b'{"b": ', b"2}"], x_extra="yes")  # no length: chunked

        async def go() -> list[Any]:
            pool = Http11Pool()
            out = [await pool.post(f"{up.url}/chat/completions", BODY, b'{"q": %d}' % i)
                   for i in range(3)]
            pool.close()
            return out

        replies = run(go())
    assert [r.status for r in replies] == [200, 201, 200]
    assert json.loads(replies[0].body) == {"a": 1} and json.loads(replies[1].body) == {"b": 2}
    assert replies[1].headers["x-extra"] == "yes" and "transfer-encoding" in replies[1].headers
    assert [r["body"] for r in up.requests] == [{"q": 0}, {"q": 1}, {"q": 2}]
    assert up.requests[0]["path"] == "/v1/chat/completions"
    assert len(set(up.ports())) == 1  # one keep-alive connection for all three


def test_a_connection_the_server_closed_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    """Idle past the server's keep-alive: the next request goes on a new connection, also when
    the pool could not tell the old one was closed (the request fails before any reply)."""
    with upstream_server(keep_alive_s=0.2) as up:
        async def go() -> list[int]:
            pool = Http11Pool()
            statuses = []
            for blind in (False, True):
                statuses.append((await pool.post(up.url, BODY, b"{}")).status)
                await asyncio.sleep(0.6)  # the server closes the idle connection
                if blind:
                    monkeypatch.setattr(up_mod._Conn, "usable", lambda self, now: True)
                statuses.append((await pool.post(up.url, BODY, b"{}")).status)
            pool.close()
            return statuses

        assert run(go()) == [200, 200, 200, 200]
    assert len(set(up.ports())) == 3  # (the second request of each pair reuses the first's)


def test_nothing_listening_is_an_oserror() -> None:
    async def go() -> None:
        await Http11Pool().post(f"http://127.0.0.1:{free_port()}/v1/x", BODY, b"{}")

    with pytest.raises(UpstreamConnectionError) as info:
        run(go())
    assert isinstance(info.value, OSError) and "refused" in str(info.value).lower()


def test_fast_path_only_where_nothing_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx

    for var in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(var, raising=False)
    assert fast_path(model("http://10.0.0.5:8000/v1"))
    assert not fast_path(model("https://api.example.com/v1"))  # TLS: the openai client's
    assert not fast_path(model("http://h/v1", http_client=httpx.Client()))  # the caller's client
    assert not fast_path(model("http://user:pw@10.0.0.5:8000/v1"))

    class Custom(OpenAIChatModel):
        pass

    assert not fast_path(Custom("http://10.0.0.5:8000/v1", "m", settings=NO_RETRY))
    monkeypatch.setenv("HTTP_PROXY", "http://proxy:3128")
    assert not fast_path(model("http://10.0.0.5:8000/v1"))
    monkeypatch.setenv("NO_PROXY", "10.0.0.5")
    assert fast_path(model("http://10.0.0.5:8000/v1"))


# ---- acomplete gives what complete gives ---------------------------------------------------
async def _acomplete(m: OpenAIChatModel, *args: Any, **kw: Any) -> Any:
    pool = Http11Pool()
    try:
        return await m.acomplete(*args, post=pool.post, **kw)
    finally:
        pool.close()


CALL = {"id": "call_7", "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Oslo", "unit": "celsius"}'}}
WEATHER_SPEC = ToolSpec.from_openai(WEATHER)


@pytest.mark.parametrize(("reply", "kw", "native"), [
    (completion_json("Hello there."), {"max_tokens": 9, "stop": ["\n"]}, False),
    (completion_json(None, [CALL]),
     {"tools": [WEATHER_SPEC], "tool_choice": "get_weather"}, True),
    (completion_json('{"age": 7, "color": "red"}'),
     {"schema": {"type": "object", "properties": {"age": {"type": "integer"},
                                                  "color": {"type": "string"}},
                 "required": ["age", "color"]}}, False),
])
def test_same_request_and_completion(reply: dict[str, Any], kw: dict[str, Any],
                                     native: bool) -> None:
    with upstream_server() as up:
        m = model(up.url, native_tools=native, api_key="sk-up")
        up.reply(200, reply)
        sync = m.complete("Weather in Oslo?", **kw)
        up.reply(200, reply)
        fast = run(_acomplete(m, "Weather in Oslo?", **kw))
    first, second = up.requests
    assert first["body"] == second["body"] and first["path"] == second["path"]
    for name in ("authorization", "content-type", "accept", "user-agent"):
        assert first["headers"][name] == second["headers"][name], name
    assert second["headers"]["authorization"] == "Bearer sk-up"
    keep = ("text", "tool_calls", "parsed", "usage", "finish_reason", "model", "cost_usd")
    assert fast.model_dump(include=set(keep)) == sync.model_dump(include=set(keep))
    assert fast.latency_s > 0 and fast.usage.input_tokens == 24


TRACEBACK = "Internal Server Error\nTraceback (most recent call last):\n  File 'app.py', line 1"


@pytest.mark.parametrize(("status", "body", "error"), [
    (404, {"error": {"message": "The model `qwen3.5-4b` does not exist."}}, ModelNotFound),
    (401, {"error": {"message": "Invalid API key"}}, UserError),
    (403, {"detail": "Forbidden"}, UserError),
    (400, {"error": {"message": "maximum context length is 2048 tokens"}}, UserError),
    (422, {"detail": [{"msg": "field required"}]}, UserError),
    (500, TRACEBACK, BackendUnavailable),
    (503, {"error": {"message": "overloaded"}}, BackendUnavailable),
    (500, {"error": {"message": "1 validation error:\n  {'loc': 'response_format'}"}}, UserError),
    (200, "<html>not an API</html>", BackendUnavailable),
])
def test_same_errors(status: int, body: Any, error: type[Exception]) -> None:
    ctype = {"content_type": "text/plain"} if isinstance(body, str) else {}
    with upstream_server() as up:
        m = model(up.url)
        up.reply(status, body, **ctype)
        with pytest.raises(error) as sync:
            m.complete("hi", max_tokens=4)
        up.reply(status, body, **ctype)
        with pytest.raises(error) as fast:
            run(_acomplete(m, "hi", max_tokens=4))
    assert str(fast.value) == str(sync.value)
    assert "\n" not in str(fast.value) and "Traceback" not in str(fast.value)


def test_retries_as_the_openai_client() -> None:
    once = Settings(http=HTTPSettings(timeout_s=10, max_retries=1))
    with upstream_server() as up:
        up.reply(503, {"error": {"message": "busy"}}, retry_after_ms="1")
        assert run(_acomplete(model(up.url, once), "hi", max_tokens=4)).text == "Paris."
        assert len(up.requests) == 2
        up.reply(503, {"error": {"message": "busy"}}, x_should_retry="false")
        with pytest.raises(BackendUnavailable, match="busy"):
            run(_acomplete(model(up.url, once), "hi", max_tokens=4))
        assert len(up.requests) == 3  # told not to retry
        up.reply(400, {"error": {"message": "bad"}})
        with pytest.raises(UserError, match="bad"):
            run(_acomplete(model(up.url, once), "hi", max_tokens=4))
        assert len(up.requests) == 4  # a 4xx is not retried


def test_down_and_hung_upstreams() -> None:
    settings = Settings(http=HTTPSettings(timeout_s=0.3, max_retries=0))
    port = free_port()
    with pytest.raises(BackendUnavailable) as down:
        run(_acomplete(model(f"http://127.0.0.1:{port}/v1", settings), "hi"))
    assert f"'http://127.0.0.1:{port}/v1'" in str(down.value)
    assert "not reachable" in str(down.value) and "start the server" in str(down.value)
    with silent_server() as hung:
        t0 = time.monotonic()
        with pytest.raises(BackendUnavailable, match="no answer within 0.3 s"):
            run(_acomplete(model(f"http://127.0.0.1:{hung}/v1", settings), "hi"))
        assert time.monotonic() - t0 < 5


def test_a_redirect_is_left_to_the_openai_client() -> None:
    with upstream_server() as up:
        up.reply(307, "", location=f"{up.url}/chat/completions")
        with pytest.raises(AsyncPathDeclined):
            run(_acomplete(model(up.url), "hi"))


def test_compressed_replies_are_read_as_httpx_reads_them() -> None:
    """Asked for identity, a server may compress all the same."""
    packed = gzip.compress(json.dumps(completion_json("zipped")).encode())
    error = zlib.compress(json.dumps({"error": {"message": "overloaded"}}).encode())
    with upstream_server() as up:
        m = model(up.url)
        for _ in range(2):
            up.reply(200, packed, content_encoding="gzip")
        assert run(_acomplete(m, "hi")).text == m.complete("hi").text == "zipped"
        for _ in range(2):
            up.reply(503, error, content_encoding="deflate")
        with pytest.raises(BackendUnavailable) as sync:
            m.complete("hi")
        with pytest.raises(BackendUnavailable) as fast:
            run(_acomplete(m, "hi"))
        assert str(fast.value) == str(sync.value) and "overloaded" in str(fast.value)
        up.reply(200, b"\x00", content_encoding="br")
        with pytest.raises(AsyncPathDeclined):
            run(_acomplete(m, "hi"))


# ---- through the gateway ------------------------------------------------------------------
def test_gateway_fast_path_records_usage_cost_and_audit(tmp_path, api_key, make_client,
                                                        store) -> None:
    settings = gateway_settings(tmp_path)
    with upstream_server() as up:
        client = make_client(settings, {"remote": model(up.url)}, api_key)
        up.reply(200, completion_json("Paris is the capital.", usage=(31, 6)))
        r = client.post("/v1/chat/completions", json=chat("remote", "Capital of France?"))
        assert r.status_code == 200, r.text
        assert client.app.state.parts.gateway._fast == {"remote": True}
        body = r.json()
        assert body["choices"][0]["message"]["content"] == "Paris is the capital."
        assert body["usage"] == {"prompt_tokens": 31, "completion_tokens": 6, "total_tokens": 37}
        assert up.requests[0]["body"]["messages"][-1]["content"] == "Capital of France?"
        (rec,) = recorded(store, 1)
        assert (rec.input_tokens, rec.output_tokens, rec.error) == (31, 6, None)
        assert rec.route == "chat" and rec.latency_s > 0 and rec.api_key_id is not None
        assert rec.request["gateway_model"] == "remote"
        metrics = client.get("/metrics").text
        assert 'slmstack_gateway_tokens_total{direction="input",model=' in metrics
    lines = Path(settings.gateway["audit_path"]).read_text().splitlines()
    audit = [json.loads(line) for line in lines]
    (entry,) = [e for e in audit if e["event"] == "request"]
    assert (entry["status"], entry["input_tokens"], entry["output_tokens"]) == (200, 31, 6)


def test_gateway_redirect_and_upstream_errors(tmp_path, api_key, make_client, store) -> None:
    settings = gateway_settings(tmp_path)
    with upstream_server() as up:
        client = make_client(settings, {"remote": model(up.url)}, api_key)
        up.reply(307, "", location=f"{up.url}/chat/completions")
        r = client.post("/v1/chat/completions", json=chat("remote"))
        assert r.status_code == 200 and len(up.requests) == 2  # 307; then by the openai client
        up.reply(400, {"error": {"message": "context too long"}})
        r = client.post("/v1/chat/completions", json=chat("remote"))
        assert r.status_code == 400 and "context too long" in r.json()["error"]["message"]
        up.reply(503, {"error": {"message": "overloaded"}})
        r = client.post("/v1/chat/completions", json=chat("remote"))
        assert r.status_code == 502 and r.json()["error"]["code"] == "upstream_unavailable"
        assert "overloaded" in r.json()["error"]["message"]
    recs = recorded(store, 3)
    assert [rec.error is None for rec in recs] == [True, False, False]


def test_fast_upstream_off_uses_the_openai_client(tmp_path, api_key, make_client) -> None:
    settings = gateway_settings(tmp_path, fast_upstream=False)
    with upstream_server() as up:
        client = make_client(settings, {"remote": model(up.url)}, api_key)
        r = client.post("/v1/chat/completions", json=chat("remote"))
        assert r.status_code == 200 and r.json()["choices"][0]["message"]["content"] == "Paris."
        assert client.app.state.parts.gateway._fast == {"remote": False}
        assert up.requests[0]["headers"]["accept-encoding"] != "identity"  # httpx's own


def test_closing_after_the_loop_ended() -> None:
    with upstream_server() as up:
        pool = Http11Pool()
        assert run(pool.post(up.url, BODY, b"{}")).status == 200  # one idle connection kept
        pool.close()  # its loop is gone: dropped, no error
        assert run(pool.post(up.url, BODY, b"{}")).status == 200  # a new loop: a new connection
    assert len(set(up.ports())) == 2
