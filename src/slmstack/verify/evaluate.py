"""Metrics on labelled examples: step-level flaw detection and solution-level alarms."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from .corrupt import Example
from .verdict import Verdict

THRESHOLD = 0.5  # a step (solution) scoring below this is flagged


def evaluate_examples(verifier: Any, examples: Sequence[Example], batch: int = 256,
                      tick: Callable[[int], None] | None = None) -> dict[str, Any]:
    verdicts: list[Verdict] = []
    for at in range(0, len(examples), batch):
        chunk = examples[at:at + batch]
        verdicts += verifier.verify_many([ex.trace() for ex in chunk])
        if tick:
            tick(len(chunk))
    return metrics(examples, verdicts)


def metrics(examples: Sequence[Example], verdicts: Sequence[Verdict]) -> dict[str, Any]:
    tp = fp = fn = 0
    kind_hits: Counter[str] = Counter()
    kind_steps: Counter[str] = Counter()
    sol: Counter[str] = Counter()
    for ex, v in zip(examples, verdicts, strict=True):
        flagged_steps = {i for i, s in enumerate(v.step_scores) if s < THRESHOLD}
        truth = set(ex.flawed)
        tp += len(flagged_steps & truth)
        fp += len(flagged_steps - truth)
        fn += len(truth - flagged_steps)
        kind_steps[ex.kind] += len(truth)
        kind_hits[ex.kind] += len(truth & flagged_steps)
        flagged = v.score < THRESHOLD
        group = "clean" if ex.kind == "clean" else (
            "right_answer_flawed" if ex.answer_right else "wrong_answer")
        sol[group] += 1
        sol[group + "_flagged"] += flagged
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {
        "step": {"precision": round(p, 4), "recall": round(r, 4),
                 "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
                 "tp": tp, "fp": fp, "fn": fn},
        "step_recall_by_kind": {k: round(kind_hits[k] / n, 4)
                                for k, n in sorted(kind_steps.items()) if n},
        "solutions": {g: sol[g] for g in ("clean", "right_answer_flawed", "wrong_answer")},
        "clean_false_alarm": _rate(sol, "clean"),
        "clean_pass": round(1 - _rate(sol, "clean"), 4),
        "right_answer_flawed_recall": _rate(sol, "right_answer_flawed"),
        "wrong_answer_recall": _rate(sol, "wrong_answer"),
        "right_answer_flawed_recall_at_5pct_false_alarm": _recall_at(examples, verdicts, 0.05),
    }


def _recall_at(examples: Sequence[Example], verdicts: Sequence[Verdict], fa: float) -> float:
    """ROC point: flag every solution scoring below the cut that flags at most ``fa`` of the
    clean ones; the share of right-answer-flawed solutions flagged then."""
    clean = sorted(v.score for e, v in zip(examples, verdicts, strict=True) if e.kind == "clean")
    raf = [v.score for e, v in zip(examples, verdicts, strict=True)
           if e.kind != "clean" and e.answer_right]
    if not clean or not raf:
        return 0.0
    k = int(fa * len(clean))  # clean solutions allowed below the cut
    cut = clean[k] if k < len(clean) else 1.01
    return round(sum(s < cut for s in raf) / len(raf), 4)


def _rate(c: Counter[str], group: str) -> float:
    return round(c[group + "_flagged"] / c[group], 4) if c[group] else 0.0
