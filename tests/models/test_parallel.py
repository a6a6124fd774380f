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
        self.schemas: list[dict[str, Any]] = []
        self.asks: list[str | None] = []  # the request each continuation was asked with

    def _generate(self, req: Request) -> RawOutput:
        return RawOutput(self.first, Usage(input_tokens=10, output_tokens=10))

    def _continue(self, req: Request, prefix: str, schema: dict[str, Any]) -> RawOutput | None:
        if self.more is None:
            return None
        self.prefixes.append(prefix)
        self.schemas.append(schema)
        self.asks.append(req.messages[-1].content)
        text = self.more.pop(0) if self.more else call("Paris")
        return RawOutput(text, Usage(input_tokens=12, output_tokens=5))


FIRST = '{"tool_calls": [' + call("Paris") + "]}"
ASK = "What is the weather in Paris, in Rome and in Oslo?"
TIDE = ToolSpec(
    name="get_tide",
    description="Tide tables for a harbour.",
    parameters={"type": "object", "properties": {"harbour": {"type": "string"}},
                "required": ["harbour"]},
)
"""A second tool the requests never name: with two tools on offer, no call is read from the
names after the first call's (``frames.following``), so the model writes every call."""


def test_calls_are_added_until_every_named_value_is_used() -> None:
    model = Continuing(FIRST, [call("Rome"), call("Oslo"), call("Lima")])
    c = model.complete(ASK, tools=[WEATHER, TIDE], parallel_tool_calls=True)
    assert [t.arguments["city"] for t in c.tool_calls] == ["Paris", "Rome", "Oslo"]
    # the third continuation is for the tool no call uses yet: "Lima" is no value asked for
    assert len(model.prefixes) == 3 and model.prefixes[0].endswith(call("Paris") + ", ")
    assert c.usage.output_tokens == 10 + 5 + 5 + 5


def test_a_repeat_or_a_call_that_uses_nothing_new_closes_the_list() -> None:
    for bad in (call("Paris"), call("Lima")):
        model = Continuing(FIRST, [bad])
        c = model.complete(ASK, tools=[WEATHER, TIDE], parallel_tool_calls=True)
        assert [t.arguments["city"] for t in c.tool_calls] == ["Paris"]


def test_no_continuation_for_single_calls_or_engines_that_cannot() -> None:
    model = Continuing(FIRST, [call("Rome")])
    c = model.complete(ASK, tools=[WEATHER, TIDE], parallel_tool_calls=False)
    assert len(c.tool_calls) == 1 and model.prefixes == []
    c = Continuing(FIRST, None).complete(ASK, tools=[WEATHER, TIDE], parallel_tool_calls=True)
    assert len(c.tool_calls) == 1


def test_with_one_tool_the_names_after_the_call_are_its_next_records() -> None:
    # no model needed: "in Rome and in Oslo" follow "Paris" as names of the same kind
    c = Continuing(FIRST, None).complete(ASK, tools=[WEATHER], parallel_tool_calls=True)
    assert [t.arguments["city"] for t in c.tool_calls] == ["Paris", "Rome", "Oslo"]
    # nothing joins a record to the name after it: a qualifier or a day, not a second city
    for ask in ("What is the weather in Paris, the capital of France?",
                "What is the weather in Paris on Monday?"):
        c = Continuing(FIRST, None).complete(ask, tools=[WEATHER], parallel_tool_calls=True)
        assert [t.arguments["city"] for t in c.tool_calls] == ["Paris"], ask


def test_request_values_are_numbers_quotes_and_names_not_tool_words() -> None:
    text = "Play 'Blue Train' by John Coltrane for 20 minutes and then Miles Davis on Spotify."
    values = request_values(text, known="spotify.play Play music on Spotify.")
    assert 20.0 in values and "Blue Train" in values
    assert {"john", "coltrane", "miles", "davis"} <= set(values) and "spotify" not in values
    done = [ToolCall(name="play", arguments={"artist": "John Coltrane", "minutes": 20})]
    assert covered("coltrane", done) and covered(20.0, done) and not covered("miles", done)
    # a sentence opened by a quote starts with a capital, not a name; a power is no value
    assert request_values('"Imagine a car at 5 m/s^2, then Car B') == [5.0, "car", "b"]


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
    ask = "The gcd of 96 and 128, then 15 with 25, and finally 40 and 60."
    first = '{"tool_calls": [' + gcd(96, 128) + ", " + gcd(15, 25) + "]}"
    tools = [GCD, TIDE]
    c = Continuing(first, [gcd(25, 128)]).complete(ask, tools=tools, parallel_tool_calls=True)
    assert len(c.tool_calls) == 2
    c = Continuing(first, [gcd(40, 60)]).complete(ask, tools=tools, parallel_tool_calls=True)
    assert [t.arguments for t in c.tool_calls][-1] == {"a": 40, "b": 60}
    # with the tool alone, the numbers after the first call's are read as its next records
    c = Continuing(first, []).complete(ask, tools=[GCD], parallel_tool_calls=True)
    assert [t.arguments for t in c.tool_calls] == [{"a": 96, "b": 128}, {"a": 15, "b": 25},
                                                   {"a": 40, "b": 60}]


# ---- fan-out over a list the request writes ------------------------------------------------

def one_arg_tool(name: str, description: str, arg: str, kind: str = "string") -> ToolSpec:
    return ToolSpec(name=name, description=description, parameters={
        "type": "object", "properties": {arg: {"type": kind}}, "required": [arg]})


FACTORIAL = one_arg_tool("math.factorial", "Factorial of a number.", "number", "integer")
PLAY = ToolSpec(
    name="play",
    description="Play an artist for a while.",
    parameters={"type": "object", "properties": {"artist": {"type": "string"},
                                                 "minutes": {"type": "integer"}},
                "required": ["artist", "minutes"]},
)


def test_a_list_the_first_call_starts_is_fanned_out_without_the_model() -> None:
    first = json.dumps({"name": "math.factorial", "arguments": {"number": 5}})
    model = Continuing('{"tool_calls": [' + first + "]}", None)  # cannot continue
    c = model.complete("Find the factorial of 5,10 and 15.", tools=[FACTORIAL],
                       parallel_tool_calls=True)
    assert [t.arguments["number"] for t in c.tool_calls] == [5, 10, 15]
    assert c.usage.output_tokens == 10  # no model call was spent on them


def test_lists_of_one_length_vary_together_and_a_single_call_is_not_fanned() -> None:
    ask = "Play Taylor Swift and Maroon 5 for 20 minutes and 15 minutes respectively."
    first = json.dumps({"name": "play", "arguments": {"artist": "Taylor Swift", "minutes": 20}})
    reply = '{"tool_calls": [' + first + "]}"
    c = Continuing(reply, None).complete(ask, tools=[PLAY], parallel_tool_calls=True)
    assert [(t.arguments["artist"], t.arguments["minutes"]) for t in c.tool_calls] == [
        ("Taylor Swift", 20), ("Maroon 5", 15)]
    one = Continuing(reply, None).complete(ask, tools=[PLAY], parallel_tool_calls=False)
    assert len(one.tool_calls) == 1


