"""The legs of a trip the request writes as a chain of places ("from New York to Los Angeles,
then from Los Angeles to Miami, and finally from Miami back to New York"): one call per leg for
a tool whose arguments are a start and an end place (``start_location``/``end_location``,
``origin``/``destination``, ``departure_city``/``destination_city``).

A place is a capitalised name written after "from" or "to" ("to the Golden Gate Bridge"), or a
place of the speaker's own named once with its town and later by itself ("from my home in San
Francisco …, and finally … back to my home"). "to" without "from" starts at the last leg's
end. A choice of the tool's own (``enum``) named in a leg's part of the request ("then a scenic
route from Palo Alto …") is that leg's; the other arguments are the model's call's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ..types import ToolCall
from .fanout import name_words

__all__ = ["records"]

_START = frozenset("start starting origin from departure source begin".split())
_END = frozenset("end ending destination to arrival dest target".split())
_PLACE_WORDS = frozenset("location city place point address airport station town".split())
_NAME = r"[A-Z][\w.'-]*(?:\s+(?:of\s+|de\s+|la\s+)?[A-Z][\w.'-]*)*(?:,\s?[A-Z]{2}\b)?"
_OWN = re.compile(r"\bmy\s+((?:\w+'s\s+)?\w+)\s+in\s+(" + _NAME + ")")
"""A place of the speaker's own, named with its town: "my friend's house in San Jose"."""
_MARK = re.compile(r"\b(from|to)\s+(?:the\s+)?(?:(my\s+(?:\w+'s\s+)?\w+)(?:\s+in\s+("
                   + _NAME + "))?|(" + _NAME + "))")


def _pair(arguments: dict[str, Any]) -> tuple[str, str] | None:
    """The start and the end parameter: one string argument each whose name has a start or
    an end word and otherwise the same place words ("location", "city") or none."""
    starts, ends = [], []
    for key, value in arguments.items():
        words = name_words(key)
        if not isinstance(value, str) or not words:
            continue
        rest = [w for w in words if w not in _START | _END]
        if rest and not set(rest) <= _PLACE_WORDS:
            continue
        side_start, side_end = bool(_START & set(words)), bool(_END & set(words))
        if side_start != side_end:
            (starts if side_start else ends).append((key, tuple(rest)))
    if len(starts) != 1 or len(ends) != 1:
        return None
    (start, s_rest), (end, e_rest) = starts[0], ends[0]
    if s_rest and e_rest and s_rest != e_rest:
        return None
    return start, end


def _legs(text: str) -> list[tuple[str, str, int, int]]:
    """The legs the request writes, in order: (start, end, where the leg is written: from its
    "from" or its "to" to the end of its "to"); [] when a place cannot be read."""
    own = {m.group(1).lower(): m.group(2) for m in _OWN.finditer(text)}
    legs: list[tuple[str, str, int, int]] = []
    start: tuple[str, int] | None = None
    last_end: str | None = None
    for m in _MARK.finditer(text):
        mine, town, name = m.group(2), m.group(3), m.group(4)
        place = name or town or (own.get(mine[3:].lower()) if mine else None)
        if place is None:
            if mine is not None:
                return []  # "my office" with no town named for it
            continue
        # "… to Central Park. Could you …", "… to London." (not "Washington D.C.")
        place = re.sub(r"(?<=[a-z]{2})\.$", "", re.split(r"\.\s", place)[0])
        if m.group(1) == "from":
            start = (place, m.start())
            continue
        begin, at = start if start is not None else (last_end, m.start())
        if begin is None or begin == place or any((begin, place) == (a, b)
                                                  for a, b, _, _ in legs):
            return []  # a leg that goes nowhere, or the same leg twice: not one trip
        legs.append((begin, place, at, m.end()))
        start, last_end = None, place
    return legs


def _choices(legs: list[tuple[str, str, int, int]], enum: list[Any], text: str
             ) -> dict[int, str]:
    """The choice of ``enum`` each leg names: every time a choice is written, it goes to the
    leg written nearest it ("the fastest route from …", "… to Los Angeles using driving");
    a leg given exactly one choice takes it."""
    got: dict[int, set[str]] = {}
    for choice in (c for c in enum if isinstance(c, str) and c):
        for m in re.finditer(rf"\b{re.escape(choice)}\b", text, re.IGNORECASE):
            gaps = [max(a - m.end(), m.start() - b, 0) for _, _, a, b in legs]
            best = min(gaps)
            if gaps.count(best) == 1:
                got.setdefault(gaps.index(best), set()).add(choice)
    return {i: next(iter(c)) for i, c in got.items() if len(c) == 1}


def records(call: ToolCall, parameters: dict[str, Any], text: str,
            calls: Sequence[ToolCall] = ()) -> list[ToolCall]:
    """One call per leg when the request writes two or more and ``call`` or another of the
    model's ``calls`` to its tool goes between two of its places ([] otherwise). A leg the
    model's calls make keeps that call's other arguments, the others copy the first such
    call's (or the first call between two of the places); a leg's choices are its own."""
    pair = _pair(call.arguments)
    if pair is None:
        return []
    start, end = pair
    legs = _legs(text)
    if len(legs) < 2:
        return []
    mine = [c for c in (call, *calls) if c.name == call.name]
    made = {(a, b): next((c for c in mine if (c.arguments.get(start), c.arguments.get(end))
                          == (a, b)), None) for a, b, _, _ in legs}
    stops = {p for a, b, _, _ in legs for p in (a, b)}
    template = next((c for c in made.values() if c is not None), None) or next(
        (c for c in mine if {c.arguments.get(start), c.arguments.get(end)} <= stops), None)
    if template is None:
        return []
    props = parameters.get("properties") or {}
    named = {key: _choices(legs, (schema or {}).get("enum") or [], text)
             for key, schema in props.items() if key in template.arguments}
    out = []
    for n, (a, b, _, _) in enumerate(legs):
        arguments = {**(made[(a, b)] or template).arguments, start: a, end: b}
        arguments.update({key: got[n] for key, got in named.items() if n in got})
        out.append(template.model_copy(update={"arguments": arguments}))
    return out
