"""One call per record of a request that describes several records in the same words.

"John weighs 85 kilograms and is 1.8 meters tall … Sarah weighs 60 kilograms and is 1.65 meters
tall … Mike weighs 75 kilograms and is 1.7 meters tall": the request repeats one frame
("weighs _ kilograms", "is _ meters") once per record. A small model writes the call for the
first record only. When the values of its call sit in such frames, the calls for every record
are read from the request: the k-th record takes the k-th value written in each repeating frame
(in the order of the text); arguments whose frame does not repeat keep the model's value.

A value's frame is the word (or sign) just before it and the one just after it ("of _ seconds"),
or, for a number, the two words before it when they say what it is ("user ID _", "a base of _"):
when a number's two-word frame repeats, only those values count (in "a base of 12 meters and a
height of 15 meters", both numbers sit in "of _ meters"). A text's frame must hold a word that
says something ("the _ format", not "and _ ,") or be a pair of quotes (a quotation after a
word that names it, "the part code 'QX-1'", keeps to quotations after that word where there
are any), or else the two words before it must ("a trip to _ with": "a trip to Paris"). A unit
written against a number ("5cm") frames it like one written apart. The records are used only
when they are unambiguous: every repeating argument has the same number of values, the records
follow one another in the text (all of record k before record k+1) or the text gives each
argument's values together, one argument after the other ("an initial speed of 0 m/s and of
5 m/s … for 10 seconds and for 7 seconds"), no value serves two arguments, and no value of a
kind the call takes is left unread after the first record (the tool's own name quoted and a
name in brackets, "(Dog)", are no such values). A number argument whose frame does not repeat
takes, in a later record, the number that record writes after a word of the argument's name
("starts from rest … starts with an initial velocity of 20 m/s": ``initial_velocity`` 0, then
20). Lists written as lists ("5, 10 and 15") are ``fanout``'s; booleans and structured values
are never varied.

``choices`` does the same for an ``enum`` argument whose choices the request names ("in hard
mode, then in easy mode"): one call per named choice; ``both_ways`` for a boolean argument the
request names plainly and negated ("the process is isothermal … what if it is not isothermal"):
one call with it true, one with it false.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from ..types import ToolCall
from .fanout import name_words, used
from .grounding import described_values, leaves

__all__ = ["both_ways", "choices", "following", "listed_choices", "records", "zip_choices"]

_TOKEN = re.compile(
    r"(?P<num>(?<![\w.^])-?[$€£¥]?(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
    r"(?:%|(?=(?!st\b|nd\b|rd\b|th\b)[a-zA-Z]{1,3}\b)|(?!\w|\.\d)))"
    r"|(?P<word>[A-Za-z\d](?:[A-Za-z\d]|['-](?=[A-Za-z\d]))*)"
    r"|(?P<sign>[^\sA-Za-z\d])"
)
"""A number right after "^" is a unit's exponent ("m/s^2"), not a value: it reads as a word."""
_CLAUSE_END = frozenset(".;?!")
_QUOTED = re.compile(r"(?<![\w])(['\"])([^'\"\n]{1,80}?)\1(?!\w)")
_PAUSE = frozenset(",.;?!")  # as the sign after a value, any of these ends its frame alike
_WEAK = frozenset(
    "a an the of to in on at for with and or but by from as is are was were be it its this that "
    "these those then also each".split())
"""Words too common to say alone what a number is (a two-word frame needs another word)."""
_ASKING = frozenset(
    "find get give search calculate compute determine identify predict estimate generate create "
    "check plot order play locate list show tell fetch retrieve look provide what which who how "
    "when where why can could would will please help book buy let also then finally lastly "
    "additionally another and or but".split())
"""Words that ask or order a request's parts: a capitalised one mid-sentence is no name."""
_NEXT = frozenset("and then also another again while versus vs compare plus . ; ? !".split())
"""What may stand between one record and the next."""
_MONTHS = frozenset(
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday "
    "saturday sunday".split())
"""A date's month or day is no name ("Jun.20,2023", "on Monday")."""
_MAX_TEXT = 20000  # characters of the request read
_MAX_TEXT_WORDS = 4
_MAX_RECORDS = 8


@dataclass(frozen=True)
class _Tok:
    kind: str  # num | word | sign
    text: str
    start: int
    end: int

    @property
    def key(self) -> str:
        low = self.text.lower()
        if self.kind == "sign":
            return "|" if low in _PAUSE else low
        return low[:-1] if self.kind == "word" and len(low) > 3 and low.endswith("s") else low

    def number(self) -> float | None:
        if self.kind != "num":
            return None
        body = self.text.lstrip("-$€£¥").rstrip("%").replace(",", "")
        value = float(body)
        return -value if self.text.startswith("-") else value


