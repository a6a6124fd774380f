"""Records shared by the trace store, the router, the gateway and distillation.

One schema end to end: the gateway/router write ``CallRecord``s, the store keeps exactly them,
distillation reads them back, and promotion writes a new ``RoutingTable`` version.
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field


def new_id() -> str:
    return uuid.uuid4().hex


class CallRecord(BaseModel):
    """One model call as the stack saw it (OpenAI-shaped request and response)."""

    id: str = Field(default_factory=new_id)
    task_id: str | None = None  # groups the calls of one agent run / one client task
    parent_id: str | None = None  # the step or call this one belongs to
    ts: float = Field(default_factory=time.time)  # start, unix seconds
    route: str | None = None  # task kind the router chose, e.g. "tool_call", "extract", "chat"
    routing_version: int | None = None
    model: str = ""  # model URI that served it
    tier: str = "small"  # small | large (from the catalog profile)
    request: dict[str, Any] = Field(default_factory=dict)  # messages, tools, tool_choice, ...
    response: dict[str, Any] = Field(default_factory=dict)  # text, tool_calls, parsed
    input_tokens: int = 0
    output_tokens: int = 0
    latency_s: float = 0.0
    cost_usd: float = 0.0
    escalated: bool = False  # this call's result was rejected and retried on a higher tier
    escalation_reason: str | None = None
    verdict_score: float | None = None  # reasoning-integrity score in [0, 1] when verified
    shadow_of: str | None = None  # id of the incumbent call this shadow call mirrored
    error: str | None = None
    api_key_id: str | None = None


class Route(BaseModel):
    """Where one task kind goes: a model, then fallbacks/escalation tiers in order."""

    model: str
    fallbacks: list[str] = Field(default_factory=list)
    constraints: dict[str, Any] = Field(default_factory=dict)  # e.g. {"max_tokens": 256}
    verify: Literal["off", "flag", "escalate", "block"] = "off"
    verify_threshold: float = 0.5
    shadow: str | None = None  # candidate model run beside the incumbent, never answering


class RoutingTable(BaseModel):
    """Task kind → route. Data, versioned in the store; promotion/rollback write a new version."""

    version: int = 0
    routes: dict[str, Route] = Field(default_factory=dict)
    default: str = "chat"  # the route used when no kind matches
    created_at: float = Field(default_factory=time.time)
    note: str = ""