def test_list_items_are_read_from_the_request_words() -> None:
    from slmstack.models.fanout import fan_out, list_after

    assert list_after("for 10, 20 and 30 years", 10) == [10, 20, 30]
    assert list_after("at 5% and 7%", 0.05) == [0.05, 0.07]
    assert list_after("$1,000 and $2,500 loans", 1000) == [1000, 2500]
    assert list_after("for the next 10 years and 20 years", 10) == [10, 20]
    assert list_after("case 28473 and 64725, their history", "28473") == ["28473", "64725"]
    assert list_after("in Seattle and Los Angeles?", "Seattle") == ["Seattle", "Los Angeles"]
    assert list_after("of human HbA1c, normal hemoglobin, and rat hemoglobin and their 3D models",
                      "human HbA1c") == ["human HbA1c", "normal hemoglobin", "rat hemoglobin"]
    # not lists: different units, words between, a clause after the separator, not written
    assert list_after("weighs 80 kg and 5.6 feet", 80) == []
    assert list_after("6 feet tall and weighs 80 kg", 6) == []
    assert list_after("from San Francisco in 2019 and Texas in 2018", "San Francisco") == []
    assert list_after("weather in Paris, in Rome", "Paris") == []
    assert list_after("the factorial of 5", 7) == []
    # a word that asks or orders starts no item: the request's next part, not a value
    assert list_after("the birthdate of Ada Lovelace and what her best work was", "Ada Lovelace"
                      ) == []
    assert list_after("the price in Austin and compare it with Dallas", "Austin") == []
    # an item another argument uses ends the list: sides 3 and 4, 5 and 12
    assert list_after("two side lengths: 3 and 4, 5 and 12.", 3, [4]) == []
    pair = ToolCall(name="p", arguments={"a": 3, "b": 4})
    assert fan_out(pair, "two side lengths: 3 and 4, 5 and 12.") == []
    # a number that ends a list gives the items before it ("1,5 and 10 years" with 10 first)
    assert list_after("at 5% for 1,5 and 10 years.", 10, [0.05]) == [10, 1, 5]
    assert list_after("two side lengths: 3 and 4, 5 and 12.", 12, [5]) == []
    assert list_after("at 5% for 1,5 and 10 years.", 10, [0.05], in_order=True) == [1, 5, 10]
    # an item may start with "the" when the first one does — not in a pair "between" two, nor
    # when the item is cut off at its own "the" ("the signing of the Treaty")
    text = "growth in the Amazon Rainforest and the Boreal Forests of Canada over 10 years"
    assert list_after(text, "Amazon Rainforest") == ["Amazon Rainforest",
                                                     "Boreal Forests of Canada"]
    assert list_after("the game between the Lakers and the Warriors", "Lakers") == []
    assert list_after("about the Battle of Waterloo and the signing of the Treaty of Tordesillas",
                      "Battle of Waterloo") == []

    assert list_after("two side lengths: 3 and 4, 5 and 12.", 4, [3]) == []
    # a state or country code after a bare comma qualifies the item before it
    assert list_after("the same for San Francisco, CA and Seattle, WA?", "Seattle") == []
    assert list_after("the same for San Francisco, CA and Seattle, WA?", "San Francisco, CA"
                      ) == ["San Francisco, CA", "Seattle, WA"]
    assert list_after("in New York, NY, Los Angeles, CA and Chicago, IL", "New York") == [
        "New York", "Los Angeles", "Chicago"]
    assert list_after("in Paris, Rome, and Oslo", "Paris") == ["Paris", "Rome", "Oslo"]
    # a state or country named after a bare comma qualifies the place before it, but not
    # another state or country
    assert list_after("$30.45 in Chicago, Illinois, $52.33 in Sacramento", "Chicago") == []
    assert list_after("in San Francisco, California, and Chicago, Illinois",
                      "San Francisco, California") == ["San Francisco, California",
                                                       "Chicago, Illinois"]
    assert list_after("in France, Germany and Italy", "France") == ["France", "Germany", "Italy"]
    # the noun a list shares, a possessive, or what follows a name is no part of an item
    assert list_after("any rock and jazz concerts", "rock") == ["rock", "jazz"]
    assert list_after("the BRCA1 and BRCA2 genes", "BRCA1") == ["BRCA1", "BRCA2"]
    assert list_after("a piano in Berlin and Madrid's music stores", "Berlin") == [
        "Berlin", "Madrid"]
    assert list_after("concerts near Berlin and Paris happening next Friday", "Berlin") == [
        "Berlin", "Paris"]
    # no item: a number after names, a clause that starts with a pronoun or a verb, a
    # lower-case phrase after a name, a word inside a name, a day's year
    assert list_after("3000 sq ft in New York and 4000 sq ft in Los Angeles", "New York") == []
    assert list_after("for a bachelor in Los Angeles, assuming two children", "Los Angeles"
                      ) == []
    assert list_after("the classical concerts, and I am interested only in", "classical") == []
    assert list_after("in the Los Angeles County Court, and case number GH5678",
                      "Los Angeles County Court") == []
    assert list_after("the population of New York City, NY, and Los Angeles, CA", "city") == []
    assert list_after("with check-in on May 1, 2022 and check-out", 1) == []
    # quoted items
    assert list_after('news on "Climate Change" and "Artificial Intelligence", each with 5',
                      "Climate Change") == ["Climate Change", "Artificial Intelligence"]
    assert list_after("the 'Personal Info', 'Job History', and 'Payroll' fields",
                      "Personal Info") == ["Personal Info", "Job History", "Payroll"]
    assert list_after("the 'CustomerInfo' database and 'John'", "CustomerInfo") == []
    # an item that says a word of another argument's name is an instruction, not a value
    event = ToolCall(name="p", arguments={"event_name": "Magna Carta", "calculate_years_ago": True})
    assert fan_out(event, "the date of the Magna Carta and calculate how many years ago") == []
    # lists that pair up ("respectively") but differ in length: no guess
    both = ToolCall(name="p", arguments={"x": 1, "y": "red"})
    assert fan_out(both, "x of 1, 2 and 3 and y red and blue respectively") == []
    # a list of names with another list: every combination; lists of numbers only: pairs
    assert len(fan_out(both, "x of 1, 2 and 3 and y red and blue")) == 6
    team = ToolCall(name="p", arguments={"team": "Lakers", "season": 2018})
    assert [tuple(c.arguments.values()) for c in fan_out(
        team, "The winning percentage of Lakers and Bulls in seasons 2018 and 2020.")] == [
        ("Lakers", 2018), ("Lakers", 2020), ("Bulls", 2018), ("Bulls", 2020)]
    sides = ToolCall(name="p", arguments={"base": 10, "height": 5})
    assert [tuple(c.arguments.values()) for c in fan_out(
        sides, "Triangles with bases of 10 and 15 and heights of 5 and 7.")] == [(10, 5), (15, 7)]


