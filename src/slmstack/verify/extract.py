"""Find the computations a step states: GSM8K ``<<expr=value>>`` annotations, written equations
(``3 × 4 = 12``, chains ``16 - 3 - 4 = 9``), ``X% of Y is Z`` and unit conversions."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property

from .numerals import frac
from .safe_eval import UnsafeExpression, evaluate
from .trace import ANNOTATION, plain

_N = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+"
TOKEN = re.compile(  # a number is not the minutes of 6:48 nor glued to a word ("5A", "12kg")
    rf"(?P<num>(?!(?<=\d:)\d\d)(?<!\d)\$?(?:{_N})(?:\s?%|(?![A-WYZa-wyz\d]|[.,]\d)))"
    r"|(?P<op>[-+*/×÷–−])|(?P<x>(?<=[\d\s)])[xX](?=\s*[\d$(]))"
    r"|(?P<lp>\()|(?P<rp>\))|(?P<eq>=)|(?P<ws>[ \t]+)|(?P<other>[^\d$.+*/×÷–−xX()=\s-]+|.|\n)"
)
PERCENT_OF = re.compile(
    rf"(?<![\d.])({_N})\s*(?:%|percent)\s+of\s+(?:the\s+)?\$?({_N})\s*"
    rf"(?:is|=|equals|are|was|makes|gives|comes to)\s+\$?({_N})"
    r"(?![\d.,]\d|\s*[-+*/×x÷]\s*\d)", re.I)
UNITS: dict[str, tuple[str, Fraction]] = {}
for _names, _dim, _factor in [
    ("second seconds sec secs", "time", Fraction(1)), ("minute minutes min mins", "time", 60),
    ("hour hours hr hrs", "time", 3600), ("day days", "time", 86400),
    ("week weeks", "time", 604800), ("inch inches", "length", Fraction(254, 10000)),
    ("foot feet ft", "length", Fraction(3048, 10000)), ("yard yards yd", "length",
                                                        Fraction(9144, 10000)),
    ("mile miles", "length", Fraction(1609344, 1000)), ("millimeter millimeters mm",
                                                             "length", Fraction(1, 1000)),
    ("centimeter centimeters cm", "length", Fraction(1, 100)),
    ("meter meters metre metres", "length", Fraction(1)),
    ("kilometer kilometers km", "length", Fraction(1000)), ("gram grams", "mass", Fraction(1)),
    ("kilogram kilograms kg", "mass", Fraction(1000)), ("milligram milligrams mg", "mass",
                                                        Fraction(1, 1000)),
    ("pound pounds lb lbs", "mass", Fraction(45359237, 100000)),
    ("ounce ounces oz", "mass", Fraction(45359237, 1600000)),
    ("milliliter milliliters ml", "volume", Fraction(1, 1000)),
    ("liter liters litre litres", "volume", Fraction(1)),
    ("dollar dollars", "money", Fraction(100)), ("cent cents", "money", Fraction(1)),
]:
    for _name in _names.split():
        UNITS[_name] = (_dim, Fraction(_factor))
_U = "|".join(sorted(UNITS, key=len, reverse=True))
UNIT_EQ = re.compile(
    rf"(?<![\d.])({_N})\s*({_U})\b\.?\s*(?:=|is|are|equals|makes)\s*({_N})\s*({_U})\b", re.I)


OPERATORS = set("+-*/×÷xX")


@dataclass
class Computation:
    """One computation a step states, recomputed exactly."""

    step: int
    source: str  # annotation | equation | percent | unit
    expr: str
    stated: Fraction | None
    stated_text: str = ""
    computed: Fraction | None = None
    operands: list[Fraction] = field(default_factory=list)
    ops: str = ""
    error: str | None = None  # why it could not be recomputed
    parts: list[Fraction] = field(default_factory=list)  # values of its sub-expressions

    @cached_property
    def magnitudes(self) -> list[Fraction]:
        """``abs`` of each operand, made once (Fraction arithmetic is slow)."""
        return [v if v.numerator >= 0 else -v for v in self.operands]

    @property
    def ok(self) -> bool:
        if self.computed is None or self.stated is None:
            return True  # nothing to contradict
        return agrees(self.stated, self.computed, self.stated_text)


def agrees(stated: Fraction, computed: Fraction, stated_text: str = "") -> bool:
    """Equal, or the stated value is the computed one rounded as written (3.33 for 10/3, or
    a whole number next to a non-whole result: 4 buses for 10/3 of a bus)."""
    if stated == computed or (stated_text.rstrip().endswith("%") and stated * 100 == computed):
        return True
    places = len(stated_text.split(".", 1)[1].rstrip("% ")) if "." in stated_text else 0
    if places:
        return abs(computed - stated) <= Fraction(1, 2 * 10**places) + Fraction(1, 10**12)
    if computed.denominator != 1:
        return stated.denominator == 1 and abs(stated - computed) < 1
    return False


def number(text: str) -> Fraction:
    t = text.replace("$", "").replace(",", "").replace(" ", "")
    if t.endswith("%"):
        return frac(t[:-1]) / 100
    return frac(t)


def _pyexpr(tokens: list[tuple[str, str]]) -> tuple[str, list[Fraction], str]:
    parts, operands, ops = [], [], ""
    prev = ""
    for kind, text in tokens:
        if prev in ("num", "rp") and kind in ("num", "lp"):
            parts.append("*")  # 2(8) and (1/2) 1956 mean multiplication
            ops += "*"
        prev = kind
        if kind == "num":
            value = number(text)
            operands.append(value * 100 if text.rstrip().endswith("%") else value)
            parts.append(f"({value.numerator}/{value.denominator})"
                         if value.denominator != 1 else str(value.numerator))
        elif kind in ("op", "x"):
            op = {"×": "*", "x": "*", "X": "*", "÷": "/", "–": "-", "−": "-"}.get(text, text)
            parts.append(op)
            ops += op
        else:
            parts.append(text)
    return "".join(parts), operands, ops


def annotations(step_text: str, step: int) -> list[Computation]:
    out = []
    for m in ANNOTATION.finditer(step_text):
        lhs, eq, rhs = m.group(1).rpartition("=")
        if not eq:
            continue
        tokens = _tokens(lhs)
        if not any(k in ("op", "x") for k, _ in tokens):
            continue  # <<24=24>> restates a value, it computes nothing
        comp = _compute(step, "annotation", tokens, rhs.strip())
        if comp is not None:
            out.append(comp)
    return out


MIXED = re.compile(r"(?<![\d./])(\d+)\s+(\d+)/(\d+)(?![\d/])")
SPACED_THOUSANDS = re.compile(r"(?<![\d.,])(\d{1,3})((?: \d{3})+)(?![\d\-]|\.\d)")
DIVIDE_BY_FRACTION = re.compile(r"/\s+(\d+)/(\d+)(?![\d/])")


def _tokens(text: str) -> list[tuple[str, str]]:
    text = MIXED.sub(r"(\1+\2/\3)", text)  # 1 1/2 → (1+1/2)
    text = DIVIDE_BY_FRACTION.sub(r"/ (\1/\2)", text)  # 28 / 1/5 means 28 ÷ (1/5)
    text = SPACED_THOUSANDS.sub(lambda m: m.group(1) + m.group(2).replace(" ", ""), text)
    return [(m.lastgroup or "", m.group()) for m in TOKEN.finditer(text) if m.lastgroup != "ws"]


def _compute(step: int, source: str, tokens: list[tuple[str, str]],
             rhs: str | list[tuple[str, str]]) -> Computation | None:
    if not tokens or any(k in ("other", "eq") for k, _ in tokens):
        return None
    expr, operands, ops = _pyexpr(tokens)
    stated_text = rhs if isinstance(rhs, str) else "".join(t for _, t in rhs).strip()
    try:
        stated = number(rhs) if isinstance(rhs, str) else _value(rhs)
    except (ValueError, ZeroDivisionError, UnsafeExpression):
        return None
    if stated is None:
        return None
    comp = Computation(step, source, expr, stated, stated_text, operands=operands, ops=ops)
    try:
        comp.computed = evaluate(expr, comp.parts)
    except UnsafeExpression as exc:
        comp.error = str(exc)
    return comp


def _value(tokens: list[tuple[str, str]]) -> Fraction | None:
    """The value a right-hand side states: one number, or an expression (``28/2``)."""
    if len(tokens) == 1:
        return number(tokens[0][1])
    if any(k in ("other", "eq") for k, _ in tokens):
        return None
    return evaluate(_pyexpr(tokens)[0])


def equations(step_text: str, step: int) -> list[Computation]:
    """``a op b … = c`` runs in the readable text (annotations removed)."""
    out: list[Computation] = []
    text = UNIT_PER.sub(r"\1_per_\2", plain(step_text))
    for run in _runs(_tokens(text)):
        out.extend(_chain(run, step))
    return out


LEAD_INS = frozenset("and plus minus times of by over than".split())


UNIT_PER = re.compile(r"([A-Za-z]+)/([A-Za-z]+)")


def _runs(tokens: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """Maximal stretches of numbers/operators holding an ``=``. Unit words between a number and
    the next operator (``14 pieces * 60 houses = 840``) stay inside the stretch; a stretch right
    after "and", "times", … continues an expression written partly in words: left alone."""
    runs: list[list[tuple[str, str]]] = []
    cur: list[tuple[str, str]] = []
    before = ""
    for n, tok in enumerate([*tokens, ("other", ".")]):
        if tok[0] != "other":
            cur.append(tok)
            continue
        if _unit_word(tokens, n, cur):
            continue
        if any(k == "eq" for k, _ in cur) and before.lower() not in LEAD_INS:
            runs.append(cur)
        cur = []
        if tok[1].strip():
            before = tok[1].strip()
    return runs


def _unit_word(tokens: list[tuple[str, str]], n: int, cur: list[tuple[str, str]]) -> bool:
    if n >= len(tokens) or not cur or cur[-1][0] not in ("num", "rp"):
        return False
    word = tokens[n][1]
    if len(word) < 2 or not word.replace("_", "").isalpha():
        return False  # "11x + 15": x is a variable, not a unit
    rest = [(k, t) for k, t in tokens[n + 1:n + 4]
            if k != "other" or not t.replace("_", "").isalpha()]
    return bool(rest) and rest[0][0] in ("op", "x", "eq", "rp") and rest[0][1] != "/"


def _chain(run: list[tuple[str, str]], step: int) -> list[Computation]:
    segments: list[list[tuple[str, str]]] = [[]]
    for tok in run:
        if tok[0] == "eq":
            segments.append([])
        else:
            segments[-1].append(tok)
    if segments[-1] and segments[-1][-1][0] in ("op", "x"):
        segments.pop()  # "= 16 + x - 16": the expression goes on in words
    out = []
    for left, right in zip(segments, segments[1:], strict=False):
        left, right = _trim(left), _trim(_head(right))
        if not left or not right:
            continue
        if left[0][0] not in ("num", "lp") or right[0][0] not in ("num", "lp"):
            continue
        if not any(k in ("op", "x") for k, _ in left):
            continue
        if any(k in ("op", "x") for k, _ in right):
            right = _continuation(left, right)
        comp = _compute(step, "equation", left, right)
        if comp is not None:
            out.append(comp)
    return out


def _continuation(left: list[tuple[str, str]], right: list[tuple[str, str]]
                  ) -> list[tuple[str, str]]:
    """``3/2 = 1.50 + 3.00 = 4.50`` goes on from the result: then only 1.50 is stated."""
    try:
        whole = _value(right)
        first = number(right[0][1]) if right[0][0] == "num" else None
        value = evaluate(_pyexpr(left)[0])
    except (UnsafeExpression, ValueError, ZeroDivisionError):
        return right
    if whole != value and first is not None and agrees(first, value, right[0][1]):
        return right[:1]
    return right


def _head(seg: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The stated value: up to a second number with no operator between ("12 5-minute …")."""
    for i in range(1, len(seg)):
        if seg[i][0] == "num" and seg[i - 1][0] in ("num", "rp"):
            return seg[:i]
    return seg


