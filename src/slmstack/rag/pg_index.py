"""The scale-out index: Postgres with pgvector (HNSW, cosine) and full-text search (tsvector,
``ts_rank_cd``), behind the same interface as the SQLite index."""

from __future__ import annotations

import json
import time
from typing import Any

from ..errors import BackendUnavailable, UserError
from .index import check_embedder, embedder_record, recorded_name
from .records import Chunk, DocumentMeta, Filters, Hit
from .text import terms

_HIT = "c.id, d.path, c.text, c.heading, c.page, c.ordinal, d.kind, d.mtime"


def _schema(dim: int) -> list[str]:
    return [
        "CREATE EXTENSION IF NOT EXISTS vector",
        """CREATE TABLE IF NOT EXISTS kb_documents (
          id BIGSERIAL PRIMARY KEY, path TEXT UNIQUE NOT NULL, sha256 TEXT NOT NULL,
          kind TEXT NOT NULL, mtime DOUBLE PRECISION NOT NULL DEFAULT 0,
          size BIGINT NOT NULL DEFAULT 0, duplicate_of TEXT, n_chunks INT NOT NULL DEFAULT 0,
          meta JSONB NOT NULL DEFAULT '{}', indexed_at DOUBLE PRECISION)""",
        "CREATE INDEX IF NOT EXISTS kb_documents_sha ON kb_documents(sha256)",
        f"""CREATE TABLE IF NOT EXISTS kb_chunks (
          id BIGSERIAL PRIMARY KEY,
          doc_id BIGINT NOT NULL REFERENCES kb_documents(id) ON DELETE CASCADE,
          ordinal INT NOT NULL, heading TEXT NOT NULL, page INT, text TEXT NOT NULL,
          hash TEXT NOT NULL, embedding vector({dim}) NOT NULL,
          tsv tsvector GENERATED ALWAYS AS
            (setweight(to_tsvector('english', heading), 'A') ||
             to_tsvector('english', text)) STORED,
          UNIQUE (doc_id, ordinal))""",
        "CREATE INDEX IF NOT EXISTS kb_chunks_hash ON kb_chunks(hash)",
        "CREATE INDEX IF NOT EXISTS kb_chunks_tsv ON kb_chunks USING gin(tsv)",
        "CREATE INDEX IF NOT EXISTS kb_chunks_vec ON kb_chunks"
        " USING hnsw (embedding vector_cosine_ops)",
        "CREATE TABLE IF NOT EXISTS kb_sources (root TEXT PRIMARY KEY,"
        " added_at DOUBLE PRECISION)",
    ]


