"""Structure-aware chunking of markdown: headings start a chunk, paragraphs and fenced code blocks
are packed whole up to ``max_chars``, long blocks are cut at sentence (prose) or line (code)
boundaries, and a chunk that continues a section repeats the last whole sentences of the previous
one (overlap).
Duplicate chunks inside a document are dropped by content hash."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from .records import Chunk, Section
from .text import content_hash

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_LINK = re.compile(r"!?\[([^\]]*)\]\((?:[^()\s]|\([^()]*\))*(?:\s+\"[^\"]*\")?\)")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_ESCAPED = re.compile(r"\\([_*\[\]`#<>\\])")


@dataclass
class Block:
    text: str
    heading_level: int = 0  # > 0: a heading of that level
    code: bool = False


def clean(text: str) -> str:
    """Links and images become their text; markdown escapes and Sphinx's '¶' anchors go."""
    return _ESCAPED.sub(r"\1", _LINK.sub(lambda m: m.group(1), text)).replace("¶", "")


def blocks(markdown: str) -> Iterator[Block]:
    """Split markdown into headings, fenced code blocks and paragraphs."""
    para: list[str] = []
    lines = iter(markdown.splitlines())
    for line in lines:
        fence = _FENCE.match(line)
        heading = _HEADING.match(line)
        if fence or heading or not line.strip():
            if para:
                yield Block(clean("\n".join(para)))
                para = []
        if fence:
            yield Block(_read_fence(line, fence.group(1), lines), code=True)
        elif heading:
            yield Block(clean(heading.group(2)).strip(), heading_level=len(heading.group(1)))
        elif line.strip():
            para.append(line.rstrip())
    if para:
        yield Block(clean("\n".join(para)))


def _read_fence(first: str, marker: str, lines: Iterator[str]) -> str:
    body = [first]
    for line in lines:
        body.append(line)
        if line.strip().startswith(marker):
            break
    return "\n".join(body)


@dataclass
class Chunker:
    max_chars: int = 1000
    overlap: int = 150
    _out: list[Chunk] = field(default_factory=list)
    _heads: list[tuple[int, str]] = field(default_factory=list)
    _bare: int = 0  # how many of the innermost open headings no chunk sits under yet
    _cur: list[str] = field(default_factory=list)
    _page: int | None = None
    _code: bool = False  # the last piece added is code

    def chunk(self, sections: list[Section]) -> list[Chunk]:
        self._out, self._heads, self._cur, self._bare = [], [], [], 0
        for section in sections:
            self._page = section.page
            for block in blocks(section.text):
                self._add(block)
            self._flush()
        self._close_headings(0)
        return _dedup(self._out)

    def _add(self, block: Block) -> None:
        if block.heading_level:
            self._flush()
            self._close_headings(block.heading_level)
            self._heads.append((block.heading_level, block.text))
            self._bare += 1
            return
        for piece in _split(block, self.max_chars):
            if self._cur and _size(self._cur) + len(piece) > self.max_chars:
                tail = _tail("\n\n".join(self._cur), self.overlap, self._code)
                self._flush()
                self._cur = [tail] if tail else []
            self._cur.append(piece)
            self._code = block.code

    def _flush(self) -> None:
        text = "\n\n".join(self._cur).strip()
        if text:
            self._emit(text)
            self._bare = 0  # every open heading is now in a chunk's heading
        self._cur = []

    def _emit(self, text: str) -> None:
        heading = " > ".join(h for _, h in self._heads)
        self._out.append(Chunk(text, len(self._out), heading, self._page, content_hash(text)))

    def _close_headings(self, level: int) -> None:
        """Close the open headings of ``level`` and deeper (0: all). One that no chunk sits
        under (a heading with nothing after it) becomes a chunk of its own, so its words are
        still found."""
        while self._heads and self._heads[-1][0] >= level:
            _, text = self._heads.pop()
            if self._bare:  # the innermost heading is bare: nothing was written under it
                self._emit(text)
                self._bare = 0  # the headings above it are in this chunk's heading


def _size(parts: list[str]) -> int:
    return sum(len(p) + 2 for p in parts)


def _split(block: Block, max_chars: int) -> list[str]:
    """A block cut into pieces of at most ``max_chars`` (code by lines, prose by sentences)."""
    if len(block.text) <= max_chars:
        return [block.text]
    units = block.text.splitlines() if block.code else _SENTENCE.split(block.text)
    pieces, cur = [], ""
    for unit in units:
        for part in _hard_wrap(unit, max_chars):
            joiner = "\n" if block.code else " "
            if cur and len(cur) + len(part) + 1 > max_chars:
                pieces.append(cur)
                cur = ""
            cur = f"{cur}{joiner}{part}" if cur else part
    return pieces + ([cur] if cur else [])


def _hard_wrap(unit: str, max_chars: int) -> list[str]:
    return [unit[i : i + max_chars] for i in range(0, len(unit), max_chars)] or [""]


_PROSE_BOUNDARY = re.compile(r"(?<=[.!?])\s+|\n\s*\n")  # a sentence or paragraph starts
_CODE_BOUNDARY = re.compile(r"\n+")  # a line starts


def _tail(text: str, n: int, code: bool = False) -> str:
    """The longest end of ``text`` of at most ``n`` characters that starts at a sentence or line
    boundary: the overlap repeats whole sentences (or code lines), never a fragment — a quote
    or a citation taken from the next chunk's first sentence is then a sentence the document
    says (prose lines are wrapped mid-sentence, so a single line break is a boundary only in
    ``code``). Empty when the last sentence alone is longer than ``n`` (it is whole in the
    chunk before; chunks are packed from whole sentences)."""
    if n <= 0:
        return ""
    if len(text) <= n:
        return text
    start = len(text) - n
    bounds = (_CODE_BOUNDARY if code else _PROSE_BOUNDARY).finditer(text, max(start - 2, 0))
    cut = next((m.end() for m in bounds if m.end() >= start), None)
    return text[cut:].strip() if cut is not None else ""


def _dedup(chunks: list[Chunk]) -> list[Chunk]:
    seen: set[str] = set()
    out = []
    for c in chunks:
        if c.hash not in seen:
            seen.add(c.hash)
            c.ordinal = len(out)
            out.append(c)
    return out