def test_lists_paired_respectively_are_paired_in_the_order_written() -> None:
    from slmstack.models.fanout import fan_out

    text = ("Forest growth in the Amazon Rainforest and the Boreal Forests of Canada over the "
            "next 10 years and 20 years, respectively?")
    # the model paired the first place with the last number
    model = ToolCall(name="grow", arguments={"location": "Amazon Rainforest", "years": 20})
    assert [c.arguments for c in fan_out(model, text)] == [
        {"location": "Amazon Rainforest", "years": 10},
        {"location": "Boreal Forests of Canada", "years": 20}]
    # an array of as many items as the lists: one item a call
    text = "Prices of Apple, Microsoft and Tesla over 1 week, 2 weeks and 1 month respectively"
    model = ToolCall(name="prices", arguments={"companies": ["Apple", "Microsoft", "Tesla"],
                                               "duration": "1 week"})
    assert [c.arguments for c in fan_out(model, text)] == [
        {"companies": ["Apple"], "duration": "1 week"},
        {"companies": ["Microsoft"], "duration": "2 weeks"},
        {"companies": ["Tesla"], "duration": "1 month"}]
    # without "respectively" the array is every call's
    plain = text.replace(" respectively", "")
    assert {tuple(c.arguments["companies"]) for c in fan_out(model, plain)} == {
        ("Apple", "Microsoft", "Tesla")}


TIME = one_arg_tool("get_local_time", "Local time in a city.", "city")
STOCK = one_arg_tool("get_stock_quote", "Quote for a ticker.", "city")


def tool_call(name: str, city: str) -> str:
    return json.dumps({"name": name, "arguments": {"city": city}})


def test_another_offered_tool_joins_only_when_the_request_names_its_subject() -> None:
    ask = "What is the weather and the local time in Paris?"
    for other, kept in ((TIME, True), (STOCK, False)):
        model = Continuing(FIRST, [tool_call(other.name, "Paris")])
        c = model.complete(ask, tools=[WEATHER, other], parallel_tool_calls=True)
        assert [t.name for t in c.tool_calls] == (
            ["get_weather", other.name] if kept else ["get_weather"])


def test_each_named_tool_no_call_uses_gets_a_continuation_of_its_own() -> None:
    # SmolLM2 left to choose among the tools repeats the one it called; a continuation
    # constrained to the named, uncalled tool's call asks for that call. One whose call the
    # request gives no values for (Lima) is dropped and the next named tool is tried.
    from slmstack.models.schema import call_schema

    news = one_arg_tool("get_news_headlines", "Headlines for a city.", "city")
    ask = "What is the weather, the local time and the news headlines in Paris?"
    model = Continuing(FIRST, [tool_call(TIME.name, "Lima"), tool_call(news.name, "Paris")])
    c = model.complete(ask, tools=[WEATHER, TIME, STOCK, news], parallel_tool_calls=True)
    assert [t.name for t in c.tool_calls] == ["get_weather", news.name]
    assert model.schemas[:2] == [call_schema(TIME), call_schema(news)]
    assert "anyOf" in model.schemas[2]  # then the open choice (the stock tool is not named)
    assert len(model.schemas) == 3


def test_an_engine_that_continues_is_constrained_to_one_call_at_first() -> None:
    class Continues(Continuing):
        def _continues(self, req: Request) -> bool:
            return True

    req = Continues(FIRST, None).prepare(ASK, tools=[WEATHER], parallel_tool_calls=True)
    calls = req.constraint["anyOf"][0]["properties"]["tool_calls"]
    assert calls["maxItems"] == 1
    plain = Continuing(FIRST, None).prepare(ASK, tools=[WEATHER], parallel_tool_calls=True)
    assert plain.constraint["anyOf"][0]["properties"]["tool_calls"]["maxItems"] > 1


# ---- records the request describes in repeating frames ---------------------------------------

BMI = ToolSpec(
    name="bmi",
    description="Body mass index.",
    parameters={"type": "object", "properties": {"kg": {"type": "number"},
                                                 "m": {"type": "number"}},
                "required": ["kg", "m"]},
)


def bmi(kg: float, m: float) -> str:
    return json.dumps({"name": "bmi", "arguments": {"kg": kg, "m": m}})


def test_records_in_repeating_frames_replace_the_single_call_without_the_model() -> None:
    ask = ("Ines weighs 58 kilograms and is 1.62 meters tall; Tomas weighs 81 kilograms and is "
           "1.84 meters tall. What are their BMIs, and the weather in Paris?")
    first = '{"tool_calls": [' + call("Paris") + ", " + bmi(58, 1.62) + "]}"
    model = Continuing(first, None)  # cannot continue: the records come from the request
    c = model.complete(ask, tools=[WEATHER, BMI], parallel_tool_calls=True)
    assert [(t.name, t.arguments) for t in c.tool_calls] == [
        ("get_weather", {"city": "Paris"}), ("bmi", {"kg": 58, "m": 1.62}),
        ("bmi", {"kg": 81, "m": 1.84})]
    assert c.usage.output_tokens == 10
    one = Continuing(first, None).complete(ask, tools=[WEATHER, BMI], parallel_tool_calls=False)
    assert len(one.tool_calls) == 2


def test_records_replace_as_many_model_calls_that_mix_two_records() -> None:
    ask = ("Ines weighs 58 kilograms and is 1.62 meters tall; Tomas weighs 81 kilograms and is "
           "1.84 meters tall. What are their BMIs?")
    # the model's second call takes Tomas's weight with Ines's height
    first = '{"tool_calls": [' + bmi(58, 1.62) + ", " + bmi(81, 1.62) + "]}"
    c = Continuing(first, None).complete(ask, tools=[BMI, WEATHER], parallel_tool_calls=True)
    assert [t.arguments for t in c.tool_calls] == [{"kg": 58, "m": 1.62}, {"kg": 81, "m": 1.84}]
    # a reply the records agree with is left as it is
    right = '{"tool_calls": [' + bmi(58, 1.62) + ", " + bmi(81, 1.84) + "]}"
    c = Continuing(right, None).complete(ask, tools=[BMI, WEATHER], parallel_tool_calls=True)
    assert [t.arguments for t in c.tool_calls] == [{"kg": 58, "m": 1.62}, {"kg": 81, "m": 1.84}]


ROOTS = ToolSpec(
    name="roots",
    description="Roots of a quadratic equation.",
    parameters={"type": "object", "properties": {k: {"type": "integer"} for k in "abc"},
                "required": ["a", "b", "c"]},
)


def test_each_equation_the_request_writes_gets_a_call_without_the_model() -> None:
    ask = "Find the roots of 3x^2 + 4x + 2 = 0. Then those of 5x^2 - 7x + 3 = 0."
    first = '{"tool_calls": [' + json.dumps({"name": "roots", "arguments": {
        "a": 3, "b": 4, "c": 2}}) + "]}"
    c = Continuing(first, None).complete(ask, tools=[ROOTS, WEATHER], parallel_tool_calls=True)
    assert [t.arguments for t in c.tool_calls] == [{"a": 3, "b": 4, "c": 2},
                                                   {"a": 5, "b": -7, "c": 3}]


GAME = ToolSpec(
    name="game.start",
    description="Start a game.",
    parameters={"type": "object", "properties": {
        "level": {"type": "integer"},
        "mode": {"type": "string", "enum": ["easy", "normal", "hard"]}},
        "required": ["level", "mode"]},
)


def test_an_enum_choice_the_request_names_again_gets_its_own_call() -> None:
    ask = "Start level 4 in normal mode, then switch to hard for the same level."
    first = json.dumps({"name": "game.start", "arguments": {"level": 4, "mode": "hard"}})
    c = Continuing('{"tool_calls": [' + first + "]}", None).complete(
        ask, tools=[GAME], parallel_tool_calls=True)
    assert [t.arguments for t in c.tool_calls] == [{"level": 4, "mode": "normal"},
                                                   {"level": 4, "mode": "hard"}]


