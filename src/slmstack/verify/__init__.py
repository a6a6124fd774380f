"""Process verifier: deterministic step checks + a distilled step classifier → ``Verdict``.

``verify(trace)`` scores a trace (question, steps, tool results, evidence, answer);
``apply_policy(verdict, VerifyPolicy(mode="escalate"))`` says what the runtime should do.
"""

from __future__ import annotations

from .policy import Action, Mode, VerifyPolicy, apply_policy, verdict_record
from .safe_eval import UnsafeExpression, evaluate
from .trace import Evidence, ToolResult, Trace
from .verdict import Finding, Verdict
from .verifier import ProcessVerifier, as_trace, verify

__all__ = [
    "Action",
    "Evidence",
    "Finding",
    "Mode",
    "ProcessVerifier",
    "ToolResult",
    "Trace",
    "UnsafeExpression",
    "Verdict",
    "VerifyPolicy",
    "apply_policy",
    "as_trace",
    "evaluate",
    "verdict_record",
    "verify",
]
