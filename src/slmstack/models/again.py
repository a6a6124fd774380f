"""Calls a request asks for again with changes ("… using the 'trapezoid' method, and then do the
same calculation but using the 'simpson' method", "fetch the same sequence again but this time
in 'genbank' format", "the chemist repeats the experiment …, but this time the initial
temperature is 10 degrees Celsius"): the first call, then one per part of the request that
asks for the same again, each the first call with the values that part writes.

The request's parts (``tooldocs.aspects``) up to the first that says "the same", "again",
"once more", "repeat", "what if" or "a second" (third, different …) describe the first call;
each part that says so starts a call of its own, which lasts until the next (a part that says
"these" or "both" — "repeat these calculations but for …" — gives one such call for every call
so far). The first call is the
model's when every value it uses is written before the first repetition; a value it takes
from a later part is left out when optional, or replaced by the one value of its kind the
first part writes and no argument uses (words of its own that no part writes, "bug" for
"bugs", stay); nothing is read when the first part writes a number the first call does not
use (a second record written there: "… and compare it with the price of a similar house …
with an area of 3000 square feet"). A value a later part writes (a quotation, a number,
a capitalised name, a bracketed list "[1, 0, -1]") goes to the argument

- whose name it is written beside, on one side and in its clause, most words of it first
  ("for the year 2020", "500 base pairs included upstream", "the final temperature is 50"),
  unless the first part writes that argument's value before a word of its own and this value
  before another ("500 grams" … "100 degrees"),
- or whose value the first part writes in the same words ("the function 'x^3'" … "the function
  '2x^2+3x-1'"; "x values of 2 and 5" … "x values of -1 and 3": the value after "and" follows
  the one before it, as in the first part),

a plain word written where the first part writes an argument's ("a detailed information about"
… "a summary information about") or a choice of an ``enum`` argument that part names is that
argument's, and a boolean argument
named in that part is true there, or false after "without"/"not"
("without applying standardization" … "with standardization applied"). Two values for one
argument give a call each ("at 1 meter and 2 meters"). Nothing is read when a value of the
part goes to no argument or to two (a name that no argument takes is passed over when the
call takes no name), when a part changes nothing, or when two calls come out the same.
"""

from __future__ import annotations

import re
from typing import Any

from ..types import ToolCall
from .fanout import name_words

__all__ = ["records"]

_AGAIN = re.compile(r"\b(?:the same|again|once more|repeat(?:s|ed|ing)?|what if"
                    r"|a (?:different|second|third|fourth))\b", re.IGNORECASE)
_ALL = re.compile(r"\b(?:these|both)\b", re.IGNORECASE)
_TOKEN = re.compile(
    r"(?P<list>\[[^\[\]\n]{1,120}\])"
    r"|(?P<quote>'[^'\n]{1,80}'|\"[^\"\n]{1,80}\")"
    r"|(?P<num>-?[$€£]?\d{1,3}(?:,\d{3})+(?:\.\d+)?%?|-?[$€£]?\d+(?:\.\d+)?%?)"
    r"|(?P<word>[A-Za-z][\w-]*)"
    r"|(?P<sign>[^\sA-Za-z\d])")
_PLAIN = frozenset("a an the and or of to in for at on by with is are was be this that it its "
                   "than then but now time while when where which whereas if so as because "
                   "keeping".split())
_NEGATION = frozenset("without not no non".split())
_CLAUSE_END = frozenset(".?!;:")
_NEAR = 4  # tokens between a value and a word of its argument's name
_MAX_CALLS = 8


class _Tok:
    __slots__ = ("kind", "start", "text", "value")

    def __init__(self, kind: str, text: str, value: Any, start: int) -> None:
        self.kind, self.text, self.value, self.start = kind, text, value, start


def _tokens(text: str) -> list[_Tok]:
    """Quotations, numbers (a percentage as a fraction), names (capitalised words not first
    in their sentence: "New York", "California"), other words (lower-cased) and signs."""
    out: list[_Tok] = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or "sign"
        raw = m.group()
        value: Any = raw
        if kind == "quote":
            value = raw[1:-1]
        elif kind == "list":
            value = _items(raw)
            if value is None:
                kind = "sign"
        elif kind == "num":
            number = float(raw.replace(",", "").lstrip("-$€£").rstrip("%"))
            number = -number if raw.startswith("-") else number
            value = number / 100 if raw.endswith("%") else number
        elif kind == "word" and raw[0].isupper() and raw != "I" and out and not (
                out[-1].kind == "sign" and out[-1].text in _CLAUSE_END) and not any(
                t.kind == "num" for t in out[-2:]):  # "10 degrees Celsius": a unit
            if out[-1].kind == "name" and text[out[-1].start + len(out[-1].value):m.start()] \
                    == " ":
                out[-1].value += " " + raw
                continue
            kind = "name"
        out.append(_Tok(kind, raw.lower() if kind == "word" else raw, value, m.start()))
    return out


