"""``/v1/embeddings`` with the bundled all-MiniLM-L6-v2 (the shared embedder of slmstack.distill).

The ``openai`` SDK asks for ``encoding_format="base64"`` by default: little-endian float32 bytes,
base64-encoded; ``"float"`` returns plain lists.
"""

from __future__ import annotations

import base64
import threading
from typing import Any

from .errors import GatewayError
from .wire import EmbeddingRequest

MODEL = "all-MiniLM-L6-v2"
NAMES = (MODEL, "slmstack/embed")
DIM = 384


class EmbeddingService:
    def __init__(self, max_inputs: int) -> None:
        self.max_inputs = max_inputs
        self._lock = threading.Lock()  # one encode at a time: the model is not re-entrant

    def texts(self, req: EmbeddingRequest) -> list[str]:
        """The request's inputs as texts, or a 4xx saying what is wrong."""
        if req.model not in NAMES:
            raise GatewayError(404, f"embedding model {req.model!r} is not served here; use "
                               f"{MODEL!r}", param="model", code="model_not_found")
        if req.dimensions not in (None, DIM):
            raise GatewayError(400, f"dimensions={req.dimensions!r}: {MODEL} has {DIM} "
                               "dimensions only", param="dimensions", code="invalid_request")
        texts = [req.input] if isinstance(req.input, str) else req.input
        if not texts or not all(isinstance(t, str) for t in texts):
            what = "no inputs" if not texts else "token ids"
            raise GatewayError(400, f"input has {what}; send a string or a list of strings",
                               param="input", code="invalid_request")
        if len(texts) > self.max_inputs:
            raise GatewayError(400, f"input has {len(texts)} items; at most {self.max_inputs} "
                               "per request (gateway.max_embedding_inputs)", param="input",
                               code="invalid_request")
        return texts  # type: ignore[return-value]

    def embed(self, texts: list[str]) -> tuple[Any, int]:
        """(rows, prompt tokens) — L2-normalised float32 rows, one per text."""
        from ..distill.embed import embed, embedder

        with self._lock:
            rows = embed(texts)
            tokens = sum(len(ids) for ids in embedder().tokenizer(texts)["input_ids"])
        return rows, tokens


def response_json(rows: Any, tokens: int, encoding: str) -> dict[str, Any]:
    import numpy as np

    data = []
    for i, row in enumerate(rows):
        vec = np.asarray(row, dtype="<f4")
        value: Any = (base64.b64encode(vec.tobytes()).decode() if encoding == "base64"
                      else vec.tolist())
        data.append({"object": "embedding", "index": i, "embedding": value})
    return {"object": "list", "data": data, "model": MODEL,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}
