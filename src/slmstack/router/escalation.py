"""When a tier's answer is rejected, and why: schema validation, tool-argument validation, the
backend being down, an empty reply, or the verifier's score under the route's threshold.

The verifier hook has the shape distillation uses (``slmstack.distill.protocols.Verifier``):
``verifier(record, completion) -> score in [0, 1]``, where ``record`` is the ``CallRecord`` of the
call (its ``request`` holds the messages, tools and schema). What a low score does is the route's
``verify`` policy: ``off`` (not called), ``flag`` (recorded), ``escalate`` (retry on the next
tier; the last tier's answer is returned flagged), ``block`` (retry; after the last tier, raise).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import BackendUnavailable, ModelRetry, OutputValidationError, ToolCallError
from ..store.records import CallRecord, Route, new_id
from ..types import Completion

Verifier = Callable[[CallRecord, Completion], float]


class VerificationBlocked(ModelRetry):
    """Every tier's answer scored under the route's verifier threshold (policy ``block``)."""


@dataclass
class Attempt:
    """One tier's try at a request."""

    model: str  # URI
    tier: str  # small | large
    started: float  # unix seconds
    latency_s: float = 0.0  # wall time of the call, failed or not
    completion: Completion | None = None  # also a rejected one, when the error carries it
    error: BaseException | None = None
    reason: str | None = None  # why the answer was rejected; None: accepted
    score: float | None = None  # verifier score, when the route verifies
    record_id: str = field(default_factory=new_id)

    @property
    def ok(self) -> bool:
        return self.reason is None

    def summary(self) -> dict[str, Any]:
        c = self.completion
        return {
            "model": self.model, "tier": self.tier, "ok": self.ok, "reason": self.reason,
            "score": self.score, "call_id": self.record_id,
            "latency_s": round(self.latency_s, 4), "cost_usd": c.cost_usd if c else 0.0,
        }


def escalates(exc: BaseException) -> bool:
    """Errors a larger tier may fix (bad output, backend down); user errors propagate."""
    return isinstance(exc, ModelRetry | BackendUnavailable)


def all_of(*verifiers: Verifier, stop_below: float | None = None) -> Verifier:
    """One verifier from several: the lowest score. Give cheap checks first: once a score is
    under ``stop_below`` (the route's threshold) the later, costlier ones are not run."""

    def combined(record: CallRecord, completion: Completion) -> float:
        low = 1.0
        for verifier in verifiers:
            low = min(low, float(verifier(record, completion)))
            if stop_below is not None and low < stop_below:
                break
        return low

    return combined


def spent(exc: BaseException) -> Completion | None:
    """The rejected completion a ModelRetry carries (``exc.completion``) when the backend attaches
    it, so the failed call's tokens, cost and raw output are recorded too."""
    comp = getattr(exc, "completion", None)
    return comp if isinstance(comp, Completion) else None


def error_reason(exc: BaseException) -> str:
    """``kind: message`` for the record, kind ∈ schema | tool_args | backend | model_retry."""
    if isinstance(exc, OutputValidationError):
        kind = "schema"
    elif isinstance(exc, ToolCallError):
        kind = "tool_args"
    elif isinstance(exc, BackendUnavailable):
        kind = "backend"
    else:
        kind = "model_retry"
    what = getattr(exc, "what", str(exc))
    return f"{kind}: {what}"[:500]


def reply_problem(comp: Completion) -> str | None:
    """A reply with neither text nor tool calls answers nothing."""
    if comp.tool_calls or (comp.text or "").strip() or comp.parsed is not None:
        return None
    return f"empty: the model returned no text and no tool calls (finish {comp.finish_reason!r})"


def score_reason(score: float, route: Route) -> str | None:
    if route.verify in ("escalate", "block") and score < route.verify_threshold:
        return f"verifier: score {score:.3f} < threshold {route.verify_threshold:g}"
    return None


def blocked(attempts: list[Attempt]) -> VerificationBlocked:
    scores = ", ".join(f"{a.model}: {a.score:.3f}" for a in attempts if a.score is not None)
    return VerificationBlocked(
        f"every tier's answer failed verification ({scores})",
        "the route's policy is 'block'; lower verify_threshold or add a stronger tier",
    )
