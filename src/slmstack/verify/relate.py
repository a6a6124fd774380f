"""Features that relate a step to the question: the flaws a correct computation hides.

A wrong operation or a swapped quantity computes correctly, so only the question can show it:

* **roles** — each number of the question sits in a clause ("a small pizza has 8 slices"); a
  step that uses a number whose clause shares fewer of the step's words than another
  question number's clause (or than a number the solution never uses) likely took the wrong
  quantity;
* **cues × operation** — the words of the step, of the question sentences its operands come
  from, and of the question's ask ("how many … left") imply operations (each/per/times → ×,
  more/left/gave away → ±, half/split/shared → ÷); the operation the step applies either
  fits them or not;
* **direction** — "half", "left", "split" make a result smaller than what it starts from;
  "twice", "total", "more" make it larger;
* **plausibility** — the result against the question's numbers and the final answer.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache

from .numerals import NUMBER, WORDS, frac

OPS = "+-*/"
CLAUSE_SPLIT = re.compile(r"[.;:!?](?:\s+|$)|,\s+|\s+(?:and|but|while|then|so|if|when)\s+",
                          re.I)
SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+")
CONTENT = re.compile(r"[a-z][a-z'-]{2,}")
STOP = frozenset(
    "the and for are was were has have had his her its their them they she him with that this "
    "from how many much what when will each per does did can could would should there then "
    "than into out all also one who whom which you your our not only just more less".split())
SHRINK = ("half", "split", "less", "left", "fraction")  # cue kinds that make a result smaller
GROW = ("times", "more", "total")
ALPHA_WORD = re.compile(r"\b[A-Za-z]+\b")  # a number word is a whole word (or its plural)


@dataclass
class QuestionView:
    """The question read once: its numbers with their clause words and sentence cues, and the
    cues of what it asks."""

    clauses: list[tuple[frozenset[float], frozenset[str]]] = field(default_factory=list)
    texts: list[tuple[frozenset[str], str]] = field(default_factory=list)  # every clause
    sentence_cues: dict[float, set[str]] = field(default_factory=dict)
    ask: set[str] = field(default_factory=set)
    numbers: set[float] = field(default_factory=set)  # floats: Fractions hash slowly
    top: float = 1.0  # the largest number the question states


def content_words(text: str) -> frozenset[str]:
    return _content(text[:4000].lower())


@lru_cache(maxsize=1 << 14)
def _content(low: str) -> frozenset[str]:
    return frozenset(_stem(w) for w in CONTENT.findall(low) if w not in STOP)


@lru_cache(maxsize=1 << 16)
def _stem(word: str) -> str:
    for end in ("ies", "es", "s", "ed", "ing"):
        if word.endswith(end) and len(word) - len(end) >= 3:
            return word[: -len(end)] + ("y" if end == "ies" else "")
    return word


def clause_values(text: str) -> set[float]:
    """The numbers a clause states (digits, percents as both p and p/100, number words)."""
    out: set[float] = set()
    for m in NUMBER.finditer(text):
        v = frac(m.group(2).replace(",", ""))
        out.add(float(v))
        if m.group(3):
            out.add(float(v / 100))
    for w in ALPHA_WORD.findall(text):
        w = w.lower()
        v = WORDS.get(w) if w in WORDS else WORDS.get(w[:-1]) if w.endswith("s") else None
        if v is not None:
            out.add(float(v))
    return out


def question_view(question: str, cues: callable) -> QuestionView:  # type: ignore[valid-type]
    """``cues(text) -> set of cue kinds``."""
    q = question[:4000]
    view = QuestionView()
    sentences = [s for s in SENTENCE_SPLIT.split(q) if s.strip()]
    for s in sentences:
        kinds = cues(s)
        for clause in CLAUSE_SPLIT.split(s):
            if clause.strip():
                view.texts.append((content_words(clause), clause.lower()))
            vals = clause_values(clause)
            if vals:
                view.clauses.append((frozenset(vals), content_words(clause)))
            for v in vals:
                view.sentence_cues.setdefault(v, set()).update(kinds)
            view.numbers |= vals
    asks = [s for s in sentences if "?" in s or s.lower().startswith(("how", "what", "find"))]
    if asks:
        view.ask = cues(asks[-1])
    view.top = max(view.numbers, default=1.0) or 1.0
    return view


def role_features(view: QuestionView, step_words: frozenset[str], operands: list[float],
                  unused: set[float]) -> list[float]:
    """How well the clauses of the question numbers a step uses match its words, against the
    best other question number's clause and the best unused one's."""
    own_scores, margins = [], []
    mine = set(operands)
    for v in mine:
        own = [_overlap(step_words, ws) for vals, ws in view.clauses if v in vals]
        if not own:
            continue
        other = [_overlap(step_words, ws) for vals, ws in view.clauses if not vals & mine]
        best = max(own)
        own_scores.append(best)
        margins.append(best - max(other, default=0.0))
    spare = [_overlap(step_words, ws) for vals, ws in view.clauses
             if vals & unused and not vals & mine]
    spare_best = max(spare, default=0.0)
    low = min(own_scores, default=-1.0)
    return [
        float(len(own_scores)), low, min(margins, default=0.0),
        float(sum(m < 0 for m in margins)), spare_best,
        spare_best - low if own_scores else 0.0,
    ]


ROLE_NAMES = ["role_operands", "role_own_min", "role_margin_min", "role_mismatches",
              "role_unused_best", "role_unused_minus_own"]


def target_clause(view: QuestionView, words: frozenset[str]) -> str:
    """The question clause that shares most of a step's words (what the step works out)."""
    best, text = 0.0, ""
    for ws, clause in view.texts:
        score = len(words & ws)
        if score > best:
            best, text = score, clause
    return text


