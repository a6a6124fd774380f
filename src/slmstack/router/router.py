"""``Router``: a ``ChatModel`` that sends each request to the cheapest tier its route names,
checks the answer, escalates through the route's chain when it is rejected, and records every
call (route, routing-table version, escalation reason) in the trace store when it has one.

What the caller gets back is a ``RoutedCompletion``: the accepted tier's completion with usage,
cost and latency summed over every attempt (the request paid for all of them), plus the route
and the attempts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from pydantic import Field

from ..errors import SlmstackError
from ..models.base import as_messages, as_tools
from ..models.catalog import Catalog
from ..models.schema import check_schema
from ..store.records import Route, RoutingTable
from ..types import Completion, Message, StreamEvent, ToolChoice, ToolSpec, Usage
from . import escalation as esc
from .kinds import Classifier, KindDecision, decide_kind, structural_kind
from .recording import RecordContext, RoutedRequest, call_record
from .settings import VIRTUAL_PREFIX, RouterSettings


class RoutedCompletion(Completion):
    """A Completion plus how the router produced it."""

    route: str = ""
    routing_version: int | None = None
    kind_source: str = ""  # structure | hint | classifier | default | pinned
    attempts: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def escalated(self) -> bool:
        return len(self.attempts) > 1


@dataclass
class RoutePlan:
    decision: KindDecision
    route: Route
    chain: list[str]  # model URIs, cheapest first
    version: int | None


class _Shared:
    """State every view of one router shares: models, store, classifier, table cache."""

    def __init__(self, settings: RouterSettings, app_settings: Any, table: RoutingTable,
                 store: Any, models: dict[str, Any] | None, classifier: Classifier | None,
                 verifier: esc.Verifier | None, table_ttl_s: float,
                 loader: Callable[[str], Any] | None = None) -> None:
        self.settings, self.app_settings = settings, app_settings
        self.store, self.classifier, self.verifier = store, classifier, verifier
        self.models: dict[str, Any] = dict(models or {})
        self.loader = loader
        self.lock = threading.Lock()
        self.table, self.table_read, self.table_ttl_s = table, time.monotonic(), table_ttl_s
        self.catalog = Catalog.builtin().with_user_models(getattr(app_settings, "models", {}))
        self.gate = _gate() if settings.tool_gate else None
        workers = settings.shadow_workers if store is not None else 0
        self.shadows = ThreadPoolExecutor(workers, "router-shadow") if workers else None


class Router:
    """Routes by task kind; see the module docstring. Build one with ``build_router``."""

    def __init__(self, shared: _Shared, name: str | None = None, pin: str | None = None):
        self._s = shared
        self.name = name or shared.settings.name
        self.pin = pin  # a tier name: this view always uses that tier, no escalation

    # -- views and state ------------------------------------------------------------------------
    @property
    def settings(self) -> RouterSettings:
        return self._s.settings

    @property
    def store(self) -> Any:
        return self._s.store

    @property
    def records_calls(self) -> bool:
        """True when this router writes its calls to a trace store (callers need not)."""
        return self._s.store is not None

    def view(self, name: str) -> Router:
        """The router (its own name) or one tier pinned, by virtual name ``slmstack/<tier>``."""
        if name == self._s.settings.name:
            return Router(self._s)
        tier = name.removeprefix(VIRTUAL_PREFIX)
        if not name.startswith(VIRTUAL_PREFIX) or tier not in self._s.settings.tiers:
            from ..errors import ModelNotFound

            raise ModelNotFound(
                f"no virtual model named {name!r}",
                f"use one of {self._s.settings.virtual_names()!r}",
            )
        return Router(self._s, name=name, pin=tier)

    @property
    def table(self) -> RoutingTable:
        """The current routing table (re-read from the store every ``table_ttl_s``)."""
        s = self._s
        if s.store is not None and time.monotonic() - s.table_read > s.table_ttl_s:
            self.reload()
        return s.table

    def reload(self) -> RoutingTable:
        s = self._s
        if s.store is not None:
            s.table = s.store.current_routing_table() or s.settings.default_table()
        s.table_read = time.monotonic()
        return s.table

    def model(self, uri: str) -> Any:
        """The ChatModel for a URI (or tier name): injected, or loaded once on first use."""
        uri = self._s.settings.resolve(uri)
        with self._s.lock:
            if uri not in self._s.models:
                if self._s.loader is not None:
                    self._s.models[uri] = self._s.loader(uri)
                else:
                    from ..models.registry import load_model

                    self._s.models[uri] = load_model(uri, self._s.app_settings)
            return self._s.models[uri]

    def tier_of(self, uri: str) -> str:
        """small | large: the router's own tier name when it is one of those, else the catalog's
        tier for the model, else by position (the first tier is small)."""
        tiers = self._s.settings.tiers
        named = [t for t, u in tiers.items() if u == uri or t == uri]
        if named and named[0] in ("small", "large"):
            return named[0]
        prof = self._s.catalog.lookup(uri)
        if prof.match:
            return prof.tier
        return "small" if named and named[0] == next(iter(tiers)) else "large"

    # -- planning -------------------------------------------------------------------------------
    def plan(self, req: RoutedRequest) -> RoutePlan:
        table, s = self.table, self._s.settings
        structural = structural_kind(req.offered_tools, req.tool_choice, req.schema)
        decision = decide_kind(
            req.messages, structural, table.routes, hints=s.hints, classifier=self._s.classifier,
            min_confidence=s.min_confidence, default=table.default,
        )
        route = table.routes.get(decision.kind) or _first_tier_route(s)
        if self.pin is not None:
            decision = KindDecision(decision.kind, structural, "pinned", decision.confidence)
            chain = [s.resolve(self.pin)]
        else:
            chain = _dedupe([s.resolve(m) for m in [route.model, *route.fallbacks]])
        return RoutePlan(decision, route, chain, table.version if table.version else None)

    # -- the ChatModel contract --------------------------------------------------------------------
    def complete(
        self,
        messages: Sequence[Message] | str,
        *,
        tools: Sequence[ToolSpec | dict[str, Any]] | None = None,
        tool_choice: ToolChoice = "auto",
        schema: Any = None,
        max_tokens: int = 512,
        temperature: float = 0.0,
        stop: list[str] | None = None,
        parallel_tool_calls: bool = True,
        task_id: str | None = None,
        parent_id: str | None = None,
        api_key_id: str | None = None,
    ) -> RoutedCompletion:
        req = self._gated(_request(messages, tools, tool_choice, schema, max_tokens, temperature,
                                   stop, parallel_tool_calls))
        plan = self.plan(req)
        ctx = self._context(req, plan, task_id, parent_id, api_key_id)
        return self._run(req, plan, ctx, 0, [])

    def stream(self, messages: Sequence[Message] | str, **kwargs: Any) -> Iterator[StreamEvent]:
        """Free text streams live from the first tier unless its answer may still be rejected
        (a verifier that can escalate); output that may escalate is checked first and then
        sent whole (constrained JSON is never streamed as prose anyway)."""
        ids = {k: kwargs.pop(k, None) for k in ("task_id", "parent_id", "api_key_id")}
        req = self._gated(_request(messages, **kwargs))
        plan = self.plan(req)
        ctx = self._context(req, plan, ids["task_id"], ids["parent_id"], ids["api_key_id"])
        if _buffered(req, plan):
            comp = self._run(req, plan, ctx, 0, [])
            if comp.text and not req.offered_tools and req.schema is None:
                yield StreamEvent(delta=comp.text)
            yield StreamEvent(completion=comp)
            return
        yield from self._stream_live(req, plan, ctx)

    def _gated(self, req: RoutedRequest) -> RoutedRequest:
        """With ``tool_gate``: offer only the tools related to the request. ``auto`` may end with
        none (answered without tools); ``required`` keeps them all when none is related."""
        gate = self._s.gate
        if gate is None or len(req.tools) == 0 or req.tool_choice not in ("auto", "required"):
            return req
        task = "\n".join(m.content or "" for m in req.messages if m.role == "user")
        keep, _ = gate.select(task, req.tools, parallel=req.parallel_tool_calls)
        if not keep and req.tool_choice == "required":
            return req
        req.offered = [t for t in req.tools if t.name in set(keep)]
        return req

    # -- running a plan ------------------------------------------------------------------------
    def _context(self, req: RoutedRequest, plan: RoutePlan, task_id: str | None,
                 parent_id: str | None, api_key_id: str | None) -> RecordContext:
        return RecordContext(
            request=req.to_openai(), content=self._s.settings.record_content,
            route=plan.decision.kind, routing_version=plan.version,
            kind_source=plan.decision.source, router=self.name, task_id=task_id,
            parent_id=parent_id, api_key_id=api_key_id, threshold=plan.route.verify_threshold,
        )

    def _run(self, req: RoutedRequest, plan: RoutePlan, ctx: RecordContext, start: int,
             done: list[esc.Attempt]) -> RoutedCompletion:
        """Try the chain from ``start``; ``done``: attempts already made (and recorded)."""
        kw = req.kwargs(plan.route.constraints)
        for i in range(start, len(plan.chain)):
            last = i == len(plan.chain) - 1
            att = self._attempt(plan.chain[i], req.messages, kw, plan.route, ctx, last)
            done.append(att)
            fatal = att.error is not None and not esc.escalates(att.error)
            retry = not att.ok and not fatal and not last
            self._record(ctx, att, i, done, escalated=retry)
            if fatal:
                raise att.error  # type: ignore[misc]
            if not retry:
                return self._finish(att, done, plan, req, ctx)
        raise AssertionError("unreachable: the last tier always returns or raises")

    def _attempt(self, uri: str, messages: list[Message], kw: dict[str, Any], route: Route,
                 ctx: RecordContext, last: bool) -> esc.Attempt:
        att = esc.Attempt(model=uri, tier=self.tier_of(uri), started=time.time())
        t0 = time.perf_counter()
        try:
            att.completion = self.model(uri).complete(messages, **kw)
        except Exception as exc:  # recorded, then escalated or re-raised by _run
            att.error, att.completion = exc, esc.spent(exc)
            att.reason = esc.error_reason(exc) if esc.escalates(exc) else f"error: {exc}"[:500]
        att.latency_s = _latency(att.completion, time.perf_counter() - t0)
        if att.error is None:
            self._check(att, route, ctx, last)
        return att

    def _check(self, att: esc.Attempt, route: Route, ctx: RecordContext, last: bool) -> None:
        """Empty replies and the verifier. Under 'escalate' the last tier is not verified: its
        answer is returned whatever it scores, so the verifier's cost would buy nothing."""
        assert att.completion is not None
        att.reason = esc.reply_problem(att.completion)
        verifier = self._s.verifier
        wanted = route.verify in ("flag", "block") or (route.verify == "escalate" and not last)
        if att.reason is None and verifier is not None and wanted:
            probe = call_record(ctx, att, 0, None, escalated=False, content=True)
            att.score = float(verifier(probe, att.completion))
            att.reason = esc.score_reason(att.score, route)

    def _finish(self, att: esc.Attempt, done: list[esc.Attempt], plan: RoutePlan,
                req: RoutedRequest, ctx: RecordContext) -> RoutedCompletion:
        if att.error is not None:
            raise _all_failed(att.error, done, plan)
        if att.score is not None and plan.route.verify == "block" and not att.ok:
            raise esc.blocked(done)
        self._shadow(plan, req, ctx, att)
        return _routed(att, done, plan, req)

    # -- streaming ---------------------------------------------------------------------------------
    def _stream_live(self, req: RoutedRequest, plan: RoutePlan,
                     ctx: RecordContext) -> Iterator[StreamEvent]:
        kw = req.kwargs(plan.route.constraints)
        uri = plan.chain[0]
        att = esc.Attempt(model=uri, tier=self.tier_of(uri), started=time.time())
        t0, sent = time.perf_counter(), False
        try:
            for ev in self.model(uri).stream(req.messages, **kw):
                if ev.completion is not None:
                    att.completion = ev.completion
                elif ev.delta:
                    sent = True
                    yield ev
        except Exception as exc:
            att.error, att.reason, att.completion = exc, esc.error_reason(exc), esc.spent(exc)
            if not esc.escalates(exc) or sent or len(plan.chain) == 1:
                att.latency_s = time.perf_counter() - t0
                self._record(ctx, att, 0, [att], escalated=False)
                raise
        att.latency_s = time.perf_counter() - t0
        if att.error is None and att.completion is not None:
            self._check(att, plan.route, ctx, len(plan.chain) == 1)
        if att.ok or sent or len(plan.chain) == 1:
            self._record(ctx, att, 0, [att], escalated=False)
            yield StreamEvent(completion=self._finish(att, [att], plan, req, ctx))
            return
        self._record(ctx, att, 0, [att], escalated=True)
        comp = self._run(req, plan, ctx, 1, [att])
        if comp.text and req.schema is None:
            yield StreamEvent(delta=comp.text)
        yield StreamEvent(completion=comp)

    # -- recording -------------------------------------------------------------------------------
    def _record(self, ctx: RecordContext, att: esc.Attempt, index: int,
                done: list[esc.Attempt], *, escalated: bool) -> None:
        store = self._s.store
        if store is None:
            return
        parent = done[-2].record_id if len(done) > 1 else ctx.parent_id
        store.record(call_record(ctx, att, index, parent, escalated=escalated))
        if att.score is not None:
            store.record_verdict(att.record_id, att.score, {
                "source": "router", "route": ctx.route, "threshold": ctx.threshold,
                "action": "escalate" if escalated else ("accept" if att.ok else "flag"),
            })

    def _shadow(self, plan: RoutePlan, req: RoutedRequest, ctx: RecordContext,
                answered: esc.Attempt) -> None:
        pool, shadow = self._s.shadows, plan.route.shadow
        if pool is None or not shadow or self.pin is not None:
            return
        uri = self._s.settings.resolve(shadow)
        pool.submit(self._run_shadow, uri, req, plan, ctx, answered.record_id)

    def _run_shadow(self, uri: str, req: RoutedRequest, plan: RoutePlan, ctx: RecordContext,
                    incumbent: str) -> None:
        att = esc.Attempt(model=uri, tier=self.tier_of(uri), started=time.time())
        t0 = time.perf_counter()
        try:
            att.completion = self.model(uri).complete(req.messages,
                                                      **req.kwargs(plan.route.constraints))
        except Exception as exc:  # a shadow never answers: its failures are only recorded
            att.error, att.reason, att.completion = exc, esc.error_reason(exc), esc.spent(exc)
        att.latency_s = time.perf_counter() - t0
        self._s.store.record(call_record(ctx, att, 0, incumbent, escalated=False,
                                         shadow_of=incumbent))

    def close(self) -> None:
        """Stop the shadow workers (waiting for running shadows)."""
        if self._s.shadows is not None:
            self._s.shadows.shutdown(wait=True)

    def __repr__(self) -> str:
        return f"Router({self.name!r}, tiers={list(self._s.settings.tiers)!r}, pin={self.pin!r})"


