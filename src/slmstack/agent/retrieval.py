"""Tool retrieval: offer a model only the tools that relate to the task.

Small models call *some* tool whenever tools are offered; they rarely decline on their own. A
gate in front of the model ranks the tools by embedding similarity between the task and each
tool's name and description (the bundled all-MiniLM-L6-v2) and keeps those above a threshold.
When none is related, the model is offered no tools and answers in words — that is how a 135M
model says "no tool fits". Fewer, related tools also leave fewer wrong choices.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..models.grounding import without_quotations
from ..rag.tooldocs import GATE_THRESHOLD, GateVectors, aspects, shared_gate_vectors
from ..types import ToolSpec

Embed = Callable[[list[str]], Any]  # texts -> L2-normalised rows
DEFAULT_THRESHOLD = GATE_THRESHOLD  # all-MiniLM-L6-v2 cosine; see rag.tooldocs


@dataclass
class ToolGate:
    """Offer the tools whose similarity to the task clears ``threshold``; with a ``margin``,
    only those within ``margin`` of the best one. A request for one call needs one tool, so a
    narrow margin there leaves the model near-ties only. A request that may need several calls
    (``parallel``) asks for several things at once, which dilutes its similarity to each tool:
    it uses ``parallel_threshold`` and the wider ``parallel_margin`` where they are set, and
    each of its parts ("First, … Then, … Finally, …": ``tooldocs.aspects``) is gated too, as a
    request for one call: a tool asked for by one part only can score low against the whole
    ("… plan a trip from New York to Los Angeles, but I want to avoid tolls …" inside four
    tasks), and is offered when it clears ``threshold`` and ``margin`` against that part."""

    threshold: float = DEFAULT_THRESHOLD
    top_k: int | None = None  # at most this many tools (None: all above the threshold)
    margin: float | None = None  # keep tools scoring ≥ best - margin (None: no such limit)
    parallel_margin: float | None = None  # the margin when several calls may be needed
    parallel_threshold: float | None = None  # the threshold then (None: ``threshold``)
    # a tool scoring ≥ confident: a first reply in words is asked again as a call (tool_choice
    # "required"); asked what a tool is for, a small model otherwise answers from memory
    confident: float | None = None
    embed: Embed | None = None  # default: the bundled MiniLM
    _vectors: GateVectors | None = field(default=None, repr=False)

    def scores(self, task: str, specs: Sequence[ToolSpec]) -> dict[str, float]:
        if self._vectors is None:
            self._vectors = (GateVectors(self.embed) if self.embed is not None
                             else shared_gate_vectors())
        rows = self._vectors.rows(specs)
        query = self._vectors.embed([task])[0]
        return {s.name: float(query @ row) for s, row in zip(specs, rows, strict=True)}

    def select(
        self, task: str, specs: Sequence[ToolSpec], *, parallel: bool = False
    ) -> tuple[list[str], dict[str, float]]:
        """Names of the tools to offer, best first, and every tool's score (a tool a part of the
        request offers: its score against that part, listed after the others). A request for one
        call is also scored with what it quotes left out (a long email body or review dilutes
        its similarity to the tool that sends or reads it); each tool keeps the better score.
        Not a request for several calls: one often quotes itself whole, and its wider margin
        would drop tools when one score rises."""
        scores = self.scores(task, specs)
        if not parallel and (bare := without_quotations(task)) != task:
            alone = self.scores(bare, specs)
            scores = {n: max(v, alone[n]) for n, v in scores.items()}
        floor = self.threshold
        if parallel and self.parallel_threshold is not None:
            floor = self.parallel_threshold
        margin = self.parallel_margin if parallel else self.margin
        if margin is not None and scores:
            floor = max(floor, max(scores.values()) - margin)
        ranked = sorted((n for n in scores if scores[n] >= floor), key=scores.__getitem__,
                        reverse=True)
        if parallel:
            by_part = self._by_parts(task, specs, set(ranked))
            ranked += sorted(by_part, key=by_part.__getitem__, reverse=True)
            scores |= by_part
        return ranked[: self.top_k] if self.top_k else ranked, scores

    def _by_parts(self, task: str, specs: Sequence[ToolSpec], kept: set[str]
                  ) -> dict[str, float]:
        """The tools not in ``kept`` that a part of ``task`` offers, gated as a request for one
        call, each with its best part's score."""
        found: dict[str, float] = {}
        for part in aspects(task):
            scores = self.scores(part, specs)
            if not scores:
                break
            floor = self.threshold
            if self.margin is not None:
                floor = max(floor, max(scores.values()) - self.margin)
            for name, score in scores.items():
                if score >= floor and name not in kept:
                    found[name] = max(found.get(name, score), score)
        return found


def default_gate() -> ToolGate:
    """The gate slmstack uses for small models (the BFCL agent runner, ``[router] tool_gate``).
    A request for one call offers the tools scoring ≥ 0.35 and within 0.1 of the best (near-ties
    only: one call needs one tool); a request that may need several calls, whose similarity to
    each tool is diluted by its other parts, offers those ≥ 0.15 and within 0.3 of the best.
    Chosen on a dev slice of BFCL (every 5th case of each category); the same settings for
    every category. With a tool scoring ≥ 0.5 a first reply in words is asked again as a call
    (``confident``: set a priori, not fitted; the agent's grounding check still declines a call
    whose required values the request does not give, which is how an unrelated question still
    gets no call)."""
    return ToolGate(threshold=0.35, margin=0.1, parallel_threshold=0.15, parallel_margin=0.3,
                    confident=0.5)


