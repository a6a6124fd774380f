"""The index contract every backend implements, and ``open_index`` to pick one from a location.

A location is a file path (SQLite with sqlite-vec + FTS5, the embedded default) or a
``postgresql://`` URL (Postgres with pgvector + full-text search). Both store documents, their
chunks, one vector per chunk and a keyword index, and replace a document's chunks atomically, so a
killed ingest leaves every document either fully indexed or not at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from ..errors import UserError
from .records import Chunk, DocumentMeta, Filters, Hit


class Index(Protocol):
    dim: int
    location: str

    def documents(self) -> dict[str, DocumentMeta]: ...
    def path_with_hash(self, sha256: str) -> str | None: ...
    def vectors_for(self, hashes: list[str]) -> dict[str, Any]: ...
    def replace_document(self, doc: DocumentMeta, chunks: list[Chunk], vectors: Any) -> None: ...
    def delete_document(self, path: str) -> None: ...
    def touch(self, path: str, mtime: float, size: int) -> None: ...
    def search_text(self, query: str, k: int, filters: Filters | None = None) -> list[Hit]: ...
    def search_vector(self, vector: Any, k: int, filters: Filters | None = None) -> list[Hit]: ...
    def get(self, chunk_ids: list[int]) -> list[Hit]: ...
    def neighbours(self, chunk_id: int, before: int = 1, after: int = 1) -> list[Hit]: ...
    def add_source(self, root: str) -> None: ...
    def sources(self) -> list[str]: ...
    def stats(self) -> dict[str, Any]: ...
    def recorded_embedder(self) -> str | None: ...
    def use_embedder(self, name: str | None) -> None: ...
    def close(self) -> None: ...


def open_index(location: str | Path, dim: int = 384, embedder: str | None = None, *,
               memory_caches: bool = True) -> Index:
    """SQLite for a path (created with its folder), Postgres for a postgresql:// URL.
    ``embedder`` (the embedder's name) is recorded in a new index and checked against an
    existing one: vectors of two embedders never mix in one index. ``memory_caches=False``:
    a SQLite index searches on disk only (see ``SQLiteIndex``)."""
    loc = str(location)
    if loc.startswith(("postgresql://", "postgres://")):
        from .pg_index import PgIndex

        return PgIndex(loc, dim, embedder)
    from .sqlite_index import SQLiteIndex

    return SQLiteIndex(loc, dim, embedder=embedder, memory_caches=memory_caches)


LEGACY_EMBEDDER = "all-MiniLM-L6-v2"
"""The embedder of an index from before the name was recorded (the only one there was)."""


def check_embedder(location: str, recorded: str | None, has_chunks: bool,
                   name: str | None) -> str | None:
    """The name to record for a new index (None: nothing to write). Raises when the index
    holds another embedder's vectors."""
    held = recorded_name(recorded, has_chunks)
    if name is not None and held is not None and held != name:
        raise UserError(
            f"index {location!r} holds vectors of the embedder {held!r}, not {name!r}",
            "open it with the embedder it was built with (e.g. Embedder(precision=...)), "
            "or index into a new --db",
        )
    return (held or name) if recorded is None else None


def embedder_record(db: Any, chunks_table: str) -> tuple[str | None, bool]:
    """(the embedder name an index's ``kb_meta`` records, whether the index holds chunks)."""
    row = db.execute("SELECT value FROM kb_meta WHERE key = 'embedder'").fetchone()
    has_chunks = db.execute(f"SELECT 1 FROM {chunks_table} LIMIT 1").fetchone() is not None
    return (str(row[0]) if row is not None else None), has_chunks


def recorded_name(recorded: str | None, has_chunks: bool) -> str | None:
    """The embedder whose vectors an index holds: the recorded one, the legacy one for chunks
    from before the record, None for a new index nobody has claimed."""
    return recorded or (LEGACY_EMBEDDER if has_chunks else None)


def embed_text(heading: str, text: str) -> str:
    """What gets embedded for a chunk: its heading path, then its text."""
    return f"{heading}\n{text}" if heading else text
