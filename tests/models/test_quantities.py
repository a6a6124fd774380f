"""Units written with a request's numbers, units a parameter takes, and the swap of two number
arguments whose units fit each other's parameter (real tool schemas, no model)."""

from __future__ import annotations

from slmstack.models.grounding import evidence_from, prune_ungrounded
from slmstack.models.quantities import param_units, unit_order, written_units
from slmstack.types import Message, ToolCall, ToolSpec

PAINT = ToolSpec(name="paint", description="Paint needed for a wall.", parameters={
    "type": "object", "required": ["coverage_rate", "length", "height"], "properties": {
        "coverage_rate": {"type": "integer",
                          "description": "The area in square feet one gallon of paint covers."},
        "length": {"type": "integer", "description": "Length of the wall in feet."},
        "height": {"type": "integer", "description": "Height of the wall in feet."}}})
WALL = ("Paint needed for a wall of 30 feet by 12 feet, with a brand that covers 400 square "
        "feet per gallon?")


def test_units_written_after_a_number() -> None:
    at = WALL.index("400")
    assert written_units(WALL, at, at + 3) == {"square", "feet", "gallons"}
    at = WALL.index("12")
    assert written_units(WALL, at, at + 2) == {"feet"}  # "… by" ends nothing; "with" stops
    text = "Invest $10,000 at 5% for 10 years in a fund"
    assert written_units(text, 8, 14) == {"dollars"}
    assert written_units(text, 18, 19, percent=True) == {"percent"}
    assert written_units(text, 26, 28) == {"years"}
    # a short form that is also a word counts only right after the number
    assert written_units("5 tables in a row", 0, 1) == frozenset()
    assert written_units("a 5 in nail", 2, 3) == {"inches"}


def test_units_a_parameter_takes() -> None:
    props = PAINT.parameters["properties"]
    assert param_units("coverage_rate", props["coverage_rate"]) == {"square", "feet",
                                                                    "gallons"}
    assert param_units("principle", {"description": "The initial amount of the investment."}) \
        == {"dollars"}
    assert param_units("x", {"description": "A value."}) == frozenset()


def test_numbers_whose_units_fit_each_others_parameter_are_swapped() -> None:
    ev = evidence_from([Message.user(WALL)])
    wrong = ToolCall(name="paint", arguments={"coverage_rate": 12, "length": 30, "height": 400})
    repairs: list[str] = []
    fixed = prune_ungrounded(wrong, PAINT, ev, repairs)
    assert fixed.arguments == {"coverage_rate": 400, "length": 30, "height": 12}
    assert any("unit the request writes" in r for r in repairs)
    # right already, or several calls in the reply: left as it is
    assert prune_ungrounded(fixed, PAINT, ev, []).arguments == fixed.arguments
    assert prune_ungrounded(wrong, PAINT, ev, [], [{"length": 1}]).arguments == wrong.arguments
    # two values with the same unit (length and height, both feet): no reason to swap
    same = {"coverage_rate": 400, "length": 12, "height": 30}
    assert unit_order(PAINT, same, {12.0: frozenset({"feet"}), 30.0: frozenset({"feet"}),
                                    400.0: frozenset({"square", "feet", "gallons"})}) == {}
    # a number written twice has no one unit: not moved
    assert unit_order(PAINT, wrong.arguments, {30.0: frozenset({"feet"})}) == {}


def test_an_optional_number_the_request_writes_in_the_parameters_unit_is_added() -> None:
    shops = ToolSpec(name="shops", description="Shops near a place.", parameters={
        "type": "object", "required": ["city"], "properties": {
            "city": {"type": "string"},
            "radius": {"type": "integer", "description": "Search radius (in miles)."},
            "periods": {"type": "integer", "description": "Visits per year."}}})

    def fixed(request: str) -> dict:
        call = ToolCall(name="shops", arguments={"city": "Oslo"})
        repairs: list[str] = []
        out = prune_ungrounded(call, shops, evidence_from([Message.user(request)]), repairs)
        assert all("in its unit" in r for r in repairs)
        return out.arguments

    assert fixed("Bakeries in Oslo within 4 miles.") == {"city": "Oslo", "radius": 4}
    # two numbers in miles, none, or a rate "per year" given in years: nothing added
    assert fixed("Bakeries in Oslo 4 miles or 6 miles away.") == {"city": "Oslo"}
    assert fixed("Bakeries in Oslo open 4 days a week.") == {"city": "Oslo"}
    assert fixed("Bakeries in Oslo open for 5 years.") == {"city": "Oslo"}
    assert param_units("periods", shops.parameters["properties"]["periods"]) == frozenset()


def test_a_number_written_in_another_unit_is_converted() -> None:
    track = ToolSpec(name="mix", description="", parameters={
        "type": "object", "required": ["length", "height"], "properties": {
            "length": {"type": "integer", "description": "Length of the track in seconds."},
            "height": {"type": "integer", "description": "Height of the singer in inches."},
            "weight": {"type": "number", "description": "Weight in kilograms."}}})

    def fixed(args: dict, request: str) -> dict:
        call = ToolCall(name="mix", arguments=args)
        return prune_ungrounded(call, track, evidence_from([Message.user(request)]), []).arguments

    assert fixed({"length": 4, "height": 70}, "A 4 minutes track for a singer 70 inches tall") == {
        "length": 240, "height": 70}
    assert fixed({"length": 240, "height": 6}, "A 240 second track; the singer is 6 ft 2 in") == {
        "length": 240, "height": 74}  # feet and inches: one length
    assert fixed({"length": 240, "height": 70, "weight": 154},
                 "240 seconds, 70 inches, 154 lbs") == {"length": 240, "height": 70,
                                                         "weight": 69.853225}
    # another dimension, or no unit written: left as they are
    assert fixed({"length": 3, "height": 70}, "3 kg of track, 70 inches")["length"] == 3
    assert fixed({"length": 3, "height": 70}, "3 of them, 70 inches")["length"] == 3


def test_a_unit_names_its_system() -> None:
    from slmstack.models.quantities import unit_system
    assert unit_system("cm") == unit_system("kilograms") == "metric"
    assert unit_system("lbs") == unit_system("Feet") == "imperial"
    assert unit_system("pixels") is None and unit_system("percent") is None
    bmi = ToolSpec(name="bmi", description="", parameters={
        "type": "object", "required": ["weight"], "properties": {
            "weight": {"type": "integer"},
            "system": {"type": "string", "description": "Units: 'metric' or 'imperial'."}}})
    call = ToolCall(name="bmi", arguments={"weight": 70, "system": "kg"})
    ev = evidence_from([Message.user("BMI for 70 kg?")])
    assert prune_ungrounded(call, bmi, ev, []).arguments == {"weight": 70, "system": "metric"}
