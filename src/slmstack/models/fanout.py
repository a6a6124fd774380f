"""One call per item of a list the request writes: "the factorial of 5, 10 and 15".

A request that asks for the same thing over several values writes them as a coordinated list
("Seattle and Los Angeles", "10, 20 and 30 years", "copper and aluminum"). A small model
usually writes the call for the first item only. When an argument of its call is the first item
of such a list (or, for numbers, the last: "for 1, 5 and 10 years" with 10), the other calls are
that call with the argument set to each other item — no model needed. Several arguments that
each start a list of the same length vary together
("Taylor Swift and Maroon 5 … 20 minutes and 15 minutes respectively", "bases of 10 and 15 and
heights of 5 and 7"); a list of names combined with another list asks for every combination
("the Lakers and the Bulls in 2018 and 2020": four calls). Lists paired "respectively" pair
their items in the order written, whichever item the model's call took ("the Amazon and the
Boreal Forests … 10 years and 20 years, respectively" with the Amazon and 20: the Amazon gets
10), and an array argument of as many items gives one item to each call ("Apple, Microsoft
and Tesla over 1 week, 2 weeks and 1 month respectively").

The lists are read from the request's words only: an item follows the one before after a comma,
"and", "or" or "&" (the unit of the first number may repeat: "10 years and 20 years"); a text
item runs to the next separator, a clause boundary (punctuation, a preposition, a determiner) or
a few words longer than the first item. A list stops at an item another argument of the call
already uses, and a number inside a list starts none ("sides 3 and 4, 5 and 12": 4 is ``b``,
not a second ``a``, and ``b`` = 4 is not the head of "4, 5 and 12"). Quoted items run to their
closing quote ("'The Office' and 'Stranger Things'"); a code after a bare comma qualifies the
item before it ("Seattle, WA": kept with it when the first value has one too); an item may
start with "the" when the first one does ("the Amazon Rainforest and the Boreal Forests", not
"between the Lakers and the Warriors", a pair); an item that says a word of another
argument's name is an instruction, not a value ("the Magna Carta and calculate how many years
ago").

``shared`` carries a list from one tool's calls to another's: asked for "the life expectancy
in 1900 and 1950, and the GDP in these years", both tools get both years.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterator, Sequence
from typing import Any

from ..types import ToolCall
from . import places

__all__ = ["fan_out", "list_after", "name_words", "shared", "used"]

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
    "and or but if than as per between like including assuming considering given listed "
    "located over followed following".split()
)
"""Words that end a text item (a clause or phrase boundary) — and, at an item's start, end the
list ("rat hemoglobin and their 3D models": "their 3D models" is not an item)."""
_ASKS = frozenset(
    "what which who whom whose how why when where find get give compare tell show provide "
    "calculate compute determine check list search fetch retrieve look locate estimate predict "
    "also then finally lastly additionally another "
    "i you he she it we they me us them can could would will shall should may might must do does "
    "did is are am was were has have had whether so again".split())
"""Words that ask or order a request's parts: an item never starts with one ("Austin and
compare it to …")."""
_QUALIFIER = re.compile(r"[A-Z]{2,3}")
"""A state or country code ("WA", "USA") after a bare comma qualifies the item before it."""
_DANGLING = frozenset("of for to with by from on in at about".split())
_RESPECTIVELY = re.compile(r"\brespectively\b", re.IGNORECASE)
_MAX_EXTRA_WORDS = 3
_MAX_ITEMS = 8


def list_after(text: str, value: Any, exclude: Sequence[Any] = (), in_order: bool = False
               ) -> list[Any]:
    """The items of the list ``value`` starts in ``text`` (a number: or ends), ``value`` first
    — or, ``in_order``, in the order written — ([] when ``value`` is not written there or no
    list follows or ends with it). Numbers give numbers (a percentage given as a fraction, 0.05
    for "5%", gives fractions); text gives text as written."""
    if isinstance(value, bool):
        return []
    if isinstance(value, int | float):
        items: list[Any] = _numbers_after(text, float(value), exclude, in_order)
        if items and all(float(i).is_integer() for i in items) and isinstance(value, int):
            items = [int(i) for i in items]
        return items
    if isinstance(value, str) and value.strip():
        as_number = _NUM.fullmatch(value.strip())
        if as_number and not as_number.group(3):  # a number written as text: "case 28473"
            numbers = _numbers_after(text, _number(as_number), exclude, in_order)
            if numbers:
                own = _number(as_number)
                return [value.strip() if _same(n, own) else _plain(n) for n in numbers]
        return _texts_after(text, value.strip(), exclude)
    return []


