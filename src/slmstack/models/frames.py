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
says something ("the _ format", not "and _ ,") or be a pair of quotes. The records are used only
when they are unambiguous: every repeating argument has the same number of values, the records
follow one another in the text (all of record k before record k+1), no value serves two
arguments, and no value of a kind the call takes is left unread after the first record. Lists
written as lists ("5, 10 and 15") are ``fanout``'s; booleans and structured values are never
varied.

``choices`` does the same for an ``enum`` argument whose choices the request names ("in hard
mode, then in easy mode"): one call per named choice; ``both_ways`` for a boolean argument the
request names plainly and negated ("the process is isothermal … what if it is not isothermal"):
one call with it true, one with it false.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ..types import ToolCall
from .fanout import used

__all__ = ["both_ways", "choices", "records"]

_TOKEN = re.compile(
    r"(?P<num>(?<![\w.^])-?[$€£¥]?(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
    r"(?:%|(?!\w|\.\d)))"
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
    theirs = [v for c in others for v in c.arguments.values()
              if isinstance(v, int | float | str) and not isinstance(v, bool)]
    toks = [_Tok(m.lastgroup or "sign", m.group(), m.start(), m.end())
            for m in _TOKEN.finditer(text)]
    anchors: dict[str, tuple[int, int]] = {}  # argument -> token span of its value
    for key, value in call.arguments.items():
        span = _locate(toks, value)
        if span is not None:
            anchors[key] = span
    taken = {i for a, b in anchors.values() for i in range(a, b)}
    # argument -> (first token, end token, value) of each value it takes, in text order
    fillers: dict[str, list[tuple[int, int, Any]]] = {}
    for key, (a, b) in anchors.items():
        value = call.arguments[key]
        found = [(a, b, value)]
        for i, j, other in _siblings(toks, a, b, value, text):
            if not any(n in taken for n in range(i, j)) and not used(other, theirs):
                found.append((i, j, other))
        if len(found) >= 2:
            fillers[key] = sorted(found, key=lambda f: f[0])
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
    for k in range(n - 1):  # record k lies wholly before record k + 1
        if max(fs[k][0] for fs in fillers.values()) > min(fs[k + 1][0] for fs in fillers.values()):
            return []
    read = taken | {t for fs in fillers.values() for i, j, _ in fs for t in range(i, j)}
    after_first = max(fs[0][0] for fs in fillers.values()) + 1
    if _strays(toks, text, [call.arguments[k] for k in anchors], read, after_first):
        return []
    out = [ToolCall(name=call.name,
                    arguments={**call.arguments, **{key: fs[k][2] for key, fs in fillers.items()}})
           for k in range(n)]
    return out if len({repr(sorted(c.arguments.items())) for c in out}) == n else []


def _strays(toks: list[_Tok], text: str, located: list[Any], read: set[int], start: int) -> bool:
    """Whether the records leave a value of a kind the call's ``located`` values take unread
    from token ``start`` (after the first record) on: "36 and 48, … 60 and 96" with only the
    first number's frame repeating would copy 48 into the second record; "in Paris, in Rome and
    in Oslo" read as Paris and Oslo skips Rome. A record read in part is no record."""
    numbers = any(isinstance(v, int | float) and not isinstance(v, bool) for v in located)
    texts = any(isinstance(v, str) for v in located)
    for i in range(start, len(toks)):
        t = toks[i]
        if i in read:
            continue
        if numbers and t.kind == "num":
            return True
        if texts and t.kind == "word" and t.text[0].isupper() and t.text != "I" \
                and i >= 1 and toks[i - 1].text not in _CLAUSE_END:
            return True
    if texts:  # an unread quoted value
        begins = {t.start: i for i, t in enumerate(toks)}
        for m in _QUOTED.finditer(text):
            i = begins.get(m.start(2))
            if i is not None and i >= start and i not in read:
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
    if before is None or after is None or not (quoted or _telling(before) or _telling(after)):
        return  # "and _ ," says nothing of what the text is
    capital = value.strip()[:1].isupper()
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


def _named_choices(enum: list[str], text: str) -> list[str]:
    """The choices ``text`` writes as words ("six_months" as "six months"), first written first;
    a choice written only inside a longer one ("New" in "Like New") does not count."""
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
    return list(dict.fromkeys(c for _, _, c in sorted(kept)))