def _trim(seg: list[tuple[str, str]]) -> list[tuple[str, str]] | None:
    """A segment without dangling operators; None when its parentheses do not balance
    (the expression started or ends outside the numbers, e.g. in words)."""
    seg = list(seg)
    while seg and seg[-1][0] in ("op", "x"):
        seg.pop()
    depth = 0
    for kind, _ in seg:
        depth += 1 if kind == "lp" else -1 if kind == "rp" else 0
        if depth < 0:
            return None
    return seg if depth == 0 else None


UNIT_HINT = re.compile(r"\d\s*[A-Za-z]+\.?\s*(?:=|is|are|equals|makes)\s*\d", re.I)


def percents(step_text: str, step: int) -> list[Computation]:
    out: list[Computation] = []
    if "%" not in step_text and "percent" not in step_text.lower():
        return out
    for m in PERCENT_OF.finditer(plain(step_text)):
        rate, base = number(m.group(1)), number(m.group(2))
        out.append(Computation(step, "percent", f"{m.group(1)}% of {m.group(2)}",
                               number(m.group(3)), m.group(3), rate * base / 100,
                               operands=[rate, base], ops="*"))
    return out


def conversions(step_text: str, step: int) -> list[Computation]:
    out: list[Computation] = []
    text = plain(step_text)
    if not UNIT_HINT.search(text):
        return out
    for m in UNIT_EQ.finditer(text):
        if text[:m.start()].rstrip()[-1:] in OPERATORS:
            continue  # "1250 hours / 250 days = 5 hours" is a rate, not a conversion
        (d1, f1), (d2, f2) = UNITS[m.group(2).lower()], UNITS[m.group(4).lower()]
        if d1 != d2 or f1 == f2:
            continue
        amount = number(m.group(1))
        out.append(Computation(step, "unit", f"{m.group(1)} {m.group(2)} in {m.group(4)}",
                               number(m.group(3)), m.group(3), amount * f1 / f2,
                               operands=[amount], ops="*"))
    return out


def computations(step_text: str, step: int) -> list[Computation]:
    found = annotations(step_text, step) + equations(step_text, step)
    found += percents(step_text, step) + conversions(step_text, step)
    return _dedupe(found)


def _dedupe(found: list[Computation]) -> list[Computation]:
    seen, out = set(), []
    for c in found:
        key = (c.expr.replace(" ", ""), c.stated)
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out
