"""The FastAPI app: ``/v1/chat/completions``, ``/v1/models``, ``/v1/embeddings``, ``/healthz``,
``/metrics``. Build it with :func:`create_app`; ``slmstack serve`` runs it under uvicorn."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..config import Settings
from . import embeddings, wire
from .build import Parts, build_parts
from .chat import ChatLane, admit, chat
from .errors import GatewayError, error_body
from .observe import Observe
from .service import Caller, Gateway
from .sizelimit import BodySizeLimit

ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"description": d} for s, d in [
        (400, "invalid request"), (401, "missing, malformed, unknown or revoked API key"),
        (404, "unknown model"), (413, "request body too large"),
        (422, "the model could not produce a valid reply"),
        (429, "rate limit or budget reached"), (502, "no upstream could serve the request")]
}


def create_app(settings: Settings | None = None, *, models: dict[str, Any] | None = None,
               store: Any = "settings", loader: Any = None) -> FastAPI:
    """The gateway app.

    ``models``: name → ChatModel to serve exactly these (tests); default: the router's virtual
    models and the configured models (see :mod:`slmstack.server.pool`). ``store``: a TraceStore,
    None (record nothing), or ``"settings"`` to open the one slmstack.toml names (closed on
    shutdown). ``loader``: URI → ChatModel (default: the model registry).
    Raises ConfigError before serving anything when an upstream is outside the egress allowlist.
    """
    parts = build_parts(settings or Settings(), models=models, store=store, loader=loader)
    app = FastAPI(title="slmstack gateway", version="1", lifespan=_lifespan(parts))
    app.state.parts = parts
    _routes(app, parts.gateway, parts)
    _handlers(app)
    app.add_middleware(ChatLane, parts=parts)  # innermost: observed and size-limited as routes
    app.add_middleware(Observe, metrics=parts.metrics, audit=parts.audit)
    app.add_middleware(BodySizeLimit, limit=parts.gw.max_request_bytes)
    return app


def _lifespan(parts: Parts) -> Any:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        parts.audit.append("start", models=parts.pool.served())
        if parts.gw.preload and "default" in parts.pool.names:
            await parts.gateway.run(partial(parts.pool.get, "default"), 600.0)
        try:
            yield
        finally:
            parts.audit.append("stop")
            parts.close()

    return lifespan


# ---- routes -----------------------------------------------------------------------------------
async def _caller(request: Request) -> Caller:
    """Authenticate and admit (rate limit, budget) before the body is even validated."""
    gateway: Gateway = request.app.state.parts.gateway
    c = admit(gateway, request.scope)
    request.scope.setdefault("state", {})["caller"] = c
    return c


Authed = Annotated[Caller, Depends(_caller)]


def _routes(app: FastAPI, gateway: Gateway, parts: Parts) -> None:
    @app.post("/v1/chat/completions", responses=ERRORS)
    async def chat_completions(body: wire.ChatCompletionRequest, who: Authed,
                               request: Request) -> Response:
        return await chat(parts, body, who, request.scope["state"])

    @app.get("/v1/models", responses=ERRORS)
    async def list_models(who: Authed) -> dict[str, Any]:
        return {"object": "list", "data": [_model_json(n, parts.started) for n in parts.names()]}

    @app.get("/v1/models/{model:path}", responses=ERRORS)
    async def get_model(model: str, who: Authed) -> dict[str, Any]:
        if model not in parts.names():
            parts.pool.check(model)
        return _model_json(model, parts.started)

    @app.post("/v1/embeddings", responses=ERRORS)
    async def create_embeddings(body: wire.EmbeddingRequest, who: Authed,
                                request: Request) -> Response:
        texts = parts.embedder.texts(body)
        rows, tokens = await gateway.run(partial(parts.embedder.embed, texts),
                                         parts.gw.upstream_timeout_s)
        request.scope["state"].update(model=body.model, input_tokens=tokens)
        return JSONResponse(embeddings.response_json(rows, tokens, body.encoding_format))

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        stats = parts.store.stats() if parts.store is not None else None
        return {"status": "ok", "models": len(parts.pool.names),
                "uptime_s": round(time.time() - parts.started, 1),
                "store": stats.model_dump() if stats is not None else None}

    @app.get("/metrics", response_class=PlainTextResponse)
    async def metrics() -> PlainTextResponse:
        stats = parts.store.stats() if parts.store is not None else None
        return PlainTextResponse(parts.metrics.render(stats),
                                 media_type="text/plain; version=0.0.4; charset=utf-8")


def _model_json(name: str, created: float) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": int(created), "owned_by": "slmstack"}


# ---- errors -----------------------------------------------------------------------------------
def _handlers(app: FastAPI) -> None:
    @app.exception_handler(GatewayError)
    async def gateway_error(request: Request, exc: GatewayError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        if first.get("type") == "json_invalid":
            why = (first.get("ctx") or {}).get("error", "")
            msg = f"request body is not valid JSON ({why}); send one JSON object"
            return JSONResponse(error_body(msg, "invalid_request_error", "invalid_json"), 400)
        loc = [str(x) for x in first.get("loc", ()) if x != "body"]
        where = ".".join(loc) or "body"
        got = f" (got {first['input']!r:.120})" if "input" in first else ""
        msg = f"{where}: {first.get('msg')}{got}"
        return JSONResponse(error_body(msg, "invalid_request_error", "invalid_request", where),
                            status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        msg = f"{request.method} {request.url.path}: {exc.detail}"
        return JSONResponse(error_body(msg, "invalid_request_error", str(exc.status_code)),
                            status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> JSONResponse:
        body = error_body(f"internal error: {type(exc).__name__}: {exc}"[:500], "server_error",
                          "internal_error")
        return JSONResponse(body, status_code=500)
