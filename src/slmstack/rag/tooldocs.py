"""The words a tool is found by (its indexed document) and the requests it is found for (the
parts of a request that asks for several things)."""

from __future__ import annotations

import re

from ..types import ToolSpec

MAX_ENUM = 12  # allowed values written per parameter
MAX_DEPTH = 3  # nesting of object / array-item properties followed


def tool_words(name: str) -> str:
    """``geometry.area_circle`` → ``geometry area circle``; camelCase split too."""
    return re.sub(r"[._\-/:]+", " ", re.sub(r"([a-z])([A-Z])", r"\1 \2", name)).strip()


def tool_text(spec: ToolSpec) -> str:
    """A tool's description and its parameters in words (its name is the chunk's heading, which
    BM25 weighs double): each parameter's name split into words, its description and its allowed
    values, nested object and array-item fields included."""
    params = _params(spec.parameters.get("properties") or {})
    return "\n".join([spec.description] + (["Parameters: " + "; ".join(params)] if params else []))


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


# ---- requests --------------------------------------------------------------------------------
MAX_ASPECTS = 16  # parts of one request searched on their own (a bound on the cost, in order)
MIN_WORDS = 3  # shorter parts ("Thanks.", "Then,") say nothing a tool could match
_SENTENCE = re.compile(r"(?<=[.?!])[\"')\]]*\s+(?=[A-Z\"'(])")
_NEXT = re.compile(  # words that start another request inside a sentence
    r";\s*|,?\s+\b(?:and then|and also|also|then|additionally|after that|afterwards|finally|"
    r"lastly|in addition(?: to that)?|furthermore|moreover)\b,?\s+", re.IGNORECASE)


def aspects(request: str) -> list[str]:
    """The parts of a request that may each need a different tool: its sentences, and within a
    sentence the clauses after "then", "also", "finally", ";" and the like. A request of one
    part gives ``[]`` (the whole request is its only aspect)."""
    parts = []
    for sentence in _SENTENCE.split(request.strip()):
        parts += [p.strip(" ,\"'") for p in _NEXT.split(sentence)]
    parts = [p for p in parts if len(p.split()) >= MIN_WORDS]
    return parts[:MAX_ASPECTS] if len(parts) > 1 else []
