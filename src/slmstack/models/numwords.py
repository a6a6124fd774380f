"""Numbers written as words ("twenty", "a million"): the one table the argument rules read.

``CARDINALS`` holds zero to twenty, the tens, and the scale words up to a billion, in that
order (regular expressions built from it list them so). Each reader adds its own words to it:
``grounding`` the ordinals as counts and "dozen", "half", "twice" …; ``dates`` only the counts
up to ten (a stay of "three nights").
"""

from __future__ import annotations

__all__ = ["CARDINALS"]

CARDINALS: dict[str, int] = {
    **{w: i for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen twenty".split())},
    "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
    "ninety": 90, "hundred": 100, "thousand": 1000, "million": 1_000_000,
    "billion": 1_000_000_000,
}
