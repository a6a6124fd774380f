"""Knowledge-base tools for an agent: plain typed functions (search, read a passage, open the
neighbouring chunks). ``kb_tools(kb)`` returns them bound to one knowledge base, ready for the
agent runtime's tool registry; passages come back as plain dicts (``Passage`` fields), which the
registry renders as JSON. What they return is *data* to quote and cite, never instructions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import BaseModel, Field

from ..errors import ModelRetry
from .records import Filters, Hit
from .search import KnowledgeBase


class Passage(BaseModel):
    """A chunk of a document, with the citation to use when quoting it."""

    chunk_id: int
    citation: str
    source: str
    page: int | None
    heading: str
    text: str
    score: float = 0.0

    @classmethod
    def of(cls, hit: Hit) -> Passage:
        return cls(chunk_id=hit.chunk_id, citation=hit.citation, source=hit.source,
                   page=hit.page, heading=hit.heading, text=hit.text, score=round(hit.score, 4))


def kb_tools(
    kb: KnowledgeBase, *, max_k: int = 20, max_around: int = 5, shown: set[int] | None = None
) -> list[Callable[..., Any]]:
    """``[kb_search, kb_read, kb_neighbours]`` bound to ``kb``. ``max_k`` / ``max_around`` bound
    how many passages one call may return (the bounds are in the tools' schemas, so a
    constrained model cannot ask for more): a small model's context holds only a few.

    ``shown``: the chunk ids the model already has in its transcript (e.g. the passages a run
    starts from). A search or a neighbour call that finds one of them returns a stub
    (``chunk_id``, ``citation``, ``"already_shown": true``) instead of its text again, and every
    passage returned in full joins the set: a small model that repeats the search it was given
    gets a short "nothing new" instead of the same passages re-quoted, which costs prompt time
    and pushes the context to fold. ``kb_read`` always returns the text (it is asked for by id).
    """

    def out(hits: list[Hit]) -> list[dict[str, Any]]:
        if shown is None:
            return [Passage.of(h).model_dump() for h in hits]
        rows = []
        for h in hits:
            if h.chunk_id in shown:
                rows.append({"chunk_id": h.chunk_id, "citation": h.citation,
                             "already_shown": True})
            else:
                shown.add(h.chunk_id)
                rows.append(Passage.of(h).model_dump())
        return rows

    def kb_search(
        query: str, k: int = min(5, max_k), path: str | None = None
    ) -> list[dict[str, Any]]:
        """Search the knowledge base for passages about a question.

        Args:
            query: what to look for, in words.
            k: how many passages to return.
            path: only files whose path matches this glob, e.g. "*/contracts/*".
        """
        if not query.strip():
            raise ModelRetry("the query is empty", "write what to look for, in words")
        if not 1 <= k <= max_k:
            raise ModelRetry(f"k must be between 1 and {max_k}, got {k!r}", "pass a smaller k")
        return out(kb.search(query, k, "hybrid", Filters(path=path) if path else None))

    def kb_read(chunk_id: int) -> Passage:
        """Read one passage in full by its chunk_id (from kb_search).

        Args:
            chunk_id: the passage's id.
        """
        hits = kb.index.get([chunk_id])
        if not hits:
            raise ModelRetry(f"no passage with chunk_id {chunk_id!r}", "use an id from kb_search")
        return Passage.of(hits[0])

    def kb_neighbours(chunk_id: int, before: int = min(1, max_around),
                      after: int = min(1, max_around)) -> list[dict[str, Any]]:
        """Open the passages just before and after a passage in its document.

        Args:
            chunk_id: the passage's id.
            before: how many passages before it.
            after: how many passages after it.
        """
        if not (0 <= before <= max_around and 0 <= after <= max_around):
            raise ModelRetry(f"before/after must be 0-{max_around}, got {before!r}/{after!r}",
                             "ask fewer")
        hits = kb.index.neighbours(chunk_id, before, after)
        if not hits:
            raise ModelRetry(f"no passage with chunk_id {chunk_id!r}", "use an id from kb_search")
        return out(hits)

    # the bounds as schema constraints (real objects: these names are local, not module-level)
    kb_search.__annotations__["k"] = Annotated[int, Field(ge=1, le=max_k)]
    around = Annotated[int, Field(ge=0, le=max_around)]
    kb_neighbours.__annotations__.update(before=around, after=around)
    return [kb_search, kb_read, kb_neighbours]
