"""Verdicts per second: the process verifier (rules + distilled classifier) against an LLM judge
(the embedded SmolLM2-135M asked to grade the same traces), measured in one run.

    .venv/bin/python benchmarks/bench_verify.py [--problems 300] [--judge 6] [--model DIR]

Traces are held-out GSM8K test problems: the clean reference solution and its corruptions
(about five traces per question, which a batch reads once); a second row times one trace per
problem, all 1,319 test questions distinct.
Prints a table and writes benchmarks/bench_verify.json. CPU seconds are reported beside wall
time because the machine may be shared: verdicts per CPU-second × cores is the capacity.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import time
from pathlib import Path
from typing import Any

OUT = Path(__file__).with_suffix(".json")


def _traces(problems: int) -> tuple[list[Any], list[Any]]:
    from slmstack.verify.data import examples, gsm8k_dir

    exs = examples(gsm8k_dir(None), "test", problems)
    return exs, [e.trace() for e in exs]


def _distinct() -> list[Any]:
    """The clean reference solution of every GSM8K test problem."""
    from slmstack.verify.corrupt import clean
    from slmstack.verify.data import gsm8k_dir, problems

    return [clean(p, q, a) for p, q, a in problems(gsm8k_dir(None), "test")]


def _cold() -> None:
    """Empty the verifier's text-level caches (expressions, numbers of a text, a step's plain
    text) so no row profits from traces an earlier row verified."""
    from slmstack.verify import numerals, safe_eval, trace

    for fn in (safe_eval._evaluate, numerals._values_cached, trace.plain):
        fn.cache_clear()


def _timed(fn: Any) -> tuple[Any, float, float]:
    _cold()
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def _worker(args: tuple[str | None, int, int]) -> int:
    from slmstack.verify.verifier import ProcessVerifier

    model, problems, part = args
    _, traces = _traces(problems)
    verifier = ProcessVerifier(model or "bundled")
    verifier.verify_many(traces[:32])  # warm
    mine = traces[part::2]
    _cold()
    start = time.perf_counter()
    for at in range(0, len(mine), 256):
        verifier.verify_many(mine[at:at + 256])
    return int(len(mine) / (time.perf_counter() - start))


def run(problems: int, judge_n: int, model: str | None) -> dict[str, Any]:
    from slmstack.verify.evaluate import metrics
    from slmstack.verify.verifier import ProcessVerifier

    exs, traces = _traces(problems)
    verifier = ProcessVerifier(model or "bundled")
    verifier.verify_many(traces[:32])  # load the embedding table, warm the caches
    res: dict[str, Any] = {"traces": len(traces), "verifier": verifier.name}
    verdicts, wall, cpu = _timed(lambda: [v for at in range(0, len(traces), 256)
                                          for v in verifier.verify_many(traces[at:at + 256])])
    res["batched"] = {"wall_s": wall, "cpu_s": cpu, "per_s": len(traces) / wall,
                      "per_cpu_s": len(traces) / cpu}
    distinct = [e.trace() for e in _distinct()]  # one trace per problem: no question repeats
    _, wall, cpu = _timed(lambda: [v for at in range(0, len(distinct), 256)
                                   for v in verifier.verify_many(distinct[at:at + 256])])
    res["batched_distinct_questions"] = {"n": len(distinct), "wall_s": wall, "cpu_s": cpu,
                                         "per_s": len(distinct) / wall,
                                         "per_cpu_s": len(distinct) / cpu}
    single = traces[:300]
    _, wall, cpu = _timed(lambda: [verifier.verify(t) for t in single])
    res["one_at_a_time"] = {"n": len(single), "per_s": len(single) / wall,
                            "per_cpu_s": len(single) / cpu}
    with mp.get_context("spawn").Pool(2) as pool:
        rates = pool.map(_worker, [(model, problems, 0), (model, problems, 1)])
    res["two_processes_per_s"] = sum(rates)
    res["quality_on_these_traces"] = metrics(exs, verdicts)
    res["judge"] = _judge(exs, traces, judge_n, verdicts)
    res["ratio_two_cores_vs_judge"] = res["two_processes_per_s"] / res["judge"]["per_s"]
    res["ratio_batched_vs_judge"] = res["batched"]["per_s"] / res["judge"]["per_s"]
    return res


def _judge(exs: list[Any], traces: list[Any], n: int, ours: list[Any]) -> dict[str, Any]:
    from slmstack.models.registry import load_model
    from slmstack.verify.judge import llm_judge

    model = load_model("embedded:smollm2-135m")
    picks = list(range(0, len(traces), max(1, len(traces) // n)))[:n]
    llm_judge(model, traces[picks[0]])  # warm
    out, wall, cpu = _timed(lambda: [llm_judge(model, traces[i]) for i in picks])
    truth = [exs[i].kind != "clean" for i in picks]
    return {"model": "embedded:smollm2-135m", "n": len(picks), "per_s": len(picks) / wall,
            "per_cpu_s": len(picks) / cpu,
            "judge_agrees_with_labels": sum((v.score < 0.5) == t for v, t in zip(out, truth,
                                                                                strict=True)),
            "verifier_agrees_with_labels": sum((ours[i].score < 0.5) == t
                                               for i, t in zip(picks, truth, strict=True))}


def show(res: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"verdicts per second · {res['traces']} held-out GSM8K traces")
    for col in ("what", "verdicts/s (wall)", "verdicts per CPU-s", "× judge"):
        t.add_column(col, justify="right" if col != "what" else "left")
    j = res["judge"]["per_s"]
    b, o = res["batched"], res["one_at_a_time"]
    t.add_row(f"{res['verifier']} · batches of 256", f"{b['per_s']:.0f}", f"{b['per_cpu_s']:.0f}",
              f"{b['per_s'] / j:.0f}×")
    d = res["batched_distinct_questions"]
    t.add_row(f"… {d['n']} distinct questions, batches of 256", f"{d['per_s']:.0f}",
              f"{d['per_cpu_s']:.0f}", f"{d['per_s'] / j:.0f}×")
    t.add_row("… one trace per call", f"{o['per_s']:.0f}", f"{o['per_cpu_s']:.0f}",
              f"{o['per_s'] / j:.0f}×")
    t.add_row("… 2 processes (2 cores)", f"{res['two_processes_per_s']:.0f}", "-",
              f"{res['ratio_two_cores_vs_judge']:.0f}×")
    t.add_row(f"LLM judge {res['judge']['model']} (n={res['judge']['n']})", f"{j:.2f}",
              f"{res['judge']['per_cpu_s']:.2f}", "1×")
    Console().print(t)
    q = res["quality_on_these_traces"]
    Console().print(f"step F1 {q['step']['f1']} · clean pass {q['clean_pass']} · judge agrees "
                    f"with labels on {res['judge']['judge_agrees_with_labels']}/{res['judge']['n']}"
                    f" (verifier {res['judge']['verifier_agrees_with_labels']}/"
                    f"{res['judge']['n']})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--problems", type=int, default=300)
    ap.add_argument("--judge", type=int, default=6)
    ap.add_argument("--model", default=None, help="classifier folder (default: bundled)")
    args = ap.parse_args()
    res = run(args.problems, args.judge, args.model)
    res["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(),
                      "load_avg_1m": os.getloadavg()[0]}
    show(res)
    OUT.write_text(json.dumps(res, indent=2) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
