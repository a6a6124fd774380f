"""Small text helpers shared by chunking, keyword search and answer checking."""

from __future__ import annotations

import hashlib
import re

_WORD = re.compile(r"[A-Za-z0-9_]+")
_CAMEL = re.compile(r"([a-z])([A-Z])")

STOPWORDS = frozenset(
    """a about above after again all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has
    have having he her here hers him his how i if in into is it its itself just me more most my no
    nor not now of off on once only or other our ours out over own same she should so some such
    than that the their theirs them then there these they this those through to too under until up
    very was we were what when where which while who whom why will with would you your
    yours""".split()
)


def normalise(text: str) -> str:
    return " ".join(text.split()).lower()


def content_hash(text: str) -> str:
    return hashlib.sha256(normalise(text).encode("utf-8")).hexdigest()


def terms(text: str) -> list[str]:
    """Lower-case search terms: words and identifiers (snake_case and camelCase split too)."""
    out: list[str] = []
    for word in _WORD.findall(_CAMEL.sub(r"\1 \2", text)):
        for part in {word, *word.split("_")}:
            low = part.lower()
            if low and low not in STOPWORDS and low not in out:
                out.append(low)
    return out


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
