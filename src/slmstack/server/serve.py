"""Run the gateway under uvicorn (one process: keys, rate limits and budgets live in it)."""

from __future__ import annotations

from typing import Any

from ..config import Settings


def run(settings: Settings, *, host: str | None = None, port: int | None = None,
        log_level: str = "info", **create_kw: Any) -> None:
    """Build the app (refusing to start on an egress violation) and serve until interrupted."""
    import uvicorn

    from .app import create_app
    from .settings import GatewaySettings

    gw = GatewaySettings.from_settings(settings)
    app = create_app(settings, **create_kw)
    uvicorn.run(app, host=host or gw.host, port=gw.port if port is None else port,
                log_level=log_level, timeout_graceful_shutdown=10)
