"""Tool retrieval: tool descriptions live in the same index as documents (kind ``tool``, path
``tool:<name>``, the spec kept as metadata), so an agent with hundreds of tools offers the model
only the few that fit the task.

A request that asks for several things ("convert 10 dollars to euros and then deposit them")
is searched whole and also part by part (``tooldocs.aspects``), and the rankings are interleaved:
the whole request's best tool, then each part's best, then the second bests, and so on. Ranked
whole, such a request fills the top places with near-duplicates of the tool for its most
prominent part; interleaved, each part gets a place. Parts are taken most confident first (the
best cosine of their dense search; the best BM25 score in ``bm25`` mode). A part whose best
cosine is under ``MIN_PART_COSINE`` ("Can you assist me with these?", "Imagine you are planning a
cozy evening at home.") matches no tool: it gets no place of its own, which would go to the
nearest tool of a pleasantry.

Tools are fused with BM25 at ``TOOL_BM25_WEIGHT`` and ``TOOL_RRF_K``: a tool document is short
and its words are the parameters' as much as the task's, so the words' ranking counts less than
for passages. Chosen on the even-numbered BFCL queries of ``bench_rag_bfcl_tools.py`` and checked
on the odd ones (hybrid Recall@5 even 0.938 → 0.950, odd 0.928 → 0.932; all 0.933 → 0.941).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ..errors import UserError
from ..types import ToolSpec
from .ingest import Ingester
from .records import Chunk, DocumentMeta, Filters, Hit
from .search import MODES, KnowledgeBase, Mode, rrf
from .text import content_hash
from .tooldocs import aspects, tool_text, tool_words

__all__ = ["TOOL_KIND", "ToolIndex", "aspects", "interleave", "tool_text", "tool_words"]

TOOL_KIND = "tool"
_TOOLS = Filters(kinds=[TOOL_KIND])
MIN_PART_COSINE = 0.4  # all-MiniLM-L6-v2 cosine of a part's best tool, below which it has none
TOOL_BM25_WEIGHT = 0.7  # the BM25 ranking's weight in the fusion (the dense ranking's is 1)
TOOL_RRF_K = 30


class ToolIndex:
    """Add ``ToolSpec``s to a knowledge base; ``select`` returns the relevant few, best first."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb

    def add(self, specs: Iterable[ToolSpec]) -> int:
        """Index (or re-index, when changed) each tool; returns how many were (re)written."""
        docs = self.kb.index.documents()
        todo = []
        for spec in specs:
            heading, text = tool_words(spec.name), tool_text(spec)
            sha = content_hash(spec.model_dump_json())
            path = f"tool:{spec.name}"
            if path in docs and docs[path].sha256 == sha:
                continue
            meta = DocumentMeta(path, sha, TOOL_KIND, meta={"spec": spec.model_dump()})
            todo.append((meta, [Chunk(text, 0, heading, None, content_hash(f"{heading}\n{text}"))]))
        Ingester(self.kb).write_many(todo)
        return len(todo)

    def remove(self, name: str) -> None:
        self.kb.index.delete_document(f"tool:{name}")

    def specs(self) -> dict[str, ToolSpec]:
        return {p[5:]: ToolSpec.model_validate(d.meta["spec"])
                for p, d in self.kb.index.documents().items() if d.kind == TOOL_KIND}

    def select(self, task: str, k: int = 5, mode: Mode | str = "hybrid") -> list[ToolSpec]:
        """The ``k`` tools most related to ``task``."""
        names = self.rank(task, k, mode)
        specs = self.specs()
        return [specs[n] for n in names if n in specs]

    def rank(self, task: str, k: int = 5, mode: Mode | str = "hybrid", *,
             vector: Any = None, split: bool = True) -> list[str]:
        """Tool names, best first: the whole task's ranking interleaved with each of its parts'
        (see the module's docstring; ``split=False`` ranks the whole task only). ``vector``: the
        task's embedding, when already computed."""
        if mode not in MODES:
            raise UserError(f"search mode {mode!r} is not one of {', '.join(MODES)}", "pick one")
        if k < 1:
            raise UserError(f"k must be ≥ 1, got {k!r}", "ask for at least one result")
        texts = [task, *(aspects(task) if split else [])]
        vectors: list[Any] = [None] * len(texts)
        if mode != "bm25":
            todo = texts[1:] if vector is not None else texts
            fresh = list(self.kb.embedder.encode(todo)) if todo else []
            vectors = ([vector] if vector is not None else []) + fresh
        (whole, _), *parts = [self._search(t, v, k, mode)
                              for t, v in zip(texts, vectors, strict=True)]
        if mode != "bm25":
            parts = [p for p in parts if p[1] >= MIN_PART_COSINE]
        parts.sort(key=lambda part: -part[1])
        return interleave([whole, *(names for names, _ in parts)], k)

    def _search(self, text: str, vector: Any, k: int, mode: str) -> tuple[list[str], float]:
        """One text's ranking (tool names) and how confident its best match is."""
        n = max(self.kb.candidates, k) if mode == "hybrid" else k
        dense = self.kb.index.search_vector(vector, n, _TOOLS) if mode != "bm25" else []
        words = self.kb.index.search_text(text, n, _TOOLS) if mode != "dense" else []
        hits: list[Hit] = (rrf([dense, words], k, TOOL_RRF_K, (1.0, TOOL_BM25_WEIGHT))
                           if mode == "hybrid" else dense or words)
        best = (dense or words or [Hit(0, "", "")])[0].score
        return [h.path[5:] for h in hits], best


def interleave(rankings: Sequence[Sequence[str]], k: int) -> list[str]:
    """Round robin over ``rankings``: every first choice, then every second, … (no repeats)."""
    out: dict[str, None] = {}
    for place in range(max((len(r) for r in rankings), default=0)):
        for ranking in rankings:
            if place < len(ranking):
                out.setdefault(ranking[place])
        if len(out) >= k:
            break
    return list(out)[:k]
