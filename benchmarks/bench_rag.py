"""Knowledge-base speed: ingest chunks/s and query latency p50/p95 at 10k and 100k chunks.

Synthetic chunks (≈80 words drawn Zipf-like from a 5,000-word vocabulary, so BM25 has realistic
postings). Two ingest figures:

* pipeline: chunks → all-MiniLM-L6-v2 embeddings → SQLite (sqlite-vec + FTS5), the real path
  ``kb add`` takes after conversion, on ``--pipeline`` chunks;
* index write at scale: the same writes with precomputed vectors (embedding 100k chunks on 2
  cores would take most of an hour); the scale vectors are real embeddings of the pipeline chunks
  mixed pairwise with noise and renormalised, so their distribution stays MiniLM-like.

Query latency is end to end per query (embed the query + search) for hybrid (RRF of 50 + 50),
BM25 and dense. BM25 is timed on the in-memory postings (``slmstack.rag.sparsecache``, loaded in
the background after the first query; timing waits for it and reports the load) and, side by
side, on FTS5 (``bm25-fts5``: the path taken until the postings are loaded). Prints a table and
writes benchmarks/bench_rag.json.

Each figure is taken for every embedder precision in ``--precision`` (float32: sentence-
transformers, the reference; int8: ONNX Runtime, see ``slmstack.rag.embed_onnx``), side by side
with the ratio to the first. The scale indexes are built once (from the first precision's
vectors) and queried with each embedder: the search cost does not depend on whose vectors fill
the index.

    .venv/bin/python benchmarks/bench_rag.py            # 10k and 100k, float32 and int8
    .venv/bin/python benchmarks/bench_rag.py --sizes 10000 --queries 50
    .venv/bin/python benchmarks/bench_rag.py --cache /tmp/bench-rag   # reuse built indexes

Latencies are also given in CPU milliseconds (all threads), which a shared machine's load
inflates far less than wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from slmstack.rag.embed import Embedder
from slmstack.rag.index import embed_text, open_index
from slmstack.rag.ingest import Ingester
from slmstack.rag.records import Chunk, DocumentMeta
from slmstack.rag.search import KnowledgeBase
from slmstack.rag.text import content_hash

HERE = Path(__file__).parent
CHUNKS_PER_DOC = 50
GOALS = {"ingest_chunks_per_s": 100.0, "query_p50_ms_at_100k": 30.0}


class Synth:
    def __init__(self, seed: int = 0, vocab: int = 5000) -> None:
        self.rng = np.random.default_rng(seed)
        syll = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "xi", "ze", "pa", "do", "fe", "gu", "hi"]
        words: set[str] = set()
        while len(words) < vocab:
            n = int(self.rng.integers(2, 5))
            words.add("".join(self.rng.choice(syll, n)))
        self.words = np.array(sorted(words))
        p = 1.0 / np.arange(1, vocab + 1)
        self.p = p / p.sum()
        self.cdf = self.p.cumsum()
        self.cdf /= self.cdf[-1]

    def text(self, n: int) -> str:
        # what rng.choice(words, n, p=p) does, without rebuilding the cdf on every call
        return " ".join(self.words[self.cdf.searchsorted(self.rng.random(n), side="right")])

    def chunk(self, ordinal: int) -> Chunk:
        text = self.text(80)
        return Chunk(text, ordinal, self.text(3), None, content_hash(text))


def docs_of(chunks: list[Chunk], first_doc: int) -> list[tuple[DocumentMeta, list[Chunk]]]:
    """Group chunks into documents of CHUNKS_PER_DOC, numbered from ``first_doc``."""
    out = []
    for i in range(0, len(chunks), CHUNKS_PER_DOC):
        part = chunks[i : i + CHUNKS_PER_DOC]
        for j, c in enumerate(part):
            c.ordinal = j
        path = f"/synthetic/doc{first_doc + i // CHUNKS_PER_DOC:06d}.md"
        out.append((DocumentMeta(path, content_hash(path), "md", time.time(), 0), part))
    return out


def pipeline(synth: Synth, embedder: Embedder, n: int, folder: Path) -> tuple[dict, np.ndarray]:
    """Embed + write ``n`` fresh chunks through the Ingester; returns figures and the vectors."""
    kb = KnowledgeBase(open_index(str(folder / f"pipeline-{embedder.precision}.db")), embedder)
    chunks = [synth.chunk(i) for i in range(n)]
    embedder.encode(["warm up"])
    t0, c0 = time.perf_counter(), time.process_time()
    embedded = Ingester(kb).write_many(docs_of(chunks, 0))
    secs, cpu = time.perf_counter() - t0, time.process_time() - c0
    vecs = kb.index.vectors_for([c.hash for c in chunks])
    kb.close()
    sample = [embed_text(c.heading, c.text) for c in chunks[:256]]
    t1 = time.perf_counter()
    embedder.encode(sample)
    embed_only = len(sample) / (time.perf_counter() - t1)
    fig = {"chunks": n, "embedded": embedded, "seconds": round(secs, 2),
           "chunks_per_s": round(n / secs, 1), "embed_only_chunks_per_s": round(embed_only, 1),
           "cpu_seconds": round(cpu, 2), "chunks_per_cpu_s": round(n / cpu, 1),
           "mean_chars": round(sum(len(c.text) for c in chunks) / n),
           "mean_tokens": round(_mean_tokens(embedder, [embed_text(c.heading, c.text)
                                                        for c in chunks[:256]]), 1)}
    return fig, np.stack([vecs[c.hash] for c in chunks])


def _mean_tokens(embedder: Embedder, texts: list[str]) -> float:
    """Word pieces per text as the embedder sees them (it truncates at its max_seq_length)."""
    from slmstack.rag.embed import _load

    model = _load(embedder.path)
    cap = model.max_seq_length
    return sum(min(len(model.tokenizer(t)["input_ids"]), cap) for t in texts) / max(len(texts), 1)


def real_docs(embedder: Embedder, folder: Path) -> dict:
    """``kb add`` on the shipped pydocqa HTML pages (conversion + chunking + embedding + writes):
    English prose and code, so tokens per chunk are what a user's documents give."""
    kb = KnowledgeBase(open_index(str(folder / f"docs-{embedder.precision}.db")), embedder)
    t0, c0 = time.perf_counter(), time.process_time()
    rep = Ingester(kb).add([HERE.parent / "datasets" / "pydocqa" / "docs"])
    secs, cpu = time.perf_counter() - t0, time.process_time() - c0
    rows = kb.index.db.execute("SELECT heading, text FROM chunks")
    texts = [embed_text(heading, text) for heading, text in rows]
    mean_tokens = _mean_tokens(embedder, texts)
    kb.close()
    return {"files": len(rep.added), "chunks": rep.chunks, "seconds": round(secs, 2),
            "chunks_per_s": round(rep.chunks / secs, 1),
            "chunks_per_cpu_s": round(rep.chunks / cpu, 1),
            "mean_tokens": round(mean_tokens, 1)}


