"""The fine-tuned student as a GGUF file: llama.cpp must compute what transformers computes."""

from __future__ import annotations

import numpy as np
import pytest

from slmstack.distill.config import FinetuneConfig
from slmstack.distill.finetune import _lora_modules
from slmstack.distill.gguf_export import export_gguf
from slmstack.distill.lora import add_lora
from slmstack.distill.weights import materialize
from slmstack.errors import UserError

TEXT = "The capital of France is Paris. The capital of Spain is"


@pytest.fixture(scope="module")
def student(tiny_llama_gguf, tmp_path_factory):
    """transformers' reading of the GGUF, with a large random LoRA update merged in."""
    import torch

    from slmstack.models.hf import HFChatModel

    folder = materialize(f"gguf:{tiny_llama_gguf}", tmp_path_factory.mktemp("m") / "tiny-base")
    hf = HFChatModel(folder)
    model = add_lora(hf.model, FinetuneConfig(rank=4, alpha=8))
    torch.manual_seed(0)
    for name, p in model.named_parameters():
        if "lora_B" in name:
            p.data.normal_(0, 0.1)
    touched = _lora_modules(model)
    merged = model.merge_and_unload()
    state = merged.state_dict()
    weights = {f"{n}.weight": state[f"{n}.weight"].float().numpy() for n in touched}
    ids = hf.tokenizer(TEXT, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        logits = merged(input_ids=torch.tensor([ids])).logits[0].float().numpy()
    return weights, ids, logits


def _llama_logits(path, ids):
    import llama_cpp

    llm = llama_cpp.Llama(model_path=str(path), n_ctx=128, n_threads=1, logits_all=True,
                          verbose=False)
    llm.eval(ids)
    return np.array(llm.scores[: len(ids)])


@pytest.mark.parametrize(("qtype", "tolerance"), [("f32", 0.05), ("q8_0", 0.25)])
def test_llama_cpp_runs_the_merged_student(student, tiny_llama_gguf, tmp_path, qtype, tolerance):
    weights, ids, expected = student
    out = tmp_path / f"tiny-student-{qtype}.gguf"
    info = export_gguf(tiny_llama_gguf, out, weights, qtype=qtype)
    assert info["replaced"] == len(weights) == 14  # 2 layers × 7 linear layers
    assert info["layouts"] == {"as-is": 10, "rope-permuted": 4}  # q and k of each layer
    got = _llama_logits(out, ids)
    base = _llama_logits(tiny_llama_gguf, ids)
    err, moved = np.abs(got - expected).mean(), np.abs(base - expected).mean()
    # llama.cpp computes the student, not the base: up to llama.cpp's own arithmetic in f32,
    # plus Q8_0 rounding of the changed weights
    assert err < tolerance * moved, (err, moved)


def test_weights_of_another_model_are_refused(student, tiny_llama_gguf, tmp_path):
    weights, _, _ = student
    name = next(n for n in weights if "v_proj" in n)
    wrong = {name: np.random.default_rng(1).normal(0, 5, weights[name].shape)}
    with pytest.raises(UserError, match="matches the base in no known layout"):
        export_gguf(tiny_llama_gguf, tmp_path / "x.gguf", wrong)
    with pytest.raises(UserError, match="no counterpart"):
        export_gguf(tiny_llama_gguf, tmp_path / "x.gguf", {"lm_head.bogus.weight": wrong[name]})
    assert not (tmp_path / "x.gguf").exists()
