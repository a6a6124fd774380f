"""Fixtures shared across the suite: real models, built or loaded once per session."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def embedded_model():
    """The shipped SmolLM2-135M GGUF through llama.cpp, loaded once (about a second)."""
    from slmstack.models.registry import load_model

    return load_model("embedded:smollm2-135m")
