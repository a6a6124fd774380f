"""A required value that is a copy or no value of its own is decoded again without it."""

from __future__ import annotations

import json
from typing import Any

from slmstack.models.base import BaseChatModel, RawOutput, Request
from slmstack.models.catalog import ModelProfile
from slmstack.models.grounding import evidence_from, ungrounded_required
from slmstack.models.redecode import MAX_TRIES
from slmstack.types import Message, ToolSpec, Usage

FUTURE = ToolSpec(
    name="future_value",
    description="Future value of an investment.",
    parameters={
        "type": "object",
        "properties": {"present_value": {"type": "number"}, "years": {"type": "integer"}},
        "required": ["present_value", "years"],
    },
)
ASK = "What will $1000 be worth after 10 years?"
# 1000 written with no unit: a copy the unit rules cannot put right (grounding.unit_replacements)
PLAIN = "What will 1000 coins be worth after 10 years?"


def reply(years: int) -> str:
    args = {"present_value": 1000, "years": years}
    return json.dumps({"tool_calls": [{"name": "future_value", "arguments": args}]})


class Redecoding(BaseChatModel):
    """First reply: ``first``; each continuation: the next of ``values`` (as JSON)."""

    extractive_strings = True

    def __init__(self, first: str, values: list[Any], continues: bool = True) -> None:
        self.name = "redecoding"
        self.profile = ModelProfile(name="redecoding", can_constrain=True)
        self.first, self.values, self.continues = first, values, continues
        self.prefixes: list[str] = []
        self.schemas: list[dict[str, Any]] = []

    def _generate(self, req: Request) -> RawOutput:
        return RawOutput(self.first, Usage(input_tokens=10, output_tokens=10))

    def _continues(self, req: Request) -> bool:
        return self.continues

    def _continue(self, req: Request, prefix: str, schema: dict[str, Any]) -> RawOutput | None:
        self.prefixes.append(prefix)
        self.schemas.append(schema)
        return RawOutput(json.dumps(self.values.pop(0)), Usage(input_tokens=12, output_tokens=2))


def test_a_copied_number_is_decoded_again_from_the_other_choices() -> None:
    model = Redecoding(reply(1000), [10])
    c = model.complete(ASK, tools=[FUTURE], parallel_tool_calls=False)
    assert c.tool_calls[0].arguments == {"present_value": 1000, "years": 10}
    # reopened right before the copy, constrained to the request's numbers less the copy
    assert model.prefixes == [reply(1000)[: reply(1000).rindex("1000")]]
    assert 1000 not in model.schemas[0]["enum"] and 10 in model.schemas[0]["enum"]
    assert c.usage.output_tokens == 10 + 2
    assert any("decoded 'years' again without 1000" in r for r in c.repairs)


def test_each_rejected_value_is_left_out_of_the_next_try_and_tries_are_bounded() -> None:
    ask = "Invest $1000 for 1000 years or 10 years, with $1000 more later?"  # 1000 written 3 times
    model = Redecoding(reply(1000), [])
    c = model.complete(ask, tools=[FUTURE], parallel_tool_calls=False)
    assert model.prefixes == [] and c.tool_calls[0].arguments["years"] == 1000  # not a copy

    still = Redecoding(reply(1000), [1000] * (MAX_TRIES + 3))
    c = still.complete(PLAIN, tools=[FUTURE], parallel_tool_calls=False)
    assert len(still.prefixes) == MAX_TRIES  # an engine that ignores the choices: given up
    assert c.tool_calls[0].arguments["years"] == 1000


def test_an_accepted_call_or_an_engine_that_cannot_continue_is_left_alone() -> None:
    model = Redecoding(reply(10), [])
    c = model.complete(ASK, tools=[FUTURE], parallel_tool_calls=False)
    assert model.prefixes == [] and c.tool_calls[0].arguments["years"] == 10
    model = Redecoding(reply(1000), [10], continues=False)
    c = model.complete(PLAIN, tools=[FUTURE], parallel_tool_calls=False)
    assert model.prefixes == [] and c.tool_calls[0].arguments["years"] == 1000


def test_a_word_that_is_no_value_of_its_own_is_decoded_again() -> None:
    book = ToolSpec(
        name="find_book",
        description="Find a book.",
        parameters={"type": "object", "properties": {"title": {"type": "string"}},
                    "required": ["title"]},
    )
    first = json.dumps({"tool_calls": [{"name": "find_book", "arguments": {"title": "Find"}}]})
    model = Redecoding(first, ["Dune Messiah"])
    c = model.complete("Find the book Dune Messiah for me.", tools=[book],
                       parallel_tool_calls=False)
    assert c.tool_calls[0].arguments == {"title": "Dune Messiah"}
    assert "Find" not in model.schemas[0]["enum"] and "Dune Messiah" in model.schemas[0]["enum"]


