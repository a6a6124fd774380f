"""Gateway fixtures: settings with keys, audit log and store in a temp folder; an API key; an
in-process client (Starlette's TestClient runs the app's lifespan)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from slmstack.config import Settings
from slmstack.server.keys import KeyStore
from slmstack.store import TraceStore


def gateway_settings(tmp_path: Path, **gateway: Any) -> Settings:
    base = {"keys_path": str(tmp_path / "keys.json"), "audit_path": str(tmp_path / "audit.jsonl")}
    return Settings(gateway={**base, **gateway})


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return gateway_settings(tmp_path)


@pytest.fixture
def api_key(settings: Settings) -> str:
    return KeyStore(settings.gateway["keys_path"]).create("tests")[1]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[TraceStore]:
    ts = TraceStore(str(tmp_path / "traces.db"))
    try:
        yield ts
    finally:
        ts.close()


@pytest.fixture
def make_client(store: TraceStore) -> Iterator[Callable[..., Any]]:
    """make_client(settings, models, key=...) → a TestClient (closed at teardown)."""
    from fastapi.testclient import TestClient

    from slmstack.server import create_app

    clients: list[Any] = []

    def make(settings: Settings, models: dict[str, Any] | None, key: str | None = None,
             **kw: Any) -> Any:
        app = create_app(settings, models=models, store=kw.pop("store", store), **kw)
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        client = TestClient(app, headers=headers, raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.__exit__(None, None, None)
