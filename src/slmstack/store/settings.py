"""Settings of the trace store: where it lives, how long it keeps traces, how it prices calls.

Read from the ``[store]`` table of slmstack.toml when ``Settings`` carries one; otherwise defaults.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, ValidationError

from ..errors import ConfigError

DEFAULT_URL = "sqlite:///slmstack-traces.db"


class StoreSettings(BaseModel):
    url: str = DEFAULT_URL  # SQLAlchemy URL or a plain file path (SQLite)
    retention_days: float | None = None  # prune() drops traces older than this; None keeps all
    queue_size: int = Field(default=20_000, ge=1)  # bounded write queue; overflow is counted
    batch_size: int = Field(default=500, ge=1)  # most records per write transaction
    # USD per GPU-hour for locally served models, keyed like catalog entries (a name or a
    # substring of the model URI); such models are priced latency_s × rate / 3600.
    gpu_hour_usd: dict[str, float] = Field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Any = None) -> StoreSettings:
        """The ``store`` section of a ``Settings`` object (a dict or StoreSettings), if any."""
        if isinstance(settings, StoreSettings):
            return settings
        raw = getattr(settings, "store", None) if settings is not None else None
        if raw is None:
            return cls()
        if isinstance(raw, StoreSettings):
            return raw
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(x) for x in first["loc"])
            raise ConfigError(
                f"store.{where}: {first['msg']} (got {first.get('input')!r})",
                "fix the store table in slmstack.toml",
            ) from None