LCM = ToolSpec(name="lcm", description="Least common multiple.", parameters=GCD.parameters)


def test_no_records_are_read_while_another_tool_the_request_names_is_uncalled() -> None:
    ask = "Find the gcd of 96 and 128, and the lcm of 15 and 25."
    first = '{"tool_calls": [' + gcd(96, 128) + "]}"
    lcm = json.dumps({"name": "lcm", "arguments": {"a": 15, "b": 25}})
    c = Continuing(first, [lcm]).complete(ask, tools=[GCD, LCM], parallel_tool_calls=True)
    assert [(t.name, t.arguments) for t in c.tool_calls] == [
        ("gcd", {"a": 96, "b": 128}), ("lcm", {"a": 15, "b": 25})]


# ---- lists shared between tools ---------------------------------------------------------------

GDP = one_arg_tool("us_history_gdp", "GDP of the USA in a year.", "year", "integer")
LIFE = one_arg_tool("us_history_life_expectancy", "Life expectancy in the USA in a year.",
                    "year", "integer")


def year_call(name: str, year: int) -> str:
    return json.dumps({"name": name, "arguments": {"year": year}})


def test_a_call_added_by_continuation_is_fanned_out_over_the_list_it_starts() -> None:
    ask = "What was the GDP of the USA in 1800, and the life expectancy in 1900 and 1950?"
    first = '{"tool_calls": [' + year_call(GDP.name, 1800) + "]}"
    model = Continuing(first, [year_call(LIFE.name, 1900)])
    c = model.complete(ask, tools=[GDP, LIFE], parallel_tool_calls=True)
    assert [(t.name, t.arguments["year"]) for t in c.tool_calls] == [
        (GDP.name, 1800), (LIFE.name, 1900), (LIFE.name, 1950)]
    assert len(model.prefixes) == 1  # 1950's call was written without the model


def test_another_tools_call_over_one_item_of_a_list_gets_the_other_items() -> None:
    from slmstack.models.fanout import shared

    ask = ("What was the average life expectancy in the USA in the year 1900 and 1950? "
           "Additionally, what was the GDP of the USA in these years?")
    calls = [ToolCall(name="gdp", arguments={"year": 1900}),
             ToolCall(name="gdp", arguments={"year": 1950}),
             ToolCall(name="life", arguments={"year": 1900})]
    assert [(c.name, c.arguments) for c in shared(calls, ask)] == [("life", {"year": 1950})]
    # text items, in either order, each written only inside the lists
    ask = "The weight of Neutron and Proton in amu? Also the diameter of a Proton and Neutron?"
    calls = [ToolCall(name="dia", arguments={"particle": "Neutron"}),
             ToolCall(name="dia", arguments={"particle": "Proton"}),
             ToolCall(name="weight", arguments={"particle": "Neutron", "unit": "amu"})]
    assert [(c.name, c.arguments) for c in shared(calls, ask)] == [
        ("weight", {"particle": "Proton", "unit": "amu"})]
    # a value the request also names on its own belongs to that call alone
    ask = "What is the weather in Paris and Rome, and book a hotel in Paris."
    calls = [ToolCall(name="weather", arguments={"city": "Paris"}),
             ToolCall(name="weather", arguments={"city": "Rome"}),
             ToolCall(name="hotel", arguments={"city": "Paris"})]
    assert shared(calls, ask) == []
    # the calls must go over a list the request writes, and differ in that argument only
    assert shared([ToolCall(name="weather", arguments={"city": "Paris"}),
                   ToolCall(name="weather", arguments={"city": "Rome"}),
                   ToolCall(name="hotel", arguments={"city": "Paris"})],
                  "Weather in Paris. Weather in Rome. Hotel in Paris.") == []
    assert shared([ToolCall(name="gdp", arguments={"year": 1900, "unit": "usd"}),
                   ToolCall(name="gdp", arguments={"year": 1950, "unit": "eur"}),
                   ToolCall(name="life", arguments={"year": 1900})],
                  "GDP and life expectancy in 1900 and 1950 in usd and eur") == []


def test_shared_lists_are_applied_to_the_reply() -> None:
    ask = ("What was the average life expectancy in the USA in the year 1900 and 1950? "
           "Additionally, what was the GDP of the USA in these years?")
    first = '{"tool_calls": [' + ", ".join(
        [year_call(GDP.name, 1900), year_call(GDP.name, 1950), year_call(LIFE.name, 1950)]) + "]}"
    c = Continuing(first, None).complete(ask, tools=[GDP, LIFE], parallel_tool_calls=True)
    assert sorted((t.name, t.arguments["year"]) for t in c.tool_calls) == [
        (GDP.name, 1900), (GDP.name, 1950), (LIFE.name, 1900), (LIFE.name, 1950)]
    one = Continuing(first, None).complete(ask, tools=[GDP, LIFE], parallel_tool_calls=False)
    assert len(one.tool_calls) == 3  # the model's own calls only


def test_every_combination_is_called_once_beside_the_models_own_calls() -> None:
    tool = ToolSpec(name="win_pct", description="Winning percentage of a team in a season.",
                    parameters={"type": "object", "properties": {
                        "team": {"type": "string"}, "season": {"type": "integer"}},
                        "required": ["team", "season"]})

    def win(team: str, season: int) -> str:
        return json.dumps({"name": "win_pct", "arguments": {"team": team, "season": season}})

    ask = "Find the winning percentage of Lakers and Bulls in NBA seasons 2018 and 2020."
    first = '{"tool_calls": [' + win("Lakers", 2018) + ", " + win("Bulls", 2020) + "]}"
    c = Continuing(first, None).complete(ask, tools=[tool], parallel_tool_calls=True)
    assert sorted((t.arguments["team"], t.arguments["season"]) for t in c.tool_calls) == [
        ("Bulls", 2018), ("Bulls", 2020), ("Lakers", 2018), ("Lakers", 2020)]


def test_a_flag_the_request_names_both_ways_gets_a_call_each_way() -> None:
    tool = ToolSpec(name="entropy", description="Entropy change of a process.",
                    parameters={"type": "object", "properties": {
                        "temp": {"type": "number"}, "isothermal": {"type": "boolean"}},
                        "required": ["temp"]})
    ask = "At 300 K the process is isothermal. What if the process is not isothermal?"
    first = json.dumps({"name": "entropy", "arguments": {"temp": 300, "isothermal": True}})
    c = Continuing('{"tool_calls": [' + first + "]}", None).complete(
        ask, tools=[tool], parallel_tool_calls=True)
    assert [t.arguments["isothermal"] for t in c.tool_calls] == [True, False]


INTEGRAL = ToolSpec(
    name="integral",
    description="Calculate the area under a curve: the definite integral of a function.",
    parameters={"type": "object", "properties": {
        "function": {"type": "string"}, "a": {"type": "number"}, "b": {"type": "number"}},
        "required": ["function", "a", "b"]},
)
DERIVATIVE = ToolSpec(
    name="derivative",
    description="Calculate the derivative (the slope) of a function at a point.",
    parameters={"type": "object", "properties": {
        "function": {"type": "string"}, "x": {"type": "number"}},
        "required": ["function", "x"]},
)
CURVE_ASK = ("Work out the area under the curve of x^3 between 0 and 2. And find the slope of "
             "x^3 at x=1.")


