"""The words a tool is found by (its indexed document) and the requests it is found for (the
parts of a request that asks for several things)."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from ..types import ToolSpec

MAX_ENUM = 12  # allowed values written per parameter
MAX_DEPTH = 3  # nesting of object / array-item properties followed


def tool_words(name: str) -> str:
    """``geometry.area_circle`` → ``geometry area circle``; camelCase split too."""
    return re.sub(r"[._\-/:]+", " ", re.sub(r"([a-z])([A-Z])", r"\1 \2", name)).strip()


GATE_THRESHOLD = 0.2
"""all-MiniLM-L6-v2 cosine between a request and a tool's ``gate_text`` above which the tool
relates to it. Calibrated on the hand-written pairs in tests/agent/test_retrieval.py (related
≥ 0.31, unrelated ≤ 0.10: the middle of the gap), never on an evaluation set."""


def gate_text(spec: ToolSpec) -> str:
    """What a tool is about, in words, for comparing with a request by embedding: its name split
    into words, its description, then its parameters' names and descriptions (the things a
    related request mentions)."""
    text = f"{tool_words(spec.name)}: {spec.description}".strip()
    props = spec.parameters.get("properties") or {}
    params = [
        f"{tool_words(k)} ({v.get('description', '')})".replace(" ()", "")
        for k, v in props.items()
        if isinstance(v, dict)
    ]
    return f"{text} Parameters: {'; '.join(params)}." if params else text


class GateVectors:
    """Embeddings of tools' ``gate_text``, each distinct text embedded once; at most ``size``
    kept (the least recently used dropped first). Safe to share between threads."""

    def __init__(self, embed: Callable[[list[str]], Any], size: int = 4096) -> None:
        self.embed, self.size = embed, size
        self._rows: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def rows(self, specs: Sequence[ToolSpec]) -> list[Any]:
        texts = [gate_text(s) for s in specs]
        with self._lock:  # the rows held now: another thread may evict them meanwhile
            found = {t: self._rows[t] for t in texts if t in self._rows}
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        if missing:
            found |= dict(zip(missing, self.embed(missing), strict=True))
        with self._lock:
            for t in dict.fromkeys(texts):
                self._rows[t] = found[t]
                self._rows.move_to_end(t)
            while len(self._rows) > self.size:
                self._rows.popitem(last=False)
        return [found[t] for t in texts]


def minilm_embed(texts: list[str]) -> Any:
    """The bundled all-MiniLM-L6-v2 (the one instance the knowledge base uses too)."""
    from .embed import Embedder

    return Embedder().encode(list(texts))


@lru_cache(maxsize=1)
def shared_gate_vectors() -> GateVectors:
    """The process-wide cache of tools' MiniLM vectors (the tool gate's)."""
    return GateVectors(minilm_embed)


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


_AND_ASKS = re.compile(  # "… 500 calories and how much water …", "… a beat and make a melody"
    r",?\s+and\s+(?=(?:what|which|who|how|why|when|where|find|get|give|compare|tell|show|"
    r"provide|calculate|compute|determine|check|list|search|fetch|retrieve|look|locate|estimate|"
    r"predict|make|create|generate|book|plot|identify|suggest|recommend|fit|return|withdraw|"
    r"deposit|display|translate|analy[sz]e|assess|solve|mix|convert|buy|order|send|play|update|"
    r"invest|sell|schedule|reserve|cancel|remove|delete|draw|sort)\b)", re.IGNORECASE)


def aspects(request: str) -> list[str]:
    """The parts of a request that may each need a different tool: its sentences, and within a
    sentence the clauses after "then", "also", "finally", ";" and the like, and after an "and"
    that asks again ("and how much", "and make"). A request of one part gives ``[]`` (the whole
    request is its only aspect)."""
    parts = []
    for sentence in _SENTENCE.split(request.strip()):
        parts += [p.strip(" ,\"'") for clause in _NEXT.split(sentence)
                  for p in _AND_ASKS.split(clause)]
    parts = [p for p in parts if len(p.split()) >= MIN_WORDS]
    return parts[:MAX_ASPECTS] if len(parts) > 1 else []