# -- helpers -----------------------------------------------------------------------------------
def _request(
    messages: Sequence[Message] | str, tools: Sequence[ToolSpec | dict[str, Any]] | None = None,
    tool_choice: ToolChoice = "auto", schema: Any = None, max_tokens: int = 512,
    temperature: float = 0.0, stop: list[str] | None = None, parallel_tool_calls: bool = True,
) -> RoutedRequest:
    from ..errors import UserError

    if max_tokens < 1:
        raise UserError(f"max_tokens must be ≥ 1, got {max_tokens!r}", "pass a positive number")
    return RoutedRequest(
        messages=as_messages(messages), tools=as_tools(tools), tool_choice=tool_choice,
        schema=check_schema(schema) if schema is not None else None, max_tokens=max_tokens,
        temperature=temperature, stop=stop, parallel_tool_calls=parallel_tool_calls,
    )


def _buffered(req: RoutedRequest, plan: RoutePlan) -> bool:
    """Stream whole (after checks) when the answer is structured or may be escalated."""
    structured = bool(req.offered_tools and req.tool_choice != "none") or req.schema is not None
    may_escalate = len(plan.chain) > 1 and plan.route.verify in ("escalate", "block")
    return structured or may_escalate


def _gate() -> Any:
    """The tool gate; its embedder (the bundled MiniLM) must be installed: a router configured
    with ``tool_gate`` fails when it is built, not on its first request."""
    from ..agent.retrieval import default_gate
    from ..rag.embed import minilm_dir

    minilm_dir()  # ModelNotFound, with how to install it
    return default_gate()


