"""What the verifier says about a trace: findings per step and a reasoning-integrity score."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Severity = Literal["info", "warning", "error"]
FindingKind = Literal[
    "arithmetic", "provenance", "citation", "tool", "classifier", "input", "judge"
]
Where = Literal["step", "answer", "trace"]


class Finding(BaseModel):
    """One thing wrong (or doubtful) in a trace, and where."""

    step: int | None = None  # index into Trace.steps; None for the answer or the whole trace
    where: Where = "step"
    kind: FindingKind
    severity: Severity
    explanation: str
    p_flaw: float = Field(1.0, ge=0, le=1)  # how sure the check is that this is a real flaw


class Verdict(BaseModel):
    """``score``: reasoning integrity in [0, 1] (1 = every checked step sound). ``confidence``:
    how much of the trace could be checked at all (0 for an empty or unreadable trace)."""

    score: float = Field(ge=0, le=1)
    confidence: float = Field(ge=0, le=1)
    findings: list[Finding] = Field(default_factory=list)
    step_scores: list[float] = Field(default_factory=list)  # p(sound) per step
    checked: int = 0  # computations recomputed exactly
    verifier: str = "rules"  # "rules" or "rules+<classifier id>"

    def passed(self, threshold: float = 0.5) -> bool:
        return self.score >= threshold

    @property
    def flawed_steps(self) -> list[int]:
        return sorted({f.step for f in self.findings
                       if f.step is not None and f.severity == "error"})

    def summary(self) -> str:
        errors = sum(f.severity == "error" for f in self.findings)
        return (f"integrity {self.score:.2f} (confidence {self.confidence:.2f}) · "
                f"{errors} error(s), {len(self.findings) - errors} other finding(s)")
