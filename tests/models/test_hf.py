"""The transformers backend on a tiny random-weight Qwen3 with the real Qwen3 tokenizer.

Real inference, no mocks. Random weights make free text garbage, so unconstrained calls are checked
for structure only; constrained calls must still produce valid JSON, which proves the grammar mask
(not the model) shapes the output.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from slmstack.config import Settings  # noqa: E402
from slmstack.errors import ModelNotFound, UserError  # noqa: E402
from slmstack.models.hf import HFChatModel, _Text, save_tiny_qwen3  # noqa: E402
from slmstack.models.registry import load_model  # noqa: E402
from slmstack.types import Message, ToolCall, ToolSpec  # noqa: E402

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "count": {"type": "integer", "minimum": 0, "maximum": 100},
        "color": {"type": "string", "enum": ["red", "green", "blue"]},
        "tags": {"type": "array", "items": {"enum": ["a", "b", "c"]}, "maxItems": 3},
    },
    "required": ["count", "color", "tags"],
}

TOOLS = [
    ToolSpec(
        name="get_weather",
        description="Weather forecast for a city.",
        parameters={
            "type": "object",
            "properties": {
                "city": {"type": "string", "enum": ["Paris", "Oslo", "Lima"]},
                "days": {"type": "integer", "minimum": 1, "maximum": 7},
            },
            "required": ["city", "days"],
        },
    ),
    ToolSpec(
        name="get_time",
        description="Current time in a time zone.",
        parameters={
            "type": "object",
            "properties": {"zone": {"type": "string", "enum": ["UTC", "CET"]}},
            "required": ["zone"],
        },
    ),
]


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_qwen3(tmp_path_factory.mktemp("hf") / "tiny-qwen3")


@pytest.fixture(scope="module")
def model(tiny_dir: Path) -> HFChatModel:
    return load_model(f"hf:{tiny_dir}", Settings())


def _check_call(call: ToolCall) -> ToolSpec:
    spec = {t.name: t for t in TOOLS}[call.name]
    jsonschema.validate(call.arguments, spec.parameters)
    return spec


def test_profile_declares_engine_capabilities(model: HFChatModel, tiny_dir: Path) -> None:
    assert isinstance(model, HFChatModel)
    assert model.name == f"hf:{tiny_dir}"
    assert model.device in ("cpu", "cuda")
    assert model.profile.can_constrain  # xgrammar is installed here
    assert model.profile.supports_tool_role and not model.profile.native_tools


def test_render_uses_template_without_thinking_and_with_tool_role(model: HFChatModel) -> None:
    call = ToolCall(name="get_time", arguments={"zone": "UTC"})
    text = model.render(
        [
            Message.user("time?"),
            Message.assistant(tool_calls=[call]),
            Message.tool("12:00", call.id, name="get_time"),
        ]
    )
    assert "<tool_response>\n12:00\n</tool_response>" in text
    assert text.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")


def test_plain_completion_has_text_usage_latency_cost(model: HFChatModel) -> None:
    comp = model.complete("Say hello.", max_tokens=24)
    assert isinstance(comp.text, str)
    assert comp.usage.input_tokens > 5
    assert 1 <= comp.usage.output_tokens <= 24
    assert comp.latency_s > 0 and comp.cost_usd >= 0
    assert comp.finish_reason in ("stop", "length")
    assert comp.model == model.name


def test_sampling_honours_max_tokens(model: HFChatModel) -> None:
    comp = model.complete("Tell me a story.", max_tokens=6, temperature=1.5)
    assert comp.usage.output_tokens <= 6
    assert isinstance(comp.text, str)


@pytest.mark.parametrize("temperature", [0.0, 1.0])
def test_schema_constrained_output_validates(model: HFChatModel, temperature: float) -> None:
    comp = model.complete("Describe a box.", schema=SCHEMA, max_tokens=64, temperature=temperature)
    jsonschema.validate(comp.parsed, SCHEMA)
    assert json.loads(comp.raw_text or "") == comp.parsed  # valid as emitted, not repaired
    assert comp.repairs == []
    assert comp.finish_reason == "stop"


def test_tool_choice_required_gives_valid_call(model: HFChatModel) -> None:
    comp = model.complete(
        "Weather in Oslo?",
        tools=TOOLS,
        tool_choice="required",
        parallel_tool_calls=False,
        max_tokens=64,
    )
    assert len(comp.tool_calls) == 1
    _check_call(comp.tool_calls[0])
    assert comp.finish_reason == "tool_calls"


def test_named_tool_choice_calls_that_tool(model: HFChatModel) -> None:
    comp = model.complete(
        "What time is it?",
        tools=TOOLS,
        tool_choice="get_time",
        parallel_tool_calls=False,
        max_tokens=64,
    )
    assert [c.name for c in comp.tool_calls] == ["get_time"]
    _check_call(comp.tool_calls[0])


def test_tool_choice_none_gives_text(model: HFChatModel) -> None:
    comp = model.complete("Hi", tools=TOOLS, tool_choice="none", max_tokens=16)
    assert comp.tool_calls == []
    assert isinstance(comp.text, str)


def test_stream_deltas_join_to_the_final_text(model: HFChatModel) -> None:
    events = list(model.stream("Count to ten.", max_tokens=24, temperature=1.0))
    deltas = [e.delta for e in events if e.completion is None]
    final = events[-1].completion
    assert final is not None and deltas and all(deltas)
    assert "".join(deltas) == final.text
    assert 1 <= final.usage.output_tokens <= 24


def test_stream_with_schema_ends_in_valid_json(model: HFChatModel) -> None:
    events = list(model.stream("A box.", schema=SCHEMA, max_tokens=64))
    final = events[-1].completion
    assert final is not None
    jsonschema.validate(final.parsed, SCHEMA)


def test_stop_strings_cut_text_and_hold_back_prefixes(model: HFChatModel) -> None:
    tok = model.tokenizer
    ids = tok("alpha beta STOP gamma", add_special_tokens=False)["input_ids"]
    cut = _Text(tok, ["STOP"])
    deltas = [cut.push(i) for i in ids if not cut.stopped]
    assert cut.stopped and "".join(deltas) == cut.text == "alpha beta "
    kept = _Text(tok, ["STOPPED"])
    deltas = [kept.push(i) for i in ids] + [kept.flush()]
    assert not kept.stopped and "".join(deltas) == kept.text == "alpha beta STOP gamma"


def test_stop_strings_end_generation(model: HFChatModel) -> None:
    free = model.complete("Say hello.", max_tokens=12, temperature=0)
    assert free.text
    comp = model.complete("Say hello.", max_tokens=12, temperature=0, stop=[free.text[-1]])
    assert free.text.startswith(comp.text or "")
    assert len(comp.text or "") < len(free.text)
    assert comp.finish_reason == "stop"


def test_missing_model_folder_is_a_one_line_error() -> None:
    with pytest.raises(ModelNotFound) as err:
        load_model("hf:/no/such/model-dir", Settings())
    assert "/no/such/model-dir" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(ModelNotFound):
        load_model("hf:", Settings())


def test_missing_adapter_folder_is_a_one_line_error(tiny_dir: Path) -> None:
    with pytest.raises(UserError) as err:
        load_model(f"hf:{tiny_dir}+/no/such/adapter", Settings())
    assert "/no/such/adapter" in str(err.value) and "\n" not in str(err.value)


@pytest.mark.filterwarnings("ignore::FutureWarning")  # raised inside peft
def test_lora_adapter_loads_and_changes_weights(tiny_dir: Path, tmp_path: Path) -> None:
    peft = pytest.importorskip("peft")
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(str(tiny_dir))
    config = peft.LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    peft.get_peft_model(base, config).save_pretrained(str(tmp_path / "adapter"))
    tuned = load_model(f"hf:{tiny_dir}+{tmp_path / 'adapter'}", Settings())
    plain = AutoModelForCausalLM.from_pretrained(str(tiny_dir))
    q_tuned = tuned.model.model.layers[0].self_attn.q_proj.weight
    q_plain = plain.model.layers[0].self_attn.q_proj.weight
    assert not q_tuned.cpu().equal(q_plain)
    comp = tuned.complete("Hi", max_tokens=8)
    assert comp.usage.output_tokens >= 1
