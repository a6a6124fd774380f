"""Exact BM25 top-k over FTS5 without scoring every row that shares a common word.

FTS5 ranks an ``a OR b OR …`` query by calling ``bm25()`` on every row that holds any of the
words, so a query with one frequent word scores most of the table (≈ 2 µs a row). The MaxScore
argument (Turtle & Flood, 1995) bounds what the frequent words can add: a phrase contributes at
most ``idf · (k1 + 1)`` to a row's score, so a row that holds none of the rarer, "essential" words
scores below the sum of the other words' bounds. Rows are therefore matched on the essential words
only, while FTS5 still scores them on every word:

    {heading text} : (rare words) AND ({heading text} : (frequent words) OR tag : all)

(``tag`` is a column holding the token ``all`` in every row, so the frequent words join the
ranking without narrowing the match.) A cheap probe on the rarest words gives a lower bound on
the k-th best score; the essential set is the fewest rarest words whose complement's bound is
under it, and the result is the same top-k the full OR query ranks.
Words in at least half the rows get FTS5's idf floor of 1e-6 and are left out altogether.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

K1 = 1.2  # FTS5's bm25() constants
B = 0.75
FLOOR = 1e-6  # FTS5's idf for a phrase in half the rows or more
TAG = "all"  # the token in every row's ``tag`` column
COLUMNS = ("heading", "text", "tag")  # chunks_fts's columns; any_of matches the first two
WEIGHT = (2.0, 1.0, 0.0)  # and their bm25() weights
WEIGHTS = ", ".join(map(str, WEIGHT))
TOKENIZE = "porter unicode61"  # chunks_fts's tokenizer


def idf(df: int, rows: int) -> float:
    value = math.log((rows - df + 0.5) / (df + 0.5))
    return value if value > 0 else FLOOR


def phrase(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def any_of(words: Sequence[str]) -> str:
    return "{heading text} : (" + " OR ".join(map(phrase, words)) + ")"


def expression(essential: Sequence[str], rest: Sequence[str]) -> str:
    """Match rows holding an essential word; rank them on every word."""
    if not rest:
        return any_of(essential)
    return f"{any_of(essential)} AND ({any_of(rest)} OR tag : {TAG})"


def ceiling(words: Sequence[str], df: dict[str, int], rows: int) -> float:
    """The most ``words`` can add to any row's score."""
    return (K1 + 1) * sum(idf(df[w], rows) for w in words)


def ranked_words(words: Sequence[str], df: dict[str, int], rows: int) -> list[str]:
    """The words worth ranking on, rarest first: absent words go, and words at FTS5's idf floor go
    unless nothing else is left."""
    present = sorted((w for w in words if df.get(w, 0) > 0), key=lambda w: df[w])
    useful = [w for w in present if idf(df[w], rows) > FLOOR]
    return useful or present


Ranker = Callable[[str, int], list[tuple[int, float]]]  # (FTS5 expression, k) → (rowid, score)


def top_k(words: list[str], df: dict[str, int], rows: int, k: int,
          rank: Ranker) -> list[tuple[int, float]]:
    """The exact BM25 top-k of ``words`` (rarest first, from ``ranked_words``), best first.

    A cheap probe ranks the rows holding the rarest words on those words alone: those partial
    scores are lower bounds of the rows' full scores, so its k-th best is a floor under the true
    k-th best, and the words whose ceiling stays under that floor need not be matched on."""
    probe = _probe_size(words, df, rows)
    got = rank(any_of(words[:probe]), k)
    if probe == len(words):
        return got
    floor = got[k - 1][1] if len(got) >= k else 0.0
    cut = next(c for c in range(1, len(words) + 1)
               if c == len(words) or ceiling(words[c:], df, rows) < floor)
    return rank(expression(words[:cut], words[cut:]), k)


PROBE_SHARE = 0.05  # the probe matches rows holding words that, together, are in ≤ 5% of rows


def _probe_size(words: list[str], df: dict[str, int], rows: int) -> int:
    total, size = 0, 0
    for w in words:
        total += df[w]
        if size and total > PROBE_SHARE * rows:
            break
        size += 1
    return size
