"""Step features for the classifier: the rule signals, MiniLM token embeddings (the raw
vectors and similarities built from them), features relating the step to the question
(relate.py) and the operation model's view (opmodel.py). A model uses the columns its meta.json
names.

The embeddings are the bundled all-MiniLM-L6-v2's own input embedding table, mean-pooled over a
step's word pieces (numbers masked) — a lookup, not a transformer pass, so thousands of steps per
second fit on one core. The files come from the same package ``slmstack.rag.embed`` loads.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from functools import cache, lru_cache
from itertools import chain
from typing import Any

from .extract import Computation
from .numerals import values
from .opmodel import NAMES as OP_NAMES
from .opmodel import op_features, op_text
from .relate import (
    DIRECTION_NAMES,
    OPS,
    PLAUS_NAMES,
    ROLE_NAMES,
    QuestionView,
    content_words,
    direction,
    effective_ops,
    op_cross,
    plausibility,
    question_view,
    role_features,
    target_clause,
)
from .rules import RuleReport
from .trace import plain

DIGIT = re.compile(r"\d")
NUM = re.compile(r"\$?\d[\d,]*(?:\.\d+)?%?|\$?\.\d+%?")
CUES: dict[str, tuple[str, ...]] = {  # words (a trailing * matches any ending)
    "half": ("half", "halves", "halved"), "times": ("twice", "double*", "triple*", "times"),
    "more": ("more", "increase*", "extra", "additional", "plus", "raise*", "gain*"),
    "less": ("less", "fewer", "decrease*", "discount*", "off", "lost", "lose*", "spen*", "gave",
             "give*", "sold", "ate", "used"),
    "left": ("left", "remain*", "rest"), "total": ("total*", "altogether", "all", "combined",
                                                   "sum", "together", "both"),
    "each": ("each", "per", "every", "apiece"), "split": ("split*", "divide*", "share*",
                                                          "equal*", "even*", "average*"),
    "percent": ("%", "percent*"), "fraction": ("third*", "quarter*", "fourth*", "fifth*"),
    "compare": ("than", "difference", "farther", "longer", "older", "younger"),
    "time": ("hour*", "minute*", "day*", "week*", "month*", "year*"),
    "money": ("$", "dollar*", "cent*", "cost*", "price*", "pay*", "paid", "earn*"),
}
CUE_WORD = re.compile(r"[a-z]+|[$%]")
_EXACT = {w: k for k, ws in CUES.items() for w in ws if not w.endswith("*")}
_STEMS = [(w[:-1], k) for k, ws in CUES.items() for w in ws if w.endswith("*")]
RULE_NAMES = [
    "n_comps", "arith_errors", "unchecked", "given", "derived", "unknown_small", "unknown_big",
    "reused_given", "result_used_later", "is_last", "position", "n_steps", "op_add", "op_sub",
    "op_mul", "op_div", "result_fraction", "result_negative", "result_above_max",
    "result_below_min", "log_result", "unused_given", "answer_is_result", "p_rules",
    "context_sim_min", "context_sim_mean", "question_sim", "no_comps_but_numbers",
    "answer_fraction", "answer_negative", "answer_vs_question", "results_unused",
    *[f"step_cue_{c}" for c in CUES], *[f"operand_cue_{c}" for c in CUES],
    # relating the step to the question (relate.py)
    "emb_role_margin", "emb_unused_minus_own", "unknown_facts",
    *ROLE_NAMES, *DIRECTION_NAMES, *PLAUS_NAMES,
    *[f"ask_cue_{c}" for c in CUES],
    *[f"step_cue_{c}_x_op{o}" for c in CUES for o in OPS],
    *[f"src_cue_{c}_x_op{o}" for c in CUES for o in OPS],
    "weak_given", "prose_derived", "identity_op", "dangling_before", "next_after_dangling",
    "uses_prev_result", "result_fanout", "operand_age",
    *OP_NAMES,
]


class TokenEmbedder:
    """MiniLM word-piece vectors, mean-pooled and L2-normalised (384-d)."""

    def __init__(self) -> None:
        self.tokenizer, self.table = _load()
        self.dim = int(self.table.shape[1])

    def encode(self, texts: list[str]) -> Any:
        import numpy as np
        from scipy.sparse import csr_matrix

        pieces = [list(chain.from_iterable(_pieces(w) for w in _words(t))) for t in texts]
        lengths = np.fromiter((len(p) for p in pieces), dtype=np.int64, count=len(pieces))
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        indices = np.fromiter(chain.from_iterable(pieces), dtype=np.int64, count=int(indptr[-1]))
        counts = csr_matrix((np.ones(len(indices), dtype=np.float32), indices, indptr),
                            shape=(len(texts), self.table.shape[0]))
        sums = np.asarray(counts @ self.table, dtype=np.float32)
        return sums / (np.linalg.norm(sums, axis=1, keepdims=True) + 1e-8)


WORD = re.compile(r"\w+|[^\w\s]")


def _words(text: str) -> list[str]:
    """BERT's pre-tokenisation (lower case; split on spaces and punctuation), numbers masked."""
    return WORD.findall(NUM.sub(" number ", text[:2000]).lower())


