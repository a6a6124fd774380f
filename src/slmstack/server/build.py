"""Assemble a gateway's parts from settings: egress check first, then store, keys, audit log,
model pool, budgets and metrics."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from ..config import Settings
from ..errors import ConfigError
from .audit import AuditLog
from .egress import check_egress, configured_upstreams
from .embeddings import NAMES as EMBEDDING_NAMES
from .embeddings import EmbeddingService
from .keys import KeyStore
from .limits import Budgets, spent_per_key
from .metrics import Metrics
from .pool import ModelPool, default_names, router_hooks
from .service import Gateway
from .settings import GatewaySettings


@dataclass
class Parts:
    gw: GatewaySettings
    pool: ModelPool
    keys: KeyStore
    audit: AuditLog
    store: Any
    owns_store: bool
    metrics: Metrics
    gateway: Gateway
    embedder: EmbeddingService
    started: float = field(default_factory=time.time)

    def names(self) -> list[str]:
        return [*self.pool.served(), *EMBEDDING_NAMES]

    def close(self) -> None:
        self.gateway.executor.shutdown(wait=False, cancel_futures=True)
        self.gateway.upstream.close()
        self.audit.close()
        if self.gateway.records is not None:
            self.gateway.records.flush()
        if self.store is not None:
            self.store.flush(10.0)
            if self.owns_store:
                self.store.close()


def build_parts(settings: Settings, *, models: dict[str, Any] | None, store: Any,
                loader: Any) -> Parts:
    gw = GatewaySettings.from_settings(settings)
    names = {n: n for n in models} if models is not None else default_names(settings, gw)
    _check_fallbacks(gw, names)
    owns = isinstance(store, str)
    if owns:
        from ..store.trace import TraceStore

        store = TraceStore(settings=settings)
    try:
        check_egress(configured_upstreams(settings, store, models), gw.egress_allow)
        return _assemble(settings, gw, names, models, store, owns, loader)
    except BaseException:
        if owns:
            store.close()
        raise


def _assemble(settings: Settings, gw: GatewaySettings, names: dict[str, str],
              models: dict[str, Any] | None, store: Any, owns: bool, loader: Any) -> Parts:
    from ..store.pricing import PriceTable

    prices = PriceTable.from_settings(settings)
    pool = ModelPool(names, loader or make_loader(settings, gw, store), models, gw.fallbacks)
    keys, metrics = KeyStore(gw.keys_path), Metrics()
    audit = AuditLog(gw.audit_path, fsync=gw.audit_fsync)
    budgets = Budgets(spent_per_key(store, prices) if store is not None else {})
    gateway = Gateway(gw, pool, keys, audit, store, prices, budgets, metrics)
    return Parts(gw, pool, keys, audit, store, owns, metrics, gateway,
                 EmbeddingService(gw.max_embedding_inputs))


def _check_fallbacks(gw: GatewaySettings, names: dict[str, str]) -> None:
    for src, targets in gw.fallbacks.items():
        for t in [src, *targets]:
            if t != "*" and t not in names:
                raise ConfigError(
                    f"gateway.fallbacks names model {t!r}, which this gateway does not serve",
                    f"use served names ({sorted(names)!r}) or add it to gateway.models",
                )


def upstream_settings(settings: Settings, gw: GatewaySettings) -> Settings:
    """Settings for upstream clients: HTTP timeouts no longer than the gateway's own."""
    timeout = min(settings.http.timeout_s, gw.upstream_timeout_s)
    http = settings.http.model_copy(update={"timeout_s": timeout})
    return settings.model_copy(update={"http": http})


def make_loader(settings: Settings, gw: GatewaySettings, store: Any) -> Any:
    """URI → ChatModel: the registry for model URIs; ``router:<name>`` is a view of one router
    (built once; it records its own calls, with their route and escalations, in ``store``)."""
    from ..models.registry import load_model

    up = upstream_settings(settings, gw)
    router: list[Any] = []
    loaded: dict[str, Any] = {}  # URI → model: served names and the router's tiers share one
    lock = threading.Lock()

    def model(uri: str) -> Any:
        with lock:
            if uri not in loaded:
                loaded[uri] = load_model(uri, up)
            return loaded[uri]

    def load(uri: str) -> Any:
        if uri.startswith("router:"):
            with lock:
                if not router:
                    hooks = router_hooks()
                    assert hooks is not None  # router: names exist only when the router does
                    router.append(hooks[0](up, store=store, loader=model))
            return router[0].view(uri.removeprefix("router:"))
        return model(uri)

    return load
