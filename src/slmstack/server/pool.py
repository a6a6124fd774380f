"""The model names a gateway serves, loaded on first use, and the fallback chain of each.

By default a gateway serves: the router's virtual models (``slmstack/auto`` …) when the router
is installed, the configured default model (its URI, also as ``default``), every alias, the
embedded models, and ``gateway.models``. Clients cannot name arbitrary URIs: a request may only
reach upstreams the operator configured (and the egress allowlist checked).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import cache
from typing import Any

from ..config import Settings
from .errors import GatewayError
from .settings import GatewaySettings

Loader = Callable[[str], Any]


def router_hooks() -> tuple[Any, Any] | None:
    """(build_router, virtual_models) when ``slmstack.router`` provides them, else None."""
    try:
        from .. import router
    except ImportError:
        return None
    build = getattr(router, "build_router", None)
    names = getattr(router, "virtual_models", None)
    return (build, names) if build and names else None


def default_names(settings: Settings, gw: GatewaySettings) -> dict[str, str]:
    """Served name → model URI (or ``router:<name>`` for the router's virtual models)."""
    from ..models.embedded import EMBEDDED

    names: dict[str, str] = {}
    hooks = router_hooks()
    if hooks is not None:
        names.update({n: f"router:{n}" for n in hooks[1](settings)})
    default = settings.resolve(settings.default_model)
    names["default"] = default
    names[settings.default_model] = default
    names.update({f"embedded:{n}": f"embedded:{n}" for n in EMBEDDED})
    names.update(settings.aliases)
    names.update({n: settings.resolve(n) for n in gw.models})
    return names


@cache
def _router_class() -> type | None:
    if router_hooks() is None:
        return None
    from ..router import Router

    return Router


def is_router(model: Any) -> bool:
    """A Router takes the caller's ids (task, API key) and may record its own calls."""
    cls = _router_class()
    return cls is not None and isinstance(model, cls)


class ModelPool:
    """Name → ChatModel, built once on first use (a lock per name keeps loads single)."""

    def __init__(self, names: dict[str, str], loader: Loader,
                 models: dict[str, Any] | None = None,
                 fallbacks: dict[str, list[str]] | None = None) -> None:
        self.names = dict(names)
        self.models: dict[str, Any] = dict(models or {})
        self.names.update({n: n for n in self.models if n not in self.names})
        self.fallbacks = fallbacks or {}
        self._loader = loader
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def served(self) -> list[str]:
        return sorted(self.names)

    def check(self, name: str) -> None:
        """404 for a name this gateway does not serve."""
        if name not in self.names:
            raise GatewayError(
                404, f"model {name!r} is not served here; GET /v1/models lists the served names "
                f"({', '.join(self.served()[:12])}{' …' if len(self.names) > 12 else ''})",
                param="model", code="model_not_found",
            )

    def get(self, name: str) -> Any:
        model = self.models.get(name)
        if model is not None:
            return model
        self.check(name)
        with self._guard:
            lock = self._locks.setdefault(name, threading.Lock())
        with lock:
            if name not in self.models:
                self.models[name] = self._loader(self.names[name])
        return self.models[name]

    def chain(self, name: str) -> list[str]:
        """``name`` then its fallbacks (then the ``"*"`` fallbacks), each once."""
        out = [name]
        for nxt in [*self.fallbacks.get(name, []), *self.fallbacks.get("*", [])]:
            if nxt not in out:
                out.append(nxt)
        return out