def fan_out(call: ToolCall, text: str) -> list[ToolCall]:
    """``call`` repeated for each item of the lists its scalar arguments start in ``text``
    (the first is ``call`` itself): lists of several arguments vary together, or in every
    combination (``_combined``); [] when no argument starts a list, or lists that vary together
    disagree in length."""
    lists: dict[str, list[Any]] = {}
    for key, value in call.arguments.items():
        others = [v for k, v in call.arguments.items() if k != key]
        items = _not_instructions(list_after(text, value, others), call, key)
        if len(items) >= 2:
            lists[key] = items
    if len(lists) >= 2 and _combined(lists, text):
        keys = list(lists)
        combos = list(itertools.product(*lists.values()))
        if len(combos) > _MAX_ITEMS:
            return []
        return [ToolCall(name=call.name, arguments={**call.arguments, **dict(zip(keys, combo,
                                                                                strict=True))})
                for combo in combos]
    if lists and _RESPECTIVELY.search(text):  # item k of each list together
        lists = {key: list_after(text, call.arguments[key],
                                 [v for k, v in call.arguments.items() if k != key], True)
                 for key in lists}
        # an array of as many items goes with them ("Apple, Microsoft and Tesla over 1, 2
        # and 3 weeks respectively": one company a call)
        sizes = {len(items) for items in lists.values()}
        for key, value in call.arguments.items():
            if key not in lists and isinstance(value, list) and len(sizes) == 1 \
                    and len(value) in sizes and all(_scalar(v) for v in value):
                lists[key] = [[v] for v in value]
    lengths = {len(items) for items in lists.values()}
    if len(lengths) != 1:
        return []
    n = lengths.pop()
    return [ToolCall(name=call.name,
                     arguments={**call.arguments, **{k: v[i] for k, v in lists.items()}})
            for i in range(n)]


def _not_instructions(items: list[Any], call: ToolCall, key: str) -> list[Any]:
    """``items`` up to the first text item that says a word of another argument's name — an
    instruction, not a value: "the date of the Magna Carta and calculate how many years ago"
    beside ``calculate_years_ago``."""
    words = {w for k in call.arguments if k != key for w in name_words(k) if len(w) >= 4}
    for i, item in enumerate(items[1:], 1):
        if isinstance(item, str) and words & set(name_words(item)):
            return items[:i]
    return items


def name_words(name: str) -> list[str]:
    """The lower-case words of a name: ``calculate_years_ago``, ``getDiameter`` split."""
    return re.findall(r"[a-z]+", re.sub(r"([a-z])([A-Z])", r"\1 \2", name).lower())


def _combined(lists: dict[str, list[Any]], text: str) -> bool:
    """Whether several lists ask for every combination of their items ("the Lakers and the
    Bulls in 2018 and 2020") rather than pairs ("bases of 10 and 15 and heights of 5 and 7",
    "Taylor Swift and Maroon 5 for 20 and 15 minutes respectively"): not when the request says
    "respectively", nor when every list is of numbers (measurements of several records)."""
    if _RESPECTIVELY.search(text):
        return False
    return not all(isinstance(v, int | float) for items in lists.values() for v in items)


def shared(calls: Sequence[ToolCall], text: str) -> list[ToolCall]:
    """Calls of other tools over a list one tool's calls go over: asked for "the life
    expectancy in 1900 and 1950, and the GDP in these years", a small model may call the GDP
    tool for both years and the other one for 1900 only. When one tool's calls differ in one
    argument only, over the items of a list the request writes, a call of another tool whose
    argument of that name is one of those items is repeated for the items it lacks — only when
    each of its values is written in the request nowhere but inside such lists (a value named on
    its own, "a hotel in Paris" beside "the weather in Paris and Rome", is that call's alone)."""
    out: list[ToolCall] = []
    names = list(dict.fromkeys(c.name for c in calls))
    for name in names:
        mine = [c for c in calls if c.name == name]
        key = _varying_key(mine)
        if key is None:
            continue
        items = [c.arguments[key] for c in mine]
        if not any(all(used(v, list_after(text, i)) for v in items) for i in items):
            continue  # not the items of one list the request writes
        for other in names:
            theirs = [c for c in [*calls, *out] if c.name == other]
            if other == name or any(key not in c.arguments for c in theirs):
                continue
            have = [c.arguments[key] for c in theirs]
            if not all(_scalar(v) and used(v, items) for v in have) or not all(
                    _only_in_lists(text, v, items) for v in have):
                continue
            out += [ToolCall(name=other, arguments={**theirs[0].arguments, key: v})
                    for v in items if not used(v, have)]
    return out


