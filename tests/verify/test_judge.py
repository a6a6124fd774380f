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
