"""The grounding check of tool calls: right function, values taken from the request."""

from __future__ import annotations

import pytest

from slmstack.router import GroundingVerifier, all_of, build_router
from slmstack.router.grounding import grounding_checks, grounding_score
from slmstack.types import Completion, ToolCall, ToolSpec

from .helpers import LARGE, calls, router_settings, tiers

RESTAURANTS = ToolSpec(name="find_restaurants", description="Find restaurants in a location",
                       parameters={"type": "object", "properties": {
                           "location": {"type": "string"}, "food_type": {"type": "string"},
                           "number": {"type": "integer"},
                           "open_now": {"type": "boolean", "default": False},
                           "sort": {"type": "string", "enum": ["rating", "distance"]}},
                           "required": ["location"]})
GYMS = ToolSpec(name="gym.find_nearby", description="Find gyms near a location")
ASK = "Find five Thai restaurants in Manhattan sorted by rating."


def _call(name: str, **args) -> Completion:
    return Completion(tool_calls=[ToolCall(name=name, arguments=args)])


def test_grounded_call_passes_every_check() -> None:
    comp = _call("find_restaurants", location="manhattan", food_type="Thai", number=5,
                 open_now=True, sort="rating")
    checks = grounding_checks(ASK, comp, [RESTAURANTS, GYMS])
    assert all(c.ok for c in checks) and len(checks) == 5  # function + 4 values (bool skipped)


def test_invented_values_and_wrong_functions_fail() -> None:
    invented = _call("find_restaurants", location="Manchester", food_type="Thai", number=7)
    failed = [c.what for c in grounding_checks(ASK, invented, [RESTAURANTS, GYMS]) if not c.ok]
    assert failed == ["location='Manchester'", "number=7"]
    wrong = _call("gym.find_nearby", location="Manhattan")
    assert grounding_score(ASK, wrong, [RESTAURANTS, GYMS]) == 0.5
    assert grounding_score(ASK, Completion(text="no call needed"), [RESTAURANTS]) == 1.0


def test_a_reply_of_several_tools_takes_as_many_of_the_best_sharing_ones() -> None:
    both = "Find five Thai restaurants in Manhattan and a gym near Manhattan."
    comp = Completion(tool_calls=[
        ToolCall(name="find_restaurants", arguments={"location": "Manhattan"}),
        ToolCall(name="gym.find_nearby", arguments={})])
    assert grounding_score(both, comp, [RESTAURANTS, GYMS]) == 1.0
    # one tool twice is one tool: the second best still fails, and so does a third, unrelated
    twice = Completion(tool_calls=[ToolCall(name="gym.find_nearby", arguments={})] * 2)
    assert grounding_score(ASK, twice, [RESTAURANTS, GYMS]) == 0.0
    books = ToolSpec(name="library.search_books", description="Search books by title")
    three = Completion(tool_calls=[*comp.tool_calls,
                                   ToolCall(name="library.search_books", arguments={})])
    failed = [c.what for c in grounding_checks(both, three, [RESTAURANTS, GYMS, books])
              if not c.ok]
    assert failed == ["function 'library.search_books'"]


def test_numbers_count_in_words_and_with_separators() -> None:
    comp = _call("find_restaurants", location="Manhattan", number=1200)
    assert grounding_score("Find 1,200 restaurants in Manhattan", comp, [RESTAURANTS]) == 1.0
    comp = _call("find_restaurants", location="Manhattan", number=12)
    assert grounding_score("a dozen restaurants in Manhattan", comp, [RESTAURANTS]) == 1.0


def test_ungrounded_small_answer_escalates(store) -> None:
    bad = '{"tool_calls": [{"name": "find_restaurants", "arguments": {"location": "Paris"}}]}'
    good = '{"tool_calls": [{"name": "find_restaurants", "arguments": {"location": "Manhattan"}}]}'
    routes = {"tool_call": {"model": "small", "fallbacks": ["large"], "verify": "escalate",
                            "verify_threshold": 1.0}}
    router = build_router(router_settings(routes=routes), store=store,
                          models=tiers([bad], [good]), verifier=GroundingVerifier())
    comp = router.complete(ASK, tools=[RESTAURANTS, GYMS])
    # the large tier's call; "sorted by rating" names one of ``sort``'s choices, so it is added
    assert comp.tool_calls[0].arguments == {"location": "Manhattan", "sort": "rating"}
    first, second = calls(store)
    # the small tier's call: "Paris" is not in the request, the added sort is (2 of 3 grounded)
    assert first.escalation_reason == "verifier: score 0.667 < threshold 1"
    assert first.verdict_score == pytest.approx(2 / 3, abs=1e-3) and second.model == LARGE


def test_all_of_takes_the_lowest_score_and_stops_early() -> None:
    ran = []

    def score(value: float):
        def verifier(record, completion) -> float:
            ran.append(value)
            return value
        return verifier

    assert all_of(score(0.9), score(0.4), score(0.7))(None, None) == 0.4
    ran.clear()
    assert all_of(score(0.2), score(1.0), stop_below=0.5)(None, None) == 0.2
    assert ran == [0.2]
    assert GroundingVerifier(strict=True).strict


LOAN = ToolSpec(name="future_value", description="Future value of an investment",
                parameters={"type": "object", "properties": {
                    "rate": {"type": "number"}, "periods_per_year": {"type": "integer"},
                    "days": {"type": "integer", "description": "Number of days to look ahead"},
                    "samples": {"type": "array", "items": {"type": "integer"}},
                    "start": {"type": "string"}}})


@pytest.mark.parametrize(("ask", "args"), [
    ("Invest $5000 at 5% a year", {"rate": 0.05}),  # a percentage as a fraction
    ("with monthly compounding", {"periods_per_year": 12}),  # a frequency
    ("releases for the next week", {"days": 7}),  # a period in the parameter's unit
    ("compare [22,33,42] with the rest", {"samples": [22, 33, 42]}),  # a list without spaces
    ("starting March 10th, 2023", {"start": "2023-03-10"}),  # a date written another way
])
def test_values_the_request_gives_in_other_forms_are_grounded(ask, args) -> None:
    ask = f"Future value: {ask}"  # the function check passes: only the value is checked
    assert grounding_score(ask, _call("future_value", **args), [LOAN]) == 1.0


def test_other_forms_do_not_ground_a_different_value() -> None:
    for ask, args in [("Invest at 5% a year", {"rate": 0.5}),
                      ("with monthly compounding", {"periods_per_year": 4}),
                      ("releases for the next week", {"days": 30}),
                      ("starting March 10th, 2023", {"start": "2023-04-10"})]:
        ask = f"Future value: {ask}"
        assert grounding_score(ask, _call("future_value", **args), [LOAN]) == 0.5, ask
