"""Argument grounding: does a call's argument value come from what the user (or a tool) said?

Small models fill every parameter they see, inventing values for the ones the request never
mentioned: an optional ``unit``, an enum they liked, a ``price`` the question did not give. A value
is *grounded* when it can be found in the evidence text (the user's messages and tool results):

* strings — the value itself (ignoring case, spaces and punctuation), or most of its words
  (a shared stem of four letters counts: "gas" ~ "gasoline" does not, "emissions" ~ "emission"
  does);
* numbers — a number written in the text, in digits (``1,500``, ``2.5e3``, ``$10``), in words
  ("five", "a dozen"), with a scale word ("8.5 million", "two dozen"), as a clock time
  ("11 PM" ~ 23), or the same quantity as a percentage (``5%`` ~ ``0.05``) or a thousand-fold
  unit (``2 km`` ~ ``2000``);
* dates — ``2023-03-10``, ``10/03/2023`` ... when the text names that day, month and year in any
  common way ("March 10th, 2023"); an acronym when the text spells its words ("SSN" ~ "social
  security number");
* booleans — grounded when a telling word of the parameter's name appears in the text (a flag
  the user asked for: "precipitation" for ``include_precipitation``); arrays and objects — when
  every item is.

Three uses: drop optional arguments that are not grounded (``prune_ungrounded``); tell the agent
that a required argument was made up (``ungrounded_required``) so it can decline or ask instead of
acting on a guess; and, for the smallest models, constrain free-text string arguments to spans of
the request (``extractive``), so they are copied rather than invented.
"""

from __future__ import annotations

import ast
import itertools
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from functools import cached_property, lru_cache
from typing import Any, NamedTuple

from ..types import Message, ToolCall, ToolSpec
from . import currencies, dates, places, polynomials, quantities
from .numwords import CARDINALS
from .schema import enum_safe

__all__ = [
    "Evidence",
    "choices_by_record",
    "described_values",
    "Mention",
    "evidence_from",
    "extractive",
    "implied_numbers",
    "is_grounded",
    "number_mentions",
    "prune_ungrounded",
    "span_texts",
    "text_spans",
    "ungrounded_required",
    "without_quotations",
]

_WORD = re.compile(r"[a-z0-9]+")
_NUMBER = re.compile(
    r"(?:(?<![\w.])|(?<=[a-z]\.))[-+]?(?:\d{1,3}(?:,\d{3}(?!\d))+|\d+)?(?:\.\d+)?(?:[eE][-+]?\d+)?",
    re.IGNORECASE)
"""A number; after a word and a full stop it starts after the stop ("March.11" ~ 11, "No.5"),
and a comma groups thousands only before three digits ("Jun.20,2023" is 20 and 2023)."""
_STOP = frozenset(
    "a an and are as at be by for from in into is it of on or the to with what which who how "
    "this that these those my your me i you we our their".split()
)
_INSTRUCTION = frozenset(
    "find get give search calculate compute determine identify predict estimate generate create "
    "check plot order play locate list show tell fetch retrieve look provide what whats which who "
    "how when where why can could would will please help book buy i we let lets next first "
    "second third fourth later after and now convert analyze analyse run make send update "
    "delete add remove set schedule is are do does suppose imagine assume given using "
    "use".split()
)
"""Words a request's sentences start with to ask for something ("Find ...", "Can you ...",
"Later, ..."): at the start of a sentence, never the first word of an argument value (the
``_SEQUENCE`` words never are, wherever they stand)."""
_SEQUENCE = frozenset(
    "also then finally lastly additionally afterwards moreover furthermore another".split())
"""Words that order or repeat a request's parts ("..., and finally the fastest route",
"another flight"): never the first word of a value, wherever they stand."""
_SENTENCE_START = re.compile(r"(?:^|[.!?;]\s+|\n)\s*['\"‘“]?([a-z']+)", re.IGNORECASE)
_FLAG_WORDS = frozenset(
    "include includes including show use get return enable enabled is has with add allow only "
    "all flag detail details detailed info information data consider account".split()
)
"""Words of a flag's name that say nothing about what it switches on (include_..., show_...)."""
_SMALL = {
    **CARDINALS, "dozen": 12, "half": 0.5, "quarter": 0.25,
    "once": 1, "twice": 2, "thrice": 3, "single": 1, "double": 2, "triple": 3,
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10,
}
_SCALES = (1.0, 100.0, 0.01, 1000.0, 0.001)
_MULTIPLIERS = {"dozen": 12, "hundred": 100, "thousand": 1000, "k": 1000, "million": 1e6,
                "m": 1e6, "billion": 1e9, "bn": 1e9, "b": 1e9, "trillion": 1e12}
_SCALED = re.compile(
    r"(\d+(?:\.\d+)?|" + "|".join(_SMALL) + r")\s*(" + "|".join(_MULTIPLIERS) + r")\b"
)
_AT_REST = re.compile(r"\b(?:from|at) rest\b", re.IGNORECASE)  # a speed of 0
_DROPPED = re.compile(r"\bdropp(?:ed|ing)\b(?:\s+[a-z]+){0,2}?\s+from\b", re.IGNORECASE)
_INITIAL = re.compile(r"\binitial(?:ly)?\b", re.IGNORECASE)
_SPEED = re.compile(r"speed|velocit", re.IGNORECASE)
_CLOCK = re.compile(r"\b(\d{1,2})(?::(\d{2}))?\s*(am\b|pm\b|a\.m\.|p\.m\.)")  # not "12 Amperes"
_MONTHS = ("january february march april may june july august september october november "
           "december").split()
_DATE_FORMS = (
    (re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"), (0, 1, 2)),
    (re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})"), (2, 1, 0)),
)


def _rest_spans(text: str) -> list[tuple[int, int]]:
    """Where ``text`` states a speed of 0 without writing it: "from rest", "at rest", and an
    object "dropped from" a height when the text states no initial speed of its own ("two
    objects are dropped …, the second with an initial speed of 5 m/s" is not at rest)."""
    rest = [m.span() for m in _AT_REST.finditer(text)]
    if rest or _INITIAL.search(text):
        return rest
    return [m.span() for m in _DROPPED.finditer(text)]


class Evidence:
    """The text arguments may come from, pre-processed once for many checks."""

    def __init__(self, text: str) -> None:
        self.written = text  # as written: "300K" is 300 kelvin, "300k" 300,000
        self.text = text.lower()
        self.compact = _compact(self.text)
        self.words = set(_WORD.findall(self.text))
        self.initials = _initials(self.text)

    @cached_property
    def numbers(self) -> list[float]:
        """The numbers the text writes, and the signed coefficients of the polynomials it
        writes ("5x^2 - 7x": -7); read when first asked for (many short-lived Evidence objects
        never are)."""
        return _numbers(self.text, self.words) + [
            c for _, terms in polynomials.polynomials(self.text) for c in terms.values()]

    def has_words(self, text: str) -> bool:
        """Most of the content words of ``text`` (at least one) occur here (stems count)."""
        words = _content_words(text)
        if not words:
            return False
        found = sum(1 for w in words if self.has_word(w))
        return found * 2 >= len(words)

    def has_word(self, word: str) -> bool:
        if word in self.words:
            return True
        return len(word) >= 4 and any(
            len(w) >= 4 and (w.startswith(word[:4]) and _same_stem(w, word)) for w in self.words
        )

    def has_number(self, value: float) -> bool:
        return any(_close(value * s, n) for n in self.numbers for s in _SCALES)

    @cached_property
    def positions(self) -> _Numbers:
        """The numbers the text writes with where they are (``_positions``), read once."""
        return _positions(self.written)

    @cached_property
    def units_written(self) -> dict[float, frozenset[str]]:
        """The units each number the text writes once is written with
        (``quantities.written_units``); read once per text, for every call's ``unit_order``."""
        seen: dict[float, list[frozenset[str]]] = {}
        for _, value, units in self._units(per=True):
            seen.setdefault(value, []).append(units)
        return {value: units[0] for value, units in seen.items() if len(units) == 1}

    @cached_property
    def units_found(self) -> list[tuple[int, float, frozenset[str]]]:
        """Every number the text writes as (position, value, units), the units after "per" not
        read: for ``quantities.unit_replacements``."""
        return self._units(per=False)

    def _units(self, per: bool) -> list[tuple[int, float, frozenset[str]]]:
        """(position, value, units) of each number written; a number in a list whose last item
        alone writes a unit ("10, 20 and 30 years") takes that unit."""
        found = self.positions
        units = [quantities.written_units(self.written, start, end, percent, per)
                 for start, end, _, percent in found]
        for i in range(len(found) - 2, -1, -1):
            if not units[i] and units[i + 1] and self.written[found[i + 1][0]] != "$" \
                    and _LIST_GAP.fullmatch(
                    self.written[found[i][1]:found[i + 1][0]]):
                units[i] = units[i + 1]
        return [(start, float(value), u) for (start, _, value, _), u in zip(found, units,
                                                                            strict=True)]

    @cached_property
    def units_next(self) -> dict[float, tuple[float, frozenset[str]]]:
        """For each number written once, the number written right after it with only its unit
        between ("5ft 10in": 10 and inches after 5), with that number's units."""
        found = self.positions
        out = {}
        for (_, end, value, _), (s2, e2, v2, p2) in itertools.pairwise(found):
            if float(value) in self.units_written and _UNIT_GAP.fullmatch(self.written[end:s2]):
                out[float(value)] = (float(v2), quantities.written_units(self.written, s2, e2, p2))
        return out

    @cached_property
    def zero_is_rest(self) -> bool:
        """Whether the only 0 the text states is that of "from rest" (a speed)."""
        rest = len(_rest_spans(self.text))
        return rest > 0 and self.numbers.count(0.0) == rest

    @cached_property
    def tokens(self) -> list[str]:
        """Its words in order, apostrophes kept ("don't"): negations are read from them."""
        return re.findall(r"[a-z0-9']+", self.text)

    @cached_property
    def located(self) -> _Located:
        """Its words and numbers with where they are (``stated_numbers`` and
        ``stated_corrections`` read them for every parameter of every call)."""
        return _Located.of(self)


def _same_stem(a: str, b: str) -> bool:
    """``a`` and ``b`` differ only by an ending (plural, -ing, -ed, ...): one is a prefix of
    the other, or both share all but their last three letters."""
    short, long = sorted((a, b), key=len)
    most = 6 if len(short) >= 8 else 3  # "standardize" / "standardization"
    if long.startswith(short):
        return len(long) - len(short) <= most
    cut = max(len(short) - 2, 4)
    return long[:cut] == short[:cut] and len(long) - cut <= most + 1


def _compact(text: str) -> str:
    return "".join(_WORD.findall(text.lower()))


def _content_words(text: str) -> list[str]:
    return [w for w in _WORD.findall(str(text).lower()) if w not in _STOP]


def _numbers(text: str, words: set[str]) -> list[float]:
    out = []
    for m in _NUMBER.finditer(text):
        token = m.group().replace(",", "")
        if _bracketed_list(m.group(), text, m.start()):
            out.extend(float(p) for p in m.group().split(",") if p.strip("+-."))
            continue
        if token and token not in "+-." and any(c.isdigit() for c in token):
            try:
                out.append(float(token))
            except ValueError:
                continue
    out.extend(float(v) for w, v in _SMALL.items() if w in words)
    for m in _SCALED.finditer(text):
        base = _SMALL.get(m.group(1))
        out.append(float(base if base is not None else m.group(1)) * _MULTIPLIERS[m.group(2)])
    for m in _CLOCK.finditer(text):
        out.append(float(_clock_hour(m)))
    out.extend(0.0 for _ in _rest_spans(text))
    south_west = _south_west(text)  # "112.07 W" is -112.07 too
    out.extend(-float(m.group()) for m in _NUMBER.finditer(text)
               if m.start() in south_west and m.group().replace(".", "").isdigit())
    return out


def _bracketed_list(number: str, text: str, start: int) -> bool:
    """Whether ``number``, written at ``start``, is a list and not one number with thousands
    separators: "[200,300,400]" is 200, 300 and 400."""
    return "," in number and text[:start].rstrip().endswith(("[", "("))


def _clock_hour(m: re.Match[str]) -> int:
    """The 24-hour hour of a ``_CLOCK`` match ("11 PM" -> 23)."""
    return int(m.group(1)) % 12 + (12 if m.group(3).startswith("p") else 0)


def _initials(text: str) -> set[str]:
    """Initials of every run of 2-5 consecutive words ("social security number" -> "ssn")."""
    words = _WORD.findall(text)
    return {
        "".join(w[0] for w in words[i : i + n])
        for n in range(2, 6)
        for i in range(len(words) - n + 1)
    }


_close = quantities.close


def evidence_from(messages: Iterable[Message]) -> Evidence:
    """The evidence a call's arguments may come from: user messages and tool results."""
    parts = [m.content for m in messages if m.role in ("user", "tool") and m.content]
    return _evidence("\n".join(parts))


@lru_cache(maxsize=64)
def _evidence(text: str) -> Evidence:
    return Evidence(text)


def not_a_rest_speed(value: Any, evidence: Evidence, name: str) -> bool:
    """Whether ``value`` is a 0 the request states only as a start at rest ("from rest", an
    object "dropped from" a height), given to a parameter ``name`` that is no speed."""
    return value == 0 and bool(name) and not _SPEED.search(name) and evidence.zero_is_rest


def is_grounded(value: Any, evidence: Evidence, name: str = "") -> bool:
    """Whether ``value`` (an argument named ``name``) can be found in the evidence."""
    if isinstance(value, bool):
        return any(evidence.has_word(w) for w in _flag_words(name))
    if isinstance(value, int | float):
        if not_a_rest_speed(value, evidence, name):
            return False  # the 0 of "from rest" is a speed, not a gravity or a height
        return evidence.has_number(float(value))
    if isinstance(value, str):
        return _string_grounded(value, evidence)
    if isinstance(value, list):
        return bool(value) and all(is_grounded(v, evidence, name) for v in value)
    if isinstance(value, dict):
        return bool(value) and all(is_grounded(v, evidence, k) for k, v in value.items())
    return False


def _flag_words(name: str) -> list[str]:
    """The telling words of a flag's name, short forms written out ("include_stats":
    statistics); a name of flag words only is its own subject (``detailed``: detailed)."""
    words = [_ABBREVIATIONS.get(w, w) for w in _content_words(_split_name(name))]
    return [w for w in words if w not in _FLAG_WORDS] or words


def _period_given(value: Any, schema: Any, name: str, evidence: Evidence) -> bool:
    """Whether a number is the length of a period the request names, in the parameter's unit
    (30 for ``days`` and "the next month")."""
    return _is_number(value) and any(
        period_length(p, schema, name) == value for p in periods(evidence.text))


def _string_grounded(value: str, evidence: Evidence) -> bool:
    compact = _compact(value)
    if not compact:
        return False
    if compact in evidence.compact:
        return True
    number = _as_number(value)
    if number is not None and evidence.has_number(number):
        return True
    readings = _as_dates(value)
    if readings:
        return any(_date_grounded(date, evidence) for date in readings)
    if value.isalpha() and 2 <= len(value) <= 5 and value.lower() in evidence.initials:
        return True
    if currencies.named_in(value, evidence.text):  # "GBP" for "200 British pounds"
        return True
    return evidence.has_words(value)


def _as_dates(text: str) -> list[tuple[int, int, int]]:
    """The days a numeric date may be, as (year, month, day): both readings where day and month
    could change places ("07-10-2022" is 10 July in the US, 7 October in Europe)."""
    for pattern, order in _DATE_FORMS:
        m = pattern.fullmatch(text.strip())
        if m:
            parts = [int(g) for g in m.groups()]
            y, mo, d = (parts[i] for i in order)
            return [(y, a, b) for a, b in dict.fromkeys(((mo, d), (d, mo))) if 1 <= a <= 12]
    return []


def _date_grounded(date: tuple[int, int, int], evidence: Evidence) -> bool:
    """Year, month and day are each in the text (a month by name or number); a day or month
    of 1 may be left unsaid ("in 2020" ~ 2020-01-01)."""
    year, month, day = date
    name = _MONTHS[month - 1]
    has_month = any(w.startswith(name[:3]) for w in evidence.words) or evidence.has_number(month)
    return (
        evidence.has_number(year)
        and (has_month or month == 1)
        and (evidence.has_number(day) or _ordinal(day, evidence) or day == 1)
    )


def _ordinal(day: int, evidence: Evidence) -> bool:
    return any(f"{day}{suffix}" in evidence.words for suffix in ("st", "nd", "rd", "th"))


def _as_number(text: str) -> float | None:
    try:
        return float(text.strip().rstrip("%").replace(",", ""))
    except ValueError:
        return None


def _about(key: str, schema: Any) -> list[str]:
    """The words (lower case) of a parameter's name and its description."""
    said = schema.get("description", "") if isinstance(schema, dict) else ""
    return _WORD.findall(f"{_split_name(key)} {said}".lower())


def _split_name(name: str) -> str:
    return re.sub(r"([a-z])([A-Z])", r"\1 \2", name).replace("_", " ").replace("-", " ")


