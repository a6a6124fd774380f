"""LoRA fine-tuning of a tiny random-weight Qwen3 (real transformers + peft, CPU)."""

from __future__ import annotations

import pytest
from conftest import traffic

from slmstack.distill.config import FinetuneConfig
from slmstack.distill.finetune import build_examples, target_text
from slmstack.distill.lora import Checkpoint, add_lora, train
from slmstack.distill.weights import save_plain


@pytest.fixture()
def student(tiny_qwen3):
    from slmstack.models.hf import HFChatModel

    return HFChatModel(tiny_qwen3)


def test_targets_are_what_the_constrained_decoder_emits():
    rec = traffic(2, 0)[1]
    assert target_text(rec) == (
        '{"tool_calls": [{"name": "convert_currency", '
        '"arguments": {"amount": 20, "source": "EUR", "target": "USD"}}]}'
    )


def test_targets_follow_the_key_order_of_llama_cpp_grammars():
    import json

    from llama_cpp.llama_grammar import json_schema_to_gbnf

    from slmstack.distill.finetune import ordered

    schema = {"type": "object", "additionalProperties": False, "required": ["city"],
              "properties": {"unit": {"type": "string"}, "city": {"type": "string"}}}
    root = next(line for line in json_schema_to_gbnf(json.dumps(schema)).splitlines()
                if line.startswith("root ::="))
    grammar_order = sorted(["unit", "city"], key=lambda k: root.index(f"{k}-kv"))
    value = {"unit": "celsius", "city": "Oslo"}
    assert list(ordered(value, schema, required_first=True)) == grammar_order
    assert list(ordered(value, schema)) == ["unit", "city"]  # schema order (xgrammar)


def test_examples_render_through_the_serving_template(student):
    examples = build_examples(student, traffic(4, 0), max_len=2048)
    assert len(examples) == 4
    text = student.tokenizer.decode(examples[0].ids[: examples[0].n_prompt])
    assert "get_weather" in text and "Paris" in text  # the tool prompt of the hf: backend
    assert student.tokenizer.decode(examples[0].ids[examples[0].n_prompt :]).startswith(
        '{"tool_calls"')
    assert build_examples(student, traffic(4, 0), max_len=20) == []  # too long: skipped


def test_lora_learns_and_resumes_exactly(student, tmp_path):
    import torch

    examples = build_examples(student, traffic(4, 0), max_len=2048)
    cfg = FinetuneConfig(max_steps=12, batch_size=2, lr=3e-3, save_every=6, seed=1)
    torch.manual_seed(0)  # LoRA's A matrices start random
    straight = train(add_lora(student.model, cfg), examples, cfg, pad_id=0)
    assert straight.losses[-1] < straight.losses[0] - 0.3  # it moves toward the targets

    from slmstack.models.hf import HFChatModel

    fresh = HFChatModel(student.path)
    ckpt = Checkpoint(tmp_path / "ckpt.pt")

    class Killed(Exception):
        pass

    def kill_at_6(step: int, steps: int, loss: float) -> None:
        if step == 6:
            raise Killed
    torch.manual_seed(0)
    first = add_lora(fresh.model, cfg)
    with pytest.raises(Killed):
        train(first, examples, cfg, pad_id=0, checkpoint=ckpt, on_step=kill_at_6)
    again = HFChatModel(student.path)
    resumed = train(add_lora(again.model, cfg), examples, cfg, pad_id=0, checkpoint=ckpt)
    assert resumed.resumed_from == 6 and resumed.steps == 12
    assert resumed.losses[:6] == straight.losses[:6]
    assert resumed.losses[-1] == pytest.approx(straight.losses[-1], rel=1e-3, abs=1e-3)
    assert torch.isfinite(torch.tensor(resumed.losses)).all()


def test_merged_export_serves_through_hf_backend(student, tmp_path):
    import torch

    from slmstack.models.registry import load_model

    examples = build_examples(student, traffic(2, 0), max_len=2048)
    cfg = FinetuneConfig(max_steps=4, batch_size=2, lr=1e-2)
    model = add_lora(student.model, cfg)
    train(model, examples, cfg, pad_id=0)
    ids = torch.tensor([examples[0].ids])
    with torch.no_grad():
        expected = model(input_ids=ids).logits
    save_plain(model.merge_and_unload(), student.tokenizer, tmp_path / "tiny-qwen3-student")
    served = load_model(f"hf:{tmp_path / 'tiny-qwen3-student'}")
    with torch.no_grad():
        got = served.model(input_ids=ids).logits
    assert torch.allclose(got, expected, atol=1e-4)
    assert served.complete("hi", max_tokens=4).usage.output_tokens >= 1


def test_validation_keeps_the_best_adapter(student):
    import torch

    examples = build_examples(student, traffic(4, 0), max_len=2048)
    ids = torch.tensor([examples[0].ids])
    with torch.no_grad():
        base = student.model(input_ids=ids).logits
    # no fall of the validation loss counts as progress (min_delta): training stops after
    # `patience` measurements and the model ends as the base it was at step 0
    cfg = FinetuneConfig(max_steps=8, batch_size=2, lr=3e-3, eval_every=2, patience=2,
                         min_delta=100.0, seed=1)
    torch.manual_seed(0)
    model = add_lora(student.model, cfg)
    stats = train(model, examples, cfg, pad_id=0, val=examples[:2])
    assert stats.stopped_early and stats.best_step == 0 and stats.steps == 4
    assert [s for s, _ in stats.val_losses] == [0, 2, 4] and len(stats.losses) == 4
    with torch.no_grad():
        assert torch.allclose(model(input_ids=ids).logits, base, atol=1e-5)


def test_validation_loss_falls_when_training_helps(tiny_qwen3):
    import torch

    from slmstack.models.hf import HFChatModel

    student = HFChatModel(tiny_qwen3)
    examples = build_examples(student, traffic(4, 0), max_len=2048)
    cfg = FinetuneConfig(max_steps=12, batch_size=2, lr=3e-3, eval_every=4, seed=1)
    torch.manual_seed(0)
    stats = train(add_lora(student.model, cfg), examples, cfg, pad_id=0, val=examples)
    assert not stats.stopped_early and stats.best_step == 12
    assert stats.val_losses[-1][1] < stats.val_losses[0][1] - 0.3
