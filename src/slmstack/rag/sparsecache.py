"""Exact BM25 over an in-memory copy of an SQLite index's FTS5 postings.

FTS5 ranks a query word by word through its on-disk doclists and calls ``bm25()`` on each
matching row (≈ 20 ms at 100k chunks even with ``bm25.py``'s pruning). The same scores are a few
vectorised sums over postings held in memory, so a process that queries an index more than once
keeps, per token, the rows holding it in a matched column (``heading`` or ``text``) with their
weighted frequency, plus every row's token count, and computes what
``bm25(chunks_fts, 2.0, 1.0, 0.0)`` gives for ``bm25.any_of(words)``, FTS5's fts5_aux.c formula:

    score = Σ_phrases idf · f·(k1+1) / (f + k1·(1 − b + b·D/avgdl))

with f the phrase's weighted hits in the row, D the row's tokens in all columns, avgdl the mean
of D, and idf = log((N − n + 0.5)/(n + 0.5)) floored at 1e-6 (n: rows the phrase matches).
Each query word is one phrase even when two stem alike, as in FTS5.

Tokens come from FTS5 itself, never another stemmer: postings from an ``fts5vocab`` instance
table over ``chunks_fts``, and a query word's token from an in-memory FTS5 table with the same
tokenizer. A word that is not exactly one token (``foo_bar`` is two) is left to FTS5.

Loading reads every token instance (≈ 2–3 s per 100k chunks), so it runs on a thread of its own,
through its own connection, and until it is done for the index's current state (the key of
``SQLiteIndex._key``: our writes, other connections' commits) queries take the FTS5 path; an
in-memory database, which has only one connection, is loaded on the spot. Above
``max_postings`` (memory: 8 bytes each) the cache declines and FTS5 is used.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from . import bm25

DEFAULT_MAX_POSTINGS = 40_000_000  # (row, frequency) pairs, int32 + float32: ≈ 320 MB
BATCH = 1 << 20  # token instances parsed at a time while loading (bounds the load's memory)

# one row per token: its instances as "rowid·3 + column" (0 heading, 1 text, 2 tag), in
# the vocabulary's order (term, rowid, column, offset); GROUP BY term is that order, no sort
_INSTANCES = (
    "SELECT term, group_concat(doc * 3 + CASE col WHEN ? THEN 0 WHEN ? THEN 1 ELSE 2 END)"
    " FROM temp.slm_instances GROUP BY term")


@dataclass
class Postings:
    """One state of the index: per token (``terms`` → j), rows[indptr[j]:indptr[j+1]] are the
    rows (indexes into ``ids``) that hold it in a matched column, with weighted frequencies."""

    ids: Any  # int64 rowids, ascending
    norm: Any  # float64 per row: k1·(1 − b + b·D/avgdl), FTS5's operations in FTS5's order
    terms: dict[str, int]
    indptr: Any  # int64
    rows: Any  # int32
    freq: Any  # float32 (sums of the weights 2 and 1: exact)

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.ids, self.norm, self.indptr, self.rows, self.freq))


class SparseCache:
    def __init__(self, connect: Callable[[str], Any],
                 max_postings: int = DEFAULT_MAX_POSTINGS) -> None:
        self.connect, self.max_postings = connect, max_postings
        self.enabled = True  # False: always the FTS5 path (benchmarks, tests)
        self.background = True  # False: load on the caller's connection, before answering
        self.load_seconds = 0.0  # how long the last completed load took
        self._key: Any = None  # the state _postings holds (None in _postings: declined)
        self._postings: Postings | None = None
        self._want: Any = None  # the state a running loader should load
        self._loader: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stems: dict[str, tuple[str, ...]] = {}
        self._stem_db: Any = None
        self._stem_lock = threading.Lock()

    def top(self, key: Any, words: Sequence[str], k: int, db: Any,
            location: str | None) -> list[tuple[int, float]] | None:
        """FTS5's top ``k`` (rowid, score) for ``bm25.any_of(words)``, best first (ties by
        rowid); None when the caller should ask FTS5: not loaded yet for ``key``, too large,
        disabled, or a word that is not one token. ``location`` is the index file the
        background loader opens (None: an in-memory index, loaded on ``db``)."""
        if not self.enabled:
            return None
        postings = self._get(key, db, location)
        if postings is None:
            return None
        tokens = self.tokens(words)
        if any(len(t) != 1 for t in tokens):
            return None
        return score(postings, [t[0] for t in tokens], k)

    def _get(self, key: Any, db: Any, location: str | None) -> Postings | None:
        with self._lock:
            if key == self._key:
                return self._postings
            if location is None or not self.background:
                self._key, self._postings, self._want = key, None, None
                self._postings = self._timed_read(db)
                return self._postings
            self._want = key
            if self._loader is None:
                self._loader = threading.Thread(target=self._load, args=(location,),
                                                name="kb-bm25-load", daemon=True)
                self._loader.start()
            return None

    def _load(self, location: str) -> None:
        """Load the wanted state until what was read is still the wanted one (a write during
        a load makes it load again)."""
        while True:
            with self._lock:
                key = self._want
                if key is None:  # cleared
                    self._loader = None
                    return
            try:
                db = self.connect(location)
                try:
                    db.execute("PRAGMA mmap_size=1073741824")
                    postings = self._timed_read(db)
                finally:
                    db.close()
            except Exception:  # noqa: BLE001 - e.g. the file went away: FTS5 answers (and
                postings = None  # fails loudly if it must) until the index changes again
            with self._lock:
                if self._want == key:
                    # the reading connection began after the key was taken, so it saw that
                    # state or a later one; a later one changes the key, and this is unused
                    self._key, self._postings, self._want, self._loader = key, postings, None, None
                    return

    def _timed_read(self, db: Any) -> Postings | None:
        t0 = time.perf_counter()
        postings = read(db, self.max_postings)
        self.load_seconds = time.perf_counter() - t0
        return postings

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a running load; True when none is left running."""
        loader = self._loader
        if loader is not None:
            loader.join(timeout)
        return self._loader is None

    def tokens(self, words: Sequence[str]) -> list[tuple[str, ...]]:
        """Each word's tokens as ``chunks_fts``'s tokenizer makes them (memoised)."""
        missing = [w for w in dict.fromkeys(words) if w not in self._stems]
        if missing:
            with self._stem_lock:
                if self._stem_db is None:
                    self._stem_db = self.connect(":memory:")
                    self._stem_db.execute(
                        f"CREATE VIRTUAL TABLE stem USING fts5(w, tokenize='{bm25.TOKENIZE}')")
                    self._stem_db.execute(
                        "CREATE VIRTUAL TABLE stem_v USING fts5vocab(stem, instance)")
                db = self._stem_db
                db.execute("DELETE FROM stem")
                db.executemany("INSERT INTO stem (rowid, w) VALUES (?, ?)", enumerate(missing))
                got: dict[int, list[str]] = {i: [] for i in range(len(missing))}
                for doc, term in db.execute("SELECT doc, term FROM stem_v ORDER BY doc, offset"):
                    got[doc].append(term)
                if len(self._stems) > 100_000:  # query words are unbounded; keep memory so
                    self._stems.clear()
                self._stems.update({w: tuple(got[i]) for i, w in enumerate(missing)})
        return [self._stems[w] for w in words]

    def clear(self) -> None:
        with self._lock:
            self._key, self._postings, self._want = None, None, None
        with self._stem_lock:
            if self._stem_db is not None:
                self._stem_db.close()
            self._stem_db, self._stems = None, {}


