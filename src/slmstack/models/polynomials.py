"""Records written as polynomials: one call per equation a request writes.

"The first equation is 3x^2 + 4x + 2 = 0 … The second equation is 5x^2 - 7x + 3 = 0": a small
model writes ``a=3, b=4, c=2`` for the first and stops. When a call's number arguments are the
coefficients of one polynomial the request writes (each argument a different term's), every
other polynomial of the same variable and degree gives a call too, each argument taking that
polynomial's coefficient of the same term (0 for a term it leaves out: "x^2 - 1" has no x).
Coefficients are read as written ("- 7x" is -7, "x" is 1); a polynomial needs a term of
degree 2 or more, so "a = 2" or "3x" alone is none.
"""

from __future__ import annotations

import re
from typing import Any

from ..types import ToolCall

__all__ = ["polynomials", "records"]

_NUM = r"\d+(?:\.\d+)?"
_POWER = r"(?:\s*(?:\^|\*\*)\s*\d+)"
_VAR_TERM = rf"(?:{_NUM})?\s*\*?\s*[a-z]{_POWER}?"
_POLY = re.compile(
    rf"(?<![\w^.*/])-?\s*{_VAR_TERM}(?:\s*[+-]\s*{_VAR_TERM})*(?:\s*[+-]\s*{_NUM})?(?![\w^*/]|\.\d)")
_TERM = re.compile(rf"([+-]?)\s*({_NUM})?\s*\*?\s*(?:([a-z])(?:\s*(?:\^|\*\*)\s*(\d+))?)?")
_MAX_DEGREE = 12


def polynomials(text: str) -> list[tuple[str, dict[int, float]]]:
    """The polynomials ``text`` writes, in order, as (variable, {degree: coefficient})."""
    out = []
    for m in _POLY.finditer(text):
        terms = _terms(m.group())
        if terms is not None:
            out.append(terms)
    return out


def _terms(written: str) -> tuple[str, dict[int, float]] | None:
    variables: set[str] = set()
    coefficients: dict[int, float] = {}
    for t in _TERM.finditer(written):
        sign, number, variable, power = t.groups()
        if not number and not variable:
            continue
        degree = 0 if not variable else int(power) if power else 1
        if degree in coefficients or degree > _MAX_DEGREE:
            return None
        if variable:
            variables.add(variable)
        value = float(number) if number else 1.0
        coefficients[degree] = -value if sign == "-" else value
    if len(variables) != 1 or max(coefficients, default=0) < 2 or len(coefficients) < 2:
        return None
    return variables.pop(), coefficients


def records(call: ToolCall, text: str) -> list[ToolCall]:
    """``call`` once per polynomial of the request, in the order written, when its number
    arguments (two or more) are the coefficients of different terms of one of them and the
    request writes another of the same variable and degree; else []."""
    numbers = {k: float(v) for k, v in call.arguments.items()
               if isinstance(v, int | float) and not isinstance(v, bool)}
    if len(numbers) < 2:
        return []
    found = polynomials(text)
    for variable, terms in found:
        degree_of = _degrees(numbers, terms)
        if degree_of is None:
            continue
        top = max(terms)
        same = [t for v, t in found if v == variable and max(t) == top]
        if len(same) < 2:
            return []
        out = []
        for t in same:
            new: dict[str, Any] = dict(call.arguments)
            for key, degree in degree_of.items():
                value = t.get(degree, 0.0)
                new[key] = int(value) if isinstance(call.arguments[key], int) \
                    and value.is_integer() else value
            out.append(ToolCall(name=call.name, arguments=new))
        if len({repr(sorted(c.arguments.items())) for c in out}) != len(out):
            return []
        return out
    return []


def _degrees(numbers: dict[str, float], terms: dict[int, float]) -> dict[str, int] | None:
    """Each argument's term: the one whose coefficient it is, terms with equal coefficients
    taken from the highest degree down in the order of the arguments; None unless every
    argument is a different term's."""
    free = sorted(terms, reverse=True)
    out = {}
    for key, value in numbers.items():
        degree = next((d for d in free if terms[d] == value), None)
        if degree is None:
            return None
        free.remove(degree)
        out[key] = degree
    return out