def test_a_tool_a_part_of_the_request_asks_for_gets_a_continuation_of_its_own() -> None:
    # neither tool's name is written in the request; each part of it is most like one tool
    from slmstack.models.parallel import _asked_for
    from slmstack.models.schema import call_schema

    assert [t.name for t in _asked_for(CURVE_ASK, [DERIVATIVE, INTEGRAL])[0]] == [
        "integral", "derivative"]
    first = '{"tool_calls": [' + json.dumps(
        {"name": "derivative", "arguments": {"function": "x^3", "x": 1}}) + "]}"
    more = json.dumps({"name": "integral", "arguments": {"function": "x^3", "a": 0, "b": 2}})
    model = Continuing(first, [more])
    c = model.complete(CURVE_ASK, tools=[DERIVATIVE, INTEGRAL], parallel_tool_calls=True)
    assert [t.name for t in c.tool_calls] == ["derivative", "integral"]
    assert model.schemas[0] == call_schema(INTEGRAL)
    # asked with the part that asks for it alone, as a new reply
    assert model.asks[0] == "Work out the area under the curve of x^3 between 0 and 2."
    assert model.prefixes[0] == '{"tool_calls": ['
    # a call the part alone does not give is asked again with the whole request
    wrong = json.dumps({"name": "integral", "arguments": {"function": "x^3", "a": 7, "b": 9}})
    model = Continuing(first, [wrong, more])
    c = model.complete(CURVE_ASK, tools=[DERIVATIVE, INTEGRAL], parallel_tool_calls=True)
    assert [t.arguments for t in c.tool_calls][1] == {"function": "x^3", "a": 0, "b": 2}
    assert model.asks[1] == CURVE_ASK and model.prefixes[1].endswith(", ")


def test_no_part_asks_for_a_tool_in_a_request_of_one_part_or_one_tool() -> None:
    from slmstack.models.parallel import _asked_for

    assert _asked_for("Find the slope of x^3 at x=1.", [DERIVATIVE, INTEGRAL]) == ([], {}, [])
    assert _asked_for(CURVE_ASK, [DERIVATIVE]) == ([], {}, [])
    # a part no tool is like asks for none ("Thank you so much for the help today.")
    ask = "Find the slope of x^3 at x=1. Then tell me a joke about penguins and ice."
    assert [t.name for t in _asked_for(ask, [DERIVATIVE, INTEGRAL])[0]] == ["derivative"]


FUTURE = ToolSpec(
    name="future_value",
    description="Future value of an investment.",
    parameters={"type": "object", "properties": {
        "present_value": {"type": "number"},
        "annual_interest_rate": {"type": "number",
                                 "description": "The annual interest rate as a decimal."},
        "number_of_years": {"type": "integer"}},
        "required": ["present_value", "annual_interest_rate", "number_of_years"]},
)


def test_lists_start_from_the_calls_grounded_values() -> None:
    ask = "The future value of $1000 at an annual interest rate of 5% for 1, 5 and 10 years."
    # the model writes the rate as 5: as written, 5 is another argument's value and no list
    # item; grounded first (0.05), the years' list is read
    first = json.dumps({"name": "future_value", "arguments": {
        "present_value": 1000, "annual_interest_rate": 5, "number_of_years": 1}})
    c = Continuing('{"tool_calls": [' + first + "]}", None).complete(
        ask, tools=[FUTURE], parallel_tool_calls=True)
    assert [(t.arguments["annual_interest_rate"], t.arguments["number_of_years"])
            for t in c.tool_calls] == [(0.05, 1), (0.05, 5), (0.05, 10)]


def test_the_first_call_is_grounded_as_one_of_several() -> None:
    tool = ToolSpec(name="lawsuit_lookup", description="Lawsuits against a company.",
                    parameters={"type": "object", "properties": {
                        "company_name": {"type": "string"}, "year": {"type": "integer"}},
                        "required": ["company_name", "year"]})

    def case(year: int) -> str:
        return json.dumps({"name": "lawsuit_lookup",
                           "arguments": {"company_name": "Dara Inc", "year": year}})

    ask = ("List all cases against a company named 'Dara Inc' filed in 2019. Also list cases "
           "filed in the year 2018 against the same company.")
    # as a reply of one call, "the year 2018" would correct the first call's 2019
    c = Continuing('{"tool_calls": [' + case(2019) + "]}", [case(2018)]).complete(
        ask, tools=[tool], parallel_tool_calls=True)
    assert [t.arguments["year"] for t in c.tool_calls] == [2019, 2018]


def test_a_first_call_with_a_value_from_another_part_is_asked_again_from_its_own() -> None:
    ask = ("Work out the area under the curve of x^3 between 0 and 2. And find the slope of "
           "x^3 at x=1.")
    # the model's first call takes its point from the other part (2, not 1)
    first = '{"tool_calls": [' + json.dumps(
        {"name": "derivative", "arguments": {"function": "x^3", "x": 2}}) + "]}"
    again = json.dumps({"name": "derivative", "arguments": {"function": "x^3", "x": 1}})
    more = json.dumps({"name": "integral", "arguments": {"function": "x^3", "a": 0, "b": 2}})
    model = Continuing(first, [again, more])
    c = model.complete(ask, tools=[DERIVATIVE, INTEGRAL], parallel_tool_calls=True)
    assert [(t.name, t.arguments) for t in c.tool_calls] == [
        ("derivative", {"function": "x^3", "x": 1}),
        ("integral", {"function": "x^3", "a": 0, "b": 2})]
    assert model.asks[0] == "And find the slope of x^3 at x=1."
    # an answer from the section that is no better (a value it does not write) is not taken
    wrong = json.dumps({"name": "derivative", "arguments": {"function": "x^3", "x": 5}})
    c = Continuing(first, [wrong, more]).complete(ask, tools=[DERIVATIVE, INTEGRAL],
                                                  parallel_tool_calls=True)
    assert c.tool_calls[0].arguments == {"function": "x^3", "x": 2}


def test_a_copied_value_in_a_parts_call_is_decoded_again_from_that_part() -> None:
    class Extractive(Continuing):  # an engine that continues and copies the request's values
        extractive_strings = True

        def _continues(self, req: Request) -> bool:
            return True

    first = '{"tool_calls": [' + json.dumps(
        {"name": "derivative", "arguments": {"function": "x^3", "x": 1}}) + "]}"
    # from its part alone the model copies the lower bound into the upper one ("between 0
    # and 2": a = 0, b = 0); the bound is decoded again there, from the part's other values
    copied = json.dumps({"name": "integral", "arguments": {"function": "x^3", "a": 0, "b": 0}})
    model = Extractive(first, [copied, "2"])
    c = model.complete(CURVE_ASK, tools=[DERIVATIVE, INTEGRAL], parallel_tool_calls=True)
    assert [(t.name, t.arguments) for t in c.tool_calls] == [
        ("derivative", {"function": "x^3", "x": 1}),
        ("integral", {"function": "x^3", "a": 0, "b": 2})]
    assert model.asks[:2] == ["Work out the area under the curve of x^3 between 0 and 2."] * 2
    assert model.prefixes[1].endswith('"a": 0, "b": ')  # reopened just before the copy
    assert 0 not in model.schemas[1]["enum"]