@lru_cache(maxsize=1 << 18)
def _pieces(word: str) -> tuple[int, ...]:
    """A word's MiniLM word-piece ids (the tokenizer runs once per distinct word)."""
    return tuple(_load()[0].encode(word, add_special_tokens=False).ids)


@cache
def _load() -> tuple[Any, Any]:
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    from ..rag.embed import minilm_dir

    folder = minilm_dir()
    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    weights = load_file(str(folder / "model.safetensors"))
    key = next(k for k in weights if k.endswith("word_embeddings.weight"))
    return tok, weights[key]


def rule_features(report: RuleReport, sims: list[tuple[float, ...]],
                  windows: dict[Fraction, str], view: QuestionView | None = None,
                  given_q: set[Fraction] | None = None) -> list[list[float]]:
    """One row of RULE_NAMES per step."""
    t = report.trace
    n = len(t.steps)
    later = _later_operands(report)
    given_q = given_q if given_q is not None else values(t.question, words=False)
    used = {v for cs in report.comps for c in cs for v in c.magnitudes}
    unused = len([v for v in given_q if v not in used and v > 2])
    answer_vals = values(t.answer, words=False)
    whole = _solution_row(report, later, given_q, answer_vals)
    view = view or question_view(t.question, cue_set)
    used_f = {float(v) for v in used}
    spare = {v for v in view.numbers if v not in used_f and v not in (0, 1)}
    answer = float(min(answer_vals)) if answer_vals else None
    results = _results(report)
    dangling, flow = _dangling(results, later), _flow(report, results)
    rows = []
    for i in range(n):
        text = plain(t.steps[i])
        kinds = cue_set(text)
        row = _step_row(report, i, n, later[i], unused, answer_vals, sims[i][:3])
        o = report.origins[i]
        rows.append(row + whole + [float(k in kinds) for k in CUES]
                    + _operand_cues(report, i, windows)
                    + _relating(report, i, view, kinds, text, spare, answer, sims[i][3:])
                    + [o.weak, o.prose,
                       float(any(does_nothing(c) for c in report.comps[i])),
                       float(sum(dangling[:i])), float(i > 0 and dangling[i - 1]),
                       *flow[i]])
    return rows


