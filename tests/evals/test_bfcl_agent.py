"""BFCL through the agent runtime: external tools, declining, retries after invalid calls."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from slmstack.errors import ToolCallError, UserError
from slmstack.evals.bfcl import CATEGORIES, BfclCase, answer_calls, load_category
from slmstack.evals.bfcl_agent import case_agent, run_bfcl_agent
from slmstack.models.catalog import ModelProfile
from slmstack.types import Completion, Message, ToolCall, Usage

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "bfcl"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"BFCL data not at {DATA}")


class Oracle:
    """Answers each question from its ground truth (calls, or words for irrelevance); the first
    ``bad_first`` replies per case are an invalid call, as a small model's might be."""

    name = "oracle"
    profile = ModelProfile(name="oracle", context_length=8192)

    def __init__(self, cases: list[BfclCase], bad_first: int = 0) -> None:
        self.by_question = {c.messages[-1].content: c for c in cases}
        self.bad_first = bad_first
        self.seen: dict[str, int] = {}
        self.requests: list[dict[str, Any]] = []

    def complete(self, messages: list[Message], **kw: Any) -> Completion:
        self.requests.append({"messages": messages, **kw})
        question = next(m.content for m in messages if m.role == "user")
        case = self.by_question[question]
        self.seen[case.id] = self.seen.get(case.id, 0) + 1
        if self.seen[case.id] <= self.bad_first:
            raise ToolCallError(f"call to 'nope' for {case.id!r} is not an offered tool", "retry")
        usage = Usage(input_tokens=10, output_tokens=5)
        if case.ground_truth is None:
            return Completion(text="None of these functions fits.", usage=usage)
        calls = answer_calls(case.ground_truth, case.functions)
        return Completion(tool_calls=calls, usage=usage, finish_reason="tool_calls")


def _cases(limit: int) -> list[BfclCase]:
    return [c for cat in CATEGORIES for c in load_category(DATA, cat)[:limit]]


@needs_data
def test_oracle_scores_everything_through_the_runtime() -> None:
    model = Oracle(_cases(6))
    report = run_bfcl_agent(model, DATA, CATEGORIES, limit=6, progress=False, gate=None,
                            grounding="off")
    assert report.mode == "agent" and set(report.categories) == set(CATEGORIES)
    assert all(s.accuracy == 1.0 and s.n == 6 for s in report.categories.values())
    for req in model.requests:
        assert req["tool_choice"] == "auto" and req["tools"]
    assert {r["parallel_tool_calls"] for r in model.requests} == {True, False}
    json.dumps(report.to_json())


@needs_data
def test_invalid_first_calls_are_retried() -> None:
    cases = _cases(3)
    report = run_bfcl_agent(Oracle(cases, bad_first=1), DATA, CATEGORIES, limit=3,
                            progress=False, gate=None, grounding="off")
    assert report.overall_accuracy == 1.0  # the runtime fed the error back and the retry scored
    no_retry = run_bfcl_agent(Oracle(cases, bad_first=5), DATA, ["multiple"], limit=3,
                              progress=False, gate=None)
    assert no_retry.overall_accuracy == 0.0
    assert {r.error_type for r in no_retry.records} == {"agent:error"}


@needs_data
def test_case_agent_offers_the_case_functions_as_external_tools() -> None:
    case = load_category(DATA, "parallel_multiple")[0]
    agent = case_agent(Oracle([case]), case, grounding="off")
    assert [s.name for s in agent.tools.specs()] == [t.name for t in case.tools]
    assert all(t.external for t in agent.tools)
    result = agent.run(case.messages)
    assert result.stop_reason == "done"
    assert [c.name for c in result.pending_calls] == [
        c.name for c in answer_calls(case.ground_truth, case.functions)
    ]
    assert isinstance(result.pending_calls[0], ToolCall)


def test_bad_limit() -> None:
    with pytest.raises(UserError, match="limit"):
        run_bfcl_agent(object(), DATA, ["simple_python"], limit=-1)


class AlwaysCalls(Oracle):
    """A model that never declines: it calls the first offered tool whenever it has tools."""

    def complete(self, messages: list[Message], **kw: Any) -> Completion:
        self.requests.append({"messages": messages, **kw})
        if not kw.get("tools"):
            return Completion(text="I cannot help with that.")
        return Completion(tool_calls=[ToolCall(name=kw["tools"][0].name, arguments={})])


@needs_data
def test_the_tool_gate_lets_a_model_that_never_declines_decline() -> None:
    cases = load_category(DATA, "irrelevance")[:20]
    gated = run_bfcl_agent(AlwaysCalls(cases), DATA, ["irrelevance"], limit=20, progress=False)
    ungated = run_bfcl_agent(AlwaysCalls(cases), DATA, ["irrelevance"], limit=20,
                             progress=False, gate=None)
    assert ungated.overall_accuracy == 0.0
    declined = [r for r in gated.records if r.valid]
    assert declined and all(r.calls == [] for r in declined)
    assert gated.overall_accuracy > 0.2


class Inventor(Oracle):
    """Calls the right function of each case, but with a made-up value in every argument."""

    def complete(self, messages: list[Message], **kw: Any) -> Completion:
        self.requests.append({"messages": messages, **kw})
        case = self.by_question[next(m.content for m in messages if m.role == "user")]
        if not kw.get("tools"):
            return Completion(text="I cannot help with that.")
        calls = []
        for call in answer_calls(case.ground_truth, case.functions):
            made_up = {k: _invent(v) for k, v in call.arguments.items()}
            calls.append(ToolCall(name=call.name, arguments=made_up))
        return Completion(tool_calls=calls)


def _invent(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return 987654.25 if isinstance(value, float) else 987654
    if isinstance(value, str):
        return "Zanzibar Quokka"
    if isinstance(value, list):
        return [_invent(v) for v in value] or ["Zanzibar Quokka"]
    return value


@needs_data
def test_grounding_declines_calls_with_made_up_values_and_keeps_real_ones() -> None:
    cases = load_category(DATA, "simple_python")[:10]
    invented = run_bfcl_agent(Inventor(cases), DATA, ["simple_python"], limit=10,
                              progress=False, gate=None)
    assert all(r.calls == [] for r in invented.records)  # every call declined
    off = run_bfcl_agent(Inventor(cases), DATA, ["simple_python"], limit=10, progress=False,
                         gate=None, grounding="off")
    assert all(r.calls for r in off.records)
    real = run_bfcl_agent(Oracle(cases), DATA, ["simple_python"], limit=10, progress=False,
                          gate=None)
    assert real.overall_accuracy >= 0.9  # values taken from the question pass the check
