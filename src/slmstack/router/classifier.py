"""A fast learned task-kind classifier: bundled MiniLM sentence embeddings (``slmstack.rag.embed``)
→ multinomial logistic regression (scikit-learn).

Trained from labelled traffic (texts with kinds), from the trace store (see ``training``), or from
clusters of unlabelled traffic. Saved as a folder with ``weights.npz`` (plain arrays, no pickle)
and ``meta.json`` (config, inputs, metrics), so loading never runs stored code.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import UserError

WEIGHTS = "weights.npz"
META = "meta.json"
FORMAT = "slmstack.router.classifier/1"


class TaskClassifier:
    """``predict(text) -> (kind, probability)``; ``train``, ``save``, ``load``."""

    def __init__(self, model: Any, embedder: Any = None, meta: dict[str, Any] | None = None):
        self.model = model  # a fitted sklearn LogisticRegression
        self._embedder = embedder
        self.meta = meta or {}

    @property
    def labels(self) -> list[str]:
        return [str(c) for c in self.model.classes_]

    @property
    def embedder(self) -> Any:
        if self._embedder is None:
            from ..rag.embed import Embedder

            self._embedder = Embedder()
        return self._embedder

    # -- inference --------------------------------------------------------------------------
    def predict(self, text: str) -> tuple[str, float]:
        return self.predict_many([text])[0]

    def predict_many(self, texts: Sequence[str]) -> list[tuple[str, float]]:
        if not texts:
            return []
        probs = self.model.predict_proba(self.embedder.encode(list(texts)))
        best = probs.argmax(axis=1)
        return [(self.labels[i], float(p[i])) for i, p in zip(best, probs, strict=True)]

    # -- training -----------------------------------------------------------------------------
    @classmethod
    def train(
        cls, texts: Sequence[str], labels: Sequence[str], *, embedder: Any = None,
        c: float = 4.0, source: str = "labelled",
    ) -> TaskClassifier:
        """Fit on ``texts`` labelled with task kinds; ``meta`` gets cross-validated accuracy."""
        _check_examples(texts, labels)
        if embedder is None:
            from ..rag.embed import Embedder

            embedder = Embedder()
        t0 = time.perf_counter()
        x = embedder.encode(list(texts))
        y = [str(v) for v in labels]
        model = _fit(x, y, c)
        meta = {
            "format": FORMAT,
            "created_at": time.time(),
            "config": {"c": c, "model": "LogisticRegression", "class_weight": "balanced"},
            "inputs": {"source": source, "examples": len(y), "per_label": dict(Counter(y))},
            "embedder": {"name": embedder.name, "dim": int(x.shape[1])},
            "metrics": {**_cross_validated(x, y, c), "train_s": round(time.perf_counter() - t0, 3)},
        }
        return cls(model, embedder, meta)

    # -- persistence --------------------------------------------------------------------------
    def save(self, folder: str | Path) -> Path:
        import numpy as np

        out = Path(folder).expanduser()
        out.mkdir(parents=True, exist_ok=True)
        np.savez(out / WEIGHTS, coef=self.model.coef_, intercept=self.model.intercept_,
                 classes=np.asarray(self.labels))
        (out / META).write_text(json.dumps(self.meta, indent=2, sort_keys=True), "utf-8")
        return out

    @classmethod
    def load(cls, folder: str | Path, *, embedder: Any = None) -> TaskClassifier:
        folder = Path(folder).expanduser()
        meta = _read_meta(folder)
        import numpy as np
        from sklearn.linear_model import LogisticRegression

        with np.load(folder / WEIGHTS, allow_pickle=False) as data:
            model = LogisticRegression()
            model.coef_, model.intercept_ = data["coef"], data["intercept"]
            model.classes_ = data["classes"]
        got = model.coef_.shape[1]
        if got != meta["embedder"]["dim"]:
            raise UserError(
                f"classifier {str(folder)!r} has {got}-d weights but meta.json says "
                f"{meta['embedder']['dim']!r}", "retrain it: slmstack router train ...",
            )
        return cls(model, embedder, meta)


def _fit(x: Any, y: list[str], c: float) -> Any:
    return _estimator(c).fit(x, y)


def _cross_validated(x: Any, y: list[str], c: float) -> dict[str, Any]:
    """Stratified k-fold accuracy (k ≤ 5, limited by the rarest label); none when too few."""
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    folds = min(5, min(Counter(y).values()))
    if folds < 2:
        return {"cv_accuracy": None, "cv_folds": 0}
    split = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    scores = cross_val_score(_estimator(c), x, y, cv=split)
    return {"cv_accuracy": round(float(scores.mean()), 4), "cv_folds": folds}


def _estimator(c: float) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, max_iter=2000, class_weight="balanced")


def _check_examples(texts: Sequence[str], labels: Sequence[str]) -> None:
    if len(texts) != len(labels):
        raise UserError(
            f"{len(texts)} texts but {len(labels)} labels", "give exactly one label per text"
        )
    empty = [i for i, t in enumerate(texts) if not str(t).strip()]
    if empty:
        raise UserError(f"texts at positions {empty[:5]!r} are empty", "drop empty examples")
    kinds = Counter(str(v) for v in labels)
    if len(kinds) < 2:
        raise UserError(
            f"the classifier needs at least two task kinds, got {sorted(kinds)!r}",
            "add examples of another kind (or cluster unlabelled traffic into k ≥ 2 groups)",
        )


def _read_meta(folder: Path) -> dict[str, Any]:
    path = folder / META
    if not path.is_file() or not (folder / WEIGHTS).is_file():
        raise UserError(
            f"no trained classifier in {str(folder)!r} (meta.json and weights.npz expected)",
            "train one with `slmstack router train`, or fix router.classifier in slmstack.toml",
        )
    try:
        meta = json.loads(path.read_text("utf-8"))
    except json.JSONDecodeError as exc:
        raise UserError(f"{str(path)!r} is not JSON ({exc.msg})",
                        "retrain the classifier") from None
    if meta.get("format") != FORMAT:
        raise UserError(
            f"{str(path)!r} has format {meta.get('format')!r}, expected {FORMAT!r}",
            "retrain the classifier with this version of slmstack",
        )
    return meta