def _relating(report: RuleReport, i: int, view: QuestionView, kinds: set[str], text: str,
              spare: set[float], answer: float | None, sims: tuple[float, ...]
              ) -> list[float]:
    """The step against the question: operand roles, cue words × operation, direction,
    plausibility of the result (relate.py)."""
    cs = report.comps[i]
    operands = [float(v) for c in cs for v in c.magnitudes]
    ops = effective_ops("".join(c.ops for c in cs), operands)
    from_q = [v for v in operands if v in view.sentence_cues]
    src: set[str] = set().union(*(view.sentence_cues[v] for v in from_q)) if from_q else set()
    stated = [abs(float(c.stated)) for c in cs if c.stated is not None]
    result = stated[-1] if stated else None
    words = content_words(text)
    return [
        *sims, float(len(report.origins[i].unknown_facts)),
        *role_features(view, words, operands, spare),
        *direction(kinds, operands, result), *direction(src, operands, result),
        *plausibility(result, view, answer),
        *[float(k in view.ask) for k in CUES],
        *op_cross(kinds, ops, tuple(CUES)), *op_cross(src, ops, tuple(CUES)),
    ]


def does_nothing(comp: Computation) -> bool:
    """Whether a computation multiplies or divides by 1 or adds or takes away 0, as when "2/3
    of the time" becomes 2/1 or "half" is divided by 1 (a 1 before "/" is a fraction's
    numerator: "40 × 1/20")."""
    vals, ops = comp.magnitudes, comp.ops
    if len(ops) != len(vals) - 1:
        return False
    for i, v in enumerate(vals):
        before = ops[i - 1] if i else ""
        after = ops[i] if i < len(ops) else ""
        if v == 1 and after != "/" and (before in ("*", "/") or after == "*"):
            return True
        if v == 0 and before in ("+", "-"):
            return True
    return False


@lru_cache(maxsize=1 << 16)
def _cue(word: str) -> str | None:
    return _EXACT.get(word) or next((k for stem, k in _STEMS if word.startswith(stem)), None)


def cue_set(text: str) -> set[str]:
    """The cue kinds (CUES) the words of ``text`` name."""
    found = {_cue(w) for w in set(CUE_WORD.findall(text.lower()))}
    found.discard(None)
    if re.search(r"\d/\d", text):
        found.add("fraction")
    return found  # type: ignore[return-value]


def _cues(text: str) -> list[float]:
    found = cue_set(text)
    return [float(k in found) for k in CUES]


def _operand_cues(report: RuleReport, i: int, windows: dict[Fraction, str]) -> list[float]:
    texts = [windows[v] for c in report.comps[i] for v in c.magnitudes if v in windows]
    return _cues(" ".join(texts)) if texts else [0.0] * len(CUES)


def _solution_row(report: RuleReport, later: list[set[float]], given_q: set[Fraction],
                  answer_vals: set[Fraction]) -> list[float]:
    ans = next(iter(sorted(answer_vals)), None) if answer_vals else None
    neg = report.trace.answer.strip().startswith("-")
    top = max(given_q, default=Fraction(1)) or Fraction(1)
    unused = sum(1 for i, cs in enumerate(report.comps[:-1])
                 if cs and cs[-1].stated is not None and abs(float(cs[-1].stated)) not in later[i])
    return [float(ans is not None and ans.denominator != 1), float(neg),
            math.log10(float(ans) / float(top) + 1e-6) if ans is not None else 0.0,
            float(unused)]


def _later_operands(report: RuleReport) -> list[set[float]]:
    """For each step, the operands of all later steps (and the answer's numbers), as floats
    (hashing Fractions is slow)."""
    acc = {float(v) for v in values(report.trace.answer, words=False)}
    out: list[set[float]] = []
    for cs in reversed(report.comps):
        out.append(set(acc))
        acc |= {float(v) for c in cs for v in c.magnitudes}
    return out[::-1]


def _results(report: RuleReport) -> list[float | None]:
    """Each step's result: the last value its computations state (None when none does)."""
    out: list[float | None] = []
    for cs in report.comps:
        stated = [float(abs(c.stated)) for c in cs if c.stated is not None]
        out.append(stated[-1] if stated else None)
    return out


