"""Settings of the trace store: where it lives, how long it keeps traces, how it prices calls.

Read from the ``[store]`` table of slmstack.toml when ``Settings`` carries one; otherwise defaults.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from ..config import Section

DEFAULT_URL = "sqlite:///slmstack-traces.db"


class StoreSettings(Section):
    section: ClassVar[str] = "store"

    url: str = DEFAULT_URL  # SQLAlchemy URL or a plain file path (SQLite)
    retention_days: float | None = None  # prune() drops traces older than this; None keeps all
    queue_size: int = Field(default=20_000, ge=1)  # bounded write queue; overflow is counted
    batch_size: int = Field(default=500, ge=1)  # most records per write transaction
    linger_ms: float = Field(default=20.0, ge=0)  # gather a trickle this long per transaction
    # USD per GPU-hour for locally served models, keyed like catalog entries (a name or a
    # substring of the model URI); such models are priced latency_s × rate / 3600.
    gpu_hour_usd: dict[str, float] = Field(default_factory=dict)

