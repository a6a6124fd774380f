"""OpenAI-compatible backend.

Real inference against llama-cpp-python's own OpenAI-compatible server (a subprocess on loopback
serving the embedded SmolLM2 GGUF), and ``httpx.MockTransport`` tests for error mapping and the
shape of requests and replies. The server tests skip when the server or the model is missing.
"""

from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from slmstack.config import HTTPSettings, Settings
from slmstack.errors import BackendUnavailable, ModelNotFound, UserError
from slmstack.models import load_model
from slmstack.models.files import smollm2_gguf
from slmstack.models.openai_compat import OpenAIChatModel, parse_uri
from slmstack.types import ToolSpec

ALIAS = "SmolLM2-135M-Instruct"  # matches the catalog's smollm2-135m entry, so cost > 0
SERVER_DEPS = ("uvicorn", "fastapi", "sse_starlette", "starlette_context", "pydantic_settings")
STARTUP_TIMEOUT_S = 60.0
FAST = Settings(http=HTTPSettings(timeout_s=5, max_retries=0))

WEATHER = ToolSpec(
    name="get_weather",
    description="Current weather for a city.",
    parameters={
        "type": "object",
        "properties": {
            "city": {"type": "string", "description": "City name"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        },
        "required": ["city", "unit"],
    },
)
CLOCK = ToolSpec(
    name="get_time",
    description="Current time in a time zone.",
    parameters={
        "type": "object",
        "properties": {"timezone": {"type": "string"}},
        "required": ["timezone"],
    },
)
PERSON = {
    "type": "object",
    "properties": {
        "age": {"type": "integer"},
        "color": {"type": "string", "enum": ["red", "green", "blue"]},
    },
    "required": ["age", "color"],
    "additionalProperties": False,
}


# ---- the real server -------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server_missing() -> str | None:
    spec = importlib.util.find_spec("llama_cpp")
    if spec is None or spec.origin is None:
        return "llama-cpp-python is not installed (pip install 'slmstack[server]')"
    if not (Path(spec.origin).parent / "server" / "__main__.py").is_file():
        return "llama-cpp-python has no server module (pip install 'slmstack[server]')"
    missing = [m for m in SERVER_DEPS if importlib.util.find_spec(m) is None]
    if missing:
        return f"llama_cpp.server needs {missing!r} (pip install 'slmstack[server]')"
    return None


def _wait_ready(proc: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text()[-2000:]
            pytest.fail(f"llama_cpp.server exited with {proc.returncode}:\n{tail}")
        try:
            if httpx.get(f"{base_url}/models", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    pytest.fail(f"llama_cpp.server not ready in {STARTUP_TIMEOUT_S} s:\n{log.read_text()[-2000:]}")


def _start_server(gguf: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    flags = {"model": gguf, "model_alias": ALIAS, "host": "127.0.0.1", "port": port,
             "n_ctx": 2048, "n_threads": 1, "seed": 0, "verbose": False}  # fmt: skip
    cmd = [sys.executable, "-m", "llama_cpp.server"]
    cmd += [arg for k, v in flags.items() for arg in (f"--{k}", str(v))]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    return proc, f"http://127.0.0.1:{port}/v1"


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """llama-cpp-python's OpenAI-compatible server on a free loopback port (GGUF's own template)."""
    if reason := _server_missing():
        pytest.skip(reason)
    try:
        gguf = smollm2_gguf()
    except ModelNotFound as exc:
        pytest.skip(f"embedded model missing: {exc}")
    log = tmp_path_factory.mktemp("llama_server") / "server.log"
    proc, base_url = _start_server(gguf, log)
    try:
        _wait_ready(proc, base_url, log)
        yield base_url
    finally:
        _stop(proc)


@pytest.fixture(scope="session")
def served(server_url: str) -> OpenAIChatModel:
    """llama-cpp-python's server takes schemas as ``{"type": "json_object", "schema": ...}``."""
    settings = Settings(http=HTTPSettings(timeout_s=60, max_retries=0))
    return OpenAIChatModel(server_url, ALIAS, settings=settings, constrain="json_object")


def test_plain_chat_through_the_registry(server_url: str) -> None:
    uri = f"openai+{server_url}#{ALIAS}"
    model = load_model(uri, Settings(http=HTTPSettings(timeout_s=60, max_retries=0)))
    comp = model.complete("Say hello in one short sentence.", max_tokens=16)
    assert isinstance(comp.text, str) and comp.text.strip()
    assert comp.usage.input_tokens > 0 and comp.usage.output_tokens > 0
    assert comp.latency_s > 0 and comp.cost_usd > 0
    assert comp.model == uri


def test_json_schema_output_validates(served: OpenAIChatModel) -> None:
    comp = served.complete(
        "Describe a person: their age and favourite colour.", schema=PERSON, max_tokens=40
    )
    jsonschema.validate(comp.parsed, PERSON)
    assert json.loads(comp.text or "") == comp.parsed


@pytest.mark.parametrize("choice", ["required", "get_weather"])
def test_constrained_tool_call(served: OpenAIChatModel, choice: str) -> None:
    comp = served.complete(
        "What is the weather in Paris?",
        tools=[WEATHER, CLOCK],
        tool_choice=choice,
        parallel_tool_calls=False,
        max_tokens=64,
    )
    assert comp.tool_calls and comp.finish_reason == "tool_calls"
    offered = {WEATHER.name: WEATHER, CLOCK.name: CLOCK}
    for call in comp.tool_calls:
        assert call.name in offered and (choice == "required" or call.name == choice)
        jsonschema.validate(call.arguments, offered[call.name].parameters)


def test_native_named_tool_call(server_url: str) -> None:
    settings = Settings(http=HTTPSettings(timeout_s=60, max_retries=0))
    model = OpenAIChatModel(server_url, ALIAS, settings=settings, native_tools=True)
    comp = model.complete(
        "What is the weather in Paris?",
        tools=[WEATHER, CLOCK],
        tool_choice="get_weather",
        max_tokens=48,
    )
    assert [c.name for c in comp.tool_calls] == ["get_weather"]
    jsonschema.validate(comp.tool_calls[0].arguments, WEATHER.parameters)


def test_stream_deltas_join_to_final_text(served: OpenAIChatModel) -> None:
    events = list(served.stream("Count from one to five.", max_tokens=16))
    deltas = [e.delta for e in events if e.completion is None]
    final = events[-1].completion
    assert final is not None and len(deltas) > 1
    assert "".join(deltas) == final.text


def test_unsupported_response_format_is_a_user_error(server_url: str) -> None:
    """llama-cpp-python's server knows only json_object; the default json_schema is refused."""
    model = OpenAIChatModel(server_url, ALIAS, settings=FAST)
    with pytest.raises(UserError, match="use 'json_object'") as info:
        model.complete("A person.", schema=PERSON, max_tokens=8)
    assert "\n" not in str(info.value) and "Traceback" not in str(info.value)


def test_server_down_is_backend_unavailable_fast() -> None:
    port = _free_port()  # nothing listens there
    settings = Settings(http=HTTPSettings(timeout_s=2, max_retries=0))
    model = load_model(f"openai+http://127.0.0.1:{port}/v1#{ALIAS}", settings)
    t0 = time.monotonic()
    with pytest.raises(BackendUnavailable) as info:
        model.complete("hi", max_tokens=4)
    assert time.monotonic() - t0 < 5
    msg = str(info.value)
    assert "\n" not in msg and f"'http://127.0.0.1:{port}/v1'" in msg and "not reachable" in msg
    assert "start the server" in msg


# ---- MockTransport: error mapping ------------------------------------------------------------
Handler = Callable[[httpx.Request], httpx.Response]


def mocked(handler: Handler, settings: Settings = FAST, **kw: Any) -> OpenAIChatModel:
    client = httpx.Client(transport=httpx.MockTransport(handler))
    return OpenAIChatModel(
        "http://llm.test/v1", "qwen3.5-4b", settings=settings, http_client=client, **kw
    )


def reply(status: int, body: Any) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(body, str):
            return httpx.Response(status, text=body)
        return httpx.Response(status, json=body)

    return handler


def completion(content: str | None = "ok", tool_calls: list[Any] | None = None) -> dict[str, Any]:
    message = {"role": "assistant", "content": content, "tool_calls": tool_calls}
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 0,
        "model": "qwen3.5-4b",
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10},
    }


TRACEBACK = "Internal Server Error\nTraceback (most recent call last):\n  File 'app.py', line 1"


@pytest.mark.parametrize(
    ("status", "body", "error", "quoted"),
    [
        (
            404,
            {"error": {"message": "The model `qwen3.5-4b` does not exist."}},
            ModelNotFound,
            "does not exist",
        ),
        (401, {"error": {"message": "Invalid API key"}}, UserError, "Invalid API key"),
        (403, {"detail": "Forbidden"}, UserError, "Forbidden"),
        (
            400,
            {"error": {"message": "maximum context length is 2048 tokens"}},
            UserError,
            "maximum context length is 2048 tokens",
        ),
        (422, {"detail": [{"msg": "field required"}]}, UserError, "field required"),
        (500, TRACEBACK, BackendUnavailable, "Internal Server Error"),
        (503, {"error": {"message": "overloaded"}}, BackendUnavailable, "overloaded"),
        (
            500,
            {"error": {"message": "1 validation error:\n  {'loc': 'response_format'}"}},
            UserError,
            "validation error: {'loc': 'response_format'}",
        ),
    ],
)
def test_status_errors_map_to_typed_one_line_errors(
    status: int, body: Any, error: type[Exception], quoted: str
) -> None:
    with pytest.raises(error) as info:
        mocked(reply(status, body)).complete("hi", max_tokens=4)
    msg = str(info.value)
    assert "\n" not in msg and "Traceback" not in msg
    assert quoted in msg and "'http://llm.test/v1'" in msg and str(status) in msg


def test_404_names_the_model_and_the_models_listing() -> None:
    with pytest.raises(ModelNotFound) as info:
        mocked(reply(404, {"detail": "Not Found"})).complete("hi", max_tokens=4)
    assert "'qwen3.5-4b'" in str(info.value) and "GET http://llm.test/v1/models" in str(info.value)


def test_401_names_the_api_key_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SLMSTACK_TEST_KEY", raising=False)
    settings = Settings(http=HTTPSettings(max_retries=0, api_key_env="SLMSTACK_TEST_KEY"))
    with pytest.raises(UserError) as info:
        mocked(reply(401, {"error": {"message": "no key"}}), settings).complete("hi", max_tokens=4)
    assert "$SLMSTACK_TEST_KEY" in str(info.value)


def test_api_key_from_settings_is_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLMSTACK_TEST_KEY", "sk-test")
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        return httpx.Response(200, json=completion())

    settings = Settings(http=HTTPSettings(max_retries=0, api_key_env="SLMSTACK_TEST_KEY"))
    assert mocked(handler, settings).complete("hi", max_tokens=4).text == "ok"
    assert seen == ["Bearer sk-test"]


def test_stream_errors_are_mapped_too() -> None:
    model = mocked(reply(503, {"error": {"message": "overloaded"}}))
    with pytest.raises(BackendUnavailable, match="overloaded"):
        list(model.stream("hi", max_tokens=4))


def test_timeout_is_backend_unavailable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(BackendUnavailable, match="no answer within 5 s"):
        mocked(handler).complete("hi", max_tokens=4)


# ---- MockTransport: request and reply shapes -------------------------------------------------
def capture(response: dict[str, Any]) -> tuple[list[dict[str, Any]], Handler]:
    bodies: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(200, json=response)

    return bodies, handler


def test_plain_request_shape_and_usage() -> None:
    bodies, handler = capture(completion("Hello"))
    comp = mocked(handler).complete("hi", max_tokens=9, temperature=0.5, stop=["\n"])
    body = bodies[0]
    assert body["model"] == "qwen3.5-4b" and body["max_tokens"] == 9 and body["stop"] == ["\n"]
    assert body["temperature"] == 0.5 and body["messages"] == [{"role": "user", "content": "hi"}]
    assert "response_format" not in body and "tools" not in body
    assert (comp.text, comp.usage.input_tokens, comp.usage.output_tokens) == ("Hello", 7, 3)


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        (
            "json_schema",
            {
                "type": "json_schema",
                "json_schema": {"name": "output", "schema": PERSON, "strict": True},
            },
        ),
        ("json_object", {"type": "json_object", "schema": PERSON}),
        ("none", None),
    ],
)
def test_schema_goes_as_response_format(mode: str, expected: dict[str, Any] | None) -> None:
    bodies, handler = capture(completion('{"age": 30, "color": "red"}'))
    comp = mocked(handler, constrain=mode).complete("a person", schema=PERSON, max_tokens=20)
    assert bodies[0].get("response_format") == expected
    assert comp.parsed == {"age": 30, "color": "red"}
    if mode == "none":  # the base class shows the schema in the prompt instead
        assert "color" in bodies[0]["messages"][0]["content"]


