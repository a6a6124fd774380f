"""Citation support and tool consistency: a cited passage must contain what the claim says, and
values reported from a tool must be the values the tool returned."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

from .extract import agrees
from .numerals import NUMBER, values
from .trace import Evidence, Trace
from .verdict import Finding

CITE = re.compile(r"\[([^\[\]\n]{1,80})\]")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
MIN_SUPPORT = 0.5  # share of a claim's content words the cited passage must contain


def _terms(text: str) -> set[str]:
    from ..rag.text import terms

    return set(terms(text))


def _passage(label: str, evidence: list[Evidence]) -> Evidence | None:
    label = label.strip()
    for n, e in enumerate(evidence, 1):
        if label in (e.id, e.citation.strip("[]"), str(n)):
            return e
    return None


def _claims(text: str) -> Iterator[tuple[str, str]]:
    """(sentence without its markers, label) for every citation marker in ``text``."""
    for sentence in SENTENCE_END.split(text):
        for m in CITE.finditer(sentence):
            yield CITE.sub("", sentence).strip(), m.group(1)


def citation_findings(trace: Trace, texts: list[tuple[int | None, str]]) -> list[Finding]:
    out = []
    for step, text in texts:
        for claim, label in _claims(text):
            f = _check_claim(claim, label, trace.evidence, step)
            if f is not None:
                out.append(f)
    return out


def _check_claim(claim: str, label: str, evidence: list[Evidence], step: int | None
                 ) -> Finding | None:
    where = "answer" if step is None else "step"
    passage = _passage(label, evidence)
    if passage is None:
        if not evidence and (not re.search(r"[:\d]", label)
                             or (":" not in label and re.search(r"[()*+=^×]", label))):
            return None  # "[sic]", "[edit]", "[(X+3)*3 - 1]": brackets, not a citation
        return Finding(step=step, where=where, kind="citation", severity="error",
                       explanation=f"cites [{label}] but no retrieved passage has that id")
    words, body = _terms(claim), _terms(passage.text)
    missing_nums = values(claim, words=False) - values(passage.text, words=False)
    share = len(words & body) / len(words) if words else 1.0
    if share >= MIN_SUPPORT and not missing_nums:
        return None
    what = (f"numbers {sorted(map(str, missing_nums))}" if missing_nums
            else f"only {share:.0%} of its words")
    return Finding(step=step, where=where, kind="citation", severity="error",
                   explanation=f"passage [{label}] does not support {claim[:80]!r}: it has "
                               f"{what}", p_flaw=0.8)


def _flat(data: Any, prefix: str = "") -> Iterator[tuple[str, Fraction]]:
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _flat(v, str(k))
    elif isinstance(data, list):
        for v in data[:100]:
            yield from _flat(v, prefix)
    elif isinstance(data, int | float) and not isinstance(data, bool) and prefix:
        yield prefix, Fraction(str(data))


def tool_fields(output: str) -> list[tuple[str, Fraction]]:
    try:
        return list(_flat(json.loads(output)))
    except (ValueError, TypeError, OverflowError):
        return []


def tool_findings(trace: Trace, texts: list[tuple[int | None, str]]) -> list[Finding]:
    """A value named after a tool's output field (``temperature … 25``) that differs from
    what the tool returned for that field."""
    out = []
    for tool in (t for t in trace.tool_results if t.ok):
        for key, value in tool_fields(tool.output):
            words = re.sub(r"[_\W]+", " ", key).strip()
            if len(words) < 3:
                continue
            pat = re.compile(rf"\b{re.escape(words)}\b\W+(?:[A-Za-z]+\W+){{0,4}}?"
                             rf"({NUMBER.pattern})", re.I)
            for step, text in texts:
                out.extend(_mismatch(pat, text, value, key, tool.name, step))
    return out


def _mismatch(pat: re.Pattern[str], text: str, value: Fraction, key: str, tool: str,
              step: int | None) -> Iterator[Finding]:
    for m in pat.finditer(text):
        said = m.group(0)[m.start(1) - m.start():]
        try:
            stated = Fraction(said.strip().lstrip("$").rstrip("%").replace(",", ""))
        except ValueError:
            continue
        if not agrees(stated, value, said) and not agrees(value, stated):
            yield Finding(step=step, where="answer" if step is None else "step", kind="tool",
                          severity="error",
                          explanation=f"says {key} {said.strip()!r} but {tool} returned "
                                      f"{key}={value}", p_flaw=0.9)


def failed_tool_findings(trace: Trace) -> list[Finding]:
    """An answer given although every tool call failed."""
    tools = trace.tool_results
    if tools and not any(t.ok for t in tools) and trace.answer.strip():
        names = sorted({t.name for t in tools})
        return [Finding(where="answer", kind="tool", severity="warning",
                        explanation=f"answered although every tool call failed ({names})",
                        p_flaw=0.4)]
    return []