def _gate_note(req: RoutedRequest) -> list[str]:
    if req.offered is None:
        return []
    if not req.offered:
        return [f"router: none of the {len(req.tools)} tools relates to the request (tool gate); "
                "answered without tools"]
    names = ", ".join(t.name for t in req.offered)
    return [f"router: offered {len(req.offered)} of {len(req.tools)} tools, those related to "
            f"the request (tool gate): {names}"]


def _latency(comp: Completion | None, wall: float) -> float:
    """The backend's own latency when its completion reports one, else the wall time."""
    return comp.latency_s if comp is not None and comp.latency_s > 0 else wall


def _first_tier_route(s: RouterSettings) -> Route:
    uris = list(s.tiers.values())
    return Route(model=uris[0], fallbacks=uris[1:])


def _dedupe(uris: list[str]) -> list[str]:
    return list(dict.fromkeys(uris))


def _all_failed(last: BaseException, done: list[esc.Attempt], plan: RoutePlan) -> BaseException:
    if len(done) == 1 or not isinstance(last, SlmstackError):
        return last
    reasons = "; ".join(f"{a.model}: {a.reason}" for a in done)
    return type(last)(f"every tier of route {plan.decision.kind!r} failed ({reasons})", last.hint)


def _routed(att: esc.Attempt, done: list[esc.Attempt], plan: RoutePlan,
            req: RoutedRequest) -> RoutedCompletion:
    assert att.completion is not None
    usage = sum((a.completion.usage for a in done if a.completion), Usage())
    repairs = list(att.completion.repairs) + _gate_note(req) + [
        f"router: {a.model} rejected ({a.reason}); escalated" for a in done[:-1]
    ]
    data = att.completion.model_dump()
    data |= {
        "usage": usage, "repairs": repairs,
        "cost_usd": sum(a.completion.cost_usd for a in done if a.completion),
        "latency_s": sum(a.latency_s for a in done),
        "route": plan.decision.kind, "routing_version": plan.version,
        "kind_source": plan.decision.source, "attempts": [a.summary() for a in done],
    }
    return RoutedCompletion.model_validate(data)
