"""Which task kind a request is: first from its structure, then from its system prompt, then
(for free text) from the learned classifier.

* tools offered (and ``tool_choice`` not ``"none"``) → ``tool_call``;
* an output JSON Schema (``response_format``) → ``extract``;
* otherwise ``chat``, unless a system-prompt hint or the classifier names a kind the routing
  table has a route for.

Classifier labels refine kinds: for a free-text (``chat``) request any label with a route wins;
a structured request only takes labels of its own family, ``"<kind>/<sub>"`` (e.g.
``"tool_call/parallel"``), so a classifier can never turn a tool call into a chat.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from ..types import Message, ToolSpec


class Classifier(Protocol):
    def predict(self, text: str) -> tuple[str, float]: ...


@dataclass(frozen=True)
class KindDecision:
    """The task kind chosen for a request, and what decided it."""

    kind: str  # the route key used
    structural: str  # tool_call | extract | chat
    source: str  # structure | hint | classifier | default
    confidence: float | None = None  # the classifier's probability, when it decided


def structural_kind(
    tools: Sequence[ToolSpec | dict[str, Any]] | None, tool_choice: Any, schema: Any
) -> str:
    if tools and tool_choice != "none":
        return "tool_call"
    if schema is not None:
        return "extract"
    return "chat"


def request_text(messages: Sequence[Message], limit: int = 2000) -> str:
    """What the classifier reads: the system prompt and the last user turn."""
    system = next((m.content for m in messages if m.role == "system" and m.content), "")
    user = next((m.content for m in reversed(messages) if m.role == "user" and m.content), "")
    return "\n".join(p for p in (system, user) if p)[:limit]


@lru_cache(maxsize=64)
def _pattern(regex: str) -> re.Pattern[str]:
    return re.compile(regex, re.IGNORECASE)


def hinted_kind(messages: Sequence[Message], hints: dict[str, str]) -> str | None:
    system = " ".join(m.content or "" for m in messages if m.role == "system")
    if not system:
        return None
    return next((kind for rx, kind in hints.items() if _pattern(rx).search(system)), None)


def fits(label: str, structural: str) -> bool:
    """May a classifier/hint label refine a request of this structural kind?"""
    return structural == "chat" or label.split("/", 1)[0] == structural


def decide_kind(
    messages: Sequence[Message],
    structural: str,
    routes: Any,
    *,
    hints: dict[str, str] | None = None,
    classifier: Classifier | None = None,
    min_confidence: float = 0.5,
    default: str = "chat",
) -> KindDecision:
    """The route key for a request (``routes``: the routing table's kinds; ``default``: the
    table's default route, used when no route matches)."""
    hint = hinted_kind(messages, hints or {})
    if hint and hint in routes and fits(hint, structural):
        return KindDecision(hint, structural, "hint")
    if classifier is not None:
        label, prob = classifier.predict(request_text(messages))
        if prob >= min_confidence and label in routes and fits(label, structural):
            return KindDecision(label, structural, "classifier", prob)
    if structural in routes:
        return KindDecision(structural, structural, "structure")
    return KindDecision(default, structural, "default")
