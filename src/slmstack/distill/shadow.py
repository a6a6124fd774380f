"""Stage 6a — shadow: run each student beside the incumbent on held-out requests of its
target, score agreement (and the verifier), and decide whether it clears the bar.

The candidate answers the incumbent's recorded requests; its calls are kept as shadow
CallRecords (``shadow_of`` = the incumbent's call) in ``shadow/<kind>.jsonl``. Results are
appended one request at a time, so a killed shadow run continues with the next request.
"""

from __future__ import annotations

import time
from typing import Any

from ..progress import progress
from ..store.records import CallRecord
from .artifacts import RunDir, read_json, read_jsonl, write_json
from .config import ShadowConfig
from .curate import EXAMPLES
from .protocols import Verifier
from .replay import ResultLog, replay_one, summarize
from .select import load_targets

STAGE = "shadow"
DECISIONS = "decisions.json"


def shadow(
    run: RunDir, cfg: ShadowConfig, *, verifier: Verifier | None = None, force: bool = False,
    show: bool = True,
) -> dict[str, Any]:
    if run.finished(STAGE) and not force:
        return run.meta(STAGE) or {}
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
    return summarize(log.results(uri, [records[i] for i in ids]))


def _passes(summary: dict[str, Any], cfg: ShadowConfig) -> bool:
    if not summary["n"] or summary["agreement"] < cfg.bar:
        return False
    return summary["verdict"] is None or summary["verdict"] >= cfg.verify_bar


def load_decisions(run: RunDir, by: str) -> dict[str, dict[str, Any]]:
    return read_json(run.require(STAGE, by) / DECISIONS)
