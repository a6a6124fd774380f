"""The fast search paths return what the plain ones do: pruned BM25 = FTS5's full OR query,
the in-memory dense search = sqlite-vec's scan (filters, other writers), an index file from before
the ``tag`` column still opens and searches, and the overlapped hybrid = the sequential one."""

from __future__ import annotations

import numpy as np
import pytest

from slmstack.rag import bm25
from slmstack.rag.index import open_index
from slmstack.rag.records import Chunk, DocumentMeta, Filters
from slmstack.rag.text import content_hash, terms


def zipf_docs(n_docs: int, per_doc: int = 20, seed: int = 0, dim: int = 384):
    """Documents of chunks whose words follow a Zipf law (a few words in most chunks)."""
    rng = np.random.default_rng(seed)
    vocab = [f"w{i}x" for i in range(800)]
    p = 1.0 / np.arange(1, len(vocab) + 1)
    p /= p.sum()
    common = rng.normal(size=dim)  # real embeddings share a direction: close scores, near-ties
    docs = []
    for d in range(n_docs):
        chunks = []
        for j in range(per_doc):
            text = " ".join(rng.choice(vocab, 40, p=p))
            chunks.append(Chunk(text, j, " ".join(rng.choice(vocab, 2, p=p)), None,
                                content_hash(f"{d}/{j}/{text}")))
        vecs = (rng.normal(size=(per_doc, dim)) + 6 * common).astype(np.float32)
        kind = "md" if d % 2 else "txt"
        docs.append((DocumentMeta(f"/z/{kind}/doc{d}.{kind}", f"sha{d}", kind, float(d)),
                     chunks, vecs))
    return docs, vocab, p, rng


def zipf_common(seed: int = 0, dim: int = 384):
    """The shared direction of ``zipf_docs(seed=seed)``'s vectors (its generator's first draw)."""
    return np.random.default_rng(seed).normal(size=dim)


def fill(index, docs) -> None:
    for meta, chunks, vecs in docs:
        index.replace_document(meta, chunks, vecs)


def full_or(index, query: str, k: int) -> list[float]:
    rows = index.db.execute(
        f"SELECT -bm25(chunks_fts, {bm25.WEIGHTS}) AS s FROM chunks_fts WHERE chunks_fts MATCH ?"
        " ORDER BY s DESC LIMIT ?", (bm25.any_of(terms(query)), k))
    return [r[0] for r in rows]


def test_pruned_bm25_ranks_like_the_full_or_query(tmp_path, monkeypatch):
    index = open_index(str(tmp_path / "kb.db"))
    index._sparse.enabled = False  # the FTS5 path (test_sparsecache.py: the in-memory one)
    docs, vocab, p, rng = zipf_docs(150)
    fill(index, docs)
    split = []
    real = bm25.top_k

    def spy(words, df, rows, k, rank):
        return real(words, df, rows, k, lambda e, kk: split.append(" AND " in e) or rank(e, kk))

    monkeypatch.setattr(bm25, "top_k", spy)
    for _ in range(40):
        query = " ".join(rng.choice(vocab, int(rng.integers(3, 9)), p=p))
        got = [h.score for h in index.search_text(query, 20)]
        # words in half the rows or more are dropped: FTS5 gives them idf 1e-6 (< 2.2e-6 a word)
        assert got == pytest.approx(full_or(index, query, 20), abs=1e-5), query
    assert any(split), "no query was ranked on its rarer words only"


