from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slmstack.verify.safe_eval import UnsafeExpression, evaluate


@pytest.mark.parametrize(("expr", "value"), [
    ("48/2", 24), ("16-3-4", 9), ("(3+4)*2**3", 56), ("80000*1.5", 120000),
    ("10/3", Fraction(10, 3)), ("-5+2", -3), (".25/.05", 5), ("7//2", 3), ("7%4", 3),
])
def test_exact_values(expr, value):
    assert evaluate(expr) == value


@pytest.mark.parametrize("expr", [
    "9**9**9", "2**100000", "*".join(["10**64"] * 12),
    "(" * 5000 + "1" + ")" * 5000, "1+" * 300_000 + "1", "9" * 1_000_000,
    "__import__('os').system('true')", "x+1", "[1,2]", "1 if 1 else 2", "abs(-1)", "1/0",
    "0**-1", "2**0.5", "'a'*3", "1e999*1",
])
def test_refuses_unsafe_or_huge_input_quickly(expr):
    with pytest.raises(UnsafeExpression):
        evaluate(expr)


def test_collects_sub_expression_values():
    parts: list[Fraction] = []
    evaluate("8*2+4*5", parts)
    assert {Fraction(16), Fraction(20), Fraction(36)} <= set(parts)


@given(st.lists(st.integers(-10**6, 10**6), min_size=1, max_size=8),
       st.lists(st.sampled_from("+-*"), min_size=7, max_size=7))
def test_matches_integer_arithmetic(nums, ops):
    expr = str(nums[0])
    for n, op in zip(nums[1:], ops, strict=False):
        expr += f"{op}({n})"
    assert evaluate(expr) == eval(expr, {"__builtins__": {}})  # noqa: S307 - the oracle
