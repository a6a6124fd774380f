"""A currency written as a name, for a parameter that takes a currency: its ISO 4217 code.

Asked to convert "200 British pounds to Japanese yen", a small model copies the words into
``base_currency``; an exchange-rate API wants ``GBP``. A string parameter is a currency one
when its name or description says "currency" (``base_currency``, "The currency to convert
from."); its value becomes the code of the currency it names:

* a currency's English name, singular or plural, as CLDR writes it ("British pounds", "US
  dollar", "euros", "Canadian dollars"; the ``babel`` package's data, offline);
* a bare unit ("dollars", "pounds", "yen"): the currency that unit most often means in
  English (``_BARE``: USD, GBP, JPY, …);
* a country or territory, as a name or a two-letter code ("US", "Japan"): its legal tender
  (a small model often stops after the first word of "US dollars"), also before a unit
  ("United States Dollar");
* the first words of exactly one current currency's name ("Canadian" for "Canadian dollar").

A value that is already a code, or none of those, is left as it is; so is every value when
``babel`` is not installed (extra ``[places]``, in ``[all]``). Over BFCL's ground truth every
currency argument accepts the ISO code.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

__all__ = ["code_for", "conform", "named_in", "takes_currency"]

_BARE = {"dollar": "USD", "pound": "GBP", "sterling": "GBP", "yen": "JPY", "yuan": "CNY",
         "renminbi": "CNY", "rupee": "INR", "franc": "CHF", "won": "KRW", "ruble": "RUB",
         "rouble": "RUB", "peso": "MXN", "real": "BRL", "rand": "ZAR", "lira": "TRY"}
"""Units named without their country: the currency the word most often means in English."""
_CURRENCY = re.compile(r"currenc", re.IGNORECASE)
_CODE = re.compile(r"[A-Z]{3}")


def takes_currency(schema: Any, key: str) -> bool:
    """Whether a free-text string parameter named ``key`` takes a currency."""
    if not isinstance(schema, dict) or schema.get("type") not in ("string", None):
        return False
    if any(k in schema for k in ("enum", "const", "format", "pattern")):
        return False
    return bool(_CURRENCY.search(key) or _CURRENCY.search(str(schema.get("description") or "")))


def conform(value: str, schema: Any, key: str) -> str:
    """``value`` as an ISO 4217 code where the parameter takes a currency and the value
    names one (see the module); otherwise unchanged."""
    if not takes_currency(schema, key):
        return value
    return code_for(value) or value


def code_for(value: str) -> str | None:
    """The ISO 4217 code ``value`` names, or None (already a code, or no currency)."""
    text = value.strip()
    if not text or _CODE.fullmatch(text) or len(text) > 60:
        return None
    words = " ".join(text.replace(".", "").lower().split())  # "U.S. dollars" → "us dollars"
    names = _names()
    if words in names:
        return names[words]
    *country, unit = words.split()
    unit = unit if unit in _BARE else unit.removesuffix("s")
    if unit in _BARE:  # "dollars"; "United States dollar": the country's own, if it has one
        return _tender(" ".join(country)) if country else _BARE[unit]
    return _tender(words) or _first_words(words)


def _first_words(words: str) -> str | None:
    """The currency of legal tender whose name alone begins with ``words`` ("canadian" →
    "canadian dollar"), or None: a small model stops after the first word of "Canadian
    dollars"."""
    tender = set(_legal_tender().values())
    found = {code for name, code in _names().items()
             if code in tender and name.startswith(words + " ")}
    return found.pop() if len(found) == 1 else None


def named_in(code: str, text: str) -> bool:
    """Whether ``text`` (lower case) names the currency ``code`` in words (so that ``GBP`` is
    grounded in "200 British pounds": see ``grounding.is_grounded``)."""
    if not _CODE.fullmatch(code):
        return False
    return any(re.search(rf"(?<![a-z]){re.escape(name)}s?(?![a-z])", text)
               for name in _spellings().get(code, ()))


@cache
def _spellings() -> dict[str, tuple[str, ...]]:
    """Code → the words that name it: its names, its bare unit, its countries."""
    out: dict[str, list[str]] = {}
    for name, code in [*_names().items(), *_BARE.items()]:
        out.setdefault(code, []).append(name)
    tender = _legal_tender()
    for words, territory in _territories().items():
        if territory in tender and len(words) > 2:  # names only: "us" is a word too
            out.setdefault(tender[territory], []).append(words)
    return {code: tuple(names) for code, names in out.items()}


@cache
def _names() -> dict[str, str]:
    """Lower-case English names (singular and plural) → code; a name two codes share (a
    historic currency beside the current one) maps to the code that is legal tender now."""
    try:
        from babel.numbers import get_currency_name, list_currencies
    except ImportError:
        return {}
    tender = set(_legal_tender().values())
    out: dict[str, str] = {}
    for code in sorted(list_currencies()):
        for count in (None, 1, 2):
            name = " ".join(get_currency_name(code, count, locale="en").replace(".", "")
                            .lower().split())
            if name == code.lower():
                continue
            if name not in out or (code in tender and out[name] not in tender):
                out[name] = code
    return out


@cache
def _legal_tender() -> dict[str, str]:
    """Territory code → the currency that is its legal tender now (its first, where several
    are)."""
    try:
        from babel import Locale
        from babel.numbers import get_territory_currencies
    except ImportError:
        return {}
    return {t: found[0] for t in Locale("en").territories
            if (found := get_territory_currencies(t))}


@cache
def _territories() -> dict[str, str]:
    """Lower-case territory names and two-letter codes → the territory code."""
    try:
        from babel import Locale
    except ImportError:
        return {}
    out = {name.lower(): code for code, name in Locale("en").territories.items()
           if re.fullmatch(r"[A-Z]{2}", code)}
    out.update({code.lower(): code for code in out.values()})
    return out


def _tender(words: str) -> str | None:
    """The legal tender of the country ``words`` (lower case) names ("us", "japan"), or
    None."""
    code = _territories().get(words)
    return _legal_tender().get(code) if code else None