@pytest.mark.parametrize("half_rows", [0, 10**9], ids=["float16-then-float32", "float32"])
def test_dense_cache_matches_sqlite_vec_and_sees_other_writers(tmp_path, half_rows):
    path = str(tmp_path / "kb.db")
    index = open_index(path)
    index._dense.half_rows = half_rows
    docs, *_ = zipf_docs(60)
    fill(index, docs[:40])
    q = (np.random.default_rng(1).normal(size=384) + 6 * zipf_common()).astype(np.float32)

    def same(filters=None):
        fast = index.search_vector(q, 15, filters)
        slow = index._scan_vector(q, 15, filters)
        assert [h.chunk_id for h in fast] == [h.chunk_id for h in slow]
        assert [h.score for h in fast] == pytest.approx([h.score for h in slow], abs=1e-5)
        return fast

    assert len(same()) == 15
    only_md = same(Filters(kinds=["md"]))
    assert only_md and {h.kind for h in only_md} == {"md"}
    assert {h.path.split("/")[2] for h in same(Filters(path="/z/txt/*"))} == {"txt"}
    assert all(h.mtime >= 30 for h in same(Filters(since=30.0)))
    other = open_index(path)  # another connection writes; the cache must notice
    fill(other, docs[40:])
    other.close()
    same()
    assert len(index._dense._ids) == 60 * 20
    assert (index._dense._half is not None) == (half_rows == 0)
    index.delete_document(docs[0][0].path)  # and so must our own writes
    same()
    assert len(index._dense._ids) == 59 * 20


def test_index_from_before_the_tag_column_is_rebuilt(tmp_path):
    path = str(tmp_path / "old.db")
    index = open_index(path)
    docs, vocab, p, rng = zipf_docs(10)
    fill(index, docs)
    query = " ".join(vocab[100:104])
    before = [(h.chunk_id, h.score) for h in index.search_text(query, 5)]
    index.db.execute("DROP TABLE chunks_fts")  # the previous layout: heading and text only
    index.db.execute("CREATE VIRTUAL TABLE chunks_fts USING fts5(heading, text,"
                     " tokenize='porter unicode61')")
    index.db.execute("INSERT INTO chunks_fts (rowid, heading, text) SELECT id, heading, text"
                     " FROM chunks")
    index.close()
    again = open_index(path)
    cols = [r[1] for r in again.db.execute("PRAGMA table_info(chunks_fts)")]
    assert cols == ["heading", "text", "tag"]
    assert again.stats()["keyword_rows"] == again.stats()["chunks"] == 200
    assert [(h.chunk_id, h.score) for h in again.search_text(query, 5)] == before


def test_overlapped_hybrid_equals_sequential(docs_kb):
    assert docs_kb.index.concurrent_reads
    for q in ["how do I parse command line options", "pretty print nested data",
              "read a csv file row by row"]:
        seq = docs_kb.hybrid(q, docs_kb.embedder.query(q), 5)
        par = docs_kb.search(q, 5, "hybrid")
        assert [h.chunk_id for h in par] == [h.chunk_id for h in seq]


def test_an_index_opened_without_memory_caches_searches_on_disk_alike(tmp_path):
    # a one-shot command (kb search, ask) loads neither the vectors nor the postings
    path = str(tmp_path / "kb.db")
    docs, vocab, p, rng = zipf_docs(40)
    fill(open_index(path), docs)
    cached, disk = open_index(path), open_index(path, memory_caches=False)
    cached._sparse.background = False  # load before answering, so both paths are compared
    common = zipf_common()
    for _ in range(10):
        query = " ".join(rng.choice(vocab, 4, p=p))
        vector = rng.normal(size=384) + 6 * common
        for a, b in ((cached.search_text(query, 10), disk.search_text(query, 10)),
                     (cached.search_vector(vector, 10), disk.search_vector(vector, 10))):
            assert [h.score for h in a] == pytest.approx([h.score for h in b], abs=1e-4)
            assert {h.chunk_id for h in a[:5]} == {h.chunk_id for h in b[:5]} or (
                a[4].score - a[5].score < 1e-4)  # the same top five, up to a tie at fifth
    assert cached._dense._ids is not None and cached._sparse._postings is not None
    assert disk._dense._ids is None and disk._sparse._postings is None
    assert disk._sparse._loader is None
