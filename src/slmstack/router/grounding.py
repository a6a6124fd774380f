"""A deterministic tool-call check for escalation: is each call's function the one the request
talks about, and is each argument value taken from the request?

Constrained decoding makes a small model's calls *valid*; it does not stop it picking the wrong
function or inventing values ("Manchester" for "Manhattan", a docket number nobody gave). This
check costs no model call:

* **function**: the called tool shares at least as many content words (name and description)
  with the conversation as any other offered tool, and at least one — a reply calling ``d``
  different tools: each among the ``d`` that share the most;
* **values**: every string argument is in the tool's enum / default, or occurs in the
  conversation (case-insensitive), or shares a content word with it; a string of digits (a
  date, an id, an amount) must be found as the agent's argument grounding finds it
  (``models.grounding.is_grounded``: "2023-03-10" ~ "March 10th, 2023"), not by a shared word;
  every number is the default, an enum value, or a number the conversation gives — in digits,
  in words, as a percentage ("5%" ~ 0.05), with a scale ("2 million"), as a period in the
  parameter's unit ("the next week" ~ 7 days) or a frequency ("monthly" ~ 12); booleans pass.

Score = passed checks / checks, in [0, 1]; a reply without tool calls scores 1.0 (nothing to
check). Use it as a route's verifier (``verify = "escalate"``, e.g. ``verify_threshold = 1``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..models.grounding import Evidence, implied_numbers, is_grounded
from ..models.numwords import CARDINALS
from ..store.records import CallRecord
from ..types import Completion, ToolSpec

_WORD = re.compile(r"[a-z0-9]+")
_NUM = re.compile(r"-?\d+(?:[.,]\d+)*")
_DIGITS_ONLY = re.compile(r"[\d\s.,:/$%+-]*\d[\d\s.,:/$%+-]*")
_STOP = frozenset(
    "a an the and or of to in on for with by from at as is are be was were this that these those "
    "it its into about what which who how when where get set find give me my i you your we our "
    "please can could would will do does using use value values number given".split()
)
_WORDS = {**CARDINALS, "dozen": 12, "half": 0.5, "quarter": 0.25, "twice": 2, "once": 1,
          "double": 2}


@dataclass
class Check:
    what: str  # e.g. "function 'find_restaurants'" or "location='Manchester'"
    ok: bool


def content_words(text: str) -> set[str]:
    """Lower-case words of length ≥ 3 (or digits) that are not stop words; snake_case and
    dotted names split into their parts."""
    text = re.sub(r"([a-z])([A-Z])", r"\1 \2", text).lower().replace("_", " ")
    return {w for w in _WORD.findall(text) if (len(w) >= 3 or w.isdigit()) and w not in _STOP}


def _numbers(text: str) -> set[float]:
    found = set()
    for raw in _NUM.findall(text):
        try:
            found.add(float(raw.replace(",", "")))
        except ValueError:
            continue
    words = _WORD.findall(text.lower())
    found |= {float(_WORDS[w]) for w in words if w in _WORDS}
    return found


class Conversation:
    """The request's user/system text, prepared once for all checks."""

    def __init__(self, text: str) -> None:
        self.text = " ".join(text.lower().split())
        self.words = content_words(text)
        self.numbers = _numbers(text)
        self.evidence = Evidence(text)  # the agent's argument grounding reads the same text

    def mentions(self, value: str) -> bool:
        norm = " ".join(value.lower().split())
        if not norm or norm in self.text:
            return True
        return bool(content_words(value) & self.words)


def tool_words(tool: ToolSpec) -> set[str]:
    return content_words(f"{tool.name.replace('.', ' ')} {tool.description}")


def function_checks(conv: Conversation, calls: list[Any], tools: list[ToolSpec]) -> list[Check]:
    """A reply calling ``d`` different tools passes where each is among the ``d`` tools that
    share the most content words with the conversation (and shares one at least): a request of
    several parts asks for several tools, and only one of them can share the most."""
    overlap = {t.name: len(tool_words(t) & conv.words) for t in tools}
    ranked = sorted(overlap.values(), reverse=True)
    wanted = len({c.name for c in calls})
    bar = ranked[min(wanted, len(ranked)) - 1] if ranked else 0
    return [Check(f"function {c.name!r}", overlap.get(c.name, 0) >= bar and
                  overlap.get(c.name, 0) > 0) for c in calls]


def value_checks(conv: Conversation, args: dict[str, Any], schema: dict[str, Any]) -> list[Check]:
    props = schema.get("properties") or {}
    out = []
    for key, value in args.items():
        spec = props.get(key) if isinstance(props.get(key), dict) else {}
        out += _leaf_checks(conv, key, value, spec)
    return out


def _leaf_checks(conv: Conversation, key: str, value: Any, spec: dict[str, Any]) -> list[Check]:
    if isinstance(value, dict):
        return value_checks(conv, value, spec)
    if isinstance(value, list):
        items = spec.get("items") if isinstance(spec.get("items"), dict) else {}
        return [c for v in value for c in _leaf_checks(conv, key, v, items)]
    if value is None or isinstance(value, bool):
        return []
    known = value == spec.get("default", object()) or value in (spec.get("enum") or [])
    if isinstance(value, int | float):
        ok = (known or float(value) in conv.numbers or conv.evidence.has_number(float(value))
              or value in implied_numbers(conv.evidence, spec, key))
    elif _DIGITS_ONLY.fullmatch(str(value)):  # a date, an id, an amount: as the agent reads it
        ok = known or is_grounded(str(value), conv.evidence, key)
    else:
        ok = known or conv.mentions(str(value)) or is_grounded(str(value), conv.evidence, key)
    return [Check(f"{key}={value!r:.60}", ok)]


def grounding_checks(text: str, completion: Completion, tools: list[ToolSpec]) -> list[Check]:
    conv = Conversation(text)
    by_name = {t.name: t for t in tools}
    checks = function_checks(conv, completion.tool_calls, tools)
    for call in completion.tool_calls:
        tool = by_name.get(call.name)
        checks += value_checks(conv, call.arguments, tool.parameters if tool else {})
    return checks


def grounding_score(text: str, completion: Completion, tools: list[ToolSpec]) -> float:
    checks = grounding_checks(text, completion, tools)
    return sum(c.ok for c in checks) / len(checks) if checks else 1.0


class GroundingVerifier:
    """``verifier(record, completion)``: the grounding score of the completion's tool calls;
    ``strict``: 1.0 only when every check passes, else 0.0."""

    name = "grounding"

    def __init__(self, *, strict: bool = False) -> None:
        self.strict = strict

    def __call__(self, record: CallRecord, completion: Completion) -> float:
        from ..distill.tasks import request_tools

        text = "\n".join(str(m.get("content") or "") for m in record.request.get("messages") or []
                         if m.get("role") in ("user", "system"))
        score = grounding_score(text, completion, request_tools(record.request))
        return float(score == 1.0) if self.strict else score
