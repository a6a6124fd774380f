"""The bar: the official ``openai`` SDK, unmodified, against ``slmstack serve`` (a real uvicorn
subprocess on loopback) with the embedded SmolLM2-135M behind it — chat, streaming, tools,
json_schema output, embeddings (the bundled MiniLM), models, and a refused key."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import jsonschema
import openai
import pytest

from slmstack.server.keys import KeyStore
from slmstack.store import TraceStore

from .helpers import PERSON, WEATHER, free_port

STARTUP_TIMEOUT_S = 120.0
pytestmark = pytest.mark.slow  # the real embedded model and embedder in a subprocess


class Served:
    def __init__(self, base_url: str, key: str, store: str, key_id: str) -> None:
        self.base_url, self.key, self.store, self.key_id = base_url, key, store, key_id

    def client(self, key: str | None = None) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.base_url, api_key=key or self.key, max_retries=0,
                             timeout=120)


def _wait_ready(proc: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"slmstack serve exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"slmstack serve not ready in {STARTUP_TIMEOUT_S} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("serve")
    keys, store = tmp / "keys.json", tmp / "traces.db"
    rec, key = KeyStore(keys).create("sdk-test")
    cfg = tmp / "slmstack.toml"
    cfg.write_text(f'[embedded]\nn_ctx = 2048\nn_threads = 1\n[store]\nurl = "{store}"\n'
                   f'[gateway]\nkeys_path = "{keys}"\naudit_path = "{tmp / "audit.jsonl"}"\n')
    port = free_port()
    log = tmp / "serve.log"
    cmd = [sys.executable, "-c", "from slmstack.cli import app; app()", "serve", "--config",
           str(cfg), "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_ready(proc, f"http://127.0.0.1:{port}", log)
        yield Served(f"http://127.0.0.1:{port}/v1", key, str(store), rec.id)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_chat(served: Served) -> None:
    r = served.client().chat.completions.create(
        model="default", max_tokens=24,
        messages=[{"role": "system", "content": "You are a helpful assistant."},
                  {"role": "user", "content": "What is the capital of France?"}])
    assert isinstance(r.choices[0].message.content, str) and r.choices[0].message.content.strip()
    assert r.choices[0].finish_reason in ("stop", "length")
    assert r.usage.prompt_tokens > 0 and r.usage.completion_tokens > 0
    assert r.model == "default"


def test_streaming(served: Served) -> None:
    stream = served.client().chat.completions.create(
        model="embedded:smollm2-135m", max_tokens=24, stream=True,
        stream_options={"include_usage": True},
        messages=[{"role": "user", "content": "Name three colours."}])
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.strip()
    assert sum(1 for c in chunks if c.choices and c.choices[0].delta.content) > 1  # real deltas
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] in ("stop", "length")
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0


def test_tools(served: Served) -> None:
    client = served.client()
    r = client.chat.completions.create(
        model="default", max_tokens=96, tools=[WEATHER], tool_choice="required",
        messages=[{"role": "user", "content": "What is the weather in Paris in celsius?"}])
    calls = r.choices[0].message.tool_calls
    assert r.choices[0].finish_reason == "tool_calls" and calls
    assert calls[0].function.name == "get_weather" and calls[0].id
    jsonschema.validate(json.loads(calls[0].function.arguments),
                        WEATHER["function"]["parameters"])

    stream = client.chat.completions.create(
        model="default", max_tokens=96, tools=[WEATHER], stream=True,
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        messages=[{"role": "user", "content": "Weather in Oslo?"}])
    parts = [tc for c in stream if c.choices for tc in (c.choices[0].delta.tool_calls or [])]
    assert parts and parts[0].function.name == "get_weather"
    args = json.loads("".join(p.function.arguments or "" for p in parts))
    jsonschema.validate(args, WEATHER["function"]["parameters"])


def test_json_schema_output(served: Served) -> None:
    r = served.client().chat.completions.create(
        model="default", max_tokens=64,
        response_format={"type": "json_schema",
                         "json_schema": {"name": "person", "schema": PERSON, "strict": True}},
        messages=[{"role": "user", "content": "Invent a person: their age and favourite colour."}])
    value = json.loads(r.choices[0].message.content)
    jsonschema.validate(value, PERSON)


def test_embeddings_and_models(served: Served) -> None:
    client = served.client()
    r = client.embeddings.create(model="all-MiniLM-L6-v2",  # the SDK asks for base64
                                 input=["a cat sat on the mat", "a kitten sat on the rug",
                                        "quarterly stock market report"])
    vecs = [d.embedding for d in r.data]
    assert [len(v) for v in vecs] == [384, 384, 384] and r.usage.prompt_tokens > 0

    def dot(a: list[float], b: list[float]) -> float:
        return sum(x * y for x, y in zip(a, b, strict=True))

    assert abs(dot(vecs[0], vecs[0]) - 1.0) < 1e-3
    assert dot(vecs[0], vecs[1]) > dot(vecs[0], vecs[2])
    floats = client.embeddings.create(model="all-MiniLM-L6-v2", input="a cat sat on the mat",
                                      encoding_format="float")
    assert max(abs(a - b) for a, b in zip(floats.data[0].embedding, vecs[0], strict=True)) < 1e-5
    ids = {m.id for m in client.models.list()}
    assert {"default", "embedded:smollm2-135m", "all-MiniLM-L6-v2"} <= ids


def test_bad_key_and_unknown_model(served: Served) -> None:
    with pytest.raises(openai.AuthenticationError):
        served.client("sk-slm-000000000000.wrong").models.list()
    with pytest.raises(openai.NotFoundError, match="not served here"):
        served.client().chat.completions.create(
            model="gpt-17", messages=[{"role": "user", "content": "hi"}])


def test_router_virtual_model(served: Served) -> None:
    pytest.importorskip("slmstack.router")
    client = served.client()
    assert "slmstack/auto" in {m.id for m in client.models.list()}
    r = client.chat.completions.create(
        model="slmstack/auto", max_tokens=12, extra_headers={"X-Slmstack-Task": "sdk-task"},
        messages=[{"role": "user", "content": "Say hello."}])
    assert r.choices[0].message.content.strip() and r.model == "slmstack/auto"
    deadline = time.monotonic() + 30
    with TraceStore(served.store) as ts:
        while time.monotonic() < deadline:
            recs = list(ts.model_calls(task_id="sdk-task"))
            if recs:
                break
            time.sleep(0.2)
    assert len(recs) == 1 and recs[0].route == "chat" and recs[0].api_key_id == served.key_id


def test_calls_reach_the_trace_store(served: Served) -> None:
    served.client().chat.completions.create(
        model="default", max_tokens=8, messages=[{"role": "user", "content": "Hello"}])
    deadline = time.monotonic() + 30
    with TraceStore(served.store) as ts:
        while time.monotonic() < deadline:
            recs = [r for r in ts.model_calls() if r.api_key_id == served.key_id]
            if recs:
                break
            time.sleep(0.2)
    assert recs and recs[-1].model == "embedded:smollm2-135m" and recs[-1].cost_usd > 0
    metrics = httpx.get(served.base_url.removesuffix("/v1") + "/metrics").text
    assert "slmstack_store_records_dropped_total 0" in metrics
