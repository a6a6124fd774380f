"""Embedded model throughput: slmstack's embedded backend against raw llama-cpp-python, same model,
same prompt, same run — and the cost of JSON-schema constrained decoding.

Interleaves the arms round by round so machine noise hits each alike; reports medians and ratios.
Decode tokens/s is the generated tokens over the wall time of the call less llama.cpp's own prompt
evaluation time (its perf counters): everything slmstack adds on the way (templating, grammar,
parsing, validation) stays in; the prompt's length, which differs between the arms (the schema
instruction), does not.
Run: .venv/bin/python benchmarks/bench_embedded.py [--rounds 5] [--tokens 128]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from slmstack.models.registry import load_model
from slmstack.types import Message

PROMPT = "Write a short paragraph about the history of the printing press."
SCHEMA = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "maxLength": 60},
        "year": {"type": "integer"},
        "summary": {"type": "string", "maxLength": 240},
        "facts": {"type": "array", "maxItems": 3, "items": {"type": "string", "maxLength": 80}},
    },
    "required": ["title", "year", "summary", "facts"],
}


def _prefill_s(llm) -> float:
    import llama_cpp

    return llama_cpp.llama_perf_context(llm._ctx.ctx).t_p_eval_ms / 1000


def _timed(llm, call) -> tuple[int, float, float]:
    """(generated tokens, wall seconds, decode seconds) of one call."""
    import llama_cpp

    llama_cpp.llama_perf_context_reset(llm._ctx.ctx)
    t0 = time.perf_counter()
    n = call()
    wall = time.perf_counter() - t0
    return n, wall, wall - _prefill_s(llm)


def _raw_arm(llm, tokens: int):
    def call() -> int:
        out = llm.create_chat_completion(
            messages=[{"role": "system", "content": "You are a helpful assistant."},
                      {"role": "user", "content": PROMPT}],
            max_tokens=tokens, temperature=0.0, top_k=1,
        )
        return out["usage"]["completion_tokens"]

    return lambda: _timed(llm, call)


def _stack_arm(model, tokens: int, schema=None):
    def call() -> int:
        c = model.complete([Message.user(PROMPT)], max_tokens=tokens, schema=schema)
        return c.usage.output_tokens

    return lambda: _timed(model.llm, call)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--out", default=str(Path(__file__).with_suffix(".json")))
    args = ap.parse_args()

    model = load_model("embedded:smollm2-135m")
    arms = {
        "raw llama-cpp-python": _raw_arm(model.llm, args.tokens),
        "slmstack embedded": _stack_arm(model, args.tokens),
        # bounded so the whole object fits: a cut-off object is (rightly) a validation error
        "slmstack + JSON schema": _stack_arm(model, 2 * args.tokens, SCHEMA),
    }
    for run in arms.values():  # warm-up
        run()
    rates: dict[str, list[float]] = {k: [] for k in arms}
    walls: dict[str, list[float]] = {k: [] for k in arms}
    for _ in range(args.rounds):
        for name, run in arms.items():
            n, wall, decode = run()
            rates[name].append(n / decode)
            walls[name].append(n / wall)
    med = {k: statistics.median(v) for k, v in rates.items()}
    med_wall = {k: statistics.median(v) for k, v in walls.items()}
    base = med["raw llama-cpp-python"]
    table = Table("arm", "decode tokens/s (median)", "ratio to raw", "end-to-end tokens/s",
                  title=f"embedded SmolLM2-135M, {args.rounds} rounds, {dt.date.today()}")
    for k, v in med.items():
        table.add_row(k, f"{v:.1f}", f"{v / base:.3f}", f"{med_wall[k]:.1f}")
    Console().print(table)
    result = {
        "date": dt.date.today().isoformat(),
        "rounds": args.rounds,
        "max_tokens": args.tokens,
        "decode_tokens_per_s": med,
        "end_to_end_tokens_per_s": med_wall,
        "stack_over_raw": med["slmstack embedded"] / base,
        "constrained_over_unconstrained": med["slmstack + JSON schema"] / med["slmstack embedded"],
    }
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(json.dumps({k: round(v, 3) for k, v in result.items() if isinstance(v, float)}))


if __name__ == "__main__":
    main()
