"""One SQLAlchemy engine per store URL: SQLite files in WAL mode, or Postgres via psycopg 3."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from ..errors import ConfigError


def normalize_url(url: str) -> str:
    """A plain path becomes a SQLite URL; ``postgresql://`` uses the installed psycopg 3 driver."""
    if "://" not in url:
        return "sqlite:///" + str(Path(url).expanduser())
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str) -> Engine:
    norm = normalize_url(url)
    try:
        parsed = make_url(norm)
    except (ArgumentError, ValueError):
        raise ConfigError(
            f"trace store URL {url!r} is not a database URL",
            "use a file path, sqlite:///path.db or postgresql://user@host/db",
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, parsed)
    if backend != "postgresql":
        raise ConfigError(
            f"trace store URL {url!r} names {backend!r}", "use SQLite or PostgreSQL"
        )
    try:
        return create_engine(parsed, pool_pre_ping=True)
    except NoSuchModuleError as exc:
        msg = f"no database driver for {url!r}: {exc}"
        raise ConfigError(msg, "pip install 'psycopg[binary]'") from None


def _sqlite_engine(url: str, parsed: Any) -> Engine:
    db = parsed.database
    if not db or db == ":memory:" or parsed.query.get("mode") == "memory":
        raise ConfigError(
            f"trace store URL {url!r} is an in-memory SQLite database",
            "the background writer needs a file: give a path such as ./traces.db",
        )
    path = Path(db).expanduser()
    if not path.parent.is_dir():
        raise ConfigError(
            f"folder {str(path.parent)!r} of trace store {url!r} does not exist", "create it first"
        )
    engine = create_engine(parsed, connect_args={"check_same_thread": False, "timeout": 30})
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    # SQLAlchemy's recipe for real SQLite transactions (DDL included): the driver stops issuing
    # its own BEGINs and ``_sqlite_begin`` emits them.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
    cur.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; safe with WAL
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    """``BEGIN IMMEDIATE`` (take the write lock now) for connections that will read-then-write."""
    immediate = conn.get_execution_options().get("begin_immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
