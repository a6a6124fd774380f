"""Where a verifier plugs into the loop (the verifier itself lives in ``slmstack.verify``).

A verifier is any callable over the run's step records that returns a score in [0, 1] or a full
``slmstack.verify.Verdict`` (a ``ProcessVerifier`` instance plugs in as it is: its findings and
confidence go into the record, and a low-confidence verdict only flags, see
``verify.policy``). The policy says what a low score means: ``off`` (never call it), ``flag``
(record the verdict), ``escalate`` (record it and mark the run for a larger tier — the router
acts on that), ``block`` (record it and withhold the answer: the run's ``answer`` is None and its
``detail`` says why). This module computes the verdict record; the loop withholds a blocked
answer; acting on ``escalate`` is the router's job.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

VerifierPolicy = Literal["off", "flag", "escalate", "block"]
Verifier = Callable[[Sequence[Any]], Any]  # → float score, or a verify.Verdict


class VerifierHook(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    verifier: Verifier | None = None
    policy: VerifierPolicy = "off"
    threshold: float = Field(0.5, ge=0, le=1)  # scores below this trigger the policy

    @property
    def active(self) -> bool:
        return self.verifier is not None and self.policy != "off"

    def judge(self, steps: Sequence[Any]) -> dict[str, Any] | None:
        if not self.active:
            return None
        assert self.verifier is not None
        out = self.verifier(steps)
        if hasattr(out, "findings") and hasattr(out, "confidence"):
            from ..verify.policy import VerifyPolicy, verdict_record

            return verdict_record(out, VerifyPolicy(mode=self.policy, threshold=self.threshold))
        score = float(out)
        low = score < self.threshold
        return {
            "score": score,
            "policy": self.policy,
            "threshold": self.threshold,
            "action": self.policy if low else "accept",
        }
