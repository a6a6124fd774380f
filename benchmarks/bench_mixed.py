"""Mixed workload through the router (issue 6's bar): BFCL tool-calling tasks plus free-text
GSM8K questions, two tiers — the embedded SmolLM2-135M (small) and the Qwen2.5-Coder-0.5B
teacher GGUF (large, benchmarks/teacher.py).

Configurations, each through ``slmstack.router`` with its own trace store:

* ``small-only`` / ``large-only``: the pinned virtual models ``slmstack/small`` and
  ``slmstack/large``;
* ``routed-structure``: task kind from structure, escalation on schema / tool-argument validation,
  empty replies, backend errors (no verifier, no classifier);
* ``routed-grounding`` / ``routed-agreement`` / ``routed-both``: + the learned classifier
  (MiniLM + logistic regression, trained on GSM8K *train* questions vs the repo's Python-docs
  questions) sending math to the large tier, and a verifier escalating answers under its
  threshold: ``GroundingVerifier`` (right function, values from the request; free, threshold
  1.0), ``AgreementVerifier`` (2 samples of the small model at T=0.7 must not both disagree;
  threshold 0.5), or both (grounding first; agreement only for grounded answers).

Each configuration runs twice, without and with the router's tool gate (``+gate``:
``[router] tool_gate = true``, each request offers the tiers only its related tools; pinned
tiers are gated too). The bar compares a routed configuration with the better large-only run.

Quality: BFCL's AST checker (``slmstack.evals.bfcl``) for tool tasks, the final number for GSM8K.
Cost: the store's report (catalog prices per token), verification samples included. SLM share:
answered calls served by the small tier (store report). Bar: share ≥ 70 % and accuracy within
2 points of large-only.

Greedy decoding is deterministic, so a request repeated across configurations (the small tier's
first answer, an escalation to the large tier) is computed once and replayed from a cache in
``--work`` with its original latency, tokens and cost; a sampled (T>0) call is kept as the n-th
sample of its request, so the configurations (and reruns) judge the same samples.

    python benchmarks/bench_mixed.py --per-category 10 --gsm8k 16
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer

sys.path.insert(0, str(Path(__file__).parent))
from teacher import teacher_gguf  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
CATEGORIES = ("simple_python", "multiple", "parallel", "parallel_multiple", "irrelevance")
SMALL = "embedded:smollm2-135m"
WORK = Path.home() / ".cache" / "slmstack" / "bench_mixed"
app = typer.Typer(add_completion=False)


# ---- the workload -------------------------------------------------------------------------------
@dataclass
class Task:
    id: str
    kind: str  # bfcl category or "gsm8k"
    messages: list[Any]
    tools: list[Any] = field(default_factory=list)
    case: Any = None  # BfclCase
    answer: str | None = None  # GSM8K gold number

    def kwargs(self) -> dict[str, Any]:
        if self.tools:
            return {"tools": self.tools, "tool_choice": "auto", "max_tokens": 256,
                    "parallel_tool_calls": "parallel" in self.kind, "temperature": 0.0}
        return {"max_tokens": 320, "temperature": 0.0}


def workload(per_category: int, n_gsm8k: int, offset: int = 0, gsm8k_start: int = 0
             ) -> list[Task]:
    """Every k-th case of each BFCL category (spread over the file), from its ``offset``-th,
    then GSM8K test questions from the ``gsm8k_start``-th: another offset is another sample
    (one the rules were not looked for on)."""
    from slmstack.evals.bfcl import load_category
    from slmstack.types import Message

    tasks = []
    for cat in CATEGORIES:
        cases = load_category(DATA / "bfcl", cat)
        stride = max(1, len(cases) // per_category)
        for case in cases[offset % stride::stride][:per_category]:
            tasks.append(Task(case.id, cat, case.messages, case.tools, case=case))
    lines = (DATA / "gsm8k" / "test.jsonl").read_text("utf-8").splitlines()[
        gsm8k_start:gsm8k_start + n_gsm8k]
    for i, line in enumerate(lines, start=gsm8k_start):
        row = json.loads(line)
        gold = row["answer"].split("####")[-1].strip().replace(",", "")
        tasks.append(Task(f"gsm8k_{i}", "gsm8k", [Message.user(row["question"])], answer=gold))
    return tasks


def correct(task: Task, comp: Any) -> bool:
    if comp is None:
        return False
    if task.case is not None:
        from slmstack.evals.bfcl import check_case

        return check_case(task.case, comp.tool_calls).valid
    from slmstack.router.consistency import final_number

    return final_number(comp.text) == task.answer


# ---- replaying calls -----------------------------------------------------------------------------
class Replay:
    """A ChatModel wrapper answering from a JSON-lines cache when the same request was computed
    before (same model, messages, tools, options), else computing and keeping it. Greedy calls
    are deterministic; a sampled (T>0) call is kept as "the n-th sample of this request in a
    pass", so every configuration (and a rerun) sees the same samples."""

    def __init__(self, model: Any, path: Path) -> None:
        self.model, self.name, self.profile, self.path = model, model.name, model.profile, path
        self.cache: dict[str, dict[str, Any]] = {}
        if path.is_file():
            for line in path.read_text("utf-8").splitlines():
                entry = json.loads(line)
                self.cache[entry["key"]] = entry
        self.hits = self.misses = 0
        self.samples: dict[str, int] = {}

    def new_pass(self) -> None:
        """A new configuration starts: sampled requests count from their first sample again."""
        self.samples.clear()

    def _key(self, messages: Any, kw: dict[str, Any]) -> str:
        from slmstack.models.base import as_messages, as_tools

        blob = json.dumps([self.name, [m.model_dump() for m in as_messages(messages)],
                           [t.model_dump() for t in as_tools(kw.get("tools"))],
                           {k: v for k, v in sorted(kw.items()) if k != "tools"}],
                          sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()

    def complete(self, messages: Any, **kw: Any) -> Any:
        key = self._key(messages, kw)
        if kw.get("temperature", 0.0) > 0:
            self.samples[key] = self.samples.get(key, 0) + 1
            key = f"{key}#{self.samples[key]}"
        if key not in self.cache:
            self.misses += 1
            self._store(key, self._call(messages, kw))
        else:
            self.hits += 1
        return _replayed(self.cache[key])

    def _call(self, messages: Any, kw: dict[str, Any]) -> dict[str, Any]:
        from slmstack.errors import SlmstackError

        t0 = time.perf_counter()
        try:
            return {"completion": self.model.complete(messages, **kw).model_dump(mode="json")}
        except SlmstackError as exc:
            spent = getattr(exc, "completion", None)
            return {"error": type(exc).__name__, "what": exc.what, "hint": exc.hint,
                    "latency_s": time.perf_counter() - t0,
                    "spent": spent.model_dump(mode="json") if spent is not None else None}
        except Exception as exc:  # e.g. llama.cpp's grammar builder rejecting a schema
            return {"error": "crash", "what": f"{type(exc).__name__}: {exc}"[:500], "hint": "",
                    "latency_s": time.perf_counter() - t0, "spent": None}

    def _store(self, key: str, entry: dict[str, Any]) -> None:
        entry["key"] = key
        self.cache[key] = entry
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry) + "\n")

    def stream(self, messages: Any, **kw: Any) -> Any:  # pragma: no cover - not used here
        return self.model.stream(messages, **kw)


