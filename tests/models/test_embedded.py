"""The embedded backend with the real SmolLM2-135M GGUF: chat, streaming, tools, schemas, errors."""

from __future__ import annotations

import json

import pytest

from slmstack.config import EmbeddedSettings, Settings
from slmstack.errors import ModelNotFound, OutputValidationError, ToolCallError, UserError
from slmstack.models.embedded import EmbeddedChatModel
from slmstack.models.registry import load_model
from slmstack.types import Message, ToolSpec

WEATHER = ToolSpec(
    name="get_weather",
    description="Get the current weather for a city.",
    parameters={
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        },
        "required": ["city"],
    },
)
STOCK = ToolSpec(
    name="get_stock_price",
    description="Latest price of a stock ticker.",
    parameters={
        "type": "object",
        "properties": {"ticker": {"type": "string"}},
        "required": ["ticker"],
    },
)
PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
    "additionalProperties": False,
}


def test_chat_answers_with_usage_latency_and_cost(embedded_model):
    c = embedded_model.complete(
        "What is the capital city of France?", max_tokens=24
    )
    # what a 135M Q4 model answers depends on the CPU's kernels (on an AVX-512 EPYC it talks
    # about "la femme de France"): the contract checked here is text, usage, latency and cost
    assert c.text and any(ch.isalpha() for ch in c.text)
    assert c.usage.input_tokens > 10 and 0 < c.usage.output_tokens <= 24
    assert c.latency_s > 0
    assert c.model == "embedded:smollm2-135m"
    assert c.cost_usd == pytest.approx(embedded_model.profile.cost(c.usage))


def test_greedy_is_deterministic(embedded_model):
    a = embedded_model.complete("Name three colours.", max_tokens=16)
    b = embedded_model.complete("Name three colours.", max_tokens=16)
    assert a.text == b.text


def test_a_reply_does_not_depend_on_the_calls_before_it(embedded_model):
    """llama.cpp reuses the cached prompt prefix of the previous call; the reply must be the
    one a freshly loaded model gives (an audit replays requests one at a time)."""
    long_context = "Background: " + "the warehouse ships parcels every weekday. " * 70
    asks = [
        ([Message(role="user", content=long_context + "When does it ship?")], {}),
        ("What's the weather in Paris in celsius?", {"tools": [WEATHER, STOCK]}),
        ("Name three colours.", {}),
    ]
    fresh = load_model("embedded:smollm2-135m")
    expected = [fresh.complete(m, max_tokens=24, **kw) for m, kw in asks]
    # the shared instance first serves requests sharing each prefix, then the same asks
    embedded_model.complete([Message(role="user", content=long_context + "Who ships?")],
                            max_tokens=8)
    embedded_model.complete("What's the price of AAPL?", tools=[WEATHER, STOCK], max_tokens=24)
    for (m, kw), want in zip(reversed(asks), reversed(expected), strict=True):
        got = embedded_model.complete(m, max_tokens=24, **kw)
        assert _reply(got) == _reply(want)


def _reply(c):
    return c.text, [(t.name, t.arguments) for t in c.tool_calls]


def test_stream_deltas_join_to_the_completion(embedded_model):
    events = list(embedded_model.stream("Count from one to five.", max_tokens=20))
    deltas = [e.delta for e in events if e.delta]
    final = events[-1].completion
    assert len(deltas) > 1 and final is not None
    assert "".join(deltas) == final.text
    assert final.usage.output_tokens > 0 and final.usage.input_tokens > 0


def test_max_tokens_stops_with_length(embedded_model):
    c = embedded_model.complete("Write a long story about a dragon.", max_tokens=5)
    assert c.finish_reason == "length"
    assert c.usage.output_tokens == 5


def test_schema_output_is_constrained_and_parsed(embedded_model):
    c = embedded_model.complete(
        "Extract the person: Alice is 31 years old.", schema=PERSON, max_tokens=48
    )
    assert set(c.parsed) == {"name", "age"} and isinstance(c.parsed["age"], int)
    assert json.loads(c.text) == c.parsed
    assert c.parsed["name"] == "Alice" and c.parsed["age"] == 31


def test_tool_call_is_constrained_to_the_tool_list(embedded_model):
    c = embedded_model.complete(
        "What's the weather in Paris?",
        tools=[WEATHER, STOCK],
        tool_choice="required",
        parallel_tool_calls=False,
    )
    assert c.finish_reason == "tool_calls"
    assert [t.name for t in c.tool_calls] == ["get_weather"]
    assert c.tool_calls[0].arguments["city"] == "Paris"


def test_named_tool_choice_forces_that_tool(embedded_model):
    c = embedded_model.complete(
        "What's the weather in Paris?", tools=[WEATHER, STOCK], tool_choice="get_stock_price"
    )
    assert [t.name for t in c.tool_calls] == ["get_stock_price"]
    assert isinstance(c.tool_calls[0].arguments["ticker"], str)


def test_tool_choice_none_gives_text(embedded_model):
    c = embedded_model.complete("Say hello.", tools=[WEATHER], tool_choice="none", max_tokens=12)
    assert c.tool_calls == [] and c.text


