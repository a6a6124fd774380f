"""Equations a request writes, read as records: one call per polynomial (no model)."""

from __future__ import annotations

from slmstack.models.polynomials import polynomials, records
from slmstack.types import ToolCall

TWO = ("The first equation is 3x^2 + 4x + 2 = 0, where 'a' is the coefficient of x^2. The "
       "second equation is 5x^2 - 7x + 3 = 0.")


def test_polynomials_are_read_term_by_term() -> None:
    assert polynomials(TWO) == [("x", {2: 3.0, 1: 4.0, 0: 2.0}), ("x", {2: 5.0, 1: -7.0, 0: 3.0})]
    assert polynomials("the derivative of 3x^2 + 2x - 1.") == [("x", {2: 3.0, 1: 2.0, 0: -1.0})]
    assert polynomials("y**3 - y + 2.5") == [("y", {3: 1.0, 1: -1.0, 0: 2.5})]
    # no term of degree 2 or more, a unit's exponent, one term alone: no polynomial
    assert polynomials("a = 2, b = 5 and 3x + 1") == []
    assert polynomials("accelerates at 5 m/s^2 + 3") == []
    assert polynomials("f(x)=x^2") == []


def test_each_equation_gives_a_call_with_its_coefficients() -> None:
    call = ToolCall(name="roots", arguments={"a": 3, "b": 4, "c": 2, "round": True})
    out = records(call, TWO)
    assert [c.arguments for c in out] == [{"a": 3, "b": 4, "c": 2, "round": True},
                                          {"a": 5, "b": -7, "c": 3, "round": True}]
    # a term left out is 0; the call may be for the later equation
    text = "Solve x^2 - 1 = 0 and 2x^2 + 3x + 4 = 0."
    out = records(ToolCall(name="roots", arguments={"a": 2, "b": 3, "c": 4}), text)
    assert [c.arguments for c in out] == [{"a": 1, "b": 0, "c": -1}, {"a": 2, "b": 3, "c": 4}]


def test_no_records_unless_every_number_is_a_coefficient_of_one_equation() -> None:
    assert records(ToolCall(name="roots", arguments={"a": 3, "b": 4, "c": 9}), TWO) == []
    assert records(ToolCall(name="roots", arguments={"a": 3}), TWO) == []
    # another degree or another variable is another kind of equation
    text = "Solve 3x^2 + 4x + 2 = 0 and 2x^3 - x + 1 = 0 and 5y^2 + y = 0."
    assert records(ToolCall(name="roots", arguments={"a": 3, "b": 4, "c": 2}), text) == []


def test_a_signed_coefficient_counts_as_written_in_the_request() -> None:
    from slmstack.models.grounding import Evidence, is_grounded

    evidence = Evidence("The second equation is 5x^2 - 7x + 3 = 0.")
    assert is_grounded(-7, evidence, "b") and is_grounded(5, evidence, "a")
    assert not is_grounded(-8, evidence, "b")
