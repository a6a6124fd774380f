"""Records read from repeating frames: "weighs 70 kg … weighs 82 kg" → one call per record."""

from __future__ import annotations

from slmstack.models.frames import choices, following, records, zip_choices
from slmstack.types import ToolCall


def args(text: str, **first: object) -> list[dict[str, object]]:
    return [c.arguments for c in records(ToolCall(name="f", arguments=dict(first)), text)]


def test_each_record_takes_the_kth_value_of_every_repeating_frame() -> None:
    text = ("Ana is 34 years old and earns 52000 dollars a year. Her brother is 29 years old "
            "and earns 47000 dollars a year, and her father is 61 years old and earns 80000 "
            "dollars a year. Estimate their tax.")
    assert args(text, age=34, income=52000, country="Spain") == [
        {"age": 34, "income": 52000, "country": "Spain"},
        {"age": 29, "income": 47000, "country": "Spain"},
        {"age": 61, "income": 80000, "country": "Spain"}]


def test_an_argument_whose_frame_does_not_repeat_keeps_its_value() -> None:
    text = ("Simulate a pendulum of length 2 meters released at 10 degrees, then simulate "
            "it again released at 25 degrees.")
    assert args(text, length=2, angle=10) == [{"length": 2, "angle": 10},
                                              {"length": 2, "angle": 25}]


def test_texts_in_the_same_frame_and_named_numbers() -> None:
    text = ("List the open tickets of the team Falcon Ops in the queue for the last 3 days, "
            "then the tickets of the team Night Shift in the queue for the last 9 days.")
    assert args(text, team="Falcon Ops", days=3) == [{"team": "Falcon Ops", "days": 3},
                                                     {"team": "Night Shift", "days": 9}]
    text = "Close the account with account number 1188 today and then account number 2290."
    assert args(text, account=1188) == [{"account": 1188}, {"account": 2290}]


def test_percentages_given_as_fractions_stay_fractions() -> None:
    text = "Grow 1000 at a rate of 4% for 3 years, and then at a rate of 6% for 3 years."
    assert args(text, principal=1000, rate=0.04, years=3) == [
        {"principal": 1000, "rate": 0.04, "years": 3},
        {"principal": 1000, "rate": 0.06, "years": 3}]


def test_nothing_when_no_frame_repeats_or_the_records_are_ambiguous() -> None:
    assert args("The area of a triangle with base 6 and height 10.", base=6, height=10) == []
    # frames repeat unevenly (3 ages, 2 incomes): no guess
    text = ("A is 30 years old and earns 100 dollars; B is 40 years old and earns 200 dollars; "
            "C is 50 years old.")
    assert args(text, age=30, income=100) == []
    # records out of order (all ages first, then incomes): the pairing is not written
    text = "They are 30 years old and 40 years old; they earn 100 dollars and 200 dollars."
    assert args(text, age=30, income=100) == []
    # a value the request does not write, a boolean, a list: nothing to read
    assert args("Check 5 items and then 7 items.", verbose=True, tags=["a"]) == []


def test_one_value_is_never_read_for_two_arguments() -> None:
    text = "Roll a die of 6 sides 2 times, then roll a die of 8 sides 2 times."
    got = args(text, sides=6, rolls=2)
    assert got == [{"sides": 6, "rolls": 2}, {"sides": 8, "rolls": 2}]


def test_a_clause_end_closes_a_frame_whatever_sign_it_is() -> None:
    text = "Ann picked 36 and 48, while Bo picked 60 and 96. Find the gcd of each pair."
    assert args(text, a=36, b=48) == [{"a": 36, "b": 48}, {"a": 60, "b": 96}]


def test_records_that_would_skip_a_value_of_their_kind_are_not_read() -> None:
    # Paris and Oslo share a frame, Rome does not: reading two records would skip Rome
    assert args("What is the weather in Paris, in Rome and in Oslo?", city="Paris") == []
    # only the first number's frame repeats: the second record would copy 48, leaving 96 unread
    text = "Ann picked 36 and 48; Bo picked 60 or maybe 96. Find the gcd of each pair."
    assert args(text, a=36, b=48) == []


def test_a_numbers_name_decides_when_two_arguments_share_a_frame() -> None:
    text = ("The first plot has a width of 12 meters and a depth of 15 meters. The second plot "
            "has a width of 18 meters and a depth of 24 meters.")
    assert args(text, width=12, depth=15) == [{"width": 12, "depth": 15},
                                              {"width": 18, "depth": 24}]


