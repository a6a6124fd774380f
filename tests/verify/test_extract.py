from __future__ import annotations

from fractions import Fraction

import pytest

from slmstack.verify.extract import computations


def _bad(text: str) -> list[str]:
    return [c.expr for c in computations(text, 0) if not c.ok]


@pytest.mark.parametrize("text", [
    "Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day.",
    "She makes 9 * 2 = $<<9*2=18>>18 every day.",
    "The cost came out to 80,000+50,000=$<<80000+50000=130000>>130,000",
    "Each gets 10/3 = 3.33 pizzas, so they need 10/3 = 4 boxes.",
    "8 people eat 1 1/2 rolls each, 8 x 1 1/2 = 12 rolls.",
    "Marco gets 28 / 1/5 = 28 * 5 = 140 cups of tea.",
    "Alison gave Anna 1/2 * 28 = 28/2 = <<1/2*28=14>>14 stamps.",
    "After the spray 100 - 50 = <<100-50=50>>50% are left.",
    "It is 3/2 = $1.50+$3.00=$4.50 in total.",
    "20% of 60 is 12, and 3 × 4 = 12, and 2 hours = 120 minutes.",
    "Day 4:2(50+100+120)=540",
    "There are 60/5=<<60/5=12>>12 5-minute intervals in 1 hour.",
    "So in a month he uses 600 x 30 = 18 000 watts.",
    "Then 22 - 16 = 16 + x - 16, so x = 6.",
])
def test_real_solution_styles_pass(text):
    assert _bad(text) == []


@pytest.mark.parametrize(("text", "expr"), [
    ("She makes 9 * 2 = $<<9*2=20>>20 every day.", "9*2"),
    ("So 3 x 4 = 13 apples.", "3*4"),
    ("That is 7 + 8 = 16.", "7+8"),
    ("20% of 60 is 15.", "20% of 60"),
    ("2 hours = 100 minutes", "2 hours in minutes"),
    ("The total is 12 * 3 = 36 + 4 = 41", "36+4"),
])
def test_wrong_arithmetic_is_caught(text, expr):
    assert expr in _bad(text)


def test_operands_and_stated_value():
    (c,) = [c for c in computations("He runs 9*60=<<9*60=540>>540 meters", 3)]
    assert c.step == 3 and c.operands == [9, 60] and c.stated == Fraction(540) and c.ok
