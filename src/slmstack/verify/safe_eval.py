"""Exact arithmetic on untrusted text: ``ast`` → Fractions, with hard limits, never ``eval``.

Only numbers, ``+ - * / // % **``, unary signs and parentheses are accepted. Limits bound the
input length, the tree size and depth, exponents and the size of every intermediate value, so
``9**9**9``, a megabyte of digits or ten thousand nested parentheses fail fast with an
``UnsafeExpression`` instead of hanging or crashing.
"""

from __future__ import annotations

import ast
import math
import operator
from fractions import Fraction
from functools import lru_cache

MAX_CHARS = 512  # longer expressions are not something a reasoning step states
MAX_NODES = 128
MAX_DEPTH = 32
MAX_EXPONENT = 64
MAX_BITS = 2048  # numerator/denominator size of any intermediate value

_BINOPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}


class UnsafeExpression(ValueError):
    """The text is not a plain arithmetic expression, or it exceeds a limit."""


def evaluate(text: str, parts: list[Fraction] | None = None) -> Fraction:
    """The exact value of an arithmetic expression such as ``"48/2"`` or ``"(3+4)*2**3"``.
    ``parts``, when given, collects the value of every sub-expression (``8*2`` in ``8*2+4``)."""
    if len(text) > MAX_CHARS:
        raise UnsafeExpression(f"expression of {len(text)} characters is over {MAX_CHARS}")
    value, sub = _evaluate(text)
    if parts is not None:
        parts.extend(sub)
    return value


@lru_cache(maxsize=8192)
def _evaluate(text: str) -> tuple[Fraction, tuple[Fraction, ...]]:
    """Value and sub-expression values, cached (a pure function of the text; the same
    expression recurs in a step's annotation and its written form, and across traces).
    Refusals are raised again each time, never cached."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise UnsafeExpression(f"not an arithmetic expression: {text[:60]!r} ({exc})") from None
    parts: list[Fraction] = []
    value = _eval(tree.body, 0, parts)
    if len(parts) > MAX_NODES:
        raise UnsafeExpression(f"expression has more than {MAX_NODES} operations: {text[:60]!r}")
    return value, tuple(parts)


def _eval(node: ast.AST, depth: int, parts: list[Fraction]) -> Fraction:
    if depth > MAX_DEPTH or len(parts) > MAX_NODES:
        raise UnsafeExpression(f"expression nested deeper than {MAX_DEPTH} or longer than "
                               f"{MAX_NODES} operations")
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        if isinstance(node.value, float) and not math.isfinite(node.value):
            raise UnsafeExpression(f"number {node.value!r} is out of range")
        return _checked(Fraction(str(node.value)) if isinstance(node.value, float)
                        else Fraction(node.value))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _eval(node.operand, depth + 1, parts)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp):
        value = _binop(node, depth, parts)
        parts.append(value)
        return value
    raise UnsafeExpression(f"{type(node).__name__} is not allowed in arithmetic")


def _binop(node: ast.BinOp, depth: int, parts: list[Fraction]) -> Fraction:
    left, right = _eval(node.left, depth + 1, parts), _eval(node.right, depth + 1, parts)
    if isinstance(node.op, ast.Pow):
        return _power(left, right)
    fn = _BINOPS.get(type(node.op))
    if fn is None:
        raise UnsafeExpression(f"operator {type(node.op).__name__} is not allowed")
    if right == 0 and isinstance(node.op, ast.Div | ast.FloorDiv | ast.Mod):
        raise UnsafeExpression("division by zero")
    return _checked(Fraction(fn(left, right)))


def _power(base: Fraction, exp: Fraction) -> Fraction:
    if exp.denominator != 1 or abs(exp) > MAX_EXPONENT:
        raise UnsafeExpression(f"exponent {exp} is not a whole number up to {MAX_EXPONENT}")
    if base == 0 and exp < 0:
        raise UnsafeExpression("zero to a negative power")
    bits = max(base.numerator.bit_length(), base.denominator.bit_length())
    if bits * abs(int(exp)) > MAX_BITS:
        raise UnsafeExpression(f"power with exponent {exp} is too large")
    return _checked(base ** int(exp))


def _checked(value: Fraction) -> Fraction:
    if max(value.numerator.bit_length(), value.denominator.bit_length()) > MAX_BITS:
        raise UnsafeExpression("intermediate value too large")
    return value
