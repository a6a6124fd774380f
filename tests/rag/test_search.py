from __future__ import annotations

import json
import time

import pytest

from slmstack.agent.tools import render
from slmstack.errors import ModelRetry, UserError
from slmstack.rag.index import open_index
from slmstack.rag.ingest import Ingester
from slmstack.rag.records import Filters, Hit
from slmstack.rag.search import KnowledgeBase, rrf
from slmstack.rag.tools import kb_tools


def test_rrf_fuses_ranks():
    a = [Hit(1, "a", ""), Hit(2, "a", ""), Hit(3, "a", "")]
    b = [Hit(3, "a", ""), Hit(4, "a", "")]
    fused = rrf([a, b], 3, rrf_k=60)
    assert [h.chunk_id for h in fused] == [3, 1, 2]
    assert fused[0].score == pytest.approx(1 / 63 + 1 / 61)


def test_rrf_weights_each_ranking():
    a = [Hit(1, "a", ""), Hit(2, "a", "")]
    b = [Hit(2, "a", ""), Hit(1, "a", "")]
    assert [h.chunk_id for h in rrf([a, b], 2, rrf_k=30)] == [1, 2]  # a tie: first list's order
    assert [h.chunk_id for h in rrf([a, b], 2, rrf_k=30, weights=(0.5, 1.0))] == [2, 1]
    assert rrf([a, b], 1, rrf_k=30, weights=(0.5, 1.0))[0].score == pytest.approx(0.5 / 32 + 1 / 31)


def test_hybrid_beats_or_matches_each_retriever_on_pydocqa(docs_kb):
    from slmstack.evals.rag import load_questions, relevant

    cases = [c for c in load_questions(docs_kb_questions(), "all") if c.answerable]
    recall = {}
    for mode in ("bm25", "dense", "hybrid"):
        found = [any(relevant(h, c) for h in docs_kb.search(c.question, 5, mode)) for c in cases]
        recall[mode] = sum(found) / len(found)
    assert recall["hybrid"] >= 0.9  # the bar
    assert recall["hybrid"] >= max(recall["bm25"], recall["dense"]) - 0.03


def docs_kb_questions():
    from .conftest import PYDOCQA

    return PYDOCQA


def test_filters_path_kind_and_date(tmp_path, embedder):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "x.md").write_text("# Pumps\n\nThe pump needs oil monthly.\n")
    (tmp_path / "b" / "y.txt").write_text("The pump in building B needs oil weekly.\n")
    kb = KnowledgeBase(open_index(":memory:"), embedder)
    Ingester(kb).add([tmp_path])
    for mode in ("bm25", "dense", "hybrid"):
        assert {h.source for h in kb.search("pump oil", 5, mode)} == {"x.md", "y.txt"}
        only_b = kb.search("pump oil", 5, mode, Filters(path="*/b/*"))
        assert [h.source for h in only_b] == ["y.txt"]
        assert [h.kind for h in kb.search("pump oil", 5, mode, Filters(kinds=["md"]))] == ["md"]
        assert kb.search("pump oil", 5, mode, Filters(since=time.time() + 3600)) == []
    with pytest.raises(UserError, match="'fuzzy'"):
        kb.search("pump", 5, "fuzzy")


def test_kb_tools_search_read_and_neighbours(docs_kb):
    search, read, neighbours = kb_tools(docs_kb)
    hits = search("pretty print nested data structures with a depth limit", k=3)
    assert len(hits) == 3 and all(h["citation"].startswith("[") for h in hits)
    assert hits[0]["source"] == "pprint.html"
    assert read(hits[0]["chunk_id"]).text == hits[0]["text"]
    around = neighbours(hits[0]["chunk_id"], before=1, after=1)
    assert hits[0]["chunk_id"] in [p["chunk_id"] for p in around] and len(around) >= 2
    assert len({p["source"] for p in around}) == 1
    assert json.loads(render(hits))[0]["chunk_id"] == hits[0]["chunk_id"]  # what the model reads
    with pytest.raises(ModelRetry, match="999999"):
        read(999999)
    with pytest.raises(ModelRetry):
        search("x", k=50)


def test_kb_tools_do_not_repeat_passages_the_model_already_has(docs_kb):
    query = "pretty print nested data structures with a depth limit"
    first = kb_tools(docs_kb)[0](query, k=3)
    shown = {first[0]["chunk_id"]}
    search, read, neighbours = kb_tools(docs_kb, shown=shown)
    again = search(query, k=3)
    assert [h["chunk_id"] for h in again] == [h["chunk_id"] for h in first]
    assert again[0] == {"chunk_id": first[0]["chunk_id"], "citation": first[0]["citation"],
                        "already_shown": True}  # a stub, not the text again
    assert again[1]["text"] == first[1]["text"] and not again[1].get("already_shown")
    assert shown == {h["chunk_id"] for h in first}  # what came back in full is now shown
    assert all(h.get("already_shown") for h in search(query, k=3))
    assert len(render(search(query, k=3))) < len(render(first)) / 4
    assert read(first[0]["chunk_id"]).text == first[0]["text"]  # asked for by id: in full
    around = neighbours(first[1]["chunk_id"], before=1, after=1)
    assert [p.get("already_shown", False) for p in around].count(False) == len(
        [p for p in around if p["chunk_id"] not in {h["chunk_id"] for h in first}])


def test_every_pydocqa_evidence_is_in_a_chunk_of_its_source(docs_kb):
    from slmstack.evals.rag import load_questions
    from slmstack.rag.text import normalise

    rows = docs_kb.index.db.execute(
        "SELECT d.path, c.text FROM chunks c JOIN documents d ON d.id = c.doc_id").fetchall()
    for case in load_questions(docs_kb_questions(), "all"):
        if case.answerable:
            assert any(path.endswith("/" + case.source) and normalise(case.evidence)
                       in normalise(text) for path, text in rows), case.id
