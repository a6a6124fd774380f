"""The in-memory BM25 postings rank exactly as FTS5's full OR query does (ids, ties by rowid, and
scores), follow writes and other connections, and hand over to the FTS5 path (same results) when
a word is not one token, the cache is still loading, or the index is too large."""

from __future__ import annotations

import numpy as np
import pytest

from slmstack.rag import bm25
from slmstack.rag.index import open_index
from slmstack.rag.records import Chunk, DocumentMeta
from slmstack.rag.text import content_hash, terms

from .test_fast_search import fill, zipf_docs

# real words, so that porter stemming is exercised: run/running/runs/runner share the token
# "run"; "chapterhead" is only ever in headings; "zzzabsent" is nowhere
EXTRA = [("Running fast", "the runner runs and keeps running w5x w40x"),
         ("chapterhead one", "running w3x w3x w700x"),
         ("chapterhead two", "run run run w1x"),
         ("", "runs w2x w2x w2x w2x connection connected connecting")]


def extra_doc(n: int = 0):
    chunks = [Chunk(text, j, heading, None, content_hash(f"extra{n}/{j}/{text}"))
              for j, (heading, text) in enumerate(EXTRA)]
    vecs = np.random.default_rng(n).normal(size=(len(chunks), 384)).astype(np.float32)
    return DocumentMeta(f"/z/extra{n}.md", f"extra{n}", "md", 0.0), chunks, vecs


def full_or(index, query: str, k: int) -> list[tuple[int, float]]:
    """FTS5's own ranking of the full OR query, ties by rowid."""
    rows = index.db.execute(
        f"SELECT rowid, -bm25(chunks_fts, {bm25.WEIGHTS}) AS s FROM chunks_fts"
        " WHERE chunks_fts MATCH ? ORDER BY s DESC, rowid LIMIT ?",
        (bm25.any_of(terms(query)), k))
    return [(r[0], r[1]) for r in rows]


def same(got: list[tuple[int, float]], want: list[tuple[int, float]], rel: float = 1e-9) -> None:
    assert [i for i, _ in got] == [i for i, _ in want]
    assert [s for _, s in got] == pytest.approx([s for _, s in want], rel=rel, abs=0)


def at_floor(index, query: str) -> bool:
    """Whether a word of ``query`` is in half the rows or more (FTS5's idf floor)."""
    rows = index.stats()["keyword_rows"]
    return any(index.db.execute("SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?",
                                (bm25.any_of([w]),)).fetchone()[0] >= rows / 2
               for w in terms(query))


def cached(index, query: str, k: int) -> list[tuple[int, float]]:
    hits = index.search_text(query, k)
    return [(h.chunk_id, h.score) for h in hits]


@pytest.fixture
def no_fts5(monkeypatch):
    """Fails a test whose search_text would take the FTS5 path."""
    def fail(*args, **kwargs):
        raise AssertionError("the FTS5 path was taken")

    monkeypatch.setattr(bm25, "top_k", fail)


QUERIES = ["run running runs", "runner", "chapterhead w3x", "zzzabsent", "zzzabsent w700x",
           "w0x", "w0x w1x", "w0x w1x w2x w3x w4x", "connecting connection",
           "Running w5x chapterhead zzzabsent", "w799x"]


@pytest.mark.parametrize("location", ["memory", "file"])
def test_cache_ranks_like_the_full_or_query(tmp_path, location, no_fts5):
    index = open_index(":memory:" if location == "memory" else str(tmp_path / "kb.db"))
    index._sparse.background = False  # a file index is loaded in the background otherwise
    docs, vocab, p, rng = zipf_docs(80)
    fill(index, [*docs, extra_doc()])
    assert at_floor(index, "w0x")
    queries = QUERIES + [" ".join(rng.choice(vocab, int(rng.integers(1, 9)), p=p))
                         for _ in range(150)]
    for query in queries:
        for k in (1, 7, 50):
            got, want = cached(index, query, k), full_or(index, query, k)
            same(got, want)
    assert index._sparse.tokens(["running", "runs", "run"]) == [("run",)] * 3
    assert full_or(index, "chapterhead", 3)  # the headings-only word does match
    assert cached(index, "zzzabsent", 5) == []
    # the tag column's token is in every row but never matched ("all" is also a stopword)
    assert index._sparse.top(index._key(), [bm25.TAG], 5, index.db, None) == []