class BackendCrash(RuntimeError):
    """A backend raised something other than an slmstack error (replayed as such)."""


def _replayed(entry: dict[str, Any]) -> Any:
    from slmstack import errors
    from slmstack.types import Completion

    if "completion" in entry:
        return Completion.model_validate(entry["completion"])
    if entry["error"] == "crash":
        raise BackendCrash(entry["what"])
    exc = getattr(errors, entry["error"])(entry["what"], entry["hint"])
    if entry.get("spent"):
        exc.completion = Completion.model_validate(entry["spent"])
    raise exc


# ---- configurations ------------------------------------------------------------------------------
def _settings(large: str, threads: int, threshold: float | None,
              classifier: Path | None, gate: bool = False, reuse_prompt: bool = True) -> Any:
    """Every kind starts on the small tier and escalates to the large one; with a verifier
    threshold the answers are verified; with a classifier, math goes to the large tier; with
    ``gate`` the router's tool gate offers each request only its related tools. Without
    ``reuse_prompt`` every model call starts from an empty context, so a greedy reply does not
    depend on the calls made before it (llama.cpp evaluates only the part of a prompt that
    differs from the last one, which moves the logits slightly)."""
    from slmstack.config import Settings

    route: dict[str, Any] = {"model": "small", "fallbacks": ["large"]}
    if threshold is not None:
        route |= {"verify": "escalate", "verify_threshold": threshold}
    routes: dict[str, Any] = {kind: route for kind in ("tool_call", "chat", "extract")}
    router: dict[str, Any] = {"tiers": {"small": SMALL, "large": large}, "routes": routes,
                              "tool_gate": gate}
    if classifier:
        routes["math"] = {"model": "large"}
        router["classifier"] = str(classifier)
    return Settings(embedded={"n_threads": threads, "reuse_prompt": reuse_prompt},
                    router=router)