def records(call: ToolCall, text: str, others: Sequence[ToolCall] = ()) -> list[ToolCall]:
    """``call`` once per record ``text`` describes in repeating frames (the first record
    first); [] when the request repeats no frame of ``call``'s values, or not unambiguously.
    Values the ``others`` (calls of other tools) use are theirs: never read as a record's
    ("the gcd of 96 and 128, and the lcm of 15 and 25")."""
    text = text[:_MAX_TEXT]
    theirs = _theirs(others)
    toks = _tokens(text)
    anchors: dict[str, tuple[int, int]] = {}  # argument -> token span of its value
    for key, value in call.arguments.items():
        span = _locate(toks, value)
        if span is not None:
            anchors[key] = span
    call = _reanchored(call, toks, text, anchors)
    taken = {i for a, b in anchors.values() for i in range(a, b)}
    # argument -> (first token, end token, value) of each value it takes, in text order
    fillers: dict[str, list[tuple[int, int, Any]]] = {}
    for key, (a, b) in anchors.items():
        value = call.arguments[key]
        found = [(a, b, value)]
        # the items of the call's lists are theirs too ('Personal Info', 'Payroll' of
        # ``data_field``: no other company names beside 'Tech Solutions')
        listed = [v for k, items in call.arguments.items() if k != key
                  and isinstance(items, list) for v in items if isinstance(v, str | int | float)]
        for i, j, other in _siblings(toks, a, b, value, text):
            if not any(n in taken for n in range(i, j)) and not used(other, theirs) \
                    and other not in listed:
                found.append((i, j, other))
        fillers[key] = sorted(found, key=lambda f: f[0])
    _by_name_first(toks, anchors, fillers)
    _chained(toks, text, call, anchors, fillers, taken)
    # a frame that repeats one value ("an initial velocity of 0 m/s … of 0 m/s") tells no
    # records apart: that argument keeps its value in every record
    varies = {key: len({repr(v) for _, _, v in found}) > 1 for key, found in fillers.items()}
    same = {t for key, found in fillers.items() if not varies[key]
            for i, j, _ in found for t in range(i, j)}
    fillers = {key: found for key, found in fillers.items() if varies[key]}
    if not fillers:
        return []
    counts = {len(f) for f in fillers.values()}
    if len(counts) != 1:
        return []
    n = counts.pop()
    if n > _MAX_RECORDS:
        return []
    positions = [f[0] for fs in fillers.values() for f in fs]
    if len(set(positions)) != len(positions):
        return []  # one value read for two arguments
    in_records = _in_records(fillers, n)
    if not (in_records or _by_argument(fillers)):
        return []
    if in_records:
        _named_numbers(call, toks, fillers, n, taken)
    read = taken | same | {t for fs in fillers.values() for i, j, _ in fs for t in range(i, j)}
    after_first = max(fs[0][0] for fs in fillers.values()) + 1
    frame = set().union(*(  # the words before every record's value: "the unique ID of"
        set.intersection(*({toks[x].text for x in range(max(0, i - 3), i)
                            if toks[x].kind == "word"} for i, _, _ in fs))
        for fs in fillers.values()))
    if _strays(toks, text, [call.arguments[k] for k in anchors], read, after_first, call.name,
               frame):
        return []
    out = [ToolCall(name=call.name,
                    arguments={**call.arguments, **{key: fs[k][2] for key, fs in fillers.items()}})
           for k in range(n)]
    return out if len({repr(sorted(c.arguments.items())) for c in out}) == n else []


