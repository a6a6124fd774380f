"""The legs of a trip written as a chain of places: one call per leg (``models.legs``)."""

from __future__ import annotations

from slmstack.models.legs import records
from slmstack.types import ToolCall

ROUTE = {"type": "object", "properties": {
    "start_location": {"type": "string"}, "end_location": {"type": "string"},
    "route_type": {"type": "string", "enum": ["fastest", "scenic"]}}}


def route(a: str, b: str, kind: str = "fastest") -> ToolCall:
    return ToolCall(name="get_directions",
                    arguments={"start_location": a, "end_location": b, "route_type": kind})


def legs_of(calls: list[ToolCall]) -> list[tuple[str, str, str]]:
    return [(c.arguments["start_location"], c.arguments["end_location"],
             c.arguments["route_type"]) for c in calls]


def test_a_chain_of_places_gives_one_call_per_leg_with_its_own_choice() -> None:
    ask = ("Can you provide me with the fastest route from my home in San Francisco to my "
           "office in Palo Alto and then a scenic route from Palo Alto to the Golden Gate "
           "Bridge in San Francisco, and finally the fastest route back to my home from the "
           "Golden Gate Bridge?")
    # "my home" is San Francisco; "back to my home" starts where the last leg ended
    assert legs_of(records(route("San Francisco", "Palo Alto", "scenic"), ROUTE, ask)) == [
        ("San Francisco", "Palo Alto", "fastest"), ("Palo Alto", "Golden Gate Bridge", "scenic"),
        ("Golden Gate Bridge", "San Francisco", "fastest")]


def test_a_leg_the_model_made_keeps_its_other_arguments() -> None:
    params = {"type": "object", "properties": {
        "departure_city": {"type": "string"}, "destination_city": {"type": "string"},
        "date": {"type": "string"}}}
    ask = ("Book a flight from San Francisco to Tokyo on May 3rd 2022 and another flight "
           "from Tokyo to Sydney on May 18th 2022.")

    def flight(a: str, b: str, date: str) -> ToolCall:
        return ToolCall(name="book_flight", arguments={
            "departure_city": a, "destination_city": b, "date": date})

    made = [flight("San Francisco", "Tokyo", "May 3rd 2022"),
            flight("Tokyo", "Sydney", "May 18th 2022")]
    assert [c.arguments for c in records(made[0], params, ask, made)] == [
        c.arguments for c in made]
    # "return to … from …" is a leg too; a call between two of the places is the template
    ask = ("What is the shortest driving distance in miles from New York City to Los Angeles "
           "and then from Los Angeles to Miami, considering that you have to return to New "
           "York City from Miami?")
    drive = ToolCall(name="distance", arguments={
        "origin": "New York City", "destination": "Miami", "unit": "miles"})
    got = records(drive, {"type": "object", "properties": {}}, ask)
    assert [(c.arguments["origin"], c.arguments["destination"], c.arguments["unit"])
            for c in got] == [("New York City", "Los Angeles", "miles"),
                              ("Los Angeles", "Miami", "miles"),
                              ("Miami", "New York City", "miles")]


def test_no_legs_without_a_chain_a_place_pair_or_a_known_place() -> None:
    # one leg is no chain
    assert records(route("Paris", "Lyon"), ROUTE, "The fastest route from Paris to Lyon.") == []
    # a tool without a start and an end place
    translate = ToolCall(name="translate", arguments={
        "text": "Hello", "from_lang": "English", "to_lang": "Spanish"})
    assert records(translate, {}, "Translate 'Hello' from English to Spanish, then from "
                   "Spanish to French.") == []
    # "my office" named with no town: the chain cannot be read
    assert records(route("Paris", "Lyon"), ROUTE, "From Paris to Lyon, then to my office, "
                   "and back to Paris.") == []
    # the same leg twice is not one trip ("… from New York to London … again from New York
    # to London")
    assert records(route("New York", "London"), ROUTE, "The distance from New York to London, "
                   "then flights from New York to London.") == []
    # a call between places the chain does not hold
    assert records(route("Rome", "Oslo"), ROUTE, "From Paris to Lyon, then to Nice.") == []
