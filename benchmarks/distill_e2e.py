"""End to end LLM→SLM conversion, offline, on one machine (issue 7's bar).

1. ``traffic``: the teacher (Qwen2.5-Coder-0.5B GGUF, benchmarks/teacher.py) is served by the
   gateway (``slmstack serve`` on loopback, an API key, a SQLite trace store) and answers BFCL
   tool-calling requests (simple_python + multiple) and GSM8K questions (plain chat) sent with
   the official ``openai`` SDK; the gateway records every call in ``<work>/traces.db``.
   ``<work>/cases.json`` remembers which BFCL case each question came from (keyed by the
   question's text) — the pipeline never sees it. ``--via store`` records straight into the store
   instead (no gateway).
2. ``distill``: ``slmstack.distill.pipeline.run`` over the store (collect … promote) with
   SmolLM2-135M as the candidate; the routing table lives in the same store. The shadow stage
   decides with rule ``non_inferior`` under ``distill run --verify``'s verifier (``--rule
   agreement --bar 0.85``: the earlier decision by agreement alone).
3. ``report``: on the held-out tool-calling requests (functions never seen in training), the
   BFCL checker scores the teacher's recorded calls, the untuned base SLM and the fine-tuned
   student (both served by the embedded llama.cpp backend with grammar-constrained decoding)
   against BFCL's ground truth; student / teacher is the bar (≥ 0.95), with a paired bootstrap
   95% interval. Also the SLM share of traffic and the cost drop. Table + JSON.

    python benchmarks/distill_e2e.py all --work ~/.cache/slmstack/e2e
    python benchmarks/distill_e2e.py distill --name run2 --lr 1e-4      # a variant
    python benchmarks/distill_e2e.py report --name run2 --out /tmp/run2.json
Every phase resumes: re-running skips recorded requests and finished stages.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

sys.path.insert(0, str(Path(__file__).parent))
from teacher import teacher_gguf  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
app = typer.Typer(add_completion=False)
WorkOpt = Annotated[Path, typer.Option(help="work folder (outside the repo)")]
DEFAULT_WORK = Path.home() / ".cache" / "slmstack" / "e2e"
BFCL_CATEGORIES = ("simple_python", "multiple")
# llama.cpp's threads spin at barriers: on a shared 2-core machine one thread is several times
# faster than two (measured: 45 s vs 177 s for one teacher request under load)
THREADS = int(os.environ.get("SLMSTACK_E2E_THREADS", "1"))


def case_key(messages: list[dict[str, Any]]) -> str:
    """The identity of a request's conversation (what cases.json is keyed by)."""
    turns = [[m.get("role"), m.get("content")] for m in messages]
    return hashlib.sha256(json.dumps(turns).encode()).hexdigest()[:20]


def store_url(work: Path) -> str:
    return f"sqlite:///{work / 'traces.db'}"


def openai_name(name: str) -> str:
    """OpenAI function names allow ``[a-zA-Z0-9_-]`` only: BFCL's own OpenAI handler sends
    ``math.factorial`` as ``math_factorial`` and maps the reply back before checking."""
    return name.replace(".", "_")


def _requests(n_simple: int, n_multiple: int, n_chat: int):
    from slmstack.evals.bfcl import load_category
    from slmstack.types import Message

    for cat, n in zip(BFCL_CATEGORIES, (n_simple, n_multiple), strict=True):
        for case in load_category(DATA / "bfcl", cat)[:n]:
            tools = [t.model_copy(update={"name": openai_name(t.name)}) for t in case.tools]
            yield case.id, case.messages, tools
    lines = (DATA / "gsm8k" / "test.jsonl").read_text("utf-8").splitlines()[:n_chat]
    for i, line in enumerate(lines):
        yield f"gsm8k_{i}", [Message.user(json.loads(line)["question"])], []


def _kwargs(tools: list) -> dict[str, Any]:
    if tools:
        return {"tool_choice": "auto", "parallel_tool_calls": False, "max_tokens": 256}
    return {"max_tokens": 64}


# ---- traffic through the gateway ---------------------------------------------------------------
def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _gateway_config(work: Path, teacher: str, port: int) -> Path:
    path = work / "slmstack.toml"
    path.write_text(f'default_model = "{teacher}"\n\n[gateway]\nport = {port}\n'
                    f'keys_path = "{work / "keys.json"}"\naudit_path = "{work / "audit.jsonl"}"\n'
                    'upstream_timeout_s = 600\n'
                    f'\n[embedded]\nn_threads = {THREADS}\n')
    return path


