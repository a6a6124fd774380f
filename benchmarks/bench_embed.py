"""Embedder precisions side by side: float32 (sentence-transformers on torch, the reference) and
int8 (ONNX Runtime, built once from the same bundled weights), plus int8 with texts cut at 128
tokens (the length all-MiniLM-L6-v2 was trained at; the default cut is 256) for comparison.

* speed: texts/s (wall) and texts per CPU-second on pydocqa chunks, synthetic ``bench_rag``
  chunks and BFCL tool descriptions; one-query latency p50/p95 (wall and CPU ms);
* agreement: cosine between each variant's vector and the float32 vector of the same text, over
  BFCL questions and tool descriptions, pydocqa chunks and questions and synthetic chunks;
* retrieval quality: BFCL tool retrieval (what ``slmstack eval retrieval --bfcl`` runs) and
  pydocqa Recall@5 (``slmstack eval rag --no-answers``), both in bm25 / dense / hybrid.

    .venv/bin/python benchmarks/bench_embed.py            # writes benchmarks/bench_embed.json
    .venv/bin/python benchmarks/bench_embed.py --variants float32,int8 --queries 100
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
from bench_rag import Synth

from slmstack.rag.embed import DIM, Embedder
from slmstack.rag.index import embed_text

HERE = Path(__file__).parent
REPO = HERE.parent
BFCL = REPO.parent / "shared" / "data" / "bfcl"
PYDOCQA = REPO / "datasets" / "pydocqa"


class Int8Cut(Embedder):
    """The int8 embedder with texts cut at ``tokens`` word pieces (a benchmark variant)."""

    def __init__(self, tokens: int) -> None:
        from slmstack.rag.embed_onnx import OnnxEncoder, ensure_model

        super().__init__(precision="int8")
        self.name += f"@{tokens}"
        self._enc = OnnxEncoder(ensure_model(Path(self.path)), Path(self.path), tokens, DIM)

    def encode(self, texts: list[str]) -> Any:
        return self._enc.encode(texts) if texts else np.zeros((0, DIM), dtype=np.float32)


def variant(name: str) -> Embedder:
    return Int8Cut(int(name.split("@")[1])) if "@" in name else Embedder(precision=name)


def corpora(n_synth: int) -> dict[str, list[str]]:
    from slmstack.evals.rag import load_questions
    from slmstack.evals.retrieval import bfcl_tools
    from slmstack.rag.chunk import Chunker
    from slmstack.rag.convert import convert

    _, tools = bfcl_tools(BFCL)
    chunks = [embed_text(c.heading, c.text) for p in sorted((PYDOCQA / "docs").glob("*.html"))
              for c in Chunker().chunk(convert(p))]
    synth = Synth()
    return {"pydocqa chunks": chunks,
            "synthetic chunks": [embed_text(c.heading, c.text)
                                 for c in (synth.chunk(i) for i in range(n_synth))],
            "bfcl tool docs": [f"{t}\n{d}" for t, d in tools.corpus.values()],
            "bfcl questions": list(tools.queries.values()),
            "pydocqa questions": [c.question for c in load_questions(PYDOCQA, "all")]}


def throughput(emb: Embedder, groups: dict[str, list[str]]) -> tuple[dict, dict]:
    """Vectors of every group, and texts/s (wall) and texts per CPU-second for each."""
    emb.encode(["warm up", "the model loads here"])
    vectors, speed = {}, {}
    for name, texts in groups.items():
        t0, c0 = time.perf_counter(), time.process_time()
        vectors[name] = emb.encode(texts)
        secs, cpu = time.perf_counter() - t0, time.process_time() - c0
        speed[name] = {"texts": len(texts), "per_s": round(len(texts) / secs, 1),
                       "per_cpu_s": round(len(texts) / cpu, 1)}
    return vectors, speed


def query_latency(emb: Embedder, queries: list[str]) -> dict[str, float]:
    wall, cpu = [], []
    for q in queries:
        t0, c0 = time.perf_counter(), time.process_time()
        emb.query(q)
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    wall.sort()
    return {"p50_ms": round(statistics.median(wall), 2),
            "p95_ms": round(wall[int(0.95 * (len(wall) - 1))], 2),
            "cpu_p50_ms": round(statistics.median(cpu), 2)}


def agreement(vectors: dict, reference: dict) -> dict[str, dict[str, float]]:
    out = {}
    for name, rows in vectors.items():
        cos = (rows * reference[name]).sum(1)
        out[name] = {"mean": round(float(cos.mean()), 4),
                     "p5": round(float(np.percentile(cos, 5)), 4),
                     "min": round(float(cos.min()), 4)}
    everything = np.concatenate([(vectors[n] * reference[n]).sum(1) for n in vectors])
    out["all"] = {"mean": round(float(everything.mean()), 4), "texts": len(everything),
                  "p5": round(float(np.percentile(everything, 5)), 4),
                  "min": round(float(everything.min()), 4)}
    return out


def quality(emb: Embedder) -> dict[str, Any]:
    from slmstack.evals.rag import load_questions, relevant
    from slmstack.evals.retrieval import bfcl_tools, run_tools
    from slmstack.rag.index import open_index
    from slmstack.rag.ingest import Ingester
    from slmstack.rag.search import KnowledgeBase

    kb = KnowledgeBase(open_index(":memory:"), emb)
    tools = run_tools(kb, *bfcl_tools(BFCL)).rows
    kb.close()
    kb = KnowledgeBase(open_index(":memory:"), emb)
    Ingester(kb).add([PYDOCQA / "docs"])
    cases = [c for c in load_questions(PYDOCQA, "all") if c.answerable]
    recall = {mode: round(float(np.mean([any(relevant(h, c) for h in kb.search(c.question, 5, mode))
                                         for c in cases])), 4)
              for mode in ("bm25", "dense", "hybrid")}
    kb.close()
    return {"bfcl_tools": {m: {k: round(v, 4) for k, v in r.items()} for m, r in tools.items()},
            "pydocqa_recall@5": recall}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", default="float32,int8,int8@128")
    ap.add_argument("--synthetic", type=int, default=300, help="synthetic chunks to embed")
    ap.add_argument("--queries", type=int, default=200, help="single queries to time")
    ap.add_argument("--no-quality", action="store_true", help="skip the retrieval evals")
    ap.add_argument("--out", type=Path, default=HERE / "bench_embed.json")
    args = ap.parse_args()
    groups = corpora(args.synthetic)
    queries = groups["bfcl questions"][: args.queries]
    rows: dict[str, dict[str, Any]] = {}
    reference: dict[str, Any] = {}
    for name in args.variants.split(","):
        emb = variant(name)
        vectors, speed = throughput(emb, groups)
        reference = reference or vectors  # the first variant is the reference (float32)
        rows[name] = {"embedder": emb.name, "speed": speed,
                      "query": query_latency(emb, queries),
                      "cosine_to_first": agreement(vectors, reference)}
        if not args.no_quality:
            rows[name]["quality"] = quality(emb)
        print(f"{name}: done, load avg {os.getloadavg()[0]:.2f}", flush=True)
    report(rows, groups, args)


def report(rows: dict[str, dict[str, Any]], groups: dict[str, list[str]],
           args: argparse.Namespace) -> None:
    first = next(iter(rows))
    print(f"\nspeed, texts per CPU-second (wall texts/s); ratio to {first}")
    for name, r in rows.items():
        cells = [f"{g} {r['speed'][g]['per_cpu_s']} ({r['speed'][g]['per_s']}/s) "
                 f"x{r['speed'][g]['per_cpu_s'] / rows[first]['speed'][g]['per_cpu_s']:.2f}"
                 for g in groups if "questions" not in g]
        print(f"  {name:9} " + "; ".join(cells))
    print("one query (BFCL questions): p50 / p95 wall ms, CPU ms p50")
    for name, r in rows.items():
        q = r["query"]
        print(f"  {name:9} {q['p50_ms']} / {q['p95_ms']}, CPU {q['cpu_p50_ms']} "
              f"(x{rows[first]['query']['cpu_p50_ms'] / q['cpu_p50_ms']:.2f} faster)")
    print(f"cosine to {first}: mean / p5 / min")
    for name, r in rows.items():
        print(f"  {name:9} " + "; ".join(f"{g} {c['mean']}/{c['p5']}/{c['min']}"
                                        for g, c in r["cosine_to_first"].items()))
    if all("quality" in r for r in rows.values()):
        print("retrieval: BFCL tools nDCG@10 / R@5 (bm25, dense, hybrid); pydocqa R@5 (same)")
        for name, r in rows.items():
            t, p = r["quality"]["bfcl_tools"], r["quality"]["pydocqa_recall@5"]
            print(f"  {name:9} " + ", ".join(f"{t[m]['ndcg@10']:.4f}/{t[m]['recall@5']:.4f}"
                                            for m in t) + "; pydocqa " + ", ".join(
                f"{p[m]:.4f}" for m in p))
    out = {"machine": {"cpus": os.cpu_count(), "load_avg_1m": os.getloadavg()[0]},
           "texts": {g: len(t) for g, t in groups.items()}, "variants": rows,
           "args": {k: str(v) for k, v in vars(args).items()}}
    args.out.write_text(json.dumps(out, indent=2))
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