def read(db: Any, max_postings: int) -> Postings | None:
    """The postings of ``chunks_fts`` as ``db`` sees them, in one read transaction; None when
    there are more than ``max_postings``."""
    import numpy as np

    # any_of's {heading text} are the columns of positive weight, so a row matches a token
    # iff the token's weighted frequency in it is positive
    weight = np.array(bm25.WEIGHT, dtype=np.float64)
    db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.slm_instances"
               " USING fts5vocab(main, chunks_fts, instance)")
    db.execute("BEGIN")  # the row ids and the postings from one snapshot
    try:
        ids = np.fromiter((r[0] for r in db.execute(
            "SELECT rowid FROM chunks_fts ORDER BY rowid")), dtype=np.int64)
        tokens = np.zeros(len(ids), dtype=np.float64)  # D: tokens per row, all columns
        terms: dict[str, int] = {}
        parts: list[tuple[Any, Any, Any]] = []  # (term index, row, frequency) per batch
        kept = 0
        batch: list[str] = []
        lengths: list[int] = []

        def flush() -> None:
            nonlocal kept
            packed = np.fromstring(",".join(batch), dtype=np.int64, sep=",")
            first_term = len(terms) - len(batch)
            term = np.repeat(np.arange(first_term, len(terms), dtype=np.int64), lengths)
            rowid = packed // 3
            col = packed - 3 * rowid
            same_term = term[1:] == term[:-1]
            if np.any(same_term & (rowid[1:] < rowid[:-1])):  # not the documented order
                order = np.lexsort((rowid, term))
                term, rowid, col = term[order], rowid[order], col[order]
                same_term = term[1:] == term[:-1]
            start = np.flatnonzero(np.r_[True, ~same_term | (rowid[1:] != rowid[:-1])])
            row = np.searchsorted(ids, rowid[start])
            count = np.diff(np.r_[start, len(packed)])
            tokens[:] += np.bincount(row, weights=count, minlength=len(ids))
            freq = np.add.reduceat(weight[col], start)
            keep = freq > 0  # rows holding the token only in ``tag`` do not match
            parts.append((term[start][keep], row[keep].astype(np.int32),
                          freq[keep].astype(np.float32)))
            kept += int(keep.sum())
            batch.clear()
            lengths.clear()

        size = 0
        for term_text, packed_text in db.execute(_INSTANCES, bm25.COLUMNS[:2]):
            terms[term_text] = len(terms)
            batch.append(packed_text)
            lengths.append(packed_text.count(",") + 1)
            size += lengths[-1]
            if size >= BATCH:
                flush()
                size = 0
                if kept > max_postings:
                    return None
        if batch:
            flush()
        if kept > max_postings:
            return None
    finally:
        db.execute("COMMIT")
    term_of = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.int64)
    indptr = np.zeros(len(terms) + 1, dtype=np.int64)
    np.cumsum(np.bincount(term_of, minlength=len(terms)), out=indptr[1:])
    avgdl = float(tokens.sum()) / float(len(ids)) if len(ids) else 1.0
    return Postings(
        ids=ids, norm=bm25.K1 * (1 - bm25.B + bm25.B * tokens / avgdl), terms=terms,
        indptr=indptr,
        rows=np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, np.int32),
        freq=np.concatenate([p[2] for p in parts]) if parts else np.zeros(0, np.float32))


