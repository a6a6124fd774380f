"""Dates in the form a tool asks for.

A parameter says how it wants a date either with JSON Schema's ``"format": "date"`` (ISO
``YYYY-MM-DD``) or in its description ("Format: yyyy-mm-dd", "in the format MM-DD-YYYY",
"(month-day-year)", "e.g. 2022-04-28"). Models, small ones above all, copy the date as the
user wrote it ("March 17, 1915", "Jun.20,2023", "10th December 2022"); ``conform`` rewrites
such a value in the asked form. Only complete dates (day, month and year all written) are
rewritten, and numeric dates only when their order is unambiguous.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from .numwords import CARDINALS

__all__ = ["asked_format", "conform", "parse_date", "written_dates"]

_LAYOUT = re.compile(
    r"\b(yyyy|mm|dd|year|month|day)([-/.])(yyyy|mm|dd|year|month|day)\2"
    r"(yyyy|mm|dd|year|month|day)\b", re.IGNORECASE
)
_CODES = {"yyyy": "%Y", "mm": "%m", "dd": "%d", "year": "%Y", "month": "%m", "day": "%d"}
_EXAMPLE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_MONTHS = {m: i for i, m in enumerate(
    "jan feb mar apr may jun jul aug sep oct nov dec".split(), start=1)}
_MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(\d{4})"
_SEP = r"[\s,.]*"
_NAMED = (
    # March 17, 1915 / Jun.20,2023 / Jan 28 2021
    (re.compile(rf"^{_MONTH}{_SEP}{_DAY}{_SEP}{_YEAR}$", re.I), ("m", "d", "y")),
    # 17 March 1915 / 10th December 2022 / 1st of June, 2022
    (re.compile(rf"^{_DAY}(?:\s+of)?{_SEP}{_MONTH}{_SEP}{_YEAR}$", re.I), ("d", "m", "y")),
    # 2023 April 4 / 2023, April 4th
    (re.compile(rf"^{_YEAR}{_SEP}{_MONTH}{_SEP}{_DAY}$", re.I), ("y", "m", "d")),
)
_NUMERIC = re.compile(r"^(\d{1,4})([-/.])(\d{1,2})\2(\d{1,4})$")
_WRITTEN = re.compile(
    r"\b(?:" + "|".join(f"(?:{p.pattern[1:-1]})" for p, _ in _NAMED)
    + r"|\d{1,4}(?P<sep>[-/.])\d{1,2}(?P=sep)\d{1,4})\b", re.IGNORECASE)


def written_dates(text: str) -> list[tuple[int, int]]:
    """Where ``text`` writes complete dates ("July 10, 2022", "10/07/2022"): (start, end)."""
    return [m.span() for m in _WRITTEN.finditer(text)
            if all(w.lower().rstrip(".") in _MONTH_WORDS
                   for w in re.findall(r"[a-z]{3,}\.?", m.group(), re.IGNORECASE)
                   if w.lower() != "of")]


_MONTH_WORDS = frozenset(
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec".split())


def asked_format(schema: dict[str, Any]) -> str | None:
    """The date layout a parameter asks for, as a ``strftime`` pattern, or None."""
    if schema.get("format") == "date":
        return "%Y-%m-%d"
    text = str(schema.get("description") or "")
    m = _LAYOUT.search(text)
    if m and sorted(_CODES[p.lower()] for p in m.group(1, 3, 4)) == ["%Y", "%d", "%m"]:
        return m.group(2).join(_CODES[p.lower()] for p in m.group(1, 3, 4))
    if "date" in text.lower() and _EXAMPLE.search(text):
        return "%Y-%m-%d"
    return None


def parse_date(text: str) -> dt.date | None:
    """A complete date written in a common way, or None (partial or ambiguous dates too)."""
    text = text.strip()
    for pattern, order in _NAMED:
        m = pattern.match(text)
        if m:
            parts = dict(zip(order, m.groups(), strict=True))
            return _date(int(parts["y"]), _MONTHS[parts["m"][:3].lower()], int(parts["d"]))
    m = _NUMERIC.match(text)
    if not m:
        return None
    a, b, c = m.group(1), m.group(3), m.group(4)
    if len(a) == 4:
        return _date(int(a), int(b), int(c))
    if len(c) != 4:
        return None
    first, second = int(a), int(b)
    if first > 12 >= second:
        return _date(int(c), second, first)
    if second > 12 >= first:
        return _date(int(c), first, second)
    return _date(int(c), first, second) if first == second else None


def _date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def conform(value: str, schema: dict[str, Any]) -> str:
    """``value`` in the layout ``schema`` asks for when it is a complete date in another form;
    otherwise ``value`` as it is."""
    layout = asked_format(schema)
    if layout is None:
        return value
    date = parse_date(value)
    return value if date is None else date.strftime(layout)


_FIRST_DAY = re.compile(r"start|begin|from|check_?in|arriv", re.IGNORECASE)
_LAST_DAY = re.compile(r"end|until|check_?out|depart|leav|(?:^|_)to(?:_|$)", re.IGNORECASE)
_LAYOUTS = ("%Y-%m-%d", "%m-%d-%Y", "%d-%m-%Y", "%Y/%m/%d", "%m/%d/%Y", "%d/%m/%Y")
_DAY_MONTH = re.compile(rf"\b(?:{_MONTH}\s*{_DAY}|{_DAY}(?:\s+of)?\s+{_MONTH})\b", re.IGNORECASE)
_COUNT = {w: n for w, n in CARDINALS.items() if n <= 10}
_STAY = re.compile(r"\b(\d{1,3}|" + "|".join(w for w, n in _COUNT.items() if n)
                   + r")\s+(nights?|days?)\b", re.IGNORECASE)


def stay_ends(arguments: dict[str, Any], text: str) -> dict[str, str]:
    """A last-day argument (``end_date``, ``check_out_date``) given the same date as its
    first-day one: the one other day the request names ("from 2023 April 4th to April 8th",
    in the first day's year), or else the first day plus the one stay it states ("for 3 nights
    starting from 1st June 2022"), written in the argument's own layout. A stay of a single day
    is written so ("on May 5"), with no second day and no count of nights."""
    out: dict[str, str] = {}
    for first, start in arguments.items():
        if not (isinstance(start, str) and _FIRST_DAY.search(first)):
            continue
        day = parse_date(start)
        for last, end in arguments.items():
            if last == first or not (isinstance(end, str) and _LAST_DAY.search(last)) \
                    or day is None or parse_date(end) != day:
                continue
            layout = next((f for f in _LAYOUTS if day.strftime(f) == end.strip()), None)
            found = _later_day(day, text)
            if found is None:
                stays = {_COUNT.get(m.group(1).lower()) or int(m.group(1))
                         for m in _STAY.finditer(text) if m.group(1).lower() in _COUNT
                         or m.group(1).isdigit()}
                found = day + dt.timedelta(days=stays.pop()) if len(stays) == 1 else None
            if layout is not None and found is not None and found > day:
                out[last] = found.strftime(layout)
    return out


def _later_day(day: dt.date, text: str) -> dt.date | None:
    """The one day other than ``day`` that ``text`` names by month and day, in ``day``'s year
    (the next one when it would come first), or None."""
    found = set()
    for m in _DAY_MONTH.finditer(text):
        month, number = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
        named = _date(day.year, _MONTHS[month[:3].lower()], int(number))
        if named is not None and named != day:
            found.add(named if named > day else _date(day.year + 1, named.month, named.day))
    found.discard(None)
    return found.pop() if len(found) == 1 else None