def test_prompted_tools_send_the_tool_call_schema() -> None:
    call = {"name": "get_weather", "arguments": {"city": "Oslo", "unit": "celsius"}}
    text = json.dumps({"tool_calls": [call]})
    bodies, handler = capture(completion(text))
    comp = mocked(handler).complete("weather?", tools=[WEATHER], tool_choice="required")
    assert "tools" not in bodies[0]
    schema = bodies[0]["response_format"]["json_schema"]["schema"]
    assert schema["required"] == ["tool_calls"]
    assert [(c.name, c.arguments) for c in comp.tool_calls] == [
        ("get_weather", {"city": "Oslo", "unit": "celsius"})
    ]


def test_native_tools_request_and_lenient_arguments() -> None:
    calls = [
        {
            "id": "call_7",
            "type": "function",
            "function": {
                "name": "get_weather",
                "arguments": '{"city": "Oslo", "unit": "celsius",}',
            },
        }
    ]
    bodies, handler = capture(completion(None, calls))
    comp = mocked(handler, native_tools=True).complete(
        "weather?", tools=[WEATHER, CLOCK], tool_choice="get_weather", parallel_tool_calls=False
    )
    body = bodies[0]
    assert [t["function"]["name"] for t in body["tools"]] == ["get_weather", "get_time"]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert body["parallel_tool_calls"] is False and "response_format" not in body
    assert [(c.id, c.name, c.arguments) for c in comp.tool_calls] == [
        ("call_7", "get_weather", {"city": "Oslo", "unit": "celsius"})
    ]