def prune_ungrounded(
    call: ToolCall, tool: ToolSpec, evidence: Evidence, repairs: list[str],
    used: Iterable[Any] = (), *, varies: Collection[str] = (), alone: bool = False,
) -> ToolCall:
    """``call`` without the optional arguments the evidence does not support, nor those that
    belong to another argument (``_misplaced``), nor the repeats in a list of strings (a small
    model's loop: ``_repeated_texts``). A flag whose subject the request asks for
    ("... including precipitation" for ``include_precipitation``, not negated) is switched on —
    a required one only when it does not ``vary`` — and, in a reply of one call, one it negates
    ("don't return full text") switched off; and an optional number the request
    states next to the parameter's name is added (``stated_numbers``; ``used``: the other calls'
    arguments). A number argument the request states otherwise right after the parameter's name
    is corrected (``stated_corrections``), unless it ``varies`` (the reply's calls to this tool
    give it different values: which value each call takes is the fan-out's business); a value
    every call repeats is corrected in each. An optional parameter with fixed choices that the
    request names is added (``named_choices``), and a choice the request does not name gives way
    to the one it names (``named_corrections``), when the reply makes this one call: with more,
    which call takes which named choice is not known (``choices_by_record`` decides that for a
    reply of several calls; a call ``alone`` — the reply's only call to its tool — still takes
    the one choice named for a choice named nowhere); so are numbered parameters given the
    request's values in the other order (``numbered_order``), two values the request names
    for each other's parameter (``named_owners``), an optional number the request writes in
    the parameter's one unit (``quantities.unit_numbers``), a count of results of 1 for "the
    highest grossing bank" (``one_best``), and an array of choices that leaves out a choice the
    request names (``named_more_choices``). A string written as one of the values the parameter's
    description offers becomes that value (``described_corrections``); a "from" and a "to" value
    the other way round are swapped (``amount_sides``); a last day equal to the first becomes the
    day the request names or counts (``dates.stay_ends``). A list of numbers that is a part of a
    list the request writes in brackets becomes the whole list (``_bracketed_whole``); a number
    followed by the parameter's own name ("2022-2023 season") the number (``_named_number``), and
    "gas-fueled" for ``fuel_type`` "gas" (``_compound_of_own_name``), "19th" of "the 19th
    century" the century (``_ordinal_century``), "Louvre" of "the Louvre Museum" the whole
    name (``_named_feature``), "Museum of Art" of "the Metropolitan Museum of Art" too
    (``_name_start``); a text that runs on into another argument's number or date what comes
    before it (``_runs_into_another``). An optional array of strings takes the examples its
    description lists that the request names (``named_examples``). One call: the length of a
    period the request names is added for an optional parameter that counts its units
    (``stated_periods``). A parameter named ``unit`` takes the one unit the request writes after
    the call's numbers where the call gives none or a word that is no unit of the request
    (``stated_units``), and a count of compoundings a year the one frequency the request names
    ("compounded quarterly": ``stated_frequencies``). A number the request writes in another
    unit than its parameter's is converted (``quantities.unit_conversions``), two whose written
    units fit each other's parameter are swapped (``quantities.unit_order``), and one written in
    a unit of another kind gives way to the number written in the parameter's
    (``quantities.unit_replacements``); two numbers each stated after the other's parameter name
    are swapped (``stated_swaps``), and so are a lower and an upper bound the other way round
    (``bound_order``); bounds given the same number take the other end of the one range the
    request writes ending in it (``same_bounds``), and a from/to pair of currencies the ones
    written right after the amount ("200 pounds to dollars": ``amount_currencies``). A text
    running on past the request's quotation, or its sentence, is cut there
    (``_past_quotation``, ``_past_sentence``); a quotation without its closing punctuation is
    taken whole, a function's name with the brackets the request applies it to (``_applied``);
    list items that ask, name the tool or the parameter are left out (``_asking_items``); a
    flag is switched on when the request names two of the things its description says it adds
    (``_examples_named``); a value the request quotes right after the parameter's name is
    added (``quoted_by_name``); the one call to its tool in a reply of several tools takes the
    choices named in its own part of the request (``choices_in_own_part``). Where the
    request writes no number, a required number takes the default its description gives
    (``stated_defaults``); an initial speed that repeats another argument's number is the 0 of
    a start at rest (``_at_rest``); a one-call reply's required array of fixed choices keeps
    the ones the request writes (``unnamed_choices``). Other required arguments are kept as
    they are."""
    required = set(tool.parameters.get("required") or [])
    used = list(used)
    cut = {key: before for key, value in call.arguments.items()
           if (before := _runs_into_another(key, value, call.arguments)) is not None}
    for key, before in cut.items():
        repairs.append(f"{call.name}: argument {key!r} = {call.arguments[key]!r:.60} set to "
                       f"{before!r:.60} (the rest is another argument's value)")
    call = call.model_copy(update={"arguments": {**call.arguments, **cut}})
    kept = {}
    for key, value in call.arguments.items():
        if isinstance(value, list) and (repeated := _repeated_texts(value)):
            repairs.append(f"{call.name}: left out {repeated[1]!r:.60} repeated in {key!r}")
            value = repeated[0]
        for old, new, why in _rewrites(key, value, call.arguments, tool, evidence):
            repairs.append(f"{call.name}: argument {key!r} = {old!r:.60} set to {new!r:.60} "
                           f"({why})")
            value = new
        if isinstance(value, list) and (copied := _copied_items(key, value, call.arguments)
                                        + _asking_items(key, value, tool, evidence)):
            rest = [v for v in value if v not in copied]
            if rest or key not in required:
                repairs.append(f"{call.name}: left out {copied!r:.60} from {key!r} (repeating "
                               "other arguments, or words the request asks with)")
                if not rest:
                    continue
                value = rest
        if value is True and not used and _negated(key, evidence):  # one call: all it asks
            repairs.append(f"{call.name}: set flag {key!r} to false (the request says not to)")
            value = False
        if key in required:
            if value is False and key not in varies and is_grounded(value, evidence, key) \
                    and not _negated(key, evidence):
                repairs.append(f"{call.name}: set flag {key!r} to true (the request asks for "
                               "it)")
                value = True
            kept[key] = value
        elif not is_grounded(value, evidence, key) and not _period_given(
                value, (tool.parameters.get("properties") or {}).get(key), key, evidence):
            repairs.append(f"{call.name}: left out optional argument {key!r} = {value!r:.60} "
                           "(not given in the request)")
        elif (other := _repeats(key, call.arguments[key], call.arguments)) is not None:
            repairs.append(f"{call.name}: left out optional argument {key!r} = {value!r:.60} "
                           f"(it repeats argument {other!r})")
        elif _names_the_tool(value, tool):
            repairs.append(f"{call.name}: left out optional argument {key!r} = {value!r:.60} "
                           "(it names the tool, not a value)")
        elif (why := _misplaced(key, value, call.arguments, tool, evidence)) is not None:
            repairs.append(f"{call.name}: left out optional argument {key!r} = {value!r:.60} "
                           f"({why})")
        elif value is False and not _negated(key, evidence):
            repairs.append(f"{call.name}: set flag {key!r} to true (the request asks for it)")
            kept[key] = True
        else:
            kept[key] = value
    for key in _asked_flags(tool, kept, evidence):
        repairs.append(f"{call.name}: set flag {key!r} to true (the request asks for it)")
        kept[key] = True
    def apply(found: dict[str, Any], note: str) -> None:
        for key, new in found.items():
            repairs.append(f"{call.name}: " + note.format(key=key, old=kept.get(key), new=new))
            kept[key] = new

    if not used:  # one call: what the request names is this call's
        apply(named_choices(tool, kept, evidence), "added optional argument {key!r} = "
              "{new!r:.60} (the request names it among the parameter's choices)")
        apply(named_described(tool, kept, evidence), "added optional argument {key!r} = "
              "{new!r:.60} (the request names it among the values the parameter's "
              "description offers)")
        apply(stated_periods(tool, kept, evidence), "added optional argument {key!r} = {new!r} "
              "(the request names a period of that length)")
        apply(named_corrections(tool, kept, evidence), "argument {key!r} = {old!r} set to "
              "{new!r} (the one choice the request names)")
        apply(named_more_choices(tool, kept, evidence), "argument {key!r} = {old!r} set to "
              "{new!r} (the request names those choices)")
        apply(unnamed_choices(tool, kept, evidence), "argument {key!r} = {old!r} set to "
              "{new!r} (the choices the request writes; the others it does not)")
        apply(numbered_order(kept, evidence), "argument {key!r} = {old!r} set to {new!r} "
              "(numbered parameters take the request's values in the order it writes them)")
        apply(named_owners(kept, evidence), "argument {key!r} = {old!r} set to {new!r} "
              "(the request names that value for this parameter)")
    apply(stated_defaults(tool, kept, evidence), "argument {key!r} = {old!r} set to {new!r} (the "
          "default its description gives; the request writes no number)")
    apply(named_examples(tool, kept, evidence), "added optional argument {key!r} = {new!r:.60} "
          "(the request names those of the examples the parameter's description gives)")
    if used and alone:  # a reply of several tools: what this call's own part names
        apply(choices_in_own_part(tool, kept, used, evidence), "added optional argument "
              "{key!r} = {new!r:.60} (the request names it in this call's part)")
    if used:  # the reply's one call to this tool, or a choice all its calls share: the one
        # choice the request names is theirs
        apply({k: v for k, v in named_corrections(tool, kept, evidence, used).items()
               if alone or k not in varies}, "argument {key!r} = {old!r} set to {new!r} (the one "
              "choice the request names; no other call takes another)")
    apply(same_bounds(tool, kept, evidence), "argument {key!r} = {old!r} set to {new!r} (the "
          "request's range runs from one number to another)")
    apply(bound_order(kept, evidence), "argument {key!r} = {old!r} set to {new!r} (a lower "
          "bound above the upper one; the request writes the smaller first)")
    apply(stated_swaps(tool, kept, evidence), "argument {key!r} = {old!r} set to {new!r} (the "
          "request states it after this parameter's name, the other after the other's)")
    apply(quantities.unit_order(tool, kept, evidence.units_written), "argument {key!r} = "
          "{old!r} set to {new!r} (the unit the request writes it with fits this parameter)")
    apply(quantities.unit_replacements(tool, kept, evidence.units_found, not used),
          "argument {key!r} = {old!r} set to {new!r} (the request writes it in a unit of "
          "another kind; this one in the parameter's)")
    apply(amount_sides(kept, evidence), "argument {key!r} = {old!r} set to {new!r} (the "
          "amount is written in it: what is converted)")
    apply(amount_currencies(tool, kept, evidence), "argument {key!r} = {old!r} set to "
          "{new!r} (the request converts the amount from and to these currencies)")
    apply(dates.stay_ends(kept, evidence.written), "argument {key!r} = {old!r} set to {new!r} "
          "(the last day the request names or counts, not the first)")
    apply(described_corrections(tool, kept, evidence), "argument {key!r} = {old!r} set to "
          "{new!r} (the value the parameter's description offers for it)")
    apply(stated_units(tool, kept, evidence), "argument {key!r} set to {new!r} (the unit the "
          "request writes after the call's numbers)")
    apply(stated_frequencies(tool, kept, evidence), "argument {key!r} set to {new} (the request "
          "names how often it compounds)")
    apply(stated_corrections(tool, kept, evidence, varies, used), "argument {key!r} = {old!r} "
          "set to {new!r} (the request states it right after the parameter's name)")
    apply(stated_numbers(tool, kept, evidence, used), "added optional argument {key!r} = "
          "{new!r} (the request states it next to the parameter's name)")
    apply(quoted_by_name(tool, kept, evidence, used), "added optional argument {key!r} = "
          "{new!r:.60} (the request quotes it after the parameter's name)")
    apply(quantities.unit_conversions(tool, kept, evidence.units_written, evidence.units_next),
          "argument {key!r} = {old!r} set to {new!r} (the request writes it in another unit)")
    if not used:
        apply(quantities.unit_numbers(tool, kept, evidence.units_written), "added optional "
              "argument {key!r} = {new!r} (the one number the request writes in its unit)")
        apply(one_best(tool, kept, evidence), "added optional argument {key!r} = 1 (the "
              "request asks for the one best)")
        apply(one_year(tool, kept, evidence), "added optional argument {key!r} = {new!r} (the "
              "one year the request writes)")
        apply(one_state(tool, kept, evidence), "added optional argument {key!r} = {new!r} (the "
              "one US state the request names)")
    return call.model_copy(update={"arguments": kept})


def _rewrites(key: str, value: Any, arguments: dict[str, Any], tool: ToolSpec,
              evidence: Evidence) -> list[tuple[Any, Any, str]]:
    """The rewrites of one argument's value, in order, each as (old, new, why): the whole
    bracketed list, the name started late or followed by its kind of place, the century of a
    bare ordinal, the value without the parameter's own name after a hyphen or a number."""
    steps: list[tuple[str, Callable[[Any], Any]]] = [
        ("the whole list the request writes in brackets",
         lambda v: _bracketed_whole(v, evidence)),
        ("the name starts before it", lambda v: _name_start(key, v, arguments, tool, evidence)),
        ("the request names the place so", lambda v: _named_feature(v, evidence)),
        ("the request's period", lambda v: _ordinal_century(v, evidence)),
        ("the parameter's own name after the hyphen is no part of it",
         lambda v: _compound_of_own_name(key, v)),
        ("the parameter's name after the number is no part of it",
         lambda v: _named_number(key, v)),
        ("the parameter's own name before the name is no part of it",
         lambda v: _after_own_name(key, v)),
        ("the state of the city the call names", lambda v: _city_state(key, v, arguments, tool)),
        ("the request writes the year after it", lambda v: _date_with_year(v, evidence)),
        ("the request's quotation ends there", lambda v: _past_quotation(v, evidence)),
        ("the request applies it to what follows in brackets",
         lambda v: _applied(key, v, tool, evidence)),
        ("the rest is the request's next sentence", lambda v: _past_sentence(key, v)),
        ("the request's whole quotation", lambda v: _whole_quotation(v, evidence)),
        ("the rest is another argument's value", lambda v: _of_another(key, v, arguments)),
        ("the request starts it at rest", lambda v: _at_rest(key, v, arguments, evidence)),
    ]
    out = []
    for why, rewrite in steps:
        if (new := rewrite(value)) is not None:
            out.append((value, new, why))
            value = new
    return out


_RUN_ON = re.compile(r"([^.!?\n]{0,40}?\w)[.!?]\s+[A-Z]")
_TEXT_WORDS = frozenset("text body message content description review comment note notes "
                        "summary query prompt sentence paragraph email letter".split())


def _past_sentence(key: str, value: Any) -> str | None:
    """A short value that runs on past the end of its sentence into the next ("A. The
    experiment begins with the substance" for ``substance``): the value up to the sentence's
    end — not for a parameter that takes free text (``text``, ``body``, ``message`` …)."""
    if not isinstance(value, str) or _TEXT_WORDS & set(_WORD.findall(_split_name(key).lower())):
        return None
    m = _RUN_ON.match(value)
    words = m.group(1).split() if m else []
    if not m or not words or len(words) > 4 or (len(words) > 1 and len(words[-1]) < 2) \
            or words[-1].lower() in _TITLES or len(value[m.end(1):].split()) < 3:
        return None  # an initial or a title inside a name: "Washington D.C. The …", "Mr. X"
    return m.group(1).strip()


def _at_rest(key: str, value: Any, arguments: dict[str, Any], evidence: Evidence
             ) -> int | None:
    """0 for an initial speed (``initial_velocity``, ``initial_speed``) that repeats another
    argument's number where the request's only 0 is a start at rest ("an object dropped from
    100 m": ``initial_velocity`` 100 beside ``height`` 100)."""
    if not _is_number(value) or value == 0 or not _SPEED.search(key) \
            or "initial" not in _own_words(key) or not evidence.zero_is_rest:
        return None
    others = [v for k, v in arguments.items() if k != key and _is_number(v)]
    return 0 if any(_close(float(v), float(value)) for v in others) else None


_TITLES = frozenset("mr mrs ms dr prof st jr sr inc ltd co corp no vs etc mt ft".split())


_FORMULA_WORDS = frozenset("function func expression equation formula polynomial".split())


def _applied(key: str, value: Any, tool: ToolSpec, evidence: Evidence) -> str | None:
    """A function's name that the request writes applied to a bracketed argument ("exp" of
    "the function exp(-x^2) from -2 to 2", "sin" of "sin(x)"), for a parameter that takes a
    formula (its name or description says function, expression, equation …): the name with
    its brackets, as the request writes it once."""
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z_][\w.]*", value):
        return None
    if not _FORMULA_WORDS & set(_about(key, (tool.parameters.get("properties") or {}).get(key))):
        return None
    found = set()
    for m in re.finditer(rf"(?<![\w.]){re.escape(value)}\(", evidence.written):
        depth, i = 1, m.end()
        while i < len(evidence.written) and depth and i - m.end() < 60:
            depth += {"(": 1, ")": -1}.get(evidence.written[i], 0)
            i += 1
        if depth == 0:
            found.add(evidence.written[m.start():i])
    return found.pop() if len(found) == 1 else None


_PAIRED_QUOTES = [re.compile(  # quotations closed by the kind of quote that opened them
    rf"(?:(?<=[\s(:])|^)[{a}](\S(?:[^\n]*?\S)??)[{b}](?=[\s.,;:!?)]|$)")
    for a, b in (("'‘", "'’"), ('"“', '"”'))]


def _quotations(evidence: Evidence) -> list[str]:
    """The texts the request quotes (each closed by the kind of quote that opened it)."""
    return [m.group(1) for p in _PAIRED_QUOTES for m in p.finditer(evidence.written)]


def _past_quotation(value: Any, evidence: Evidence) -> str | None:
    """A text that starts with a quotation of the request and runs on past its closing quote
    ("Apple Inc.' in the location 'California" of "the company 'Apple Inc.' in the location
    'California'"): the quotation."""
    if not isinstance(value, str) or not any(q in value for q in "'\"’”"):
        return None
    quotes = _quotations(evidence)
    found = [q for q in quotes if len(q) < len(value)
             and value.startswith(q) and value[len(q)] in "'\"’”"]
    if found:
        return max(found, key=len)
    # the end of a quotation and on ("Hearts' is in the deck" of "the 'King of Hearts' is in
    # the deck"): the quotation's last words
    at = min(i for i, ch in enumerate(value) if ch in "'\"’”")
    tail = value[:at]
    ends = [q for q in quotes if tail and q.endswith(tail) and q != tail
            and q[-len(tail) - 1] == " "]
    return tail if at and ends and value[at + 1:].strip() else None


def _whole_quotation(value: Any, evidence: Evidence) -> str | None:
    """A quotation of the request without its closing punctuation ("Hello, World" of "the
    string 'Hello, World!'"): the whole quotation."""
    if not isinstance(value, str) or not value:
        return None
    quotes = set(_quotations(evidence))
    found = [q for q in quotes if q != value and q.startswith(value)
             and not q[len(value):].strip(".!?,;:")]
    return found[0] if len(found) == 1 and value not in quotes else None


def _of_another(key: str, value: Any, arguments: dict[str, Any]) -> str | None:
    """A text ending with "of" and the start of another argument's value ("King of Hearts"
    for ``rank`` beside ``suit`` = "Hearts"): the words before "of"."""
    if not isinstance(value, str) or " of " not in value:
        return None
    head, _, tail = value.rpartition(" of ")
    return head if head.strip() and any(
        k != key and isinstance(v, str) and tail.strip() and v.startswith(tail.strip())
        for k, v in arguments.items()) else None


def _city_state(key: str, value: Any, arguments: dict[str, Any], tool: ToolSpec) -> str | None:
    """For a parameter named ``state`` given a text that is no US state ("Francisco in 2020",
    a copy of the city), the state of the US city another argument names
    (``places.city_state``); None otherwise. (Over BFCL's ground truth, every state that
    goes with a US city is that city's state, and no accepted state value changes.)"""
    if not isinstance(value, str):
        return None
    new = places.city_state(key, arguments, (tool.parameters.get("properties") or {}).get(key))
    return None if new is None or new == value or places.is_us_state(value) else new


