"""Retrieval evaluation: BM25, dense and hybrid side by side on BEIR-format data.

BEIR format: ``corpus.jsonl`` (``_id``, ``title``, ``text``), ``queries.jsonl`` (``_id``,
``text``) and ``qrels/<split>.tsv`` (``query-id``, ``corpus-id``, ``score``). ``bfcl_tools``
turns the BFCL data into the same shape for tool retrieval: the corpus is the distinct functions,
each question is a query, its ground-truth functions are relevant. Metrics: nDCG@10, Recall@5,
Recall@10, MRR@10.
"""

from __future__ import annotations

import csv
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UserError
from ..types import ToolSpec

if TYPE_CHECKING:
    from rich.table import Table

    from ..rag.search import KnowledgeBase

METRICS = ("ndcg@10", "recall@5", "recall@10", "mrr@10")
MODES = ("bm25", "dense", "hybrid")
Ranker = Callable[[str, Any, str, int], list[str]]  # (query, query vector, mode, k) -> doc ids


@dataclass
class BeirData:
    corpus: dict[str, tuple[str, str]]  # id -> (title, text)
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]  # query id -> {doc id: relevance}
    name: str = "beir"


def load_beir(folder: str | Path, split: str = "test") -> BeirData:
    root = Path(folder).expanduser()
    need = [root / "corpus.jsonl", root / "queries.jsonl", root / "qrels" / f"{split}.tsv"]
    for p in need:
        if not p.is_file():
            raise UserError(f"BEIR file {str(p)!r} does not exist",
                            "pass --data pointing at corpus.jsonl, queries.jsonl, qrels/")
    corpus = {r["_id"]: (r.get("title", ""), r.get("text", "")) for r in _jsonl(need[0])}
    qrels: dict[str, dict[str, int]] = {}
    with need[2].open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            if int(row["score"]) > 0:
                qrels.setdefault(row["query-id"], {})[row["corpus-id"]] = int(row["score"])
    queries = {r["_id"]: r["text"] for r in _jsonl(need[1]) if r["_id"] in qrels}
    return BeirData(corpus, queries, qrels, root.name)


def _jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def bfcl_tools(data_dir: str | Path) -> tuple[list[ToolSpec], BeirData]:
    """The distinct BFCL functions as tools, and one query per question that has an answer."""
    from .bfcl import CATEGORIES, load_category

    specs: dict[str, ToolSpec] = {}
    queries: dict[str, str] = {}
    qrels: dict[str, dict[str, int]] = {}
    for cat in CATEGORIES:
        for case in load_category(data_dir, cat):
            for spec in case.tools:
                specs.setdefault(spec.name, spec)
            if case.ground_truth:
                queries[case.id] = " ".join(m.content or "" for m in case.messages
                                            if m.role == "user")
                qrels[case.id] = {name: 1 for call in case.ground_truth for name in call}
    corpus = {n: (n, s.description) for n, s in specs.items()}
    return list(specs.values()), BeirData(corpus, queries, qrels, "bfcl-tools")


