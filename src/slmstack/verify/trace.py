"""The verifier's input: a question, the reasoning steps, what tools returned, the evidence
retrieved and the answer — built from agent step records, a recorded call, or a GSM8K solution."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, Field

MAX_STEPS = 256  # steps past this are not checked (the verdict says so)
MAX_STEP_CHARS = 4_000  # characters of one step, tool result or passage that are checked
ANNOTATION = re.compile(r"<<([^<>]{0,600})>>")


class ToolResult(BaseModel):
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    output: str = ""
    ok: bool = True
    id: str | None = None


class Evidence(BaseModel):
    """A retrieved passage. ``id`` is how steps cite it: ``[id]`` or its ``citation`` label."""

    id: str
    text: str
    citation: str = ""  # e.g. "[handbook.pdf:3]" as the knowledge base writes it


class Trace(BaseModel):
    question: str = ""
    steps: list[str] = Field(default_factory=list)
    tool_results: list[ToolResult] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)
    answer: str = ""
    meta: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def from_gsm8k(cls, question: str, solution: str, **meta: Any) -> Trace:
        """A GSM8K reference-style solution: one step per line, ``#### value`` the answer."""
        body, _, answer = solution.partition("####")
        steps = [line.strip() for line in body.splitlines() if line.strip()]
        return cls(question=question, steps=steps, answer=answer.strip(), meta=meta)

    @classmethod
    def from_steps(cls, records: Sequence[Any]) -> Trace:
        """From an agent run's step records (``RunResult.steps`` or what ``on_step`` saw):
        the task is the first user message, each line of the model's text is a step, tool
        steps are tool results (knowledge-base passages also become evidence), and the final
        record's answer is the answer."""
        from .agent_records import trace_from_records

        return trace_from_records(records)

    @classmethod
    def from_call(cls, request: dict[str, Any], response_text: str) -> Trace:
        """From one recorded model call (OpenAI-shaped request, the reply's text)."""
        from .agent_records import trace_from_call

        return trace_from_call(request, response_text)

    def text_size(self) -> int:
        parts = [self.question, self.answer, *self.steps]
        parts += [t.output for t in self.tool_results] + [e.text for e in self.evidence]
        return sum(len(p) for p in parts)


@lru_cache(maxsize=4096)
def plain(step: str) -> str:
    """A step without GSM8K ``<<expr=value>>`` annotations (what a reader sees). Cached: each
    check and each feature of a step reads it."""
    return ANNOTATION.sub("", step)


def answer_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, default=str)
    except (TypeError, ValueError):
        return str(value)
