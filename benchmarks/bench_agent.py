"""Agent runtime overhead per step, excluding model time (goal: under 1 ms).

A scripted model (no inference) drives runs of N tool turns; the time spent inside
``model.complete`` (prompt rendering, parsing, validation: the model layer) and inside the tools
is subtracted from the wall time, leaving what the loop itself costs per step: budgets, loop
detection, context accounting/folding, step records, the ``on_step`` hook. Configurations run
side by side in one process and are reported as ratios to the plain run.

    python benchmarks/bench_agent.py [--turns 20] [--repeats 30] [--out runs/bench_agent.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from slmstack.agent import Agent, Budgets, LoopPolicy, Step
from slmstack.models.catalog import ModelProfile
from slmstack.models.scripted import ScriptedModel


class TimedModel(ScriptedModel):
    """The scripted model, timing every call so the benchmark can subtract it."""

    model_s = 0.0

    def complete(self, messages: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return super().complete(messages, **kwargs)
        finally:
            TimedModel.model_s += time.perf_counter() - t0


tool_s = 0.0


def lookup(key: int) -> str:
    """Look a key up.

    Args:
        key: the key
    """
    global tool_s
    t0 = time.perf_counter()
    out = f"value of {key} is {key * 7} " + "detail " * 60
    tool_s += time.perf_counter() - t0
    return out


def _script(turns: int) -> list[str]:
    calls = [
        json.dumps({"tool_calls": [{"name": "lookup", "arguments": {"key": i}}]})
        for i in range(turns)
    ]
    return [*calls, json.dumps({"content": "done"})]


CONFIGS: dict[str, dict[str, Any]] = {
    "plain": {},
    "hook → JSON (trace store)": {"hook": True},
    "small context (folding)": {"context_length": 1500},
}


def _once(turns: int, cfg: dict[str, Any]) -> tuple[float, int]:
    global tool_s
    sink: list[str] = []
    hook = (lambda s: sink.append(s.model_dump_json())) if cfg.get("hook") else None
    profile = ModelProfile(name="bench", context_length=cfg.get("context_length", 32768))
    model = TimedModel(_script(turns), profile=profile)
    agent = Agent(
        model,
        [lookup],
        budgets=Budgets(max_steps=turns + 2, max_output_tokens=64),
        loop=LoopPolicy(stale_steps=turns + 1),
        on_step=hook,
    )
    TimedModel.model_s, tool_s = 0.0, 0.0
    t0 = time.perf_counter()
    result = agent.run("Look up every key.")
    wall = time.perf_counter() - t0
    assert result.stop_reason == "done", result.detail
    steps: list[Step] = result.steps
    return wall - TimedModel.model_s - tool_s, len(steps)


def measure(turns: int, repeats: int) -> dict[str, dict[str, float]]:
    out = {}
    for name, cfg in CONFIGS.items():
        _once(turns, cfg)  # warm-up
        per_step = []
        for _ in range(repeats):
            overhead, n_steps = _once(turns, cfg)
            per_step.append(overhead / n_steps)
        out[name] = {
            "median_ms_per_step": 1000 * statistics.median(per_step),
            "p90_ms_per_step": 1000 * sorted(per_step)[int(0.9 * (len(per_step) - 1))],
            "steps_per_run": n_steps,
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--turns", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--out", type=Path, default=Path("runs/bench_agent.json"))
    args = ap.parse_args()
    results = measure(args.turns, args.repeats)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    base = results["plain"]["median_ms_per_step"]
    table = Table(title=f"agent runtime overhead per step ({args.turns} tool turns per run)")
    for col in ("configuration", "median ms/step", "p90 ms/step", "steps/run", "× plain"):
        table.add_column(col, justify="left" if col == "configuration" else "right")
    for name, r in results.items():
        table.add_row(
            name, f"{r['median_ms_per_step']:.3f}", f"{r['p90_ms_per_step']:.3f}",
            str(r["steps_per_run"]), f"{r['median_ms_per_step'] / base:.2f}",
        )
    Console().print(table)
    args.out.write_text(json.dumps({"turns": args.turns, "repeats": args.repeats,
                                    "goal_ms_per_step": 1.0, "results": results}, indent=2))
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
