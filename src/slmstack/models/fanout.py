"""One call per item of a list the request writes: "the factorial of 5, 10 and 15".

A request that asks for the same thing over several values writes them as a coordinated list
("Seattle and Los Angeles", "10, 20 and 30 years", "copper and aluminum"). A small model
usually writes the call for the first item only. When an argument of its call is the first item
of such a list, the other calls are that call with the argument set to each other item — no
model needed. Several arguments that each start a list of the same length vary together
("Taylor Swift and Maroon 5 … 20 minutes and 15 minutes respectively").

The lists are read from the request's words only: an item follows the one before after a comma,
"and", "or" or "&" (the unit of the first number may repeat: "10 years and 20 years"); a text
item runs to the next separator, a clause boundary (punctuation, a preposition, a determiner) or
a few words longer than the first item. A list stops at an item another argument of the call
already uses, and a number inside a list starts none ("sides 3 and 4, 5 and 12": 4 is ``b``,
not a second ``a``, and ``b`` = 4 is not the head of "4, 5 and 12").
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from ..types import ToolCall

__all__ = ["fan_out", "list_after", "used"]

_SEP = re.compile(r"\s*(?:,\s*(?:(?:and|or)\s+)?|\s(?:and|or|&)\s+)", re.IGNORECASE)
_NUM = re.compile(r"(?<![\w.])(-)?[$€£¥]?(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
                  r"(\s*(?:%|percent\b))?")
_ITEM_WORD = re.compile(r"[^\s,;:.!?()\[\]{}]+(?:\.[^\s,;:.!?()\[\]{}]+)*\.?")
_GAP = re.compile(r"((?:\s*[A-Za-z°]+\.?){0,2}?)\s*(?:,\s*(?:(?:and|or)\s+)?|\s(?:and|or|&)\s+)"
                  r"[$€£¥]?", re.IGNORECASE)
"""What may stand between two numbers of one list: the first one's unit (at most two words),
a separator, a currency sign."""
_STOPS = frozenset(
    "in with for from on at to by into onto using via that which who whom whose where when while "
    "then also respectively each both all the a an its their his her our my your this these those "
    "and or but if than as per".split()
)
"""Words that end a text item (a clause or phrase boundary) — and, at an item's start, end the
list ("rat hemoglobin and their 3D models": "their 3D models" is not an item)."""
_MAX_EXTRA_WORDS = 3
_MAX_ITEMS = 8


def list_after(text: str, value: Any, exclude: Sequence[Any] = ()) -> list[Any]:
    """The items of the list ``value`` starts in ``text``, ``value`` first ([] when ``value`` is
    not written there or no list follows it). Numbers give numbers (a percentage given as a
    fraction, 0.05 for "5%", gives fractions); text gives text as written."""
    if isinstance(value, bool):
        return []
    if isinstance(value, int | float):
        items: list[Any] = _numbers_after(text, float(value), exclude)
        if items and all(float(i).is_integer() for i in items) and isinstance(value, int):
            items = [int(i) for i in items]
        return items
    if isinstance(value, str) and value.strip():
        as_number = _NUM.fullmatch(value.strip())
        if as_number and not as_number.group(3):  # a number written as text: "case 28473"
            numbers = _numbers_after(text, _number(as_number), exclude)
            if numbers:
                return [value.strip(), *(_plain(n) for n in numbers[1:])]
        return _texts_after(text, value.strip(), exclude)
    return []


def fan_out(call: ToolCall, text: str) -> list[ToolCall]:
    """``call`` repeated for each item of the lists its scalar arguments start in ``text``
    (the first is ``call`` itself); [] when no argument starts a list or the lists disagree
    in length."""
    lists: dict[str, list[Any]] = {}
    for key, value in call.arguments.items():
        others = [v for k, v in call.arguments.items() if k != key]
        items = list_after(text, value, others)
        if len(items) >= 2:
            lists[key] = items
    lengths = {len(items) for items in lists.values()}
    if len(lengths) != 1:
        return []
    n = lengths.pop()
    return [ToolCall(name=call.name,
                     arguments={**call.arguments, **{k: v[i] for k, v in lists.items()}})
            for i in range(n)]


def _numbers_after(text: str, value: float, exclude: Sequence[Any]) -> list[float]:
    found = [(m, _number(m)) for m in _NUM.finditer(text)]
    for i, (m, number) in enumerate(found):
        scale = _scale_to(value, number, bool(m.group(3)))
        if scale is None or (i and _GAP.fullmatch(text, found[i - 1][0].end(), m.start())):
            continue  # not this number, or an item inside a list ("3 and 4, 5 and 12": 4)
        items, end = [value], m.end()
        for m2, n2 in found[i + 1 :]:
            gap = _GAP.fullmatch(text, end, m2.start())
            if gap is None or not _unit_repeats(text, m2.end(), gap.group(1).split()):
                break
            item = n2 * scale
            if used(item, exclude) or len(items) >= _MAX_ITEMS:
                break
            items.append(item)
            end = m2.end()
        if len(items) >= 2:
            return items
    return []


def _unit_repeats(text: str, pos: int, unit: list[str]) -> bool:
    """A unit written between two numbers ("10 years and 20") must follow the second as well
    ("… 20 years"), or the numbers measure different things ("80 kg and 5.6 feet")."""
    if not unit:
        return True
    after = " ".join(text[pos:].lower().split())
    return after.startswith(" ".join(unit).lower())


def _number(m: re.Match[str]) -> float:
    value = float(m.group(2).replace(",", ""))
    return -value if m.group(1) else value


def _scale_to(value: float, number: float, percent: bool) -> float | None:
    """The factor that turns the written number into ``value`` (1, or 1/100 for a percentage
    given as a fraction); None when they differ."""
    if _same(value, number):
        return 1.0
    if percent and _same(value, number / 100):
        return 0.01
    return None


def _texts_after(text: str, value: str, exclude: Sequence[Any]) -> list[str]:
    low, want = text.lower(), value.lower()
    size = len(_ITEM_WORD.findall(value))
    start = low.find(want)
    while start >= 0:
        end = start + len(want)
        if _bounded(low, start, end):
            items = _items_from(text, end, value, size, exclude)
            if len(items) >= 2:
                return items
        start = low.find(want, start + 1)
    return []


def _bounded(low: str, start: int, end: int) -> bool:
    before = low[start - 1] if start else " "
    after = low[end] if end < len(low) else " "
    return not (before.isalnum() or after.isalnum())


def _items_from(text: str, end: int, value: str, size: int, exclude: Sequence[Any]) -> list[str]:
    items = [value]
    while len(items) < _MAX_ITEMS:
        sep = _SEP.match(text, end)
        if not sep:
            break
        item = _item_at(text, sep.end(), size + _MAX_EXTRA_WORDS)
        if item is None or used(item, exclude) or item.lower() in (i.lower() for i in items):
            break
        items.append(item)
        end = text.find(item, sep.end()) + len(item)
    return items


def _item_at(text: str, pos: int, max_words: int) -> str | None:
    """The text item starting at ``pos``: words up to a separator or clause boundary."""
    words = []
    for m in _ITEM_WORD.finditer(text, pos):
        gap = text[pos : m.start()]
        if words and (gap.strip() or "\n" in gap):
            break  # punctuation between words ends the item
        if not words and gap.strip():
            return None
        word = m.group()
        if word.lower() in _STOPS:
            break
        words.append(word.rstrip("."))
        pos = m.end()
        if word.endswith(".") or len(words) > max_words:
            break
    if not words or len(words) > max_words:
        return None
    return " ".join(words)


def used(item: Any, exclude: Sequence[Any]) -> bool:
    """Whether ``item`` is one of ``exclude``: the same number, or the same text in any case
    (booleans are never a match)."""
    for other in exclude:
        if isinstance(other, bool):
            continue
        if isinstance(item, float | int) and isinstance(other, int | float):
            if _same(float(item), float(other)):
                return True
        elif isinstance(item, str) and isinstance(other, str) and item.lower() == other.lower():
            return True
    return False


def _plain(number: float) -> str:
    return str(int(number)) if number.is_integer() else repr(number)


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
