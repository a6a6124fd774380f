"""Realistic flawed solutions from correct ones: the training data of the step classifier.

Each corruption edits one computation of a GSM8K reference solution — both its readable text and
its ``<<expr=value>>`` annotation — and, like a model that carries its mistake forward, rewrites
the later steps that used the changed value. ``cancel_out`` does not carry it forward: the
intermediate value is wrong but the final answer is still right.

Labels: a step is flawed when it holds the corruption, or (``cancel_out``) when it uses a value
no earlier step established. Steps that correctly compute on a carried-forward wrong value are
sound in themselves and labelled clean.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from fractions import Fraction

from .numerals import fmt, values
from .safe_eval import UnsafeExpression, evaluate
from .trace import ANNOTATION, Trace

KINDS = ("arith_slip", "wrong_operand", "swapped_quantity", "wrong_operation", "cancel_out")
NUM_IN_EXPR = re.compile(r"\d+(?:\.\d+)?|\.\d+")
OP_IN_EXPR = re.compile(r"(?<=[\d)])\s*([-+*/])\s*(?=[\d(.])")
DISPLAY = re.compile(r"((?:\$?\d[\d,]*(?:\.\d+)?%?|\$?\.\d+|[-+*/x×÷()]|[ \t])+)=\s*\$?\s*$")
SWAP_OPS = {"+": "-*", "-": "+", "*": "/+", "/": "*"}


@dataclass
class Example:
    """A solution with step labels."""

    problem: str  # id of the GSM8K problem (split:index) — splits are made by problem
    kind: str  # clean or one of KINDS
    question: str
    steps: list[str]
    answer: str
    flawed: list[int] = field(default_factory=list)
    answer_right: bool = True
    detail: str = ""

    def trace(self) -> Trace:
        return Trace(question=self.question, steps=self.steps, answer=self.answer,
                     meta={"problem": self.problem, "kind": self.kind})


def clean(problem: str, question: str, solution: str) -> Example:
    t = Trace.from_gsm8k(question, solution)
    return Example(problem, "clean", question, t.steps, t.answer)


def corruptions(problem: str, question: str, solution: str, seed: int = 0) -> list[Example]:
    """One corrupted variant per kind, where the solution allows it."""
    base = clean(problem, question, solution)
    out = []
    for n, kind in enumerate(KINDS):
        rng = random.Random(f"{seed}:{problem}:{n}")
        ex = _corrupt(base, kind, rng)
        if ex is not None:
            out.append(ex)
    return out


# ---- one edit ----------------------------------------------------------------------------------
@dataclass
class Edit:
    step: int
    old: Fraction  # the value the step stated
    new: Fraction  # the value it states now
    how: str


def _corrupt(base: Example, kind: str, rng: random.Random) -> Example | None:
    sites = _sites(base.steps, carried=kind == "cancel_out")
    if not sites:
        return None
    steps = list(base.steps)
    step, k = rng.choice(sites)
    how = rng.choice(KINDS[:4]) if kind == "cancel_out" else kind
    edit = _edit(steps, step, k, how, base.question, rng)
    if edit is None:
        return None
    answer, flawed = base.answer, [step]
    if kind == "cancel_out":
        flawed += _users(steps, step, edit.old)
        if len(flawed) == 1:
            return None
    else:
        answer, changes = _carry(steps, step, edit, answer)
        if _stale(steps, step, changes):
            return None  # a later step states an old value in words we cannot rewrite
    right = _same(answer, base.answer)
    return Example(base.problem, kind, base.question, steps, answer, sorted(set(flawed)),
                   right, f"{how} at step {step}: {fmt(edit.old)} → {fmt(edit.new)}")


def _sites(steps: list[str], carried: bool) -> list[tuple[int, int]]:
    sites = []
    for i, s in enumerate(steps):
        anns = list(ANNOTATION.finditer(s))
        for k, m in enumerate(anns):
            if "=" in m.group(1) and OP_IN_EXPR.search(m.group(1).rpartition("=")[0]):
                if not carried or _users(steps, i, _stated(m.group(1))):
                    sites.append((i, k))
    return sites


def _stated(ann: str) -> Fraction:
    try:
        return Fraction(ann.rpartition("=")[2].replace(",", "").strip())
    except (ValueError, ZeroDivisionError):
        return Fraction(-1)


def _edit(steps: list[str], i: int, k: int, how: str, question: str, rng: random.Random
          ) -> Edit | None:
    m = list(ANNOTATION.finditer(steps[i]))[k]
    lhs, _, rhs = m.group(1).rpartition("=")
    old = _stated(m.group(1))
    if how == "arith_slip":
        new_lhs, new = lhs, _slip(old, rng)
    else:
        new_lhs = _new_lhs(lhs, how, question, steps[:i], rng)
        if new_lhs is None:
            return None
        try:
            new = _round(evaluate(new_lhs))
        except UnsafeExpression:
            return None
    if new is None or new == old or new < 0 or new.denominator > 100:
        return None
    steps[i] = _rewrite(steps[i], m, lhs, new_lhs, new)
    return Edit(i, old, new, how)


def _slip(v: Fraction, rng: random.Random) -> Fraction | None:
    options = [v + 1, v - 1, v + 10, v - 10, v * 10, v + 2, v - 2]
    text = fmt(v)
    if len(text) >= 2 and text.isdigit() and text[-1] != text[-2]:
        options.append(Fraction(text[:-2] + text[-1] + text[-2]))
    options = [o for o in options if o > 0 and o != v]
    return rng.choice(options) if options else None


def _new_lhs(lhs: str, how: str, question: str, before: list[str], rng: random.Random
             ) -> str | None:
    if how == "wrong_operation":
        ops = list(OP_IN_EXPR.finditer(lhs))
        m = rng.choice(ops)
        new_op = rng.choice(SWAP_OPS[m.group(1)])
        return lhs[:m.start(1)] + new_op + lhs[m.end(1):]
    nums = list(NUM_IN_EXPR.finditer(lhs))
    m = rng.choice(nums)
    old = Fraction(m.group())
    if how == "wrong_operand":
        pool = [old + d for d in (1, 2, 3, -1, -2, 5, 10)] + [old * 2, old / 2]
    else:  # swapped_quantity: another number the problem gives (or an earlier step stated)
        pool = sorted(values(question, words=False) | values(" ".join(before), words=False))
    in_expr = {Fraction(n.group()) for n in nums}
    pool = [p for p in pool if p > 0 and p not in in_expr and p.denominator <= 100]
    if not pool:
        return None
    return lhs[:m.start()] + fmt(rng.choice(pool), 2) + lhs[m.end():]


def _round(v: Fraction) -> Fraction:
    return v if v.denominator in (1, 2, 4, 5, 10, 20, 25, 50, 100) else Fraction(round(v, 2))


def _rewrite(step: str, m: re.Match[str], lhs: str, new_lhs: str, new: Fraction) -> str:
    """The step with its annotation, the result after it and the readable expression before
    it (when there is one) all saying the new thing."""
    before, after = step[:m.start()], step[m.end():]
    after = re.sub(r"^(\s*\$?)[\d,]*\.?\d+", lambda r: r.group(1) + _like(r.group(0), new),
                   after, count=1)
    d = DISPLAY.search(before)
    if d and new_lhs != lhs and re.search(r"[-+*/x×÷]", d.group(1)):
        before = before[:d.start(1)] + _render(d.group(1), new_lhs) + before[d.end(1):]
    elif new_lhs != lhs:
        before = _retext(before, lhs, new_lhs)
    return f"{before}<<{new_lhs}={fmt(new, 2)}>>{after}"


def _retext(before: str, lhs: str, new_lhs: str) -> str:
    """The readable text since the previous annotation, with the numbers (and, when it writes
    them, the operators) the expression changed: "2 * 80 sheep = " → "2 * 90 sheep = "."""
    cut = before.rfind(">>") + 2 if ">>" in before else 0
    head, text = before[:cut], before[cut:]
    olds, news = NUM_IN_EXPR.findall(lhs), NUM_IN_EXPR.findall(new_lhs)
    if len(olds) == len(news):
        for a, b in zip(olds, news, strict=True):
            if a != b:
                text = _swap_number(text, Fraction(a), b)
    old_ops, new_ops = OP_IN_EXPR.findall(lhs), OP_IN_EXPR.findall(new_lhs)
    written = list(re.finditer(r"(?<=\s)[-+*/x×÷](?=\s)", text))
    if old_ops != new_ops and len(written) == len(old_ops) == len(new_ops):
        for m, a, b in reversed(list(zip(written, old_ops, new_ops, strict=True))):
            if a != b:
                text = text[:m.start()] + b.replace("*", "x" if m.group() == "x" else "*") \
                    + text[m.end():]
    return head + text


def _swap_number(text: str, old: Fraction, new: str) -> str:
    for m in reversed(list(re.finditer(r"(?<![\d.,])\d[\d,]*(?:\.\d+)?(?![\d,]\d)", text))):
        try:
            if Fraction(m.group().replace(",", "")) == old:
                return text[:m.start()] + _like(m.group(), Fraction(new)) + text[m.end():]
        except ValueError:
            continue
    return text


def _like(old_text: str, new: Fraction) -> str:
    text = fmt(new, 2)
    if "," in old_text and new.denominator == 1:
        text = f"{new.numerator:,}"
    lead = re.match(r"^\s*\$?", old_text)
    return (lead.group(0) if lead else "") + text


def _render(display: str, expr: str) -> str:
    """``expr`` written the way ``display`` writes expressions (spacing, ``x`` or ``×``)."""
    spaced = " " in display.strip()
    times = next((c for c in "x×X" if re.search(rf"(?<=[\d\s]){c}(?=[\s\d$])", display)), "*")
    divide = "÷" if "÷" in display else "/"
    style = {"*": times, "/": divide}
    body = re.sub(r"\s*([-+*/])\s*",
                  lambda m: f" {style.get(m.group(1), m.group(1))} " if spaced
                  else style.get(m.group(1), m.group(1)), expr)
    lead = display[: len(display) - len(display.lstrip())]
    trail = display[len(display.rstrip()):]
    return f"{lead}{body}{trail}"


# ---- carrying a changed value forward ------------------------------------------------------------
def _users(steps: list[str], i: int, value: Fraction) -> list[int]:
    """Later steps whose computations use ``value``."""
    out = []
    for j in range(i + 1, len(steps)):
        for m in ANNOTATION.finditer(steps[j]):
            lhs = m.group(1).rpartition("=")[0]
            if any(Fraction(n.group()) == value for n in NUM_IN_EXPR.finditer(lhs)):
                out.append(j)
                break
    return out


def _carry(steps: list[str], i: int, edit: Edit, answer: str
           ) -> tuple[str, dict[Fraction, Fraction]]:
    changes = {edit.old: edit.new}
    for j in range(i + 1, len(steps)):
        steps[j], more = _recompute(steps[j], changes, j)
        changes.update(more)
    final = _parse(answer)
    if final is not None and final in changes:
        return fmt(changes[final], 2), changes
    return answer, changes


def _stale(steps: list[str], i: int, changes: dict[Fraction, Fraction]) -> bool:
    for s in steps[i + 1:]:
        if not ANNOTATION.search(s):
            nums = {Fraction(n.replace(",", "")) for n in re.findall(r"\d[\d,]*(?:\.\d+)?", s)
                    if n.replace(",", "").replace(".", "", 1).isdigit()}
            if nums & set(changes):
                return True
    return False


def _recompute(step: str, changes: dict[Fraction, Fraction], j: int
               ) -> tuple[str, dict[Fraction, Fraction]]:
    more: dict[Fraction, Fraction] = {}
    for m in reversed(list(ANNOTATION.finditer(step))):
        lhs, _, _ = m.group(1).rpartition("=")
        new_lhs = NUM_IN_EXPR.sub(
            lambda n: fmt(changes[Fraction(n.group())], 2)
            if Fraction(n.group()) in changes else n.group(), lhs)
        if new_lhs == lhs:
            continue
        try:
            new = _round(evaluate(new_lhs))
        except UnsafeExpression:
            continue
        old = _stated(m.group(1))
        step = _rewrite(step, m, lhs, new_lhs, new)
        if new != old:
            more[old] = new
    return step, more


def _parse(text: str) -> Fraction | None:
    try:
        return Fraction(text.replace(",", "").replace("$", "").strip())
    except (ValueError, ZeroDivisionError):
        return None


def _same(a: str, b: str) -> bool:
    x, y = _parse(a), _parse(b)
    return a.strip() == b.strip() if x is None or y is None else x == y
