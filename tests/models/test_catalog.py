"""The model catalog: built-in families, user overrides, lookup by id, prices."""

from __future__ import annotations

import pytest

from slmstack.errors import ConfigError
from slmstack.models.catalog import Catalog
from slmstack.types import Usage

FAMILIES = ["qwen3.5-0.8b", "qwen3.5-2b", "qwen3.5-4b", "qwen3.5-9b", "qwen3-0.6b", "smollm2-135m",
            "gemma-4-e2b", "phi-4", "phi-4-mini", "llama-3.2-1b", "gpt-oss-20b"]


def test_builtin_knows_the_families():
    cat = Catalog.builtin()
    assert set(FAMILIES) <= set(cat.entries)
    for p in cat.entries.values():
        assert p.context_length >= 2048, p.name
        assert p.price_in >= 0 and p.price_out >= 0


def test_lookup_by_file_name_prefers_longest_match():
    cat = Catalog.builtin()
    prof = cat.lookup("SmolLM2-135M-Instruct.Q4_1.gguf")
    assert "smollm2" in prof.name
    assert prof.context_length == 8192
    unknown = cat.lookup("my-own-model")
    assert unknown.name == "my-own-model"  # unknown ids get a neutral profile, not an error


def test_user_models_add_and_override():
    cat = Catalog.builtin().with_user_models(
        {
            "acme-7b": {"match": ["acme"], "context_length": 32768, "price_in": 0.1,
                        "price_out": 0.2, "tier": "large"},
            "smollm2-135m": {"price_in": 9.0},
        }
    )
    acme = cat.lookup("/srv/models/ACME-7B-q4.gguf")
    assert (acme.name, acme.context_length, acme.tier) == ("acme-7b", 32768, "large")
    assert acme.cost(Usage(input_tokens=1_000_000, output_tokens=500_000)) == pytest.approx(0.2)
    small = cat.entries["smollm2-135m"]
    assert small.price_in == 9.0 and small.context_length == 8192  # other keys kept


def test_user_model_with_unknown_key_is_rejected():
    with pytest.raises(ConfigError, match="contxt_length"):
        Catalog.builtin().with_user_models({"x": {"contxt_length": 5}})
