"""`slmstack demo`: the embedded model answering, calling a tool, and filling a JSON schema."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.panel import Panel

from .types import Message, ToolSpec

WEATHER = ToolSpec(
    name="get_weather",
    description="Get the current weather for a city.",
    parameters={
        "type": "object",
        "properties": {
            "city": {"type": "string", "description": "City name, e.g. Paris"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        },
        "required": ["city"],
    },
)

PERSON = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer"},
        "city": {"type": "string"},
    },
    "required": ["name", "age", "city"],
    "additionalProperties": False,
}


def run_demo(model: Any, console: Console) -> None:
    console.print(Panel.fit(f"slmstack demo · model [bold]{model.name}[/]"))
    _chat(model, console)
    _tool(model, console)
    _schema(model, console)


def _chat(model: Any, console: Console) -> None:
    q = "What is the capital of France? Answer in one sentence."
    console.print(f"\n[bold]1. chat[/] — {q}")
    for ev in model.stream([Message.user(q)], max_tokens=48):
        console.print(ev.delta, end="", markup=False, highlight=False)
        if ev.completion:
            console.print()
            _cost(console, ev.completion)


def _tool(model: Any, console: Console) -> None:
    q = "What's the weather in Paris right now, in celsius?"
    console.print(f"\n[bold]2. tool call[/] — {q}")
    c = model.complete([Message.user(q)], tools=[WEATHER], tool_choice="auto", max_tokens=64)
    for call in c.tool_calls:
        console.print(f"   → {call.name}({json.dumps(call.arguments)})", markup=False)
    if not c.tool_calls:
        console.print(f"   (no call) {c.text}", markup=False)
    _cost(console, c)


def _schema(model: Any, console: Console) -> None:
    q = "Extract the person: Alice is 31 years old and lives in Lyon."
    console.print(f"\n[bold]3. JSON schema[/] — {q}")
    c = model.complete([Message.user(q)], schema=PERSON, max_tokens=64)
    console.print(f"   → {json.dumps(c.parsed)}", markup=False)
    _cost(console, c)


def _cost(console: Console, c: Any) -> None:
    console.print(
        f"   [dim]{c.usage.input_tokens}→{c.usage.output_tokens} tokens · {c.latency_s:.2f}s · "
        f"${c.cost_usd:.7f}[/]"
    )