def _start_gateway(work: Path, teacher: str) -> tuple[subprocess.Popen, int, str]:
    """``slmstack serve`` on loopback with a fresh API key; waits for /healthz."""
    import httpx

    from slmstack.server.keys import KeyStore
    from slmstack.server.settings import GatewaySettings

    port = _free_port()
    cfg = _gateway_config(work, teacher, port)
    _, key = KeyStore(GatewaySettings(keys_path=work / "keys.json").keys_path).create("e2e")
    code = "import sys; from slmstack.cli import app; sys.argv[0] = 'slmstack'; app()"
    cmd = [sys.executable, "-c", code, "serve", "--config", str(cfg), "--store", store_url(work),
           "--log-level", "warning"]
    proc = subprocess.Popen(cmd, stdout=(work / "gateway.log").open("a"), stderr=subprocess.STDOUT)
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc, port, key
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise SystemExit(f"the gateway exited ({proc.returncode}); see {work}/gateway.log")
        time.sleep(0.5)
    proc.kill()
    raise SystemExit("the gateway did not come up in 5 minutes")


def _skipped(work: Path, case_id: str, why: str) -> None:
    path = work / "skipped.json"
    skipped = json.loads(path.read_text()) if path.is_file() else {}
    skipped[case_id] = why
    path.write_text(json.dumps(skipped, indent=1))


def _via_gateway(todo: list, work: Path, teacher: str, on_done) -> None:
    from openai import APIStatusError, OpenAI

    proc, port, key = _start_gateway(work, teacher)
    try:
        client = OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=key, timeout=600,
                        max_retries=0)
        for case_id, messages, tools in todo:
            kw = _kwargs(tools)
            extra = {"tools": [t.to_openai() for t in tools]} if tools else {}
            try:
                client.chat.completions.create(
                    model="default", messages=[m.to_openai() for m in messages],
                    temperature=0.0, **extra, **kw)
            except APIStatusError as exc:  # refused or failed: the gateway recorded what it did
                _skipped(work, case_id, f"{exc.status_code}: {exc.message}")
                continue
            on_done(case_id, messages)
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def _via_store(todo: list, work: Path, teacher: str, on_done) -> None:
    from slmstack.config import Settings
    from slmstack.models.registry import load_model
    from slmstack.store import TraceStore
    from slmstack.store.records import CallRecord

    model = load_model(teacher, Settings(embedded={"n_threads": THREADS}))
    with TraceStore(store_url(work)) as store:
        for case_id, messages, tools in todo:
            kw = _kwargs(tools)
            comp = model.complete(messages, tools=tools or None, temperature=0.0, **kw)
            store.record(CallRecord(
                route="tool_call" if tools else "chat", model=teacher, tier="large",
                request={"messages": [m.to_openai() for m in messages],
                         **({"tools": [t.to_openai() for t in tools]} if tools else {}), **kw},
                response={"text": comp.text, "tool_calls": [c.to_openai() for c in
                                                            comp.tool_calls]},
                input_tokens=comp.usage.input_tokens, output_tokens=comp.usage.output_tokens,
                latency_s=comp.latency_s, cost_usd=comp.cost_usd))
            store.flush()
            on_done(case_id, messages)


@app.command()
def traffic(
    work: WorkOpt = DEFAULT_WORK, simple: int = 200, multiple: int = 50, chat: int = 8,
    via: Annotated[str, typer.Option(help="gateway | store")] = "gateway",
) -> None:
    """Record the teacher answering the requests (resumes: recorded requests are skipped)."""
    from rich.progress import Progress

    work.mkdir(parents=True, exist_ok=True)
    cases_path = work / "cases.json"
    cases = json.loads(cases_path.read_text()) if cases_path.is_file() else {}
    skipped = work / "skipped.json"
    refused = json.loads(skipped.read_text()) if skipped.is_file() else {}
    todo = [r for r in _requests(simple, multiple, chat)
            if case_key([m.to_openai() for m in r[1]]) not in cases and r[0] not in refused]
    teacher = f"gguf:{teacher_gguf()}"
    with Progress() as bar:
        task = bar.add_task(f"teacher traffic via {via}", total=len(todo))

        def on_done(case_id: str, messages: list) -> None:
            cases[case_key([m.to_openai() for m in messages])] = case_id
            tmp = cases_path.with_suffix(".tmp")
            tmp.write_text(json.dumps(cases))
            tmp.replace(cases_path)
            bar.advance(task)

        (_via_gateway if via == "gateway" else _via_store)(todo, work, teacher, on_done)
    (work / "traffic.json").write_text(json.dumps(
        {"via": via, "recorded": len(cases), "refused": _count(skipped)}))


