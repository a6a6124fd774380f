"""Tool retrieval through ToolIndex with the real embedder: requests split into parts, the parts'
rankings interleaved with the whole request's."""

from __future__ import annotations

import pytest

from slmstack.errors import UserError
from slmstack.rag.index import open_index
from slmstack.rag.search import KnowledgeBase
from slmstack.rag.toolindex import (
    MIN_PART_COSINE,
    ToolIndex,
    aspects,
    interleave,
    tool_text,
    tool_words,
)
from slmstack.types import ToolSpec


def _tool(name: str, description: str, **params: str) -> ToolSpec:
    props = {p: {"type": "string", "description": d} for p, d in params.items()}
    return ToolSpec(name=name, description=description,
                    parameters={"type": "object", "properties": props})


TOOLS = [
    _tool("weather.forecast", "Weather forecast for a city for the coming days.",
          city="The city.", days="Number of days."),
    _tool("get_weather_forecast", "Get the weather forecast of a location.", location="City."),
    _tool("forecast_weather", "Forecast temperature, rain and wind for a city.", city="City."),
    _tool("weather_report", "Current weather conditions and forecast for a place.", place="Place."),
    _tool("currency_convert", "Convert an amount of money from one currency to another.",
          amount="The amount.", from_currency="Currency to convert from.",
          to_currency="Currency to convert to."),
    _tool("send_email", "Send an email message to a person.", to="Recipient address."),
    _tool("book_table", "Reserve a table at a restaurant.", restaurant="Its name."),
]
TWO_THINGS = ("I am visiting Paris next week and want the weather forecast: temperature, rain "
              "and wind for each day. Then tell me what 100 euros are in dollars.")


@pytest.fixture(scope="module")
def tools(embedder):
    index = ToolIndex(KnowledgeBase(open_index(":memory:"), embedder))
    assert index.add(TOOLS) == len(TOOLS) and index.add(TOOLS) == 0
    return index


def test_aspects_split_sentences_and_then_clauses():
    assert aspects("Convert 100 euros to US dollars.") == []
    assert aspects("Convert 100 euros to dollars. Then email the result to Ann. Thanks!") == [
        "Convert 100 euros to dollars.", "Then email the result to Ann."]
    assert aspects("Find the museum's opening hours and then the travel time to it") == [
        "Find the museum's opening hours", "the travel time to it"]
    assert aspects("Area of a circle; its circumference too") == [
        "Area of a circle", "its circumference too"]
    # "and" alone joins the parts of one thing as often as two things: no split there
    assert aspects("Get the temperature and humidity in Rome") == []
    # an "and" that asks again starts another part
    assert aspects("How many steps burn 500 calories and how much water should I drink?") == [
        "How many steps burn 500 calories", "how much water should I drink?"]
    assert aspects("Create a jazz beat at 90 bpm and make a melody with C4 and E4") == [
        "Create a jazz beat at 90 bpm", "make a melody with C4 and E4"]


def test_interleave_round_robin_without_repeats():
    assert interleave([["a", "b", "c"], ["d", "a", "e"], ["f"]], 5) == ["a", "d", "f", "b", "c"]
    assert interleave([["a"], []], 3) == ["a"]
    assert interleave([], 3) == []


def test_each_part_of_a_request_gets_a_place(tools):
    # ranked whole, the prominent part (weather) fills the top places with near-duplicates
    whole = tools.rank(TWO_THINGS, 3, split=False)
    assert "currency_convert" not in whole and all("weather" in n for n in whole)
    for mode in ("dense", "hybrid"):  # (no word of "euros … dollars" is in the tool's text)
        top = tools.rank(TWO_THINGS, 3, mode)
        assert top[0] == whole[0] and "currency_convert" in top[:2], mode


def test_a_part_no_tool_matches_gets_no_place(tools, embedder):
    # a pleasantry is a part of its own, but no tool is close to it: the tools of the task fill
    # the places, not the nearest tool to "Can you assist me with these?"
    request = "Can you assist me with these? Convert 100 euros into dollars."
    polite, task = aspects(request)
    vectors = embedder.encode([polite, task])
    assert tools._search(polite, vectors[0], 3, "hybrid")[1] < MIN_PART_COSINE
    assert tools._search(task, vectors[1], 3, "hybrid")[1] >= MIN_PART_COSINE
    whole = tools.rank(request, 2, split=False)
    nearest = tools._search(polite, vectors[0], 1, "hybrid")[0][0]
    assert nearest not in whole
    assert nearest not in tools.rank(request, 2)


def test_single_request_ranks_as_before(tools, embedder):
    task = "is it going to rain in Oslo this week"
    vector = embedder.encode([task])[0]
    assert tools.rank(task, 4) == tools.rank(task, 4, split=False)
    assert tools.rank(task, 4, vector=vector) == tools.rank(task, 4)
    assert [t.name for t in tools.select("send a message to Bob by email", k=1)] == ["send_email"]


def test_bad_mode_and_k_are_clear_errors(tools):
    with pytest.raises(UserError, match="'fuzzy'"):
        tools.rank("weather", 3, "fuzzy")
    with pytest.raises(UserError, match="k must be"):
        tools.rank("weather", 0)


def test_tool_documents_name_parameters_and_values():
    spec = ToolSpec(name="geo.areaCircle", description="Area of a circle.", parameters={
        "type": "object", "properties": {"unit_name": {"type": "string", "description": "Unit.",
                                                       "enum": ["cm", "m"]}}})
    assert tool_words(spec.name) == "geo area Circle"
    assert tool_text(spec) == "Area of a circle.\nParameters: unit name: Unit. (cm, m)"