DIVIDENDS = ToolSpec(
    name="dividend_data",
    description="Historical dividend data of a company.",
    parameters={"type": "object", "properties": {
        "company": {"type": "string"}, "years": {"type": "integer"},
        "frequency": {"type": "string", "enum": ["quarterly", "annually"]}},
        "required": ["company", "years"]},
)
PRICES = ToolSpec(
    name="stock_market_data",
    description="Stock market price data of a company for a number of days.",
    parameters={"type": "object", "properties": {
        "company": {"type": "string"}, "days": {"type": "integer"}},
        "required": ["company", "days"]},
)


def test_a_tool_asked_for_again_after_another_gets_a_call_from_that_part() -> None:
    from slmstack.models.parallel import _asked_for

    ask = ("Get the dividend data of Microsoft for the past 5 years quarterly. Then fetch the "
           "stock market prices of Microsoft for the past 60 days. Finally get the dividend "
           "data again for the past 3 years.")
    asked, parts, again = _asked_for(ask, [DIVIDENDS, PRICES])
    assert [t.name for t in asked] == ["dividend_data", "stock_market_data"]
    assert again == [("dividend_data", "Finally get the dividend data again for the past 3 "
                                       "years.")]

    def dividends(years: int) -> str:
        return json.dumps({"name": "dividend_data", "arguments": {
            "company": "Microsoft", "years": years, "frequency": "quarterly"}})

    prices = json.dumps({"name": "stock_market_data",
                         "arguments": {"company": "Microsoft", "days": 60}})
    model = Continuing('{"tool_calls": [' + dividends(5) + "]}", [prices, dividends(3)])
    c = model.complete(ask, tools=[DIVIDENDS, PRICES], parallel_tool_calls=True)
    assert [(t.name, t.arguments.get("years") or t.arguments.get("days"))
            for t in c.tool_calls] == [("dividend_data", 5), ("stock_market_data", 60),
                                       ("dividend_data", 3)]
    assert model.asks[1] == again[0][1]  # asked from that part alone
    # a call for that part whose new value the part does not write is not taken
    model = Continuing('{"tool_calls": [' + dividends(5) + "]}", [prices, dividends(7)])
    c = model.complete(ask, tools=[DIVIDENDS, PRICES], parallel_tool_calls=True)
    assert [t.name for t in c.tool_calls] == ["dividend_data", "stock_market_data"]


def test_a_part_whose_values_no_call_uses_is_asked_for_its_call_alone() -> None:
    ask = ("What is the stock forecast for Apple for the next 30 days? And then provide the "
           "stock forecast for Microsoft for the next 45 days. After that, give the dividend "
           "data of Apple for 5 years.")

    def stock(company: str, days: int) -> str:
        return json.dumps({"name": "stock_market_data",
                           "arguments": {"company": company, "days": days}})

    dividends = json.dumps({"name": "dividend_data",
                            "arguments": {"company": "Apple", "years": 5}})
    # after the dividends, the values of the Microsoft part are still open: that part alone
    model = Continuing('{"tool_calls": [' + stock("Apple", 30) + "]}",
                       [dividends, stock("Microsoft", 45)])
    c = model.complete(ask, tools=[PRICES, DIVIDENDS], parallel_tool_calls=True)
    assert [(t.name, t.arguments["company"]) for t in c.tool_calls] == [
        ("stock_market_data", "Apple"), ("dividend_data", "Apple"),
        ("stock_market_data", "Microsoft")]
    assert "Microsoft for the next 45 days" in model.asks[-1]
    assert "Apple for the next 30" not in model.asks[-1]
    # a call for it with a value the part does not write is not kept
    model = Continuing('{"tool_calls": [' + stock("Apple", 30) + "]}",
                       [dividends, stock("Microsoft", 60)])
    c = model.complete(ask, tools=[PRICES, DIVIDENDS], parallel_tool_calls=True)
    assert [(t.name, t.arguments["company"]) for t in c.tool_calls] == [
        ("stock_market_data", "Apple"), ("dividend_data", "Apple")]
    # nor one whose value is only its parameter's name (the part writes "company")
    named = ask.replace("for Microsoft", "for the company Microsoft")
    model = Continuing('{"tool_calls": [' + stock("Apple", 30) + "]}",
                       [dividends, stock("company", 45)])
    c = model.complete(named, tools=[PRICES, DIVIDENDS], parallel_tool_calls=True)
    assert [(t.name, t.arguments["company"]) for t in c.tool_calls] == [
        ("stock_market_data", "Apple"), ("dividend_data", "Apple")]


def test_a_parts_call_for_a_record_called_already_is_not_added() -> None:
    parks = ToolSpec(name="parks", description="Parks near a place with amenities.",
                     parameters={"type": "object", "properties": {
                         "location": {"type": "string"},
                         "amenities": {"type": "array", "items": {"type": "string"}}},
                         "required": ["location"]})
    ask = ("Find parks in Boston that have a Playground. Then find parks in Chicago that have a "
           "Tennis Court.")

    def park(city: str, *more: str) -> str:
        return json.dumps({"name": "parks", "arguments": {
            "location": city, **({"amenities": list(more)} if more else {})}})

    # Chicago's part asked alone gives Chicago again with its amenity: a record called already
    model = Continuing('{"tool_calls": [' + park("Boston", "Playground") + ", "
                       + park("Chicago") + "]}", [park("Chicago", "Tennis Court")])
    c = model.complete(ask, tools=[parks, TIDE], parallel_tool_calls=True)
    assert [t.arguments["location"] for t in c.tool_calls].count("Chicago") == 1


def test_an_offered_tool_no_call_uses_is_asked_for_when_a_value_is_left() -> None:
    # A tool the request neither names nor asks for in words the embedder relates to it (an
    # opaque internal service), with a value left (Brest) that no call uses: the uncalled
    # tool is asked for, and its call is kept because it uses that value. A call that uses no
    # value left (Paris again) is not kept, and with no value left no tool is asked for.
    from slmstack.models.schema import call_schema

    svc = ToolSpec(name="svc_b7", description="Internal service B7.", parameters={
        "type": "object", "properties": {"site": {"type": "string"}}, "required": ["site"]})

    def b7(site: str) -> str:
        return json.dumps({"name": svc.name, "arguments": {"site": site}})

    ask = "What is the weather in Paris, and how high will the sea level be at Brest?"
    model = Continuing(FIRST, [call("Paris"), call("Paris"), b7("Brest")])
    c = model.complete(ask, tools=[WEATHER, svc], parallel_tool_calls=True)
    assert [(t.name, t.arguments) for t in c.tool_calls] == [
        ("get_weather", {"city": "Paris"}), ("svc_b7", {"site": "Brest"})]
    assert call_schema(svc) in model.schemas

    model = Continuing(FIRST, [call("Paris"), call("Paris"), b7("Paris")])
    c = model.complete(ask, tools=[WEATHER, svc], parallel_tool_calls=True)
    assert [t.name for t in c.tool_calls] == ["get_weather"]

    model = Continuing(FIRST, [b7("Paris")])
    c = model.complete("What is the weather in Paris?", tools=[WEATHER, svc],
                       parallel_tool_calls=True)
    assert [t.name for t in c.tool_calls] == ["get_weather"]
    assert call_schema(svc) not in model.schemas


