"""Fixtures for distillation tests: recorded traffic (CallRecords as the gateway writes them)
and a tiny random-weight Qwen3 as the small model to fine-tune."""

from __future__ import annotations

import itertools

import pytest

from slmstack.store.records import CallRecord
from slmstack.types import ToolCall, ToolSpec

WEATHER = ToolSpec(
    name="get_weather",
    description="Current weather for a city.",
    parameters={
        "type": "object",
        "properties": {
            "city": {"type": "string", "description": "city name"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "default": "celsius"},
        },
        "required": ["city"],
    },
)
CURRENCY = ToolSpec(
    name="convert_currency",
    description="Convert an amount between currencies.",
    parameters={
        "type": "object",
        "properties": {
            "amount": {"type": "number"},
            "source": {"type": "string"},
            "target": {"type": "string"},
        },
        "required": ["amount", "source", "target"],
    },
)
CITIES = ["Paris", "Lima", "Oslo", "Cairo", "Tokyo", "Quito", "Perth", "Dakar", "Hanoi", "Riga"]
TOPICS = ["cats", "rain", "trains", "coffee", "mountains", "rivers", "books", "bees"]


def tool_record(i: int, city: str) -> CallRecord:
    call = ToolCall(name="get_weather", arguments={"city": city})
    if i % 2:
        call = ToolCall(name="convert_currency",
                        arguments={"amount": 10 * (i + 1), "source": "EUR", "target": "USD"})
        text = f"Convert {10 * (i + 1)} EUR to USD please."
    else:
        text = f"What's the weather in {city} right now?"
    return CallRecord(
        route="tool_call", model="gguf:/models/teacher.gguf", tier="large",
        request={"messages": [{"role": "user", "content": text}],
                 "tools": [WEATHER.to_openai(), CURRENCY.to_openai()], "tool_choice": "auto",
                 "parallel_tool_calls": False},
        response={"text": None, "tool_calls": [call.model_dump()]},
        input_tokens=150, output_tokens=30, cost_usd=0.0001,
    )


def chat_record(topic: str) -> CallRecord:
    return CallRecord(
        route="chat", model="gguf:/models/teacher.gguf", tier="large",
        request={"messages": [{"role": "user", "content": f"Write one sentence about {topic}."}]},
        response={"text": f"{topic.capitalize()} are wonderful."},
        input_tokens=20, output_tokens=8, cost_usd=0.00002,
    )


def traffic(n_tool: int = 24, n_chat: int = 8) -> list[CallRecord]:
    cities = itertools.cycle(CITIES)
    tools = [tool_record(i, next(cities)) for i in range(n_tool)]
    return tools + [chat_record(TOPICS[i % len(TOPICS)]) for i in range(n_chat)]


@pytest.fixture(scope="session")
def tiny_qwen3(tmp_path_factory):
    """A 2-layer random-weight Qwen3 with the real Qwen3 tokenizer (a folder for hf:)."""
    from slmstack.models.hf import save_tiny_qwen3

    return save_tiny_qwen3(tmp_path_factory.mktemp("tiny") / "tiny-qwen3", layers=2, hidden=64)
