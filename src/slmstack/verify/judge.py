"""The LLM-judge baseline: a chat model asked to grade a trace (what the distilled verifier is
measured against). The judge must not be the model that wrote the trace."""

from __future__ import annotations

import json
from typing import Any

from ..errors import OutputValidationError
from ..models.prompts import template
from ..types import Message
from .trace import Trace, plain
from .verdict import Finding, Verdict

SCHEMA = {
    "type": "object",
    "properties": {"verdict": {"type": "string", "enum": ["correct", "flawed"]},
                   "step": {"type": "integer", "minimum": 1, "maximum": 64}},
    "required": ["verdict"],
}


def judge_messages(trace: Trace) -> list[Message]:
    steps = "\n".join(f"{i}. {plain(s)}" for i, s in enumerate(trace.steps, 1))
    user = template("verify_judge_user").format(question=trace.question, steps=steps,
                                                answer=trace.answer)
    return [Message.system(template("verify_judge").strip()), Message.user(user)]


def llm_judge(model: Any, trace: Trace, max_tokens: int = 24) -> Verdict:
    """Ask ``model`` (a ChatModel) for a verdict, with the reply constrained to SCHEMA."""
    try:
        comp = model.complete(judge_messages(trace), schema=SCHEMA, max_tokens=max_tokens,
                              temperature=0.0)
        name, text = comp.model, comp.text
        reply = json.loads(text or "{}")
    except OutputValidationError as exc:  # a reply that is no verdict counts as "flawed"
        name, text, reply = getattr(model, "name", "model"), str(exc), {}
    except ValueError:
        reply = {}
    if reply.get("verdict") == "correct":
        return Verdict(score=1.0, confidence=0.5, verifier=f"judge:{name}")
    step = reply.get("step")
    idx = step - 1 if isinstance(step, int) and 0 < step <= len(trace.steps) else None
    return Verdict(score=0.0, confidence=0.5 if reply else 0.0, verifier=f"judge:{name}",
                   step_scores=[0.0 if i == idx else 1.0 for i in range(len(trace.steps))],
                   findings=[Finding(step=idx, where="step" if idx is not None else "trace",
                                     kind="judge", severity="error",
                                     explanation=f"the judge says: {text!r:.120}")])
