"""Agreement of a candidate's completion with the incumbent's recorded response.

* tool calls: BFCL's AST checker (``slmstack.evals.bfcl``) with the incumbent's calls as the
  answer — same function, same arguments (strings compared after BFCL's standardisation, an int
  accepted for a float, an omitted optional parameter accepted when the incumbent also omitted it
  or gave its default), parallel calls in any order; no call when the incumbent made none;
* structured output: the parsed JSON values are equal;
* text: equal after whitespace normalisation.
"""

from __future__ import annotations

import json
from typing import Any

from ..evals.bfcl import check_calls
from ..store.records import CallRecord
from ..types import Completion, ToolCall, ToolSpec
from .tasks import request_tools, task_kind

_BFCL_TYPES = {"number": "float", "object": "dict", "array": "array", "string": "string",
               "integer": "integer", "boolean": "boolean"}


def response_calls(response: dict[str, Any]) -> list[ToolCall]:
    """Tool calls of a recorded response, in slmstack or OpenAI form."""
    calls = []
    for c in response.get("tool_calls") or []:
        fn = c.get("function", c)
        args = fn.get("arguments") or {}
        calls.append(ToolCall(name=fn["name"], arguments=json.loads(args)
                              if isinstance(args, str) else args))
    return calls


def bfcl_doc(tool: ToolSpec) -> dict[str, Any]:
    """A JSON-Schema tool as the BFCL checker reads function docs (its Python type names)."""
    params = tool.parameters or {}
    props = {name: _bfcl_param(p) for name, p in (params.get("properties") or {}).items()}
    return {"name": tool.name,
            "parameters": {"type": "dict", "properties": props,
                           "required": list(params.get("required") or [])}}


def _bfcl_param(p: dict[str, Any]) -> dict[str, Any]:
    out = dict(p)
    t = p.get("type")
    out["type"] = _BFCL_TYPES.get(t, "unknown") if isinstance(t, str) else "unknown"
    if isinstance(p.get("items"), dict):
        out["items"] = _bfcl_param(p["items"])
    return out


def answer_from_calls(calls: list[ToolCall], tools: list[ToolSpec]) -> list[dict[str, Any]]:
    """The incumbent's calls as BFCL possible answers: ``{name: {param: [allowed...]}}``."""
    by_name = {t.name: t for t in tools}
    return [{c.name: _allowed(c, by_name.get(c.name))} for c in calls]


def _allowed(call: ToolCall, tool: ToolSpec | None) -> dict[str, list[Any]]:
    props = (tool.parameters.get("properties") or {}) if tool else {}
    allowed: dict[str, list[Any]] = {}
    for name, spec in props.items():
        default = spec.get("default", ...)
        if name in call.arguments:
            value = call.arguments[name]
            allowed[name] = [value, ""] if value == default else [value]
        else:
            allowed[name] = ["", default] if default is not ... else [""]
    for name, value in call.arguments.items():  # a parameter the schema does not list
        allowed.setdefault(name, [value])
    return allowed


def tool_agreement(record: CallRecord, comp: Completion) -> bool:
    tools = request_tools(record.request)
    expected = response_calls(record.response)
    if not expected:
        return not comp.tool_calls
    category = "parallel_multiple" if len(expected) > 1 else "multiple"
    docs = [bfcl_doc(t) for t in tools]
    answer = answer_from_calls(expected, tools)
    return check_calls(category, docs, comp.tool_calls, answer).valid


def _norm(text: str | None) -> str:
    return " ".join((text or "").split())


def agreement(record: CallRecord, comp: Completion) -> float:
    """1.0 when the candidate's completion agrees with the recorded one, else 0.0."""
    kind = task_kind(record.request)
    if kind == "tool_call":
        return float(tool_agreement(record, comp))
    if kind == "extract":
        return float(record.response.get("parsed") == comp.parsed and comp.parsed is not None)
    return float(_norm(record.response.get("text")) == _norm(comp.text))
