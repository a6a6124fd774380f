"""``train`` and ``evaluate`` as library calls (the CLI shows their progress)."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Any

from .corrupt import clean
from .data import data_hash, examples, gsm8k_dir, is_validation, problems
from .evaluate import evaluate_examples
from .model import StepClassifier, fit
from .verifier import ProcessVerifier


def _bar(show: bool) -> Any:
    from ..progress import progress

    return progress(show) if show else nullcontext(None)


def train(data: str | Path | None, out: Path, *, limit: int | None = None,
          fit_limit: int | None = None, seed: int = 0, show: bool = True) -> StepClassifier:
    """Corrupt the GSM8K train split (its first ``limit`` problems), fit on 90% of them (only
    the first ``fit_limit`` when given), calibrate the threshold on the other 10%, report
    validation metrics, save to ``out`` with a meta.json. The operation model reads the clean
    reference steps of every non-validation problem."""
    folder = gsm8k_dir(data)
    exs = examples(folder, "train", limit, seed)
    fit_set = [e for e in exs if not is_validation(e.problem)
               and (fit_limit is None or int(e.problem.rpartition(":")[2]) < fit_limit)]
    val_set = [e for e in exs if is_validation(e.problem)]
    corpus = [clean(p, q, a) for p, q, a in problems(folder, "train", limit)
              if not is_validation(p)]
    with _bar(show) as bar:
        calib = sum(e.kind == "clean" for e in val_set)  # the threshold is set on clean val
        task = bar.add_task("features + fit", total=len(fit_set) + calib) if bar else None
        tick = (lambda: bar.advance(task)) if bar else None
        clf = fit(fit_set, val_set, tick=tick, op_corpus=corpus,
                  config={"seed": seed, "limit": limit, "fit_limit": fit_limit,
                          "split": "train: 10% of the problems (sha256 of id) held out for the "
                          "threshold, the rest (first `fit_limit`) to fit"})
        vtask = bar.add_task("validation metrics", total=len(val_set)) if bar else None
        vtick = (lambda n: bar.advance(vtask, n)) if bar else None
        clf.meta["val_metrics"] = evaluate_examples(ProcessVerifier(clf), val_set, tick=vtick)
    clf.meta["data"] = {"source": "gsm8k train.jsonl (MIT)", "sha256_16": data_hash(folder,
                                                                                   "train")}
    clf.save(out)
    return clf


def evaluate(data: str | Path | None, model: str | Path | None, *, limit: int | None = None,
             seed: int = 0, show: bool = True, rules_only: bool = False) -> dict[str, Any]:
    """Metrics on corrupted GSM8K *test* problems (never used in training or calibration)."""
    folder = gsm8k_dir(data)
    exs = examples(folder, "test", limit, seed)
    verifier = ProcessVerifier(None if rules_only else (str(model) if model else "bundled"))
    with _bar(show) as bar:
        task = bar.add_task("verifying", total=len(exs)) if bar else None
        tick = (lambda n: bar.advance(task, n)) if bar else None
        result = evaluate_examples(verifier, exs, tick=tick)
    result["verifier"] = verifier.name
    result["data"] = {"split": "test", "problems": len({e.problem for e in exs}),
                      "solutions": len(exs), "sha256_16": data_hash(folder, "test")}
    return result
