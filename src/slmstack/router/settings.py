"""Settings of the router: its tiers, the default routing table, the classifier, the hints.

Read from the ``[router]`` table of slmstack.toml (kept raw by ``Settings``)::

    [router]
    name = "slmstack/auto"                      # the virtual model name of the router
    tiers = { small = "embedded:smollm2-135m", large = "gguf:/models/qwen.gguf" }  # cheap first
    classifier = "~/.cache/slmstack/router-classifier"   # optional: a trained TaskClassifier
    min_confidence = 0.6
    tool_gate = true                            # offer each request only its related tools

    [router.routes.tool_call]                   # optional: routes by task kind
    model = "small"                             # a tier name or a model URI
    fallbacks = ["large"]                       # the escalation chain, in order
    constraints = { max_tokens = 256 }
    verify = "escalate"                         # off | flag | escalate | block
    verify_threshold = 0.5

``tool_gate``: a request with tools and ``tool_choice`` auto (or required) offers the tiers only
the tools related to it (``agent.default_gate``: MiniLM similarity of the request to each
tool's name, description and parameters). Small models call *some* tool whenever tools are
offered; with none related, an ``auto`` request is answered without tools — how a small model
says "no tool fits" — and routed as chat. ``required`` keeps every tool when none is related.
Pinned views (``slmstack/<tier>``) are gated too: the gate prepares the request, it does not
pick the tier. The completion's ``repairs`` say what the gate did; the trace records the request
as the caller sent it.

Without ``routes`` every task kind starts on the first tier and escalates through the others.
The store's current routing table, when there is one, replaces this default table.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, field_validator

from ..config import DEFAULT_MODEL, Section
from ..store.records import Route, RoutingTable

VIRTUAL_PREFIX = "slmstack/"
STRUCTURAL_KINDS = ("tool_call", "extract", "chat")
DEFAULT_HINTS: dict[str, str] = {
    r"\bextract|\bparse\b|\bfill (in|out)\b": "extract",
    r"\bclassif|\bcategori[sz]e|\blabel\b": "classify",
    r"\bsummar": "summarize",
    r"\btranslat": "translate",
    r"\b(solve|math|arithmetic|calculate|step by step)\b": "math",
    r"\b(write|review|debug|fix) (the |this |a )?(code|function|program|script)\b": "code",
}
"""System-prompt patterns (regex, case-insensitive) → task kind; a hint only counts when the
routing table has a route for that kind."""


class RouterSettings(Section):
    section: ClassVar[str] = "router"

    name: str = "slmstack/auto"
    tiers: dict[str, str] = Field(default_factory=lambda: {"small": DEFAULT_MODEL})
    routes: dict[str, Route] = Field(default_factory=dict)
    default_route: str = "chat"
    classifier: str | None = None  # folder written by TaskClassifier.save (meta.json inside)
    min_confidence: float = Field(default=0.5, ge=0, le=1)
    hints: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_HINTS))
    shadow_workers: int = Field(default=1, ge=0)  # threads running shadow models; 0: none
    record_content: bool = True  # False: records keep tokens, cost, route — not the messages
    tool_gate: bool = False  # offer only the tools related to the request (see the docstring)

    @field_validator("tiers")
    @classmethod
    def _tiers(cls, tiers: dict[str, str]) -> dict[str, str]:
        if not tiers:
            raise ValueError("router.tiers is empty; name at least one model, cheapest first")
        for tier, uri in tiers.items():
            if not tier or "/" in tier or not uri:
                raise ValueError(f"tier {tier!r} = {uri!r}: a tier is a short name and a URI")
        return tiers

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        if not name.startswith(VIRTUAL_PREFIX) or name == VIRTUAL_PREFIX:
            raise ValueError(f"router.name {name!r} must look like 'slmstack/<something>'")
        return name

    # -- derived ------------------------------------------------------------------------------
    def resolve(self, model: str) -> str:
        """A tier name → its model URI; anything else is already a URI."""
        return self.tiers.get(model, model)

    def virtual_names(self) -> list[str]:
        """The router's own name, then ``slmstack/<tier>`` for each tier (pinned, no routing)."""
        pinned = [VIRTUAL_PREFIX + tier for tier in self.tiers]
        return [self.name, *[n for n in pinned if n != self.name]]

    def default_table(self) -> RoutingTable:
        """The table used while the store holds none: the configured routes, or every
        structural kind on the cheapest tier escalating through the rest; URIs resolved."""
        uris = list(self.tiers.values())
        routes = dict(self.routes) or {
            kind: Route(model=uris[0], fallbacks=uris[1:]) for kind in STRUCTURAL_KINDS
        }
        resolved = {kind: self._resolved(r) for kind, r in routes.items()}
        default = self.default_route if self.default_route in resolved else next(iter(resolved))
        return RoutingTable(version=0, routes=resolved, default=default, note="from settings")

    def _resolved(self, route: Route) -> Route:
        return route.model_copy(update={
            "model": self.resolve(route.model),
            "fallbacks": [self.resolve(m) for m in route.fallbacks],
            "shadow": self.resolve(route.shadow) if route.shadow else None,
        })
