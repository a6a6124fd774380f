"""A one-shot command against a large index: open it, answer a few queries, exit — as
``slmstack kb search`` and ``slmstack ask`` do. With the in-memory caches (the default for a
long-lived process) the first dense query loads every vector and the first BM25 query starts
loading every posting in the background; without them (``memory_caches=False``, what the
one-shot commands now use) the queries run on disk (sqlite-vec, FTS5).

Each run is a fresh process (the embedder is loaded before the clock starts: both modes pay it
alike); the modes alternate so machine noise hits both. Prints a table with the ratio and writes
benchmarks/bench_oneshot.json. The synthetic index is bench_rag.py's (``--cache`` reuses it).

    .venv/bin/python benchmarks/bench_oneshot.py --chunks 100000 --cache /tmp/bench-rag
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

CHILD = """
import json, sys, time
from slmstack.rag.embed import Embedder
from slmstack.rag.search import KnowledgeBase
path, caches, queries = sys.argv[1], sys.argv[2] == "1", json.loads(sys.argv[3])
emb = Embedder()
emb.query("warm up")
t0 = time.perf_counter()
kb = KnowledgeBase.open(path, emb, memory_caches=caches)
times = []
for q in queries:
    t = time.perf_counter()
    kb.search(q, 10)
    times.append(time.perf_counter() - t)
total = time.perf_counter() - t0
kb.close()
print(json.dumps({"total_s": total, "first_s": times[0]}))
"""


def index(chunks: int, folder: Path) -> Path:
    import numpy as np
    from bench_rag import Synth, build

    from slmstack.rag.embed import Embedder

    path = folder / f"kb{chunks}.db"
    if not (path.exists() and path.with_suffix(".json").exists()):
        synth = Synth()
        texts = [synth.chunk(i).text for i in range(400)]
        base = np.asarray(Embedder().encode(texts), dtype=np.float32)
        build(Synth(seed=1), base, chunks, path)[0].close()
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chunks", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=3, help="queries per process")
    ap.add_argument("--runs", type=int, default=5, help="processes per mode")
    ap.add_argument("--cache", type=Path, default=None, help="folder to keep the built index")
    ap.add_argument("--out", type=Path, default=HERE / "bench_oneshot.json")
    args = ap.parse_args()
    from bench_rag import Synth

    with tempfile.TemporaryDirectory(prefix="bench-oneshot-") as tmp:
        folder = args.cache or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        path = index(args.chunks, folder)
        synth = Synth(seed=2)
        runs: dict[str, list[dict]] = {"memory caches": [], "on disk": []}
        for r in range(args.runs):
            queries = [synth.text(int(synth.rng.integers(4, 12))) for _ in range(args.queries)]
            for mode, flag in (("memory caches", "1"), ("on disk", "0"))[:: 1 if r % 2 else -1]:
                out = subprocess.run([sys.executable, "-c", CHILD, str(path), flag,
                                      json.dumps(queries)], capture_output=True, text=True,
                                     check=True)
                runs[mode].append(json.loads(out.stdout.strip().splitlines()[-1]))
    rows = {mode: {k: round(statistics.median(x[k] for x in rs) * 1000, 1)
                   for k in ("total_s", "first_s")} for mode, rs in runs.items()}
    ratio = rows["memory caches"]["total_s"] / rows["on disk"]["total_s"]
    print(f"{args.chunks} chunks, {args.queries} hybrid queries per fresh process, "
          f"median of {args.runs} (ms)")
    print(f"{'':16}{'open + queries':>16}{'first query':>14}")
    for mode, row in rows.items():
        print(f"{mode:16}{row['total_s']:>16}{row['first_s']:>14}")
    print(f"on disk is {ratio:.2f}× faster for a one-shot command")
    res = {"chunks": args.chunks, "queries_per_process": args.queries, "runs": args.runs,
           "median_ms": rows, "speedup_on_disk": round(ratio, 2),
           "load_avg_1m": round(os.getloadavg()[0], 2)}
    args.out.write_text(json.dumps(res, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