def following(call: ToolCall, text: str, others: Sequence[ToolCall] = ()) -> list[ToolCall]:
    """``call`` once per record the request writes after the values ``call`` took, told by
    kind rather than by frame ("… of $15000, long term gains of $25000 in the state of
    California and $20000 short term, $50000 long term in Florida"): when everything written
    after ``call``'s last value that is a number or a name falls into groups of the same kinds
    as ``call``'s numbers and names (in text order), the k-th number of a group takes the
    argument of ``call``'s k-th number, and so for names; other arguments keep their values.
    [] when any of ``call``'s numbers or names is not written, or the values after it do not
    fall into whole groups."""
    text = text[:_MAX_TEXT]
    theirs = _theirs(others)
    toks = _tokens(text)
    names = _names(toks)
    slots: list[tuple[int, int, str, str]] = []  # (first token, end token, kind, argument)
    for key, value in call.arguments.items():
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            continue
        if isinstance(value, str) and not (value[:1].isupper()
                                           and not any(c.isdigit() for c in value)):
            continue  # a word, a date, a code: kept
        span = _locate(toks, value)
        if span is None:
            return []
        if isinstance(value, str):
            span = next(((i, j) for i, j in names if i <= span[0] and span[1] <= j), None)
            if span is None:
                return []
        slots.append((*span, "name" if isinstance(value, str) else "num", key))
    if not slots:
        return []
    slots.sort()
    end = max(j for _, j, _, _ in slots)
    quoted = [(m.start(), m.end()) for m in _QUOTED.finditer(text)]

    def in_quotes(i: int) -> bool:
        return any(a <= toks[i].start < b for a, b in quoted)

    quotes = any(in_quotes(i) for i, _, _, _ in slots)
    # what the first record writes and the call does not take is wording, not a value
    wording = {toks[i].key for i in range(end) if toks[i].kind != "sign"
               and not any(a <= i < b for a, b, _, _ in slots)}
    items = sorted([(i, i + 1, "num") for i in range(end, len(toks)) if toks[i].kind == "num"]
                   + [(i, j, "name") for i, j in names if i >= end])
    items = [it for it in items if (quotes or not in_quotes(it[0]))
             and not (it[2] == "name" and toks[it[0]].key in wording)]
    slot_keys = {key for _, _, _, key in slots}
    own = [leaf for k, v in call.arguments.items() if k not in slot_keys for leaf in leaves(v)]
    items = [it for it in items if not used(value := _item_value(toks, text, it, call), theirs)
             and not _inside(value, own)]
    if not items or not any(toks[i].text.lower() in _NEXT for i in range(end, items[-1][0])):
        return []  # "the weather in Paris, France": no second record
    kinds = [k for _, _, k, _ in slots]
    if len(items) % len(kinds) or len(items) // len(kinds) + 1 > _MAX_RECORDS:
        return []
    out = [call]
    for g in range(0, len(items), len(kinds)):
        group = items[g:g + len(kinds)]
        if sorted(k for _, _, k in group) != sorted(kinds):
            return []
        arguments = dict(call.arguments)
        for kind in ("num", "name"):
            keys = [key for _, _, k, key in slots if k == kind]
            mine = [it for it in group if it[2] == kind]
            arguments.update({key: _item_value(toks, text, it, call, key)
                              for key, it in zip(keys, mine, strict=True)})
        out.append(ToolCall(name=call.name, arguments=arguments))
    return out if len({repr(sorted(c.arguments.items())) for c in out}) == len(out) else []


def _theirs(others: Sequence[ToolCall]) -> list[Any]:
    """The plain values the calls of other tools hold."""
    return [v for c in others for v in c.arguments.values()
            if isinstance(v, int | float | str) and not isinstance(v, bool)]


def _tokens(text: str) -> list[_Tok]:
    return [_Tok(m.lastgroup or "sign", m.group(), m.start(), m.end())
            for m in _TOKEN.finditer(text)]


def _inside(value: Any, leaves: list[Any]) -> bool:
    """Whether another argument already uses ``value`` (a text: within its text; "Sundays"
    in "open on Sundays")."""
    texts = [v.lower() for v in leaves if isinstance(v, str)]
    if isinstance(value, str):
        want = re.compile(rf"(?<!\w){re.escape(value.lower())}(?!\w)")
        return any(want.search(t) for t in texts)
    numbers = [v for v in leaves if isinstance(v, int | float)]
    numbers += [n for t in texts for tok in _tokens(t)
                if (n := tok.number()) is not None]  # "Windows 10"
    return used(value, numbers)


def _names(toks: list[_Tok]) -> list[tuple[int, int]]:
    """The runs of capitalised words that are names: not a sentence's first word, not "I",
    not a word that asks or orders ("Find", "Also")."""
    runs: list[tuple[int, int]] = []
    i = 0
    while i < len(toks):
        t = toks[i]
        starts = t.kind == "word" and t.text[0].isupper() and t.text != "I" and i >= 1 \
            and toks[i - 1].text not in _CLAUSE_END and t.key not in _ASKING \
            and t.key not in _MONTHS
        if not starts:
            i += 1
            continue
        j = i + 1
        while j < len(toks) and toks[j].kind == "word" and toks[j].text[0].isupper():
            j += 1
        runs.append((i, j))
        i = j
    return runs


def _item_value(toks: list[_Tok], text: str, item: tuple[int, int, str], call: ToolCall,
                key: str | None = None) -> Any:
    i, j, kind = item
    if kind == "name":
        return text[toks[i].start:toks[j - 1].end]
    number = toks[i].number() or 0.0
    like = call.arguments.get(key) if key is not None else None
    if isinstance(like, float) and toks[i].text.endswith("%") and like < 1:
        number /= 100
    return int(number) if isinstance(like, int) and number.is_integer() else number


