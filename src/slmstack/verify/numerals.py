"""Numbers as people write them in word problems: ``1,000`` · ``$5.50`` · ``20%`` · ``3/4`` ·
``three`` · ``a dozen`` · ``half``, read to exact Fractions with where they sit in the text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

from ..models.numwords import CARDINALS

MAX_SCAN = 200_000  # characters of one text scanned for numbers; the rest is ignored

_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+"
NUMBER = re.compile(rf"(?<![\w.])(-)?\$?({_NUM})(\s*%|\s*percent\b)?(?![\d])")
FRACTION = re.compile(r"(?<![\w./])(\d+)\s*/\s*(\d+)(?![\d/])")

WORDS: dict[str, Fraction] = {
    w: Fraction(i) for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen twenty".split())
}
WORDS.update({
    "thirty": Fraction(30), "forty": Fraction(40), "fifty": Fraction(50), "sixty": Fraction(60),
    "seventy": Fraction(70), "eighty": Fraction(80), "ninety": Fraction(90),
    "hundred": Fraction(100), "thousand": Fraction(1000), "million": Fraction(10**6),
    "dozen": Fraction(12), "twice": Fraction(2), "double": Fraction(2), "triple": Fraction(3),
    "thrice": Fraction(3), "quadruple": Fraction(4), "half": Fraction(1, 2),
    "quarter": Fraction(1, 4), "third": Fraction(1, 3), "fourth": Fraction(1, 4),
    "fifth": Fraction(1, 5), "tenth": Fraction(1, 10), "pair": Fraction(2), "once": Fraction(1),
    "score": Fraction(20), "sixth": Fraction(1, 6), "seventh": Fraction(1, 7),
    "eighth": Fraction(1, 8), "ninth": Fraction(1, 9),
})
_WORD_RE = re.compile(r"\b[A-Za-z]{3,10}\b")

UNIT_CONSTANTS: dict[str, tuple[int, ...]] = {
    "minute": (60,), "hour": (60, 24), "day": (24, 7, 30, 365), "week": (7, 52),
    "year": (12, 52, 365), "dozen": (12,), "percent": (100,),
    "%": (100,), "cent": (100,), "foot": (12,), "feet": (12,), "inch": (12,), "yard": (3, 36),
    "mile": (5280,), "meter": (100, 1000), "kilo": (1000,), "gram": (1000,), "liter": (1000,),
    "pound": (16,), "ounce": (16,), "quart": (4,), "decade": (10,),
    "century": (100,), "second": (60,), "pair": (2,), "quarter": (4, 25), "nickel": (5,),
    "dime": (10,), "penny": (1,), "weekday": (5,), "weekend": (2,), "month": (12, 28, 30, 31),
    "pint": (2, 8, 16), "cup": (8, 16), "gallon": (4, 8, 16, 128),
    "january": (31,), "february": (28, 29), "march": (31,), "april": (30,), "june": (30,),
}
"""Numbers a solution may use without the question stating them, when the word appears."""


@dataclass(frozen=True)
class Mention:
    value: Fraction
    start: int
    end: int
    percent: bool = False
    word: bool = False


def parse_number(text: str) -> Fraction | None:
    """``"1,000"`` → 1000, ``"$5.50"`` → 11/2, ``"20%"`` → 20; None when it is not a number."""
    m = NUMBER.fullmatch(text.strip())
    if m is None:
        return None
    value = Fraction(m.group(2).replace(",", ""))
    return -value if m.group(1) else value


def mentions(text: str, words: bool = True) -> list[Mention]:
    """Every number in ``text`` (digits, fractions, and with ``words`` number words)."""
    text = text[:MAX_SCAN]
    found = [
        Mention(_signed(m), m.start(), m.end(), percent=bool(m.group(3)))
        for m in NUMBER.finditer(text)
    ]
    found += [
        Mention(Fraction(int(m.group(1)), int(m.group(2))), m.start(), m.end())
        for m in FRACTION.finditer(text)
        if int(m.group(2)) != 0 and len(m.group(0)) < 24
    ]
    if words:
        for m in _WORD_RE.finditer(text):
            w = m.group().lower()
            w = w if w in WORDS else (w[:-3] + "y" if w.endswith("ies") else w.removesuffix("s"))
            if w in WORDS:
                found.append(Mention(WORDS[w], m.start(), m.end(), word=True))
    return sorted(found, key=lambda x: x.start)


@lru_cache(maxsize=65536)
def frac(text: str) -> Fraction:
    """``Fraction(text)``, cached: the same numbers recur across steps and traces."""
    return Fraction(text)


def _signed(m: re.Match[str]) -> Fraction:
    value = frac(m.group(2).replace(",", ""))
    return -value if m.group(1) and m.start() == 0 else value


def numbers(text: str) -> list[Fraction]:
    """The absolute values of the digit numbers in ``text`` (no words, no fractions)."""
    return [frac(m.group(2).replace(",", "")) for m in NUMBER.finditer(text[:MAX_SCAN])]


def values(text: str, words: bool = True) -> frozenset[Fraction]:
    """The numbers in ``text`` with the forms a solution derives from them: a percent p also
    as p/100, a number word also as its reciprocal (``half`` → 1/2 and 2). Short texts are
    cached: a question is read again for every trace (and every agent step) that asks it."""
    text = text[:MAX_SCAN]
    return _values_cached(text, words) if len(text) <= 4096 else _values(text, words)


@lru_cache(maxsize=4096)
def _values_cached(text: str, words: bool) -> frozenset[Fraction]:
    return _values(text, words)


def _values(text: str, words: bool) -> frozenset[Fraction]:
    out = {(1 if m.group(1).lower() == "a" else int(m.group(1))) + Fraction(1, 2)
           for m in AND_HALF.finditer(text)}
    out |= {WORDS[m.group(1).lower()] + WORDS[m.group(2).lower()]
            for m in COMPOUND.finditer(text)}
    out |= _written_out(text)
    if re.search(r"\b(?:\w+[- ])?(?:percent|%)", text):  # "twenty percent"
        out |= {v / 100 for v in set(out)}
    for m in mentions(text, words):
        v = abs(m.value)
        out.add(v)
        if m.percent:  # 20% → 0.2, and the 0.8 / 1.2 (80 / 120) of "20% off / more"
            out |= {v / 100, 100 + v, abs(100 - v), 1 + v / 100, abs(1 - v / 100)}
        if m.word and v != 0:
            out.add(1 / v)
    return frozenset(out)


MIXED = re.compile(r"(?<![\d./,])(\d+)\s+(\d+)/(\d+)(?![\d/])")  # 1 1/2
SPACED = re.compile(r"(?<![\d.,])(\d{1,3}(?: \d{3})+)(?![\d,]|\.\d)")  # $350 000
THOUSANDS = re.compile(r"(?<![\w.])\$?(\d+(?:\.\d+)?)\s?[kK]\b")  # a 25k salary
SCALE_WORDS = {w: Fraction(CARDINALS[w]) for w in ("hundred", "thousand", "million", "billion")}
SCALED_NUMBER = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?|[a-z]+(?:-[a-z]+)?)\s+"
                           rf"({'|'.join(SCALE_WORDS)})\b(?:\s+(?:and\s+)?"
                           r"([a-z]+(?:-[a-z]+)?|\d+))?", re.I)


def spaced(text: str) -> set[Fraction]:
    """Numbers whose digits are grouped by spaces: "$350 000" → 350000."""
    return {Fraction(m.group(1).replace(" ", "")) for m in SPACED.finditer(text[:MAX_SCAN])}


def _word_number(word: str) -> Fraction | None:
    """"seven" → 7, "forty-four" → 44 (None when it is no number word)."""
    w = word.lower()
    if w in WORDS and WORDS[w].denominator == 1:
        return WORDS[w]
    m = COMPOUND.fullmatch(w)
    return WORDS[m.group(1)] + WORDS[m.group(2)] if m else None


def _written_out(text: str) -> set[Fraction]:
    """Numbers written in more than one piece: a mixed number ("1 1/2" → 1.5), digits grouped
    by spaces ("$350 000"), thousands written "k" ("25k"), and a count of hundreds, thousands
    or millions ("5 thousand", "2.5 million", "one hundred forty-four" → 144)."""
    out: set[Fraction] = set()
    for m in MIXED.finditer(text):
        if int(m.group(3)) and int(m.group(2)) < int(m.group(3)):
            out.add(int(m.group(1)) + Fraction(int(m.group(2)), int(m.group(3))))
    out |= spaced(text)
    out |= {Fraction(m.group(1)) * 1000 for m in THOUSANDS.finditer(text)}
    for m in SCALED_NUMBER.finditer(text):
        head = m.group(1)
        count = Fraction(head) if head[0].isdigit() else _word_number(head)
        if count is None:
            continue
        scale = SCALE_WORDS[m.group(2).lower()]
        out.add(count * scale)
        tail = m.group(3)
        rest = (Fraction(tail) if tail.isdigit() else _word_number(tail)) if tail else None
        if rest is not None and rest < scale:
            out.add(count * scale + rest)
    return out


AND_HALF = re.compile(r"(\d+|\ba)\s+(?:\w+\s+)?and\s+(?:a\s+)?half", re.I)
TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
COMPOUND = re.compile(rf"\b({'|'.join(TENS)})[- ](one|two|three|four|five|six|seven|eight|nine)\b",
                      re.I)
MULTIPLIERS = {"half": (Fraction(1, 2),), "twice": (Fraction(2),), "double": (Fraction(2),),
               "triple": (Fraction(3),), "third": (Fraction(1, 3),), "quarter": (Fraction(1, 4),)}


_UNIT_WORD = re.compile(
    r"(?<![a-z])(?:kilo|centi|milli)?(" + "|".join(
        sorted((re.escape(w) for w in UNIT_CONSTANTS if w.isalpha()), key=len, reverse=True))
    + r")(?:s|es)?(?![a-z])")
_UNIT_SECOND = re.compile(r"(?:\d|(?<![a-z])(?:a|one|per|each|every))[\s-]+second(?![a-z])")


def unit_constants(text: str) -> set[Fraction]:
    """The UNIT_CONSTANTS of the units ``text`` names as words ("hours", "half-hour",
    "kilograms"; not the "day" of "Friday" or the "cent" of "percent"). A singular "second"
    is an ordinal ("the second bag") unless a number or "a"/"per"/"each" comes before it."""
    low = text[:MAX_SCAN].lower()
    words = {m.group(1) for m in _UNIT_WORD.finditer(low)}
    if "second" in words and not re.search(r"(?<![a-z])seconds(?![a-z])", low) \
            and not _UNIT_SECOND.search(low):
        words.discard("second")
    if "%" in low:
        words.add("%")
    return {Fraction(c) for word in words for c in UNIT_CONSTANTS[word]}


def scaled(given: set[Fraction], text: str) -> set[Fraction]:
    """``half that`` / ``twice as many`` / ``a half-hour``: the question's values times the
    multipliers its words name, and its values in the units it mentions (2 hours → 120)."""
    low = text[:MAX_SCAN].lower()
    factors = {f for w, fs in MULTIPLIERS.items() if w in low for f in fs}
    out = {v * f for v in given for f in factors}
    return out | {f * c for f in factors for c in unit_constants(low)}


def fmt(value: Fraction, places: int = 6) -> str:
    """A Fraction as a short decimal: 24, 2.5, 0.333333."""
    if value.denominator == 1:
        return str(value.numerator)
    text = f"{float(value):.{places}f}".rstrip("0").rstrip(".")
    return text or "0"