def score(p: Postings, tokens: Sequence[str], k: int) -> list[tuple[int, float]]:
    """The top ``k`` rows for one phrase per token, best first, ties by rowid."""
    import numpy as np

    rows, parts = [], []
    for token in tokens:  # phrase by phrase, as FTS5 adds them up
        j = p.terms.get(token)
        if j is None:
            continue
        lo, hi = int(p.indptr[j]), int(p.indptr[j + 1])
        if lo == hi:
            continue
        r, f = p.rows[lo:hi], p.freq[lo:hi].astype(np.float64)
        idf = bm25.idf(hi - lo, len(p.ids))
        parts.append(idf * ((f * (bm25.K1 + 1.0)) / (f + p.norm[r])))
        rows.append(r)
    if not rows:
        return []
    # bincount adds each row's terms in input order, starting from 0.0: FTS5's sum, bit for bit
    scores = np.bincount(np.concatenate(rows), weights=np.concatenate(parts),
                         minlength=len(p.ids))
    hit = np.flatnonzero(scores)  # a matching row scores > 0 (idf ≥ 1e-6, f > 0)
    got = scores[hit]
    if len(hit) > k:  # every row tied with the k-th best competes on rowid
        kth = np.partition(got, len(got) - k)[len(got) - k]
        keep = got >= kth
        hit, got = hit[keep], got[keep]
    order = np.lexsort((p.ids[hit], -got))[:k]
    return [(int(p.ids[hit[i]]), float(got[i])) for i in order]