def _sections(text: str) -> list[str]:
    """The first call's part of the request, then each part that asks again ([] when none)."""
    from ..rag.tooldocs import aspects

    parts = aspects(text) or [text]
    marked = [i for i, p in enumerate(parts) if _AGAIN.search(p)]
    if not marked or marked[0] == 0:
        return []
    bounds = [0, *marked, len(parts)]
    return [" ".join(parts[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]


def _type(schema: Any) -> str:
    kind = (schema or {}).get("type") if isinstance(schema, dict) else None
    return {"number": "float", "double": "float", "int": "integer", "bool": "boolean",
            "dict": "object"}.get(kind or "", kind or "")


def _items(raw: str) -> list[Any] | None:
    """The numbers or quotations of a bracketed list, "[1, 0, -1]" (None: not such a list)."""
    items: list[Any] = []
    for item in (x.strip() for x in raw[1:-1].split(",")):
        if re.fullmatch(r"-?\d+(?:\.\d+)?", item):
            number = float(item)
            items.append(int(number) if number.is_integer() else number)
        elif re.fullmatch(r"'[^']*'|\"[^\"]*\"", item):
            items.append(item[1:-1])
        else:
            return None
    return items


def _fits(value: Any, kind: str) -> Any:
    """``value`` as an argument of JSON type ``kind`` (None: it does not fit)."""
    if isinstance(value, list) or kind == "array":
        return value if isinstance(value, list) and kind == "array" else None
    if kind == "string":
        return value if isinstance(value, str) else None
    if isinstance(value, str) or isinstance(value, bool):
        return None
    if kind == "integer":
        return int(value) if float(value).is_integer() else None
    return float(value) if kind == "float" else None


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, str) and isinstance(b, str):
        return a.strip().lower() == b.strip().lower()
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return abs(float(a) - float(b)) < 1e-9
    return False


def _values(toks: list[_Tok]) -> list[int]:
    """Where the values are: quotations, numbers, names and bracketed lists — not an exponent
    ("x^2"), nor inside an aside in parentheses that has words ("(meaning the function is
    x^2 - 1)"; a point "(3, 4)" is values)."""
    aside: set[int] = set()
    opened: int | None = None
    for i, t in enumerate(toks):
        if t.text == "(":
            opened = i
        elif t.text == ")" and opened is not None:
            if any(toks[j].kind == "word" for j in range(opened + 1, i)):
                aside.update(range(opened + 1, i))
            opened = None
    return [i for i, t in enumerate(toks) if t.kind in ("quote", "num", "name", "list")
            and i not in aside and not (i and toks[i - 1].text == "^")]


def _at(toks: list[_Tok], text: str, value: Any) -> int | None:
    """The first token that writes ``value`` in ``text`` (a name: where its first word is)."""
    for i in _values(toks):
        if _same(toks[i].value, value):
            return i
    if isinstance(value, str) and len(value) >= 3:
        m = re.search(rf"(?<!\w){re.escape(value)}(?!\w)", text, re.IGNORECASE)
        if m is not None:
            return next((i for i, t in enumerate(toks) if t.start == m.start()), None)
    return None


def _frame(toks: list[_Tok], i: int) -> tuple[str, str, str]:
    """The two tokens before a value and the one after it."""
    def text(j: int) -> str:
        return toks[j].text if 0 <= j < len(toks) and toks[j].kind in ("word", "sign") else ""
    return text(i - 2), text(i - 1), text(i + 1)


def _frames_match(a: tuple[str, str, str], b: tuple[str, str, str]) -> bool:
    """Whether two values are written in the same words: the two before them, or a telling
    word right before or right after."""
    if a[0] and a[1] and (a[0], a[1]) == (b[0], b[1]):
        return True
    return any(x and x == y and x not in _PLAIN and re.match(r"\w", x)
               for x, y in ((a[1], b[1]), (a[2], b[2])))


def _stem(word: str) -> str:
    return word[:6] if len(word) > 6 else word


def _name_near(key: str, toks: list[_Tok], i: int) -> tuple[int, int] | None:
    """How well value ``i`` is written beside ``key``'s name, on one side of it, in its clause
    and with no other value between: (minus the words of the name written there, the nearest
    one's distance); None when no word of it is."""
    stems = {_stem(w) for w in name_words(key) if len(w) >= 3 and w not in _PLAIN}
    best: tuple[int, int] | None = None
    for step in (-1, 1):
        seen: dict[str, int] = {}
        j, n = i + step, 0
        while 0 <= j < len(toks) and n < _NEAR:
            tok = toks[j]
            if (tok.kind == "sign" and tok.text in _CLAUSE_END) or tok.kind in (
                    "quote", "num", "name", "list"):
                break  # the clause ends, or another value is between: the name is that one's
            n += 1
            stem = _stem(tok.text)
            if tok.kind == "word" and stem in stems:
                seen[stem] = min(seen.get(stem, n), n)
            j += step
        if seen and (best is None or (-len(seen), min(seen.values())) < best):
            best = (-len(seen), min(seen.values()))
    return best


def _flags(section: str, props: dict[str, Any]) -> dict[str, bool]:
    """The boolean arguments ``section`` names, true unless negated just before."""
    toks = [t for t in _tokens(section) if t.kind == "word"]
    out: dict[str, bool] = {}
    for key, schema in props.items():
        if _type(schema) != "boolean":
            continue
        stems = {_stem(w) for w in name_words(key) if len(w) >= 5}
        for n, tok in enumerate(toks):
            if stems and _stem(tok.text) in stems:
                out[key] = not any(t.text in _NEGATION for t in toks[max(0, n - 3):n])
                break
    return out


def _first(call: ToolCall, section: str, rest: str, props: dict[str, Any],
           required: set[str]) -> ToolCall | None:
    """``call`` as the first part ``section`` writes it (None: it cannot be)."""
    toks, later = _tokens(section), _tokens(rest)
    arguments = dict(call.arguments)
    taken = set()
    for key, value in call.arguments.items():
        if isinstance(value, bool) or not isinstance(value, str | int | float | list):
            continue
        i = _at(toks, section, value)
        if isinstance(value, list):
            taken.update([i] if i is not None else [])
            continue  # a list the model wrote: kept
        if i is not None:
            taken.add(i)
            continue
        if _at(later, rest, value) is None:
            if isinstance(value, str):
                continue  # the model's words for what the part writes ("bug" for "bugs")
            return None  # a number written nowhere: not the model's to vary
        del arguments[key]
    for key in set(call.arguments) - set(arguments):
        kind = _type(props.get(key))
        free = [i for i in _values(toks) if i not in taken
                and _fits(toks[i].value, kind) is not None]
        if len(free) == 1:
            arguments[key] = _fits(toks[free[0]].value, kind)
            taken.add(free[0])
        elif key in required:
            return None
    numbers = {k for k, schema in props.items() if _type(schema) in ("integer", "float")}
    if numbers and any(toks[i].kind == "num" and i not in taken for i in _values(toks)):
        return None  # a number the first call leaves: another record the first part writes
    return call.model_copy(update={"arguments": arguments})


def _changed(prev: ToolCall, section: str, props: dict[str, Any],
             known: dict[str, list[tuple[str, str, str]]], named: set[str],
             worded: dict[str, tuple[str, str]]) -> list[dict[str, Any]] | None:
    """The arguments ``section`` changes in ``prev``: one dict per call it asks for (two
    values for one argument: "at a distance of 1 meter and 2 meters"); None when a value it
    writes fits no argument or two (a name: only while ``named``, the arguments that take a
    name, is not empty), or more than one argument takes several."""
    toks = _tokens(section)
    found: dict[str, list[Any]] = {}
    placed: dict[int, str] = {}
    for i in _values(toks):
        value, frame = toks[i].value, _frame(toks, i)
        if any(_same(value, prev.arguments.get(k)) and (
                _name_near(k, toks, i) is not None
                or any(_frames_match(frame, f) for f in known.get(k, ())))
               for k in prev.arguments):
            continue  # "while keeping the total payout at $6,000,000"
        near = {k: d for k in props
                if _fits(value, _type(props[k])) is not None and _unit_fits(frame, known, k)
                and (d := _name_near(k, toks, i)) is not None}
        if near:
            best = min(near.values())
            keys = [k for k, d in near.items() if d == best]
        else:
            keys = [k for k, frames in known.items()
                    if _fits(value, _type(props.get(k))) is not None
                    and any(_frames_match(frame, f) for f in frames)]
            if not keys and i >= 2 and toks[i - 1].text == "and" and i - 2 in placed:
                keys = _after_and(placed[i - 2], known, props, value)
        if len(keys) != 1:
            if toks[i].kind == "name" and not named:
                continue  # "the DNA sequence": no argument takes a name
            return None
        key = keys[0]
        found.setdefault(key, []).append(_fits(value, _type(props[key])))
        placed[i] = key
    for key, frames in worded.items():  # "a detailed information" … "a summary information"
        if key not in found:
            word = _worded(toks, frames)
            if word is not None and not _same(word, prev.arguments.get(key)):
                found[key] = [word]
    for key, schema in props.items():  # "but on an annual basis" for (quarterly, annual)
        if key not in found and _type(schema) == "string":
            chosen = _named(schema.get("enum") or [], section)
            if chosen and [prev.arguments.get(key)] != chosen:
                found[key] = chosen
    flags = {key: flag for key, flag in _flags(section, props).items()
             if prev.arguments.get(key, not flag) != flag}
    several = [k for k, vs in found.items() if len(vs) > 1]
    if len(several) > 1:
        return None
    one = {k: vs[0] for k, vs in found.items()}
    if not several:
        return [{**one, **flags}] if one or flags else []
    return [{**one, several[0]: v, **flags} for v in found[several[0]]]


def _worded(toks: list[_Tok], frame: tuple[str, str]) -> str | None:
    """The one lower-case word written between ``frame``'s two words ("a _ information")."""
    got = {toks[i].text for i in range(1, len(toks) - 1) if toks[i].kind == "word"
           and (toks[i - 1].text, toks[i + 1].text) == frame}
    return got.pop() if len(got) == 1 else None


def _named(enum: list[Any], text: str) -> list[str]:
    """The choices of ``enum`` ``text`` writes in so many words, in the order of ``enum``."""
    return [c for c in enum if isinstance(c, str) and c.strip() and re.search(
        r"(?<![\w-])" + re.escape(c.replace("_", " ").strip()) + r"(?![\w-])", text,
        re.IGNORECASE)]


def _unit_fits(frame: tuple[str, str, str], known: dict[str, list[tuple[str, str, str]]],
               key: str) -> bool:
    """Whether a value written before ``frame``'s word ("100 degrees") may be ``key``'s: not
    when ``key``'s value is written before a word of its own every time ("500 grams")."""
    after = frame[2]
    words = [f[2] for f in known.get(key, ())]
    if not (after and re.match(r"[a-z]", after) and after not in _PLAIN) or not words:
        return True
    return not all(w and re.match(r"[a-z]", w) and w not in _PLAIN and w != after
                   for w in words)


def _after_and(key: str, known: dict[str, list[tuple[str, str, str]]], props: dict[str, Any],
               value: Any) -> list[str]:
    """The argument written after ``key``'s value and "and" in the first part ("between 2 and
    5": ``end_x`` after ``start_x``)."""
    return [k for k, frames in known.items() if k != key
            and _fits(value, _type(props.get(k))) is not None
            and any(f[1] == "and" and f[0] == "\0" + key for f in frames)]


def records(call: ToolCall, parameters: dict[str, Any], text: str) -> list[ToolCall]:
    """The first call and one per part that asks for it again with changes ([] when the
    request asks for nothing again, or it cannot be read unambiguously)."""
    sections = _sections(text)
    if len(sections) < 2:
        return []
    props = parameters.get("properties") or {}
    required = set(parameters.get("required") or [])
    first = _first(call, sections[0], " ".join(sections[1:]), props, required)
    if first is None:
        return []
    toks = _tokens(sections[0])
    known: dict[str, list[tuple[str, str, str]]] = {}
    where: dict[int, str] = {}
    for key, value in first.arguments.items():
        if isinstance(value, str | int | float | list) and not isinstance(value, bool):
            i = _at(toks, sections[0], value)
            if i is not None:
                known.setdefault(key, []).append(_frame(toks, i))
                where[i] = key
    for i, key in where.items():  # "between 2 and 5": the value after "and" follows ``key``'s
        if i + 2 in where and toks[i + 1].text == "and":
            known[where[i + 2]].append(("\0" + key, "and", ""))
    named = {k for k, v in first.arguments.items() if isinstance(v, str) and v[:1].isupper()
             and (i := _at(toks, sections[0], v)) is not None and toks[i].kind == "name"}
    # a value written as one plain word between two others: "a detailed information about"
    worded = {k: (toks[i - 1].text, toks[i + 1].text) for k, v in first.arguments.items()
              if isinstance(v, str) and re.fullmatch(r"[a-z]+", v)
              and (i := _at(toks, sections[0], v)) is not None and 0 < i < len(toks) - 1
              and toks[i].kind == "word" and toks[i - 1].kind == toks[i + 1].kind == "word"}
    out = [first]
    for section in sections[1:]:
        for prev in out[:] if _ALL.search(section) else out[:1]:
            changes = _changed(prev, section, props, known, named, worded)
            if not changes:
                return []
            out += [prev.model_copy(update={"arguments": {**prev.arguments, **change}})
                    for change in changes]
    if len(out) > _MAX_CALLS or len({repr(sorted(c.arguments.items())) for c in out}) < len(out):
        return []
    return out
