"""BFCL through the agent runtime: each case's functions become *external* tools of an ``Agent``.

The agent runs the case like any task: the model may call (its calls are validated, and invalid
ones are fed back for a bounded number of retries), or answer in words — which is how it
declines when no function fits (BFCL's ``irrelevance``). A run that ends with calls handed to the
caller gives the calls the checker scores; a run that ends with an answer scores as "no call".
Nothing here knows about particular cases: the same runtime settings apply to every category.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from ..agent import Agent, Budgets, ModelStep, RunResult, Tool, ToolGate, default_gate
from ..errors import SlmstackError, UserError
from ..progress import progress as progress_bar
from ..types import ToolCall
from .bfcl import CATEGORIES, BfclCase, BfclReport, CaseRecord, check_case, load_category

__all__ = ["run_bfcl_agent", "run_case_agent"]

Grounding = Literal["off", "decline"]
AGENT_BUDGETS = Budgets(max_steps=3, max_retries=2, max_output_tokens=256)


def run_bfcl_agent(
    model: Any,
    data_dir: str | Path,
    categories: Iterable[str] | str | None = None,
    *,
    limit: int | None = None,
    progress: bool = True,
    budgets: Budgets = AGENT_BUDGETS,
    gate: ToolGate | None | str = "default",
    grounding: Grounding = "decline",
) -> BfclReport:
    """Run ``model`` over BFCL categories through the agent runtime; mode is ``"agent"``.
    ``gate`` and ``grounding`` are the runtime's ways to decline (see ``case_agent``)."""
    if limit is not None and limit < 0:
        raise UserError(f"limit must be ≥ 0, got {limit!r}", "pass a non-negative number or None")
    cats = [categories] if isinstance(categories, str) else list(categories or CATEGORIES)
    cases = [c for cat in cats for c in load_category(data_dir, cat)[:limit]]
    report = BfclReport(model=getattr(model, "name", type(model).__name__), mode="agent")
    tool_gate = default_gate() if gate == "default" else gate
    with progress_bar(progress) as bar:
        task = bar.add_task("BFCL agent", total=len(cases))
        for case in cases:
            bar.update(task, description=f"BFCL agent {case.category}")
            report.records.append(
                run_case_agent(model, case, budgets=budgets, gate=tool_gate, grounding=grounding)
            )
            bar.advance(task)
    return report


def case_agent(
    model: Any,
    case: BfclCase,
    budgets: Budgets = AGENT_BUDGETS,
    gate: ToolGate | None = None,
    grounding: Grounding = "decline",
) -> Agent:
    """The agent for one case: the case's functions as external tools behind the tool gate and
    the grounding check (the runtime's ways to decline); parallel calls allowed where the task
    asks for several at once (the setting a caller would choose)."""
    return Agent(
        model,
        [Tool.external_tool(spec) for spec in case.tools],
        budgets=budgets,
        parallel_tool_calls="parallel" in case.category,
        tool_gate=gate,
        grounding=grounding,
    )


def run_case_agent(
    model: Any,
    case: BfclCase,
    *,
    budgets: Budgets = AGENT_BUDGETS,
    gate: Any = None,
    grounding: Grounding = "decline",
) -> CaseRecord:
    t0 = time.perf_counter()
    try:
        result = case_agent(model, case, budgets, gate, grounding).run(case.messages)
    except SlmstackError as exc:
        return CaseRecord(
            id=case.id, category=case.category, valid=False, error=str(exc), raw_text=None,
            error_type=f"model_error:{type(exc).__name__}", latency_s=time.perf_counter() - t0,
        )
    calls = case_calls(result)
    check = check_case(case, calls)
    return CaseRecord(
        id=case.id,
        category=case.category,
        valid=check.valid,
        error=check.error,
        raw_text=_last_raw(result),
        calls=[{"name": c.name, "arguments": c.arguments} for c in calls],
        error_type=check.error_type if result.done else f"agent:{result.stop_reason}",
        latency_s=result.wall_s,
        input_tokens=result.usage.input_tokens,
        output_tokens=result.usage.output_tokens,
    )


def case_calls(result: RunResult) -> list[ToolCall]:
    """The calls the run handed over (none when it answered, declined, or gave up)."""
    return list(result.pending_calls) if result.stop_reason == "done" else []


def _last_raw(result: RunResult) -> str | None:
    for step in reversed(result.steps):
        if isinstance(step, ModelStep):
            if step.completion is not None:
                return step.completion.raw_text
            return step.error
    return None
