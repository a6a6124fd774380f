"""The gateway's work behind the HTTP routes: keys, limits, model calls with timeouts and
fallback, recording to the trace store, the audit log and metrics.

Model calls run on worker threads (they block); the event loop only waits, with a timeout, so a
hung upstream can delay one request by ``upstream_timeout_s`` at most and never the others. The
exception, for speed: an OpenAI-compatible upstream on plain http is called on the event loop
itself through the gateway's pooled HTTP/1.1 client (``upstream``), under the same timeout, the
same bound on concurrent calls and with the model's own request, reply and error handling.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

from ..errors import BackendUnavailable
from ..types import Completion, Message, StreamEvent
from . import wire
from .audit import AuditLog
from .errors import GatewayError, from_exception
from .keys import ApiKey, KeyStore
from .limits import Budgets, RateLimiter
from .metrics import Metrics
from .pool import ModelPool, is_router
from .pump import Pump, UpstreamTimeout, call
from .recording import Attempt, call_record
from .settings import GatewaySettings
from .upstream import Http11Pool, fast_path

FALLBACK_ERRORS = (BackendUnavailable, UpstreamTimeout)
LOAD_TIMEOUT_S = 600.0  # loading a model (llama.cpp, transformers) from local files
_rng = random.Random()  # request and record ids: unique, not secret (no syscall per id)


def new_id() -> str:
    return f"{_rng.getrandbits(128):032x}"


@dataclass
class Caller:
    key: ApiKey | None
    request_id: str
    task_id: str | None = None  # X-Slmstack-Task: groups an agent's calls into one task

    @property
    def key_id(self) -> str | None:
        return self.key.id if self.key else None


@dataclass
class OpenStream:
    requested: str
    served: str
    first: StreamEvent
    pump: Pump
    attempt: Attempt


class Gateway:
    def __init__(self, gw: GatewaySettings, pool: ModelPool, keys: KeyStore, audit: AuditLog,
                 store: Any, prices: Any, budgets: Budgets, metrics: Metrics) -> None:
        self.gw, self.pool, self.keys, self.audit = gw, pool, keys, audit
        self.store, self.prices, self.budgets, self.metrics = store, prices, budgets, metrics
        self.limiter = RateLimiter()
        self.executor = ThreadPoolExecutor(gw.max_concurrent_calls, "slmstack-call")
        self.slots = asyncio.Semaphore(gw.max_concurrent_calls)  # calls awaited on the loop
        self.upstream = Http11Pool()
        self._fast: dict[str, bool] = {}  # served name → called through ``upstream``
        self.records = store  # record() never blocks; the store's writer batches

    # ---- admission -------------------------------------------------------------------------
    def admit(self, authorization: str | None, client: str, task: str | None = None) -> Caller:
        """Authenticate, then check the key's rate limit and budget (401 / 429 otherwise)."""
        rid = new_id()
        if not self.gw.require_key and not authorization:
            return Caller(None, rid, task)
        try:
            key = self.keys.authenticate(authorization)
        except GatewayError as exc:
            self.metrics.inc("slmstack_gateway_auth_failures_total")
            self.audit.append("auth_failed", request_id=rid, client=client, reason=exc.message)
            raise
        try:
            self.limiter.acquire(key.id, key.rpm or self.gw.default_rpm)
            budget = key.budget_usd if key.budget_usd is not None else self.gw.default_budget_usd
            self.budgets.check(key.id, budget)
        except GatewayError as exc:
            self.audit.append("refused", request_id=rid, key_id=key.id, reason=exc.code)
            raise
        return Caller(key, rid, task)

    async def run(self, fn: Any, timeout: float) -> Any:
        """A blocking call (a model, the embedder) on the gateway's worker threads."""
        return await call(fn, timeout, self.executor)

    async def _awaited(self, fn: Callable[[], Awaitable[Any]], timeout: float) -> Any:
        """``await fn()`` on the event loop, bounded as ``run`` bounds threads: at most
        ``max_concurrent_calls`` at once, UpstreamTimeout after ``timeout`` (queueing included)."""
        deadline = asyncio.timeout(timeout)
        try:
            async with deadline, self.slots:
                return await fn()
        except TimeoutError:
            if deadline.expired():
                raise UpstreamTimeout(timeout) from None
            raise

    async def _call(self, served: str, model: Any, messages: list[Message],
                    kw: dict[str, Any]) -> Completion:
        """``model.complete``: awaited through the pooled client where the model allows it,
        else on a worker thread."""
        fast = self._fast.get(served)
        if fast is None:
            fast = self._fast[served] = self.gw.fast_upstream and fast_path(model)
        timeout = self.gw.upstream_timeout_s
        if fast:
            from ..models.openai_compat import AsyncPathDeclined

            try:
                return await self._awaited(
                    partial(model.acomplete, messages, post=self.upstream.post, **kw), timeout)
            except AsyncPathDeclined:  # a reply only the openai client handles: ask again there
                pass
        return await self.run(partial(model.complete, messages, **kw), timeout)

    # ---- completions -----------------------------------------------------------------------
    async def complete(self, name: str, messages: list[Message], kw: dict[str, Any],
                       caller: Caller) -> tuple[Completion, str]:
        """(completion, served name): ``name``, else its fallbacks when an upstream fails."""
        self.pool.check(name)
        failures: list[tuple[str, str]] = []
        for served in self.pool.chain(name):
            model, a = await self._model(served, messages, kw, caller, failures)
            if model is None:
                continue
            try:
                comp = await self._call(served, model, messages, _ids(a, kw))
            except Exception as exc:
                failures.append(self._failed(a, exc))
                continue
            self._succeeded(a, comp, fallback=served != name)
            return comp, served
        raise self._all_failed(name, failures)

    async def open_stream(self, name: str, messages: list[Message], kw: dict[str, Any],
                          caller: Caller) -> OpenStream:
        """Start streaming from ``name`` (or a fallback) and wait for its first event."""
        self.pool.check(name)
        failures: list[tuple[str, str]] = []
        for served in self.pool.chain(name):
            model, a = await self._model(served, messages, kw, caller, failures)
            if model is None:
                continue
            pump = Pump(partial(model.stream, messages, **_ids(a, kw)))
            try:
                first = await pump.next(self.gw.upstream_timeout_s)
            except Exception as exc:
                failures.append(self._failed(a, exc))
                continue
            return OpenStream(name, served, first, pump, a)
        raise self._all_failed(name, failures)

    async def events(self, s: OpenStream) -> AsyncIterator[StreamEvent]:
        """The stream's events after the first; records the call when the last one arrives."""
        ev = s.first
        while True:
            if ev.completion is not None:
                self._succeeded(s.attempt, ev.completion, fallback=s.served != s.requested)
            yield ev
            try:
                ev = await s.pump.next(self.gw.upstream_timeout_s)
            except StopAsyncIteration:
                return
            except Exception as exc:
                self._failed(s.attempt, exc, fallback=False)
                raise AssertionError("unreachable") from exc

    async def _model(self, served: str, messages: list[Message], kw: dict[str, Any],
                     caller: Caller, failures: list[tuple[str, str]]) -> tuple[Any, Attempt]:
        a = Attempt(caller.task_id or caller.request_id, served,
                    self.pool.names.get(served, served), caller.key_id, messages, kw)
        try:
            model = self.pool.models.get(served) or await self.run(
                partial(self.pool.get, served), LOAD_TIMEOUT_S)
        except GatewayError:
            raise
        except Exception as exc:  # a configured model that cannot load: try the next one
            err = BackendUnavailable(f"model {served!r} could not be loaded: {exc}")
            failures.append(self._failed(a, err))
            return None, a
        a.routed = is_router(model)
        a.self_recorded = a.routed and model.records_calls
        return model, a

    # ---- outcomes --------------------------------------------------------------------------
    def _succeeded(self, a: Attempt, comp: Completion, *, fallback: bool) -> None:
        cost = self._cost(a, comp)
        self._record(a, comp, cost, None)
        self.budgets.add(a.key_id, cost)
        m = comp.model or a.uri
        self.metrics.inc("slmstack_gateway_tokens_total", comp.usage.input_tokens, model=m,
                         direction="input")
        self.metrics.inc("slmstack_gateway_tokens_total", comp.usage.output_tokens, model=m,
                         direction="output")
        self.metrics.inc("slmstack_gateway_cost_usd_total", cost, model=m)
        if fallback:
            self.metrics.inc("slmstack_gateway_fallbacks_total", served=a.served)

    def _failed(self, a: Attempt, exc: BaseException, *,
                fallback: bool = True) -> tuple[str, str]:
        """Record a failed try; return its reason when the next model may be tried, else raise
        the error the caller must see."""
        self._record(a, None, 0.0, f"{type(exc).__name__}: {exc}")
        if not (fallback and isinstance(exc, FALLBACK_ERRORS)):
            raise from_exception(exc, a.served) from None
        reason = "timeout" if isinstance(exc, UpstreamTimeout) else "unavailable"
        self.metrics.inc("slmstack_gateway_upstream_failures_total", model=a.served,
                         reason=reason)
        return reason, f"{a.served!r}: {exc}"

    def _all_failed(self, name: str, failures: list[tuple[str, str]]) -> GatewayError:
        timeouts = all(kind == "timeout" for kind, _ in failures)
        return GatewayError(
            502, f"no upstream could serve model {name!r}: " + "; ".join(t for _, t in failures)
            + " — retry later, or configure gateway.fallbacks / a longer "
            "gateway.upstream_timeout_s", type="upstream_error",
            code="upstream_timeout" if timeouts else "upstream_unavailable",
        )

    def _cost(self, a: Attempt, comp: Completion) -> float:
        """USD by the store's price table; a routed completion's own sum over its tiers."""
        if self.prices is None or a.routed:
            return comp.cost_usd
        u = comp.usage
        priced = self.prices.cost(comp.model, u.input_tokens, u.output_tokens, comp.latency_s)
        return comp.cost_usd if priced is None else priced

    def _tier(self, model: str) -> str:
        prof = self.prices.profile(model) if self.prices is not None else None
        return prof.tier if prof is not None else "small"

    def _record(self, a: Attempt, comp: Completion | None, cost: float, error: str | None) -> None:
        if self.records is None or a.self_recorded:
            return
        rec = call_record(a, comp, cost=cost, tier=self._tier(comp.model if comp else a.uri),
                          content=self.gw.record_content, error=error, rid=new_id())
        self.records.record(rec)

    # ---- responses -------------------------------------------------------------------------
    def response(self, comp: Completion, served: str, caller: Caller) -> dict[str, Any]:
        return wire.completion_json(comp, served, wire.completion_id(caller.request_id))



def _ids(a: Attempt, kw: dict[str, Any]) -> dict[str, Any]:
    """The router also takes the task and API key ids, for the records it writes."""
    return {**kw, "task_id": a.task_id, "api_key_id": a.key_id} if a.routed else kw
