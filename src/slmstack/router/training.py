"""Examples to train the task classifier on: a labelled JSON-lines file, the trace store's
recorded traffic, or unlabelled texts grouped into clusters.

* ``examples_from_jsonl(path)``: one ``{"text": ..., "kind": ...}`` per line.
* ``examples_from_store(store, label="route")``: the text of each routed request (first attempt,
  shadows left out) with the route it was served under; ``label="outcome"`` labels a request
  ``"<route>/hard"`` when its first tier was escalated, so a route can send such requests
  straight to a larger tier.
* ``cluster_labels(texts, k)``: ``"cluster-<i>"`` labels from KMeans on the embeddings.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from ..errors import UserError
from ..store.records import CallRecord
from ..types import Message
from .kinds import request_text

Examples = tuple[list[str], list[str]]


def examples_from_jsonl(path: str | Path) -> Examples:
    p = Path(path).expanduser()
    if not p.is_file():
        raise UserError(f"labelled examples file {str(p)!r} does not exist", "check the path")
    texts, labels = [], []
    for lineno, line in enumerate(p.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = _row(line, p, lineno)
        texts.append(str(row["text"]))
        labels.append(str(row["kind"]))
    return texts, labels


def _row(line: str, path: Path, lineno: int) -> dict[str, Any]:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise UserError(f"{str(path)!r} line {lineno} is not JSON ({exc.msg})",
                        'write one {"text": ..., "kind": ...} object per line') from None
    if not isinstance(row, dict) or not row.get("text") or not row.get("kind"):
        raise UserError(f"{str(path)!r} line {lineno} needs non-empty 'text' and 'kind': "
                        f"{line!r:.120}", 'write one {"text": ..., "kind": ...} object per line')
    return row


def examples_from_records(
    records: Iterable[CallRecord], label: Literal["route", "outcome"] = "route"
) -> Examples:
    texts, labels = [], []
    for rec in records:
        if rec.shadow_of is not None or not rec.route or _attempt(rec) != 0:
            continue
        text = request_text([Message.model_validate(_msg(m))
                             for m in rec.request.get("messages") or []])
        if not text.strip():
            continue
        texts.append(text)
        hard = label == "outcome" and rec.escalated
        labels.append(f"{rec.route.split('/', 1)[0]}/hard" if hard else rec.route)
    return texts, labels


def examples_from_store(
    store: Any, *, since: float | None = None, until: float | None = None,
    label: Literal["route", "outcome"] = "route",
) -> Examples:
    if label not in ("route", "outcome"):
        raise UserError(f"label {label!r} is not 'route' or 'outcome'", "pick one")
    return examples_from_records(store.model_calls(since=since, until=until), label)


def cluster_labels(texts: list[str], k: int, *, embedder: Any = None, seed: int = 0) -> list[str]:
    if k < 2 or k > len(texts):
        raise UserError(f"cannot make {k!r} clusters of {len(texts)} texts",
                        "use 2 ≤ k ≤ the number of texts")
    from sklearn.cluster import KMeans

    if embedder is None:
        from ..rag.embed import Embedder

        embedder = Embedder()
    ids = KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(embedder.encode(texts))
    return [f"cluster-{int(i)}" for i in ids]


def _attempt(rec: CallRecord) -> int:
    meta = rec.request.get("metadata") or {}
    return int(meta.get("attempt", 0)) if isinstance(meta, dict) else 0


def _msg(m: dict[str, Any]) -> dict[str, Any]:
    return {"role": m.get("role", "user"), "content": m.get("content")}
