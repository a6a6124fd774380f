"""Escalation control flow with scripted tiers: what is rejected, retried and recorded."""

from __future__ import annotations

import pytest

from slmstack.errors import BackendUnavailable, OutputValidationError, ToolCallError, UserError
from slmstack.models.base import ChatModel
from slmstack.router import VerificationBlocked, build_router
from slmstack.types import Completion, Message, ToolSpec, Usage

from .helpers import LARGE, SMALL, calls, router_settings, tiers

WEATHER = ToolSpec(
    name="get_weather",
    description="Weather forecast for a city",
    parameters={
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "days": {"type": "integer", "minimum": 1, "maximum": 7},
        },
        "required": ["city"],
    },
)
GOOD_CALL = '{"tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris", "days": 2}}]}'
BAD_CALL = '{"tool_calls": [{"name": "get_weather", "arguments": {"days": 30}}]}'
PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
}
ASK = [Message.user("What's the weather in Paris for the next two days?")]


def test_router_is_a_chat_model() -> None:
    router = build_router(router_settings(), models=tiers([], []))
    assert isinstance(router, ChatModel)
    assert router.name == "slmstack/auto"


def test_small_answer_that_passes_is_not_escalated(store) -> None:
    models = tiers([GOOD_CALL], [])
    router = build_router(router_settings(), store=store, models=models)
    comp = router.complete(ASK, tools=[WEATHER])
    assert comp.tool_calls[0].arguments == {"city": "Paris", "days": 2}
    assert comp.route == "tool_call" and comp.kind_source == "structure"
    assert [a["model"] for a in comp.attempts] == [SMALL]
    assert models[LARGE].calls == []
    (rec,) = calls(store)
    assert (rec.model, rec.tier, rec.route, rec.escalated) == (SMALL, "small", "tool_call", False)
    assert rec.request["tools"][0]["function"]["name"] == "get_weather"
    assert rec.response["tool_calls"][0]["arguments"]["city"] == "Paris"
    assert rec.request["metadata"]["attempt"] == 0


def test_invalid_tool_arguments_escalate_to_the_next_tier_and_say_why(store) -> None:
    models = tiers([BAD_CALL], [GOOD_CALL])
    router = build_router(router_settings(), store=store, models=models)
    comp = router.complete(ASK, tools=[WEATHER], task_id="t1")
    assert comp.tool_calls[0].arguments["city"] == "Paris"
    assert comp.escalated and [a["tier"] for a in comp.attempts] == ["small", "large"]
    small, large = calls(store)
    assert small.escalated and small.escalation_reason.startswith("tool_args:")
    assert "'city'" in small.escalation_reason
    assert (large.model, large.tier, large.escalated) == (LARGE, "large", False)
    assert large.parent_id == small.id and {small.task_id, large.task_id} == {"t1"}
    assert comp.usage.input_tokens == small.input_tokens + large.input_tokens
    assert comp.cost_usd == pytest.approx(small.cost_usd + large.cost_usd)


def test_schema_failure_escalates(store) -> None:
    router = build_router(router_settings(), store=store,
                          models=tiers(['{"name": "Ann"}'], ['{"name": "Ann", "age": 41}']))
    comp = router.complete([Message.user("Ann is 41.")], schema=PERSON)
    assert comp.parsed == {"name": "Ann", "age": 41} and comp.route == "extract"
    first, _ = calls(store)
    assert first.escalation_reason.startswith("schema:") and "age" in first.escalation_reason


def test_backend_down_falls_back(store) -> None:
    down = BackendUnavailable("connection refused by 127.0.0.1:9", "start the server")
    router = build_router(router_settings(), store=store, models=tiers([down], ["Hello!"]))
    assert router.complete("hi").text == "Hello!"
    first, second = calls(store)
    assert first.escalation_reason.startswith("backend:") and "BackendUnavailable" in first.error
    assert second.error is None and not second.escalated


def test_empty_reply_escalates(store) -> None:
    router = build_router(router_settings(), store=store, models=tiers(["  "], ["Paris."]))
    assert router.complete("Capital of France?").text == "Paris."
    assert calls(store)[0].escalation_reason.startswith("empty:")


def _verified(policy: str) -> dict:
    return {"routes": {"chat": {"model": "small", "fallbacks": ["large"], "verify": policy,
                                "verify_threshold": 0.5}}}


def _by_model(record, completion) -> float:
    return 0.9 if record.model == LARGE and "4" in (completion.text or "") else 0.2


def test_verifier_below_threshold_escalates_and_is_recorded(store) -> None:
    router = build_router(router_settings(**_verified("escalate")), store=store,
                          models=tiers(["5"], ["4"]), verifier=_by_model)
    comp = router.complete("What is 2 + 2?")
    assert comp.text == "4"
    first, second = calls(store)
    assert first.escalated and first.escalation_reason == "verifier: score 0.200 < threshold 0.5"
    # the last tier is not verified under 'escalate': it answers whatever it would score
    assert (first.verdict_score, second.verdict_score) == (0.2, None)
    (verdict,) = store.verdicts()
    assert verdict["target_id"] == first.id and verdict["findings"]["action"] == "escalate"


