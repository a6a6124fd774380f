from __future__ import annotations

import pytest

from slmstack.agent.records import FinalStep, ModelStep, ToolStep
from slmstack.errors import UserError
from slmstack.types import Completion, Message, ToolCall
from slmstack.verify import ProcessVerifier, Trace, VerifyPolicy, apply_policy, verify

RULES = ProcessVerifier(None)


def test_empty_trace_is_a_zero_confidence_verdict():
    v = RULES.verify(Trace())
    assert v.score == 0 and v.confidence == 0 and v.findings[0].kind == "input"


@pytest.mark.parametrize("steps", [
    ["lorem ipsum dolor sit amet"] * 5,
    ["compute 9**9**9 = 1"],
    ["(" * 4000 + "1" + ")" * 4000 + " = 1"],
    ["1+" * 200_000 + "1 = 3"],
    ["x" * 1_000_000],
    ["12 " * 300_000],
])
def test_garbage_gives_a_verdict_not_a_crash(steps):
    v = RULES.verify(Trace(question="what?", steps=steps, answer="1"))
    assert 0 <= v.score <= 1 and 0 <= v.confidence <= 1


def test_a_megabyte_trace_is_clipped_and_says_so():
    v = RULES.verify(Trace(question="q " * 500_000, steps=["2 + 2 = 4"], answer="4"))
    assert any(f.kind == "input" and "checked" in f.explanation for f in v.findings)
    assert v.confidence < 0.5


def test_adversarial_expression_is_reported_not_evaluated():
    v = RULES.verify(Trace(question="Take 9.", steps=["So 9**9**9 = 5"], answer="5"))
    assert any(f.kind == "arithmetic" and f.severity == "warning" for f in v.findings)


@pytest.mark.parametrize("bad", ["a string", 42, {"steps": "not a list"}, [1, 2]])
def test_wrong_input_types_are_clear_errors(bad):
    with pytest.raises(UserError) as exc:
        RULES.verify(bad)
    assert repr(str(bad))[1:20] in str(exc.value) or type(bad).__name__ in str(exc.value)


def test_flawed_trace_scores_low_and_sound_one_high():
    q = "Natalia sold clips to 48 of her friends in April, and 13 fewer in May."
    sound = RULES.verify(Trace(question=q, steps=["48-13 = 35 in May", "48+35 = 83 in all"],
                               answer="83"))
    flawed = RULES.verify(Trace(question=q, steps=["48-13 = 36 in May", "48+35 = 83 in all"],
                                answer="83"))
    assert sound.score >= 0.5 > flawed.score
    assert flawed.flawed_steps == [0, 1]


def _run_records(answer_text: str, tool_output: str) -> list:
    call = ToolCall(name="get_price", arguments={"item": "book"})
    return [
        ModelStep(index=0, messages=[Message.user("A book costs what get_price says. "
                                                  "What do 3 books cost?")],
                  completion=Completion(model="m", text="", tool_calls=[call])),
        ToolStep(index=1, call=call, output=tool_output),
        ModelStep(index=2, messages=[], completion=Completion(model="m", text=answer_text)),
        FinalStep(index=3, stop_reason="done", answer=answer_text.splitlines()[-1]),
    ]


def test_agent_step_records_become_a_trace_and_the_tool_value_is_checked():
    good = _run_records("Each book is 12.\n3 * 12 = 36\nThey cost 36.", '{"price": 12}')
    bad = _run_records("Each book is 12.\n3 * 12 = 36\nThey cost 36.", '{"price": 15}')
    t = Trace.from_steps(good)
    assert t.question.startswith("A book") and t.tool_results[0].name == "get_price"
    assert t.answer == "They cost 36." and "3 * 12 = 36" in t.steps
    assert RULES.score_steps(good) >= 0.5 > RULES.score_steps(bad)


def test_policy_actions():
    low = RULES.verify(Trace(question="2 and 3", steps=["2 + 3 = 6"], answer="6"))
    high = RULES.verify(Trace(question="2 and 3", steps=["2 + 3 = 5"], answer="5"))
    empty = RULES.verify(Trace())
    assert apply_policy(low, VerifyPolicy(mode="off")) == "skip"
    assert apply_policy(high, VerifyPolicy(mode="block")) == "accept"
    assert apply_policy(low, VerifyPolicy(mode="flag")) == "flag"
    assert apply_policy(low, VerifyPolicy(mode="escalate")) == "escalate"
    assert apply_policy(low, VerifyPolicy(mode="block")) == "block"
    assert apply_policy(empty, VerifyPolicy(mode="block")) == "flag"
    assert apply_policy(empty, VerifyPolicy(mode="block", strict=True)) == "block"


def test_policy_from_a_route():
    from slmstack.store.records import Route

    p = VerifyPolicy.from_route(Route(model="m", verify="escalate", verify_threshold=0.7))
    assert p.mode == "escalate" and p.threshold == 0.7


def test_module_level_verify_uses_the_default_verifier():
    v = verify({"question": "4 apples and 5 more", "steps": ["4 + 5 = 9"], "answer": "9"})
    assert v.score >= 0.5 and v.checked == 1


def test_a_run_result_dumped_to_json_is_verified():
    records = _run_records("Each book is 12.\n3 * 12 = 36\nThey cost 36.", '{"price": 12}')
    dumped = {"answer": "They cost 36.", "steps": [r.model_dump(mode="json") for r in records]}
    v = RULES.verify(dumped)
    assert v.checked == 1 and v.score >= 0.5
