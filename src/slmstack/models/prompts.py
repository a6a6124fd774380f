"""How tools and output schemas are shown to a model that does not take them natively.

The wording lives in data files (``slmstack/prompts/*.txt``), not in code strings.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from ..types import Message, ToolChoice, ToolSpec
from .catalog import ModelProfile


@cache
def template(name: str) -> str:
    return resources.files("slmstack").joinpath(f"prompts/{name}.txt").read_text("utf-8")


def describe_tool(tool: ToolSpec) -> str:
    """A compact, signature-like rendering small models follow better than raw JSON Schema."""
    props = tool.parameters.get("properties", {}) or {}
    required = set(tool.parameters.get("required", []) or [])
    lines = [f"- {tool.name}: {tool.description.strip()}"]
    for pname, p in props.items():
        kind = _type_text(p)
        need = "required" if pname in required else "optional"
        desc = (p.get("description") or "").strip()
        extra = ""
        if "enum" in p:
            extra = f" One of {json.dumps(p['enum'])}."
        if "default" in p:
            extra += f" Default {json.dumps(p['default'])}."
        lines.append(f"    {pname} ({kind}, {need}): {desc}{extra}")
    return "\n".join(lines)


def _type_text(p: dict[str, Any]) -> str:
    t = p.get("type", "any")
    if isinstance(t, list):
        return " or ".join(map(str, t))
    if t == "array":
        return f"array of {_type_text(p.get('items', {}))}"
    return str(t)


def with_tool_prompt(
    messages: list[Message],
    tools: list[ToolSpec],
    tool_choice: ToolChoice,
    parallel: bool = False,
) -> list[Message]:
    """``messages`` with the tool list and the reply format in the system message. ``parallel``:
    the reply may hold several calls (said, with its shape, so small models use it)."""
    tool_text = "\n".join(describe_tool(t) for t in tools)
    kind = tool_choice if tool_choice in ("auto", "required") else "named"
    rule = template(f"tool_choice_{kind}").format(name=tool_choice).strip()
    if parallel and kind != "named":
        rule += "\n" + template("tool_parallel").format().strip()
    block = template("tools").format(tools=tool_text, rule=rule)
    return _merge_system(messages, block)


def with_no_tools_rule(messages: list[Message]) -> list[Message]:
    """tool_choice="none" after tool turns: answer in words, not with another call."""
    return _merge_system(messages, template("tool_choice_none").strip())


def with_schema_prompt(messages: list[Message], schema: dict[str, Any]) -> list[Message]:
    block = template("schema").format(schema=json.dumps(schema, ensure_ascii=False))
    return _merge_system(messages, block)


def _merge_system(messages: list[Message], block: str) -> list[Message]:
    if messages and messages[0].role == "system" and messages[0].content:
        first = Message.system(messages[0].content.rstrip() + "\n\n" + block)
        return [first, *messages[1:]]
    return [Message.system(block), *messages]


def fold_tool_turns(messages: list[Message], profile: ModelProfile) -> list[Message]:
    """For chat templates without a tool role: show tool calls and results as plain turns."""
    if profile.supports_tool_role or profile.native_tools:
        return list(messages)
    out: list[Message] = []
    for m in messages:
        if m.role == "tool":
            out.append(Message.user(template("tool_result").format(
                name=m.name or "tool", id=m.tool_call_id, content=m.content
            ).rstrip()))
        elif m.role == "assistant" and m.tool_calls:
            calls = [{"name": c.name, "arguments": c.arguments} for c in m.tool_calls]
            text = json.dumps({"tool_calls": calls}, ensure_ascii=False)
            out.append(Message.assistant((m.content + "\n" if m.content else "") + text))
        else:
            out.append(m)
    return out
