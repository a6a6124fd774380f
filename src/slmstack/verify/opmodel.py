"""Which operation do a step's words call for? A small text model, distilled from the clean
GSM8K reference steps: the words of the step (numbers and operator signs removed) and of the
question clause it works out → P(+), P(−), P(×), P(÷).

A step applying an operation its words make unlikely ("half of the mangoes: 60 × 2") is a
wrong-operation suspect the rules cannot see, since the arithmetic itself is right. For the
classifier's own training the probabilities are cross-fitted by problem (each step scored by a
model that never saw its problem), so the classifier learns how far to trust them on unseen
problems.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .relate import OPS

WORD = re.compile(r"[a-z]{2,}")
FOLDS = 5
NAMES = ["op_fit_min", "op_alt_max", "op_log_ratio"]


def op_text(step: str, clause: str, last: bool) -> str:
    """The model's input: the step's words, the target clause's words marked ``q_``."""
    words = WORD.findall(step.lower()[:2000])
    q = ["q_" + w for w in WORD.findall(clause[:2000])]
    return " ".join(words + q + (["is_last_step"] if last else []))


@dataclass
class OpModel:
    vectorizer: Any
    model: Any

    @classmethod
    def fit(cls, texts: Sequence[str], opsets: Sequence[str]) -> OpModel:
        """One row per (step, operation it applies); steps applying none are skipped."""
        from sklearn.feature_extraction.text import CountVectorizer
        from sklearn.linear_model import LogisticRegression

        rows = [(t, o) for t, ops in zip(texts, opsets, strict=True) for o in sorted(set(ops))]
        vec = CountVectorizer(token_pattern=r"[a-z_]{2,}", ngram_range=(1, 2), min_df=2,
                              binary=True)
        x = vec.fit_transform([t for t, _ in rows])
        y = [OPS.index(o) for _, o in rows]
        model = LogisticRegression(C=0.5, max_iter=300).fit(x, y)
        return cls(vec, model)

    def proba(self, texts: Sequence[str]) -> Any:
        """(n, 4) probabilities of + − × ÷ (columns for operations never seen are 0)."""
        import numpy as np

        out = np.zeros((len(texts), len(OPS)), dtype=np.float32)
        if len(texts):
            p = self.model.predict_proba(self.vectorizer.transform(texts))
            out[:, self.model.classes_] = p
        return out


def _fold(group: str) -> int:
    return int(hashlib.sha256(group.encode()).hexdigest()[:6], 16) % FOLDS


def cross_fitted(corpus: Sequence[tuple[str, str, str]], texts: Sequence[str],
                 groups: Sequence[str]) -> tuple[OpModel, Any]:
    """The model fitted on all of ``corpus`` (text, operations, problem), and out-of-fold
    probabilities for ``texts``: each scored by a model that never saw its problem."""
    import numpy as np

    out = np.zeros((len(texts), len(OPS)), dtype=np.float32)
    folds = np.array([_fold(g) for g in groups], dtype=np.int64)
    for k in range(FOLDS):
        part = [(t, o) for t, o, g in corpus if o and _fold(g) != k]
        model = OpModel.fit([t for t, _ in part], [o for _, o in part])
        idx = np.flatnonzero(folds == k)
        if len(idx):
            out[idx] = model.proba([texts[i] for i in idx])
    rows = [(t, o) for t, o, _ in corpus if o]
    return OpModel.fit([t for t, _ in rows], [o for _, o in rows]), out


def op_features(probs: Any, opsets: Sequence[str]) -> list[list[float]]:
    """Per step: the least likely operation it applies, the likeliest one it does not, and
    their log ratio; zeros for a step that applies none."""
    rows = []
    for p, ops in zip(probs, opsets, strict=True):
        mine = {OPS.index(o) for o in ops}
        if not mine:
            rows.append([0.0, 0.0, 0.0])
            continue
        fit = min(float(p[j]) for j in mine)
        alt = max((float(p[j]) for j in range(len(OPS)) if j not in mine), default=0.0)
        rows.append([fit, alt, math.log((alt + 1e-4) / (fit + 1e-4))])
    return rows