def _count(path: Path) -> int:
    return len(json.loads(path.read_text())) if path.is_file() else 0


# ---- the pipeline ------------------------------------------------------------------------------
def _config(lr: float, epochs: float, rule: str, bar: float):
    from slmstack.distill.config import DistillConfig

    return DistillConfig.model_validate({
        "cluster": {"heldout_fraction": 0.3, "split_by": "tools"},
        "select": {"candidates": ["embedded:smollm2-135m"], "heldout_limit": 500},
        "finetune": {"epochs": epochs, "batch_size": 4, "lr": lr, "rank": 16, "alpha": 32,
                     "max_len": 1024, "save_every": 5, "val_fraction": 0.15, "eval_every": 10,
                     "patience": 2, "val_limit": 40, "threads": THREADS},
        # promote when the verifier (grounding for tool calls) accepts the student's calls at
        # least 0.95 times as often as the teacher's own, with agreement ≥ 0.5 (rule
        # non_inferior); or when agreement ≥ bar (rule agreement)
        "shadow": {"limit": 500, "rule": rule, "bar": bar, "ratio": 0.95, "floor": 0.5,
                   "pass_at": 1.0},
    })


@app.command()
def distill(work: WorkOpt = DEFAULT_WORK, name: str = "run", lr: float = 2e-4,
            epochs: float = 2.0, rule: str = "non_inferior", bar: float = 0.85) -> None:
    """Run the whole pipeline over the recorded traffic (resumes finished stages)."""
    from slmstack.distill.artifacts import RunDir
    from slmstack.distill.cli import default_verifier
    from slmstack.distill.pipeline import run
    from slmstack.store import TraceStore
    from slmstack.store.records import Route, RoutingTable

    teacher = f"gguf:{teacher_gguf()}"
    config = work / "slmstack.toml"  # [embedded] n_threads for the replays of every stage
    if not config.is_file():
        _gateway_config(work, teacher, 0)
    os.environ["SLMSTACK_CONFIG"] = str(config)
    with TraceStore(store_url(work)) as store:
        if store.current_routing_table() is None:
            store.save_routing_table(RoutingTable(routes={
                k: Route(model=teacher) for k in ("tool_call", "chat")}), "initial: the teacher")
        verifier = default_verifier()  # `distill run --verify`'s: grounding + process
        run(RunDir(work / name), store, store, _config(lr, epochs, rule, bar), verifier=verifier)


# ---- the figures -------------------------------------------------------------------------------
@app.command()
def report(work: WorkOpt = DEFAULT_WORK, name: str = "run",
           out: Path = REPO / "benchmarks" / "distill_e2e.json"):
    """BFCL accuracy of teacher, base SLM and student on held-out tool-calling requests."""
    from rich.console import Console
    from rich.table import Table

    from slmstack.distill.artifacts import RunDir

    figures = e2e_figures(RunDir(work / name), work)
    table = Table("figure", "value", title="LLM→SLM conversion, end to end")
    for k, v in figures.items():
        if not isinstance(v, dict | list):
            table.add_row(k, f"{v:.4f}" if isinstance(v, float) else str(v))
    Console().print(table)
    out.write_text(json.dumps({"measured_at": time.time(), **figures}, indent=1))


def _calls_by_id(path: Path, model: str | None = None) -> dict[str, list]:
    """Tool calls per incumbent record id: from replay logs (``shadow``) or recorded calls."""
    from slmstack.distill.score import response_calls

    out = {}
    if not path.is_file():
        return out
    for line in path.read_text("utf-8").splitlines():
        row = json.loads(line)
        if "shadow" in row:
            if model is None or row["model"] == model:
                out[row["id"]] = response_calls(row["shadow"]["response"])
        else:
            out[row["id"]] = response_calls(row["response"])
    return out


def _correct(ids: list[str], calls: dict[str, list], case_of: dict, bfcl: dict) -> list[bool]:
    """BFCL's checker on each request's calls, function names mapped back to BFCL's own."""
    from slmstack.evals.bfcl import check_case

    out = []
    for i in ids:
        case = bfcl[case_of[i]]
        names = {openai_name(t.name): t.name for t in case.tools}
        got = [c.model_copy(update={"name": names.get(c.name, c.name)}) for c in calls.get(i, [])]
        out.append(bool(i in calls and check_case(case, got).valid))
    return out


