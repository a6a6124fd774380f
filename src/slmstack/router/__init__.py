"""Router: task kind → model tier by a versioned routing table, with escalation.

``build_router(settings, store=..., models=...)`` gives a ``Router`` — itself a ``ChatModel`` —
that the gateway exposes under the names ``virtual_models(settings)`` returns (``slmstack/auto``
routes; ``slmstack/<tier>`` pins one tier). The task kind comes from the request's structure
(tools → ``tool_call``, an output schema → ``extract``, else ``chat``), system-prompt hints and,
for free text, a ``TaskClassifier`` on the bundled MiniLM embeddings. An answer that fails schema
or tool-argument validation, comes back empty, hits a down backend, or scores under the route's
verifier threshold is retried on the next tier; every call is recorded with its route, the
routing-table version and the reason it was escalated.

Verifiers shipped here (any ``(CallRecord, Completion) -> score`` works, e.g.
``slmstack.verify.ProcessVerifier().score_call``): ``GroundingVerifier`` (tool calls: the right
function, argument values taken from the request; free), ``AgreementVerifier`` (self-consistency
of re-sampled answers; a few calls on the judged tier), combined cheapest first by ``all_of``.
"""

from __future__ import annotations

from typing import Any

from .build import build_router, virtual_models
from .consistency import AgreementVerifier
from .escalation import Attempt, VerificationBlocked, Verifier, all_of
from .grounding import GroundingVerifier
from .kinds import KindDecision, decide_kind, structural_kind
from .router import RoutedCompletion, RoutePlan, Router
from .settings import RouterSettings

__all__ = [
    "AgreementVerifier",
    "Attempt",
    "GroundingVerifier",
    "KindDecision",
    "RoutePlan",
    "RoutedCompletion",
    "Router",
    "RouterSettings",
    "TaskClassifier",
    "VerificationBlocked",
    "Verifier",
    "all_of",
    "build_router",
    "decide_kind",
    "structural_kind",
    "virtual_models",
]


def __getattr__(name: str) -> Any:
    if name == "TaskClassifier":  # numpy/sklearn load on first use
        from .classifier import TaskClassifier

        return TaskClassifier
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