def test_a_new_choice_must_fit_the_layout_the_description_states() -> None:
    visits = ToolSpec(
        name="visitors",
        description="Most frequent visitor of a museum over a period.",
        parameters={"type": "object", "properties": {
            "museum": {"type": "string"},
            "end_date": {"type": "string", "description": "End of the period, format: yyyy-mm-dd."},
        }, "required": ["museum", "end_date"]},
    )
    ask = "Who visited the Louvre most often last year, up to 2023-12-31?"
    first = json.dumps({"tool_calls": [{"name": "visitors", "arguments": {
        "museum": "Louvre", "end_date": "Louvre"}}]})  # a copy of the museum: decoded again
    model = Redecoding(first, ["2023-12-31"])
    c = model.complete(ask, tools=[visits], parallel_tool_calls=False)
    assert c.tool_calls[0].arguments["end_date"] == "2023-12-31"
    offered = model.schemas[0]["enum"]
    assert "2023-12-31" in offered and "last year" not in offered  # no yyyy-mm-dd date

    # nothing in the request has the documented shape: nothing to decode from, the copy stays
    # (and the agent declines the call, as it did before re-decoding)
    model = Redecoding(first, ["last year"])
    c = model.complete(ask.replace(", up to 2023-12-31", ""), tools=[visits],
                       parallel_tool_calls=False)
    assert model.prefixes == [] and c.tool_calls[0].arguments["end_date"] == "Louvre"


def test_the_zero_of_a_drop_is_offered_to_no_height_and_the_speed_takes_it() -> None:
    fall = ToolSpec(name="final_speed", description="Final speed of a dropped object.",
                    parameters={"type": "object", "properties": {
                        "initial_velocity": {"type": "integer"}, "height": {"type": "integer"}},
                        "required": ["initial_velocity", "height"]})
    first = json.dumps({"tool_calls": [{"name": "final_speed", "arguments": {
        "initial_velocity": 100, "height": 100}}]})  # one 100 written, used twice
    model = Redecoding(first, [0])
    c = model.complete("How fast is an object dropped from 100 m when it lands?",
                       tools=[fall], parallel_tool_calls=False)
    # the 0 of "dropped from" is a speed: the height is not decoded again to it; the repeated
    # initial speed becomes that 0 instead
    assert model.prefixes == []
    assert c.tool_calls[0].arguments == {"initial_velocity": 0, "height": 100}


def test_stated_ranges_and_layouts() -> None:
    from slmstack.models.grounding import fits_description, stated_layout, stated_range

    rate = {"type": "number", "description": "The sales tax in percentage, must be from 0 to 1."}
    assert stated_range(rate) == (0.0, 1.0)
    assert stated_range({"type": "integer", "description": "between -90 and 90"}) == (-90, 90)
    assert stated_range({"type": "string", "description": "from 0 to 1"}) is None
    assert stated_range({"type": "number", "description": "from 10 to 1"}) is None
    assert fits_description(0.25, rate, "sales_tax") and not fits_description(25, rate, "tax")
    season = {"type": "string", "description": "The season in format yyyy/yyyy. Eg. 2020/2021"}
    assert fits_description("2020/2021", season, "season")
    assert not fits_description("most assist", season, "season")
    stamp = {"type": "string", "description": "Start time, YYYY-MM-DD HH:MM:SS."}
    assert fits_description("2023-01-01 10:00:00", stamp, "start_time")
    # a parameter whose value is a layout, and one that states none, take any string
    assert stated_layout({"type": "string", "description": "e.g. HH:MM:SS"}, "format") is None
    assert fits_description("anything", {"type": "string", "description": "A name."}, "name")


def test_the_embedded_model_keeps_no_copied_number_where_the_request_offers_others(
    embedded_model: Any,
) -> None:
    tool = ToolSpec(
        name="alimony",
        description="Alimony the payor pays the recipient in California.",
        parameters={
            "type": "object",
            "properties": {
                "payor_income": {"type": "integer", "description": "Payor's monthly income."},
                "recipient_income": {"type": "integer",
                                     "description": "Recipient's monthly income."},
                "duration": {"type": "integer", "description": "Duration in years."},
            },
            "required": ["payor_income", "recipient_income", "duration"],
        },
    )
    ask = ("Please calculate the amount of alimony the payor spouse would have to pay to the "
           "recipient spouse in California for the next 10 years if the payor spouse's monthly "
           "gross income is $10,000 and the recipient spouse's monthly gross income is $3,000.")
    c = embedded_model.complete(ask, tools=[tool], tool_choice="required",
                                parallel_tool_calls=False)
    call = c.tool_calls[0]
    flagged = ungrounded_required(call, tool, evidence_from([Message.user(ask)]))
    assert not flagged, (call.arguments, c.raw_text)
