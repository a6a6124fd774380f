"""Read a tool function's docstring: the summary and per-parameter descriptions.

Understands the common styles: Google (``Args:`` / ``Arguments:`` / ``Parameters:`` section with
``name (type): text``), reST (``:param name: text``) and NumPy (``Parameters`` + dashes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_SECTION = re.compile(r"^(args|arguments|parameters|params)\s*:?\s*$", re.I)
_OTHER_SECTION = re.compile(
    r"^(returns?|raises?|yields?|examples?|notes?|see also|attributes)\s*:?\s*$", re.I
)
_GOOGLE_ITEM = re.compile(r"^(\*{0,2}\w+)\s*(\([^)]*\))?\s*:\s*(.*)$")
_NUMPY_ITEM = re.compile(r"^(\w+)\s*(:\s*.*)?$")
_REST = re.compile(r"^:param\s+(?:[^:]*\s)?(\w+)\s*:\s*(.*)$")
_DASHES = re.compile(r"^-{3,}\s*$")


@dataclass
class Docstring:
    summary: str = ""
    params: dict[str, str] = field(default_factory=dict)


def parse_docstring(text: str) -> Docstring:
    lines = text.expandtabs().splitlines()
    doc = Docstring(summary=_summary(lines))
    _rest_params(lines, doc.params)
    _section_params(lines, doc.params)
    return doc


def _summary(lines: list[str]) -> str:
    out: list[str] = []
    for line in lines:
        s = line.strip()
        if not s or _SECTION.match(s) or _OTHER_SECTION.match(s) or s.startswith(":"):
            if out:
                break
            continue
        out.append(s)
    return " ".join(out)


def _rest_params(lines: list[str], params: dict[str, str]) -> None:
    current = None
    for line in lines:
        s = line.strip()
        m = _REST.match(s)
        if m:
            current = m.group(1)
            params[current] = m.group(2).strip()
        elif current and s and not s.startswith(":"):
            params[current] = (params[current] + " " + s).strip()
        else:
            current = None


def _section_params(lines: list[str], params: dict[str, str]) -> None:
    i = 0
    while i < len(lines):
        if _SECTION.match(lines[i].strip()):
            numpy = i + 1 < len(lines) and _DASHES.match(lines[i + 1].strip())
            i = _read_items(lines, i + (2 if numpy else 1), params, bool(numpy))
        else:
            i += 1


def _read_items(lines: list[str], i: int, params: dict[str, str], numpy: bool) -> int:
    item_indent, current = None, None
    while i < len(lines):
        line = lines[i]
        s = line.strip()
        if _OTHER_SECTION.match(s) or (i + 1 < len(lines) and _DASHES.match(lines[i + 1].strip())):
            break
        indent = len(line) - len(line.lstrip())
        if s and (item_indent is None or indent <= item_indent):
            m = (_NUMPY_ITEM if numpy else _GOOGLE_ITEM).match(s)
            if not m:
                break
            item_indent = indent
            current = m.group(1).lstrip("*")
            params[current] = "" if numpy else m.group(3).strip()
        elif s and current:
            params[current] = (params[current] + " " + s).strip()
        i += 1
    return i