def test_a_text_frame_must_say_something_and_keep_the_values_case() -> None:
    # "and _ ." frames nothing: "you can transfer" is no second city
    text = "The distance between two cities, Lyon and Nantes, by train and you can transfer."
    assert args(text, a="Lyon", b="Nantes") == []
    text = "Compare the Alpine model in 2019 with the Brenner model in 2020."
    assert args(text, model="Alpine", year=2019) == [{"model": "Alpine", "year": 2019},
                                                     {"model": "Brenner", "year": 2020}]
    text = "Sort the red pens in the box, and then the cheap pens in the box."
    assert args(text, item="Red") == []  # a capitalised value wants a capitalised sibling
    assert args("Ship 'Blue Lake' today, and 'Iron Hill' tomorrow.", name="Blue Lake") == [
        {"name": "Blue Lake"}, {"name": "Iron Hill"}]


def test_an_unread_quoted_value_leaves_the_records_unread() -> None:
    text = "Book a room in oslo for 2 nights, then one in 'bergen' for 3 nights."
    assert args(text, city="oslo", nights=2) == []
    text = "Book a room in oslo for 2 nights, then one more for 3 nights."
    assert args(text, city="oslo", nights=2) == [{"city": "oslo", "nights": 2},
                                                 {"city": "oslo", "nights": 3}]


def test_the_tools_own_name_quoted_and_a_parenthesised_aside_are_no_values_left_unread() -> None:
    text = ("The first tank holds 40 liters and weighs 12 kilograms. The second tank holds 55 "
            "liters and weighs 19 kilograms. Use the 'f' function for both.")
    assert args(text, volume=40, weight=12) == [{"volume": 40, "weight": 12},
                                                {"volume": 55, "weight": 19}]
    text = "Rate the model 'Rover' and then the model 'Comet' (Beta) too."
    assert args(text, model="Rover") == [{"model": "Rover"}, {"model": "Comet"}]


def test_a_unit_written_against_the_number_still_frames_it() -> None:
    text = "Paint a fence 3m tall with 2 coats, then a fence 5m tall with 4 coats."
    assert args(text, height=3, coats=2, unit="m") == [
        {"height": 3, "coats": 2, "unit": "m"}, {"height": 5, "coats": 4, "unit": "m"}]
    # "2nd" is an ordinal, not a number with a unit
    assert args("Ship order 2nd today and order 7 tomorrow.", order=2) == []


def test_a_text_after_two_words_that_say_what_it_is() -> None:
    text = ("Plan a 3-day visit to Lisbon with a budget of $90 centred on food, then a 5-day "
            "visit to Porto with a budget of $70 centred on wine.")
    assert args(text, city="Lisbon", days=3, budget=90, theme="food") == [
        {"city": "Lisbon", "days": 3, "budget": 90, "theme": "food"},
        {"city": "Porto", "days": 5, "budget": 70, "theme": "wine"}]


def test_a_text_that_follows_another_arguments_value_across_a_small_word() -> None:
    text = ("Reserve a train from Lyon to Geneva on July 2nd and another train from Geneva "
            "to Milan on July 9th.")
    assert args(text, origin="Lyon", destination="Geneva", day="July 2nd") == [
        {"origin": "Lyon", "destination": "Geneva", "day": "July 2nd"},
        {"origin": "Geneva", "destination": "Milan", "day": "July 9th"}]
    text = ("What is the road distance between Porto and Madrid, and between Turin and "
            "Vienna?")
    assert args(text, start="Porto", end="Madrid") == [
        {"start": "Porto", "end": "Madrid"}, {"start": "Turin", "end": "Vienna"}]


def test_a_following_text_is_read_only_when_every_record_writes_one() -> None:
    text = "Reserve a train from Lyon to Geneva on July 2nd and another train from Bern."
    assert args(text, origin="Lyon", destination="Geneva", day="July 2nd") == [
        {"origin": "Lyon", "destination": "Geneva", "day": "July 2nd"},
        {"origin": "Bern", "destination": "Geneva", "day": "July 2nd"}]