@dataclass
class Config:
    name: str
    pin: str | None = None  # a pinned virtual model instead of routing
    classifier: bool = False
    verifier: str | None = None  # grounding | agreement | both
    threshold: float | None = None
    gate: bool = False  # [router] tool_gate

    @property
    def suffix(self) -> str:
        return "+gate" if self.gate else ""


BASE_CONFIGS = (
    Config("small-only", pin="slmstack/small"),
    Config("large-only", pin="slmstack/large"),
    Config("routed-structure"),
    Config("routed-grounding", classifier=True, verifier="grounding", threshold=1.0),
    Config("routed-agreement", classifier=True, verifier="agreement", threshold=0.5),
    Config("routed-both", classifier=True, verifier="both", threshold=0.5),
)
CONFIGS = BASE_CONFIGS + tuple(
    Config(c.name + "+gate", c.pin, c.classifier, c.verifier, c.threshold, gate=True)
    for c in BASE_CONFIGS)
"""Each configuration without and with the router's tool gate (``+gate``): pinned tiers are
gated too, so ``large-only+gate`` is the large model behind the same gate."""


def make_verifier(kind: str | None, models: dict[str, Any], samples: int, store: Any) -> Any:
    from slmstack.router import AgreementVerifier, GroundingVerifier, all_of

    if kind is None:
        return None
    if kind == "grounding":
        return GroundingVerifier()
    agreement = AgreementVerifier(models, samples=samples, store=store)
    if kind == "agreement":
        return agreement
    return all_of(GroundingVerifier(strict=True), agreement, stop_below=0.5)


def train_classifier(folder: Path, n: int = 60) -> dict[str, Any]:
    """Labelled traffic: GSM8K *train* questions ("math") vs Python-docs questions ("chat")."""
    from slmstack.router import TaskClassifier

    math = [json.loads(x)["question"] for x in
            (DATA / "gsm8k" / "train.jsonl").read_text("utf-8").splitlines()[:n]]
    docs = [json.loads(x)["question"] for x in
            (REPO / "datasets" / "pydocqa" / "questions.jsonl").read_text("utf-8").splitlines()]
    clf = TaskClassifier.train(math + docs, ["math"] * len(math) + ["chat"] * len(docs),
                               source="gsm8k train + datasets/pydocqa")
    clf.save(folder)
    return clf.meta


@dataclass
class Run:
    name: str
    results: list[dict[str, Any]] = field(default_factory=list)
    report: Any = None
    wall_s: float = 0.0


