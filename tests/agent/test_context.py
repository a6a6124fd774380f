"""Context folding: a long multi-step task on a model with a small context keeps the evidence it
cites verbatim, drops the rest, and never cuts the newest result."""

from __future__ import annotations

import re

from slmstack.agent import Agent, Budgets, GuardStep, ModelStep
from slmstack.agent.context import ContextFull, estimate_tokens, fit, transcript_tokens
from slmstack.models.base import Request
from slmstack.models.catalog import ModelProfile
from slmstack.models.scripted import ScriptedModel
from slmstack.types import Completion, Message, ToolCall, Usage

CODES = {2: 17, 4: 5, 6: 31, 8: 2}
PAGES = 9
FILLER = "This page only has background prose about the archive and its history. " * 20


def read_page(n: int) -> str:
    """Read one page of the archive.

    Args:
        n: page number, from 1
    """
    return f"Fact {n}: the code is {CODES[n]}." if n in CODES else f"Page {n}. {FILLER}"


def _researcher(req: Request) -> Completion:
    """Reads pages 1..9 one per turn, citing (by id) each result that held a code, then sums
    every code it can still see."""
    text = "\n".join(m.content or "" for m in req.messages)
    results = re.findall(r"Result of read_page \[(call_\w+)\]:\n(.*)", text)
    asked = len(re.findall(r'"name": "read_page"', text)) + len(re.findall(r"read_page\(\{", text))
    cite = ""
    if results and "the code is" in results[-1][1]:
        cite = f"Noted [{results[-1][0]}]."
    usage = Usage(input_tokens=transcript_tokens(req.messages, estimate_tokens), output_tokens=9)
    if asked >= PAGES:
        codes = [int(c) for c in re.findall(r"Fact \d+: the code is (\d+)\.", text)]
        return Completion(text=f"The codes add up to {sum(codes)}.", usage=usage)
    call = ToolCall(name="read_page", arguments={"n": asked + 1})
    return Completion(text=cite or None, tool_calls=[call], usage=usage, finish_reason="tool_calls")


def test_long_task_on_small_context_keeps_cited_evidence() -> None:
    model = ScriptedModel([_researcher], repeat_last=True, profile=ModelProfile(
        name="tiny", context_length=1100, can_constrain=True))
    agent = Agent(model, [read_page], budgets=Budgets(max_steps=20, max_output_tokens=100))
    result = agent.run("Read every page of the archive and add up all the codes.")

    assert result.stop_reason == "done"
    assert result.answer == f"The codes add up to {sum(CODES.values())}."
    model_steps = [s for s in result.steps if isinstance(s, ModelStep)]
    assert len(model_steps) == PAGES + 1
    for step in model_steps:  # every request fits the window
        assert transcript_tokens(step.messages, estimate_tokens) + 100 <= 1100
    folds = [s for s in result.steps if isinstance(s, GuardStep) and s.action == "fold"]
    assert folds, "the task must not fit without folding"
    by_id = {s.call.id: s for s in result.tool_steps}
    kept = {i for f in folds for i in f.kept}
    dropped = {i for f in folds for i in f.dropped}
    assert kept and all("the code is" in by_id[i].output for i in kept)
    assert dropped and all("background prose" in by_id[i].output for i in dropped)
    # the newest result always reaches the model whole
    for step, tool_step in zip(model_steps[1:], result.tool_steps, strict=True):
        assert step.messages[-1].content == tool_step.output
    # the unfolded transcript loses nothing
    assert [m.content for m in result.messages if m.role == "tool"] == [
        s.output for s in result.tool_steps
    ]


def test_fit_leaves_small_transcripts_alone_and_never_cuts_the_newest_result() -> None:
    msgs = [Message.system("s"), Message.user("task")]
    assert fit(msgs, 100).messages == msgs
    big = ToolCall(name="read_page", arguments={"n": 1})
    msgs += [Message.assistant(None, [big]), Message.tool("x" * 3000, big.id, "read_page")]
    try:
        fit(msgs, 200)
    except ContextFull as exc:
        assert "200 tokens" in str(exc)
    else:  # pragma: no cover - the assertion below explains
        raise AssertionError("a result larger than the window must not be truncated")


def test_result_larger_than_the_window_stops_with_max_tokens() -> None:
    def dump() -> str:
        """Dump everything."""
        return "word " * 3000

    model = ScriptedModel(['{"tool_calls": [{"name": "dump", "arguments": {}}]}'],
                          profile=ModelProfile(name="tiny", context_length=900, can_constrain=True))
    result = Agent(model, [dump]).run("dump it")
    assert result.stop_reason == "max_tokens" and "context window full" in result.detail
    assert result.answer[0]["result"] == "word " * 3000  # the partial result is whole