def test_flag_policy_records_the_score_but_answers(store) -> None:
    models = tiers(["5"], [])
    router = build_router(router_settings(**_verified("flag")), store=store, models=models,
                          verifier=_by_model)
    assert router.complete("What is 2 + 2?").text == "5"
    (rec,) = calls(store)
    assert rec.verdict_score == 0.2 and not rec.escalated and models[LARGE].calls == []


def test_block_policy_verifies_the_last_tier_too(store) -> None:
    router = build_router(router_settings(**_verified("block")), store=store,
                          models=tiers(["5"], ["4"]), verifier=_by_model)
    assert router.complete("What is 2 + 2?").text == "4"
    assert [(r.escalated, r.verdict_score) for r in calls(store)] == [(True, 0.2), (False, 0.9)]


def test_block_policy_raises_when_every_tier_fails_verification(store) -> None:
    router = build_router(router_settings(**_verified("block")), store=store,
                          models=tiers(["5"], ["6"]), verifier=_by_model)
    with pytest.raises(VerificationBlocked, match="failed verification"):
        router.complete("What is 2 + 2?")
    assert len(calls(store)) == 2


def test_every_tier_failing_raises_with_each_reason(store) -> None:
    router = build_router(router_settings(), store=store, models=tiers([BAD_CALL], [BAD_CALL]))
    with pytest.raises(ToolCallError) as info:
        router.complete(ASK, tools=[WEATHER], tool_choice="required")
    assert SMALL in str(info.value) and LARGE in str(info.value)
    small, large = calls(store)
    assert small.escalated and not large.escalated and large.error is not None


def test_user_errors_are_not_escalated(store) -> None:
    models = tiers([GOOD_CALL], [GOOD_CALL])
    router = build_router(router_settings(), store=store, models=models)
    with pytest.raises(UserError, match="names no offered tool"):
        router.complete(ASK, tools=[WEATHER], tool_choice="get_forecast")
    assert models[LARGE].calls == []
    (rec,) = calls(store)
    assert not rec.escalated and "UserError" in rec.error


def test_bad_input_is_refused_before_any_model_call() -> None:
    models = tiers([], [])
    router = build_router(router_settings(), models=models)
    with pytest.raises(UserError, match="max_tokens must be"):
        router.complete("hi", max_tokens=0)
    with pytest.raises(UserError, match="JSON Schema"):
        router.complete("hi", schema={"type": "no-such-type"})
    assert models[SMALL].calls == []


def test_works_without_a_store() -> None:
    router = build_router(router_settings(), models=tiers([BAD_CALL], [GOOD_CALL]))
    assert not router.records_calls
    assert router.complete(ASK, tools=[WEATHER]).tool_calls[0].arguments["city"] == "Paris"


def test_route_constraints_cap_max_tokens() -> None:
    settings = router_settings(routes={"chat": {"model": "small", "constraints": {
        "max_tokens": 16, "temperature": 0.3}}})
    models = tiers(["ok"], [])
    build_router(settings, models=models).complete("hi", max_tokens=200)
    assert (models[SMALL].calls[0].max_tokens, models[SMALL].calls[0].temperature) == (16, 0.3)


def test_a_rejected_completion_carried_by_the_error_is_recorded_and_paid_for(store) -> None:
    rejected = Completion(text="nonsense", usage=Usage(input_tokens=40, output_tokens=9),
                          cost_usd=0.25, model=SMALL)
    error = OutputValidationError("reply does not match the schema", "retry")
    error.completion = rejected  # what a backend attaches to a ModelRetry it raises

    router = build_router(router_settings(), store=store,
                          models=tiers([error], ['{"name": "Ann", "age": 41}']))
    comp = router.complete("Ann is 41.", schema=PERSON)
    first, second = calls(store)
    assert (first.input_tokens, first.output_tokens, first.cost_usd) == (40, 9, 0.25)
    assert first.response["text"] == "nonsense"
    assert comp.usage.input_tokens == 40 + second.input_tokens
    assert comp.cost_usd == pytest.approx(0.25 + second.cost_usd)


def test_content_can_be_kept_out_of_the_store_but_not_from_the_verifier(store) -> None:
    seen = []

    def verifier(record, completion) -> float:
        seen.append(record.request["messages"][-1]["content"])
        return 1.0

    settings = router_settings(record_content=False, **_verified("escalate"))
    router = build_router(settings, store=store, models=tiers(["4"], []), verifier=verifier)
    assert router.complete("What is 2 + 2?").text == "4"
    (rec,) = calls(store)
    assert seen == ["What is 2 + 2?"] and rec.response == {} and "messages" not in rec.request
    assert (rec.route, rec.verdict_score) == ("chat", 1.0) and rec.output_tokens > 0