def _varying_key(calls: Sequence[ToolCall]) -> str | None:
    """The one argument in which ``calls`` (two or more, the same keys) differ, each call with
    its own scalar value; None otherwise."""
    if len(calls) < 2 or any(c.arguments.keys() != calls[0].arguments.keys() for c in calls):
        return None
    varying = [k for k in calls[0].arguments if any(c.arguments[k] != calls[0].arguments[k]
                                                     for c in calls)]
    if len(varying) != 1:
        return None
    values = [c.arguments[varying[0]] for c in calls]
    if not all(_scalar(v) for v in values) or any(
            used(v, values[:i]) for i, v in enumerate(values)):
        return None
    return varying[0]


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def _only_in_lists(text: str, value: Any, items: Sequence[Any]) -> bool:
    """Whether ``value`` is written in ``text`` and each time next to another of ``items``
    with only a separator between them ("1900 and 1950", "Neutron and Proton")."""
    spans = {i: _spans(text, v) for i, v in enumerate(items)}
    me = next((i for i, v in enumerate(items) if used(value, [v])), None)
    if me is None or not spans[me]:
        return False
    others = [span for i, found in spans.items() if i != me for span in found]
    numeric = not isinstance(value, str)

    def joined(a: int, b: int) -> bool:
        gap = (_GAP if numeric else _SEP).fullmatch(text, a, b)
        return gap is not None

    return all(any(joined(o[1], s) or joined(e, o[0]) for o in others if o[1] <= s or o[0] >= e)
               for s, e in spans[me])


def _spans(text: str, value: Any) -> list[tuple[int, int]]:
    """Where ``value`` is written in ``text``: a number as a number, text in any case."""
    if isinstance(value, int | float):
        return [m.span() for m in _NUM.finditer(text)
                if _scale_to(float(value), _number(m), bool(m.group(3))) is not None]
    return list(_occurrences(text.lower(), str(value).lower().strip()))


def _occurrences(low: str, want: str) -> Iterator[tuple[int, int]]:
    """Where ``want`` stands in ``low`` as a whole word or phrase (both lower-case)."""
    start = low.find(want) if want else -1
    while start >= 0:
        if _bounded(low, start, start + len(want)):
            yield start, start + len(want)
        start = low.find(want, start + 1)


def _numbers_after(text: str, value: float, exclude: Sequence[Any], in_order: bool = False
                   ) -> list[float]:
    found = [(m, _number(m)) for m in _NUM.finditer(text)]
    for i, (m, number) in enumerate(found):
        scale = _scale_to(value, number, bool(m.group(3)))
        if scale is None:
            continue
        if i and _GAP.fullmatch(text, found[i - 1][0].end(), m.start()):
            ending = _list_ending(text, found, i, scale, exclude)
            if ending:
                return [*ending, value] if in_order else [value, *ending]
            continue  # an item inside a list ("3 and 4, 5 and 12": 4)
        items, end = [value], m.end()
        for m2, n2 in found[i + 1 :]:
            if _MONTH_BEFORE.search(text, 0, m.start()) and _YEAR.fullmatch(m2.group()):
                break  # "May 1, 2022": a day and its year, no list
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


_MONTH_BEFORE = re.compile(r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+$",
                           re.IGNORECASE)
_YEAR = re.compile(r"[12]\d{3}")


def _list_ending(text: str, found: list[tuple[re.Match[str], float]], i: int, scale: float,
                 exclude: Sequence[Any]) -> list[float]:
    """The items before the number ``found[i]`` when it ends a list ("for 1, 5 and 10 years"
    with 10), in the order written; [] when a list goes on after it or an item before it is
    another argument's value ("sides 3 and 4, 5 and 12": 12 after ``a`` = 5 ends none)."""
    after = found[i + 1] if i + 1 < len(found) else None
    if after is not None and _GAP.fullmatch(text, found[i][0].end(), after[0].start()):
        return []
    items: list[float] = []
    for k in range(i, 0, -1):
        (prev, number), (m, _) = found[k - 1], found[k]
        gap = _GAP.fullmatch(text, prev.end(), m.start())
        if gap is None or not _unit_repeats(text, m.end(), gap.group(1).split()):
            break
        if used(number * scale, exclude) or len(items) + 1 >= _MAX_ITEMS:
            return []
        items.insert(0, number * scale)
    return items


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
    for start, end in _occurrences(low, want):
        if value.islower() and text[start].isupper() and _NAME_BEFORE.search(text, 0, start):
            continue  # "city" in "New York City": a word of a name, not the value
        quoted = _quoted_items(text, start, end, exclude)
        # "the Amazon and the Boreal Forests" (not "between the Lakers and the Warriors": a pair)
        the = low[max(0, start - 4):start] == "the " and not low[:start].endswith("between the ")
        items = quoted if quoted is not None else _items_from(text, end, value, size, exclude,
                                                              the)
        if len(items) >= 2:
            return items
    return []


_NAME_BEFORE = re.compile(r"\b[A-Z][\w'-]*\s+$")
_QUOTES = {'"': '"', "'": "'", "\u201c": "\u201d", "\u2018": "\u2019"}