def _by_name_first(toks: list[_Tok], anchors: dict[str, tuple[int, int]],
                   fillers: dict[str, list[tuple[int, int, Any]]]) -> None:
    """A number two arguments read goes to the one whose two words before it match ("a rate of
    6 m/s² … an initial velocity of 20 m/s and … a rate of 4 m/s²": 6 is the acceleration's, not
    a second initial velocity because it sits in "of _ m" too)."""
    claims: dict[int, list[str]] = {}
    for key, found in fillers.items():
        for i, _, _ in found[:]:
            if (i, i + 1) != anchors[key]:
                claims.setdefault(i, []).append(key)
    for i, keys in claims.items():
        named = [k for k in keys if _same_pair(toks, anchors[k][0], i)]
        if len(keys) > 1 and len(named) == 1:
            for k in keys:
                if k != named[0]:
                    fillers[k] = [f for f in fillers[k] if f[0] != i]


def _chained(toks: list[_Tok], text: str, call: ToolCall, anchors: dict[str, tuple[int, int]],
             fillers: dict[str, list[tuple[int, int, Any]]], taken: set[int]) -> None:
    """A text whose own frame does not repeat but that follows another argument's value across
    one small word ("a flight from San Francisco to Tokyo on May 3rd … from Tokyo to Sydney on
    May 18th": ``destination`` follows ``departure`` across "to", ``date`` follows it across
    "on") takes, in each record, the text written after that argument's value across the same
    word: a name's capitalised words, else as many words as it has. Only when every record
    writes one."""
    changed = True
    while changed:
        changed = False
        for key, (a, b) in anchors.items():
            value = call.arguments[key]
            if len(fillers[key]) != 1 or not isinstance(value, str) or a < 2 \
                    or toks[a - 1].kind != "word" or toks[a - 1].key not in _WEAK:
                continue
            lead = next((k for k, (_, e) in anchors.items() if e == a - 1
                         and len(fillers[k]) >= 2), None)
            if lead is None:
                continue
            width = b - a  # a name (every word capitalised) takes a name's words
            capital = all(t.kind == "word" and t.text[0].isupper() for t in toks[a:b])
            found = [(a, b, value)]
            for i, j, _ in fillers[lead]:
                if i == anchors[lead][0]:
                    continue
                if j >= len(toks) or toks[j].key != toks[a - 1].key:
                    break
                end = j + 1
                while end < len(toks) and end - (j + 1) < (_MAX_TEXT_WORDS if capital else width):
                    t = toks[end]
                    if t.kind == "sign" or t.key in _WEAK or (capital and not t.text[0].isupper()):
                        break
                    end += 1
                if end == j + 1 or (not capital and end - (j + 1) != width) \
                        or any(n in taken for n in range(j + 1, end)):
                    break
                found.append((j + 1, end, text[toks[j + 1].start:toks[end - 1].end]))
            else:
                if len(found) == len(fillers[lead]):
                    fillers[key] = found
                    changed = True


def _same_pair(toks: list[_Tok], a: int, i: int) -> bool:
    """Whether tokens ``a`` and ``i`` follow the same two words (not both weak)."""
    if a < 2 or i < 2:
        return False
    pair = (toks[a - 2].key, toks[a - 1].key)
    return (toks[i - 2].key, toks[i - 1].key) == pair and not set(pair) <= _WEAK and all(
        toks[x].kind == "word" for x in (a - 2, a - 1))


def _in_records(fillers: dict[str, list[tuple[int, int, Any]]], n: int) -> bool:
    """Whether record k lies wholly before record k + 1 ("John weighs 85 kg and is 1.8 m tall
    … Sarah weighs 60 kg and is 1.65 m tall")."""
    return all(max(fs[k][0] for fs in fillers.values()) < min(fs[k + 1][0] for fs in
                                                               fillers.values())
               for k in range(n - 1))


def _by_argument(fillers: dict[str, list[tuple[int, int, Any]]]) -> bool:
    """Whether the request writes each argument's values together, one argument after the
    other ("an initial speed of 0 m/s and … of 5 m/s. … in free fall for 10 seconds and …
    for 7 seconds")."""
    blocks = sorted((fs[0][0], fs[-1][0]) for fs in fillers.values())
    return len(blocks) >= 2 and all(a[1] < b[0] for a, b in pairwise(blocks))


