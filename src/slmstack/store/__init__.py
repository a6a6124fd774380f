"""Trace store: every model call, tool call, verdict, token and cost.

``TraceStore`` and friends import SQLAlchemy, so they load on first use (``slmstack --help`` and
the modules that only need the records stay light).
"""

from __future__ import annotations

from typing import Any

from .records import CallRecord, Route, RoutingTable
from .settings import StoreSettings

__all__ = [
    "CallRecord",
    "PriceTable",
    "Report",
    "Route",
    "RoutingTable",
    "StoreSettings",
    "TraceStore",
    "WriterStats",
]

_LAZY = {
    "TraceStore": "trace",
    "WriterStats": "writer",
    "PriceTable": "pricing",
    "Report": "report",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
