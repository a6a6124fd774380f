"""Loop detection: the same call repeated, A-B-A-B oscillation, steps that add no new information.

The guard sees each model turn's tool calls and the observations they produced. The loop acts on
a detection in steps: a corrective message and one turn in which the looping tools are not
offered (the model may answer or use another tool); on a second detection — which includes
calling, after the warning, anything whose result is already known — a corrective message and one
turn with no tools at all; if the model still does not answer, the run stops with
``stop_reason="loop"`` and its partial result. With ``warn=False`` the first detection stops.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from pydantic import BaseModel, Field

from ..types import ToolCall


class LoopPolicy(BaseModel):
    repeats: int = Field(2, ge=2)  # the same turn this many times in a row is a loop
    oscillation: int = Field(2, ge=2)  # an A-B cycle seen this many times in a row
    stale_steps: int = Field(3, ge=1)  # this many turns in a row with only already-seen results
    warn: bool = True  # first a corrective message and a turn to answer, then stop


def signature(calls: list[ToolCall]) -> str:
    """One turn's calls, independent of ids and argument order."""
    items = sorted(json.dumps([c.name, c.arguments], sort_keys=True, default=str) for c in calls)
    return "|".join(items)


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "replace"), digest_size=12).hexdigest()


@dataclass
class Detection:
    kind: str  # repeat | oscillation | stale
    detail: str
    tools: set[str]  # the tools the pattern is made of


@dataclass
class LoopGuard:
    policy: LoopPolicy = field(default_factory=LoopPolicy)
    turns: list[str] = field(default_factory=list)
    names: list[set[str]] = field(default_factory=list)
    seen_outputs: set[str] = field(default_factory=set)
    stale_run: int = 0
    detections: int = 0

    def observe(
        self, calls: list[ToolCall], outputs: list[str], *, known: bool = False
    ) -> Detection | None:
        """Record one turn (its calls and their observations); a Detection when it loops.
        ``known``: every call in the turn had already been answered earlier in the run."""
        self.turns.append(signature(calls))
        self.names.append({c.name for c in calls})
        fresh = [o for o in outputs if _digest(o) not in self.seen_outputs]
        self.seen_outputs.update(_digest(o) for o in outputs)
        self.stale_run = 0 if fresh else self.stale_run + 1
        found = (
            self._repeat(calls)
            or self._oscillation()
            or self._stale()
            or self._again(calls, known)
        )
        if found:
            self.detections += 1
        return found

    def should_stop(self) -> bool:
        return self.detections > (2 if self.policy.warn else 0)

    def _again(self, calls: list[ToolCall], known: bool) -> Detection | None:
        if known and self.detections:
            return Detection("repeat", f"{_calls_text(calls)} again after the warning",
                             {c.name for c in calls})
        return None

    def _tools(self, turns: int) -> set[str]:
        return set().union(*self.names[-turns:])

    def _repeat(self, calls: list[ToolCall]) -> Detection | None:
        n = self.policy.repeats
        tail = self.turns[-n:]
        if len(tail) == n and len(set(tail)) == 1:
            return Detection("repeat", f"the same call {_calls_text(calls)} {n} times in a row",
                             self._tools(1))
        return None

    def _oscillation(self) -> Detection | None:
        k = self.policy.oscillation
        tail = self.turns[-2 * k :]
        if len(tail) < 2 * k or tail[0] == tail[1]:
            return None
        if all(t == tail[i % 2] for i, t in enumerate(tail)):
            return Detection("oscillation", f"alternating between the same two calls {k} times",
                             self._tools(2))
        return None

    def _stale(self) -> Detection | None:
        n = self.policy.stale_steps
        if self.stale_run >= n:
            return Detection("stale", f"{n} steps in a row returned nothing new", self._tools(n))
        return None


def _calls_text(calls: list[ToolCall]) -> str:
    return ", ".join(f"{c.name}({json.dumps(c.arguments, default=str)})" for c in calls)
