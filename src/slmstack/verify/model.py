"""The distilled step classifier: gradient-boosted trees over rule signals and MiniLM token
embeddings, trained on corrupted GSM8K solutions, saved with a ``meta.json``."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UserError
from .corrupt import Example
from .features import RULE_NAMES, TokenEmbedder, step_matrix
from .rules import RuleReport, run_rules

MODEL_FILE = "classifier.joblib"
META_FILE = "meta.json"
BUNDLED = Path(__file__).with_name("model")
PARAMS = {"max_iter": 300, "learning_rate": 0.1, "max_leaf_nodes": 31, "l2_regularization": 1.0,
          "early_stopping": False, "random_state": 0}
TARGET_FALSE_ALARM = 0.007  # clean val solutions the classifier may flag beyond the rules


@dataclass
class StepClassifier:
    model: Any
    threshold: float  # p(flaw) at which a step counts as flawed
    meta: dict[str, Any] = field(default_factory=dict)
    embedder: TokenEmbedder = field(default_factory=TokenEmbedder)

    @property
    def id(self) -> str:
        return str(self.meta.get("id", "unsaved"))

    def step_probs(self, reports: Sequence[RuleReport]) -> list[list[float]]:
        """p(flaw) per step, per report, calibrated so ``threshold`` maps to 0.5."""
        x = step_matrix(list(reports), self.embedder)
        probs = self.model.predict_proba(x)[:, 1] if len(x) else []
        out, at = [], 0
        for rep in reports:
            n = len(rep.trace.steps)
            out.append([self.calibrated(float(p)) for p in probs[at:at + n]])
            at += n
        return out

    def calibrated(self, p: float) -> float:
        t = self.threshold
        return 0.5 * p / t if p < t else 0.5 + 0.5 * (p - t) / max(1 - t, 1e-9)

    def save(self, folder: Path) -> Path:
        import joblib

        folder.mkdir(parents=True, exist_ok=True)
        joblib.dump({"model": self.model, "threshold": self.threshold}, folder / MODEL_FILE,
                    compress=3)
        digest = hashlib.sha256((folder / MODEL_FILE).read_bytes()).hexdigest()[:12]
        self.meta["id"] = f"gbt-{digest}"
        (folder / META_FILE).write_text(json.dumps(self.meta, indent=2) + "\n")
        return folder

    @classmethod
    def load(cls, folder: Path | None = None) -> StepClassifier:
        import joblib

        folder = folder or BUNDLED
        if not (folder / MODEL_FILE).is_file():
            raise UserError(f"no trained verifier model in {str(folder)!r}",
                            "run: slmstack verify train --out FOLDER")
        blob = joblib.load(folder / MODEL_FILE)
        meta = json.loads((folder / META_FILE).read_text()) if (folder / META_FILE).is_file() \
            else {}
        return cls(blob["model"], float(blob["threshold"]), meta)


def labelled(examples: Sequence[Example], tick: Callable[[], None] | None = None
             ) -> tuple[list[RuleReport], list[int]]:
    reports, labels = [], []
    for ex in examples:
        rep = run_rules(ex.trace())
        reports.append(rep)
        flawed = set(ex.flawed)
        labels += [int(i in flawed) for i in range(len(rep.trace.steps))]
        if tick:
            tick()
    return reports, labels


def fit(train: Sequence[Example], val: Sequence[Example], *, config: dict[str, Any] | None = None,
        tick: Callable[[], None] | None = None) -> StepClassifier:
    """Train on ``train``; pick the threshold on ``val`` (problems disjoint from both ``train``
    and any test set) so at most TARGET_FALSE_ALARM of clean val solutions get flagged."""
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingClassifier

    t0 = time.time()
    embedder = TokenEmbedder()
    reports, y = labelled(train, tick)
    x = step_matrix(reports, embedder)
    model = HistGradientBoostingClassifier(**PARAMS).fit(x, np.asarray(y))
    clf = StepClassifier(model, 0.5, embedder=embedder)
    clf.threshold = _threshold(clf, val, tick)
    clf.meta = {"config": {**PARAMS, **(config or {}), "target_false_alarm": TARGET_FALSE_ALARM,
                           "features": RULE_NAMES + [f"minilm_{i}" for i in range(embedder.dim)]},
                "train_steps": len(y), "train_flawed": int(sum(y)),
                "train_solutions": len(train), "val_solutions": len(val),
                "threshold": clf.threshold, "fit_s": round(time.time() - t0, 1)}
    return clf


def _threshold(clf: StepClassifier, val: Sequence[Example], tick: Callable[[], None] | None
               ) -> float:
    """The lowest raw p(flaw) cut that keeps clean val solutions' flag rate within target."""
    import numpy as np

    cleans = [ex for ex in val if ex.kind == "clean"]
    reports, _ = labelled(cleans, tick)
    x = step_matrix(reports, clf.embedder)
    raw = clf.model.predict_proba(x)[:, 1] if len(x) else np.zeros(0)
    worst, at = [], 0
    for rep in reports:
        n = len(rep.trace.steps)
        if any(f.severity == "error" for f in rep.findings):
            worst.append(-1.0)  # the rules flag it anyway: the threshold cannot help
        else:
            worst.append(float(raw[at:at + n].max()) if n else 0.0)
        at += n
    allowed = int(TARGET_FALSE_ALARM * len(worst))
    ranked = sorted(worst, reverse=True)
    cut = ranked[allowed] if allowed < len(ranked) else 0.5
    return float(min(max(cut + 1e-6, 0.05), 0.99))