def _ratio_interval(student: list[bool], teacher: list[bool], n: int = 2000) -> list[float] | None:
    """Paired bootstrap 95% interval of accuracy(student) / accuracy(teacher)."""
    rng = random.Random(0)
    ratios = []
    for _ in range(n):
        idx = [rng.randrange(len(student)) for _ in student]
        t = sum(teacher[i] for i in idx)
        if t:
            ratios.append(sum(student[i] for i in idx) / t)
    ratios.sort()
    if not ratios:
        return None
    return [round(ratios[int(0.025 * len(ratios))], 4), round(ratios[int(0.975 * len(ratios))], 4)]


def _stage_records(run, stage: str, name: str) -> dict[str, Any]:
    """A stage's CallRecords by id (``collect/calls.jsonl``, ``curate/examples.jsonl``)."""
    from slmstack.distill.artifacts import read_jsonl
    from slmstack.store.records import CallRecord

    return {r.id: r for r in read_jsonl(run.root / stage / name, CallRecord)}


def _originals(run, ids: list[str]) -> tuple[dict[str, Any], set[str]]:
    """The recorded calls as the users sent them, and which of ``ids`` curation redacted."""
    original = _stage_records(run, "collect", "calls.jsonl")
    curated = _stage_records(run, "curate", "examples.jsonl")
    return original, {i for i in ids if curated[i].request != original[i].request}


def _replays(run, ids: list[str], uri: str, stage_log: Path) -> dict[str, list]:
    """``uri``'s calls on ``ids``, each on the request as the user sent it: from a stage's
    replay log, the rest replayed here (resumable). The stages replay curated requests; where
    curation redacted one (an e-mail address, a number read as a phone number), the reply to
    the redacted text is not what a user of the promoted model would get, so that request is
    replayed on the original, as the teacher answered it."""
    from slmstack.distill.replay import ResultLog, replay_one
    from slmstack.distill.score import response_calls
    from slmstack.models.registry import load_model

    original, redacted = _originals(run, ids)
    calls = {i: c for i, c in _calls_by_id(stage_log, uri).items() if i not in redacted}
    if all(i in calls for i in ids):
        return calls
    log = ResultLog(run.root / "report" / "replays.jsonl")
    todo = [original[i] for i in ids if i not in calls]
    missing = [r for r in todo if not log.has(uri, r)]
    model = load_model(uri) if missing else None
    for r in missing:
        log.add(replay_one(model, uri, r, 256, None))
    return {**{r.id: response_calls(r.shadow.response) for r in log.results(uri, todo)}, **calls}


def _verifier_vs_checker(run, ids: list[str], correct: dict[str, list[bool]],
                         student_uri: str) -> dict:
    """Does the shadow verifier's accept track BFCL's checker? For the teacher's recorded calls
    and the student's shadow calls on the held-out requests: how many the verifier accepted
    (score ≥ pass_at) and how many of those, and of the rejected, the checker finds right."""
    from slmstack.distill.cli import default_verifier
    from slmstack.distill.replay import ResultLog, recorded_completion

    pass_at = ((run.meta("shadow") or {}).get("config") or {}).get("pass_at", 1.0)
    curated = _stage_records(run, "curate", "examples.jsonl")
    verifier = default_verifier()
    log = ResultLog(run.root / "shadow" / "tool_call.jsonl")
    shadowed = {r.id: r for r in log.results(student_uri, [curated[i] for i in ids])}
    accepts = {
        "teacher": [verifier(curated[i], recorded_completion(curated[i])) >= pass_at
                    for i in ids],
        "student": [i in shadowed and shadowed[i].error is None
                    and verifier(curated[i], recorded_completion(shadowed[i].shadow)) >= pass_at
                    for i in ids],
    }
    out = {}
    for who, acc in accepts.items():
        pairs = list(zip(acc, correct[who], strict=True))
        out[who] = {
            "accepted": sum(acc), "accepted_right": sum(a and r for a, r in pairs),
            "rejected": len(acc) - sum(acc), "rejected_right": sum(r and not a for a, r in pairs),
        }
    return out


def _shadow_rule(run) -> dict:
    cfg = (run.meta("shadow") or {}).get("config") or {}
    keys = ("bar", "verify_bar") if cfg.get("rule", "agreement") == "agreement" else (
        "ratio", "floor", "pass_at", "min_n")
    return {"rule": cfg.get("rule", "agreement"), **{k: cfg.get(k) for k in keys}}