def test_tool_results_round_trip(embedded_model):
    call = embedded_model.complete(
        "What's the weather in Paris?", tools=[WEATHER], tool_choice="required"
    ).tool_calls[0]
    msgs = [
        Message.user("What's the weather in Paris?"),
        Message.assistant(tool_calls=[call]),
        Message.tool('{"temperature_c": 18, "sky": "sunny"}', call.id, call.name),
    ]
    c = embedded_model.complete(msgs, tools=[WEATHER], tool_choice="none", max_tokens=40)
    # tool_choice="none" after calls: prose (constrained to {"content": …}, unwrapped), not a
    # copy of the call the transcript shows as JSON
    assert c.tool_calls == [] and not (c.text or "").lstrip().startswith("{")
    assert "sunny" in (c.text or "").lower()
    [*_, last] = embedded_model.stream(msgs, tools=[WEATHER], tool_choice="none", max_tokens=40)
    assert last.completion is not None and last.completion.text == c.text


def test_unknown_embedded_name_lists_known_ones():
    with pytest.raises(ModelNotFound, match="smollm2-135m"):
        load_model("embedded:gpt-17")


def test_unknown_scheme_lists_schemes():
    with pytest.raises(ModelNotFound, match="embedded"):
        load_model("ftp://model")


def test_missing_gguf_is_a_clear_error(tmp_path):
    with pytest.raises(ModelNotFound, match="never downloads"):
        load_model(f"gguf:{tmp_path / 'nope.gguf'}")


def test_not_a_gguf_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"this is not a model" * 100)
    with pytest.raises(ModelNotFound, match="complete GGUF"):
        EmbeddedChatModel(bad)


def test_invalid_schema_is_rejected_before_generation(embedded_model):
    with pytest.raises(UserError, match="schema"):
        embedded_model.complete("x", schema={"type": "objekt"})


def test_unknown_tool_choice_names_the_tools(embedded_model):
    with pytest.raises(UserError, match="get_weather"):
        embedded_model.complete("x", tools=[WEATHER], tool_choice="send_email")


def test_context_overflow_is_a_user_error():
    small = load_model("embedded:smollm2-135m", Settings(embedded=EmbeddedSettings(n_ctx=256)))
    with pytest.raises(UserError, match="n_ctx"):
        small.complete("word " * 400, max_tokens=8)


def test_truncated_json_is_an_output_error_that_keeps_the_reply(embedded_model):
    with pytest.raises(OutputValidationError) as info:
        embedded_model.complete("Extract: Bob is 40.", schema=PERSON, max_tokens=3)
    assert "raw_text" in str(info.value.hint) or "max_tokens" in str(info.value)


def test_required_tool_with_no_room_to_answer_raises_tool_error(embedded_model):
    with pytest.raises((ToolCallError, OutputValidationError)):
        embedded_model.complete("Weather in Paris?", tools=[WEATHER], tool_choice="required",
                                max_tokens=2)


def _both_paths(model, messages, **kwargs):
    """The same request through the lazy-grammar greedy loop and through llama-cpp-python's
    own sampler chain (full-vocabulary grammar check), each from a cold cache."""
    model.llm.reset()
    fast = model.complete(messages, **kwargs)
    formatter, model._formatter = model._formatter, None
    try:
        model.llm.reset()
        full = model.complete(messages, **kwargs)
    finally:
        model._formatter = formatter
    return fast, full


@pytest.mark.parametrize(
    "kwargs",
    [
        # one call: with parallel calls the two paths differ by design (only the fast path
        # can continue a reply, so only it starts with a one-call grammar)
        {"tools": [WEATHER, STOCK], "tool_choice": "auto", "max_tokens": 64,
         "parallel_tool_calls": False},
        {"schema": PERSON, "max_tokens": 48},
    ],
)
def test_lazy_grammar_check_gives_the_same_reply(embedded_model, kwargs):
    assert embedded_model._formatter is not None  # the GGUF's template: the fast path is used
    fast, full = _both_paths(embedded_model, "Alice (31) asks: weather in Oslo?", **kwargs)
    assert fast.raw_text == full.raw_text
    assert fast.usage == full.usage


def test_lazy_grammar_path_stops_at_max_tokens(embedded_model):
    with pytest.raises((ToolCallError, OutputValidationError)):
        embedded_model.complete("Extract: Bob is 40.", schema=PERSON, max_tokens=4)
    embedded_model.llm.reset()
    c = embedded_model.complete(
        "Weather in Paris?", tools=[WEATHER], tool_choice="auto", max_tokens=6
    )
    assert c.finish_reason == "length" and c.usage.output_tokens == 6


def test_profile_context_is_the_allocated_one():
    small = load_model("embedded:smollm2-135m", Settings(embedded=EmbeddedSettings(n_ctx=512)))
    assert small.profile.context_length == small.n_ctx == 512