def run_config(name: str, router: Any, tasks: list[Task], store: Any, bar: Any) -> Run:
    run, t0 = Run(name), time.perf_counter()
    job = bar.add_task(name, total=len(tasks))
    for task in tasks:
        comp, error = None, None
        try:
            comp = router.complete(task.messages, task_id=task.id, **task.kwargs())
        except Exception as exc:  # a wrong answer for this configuration; the run goes on
            error = f"{type(exc).__name__}: {exc}"[:300]
        run.results.append({
            "id": task.id, "kind": task.kind, "correct": correct(task, comp), "error": error,
            "route": getattr(comp, "route", None),
            "served_by": comp.attempts[-1]["tier"] if comp is not None else None,
            "escalated": bool(comp is not None and comp.escalated),
            "first_score": comp.attempts[0]["score"] if comp is not None else None,
        })
        bar.advance(job)
    store.flush(60)
    run.report, run.wall_s = store.report(), time.perf_counter() - t0
    return run


# ---- summary -------------------------------------------------------------------------------------
def summarize(run: Run) -> dict[str, Any]:
    res, total = run.results, run.report.total
    bfcl = [r for r in res if r["kind"] != "gsm8k"]
    free = [r for r in res if r["kind"] == "gsm8k"]
    cats = {c: _acc([r for r in res if r["kind"] == c]) for c in (*CATEGORIES, "gsm8k")}
    return {
        "config": run.name, "tasks": len(res), "accuracy": _acc(res),
        "accuracy_bfcl": _acc(bfcl), "accuracy_gsm8k": _acc(free), "by_category": cats,
        "small_share": total.small_share, "escalation_rate": total.escalation_rate,
        "escalated_tasks": sum(r["escalated"] for r in res),
        "errors": sum(r["error"] is not None for r in res),
        "cost_usd": total.cost_usd, "calls": total.calls, "shadow_calls": total.shadow,
        "latency_p50_s": total.latency_p50_s, "latency_p95_s": total.latency_p95_s,
        "wall_s": round(run.wall_s, 1),
    }


def sweep(runs: dict[str, Run], config: str, suffix: str = "") -> list[dict[str, Any]]:
    """What other thresholds would have given, from the routed run's recorded verifier scores
    and the deterministic small/large answers (of the pinned runs with the same ``suffix``);
    plus the oracle that escalates exactly the small tier's wrong answers (the ceiling for any
    verifier)."""
    small = {r["id"]: r["correct"] for r in runs["small-only" + suffix].results}
    large = {r["id"]: r["correct"] for r in runs["large-only" + suffix].results}
    rows = runs[config].results
    scored = [r for r in rows if r["first_score"] is not None]
    direct = [r for r in rows if r["first_score"] is None]  # routed past the verifier
    out = []
    for thr in sorted({0.0, *(r["first_score"] for r in scored), 1.01}):
        kept = [r for r in scored if r["first_score"] >= thr]
        right = sum(small[r["id"]] for r in kept) + sum(
            large[r["id"]] for r in rows if r not in kept)
        out.append({"threshold": thr, "small_answers": len(kept),
                    "small_share": len(kept) / len(rows), "accuracy": right / len(rows)})
    oracle_small = [r for r in scored if small[r["id"]] or not large[r["id"]]]
    right = sum(small[r["id"]] for r in oracle_small) + sum(
        large[r["id"]] for r in rows if r not in oracle_small)
    out.append({"threshold": "oracle", "small_answers": len(oracle_small),
                "small_share": len(oracle_small) / len(rows), "accuracy": right / len(rows),
                "note": f"{len(direct)} tasks routed straight to the large tier"})
    # the most a perfect verifier could keep on the small tier within the bar's 2 points: the
    # oracle's set plus as many small-wrong/large-right answers as the 2 points allow
    floor = sum(large.values()) / len(large) - 0.02
    spare = int((right / len(rows) - floor) * len(rows) + 1e-9)
    losing = [r for r in scored if r not in oracle_small]
    extra = min(spare, len(losing))
    out.append({"threshold": "oracle within 2 points", "small_answers": len(oracle_small) + extra,
                "small_share": (len(oracle_small) + extra) / len(rows),
                "accuracy": (right - extra) / len(rows)})
    return out