def _named_numbers(call: ToolCall, toks: list[_Tok], fillers: dict[str, list[tuple[int, int, Any]]],
                   n: int, taken: set[int]) -> None:
    """Add to ``fillers`` a number argument whose frame does not repeat but whose name the
    records write before a number ("starts with an initial velocity of 10 …":
    ``initial_velocity``); a record that writes none keeps the call's value, or for a velocity
    or speed 0 where it says "from rest" or "at rest"."""
    ends = [max(fs[k][1] for fs in fillers.values()) for k in range(n)]
    taken = taken | {t for fs in fillers.values() for i, j, _ in fs for t in range(i, j)}
    for key, value in call.arguments.items():
        if key in fillers or isinstance(value, bool) or not isinstance(value, int | float):
            continue
        words = {w for w in name_words(key) if len(w) >= 3 and w not in _WEAK}
        found: list[tuple[int, int, Any]] = []
        for k in range(n):
            region = range(ends[k - 1] if k else 0, ends[k])
            named = [i for i in region if toks[i].kind == "num"
                     and i not in taken and any(t.kind == "word" and t.key in words
                                                for t in toks[max(0, i - 3):i])]
            number = toks[named[0]].number() if len(named) == 1 else None
            if number is None:
                rest = words & {"velocity", "speed"} and any(
                    toks[i].key == "rest" and toks[i - 1].key in ("from", "at") for i in region
                    if i >= 1)
                found.append((-1, -1, type(value)(0) if rest else value))
            else:
                found.append((named[0], named[0] + 1, int(number) if isinstance(value, int)
                              and number.is_integer() else number))
        if any(i >= 0 or v != value for i, _, v in found):
            fillers[key] = found
            taken |= {i for i, _, _ in found if i >= 0}


def _reanchored(call: ToolCall, toks: list[_Tok], text: str,
                anchors: dict[str, tuple[int, int]]) -> ToolCall:
    """``call`` with a number argument taken from another argument's frame in a later record
    moved to the frame no argument uses ("play 20 times … win 5 times … play 50 times … win 15
    times … play 100 times … win 30 times" given ``trials`` 20 and ``successes`` 100: 100 sits
    in the frame of ``trials``; ``successes`` takes 5, the first record's value of the one
    frame that repeats as often and no argument reads). ``anchors`` is updated. Unchanged when
    there is no such argument (both numbers written once: one written twice may be read at
    the other place), or not exactly one such frame."""
    numbers = {k: v for k, v in call.arguments.items() if k in anchors
               and isinstance(v, int | float) and not isinstance(v, bool)}

    def frame(i: int, value: Any) -> frozenset[int]:
        return frozenset({i} | {j for j, _, _ in _siblings(toks, i, i + 1, value, text)})

    groups = {k: frame(anchors[k][0], v) for k, v in numbers.items()}
    anchored = {a for a, _ in anchors.values()}
    for a_key, b_key in ((x, y) for x in numbers for y in numbers if x != y):
        shared, b_at = groups[a_key], anchors[b_key][0]
        if len(shared) < 2 or b_at not in shared or anchors[a_key][0] != min(shared) \
                or anchors[a_key][0] == b_at or any(
                    sum(_same_number(t, float(numbers[k])) for t in toks) != 1
                    for k in (a_key, b_key)):
            continue  # (a number written twice may be the other one: "3 to the power of 3")
        others = {frame(i, t.number()) for i, t in enumerate(toks)
                  if t.kind == "num" and i not in shared and i not in anchored
                  and t.number() is not None}
        free = {g for g in others if len(g) == len(shared) and not g & shared
                and not g & anchored}
        if len(free) != 1:
            return call
        at = min(free.pop())
        new = toks[at].number()
        if new is None:
            return call
        old = numbers[b_key]
        value = int(new) if isinstance(old, int) and new.is_integer() else new
        anchors[b_key] = (at, at + 1)
        return call.model_copy(update={"arguments": {**call.arguments, b_key: value}})
    return call


def _strays(toks: list[_Tok], text: str, located: list[Any], read: set[int], start: int,
            tool: str, frame: Collection[str] = ()) -> bool:
    """Whether the records leave a value of a kind the call's ``located`` values take unread
    from token ``start`` (after the first record) on: "36 and 48, … 60 and 96" with only the
    first number's frame repeating would copy 48 into the second record; "in Paris, in Rome and
    in Oslo" read as Paris and Oslo skips Rome. A record read in part is no record. The
    ``tool``'s own name quoted ("using the 'calculate_density' function") is no value, nor a
    capitalised word of the ``frame`` every record's value stands in ("the unique ID of")."""
    numbers = any(isinstance(v, int | float) and not isinstance(v, bool) for v in located)
    texts = any(isinstance(v, str) for v in located)
    for i in range(start, len(toks)):
        t = toks[i]
        if i in read:
            continue
        if numbers and t.kind == "num":
            return True
        if texts and t.kind == "word" and t.text[0].isupper() and t.text != "I" \
                and t.text not in frame \
                and i >= 1 and toks[i - 1].text not in _CLAUSE_END and toks[i - 1].text != "(":
            return True
    if texts:  # an unread quoted value
        begins = {t.start: i for i, t in enumerate(toks)}
        for m in _QUOTED.finditer(text):
            i = begins.get(m.start(2))
            if i is not None and i >= start and i not in read and m.group(2) != tool:
                return True
    return False