def _date_with_year(value: Any, evidence: Evidence) -> str | None:
    """A day of a month without its year ("May 3rd") that the request writes with one right
    after it ("May 3rd 2022"): the date as written; None otherwise."""
    if not isinstance(value, str) or len(value) > 30 or dates.parse_date(value) is not None:
        return None
    found = re.search(rf"(?<!\w){re.escape(value)},?\s+\d{{4}}\b", evidence.written)
    if found is None or dates.parse_date(found.group(0)) is None:
        return None
    return found.group(0)


_BRACKETED = re.compile(r"\[([^\[\]]{1,2000})\]")


def _bracketed_whole(value: Any, evidence: Evidence) -> list[Any] | None:
    """A list of numbers that is a run inside a list the request writes in brackets, without
    the run's first or last items ("[10000, …, 30000]" from "[-50000, 10000, …, 30000]"): the
    whole bracketed list; None otherwise. So is a list of strings whose items are some of a
    bracketed list of quoted strings ("['I', 'V', 'vi', 'IV']"), in any order. (Over BFCL's
    ground truth, 61 number lists and 4 string lists are a whole bracketed list of the request
    and none is a part of one.)"""
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return _quoted_whole(value, evidence)
    if not (isinstance(value, list) and value and all(_is_number(v) for v in value)):
        return None
    mine = [float(v) for v in value]
    for m in _BRACKETED.finditer(evidence.written):
        mentions = number_mentions([m.group(0)])
        if any(x.period for x in mentions):
            continue
        whole = [x.value for x in mentions]
        n = len(mine)
        if n < len(whole) and any(whole[i:i + n] == mine for i in range(len(whole) - n + 1)):
            ints = all(isinstance(x, int) for x in value)
            return [_plain(v) if ints else v for v in whole]
    return None


def _quoted_whole(value: list[str], evidence: Evidence) -> list[str] | None:
    if len(set(value)) < len(value):
        return None
    for m in _BRACKETED.finditer(evidence.written):
        try:
            whole = ast.literal_eval(m.group(0))
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            continue
        if isinstance(whole, list) and all(isinstance(w, str) for w in whole) \
                and len(value) < len(whole) and set(value) <= set(whole):
            return whole
    return None


_NUMBER_THEN_WORD = re.compile(r"([\d][\d\s/.,:–-]*?)\s+([A-Za-z]+)")


_ORDINAL = re.compile(r"\d{1,2}(?:st|nd|rd|th)", re.IGNORECASE)


def _ordinal_century(value: Any, evidence: Evidence) -> str | None:
    """A bare ordinal the request writes before "century" or "millennium" ("19th" of "made in
    the 19th century"): the ordinal with its word; None otherwise — "19th" alone names no
    time."""
    if not isinstance(value, str) or not _ORDINAL.fullmatch(value.strip()):
        return None
    found = re.search(rf"\b{re.escape(value.strip())}[\s-]+(century|millennium)\b",
                      evidence.written, re.IGNORECASE)
    return f"{value.strip()} {found.group(1)}" if found else None


_LAND_WORDS = "river|lake|sea|ocean|bay|gulf|mountains?|island|islands|valley|desert|canyon"
_PLACE_WORDS = ("Museum|University|Park|Gallery|Cathedral|Palace|Bridge|Tower|Stadium|Library|"
                "Empire|Dynasty|Kingdom|Republic|Airport|Station|Church|Temple|Castle|"
                "Cent(?:er|re)|Theat(?:er|re)|Zoo|Hospital|College|Court|Forest|Festival|Hall|City")
_COMPANY_WORDS = "Corporation|Incorporated"  # "Microsoft Corporation for the next 45 days"


def _named_feature(value: Any, evidence: Evidence) -> str | None:
    """A name the request follows with the kind of place it names ("the Mississippi river",
    "the Louvre Museum") or of company ("Microsoft Corporation"): the name with that word, as
    written; None otherwise. Land and water
    count in any case; a building only capitalised, as part of the name ("a New York museum"
    is a museum in New York)."""
    if not isinstance(value, str) or not value[:1].isupper() or len(value) > 60:
        return None
    found = re.search(rf"\b{re.escape(value)}\s+(?:(?:(?i:{_LAND_WORDS})|(?:{_PLACE_WORDS}))\b"
                      r"(?!\s+(?i:of|for)\b)"  # "… Museum of Art": longer
                      rf"|(?:{_COMPANY_WORDS})\b(?!\s+(?i:of)\b))", evidence.written)
    return found.group(0) if found else None


_CAPITALISED_BEFORE = re.compile(
    r"(?<![.!?]\s)(?<!^)\b((?:[A-Z][\w'.&-]*\s+(?:(?:vs\.?|v\.)\s+)?){1,2})$")
"""One or two capitalised words before a name, or a case's first party ("R vs " of "R vs
Adams")."""
_NOT_NAME_START = frozenset(
    "The A An In On At Of For From To With By And Or Find Get Show Give".split())


def _name_start(key: str, value: Any, arguments: dict[str, Any], tool: ToolSpec,
                evidence: Evidence) -> str | None:
    """A capitalised value the request writes once, right after capitalised words of the same
    name ("Museum of Art" of "the Metropolitan Museum of Art", "Liga" of "La Liga", "Adams"
    of "the R vs Adams case"): the whole name; None otherwise. A sentence's first word and
    "The" start no name, and neither do words of another argument ("Fender" of brand before
    "Stratocaster"), of the parameter's or the tool's name ("Id B1004", "Lawyer John Doe"
    for ``lawyer.find``)."""
    if not isinstance(value, str) or not value[:1].isupper() or len(value) > 60:
        return None
    places = [m.start() for m in re.finditer(rf"\b{re.escape(value)}\b", evidence.written)]
    if len(places) != 1:
        return None
    before = _CAPITALISED_BEFORE.search(evidence.written[:places[0]])
    if before is None:
        return None
    words = before.group(1).split()
    while words and words[0] in _NOT_NAME_START:
        words = words[1:]
    taken = set(_WORD.findall(" ".join(
        [_held_words({k: v for k, v in arguments.items() if k != key}),
         _split_name(key), _split_name(tool.name.replace(".", " "))]).lower()))
    if not words or any(set(_WORD.findall(w.lower())) & taken for w in words):
        return None
    return " ".join([*words, value])


def _compound_of_own_name(key: str, value: Any) -> str | None:
    """A hyphened value whose last part is a form of the parameter's own name ("gas-fueled"
    or "gas-fueled car" for ``fuel_type``, "diesel-powered" for ``power_source``): the part
    before it; None otherwise."""
    m = _HYPHENED_THING.fullmatch(value.strip()) if isinstance(value, str) else None
    if m is None:
        return None
    head, _, last = m.group(1).rpartition("-")
    return head if any(_same_stem(last.lower(), w) for w in _own_words(key)) else None


def _own_words(key: str) -> list[str]:
    """The words of a parameter's name long enough to tell it (four letters or more)."""
    return [w for w in _WORD.findall(_split_name(key).lower()) if len(w) >= 4]


def _after_own_name(key: str, value: Any) -> str | None:
    """A name written after the parameter's own name in lower case ("team RocketLeague" for
    ``team``, "company Dara Inc" for ``company_name``; not "Hotel Paradise" for
    ``hotel_name``): the name; None otherwise."""
    if not isinstance(value, str):
        return None
    first, _, rest = value.strip().partition(" ")
    if rest[:1].isupper() and first.islower() and first in _own_words(key):  # not "Hotel X"
        return rest
    return None


def _named_number(key: str, value: Any) -> str | None:
    """A text value that is a number, a year or a range followed by the parameter's own name
    ("2022-2023 season" for ``season``, "2021 season"): the number alone; None otherwise. (Over
    BFCL's ground truth such a value is only ever accepted beside the bare number.)"""
    if not isinstance(value, str):
        return None
    m = _NUMBER_THEN_WORD.fullmatch(value.strip())
    if m is None or m.group(2).lower() not in _WORD.findall(_split_name(key).lower()):
        return None
    return m.group(1).strip()


_RUNS_ON_PREPOSITION = r"\s+(?:of|in|for|on|at|from|dated|since)\s+"
_RUNS_ON_CLAUSE = r"(?:,\s*(?:\S+\s+){0,3}|\s+(?:is|are|was|were)\s+(?:\S+\s+){0,4})"
_DATE_GAP = re.compile(r"(?:,\s*|\s+)(?:(?:on|dated|for|of)\s+)?")
_NUMERIC_STRING = re.compile(r"\d[\d-]{2,}")


def _runs_into_another(key: str, value: Any, arguments: dict[str, Any]) -> str | None:
    """A text value that runs on into another argument's value: what comes before it, or
    None. The other value is a number ("Amendment Act of 2013" beside ``year`` = 2013), a
    string of digits (", with parcel number 1234567890" beside ``parcel_number``) or a date
    ("London 2022/08/16" beside ``date`` = "08-16-2022"), written at the end after a
    preposition, or after a comma or a verb "is" and a few words ("Apple Inc. is for the next
    30 days" beside ``days`` = 30), or (a date) after a space. Over BFCL's ground
    truth no value is so (names that end in a number, "Apollo 11", have no such connector)."""
    if not isinstance(value, str) or not value.strip():
        return None
    for other, v in arguments.items():
        if other == key or isinstance(v, bool):
            continue
        digits = (_plain_text(v) if _is_number(v) else v.strip()
                  if isinstance(v, str) and _NUMERIC_STRING.fullmatch(v.strip()) else None)
        if digits is not None:
            found = (re.search(_RUNS_ON_PREPOSITION + re.escape(digits) + r"$", value)
                     or re.search(_RUNS_ON_CLAUSE + re.escape(digits) + r"\b.*$", value))
            if found and (before := value[:found.start()].strip(" ,")):
                return before
        if isinstance(v, str) and (day := dates.parse_date(v)) is not None:
            for gap in _DATE_GAP.finditer(value):
                before, tail = value[:gap.start()].strip(" ,"), value[gap.end():]
                if before and tail and dates.parse_date(tail) == day:
                    return before
    return None


def _left_out(tool: ToolSpec, arguments: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The optional parameters (name, schema) ``arguments`` leave out: those the rules that
    add an optional argument the request asks for (flags, numbers, choices, periods) read."""
    required = set(tool.parameters.get("required") or [])
    for key, schema in (tool.parameters.get("properties") or {}).items():
        if key not in arguments and key not in required and isinstance(schema, dict):
            yield key, schema


def _asked_flags(tool: ToolSpec, arguments: dict[str, Any], evidence: Evidence) -> list[str]:
    """Optional boolean parameters left out whose subject the request names, every telling
    word of the name ("accounting for terrain" for ``consider_terrain``; a name of flag words
    only is its own subject: "in detail" for ``detailed``), not negated."""
    out = []
    for key, schema in _left_out(tool, arguments):
        if schema.get("type") != "boolean" or schema.get("default") is True:
            continue
        telling = _flag_words(key)
        if (telling and all(len(w) >= 3 and evidence.has_word(w) for w in telling)
                or _examples_named(schema, evidence)) and not _negated(key, evidence):
            out.append(key)
    return out


_LIKE = re.compile(r"\b(?:like|such as|e\.g\.?|including)[,:]?\s+([^.;()]+)", re.IGNORECASE)
_EXAMPLES = re.compile(r"\b(?:e\.g\.?|such as|for example)[,:]?\s+([^.;()]+)", re.IGNORECASE)


def _listed(schema: Any, after: re.Pattern[str]) -> list[str]:
    """The things a parameter's description lists unquoted after ``after`` ("e.g. vegan,
    gluten-free", "additional data like PM2.5, PM10, ozone levels"), each of one to three
    words, "etc." left out."""
    if not isinstance(schema, dict):
        return []
    m = after.search(str(schema.get("description") or ""))
    if m is None:
        return []
    items = [x.strip(" '\"‘’“”") for x in re.split(r",|\bor\b|\band\b", m.group(1))]
    return [x for x in dict.fromkeys(items)
            if x and x.lower() not in ("etc", "etc.") and len(x.split()) <= 3]


def _examples_named(schema: dict[str, Any], evidence: Evidence) -> bool:
    """Whether the request names two or more of the things a flag's description says it adds
    ("If true, additional data like PM2.5, PM10, ozone levels … will be retrieved" asked for
    "including additional data like PM2.5, PM10, ozone levels")."""
    return sum(1 for x in _listed(schema, _LIKE) if evidence.has_words(x)) >= 2


def example_values(schema: Any) -> list[str]:
    """The values a parameter's description lists unquoted after "e.g." or "such as" ("Special
    dietary requirements, e.g. vegan, gluten-free.")."""
    return [x for x in _listed(schema, _EXAMPLES) if x.lower() not in _NOT_VALUES]


def named_examples(tool: ToolSpec, arguments: dict[str, Any], evidence: Evidence
                   ) -> dict[str, list[str]]:
    """Optional arrays of strings (no ``enum``) left out whose description lists examples the
    request names in so many words ("dietary requirements of being vegan and gluten-free" for
    ``dietary_requirements``, "e.g. vegan, gluten-free"): those named, in the request's order
    (under the rules of ``named_choices``: not negated, not inside another argument's
    value)."""
    taken = _held_words(arguments)
    out: dict[str, list[str]] = {}
    for key, schema in _left_out(tool, arguments):
        items = schema.get("items")
        if schema.get("type") != "array" or not isinstance(items, dict) \
                or items.get("type") != "string" or "enum" in items:
            continue
        found = sorted((at, c) for c, at in _named_options(example_values(schema), evidence,
                                                           taken).items())
        if found:
            out[key] = [c for _, c in found]
    return out


def named_choices(tool: ToolSpec, arguments: dict[str, Any], evidence: Evidence
                  ) -> dict[str, Any]:
    """Optional parameters left out that offer fixed choices (``enum``, or an array of them)
    some of which the request names in so many words: "sort by importance" for ``sort_by``
    in (importance, chronological), "a park with a tennis court" for ``amenities`` in (Tennis
    Court, Playground, …), "organic fruits and vegetables" for ``categories``. A string takes
    the one choice named (none when several are), an array every choice named, in the
    request's order. Not a choice negated ("without a patio"), nor one whose words another
    argument's value holds."""
    taken = _held_words(arguments)
    out: dict[str, Any] = {}
    for key, schema in _left_out(tool, arguments):
        many = schema.get("type") == "array" and isinstance(schema.get("items"), dict)
        options = (schema["items"] if many else schema).get("enum")
        if not isinstance(options, list):
            options = [] if many else named_by_own_name(key, schema, evidence)
        found = sorted((at, c) for c, at in _named_options(options, evidence, taken).items())
        if many and found:
            out[key] = [c for _, c in found]
        elif len(found) == 1:
            out[key] = found[0][1]
    return out


_OWN_NAME = r"\b(?:the|a|an)\s+([A-Z][\w-]*(?:\s+[A-Z][\w-]*)?)\s+{word}s?\b"


def named_described(tool: ToolSpec, arguments: dict[str, Any], evidence: Evidence
                    ) -> dict[str, str]:
    """Optional free-text strings left out whose description offers two or more values
    (``described_values``: "e.g. 'static' or 'dynamic'", "'now' for current, 'weekend' for the
    coming weekend") of which the request names exactly one ("the structural dynamic analysis",
    "traffic … this weekend"): that one (under the rules of ``named_choices``). For a reply of
    one call: over BFCL's ground truth of the four non-live categories, the value a call of
    one takes in all 19 requests of one call where a request names one; 5 of the 34 calls in
    replies of several take another (each call its own)."""
    taken = _held_words(arguments)
    out: dict[str, str] = {}
    for key, schema in _left_out(tool, arguments):
        if schema.get("type") != "string" or "enum" in schema:
            continue
        offered = described_values(schema)
        found = _named_options(offered, evidence, taken) if len(offered) > 1 else {}
        if len(found) == 1:
            out[key] = next(iter(found))
    return out


def named_by_own_name(key: str, schema: dict[str, Any], evidence: Evidence) -> list[str]:
    """The names a request writes for a string parameter (no ``enum``) by its own name: "the
    LSTM model" for ``model``, "the Midwest region" for ``region`` — a capitalised word or two
    between an article and the last word of the parameter's name (four letters or more), in
    the order written. Over BFCL's ground truth every such name of an optional parameter is
    the value of a call (one per record where the request writes several)."""
    word = key.split("_")[-1].lower()
    if schema.get("type") != "string" or "enum" in schema or len(word) < 4 \
            or not word.isalpha():
        return []
    found = re.findall(_OWN_NAME.format(word=word), evidence.written)
    return list(dict.fromkeys(found))


def _named_options(options: list[Any], evidence: Evidence, taken: str) -> dict[str, int]:
    """The string choices of ``options`` the request names (``_named_at``), each with where,
    in the options' order."""
    places = {c: _named_at(c, evidence.tokens, taken) for c in options if isinstance(c, str)}
    return {c: at for c, at in places.items() if at is not None}


def named_more_choices(tool: ToolSpec, arguments: dict[str, Any], evidence: Evidence
                       ) -> dict[str, list[Any]]:
    """Arrays of fixed choices that leave out a choice the request names in so many words
    ("Retrieve Personal Info and Job History" given ``data_field`` = ["Job History"]): the
    choices named, in the request's order, then the call's own that it does not name (under the
    rules of ``named_choices``: not negated, not inside another argument's value)."""
    props = tool.parameters.get("properties") or {}
    out: dict[str, list[Any]] = {}
    for key, value in arguments.items():
        schema = props.get(key)
        items = schema.get("items") if isinstance(schema, dict) else None
        options = items.get("enum") if isinstance(items, dict) else None
        if not isinstance(value, list) or not isinstance(options, list):
            continue
        taken = _held_words({k: v for k, v in arguments.items() if k != key})
        named = _named_options(options, evidence, taken)
        found = sorted(named, key=named.__getitem__)  # the request's order (ties: the options')
        if any(c not in value for c in found):
            out[key] = found + [v for v in value if v not in found]
    return out


def unnamed_choices(tool: ToolSpec, arguments: dict[str, Any], evidence: Evidence
                    ) -> dict[str, list[Any]]:
    """A required array of fixed choices that the agent would decline as not given (a choice in
    it the request does not write: "Annual" and "Perennial" for "a good variety of annual
    plants") without those choices, where one it writes is left: ["Annual"]. A choice the
    request writes shortened ("carbs" for "Carbohydrates") counts as written."""
    props = tool.parameters.get("properties") or {}
    out: dict[str, list[Any]] = {}
    for key in _required(tool):
        value, schema = arguments.get(key), props.get(key)
        items = schema.get("items") if isinstance(schema, dict) else None
        if not isinstance(value, list) or not isinstance(items, dict) \
                or not isinstance(items.get("enum"), list) or is_grounded(value, evidence, key):
            continue
        kept = [v for v in value if is_grounded(v, evidence, key) or _shortened(v, evidence)]
        if kept and len(kept) < len(value):
            out[key] = kept
    return out


def _shortened(choice: Any, evidence: Evidence) -> bool:
    """Whether the request writes ``choice`` (one word) shortened: "carbs" for "Carbohydrates"."""
    if not isinstance(choice, str) or not _PLAIN_WORD.fullmatch(choice):
        return False
    low = choice.lower()
    return any(len(stem := w.rstrip("s")) >= 4 and low.startswith(stem) for w in evidence.words)


def named_corrections(tool: ToolSpec, arguments: dict[str, Any], evidence: Evidence,
                      others: Any = ()) -> dict[str, str]:
    """String arguments with fixed choices (``enum``) given a choice the request does not name
    while it names exactly one other in so many words ("sort ... in ascending order" for
    ``order`` = descending, "in feet" for ``unit`` = meter): that one, under the rules of
    ``named_choices`` (not negated, not inside another argument's value — ``others``: the
    reply's other calls' arguments, whose words are theirs too). When several choices are
    named but only one in its very words, that one ("compounded quarterly" beside "an annual
    interest rate": 'quarterly', not 'annually')."""
    props = tool.parameters.get("properties") or {}
    out: dict[str, str] = {}
    for key, value in arguments.items():
        schema = props.get(key)
        options = _offered_choices(schema, value)
        if not isinstance(value, str) or options is None:
            continue
        taken = _held_words([{k: v for k, v in arguments.items() if k != key}, list(others)])
        found = set(_named_options(options, evidence, taken))
        if value in found:
            continue
        if len(found) > 1:
            found = {c for c in found if _named_verbatim(c, evidence.tokens)}
        if len(found) == 1:
            out[key] = found.pop()
    return out


def _offered_choices(schema: Any, value: Any) -> list[Any] | None:
    """The choices a string parameter offers, when ``value`` is none of them but should be: its
    ``enum`` (``value`` one of them), or two or more values its description offers ("e.g.
    'meter', 'cm', 'femtometers'"; "Can be 'summary' or 'detailed'") that ``value`` is not one
    of, nor a form of one; else None."""
    if not isinstance(schema, dict) or not isinstance(value, str):
        return None
    if isinstance(schema.get("enum"), list):
        return schema["enum"] if value in schema["enum"] else None
    offered = described_values(schema) if schema.get("type") == "string" else []
    low = value.lower()
    if len(offered) < 2 or any(low == v.lower() or _same_stem(low, v.lower()) for v in offered):
        return None  # "cups" is a form of 'cup'
    return offered


def _named_verbatim(choice: str, tokens: list[str]) -> bool:
    """The request writes ``choice``'s words as they are (not another form of them)."""
    words = _WORD.findall(_split_name(choice).lower())
    return any(tokens[i : i + len(words)] == words for i in range(len(tokens) - len(words) + 1))


_PLAIN_WORD = re.compile(r"[A-Za-z0-9]+")
_HYPHENED = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)+")
_HYPHENED_THING = re.compile(r"([A-Za-z]+(?:-[A-Za-z]+)+)(?:\s+[a-z]+)?")  # "gas-fueled (car)"
_CODE_FOR = re.compile(
    r"""['‘"]([^'’"]{1,12})['’"]\s+(?:for|refers\s+to|means)\s+(?:an?\s+|the\s+)?([A-Za-z]+)"""
    r"(?=\s*(?:[,.;)]|\s(?:or|and)\b|$))")