def _dangling(results: list[float | None], later: list[set[float]]) -> list[bool]:
    """Per step: whether it computes a result that no later step (nor the answer) uses — the
    value a step after it should have taken when it takes another ("40 + 18" after "2 × 40 =
    80")."""
    return [r is not None and r not in after for r, after in zip(results, later, strict=True)]


def _flow(report: RuleReport, results: list[float | None]) -> list[tuple[float, float, float]]:
    """Per step, how values flow through it: whether it uses the previous step's result, how
    many later steps use its own, and how many steps back the oldest earlier result it uses
    was computed (0 when it uses none)."""
    operands = [{float(v) for c in cs for v in c.magnitudes} for cs in report.comps]
    out = []
    for i, ops in enumerate(operands):
        prev = results[i - 1] if i else None
        mine = results[i]
        fanout = sum(mine is not None and mine in later for later in operands[i + 1:])
        ages = [i - j for j in range(i) if results[j] is not None and results[j] in ops]
        out.append((float(prev is not None and prev in ops), float(fanout),
                    float(max(ages, default=0))))
    return out


def _step_row(report: RuleReport, i: int, n: int, later: set[float], unused: int,
              answer_vals: set[Fraction], sims: tuple[float, float, float]) -> list[float]:
    cs, o = report.comps[i], report.origins[i]
    stated = [abs(c.stated) for c in cs if c.stated is not None]
    operands = [v for c in cs for v in c.magnitudes]
    ops = "".join(c.ops for c in cs)
    last = stated[-1] if stated else None
    small = sum(1 for v in o.unknown if v.denominator == 1 and 0 < v <= 12)
    step_text = plain(report.trace.steps[i])
    return [
        len(cs), sum(not c.ok for c in cs), sum(c.error is not None for c in cs),
        o.given, o.derived, small, len(o.unknown) - small, o.reused_given,
        float(any(float(v) in later for v in stated)) if stated else -1.0,
        float(i == n - 1), i / max(n - 1, 1), n,
        ops.count("+"), ops.count("-"), ops.count("*"), ops.count("/"),
        float(last is not None and last.denominator != 1),
        float(any(c.stated is not None and c.stated < 0 for c in cs)),
        float(last is not None and bool(operands) and last > max(operands)),
        float(last is not None and bool(operands) and last < min(operands)),
        math.log10(float(last) + 1) if last is not None else -1.0,
        unused, float(last is not None and last in answer_vals), report.step_p(i),
        *sims, float(not cs and bool(NUM.search(step_text))),
    ]


def context_sims(report: RuleReport, steps: Any, q: Any, win: Any, keys: list[Fraction]
                 ) -> list[tuple[float, ...]]:
    """Per step: how well the question's words around each number the step takes from the
    question match the step's words (min, mean), the step–question similarity, the margin of
    the worst-matching operand's window over the best window of a number the step does not
    use, and the best window of a question number no step uses minus the worst operand's."""
    index = {k: j for j, k in enumerate(keys)}
    used = {v for cs in report.comps for c in cs for v in c.magnitudes}
    spare_ids = {j for k, j in index.items() if k not in used}
    table = (win @ steps.T).T.tolist() if len(keys) else [[] for _ in report.comps]
    q_sims = (steps @ q).tolist()
    out = []
    for i, cs in enumerate(report.comps):
        ids = {index[v] for c in cs for v in c.magnitudes if v in index}
        row = table[i]
        sims = [row[j] for j in ids]
        low = min(sims) if sims else -1.0
        others = [x for j, x in enumerate(row) if j not in ids]
        spare = [x for j, x in enumerate(row) if j not in ids and j in spare_ids]
        out.append((low, sum(sims) / len(sims) if sims else -1.0, q_sims[i],
                    low - max(others) if sims and others else 0.0,
                    max(spare) - low if sims and spare else 0.0))
    return out


