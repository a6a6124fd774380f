"""Plain ASGI middleware: one latency observation and request count per request, and one audit
entry per API request (who, which model, status, tokens, cost — never the content).

Route handlers leave what they learned in ``scope["state"]`` (caller, model, completion); this
runs after the response is fully sent, streams included.
"""

from __future__ import annotations

import time
from typing import Any

from .audit import AuditLog
from .metrics import Metrics


class Observe:
    def __init__(self, app: Any, metrics: Metrics, audit: AuditLog) -> None:
        self.app = app
        self.metrics = metrics
        self.audit = audit

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        status = 500

        async def send_status(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            path = scope.get("path", "")
            state = scope.get("state") or {}
            status = state.get("status", status)
            route = path if path.startswith("/v1/") or path in ("/healthz", "/metrics") else "other"
            route = "/v1/models" if route.startswith("/v1/models/") else route
            self.metrics.observe(time.perf_counter() - t0, path=route)
            self.metrics.inc("slmstack_gateway_requests_total", path=route, status=str(status))
            if path.startswith("/v1/"):
                self._audit(scope, route, status, state)

    def _audit(self, scope: dict[str, Any], route: str, status: int,
               state: dict[str, Any]) -> None:
        caller = state.get("caller")
        if caller is None:  # refused before authentication: the auth failure is audited
            return
        comp = state.get("completion")
        entry: dict[str, Any] = {"request_id": caller.request_id, "key_id": caller.key_id,
                                 "path": route, "status": status, "model": state.get("model")}
        if state.get("served") and state.get("served") != state.get("model"):
            entry["served"] = state["served"]
        if comp is not None:
            entry.update(input_tokens=comp.usage.input_tokens,
                         output_tokens=comp.usage.output_tokens, upstream=comp.model)
        elif "input_tokens" in state:
            entry["input_tokens"] = state["input_tokens"]
        self.audit.append("request", **entry)