class PgIndex:
    def __init__(self, url: str, dim: int = 384, embedder: str | None = None) -> None:
        import psycopg
        from pgvector.psycopg import register_vector

        self.location, self.dim = url, dim
        try:
            self.db = psycopg.connect(url, autocommit=True)
        except psycopg.OperationalError as exc:
            raise BackendUnavailable(f"cannot connect to Postgres at {url!r}: {exc}",
                                     "start the server or fix the URL") from None
        for sql in _schema(dim):
            self.db.execute(sql)
        register_vector(self.db)
        self._check_dim()
        self.db.execute("CREATE TABLE IF NOT EXISTS kb_meta (key TEXT PRIMARY KEY, value TEXT)")
        self.use_embedder(embedder)

    def recorded_embedder(self) -> str | None:
        """The name of the embedder whose vectors the index holds (None: new, unclaimed)."""
        return recorded_name(*embedder_record(self.db, "kb_chunks"))

    def use_embedder(self, name: str | None) -> None:
        """Claim the index for embedder ``name`` (recorded when new); raises when the index
        holds another embedder's vectors."""
        new = check_embedder(self.location, *embedder_record(self.db, "kb_chunks"), name)
        if new is not None:
            self.db.execute("INSERT INTO kb_meta VALUES ('embedder', %s) ON CONFLICT DO NOTHING",
                            (new,))

    def _check_dim(self) -> None:
        row = self.db.execute(
            "SELECT atttypmod FROM pg_attribute WHERE attrelid = 'kb_chunks'::regclass"
            " AND attname = 'embedding'").fetchone()
        if row and row[0] != self.dim:
            raise UserError(f"index {self.location!r} holds {row[0]}-d vectors, not {self.dim}-d",
                            "use the embedder it was built with, or another database")

    # ---- documents -------------------------------------------------------------------------
    def documents(self) -> dict[str, DocumentMeta]:
        rows = self.db.execute(
            "SELECT path, sha256, kind, mtime, size, duplicate_of, meta FROM kb_documents")
        return {r[0]: DocumentMeta(r[0], r[1], r[2], r[3], r[4], r[5], r[6]) for r in rows}

    def path_with_hash(self, sha256: str) -> str | None:
        row = self.db.execute("SELECT path FROM kb_documents WHERE sha256 = %s AND duplicate_of"
                              " IS NULL LIMIT 1", (sha256,)).fetchone()
        return row[0] if row else None

    def vectors_for(self, hashes: list[str]) -> dict[str, Any]:
        import numpy as np

        rows = self.db.execute("SELECT hash, embedding FROM kb_chunks WHERE hash = ANY(%s)",
                               (hashes,))
        return {h: np.asarray(v, dtype=np.float32) for h, v in rows}

    def replace_document(self, doc: DocumentMeta, chunks: list[Chunk], vectors: Any) -> None:
        import numpy as np

        with self.db.transaction():
            self.db.execute("DELETE FROM kb_documents WHERE path = %s", (doc.path,))
            doc_id = self.db.execute(
                "INSERT INTO kb_documents (path, sha256, kind, mtime, size, duplicate_of,"
                " n_chunks, meta, indexed_at) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s) RETURNING id",
                (doc.path, doc.sha256, doc.kind, doc.mtime, doc.size, doc.duplicate_of,
                 len(chunks), json.dumps(doc.meta), time.time())).fetchone()[0]
            with self.db.cursor() as cur:
                cur.executemany(
                    "INSERT INTO kb_chunks (doc_id, ordinal, heading, page, text, hash, embedding)"
                    " VALUES (%s,%s,%s,%s,%s,%s,%s)",
                    [(doc_id, c.ordinal, c.heading, c.page, c.text, c.hash,
                      np.asarray(v, dtype=np.float32)) for c, v in zip(chunks, vectors,
                                                                      strict=True)])

    def delete_document(self, path: str) -> None:
        self.db.execute("DELETE FROM kb_documents WHERE path = %s", (path,))

    def touch(self, path: str, mtime: float, size: int) -> None:
        self.db.execute("UPDATE kb_documents SET mtime = %s, size = %s WHERE path = %s",
                        (mtime, size, path))

    # ---- search ----------------------------------------------------------------------------
    def search_text(self, query: str, k: int, filters: Filters | None = None) -> list[Hit]:
        words = [w for w in terms(query) if w.isalnum()]
        if not words:
            return []
        where, args = _where(filters)
        rows = self.db.execute(
            f"SELECT {_HIT}, ts_rank_cd(c.tsv, q) AS s FROM kb_chunks c"
            " JOIN kb_documents d ON d.id = c.doc_id, to_tsquery('english', %s) q"
            f" WHERE c.tsv @@ q {where} ORDER BY s DESC LIMIT %s",
            [" | ".join(words), *args, k])
        return [_hit(r) for r in rows]

    def search_vector(self, vector: Any, k: int, filters: Filters | None = None) -> list[Hit]:
        import numpy as np

        where, args = _where(filters)
        vec = np.asarray(vector, dtype=np.float32)
        with self.db.transaction():
            self.db.execute(f"SET LOCAL hnsw.ef_search = {max(40, min(k * 4, 1000))}")
            rows = self.db.execute(
                f"SELECT {_HIT}, 1 - (c.embedding <=> %s) AS s FROM kb_chunks c"
                f" JOIN kb_documents d ON d.id = c.doc_id WHERE true {where}"
                " ORDER BY c.embedding <=> %s LIMIT %s", [vec, *args, vec, k]).fetchall()
        return [_hit(r) for r in rows]

    def get(self, chunk_ids: list[int]) -> list[Hit]:
        rows = self.db.execute(f"SELECT {_HIT}, 0 FROM kb_chunks c JOIN kb_documents d"
                               " ON d.id = c.doc_id WHERE c.id = ANY(%s)", (list(chunk_ids),))
        by_id = {r[0]: _hit(r) for r in rows}
        return [by_id[i] for i in chunk_ids if i in by_id]

    def neighbours(self, chunk_id: int, before: int = 1, after: int = 1) -> list[Hit]:
        rows = self.db.execute(
            f"SELECT {_HIT}, 0 FROM kb_chunks c JOIN kb_documents d ON d.id = c.doc_id"
            " JOIN kb_chunks me ON me.doc_id = c.doc_id WHERE me.id = %s"
            " AND c.ordinal BETWEEN me.ordinal - %s AND me.ordinal + %s ORDER BY c.ordinal",
            (chunk_id, before, after))
        return [_hit(r) for r in rows]

    # ---- bookkeeping -----------------------------------------------------------------------
    def add_source(self, root: str) -> None:
        self.db.execute("INSERT INTO kb_sources VALUES (%s, %s) ON CONFLICT DO NOTHING",
                        (root, time.time()))

    def sources(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT root FROM kb_sources ORDER BY root")]

    def stats(self) -> dict[str, Any]:
        one = lambda sql: self.db.execute(sql).fetchone()[0]  # noqa: E731
        return {
            "embedder": self.recorded_embedder(),
            "documents": one("SELECT count(*) FROM kb_documents"),
            "chunks": one("SELECT count(*) FROM kb_chunks"),
            "vectors": one("SELECT count(embedding) FROM kb_chunks"),
            "keyword_rows": one("SELECT count(tsv) FROM kb_chunks"),
            "orphan_chunks": one("SELECT count(*) FROM kb_chunks WHERE doc_id NOT IN"
                                 " (SELECT id FROM kb_documents)"),
            "count_mismatches": one("SELECT count(*) FROM kb_documents d WHERE n_chunks !="
                                    " (SELECT count(*) FROM kb_chunks c WHERE c.doc_id = d.id)"),
        }

    def close(self) -> None:
        self.db.close()


def _where(filters: Filters | None) -> tuple[str, list[Any]]:
    if filters is None:
        return "", []
    sql, args = [], []
    if filters.path:
        sql.append("d.path LIKE %s")
        args.append(filters.path.replace("%", r"\%").replace("_", r"\_").replace("*", "%")
                    .replace("?", "_"))
    if filters.kinds:
        sql.append("d.kind = ANY(%s)")
        args.append(list(filters.kinds))
    if filters.since is not None:
        sql.append("d.mtime >= %s")
        args.append(filters.since)
    if filters.until is not None:
        sql.append("d.mtime <= %s")
        args.append(filters.until)
    return "".join(f" AND {s}" for s in sql), args


def _hit(row: Any) -> Hit:
    return Hit(chunk_id=row[0], path=row[1], text=row[2], heading=row[3], page=row[4],
               ordinal=row[5], kind=row[6], mtime=row[7], score=float(row[8]))
