"""The router's tool gate (``[router] tool_gate = true``) with the real bundled MiniLM: the tiers
see only the tools related to the request; with none related an ``auto`` request is answered
without tools and routed as chat; the trace keeps the request as the caller sent it."""

from __future__ import annotations

import pytest

from slmstack.router import build_router
from slmstack.types import Message, ToolSpec

from .helpers import LARGE, SMALL, calls, router_settings, tiers
from .test_escalation import GOOD_CALL, WEATHER

pytest.importorskip("sentence_transformers")

CURRENCY = ToolSpec(
    name="convert_currency",
    description="Convert an amount of money from one currency to another",
    parameters={"type": "object", "properties": {
        "amount": {"type": "number"}, "source": {"type": "string"}, "target": {"type": "string"},
    }, "required": ["amount", "source", "target"]},
)
RECIPE = ToolSpec(
    name="find_recipe",
    description="Find a cooking recipe by dish name and diet",
    parameters={"type": "object", "properties": {"dish": {"type": "string"}},
                "required": ["dish"]},
)
TOOLS = [CURRENCY, WEATHER, RECIPE]
WEATHER_ASK = [Message.user("What will the weather be like in Paris over the next two days?")]
UNRELATED = [Message.user("Who wrote the novel Pride and Prejudice?")]


def _offered(model) -> list[list[str]]:
    return [[t.name for t in req.tools] for req in model.calls]


def test_the_tiers_see_only_the_related_tools() -> None:
    models = tiers([GOOD_CALL], [])
    router = build_router(router_settings(tool_gate=True), models=models)
    comp = router.complete(WEATHER_ASK, tools=TOOLS, parallel_tool_calls=False)
    assert _offered(models[SMALL]) == [["get_weather"]]
    assert [c.name for c in comp.tool_calls] == ["get_weather"]
    assert comp.route == "tool_call"
    assert any("offered 1 of 3 tools" in r and "get_weather" in r for r in comp.repairs)


def test_with_no_related_tool_auto_is_answered_in_words_as_chat(store) -> None:
    models = tiers(["Jane Austen wrote it."], [])
    router = build_router(router_settings(tool_gate=True), store=store, models=models)
    comp = router.complete(UNRELATED, tools=TOOLS)
    assert _offered(models[SMALL]) == [[]]
    assert comp.text == "Jane Austen wrote it." and comp.tool_calls == []
    assert comp.route == "chat"
    assert any("none of the 3 tools relates" in r for r in comp.repairs)
    (record,) = calls(store)  # the trace keeps what the caller sent: every tool
    assert [t["function"]["name"] for t in record.request["tools"]] == [t.name for t in TOOLS]


def test_required_keeps_every_tool_when_none_is_related() -> None:
    models = tiers([GOOD_CALL], [])
    router = build_router(router_settings(tool_gate=True), models=models)
    router.complete(UNRELATED, tools=TOOLS, tool_choice="required")
    assert _offered(models[SMALL]) == [[t.name for t in TOOLS]]


def test_a_named_tool_choice_is_not_gated() -> None:
    models = tiers([GOOD_CALL], [])
    router = build_router(router_settings(tool_gate=True), models=models)
    router.complete(UNRELATED, tools=TOOLS, tool_choice={"type": "function",
                                                          "function": {"name": "get_weather"}})
    assert _offered(models[SMALL]) == [[t.name for t in TOOLS]]


def test_pinned_views_are_gated_too() -> None:
    models = tiers([], ["Jane Austen."])
    router = build_router(router_settings(tool_gate=True), models=models, name="slmstack/large")
    comp = router.complete(UNRELATED, tools=TOOLS)
    assert _offered(models[LARGE]) == [[]] and comp.text == "Jane Austen."


def test_without_the_setting_every_tool_is_offered() -> None:
    models = tiers([GOOD_CALL], [])
    router = build_router(router_settings(), models=models)
    comp = router.complete(UNRELATED, tools=TOOLS)
    assert _offered(models[SMALL]) == [[t.name for t in TOOLS]]
    assert not any("tool gate" in r for r in comp.repairs)