def described_corrections(tool: ToolSpec, arguments: dict[str, Any], evidence: Evidence
                          ) -> dict[str, str]:
    """String arguments (no ``enum``) whose value is none of the values the parameter's own
    description offers (``described_values``) but is written as one of them: another form of
    exactly one offered word ("detail" or "details" for 'detailed', "globally" for 'Global',
    "24" for '24h'), or a hyphened compound holding exactly one ("gas-powered" for 'gas'); or a
    code the description says stands for a word the request uses ("'c' for Celsius" and "in
    celsius"), or the system of a unit ("cm" for 'metric' of 'metric' or 'imperial'). Words
    under three letters are too short to tell ('km' is no form of "km/h")."""
    props = tool.parameters.get("properties") or {}
    out: dict[str, str] = {}
    for key, value in arguments.items():
        schema = props.get(key)
        if not isinstance(value, str) or not isinstance(schema, dict) or "enum" in schema:
            continue
        offered = described_values(schema)
        if not offered or value.lower() in {v.lower() for v in offered}:
            continue
        found = [v for v in offered if _PLAIN_WORD.fullmatch(value) and _PLAIN_WORD.fullmatch(v)
                 and (min(len(value), len(v)) >= 3 or value.isdigit())
                 and _same_stem(value.lower(), v.lower())]
        if not found and _HYPHENED.fullmatch(value):
            parts = value.lower().split("-")
            found = [v for v in offered if _PLAIN_WORD.fullmatch(v) and v.lower() in parts]
        if not found:
            found = [code for code, word in _CODE_FOR.findall(schema.get("description", ""))
                     if code in offered and evidence.has_word(word.lower())]
        if not found and (system := quantities.unit_system(value)) is not None:
            found = [v for v in offered if v.lower() == system]  # "cm" for 'metric'/'imperial'
        if len(found) == 1:
            out[key] = found[0]
    return out


_FROM_SIDE = re.compile(r"(?:from|base|source|original|input)(_?.*)")
_TO_SIDE = re.compile(r"(?:to|target|dest|destination|output|into)(_?.*)")
_AFTER_AMOUNT_WORDS = 3


def amount_sides(arguments: dict[str, Any], evidence: Evidence) -> dict[str, str]:
    """A pair of "from" and "to" strings (``from_unit``/``to_unit``,
    ``base_currency``/``target_currency``) given the other way round: the request writes the
    call's amount with the "to" value right after it and the "from" value elsewhere ("How many
    teaspoons are in 2 tablespoons", "how many Canadian dollars for 500 US dollars"): what is
    converted is what the amount is counted in. The amount is a number argument the request
    writes once. Over BFCL's ground truth the amount's unit is the "from" value 21 times and the
    "to" value never."""
    amounts = [v for v in arguments.values() if _is_number(v)]
    written = [(end, value) for _, end, value, _ in evidence.positions]
    after = []
    for amount in amounts:
        ends = [end for end, value in written if _close(float(value), float(amount))]
        if len(ends) == 1:
            after.append(" ".join(evidence.text[ends[0]:].split()[:_AFTER_AMOUNT_WORDS]))
    out: dict[str, str] = {}
    for source, value in arguments.items():
        side = _FROM_SIDE.fullmatch(source)
        if not side or not isinstance(value, str):
            continue
        for target, other in arguments.items():
            to = _TO_SIDE.fullmatch(target)
            if not to or to.group(1) != side.group(1) or not isinstance(other, str):
                continue
            if any(_names_value(other, words) and not _names_value(value, words)
                   for words in after):
                out[source], out[target] = other, value
    return out


_CONVERSION = re.compile(r"\s*((?:[A-Za-z][\w.]*\s+){0,2}?[A-Za-z][\w.]*)\s+(?:to|into|in)\s+"
                         r"([A-Za-z][\w.]*(?:\s+[A-Za-z][\w.]*)?)")


def amount_currencies(tool: ToolSpec, arguments: dict[str, Any], evidence: Evidence
                      ) -> dict[str, str]:
    """A pair of "from" and "to" currency parameters set to the currencies the request writes
    right after the call's amount, "AMOUNT FROM to TO" ("convert 200 pounds to dollars":
    ``GBP`` and ``USD``, where the call held ``USD`` and ``EUR``), as codes. The amount is a
    number argument written once so ("convert 10 dollars to Euros and make a 10 dollar
    deposit": the first 10)."""
    props = tool.parameters.get("properties") or {}
    pairs = [(s, t) for s in arguments for t in arguments
             if (a := _FROM_SIDE.fullmatch(s)) and (b := _TO_SIDE.fullmatch(t))
             and a.group(1) == b.group(1)
             and currencies.takes_currency(props.get(s), s)
             and currencies.takes_currency(props.get(t), t)]
    if not pairs:
        return {}
    written = [(end, value) for _, end, value, _ in evidence.positions]
    for amount in (v for v in arguments.values() if _is_number(v)):
        found = [pair for end, value in written if _close(float(value), float(amount))
                 and (pair := _converted(evidence.text[end:])) is not None]
        if len(found) != 1:
            continue
        source, target = found[0]
        out = {}
        for s, t in pairs:
            for key, code in ((s, source), (t, target)):
                value = arguments[key]
                if isinstance(value, str) and (currencies.code_for(value) or value) != code:
                    out[key] = code
        return out
    return {}


def _converted(after: str) -> tuple[str, str] | None:
    """The codes of the two currencies ``after`` an amount converts between ("pounds to
    dollars"), or None."""
    if not (m := _CONVERSION.match(after)):
        return None
    source = currencies.code_for(m.group(1))
    target = currencies.code_for(m.group(2)) or currencies.code_for(m.group(2).split()[0])
    return (source, target) if source and target and source != target else None


def _names_value(value: str, words: str) -> bool:
    """Whether ``words`` (lower case) name ``value``: itself, a form of it ("tablespoons"), or
    the currency a code stands for ("us dollars" for ``USD``)."""
    low = value.lower()
    if currencies.named_in(value, words) or re.search(
            rf"(?<![a-z]){re.escape(low)}(?![a-z])", words):
        return True
    return " " not in low and len(low) > 3 and any(
        _same_stem(w, low) for w in _WORD.findall(words))


_LIST_GAP = re.compile(r"\s*(?:,\s*(?:and\s+|or\s+)?|\s(?:and|or|to)\s|-|–)\s*")
_UNIT_GAP = re.compile(r"\s?[A-Za-z]{1,6}\.?\s?")
_SUPERLATIVES = ("highest best top largest biggest greatest lowest smallest cheapest fastest "
                 "nearest closest richest oldest youngest tallest").split()
_THE_BEST = re.compile(
    r"\bthe\s+(?:" + "|".join(_SUPERLATIVES) + r"|most\s+[a-z]+)((?:[\s-]+[a-z]+){1,4}?)"
    r"(?=\s+(?:in|on|at|for|with|of|from|by|near|that|which|who|to|based|according|this|"
    r"last|currently|now)\b|\s*[,.?!;:]|$)", re.IGNORECASE)
_HOW_MANY = re.compile(r"top|num|number|limit|count|results", re.IGNORECASE)
_NUMBER_WORDS = frozenset("one two three four five six seven eight nine ten twenty dozen".split())


def one_best(tool: ToolSpec, arguments: dict[str, Any], evidence: Evidence) -> dict[str, int]:
    """Optional integer parameters that say how many results (``top_n``, ``num_results``,
    ``limit``) left out while the request asks for "the highest grossing bank", "the best
    defence": one thing, the superlative's noun singular and no number with it: 1. (Over BFCL's
    one-call ground truth the rule sets 3 such parameters, each to an accepted 1, and no
    other.)"""
    found = list(_THE_BEST.finditer(evidence.written))
    if len(found) != 1:
        return {}
    words = found[0].group(1).lower().split()
    noun = words[-1]
    if any(w in _NUMBER_WORDS or w.isdigit() for w in words) or (
            noun.endswith("s") and not noun.endswith("ss")):
        return {}
    required = set(tool.parameters.get("required") or [])
    return {key: 1 for key, schema in (tool.parameters.get("properties") or {}).items()
            if key not in arguments and key not in required and isinstance(schema, dict)
            and schema.get("type") == "integer" and _HOW_MANY.search(key)}


_YEAR = re.compile(r"(?<![\w.,-])(1[5-9]\d\d|20\d\d)(?![\w.,-]\d|\d)")


def one_year(tool: ToolSpec, arguments: dict[str, Any], evidence: Evidence) -> dict[str, int]:
    """Optional integer parameters named a year (``year``, ``start_year``) left out while the
    request writes exactly one year ("the crime rate … in San Francisco in 2020") that no
    argument holds: that year. Only one such parameter: with two ("start_year", "end_year")
    which one the year is is not said. (Over BFCL's one-call ground truth the rule sets 3
    parameters, each to the year the answer takes, and no other.)"""
    years = {int(y) for y in _YEAR.findall(evidence.written)}
    if len(years) != 1:
        return {}
    year = years.pop()
    if any(_is_number(v) and _close(float(v), year) for v in leaves([arguments])):
        return {}
    found = [key for key, schema in _left_out(tool, arguments)
             if schema.get("type") == "integer" and "year" in _WORD.findall(
                 _split_name(key).lower())]
    return {found[0]: year} if len(found) == 1 else {}