def _locate(toks: list[_Tok], value: Any) -> tuple[int, int] | None:
    """The first token span that writes ``value`` (a number or a short text)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        for i, t in enumerate(toks):
            if _same_number(t, float(value)):
                return i, i + 1
        return None
    if not isinstance(value, str) or not value.strip():
        return None
    want = [m.group().lower() for m in _TOKEN.finditer(value)]
    if not want or len(want) > _MAX_TEXT_WORDS:
        return None
    for i in range(len(toks) - len(want) + 1):
        if [t.text.lower() for t in toks[i:i + len(want)]] == want:
            return i, i + len(want)
    return None


def _same_number(tok: _Tok, value: float) -> bool:
    got = tok.number()
    if got is None:
        return False
    if math.isclose(got, value, rel_tol=1e-9, abs_tol=1e-9):
        return True
    return tok.text.endswith("%") and math.isclose(got / 100, value, rel_tol=1e-9, abs_tol=1e-12)


def _siblings(toks: list[_Tok], a: int, b: int, value: Any, text: str
              ) -> Iterator[tuple[int, int, Any]]:
    """Other values written in the frame of ``toks[a:b]``: (start, end, value) each."""
    before = toks[a - 1].key if a >= 1 else None
    after = toks[b].key if b < len(toks) else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        pair = (toks[a - 2].key, before) if a >= 2 else None
        strong_pair = pair is not None and all(toks[x].kind == "word" for x in (a - 2, a - 1)) \
            and not set(pair) <= _WEAK
        percent = toks[a].text.endswith("%")
        written = toks[a].number() or 0.0
        scale = 0.01 if percent and not math.isclose(written, float(value)) else 1.0
        near, named = [], []
        for i, t in enumerate(toks):
            if i == a or t.kind != "num" or t.text.endswith("%") != percent:
                continue
            number = t.number()
            if number is None:
                continue
            number *= scale
            found = (i, i + 1, int(number) if isinstance(value, int) and number.is_integer()
                     else number)
            if strong_pair and i >= 2 and (toks[i - 2].key, toks[i - 1].key) == pair:
                named.append(found)
            elif (before is not None and after is not None and i >= 1 and i + 1 < len(toks)
                    and toks[i - 1].key == before and toks[i + 1].key == after):
                near.append(found)
        yield from named or near  # "a base of 12 meters and a height of 15 meters": by name
        return
    quoted = before == after and before in ("'", '"')
    capital = value.strip()[:1].isupper()
    if before is None or after is None or not (quoted or _telling(before) or _telling(after)):
        yield from _named_texts(toks, a, b, capital, text)
        return  # "and _ ," says nothing of what the text is
    found = list(_framed_texts(toks, a, before, after, capital, text))
    # a quotation after a word that says what it is ("the SNP ID 'rs123456' … the species
    # 'Homo sapiens' … the SNP ID 'rs7891011'"): those after the same word, where there are any
    named = toks[a - 2].key if quoted and a >= 2 and _telling(toks[a - 2].key) else None
    same = [f for f in found if named is not None and f[0] >= 2 and toks[f[0] - 2].key == named]
    yield from same or found


def _framed_texts(toks: list[_Tok], a: int, before: str, after: str, capital: bool, text: str
                  ) -> Iterator[tuple[int, int, str]]:
    """The texts written between ``before`` and ``after`` other than ``toks[a]``'s."""
    for i in range(1, len(toks)):
        if i == a or toks[i - 1].key != before:
            continue
        for j in range(i + 1, min(i + _MAX_TEXT_WORDS, len(toks)) + 1):
            if j < len(toks) and toks[j].key == after:
                words = toks[i:j]
                first = words[0].text[0]
                if all(w.kind != "sign" for w in words) and not any(w.key in _WEAK for w in words) \
                        and (not capital or first.isupper() or first.isdigit()):
                    yield i, j, text[words[0].start:words[-1].end]
                break
            if j < len(toks) and toks[j].kind == "sign":
                break


