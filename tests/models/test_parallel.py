"""More calls by coverage: a reply is continued while the request names values no call uses."""

from __future__ import annotations

import json
from typing import Any

from slmstack.models.base import BaseChatModel, RawOutput, Request
from slmstack.models.catalog import ModelProfile
from slmstack.models.grounding import covered, request_values
from slmstack.types import ToolCall, ToolSpec, Usage

WEATHER = ToolSpec(
    name="get_weather",
    description="Current weather for a city.",
    parameters={"type": "object", "properties": {"city": {"type": "string"}},
                "required": ["city"]},
)


def call(city: str) -> str:
    return json.dumps({"name": "get_weather", "arguments": {"city": city}})


class Continuing(BaseChatModel):
    """First reply: one call; every continuation: the next of ``more`` (None: cannot)."""

    def __init__(self, first: str, more: list[str] | None) -> None:
        self.name = "continuing"
        self.profile = ModelProfile(name="continuing", can_constrain=True)
        self.first, self.more = first, more
        self.prefixes: list[str] = []

    def _generate(self, req: Request) -> RawOutput:
        return RawOutput(self.first, Usage(input_tokens=10, output_tokens=10))

    def _continue(self, req: Request, prefix: str, schema: dict[str, Any]) -> RawOutput | None:
        if self.more is None:
            return None
        self.prefixes.append(prefix)
        text = self.more.pop(0) if self.more else call("Paris")
        return RawOutput(text, Usage(input_tokens=12, output_tokens=5))


FIRST = '{"tool_calls": [' + call("Paris") + "]}"
ASK = "What is the weather in Paris, in Rome and in Oslo?"


def test_calls_are_added_until_every_named_value_is_used() -> None:
    model = Continuing(FIRST, [call("Rome"), call("Oslo"), call("Lima")])
    c = model.complete(ASK, tools=[WEATHER], parallel_tool_calls=True)
    assert [t.arguments["city"] for t in c.tool_calls] == ["Paris", "Rome", "Oslo"]
    assert len(model.prefixes) == 2 and model.prefixes[0].endswith(call("Paris") + ", ")
    assert c.usage.output_tokens == 10 + 5 + 5


def test_a_repeat_or_a_call_that_uses_nothing_new_closes_the_list() -> None:
    for bad in (call("Paris"), call("Lima")):
        model = Continuing(FIRST, [bad])
        c = model.complete(ASK, tools=[WEATHER], parallel_tool_calls=True)
        assert [t.arguments["city"] for t in c.tool_calls] == ["Paris"]


def test_no_continuation_for_single_calls_or_engines_that_cannot() -> None:
    model = Continuing(FIRST, [call("Rome")])
    c = model.complete(ASK, tools=[WEATHER], parallel_tool_calls=False)
    assert len(c.tool_calls) == 1 and model.prefixes == []
    c = Continuing(FIRST, None).complete(ASK, tools=[WEATHER], parallel_tool_calls=True)
    assert len(c.tool_calls) == 1


def test_request_values_are_numbers_quotes_and_names_not_tool_words() -> None:
    text = "Play 'Blue Train' by John Coltrane for 20 minutes and then Miles Davis on Spotify."
    values = request_values(text, known="spotify.play Play music on Spotify.")
    assert 20.0 in values and "Blue Train" in values
    assert {"john", "coltrane", "miles", "davis"} <= set(values) and "spotify" not in values
    done = [ToolCall(name="play", arguments={"artist": "John Coltrane", "minutes": 20})]
    assert covered("coltrane", done) and covered(20.0, done) and not covered("miles", done)


GCD = ToolSpec(
    name="gcd",
    description="Greatest common divisor.",
    parameters={
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        "required": ["a", "b"],
    },
)


def gcd(a: int, b: int) -> str:
    return json.dumps({"name": "gcd", "arguments": {"a": a, "b": b}})


def test_a_call_that_only_reshuffles_used_values_is_not_added() -> None:
    ask = "The gcd of 96 and 128, of 15 and 25, and of 40 and 60."
    first = '{"tool_calls": [' + gcd(96, 128) + ", " + gcd(15, 25) + "]}"
    c = Continuing(first, [gcd(25, 128)]).complete(ask, tools=[GCD], parallel_tool_calls=True)
    assert len(c.tool_calls) == 2
    c = Continuing(first, [gcd(40, 60)]).complete(ask, tools=[GCD], parallel_tool_calls=True)
    assert [t.arguments for t in c.tool_calls][-1] == {"a": 40, "b": 60}