def test_cache_follows_writes_and_other_connections(tmp_path, no_fts5):
    path = str(tmp_path / "kb.db")
    index = open_index(path)
    index._sparse.background = False
    docs, vocab, p, rng = zipf_docs(30)
    fill(index, docs[:20])
    query = "run running w3x w700x"

    def check():
        for q in [query, *(" ".join(rng.choice(vocab, 5, p=p)) for _ in range(20))]:
            same(cached(index, q, 10), full_or(index, q, 10))

    check()
    assert not any(i > 400 for i, _ in cached(index, "runner chapterhead", 10))
    other = open_index(path)  # another connection commits; the cache must notice
    fill(other, [*docs[20:], extra_doc()])
    other.close()
    check()
    new = {i for i, _ in cached(index, "runner chapterhead", 10)}
    assert new and all(i > 600 for i in new)  # the extra document's chunks, found
    assert len(index._sparse._postings.ids) == 30 * 20 + len(EXTRA)
    index.delete_document("/z/extra0.md")  # and so must our own writes
    check()
    assert cached(index, "runner chapterhead", 10) == []
    assert len(index._sparse._postings.ids) == 30 * 20


def test_fts5_path_while_loading_and_for_other_words(tmp_path, monkeypatch):
    index = open_index(str(tmp_path / "kb.db"))
    docs, vocab, p, rng = zipf_docs(40)
    fill(index, [*docs, extra_doc()])
    tail = p[20:] / p[20:].sum()  # words below the idf floor, for the queries FTS5 ranks exactly
    queries = ["run running w3x w700x", "chapterhead w5x w40x w41x",
               *(" ".join(rng.choice(vocab, int(rng.integers(1, 8)), p=p)) for _ in range(10)),
               *(" ".join(rng.choice(vocab[20:], int(rng.integers(1, 8)), p=tail))
                 for _ in range(10))]
    used = []
    real = bm25.top_k
    monkeypatch.setattr(bm25, "top_k", lambda *a: used.append(1) or real(*a))

    # the first query starts the background load and is answered by FTS5
    first = cached(index, queries[0], 10)
    assert used and index._sparse.wait(30)
    assert index._sparse._postings is not None and index._sparse.load_seconds > 0
    exact = 0
    for q in queries:
        index._sparse.enabled = False
        slow = cached(index, q, 10)
        index._sparse.enabled = True
        used.clear()
        fast = cached(index, q, 10)
        assert not used, q
        same(fast, full_or(index, q, 10))
        if at_floor(index, q):  # the FTS5 path leaves these words out (≤ 2.2e-6 a word)
            assert [s for _, s in fast] == pytest.approx([s for _, s in slow], abs=1e-5), q
        else:
            same(fast, slow)
            exact += 1
        if q == queries[0]:
            assert first == slow  # while loading: the FTS5 path
    assert exact >= 5
    # a word FTS5 splits into two tokens: FTS5 answers, and its own full OR query agrees
    for q in ["w3x_w700x run", "chapter_head w5x"]:
        used.clear()
        got = cached(index, q, 10)
        assert used, q
        assert [s for _, s in got] == pytest.approx([s for _, s in full_or(index, q, 10)],
                                                    abs=1e-5)
    assert index._sparse.tokens(["w3x_w700x"]) == [("w3x", "w700x")]


def test_too_many_postings_declines(tmp_path, monkeypatch):
    index = open_index(str(tmp_path / "kb.db"))
    index._sparse.background, index._sparse.max_postings = False, 100
    docs, *_ = zipf_docs(5)
    fill(index, docs)
    used = []
    real = bm25.top_k
    monkeypatch.setattr(bm25, "top_k", lambda *a: used.append(1) or real(*a))
    got = cached(index, "w3x w9x w20x", 10)
    assert used and index._sparse._postings is None
    assert [s for _, s in got] == pytest.approx([s for _, s in full_or(index, "w3x w9x w20x",
                                                                      10)], abs=1e-5)