def _named_texts(toks: list[_Tok], a: int, b: int, capital: bool, text: str
                 ) -> Iterator[tuple[int, int, str]]:
    """Other texts written after the two words before ``toks[a:b]`` when those say what it is
    ("a trip to _": "a trip to Paris", "focusing on _"): as many words as it has, or for a
    capitalised name its capitalised words."""
    if a < 2 or not all(toks[x].kind == "word" for x in (a - 2, a - 1)):
        return
    pair = (toks[a - 2].key, toks[a - 1].key)
    if set(pair) <= _WEAK:
        return
    after = toks[b].key if b < len(toks) else None
    shape = [t.kind for t in toks[a:b]]
    for i in range(2, len(toks)):
        if i == a or (toks[i - 2].key, toks[i - 1].key) != pair:
            continue
        if "sign" in shape:  # "km/h": a value written with signs, one of the same shape
            if [t.kind for t in toks[i:i + len(shape)]] == shape:
                yield i, i + len(shape), text[toks[i].start:toks[i + len(shape) - 1].end]
            continue
        j = i
        while j < len(toks) and j - i < (_MAX_TEXT_WORDS if capital else b - a):
            t = toks[j]
            if t.kind != "word" or t.key in _WEAK or (j > i and t.key == after) or (
                    capital and not t.text[0].isupper()):
                break
            j += 1
        if j > i:
            yield i, j, text[toks[i].start:toks[j - 1].end]


def _telling(key: str) -> bool:
    """A word that says what sits next to it ("format", "model"), not a sign or a weak word."""
    return key[:1].isalpha() and key not in _WEAK


def choices(call: ToolCall, parameters: dict[str, Any], text: str) -> list[ToolCall]:
    """``call`` once per choice of an ``enum`` argument the request names ("the easy mode and
    then the hard mode"), in the order the request names them; [] unless exactly one such
    argument has two or more choices named, the call's own value is one of them, and no other
    argument uses them. Choices that differ only in case ("AA", "Aa") are matched exactly."""
    props = parameters.get("properties") or {}
    found: list[tuple[str, list[Any]]] = []
    for key, value in call.arguments.items():
        enum = (props.get(key) or {}).get("enum")
        if not isinstance(enum, list) or isinstance(value, bool) or value not in enum:
            continue
        named = _named_choices([c for c in enum if isinstance(c, str)], text[:_MAX_TEXT])
        others = {str(v).lower() for k, v in call.arguments.items() if k != key}
        if len(named) >= 2 and value in named and not others & {c.lower() for c in named}:
            found.append((key, named))
    if len(found) != 1:
        return []
    key, named = found[0]
    return [ToolCall(name=call.name, arguments={**call.arguments, key: c})
            for c in named[:_MAX_RECORDS]]


# between two listed choices: a comma, "and" or "or", and at most one word that qualifies the
# next ("the status and scheduled trial date")
_CHOICE_GAP = re.compile(
    r"""['"‘’“”]?\s*(?:,\s*(?:and\s+|or\s+)?|\s(?:and|or)\s)\s*(?:[a-z]+\s+)?['"‘’“”]?""")


def listed_choices(calls: Sequence[ToolCall], parameters: dict[str, Any], text: str
                   ) -> list[ToolCall]:
    """One tool's ``calls``, each once per choice of a string parameter that the request
    lists together ("the 'Open', 'Close', 'High', and 'Low' stock prices for Microsoft and
    Apple": ``data_type`` for each company's call) — its ``enum`` or the values its description
    offers ("e.g., 'Open', 'Close'"). [] unless exactly one such parameter has two or more
    choices written as one list (commas, "and", "or" between, and at most one word that
    qualifies the next choice: "the status and scheduled trial date"), every call leaves it out or
    gives it the same one of them, and no other argument holds them. Over BFCL's ground truth,
    wherever a request names two or more of a called tool's choices, every one named has a
    call of its own."""
    if not calls:
        return []
    props = parameters.get("properties") or {}
    text = text[:_MAX_TEXT]
    found: list[tuple[str, list[str]]] = []
    for key, schema in props.items():
        if not isinstance(schema, dict) or schema.get("type") != "string":
            continue
        offered = [c for c in (schema.get("enum") or described_values(schema))
                   if isinstance(c, str)]
        spans = _choice_spans(offered, text)
        if len(spans) < 2 or not all(
                _CHOICE_GAP.fullmatch(text[a + len(x.replace("_", " ").strip()):b])
                for (a, x), (b, _) in pairwise(spans)):
            continue
        named = [c for _, c in spans]
        given = {json.dumps(c.arguments.get(key)) for c in calls}
        if len(given) != 1 or (key in calls[0].arguments and calls[0].arguments[key]
                               not in named):
            continue
        held = {str(v).lower() for c in calls for k, v in c.arguments.items() if k != key}
        if not held & {n.lower() for n in named}:
            found.append((key, named))
    if len(found) != 1:
        return []
    key, named = found[0]
    return [ToolCall(name=c.name, arguments={**c.arguments, key: choice})
            for c in calls for choice in named]


_NEGATION = re.compile(r"(?:\bnot|\bno|\bwithout|n't|\bnon)[\s-]+(?:\w+\s+){0,2}$", re.IGNORECASE)


