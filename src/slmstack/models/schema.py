"""JSON-Schema helpers: checking user schemas, validating values, and the tool-call schema
that constrained decoders use so a call's name comes from the tool list and its arguments are
typed by that tool's schema."""

from __future__ import annotations

import json
import math
from functools import lru_cache
from typing import Any

import jsonschema

from ..errors import InvalidSchema
from ..types import ToolSpec


def check_schema(schema: Any) -> dict[str, Any]:
    """Raise InvalidSchema (one line, with what to do) unless ``schema`` is a valid JSON Schema."""
    if hasattr(schema, "model_json_schema"):
        schema = schema.model_json_schema()
    if not isinstance(schema, dict):
        raise InvalidSchema(
            f"schema must be a JSON Schema object, got {type(schema).__name__}: {schema!r:.80}",
            "pass a dict such as {'type': 'object', 'properties': {...}} or a pydantic model class",
        )
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        where = "/".join(str(p) for p in exc.path) or "(root)"
        raise InvalidSchema(
            f"invalid JSON Schema at {where}: {exc.message}",
            "fix the schema; see https://json-schema.org/understanding-json-schema",
        ) from None
    return schema


@lru_cache(maxsize=256)
def _validator(schema_json: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(schema_json))


def validation_errors(value: Any, schema: dict[str, Any]) -> list[str]:
    """Human-readable validation errors (empty when valid)."""
    v = _validator(json.dumps(schema, sort_keys=True))
    out = []
    for err in sorted(v.iter_errors(value), key=lambda e: list(e.path)):
        where = "/".join(str(p) for p in err.path) or "(root)"
        out.append(f"{where}: {err.message}")
    return out


def arguments_schema(tool: ToolSpec) -> dict[str, Any]:
    """The tool's parameter schema, closed (no unknown keys) and with a default object type."""
    params = dict(tool.parameters or {})
    params.setdefault("type", "object")
    params.setdefault("properties", {})
    params.setdefault("additionalProperties", False)
    return params


def call_schema(tool: ToolSpec) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "name": {"const": tool.name},
            "arguments": arguments_schema(tool),
        },
        "required": ["name", "arguments"],
        "additionalProperties": False,
    }


MAX_PARALLEL_CALLS = 8
"""At most this many calls in one turn: a small model that starts repeating calls stops here
instead of running to the token limit."""


def tool_calls_schema(
    tools: list[ToolSpec], *, allow_text: bool, parallel: bool
) -> dict[str, Any]:
    """Schema for a model turn that calls tools.

    Shape: ``{"tool_calls": [{"name": ..., "arguments": {...}}, ...]}``; with ``allow_text`` the
    model may instead answer ``{"content": "..."}`` (tool_choice='auto': declining is allowed).
    """
    calls = [call_schema(t) for t in tools]
    one_call = calls[0] if len(calls) == 1 else {"anyOf": calls}
    array: dict[str, Any] = {
        "type": "array",
        "items": one_call,
        "minItems": 1,
        "maxItems": MAX_PARALLEL_CALLS if parallel else 1,
    }
    call_turn = {
        "type": "object",
        "properties": {"tool_calls": array},
        "required": ["tool_calls"],
        "additionalProperties": False,
    }
    if not allow_text:
        return call_turn
    text_turn = {
        "type": "object",
        "properties": {"content": {"type": "string"}},
        "required": ["content"],
        "additionalProperties": False,
    }
    return {"anyOf": [call_turn, text_turn]}


# ---- schemas for grammar compilers ---------------------------------------------------------------
_ANNOTATIONS = ("description", "title", "examples", "default", "$comment", "deprecated",
                "readOnly", "writeOnly")
_SUBSCHEMA_MAPS = ("properties", "$defs", "definitions", "patternProperties")
_SUBSCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SUBSCHEMA_ONE = ("items", "additionalProperties", "not", "contains")


_ANY_VALUE = {"type": ["string", "number", "boolean", "array", "object", "null"]}


def enum_safe(text: str) -> bool:
    """Whether ``text`` can be an enum literal in a llama.cpp grammar: its JSON-Schema converter
    escapes double quotes and backslashes in enum strings wrongly."""
    return '"' not in text and "\\" not in text


MAX_RANGE_ENUM = 1024
"""An integer range of at most this many values is written out as an enum for the grammar."""


def for_grammar(schema: Any, *, root: bool = True) -> Any:
    """``schema`` without the annotation keywords (description, title, examples, …), which
    constrain nothing. llama.cpp's JSON-Schema-to-grammar converter rejects a property schema
    that holds only annotations (``{"description": …}``) and reads ``{}`` as "an object"; both
    mean "any value", which is spelt out as the union of JSON's types. It also ignores
    ``minimum`` / ``maximum`` on integers, so a bounded integer of at most ``MAX_RANGE_ENUM``
    values becomes the enum of those values (a wider range is checked after decoding)."""
    if not isinstance(schema, dict):
        return schema
    out = {k: v for k, v in schema.items() if k not in _ANNOTATIONS}
    if not out and not root:
        return dict(_ANY_VALUE)
    values = _int_range(out)
    if values is not None:
        return {"enum": values}
    for key in _SUBSCHEMA_MAPS:
        if isinstance(out.get(key), dict):
            out[key] = {k: for_grammar(v, root=False) for k, v in out[key].items()}
    for key in _SUBSCHEMA_LISTS:
        if isinstance(out.get(key), list):
            out[key] = [for_grammar(v, root=False) for v in out[key]]
    for key in _SUBSCHEMA_ONE:
        if isinstance(out.get(key), dict):
            out[key] = for_grammar(out[key], root=False)
    return out


_INT_KEYS = {"type", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"}


def _int_range(schema: dict[str, Any]) -> list[int] | None:
    """The values of ``{"type": "integer"}`` bounded on both sides (inclusive or exclusive
    bounds and ``multipleOf`` respected) when they are at most ``MAX_RANGE_ENUM``."""
    if schema.get("type") != "integer" or set(schema) - _INT_KEYS:
        return None
    lo, hi = _bound(schema, "minimum", "exclusiveMinimum", 1), _bound(
        schema, "maximum", "exclusiveMaximum", -1)
    if lo is None or hi is None or hi - lo + 1 > MAX_RANGE_ENUM:
        return None
    step = schema.get("multipleOf", 1)
    if not isinstance(step, int) or isinstance(step, bool) or step < 1:
        return None
    values = [v for v in range(lo, hi + 1) if v % step == 0]
    return values or None  # an empty range is left for the validator to report


def _bound(schema: dict[str, Any], inclusive: str, exclusive: str, sign: int) -> int | None:
    """The tightest whole-number bound of one side (``sign`` 1: lower, -1: upper)."""
    found = []
    for key, shift in ((inclusive, 0), (exclusive, 1)):
        v = schema.get(key)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            continue
        edge = math.ceil(v) if sign > 0 else math.floor(v)
        if shift and edge == v:
            edge += sign
        found.append(edge)
    if not found:
        return None
    return max(found) if sign > 0 else min(found)
