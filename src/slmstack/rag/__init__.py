"""Knowledge base: ingest files (markitdown → structural chunks), embed (all-MiniLM-L6-v2), index
(SQLite + sqlite-vec + FTS5, or Postgres + pgvector), hybrid search (RRF), grounded answers with
``[source:page]`` citations, and tool retrieval.

    kb = KnowledgeBase.open(".slmstack/kb.db")
    Ingester(kb).add(["docs/"])
    ask("How do I …?", kb, model).text

Names load on first use, so importing ``slmstack.rag`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "Answer": "answer", "answer": "answer", "ask": "ask", "Chunker": "chunk",
    "convert": "convert", "UnreadableFile": "convert", "Embedder": "embed",
    "Index": "index", "open_index": "index", "Ingester": "ingest", "IngestReport": "ingest",
    "Chunk": "records", "DocumentMeta": "records", "Filters": "records", "Hit": "records",
    "Section": "records", "KnowledgeBase": "search", "rrf": "search", "ToolIndex": "toolindex",
    "Passage": "tools", "kb_tools": "tools",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'slmstack.rag' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
