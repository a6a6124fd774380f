"""Shared, session-scoped fixtures: the real embedder, a knowledge base over the shipped pydocqa
documents, and a real PostgreSQL server with pgvector (pgserver) on a temp data dir."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PYDOCQA = REPO / "datasets" / "pydocqa"
BFCL = REPO.parent / "shared" / "data" / "bfcl"


@pytest.fixture(scope="session")
def embedder():
    from slmstack.rag.embed import Embedder

    return Embedder()


@pytest.fixture(scope="session")
def int8():
    """The int8 embedder, built (once, into ~/.cache/slmstack/embedders) and warmed up."""
    from slmstack.errors import UserError
    from slmstack.rag.embed import Embedder

    emb = Embedder(precision="int8")
    try:
        emb.encode(["warm up"])
    except UserError as exc:
        if "'onnx'" not in str(exc):
            raise
        pytest.skip(f"INT8 EMBEDDER TESTS SKIPPED: {exc}")
    return emb


@pytest.fixture(scope="session")
def docs_kb(embedder, tmp_path_factory):
    from slmstack.rag.ingest import Ingester
    from slmstack.rag.search import KnowledgeBase

    kb = KnowledgeBase.open(str(tmp_path_factory.mktemp("kb") / "docs.db"), embedder)
    Ingester(kb).add([PYDOCQA / "docs"])
    return kb


@pytest.fixture(scope="session")
def pg_url():
    """A real PostgreSQL 16 + pgvector started on a temp data dir (unix socket only)."""
    try:
        import pgserver
    except ImportError as exc:  # pragma: no cover - loud, not silent
        pytest.skip(f"POSTGRES TESTS SKIPPED: pgserver is not installed ({exc}); "
                    "pip install pgserver")
    data = Path(tempfile.mkdtemp(prefix="slmstack-pg-"))
    try:
        server = pgserver.get_server(data, cleanup_mode="stop")
    except Exception as exc:  # pragma: no cover
        pytest.skip(f"POSTGRES TESTS SKIPPED: the server did not start: {exc}")
    server.psql("CREATE DATABASE kbtest;")
    yield server.get_uri("kbtest")
    server.cleanup()
    shutil.rmtree(data, ignore_errors=True)
