"""Argument grounding: values found in the request (in its many spellings) vs. made-up ones."""

from __future__ import annotations

import pytest

from slmstack.models.grounding import (
    Evidence,
    evidence_from,
    is_grounded,
    prune_ungrounded,
    ungrounded_required,
)
from slmstack.types import Message, ToolCall, ToolSpec


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Order 1,500 widgets", 1500),
        ("The loan is $10000 at 5% a year", 0.05),
        ("The loan is $10000 at 5% a year", 10000.0),
        ("walk five miles", 5),
        ("buy two dozen eggs", 24),
        ("a population of 213 million", 213_000_000),
        ("land area of 8.5 million km2", 8_500_000),
        ("open until 11 PM", 23),
        ("a 2 km run", 2000),
        ("weather in new york city", "New York"),
        ("Weather in New York City", "new-york city"),
        ("find Thai restaurants", "thai"),
        ("remove their social security numbers", "SSN"),
        ("check in on March 10th, 2023", "2023-03-10"),
        ("starting from 15th October,2023", "15-10-2023"),
        ("cases filed in 2020", "2020-01-01"),
        ("scores [3, 4, 5]", [3, 4, 5]),
        ("Email Bob about the meeting", {"to": "Bob", "subject": "meeting"}),
        ("include the emission factors", "emissions factor"),
    ],
)
def test_values_found_in_the_text(text: str, value: object) -> None:
    assert is_grounded(value, Evidence(text))


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Order 1,500 widgets", 1501),
        ("The final price after a 25% discount", 80.0),
        ("weather in Paris", "London"),
        ("weather in Paris", ""),
        ("play some jazz", "rock"),
        ("check in on March 10th, 2023", "2023-04-10"),
        ("scores [3, 4, 5]", [3, 4, 6]),
        ("scores [3, 4, 5]", []),
        ("anything", None),
    ],
)
def test_made_up_values_are_not_grounded(text: str, value: object) -> None:
    assert not is_grounded(value, Evidence(text))


def test_a_flag_is_grounded_by_the_words_of_its_name() -> None:
    ev = Evidence("Show the forecast including precipitation")
    assert is_grounded(True, ev, "include_precipitation")
    assert not is_grounded(True, ev, "show_wind_speed")


TOOL = ToolSpec(
    name="weather",
    description="Weather for a city.",
    parameters={
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "days": {"type": "integer"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        },
        "required": ["city", "days"],
    },
)


def test_prune_keeps_required_and_stated_optionals_only() -> None:
    ev = evidence_from([Message.user("Weather in Oslo for 3 days, in celsius please")])
    repairs: list[str] = []
    call = ToolCall(name="weather", arguments={"city": "Oslo", "days": 3, "unit": "celsius"})
    assert prune_ungrounded(call, TOOL, ev, repairs).arguments == call.arguments
    assert repairs == []
    ev = evidence_from([Message.user("Weather in Oslo for 3 days")])
    pruned = prune_ungrounded(call, TOOL, ev, repairs)
    assert pruned.arguments == {"city": "Oslo", "days": 3}
    assert repairs and "'unit'" in repairs[0] and "not given" in repairs[0]


def test_required_values_missing_from_the_request_are_named() -> None:
    call = ToolCall(name="weather", arguments={"city": "Oslo", "days": 7})
    ev = evidence_from([Message.user("What is the weather in Oslo?")])
    assert ungrounded_required(call, TOOL, ev) == ["days"]
    ev = evidence_from([Message.user("Weather in Oslo for a week, 7 days")])
    assert ungrounded_required(call, TOOL, ev) == []


def test_tool_results_are_evidence_but_the_system_prompt_is_not() -> None:
    msgs = [
        Message.system("Oslo is the default city."),
        Message.user("Weather where Ann lives, for 2 days"),
        Message.tool('{"home": "Bergen"}', "c1", "home_city"),
    ]
    call = ToolCall(name="weather", arguments={"city": "Bergen", "days": 2})
    assert ungrounded_required(call, TOOL, evidence_from(msgs)) == []
    call = ToolCall(name="weather", arguments={"city": "Oslo", "days": 2})
    assert ungrounded_required(call, TOOL, evidence_from(msgs)) == ["city"]


FORECAST = ToolSpec(
    name="forecast",
    description="Weather forecast.",
    parameters={
        "type": "object",
        "properties": {"city": {"type": "string"}, "include_precipitation": {"type": "boolean"}},
        "required": ["city"],
    },
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Oslo forecast including precipitation", {"city": "Oslo", "include_precipitation": True}),
        ("Oslo forecast without precipitation", {"city": "Oslo", "include_precipitation": False}),
        ("Oslo forecast", {"city": "Oslo"}),
    ],
)
def test_a_flag_the_request_asks_for_is_switched_on(text: str, expected: dict) -> None:
    call = ToolCall(name="forecast", arguments={"city": "Oslo", "include_precipitation": False})
    assert prune_ungrounded(call, FORECAST, Evidence(text), []).arguments == expected
