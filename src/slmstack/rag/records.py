"""Plain records: converted sections, chunks, documents, search hits, metadata filters."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Section:
    """A run of markdown from one page (or slide / sheet) of a converted file."""

    text: str
    page: int | None = None


@dataclass
class Chunk:
    """A piece of a document small enough to embed, with where it came from."""

    text: str
    ordinal: int
    heading: str = ""  # the heading path, "Install > From source"
    page: int | None = None
    hash: str = ""  # sha256 of the normalised text (dedup, embedding reuse)


@dataclass
class DocumentMeta:
    """One source: a file (``path`` is its absolute path) or a tool (``tool:<name>``)."""

    path: str
    sha256: str
    kind: str
    mtime: float = 0.0
    size: int = 0
    duplicate_of: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class Hit:
    """A chunk returned by a search, with its score and citation."""

    chunk_id: int
    path: str
    text: str
    heading: str = ""
    page: int | None = None
    ordinal: int = 0
    kind: str = ""
    score: float = 0.0
    mtime: float = 0.0

    @property
    def source(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def citation(self) -> str:
        """``[source:page]``; for a file without pages, the section heading stands for the page."""
        where = str(self.page) if self.page is not None else (self.heading.split(" > ")[-1] or "1")
        return f"[{self.source}:{where}]"


@dataclass
class Filters:
    """Metadata filters: a path glob, document kinds, and a modification-time window."""

    path: str | None = None  # fnmatch glob over the absolute path, e.g. "*/contracts/*"
    kinds: list[str] | None = None  # e.g. ["pdf", "md"]
    since: float | None = None  # mtime ≥ since (unix seconds)
    until: float | None = None

    def empty(self) -> bool:
        return self.path is None and not self.kinds and self.since is None and self.until is None

    def accepts(self, hit: Hit) -> bool:
        return (
            (self.path is None or fnmatch.fnmatchcase(hit.path, self.path))
            and (not self.kinds or hit.kind in self.kinds)
            and (self.since is None or hit.mtime >= self.since)
            and (self.until is None or hit.mtime <= self.until)
        )
