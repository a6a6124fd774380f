"""Stage 4 — select: for every task kind found, try the candidate small models on held-out
requests of its clusters, score them against the incumbent's recorded outputs (and the
verifier), and choose the base model to fine-tune (or promote as is)."""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel

from ..progress import progress
from ..store.records import CallRecord
from .artifacts import RunDir, read_json, read_jsonl, write_json
from .cluster import Assignment, ClusterInfo, load_clusters
from .config import SelectConfig
from .curate import EXAMPLES
from .protocols import Verifier
from .replay import ResultLog, replay_one, rescored, summarize

STAGE = "select"
SELECTION = "selection.json"


class Target(BaseModel):
    """One routing-table entry to take over: a task kind and the clusters that carry it."""

    kind: str
    clusters: list[int]
    train_ids: list[str]
    heldout_ids: list[str]
    incumbent: str  # the model that served most of these calls
    scores: dict[str, dict[str, Any]] = {}  # candidate URI -> summary on the held-out slice
    base: str | None = None  # chosen candidate
    finetune: bool = False


def targets_of(
    infos: list[ClusterInfo], assignments: list[Assignment], records: dict[str, CallRecord]
) -> list[Target]:
    out = []
    for kind in sorted({i.kind for i in infos}):
        clusters = [i.cluster for i in infos if i.kind == kind and i.cluster >= 0]
        members = [a for a in assignments if a.cluster in clusters]
        models = [records[a.id].model for a in members]
        out.append(Target(
            kind=kind, clusters=clusters,
            train_ids=[a.id for a in members if a.split == "train"],
            heldout_ids=[a.id for a in members if a.split == "heldout"],
            incumbent=max(set(models), key=models.count) if models else "",
        ))
    return out


def select(
    run: RunDir, cfg: SelectConfig, *, verifier: Verifier | None = None, force: bool = False,
    show: bool = True,
) -> dict[str, Any]:
    if run.finished(STAGE) and not force:
        return run.meta(STAGE) or {}
    started = time.time()
    infos, assignments = load_clusters(run, STAGE)
    records = {r.id: r for r in read_jsonl(run.require("curate", STAGE) / EXAMPLES, CallRecord)}
    targets = targets_of(infos, assignments, records)
    log = ResultLog(run.stage(STAGE) / "replays.jsonl")
    for uri in cfg.candidates:
        _evaluate(uri, targets, records, log, cfg, verifier, show)
    for t in targets:
        _choose(t, cfg)
    write_json(run.stage(STAGE) / SELECTION, [t.model_dump() for t in targets])
    run.invalidate_after(STAGE)
    metrics = {t.kind: {"base": t.base, "finetune": t.finetune,
                        "agreement": {u: s["agreement"] for u, s in t.scores.items()}}
               for t in targets}
    return run.finish(STAGE, config=cfg.model_dump(), inputs={"cluster": "clusters.json"},
                      metrics=metrics, started=started)


def _evaluate(
    uri: str, targets: list[Target], records: dict[str, CallRecord], log: ResultLog,
    cfg: SelectConfig, verifier: Verifier | None, show: bool,
) -> None:
    from ..models.registry import load_model

    todo = {t.kind: t.heldout_ids[: cfg.heldout_limit] for t in targets}
    missing = [(k, i) for k, ids in todo.items() for i in ids if not log.has(uri, records[i])]
    model = load_model(uri) if missing else None
    with progress(show) as bar:
        task = bar.add_task(f"select {uri}", total=len(missing))
        for _, rid in missing:
            log.add(replay_one(model, uri, records[rid], cfg.max_tokens, verifier))
            bar.advance(task)
    for t in targets:
        results = log.results(uri, [records[i] for i in todo[t.kind]])
        if verifier is not None:  # replies kept from an earlier run: scored by this verifier
            results = [rescored(r, records[r.id], verifier) for r in results]
        t.scores[uri] = summarize(results)


def _choose(t: Target, cfg: SelectConfig) -> None:
    ranked = [u for u in cfg.candidates if t.scores.get(u, {}).get("n")]
    if ranked:  # best agreement; on a tie the candidate listed first (cheapest first, by habit)
        t.base = max(ranked, key=lambda u: (t.scores[u]["agreement"], -cfg.candidates.index(u)))
    t.finetune = t.base is not None and len(t.train_ids) >= cfg.min_train


def load_targets(run: RunDir, by: str) -> list[Target]:
    return [Target.model_validate(x) for x in read_json(run.require(STAGE, by) / SELECTION)]
