"""Records read from repeating frames: "weighs 70 kg … weighs 82 kg" → one call per record."""

from __future__ import annotations

from slmstack.models.frames import records
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
