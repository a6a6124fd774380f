"""Exact dense search over an in-memory copy of an SQLite index's vectors.

sqlite-vec's ``vec0`` KNN is a brute-force scan that reads every stored vector through the virtual
table on each query (≈ 80 ms at 100k × 384 on one core here). The same exact top-k is one
matrix-vector product over a matrix kept in memory, so a process that queries an index more than
once loads its vectors once (≈ 1.3 s per 100k rows) and reloads them when the file changes: after
its own writes, and when ``PRAGMA data_version`` says another connection committed. Above
``max_rows`` vectors (memory) it declines and sqlite-vec is used.

The product is memory-bound, so large matrices are scanned in float16 (half the bytes; torch has
the kernel) and only the rows that could be in the top k are rescored in float32: a float16 score
is within ``HALF_ERROR`` of the float32 one (unit vectors; 2⁻¹¹ relative rounding of each factor,
float32 accumulation, a rounded result), so every row within twice that of the k-th best float16
score is a candidate, and the true top k are always among them.
"""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager, nullcontext
from functools import cache
from typing import Any

DEFAULT_MAX_ROWS = 500_000  # 384-d float32 + float16: ≈ 1.1 GB
HALF_ROWS = 20_000  # from this many rows on, scan in float16 first
HALF_ERROR = 2e-3  # ≥ 2⁻¹⁰ + 2⁻¹¹: the float16 score's worst error for unit vectors


class DenseCache:
    def __init__(self, max_rows: int = DEFAULT_MAX_ROWS, half_rows: int = HALF_ROWS) -> None:
        self.max_rows, self.half_rows = max_rows, half_rows
        self.enabled = True  # False: always sqlite-vec's scan (one-shot processes)
        self._key: Any = None
        self._ids: Any = None  # sorted chunk ids
        self._matrix: Any = None  # row i: the L2-normalised vector of chunk _ids[i]
        self._half: Any = None  # the same rows in float16 (a torch tensor), for large matrices
        self._lock = threading.Lock()

    def top(self, db: Any, key: Any, vector: Any, k: int,
            allowed: list[int] | None = None) -> list[tuple[int, float]] | None:
        """The ``k`` (chunk id, cosine similarity) pairs nearest ``vector``, best first, among
        ``allowed`` ids when given; None when the index is too large to hold in memory or
        the cache is disabled."""
        import numpy as np

        if not self.enabled:
            return None
        loaded = self._load(db, key)
        if loaded is None:
            return None
        ids, matrix, half = loaded
        if allowed is not None:
            want = np.unique(np.asarray(allowed, dtype=np.int64))
            rows = np.searchsorted(ids, want).clip(0, max(len(ids) - 1, 0))
            rows = rows[ids[rows] == want] if len(ids) else rows[:0]
            ids, matrix = ids[rows], matrix[rows]
        if len(ids) == 0:
            return []
        q = np.asarray(vector, dtype=np.float32)
        q = q / (float(np.linalg.norm(q)) or 1.0)
        if allowed is None and half is not None and k < len(ids):
            rows = _candidates(half, q, k)
            ids, scores = ids[rows], matrix[rows] @ q
        else:
            with _one_blas_thread():  # a product this size gains nothing from BLAS threads,
                scores = matrix @ q  # which spin against the BM25 leg running beside it
        if k < len(scores):
            best = np.argpartition(-scores, k - 1)[:k]
        else:
            best = np.arange(len(scores))
        best = best[np.lexsort((ids[best], -scores[best]))]
        return [(int(ids[i]), float(scores[i])) for i in best]

    def _load(self, db: Any, key: Any) -> tuple[Any, Any, Any] | None:
        """(ids, float32 rows, float16 rows or None) for ``key``, loading them if it changed;
        None when there are more than ``max_rows``."""
        import numpy as np

        with self._lock:
            if key == self._key:
                return None if self._matrix is None else (self._ids, self._matrix, self._half)
            self._key, self._ids, self._matrix, self._half = key, None, None, None
            if db.execute("SELECT count(*) FROM chunks_vec").fetchone()[0] > self.max_rows:
                return None
            rows = db.execute("SELECT rowid, embedding FROM chunks_vec").fetchall()
            ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            dim = len(rows[0][1]) // 4 if rows else 0
            matrix = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32)
            matrix = matrix.reshape(len(rows), dim)
            order = np.argsort(ids, kind="stable")
            norms = np.linalg.norm(matrix, axis=1, keepdims=True)
            norms[norms == 0] = 1.0
            self._ids, self._matrix = ids[order], (matrix / norms)[order]
            self._half = _half(self._matrix) if len(ids) >= self.half_rows else None
            return self._ids, self._matrix, self._half

    def clear(self) -> None:
        with self._lock:
            self._key, self._ids, self._matrix, self._half = None, None, None, None


def _candidates(half: Any, q: Any, k: int) -> Any:
    """Rows whose float16 score is within 2 × HALF_ERROR of the k-th best float16 score."""
    import numpy as np
    import torch

    approx = (half @ torch.from_numpy(q).half()).float().numpy()
    kth = np.partition(approx, len(approx) - k)[len(approx) - k]
    return np.flatnonzero(approx >= kth - 2 * HALF_ERROR)


def _half(matrix: Any) -> Any:
    try:
        import torch
    except ImportError:  # pragma: no cover - torch comes with sentence-transformers
        return None
    return torch.from_numpy(matrix).half()


@cache
def _blas() -> Any:
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    return ThreadpoolController()


def _one_blas_thread() -> AbstractContextManager[Any]:
    controller = _blas()
    return nullcontext() if controller is None else controller.limit(limits=1, user_api="blas")
