"""Units: which unit the request writes a number with, and which units a parameter takes.

A small model given "a wall of 30 feet by 12 feet, … a brand that covers 400 square feet per
gallon" may put 12 in ``coverage_rate`` ("The area in square feet that one gallon of paint can
cover") and 400 in ``height`` ("… in feet"); given "$10,000 … for 10 years", 10 in ``principle``
(the amount) and 10,000 in ``time`` ("in years"). ``unit_order`` swaps two number arguments
when each value's written unit fits the other parameter better (and neither fits worse).

Units are compared as canonical names ("ft" and "foot" are ``feet``; "$" and "dollars" are
``dollars``); a parameter's units are those its name and description write, and a parameter
about an amount of money (amount, price, principal, …) takes ``dollars``. Short forms that are
also words ("in", "m", "s") count only right after the number.
"""

from __future__ import annotations

import itertools
import math
import re
from typing import Any

from ..types import ToolSpec

__all__ = ["close", "is_unit", "param_units", "unit_conversions", "unit_numbers", "unit_order",
           "unit_replacements", "unit_system", "written_units"]

_FORMS = {
    "feet": "feet foot ft", "meters": "meters meter metres metre m",
    "km": "km kilometers kilometres kilometer", "miles": "miles mile mi",
    "kg": "kg kilograms kilogram kilos kilo", "pounds": "pounds pound lbs lb",
    "years": "years year yrs yr", "months": "months month", "days": "days day",
    "hours": "hours hour hrs hr", "minutes": "minutes minute mins min",
    "seconds": "seconds second secs sec s", "dollars": "dollars dollar usd $",
    "percent": "percent percentage %", "gallons": "gallons gallon gal",
    "liters": "liters liter litres litre l", "square": "square sq",
    "celsius": "celsius", "fahrenheit": "fahrenheit", "kelvin": "kelvin k",
    "inches": "inches inch in", "cm": "cm centimeters centimeter", "grams": "grams gram g",
    "calories": "calories calorie kcal", "people": "people persons person members",
    "degrees": "degrees degree",
}
_SIZE = {  # how many of the dimension's base unit one of each is
    "length": {"meters": 1.0, "km": 1000.0, "cm": 0.01, "feet": 0.3048, "inches": 0.0254,
               "miles": 1609.344},
    "time": {"seconds": 1.0, "minutes": 60.0, "hours": 3600.0, "days": 86400.0},
    "mass": {"kg": 1.0, "grams": 0.001, "pounds": 0.45359237},
}
_DIMENSION = {unit: (dim, size) for dim, sizes in _SIZE.items() for unit, size in sizes.items()}
_CANON = {form: canon for canon, forms in _FORMS.items() for form in forms.split()}
_SHORT = frozenset("m in s l k g mi".split())  # also words: a unit only right after the number
_MONEY = frozenset(
    "amount investment principal principle price cost deposit loan salary payment".split())
_TOKEN = re.compile(r"[a-z%$]+")
_AFTER = 40  # characters after a number read for its unit
_MOST = 4  # tokens after a number read for its unit
_NEXT = re.compile(r"[0-9,;]|\.\s")  # the next number, clause or sentence: another's unit
_INCHES = re.compile(r"in\b|\s*in(?:\.|\s*$|\s*[,;)])", re.I)
_RATE_WORDS = frozenset("rate rates percent percentage ratio fraction proportion".split())
_STOP = frozenset("and or with at for of to from by".split())



def close(a: float, b: float) -> bool:
    """The same number as far as arguments go (a float read back from text or JSON)."""
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)


def is_unit(text: str) -> bool:
    """Whether ``text`` holds the name of a unit ("cm", "square meters", "Celsius")."""
    return any(w in _CANON for w in _TOKEN.findall(text.lower()))


