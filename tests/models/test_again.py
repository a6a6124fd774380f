"""Calls a request asks for again with changes: one call per part that says "the same",
"again", "repeat" … (``models.again``)."""

from __future__ import annotations

from typing import Any

from slmstack.models.again import records
from slmstack.types import ToolCall


def params(required: list[str], **types: str) -> dict[str, Any]:
    return {"type": "object", "properties": {k: {"type": t} for k, t in types.items()},
            "required": required}


EXPORT = params(["report_id"], report_id="string", format="string", history_days="integer")
SMOOTH = params(["series", "start_hour", "end_hour"], series="string", start_hour="integer",
                end_hour="integer", filter="string")


def args(calls: list[ToolCall]) -> list[dict[str, Any]]:
    return [c.arguments for c in calls]


def test_each_part_that_asks_again_changes_the_first_call_by_the_values_it_writes() -> None:
    ask = ("Export the report 'Q3-sales' from the finance workspace, then export the same "
           "report again but this time in 'xlsx' format, and finally export it once more but "
           "with 30 days of history included.")
    # the model's one call took the last part's 30: the first call leaves it out (optional)
    made = ToolCall(name="export_report", arguments={"report_id": "Q3-sales",
                                                     "history_days": 30})
    assert args(records(made, EXPORT, ask)) == [
        {"report_id": "Q3-sales"}, {"report_id": "Q3-sales", "format": "xlsx"},
        {"report_id": "Q3-sales", "history_days": 30}]


def test_values_go_where_the_first_part_writes_their_argument_and_these_repeats_all() -> None:
    ask = ("Smooth the readings of 'sensor_a' between hours 3 and 9 using the 'median' "
           "filter, and then do the same but using the 'kalman' filter. After that, repeat "
           "these calculations for 'sensor_b' between hours 10 and 14.")
    made = ToolCall(name="smooth", arguments={"series": "sensor_a", "start_hour": 3,
                                              "end_hour": 9, "filter": "median"})
    got = [(c.arguments["series"], c.arguments["start_hour"], c.arguments["end_hour"],
            c.arguments["filter"]) for c in records(made, SMOOTH, ask)]
    # "for 'sensor_b' between" as "of 'sensor_a' between"; 14 follows 10 as 9 follows 3
    assert got == [("sensor_a", 3, 9, "median"), ("sensor_a", 3, 9, "kalman"),
                   ("sensor_b", 10, 14, "median"), ("sensor_b", 10, 14, "kalman")]


def test_a_value_beside_more_of_an_arguments_name_goes_to_it_and_a_flag_turns() -> None:
    oven = params(["start_temp", "end_temp"], start_temp="integer", end_temp="integer",
                  batch="string", preheat="boolean")
    ask = ("Bake batch 'rye' from a start temp of 180 degrees to an end temp of 220 degrees "
           "without preheating. Then repeat the bake with the same batch, but this time the "
           "start temp is 160 degrees and the end temp is 200 degrees, with preheating on.")
    made = ToolCall(name="bake", arguments={"batch": "rye", "start_temp": 180, "end_temp": 220,
                                            "preheat": False})
    assert args(records(made, oven, ask)) == [
        made.arguments,
        {"batch": "rye", "start_temp": 160, "end_temp": 200, "preheat": True}]


def test_a_value_the_model_took_from_a_later_part_is_replaced_by_the_first_parts() -> None:
    rain = params(["city"], city="string", year="integer")
    ask = "What was the rainfall in Lisbon in 2019? Tell me the same for the year 2021."
    made = ToolCall(name="rainfall", arguments={"city": "Lisbon", "year": 2021})
    assert args(records(made, rain, ask)) == [{"city": "Lisbon", "year": 2019},
                                              {"city": "Lisbon", "year": 2021}]


def test_nothing_is_read_when_a_part_cannot_be_read_unambiguously() -> None:
    made = ToolCall(name="export_report", arguments={"report_id": "Q3-sales"})
    # no part asks again
    assert records(made, EXPORT, "Export the report 'Q3-sales' in 'pdf' format.") == []
    # a value fits no argument (a number of copies: the tool takes none but history_days,
    # and nothing names it there)
    ask = ("Export the report 'Q3-sales', then export the same report again as 'pdf' "
           "format for 3 people.")
    assert records(made, EXPORT, ask) == []
    # a part that asks again but changes nothing
    ask = "Export the report 'Q3-sales', then export the same report again."
    assert records(made, EXPORT, ask) == []
    # a name the first part writes for an argument, and another one the later part writes
    # where nothing tells which argument it is: no guess
    shop = params(["store"], store="string", item="string")
    ask = "Check the stock of bread at the store in Lisbon. Then do the same in Porto."
    assert records(ToolCall(name="stock", arguments={"store": "Lisbon", "item": "bread"}),
                   shop, ask) == []


def test_a_choice_of_the_tool_the_part_names_is_its_change() -> None:
    dividends = {"type": "object", "properties": {
        "company": {"type": "string"}, "years": {"type": "integer"},
        "frequency": {"type": "string", "enum": ["quarterly", "annual"]}},
        "required": ["company", "years"]}
    ask = ("Get the dividend history of Acme for 5 years on a quarterly basis, then the same "
           "data but on an annual basis.")
    made = ToolCall(name="dividends", arguments={"company": "Acme", "years": 5,
                                                 "frequency": "quarterly"})
    assert [c.arguments["frequency"] for c in records(made, dividends, ask)] == [
        "quarterly", "annual"]


def test_a_bracketed_list_is_a_value_and_an_aside_in_parentheses_is_not() -> None:
    area = params(["coefficients", "interval"], coefficients="array", interval="array")
    ask = ("Integrate the polynomial with coefficients [2, 0, 1] (that is, 2x^2 + 1) over the "
           "interval [0, 4], and then do the same for the polynomial with coefficients "
           "[1, 1] (that is, x + 1) over the interval [1, 3].")
    made = ToolCall(name="integrate", arguments={"coefficients": [2, 0, 1], "interval": [0, 4]})
    assert args(records(made, area, ask)) == [
        {"coefficients": [2, 0, 1], "interval": [0, 4]},
        {"coefficients": [1, 1], "interval": [1, 3]}]