# ---- metrics ---------------------------------------------------------------------------------
def ndcg_at(ranked: Sequence[str], rels: dict[str, int], k: int = 10) -> float:
    dcg = sum(rels.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(rels.values(), reverse=True)[:k]
    idcg = sum(r / math.log2(i + 2) for i, r in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at(ranked: Sequence[str], rels: dict[str, int], k: int) -> float:
    return len(set(ranked[:k]) & set(rels)) / len(rels) if rels else 0.0


def mrr_at(ranked: Sequence[str], rels: dict[str, int], k: int = 10) -> float:
    return next((1.0 / (i + 1) for i, d in enumerate(ranked[:k]) if d in rels), 0.0)


def scores(ranked: Sequence[str], rels: dict[str, int]) -> dict[str, float]:
    return {"ndcg@10": ndcg_at(ranked, rels), "recall@5": recall_at(ranked, rels, 5),
            "recall@10": recall_at(ranked, rels, 10), "mrr@10": mrr_at(ranked, rels)}


# ---- running ---------------------------------------------------------------------------------
@dataclass
class RetrievalReport:
    name: str
    n_queries: int
    n_docs: int
    rows: dict[str, dict[str, float]] = field(default_factory=dict)  # mode -> metric -> mean
    per_query: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # mode -> q -> ids
    seconds: float = 0.0

    def table(self) -> Table:
        from rich.table import Table

        t = Table(*["mode", *METRICS],
                  title=f"{self.name}: {self.n_queries} queries, {self.n_docs} documents")
        for mode, row in self.rows.items():
            t.add_row(mode, *(f"{row[m]:.4f}" for m in METRICS))
        return t

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "n_queries": self.n_queries, "n_docs": self.n_docs,
                "metrics": self.rows, "seconds": round(self.seconds, 2)}


def evaluate(data: BeirData, ranker: Ranker, embed: Callable[[list[str]], Any],
             modes: Sequence[str] = MODES, k: int = 10) -> RetrievalReport:
    """Rank every query in every mode and average the metrics."""
    t0 = time.perf_counter()
    ids = list(data.queries)
    vectors = embed([data.queries[q] for q in ids])
    report = RetrievalReport(data.name, len(ids), len(data.corpus))
    for mode in modes:
        ranked = {q: ranker(data.queries[q], v, mode, k) for q, v in zip(ids, vectors, strict=True)}
        per = [scores(ranked[q], data.qrels[q]) for q in ids]
        report.rows[mode] = {m: sum(p[m] for p in per) / max(len(per), 1) for m in METRICS}
        report.per_query[mode] = ranked
    report.seconds = time.perf_counter() - t0
    return report


def chunk_ranker(kb: KnowledgeBase, doc_of: Callable[[str], str | None]) -> Ranker:
    """Rank documents by their best chunk; ``doc_of(path)`` maps an index path to a doc id."""

    def rank(query: str, vector: Any, mode: str, k: int) -> list[str]:
        n = k * 5
        if mode == "bm25":
            hits = kb.index.search_text(query, n)
        elif mode == "dense":
            hits = kb.index.search_vector(vector, n)
        else:
            hits = kb.hybrid(query, vector, n)
        docs = (doc_of(h.path) for h in hits)
        return list(dict.fromkeys(d for d in docs if d is not None))[:k]

    return rank


def index_beir(kb: KnowledgeBase, data: BeirData) -> None:
    """Add each corpus entry as a document ``beir:<id>`` (chunked like any file)."""
    from ..rag.chunk import Chunker
    from ..rag.ingest import Ingester
    from ..rag.records import DocumentMeta, Section
    from ..rag.text import content_hash

    writer, chunker = Ingester(kb), Chunker()
    known = kb.index.documents()
    for doc_id, (title, text) in data.corpus.items():
        body = f"# {title}\n\n{text}" if title else text
        meta = DocumentMeta(f"beir:{doc_id}", content_hash(body), "beir")
        if known.get(meta.path) is None or known[meta.path].sha256 != meta.sha256:
            writer.write(meta, chunker.chunk([Section(body)]))


def run_beir(kb: KnowledgeBase, data: BeirData, modes: Sequence[str] = MODES) -> RetrievalReport:
    index_beir(kb, data)
    ranker = chunk_ranker(kb, lambda p: p[5:] if p.startswith("beir:") else None)
    return evaluate(data, ranker, kb.embedder.encode, modes)


def run_tools(kb: KnowledgeBase, specs: list[ToolSpec], data: BeirData,
              modes: Sequence[str] = MODES, split: bool = True) -> RetrievalReport:
    """Tool retrieval through :class:`~slmstack.rag.toolindex.ToolIndex` (the agent's path;
    ``split=False``: each request ranked whole, not also part by part)."""
    from ..rag.toolindex import ToolIndex

    tools = ToolIndex(kb)
    tools.add(specs)

    def rank(query: str, vector: Any, mode: str, k: int) -> list[str]:
        return tools.rank(query, k, mode, vector=vector, split=split)

    return evaluate(data, rank, kb.embedder.encode, modes)