class BySection(Continuing):
    """Continuations answer by the request they are asked with: ``answers`` maps a user
    message to its call; any other request gets a repeat of the first reply's first call."""

    def __init__(self, first: str, answers: dict[str, str]) -> None:
        super().__init__(first, [])
        self.answers = answers

    def _continue(self, req: Request, prefix: str, schema: dict[str, Any]) -> RawOutput | None:
        self.asks.append(req.messages[-1].content)
        text = self.answers.get(req.messages[-1].content or "",
                                json.dumps(json.loads(self.first)["tool_calls"][0]))
        return RawOutput(text, Usage(input_tokens=12, output_tokens=5))


def _tool(name: str, description: str, **params: str) -> ToolSpec:
    """A tool of required parameters, each of the JSON type given for it."""
    return ToolSpec(name=name, description=description, parameters={
        "type": "object", "properties": {p: {"type": t} for p, t in params.items()},
        "required": list(params)})


SCULPTURE_TOOLS = [
    _tool("sculpture_availability", "Check whether a sculpture is available in the inventory.",
          sculpture_name="string", material="string"),
    _tool("sculpture_price", "Estimate the price to commission a sculpture.",
          material="string", size="string")]
SCULPTURE_ASK = ("Check whether the sculpture 'The Thinker' in bronze is available in the "
                 "inventory. Then estimate the price to commission a marble sculpture, 10 feet "
                 "in size.")
SCULPTURE_AVAILABLE = {"name": "sculpture_availability",
                       "arguments": {"sculpture_name": "The Thinker", "material": "bronze"}}
SCULPTURE_FIRST = '{"tool_calls": [' + json.dumps(SCULPTURE_AVAILABLE) + ", " + json.dumps(
    {"name": "sculpture_price", "arguments": {"material": "bronze", "size": "10 feet"}}) + "]}"
SCULPTURE_OWN = "Then estimate the price to commission a marble sculpture, 10 feet in size."
SCULPTURE_RIGHT = {"material": "marble", "size": "10 feet"}


def test_a_later_call_with_another_calls_value_is_asked_again_from_its_own_part() -> None:
    # the model writes both calls at once; the price takes the first part's "bronze"
    model = BySection(SCULPTURE_FIRST, {SCULPTURE_OWN: json.dumps(
        {"name": "sculpture_price", "arguments": SCULPTURE_RIGHT})})
    c = model.complete(SCULPTURE_ASK, tools=SCULPTURE_TOOLS, parallel_tool_calls=True)
    assert [(t.name, t.arguments) for t in c.tool_calls] == [
        ("sculpture_availability", SCULPTURE_AVAILABLE["arguments"]),
        ("sculpture_price", SCULPTURE_RIGHT)]
    assert SCULPTURE_OWN in model.asks
    # an answer from the part that writes a value the part does not give is not taken
    wrong = {"material": "granite", "size": "10 feet"}
    c = BySection(SCULPTURE_FIRST, {SCULPTURE_OWN: json.dumps(
        {"name": "sculpture_price", "arguments": wrong})}).complete(
        SCULPTURE_ASK, tools=SCULPTURE_TOOLS, parallel_tool_calls=True)
    assert c.tool_calls[1].arguments["material"] == "bronze"


def test_a_value_joining_the_items_of_a_list_is_fanned_out_over_them() -> None:
    ask = "What is the weather today in New York, Los Angeles, London and Tokyo?"
    first = '{"tool_calls": [' + call("New York, Los Angeles, London") + "]}"
    c = Continuing(first, None).complete(ask, tools=[WEATHER], parallel_tool_calls=True)
    assert [t.arguments["city"] for t in c.tool_calls] == [
        "New York", "Los Angeles", "London", "Tokyo"]
    # a value with commas that the request does not list stays as it is
    plain = "What is the weather in Springfield, Oregon, United States?"
    first = '{"tool_calls": [' + call("Springfield, Oregon, United States") + "]}"
    c = Continuing(first, None).complete(plain, tools=[WEATHER], parallel_tool_calls=True)
    assert [t.arguments["city"] for t in c.tool_calls] == ["Springfield, Oregon, United States"]


def test_a_list_in_another_tools_part_of_the_request_is_not_fanned_out() -> None:
    primes = _tool("find_prime_numbers", "Find all prime numbers in a range.",
                   start="integer", end="integer")
    fibonacci = _tool("get_fibonacci_sequence", "Fibonacci series up to a count.",
                      count="integer")
    ask = "Find all prime numbers between 50 and 150. Then get the fibonacci series upto 150."
    first = '{"tool_calls": [' + json.dumps(
        {"name": "find_prime_numbers", "arguments": {"start": 50, "end": 150}}) + "]}"
    own = "Then get the fibonacci series upto 150."
    model = BySection(first, {own: json.dumps(
        {"name": "get_fibonacci_sequence", "arguments": {"count": 150}})})
    c = model.complete(ask, tools=[primes, fibonacci], parallel_tool_calls=True)
    # "50 and 150" is the primes' range, not a list of counts: one call for the series
    assert [(t.name, t.arguments) for t in c.tool_calls] == [
        ("find_prime_numbers", {"start": 50, "end": 150}),
        ("get_fibonacci_sequence", {"count": 150})]
    assert own in model.asks


def test_a_tools_second_call_with_a_value_of_another_tools_part_is_dropped() -> None:
    entropy = _tool("calculate_entropy_change", "Entropy change of a heated substance.",
                    initial_temp="integer", final_temp="integer")
    mountains = _tool("locate_tallest_mountains", "Find the tallest mountains near a place.",
                      location="string", amount="integer")
    ask = ("Find the 5 tallest mountains near Tokyo. Then calculate the entropy change of "
           "a substance heated from 300K to 350K.")
    calls = [("calculate_entropy_change", {"initial_temp": 300, "final_temp": 350}),
             ("calculate_entropy_change", {"initial_temp": 350, "final_temp": 5}),
             ("locate_tallest_mountains", {"location": "Tokyo", "amount": 5})]
    first = '{"tool_calls": [' + ", ".join(
        json.dumps({"name": n, "arguments": a}) for n, a in calls) + "]}"
    c = Continuing(first, None).complete(ask, tools=[entropy, mountains],
                                         parallel_tool_calls=True)
    # the second entropy call's 5 is the mountains' part's: it goes, the tool's first stays
    assert [(t.name, t.arguments) for t in c.tool_calls] == [calls[0], calls[2]]


def test_a_trip_written_as_a_chain_of_places_gets_a_call_per_leg() -> None:
    fastest = _tool("fastest_route", "The fastest route between two places.",
                    start_location="string", end_location="string")
    ask = ("Can you find the fastest route from my home in San Francisco to my office in Palo "
           "Alto, then from my office to my friend's house in San Jose, and finally from my "
           "friend's house back to my home?")
    # the model's one call goes between two of the trip's places, but is none of its legs
    first = '{"tool_calls": [' + json.dumps({"name": "fastest_route", "arguments": {
        "start_location": "San Francisco", "end_location": "San Jose"}}) + "]}"
    c = Continuing(first, None).complete(ask, tools=[fastest], parallel_tool_calls=True)
    assert [(t.arguments["start_location"], t.arguments["end_location"])
            for t in c.tool_calls] == [("San Francisco", "Palo Alto"), ("Palo Alto", "San Jose"),
                                       ("San Jose", "San Francisco")]