def sweep_table(name: str, what_if: list[dict[str, Any]]) -> Any:
    from rich.table import Table

    t = Table("verifier threshold", "small answers", "small share %", "accuracy %",
              title=f"{name}: threshold sweep over the recorded scores (+ oracle)")
    for w in what_if:
        thr = w["threshold"]
        label = thr if isinstance(thr, str) else "> 1 (all escalated)" if thr > 1 else f"{thr:.3g}"
        t.add_row(label, str(w["small_answers"]), _pct(w["small_share"]),
                  _pct(w["accuracy"]))
    return t


def _acc(rows: list[dict[str, Any]]) -> float | None:
    return sum(r["correct"] for r in rows) / len(rows) if rows else None


def table(rows: list[dict[str, Any]], large_cost: float) -> Any:
    from rich.table import Table

    t = Table(title="mixed workload: BFCL + GSM8K through slmstack.router")
    for col in ("config", "acc %", "BFCL %", "GSM8K %", "small share %", "escalated",
                "cost $", "cost ÷ large", "p50 s"):
        t.add_column(col, justify="left" if col == "config" else "right")
    for r in rows:
        t.add_row(r["config"], _pct(r["accuracy"]), _pct(r["accuracy_bfcl"]),
                  _pct(r["accuracy_gsm8k"]), _pct(r["small_share"]), str(r["escalated_tasks"]),
                  f"{r['cost_usd']:.5f}", f"{r['cost_usd'] / large_cost:.2f}" if large_cost
                  else "-", f"{r['latency_p50_s'] or 0:.2f}")
    return t


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}"


def bar_check(rows: dict[str, dict[str, Any]], config: str) -> dict[str, Any]:
    """Against the better large-only run (with or without the tool gate)."""
    r = rows[config]
    large = max((rows[n] for n in ("large-only", "large-only+gate") if n in rows),
                key=lambda x: x["accuracy"])
    gap = (large["accuracy"] - r["accuracy"]) * 100
    return {"config": config, "baseline": large["config"], "small_share": r["small_share"],
            "share_met": (r["small_share"] or 0) >= 0.70,
            "accuracy_gap_points": round(gap, 2), "accuracy_met": gap <= 2.0,
            "met": (r["small_share"] or 0) >= 0.70 and gap <= 2.0}