def _overlap(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(b) if b else 0.0


def effective_ops(ops: str, operands: list[float] | list[Fraction]) -> str:
    """The operations a step applies, with ×/÷ by a value below 1 read as its inverse
    (× 0.5 halves; ÷ 0.25 multiplies)."""
    out = ops
    if any(0 < abs(v) < 1 for v in operands):
        out = out.replace("*", "d").replace("/", "*").replace("d", "/")
    return out


def op_cross(kinds: set[str], ops: str, names: tuple[str, ...]) -> list[float]:
    """kind × operation indicators, in the order of ``names`` then OPS."""
    out = [0.0] * (len(names) * len(OPS))
    if kinds and ops:
        for a, k in enumerate(names):
            if k in kinds:
                for b, o in enumerate(OPS):
                    if o in ops:
                        out[a * len(OPS) + b] = 1.0
    return out


def direction(kinds: set[str], operands: list[float], result: float | None
              ) -> list[float]:
    """Does the result move the way the cue words say (smaller for half/left/split, larger for
    times/total/more)? [shrink cue but grew, grow cue but shrank, fits]."""
    if result is None or not operands:
        return [0.0, 0.0, 0.0]
    grew, shrank = result > max(operands), result < min(operands)
    shrink_cue = any(k in kinds for k in SHRINK)
    grow_cue = any(k in kinds for k in GROW)
    return [float(shrink_cue and grew and not grow_cue), float(grow_cue and shrank
                                                                and not shrink_cue),
            float((shrink_cue and shrank) or (grow_cue and grew))]


def plausibility(result: float | None, view: QuestionView, answer: float | None
                 ) -> list[float]:
    """The result against the question's largest number and the final answer (log ratios)."""
    if result is None:
        return [0.0, 0.0, 0.0]
    r = abs(result) + 1e-6
    vs_q = math.log10(r / view.top)
    vs_a = math.log10(r / (abs(answer) + 1e-6)) if answer else 0.0
    return [vs_q, vs_a, float(result in view.numbers)]


PLAUS_NAMES = ["result_vs_question_top", "result_vs_answer", "result_is_question_number"]
DIRECTION_NAMES = ["step_dir_shrink_cue_grew", "step_dir_grow_cue_shrank", "step_dir_fits",
                   "src_dir_shrink_cue_grew", "src_dir_grow_cue_shrank", "src_dir_fits"]