def e2e_figures(run, work: Path) -> dict:
    """BFCL accuracy (teacher, base SLM, fine-tuned student, promoted model) on held-out."""
    from slmstack.distill.artifacts import read_json
    from slmstack.distill.report import savings
    from slmstack.distill.select import load_targets
    from slmstack.evals.bfcl import load_category
    from slmstack.store import TraceStore

    bfcl = {c.id: c for cat in BFCL_CATEGORIES for c in load_category(DATA / "bfcl", cat)}
    cases = json.loads((work / "cases.json").read_text())
    collected = [json.loads(line) for line in
                 (run.root / "collect" / "calls.jsonl").read_text("utf-8").splitlines()]
    case_of = {r["id"]: cases.get(case_key(r["request"]["messages"])) for r in collected}
    target = next(t for t in load_targets(run, "report") if t.kind == "tool_call")
    ids = [i for i in target.heldout_ids if case_of.get(i) in bfcl]
    train_cases = {case_of.get(i) for i in target.train_ids}
    fin = read_json(run.root / "finetune" / "students.json")["tool_call"]
    student_uri = fin.get("student_uri", fin["uri"])
    decision = read_json(run.root / "shadow" / "decisions.json")["tool_call"]
    correct = {
        "teacher": _correct(ids, _calls_by_id(run.root / "collect" / "calls.jsonl"), case_of,
                            bfcl),
        "base_slm": _correct(ids, _replays(run, ids, target.base,
                                           run.root / "select" / "replays.jsonl"), case_of, bfcl),
        "student": _correct(ids, _replays(run, ids, student_uri,
                                          run.root / "shadow" / "tool_call.jsonl"), case_of, bfcl),
    }
    acc = {k: sum(v) / len(v) if v else None for k, v in correct.items()}
    ratio_met = bool(acc["teacher"] and acc["student"] / acc["teacher"] >= 0.95)
    with TraceStore(store_url(work)) as store:
        table = store.current_routing_table()
    return {
        "traffic": json.loads((work / "traffic.json").read_text()),
        "heldout_requests": len(ids),
        "heldout_redacted_by_curation": len(_originals(run, ids)[1]),
        "heldout_cases_also_in_train": len(train_cases & {case_of[i] for i in ids}),
        "teacher_accuracy": acc["teacher"],
        "base_slm_accuracy": acc["base_slm"],
        "student_accuracy": acc["student"],
        "student_over_teacher": acc["student"] / acc["teacher"] if acc["teacher"] else None,
        "student_over_teacher_95ci": _ratio_interval(correct["student"], correct["teacher"]),
        "base_over_teacher": acc["base_slm"] / acc["teacher"] if acc["teacher"] else None,
        "ratio_0.95_met": ratio_met,
        # the bar: the *promoted* SLM reaches 95% of the teacher — promotion is the
        # pipeline's own decision (shadow agreement and verifier), made without BFCL's answers
        "bar_met": ratio_met and bool(decision["passed"]),
        "student_uri": student_uri,
        "kept_after_validation": fin.get("kept", "student"),
        "val_agreement": fin.get("val_agreement"),
        "shadow_candidate": decision["candidate"],
        "shadow_agreement": decision["agreement"],
        "shadow_passed": decision["passed"],
        "shadow_rule": _shadow_rule(run),
        "shadow_verified": decision.get("verified"),
        "verifier_vs_checker": _verifier_vs_checker(run, ids, correct, student_uri),
        "routing_version": table.version if table else None,
        "tool_call_route": table.routes["tool_call"].model if table else None,
        "train_examples": fin["examples"], "val_examples": fin.get("val_examples"),
        "train_steps": fin["steps"], "best_step": fin.get("best_step"),
        "stopped_early": fin.get("stopped_early"),
        "train_seconds": fin["seconds"], "train_tokens_per_s": fin["tokens_per_s"],
        "first_loss": fin["first_loss"], "final_loss": fin["final_loss"],
        "val_losses": fin.get("val_losses"),
        "clusters": [{k: c[k] for k in ("cluster", "kind", "size", "train", "heldout",
                                        "cost_share", "replaceability")}
                     for c in read_json(run.root / "cluster" / "clusters.json")],
        **savings(run),
    }


@app.command("all")
def run_all(work: WorkOpt = DEFAULT_WORK, via: str = "gateway") -> None:
    traffic(work, via=via)
    distill(work)
    report(work)


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    app()