def test_a_frame_that_repeats_one_value_tells_no_records_apart() -> None:
    text = ("Drop a ball from a height of 10 meters at a speed of 0 m/s, then from a height of "
            "20 meters at the same speed, then a stone from a height of 15 meters at a speed of "
            "0 m/s.")
    assert args(text, height=10, speed=0) == [
        {"height": 10, "speed": 0}, {"height": 20, "speed": 0}, {"height": 15, "speed": 0}]


def test_a_later_record_may_name_a_value_the_first_one_implied() -> None:
    # "from rest" is the model's 0; the second record names the argument before its number
    text = ("The first cart starts from rest and speeds up at 2 m/s2 for 6 seconds. The second "
            "cart starts with an initial speed of 3 m/s and speeds up at 1 m/s2 for 9 seconds.")
    assert args(text, initial_speed=0, rate=2, time=6) == [
        {"initial_speed": 0, "rate": 2, "time": 6}, {"initial_speed": 3, "rate": 1, "time": 9}]
    # the model wrote the second record: "from rest" is a speed of 0, and 2 (after "up at",
    # like the rate's 1) is the rate's, not a second initial speed in "of _ m"
    text = ("The first cart starts from rest and speeds up at a rate of 2 m/s2 for 6 seconds. "
            "The second cart starts with an initial speed of 3 m/s and speeds up at a rate of "
            "1 m/s2 for 9 seconds.")
    assert args(text, initial_speed=3, rate=1, time=9) == [
        {"initial_speed": 0, "rate": 2, "time": 6}, {"initial_speed": 3, "rate": 1, "time": 9}]


def test_a_value_written_with_signs_takes_one_of_the_same_shape() -> None:
    text = ("Time a run of 400 meters in 80 seconds, speed given in km/h, then a run of 800 "
            "meters in 200 seconds, speed given in m/s.")
    assert args(text, distance=400, time=80, unit="km/h") == [
        {"distance": 400, "time": 80, "unit": "km/h"},
        {"distance": 800, "time": 200, "unit": "m/s"}]


def test_a_quotation_keeps_to_quotations_after_the_same_word() -> None:
    text = ("Look up the part code 'QX-1' in the catalogue 'Spring' and the part code 'QX-9' "
            "in the catalogue 'Autumn'.")
    assert args(text, code="QX-1", catalogue="Spring") == [
        {"code": "QX-1", "catalogue": "Spring"}, {"code": "QX-9", "catalogue": "Autumn"}]


def test_values_written_argument_by_argument() -> None:
    text = ("Two pumps are tested: the first runs at a pressure of 2 bar and the second at a "
            "pressure of 5 bar. The first runs for 30 minutes and the second for 45 minutes.")
    assert args(text, pressure=2, minutes=30) == [{"pressure": 2, "minutes": 30},
                                                  {"pressure": 5, "minutes": 45}]


def after(text: str, **first: object) -> list[dict[str, object]]:
    return [c.arguments for c in following(ToolCall(name="f", arguments=dict(first)), text)]


def test_records_told_by_kind_when_their_wording_differs() -> None:
    text = ("Estimate the duty on imports of $12000 in goods and $3000 in freight into Norway, "
            "and $8000 goods, $1000 freight into Chile.")
    assert after(text, goods=12000, freight=3000, country="Norway") == [
        {"goods": 12000, "freight": 3000, "country": "Norway"},
        {"goods": 8000, "freight": 1000, "country": "Chile"}]
    # a lower-case word is kept; a fraction takes a percentage as a fraction
    text = "List fraud cases in Leeds at a rate of 4% and the same kind in Derby at 6%."
    assert after(text, kind="fraud", city="Leeds", rate=0.04) == [
        {"kind": "fraud", "city": "Leeds", "rate": 0.04},
        {"kind": "fraud", "city": "Derby", "rate": 0.06}]


def test_no_records_by_kind_unless_whole_groups_follow() -> None:
    # a name the first record writes but the call does not take is wording, not a value
    text = "Pay the invoice of Acme for 300 euros, and then the invoice of Acme for 500 euros."
    assert after(text, amount=300) == [{"amount": 300}, {"amount": 500}]
    assert after("Book Hotel Astra in Porto, and a taxi for 2 people.", hotel="Hotel Astra",
                 city="Porto") == []  # 2 is no hotel and no city
    assert after("Weather in Porto, the harbour town of Portugal?", city="Porto") == []
    assert after("Weather in Porto on Monday, and in Faro.", city="Lisbon") == []  # not written
    # numbers inside a quoted formula are not records when the call quotes nothing
    assert after("Integrate x from 0 to 2, and then 'x^3 + 5 - 7'.", f="x", a=0, b=2) == []
    # a value another argument already holds ("Sundays" in "open on Sundays")
    assert after("A pizza place in Leeds that is open on Sundays.", city="Leeds",
                 when="open on Sundays") == []


