"""Stage 6a — shadow: run each student beside the incumbent on held-out requests of its
target, score agreement (and the verifier), and decide whether it clears the bar.

The candidate answers the incumbent's recorded requests; its calls are kept as shadow
CallRecords (``shadow_of`` = the incumbent's call) in ``shadow/<kind>.jsonl``. Results are
appended one request at a time, so a killed shadow run continues with the next request.

With a verifier, the incumbent's recorded replies are scored by it too, so the decision can
compare the two under the same check (``ShadowConfig.rule = "non_inferior"``): how often the
verifier accepts each, and, where they disagree, which of the two it accepts.
"""

from __future__ import annotations

import time
from typing import Any

from ..errors import ConfigError
from ..progress import progress
from ..store.records import CallRecord
from .artifacts import RunDir, read_json, read_jsonl, write_json
from .config import ShadowConfig
from .curate import EXAMPLES
from .protocols import Verifier
from .replay import ReplayResult, ResultLog, recorded_completion, replay_one, rescored, summarize
from .select import load_targets

STAGE = "shadow"
DECISIONS = "decisions.json"


def shadow(
    run: RunDir, cfg: ShadowConfig, *, verifier: Verifier | None = None, force: bool = False,
    show: bool = True,
) -> dict[str, Any]:
    if run.finished(STAGE) and not force:
        return run.meta(STAGE) or {}
    if cfg.rule == "non_inferior" and verifier is None:
        raise ConfigError("shadow rule 'non_inferior' compares candidate and incumbent under a "
                          "verifier, and none is set",
                          "pass --verify (or a verifier in code), or use rule = 'agreement'")
    started = time.time()
    students = read_json(run.require("finetune", STAGE) / "students.json")
    records = {r.id: r for r in read_jsonl(run.require("curate", STAGE) / EXAMPLES, CallRecord)}
    decisions = {}
    for t in load_targets(run, STAGE):
        if t.kind not in students:
            continue
        ids = [i for i in t.heldout_ids if i in records][: cfg.limit]
        summary = _shadow_target(run, t.kind, students[t.kind]["uri"], ids, records, cfg,
                                 verifier, show)
        incumbent_cost = sum(records[i].cost_usd for i in ids)
        decisions[t.kind] = {
            "candidate": students[t.kind]["uri"], "incumbent": t.incumbent, **summary,
            "incumbent_cost_usd": round(incumbent_cost, 8), "passed": _passes(summary, cfg),
        }
    write_json(run.stage(STAGE) / DECISIONS, decisions)
    return run.finish(STAGE, config=cfg.model_dump(), inputs={"finetune": "students.json"},
                      metrics=decisions, started=started)


def _shadow_target(
    run: RunDir, kind: str, uri: str, ids: list[str], records: dict[str, CallRecord],
    cfg: ShadowConfig, verifier: Verifier | None, show: bool,
) -> dict[str, Any]:
    from ..models.registry import load_model

    log = ResultLog(run.stage(STAGE) / f"{kind}.jsonl")
    missing = [i for i in ids if not log.has(uri, records[i])]
    model = load_model(uri) if missing else None
    with progress(show) as bar:
        task = bar.add_task(f"shadow {kind}", total=len(missing))
        for rid in missing:
            log.add(replay_one(model, uri, records[rid], cfg.max_tokens, verifier))
            bar.advance(task)
    results = log.results(uri, [records[i] for i in ids])
    if verifier is not None:  # replies kept from an earlier run are scored by this verifier
        results = [rescored(r, records[r.id], verifier) for r in results]
    summary = summarize(results)
    if verifier is not None:
        summary["verified"] = verified(results, records, verifier, cfg.pass_at)
    return summary


def verified(results: list[ReplayResult], records: dict[str, CallRecord], verifier: Verifier,
             pass_at: float) -> dict[str, Any]:
    """How often the verifier accepts (score ≥ ``pass_at``) the candidate's replies and the
    incumbent's recorded replies to the same requests; where the two disagree, how often it
    accepts only one of them. A candidate reply that failed (an error) is not accepted."""
    cand = [r.error is None and r.verdict is not None and r.verdict >= pass_at for r in results]
    inc = [verifier(records[r.id], recorded_completion(records[r.id])) >= pass_at
           for r in results]
    split = [(c, i) for r, c, i in zip(results, cand, inc, strict=True) if r.agreement < 1]
    n = len(results) or 1
    c_rate, i_rate = sum(cand) / n, sum(inc) / n
    return {
        "pass_at": pass_at, "candidate_pass": round(c_rate, 4),
        "incumbent_pass": round(i_rate, 4),
        "pass_ratio": round(c_rate / i_rate, 4) if i_rate else None,
        "disagreements": len(split),
        "only_candidate_passes": sum(c and not i for c, i in split),
        "only_incumbent_passes": sum(i and not c for c, i in split),
    }


def _passes(summary: dict[str, Any], cfg: ShadowConfig) -> bool:
    if not summary["n"]:
        return False
    if summary["verdict"] is not None and summary["verdict"] < cfg.verify_bar:
        return False
    if cfg.rule == "agreement":
        return summary["agreement"] >= cfg.bar
    v = summary.get("verified") or {}
    if summary["n"] < cfg.min_n or summary["agreement"] < cfg.floor:
        return False
    if not v.get("incumbent_pass"):  # the verifier accepts none of the incumbent's replies
        return False
    return v["candidate_pass"] >= cfg.ratio * v["incumbent_pass"]


def load_decisions(run: RunDir, by: str) -> dict[str, dict[str, Any]]:
    return read_json(run.require(STAGE, by) / DECISIONS)