def written_units(text: str, start: int, end: int, percent: bool = False, per: bool = True
                  ) -> frozenset[str]:
    """The units the request writes the number at ``text[start:end]`` with: the unit words
    right after it ("400 square feet per gallon": square, feet, gallons), up to a word that
    starts something else ("and", "for" …), the next number or a comma ("180 lbs, is 70
    inches": pounds only); "$" before it is dollars. ``per=False``: the units after "per" are
    not read ("$1000 per year": dollars)."""
    units = set()
    after = _NEXT.split(text[end:end + _AFTER].lower(), maxsplit=1)[0]
    for i, token in enumerate(_TOKEN.findall(after)[:_MOST]):
        if token in _STOP or (token == "per" and not per):
            break
        if token == "in" and i == 0 and not _INCHES.match(text[end:end + _AFTER]):
            break  # "2019 in Paris": a preposition; "10in", "10 in." are inches
        if token in _CANON and (token not in _SHORT or i == 0):
            units.add(_CANON[token])
        elif i == 0 and token != "per":
            break
    if "$" in text[max(0, start - 2):start + 1]:
        units.add("dollars")
    if percent:
        units.add("percent")
    return frozenset(units)


def param_units(name: str, schema: dict[str, Any]) -> frozenset[str]:
    """The units a number parameter's name and description write (an amount of money:
    dollars)."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", name).replace("_", " ")
    words = _TOKEN.findall(f"{spaced} {schema.get('description', '')}".lower())
    units = {_CANON[w] for i, w in enumerate(words) if w in _CANON and w not in _SHORT
             and (i == 0 or words[i - 1] != "per")}  # "periods per year" counts no years
    if _MONEY & set(words):
        units.add("dollars")
    return frozenset(units)


def unit_order(tool: ToolSpec, arguments: dict[str, Any],
               units_of: dict[float, frozenset[str]]) -> dict[str, Any]:
    """Pairs of number arguments swapped when each value's written unit fits the other
    parameter better and neither fits worse (see the module's docstring). ``units_of``: the
    units each number the request writes once is written with (``written_units``)."""
    props = tool.parameters.get("properties") or {}
    numbers = {k: v for k, v in arguments.items() if isinstance(v, int | float)
               and not isinstance(v, bool) and isinstance(props.get(k), dict)}
    takes = {k: param_units(k, props[k]) for k in numbers}
    out: dict[str, Any] = {}
    for a, b in itertools.combinations(numbers, 2):
        va, vb = units_of.get(float(numbers[a])), units_of.get(float(numbers[b]))
        if a in out or b in out or va is None or vb is None or numbers[a] == numbers[b]:
            continue
        pa, pb = takes[a], takes[b]
        kept, swapped = (len(pa & va), len(pb & vb)), (len(pa & vb), len(pb & va))
        if sum(swapped) > sum(kept) and swapped[0] >= kept[0] and swapped[1] >= kept[1]:
            out[a], out[b] = numbers[b], numbers[a]
    return out


def unit_numbers(tool: ToolSpec, arguments: dict[str, Any],
                 units_of: dict[float, frozenset[str]]) -> dict[str, Any]:
    """Optional number parameters the call leaves out that take one unit ("Maximum distance (in
    miles)") while the request writes exactly one number with that unit that no other argument
    holds ("within 10 miles"): that number. ``units_of`` as for ``unit_order``."""
    props = tool.parameters.get("properties") or {}
    required = set(tool.parameters.get("required") or [])
    held = {float(n) for v in arguments.values()
            if isinstance(v, int | float) and not isinstance(v, bool)
            for n in (v, round(v * 100, 9))}  # a rate of 0.05 holds the "5%" the request writes
    out: dict[str, Any] = {}
    for key, schema in props.items():
        if key in arguments or key in required or not isinstance(schema, dict) \
                or schema.get("type") not in ("integer", "number"):
            continue
        takes = param_units(key, schema)
        if len(takes) != 1:
            continue
        found = [v for v, units in units_of.items() if units & takes
                 and v not in held and (schema["type"] == "number" or v.is_integer())]
        if len(found) == 1:
            value = found[0]
            out[key] = int(value) if schema["type"] == "integer" else value
            held.add(value)
    return out


def unit_replacements(tool: ToolSpec, arguments: dict[str, Any],
                      found: list[tuple[int, float, frozenset[str]]], one_call: bool
                      ) -> dict[str, Any]:
    """Number arguments written with a unit of another kind than their parameter's ("200 lbs"
    for "Height of the person in inches"): the number the request writes with the parameter's
    unit that no other argument holds. ``found``: every number the request writes, as
    (position, value, units). In a reply of one call there must be one such number; in a call
    of several (one record of many, "weighs 180 lbs, is 70 inches tall … weighs 200 lbs, is
    65 inches tall"), the one written nearest the call's other numbers. A number written in
    no unit is left alone, and so is one that ``unit_conversions`` can convert, and one written
    as a percentage unless the parameter is an amount of money and no rate ("$5000 … at 4%"
    for ``principle`` = 4)."""
    props = tool.parameters.get("properties") or {}
    numbers = {k: float(v) for k, v in arguments.items() if isinstance(v, int | float)
               and not isinstance(v, bool) and isinstance(props.get(k), dict)}
    out: dict[str, Any] = {}
    for key, value in numbers.items():
        takes = param_units(key, props[key])
        written = [units for _, v, units in found if close(v, value)]
        rate = bool(_RATE_WORDS & set(_TOKEN.findall(
            f"{key.replace('_', ' ')} {props[key].get('description', '')}".lower())))
        if not takes or not written or any(
                not units or ("percent" in units and (rate or takes != {"dollars"}))
                or units & takes
                or {_DIMENSION[u][0] for u in units & _DIMENSION.keys()}
                & {_DIMENSION[u][0] for u in takes & _DIMENSION.keys()} for units in written):
            continue
        held = [v for k, v in numbers.items() if k != key]
        integer = props[key].get("type") == "integer"
        fits = [(pos, v) for pos, v, units in found if units & takes
                and not any(close(v, h) for h in held) and not close(v, value)
                and (not integer or v.is_integer())]
        if not fits:
            continue
        if one_call:
            if len({v for _, v in fits}) != 1:
                continue
            new = fits[0][1]
        else:
            near = [pos for pos, v, _ in found if any(close(v, h) for h in held)]
            if not near:
                continue
            ranked = sorted((min(abs(pos - p) for p in near), v) for pos, v in fits)
            if len(ranked) > 1 and ranked[0][0] == ranked[1][0] and ranked[0][1] != ranked[1][1]:
                continue
            new = ranked[0][1]
        out[key] = int(new) if integer else new
    return out


def unit_conversions(tool: ToolSpec, arguments: dict[str, Any],
                     units_of: dict[float, frozenset[str]],
                     next_of: dict[float, tuple[float, frozenset[str]]] | None = None,
                     ) -> dict[str, Any]:
    """Number arguments the request writes in another unit of the one unit their parameter
    takes ("3 minutes" for "Length of the track in seconds"): converted (180), and a length
    written in two units ("5ft 10in" for a height in inches: 70; ``next_of``: the number written
    right after each, with its units). Length, time and mass only; a value that is no whole
    number after the conversion into an integer parameter is left as it is."""
    props = tool.parameters.get("properties") or {}
    out: dict[str, Any] = {}
    for key, value in arguments.items():
        schema = props.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or not isinstance(schema, dict):
            continue
        takes = param_units(key, schema) & _DIMENSION.keys()  # "of the person": no unit
        written = units_of.get(float(value), frozenset())
        if len(takes) != 1 or len(written) != 1 or takes == written:
            continue
        (want,), (have,) = takes, written
        if have not in _DIMENSION or _DIMENSION[want][0] != _DIMENSION[have][0]:
            continue
        total = value * _DIMENSION[have][1]
        after = (next_of or {}).get(float(value))
        if after and len(after[1]) == 1 and (unit := next(iter(after[1]))) in _DIMENSION \
                and _DIMENSION[unit][0] == _DIMENSION[have][0] \
                and _DIMENSION[unit][1] < _DIMENSION[have][1]:
            total += after[0] * _DIMENSION[unit][1]  # "5ft 10in": a smaller unit follows
        converted = round(total / _DIMENSION[want][1], 6)
        if schema.get("type") == "integer":
            if not converted.is_integer():
                continue
            converted = int(converted)
        out[key] = converted
    return out


_SYSTEMS = {"metric": frozenset("meters km cm kg grams liters celsius".split()),
            "imperial": frozenset("feet inches miles pounds gallons fahrenheit".split())}


def unit_system(unit: str) -> str | None:
    """"metric" or "imperial" for a unit written in words or symbols ("cm", "lbs"), else None."""
    canon = _CANON.get(unit.strip().lower().rstrip("."))
    return next((name for name, units in _SYSTEMS.items() if canon in units), None)