def test_native_tools_fall_back_to_parsing_the_text() -> None:
    call = {"name": "get_time", "arguments": {"timezone": "UTC"}}
    _, handler = capture(completion(f"<tool_call>{json.dumps(call)}</tool_call>"))
    comp = mocked(handler, native_tools=True).complete("time?", tools=[WEATHER, CLOCK])
    assert [(c.name, c.arguments) for c in comp.tool_calls] == [("get_time", {"timezone": "UTC"})]


# ---- MockTransport: streaming ----------------------------------------------------------------
def sse(*chunks: dict[str, Any]) -> httpx.Response:
    text = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
    return httpx.Response(200, text=text, headers={"content-type": "text/event-stream"})


def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "c",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def test_stream_falls_back_when_stream_options_are_refused() -> None:
    bodies: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        if "stream_options" in bodies[-1]:
            return httpx.Response(400, json={"error": {"message": "unknown field stream_options"}})
        return sse(chunk({"content": "Hel"}), chunk({"content": "lo"}, "stop"))

    events = list(mocked(handler).stream("hi", max_tokens=4))
    assert [e.delta for e in events[:-1]] == ["Hel", "lo"]
    assert events[-1].completion is not None and events[-1].completion.text == "Hello"
    assert len(bodies) == 2 and bodies[1]["stream"] is True


