"""The fine-tuning path on a GPU (skipped without CUDA): bf16 weights, LoRA on the device."""

from __future__ import annotations

import pytest
from conftest import traffic

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def test_lora_trains_on_cuda(tiny_qwen3):
    from slmstack.distill.config import FinetuneConfig
    from slmstack.distill.finetune import build_examples
    from slmstack.distill.lora import add_lora, train
    from slmstack.models.hf import HFChatModel

    student = HFChatModel(tiny_qwen3)
    assert student.device.startswith("cuda")
    examples = build_examples(student, traffic(4, 0), max_len=2048)
    cfg = FinetuneConfig(max_steps=12, batch_size=2, lr=3e-3)
    model = add_lora(student.model, cfg)
    stats = train(model, examples, cfg, pad_id=0)
    assert next(model.parameters()).is_cuda
    assert stats.losses[-1] < stats.losses[0]
