"""Settings of the knowledge base: where the index lives and which embedder a new one gets.

Read from the ``[rag]`` table of slmstack.toml when ``Settings`` carries one; otherwise defaults.
An existing index is always opened with the embedder it records (its vectors decide), so
``precision`` only chooses for an index not yet built.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from ..config import Section

DEFAULT_DB = ".slmstack/kb.db"


class RagSettings(Section):
    section: ClassVar[str] = "rag"

    db: str = DEFAULT_DB  # the index: a file path (SQLite) or a postgresql:// URL
    # the embedder of a new index: float32 (sentence-transformers, exact) or int8 (ONNX Runtime,
    # ~1.8x the ingest rate on CPU, cosine ~0.99 to float32; built once from the bundled weights)
    precision: Literal["float32", "int8"] = "float32"
    embedder_cache: str | None = None  # where the int8 build is kept (default ~/.cache/slmstack)