def one_state(tool: ToolSpec, arguments: dict[str, Any], evidence: Evidence) -> dict[str, str]:
    """An optional string parameter named ``state`` (the only one) left out while the request
    names exactly one US state in full ("… any prior felony convictions in California") that
    no argument holds: that state, as written. (Over BFCL's one-call ground truth the rule sets
    one parameter, to the state the answer takes, and no other.)"""
    keys = [key for key, schema in _left_out(tool, arguments)
            if schema.get("type") == "string" and "enum" not in schema
            and key.lower().split("_")[-1] == "state"]
    if len(keys) != 1:
        return {}
    found = [n for n in places.state_names()
             if re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", evidence.written)]
    if len(found) != 1 or any(
            isinstance(v, str) and found[0].lower() in v.lower() for v in leaves([arguments])):
        return {}
    return {keys[0]: found[0]}


_DEFAULT_LEAD = (r"\bdefaults?(?:\s+value)?(?:\s+(?:is|to|will\s+be|being))?"
                 r"\s*(?:set\s+to\s*)?[:=]?\s*")
"""What introduces a default in a parameter's description: "Default is", "defaults to", "Default
value: " … (the value follows)."""
_NUMBER_DEFAULT = re.compile(_DEFAULT_LEAD + r"(-?\d+(?:\.\d+)?)(?![\d.]*\w)", re.IGNORECASE)


def described_number(schema: Any) -> int | float | None:
    """The number a number parameter's description gives as its default ("The size of the
    deck. Default is 52."), or None."""
    if not isinstance(schema, dict) or schema.get("type") not in ("integer", "float", "number") \
            or not isinstance(schema.get("description"), str):
        return None
    m = _NUMBER_DEFAULT.search(schema["description"])
    return _plain(float(m.group(1))) if m else None


def stated_defaults(tool: ToolSpec, arguments: dict[str, Any], evidence: Evidence
                    ) -> dict[str, int | float]:
    """Where the request writes no number at all ("What is the probability of getting a full
    house in poker?"), a required number parameter whose description gives its default ("The
    size of the deck. Default is 52.") takes that default in place of a number the model made
    up. A request that writes a number leaves the value to the model and the other rules."""
    if evidence.numbers:
        return {}
    props = tool.parameters.get("properties") or {}
    out: dict[str, int | float] = {}
    for key in _required(tool):
        default = described_number(props.get(key))
        value = arguments.get(key)
        if default is not None and value != default and (value is None or _is_number(value)):
            out[key] = default
    return out


_NUMBERED = re.compile(r"(.*?)(_?)1((?:_[A-Za-z]\w*)?)")


def numbered_order(arguments: dict[str, Any], evidence: Evidence) -> dict[str, Any]:
    """Pairs of numbered parameters (``mass1``/``mass2``, ``species_1``/``species_2``,
    ``year1_revenue``/``year2_revenue``) given two values of the request in the other order
    than it writes them, swapped: "20 kg of water at 30 degrees is mixed with 15 kg at 60
    degrees" is ``mass1`` = 20, ``mass2`` = 15. Over BFCL's ground truth, the first-numbered
    parameter takes the value written first in all 47 pairs of numbers and in 22 of 24 pairs
    of strings; the two exceptions are requests for several calls, and a reply of one call
    only is corrected."""
    out: dict[str, Any] = {}
    for key, first in arguments.items():
        m = _NUMBERED.fullmatch(key)
        other = f"{m[1]}{m[2]}2{m[3]}" if m else ""
        if other not in arguments or first == arguments[other]:
            continue
        second = arguments[other]
        at_first, at_second = _written_at(first, evidence), _written_at(second, evidence)
        if at_first is not None and at_second is not None and at_first > at_second:
            out[key], out[other] = second, first
    return out


_NAME_LINKS = frozenset("of is named called titled the a an as".split())


def named_owners(arguments: dict[str, Any], evidence: Evidence) -> dict[str, Any]:
    """Two text arguments whose values the request names for each other's parameter, swapped:
    "the sculpture with title 'David' by Michelangelo" is ``title`` = "David" where the call
    gave it to ``artist``; "a reference sequence 'AGTCC…'" is ``reference_sequence``'s (its two
    words beat ``sequence``'s one); "lawsuits against Apple in Santa Clara County" gives
    "Santa Clara County" to ``county``. A value is named by a parameter when the words of its
    name come right before it (``_named_by``) or end it. Only values the request writes once,
    and only when the other value is not named by the parameter it would leave. Over BFCL's
    ground-truth calls of one call per request, no value moves."""
    texts = {k: v.strip() for k, v in arguments.items() if isinstance(v, str) and v.strip()
             and evidence.text.count(v.strip().lower()) == 1}
    out: dict[str, Any] = {}
    for a, b in itertools.permutations(texts, 2):
        if a in out or b in out or texts[a].lower() == texts[b].lower():
            continue
        va, vb = texts[a], texts[b]
        if _named_by(vb, a, evidence) > _named_by(vb, b, evidence) \
                and _named_by(va, a, evidence) <= _named_by(va, b, evidence):
            # "2020-2021 season" moved to ``season`` is its number (``_named_number``)
            out[a], out[b] = _named_number(a, vb) or vb, _named_number(b, va) or va
    return out


def _named_by(value: str, name: str, evidence: Evidence) -> int:
    """How many words of the parameter's ``name`` name ``value`` in the request: they come
    right before it (a linking word or two between: "title 'David'", "named Alice") or end it
    ("Santa Clara County" for ``county``); 0 when they do not."""
    words = _WORD.findall(_split_name(name).lower())
    at = evidence.text.find(value.lower())
    if not words or at < 0:
        return 0
    before = _WORD.findall(evidence.text[:at])[-(len(words) + 2):]
    while len(before) > len(words) and before[-1] in _NAME_LINKS:
        before.pop()
    own = _WORD.findall(value.lower())
    if before[-len(words):] == words or (len(own) > len(words) and own[-len(words):] == words):
        return len(words)
    return 0


def _written_at(value: Any, evidence: Evidence) -> int | None:
    """Where the request first writes ``value`` (a number as ``number_mentions`` reads it, a
    string ignoring case); None for other values or one it does not write."""
    if _is_number(value):
        return next((start for start, _, v, _ in evidence.positions
                     if _close(v, float(value))), None)
    if isinstance(value, str) and value.strip():
        at = evidence.text.find(value.strip().lower())
        return at if at >= 0 else None
    return None


def stated_periods(tool: ToolSpec, arguments: dict[str, Any], evidence: Evidence
                   ) -> dict[str, int]:
    """Optional number parameters left out that count a period's units ("Number of days
    ahead") when the request names one period without a number ("the upcoming month" → 30):
    its length in the parameter's unit (``period_length``). Not when the request names
    several periods of different lengths, nor a length another argument already holds."""
    named = periods(evidence.text)
    if not named:
        return {}
    taken = [v for v in leaves([arguments]) if _is_number(v)]
    out: dict[str, int] = {}
    for key, schema in _left_out(tool, arguments):
        if schema.get("type") not in ("number", "integer") or "enum" in schema:
            continue
        lengths = {period_length(p, schema, key) for p in named}
        length = lengths.pop() if len(lengths) == 1 else None
        if length is not None and not any(_close(float(length), float(t)) for t in taken):
            out[key] = length
    return out


_FREQUENCY = re.compile(
    r"\b(semi-?annually|bi-?annually|twice a year|annually|yearly|once a year|quarterly|"
    r"bi-?monthly|monthly|bi-?weekly|fortnightly|weekly|daily)\b")
_PER_YEAR = {"annually": 1, "yearly": 1, "once a year": 1, "semiannually": 2, "semi-annually": 2,
             "biannually": 2, "bi-annually": 2, "twice a year": 2, "quarterly": 4,
             "bimonthly": 6, "bi-monthly": 6, "monthly": 12, "biweekly": 26, "bi-weekly": 26,
             "fortnightly": 26, "weekly": 52, "daily": 365}
_COMPOUNDINGS = re.compile(r"compound")
_A_COUNT = re.compile(r"\b(?:times|number|frequency|freq|per)\b")


def stated_frequencies(tool: ToolSpec, arguments: dict[str, Any], evidence: Evidence
                       ) -> dict[str, int]:
    """Number parameters that count compoundings a year ("The number of times that interest
    is compounded per year"), set from the one frequency the request names ("compounded
    quarterly" → 4, "monthly" → 12) where the call gives them another value or none. Not when
    the request names frequencies of different counts."""
    counts = {_PER_YEAR[m.group(1)] for m in _FREQUENCY.finditer(evidence.text)}
    if len(counts) != 1:
        return {}
    count = counts.pop()
    out: dict[str, int] = {}
    for key, schema in (tool.parameters.get("properties") or {}).items():
        if not isinstance(schema, dict) or schema.get("type") not in ("number", "integer") \
                or "enum" in schema:
            continue
        about = " ".join(_about(key, schema))
        if _COMPOUNDINGS.search(about) and _A_COUNT.search(about) and not (
                _is_number(arguments.get(key)) and _close(float(arguments[key]), count)):
            out[key] = count
    return out


_UNIT_PARAM = re.compile(r"units?", re.IGNORECASE)


def stated_units(tool: ToolSpec, arguments: dict[str, Any], evidence: Evidence
                 ) -> dict[str, str]:
    """A text parameter named ``unit`` or ``units`` (not ``to_unit``: a unit to convert to is
    no unit of the request's numbers) set to the unit the
    request writes right after the call's numbers ("a radius of 5cm" → "cm", "4 inches" →
    "inches") where every such number has that one unit, and the call leaves the parameter
    out or gives it a word the request writes after none of them ("circle"). Not when the
    numbers have different units ("50 kilometers … 2 hours")."""
    located = evidence.located
    numbers = [float(v) for v in arguments.values() if _is_number(v)]
    written = {tuple(_words_after(located, end, 1)) for _, end, value, _ in located.numbers
               if any(_close(value, n) for n in numbers)}
    units = {w[0] for w in written if w and w[0] not in _STOP}
    if len(units) != 1 or len(written) != 1:
        return {}
    unit = units.pop()
    after_numbers = {w for _, end, value, _ in located.numbers
                     if any(_close(value, n) for n in numbers)
                     for w in _words_after(located, end, 2)}
    out: dict[str, str] = {}
    for key, schema in (tool.parameters.get("properties") or {}).items():
        if not (isinstance(schema, dict) and schema.get("type") == "string"
                and _UNIT_PARAM.fullmatch(key)) or unit not in schema.get("enum", [unit]):
            continue
        value = arguments.get(key)
        if value is None and key in (tool.parameters.get("required") or ()):
            continue
        if value is None or (isinstance(value, str) and value.lower() != unit
                             and not _a_unit(value, after_numbers, schema, evidence)):
            out[key] = unit
    return out


def _a_unit(value: str, after_numbers: set[str], schema: dict[str, Any], evidence: Evidence
            ) -> bool:
    """Whether the request or the parameter's description uses ``value`` as a unit: written
    after one of the call's numbers, after "in" ("in square meters"), named as the unit ("the
    unit of measure is 'square meters'"), or in the description ("metric or imperial")."""
    low = value.lower()
    return bool(set(_WORD.findall(low)) & after_numbers) or f" in {low}" in evidence.text \
        or low in str(schema.get("description", "")).lower() \
        or re.search(rf"\bunits?\b[^.?!]{{0,40}}{re.escape(low)}", evidence.text) is not None


def _held_words(values: Any) -> str:
    """The words of the strings inside ``values`` (arguments, calls), lower case, one space
    apart: what ``_named_at`` takes as already held by other arguments."""
    return " ".join(_WORD.findall(" ".join(
        str(v) for v in leaves(values) if isinstance(v, str)).lower()))


def _named_at(choice: str, tokens: list[str], taken: str) -> int | None:
    """Where the request names ``choice`` (all its words in a row, forms of longer words
    allowed), not negated and not inside another argument's value; None if nowhere."""
    return next(_named_places(choice, tokens, taken), None)


def _named_places(choice: str, tokens: list[str], taken: str) -> Iterator[int]:
    """Every place ``_named_at`` would take."""
    words = _WORD.findall(_split_name(choice).lower())
    if not any(w not in _STOP for w in words) or (
            max(len(w) for w in words) < 3 and len("".join(words)) < 4):  # "Wi-Fi" is a word
        return
    if f" {' '.join(words)} " in f" {taken} ":
        return
    for i in range(len(tokens) - len(words) + 1):
        if all(_same_word(tokens[i + j], w) for j, w in enumerate(words)) and (
                not _negation_before(tokens, i)):
            yield i


def choices_by_record(tool: ToolSpec, calls: list[dict[str, Any]], evidence: Evidence
                      ) -> list[dict[str, Any]]:
    """``named_choices`` for a reply of several calls to ``tool``: each choice the request
    names goes to the call of the record it belongs to: the last record that starts before it
    in the same part of the request (parts end at a sentence's end and at words that order
    the parts: "then", "finally", "also"), or else the first that starts after it there ("parks
    in New York that have a Tennis Court …, then parks in Los Angeles that have a Playground";
    "a large bird with black feathers"). A record starts where the request first writes a
    value of the call that no other call shares; nothing is added unless the records start in
    the order of the calls, and a choice in a part where no record starts goes to none. One
    dict of added arguments per call."""
    out: list[dict[str, Any]] = [{} for _ in calls]
    tokens = evidence.tokens
    starts = _record_starts(calls, tokens)
    if starts is None:
        return out
    part = _token_parts(evidence)
    for key, schema in _left_out(tool, {}):
        many = schema.get("type") == "array" and isinstance(schema.get("items"), dict)
        options = (schema["items"] if many else schema).get("enum")
        if isinstance(options, list):
            if any(key in c for c in calls):
                continue
        elif many or not (options := named_by_own_name(key, schema, evidence)):
            continue  # (own names, "the ARIMA model … the LSTM model": a call that gives its
            # own keeps it)
        held = _held_words([{k: v for k, v in c.items() if k != key} for c in calls])
        per: list[list[tuple[int, str]]] = [[] for _ in calls]
        for c in options:
            for at in _named_places(c, tokens, held) if isinstance(c, str) else ():
                if (k := _record_of(at, starts, part)) is not None:
                    per[k].append((at, c))
        for i, found in enumerate(per):
            names = list(dict.fromkeys(c for _, c in sorted(found)))
            if key in calls[i]:
                continue
            if many and names:
                out[i][key] = names
            elif len(names) == 1:
                out[i][key] = names[0]
    return out


def _record_starts(calls: list[dict[str, Any]], tokens: list[str]) -> list[int] | None:
    """Where each call's record starts: the first token of a value of the call that no other
    call shares; None unless there are several calls and their records start in their order."""
    starts = []
    for i, args in enumerate(calls):
        own = [v for k, v in args.items() if isinstance(v, str | int | float)
               and not isinstance(v, bool) and all(o.get(k) != v for j, o in enumerate(calls)
                                                   if j != i)]
        places = [p for v in own if (p := _token_at(v, tokens)) is not None]
        starts.append(min(places) if places else -1)
    if len(calls) < 2 or min(starts) < 0 or starts != sorted(set(starts)):
        return None
    return starts


def _record_of(at: int, starts: list[int], part: list[int]) -> int | None:
    """The record a word at token ``at`` belongs to: the last that starts before it in the
    same part, or else the first that starts after it there; None when none starts there."""
    mine = [i for i, start in enumerate(starts) if part[start] == part[at]]
    before = [i for i in mine if starts[i] <= at]
    return before[-1] if before else min(mine, key=lambda i: starts[i] - at, default=None)


_THE_SAME = re.compile(r"\b(?:do|does|did|find|get|repeat|want)\s+the\s+same\s+(?:for|in|with|at)\b"
                       r"|\bthe\s+same\s+for\b", re.IGNORECASE)


def the_same_for(tool: ToolSpec, calls: list[dict[str, Any]], evidence: Evidence
                 ) -> list[dict[str, Any]]:
    """For a reply of several calls to ``tool`` whose request asks for "the same" for the
    later records ("restaurants in New York, NY that cater to Vegan, Gluten-free and
    Dairy-free options, and then do the same for Los Angeles, CA and Chicago, IL"): the
    optional arguments the first call gives and a later one leaves out, copied to it. One dict
    of added arguments per call."""
    out: list[dict[str, Any]] = [{} for _ in calls]
    if len(calls) < 2 or not _THE_SAME.search(evidence.text):
        return out
    required = set(tool.parameters.get("required") or [])
    for key, value in calls[0].items():
        if key in required:
            continue
        for i, args in enumerate(calls[1:], 1):
            if key not in args:
                out[i][key] = value
    return out


def items_by_record(tool: ToolSpec, calls: list[dict[str, Any]], evidence: Evidence
                    ) -> list[dict[str, list[str]]]:
    """For a reply of several calls to ``tool``: a list of strings that several calls give
    keeps in each call the items the request names in that call's record (the records of
    ``choices_by_record``: "a nature reserve around Berkeley … that has picnic tables and
    public restrooms, as well as one around Tokyo … that has playgrounds and biking trails"),
    taken from the items the calls give or, for a list of fixed choices, from its choices, in
    the order the request names them.
    Only when every item the calls give is named in a record and every call's record names
    one. One dict of changed arguments per call."""
    out: list[dict[str, list[str]]] = [{} for _ in calls]
    tokens = evidence.tokens
    starts = _record_starts(calls, tokens)
    if starts is None:
        return out
    part = _token_parts(evidence)
    for key, schema in (tool.parameters.get("properties") or {}).items():
        lists = [c.get(key) for c in calls]
        items = schema.get("items") if isinstance(schema, dict) else None
        if not isinstance(items, dict) or sum(isinstance(v, list) for v in lists) < 2 \
                or not all(isinstance(v, list) and all(isinstance(x, str) for x in v)
                           for v in lists):
            continue
        given = list(dict.fromkeys(x for v in lists for x in v))
        options = items.get("enum") if isinstance(items.get("enum"), list) else given
        held = _held_words([{k: v for k, v in c.items() if k != key} for c in calls])
        per: list[list[tuple[int, str]]] = [[] for _ in calls]
        placed = set()
        for c in options:
            for at in _named_places(c, tokens, held) if isinstance(c, str) else ():
                if (k := _record_of(at, starts, part)) is not None:
                    per[k].append((at, c))
                    placed.add(c)
        if not all(per) or not set(given) <= placed:
            continue
        for i, found in enumerate(per):
            names = list(dict.fromkeys(c for _, c in sorted(found)))  # in the request's order
            if names != lists[i]:
                out[i][key] = names
    return out


_QUOTED_AFTER = re.compile(r"""(?:\s+[A-Za-z]+){0,4}?\s+['"‘“]([^'"’”\n]{1,40})['"’”]""")


def quoted_by_name(tool: ToolSpec, arguments: dict[str, Any], evidence: Evidence,
                   used: Iterable[Any] = ()) -> dict[str, str]:
    """Optional string parameters (no ``enum``) left out whose value the request quotes within
    four words after the parameter's name ("I prefer the time to be around '10:00AM'" for
    ``time``): one value, that no call of the reply holds."""
    held = {str(v).lower() for v in leaves([arguments, list(used)]) if isinstance(v, str)}
    located, written = evidence.located, evidence.written
    if len(written) != len(located.text):
        return {}
    out: dict[str, str] = {}
    for key, schema in _left_out(tool, arguments):
        if schema.get("type") != "string" or "enum" in schema:
            continue
        found = {m.group(1) for _, end in _name_spans(_telling(key), located)
                 if (m := _QUOTED_AFTER.match(written, end))}
        if len(found) == 1 and (value := found.pop()).lower() not in held:
            out[key] = value
    return out


def _token_parts(evidence: Evidence) -> list[int]:
    """The part of the request each token stands in: parts end at a sentence's end and at
    words that order the parts ("then", "finally", "also")."""
    part, n = [], 0
    for m in re.finditer(r"[a-z0-9']+|[.!?;](?=\s|$)", evidence.text):
        if m.group()[0] in ".!?;":
            n += 1
        else:
            n += m.group() in _SEQUENCE
            part.append(n)
    return part


def choices_in_own_part(tool: ToolSpec, arguments: dict[str, Any], others: list[Any],
                        evidence: Evidence) -> dict[str, Any]:
    """``named_choices`` for the one call to ``tool`` in a reply of several tools: a choice
    the request names in a part where it writes this call's own values (values no other call
    gives) and none of another call's ("… all the movies that actor Leonardo DiCaprio starred
    in the year 2010, specifically in the Drama category. Second, … lawsuits …" for
    ``category``)."""
    tokens, part = evidence.tokens, _token_parts(evidence)
    others = [o for o in others if isinstance(o, dict)]

    def own_parts(args: dict[str, Any], rest: list[dict[str, Any]]) -> set[int]:
        shared = [v for o in rest for v in o.values()]
        return {part[p] for v in args.values() if isinstance(v, str | int | float)
                and not isinstance(v, bool) and v not in shared
                and (p := _token_at(v, tokens)) is not None and p < len(part)}

    mine = own_parts(arguments, others)
    theirs = set().union(*(own_parts(o, [arguments, *(x for x in others if x is not o)])
                           for o in others)) if others else set()
    mine -= theirs
    if not mine:
        return {}
    held = _held_words([arguments, others])
    out: dict[str, Any] = {}
    for key, schema in _left_out(tool, arguments):
        if schema.get("type") == "array":
            continue
        options = schema.get("enum")
        if not isinstance(options, list):
            options = named_by_own_name(key, schema, evidence)
        found = {c for c in options if isinstance(c, str)
                 for at in _named_places(c, tokens, held) if at < len(part) and part[at] in mine}
        if len(found) == 1:
            out[key] = found.pop()
    return out


def _token_at(value: Any, tokens: list[str]) -> int | None:
    """The first token where the request writes ``value`` (its words in a row)."""
    want = re.findall(r"[a-z0-9']+", _plain_text(value).lower() if _is_number(value)
                      else str(value).lower())
    if not want:
        return None
    return next((i for i in range(len(tokens) - len(want) + 1)
                 if tokens[i:i + len(want)] == want), None)


_COUNT_WORDS = frozenset(
    "num number count max min maximum minimum total value amount n no".split())
_MEASURE_WORDS = frozenset({"size"})  # "deck_size" is stated as "a deck of 52 (cards)"
_STATED_GAP = 3  # words allowed between a parameter's name and the number stated after it
_LINK_WORDS = frozenset("of is are to at be equal equals was were as".split())
_TOKEN = re.compile(r"[a-z][a-z']*|[.!?;:,]|\d")
_Numbers = list[tuple[int, int, float, bool]]  # ``_positions``: (start, end, value, percent)


class _Located(NamedTuple):
    """A request's words and numbers with where they are, found once for all parameters."""

    text: str
    words: list[re.Match[str]]
    numbers: _Numbers

    @classmethod
    def of(cls, evidence: Evidence) -> _Located:
        text, written = evidence.text, evidence.written
        numbers = _positions(written if len(written) == len(text) else text)
        return cls(text, list(re.finditer(r"[a-z]+", text)), numbers)


def stated_numbers(tool: ToolSpec, arguments: dict[str, Any], evidence: Evidence,
                   used: Iterable[Any] = ()) -> dict[str, int | float]:
    """Optional number parameters left out whose value the request states next to the
    parameter's name — its telling words in a row, then at most ``_STATED_GAP`` words (no
    other number, no punctuation) and the number ("a significance level of 0.05" for
    ``significance_level``, "set the starting level to 5"), or the number just before them
    with at most one word between ("three personality traits" for ``trait_count``). Not when
    the request states the name with different numbers (one per call of a parallel reply) —
    unless the other calls (``used``: their arguments) hold all of them but one under that name:
    this call's is the one left ("a lightness level of 70% … of 30%") — nor a number this call
    or another already holds.
    Percentages and bounds as ``extractive``."""
    used = list(used)
    taken = [v for v in leaves([arguments, used]) if _is_number(v)]
    located, out = evidence.located, {}
    for key, schema in _left_out(tool, arguments):
        if schema.get("type") not in ("number", "integer") or "enum" in schema:
            continue
        stated = _stated(key, schema, located, _number_beside)
        if len(stated) > 1:  # one per call: the one no other call holds under this name
            held = [o[key] for o in used if isinstance(o, dict) and _is_number(o.get(key))]
            rest = {v for v in stated if not any(_close(float(v), float(h)) for h in held)}
            if len(rest) == 1 and len(held) == len(stated) - 1:
                stated = rest
        if len(stated) == 1 and not any(_close(float(v), float(t))
                                        for v in stated for t in taken):
            out[key] = stated.pop()
            taken.append(out[key])
    return out


def stated_corrections(tool: ToolSpec, arguments: dict[str, Any], evidence: Evidence,
                       varies: Collection[str] = (), used: Iterable[Any] = ()
                       ) -> dict[str, int | float]:
    """Number arguments the call holds whose parameter the request names with a different
    number right after it, joined only by a linking word ("an annual interest rate of 5%" for
    ``annual_interest_rate`` = 5000 → 0.05; "net income of $2,000,000"). Not when the request
    names it with different numbers — unless the call's number is none of them and all but
    one are held by the call's other arguments or the reply's other calls (``used``): "a
    quantity of 5 … of 3 … of 4 moles … a molar mass of 16" for ``quantity`` = 16 beside a
    call that holds 5 and 3 — nor to a number another argument of the call holds once
    corrected (two swapped values are both put right). Not for the arguments that ``varies``
    names: in a parallel reply whose calls give a parameter different values, each call takes
    one of them, and which is the fan-out's business — except that a call's percentage written
    as a whole number is put as the fraction the request states for it (5 → 0.05 where the
    request says "a discount rate of 5%")."""
    props = tool.parameters.get("properties") or {}
    located, out = evidence.located, {}
    used = list(used)
    for key, value in arguments.items():
        schema = props.get(key)
        if not isinstance(schema, dict) or not _is_number(value) or "enum" in schema:
            continue
        stated = _stated(key, schema, located, _number_linked)
        if key in varies:  # only the same number read as a fraction: "a rate of 5%" → 0.05
            stated = {v for v in stated if _close(float(v) * 100, float(value))}
        elif len(stated) > 1 and not any(_close(float(v), float(value)) for v in stated):
            held = [float(v) for v in leaves([{k: v for k, v in arguments.items() if k != key},
                                              used]) if _is_number(v)]
            stated = {v for v in stated if not any(_close(float(v), h) for h in held)}
        if len(stated) == 1 and not _close(float(value), float(new := stated.pop())) \
                and not _held_by_another(key, new, used):
            out[key] = new
    final = {**arguments, **out}  # swapped values ("net income" ↔ "dividends") are both fixed
    return {key: new for key, new in out.items() if not any(
        k != key and _is_number(v) and _close(float(new), float(v)) for k, v in final.items())}


def _held_by_another(key: str, number: Any, used: list[Any]) -> bool:
    """Whether another call of the reply (``used``: their arguments) gives its own ``key`` this
    number: "a distance of 2 m" is then that call's distance, not a correction for this one's
    ("… a wire … a distance of 2 m … a region … that is 3 m apart")."""
    return any(isinstance(other, dict) and _is_number(other.get(key))
               and _close(float(other[key]), float(number)) for other in used)


_LOW_WORDS = frozenset("lower min minimum start from low begin lowest".split())
_HIGH_WORDS = frozenset("upper max maximum end to high stop highest".split())


_RANGE = re.compile(r"\b(?:from|between)\s+(?:[a-z]\s*=\s*)?(-?\d+(?:\.\d+)?)\s+(?:to|and)\s+"
                    r"(?:[a-z]\s*=\s*)?(-?\d+(?:\.\d+)?)(?![\d.]\d)")


def _bound_role(key: str, schema: Any) -> str | None:
    """"low" or "high" for a bound parameter: by the words of its name (``lower_limit``,
    ``end_x``) or, for a one-letter name, of its description ("The lower bound")."""
    words = _WORD.findall(_split_name(key).lower())
    if len(key) == 1 and isinstance(schema, dict):
        words = _WORD.findall(str(schema.get("description") or "").lower())[:6]
    low, high = _LOW_WORDS.intersection(words), _HIGH_WORDS.intersection(words) - {"to"}
    return "low" if low and not high else "high" if high and not low else None


def same_bounds(tool: ToolSpec, arguments: dict[str, Any], evidence: Evidence
                ) -> dict[str, int | float]:
    """A lower and an upper bound given the same number where exactly one range the request
    writes ends in it ("from -2 to 2" with both bounds 2, "from x = 1 to x = 4" with both 1):
    the bound that is off takes the range's other end."""
    props = tool.parameters.get("properties") or {}
    roles = {k: r for k, v in arguments.items() if _is_number(v)
             and (r := _bound_role(k, props.get(k)))}
    lows = [k for k, r in roles.items() if r == "low"]
    highs = [k for k, r in roles.items() if r == "high"]
    if len(lows) != 1 or len(highs) != 1:
        return {}
    low, high = lows[0], highs[0]
    value = float(arguments[low])
    pairs = [(float(m.group(1)), float(m.group(2))) for m in _RANGE.finditer(evidence.written)]
    ranges = [(a, b) for a, b in pairs if (_close(a, value) or _close(b, value))
              and not _close(a, b)]
    if not _close(value, float(arguments[high])) or len(ranges) != 1:
        return {}
    start, end = ranges[0]
    kind = int if all(isinstance(arguments[k], int) for k in (low, high)) \
        and start.is_integer() and end.is_integer() else float
    if _close(value, end):
        return {low: kind(start)}
    if _close(value, start):
        return {high: kind(end)}
    return {}


def bound_order(arguments: dict[str, Any], evidence: Evidence) -> dict[str, int | float]:
    """A lower and an upper bound the other way round (``lower_limit`` = 1000, ``upper_limit``
    = 1 for "between 1 and 1000"; ``start_year``/``end_year``, ``min_x``/``max_x``): swapped,
    when the request writes the smaller one first."""
    def role(key: str) -> tuple[str, str] | None:
        words = _WORD.findall(_split_name(key).lower())
        low, high = [w for w in words if w in _LOW_WORDS], [w for w in words if w in _HIGH_WORDS]
        if len(low) + len(high) != 1:
            return None
        return ("low" if low else "high"), " ".join(w for w in words if w not in (low or high))

    roles = {k: r for k, v in arguments.items() if _is_number(v) and (r := role(k))}
    out: dict[str, int | float] = {}
    for low, (side, stem) in roles.items():
        high = next((k for k, (s, st) in roles.items() if s == "high" and st == stem), None)
        if side != "low" or high is None or not arguments[low] > arguments[high]:
            continue
        first = {k: _written_at(arguments[k], evidence) for k in (low, high)}
        if None not in first.values() and first[high] < first[low]:
            out[low], out[high] = arguments[high], arguments[low]
    return out


def stated_swaps(tool: ToolSpec, arguments: dict[str, Any], evidence: Evidence
                 ) -> dict[str, int | float]:
    """Two number arguments each holding a number the request states right after the other's
    parameter name and not after its own ("a length of 50 meters and a width of 30 meters" for
    ``width`` = 50, ``length`` = 30), swapped. The names may be stated with more numbers (one
    per record: "a side length of 5"): the swap keeps the call's values, so it holds for one
    call of several too."""
    props = tool.parameters.get("properties") or {}
    numbers = {k: v for k, v in arguments.items() if _is_number(v)
               and isinstance(props.get(k), dict) and "enum" not in props[k]}
    if len(numbers) < 2:
        return {}
    located = evidence.located
    stated = {k: _stated(k, props[k], located, _number_linked) for k in numbers}

    def has(key: str, value: Any) -> bool:
        return any(_close(float(value), float(s)) for s in stated[key])

    out: dict[str, int | float] = {}
    for a, b in itertools.combinations(numbers, 2):
        va, vb = numbers[a], numbers[b]
        if a in out or b in out or _close(float(va), float(vb)):
            continue
        if has(a, vb) and has(b, va) and not has(a, va) and not has(b, vb):
            out[a], out[b] = vb, va
    return out


def _stated(key: str, schema: dict[str, Any], located: _Located,
            beside: Callable[[_Located, int, int], Mention | None]) -> set[int | float]:
    """The values the request gives parameter ``key``: wherever the telling words of its name
    stand in a row, the number ``beside`` finds there, as ``extractive`` would offer it."""
    telling = _telling(key)
    spans = _name_spans(telling, located) or (  # "sample_std_dev": "standard deviation of 10"
        _name_spans(telling[1:], located) if len(telling) >= 3 else []) or (
        _name_spans(telling[:-1], located) if len(telling) == 2  # "deck_size": "a deck of 52"
        and telling[-1] in _MEASURE_WORDS else [])
    return {c[0] for start, end in spans
            if (m := beside(located, start, end)) and (c := _number_choices(schema, [m]))}


def _telling(key: str) -> list[str]:
    """The words of a parameter's name that the request states it by (abbreviations spelt
    out, counting words such as "num" or "total" left out)."""
    return [_ABBREVIATIONS.get(w, w) for w in _content_words(_split_name(key))
            if w not in _COUNT_WORDS]


def _counted(located: _Located, start: int) -> bool:
    """Whether a number stands right before ``start``: the name there is its unit ("6
    years"), not a label for the number after it."""
    return any(0 <= start - n[1] <= 1 and not located.text[n[1]:start].strip()
               for n in located.numbers)


_ABBREVIATIONS = {
    "std": "standard", "dev": "deviation", "avg": "average", "num": "number", "qty": "quantity",
    "amt": "amount", "pct": "percent", "freq": "frequency", "temp": "temperature",
    "init": "initial", "vel": "velocity", "accel": "acceleration", "dist": "distance",
    "prob": "probability", "pop": "population", "yr": "year", "yrs": "years", "mins": "minutes",
    "hrs": "hours", "sec": "seconds", "secs": "seconds", "max": "maximum", "min": "minimum",
    "stats": "statistics",
}
"""Short forms parameter names use for the words a request writes ("sample_std_dev" is stated
as "standard deviation of 10")."""


def _name_spans(telling: list[str], located: _Located) -> list[tuple[int, int]]:
    """Where ``telling`` words occur in a row in the text (stems count)."""
    if not telling or any(len(w) < 3 for w in telling):
        return []
    words, out = located.words, []
    for i in range(len(words) - len(telling) + 1):
        run = words[i : i + len(telling)]
        if all(_same_word(m.group(), w) for m, w in zip(run, telling, strict=True)) and all(
                re.fullmatch(r"[\s_-]*", located.text[a.end():b.start()])
                for a, b in itertools.pairwise(run)):
            out.append((run[0].start(), run[-1].end()))
    return out


def _number_beside(located: _Located, start: int, end: int) -> Mention | None:
    """The number stated right after ``text[start:end]`` (at most ``_STATED_GAP`` words
    between), else the one right before it (at most one word between)."""
    after = _next_number(located, end, lambda gap: _plain_words(gap, _STATED_GAP))
    if after is not None:
        return after
    before = [n for n in located.numbers if n[1] <= start]
    if before and _plain_words(_TOKEN.findall(located.text[before[-1][1] : start]), 1):
        return Mention(before[-1][2], before[-1][3])
    return None


def _number_linked(located: _Located, start: int, end: int) -> Mention | None:
    """The number right after ``text[start:end]`` with at most two linking words between (the
    first may be "rate": "an annual yield rate of 7%" for ``annual_yield``) — none where a
    number stands right before it: "for 6 years at 3%" gives ``years`` 6, not 3."""
    if _counted(located, start):
        return None
    return _next_number(located, end, lambda gap: len(gap) <= 2 and all(
        t in _LINK_WORDS or (i == 0 and t == "rate") for i, t in enumerate(gap)))


def _next_number(located: _Located, end: int,
                 gap_ok: Callable[[list[str]], bool]) -> Mention | None:
    """The first number after ``end``, when ``gap_ok`` accepts the tokens between."""
    n = next((n for n in located.numbers if n[0] >= end), None)
    if n is None or not gap_ok(_TOKEN.findall(located.text[end : n[0]])):
        return None
    return Mention(n[2], n[3])


def _plain_words(tokens: list[str], most: int) -> bool:
    """At most ``most`` tokens, all words (no number, no punctuation)."""
    return len(tokens) <= most and all(t[0].isalpha() for t in tokens)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _same_word(token: str, word: str) -> bool:
    """``token`` is ``word`` or, both of four letters or more, a form of it ("me" is no form
    of "meter")."""
    return token == word or (min(len(word), len(token)) >= 4 and _same_stem(token, word))


_NEGATIONS = frozenset(
    "no not without exclude excluding except don't dont never skip omit few".split())


def _negated(name: str, evidence: Evidence) -> bool:
    """A negation among the three words before a telling word of flag ``name`` in the text."""
    telling = _flag_words(name)
    tokens = evidence.tokens
    return any(any(_same_word(token, w) for w in telling) and _negation_before(tokens, i)
               for i, token in enumerate(tokens))


def _negation_before(tokens: list[str], i: int) -> bool:
    """A negation among the three words before ``tokens[i]``."""
    return bool(_NEGATIONS.intersection(tokens[max(0, i - 3) : i]))


def ungrounded_required(
    call: ToolCall, tool: ToolSpec, evidence: Evidence, *, skip_enums: bool = True
) -> list[str]:
    """Names of required arguments whose values the evidence does not support, or that are
    not values of their own (``not_own_values``). Enum-typed and boolean arguments are skipped
    by default: choosing among given options (true or false among them) is the model's job."""
    props = tool.parameters.get("properties") or {}
    out = []
    not_own = not_own_values(call, tool, evidence)
    named_counts = stated_frequencies(tool, {}, evidence)  # "compounded quarterly": n = 4
    for key in _required(tool):
        if key not in call.arguments:
            continue
        schema = props.get(key) if isinstance(props.get(key), dict) else {}
        value = call.arguments[key]
        if skip_enums and ("enum" in schema or isinstance(value, bool)):
            continue
        if isinstance(value, str) and value in described_values(schema):
            continue  # a value the tool's documentation offers for it, not a made-up one
        if isinstance(value, str) and value == places.city_state(key, call.arguments, schema):
            continue  # the state of the US city the call names ("San Francisco": California)
        if key in named_counts and _is_number(value) and _close(float(value), named_counts[key]):
            continue  # the count of compoundings a year the request names as a frequency
        if _is_number(value) and not evidence.numbers and value == described_number(schema):
            continue  # the default the tool's documentation gives, the request writing no number
        if key in not_own or (not is_grounded(value, evidence, key)
                              and not _period_given(value, schema, key, evidence)
                              # "5ft 10in" as 70 inches; the last day of "3 nights from …"
                              and not _derived(key, value, call, tool, evidence)):
            out.append(key)
    return out


def _derived(key: str, value: Any, call: ToolCall, tool: ToolSpec, evidence: Evidence) -> bool:
    """Whether ``value`` is what the grounding rules compute from the request for ``key``: a
    quantity the request writes in another unit of the parameter's (``quantities.
    unit_conversions``: "5ft 10in" for a height in inches is 70), or a last day counted from
    the first day's argument (``dates.stay_ends``: "for 3 nights starting from 1st June
    2022")."""
    if _is_number(value) and any(
            quantities.unit_conversions(tool, {key: number}, evidence.units_written,
                                        evidence.units_next).get(key) == value
            for number in evidence.units_written):
        return True
    if not isinstance(value, str):
        return False
    for first, start in call.arguments.items():
        if first != key and isinstance(start, str) and dates.parse_date(start) is not None \
                and dates.stay_ends({first: start, key: start}, evidence.written).get(key) == value:
            return True
    return False


def not_own_values(call: ToolCall, tool: ToolSpec, evidence: Evidence) -> list[str]:
    """Required arguments whose values are not their own: a number used more often than the
    request writes it (``_overused_numbers``), a text that repeats an earlier argument's or runs
    on from another's value (``_reused``, ``_holds_another``), a parameter's name, the word a
    sentence asks with or another argument's quantity (``_misplaced``). The agent declines
    such a call (``ungrounded_required``); ``redecode`` decodes the value again first."""
    required = [k for k in _required(tool) if k in call.arguments]
    overused = _overused_numbers({k: call.arguments[k] for k in required}, evidence)
    return [k for k in required if k in overused
            or _reused(k, call.arguments[k], call.arguments)
            or _holds_another(k, call.arguments[k], call.arguments) is not None
            or _misplaced(k, call.arguments[k], call.arguments, tool, evidence, units=False)]


def _overused_numbers(arguments: dict[str, Any], evidence: Evidence) -> set[str]:
    """Number arguments that use a number more often than the text writes it: after
    ``a=0`` from "bx + c = 0", ``b=0`` and ``c=0`` are copies, not values the request gave."""
    seen: dict[float, int] = {}
    out = set()
    for key, value in arguments.items():
        if not _is_number(value):
            continue
        uses = seen[float(value)] = seen.get(float(value), 0) + 1
        if uses > 1 and uses > sum(1 for n in evidence.numbers if _close(n, float(value))):
            out.add(key)
    return out


def _reused(key: str, value: Any, arguments: dict[str, Any]) -> bool:
    """A string that repeats (part of) an earlier argument's string: a model with nothing to
    put in a slot copies what it just wrote, so the copy is no evidence for this slot."""
    if not isinstance(value, str) or not _compact(value):
        return False
    mine = _compact(value)
    for other, text in arguments.items():
        if other == key:
            return False  # only arguments written before this one count
        if isinstance(text, str) and mine in _compact(text):
            return True
    return False


def _holds_another(key: str, value: Any, arguments: dict[str, Any]) -> str | None:
    """The argument whose whole value a string starts with, words of its own following, or
    None: the model took the span that runs on from another argument's value ("Manchester
    United in Premier League" for ``league`` beside ``team`` = "Manchester United", "1871 to
    1945" for ``country`` beside ``start_year`` = 1871). A value that ends with another's is
    often a name of its own ("New York City" beside ``type`` = "city"), and a number inside a
    formula is no argument ("x**3" beside ``end_x`` = 3)."""
    if not isinstance(value, str) or _FORMULA.search(value):
        return None
    mine = _WORD.findall(value.lower())
    for other, v in arguments.items():
        if other == key or isinstance(v, bool):
            continue
        words = (_WORD.findall(v.lower()) if isinstance(v, str)
                 else [_plain_text(v)] if _is_number(v) else [])
        if words and len(words) < len(mine) and mine[:len(words)] == words:
            return other
    return None


_FORMULA = re.compile(r"[*^=/()]|\b[a-z]\s*[-+]|\d[a-z]\b")


def _plain_text(number: Any) -> str:
    return str(_plain(float(number)))


def _names_the_tool(value: Any, tool: ToolSpec) -> bool:
    """A string whose words are all words of the tool's name, or forms of them ("area" for
    ``geometry.area_triangle``, "games" for ``BoardGameGeek.recommend``): the request's word for
    what to do, not an argument value."""
    if not isinstance(value, str):
        return False
    words = _content_words(value)
    name = _content_words(_split_name(tool.name.replace(".", " ")))
    return bool(words) and all(any(_same_word(w, n) for n in name) for w in words)


def _is_own_name(value: str, name: str) -> bool:
    """``value`` is the parameter's name in words ("team" for ``team``, "start date" for
    ``start_date``; not "my_data" for ``data`` nor "feeling" for ``thinking_vs_feeling``)."""
    return _WORD.findall(value.lower()) == _WORD.findall(_split_name(name).lower())


def _describes_name(key: str, value: str, schema: Any) -> bool:
    """A lower-case ``value`` that only repeats words of its parameter's name ("image" for
    ``image_url``; not a side of ``thinking_vs_feeling``) or, for a name parameter, of its
    description ("protein" for ``protein_name``, "ancient" for ``empire_name``: "The name of
    the ancient empire"): what a model writes when it did not find the value. (No ground-truth
    value of BFCL's four non-live categories is such a value.)"""
    words = _WORD.findall(value)
    if value != value.lower() or not words or not all(w.isalpha() for w in words):
        return False
    own = _WORD.findall(_split_name(key).lower())
    if set(words) <= set(own) and not {"vs", "or"} & set(own):
        return True  # "image" for ``image_url`` (not "feeling" for ``thinking_vs_feeling``)
    if not own or own[-1] != "name":
        return False
    return set(words) <= set(_about(key, schema))


def _asking_items(key: str, items: list[Any], tool: ToolSpec, evidence: Evidence
                  ) -> list[str]:
    """The items of a list of strings that are a word a sentence of the request asks with
    ("Find a restaurant …"), only words of the tool's name ("find" in
    ``dietary_requirements`` of ``find_restaurants``) or the parameter's own name: no values
    of their own."""
    asking = _instructions(evidence.text) | _SEQUENCE
    return [v for v in items if isinstance(v, str) and (
        v.lower() in asking or _is_own_name(v, key) or _names_the_tool(v, tool))]


def _repeated_texts(items: list[Any]) -> tuple[list[str], list[str]] | None:
    """A list of strings without its repeats, and the repeats left out (each after its first
    time); None when it has none. A small model that loops writes "S&P 500", "Dow Jones",
    "S&P 500", … until the token limit stops it — and the last item, cut short there ("Str"
    after "Stranger Things"), goes with the repeats. Lists of numbers may repeat a value
    ([3, 4, 5, 6, 4] is data), so they are left as they are."""
    if not items or not all(isinstance(i, str) for i in items):
        return None
    kept = list(dict.fromkeys(items))
    seen: set[str] = set()
    left = []
    for item in items:
        if item in seen:
            left.append(item)
        seen.add(item)
    if not left:
        return None
    last = items[-1]
    if last not in left and any(s != last and s.startswith(last) for s in items[:-1]):
        kept.remove(last)
        left.append(last)
    return kept, left


def _copied_items(key: str, items: list[Any], arguments: dict[str, Any]) -> list[str]:
    """The strings of list ``items`` that are another argument's whole value ("Thai" in
    ``dietary_requirements`` beside ``food_type="Thai"``), or that value followed by that
    parameter's own name ("Thai food"): copies, not items of their own."""
    others = {_compact(v) for k, v in arguments.items() if k != key and isinstance(v, str)}
    others |= {_compact(f"{v} {w}") for k, v in arguments.items() if k != key
               and isinstance(v, str) for w in _WORD.findall(_split_name(k).lower())}
    return [v for v in items if isinstance(v, str) and _compact(v) in others - {""}]


_UNIT_WORDS = frozenset(
    "unit units currency currencies measure measurement scale metric imperial denomination "
    "format".split())
_QUANTITY = re.compile(r"(\d+(?:\.\d+)?)\s*[a-z%°/²³]+\.?(?:\s+[a-z]+)?", re.IGNORECASE)
"""A number with its unit ("10cm", "4 meters", "5 kg block"), nothing else."""


_WHEN_WORDS = frozenset(
    "today tomorrow yesterday tonight now week weekend morning evening afternoon next last"
    .split())
_WHERE_WORDS = frozenset(
    "location city place address destination origin venue region country town area".split())


def _only_when(words: list[str]) -> bool:
    """Whether ``words`` say only when: a time word or a month ("tomorrow", "june01") and
    numbers (a zip code alone is a place)."""
    when = [w for w in words if w in _WHEN_WORDS or w.rstrip("0123456789") in _MONTHS]
    return bool(when) and all(w in when or w.isdigit() for w in words)


def _misplaced(key: str, value: Any, arguments: dict[str, Any], tool: ToolSpec,
               evidence: Evidence, *, units: bool = True) -> str | None:
    """Why a string the model put in an optional slot is no value of its own, or None. A
    model with nothing to put in ``unit`` writes a word it has seen instead: a parameter's
    name ("height" for ``unit`` beside ``height``, "month" for ``month``), the word a sentence
    of the request asks with ("Find"), a time for a place ("tomorrow, June 1" for
    ``location``), another argument's quantity with its unit ("10cm" when ``height`` is 10,
    "three" when ``count`` is 3; not "January 1, 2021" beside ``year=2021``), or the unit the
    request writes after that quantity ("meters" in "4 meters away" when ``distance`` is 4;
    only with ``units``, and kept in a parameter about units or currencies: "Euros" in "500
    Euros" is ``from_currency``), and, with ``units``, a word that names no unit in ``unit``
    or ``units`` ("circle"). A choice the parameter's schema offers is always its own. A
    number the request writes only inside another argument's formula ("2" of "2x^2 at x = 1")
    is none."""
    if _is_number(value) and (formula := _in_formula(key, float(value), arguments, evidence)):
        return f"it is a number inside argument {formula!r}'s formula"
    if not isinstance(value, str) or not (words := _content_words(value)):
        return None
    schema = (tool.parameters.get("properties") or {}).get(key)
    if isinstance(schema, dict) and value.lower() in {str(c).lower()
                                                      for c in schema.get("enum") or ()}:
        return None
    if _is_own_name(value, key):
        return "it is the parameter's own name, not a value"
    if _describes_name(key, value, schema) and not re.search(
            rf"\b(?:same|that|this)\s+{re.escape(value.lower())}\b", evidence.text):
        # ("company" stays where the request says "the same company": another call's value)
        return "it is a word of the parameter's description, not a name"
    if (other := _choice_of_another(key, value, tool, evidence)) is not None:
        return f"it is the choice of parameter {other!r} the request names with that name"
    for other in tool.parameters.get("properties") or {}:
        if other != key and set(words) <= set(_content_words(_split_name(other))):
            return f"it names parameter {other!r}, not a value"
    if words[0] in _SEQUENCE or words[0] in _instructions(evidence.text):
        return "it is the word a sentence of the request asks with"
    if _only_when(words) and set(_content_words(_split_name(key))) & _WHERE_WORDS:
        return "it is a time, not a place"
    held_numbers = {other: float(v) for other, v in arguments.items()
                    if other != key and _is_number(v)}
    held = _QUANTITY.fullmatch(value.strip())
    spelled = CARDINALS.get(value.strip().lower())  # "three" beside count = 3
    for other, number in held_numbers.items():
        if (held and _close(float(held.group(1)), number)) or (
                spelled is not None and _close(float(spelled), number)):
            return f"it is the quantity of argument {other!r}"
    if units and _UNIT_PARAM.fullmatch(key) and not quantities.is_unit(value) and not _a_unit(
            value, set(), schema if isinstance(schema, dict) else {}, evidence):
        return "it names no unit"
    about = set(_about(key, schema))
    if not units or about & _UNIT_WORDS or len(words) > 2 or any(len(w) < 3 for w in words):
        return None
    located = evidence.located
    for other, number in held_numbers.items():
        for _, end, stated, _ in located.numbers:
            if _close(stated, number) and _words_after(located, end, len(words)) == words:
                return f"it is the unit the request writes after argument {other!r}'s number"
    return None


def _choice_of_another(key: str, value: str, tool: ToolSpec, evidence: Evidence
                       ) -> str | None:
    """The other parameter whose ``enum`` offers ``value`` when the request writes it only
    right before that parameter's own name ("stage 3 in hard mode": 'hard' is ``mode``'s, not
    ``level``'s), or None."""
    words = _WORD.findall(value.lower())
    tokens = evidence.tokens
    places = [i for i in range(len(tokens) - len(words) + 1)
              if tokens[i:i + len(words)] == words] if words else []
    for other, schema in (tool.parameters.get("properties") or {}).items():
        if other == key or not isinstance(schema, dict) or value.lower() not in {
                str(c).lower() for c in schema.get("enum") or ()}:
            continue
        name = _WORD.findall(_split_name(other).lower())[-1:]
        if places and name and all(i + len(words) < len(tokens)
                                   and _same_word(tokens[i + len(words)], name[0])
                                   for i in places):
            return other
    return None


def _in_formula(key: str, value: float, arguments: dict[str, Any], evidence: Evidence
                ) -> str | None:
    """The argument whose formula holds every place the request writes ``value``, or None
    (also when the request does not write it, or writes it elsewhere too)."""
    spans = []
    for other, v in arguments.items():
        if other == key or not isinstance(v, str) or not _FORMULA.search(v):
            continue
        for form in dict.fromkeys((v.lower(), v.lower().replace("**", "^"))):
            at = evidence.text.find(form)
            if at >= 0 and len(form) >= 3:
                spans.append((at, at + len(form), other))
    if not spans:
        return None
    places = [start for start, _, stated, _ in evidence.located.numbers if _close(stated, value)]
    holders = {next((o for a, b, o in spans if a <= p < b), None) for p in places}
    return holders.pop() if len(holders) == 1 and None not in holders else None


@lru_cache(maxsize=256)
def _instructions(text: str) -> frozenset[str]:
    """The ``_INSTRUCTION`` words that start a sentence of ``text`` (lower case)."""
    return frozenset(m.group(1).lower() for m in _SENTENCE_START.finditer(text)) & _INSTRUCTION


def _words_after(located: _Located, end: int, n: int) -> list[str]:
    """The ``n`` words written right after position ``end`` (only spaces or a hyphen before
    the first, only spaces between them)."""
    out: list[str] = []
    for m in located.words:
        if m.start() < end:
            continue
        gap = located.text[end:m.start()]
        if gap.strip(" -") if not out else gap.strip(" "):
            break
        out.append(m.group())
        end = m.end()
        if len(out) == n:
            break
    return out


def _repeats(key: str, value: Any, arguments: dict[str, Any]) -> str | None:
    """The other argument whose value ``value`` repeats (the same number, or text whose words
    are all words of the other's text: "DiCaprio" after "Leonardo DiCaprio", not "US" after
    "USD"; "player" beside ``["player count"]``): a model filling a slot the request says
    nothing about copies a value it has just used, which is grounded in the request but no
    evidence for this slot. A list repeats another argument's equal list (no two lists of a
    ground-truth call of BFCL are equal)."""
    if isinstance(value, list) and value:
        return next((k for k, v in arguments.items() if k != key and v == value), None)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    mine = set(_WORD.findall(_as_text(value)))
    if not mine:
        return None
    for other, given in arguments.items():
        if other == key:
            continue
        if isinstance(given, list):  # an item of a list of texts ("player count")
            texts = [t for t in given if isinstance(t, str)] if isinstance(value, str) else []
        else:
            texts = [given]
        for text in texts:
            if isinstance(text, bool) or not isinstance(text, int | float | str):
                continue
            if isinstance(value, int | float) and isinstance(text, int | float):
                if _close(float(value), float(text)):
                    return other
            elif mine <= set(_WORD.findall(_as_text(text))):
                return other
    return None


def _as_text(value: int | float | str) -> str:
    return str(_plain(value) if isinstance(value, float) else value).lower()


def _required(tool: ToolSpec) -> Sequence[str]:
    req = tool.parameters.get("required") or []
    return [k for k in req if isinstance(k, str)]


# ---- extractive arguments -------------------------------------------------------------------

_FREE_KEYS = ("enum", "const", "format", "pattern", "anyOf", "oneOf", "allOf", "$ref")
_SPAN_WORD = re.compile(r"~?/?\w+(?:(?:[.\-/:@+&]|['’](?!s\b))\w+)*(?:#|\+\+)?(?!\w)")
"""A word of a span: letters and digits with inner ``. - / : @ + &`` (``D.C``, ``myfMRI.nii``,
``multi-band``), a leading ``~`` or ``/`` (paths), an apostrophe except a possessive 's, and a
trailing ``#`` or ``++`` (``C#``, ``F#``, ``C++``: a key or a language, never the bare letter)."""


def text_spans(texts: Iterable[str], *, max_words: int = 8, max_spans: int = 1200) -> list[str]:
    """Every run of 1..``max_words`` consecutive words of ``texts``, written as the text writes
    it from the first word to the last (inner punctuation kept: "Boston, MA", "Roe v. Wade";
    spacing normalised), never across a sentence end, neither starting nor ending with a
    lowercase function word ("for", "the", "of") nor starting with the word a sentence asks
    with ("Find", "Can", "Lastly": ``_INSTRUCTION``) or a word that orders the request's parts
    ("finally": ``_SEQUENCE``), nor starting in the middle of a date, nor running past an
    owner's 's, in order of first appearance, at most ``max_spans``. Quotations are spans
    whole."""
    spans: dict[str, None] = {}
    for text in texts:
        for quoted in _quoted(text):
            spans.setdefault(quoted)
        words = list(_SPAN_WORD.finditer(text))
        inside = dates.written_dates(text)
        for i, first in enumerate(words):
            if _possessive_s(text, first) or _function_word(first):
                continue
            if any(a < first.start() < b for a, b in inside):
                continue  # "2022 to July 20" starts in the middle of "July 10, 2022"
            start = first.group().lower()
            if start in _SEQUENCE or (start in _INSTRUCTION and (
                    i == 0 or _sentence_break(text, words[i - 1], first))):
                continue
            for j in range(i, min(i + max_words, len(words))):
                if j > i and (_sentence_break(text, words[j - 1], words[j])
                              or _possessive_s(text, words[j - 1])):
                    break  # nor past an owner's 's: "Madrid's", not "Madrid's music stores"
                if _function_word(words[j]) or (j == i and first.group().lower() in _STOP):
                    continue
                span = " ".join(text[first.start() : words[j].end()].split())
                if enum_safe(span):
                    spans.setdefault(span)
                    if len(spans) >= max_spans:
                        return list(spans)
    return list(spans)


_QUOTE = re.compile(
    r"""(?:(?<=[\s(:])|^)(['‘“"])(\S(?:.*?\S)??)(?:['’”"])(?=[\s.,;:!?)]|$)""", re.S
)
"""A quotation: an opening quote after a space (or at the start), text, and a closing quote
before a space or punctuation — an apostrophe inside a word ("It's") neither opens nor closes."""
_MAX_QUOTE = 500


def without_quotations(text: str) -> str:
    """``text`` with what it quotes left out ("Analyze the sentiment of the review '…'"): a
    quotation is the request's data (a message to send, a review to read), not what it asks."""
    return _QUOTE.sub(lambda m: f"{m.group(1)}…{m.group(1)}", text)


def _quoted(text: str) -> list[str]:
    """The quotations of ``text``, whole (they may hold sentence ends: a review, a message)."""
    out = []
    for m in _QUOTE.finditer(text):
        body = " ".join(m.group(2).split())
        if len(body) <= _MAX_QUOTE and enum_safe(body):
            out.append(body)
    return out


def span_texts(messages: Iterable[Message]) -> list[str]:
    """The texts argument values may be copied from: user messages, then tool results."""
    msgs = list(messages)
    return [m.content for m in msgs if m.role == "user" and m.content] + [
        m.content for m in msgs if m.role == "tool" and m.content
    ]


def _function_word(word: re.Match[str]) -> bool:
    """A lowercase article, preposition, pronoun or the like ("for", "the", "of"): no value
    starts or ends with one ("for pasta carbonara", "the theory of"); a capitalised one may
    begin a name ("The British Museum")."""
    return word.group() in _STOP


def _possessive_s(text: str, word: re.Match[str]) -> bool:
    return word.group() == "s" and text[word.start() - 1 : word.start()] in ("'", "’")


def _sentence_break(text: str, prev: re.Match[str], nxt: re.Match[str]) -> bool:
    """Whether a sentence ends between two words: ``! ? ;`` or a line break, or a full stop
    before a capital after a word longer than an abbreviation ("v. Wade" goes on)."""
    gap = text[prev.end() : nxt.start()]
    if any(c in gap for c in "!?;\n"):
        return True
    return "." in gap and nxt.group()[0].isupper() and len(prev.group()) > 2


_NUMBER_MENTION = re.compile(
    r"(?<![\w.])(?P<sign>-)?[$€£¥]?"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
    r"(?:e(?P<exp>[-+]?\d+)\b|\s*[x×*]\s*10\s*\^\s*(?P<pow>[-+]?\d+))?"
    r"(?P<km>(?-i:k|M)\b)?"
    r"(?P<pct>\s*(?:%|percent\b|per cent\b))?"
    r"(?:\s*(?P<scale>dozen|hundred|thousand|million|billion|trillion|bn)\b)?",
    re.IGNORECASE,
)
"""A number as ``number_mentions`` reads it: sign, digits, an exponent ("2e-9", "8.854 x
10^-12"), a k/M suffix, a percent sign, a scale word."""
_SCALE_WORDS = {"dozen": 12, "hundred": 100, "thousand": 1000, "million": 1e6, "billion": 1e9,
                "trillion": 1e12, "bn": 1e9}
_NOT_COUNTS = frozenset(("half", "quarter", "second", "hundred", "thousand", "million", "billion",
                         "dozen"))
"""Number words that mostly do not stand for a count on their own ("per second", "millions")."""
_WORD_NUMBER = re.compile(
    r"\b(" + "|".join(w for w in _SMALL if w not in _NOT_COUNTS) + r")\b"
    r"(?:\s+(dozen|hundred|thousand|million|billion|trillion)\b)?",
    re.IGNORECASE,
)


_PERIOD = re.compile(r"\b(?:next|past|last|upcoming|coming|following|previous|this|a|one)\s+"
                     r"(week|fortnight|month|year|decade|century)\b", re.IGNORECASE)
_PERIOD_LENGTH = {  # the length of a period in a unit, where it is a whole number
    "days": {"week": 7, "fortnight": 14, "month": 30, "year": 365, "decade": 3650},
    "weeks": {"week": 1, "fortnight": 2, "year": 52, "decade": 520},
    "months": {"month": 1, "year": 12, "decade": 120, "century": 1200},
    "years": {"year": 1, "decade": 10, "century": 100},
}
_UNIT = re.compile(r"\b(days|weeks|months|years)\b")


def periods(text: str) -> list[str]:
    """The periods a request names without a number ("the next week", "over the past
    decade"), as their unit words, in order."""
    return [m.group(1).lower() for m in _PERIOD.finditer(text)]


def period_length(period: str, schema: Any, name: str = "") -> int | None:
    """How many of the parameter's units ``period`` lasts ("month" for ``days_ahead``,
    "Number of days to search": 30), or None. The unit is a plural unit word of the
    parameter's name or description ("in years", "Number of future months"): a count, not a
    date ("The year")."""
    described = schema.get("description", "") if isinstance(schema, dict) else ""
    unit = _UNIT.search(f"{_split_name(name)} {described}".lower())
    return _PERIOD_LENGTH[unit.group(1)].get(period) if unit else None


def implied_numbers(evidence: Evidence, schema: Any, name: str = "") -> set[int]:
    """Numbers the request gives for a parameter in words only: the length of a period it
    names, in the parameter's unit ("the next week" → 7 for a count of days), and how many
    times a year a frequency it names happens ("monthly compounding" → 12)."""
    out = {n for p in periods(evidence.text) if (n := period_length(p, schema, name)) is not None}
    return out | {_PER_YEAR[m.group(1)] for m in _FREQUENCY.finditer(evidence.text)}


class Mention(NamedTuple):
    """A number the request writes: its value, whether it was a percentage, and whether it
    may continue a list with the number before it (no bracket, sentence end or more than three
    words between them)."""

    value: float
    percent: bool = False
    joins: bool = False
    period: str = ""  # "month" for "the next month": its value depends on the parameter's unit


_LIST_GAP_WORDS = 3


def number_mentions(texts: Iterable[str]) -> list[Mention]:
    """Each number ``texts`` write, in the order written: digits with thousands separators and
    currency signs (``$2,000,000``; ``[200,300,400]`` is a list), a scale word applied
    ("213 million", "50k"), number words ("five", "two dozen"), clock times ("11 PM" -> 23,
    after the 11 itself)."""
    out: list[Mention] = []
    for text in texts:
        prev_end = None
        for start, end, value, percent in _positions(text):
            joins = prev_end is not None and _list_gap(text[prev_end:start])
            out.append(Mention(value, percent, joins))
            prev_end = max(end, prev_end or 0)
    out.extend(Mention(0.0, period=p) for p in dict.fromkeys(periods(" ".join(texts))))
    return out


def _positions(text: str) -> _Numbers:
    """``number_mentions``' numbers of one text with where they are: (start, end, value,
    percent), in the order written."""
    found: _Numbers = []
    for m in _NUMBER_MENTION.finditer(text):
        if _exponent(text, m.start()):
            continue
        if _bracketed_list(m["num"], text, m.start()):
            found.extend((m.start(), m.start(), float(p), False)
                         for p in m["num"].split(","))
            continue
        power = m["exp"] or m["pow"]
        digits = m["num"].replace(",", "") + (f"e{power}" if power else "")
        value = float(digits) * (-1 if m["sign"] else 1)  # "2e-9" exactly as Python reads it
        if m["km"]:
            value *= 1000 if m["km"] == "k" else 1e6  # "50k", "$1.2M"
        if m["scale"]:
            value *= _SCALE_WORDS[m["scale"].lower()]
        found.append((m.start(), m.end(), value, bool(m["pct"])))
    for m in _WORD_NUMBER.finditer(text):
        value = float(_SMALL[m.group(1).lower()])
        scale = _SCALE_WORDS[m.group(2).lower()] if m.group(2) else 1
        found.append((m.start(), m.end(), value * scale, False))
    for m in _CLOCK.finditer(text.lower()):
        found.append((m.start() + 1, m.end(), float(_clock_hour(m)), False))
    found.extend((start, end, 0.0, False) for start, end in _rest_spans(text))
    south_west = _south_west(text)
    found = [(a, b, -v if a in south_west and v > 0 else v, pct) for a, b, v, pct in found]
    found.sort(key=lambda f: f[0])
    return found


_COORDINATES = re.compile(  # "33.4484 N, 112.0740 W", "(34.05° S 118.24° E)"
    r"(?<![\w.])(\d{1,3}(?:\.\d+)?)\s*°?\s*([NS])\b[\s,;]*(\d{1,3}(?:\.\d+)?)\s*°?\s*([EW])\b",
    re.IGNORECASE)


def _south_west(text: str) -> set[int]:
    """Where the numbers of a latitude-longitude pair that lie south or west start: written
    with a compass letter, they are negative degrees ("112.0740 W" is -112.074)."""
    out = set()
    for m in _COORDINATES.finditer(text):
        if m.group(2) in "Ss":
            out.add(m.start(1))
        if m.group(4) in "Ww":
            out.add(m.start(3))
    return out


def _exponent(text: str, start: int) -> bool:
    """Whether the number at ``start`` is a power ("5 m/s^2", "3x**2"), not a quantity."""
    return text[:start].rstrip().endswith(("^", "**"))


def _list_gap(gap: str) -> bool:
    """Whether two numbers with ``gap`` between them can be items of one list."""
    if any(c in gap for c in "[](){}") or re.search(r"[.!?;](\s|$)", gap):
        return False
    return len(_WORD.findall(gap.lower())) <= _LIST_GAP_WORDS


_NUMERIC_TEXT = frozenset(
    "number numbers no num id ids code codes year years date time zip postal phone version "
    "isbn account serial sku pin digits age amount price quantity count size score rating "
    "docket case".split()
)
"""Words of a text parameter's name or description that allow a bare number as its value."""


def _text_spans_for(schema: dict[str, Any], spans: list[str], name: str) -> list[str]:
    """The spans a free-text parameter may take: bare numbers ("2020") only when the parameter
    is about numbers (an id, a code, a year ...); a city or a topic is never "2020"; never the
    parameter's own name ("team" for ``team``). Another parameter's name stays on offer: taken
    away, a small model writes the next span instead ("height 10" for ``unit``), which the
    pruning after decoding can no longer tell from a value."""
    words = set(_about(name, schema))
    own = [s for s in spans if not _is_own_name(s, name)]  # "team" is no team's name
    if words & _NUMERIC_TEXT:
        return own or list(spans)
    kept = [s for s in own if not _NUMERIC_SPAN.fullmatch(s)]
    return kept or own or list(spans)


_NUMERIC_SPAN = re.compile(r"[\d\s.,:/%$-]+")


_DEFAULT = re.compile(
    _DEFAULT_LEAD + r"(?:['‘“\"](?P<quoted>[^'’”\"]{1,40})['’”\"]"
    r"|(?P<word>(?-i:[A-Za-z][\w-]*(?:\s[A-Z][\w-]*)*)))",
    re.IGNORECASE,
)
_DESCRIBED_QUOTE = re.compile(
    r"""(?:(?<=[\s(:,])|^)['‘“"]([^'’”"\n]{1,40})['’”"](?=[\s.,;:!?)]|$)""")
_NOT_VALUES = frozenset(
    "none null the a an any this that it empty not no unspecified current true false".split())


def described_values(schema: Any) -> list[str]:
    """The string values a parameter's own description names: quoted ones ("e.g. 'Open',
    'Close'") and its default ("Default is California", "defaults to 'all'") — values the tool's
    documentation offers, which a request need not repeat. A required argument holding one is not
    made up (``ungrounded_required``). They are *not* added to the spans the smallest models
    copy from (``extractive``): measured on BFCL simple_python, SmolLM2-135M then picks a
    described value over the request's own (115 affected cases: 9 gained, 9 lost; required
    parameters only: 1 gained, 3 lost)."""
    if not isinstance(schema, dict) or not isinstance(schema.get("description"), str):
        return []
    text = schema["description"]
    found = [m.group(1).strip() for m in _DESCRIBED_QUOTE.finditer(text)]
    for m in _DEFAULT.finditer(text):
        found.append((m.group("quoted") or m.group("word")).strip())
    return [v for v in dict.fromkeys(found)
            if v and v.lower() not in _NOT_VALUES and enum_safe(v)]


def _date_spans(schema: dict[str, Any], spans: list[str]) -> list[str]:
    """For a parameter that asks for a date, the spans that are complete dates (the reply is
    then rewritten in the asked layout, see ``dates``)."""
    if dates.asked_format(schema) is None:
        return []
    return [s for s in spans if dates.parse_date(s) is not None]


def _number_choices(schema: dict[str, Any], mentions: Sequence[Mention], name: str = ""
                    ) -> list[Any]:
    """The values a number argument (named ``name``) may copy from ``mentions``. A percentage
    is a fraction (5% -> 0.05: rates are decimals in most APIs) unless the parameter is an
    integer or its description speaks of a percentage (and states no range within 0 to 1:
    "The sales tax in percentage, must be from 0 to 1"); a period ("the next month") is its
    length in the parameter's unit (``period_length``); bounds (minimum, maximum, or a range
    the description states, ``stated_range``) are kept."""
    bounds = stated_range(schema)
    as_percent = (schema.get("type") == "integer" or "percent" in str(
        schema.get("description", "")).lower()) and not (bounds and bounds[1] <= 1)
    choices: dict[float, None] = {}
    for m in mentions:
        if m.period:
            length = period_length(m.period, schema, name)
            if length is not None:
                choices.setdefault(length)
            continue
        choices.setdefault(m.value / 100 if m.percent and not as_percent else m.value)
    return [_plain(v) for v in choices if _fits(v, schema, bounds)]


_STATED_RANGE = re.compile(
    r"\b(?:from|between)\s+(-?\d+(?:\.\d+)?)\s*(?:to|and|-)\s*(-?\d+(?:\.\d+)?)\b",
    re.IGNORECASE)
_STATED_LAYOUT = re.compile(
    r"(?<![a-z])((?:y{2,4}|m{2}|d{2}|h{2}|s{2})(?:[-/:. ](?:y{2,4}|m{2}|d{2}|h{2}|s{2}))+)"
    r"(?![a-z])", re.IGNORECASE)


def stated_range(schema: Any) -> tuple[float, float] | None:
    """The range a number parameter's description states ("must be from 0 to 1", "between
    -90 and 90", "from 0-1"), as (low, high), or None."""
    if not isinstance(schema, dict) or schema.get("type") not in ("number", "integer", "float"):
        return None
    return _range_in(str(schema.get("description") or ""))


@lru_cache(maxsize=4096)
def _range_in(description: str) -> tuple[float, float] | None:
    """``stated_range`` of a description (read once per description: the decoder's choices and
    re-decoding ask for every value they consider)."""
    m = _STATED_RANGE.search(description)
    if m is None:
        return None
    low, high = float(m.group(1)), float(m.group(2))
    return (low, high) if low < high else None


def stated_layout(schema: Any, name: str) -> re.Pattern[str] | None:
    """What a string parameter's description says its values look like ("format: yyyy-mm-dd",
    "in format yyyy/yyyy", "HH:MM"), as a pattern the whole value must match, or None — also
    for a parameter whose value *is* a layout (``date_format``, ``format``)."""
    if not isinstance(schema, dict) or schema.get("type") != "string" or "format" in name.lower():
        return None
    return _layout_in(str(schema.get("description") or ""))


@lru_cache(maxsize=4096)
def _layout_in(description: str) -> re.Pattern[str] | None:
    """``stated_layout`` of a description, compiled once per description."""
    m = _STATED_LAYOUT.search(description)
    if m is None:
        return None
    groups = re.split(r"[-/:. ]", m.group(1))
    digits = [r"\d{4}" if len(g) == 4 else r"\d{2,4}" if g[0] in "yY" else r"\d{1,2}"
              for g in groups]
    return re.compile(r"\s*" + r"\D{1,3}".join(digits) + r"\s*")


def fits_description(value: Any, schema: Any, name: str) -> bool:
    """Whether ``value`` fits what the parameter's description states about its values: a
    range for numbers (``stated_range``), a layout for strings (``stated_layout``)."""
    if _is_number(value):
        return _within(float(value), stated_range(schema))
    layout = stated_layout(schema, name) if isinstance(value, str) else None
    return layout is None or layout.fullmatch(value) is not None


def _within(value: float, bounds: tuple[float, float] | None) -> bool:
    return bounds is None or bounds[0] <= value <= bounds[1]


def _fits(value: float, schema: dict[str, Any], bounds: tuple[float, float] | None) -> bool:
    """Whether ``value`` fits the schema's type and bounds and the range ``bounds`` its
    description states (``stated_range``, read once by the caller)."""
    if schema.get("type") == "integer" and not float(value).is_integer():
        return False
    if not _within(value, bounds):
        return False
    checks = (("minimum", lambda b: value >= b), ("maximum", lambda b: value <= b),
              ("exclusiveMinimum", lambda b: value > b), ("exclusiveMaximum", lambda b: value < b))
    return all(not isinstance(schema.get(k), int | float) or ok(schema[k]) for k, ok in checks)


def _plain(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def extractive(
    schema: Any, spans: list[str], numbers: Sequence[Mention] = (), *, name: str = ""
) -> Any:
    """``schema`` with its free values limited to what the request wrote, so that the
    constrained decoder copies them instead of inventing them (for the smallest models):

    * free-text strings (no enum, format or pattern) -> one of ``spans`` (the spans that are
      dates, for a parameter that asks for a date);
    * numbers and integers -> one of ``numbers`` (see ``number_mentions``), where there are any;
    * arrays of such numbers -> a run of consecutive numbers of the request ("85, 90, 88"), and
      arrays of enum choices -> at most as many items as choices (a looping model stops).
    """
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    free = not any(k in out for k in _FREE_KEYS)
    if free and out.get("type") == "string" and spans:
        out["enum"] = _date_spans(out, spans) or _text_spans_for(out, spans, name)
    elif free and out.get("type") in ("number", "integer") and numbers:
        choices = _number_choices(out, numbers, name)
        if choices:
            out["enum"] = choices
    if isinstance(out.get("properties"), dict):
        required = set(out.get("required") or ())
        out["properties"] = {
            k: _non_empty(extractive(v, spans, numbers, name=k)) if k in required
            else extractive(v, spans, numbers, name=k) for k, v in out["properties"].items()
        }
    if isinstance(out.get("items"), dict):
        items = out["items"]
        out["items"] = extractive(items, spans, numbers, name=name)
        if free and items.get("type") in ("number", "integer") and "enum" in out["items"]:
            runs = _number_runs(out, numbers)
            if runs:
                out["enum"] = runs
        elif "enum" in items and "maxItems" not in out:
            out["maxItems"] = max(len(items["enum"]), out.get("minItems", 0))
    return out


def _non_empty(schema: Any) -> Any:
    """A required array the decoder fills from the request's values holds at least one: a
    small model otherwise closes it at once ("moves": [] for "the 1st move is e4")."""
    if isinstance(schema, dict) and schema.get("type") == "array" and "minItems" not in schema \
            and ("enum" in schema or "enum" in (schema.get("items") or {})):
        return {**schema, "minItems": 1}
    return schema


_MAX_RUNS = 400


def _number_runs(schema: dict[str, Any], mentions: Sequence[Mention]) -> list[Any]:
    """The arrays a list of numbers may copy: runs of consecutive numbers as the request writes
    them ("scores 85, 90, 88", "[22,33,42]"; see ``Mention.joins``), each fitting the item
    schema and the length bounds; the longest first, at most ``_MAX_RUNS``."""
    values = [_number_choices(schema["items"], [m]) for m in mentions]
    low, high = schema.get("minItems", 1), schema.get("maxItems", len(values))
    runs: list[Any] = []
    for n in range(min(high, len(values)), max(low, 1) - 1, -1):
        for i in range(len(values) - n + 1):
            window = values[i : i + n]
            if all(window) and all(m.joins for m in mentions[i + 1 : i + n]):
                run = [v[0] for v in window]
                if run not in runs:
                    runs.append(run)
                    if len(runs) >= _MAX_RUNS:
                        return runs
    return runs


# ---- what a request asks about: the values calls should cover -------------------------------

_NAME_WORD = re.compile(r"\b[A-Z][\w'-]*")
_SENTENCE_END = ".!?\n:;"
_MAX_QUOTED_VALUE = 60


def request_values(text: str, known: str = "") -> list[str | float]:
    """The specific values a request names: numbers written in digits, quoted strings and
    capitalised words inside a sentence (names); words that also occur in ``known`` (the tools'
    names and descriptions) are not values of the request but of the tools."""
    known_words = set(_WORD.findall(known.lower()))
    values: list[str | float] = []
    for m in _NUMBER.finditer(text):
        token = m.group().replace(",", "")
        if any(c.isdigit() for c in token) and not _exponent(text, m.start()):
            try:
                values.append(float(token))
            except ValueError:
                continue
    values.extend(q for q in _quoted(text) if 2 <= len(q) <= _MAX_QUOTED_VALUE)
    for m in _NAME_WORD.finditer(text):
        word = m.group().lower()
        before = text[: m.start()].rstrip().rstrip("\"'“‘([").rstrip()  # '"Imagine' opens one
        if before and before[-1] not in _SENTENCE_END and word not in known_words:
            if word not in _STOP:
                values.append(word)
    return list(dict.fromkeys(values))


def covered(value: str | float, calls: Sequence[ToolCall]) -> bool:
    """Whether some argument of ``calls`` uses ``value``."""
    found = [leaf for c in calls for leaf in leaves(c.arguments)]
    text = " ".join(str(v) for v in found if isinstance(v, str))
    if isinstance(value, float):
        numbers = [float(v) for v in found if isinstance(v, int | float) and not isinstance(
            v, bool)]
        return any(_close(value * s, n) for n in numbers for s in _SCALES) or Evidence(
            text).has_number(value)
    return Evidence(text).has_words(value)


def leaves(value: Any) -> Iterable[Any]:
    """The scalar values inside ``value`` (a dict's values, a list's items, at any depth)."""
    if isinstance(value, dict):
        for v in value.values():
            yield from leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from leaves(v)
    else:
        yield value

