"""The self-consistency verifier: samples that agree with the answer keep it on the small tier."""

from __future__ import annotations

import pytest

from slmstack.errors import UserError
from slmstack.router import build_router
from slmstack.router.consistency import AgreementVerifier, final_number, text_agreement

from .helpers import LARGE, SMALL, calls, router_settings, tiers
from .test_escalation import ASK, GOOD_CALL, WEATHER

OTHER_CALL = '{"tool_calls": [{"name": "get_weather", "arguments": {"city": "Lyon"}}]}'
VERIFIED = {"routes": {
    kind: {"model": "small", "fallbacks": ["large"], "verify": "escalate",
           "verify_threshold": 0.5} for kind in ("chat", "tool_call")}}


@pytest.mark.parametrize(("a", "b", "same"), [
    ("So she makes $18 every day.", "The answer is 18.", True),
    ("It costs 1,250 dollars", "1250.0", True),
    ("about 12", "about 13", False),
    ("Paris", " paris ", True),
    ("Paris", "Lyon", False),
])
def test_text_agreement(a: str, b: str, same: bool) -> None:
    assert text_agreement(a, b) is same


def test_final_number() -> None:
    assert final_number("3 apples and 4 pears: 7") == "7" and final_number("none") is None


def test_agreeing_samples_keep_the_answer_on_the_small_tier(store) -> None:
    models = tiers([GOOD_CALL, GOOD_CALL, GOOD_CALL], [])
    verifier = AgreementVerifier(models, samples=2, store=store)
    router = build_router(router_settings(**VERIFIED), store=store, models=models,
                          verifier=verifier)
    comp = router.complete(ASK, tools=[WEATHER])
    assert comp.attempts[0]["score"] == 1.0 and not comp.escalated
    assert [c.temperature for c in models[SMALL].calls] == [0.0, 0.7, 0.7]
    answered, *samples = sorted(calls(store), key=lambda r: r.shadow_of is not None)
    assert [s.shadow_of for s in samples] == [answered.id] * 2 and verifier.calls == 2
    assert store.report().small_share == 1.0  # verification samples answer no one


def test_disagreeing_samples_escalate(store) -> None:
    models = tiers([GOOD_CALL, OTHER_CALL, OTHER_CALL], [GOOD_CALL])
    router = build_router(router_settings(**VERIFIED), store=store, models=models,
                          verifier=AgreementVerifier(models, samples=2))
    comp = router.complete(ASK, tools=[WEATHER])
    assert comp.escalated and comp.attempts[0]["score"] == 0.0
    assert models[LARGE].calls and calls(store)[0].escalation_reason.startswith("verifier:")


def test_free_text_compares_final_numbers() -> None:
    models = tiers(["2 + 2 = 4", "It is 4.", "Maybe 5"], [])
    verifier = AgreementVerifier(models, samples=2)
    router = build_router(router_settings(**VERIFIED), models=models, verifier=verifier)
    assert router.complete("What is 2 + 2?").attempts[0]["score"] == 0.5


def test_samples_must_be_positive() -> None:
    with pytest.raises(UserError, match="samples must be"):
        AgreementVerifier({}, samples=0)
