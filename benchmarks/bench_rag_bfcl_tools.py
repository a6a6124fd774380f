"""Tool retrieval on BFCL: the 982 distinct functions are the corpus, each question a query, its
ground-truth functions the relevant documents. BM25, dense and hybrid side by side, each as the
agent ranks (``ToolIndex.rank``: the whole request interleaved with its parts) and with the
request ranked whole, on all queries and on each half (even / odd positions), so a choice made
looking at one half can be checked on the other. Prints a table, writes
benchmarks/bench_rag_bfcl_tools.json.

    nice .venv/bin/python benchmarks/bench_rag_bfcl_tools.py --bfcl /work/shared/data/bfcl
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from slmstack.evals.retrieval import METRICS, RetrievalReport, bfcl_tools, run_tools, scores
from slmstack.rag.embed import Embedder
from slmstack.rag.index import open_index
from slmstack.rag.search import KnowledgeBase

HERE = Path(__file__).parent
BAR = {"hybrid_recall@5": 0.95}


def halves(report: RetrievalReport, qrels: dict[str, dict[str, int]]) -> dict[str, dict]:
    """Each mode's metrics over the even- and the odd-positioned queries."""
    out: dict[str, dict] = {}
    for mode, ranked in report.per_query.items():
        ids = list(ranked)
        for half, part in (("even", ids[0::2]), ("odd", ids[1::2])):
            per = [scores(ranked[q], qrels[q]) for q in part]
            out.setdefault(half, {})[mode] = {m: sum(p[m] for p in per) / len(per)
                                              for m in METRICS}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bfcl", type=Path, default=Path(os.environ.get(
        "SLMSTACK_BFCL", "/work/shared/data/bfcl")))
    ap.add_argument("--out", type=Path, default=HERE / "bench_rag_bfcl_tools.json")
    args = ap.parse_args()
    specs, data = bfcl_tools(args.bfcl)
    kb = KnowledgeBase(open_index(":memory:"), Embedder())
    t0 = time.perf_counter()
    split = run_tools(kb, specs, data)
    whole = run_tools(kb, specs, data, split=False)
    kb.close()
    out = split.to_json() | {
        "ranking": "ToolIndex.rank: whole request interleaved with its parts",
        "whole_request": whole.rows, "halves": halves(split, data.qrels),
        "halves_whole_request": halves(whole, data.qrels), "bar": BAR,
        "seconds": round(time.perf_counter() - t0, 2)}
    print(f"{'':28}" + "".join(f"{m:>11}" for m in METRICS))
    for label, rows in (("", split.rows), (" (whole request)", whole.rows)):
        for mode, row in rows.items():
            print(f"{mode + label:28}" + "".join(f"{row[m]:>11.4f}" for m in METRICS))
    for half in ("even", "odd"):
        row = out["halves"][half]["hybrid"]
        print(f"{'hybrid, ' + half + ' half':28}" + "".join(f"{row[m]:>11.4f}" for m in METRICS))
    r5 = split.rows["hybrid"]["recall@5"]
    print(f"hybrid Recall@5 {r5:.4f} (bar ≥ {BAR['hybrid_recall@5']}: "
          f"{'met' if r5 >= BAR['hybrid_recall@5'] else 'NOT met'})")
    args.out.write_text(json.dumps(out, indent=2))
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