def op_inputs(report: RuleReport, view: QuestionView | None = None
              ) -> list[tuple[str, str]]:
    """Per step: the operation model's input text and the operations the step applies."""
    view = view or question_view(report.trace.question, cue_set)
    n = len(report.trace.steps)
    out = []
    for i, cs in enumerate(report.comps):
        text = plain(report.trace.steps[i])
        operands = [v for c in cs for v in c.magnitudes]
        ops = "".join(sorted(set(effective_ops("".join(c.ops for c in cs), operands))))
        clause = target_clause(view, content_words(text))
        traits = _traits(operands)
        out.append((op_text(text, clause, i == n - 1) + traits, ops))
    return out


def _traits(operands: list[Fraction]) -> str:
    """Words for what the operands look like (the operation model reads them; not the
    result, which follows from whatever operation was applied)."""
    out = []
    for v in operands[:4]:
        out.append("nfrac" if v.denominator != 1 else "nsmall" if v <= 12 else
                   "nhundred" if v == 100 else "nbig")
    return " " + " ".join(out) if out else ""


def _windows(question: str) -> dict[Fraction, str]:
    """Each number of the question → the five words either side of it."""
    words = question[:4000].split()
    out: dict[Fraction, str] = {}
    for i, w in enumerate(words):
        if DIGIT.search(w):
            for v in values(w, words=False):
                out.setdefault(v, " ".join(words[max(i - 5, 0):i + 6]))
    return out


def step_matrix(reports: list[RuleReport], embedder: TokenEmbedder, op_model: Any = None,
                op_probs: Any = None) -> Any:
    """Feature rows for every step of every report: rule signals ⊕ step embedding. All texts
    of all reports are embedded in one batch. The operation features come from ``op_probs``
    (one row per step, cross-fitted in training) or else ``op_model`` (else they are 0)."""
    import numpy as np

    memo: dict[str, tuple[dict[Fraction, str], QuestionView, set[Fraction]]] = {}
    for rep in reports:  # a question verified several times in a batch is read once
        q = rep.trace.question
        if q not in memo:
            memo[q] = (_windows(q), question_view(q, cue_set), values(q, words=False))
    windows = [memo[rep.trace.question][0] for rep in reports]
    views = [memo[rep.trace.question][1] for rep in reports]
    inputs = [x for rep, v in zip(reports, views, strict=True) for x in op_inputs(rep, v)]
    if op_probs is None and op_model is not None:
        op_probs = op_model.proba([t for t, _ in inputs])
    if op_probs is None:
        op_probs = np.zeros((len(inputs), 4), dtype=np.float32)
    op_rows = op_features(op_probs, [o for _, o in inputs])
    texts: list[str] = []
    spans = []
    for rep, win in zip(reports, windows, strict=True):
        start = len(texts)
        texts += [plain(s) for s in rep.trace.steps] + [rep.trace.question] + list(win.values())
        spans.append(start)
    if not any(rep.trace.steps for rep in reports):
        return np.zeros((0, len(RULE_NAMES) + embedder.dim), dtype=np.float32)
    distinct = {t: j for j, t in enumerate(dict.fromkeys(texts))}  # each text embedded once
    vecs = embedder.encode(list(distinct))[np.fromiter((distinct[t] for t in texts),
                                                       dtype=np.int64, count=len(texts))]
    rows, step_vecs = [], []
    for rep, win, view, start in zip(reports, windows, views, spans, strict=True):
        n = len(rep.trace.steps)
        steps, q = vecs[start:start + n], vecs[start + n]
        wv = vecs[start + n + 1:start + n + 1 + len(win)]
        rows += rule_features(rep, context_sims(rep, steps, q, wv, list(win)), win, view,
                              memo[rep.trace.question][2])
        step_vecs.append(steps)
    rows = [r + o for r, o in zip(rows, op_rows, strict=True)]
    return np.hstack([np.asarray(rows, dtype=np.float32), np.vstack(step_vecs)])
