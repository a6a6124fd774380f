"""Tool retrieval: tool descriptions live in the same index as documents (kind ``tool``, path
``tool:<name>``, the spec kept as metadata), so an agent with hundreds of tools offers the model
only the few that fit the task."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..types import ToolSpec
from .ingest import Ingester
from .records import Chunk, DocumentMeta, Filters
from .search import KnowledgeBase, Mode
from .text import content_hash

TOOL_KIND = "tool"
_TOOLS = Filters(kinds=[TOOL_KIND])


def tool_words(name: str) -> str:
    """``geometry.area_circle`` → ``geometry area circle``; camelCase split too."""
    return re.sub(r"[._\-/:]+", " ", re.sub(r"([a-z])([A-Z])", r"\1 \2", name)).strip()


def tool_text(spec: ToolSpec) -> str:
    """A tool's description and its parameters in words (its name is the chunk's heading, which
    BM25 weighs double): each parameter's name split into words, its description and its allowed
    values, nested object and array-item fields included."""
    params = _params(spec.parameters.get("properties") or {})
    return "\n".join([spec.description] + (["Parameters: " + "; ".join(params)] if params else []))


MAX_ENUM = 12  # allowed values written per parameter
MAX_DEPTH = 3  # nesting of object / array-item properties followed


def _params(props: dict, depth: int = 0) -> list[str]:
    out: list[str] = []
    for pname, prop in props.items():
        prop = prop if isinstance(prop, dict) else {}
        items = prop.get("items") if isinstance(prop.get("items"), dict) else {}
        words = tool_words(str(pname)).lower()
        desc = str(prop.get("description", "")).strip()
        line = f"{words}: {desc}" if desc else words
        values = prop.get("enum") or items.get("enum") or []
        if isinstance(values, list) and values:
            line += " (" + ", ".join(str(v) for v in values[:MAX_ENUM]) + ")"
        out.append(line)
        inner = prop.get("properties") or items.get("properties")
        if isinstance(inner, dict) and depth < MAX_DEPTH:
            out.extend(_params(inner, depth + 1))
    return out


class ToolIndex:
    """Add ``ToolSpec``s to a knowledge base; ``select`` returns the relevant few, best first."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb

    def add(self, specs: Iterable[ToolSpec]) -> int:
        """Index (or re-index, when changed) each tool; returns how many were (re)written."""
        docs = self.kb.index.documents()
        todo = []
        for spec in specs:
            heading, text = tool_words(spec.name), tool_text(spec)
            sha = content_hash(spec.model_dump_json())
            path = f"tool:{spec.name}"
            if path in docs and docs[path].sha256 == sha:
                continue
            meta = DocumentMeta(path, sha, TOOL_KIND, meta={"spec": spec.model_dump()})
            todo.append((meta, [Chunk(text, 0, heading, None, content_hash(f"{heading}\n{text}"))]))
        Ingester(self.kb).write_many(todo)
        return len(todo)

    def remove(self, name: str) -> None:
        self.kb.index.delete_document(f"tool:{name}")

    def specs(self) -> dict[str, ToolSpec]:
        return {p[5:]: ToolSpec.model_validate(d.meta["spec"])
                for p, d in self.kb.index.documents().items() if d.kind == TOOL_KIND}

    def select(self, task: str, k: int = 5, mode: Mode | str = "hybrid") -> list[ToolSpec]:
        """The ``k`` tools most related to ``task``."""
        names = self.rank(task, k, mode)
        specs = self.specs()
        return [specs[n] for n in names if n in specs]

    def rank(self, task: str, k: int = 5, mode: Mode | str = "hybrid") -> list[str]:
        """Tool names, best first."""
        hits = self.kb.search(task, k, mode, _TOOLS)
        return [h.path[5:] for h in hits]
