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


def write_tiny_llama_gguf(path, *, hidden: int = 64, ff: int = 128, layers: int = 2,
                          heads: int = 4, kv_heads: int = 2, seed: int = 0):
    """A tiny random-weight llama GGUF written straight in llama.cpp's layout (Q8_0 matrices),
    with the real SmolLM2 tokenizer and chat template copied from the embedded model's file."""
    import gguf
    import numpy as np

    from slmstack.models.files import smollm2_gguf

    src = gguf.GGUFReader(str(smollm2_gguf()))
    w = gguf.GGUFWriter(str(path), arch="llama")
    w.add_block_count(layers)
    w.add_context_length(1024)
    w.add_embedding_length(hidden)
    w.add_feed_forward_length(ff)
    w.add_head_count(heads)
    w.add_head_count_kv(kv_heads)
    w.add_rope_dimension_count(hidden // heads)
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(1e-5)
    for f in src.fields.values():
        if f.name.startswith("tokenizer."):
            kind = f.types[0]
            sub = f.types[-1] if kind == gguf.GGUFValueType.ARRAY else None
            w.add_key_value(f.name, f.contents(), kind, sub_type=sub)
    vocab = len(src.get_field("tokenizer.ggml.tokens").data)
    rng = np.random.default_rng(seed)
    q8 = gguf.GGMLQuantizationType.Q8_0

    def matrix(name: str, rows: int, cols: int, std: float) -> None:
        data = rng.normal(0, std, (rows, cols)).astype(np.float32)
        w.add_tensor(name, gguf.quants.quantize(data, q8), raw_dtype=q8)

    matrix("token_embd.weight", vocab, hidden, 1.0)
    w.add_tensor("output_norm.weight", np.ones(hidden, dtype=np.float32))
    head = hidden // heads
    for i in range(layers):
        w.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(hidden, dtype=np.float32))
        w.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(hidden, dtype=np.float32))
        matrix(f"blk.{i}.attn_q.weight", hidden, hidden, 0.5)  # large: attention matters
        matrix(f"blk.{i}.attn_k.weight", kv_heads * head, hidden, 0.5)
        matrix(f"blk.{i}.attn_v.weight", kv_heads * head, hidden, 0.2)
        matrix(f"blk.{i}.attn_output.weight", hidden, hidden, 0.2)
        matrix(f"blk.{i}.ffn_gate.weight", ff, hidden, 0.2)
        matrix(f"blk.{i}.ffn_up.weight", ff, hidden, 0.2)
        matrix(f"blk.{i}.ffn_down.weight", hidden, ff, 0.2)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


@pytest.fixture(scope="session")
def tiny_llama_gguf(tmp_path_factory):
    """A tiny llama GGUF (real tokenizer, random weights): a real model for the GGUF paths."""
    return write_tiny_llama_gguf(tmp_path_factory.mktemp("gguf") / "tiny-llama.gguf")
