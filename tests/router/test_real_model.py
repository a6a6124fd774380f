"""The router with the real embedded SmolLM2-135M as its small tier (llama.cpp, constrained
decoding), a scripted large tier, and a real SQLite trace store."""

from __future__ import annotations

import pytest

from slmstack.router import build_router
from slmstack.types import Completion, ToolCall, ToolSpec, Usage

from .helpers import LARGE, calls, router_settings
from .test_escalation import ASK, WEATHER

SMOLLM = "embedded:smollm2-135m"
# No integer is both in [31, 39] and a multiple of 10: llama.cpp's grammar enforces the range
# but not multipleOf, so whatever the model writes, argument validation must reject it.
VOLUME = ToolSpec(
    name="set_volume",
    description="Set the speaker volume",
    parameters={
        "type": "object",
        "properties": {"level": {"type": "integer", "minimum": 31, "maximum": 39,
                                 "multipleOf": 10}},
        "required": ["level"],
    },
)


def _settings():
    return router_settings(tiers={"small": SMOLLM, "large": LARGE})


def test_small_model_answers_a_tool_call_and_the_call_is_priced(embedded_model, store) -> None:
    from slmstack.models.scripted import ScriptedModel

    large = ScriptedModel([], name=LARGE)
    router = build_router(_settings(), store=store,
                          models={SMOLLM: embedded_model, LARGE: large})
    comp = router.complete(ASK, tools=[WEATHER], parallel_tool_calls=False, max_tokens=64)
    assert comp.tool_calls and comp.tool_calls[0].name == "get_weather"
    assert "paris" in str(comp.tool_calls[0].arguments.get("city", "")).lower()
    assert large.calls == []
    (rec,) = calls(store)
    assert (rec.model, rec.tier, rec.route, rec.escalated) == (SMOLLM, "small", "tool_call", False)
    assert rec.input_tokens > 50 and rec.output_tokens > 0 and rec.cost_usd > 0


def test_real_invalid_arguments_escalate_with_the_reason(embedded_model, store) -> None:
    from slmstack.models.scripted import ScriptedModel

    fixed = Completion(tool_calls=[ToolCall(name="set_volume", arguments={"level": 30})],
                       model=LARGE, usage=Usage(input_tokens=10, output_tokens=5),
                       finish_reason="tool_calls")
    large = ScriptedModel([fixed], name=LARGE)
    router = build_router(_settings(), store=store,
                          models={SMOLLM: embedded_model, LARGE: large})
    comp = router.complete("Set the volume to 35.", tools=[VOLUME], tool_choice="required",
                           max_tokens=64)
    assert comp.tool_calls[0].arguments == {"level": 30} and len(large.calls) == 1
    small, big = calls(store)
    assert small.model == SMOLLM and small.escalated
    assert small.escalation_reason.startswith("tool_args: invalid call to 'set_volume'")
    assert "multiple of 10" in small.escalation_reason
    assert big.parent_id == small.id and not big.escalated


@pytest.mark.parametrize("stream", [False, True])
def test_free_text_from_the_small_model(embedded_model, stream: bool) -> None:
    router = build_router(_settings(), models={SMOLLM: embedded_model})
    if stream:
        events = list(router.stream("Say hello in one short sentence.", max_tokens=24))
        text = "".join(e.delta for e in events)
        assert text and events[-1].completion.text == text
    else:
        comp = router.complete("Say hello in one short sentence.", max_tokens=24)
        assert comp.text and comp.route == "chat" and comp.attempts[0]["model"] == SMOLLM