def both_ways(call: ToolCall, parameters: dict[str, Any], text: str) -> list[ToolCall]:
    """``call`` with a boolean argument true and then false when the request asks for both:
    it names the flag plainly and negated ("the process is isothermal … what if the process
    is not isothermal", "without applying standardization … with standardization applied");
    [] unless exactly one boolean argument is named both ways."""
    props = parameters.get("properties") or {}
    low = text[:_MAX_TEXT].lower()
    found = []
    for key, value in call.arguments.items():
        if (props.get(key) or {}).get("type") != "boolean" or not isinstance(value, bool):
            continue
        stems = [w[:max(5, len(w) - 3)] for w in re.findall(r"[a-z]+", key.lower()) if len(w) >= 5]
        if len(stems) != 1:
            continue  # one telling word names the flag ("standardize"), or no reading
        said = [m.start() for m in re.finditer(rf"\b{re.escape(stems[0])}\w*", low)]
        negated = [bool(_NEGATION.search(low[:at])) for at in said]
        if any(negated) and not all(negated):
            found.append(key)
    if len(found) != 1:
        return []
    key = found[0]
    return [ToolCall(name=call.name, arguments={**call.arguments, key: flag})
            for flag in (True, False)]


def zip_choices(calls: Sequence[ToolCall], parameters: dict[str, Any], text: str
                ) -> list[ToolCall]:
    """Records (``calls``: one tool's calls read by ``records`` or ``following``) with an
    ``enum`` argument the request names once per record, inside each record's part ("stage 7
    in easy mode and stage 3 in hard mode"): the k-th record takes the k-th choice named. []
    unless exactly one such argument names as many choices as there are records and the
    choices and the records alternate in the text; choices named together before or after the
    records ("the status and trial date for case XY1234 … and GH5678") are no such case."""
    if len(calls) < 2:
        return []
    props = parameters.get("properties") or {}
    text = text[:_MAX_TEXT]
    starts = _record_starts(calls, text)
    if starts is None:
        return []
    found = []
    for key, value in calls[0].arguments.items():
        enum = (props.get(key) or {}).get("enum")
        if not isinstance(enum, list) or isinstance(value, bool) or any(
                c.arguments.get(key) != value for c in calls):
            continue
        named = _choice_spans([c for c in enum if isinstance(c, str)], text)
        if len(named) == len(calls) and _alternate(starts, [at for at, _ in named]):
            found.append((key, [c for _, c in named]))
    if len(found) != 1:
        return []
    key, chosen = found[0]
    return [ToolCall(name=c.name, arguments={**c.arguments, key: chosen[i]})
            for i, c in enumerate(calls)]


def _record_starts(calls: Sequence[ToolCall], text: str) -> list[int] | None:
    """Where each record's first own value is written, each after the values of the one
    before; None when one is not found."""
    varied = [k for k in calls[0].arguments
              if any(c.arguments.get(k) != calls[0].arguments[k] for c in calls)]
    toks = _tokens(text)
    starts: list[int] = []
    pos = 0
    for c in calls:
        at = []
        after = [t for t in toks if t.start >= pos]
        for k in varied:
            loc = _locate(after, c.arguments.get(k))
            if loc is not None:
                at.append(after[loc[0]].start)
        if not at:
            return None
        starts.append(min(at))
        pos = max(at) + 1
    return starts


def _alternate(a: list[int], b: list[int]) -> bool:
    """Whether the positions ``a`` and ``b`` (as many of each) alternate in the text."""
    merged = [k for _, k in sorted([(p, 0) for p in a] + [(p, 1) for p in b])]
    return all(x != y for x, y in pairwise(merged))


def _named_choices(enum: list[str], text: str) -> list[str]:
    """The choices ``text`` writes as words ("six_months" as "six months"), first written first;
    a choice written only inside a longer one ("New" in "Like New") does not count."""
    return [c for _, c in _choice_spans(enum, text)]


def _choice_spans(enum: list[str], text: str) -> list[tuple[int, str]]:
    """The choices ``_named_choices`` finds, each with where it is first written, in that
    order."""
    exact = len({c.lower() for c in enum}) < len(enum)
    spans: list[tuple[int, int, str]] = []
    for choice in enum:
        words = choice.replace("_", " ").strip()
        if not words:
            continue
        pattern = re.compile(r"(?<![\w-])" + re.escape(words) + r"(?![\w-])",
                             0 if exact else re.IGNORECASE)
        spans += [(m.start(), m.end(), choice) for m in pattern.finditer(text)]
    kept = [s for s in spans
            if not any(o[0] <= s[0] and s[1] <= o[1] and o[1] - o[0] > s[1] - s[0]
                       for o in spans)]
    firsts: dict[str, int] = {}
    for start, _, choice in sorted(kept):
        firsts.setdefault(choice, start)
    return [(at, c) for c, at in firsts.items()]
