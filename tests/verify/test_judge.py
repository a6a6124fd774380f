"""The LLM-judge baseline runs the real embedded model (SmolLM2-135M)."""

from __future__ import annotations

from slmstack.verify.judge import llm_judge
from slmstack.verify.trace import Trace


def test_judge_returns_a_verdict(embedded_model):
    t = Trace(question="Tom has 48 marbles and gives away half. How many are left?",
              steps=["He gives away 48 / 2 = 24.", "He has 48 - 24 = 24 left."], answer="24")
    v = llm_judge(embedded_model, t)
    assert v.verifier.startswith("judge:") and v.score in (0.0, 1.0)
    assert len(v.step_scores) in (0, 2)


def test_a_reply_that_is_no_verdict_counts_as_flawed_not_a_crash():
    # a judge whose reply breaks the schema (a step number past the maximum) gives a verdict of
    # no confidence, as an unreadable reply does; the benchmark used to stop on it
    from slmstack.models.scripted import ScriptedModel

    t = Trace(question="q", steps=["a", "b"], answer="1")
    model = ScriptedModel(['{"verdict": "flawed", "step": 130}', "not json at all"])
    for _ in range(2):
        v = llm_judge(model, t)
        assert v.score == 0.0 and v.confidence == 0.0
        assert v.findings[0].where == "trace" and v.verifier == "judge:scripted"