def test_annotation_only_and_any_value_properties_compile_to_a_grammar(embedded_model):
    # BFCL-style "any" parameters arrive as {"description": ...}: llama.cpp's converter would
    # assert on them (and read {} as "an object"); they must mean "any JSON value".
    tool = ToolSpec(name="train", description="Train a model on data.", parameters={
        "type": "object",
        "properties": {"data": {"description": "the training data"},
                       "trees": {"type": "integer", "description": "how many trees"}},
        "required": ["data", "trees"],
    })
    c = embedded_model.complete("Train on my_data with 100 trees.", tools=[tool],
                                tool_choice="train", max_tokens=60)
    [call] = c.tool_calls
    assert call.name == "train" and isinstance(call.arguments["trees"], int)
    assert "data" in call.arguments


def test_an_integer_range_is_enforced_by_the_grammar(embedded_model):
    # llama.cpp's converter ignores minimum/maximum: without the enum rewrite SmolLM2 writes
    # {"n": 130} here and the reply fails validation
    schema = {"type": "object", "required": ["n"],
              "properties": {"n": {"type": "integer", "minimum": 1, "maximum": 64}}}
    for prompt in ("Reply with the number 130.", "The answer is 500."):
        c = embedded_model.complete(prompt, schema=schema, max_tokens=20)
        assert 1 <= c.parsed["n"] <= 64


@pytest.mark.parametrize(("prop", "grammar"), [
    ({"type": "integer", "minimum": 1, "maximum": 4}, {"enum": [1, 2, 3, 4]}),
    ({"type": "integer", "exclusiveMinimum": 0.5, "exclusiveMaximum": 3}, {"enum": [1, 2]}),
    ({"type": "integer", "minimum": -1, "exclusiveMaximum": 1.5, "maximum": 9},
     {"enum": [-1, 0, 1]}),
    ({"type": "integer", "minimum": 0, "maximum": 60, "multipleOf": 20}, {"enum": [0, 20, 40, 60]}),
    ({"type": "integer", "minimum": 0}, None),  # one side only: checked after decoding
    ({"type": "integer", "minimum": 0, "maximum": 10**6}, None),  # too wide to write out
    ({"type": "integer", "minimum": 5, "maximum": 1}, None),  # empty: the validator says so
    ({"type": "integer", "minimum": True, "maximum": 3}, None),  # not a number
    ({"type": "number", "minimum": 0, "maximum": 3}, None),
    ({"type": "integer", "minimum": 0, "maximum": 3, "enum": [1, 2]}, None),
])
def test_integer_ranges_become_enums_for_the_grammar(prop, grammar):
    from slmstack.models.schema import for_grammar

    out = for_grammar({"type": "object", "properties": {"n": {**prop, "description": "d"}}})
    assert out["properties"]["n"] == (grammar or prop)


def test_a_schema_llama_cpp_cannot_compile_is_a_clear_error():
    from slmstack.errors import InvalidSchema
    from slmstack.models.embedded import gbnf_for
    from slmstack.models.schema import for_grammar

    assert for_grammar({"type": "object", "properties": {"x": {"title": "X"}}})["properties"][
        "x"]["type"][0] == "string"
    with pytest.raises(InvalidSchema, match="cannot turn this JSON Schema into a grammar"):
        gbnf_for(json.dumps({"type": "object", "properties": {"a": {"type": "frob"}}}))


def test_call_ids_are_the_same_for_the_same_request(embedded_model):
    """Ids used to be random; a chat template writes them into the next prompt, so the same
    conversation was a different prompt on every run. Now they follow from the request."""
    ask = "What's the weather in Paris in celsius?"
    a = embedded_model.complete(ask, tools=[WEATHER, STOCK], max_tokens=48)
    b = embedded_model.complete(ask, tools=[WEATHER, STOCK], max_tokens=48)
    assert a.tool_calls and [c.id for c in a.tool_calls] == [c.id for c in b.tool_calls]
    later = [Message.user(ask), Message.assistant(tool_calls=a.tool_calls),
             Message.tool("18 degrees", a.tool_calls[0].id), Message.user(ask)]
    c = embedded_model.complete(later, tools=[WEATHER, STOCK], max_tokens=48)
    assert c.tool_calls and c.tool_calls[0].id != a.tool_calls[0].id  # another step


def test_without_prompt_reuse_every_call_evaluates_the_whole_prompt():
    fresh = load_model("embedded:smollm2-135m",
                       Settings(embedded=EmbeddedSettings(reuse_prompt=False)))
    reusing = load_model("embedded:smollm2-135m")
    for model in (fresh, reusing):
        model.complete("Name three colours.", max_tokens=4)
        seen: list[int] = []
        evaluate = model.llm.eval
        model.llm.eval = lambda t, _e=evaluate, _s=seen: (_s.append(len(t)), _e(t))[1]
        reply = model.complete("Name three colours.", max_tokens=4)
        model.llm.eval = evaluate
        prompt = reply.usage.input_tokens
        if model is fresh:
            assert seen[0] == prompt  # from an empty context
        else:
            assert seen[0] < prompt  # the cached prefix is reused
    reusing.forget_prompt()
    assert reusing.llm.n_tokens == 0
