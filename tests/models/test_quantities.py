"""Units written with a request's numbers, units a parameter takes, and the swap of two number
arguments whose units fit each other's parameter (real tool schemas, no model)."""

from __future__ import annotations

from slmstack.models.grounding import evidence_from, prune_ungrounded
from slmstack.models.quantities import param_units, unit_order, unit_replacements, written_units
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
    assert written_units("a 5in nail", 2, 3) == written_units("a 5 in. nail", 2, 3) == {"inches"}
    # "in" before more words is the preposition: "revenue of 2019 in Paris"
    assert written_units("sales of 2019 in Paris", 9, 13) == frozenset()
    # the units stop at the next number or clause: they are that number's
    text = "He weighs 180 lbs, is 70 inches tall"
    assert written_units(text, 10, 13) == {"pounds"}
    assert written_units("5 meters in 20 seconds", 0, 1) == {"meters"}
    # what is counted per something is read unless asked not to
    assert written_units("$1000 per year", 0, 5) == {"dollars", "years"}
    assert written_units("$1000 per year", 0, 5, per=False) == {"dollars"}


def test_a_list_shares_the_unit_its_last_item_writes() -> None:
    ev = evidence_from([Message.user("Paying $1000 per year for 10, 20 and 30 years")])
    assert [(v, set(u)) for _, v, u in ev.units_found] == [
        (1000.0, {"dollars"}), (10.0, {"years"}), (20.0, {"years"}), (30.0, {"years"})]
    assert ev.units_written[1000.0] == {"dollars", "years"}  # "per year" read for unit_order
    # a "$" is the next number's own: "$1M in 2019 and $1.2M" gives 2019 no unit
    ev = evidence_from([Message.user("Revenue of $1M in 2019 and $1.2M in 2020")])
    assert dict((v, u) for _, v, u in ev.units_found)[2019.0] == frozenset()


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
    # one call of several: its values are its own record's, swapped the same way
    assert prune_ungrounded(wrong, PAINT, ev, [], [{"length": 1}]).arguments == fixed.arguments
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


PERSON = ToolSpec(name="risk", description="Diabetes risk.", parameters={
    "type": "object", "required": ["weight", "height"], "properties": {
        "weight": {"type": "integer", "description": "Weight of the person in lbs."},
        "height": {"type": "integer", "description": "Height of the person in inches."}}})


def test_a_number_in_a_unit_of_another_kind_gives_way_to_one_in_the_parameters() -> None:
    def fixed(args: dict, request: str, used: list) -> dict:
        call = ToolCall(name="risk", arguments=args)
        repairs: list[str] = []
        out = prune_ungrounded(call, PERSON, evidence_from([Message.user(request)]), repairs,
                               used, varies=set(args))
        assert all("in a unit of another kind" in r for r in repairs)
        return out.arguments

    one = "A man of 40 years weighs 180 lbs and is 70 inches tall."
    assert fixed({"weight": 180, "height": 180}, one, []) == {"weight": 180, "height": 70}
    assert fixed({"weight": 180, "height": 40}, one, []) == {"weight": 180, "height": 70}
    # one record of several: the number nearest the call's other values
    two = ("The first person weighs 180 lbs, is 70 inches tall. The second weighs 200 lbs, is "
           "65 inches tall.")
    assert fixed({"weight": 180, "height": 200}, two, [{}]) == {"weight": 180, "height": 70}
    assert fixed({"weight": 200, "height": 180}, two, [{}]) == {"weight": 200, "height": 65}
    # one call, two numbers in inches: which one is not known
    assert fixed({"weight": 180, "height": 200}, two, []) == {"weight": 180, "height": 200}
    # no unit written, a percentage, or a unit of the same kind (converted instead): kept
    assert fixed({"weight": 180, "height": 3}, "3 of them weigh 180 lbs, 70 inches", []) == {
        "weight": 180, "height": 3}
    assert fixed({"weight": 180, "height": 5}, "5% weigh 180 lbs, 70 inches", []) == {
        "weight": 180, "height": 5}
    assert unit_replacements(PERSON, {"height": 2}, [(0, 2.0, frozenset({"feet"})),
                                                     (9, 70.0, frozenset({"inches"}))],
                             True) == {}


def test_a_percentage_in_an_amount_of_money_gives_way_to_the_amount() -> None:
    loan = ToolSpec(name="interest", description="", parameters={
        "type": "object", "required": ["principle", "rate"], "properties": {
            "principle": {"type": "integer", "description": "The initial amount of money."},
            "down_payment_rate": {"type": "integer", "description": "Share of the price paid."},
            "rate": {"type": "number", "description": "The annual rate."}}})
    ask = [Message.user("John has $5000 to invest at an annual rate of 4% for 5 years.")]
    call = ToolCall(name="interest", arguments={"principle": 4, "rate": 0.04})
    assert prune_ungrounded(call, loan, evidence_from(ask), []).arguments == {
        "principle": 5000, "rate": 0.04}
    # a parameter about a rate keeps a percentage
    call = ToolCall(name="interest", arguments={"down_payment_rate": 4})
    ask = [Message.user("A $5000 car with 4% down.")]
    assert prune_ungrounded(call, loan, evidence_from(ask), []).arguments == {
        "down_payment_rate": 4}