def chosen(text: str, enum: list[str], **first: object) -> list[object]:
    params = {"type": "object", "properties": {"mode": {"type": "string", "enum": enum}}}
    got = choices(ToolCall(name="f", arguments=dict(first)), params, text)
    return [c.arguments["mode"] for c in got]


def test_an_enum_argument_is_repeated_for_each_choice_the_request_names() -> None:
    modes = ["easy", "normal", "hard", "six_months"]
    text = "Start a game in hard mode on level 3, then the same level in easy mode."
    assert chosen(text, modes, mode="easy", level=3) == ["hard", "easy"]  # the request's order
    assert chosen("Report for the last six months and the normal view.", modes,
                  mode="normal") == ["six_months", "normal"]
    # one choice named, or the call's own value not among them: nothing to repeat
    assert chosen("Start a game in hard mode.", modes, mode="hard") == []
    assert chosen("Hard or easy, whichever.", modes, mode="normal") == []
    # a choice another argument already uses is that argument's, not a second call's
    assert chosen("Convert from easy to hard.", modes, mode="easy", target="hard") == []


def test_choices_differing_only_in_case_are_matched_exactly_and_inner_ones_do_not_count() -> None:
    assert chosen("The genotypes AA and Aa, please.", ["AA", "Aa", "aa"], mode="AA") == [
        "AA", "Aa"]
    assert chosen("Only items in Like New condition.", ["New", "Like New"], mode="New") == []


def test_values_another_tools_call_uses_are_not_read_as_records() -> None:
    text = "Find the gcd of 96 and 128, and the lcm of 15 and 25."
    gcd = ToolCall(name="gcd", arguments={"a": 96, "b": 128})
    lcm = ToolCall(name="lcm", arguments={"a": 15, "b": 25})
    assert records(gcd, text, [lcm]) == []
    assert len(records(gcd, text)) == 2  # alone, the frames would read two gcd records


def test_a_flag_named_plainly_and_negated_gets_a_call_each_way() -> None:
    from slmstack.models.frames import both_ways

    spec = {"type": "object", "properties": {"isothermal": {"type": "boolean"},
                                             "temp": {"type": "number"}}}
    call = ToolCall(name="entropy", arguments={"temp": 300, "isothermal": True})

    def flags(text: str) -> list[bool]:
        return [c.arguments["isothermal"] for c in both_ways(call, spec, text)]

    assert flags("At 300 K the process is isothermal. What if the process is not isothermal?"
                 ) == [True, False]
    assert flags("Without isothermal conditions at 300 K, then with isothermal ones.") == [
        True, False]
    # named one way only, or not at all: nothing to vary
    assert flags("An isothermal process at 300 K, not an adiabatic one.") == []
    assert flags("A process that is not isothermal, at 300 K.") == []
    assert flags("A process at 300 K.") == []


def test_a_units_exponent_is_no_value_left_unread() -> None:
    text = ("The first object is accelerated at a rate of 5 m/s^2 and travels a distance of 100 "
            "meters. The second object is accelerated at a rate of 10 m/s^2 and travels a "
            "distance of 200 meters.")
    call = ToolCall(name="v", arguments={"acceleration": 5, "distance": 100})
    assert [c.arguments for c in records(call, text)] == [
        {"acceleration": 5, "distance": 100}, {"acceleration": 10, "distance": 200}]


def test_records_take_the_choice_named_in_their_own_part() -> None:
    params = {"properties": {"mode": {"type": "string", "enum": ["driving", "transit", "walking"]},
                             "start": {"type": "string"}, "end": {"type": "string"}}}
    text = ("Go from Oslo to Bergen by driving, then from Bergen to Voss by transit, "
            "and from Voss to Oslo walking.")
    legs = [("Oslo", "Bergen"), ("Bergen", "Voss"), ("Voss", "Oslo")]
    calls = [ToolCall(name="route", arguments={"start": a, "end": b, "mode": "driving"})
             for a, b in legs]
    assert [c.arguments["mode"] for c in zip_choices(calls, params, text)] == [
        "driving", "transit", "walking"]
    # choices named together, before the records: every record wants each (no pairing)
    together = "By driving and by transit: from Oslo to Bergen and from Bergen to Voss."
    assert zip_choices(calls[:2], params, together) == []
    # as many choices as records, or nothing
    assert zip_choices(calls, params, text.replace(", and from Voss to Oslo walking", "")) == []


