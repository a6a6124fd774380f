"""The embedded index: one SQLite file with sqlite-vec (vectors) and FTS5 (BM25).

Python's own ``sqlite3`` is used when it can load extensions; builds without that (pyenv's
default, for one) fall back to ``sqlean`` (sqlean.py: the same DB-API with a bundled SQLite that
loads extensions).

Speed (benchmarks/bench_rag.py): BM25 runs over an in-memory copy of FTS5's postings
(``sparsecache.py``, exact, loaded in the background); until it is loaded, and with filters, BM25
ranks inside FTS5 and joins only the top rows, matching on the query's rarer words while scoring
on all of them (``bm25.py``, exact); dense search runs over an in-memory copy of the vectors
(``densecache.py``, exact); a file-backed index lets hybrid search run its BM25 leg on a second
connection while the query is embedded. A one-shot process (``kb search``, ``ask``) opens the
index with ``memory_caches=False``: the few queries it runs are cheaper on disk than the loads.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import UserError
from . import bm25
from .densecache import DEFAULT_MAX_ROWS, DenseCache
from .index import check_embedder, embedder_record, recorded_name
from .records import Chunk, DocumentMeta, Filters, Hit
from .sparsecache import DEFAULT_MAX_POSTINGS, SparseCache
from .text import terms

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
  id INTEGER PRIMARY KEY, path TEXT UNIQUE NOT NULL, sha256 TEXT NOT NULL, kind TEXT NOT NULL,
  mtime REAL NOT NULL DEFAULT 0, size INTEGER NOT NULL DEFAULT 0, duplicate_of TEXT,
  n_chunks INTEGER NOT NULL DEFAULT 0, meta TEXT NOT NULL DEFAULT '{}', indexed_at REAL);
CREATE INDEX IF NOT EXISTS documents_sha ON documents(sha256);
CREATE TABLE IF NOT EXISTS chunks (
  id INTEGER PRIMARY KEY, doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  ordinal INTEGER NOT NULL, heading TEXT NOT NULL, page INTEGER, text TEXT NOT NULL,
  hash TEXT NOT NULL, UNIQUE(doc_id, ordinal));
CREATE INDEX IF NOT EXISTS chunks_hash ON chunks(hash);
CREATE TABLE IF NOT EXISTS sources (root TEXT PRIMARY KEY, added_at REAL);
CREATE TABLE IF NOT EXISTS kb_meta (key TEXT PRIMARY KEY, value TEXT);
"""
_FTS = f"fts5({', '.join(bm25.COLUMNS)}, tokenize='{bm25.TOKENIZE}')"  # tag: bm25.TAG in every row
_HIT = "c.id, d.path, c.text, c.heading, c.page, c.ordinal, d.kind, d.mtime"


def driver() -> Any:
    """A DB-API ``sqlite3`` module that can load extensions (sqlite-vec)."""
    import sqlite3

    if hasattr(sqlite3.Connection, "enable_load_extension"):
        return sqlite3
    try:
        import sqlean
    except ImportError:
        raise UserError(
            "this Python's sqlite3 cannot load extensions (sqlite-vec) and sqlean.py is missing",
            "pip install sqlean.py (or slmstack[rag]), or use a Python built with "
            "--enable-loadable-sqlite-extensions") from None
    return sqlean


def connect(location: str, timeout: float = 5.0) -> Any:
    """A connection with sqlite-vec loaded."""
    import sqlite_vec

    db = driver().connect(location, isolation_level=None, check_same_thread=False,
                          timeout=timeout)
    db.enable_load_extension(True)
    sqlite_vec.load(db)
    db.enable_load_extension(False)
    return db