def scale_vectors(base: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    a, b = rng.integers(0, len(base), n), rng.integers(0, len(base), n)
    w = rng.uniform(0.5, 1.0, (n, 1)).astype(np.float32)
    v = w * base[a] + (1 - w) * base[b] + rng.normal(0, 0.02, (n, base.shape[1])).astype(np.float32)
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def build(synth: Synth, base: np.ndarray, n: int, path: Path) -> tuple[KnowledgeBase, dict]:
    """Write ``n`` synthetic chunks; only the index writes are timed (the synthetic text is
    generated before each timed step). A complete build left by ``--cache`` is reused."""
    cached = path.with_suffix(".json")
    if cached.exists() and path.exists():
        return KnowledgeBase(open_index(str(path)), Embedder()), json.loads(cached.read_text())
    for old in path.parent.glob(path.name + "*"):
        old.unlink()
    kb = KnowledgeBase(open_index(str(path)), Embedder())
    vectors = scale_vectors(base, n, synth.rng)
    secs, done = 0.0, 0
    while done < n:
        step = min(5000, n - done)
        docs = docs_of([synth.chunk(i) for i in range(step)], done // CHUNKS_PER_DOC)
        t0 = time.perf_counter()
        for k, (meta, cs) in enumerate(docs):
            at = done + k * CHUNKS_PER_DOC
            kb.index.replace_document(meta, cs, vectors[at : at + len(cs)])
        secs += time.perf_counter() - t0
        done += step
    size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    fig = {"write_seconds": round(secs, 1), "write_chunks_per_s": round(n / secs, 1),
           "file_mb": round(size / 2**20, 1), "load_avg_1m": round(os.getloadavg()[0], 2)}
    cached.write_text(json.dumps(fig))
    return kb, fig


MODES = ("hybrid", "bm25", "bm25-fts5", "dense")


def latency(kb: KnowledgeBase, queries: list[str]) -> dict[str, dict[str, float]]:
    out = {}
    sparse = getattr(kb.index, "_sparse", None)  # the SQLite index's in-memory BM25 postings
    for mode in MODES:
        search = "bm25" if mode == "bm25-fts5" else mode
        if sparse is not None:
            sparse.enabled = mode != "bm25-fts5"
        t0 = time.perf_counter()
        kb.search(queries[0], 10, search)  # warm caches (the first dense query loads vectors)
        first = (time.perf_counter() - t0) * 1000
        if sparse is not None and sparse.enabled:
            sparse.wait()  # the first BM25 query started loading the postings
        times, cpu = [], []
        for q in queries:
            t0, c0 = time.perf_counter(), time.process_time()
            kb.search(q, 10, search)
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
        times.sort()
        out[mode] = {"p50_ms": round(statistics.median(times), 2),
                     "p95_ms": round(times[int(0.95 * (len(times) - 1))], 2),
                     "cpu_p50_ms": round(statistics.median(cpu), 2),
                     "first_ms": round(first, 1), "load_avg_1m": round(os.getloadavg()[0], 2)}
    postings = sparse and sparse._postings
    if postings:
        out["bm25"] |= {"postings_load_s": round(sparse.load_seconds, 2),
                        "postings": len(postings.rows),
                        "postings_mb": round(postings.nbytes / 2**20, 1)}
    if sparse is not None:
        sparse.enabled = True
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--pipeline", type=int, default=2000, help="chunks through the embedder")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--precision", default="float32,int8",
                    help="embedder precisions to compare, the first is the reference")
    ap.add_argument("--out", type=Path, default=HERE / "bench_rag.json")
    ap.add_argument("--cache", type=Path, default=None,
                    help="keep the built indexes in this folder and reuse them on later runs")
    args = ap.parse_args()
    embedders = {p: Embedder(precision=p) for p in args.precision.split(",")}
    pipes, rows, base = {}, [], None
    with tempfile.TemporaryDirectory(prefix="bench-rag-") as tmp:
        for name, embedder in embedders.items():
            pipes[name], vecs = pipeline(Synth(), embedder, args.pipeline, Path(tmp))
            base = vecs if base is None else base
            pipes[name]["real_docs"] = real_docs(embedder, Path(tmp))
            print(f"{name}: pipeline ingest {pipes[name]['chunks_per_s']} chunks/s wall, "
                  f"{pipes[name]['chunks_per_cpu_s']} per CPU-second (embedding alone "
                  f"{pipes[name]['embed_only_chunks_per_s']}/s); kb add on pydocqa "
                  f"{pipes[name]['real_docs']['chunks_per_s']} chunks/s", flush=True)
        folder = args.cache or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        synth = Synth(seed=1)
        queries = [synth.text(int(synth.rng.integers(4, 12))) for _ in range(args.queries)]
        for n in map(int, args.sizes.split(",")):
            kb, fig = build(synth, base, n, folder / f"kb{n}.db")
            fig |= {"chunks": n, "latency": {name: latency(KnowledgeBase(kb.index, emb), queries)
                                             for name, emb in embedders.items()}}
            kb.close()
            rows.append(fig)
            print(f"{n:>7} chunks: write {fig['write_chunks_per_s']}/s, hybrid p50 " + ", ".join(
                f"{p} {lat['hybrid']['p50_ms']} ms" for p, lat in fig["latency"].items()),
                flush=True)
    report(pipes, rows, args)


def report(pipes: dict[str, dict], rows: list[dict], args: argparse.Namespace) -> None:
    first = next(iter(pipes))
    head = ["chunks", "embedder", "hybrid p50", "hybrid p95", "bm25 p50", "bm25 p95",
            "fts5 p50", "fts5 p95", "dense p50", "dense p95", "hybrid x"]
    print("\n" + " | ".join(f"{h:>10}" for h in head))
    for r in rows:
        for name, lat in r["latency"].items():
            cells = [r["chunks"], name] + [
                lat[m][p] for m in MODES for p in ("p50_ms", "p95_ms")
            ] + [round(r["latency"][first]["hybrid"]["p50_ms"] / lat["hybrid"]["p50_ms"], 2)]
            print(" | ".join(f"{c:>10}" for c in cells))
    for r in rows:
        print(f"{r['chunks']:>7} chunks: write {r['write_chunks_per_s']}/s, {r['file_mb']} MB; "
              f"first dense query (loads the vectors) "
              f"{r['latency'][first]['dense']['first_ms']} ms")
        for name, lat in r["latency"].items():
            print(f"   {name:8} CPU ms p50 (all threads): " + ", ".join(
                f"{m} {lat[m]['cpu_p50_ms']}" for m in lat) + f"; load avg "
                f"{lat['hybrid']['load_avg_1m']}")
        bm = r["latency"][first]["bm25"]
        if "postings_load_s" in bm:
            fts5 = r["latency"][first]["bm25-fts5"]
            print(f"   BM25 in memory p50 {bm['p50_ms']} ms (CPU {bm['cpu_p50_ms']}) vs FTS5 "
                  f"{fts5['p50_ms']} ms (CPU {fts5['cpu_p50_ms']}): "
                  f"x{fts5['cpu_p50_ms'] / bm['cpu_p50_ms']:.1f} in CPU; {bm['postings']} "
                  f"postings, {bm['postings_mb']} MB, loaded in {bm['postings_load_s']} s "
                  "(in the background)")
    for name, pipe in pipes.items():
        ratio = pipe["chunks_per_s"] / pipes[first]["chunks_per_s"]
        print(f"{name:8} pipeline ingest {pipe['chunks_per_s']} chunks/s (x{ratio:.2f}), "
              f"{pipe['chunks_per_cpu_s']} per CPU-second; kb add on pydocqa "
              f"{pipe['real_docs']['chunks_per_s']} chunks/s (goal ≥ "
              f"{GOALS['ingest_chunks_per_s']:.0f})")
    big = next((r for r in rows if r["chunks"] == 100_000), None)
    if big:
        print("hybrid query p50 at 100k: " + ", ".join(
            f"{p} {lat['hybrid']['p50_ms']} ms" for p, lat in big["latency"].items())
            + f" (goal ≤ {GOALS['query_p50_ms_at_100k']:.0f})")
    out = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                       "load_avg_1m": os.getloadavg()[0]},
           "goals": GOALS, "embedders": {p: Embedder(precision=p).name for p in pipes},
           "pipeline": pipes, "scale": rows,
           "args": {k: str(v) for k, v in vars(args).items()}}
    args.out.write_text(json.dumps(out, indent=2))
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
