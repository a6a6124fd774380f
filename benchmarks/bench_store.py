"""Trace-store write path: what ``record()`` costs the caller, how fast the background writer
drains, and the highest offered rate with zero drops — SQLite (WAL) and PostgreSQL side by side,
with a synchronous insert per call as the baseline a request would otherwise pay.

    python benchmarks/bench_store.py [--n 20000] [--seconds 2] [--no-postgres] [--out FILE]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from slmstack.store import CallRecord, StoreSettings, TraceStore
from slmstack.store.rows import call_row
from slmstack.store.schema import model_calls

RATES = (1000, 2000, 5000, 10000, 20000)
SWEEP_QUEUE = 2000


def record(i: int) -> CallRecord:
    """About 1 KB, like a short chat call through the gateway."""
    msgs = [{"role": "system", "content": "You are a helpful assistant." * 3},
            {"role": "user", "content": f"question {i}: " + "what is the capital of France? " * 8}]
    return CallRecord(task_id=f"task-{i // 5}", route=["chat", "tool_call"][i % 2],
                      model="embedded:smollm2-135m", request={"messages": msgs, "max_tokens": 64},
                      response={"text": "Paris is the capital of France. " * 4},
                      input_tokens=120, output_tokens=40, latency_s=0.3, cost_usd=2e-6)


def pct(xs: list[float], q: float) -> float:
    return statistics.quantiles(xs, n=100, method="inclusive")[int(q) - 1]


def burst(url: str, n: int) -> dict[str, Any]:
    """Submit n records as fast as one thread can; time each call and the drain."""
    recs = [record(i) for i in range(n)]
    lat = []
    with TraceStore(url, StoreSettings(queue_size=n)) as ts:
        t0 = time.perf_counter()
        for r in recs:
            a = time.perf_counter()
            ts.record(r)
            lat.append(time.perf_counter() - a)
        ts.flush(300)
        drain = time.perf_counter() - t0
        s = ts.stats()
    return {"record_p50_us": 1e6 * pct(lat, 50), "record_p99_us": 1e6 * pct(lat, 99),
            "writer_rec_per_s": n / drain, "written": s.written, "dropped": s.dropped}


def sync_baseline(url: str, n: int) -> dict[str, Any]:
    """One INSERT transaction per call, on the caller's thread (what the queue avoids)."""
    lat = []
    with TraceStore(url) as ts:
        for i in range(n):
            a = time.perf_counter()
            with ts.engine.begin() as conn:
                conn.execute(model_calls.insert(), [call_row(record(i))])
            lat.append(time.perf_counter() - a)
    return {"sync_p50_us": 1e6 * pct(lat, 50), "sync_p99_us": 1e6 * pct(lat, 99)}


def offered(url: str, rate: int, seconds: float, threads: int = 4) -> dict[str, Any]:
    recs = [record(i) for i in range(int(rate * seconds))]
    with TraceStore(url, StoreSettings(queue_size=SWEEP_QUEUE)) as ts:
        def produce(k: int) -> None:
            start = time.perf_counter()
            for j, rec in enumerate(recs[k::threads]):
                delay = start + j * threads / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                ts.record(rec)

        workers = [threading.Thread(target=produce, args=(k,)) for k in range(threads)]
        t0 = time.perf_counter()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        elapsed = time.perf_counter() - t0
        ts.flush(300)
        s = ts.stats()
    return {"rate": rate, "achieved": len(recs) / elapsed, "dropped": s.dropped,
            "written": s.written, "max_queue_depth": s.max_queue_depth}


def backends(use_pg: bool, tmp: Path) -> tuple[dict[str, Any], Any]:
    out: dict[str, Any] = {"sqlite": lambda name: str(tmp / f"{name}.db")}
    server = None
    if use_pg and shutil.which("initdb"):
        spec = importlib.util.spec_from_file_location(
            "pg", Path(__file__).parent.parent / "tests" / "store" / "conftest.py")
        mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        spec.loader.exec_module(mod)  # type: ignore[union-attr]
        server = mod.PostgresServer()
        out["postgres"] = lambda name: server.new_database()
    return out, server


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/bench_store.json"))
    args = ap.parse_args()
    console = Console()
    tmp = Path(tempfile.mkdtemp(prefix="bench-store-"))
    urls, server = backends(not args.no_postgres, tmp)
    results: dict[str, Any] = {"machine": platform.processor() or platform.machine(),
                               "n": args.n, "sweep_queue": SWEEP_QUEUE, "backends": {}}
    try:
        for name, url in urls.items():
            with console.status(f"{name}: burst, baseline, rate sweep…"):
                r = burst(url("burst"), args.n) | sync_baseline(url("sync"), min(args.n, 2000))
                r["sweep"] = [offered(url(f"rate{x}"), x, args.seconds) for x in RATES]
            r["zero_drop_max_rate"] = max((s["rate"] for s in r["sweep"] if s["dropped"] == 0),
                                          default=0)
            results["backends"][name] = r
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    show(console, results)
    args.out.write_text(json.dumps(results, indent=2))
    console.print(f"written to {args.out}")


def show(console: Console, res: dict[str, Any]) -> None:
    t = Table(title="caller cost per record (µs) and writer drain rate")
    for c in ("backend", "record() p50", "p99", "sync insert p50", "p99", "sync/queued p50",
              "writer rec/s"):
        t.add_column(c, justify="right")
    for name, r in res["backends"].items():
        t.add_row(name, f"{r['record_p50_us']:.1f}", f"{r['record_p99_us']:.1f}",
                  f"{r['sync_p50_us']:.0f}", f"{r['sync_p99_us']:.0f}",
                  f"{r['sync_p50_us'] / r['record_p50_us']:.0f}×", f"{r['writer_rec_per_s']:,.0f}")
    console.print(t)
    s = Table(title=f"offered rate, 4 threads, queue {res['sweep_queue']} (drops must be 0)")
    for c in ("backend", "offered/s", "achieved/s", "written", "dropped", "max queue"):
        s.add_column(c, justify="right")
    for name, r in res["backends"].items():
        for x in r["sweep"]:
            s.add_row(name, f"{x['rate']:,}", f"{x['achieved']:,.0f}", f"{x['written']:,}",
                      str(x["dropped"]), str(x["max_queue_depth"]))
    console.print(s)


if __name__ == "__main__":
    main()
