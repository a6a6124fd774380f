"""A required argument that is no value of its own is decoded again without that value.

With nothing better to put in a slot, a small model copies a number it already wrote
(``"present_value": 1000, …, "number_of_years": 1000`` from "$1000 … for 1, 5 and 10 years"),
takes the span that runs on from another argument's value ("Manchester United in Premier
League" for ``league``), or writes a word that is no value of its own (the parameter's name,
the word the request asks with; see ``grounding._misplaced``). The agent would decline such a
call (``ungrounded_required``). Instead, the reply is reopened just before that value and the
value alone is decoded again from the same choices the decoder had (the request's numbers and
spans, ``grounding.extractive``) less those that would fail the same checks: the model's next
choice, still copied from the request. At most ``MAX_TRIES`` per argument; a value still
rejected stays (and the agent declines as before).

Only engines that can continue a reply (``_continue``) and constrain arguments to the request's
values do this. On the ground-truth calls of BFCL's four non-live categories the copied-number,
run-on and no-value-of-its-own rules reject no value; the repeated-text rule rejects 8 (parallel
requests whose calls share a part: "San Francisco" after "Golden Gate Bridge in San
Francisco"), values the agent declined all the same before.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from ..types import ToolCall
from . import grounding

if TYPE_CHECKING:
    from .base import BaseChatModel, RawOutput, Request

__all__ = ["MAX_TRIES", "redecode"]

MAX_TRIES = 2
_CALL = re.compile(r'\{\s*"name"\s*:\s*"((?:[^"\\]|\\.)*)"\s*,\s*"arguments"\s*:\s*(?=\{)')
_DECODER = json.JSONDecoder()


def redecode(model: BaseChatModel, req: Request, raw: RawOutput) -> RawOutput:
    """``raw`` with each rejected required value decoded again (unchanged when none is)."""
    if not (req.tools and req.constraint is not None and raw.tool_calls is None
            and model.extractive_strings and model._continues(req)):
        return raw
    evidence = grounding.evidence_from(req.messages)
    offered = {t.name: t for t in model.offered(req)}
    specs = {t.name: t for t in req.tools}
    text, usage = raw.text, raw.usage
    excluded: dict[tuple[int, str], list[Any]] = {}
    repairs: list[str] = []
    while True:
        found = _first_rejected(text, specs, offered, evidence, excluded)
        if found is None:
            break
        index, key, (start, end), value, schema, call, spec = found
        out = excluded.setdefault((index, key), [])
        out.append(value)
        choices = [c for c in schema["enum"] if not any(_same(c, o) for o in out)
                   and _passes(call, spec, key, c, evidence)]
        if not choices:
            continue
        more = model._continue(req, text[:start], {**schema, "enum": choices})
        if more is None:
            break
        usage = usage + more.usage
        new = _value(more.text.strip())
        if new is not _NONE:
            text = text[:start] + json.dumps(new, ensure_ascii=False) + text[end:]
            repairs.append(f"{call.name}: decoded {key!r} again without {value!r:.60} "
                           f"(no value of its own): {new!r:.60}")
    if text == raw.text:
        return raw
    return type(raw)(text=text, usage=usage, finish_reason=raw.finish_reason,
                     repairs=[*raw.repairs, *repairs])


def _first_rejected(
    text: str, specs: dict[str, Any], offered: dict[str, Any], evidence: grounding.Evidence,
    excluded: dict[tuple[int, str], list[Any]],
) -> tuple[int, str, tuple[int, int], Any, dict[str, Any], ToolCall, Any] | None:
    """The first required value (call index, key, its span in ``text``, the value, the
    decoder's schema for it, the call and its tool) that is a copy or no value of its own and
    has tries left (``excluded``: the values each argument was decoded without so far)."""
    for index, (name, arguments, spans) in enumerate(_calls(text)):
        spec, choices = specs.get(name), offered.get(name)
        if spec is None or choices is None:
            continue
        call = ToolCall(name=name, arguments=arguments)
        for key in grounding.not_own_values(call, spec, evidence):
            props = choices.parameters.get("properties") or {}
            schema = props.get(key)
            if key in spans and isinstance(schema, dict) and schema.get("enum") and (
                    len(excluded.get((index, key), [])) < MAX_TRIES):
                return index, key, spans[key], arguments[key], schema, call, spec
    return None


def _passes(call: ToolCall, spec: Any, key: str, value: Any, evidence: grounding.Evidence
            ) -> bool:
    """Whether ``value`` in ``key`` would pass the checks the rejected value failed, and fits
    what the parameter's description states (``grounding.fits_description``: its range, its
    layout): the model's next choice is weaker evidence than its first, so it must at least
    be a value of the documented shape ("now" is no "yyyy-mm-dd" date, 25 no rate "from 0 to
    1"), and no 0 of a start at rest for a parameter that is no speed."""
    trial = ToolCall(name=call.name, arguments={**call.arguments, key: value})
    schema = (spec.parameters.get("properties") or {}).get(key)
    return (key not in grounding.not_own_values(trial, spec, evidence)
            and not grounding.not_a_rest_speed(value, evidence, key)
            and grounding.fits_description(value, schema, key))


def _calls(text: str) -> list[tuple[str, dict[str, Any], dict[str, tuple[int, int]]]]:
    """Each call the reply writes: its name, its arguments and where each argument's value is
    written (top-level arguments only)."""
    out = []
    for m in _CALL.finditer(text):
        walked = _walk_object(text, m.end())
        if walked is not None:
            out.append((json.loads(f'"{m.group(1)}"'), *walked))
    return out


def _walk_object(text: str, pos: int) -> tuple[dict[str, Any], dict[str, tuple[int, int]]] | None:
    """The members of the JSON object at ``pos`` and the span of each value."""
    values: dict[str, Any] = {}
    spans: dict[str, tuple[int, int]] = {}
    pos = _skip(text, pos + 1)
    if text.startswith("}", pos):
        return values, spans
    while True:
        try:
            key, pos = _DECODER.raw_decode(text, pos)
            pos = _skip(text, pos)
            if not text.startswith(":", pos) or not isinstance(key, str):
                return None
            start = _skip(text, pos + 1)
            value, end = _DECODER.raw_decode(text, start)
        except json.JSONDecodeError:
            return None
        values[key], spans[key] = value, (start, end)
        pos = _skip(text, end)
        if text.startswith("}", pos):
            return values, spans
        if not text.startswith(",", pos):
            return None
        pos = _skip(text, pos + 1)


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


_NONE = object()


def _value(text: str) -> Any:
    try:
        value, end = _DECODER.raw_decode(text)
    except json.JSONDecodeError:
        return _NONE
    return value if not text[end:].strip() else _NONE


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(a) == float(b)
    return a == b