def _quoted_items(text: str, start: int, end: int, exclude: Sequence[Any]) -> list[str] | None:
    """The items of a list of quoted values ("'Friends', 'The Office' and 'Stranger Things'")
    when the value at ``start:end`` is written in quotes; None when it is not."""
    close = _QUOTES.get(text[start - 1]) if start else None
    if close is None or not text.startswith(close, end):
        return None
    items, pos = [text[start:end]], end + len(close)
    while len(items) < _MAX_ITEMS:
        sep = _SEP.match(text, pos)
        if not sep or sep.end() >= len(text):
            break
        mark = _QUOTES.get(text[sep.end()])
        stop = text.find(mark, sep.end() + 1) if mark else -1
        item = text[sep.end() + 1 : stop].strip() if stop > 0 else ""
        if not item or "\n" in item or used(item, exclude) or used(item, items):
            break
        items.append(item)
        pos = stop + len(mark)
    return items


def _bounded(low: str, start: int, end: int) -> bool:
    before = low[start - 1] if start else " "
    after = low[end] if end < len(low) else " "
    return not (before.isalnum() or after.isalnum())


def _items_from(text: str, end: int, value: str, size: int, exclude: Sequence[Any],
                the: bool = False) -> list[str]:
    """The items after ``value`` (ending at ``end``); ``the``: the value is written after
    "the", and so may each item be ("the Amazon Rainforest and the Boreal Forests")."""
    items = [value]
    while len(items) < _MAX_ITEMS:
        sep = _SEP.match(text, end)
        if not sep:
            break
        start = sep.end()
        if the and text[start:start + 4].lower() == "the ":
            start += 4
        item = _item_at(text, start, size + _MAX_EXTRA_WORDS)
        if item is None or (item[0] in _NUMBER_START and not _HAS_DIGIT.search(value)):
            break  # "… in New York and 4000 sq ft": a number is no item of a list of names
        if _proper(value.split()) and item[:1].islower():
            break  # "the Los Angeles County Court, and case number …": no name, no item
        item = _head_noun_cut(item, size)
        if the and item.split()[-1].lower() in _DANGLING:
            break  # "the signing of the Treaty": cut at "the", no item
        if used(item, exclude) or item.lower() in (i.lower() for i in items):
            break
        if sep.group().strip() == "," and _qualifies(item, items[-1]):
            # "Seattle, WA", "Chicago, Illinois": the code or the state qualifies the item
            # before — kept with it when the first value carries one too ("San Francisco, CA
            # and Seattle, WA"), else left out
            if len(items) > 1 and _qualified(value):
                items[-1] = f"{items[-1]}, {item}"
        else:
            items.append(item)
        end = text.find(item, start) + len(item)
    return items


_NUMBER_START = frozenset("0123456789$€£¥-+.")
_HAS_DIGIT = re.compile(r"\d")


def _head_noun_cut(item: str, size: int) -> str:
    """``item`` without the lower-case words it has beyond the first item's ``size`` words —
    the noun the whole list shares ("rock and jazz concerts", "BRCA1 and BRCA2 genes",
    "ascending and descending order": "jazz", "BRCA2", "descending") — and without a
    possessive "'s" ("Berlin and Madrid's music stores": "Madrid")."""
    words = item.split()
    owner = next((i for i, w in enumerate(words) if re.fullmatch(r"\w+['’]s", w)), None)
    if owner is not None:
        return " ".join([*words[:owner], words[owner][:-2]])
    if len(words) > size and words[-1].strip(".\"'”’").isalpha() and words[-1].islower():
        words.pop()
    return " ".join(words)


def _proper(words: Sequence[str]) -> bool:
    """Whether ``words`` are a name: every one capitalised ("Los Angeles County Court")."""
    return bool(words) and all(w[:1].isupper() for w in words)


def _qualifies(item: str, before: str) -> bool:
    """Whether ``item``, after a bare comma, qualifies the item before it: a state or country
    code, or the name of a state or country after a place that is none ("Chicago, Illinois";
    not "France, Germany")."""
    if _QUALIFIER.fullmatch(item):
        return True
    return places.is_region(item) and not places.is_region(before.rsplit(",", 1)[-1])


def _qualified(value: str) -> bool:
    """Whether ``value`` ends with a qualifier ("Seattle, WA", "Chicago, Illinois")."""
    parts = value.rsplit(",", 1)
    return len(parts) == 2 and _qualifies(parts[1].strip(), parts[0])


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
        if words and word.islower() and word.endswith("ing") and _proper(words):
            break  # "Paris happening next Friday"
        if word.lower() in _STOPS or (not words and re.split(r"['’]", word.lower())[0] in _ASKS):
            break  # "Nikola Tesla and what his discovery was": "what" starts no item
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
