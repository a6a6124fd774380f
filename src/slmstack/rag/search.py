"""Retrieval over an index: BM25, dense, or both fused by reciprocal rank (RRF)."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import cache
from typing import Any, Literal

from ..errors import UserError
from .embed import Embedder
from .index import Index
from .records import Filters, Hit

Mode = Literal["bm25", "dense", "hybrid"]
MODES: tuple[str, ...] = ("bm25", "dense", "hybrid")
RRF_K = 60  # the constant of Cormack et al. (2009)


def rrf(rankings: Sequence[Sequence[Hit]], k: int, rrf_k: int = RRF_K,
        weights: Sequence[float] | None = None) -> list[Hit]:
    """Fuse ranked lists: score = Σ weight / (rrf_k + rank), each list's weight 1 unless
    ``weights`` says otherwise. Ties keep first-list order."""
    scores: dict[int, float] = {}
    hits: dict[int, Hit] = {}
    for n, ranking in enumerate(rankings):
        weight = 1.0 if weights is None else weights[n]
        for rank, hit in enumerate(ranking, 1):
            scores[hit.chunk_id] = scores.get(hit.chunk_id, 0.0) + weight / (rrf_k + rank)
            hits.setdefault(hit.chunk_id, hit)
    best = sorted(scores, key=lambda cid: -scores[cid])[:k]
    return [replace(hits[cid], score=scores[cid]) for cid in best]


@dataclass
class KnowledgeBase:
    """An index plus the embedder that fills and queries it."""

    index: Index
    embedder: Embedder
    candidates: int = 50  # per retriever, before fusion

    @classmethod
    def open(cls, location: str, embedder: Embedder | None = None, *,
             memory_caches: bool = True, precision: str = "float32",
             cache_dir: str | None = None) -> KnowledgeBase:
        """The index at ``location`` with the embedder whose vectors it holds. Without an
        ``embedder``, an existing index is opened with the one it records and a new index gets
        ``Embedder(precision, cache_dir)``; a given ``embedder`` must match the index's.
        ``memory_caches=False`` for a process that asks a few questions and exits."""
        from .index import open_index

        if embedder is not None:
            return cls(open_index(location, embedder.dim, embedder.name,
                                  memory_caches=memory_caches), embedder)
        index = open_index(location, Embedder.dim, None, memory_caches=memory_caches)
        try:
            name = index.recorded_embedder()
            emb = (Embedder.for_name(name, cache_dir) if name is not None
                   else Embedder(precision=precision, cache_dir=cache_dir))
            index.use_embedder(emb.name)
        except BaseException:
            index.close()
            raise
        return cls(index, emb)

    def search(self, query: str, k: int = 5, mode: Mode | str = "hybrid",
               filters: Filters | None = None) -> list[Hit]:
        if mode not in MODES:
            raise UserError(f"search mode {mode!r} is not one of {', '.join(MODES)}", "pick one")
        if k < 1:
            raise UserError(f"k must be ≥ 1, got {k!r}", "ask for at least one result")
        if mode == "bm25":
            return self.index.search_text(query, k, filters)
        if mode == "dense":
            return self.index.search_vector(self.embedder.query(query), k, filters)
        if getattr(self.index, "concurrent_reads", False):
            # BM25 (SQLite, which releases the GIL) runs while the query is embedded (torch,
            # likewise) and the dense search runs: on two cores the slower leg sets the time
            n = max(self.candidates, k)
            text = _pool().submit(self.index.search_text, query, n, filters)
            dense = self.index.search_vector(self.embedder.query(query), n, filters)
            return rrf([dense, text.result()], k)
        return self.hybrid(query, self.embedder.query(query), k, filters)

    def hybrid(self, query: str, vector: Any, k: int, filters: Filters | None = None) -> list[Hit]:
        n = max(self.candidates, k)
        dense = self.index.search_vector(vector, n, filters)
        text = self.index.search_text(query, n, filters)
        return rrf([dense, text], k)

    def close(self) -> None:
        self.index.close()


@cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=2, thread_name_prefix="kb-bm25")