def test_a_call_asked_for_again_with_changes_gets_a_call_of_its_own() -> None:
    rainfall = ToolSpec(name="rainfall", description="Yearly rainfall in a city.", parameters={
        "type": "object", "properties": {"city": {"type": "string"}, "year": {
            "type": "integer"}}, "required": ["city"]})
    ask = "What was the rainfall in Lisbon in 2019? Tell me the same for the year 2021."
    # the model writes one call, with the later part's year
    first = '{"tool_calls": [' + json.dumps({"name": "rainfall", "arguments": {
        "city": "Lisbon", "year": 2021}}) + "]}"
    c = Continuing(first, None).complete(ask, tools=[rainfall], parallel_tool_calls=True)
    assert [t.arguments for t in c.tool_calls] == [{"city": "Lisbon", "year": 2019},
                                                   {"city": "Lisbon", "year": 2021}]


def test_with_several_tools_a_call_asked_for_again_is_read_in_its_tools_section() -> None:
    stock = ToolSpec(name="get_stock_info", description="Information about a company's stock.",
                     parameters={"type": "object", "properties": {
                         "company_name": {"type": "string"}, "detail_level": {"type": "string"},
                         "market": {"type": "string"}}, "required": ["company_name"]})
    clock = _tool("get_current_time", "The current time in a city.", location="string")
    ask = ("Could you retrieve a detailed report about the stock of the company 'Acme' in the "
           "'NYSE' market? Then, could you use the same function again to retrieve a summary "
           "report about the stock of the company 'Globex' in the 'NYSE' market? Finally, what "
           "is the current time in Lisbon?")
    acme = {"company_name": "Acme", "detail_level": "detailed", "market": "NYSE"}
    first = '{"tool_calls": [' + json.dumps({"name": "get_stock_info", "arguments": acme}) + \
        ", " + json.dumps({"name": "get_current_time", "arguments": {"location": "Lisbon"}}) + \
        "]}"
    c = Continuing(first, None).complete(ask, tools=[stock, clock], parallel_tool_calls=True)
    assert sorted((t.name, json.dumps(t.arguments, sort_keys=True)) for t in c.tool_calls) == \
        sorted([("get_stock_info", json.dumps(acme, sort_keys=True)),
                ("get_stock_info", json.dumps({**acme, "company_name": "Globex",
                                               "detail_level": "summary"}, sort_keys=True)),
                ("get_current_time", json.dumps({"location": "Lisbon"}))])


HOTEL = _tool("hotel_room_pricing", "Get the pricing of a hotel room for a stay.",
              hotelName="string", roomType="string", nights="integer")
CAR = _tool("car_rental_pricing", "Get the pricing of a rental car.",
            rentalCompany="string", carType="string", days="integer")


def test_a_tools_section_that_writes_no_value_gives_way_to_its_next_one() -> None:
    from slmstack.models.parallel import _asked_for

    # the opening sentence is most like the car tool but says nothing to call it with
    ask = ("I need to know what renting a car will cost me. First, I'm staying at the Grand "
           "Plaza for 4 nights in a double room. Then, I'm renting a compact car from Hertz "
           "for 6 days.")
    asked, parts, again = _asked_for(ask, [HOTEL, CAR])
    assert [t.name for t in asked] == ["hotel_room_pricing", "car_rental_pricing"]
    assert parts["car_rental_pricing"] == "Then, I'm renting a compact car from Hertz for 6 days."
    assert again == []
    # a first section with a value of its own stays the tool's
    ask = ("I need a compact car from Hertz for 2 days. First, I'm staying at the Grand Plaza "
           "for 4 nights in a double room. Then, I'm renting a van from Avis for 6 days.")
    _, parts, again = _asked_for(ask, [HOTEL, CAR])
    assert parts["car_rental_pricing"].startswith("I need a compact car from Hertz")


class Extracting(BySection):
    """``BySection`` as an engine that copies string values from the request (enums of its
    spans): the schemas it is asked with say which spans it may copy."""

    extractive_strings = True

    def _continue(self, req: Request, prefix: str, schema: dict[str, Any]) -> RawOutput | None:
        self.schemas.append(schema)
        return super()._continue(req, prefix, schema)


def test_a_call_asked_again_from_its_own_section_may_copy_only_that_sections_values() -> None:
    ask = ("First, I'm staying at the Grand Plaza for 4 nights in a deluxe room. Then, I'm "
           "renting a sedan from Hertz for 6 days.")
    car = {"name": "car_rental_pricing",
           "arguments": {"rentalCompany": "Hertz", "carType": "sedan", "days": 6}}
    # the model gives the room the car's type: asked again from the room's own section
    first = '{"tool_calls": [' + json.dumps(car) + ", " + json.dumps(
        {"name": "hotel_room_pricing",
         "arguments": {"hotelName": "Grand Plaza", "roomType": "sedan", "nights": 4}}) + "]}"
    own = "First, I'm staying at the Grand Plaza for 4 nights in a deluxe room."
    right = {"hotelName": "Grand Plaza", "roomType": "deluxe room", "nights": 4}
    model = Extracting(first, {own: json.dumps({"name": "hotel_room_pricing",
                                                "arguments": right})})
    c = model.complete(ask, tools=[HOTEL, CAR], parallel_tool_calls=True)
    assert c.tool_calls[1].arguments == right
    asked = model.schemas[model.asks.index(own)] if own in model.asks else None
    assert asked is not None
    room = json.dumps(asked)
    assert "deluxe room" in room and "sedan" not in room and "Hertz" not in room


def test_a_value_shared_with_a_section_that_refers_back_is_not_asked_again() -> None:
    status = _tool("criminal_record_status", "Find the conviction status of a criminal.",
                   criminal_name="string", region="string")
    nature = _tool("criminal_record_offense_nature", "Find the nature of the criminal "
                   "offenses committed.", criminal_name="string")
    ask = ("Find the conviction status of a criminal with name John Doe in New York, also find "
           "the nature of the criminal offenses he committed.")
    first = '{"tool_calls": [' + json.dumps(
        {"name": "criminal_record_status",
         "arguments": {"criminal_name": "John Doe", "region": "New York"}}) + ", " + json.dumps(
        {"name": "criminal_record_offense_nature",
         "arguments": {"criminal_name": "John Doe"}}) + "]}"
    own = "find the nature of the criminal offenses he committed."
    garbage = {"criminal_name": "criminal offenses he committed"}
    model = BySection(first, {own: json.dumps({"name": "criminal_record_offense_nature",
                                               "arguments": garbage})})
    c = model.complete(ask, tools=[status, nature], parallel_tool_calls=True)
    assert [t.arguments["criminal_name"] for t in c.tool_calls] == ["John Doe", "John Doe"]


def test_a_value_another_call_holds_for_the_same_parameter_may_be_copied_again() -> None:
    # "bronze" is the other call's material too: it may be the request's shared context, so
    # the call asked again from its own section may still copy it (the model chooses)
    model = Extracting(SCULPTURE_FIRST, {SCULPTURE_OWN: json.dumps(
        {"name": "sculpture_price", "arguments": SCULPTURE_RIGHT})})
    c = model.complete(SCULPTURE_ASK, tools=SCULPTURE_TOOLS, parallel_tool_calls=True)
    assert c.tool_calls[1].arguments == SCULPTURE_RIGHT
    assert "bronze" in json.dumps(model.schemas[model.asks.index(SCULPTURE_OWN)])
