"""The tool gate: embedding similarity between the task and each tool (bundled MiniLM).

The pairs below are the calibration set of ``DEFAULT_THRESHOLD``: written by hand, unrelated to
any evaluation data. Related pairs must clear the threshold, unrelated ones must not.
"""

from __future__ import annotations

import pytest

from slmstack.agent import Agent, GuardStep, ToolGate
from slmstack.agent.retrieval import DEFAULT_THRESHOLD
from slmstack.models.scripted import ScriptedModel
from slmstack.rag.tooldocs import gate_text
from slmstack.types import ToolSpec

TOOLS = {
    "get_weather": "Get the current weather in a city.",
    "find_home_city": "Find the city where a person lives.",
    "multiply": "Multiply two integers.",
    "currency.convert": "Convert an amount between currencies.",
    "restaurant_booking": "Reserve a table at a restaurant.",
    "send_email": "Send an email message to a recipient.",
}
PAIRS = [
    ("What is the weather where Bob lives?", "get_weather", True),
    ("Where does Alice live?", "find_home_city", True),
    ("What is 6 times 7?", "multiply", True),
    ("Convert 100 dollars to euros.", "currency.convert", True),
    ("Book a table for two at 8pm.", "restaurant_booking", True),
    ("Send an email to my boss saying I am late.", "send_email", True),
    ("How tall is the Eiffel Tower?", "get_weather", False),
    ("Write a poem about the sea.", "multiply", False),
    ("Who won the 1998 world cup?", "currency.convert", False),
    ("Translate 'hello' into French.", "restaurant_booking", False),
    ("What is the capital of Peru?", "send_email", False),
    ("How many legs does a spider have?", "find_home_city", False),
]


@pytest.fixture(scope="module")
def gate() -> ToolGate:
    return ToolGate()


@pytest.mark.parametrize(("task", "name", "related"), PAIRS)
def test_calibration_pairs(gate: ToolGate, task: str, name: str, related: bool) -> None:
    score = gate.scores(task, [ToolSpec(name=name, description=TOOLS[name])])[name]
    assert (score >= DEFAULT_THRESHOLD) == related, score


def test_gate_text_splits_names() -> None:
    spec = ToolSpec(name="currency.convertAmount_now", description="Convert money.")
    assert gate_text(spec) == "currency convert Amount now: Convert money."


def test_select_ranks_and_limits(gate: ToolGate) -> None:
    specs = [ToolSpec(name=n, description=d) for n, d in TOOLS.items()]
    keep, scores = gate.select("Convert 20 pounds into yen", specs)
    assert keep[0] == "currency.convert" and set(scores) == {s.name for s in specs}
    assert ToolGate(top_k=1).select("Convert 20 pounds into yen", specs)[0] == keep[:1]


def test_agent_with_a_gate_offers_no_tools_for_an_unrelated_task(gate: ToolGate) -> None:
    tools = [ToolSpec(name="multiply", description="Multiply two integers.")]
    model = ScriptedModel(["Paris."])
    result = Agent(model, tools, tool_gate=gate).run("What is the capital of France?")
    assert result.stop_reason == "done" and result.answer == "Paris."
    assert model.calls[0].tools == [] and model.calls[0].constraint is None
    select = result.steps[0]
    assert isinstance(select, GuardStep) and select.action == "select"
    assert "no tools" in select.detail and "multiply=" in select.detail


def test_what_a_request_quotes_does_not_hide_the_tool_it_asks_for(gate: ToolGate) -> None:
    specs = [ToolSpec(name="send_email", description=TOOLS["send_email"])]
    task = ("Send an email to Dana with the body 'The quarterly figures for the Lisbon "
            "warehouse are attached; freight rose 4% and returns fell, see tab three.'")
    whole = gate.scores(task, specs)["send_email"]
    keep, scores = gate.select(task, specs)
    assert whole < DEFAULT_THRESHOLD <= scores["send_email"] and keep == ["send_email"]
    # a request for several calls is scored whole, and part by part: its first part asks
    keep, scores = gate.select(task, specs, parallel=True)
    assert keep == ["send_email"] and scores["send_email"] > whole