def test_stream_usage_and_native_tool_call_fragments() -> None:
    head = {
        "index": 0,
        "id": "call_1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Os'},
    }
    tail = {"index": 0, "function": {"arguments": 'lo", "unit": "celsius"}'}}
    usage = {
        "id": "c",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "m",
        "choices": [],
        "usage": {"prompt_tokens": 11, "completion_tokens": 5},
    }
    response = sse(
        chunk({"tool_calls": [head]}), chunk({"tool_calls": [tail]}, "tool_calls"), usage
    )
    model = mocked(lambda request: response, native_tools=True)
    events = list(model.stream("weather?", tools=[WEATHER], tool_choice="get_weather"))
    final = events[-1].completion
    assert final is not None and (final.usage.input_tokens, final.usage.output_tokens) == (11, 5)
    assert [(c.id, c.arguments) for c in final.tool_calls] == [
        ("call_1", {"city": "Oslo", "unit": "celsius"})
    ]


# ---- URIs ------------------------------------------------------------------------------------
def test_parse_uri() -> None:
    assert parse_uri("openai+http://h:8000/v1#qwen3.5-4b") == ("http://h:8000/v1", "qwen3.5-4b")
    assert parse_uri("openai+https://api.x/v1/#m") == ("https://api.x/v1", "m")


@pytest.mark.parametrize("uri", ["openai+http://h:8000/v1", "openai+http:///v1#m", "openai:h#m"])
def test_bad_uris_are_user_errors(uri: str) -> None:
    with pytest.raises(UserError) as info:
        parse_uri(uri)
    assert repr(uri) in str(info.value)


def test_profile_comes_from_the_catalog() -> None:
    model = load_model("openai+http://127.0.0.1:9/v1#Qwen3.5-4B-Instruct", FAST)
    assert isinstance(model, OpenAIChatModel) and model.profile.name == "qwen3.5-4b"
    assert model.profile.can_constrain and not model.profile.native_tools
    with pytest.raises(UserError, match="constrain='grammar'"):
        OpenAIChatModel("http://h/v1", "m", constrain="grammar")  # type: ignore[arg-type]
