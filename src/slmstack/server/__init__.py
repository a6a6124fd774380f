"""The OpenAI-compatible gateway: ``create_app(settings)`` → a FastAPI app; ``slmstack serve``.

Heavy parts (FastAPI, the models, the trace store) load on first use.
"""

from __future__ import annotations

from typing import Any

from .settings import GatewaySettings

__all__ = ["AuditLog", "GatewaySettings", "KeyStore", "create_app", "verify_audit"]

_LAZY = {"create_app": "app", "AuditLog": "audit", "verify_audit": "audit", "KeyStore": "keys"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