def test_a_tool_one_part_of_a_request_for_several_calls_asks_for_is_offered() -> None:
    from slmstack.agent.retrieval import default_gate

    gate = default_gate()
    specs = [ToolSpec(name=n, description=d) for n, d in TOOLS.items()]
    task = ("I need several currency conversions at today's exchange rates: first convert 5000 "
            "euros to US dollars, then convert 300 pounds to yen, then convert 20 Swiss francs "
            "to Swedish krona, and then convert 15 dollars to Mexican pesos. Finally, reserve a "
            "table for four at a restaurant.")
    whole = gate.scores(task, specs)
    # the conversions outweigh the booking: against the whole request it is under the floor
    assert whole["restaurant_booking"] < whole["currency.convert"] - gate.parallel_margin
    keep, scores = gate.select(task, specs, parallel=True)
    assert keep == ["currency.convert", "restaurant_booking"]
    assert scores["restaurant_booking"] >= gate.threshold > whole["restaurant_booking"]
    # a request for one call is one part: gated whole
    assert gate.select(task, specs)[0] == ["currency.convert"]


def test_margin_keeps_near_ties_only_and_parallel_settings_apply_to_parallel_requests() -> None:
    scores = {"a": 0.62, "b": 0.55, "c": 0.41, "d": 0.25}
    specs = [ToolSpec(name=n, description=n) for n in scores]
    gate = ToolGate(threshold=0.3, margin=0.1, parallel_threshold=0.2, parallel_margin=0.4)
    gate.scores = lambda task, specs: dict(scores)  # type: ignore[method-assign]
    assert gate.select("x", specs)[0] == ["a", "b"]
    assert gate.select("x", specs, parallel=True)[0] == ["a", "b", "c", "d"]
    plain = ToolGate(threshold=0.3)
    plain.scores = lambda task, specs: dict(scores)  # type: ignore[method-assign]
    assert plain.select("x", specs, parallel=True)[0] == ["a", "b", "c"]


def test_gate_vectors_embed_each_tool_once_and_stay_bounded():
    import numpy as np

    from slmstack.rag.tooldocs import GateVectors, minilm_embed

    seen: list[str] = []

    def embed(texts: list[str]):
        seen.extend(texts)
        return minilm_embed(texts)

    specs = [ToolSpec(name=n, description=d) for n, d in TOOLS.items()]
    cache = GateVectors(embed, size=4)
    first = cache.rows(specs[:3])
    assert len(seen) == 3
    again = cache.rows(specs[:3])  # no new embedding
    assert len(seen) == 3 and all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    cache.rows(specs[3:])  # 3 more: the least recently used drop out, 4 kept
    assert len(seen) == 6 and len(cache._rows) == 4
    cache.rows(specs[:1])  # dropped: embedded again, the same vector
    assert len(seen) == 7 and np.allclose(cache.rows(specs[:1])[0], first[0], atol=1e-6)
    direct = minilm_embed([gate_text(specs[0])])[0]
    assert np.allclose(first[0], direct, atol=1e-6)


def test_a_confident_gate_asks_a_reply_in_words_again_as_a_call() -> None:
    """Asked what a tool is for, a first reply in words is asked again with tool_choice
    required (the words are not kept); a first reply that calls is left alone, and once a tool
    has answered the model may answer in words. Below ``confident``: the words stand."""
    import json

    def multiply(a: int, b: int) -> int:
        """Multiply two integers."""
        return a * b

    call = "<tool_call>" + json.dumps({"name": "multiply", "arguments": {"a": 6, "b": 7}}) \
        + "</tool_call>"
    task = "What is 6 times 7? Multiply them."
    model = ScriptedModel(["It is 41.", call, "42"])
    result = Agent(model, [multiply], tool_gate=ToolGate(confident=0.3)).run(task)
    assert result.answer == "42"
    assert [c.tool_choice for c in model.calls] == ["auto", "required", "auto"]
    assert all("41" not in (m.content or "") for m in model.calls[1].messages)
    retry = [s for s in result.steps if isinstance(s, GuardStep) and s.action == "retry"]
    assert len(retry) == 1 and "asked again" in retry[0].detail
    model = ScriptedModel([call, "42"])
    Agent(model, [multiply], tool_gate=ToolGate(confident=0.3)).run(task)
    assert [c.tool_choice for c in model.calls] == ["auto", "auto"]
    model = ScriptedModel(["It is 41."])
    result = Agent(model, [multiply], tool_gate=ToolGate(confident=0.99)).run(task)
    assert result.answer == "It is 41." and len(model.calls) == 1