class SQLiteIndex:
    def __init__(self, location: str, dim: int = 384,
                 dense_cache_rows: int = DEFAULT_MAX_ROWS, embedder: str | None = None,
                 sparse_cache_postings: int = DEFAULT_MAX_POSTINGS,
                 memory_caches: bool = True) -> None:
        """``memory_caches=False``: search on disk only (sqlite-vec, FTS5), never copying the
        vectors and postings into memory — for a process that asks a few questions and exits,
        where loading them (≈ 1.3 s + 2–3 s per 100k chunks) costs more than it saves."""
        self.location, self.dim, self.embedder = location, dim, embedder
        self._dense = DenseCache(dense_cache_rows)
        self._sparse = SparseCache(connect, sparse_cache_postings)
        self._dense.enabled = self._sparse.enabled = memory_caches
        self._writes = 0  # committed write transactions of this connection (cache key)
        self._df: dict[str, int] = {}  # keyword document frequencies, valid for _df_key
        self._df_rows = 0  # and the row count they are out of
        self._df_key: Any = None
        self._owner = threading.get_ident()
        self._local = threading.local()
        self._readers: list[Any] = []
        if location != ":memory:":
            Path(location).expanduser().parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = connect(str(Path(location).expanduser()) if location != ":memory:"
                              else location)
            self._setup()
        except driver().DatabaseError as exc:
            raise UserError(f"cannot open the index {location!r}: {exc}",
                            "pass --db pointing at a knowledge-base file or a new path") from None

    def _setup(self) -> None:
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.execute("PRAGMA cache_size=-65536")  # 64 MiB of page cache
        self.db.execute("PRAGMA mmap_size=1073741824")  # read pages by mmap, not read()
        self.db.execute("PRAGMA temp_store=MEMORY")
        self.db.executescript(_SCHEMA)
        self._keyword_table()
        self.db.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS chunks_vec USING "
            f"vec0(embedding float[{self.dim}] distance_metric=cosine)"
        )
        row = self.db.execute("SELECT value FROM kb_meta WHERE key='dim'").fetchone()
        if row is None:
            self.db.execute("INSERT INTO kb_meta VALUES ('dim', ?)", (str(self.dim),))
        elif int(row[0]) != self.dim:
            raise UserError(f"index {self.location!r} holds {row[0]}-d vectors, not {self.dim}-d",
                            "use the embedder it was built with, or a new --db")
        self.use_embedder(self.embedder)

    def recorded_embedder(self) -> str | None:
        """The name of the embedder whose vectors the index holds (None: new, unclaimed)."""
        return recorded_name(*embedder_record(self.db, "chunks"))

    def use_embedder(self, name: str | None) -> None:
        """Claim the index for embedder ``name`` (recorded when new); raises when the index
        holds another embedder's vectors."""
        new = check_embedder(self.location, *embedder_record(self.db, "chunks"), name)
        if new is not None:
            self.db.execute("INSERT OR IGNORE INTO kb_meta VALUES ('embedder', ?)", (new,))

    def _keyword_table(self) -> None:
        """Create the FTS5 table, or rebuild one from before the ``tag`` column (one pass over
        the chunks; its rows are the chunks' heading and text, so nothing is lost)."""
        cols = [r[1] for r in self.db.execute("PRAGMA table_info(chunks_fts)")]
        if "tag" in cols:
            return
        with self._tx() as db:
            db.execute(f"CREATE VIRTUAL TABLE chunks_fts_new USING {_FTS}")
            db.execute("INSERT INTO chunks_fts_new (rowid, heading, text, tag)"
                       " SELECT id, heading, text, ? FROM chunks", (bm25.TAG,))
            if cols:
                db.execute("DROP TABLE chunks_fts")
            db.execute("ALTER TABLE chunks_fts_new RENAME TO chunks_fts")

    @property
    def concurrent_reads(self) -> bool:
        """Whether ``search_text`` may run on another thread alongside a dense search (each
        thread reads through its own connection; an in-memory database has only one)."""
        return self.location != ":memory:"

    def _conn(self) -> Any:
        """This thread's read connection: the index's own on the thread that opened it."""
        if threading.get_ident() == self._owner or not self.concurrent_reads:
            return self.db
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = connect(str(Path(self.location).expanduser()))
            db.execute("PRAGMA mmap_size=1073741824")
            self._readers.append(db)
        return db

    def _key(self) -> Any:
        """Changes whenever this file's contents may have: our writes or another connection's."""
        return (self.db.execute("PRAGMA data_version").fetchone()[0], self._writes)

    @contextmanager
    def _tx(self) -> Iterator[Any]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")
        self._writes += 1

    # ---- documents -------------------------------------------------------------------------
    def documents(self) -> dict[str, DocumentMeta]:
        rows = self.db.execute(
            "SELECT path, sha256, kind, mtime, size, duplicate_of, meta FROM documents")
        return {r[0]: DocumentMeta(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6]))
                for r in rows}

    def path_with_hash(self, sha256: str) -> str | None:
        row = self.db.execute(
            "SELECT path FROM documents WHERE sha256=? AND duplicate_of IS NULL LIMIT 1",
            (sha256,)).fetchone()
        return row[0] if row else None

    def vectors_for(self, hashes: list[str]) -> dict[str, Any]:
        import numpy as np

        out: dict[str, Any] = {}
        for i in range(0, len(hashes), 500):
            part = hashes[i : i + 500]
            rows = self.db.execute(
                "SELECT c.hash, v.embedding FROM chunks c JOIN chunks_vec v ON v.rowid = c.id "
                f"WHERE c.hash IN ({','.join('?' * len(part))})", part)
            out.update({h: np.frombuffer(blob, dtype=np.float32) for h, blob in rows})
        return out

    def replace_document(self, doc: DocumentMeta, chunks: list[Chunk], vectors: Any) -> None:
        with self._tx() as db:
            self._delete(db, doc.path)
            cur = db.execute(
                "INSERT INTO documents (path, sha256, kind, mtime, size, duplicate_of, n_chunks,"
                " meta, indexed_at) VALUES (?,?,?,?,?,?,?,?,?)",
                (doc.path, doc.sha256, doc.kind, doc.mtime, doc.size, doc.duplicate_of,
                 len(chunks), json.dumps(doc.meta), time.time()))
            doc_id = cur.lastrowid
            # ids chosen up front (this transaction holds the write lock) so each table is
            # filled with one executemany
            first = db.execute("SELECT coalesce(max(id), 0) + 1 FROM chunks").fetchone()[0]
            ids = range(first, first + len(chunks))
            db.executemany(
                "INSERT INTO chunks (id, doc_id, ordinal, heading, page, text, hash)"
                " VALUES (?,?,?,?,?,?,?)",
                [(i, doc_id, c.ordinal, c.heading, c.page, c.text, c.hash)
                 for i, c in zip(ids, chunks, strict=True)])
            db.executemany("INSERT INTO chunks_fts (rowid, heading, text, tag) VALUES (?,?,?,?)",
                           [(i, c.heading, c.text, bm25.TAG)
                            for i, c in zip(ids, chunks, strict=True)])
            db.executemany("INSERT INTO chunks_vec (rowid, embedding) VALUES (?,?)",
                           [(i, _blob(v)) for i, v in zip(ids, vectors, strict=True)])

    def delete_document(self, path: str) -> None:
        with self._tx() as db:
            self._delete(db, path)

    def touch(self, path: str, mtime: float, size: int) -> None:
        self.db.execute("UPDATE documents SET mtime=?, size=? WHERE path=?", (mtime, size, path))
        self._writes += 1

    @staticmethod
    def _delete(db: Any, path: str) -> None:
        ids = [r[0] for r in db.execute(
            "SELECT c.id FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE d.path=?",
            (path,))]
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            marks = ",".join("?" * len(part))
            db.execute(f"DELETE FROM chunks_fts WHERE rowid IN ({marks})", part)
            db.execute(f"DELETE FROM chunks_vec WHERE rowid IN ({marks})", part)
        db.execute("DELETE FROM documents WHERE path=?", (path,))

    # ---- search ----------------------------------------------------------------------------
    def search_text(self, query: str, k: int, filters: Filters | None = None) -> list[Hit]:
        words = terms(query)
        if filters is None or filters.empty():
            top = self._sparse.top(
                self._key(), words, k, self._conn(),
                str(Path(self.location).expanduser()) if self.concurrent_reads else None)
            if top is None:
                ranked, df, rows = self._keyword_stats(words)
                top = bm25.top_k(ranked, df, rows, k, self._rank) if ranked else []
            scores = dict(top)
            hits = self.get(list(scores))
            for hit in hits:
                hit.score = scores[hit.chunk_id]
            return hits
        ranked, df, rows = self._keyword_stats(words)
        if not ranked:
            return []
        where, args = _where(filters)
        found = self._conn().execute(
            f"SELECT {_HIT}, -bm25(chunks_fts, {bm25.WEIGHTS}) AS s FROM chunks_fts f"
            " JOIN chunks c ON c.id = f.rowid JOIN documents d ON d.id = c.doc_id"
            f" WHERE chunks_fts MATCH ? {where} ORDER BY s DESC LIMIT ?",
            [bm25.any_of(ranked), *args, k])
        return [_hit(r) for r in found]

    def _rank(self, expression: str, k: int) -> list[tuple[int, float]]:
        """FTS5's own top-k for an expression: (rowid, bm25 score), best first, ties by rowid
        (as the in-memory postings order them)."""
        rows = self._conn().execute(
            f"SELECT rowid, -bm25(chunks_fts, {bm25.WEIGHTS}) AS s FROM chunks_fts"
            " WHERE chunks_fts MATCH ? ORDER BY s DESC, rowid LIMIT ?", (expression, k))
        return [(r[0], r[1]) for r in rows]

    def _keyword_stats(self, words: list[str]) -> tuple[list[str], dict[str, int], int]:
        """The query words worth ranking on (``bm25.ranked_words``), their document
        frequencies and the row count; frequencies are cached until the index changes."""
        key = self._key()
        if key != self._df_key:
            self._df_key, self._df = key, {}
            self._df_rows = self._conn().execute("SELECT count(*) FROM chunks").fetchone()[0]
        for w in words:
            if w not in self._df:
                self._df[w] = self._conn().execute(
                    "SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?",
                    (bm25.any_of([w]),)).fetchone()[0]
        return bm25.ranked_words(words, self._df, self._df_rows), self._df, self._df_rows

    def search_vector(self, vector: Any, k: int, filters: Filters | None = None) -> list[Hit]:
        allowed = None
        if filters is not None and not filters.empty():
            where, args = _where(filters)
            allowed = [r[0] for r in self.db.execute(
                "SELECT c.id FROM chunks c JOIN documents d ON d.id = c.doc_id"
                f" WHERE 1 {where}", args)]
        top = self._dense.top(self.db, self._key(), vector, k, allowed)
        if top is None:
            return self._scan_vector(vector, k, filters)
        scores = dict(top)
        hits = self.get(list(scores))
        for hit in hits:
            hit.score = scores[hit.chunk_id]
        return hits

    def _scan_vector(self, vector: Any, k: int, filters: Filters | None = None) -> list[Hit]:
        """sqlite-vec's own scan, for indexes too large to hold in memory."""
        blob = _blob(vector)
        if filters is None or filters.empty():
            rows = self.db.execute(
                f"WITH knn AS (SELECT rowid, distance FROM chunks_vec WHERE embedding MATCH ?"
                f" AND k = ?) SELECT {_HIT}, 1 - knn.distance FROM knn"
                " JOIN chunks c ON c.id = knn.rowid JOIN documents d ON d.id = c.doc_id"
                " ORDER BY knn.distance", (blob, k))
        else:
            where, args = _where(filters)
            rows = self.db.execute(
                f"SELECT {_HIT}, 1 - vec_distance_cosine(v.embedding, ?) AS s FROM chunks_vec v"
                " JOIN chunks c ON c.id = v.rowid JOIN documents d ON d.id = c.doc_id"
                f" WHERE 1 {where} ORDER BY s DESC LIMIT ?", [blob, *args, k])
        return [_hit(r) for r in rows]

    def get(self, chunk_ids: list[int]) -> list[Hit]:
        if not chunk_ids:
            return []
        rows = self._conn().execute(
            f"SELECT {_HIT}, 0 FROM chunks c JOIN documents d ON d.id = c.doc_id"
            f" WHERE c.id IN ({','.join('?' * len(chunk_ids))})", list(chunk_ids))
        by_id = {r[0]: _hit(r) for r in rows}
        return [by_id[i] for i in chunk_ids if i in by_id]

    def neighbours(self, chunk_id: int, before: int = 1, after: int = 1) -> list[Hit]:
        rows = self.db.execute(
            f"SELECT {_HIT}, 0 FROM chunks c JOIN documents d ON d.id = c.doc_id"
            " JOIN chunks me ON me.doc_id = c.doc_id WHERE me.id = ?"
            " AND c.ordinal BETWEEN me.ordinal - ? AND me.ordinal + ? ORDER BY c.ordinal",
            (chunk_id, before, after))
        return [_hit(r) for r in rows]

    # ---- bookkeeping -----------------------------------------------------------------------
    def add_source(self, root: str) -> None:
        self.db.execute("INSERT OR IGNORE INTO sources VALUES (?, ?)", (root, time.time()))

    def sources(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT root FROM sources ORDER BY root")]

    def stats(self) -> dict[str, Any]:
        one = lambda sql: self.db.execute(sql).fetchone()[0]  # noqa: E731
        return {
            "embedder": self.recorded_embedder(),
            "documents": one("SELECT count(*) FROM documents"),
            "chunks": one("SELECT count(*) FROM chunks"),
            "vectors": one("SELECT count(*) FROM chunks_vec"),
            "keyword_rows": one("SELECT count(*) FROM chunks_fts"),
            "orphan_chunks": one("SELECT count(*) FROM chunks WHERE doc_id NOT IN"
                                 " (SELECT id FROM documents)"),
            "count_mismatches": one("SELECT count(*) FROM documents d WHERE n_chunks !="
                                    " (SELECT count(*) FROM chunks c WHERE c.doc_id = d.id)"),
        }

    def close(self) -> None:
        self._dense.clear()
        self._sparse.clear()
        for db in self._readers:
            db.close()
        self.db.close()


def _blob(vector: Any) -> bytes:
    import numpy as np

    return np.asarray(vector, dtype=np.float32).tobytes()


def _where(filters: Filters | None) -> tuple[str, list[Any]]:
    if filters is None:
        return "", []
    sql, args = [], []
    if filters.path:
        sql.append("d.path GLOB ?")
        args.append(filters.path)
    if filters.kinds:
        sql.append(f"d.kind IN ({','.join('?' * len(filters.kinds))})")
        args.extend(filters.kinds)
    if filters.since is not None:
        sql.append("d.mtime >= ?")
        args.append(filters.since)
    if filters.until is not None:
        sql.append("d.mtime <= ?")
        args.append(filters.until)
    return "".join(f" AND {s}" for s in sql), args


def _hit(row: Any) -> Hit:
    return Hit(chunk_id=row[0], path=row[1], text=row[2], heading=row[3], page=row[4],
               ordinal=row[5], kind=row[6], mtime=row[7], score=float(row[8]))
