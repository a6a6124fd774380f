"""The Postgres + pgvector backend against a real server (started by the pg_url fixture)."""

from __future__ import annotations

from slmstack.rag.index import open_index
from slmstack.rag.ingest import Ingester
from slmstack.rag.records import Filters
from slmstack.rag.search import KnowledgeBase
from slmstack.rag.toolindex import ToolIndex
from slmstack.types import ToolSpec

from .test_ingest import consistent, write_notes


def test_postgres_backend_same_contract(pg_url, tmp_path, embedder):
    docs = tmp_path / "docs"
    write_notes(docs)
    kb = KnowledgeBase(open_index(pg_url), embedder)
    assert type(kb.index).__name__ == "PgIndex"
    report = Ingester(kb).add([docs])
    assert len(report.added) == 2 and len(report.skipped) == 1
    assert consistent(kb.index.stats())
    for mode in ("bm25", "dense", "hybrid"):
        top = kb.search("which pump needs oil", 2, mode)
        assert top[0].source == "beta.txt", mode
        only_text = kb.search("pump oil", 3, mode, Filters(kinds=["text"]))
        assert [h.source for h in only_text] == ["beta.txt"]
        only_alpha = kb.search("inspect valves", 3, mode, Filters("*alpha*"))
        assert only_alpha and all(h.source == "alpha.md" for h in only_alpha)
    hit = kb.search("alpha valves weekly", 1)[0]
    assert hit.heading == "Alpha > Maintenance"
    assert [h.ordinal for h in kb.index.neighbours(hit.chunk_id, 1, 1)] == [0, 1]
    (docs / "beta.txt").unlink()
    synced = Ingester(kb).sync()
    assert [p.rsplit("/", 1)[-1] for p in synced.removed] == ["beta.txt"]
    assert consistent(kb.index.stats()) and kb.index.stats()["documents"] == 1
    assert kb.index.recorded_embedder() == kb.embedder.name == kb.index.stats()["embedder"]
    reopened = KnowledgeBase.open(pg_url, precision="int8")  # the index's embedder wins
    assert reopened.embedder.name == kb.embedder.name
    reopened.close()

    tools = ToolIndex(kb)
    specs = [ToolSpec(name="get_weather", description="Current weather for a city"),
             ToolSpec(name="send_email", description="Send an email message to a person")]
    assert tools.add(specs) == 2 and tools.add(specs) == 0
    assert [t.name for t in tools.select("is it raining in Paris", k=1)] == ["get_weather"]
    kb.close()
