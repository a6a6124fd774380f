"""Files → chunks → vectors → index; incremental and resumable.

Each document is written in one transaction (its row, chunks, vectors and keyword rows together),
so a run killed at any point leaves every document fully indexed or absent; rerunning picks up
where it stopped because unchanged files (same size, mtime and content hash) are skipped. A file
whose content equals an indexed one is recorded as a duplicate without chunks. Chunks whose text
is already indexed reuse their stored vector, so an edited file only embeds what changed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UserError
from .chunk import Chunker
from .convert import UnreadableFile, convert, kind_of
from .index import embed_text
from .records import Chunk, DocumentMeta
from .search import KnowledgeBase
from .text import file_sha256

Progress = Callable[[str, int, int], None]  # (path, done, total)


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    chunks: int = 0
    embedded: int = 0  # chunks that needed a new vector

    def summary(self) -> str:
        return (f"{len(self.added)} added, {len(self.updated)} updated, "
                f"{len(self.unchanged)} unchanged, {len(self.duplicates)} duplicate, "
                f"{len(self.removed)} removed, {len(self.skipped)} skipped; "
                f"{self.chunks} chunks ({self.embedded} embedded)")


def collect(paths: Iterable[str | Path]) -> list[Path]:
    """Files under the given paths: folders walked (hidden entries skipped, known kinds only)."""
    out: list[Path] = []
    for p in map(lambda x: Path(x).expanduser().resolve(), paths):
        if p.is_file():
            out.append(p)
        elif p.is_dir():
            out.extend(sorted(_walk(p)))
        else:
            raise UserError(f"no such file or folder: {str(p)!r}", "check the path")
    return list(dict.fromkeys(out))


def _walk(root: Path) -> Iterator[Path]:
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            path = Path(folder) / name
            if not name.startswith(".") and kind_of(path):
                yield path


@dataclass
class Ingester:
    kb: KnowledgeBase
    chunker: Chunker = field(default_factory=Chunker)
    progress: Progress | None = None

    def add(self, paths: Iterable[str | Path]) -> IngestReport:
        """Index files and folders (folders are remembered for ``sync``)."""
        paths = list(paths)
        files = collect(paths)
        for p in paths:
            if Path(p).expanduser().is_dir():
                self.kb.index.add_source(str(Path(p).expanduser().resolve()))
        return self._run(files, IngestReport())

    def sync(self) -> IngestReport:
        """Re-index changed files and drop deleted ones, over every folder and file indexed."""
        report = IngestReport()
        docs = self.kb.index.documents()
        roots = [Path(r) for r in self.kb.index.sources() if Path(r).is_dir()]
        files = collect(roots)
        known = [Path(p) for p in docs if not p.startswith("tool:") and Path(p).is_file()]
        for path in docs:
            if not path.startswith("tool:") and not Path(path).is_file():
                self.kb.index.delete_document(path)
                report.removed.append(path)
        return self._run(list(dict.fromkeys(files + known)), report)

    def _run(self, files: list[Path], report: IngestReport) -> IngestReport:
        docs = self.kb.index.documents()
        for done, path in enumerate(files, 1):
            if self.progress:
                self.progress(str(path), done - 1, len(files))
            try:
                self._one(path, docs.get(str(path)), report)
            except UnreadableFile as exc:
                report.skipped.append((str(path), str(exc)))
        if self.progress:
            self.progress("", len(files), len(files))
        return report

    def _one(self, path: Path, old: DocumentMeta | None, report: IngestReport) -> None:
        try:
            st = path.stat()
            if old and old.size == st.st_size and old.mtime == st.st_mtime:
                report.unchanged.append(str(path))
                return
            sha = file_sha256(path.read_bytes())
        except OSError as exc:
            why = f"cannot read {str(path)!r} ({exc.strerror})"
            raise UnreadableFile(why, "check its permissions") from None
        meta = DocumentMeta(str(path), sha, kind_of(path) or "text", st.st_mtime, st.st_size)
        if old and old.sha256 == sha:
            self.kb.index.touch(str(path), st.st_mtime, st.st_size)
            report.unchanged.append(str(path))
            return
        twin = self.kb.index.path_with_hash(sha)
        if twin and twin != str(path):
            meta.duplicate_of = twin
            self.kb.index.replace_document(meta, [], [])
            report.duplicates.append(str(path))
            return
        chunks = self.chunker.chunk(convert(path))
        report.embedded += self.write(meta, chunks)
        report.chunks += len(chunks)
        (report.updated if old else report.added).append(str(path))

    def write(self, meta: DocumentMeta, chunks: list[Chunk]) -> int:
        """Embed what is new and replace the document; returns how many chunks were embedded."""
        return self.write_many([(meta, chunks)])

    def write_many(self, docs: list[tuple[DocumentMeta, list[Chunk]]]) -> int:
        """``write`` for many small documents with one embedding batch (each document still in
        its own transaction); returns how many chunks were embedded."""
        chunks = [c for _, cs in docs for c in cs]
        known = self.kb.index.vectors_for(list({c.hash for c in chunks}))
        todo = list({c.hash: c for c in chunks if c.hash not in known}.values())
        fresh = self.kb.embedder.encode([embed_text(c.heading, c.text) for c in todo])
        known.update({c.hash: v for c, v in zip(todo, fresh, strict=True)})
        for meta, cs in docs:
            self.kb.index.replace_document(meta, cs, [known[c.hash] for c in cs])
        return len(todo)