def test_each_call_once_per_choice_the_request_lists_together() -> None:
    from slmstack.models.frames import listed_choices

    spec = {"type": "object", "properties": {
        "company": {"type": "string"}, "days": {"type": "integer"},
        "data_type": {"type": "string",
                      "description": "e.g., 'Open', 'Close', 'High', 'Low'. Default 'Close'."}}}
    calls = [ToolCall(name="price", arguments={"company": c, "days": 30})
             for c in ("Microsoft", "Apple")]
    text = ("What were the 'Open', 'Close', 'High', and 'Low' prices for Microsoft and Apple "
            "over the past 30 days?")
    out = listed_choices(calls, spec, text)
    assert [(c.arguments["company"], c.arguments["data_type"]) for c in out] == [
        (co, t) for co in ("Microsoft", "Apple") for t in ("Open", "Close", "High", "Low")]
    # choices not written as one list (one per record: zip_choices' case), one only, or
    # calls that already differ in it: left to the other readers
    assert listed_choices(calls, spec, "Microsoft's Open price and Apple's Close price") == []
    assert listed_choices(calls, spec, "The 'Open' prices of Microsoft and Apple") == []
    split = [ToolCall(name="price", arguments={"company": "Microsoft", "data_type": t})
             for t in ("Open", "Low")]
    assert listed_choices(split, spec, text) == []
    # a word that qualifies the next choice may stand between them
    case = {"type": "object", "properties": {
        "case_id": {"type": "string"},
        "detail": {"type": "string", "enum": ["status", "hearing_date"]}}}
    both = [ToolCall(name="case", arguments={"case_id": "AB-1"})]
    ask = "What is the status and planned hearing date of case AB-1?"
    assert [c.arguments["detail"] for c in listed_choices(both, case, ask)] == [
        "status", "hearing_date"]
    assert listed_choices(both, case, "What is the status and the planned hearing date?") == []


def test_a_number_taken_from_another_arguments_frame_in_a_later_record_is_moved() -> None:
    text = ("You win a round with probability 0.3. If you play 20 times, what is the chance "
            "of winning exactly 5 times? If you play 50 times, of winning exactly 15 times? "
            "And if you play 100 times, of winning exactly 30 times?")
    # ``successes`` = 100 sits in the frame of ``trials`` ("play _ times"), in record 3
    assert args(text, trials=20, successes=100, p=0.3) == [
        {"trials": 20, "successes": 5, "p": 0.3}, {"trials": 50, "successes": 15, "p": 0.3},
        {"trials": 100, "successes": 30, "p": 0.3}]
    # a number written twice may be read at its other place: left alone
    power = "Raise the number 3 to the power of 5, then the number 2 to the power of 3."
    assert args(power, base=2, exponent=3) == []


def test_a_lists_items_are_no_records_and_a_capitalised_frame_word_is_no_stray() -> None:
    # 'Payroll' and 'Leave' are the list's items, not other values of ``office``; "ID" stands
    # before both records' numbers: part of the frame, not a value left unread
    text = ("Fetch the 'Payroll' and 'Leave' fields for the staff member with the badge ID of "
            "4411 in the office named 'Harbor Point'. Then do the same for the badge ID of "
            "5820 in the same office.")
    first = {"office": "Harbor Point", "badge": 4411, "fields": ["Payroll", "Leave"]}
    assert args(text, **first) == [first, {**first, "badge": 5820}]
    # a capitalised word that stands before one record's value only is still a stray: the
    # third leg's start is unread, so no records are read
    text = ("Traffic from Oslo to Bergen by car, then from Bergen to Molde by bus, and finally "
            "from Molde back to Oslo by train.")
    assert args(text, start="Oslo", end="Bergen", mode="car") in ([], [
        {"start": "Oslo", "end": "Bergen", "mode": "car"},
        {"start": "Bergen", "end": "Molde", "mode": "bus"},
        {"start": "Molde", "end": "Oslo", "mode": "train"}])