# ---- main ----------------------------------------------------------------------------------------
@app.command()
def main(
    per_category: Annotated[int, typer.Option(help="BFCL cases per category (5 categories)")] = 10,
    gsm8k: Annotated[int, typer.Option(help="GSM8K test questions")] = 16,
    samples: Annotated[int, typer.Option(help="verifier samples per answer")] = 2,
    threads: Annotated[int, typer.Option(help="llama.cpp threads per model")] = 1,
    work: Annotated[Path, typer.Option(help="cache folder (outside the repo)")] = WORK,
    out: Annotated[Path, typer.Option(help="JSON results")] = REPO / "benchmarks" /
        "bench_mixed.json",
    offset: Annotated[int, typer.Option(help="first BFCL case of each stride (0: cases 0, "
                                              "20, 40 …; 10: cases 10, 30, 50 …)")] = 0,
    gsm8k_start: Annotated[int, typer.Option(help="first GSM8K test question")] = 0,
    configs: Annotated[str, typer.Option(help="comma-separated configurations (default: "
                                              "all); a routed one needs its pinned pair")] = "",
    reuse_prompt: Annotated[bool, typer.Option(
        help="let llama.cpp reuse the prompt the last call shared (faster; a reply then "
             "depends slightly on the calls before it: --no-reuse-prompt for figures that "
             "depend on the code only)")] = True,
) -> None:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from slmstack.models.registry import load_model
    from slmstack.router import build_router
    from slmstack.store import TraceStore

    console = Console(width=130)
    work.mkdir(parents=True, exist_ok=True)
    large_uri = f"gguf:{teacher_gguf()}"
    tasks = workload(per_category, gsm8k, offset, gsm8k_start)
    chosen = [c for c in CONFIGS if not configs or c.name in configs.split(",")]
    if not chosen:
        raise typer.BadParameter(f"no configuration among {configs!r}; known: "
                                 f"{', '.join(c.name for c in CONFIGS)}")
    clf_meta = train_classifier(work / "classifier")
    base = _settings(large_uri, threads, None, None, reuse_prompt=reuse_prompt)
    fresh = "" if reuse_prompt else "-fresh"  # replies of the two modes are cached apart
    models = {SMALL: Replay(load_model(SMALL, base), work / f"small{fresh}.jsonl"),
              large_uri: Replay(load_model(large_uri, base), work / f"large{fresh}.jsonl")}
    stamp = time.strftime("%Y%m%d-%H%M%S")
    runs: list[Run] = []
    with Progress("{task.description}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console) as bar:
        for cfg in chosen:
            for m in models.values():
                m.new_pass()
            store = TraceStore(str(work / f"traces-{stamp}-{cfg.name}.db"))
            clf = work / "classifier" if cfg.classifier else None
            settings = _settings(large_uri, threads, cfg.threshold, clf, cfg.gate, reuse_prompt)
            verifier = make_verifier(cfg.verifier, models, samples, store)
            router = build_router(settings, store=store, models=models, name=cfg.pin,
                                  verifier=verifier)
            runs.append(run_config(cfg.name, router, tasks, store, bar))
            store.close()
    rows = {r.name: summarize(r) for r in runs}
    large_cost = next(rows[n]["cost_usd"] for n in ("large-only", "large-only+gate", *rows)
                      if n in rows)
    console.print(table(list(rows.values()), large_cost))
    routed = [c.name for c in chosen if c.pin is None]
    bars = [bar_check(rows, c) for c in routed
            if any(n in rows for n in ("large-only", "large-only+gate"))]
    by_name = {r.name: r for r in runs}
    sweeps = {c.name: sweep(by_name, c.name, c.suffix) for c in chosen if c.verifier
              and {"small-only" + c.suffix, "large-only" + c.suffix} <= by_name.keys()}
    for name, what_if in sweeps.items():
        console.print(sweep_table(name, what_if))
    for b in bars:
        console.print(f"bar ({b['config']}): small share {_pct(b['small_share'])} % "
                      f"(≥ 70: {b['share_met']}), accuracy gap {b['accuracy_gap_points']:+.1f} "
                      f"points vs {b['baseline']} (≤ 2: {b['accuracy_met']}) → met: {b['met']}")
    result = {
        "measured_at": time.time(), "tasks": len(tasks), "per_category": per_category,
        "offset": offset, "gsm8k": gsm8k, "gsm8k_start": gsm8k_start, "small": SMALL,
        "large": large_uri, "threads": threads, "reuse_prompt": reuse_prompt,
        "configurations": [asdict(c) for c in chosen],
        "agreement": {"samples": samples, "temperature": 0.7},
        "classifier": clf_meta, "configs": rows, "bar": bars, "sweeps": sweeps,
        "replay": {uri: {"hits": m.hits, "computed": m.misses} for uri, m in models.items()},
        "cost_basis": "catalog default USD per 1M tokens (store PriceTable); verifier samples "
                      "included as shadow calls",
        "results": {r.name: r.results for r in runs},
    }
    out.write_text(json.dumps(result, indent=1, default=str))
    console.print(f"written to {out}")


if __name__ == "__main__":
    app()
