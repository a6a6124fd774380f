"""What a verdict means for a route: ``off | flag | escalate | block`` below a threshold.

The agent runtime and the router call ``apply_policy(verdict, policy)`` after a run; the
returned action says what to do: ``accept`` (or ``skip`` when verification is off), ``flag``
(keep the answer, record the verdict), ``escalate`` (retry on the route's next tier), ``block``
(withhold the answer). A low-confidence verdict (e.g. an empty trace) never blocks on its own:
it is flagged instead, unless ``strict``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from .verdict import Verdict

Mode = Literal["off", "flag", "escalate", "block"]
Action = Literal["skip", "accept", "flag", "escalate", "block"]


class VerifyPolicy(BaseModel):
    mode: Mode = "off"
    threshold: float = Field(0.5, ge=0, le=1)  # integrity scores below this trigger ``mode``
    min_confidence: float = Field(0.25, ge=0, le=1)  # below: flag rather than escalate/block
    strict: bool = False  # act on low-confidence verdicts too

    @classmethod
    def from_route(cls, route: Any) -> VerifyPolicy:
        """From a routing-table ``Route`` (its ``verify`` and ``verify_threshold`` fields)."""
        return cls(mode=getattr(route, "verify", "off"),
                   threshold=getattr(route, "verify_threshold", 0.5))

    @property
    def active(self) -> bool:
        return self.mode != "off"


def apply_policy(verdict: Verdict | None, policy: VerifyPolicy) -> Action:
    if not policy.active or verdict is None:
        return "skip"
    if verdict.score >= policy.threshold:
        return "accept"
    if policy.mode in ("escalate", "block") and not policy.strict \
            and verdict.confidence < policy.min_confidence:
        return "flag"
    return policy.mode


def verdict_record(verdict: Verdict, policy: VerifyPolicy) -> dict[str, Any]:
    """What goes into ``FinalStep.verdict`` / ``TraceStore.record_verdict`` findings."""
    return {"score": verdict.score, "confidence": verdict.confidence,
            "policy": policy.mode, "threshold": policy.threshold,
            "action": apply_policy(verdict, policy), "verifier": verdict.verifier,
            "findings": [f.model_dump(mode="json") for f in verdict.findings]}
