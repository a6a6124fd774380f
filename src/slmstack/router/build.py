"""Building a Router from settings, and the virtual model names it answers to."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..config import Settings
from .escalation import Verifier
from .router import Router, _Shared
from .settings import RouterSettings


def build_router(
    settings: Any = None,
    *,
    store: Any = None,
    models: dict[str, Any] | None = None,
    classifier: Any = None,
    verifier: Verifier | None = None,
    name: str | None = None,
    table_ttl_s: float = 5.0,
    loader: Callable[[str], Any] | None = None,
) -> Router:
    """A Router from ``settings.router`` and the store's current routing table.

    ``settings``: an slmstack ``Settings`` (or None for defaults); ``store``: a ``TraceStore``
    (None: no recording, the settings' table); ``models``: ChatModels by URI to use instead of
    loading them (tests, the gateway's shared instances); ``classifier``: a ``TaskClassifier``
    (default: the one ``router.classifier`` names, if any); ``verifier``: the escalation hook
    ``(CallRecord, Completion) -> score``; ``name``: a virtual model name to return a view of
    (``slmstack/auto`` routes, ``slmstack/<tier>`` pins a tier); ``loader``: URI → ChatModel for
    the models not in ``models`` (the gateway passes its own, so a model it serves and routes to
    is loaded once; default: ``models.registry.load_model`` with ``settings``).
    """
    rs = RouterSettings.from_settings(settings)
    table = (store.current_routing_table() if store is not None else None) or rs.default_table()
    if classifier is None and rs.classifier:
        from .classifier import TaskClassifier

        classifier = TaskClassifier.load(rs.classifier)
    app = settings if isinstance(settings, Settings) else None
    shared = _Shared(rs, app, table, store, models, classifier, verifier, table_ttl_s, loader)
    router = Router(shared)
    return router.view(name) if name is not None and name != rs.name else router


def virtual_models(settings: Any = None) -> list[str]:
    """The model names to expose: the router's (``slmstack/auto``) and ``slmstack/<tier>``."""
    return RouterSettings.from_settings(settings).virtual_names()
