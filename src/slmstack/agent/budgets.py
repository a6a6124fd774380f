"""Budgets: steps, tokens, wall-clock and cost, each with its own stop reason."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from pydantic import BaseModel, Field, model_validator

from ..errors import UserError
from ..types import Usage
from .records import StopReason


class Budgets(BaseModel):
    """Limits for one run. ``None`` means no limit."""

    max_steps: int = Field(8, ge=1)  # model calls
    max_tokens: int | None = Field(None, ge=1)  # input + output tokens over the whole run
    timeout_s: float | None = Field(None, gt=0)  # wall-clock, checked between steps
    max_cost_usd: float | None = Field(None, ge=0)
    max_retries: int = Field(2, ge=0)  # consecutive rejected model outputs before "error"
    max_output_tokens: int = Field(384, ge=1)  # per model call

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: object) -> object:
        if isinstance(data, dict):
            unknown = set(data) - set(cls.model_fields)
            if unknown:
                raise UserError(
                    f"unknown budget keys {sorted(unknown)!r}",
                    f"use only {sorted(cls.model_fields)!r}",
                )
        return data


@dataclass
class Spend:
    """What a run has used so far, checked against its budgets before every model call."""

    budgets: Budgets
    started: float = field(default_factory=time.perf_counter)
    steps: int = 0
    usage: Usage = field(default_factory=Usage)
    cost_usd: float = 0.0

    @property
    def wall_s(self) -> float:
        return time.perf_counter() - self.started

    def add(self, usage: Usage, cost_usd: float) -> None:
        self.usage = self.usage + usage
        self.cost_usd += cost_usd

    def exceeded(self) -> tuple[StopReason, str] | None:
        b = self.budgets
        if self.steps >= b.max_steps:
            return "max_steps", f"used all {b.max_steps} model steps"
        if b.max_tokens is not None and self.usage.total_tokens >= b.max_tokens:
            return "max_tokens", f"used {self.usage.total_tokens} of {b.max_tokens} tokens"
        if b.timeout_s is not None and self.wall_s >= b.timeout_s:
            return "timeout", f"ran {self.wall_s:.2f}s of {b.timeout_s:g}s"
        if b.max_cost_usd is not None and self.cost_usd >= b.max_cost_usd:
            return "budget", f"spent ${self.cost_usd:.6f} of ${b.max_cost_usd:g}"
        return None

    def output_tokens(self) -> int:
        """Per-call output cap: never more than what the token budget has left."""
        cap = self.budgets.max_output_tokens
        if self.budgets.max_tokens is not None:
            cap = min(cap, max(1, self.budgets.max_tokens - self.usage.total_tokens))
        return cap
