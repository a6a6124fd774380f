"""``verify(trace) -> Verdict``: the deterministic checks, then the step classifier on the steps
that compute something, combined into a reasoning-integrity score."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from ..errors import UserError
from .model import BUNDLED, MODEL_FILE, StepClassifier
from .rules import RuleReport, run_rules
from .trace import Trace
from .verdict import Finding, Verdict


def as_trace(obj: Any) -> Trace:
    """A Trace from a Trace, its dict/JSON form, or an agent run's step records."""
    if isinstance(obj, Trace):
        return obj
    if isinstance(obj, dict) and _records(obj.get("steps")):
        return Trace.from_steps(obj["steps"])  # a RunResult dumped to JSON
    if isinstance(obj, dict):
        try:
            return Trace.model_validate(obj)
        except ValidationError as exc:
            raise UserError(f"not a trace: {exc.errors()[0]['msg']} in {str(obj)[:80]!r}",
                            "give question, steps (list of strings), tool_results, evidence, "
                            "answer") from None
    steps = getattr(obj, "steps", obj)
    if _records(steps):
        return Trace.from_steps(steps)
    raise UserError(f"cannot verify a {type(obj).__name__}: {str(obj)[:80]!r}",
                    "pass a Trace, a dict with question/steps/answer, or agent step records")


def _records(steps: Any) -> bool:
    """Agent step records (objects or dicts with a ``kind``)?"""
    return isinstance(steps, list | tuple) and bool(steps) and all(
        (s.get("kind") if isinstance(s, dict) else getattr(s, "kind", None))
        in ("model", "tool", "guard", "final") for s in steps)


class ProcessVerifier:
    """Rules plus (when one is given or bundled) the distilled step classifier."""

    def __init__(self, classifier: StepClassifier | str | None = "bundled") -> None:
        if classifier == "bundled":
            classifier = StepClassifier.load() if (BUNDLED / MODEL_FILE).is_file() else None
        elif isinstance(classifier, str):
            from pathlib import Path

            classifier = StepClassifier.load(Path(classifier))
        self.classifier = classifier

    @property
    def name(self) -> str:
        return f"rules+{self.classifier.id}" if self.classifier else "rules"

    def __call__(self, trace: Any) -> Verdict:
        return self.verify(trace)

    def verify(self, trace: Any) -> Verdict:
        return self.verify_many([trace])[0]

    def score_steps(self, steps: Sequence[Any]) -> float:
        """The agent runtime's verifier shape: step records → score (``VerifierHook``)."""
        return self.verify(Trace.from_steps(steps)).score

    def score_call(self, record: Any, completion: Any) -> float:
        """The router's / distillation's shape: (CallRecord, Completion) → score. A reply with
        nothing to check (only tool calls) scores 1.0: there is no reasoning to fault."""
        verdict = self.verify(Trace.from_call(record.request, completion.text or ""))
        return 1.0 if verdict.confidence == 0 else verdict.score

    def verify_many(self, traces: Sequence[Any]) -> list[Verdict]:
        """Verdicts for many traces (the classifier runs once over all their steps)."""
        items = [as_trace(t) for t in traces]
        reports = [run_rules(t) for t in items]
        probs = self._probs(reports)
        return [self._combine(r, p) for r, p in zip(reports, probs, strict=True)]

    def _probs(self, reports: list[RuleReport]) -> list[list[float]]:
        if self.classifier is None:
            return [[0.0] * len(r.trace.steps) for r in reports]
        probs = self.classifier.step_probs(reports)
        return [[p if r.comps[i] else 0.0 for i, p in enumerate(ps)]  # only computing steps
                for r, ps in zip(reports, probs, strict=True)]

    def _combine(self, report: RuleReport, probs: list[float]) -> Verdict:
        t = report.trace
        if not t.steps and not t.answer.strip():
            return Verdict(score=0.0, confidence=0.0, verifier=self.name, findings=[Finding(
                where="trace", kind="input", severity="error",
                explanation="empty trace: no steps and no answer to verify")])
        findings = list(report.findings) + _classifier_findings(probs)
        # the strongest single signal decides (the classifier already sees the rule signals,
        # and its threshold was calibrated on its own): sub-threshold doubts do not add up
        sound = [1 - max(report.step_p(i), p) for i, p in enumerate(probs)]
        score = min([*sound, 1 - report.answer_p()])
        if report.clipped:
            findings.append(Finding(where="trace", kind="input", severity="info", p_flaw=0.0,
                                    explanation=f"trace is {t.text_size():,}+ characters: "
                                                "only the first part of each field was checked"))
        return Verdict(score=round(score, 4), confidence=_confidence(report, self.classifier),
                       findings=findings, step_scores=[round(s, 4) for s in sound],
                       checked=report.checked, verifier=self.name)


def _classifier_findings(probs: list[float]) -> list[Finding]:
    return [Finding(step=i, kind="classifier", severity="error", p_flaw=round(p, 4),
                    explanation=f"the step classifier rates this step likely flawed (p={p:.2f}): "
                                "a wrong operation, a misplaced quantity or a value that does "
                                "not follow")
            for i, p in enumerate(probs) if p >= 0.5]


def _confidence(report: RuleReport, classifier: StepClassifier | None) -> float:
    steps = len(report.trace.steps)
    computing = sum(1 for cs in report.comps if cs)
    c = 0.3 + 0.6 * (computing / steps) if steps else 0.2
    if classifier is None:
        c *= 0.8
    if report.clipped:
        c *= 0.5
    return round(min(c, 1.0), 3)


_DEFAULT: ProcessVerifier | None = None


def verify(trace: Any, verifier: ProcessVerifier | None = None) -> Verdict:
    """Verify one trace with ``verifier`` or the default (rules + bundled classifier)."""
    global _DEFAULT
    if verifier is None:
        if _DEFAULT is None:
            _DEFAULT = ProcessVerifier()
        verifier = _DEFAULT
    return verifier.verify(trace)
