"""Trace-store fixtures: a store per test on SQLite (a temp file) and on a real PostgreSQL server
started once per session on loopback (skipped only where no PostgreSQL binaries are installed)."""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from slmstack.store import StoreSettings, TraceStore


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres_user(cmd: list[str]) -> list[str]:
    """initdb refuses to run as root: run the server as the ``postgres`` user then."""
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


class PostgresServer:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="slmstack-pg-"))
        self.port = _free_port()
        self._dbs = itertools.count()
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
        data = str(self.dir / "data")
        subprocess.run(_as_postgres_user(["initdb", "-D", data, "-U", "postgres", "-A", "trust",
                                          "--no-sync"]), check=True, capture_output=True)
        subprocess.run(_as_postgres_user([
            "pg_ctl", "-D", data, "-l", str(self.dir / "log"), "-w", "start", "-o",
            f"-h 127.0.0.1 -p {self.port} -k {self.dir} -F"]), check=True, capture_output=True)
        self.data = data

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"

    def new_database(self) -> str:
        import psycopg

        name = f"traces_{next(self._dbs)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        subprocess.run(_as_postgres_user(["pg_ctl", "-D", self.data, "-m", "immediate", "stop"]),
                       capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    if not (shutil.which("initdb") and shutil.which("pg_ctl")):
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    server = PostgresServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "traces.db")
    return request.getfixturevalue("postgres").new_database()


@pytest.fixture
def store(store_url: str) -> Iterator[TraceStore]:
    ts = TraceStore(store_url, settings=StoreSettings(queue_size=50_000))
    try:
        yield ts
    finally:
        ts.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[TraceStore]:
    ts = TraceStore(str(tmp_path / "traces.db"))
    try:
        yield ts
    finally:
        ts.close()


def wait_until(pred: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.01)
    return pred()
