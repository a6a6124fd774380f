"""Files → markdown sections with page numbers, via markitdown.

PDFs are converted one page at a time (markitdown joins pages, losing their numbers); PPTX
slides and XLSX sheets are split on markitdown's own slide/sheet markers; HTML, DOCX and
Markdown keep their headings; source code becomes a fenced block so the chunker keeps code
together. Anything that cannot be read raises :class:`UnreadableFile` with the reason.
"""

from __future__ import annotations

import io
import re
import zipfile
from functools import cache
from pathlib import Path
from typing import Any

from ..errors import UserError
from .records import Section

DOC_KINDS = {
    ".pdf": "pdf", ".docx": "docx", ".pptx": "pptx", ".xlsx": "xlsx",
    ".html": "html", ".htm": "html", ".md": "md", ".markdown": "md",
    ".txt": "text", ".rst": "text", ".csv": "text",
}
CODE_LANGS = {
    ".py": "python", ".js": "javascript", ".ts": "typescript", ".go": "go", ".rs": "rust",
    ".java": "java", ".c": "c", ".h": "c", ".cpp": "cpp", ".hpp": "cpp", ".cs": "csharp",
    ".rb": "ruby", ".sh": "bash", ".sql": "sql", ".toml": "toml", ".yaml": "yaml",
    ".yml": "yaml", ".json": "json", ".kt": "kotlin", ".swift": "swift", ".php": "php",
}
_SLIDE = re.compile(r"<!-- Slide number: (\d+) -->")


class UnreadableFile(UserError):
    """A file that could not be converted (corrupt, encrypted, not text)."""


def kind_of(path: Path) -> str | None:
    ext = path.suffix.lower()
    return DOC_KINDS.get(ext) or ("code" if ext in CODE_LANGS else None)


def convert(path: Path) -> list[Section]:
    """Read ``path`` into sections; raise UnreadableFile when it cannot be read."""
    kind = kind_of(path) or "text"
    try:
        sections = _CONVERTERS.get(kind, _plain)(path)
    except UnreadableFile:
        raise
    except Exception as exc:  # noqa: BLE001 - any converter failure means "unreadable"
        reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        raise UnreadableFile(f"cannot read {str(path)!r} ({reason.strip(': ')})",
                             "check the file opens, is not encrypted, or remove it") from None
    if not any(s.text.strip() for s in sections):
        raise UnreadableFile(f"no text in {str(path)!r}", "scanned or empty files are skipped")
    return sections


@cache
def _markitdown() -> Any:
    from markitdown import MarkItDown

    return MarkItDown(enable_plugins=False)


def _md(data: bytes, ext: str) -> str:
    from markitdown import StreamInfo

    result = _markitdown().convert_stream(io.BytesIO(data), stream_info=StreamInfo(extension=ext))
    return result.markdown or ""


def _pdf(path: Path) -> list[Section]:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise UnreadableFile(f"PDF {str(path)!r} is encrypted (it needs a password)",
                                 "decrypt it (qpdf --decrypt) or remove it") from None
        raise UnreadableFile(f"cannot open PDF {str(path)!r} ({exc})",
                             "it may be encrypted or corrupt; decrypt or remove it") from None
    sections = []
    try:
        for i in range(len(pdf)):
            single = pdfium.PdfDocument.new()
            single.import_pages(pdf, [i])
            buf = io.BytesIO()
            single.save(buf)
            single.close()
            sections.append(Section(_md(buf.getvalue(), ".pdf"), page=i + 1))
    finally:
        pdf.close()
    return sections


def _office(path: Path) -> bytes:
    """Office files are zip packages; anything else would be read as garbage text."""
    if not zipfile.is_zipfile(path):
        raise UnreadableFile(f"{str(path)!r} is not a valid {path.suffix} file (not a zip package)",
                             "it may be corrupt, encrypted or misnamed; re-save or remove it")
    return path.read_bytes()


def _pptx(path: Path) -> list[Section]:
    parts = _SLIDE.split(_md(_office(path), ".pptx"))
    return [Section(text, int(num)) for num, text in zip(parts[1::2], parts[2::2], strict=True)]


def _xlsx(path: Path) -> list[Section]:
    text = _md(_office(path), ".xlsx")
    sheets = re.split(r"(?m)^(?=## )", text)
    return [Section(s, page=i) for i, s in enumerate((s for s in sheets if s.strip()), 1)]


def _whole(ext: str) -> Any:
    return lambda path: [Section(_md(path.read_bytes(), ext))]


def _docx(path: Path) -> list[Section]:
    data = _office(path)
    try:
        return [Section(_md(data, ".docx"))]
    except Exception as exc:  # noqa: BLE001
        if "body element" not in str(exc):
            raise
    # markitdown's docx pre-pass (equations, strike-through) loses the w: namespace under lxml 6
    # (BeautifulSoup's "xml" parser drops prefixes), then mammoth finds no body. Do what
    # markitdown does without that pass: mammoth → HTML → markitdown's HTML converter.
    import mammoth

    html = mammoth.convert_to_html(io.BytesIO(data)).value
    return [Section(_md(html.encode("utf-8"), ".html"))]


def _plain(path: Path) -> list[Section]:
    return [Section(_decode(path))]


def _code(path: Path) -> list[Section]:
    lang = CODE_LANGS.get(path.suffix.lower(), "")
    return [Section(f"# {path.name}\n\n```{lang}\n{_decode(path)}\n```\n")]


def _decode(path: Path) -> str:
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise UnreadableFile(f"{str(path)!r} looks binary", "only text, code and office files")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


_CONVERTERS = {
    "pdf": _pdf, "pptx": _pptx, "xlsx": _xlsx, "docx": _docx, "html": _whole(".html"),
    "md": _plain, "text": _plain, "code": _code,
}
