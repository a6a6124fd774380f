"""The transformers backend on CUDA: the tiny Qwen3, plain and grammar-constrained."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from slmstack.config import Settings  # noqa: E402
from slmstack.models.hf import save_tiny_qwen3  # noqa: E402
from slmstack.models.registry import load_model  # noqa: E402

SCHEMA = {
    "type": "object",
    "properties": {
        "count": {"type": "integer", "minimum": 0, "maximum": 100},
        "color": {"type": "string", "enum": ["red", "green", "blue"]},
        "tags": {"type": "array", "items": {"enum": ["a", "b", "c"]}, "maxItems": 3},
    },
    "required": ["count", "color", "tags"],
}


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_tiny_qwen3_on_cuda(tmp_path: Path) -> None:
    folder = save_tiny_qwen3(tmp_path / "tiny-qwen3")
    model = load_model(f"hf:{folder}", Settings())
    assert model.device == "cuda"
    assert next(model.model.parameters()).device.type == "cuda"
    comp = model.complete("Say hello.", max_tokens=24)
    assert isinstance(comp.text, str) and 1 <= comp.usage.output_tokens <= 24
    structured = model.complete("A box.", schema=SCHEMA, max_tokens=64, temperature=1.0)
    jsonschema.validate(structured.parsed, SCHEMA)
