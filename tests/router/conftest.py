"""Router fixtures: a real SQLite trace store per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from slmstack.store import TraceStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[TraceStore]:
    ts = TraceStore(str(tmp_path / "traces.db"))
    try:
        yield ts
    finally:
        ts.close()
