"""Stage 3 — cluster: embed the prompts, cluster them, describe every cluster.

Features are the MiniLM embedding of the prompt text joined with a one-hot of the request's shape
(tools / output schema / plain chat, weighted by ``kind_weight``), so one cluster rarely mixes
task kinds while topics still split a kind. Each cluster gets its dominant task kind, size, cost
share and a *replaceability* prior (how likely a small model can take it over; ``select`` then
measures it): 0.4 × share of structured outputs + 0.3 × share of short outputs (≤ 256 tokens) +
0.3 × cohesion (mean cosine similarity of members to the centroid).
Every example is also assigned to ``train`` or ``heldout`` by a stable hash of its group
(``split_by``: the request itself, or the set of tools it offers — then no function of a
held-out request appears in training).
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from pydantic import BaseModel

from ..store.records import CallRecord
from .artifacts import RunDir, read_jsonl, write_json, write_jsonl
from .config import ClusterConfig
from .curate import EXAMPLES
from .tasks import KINDS, group_key, in_slice, prompt_text, task_kind

STAGE = "cluster"
ASSIGNMENTS = "assignments.jsonl"
CLUSTERS = "clusters.json"
PLOT = "clusters.png"


class Assignment(BaseModel):
    id: str
    cluster: int
    kind: str
    split: str  # train | heldout


class ClusterInfo(BaseModel):
    cluster: int
    kind: str
    kind_share: float
    size: int
    train: int
    heldout: int
    cost_usd: float
    cost_share: float
    tokens: int
    replaceability: float
    top_tools: list[str]
    example: str


def cluster(run: RunDir, cfg: ClusterConfig, *, force: bool = False) -> dict[str, Any]:
    if run.finished(STAGE) and not force:
        return run.meta(STAGE) or {}
    started = time.time()
    records = list(read_jsonl(run.require("curate", STAGE) / EXAMPLES, CallRecord))
    features, embeddings = featurize(records, cfg.kind_weight)
    labels = assign_labels(features, cfg)
    assignments = [
        Assignment(id=r.id, cluster=int(c), kind=task_kind(r.request), split=split_of(r, cfg))
        for r, c in zip(records, labels, strict=True)
    ]
    infos = describe(records, assignments, embeddings)
    out = run.stage(STAGE)
    write_jsonl(out / ASSIGNMENTS, assignments)
    write_json(out / CLUSTERS, [i.model_dump() for i in infos])
    plot(features, labels, infos, out / PLOT)
    run.invalidate_after(STAGE)
    metrics = {"examples": len(records), "clusters": len(infos), "k": len(set(labels))}
    return run.finish(
        STAGE, config=cfg.model_dump(), inputs={"curate": EXAMPLES}, metrics=metrics,
        started=started,
    )


def featurize(records: list[CallRecord], kind_weight: float) -> tuple[Any, Any]:
    import numpy as np

    from .embed import embed

    emb = np.asarray(embed([prompt_text(r.request) for r in records]), dtype=np.float32)
    onehot = np.zeros((len(records), len(KINDS)), dtype=np.float32)
    for i, r in enumerate(records):
        onehot[i, KINDS.index(task_kind(r.request))] = kind_weight
    return np.hstack([emb, onehot]), emb


def assign_labels(features: Any, cfg: ClusterConfig) -> list[int]:
    n = len(features)
    if n < 3:
        return [0] * n
    if cfg.method == "hdbscan":
        from sklearn.cluster import HDBSCAN

        found = HDBSCAN(min_cluster_size=max(2, cfg.min_size)).fit_predict(features)
        return [int(x) for x in found]  # -1: noise, kept as its own group
    k = cfg.k or best_k(features, cfg)
    return [int(x) for x in _kmeans(features, min(k, n), cfg.seed)]


def _kmeans(features: Any, k: int, seed: int) -> Any:
    from sklearn.cluster import KMeans

    return KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(features)


def best_k(features: Any, cfg: ClusterConfig) -> int:
    """The k in [2, k_max] with the best silhouette score (clusters smaller than min_size lose)."""
    from sklearn.metrics import silhouette_score

    best, best_score = 2, -2.0
    for k in range(2, min(cfg.k_max, len(features) - 1) + 1):
        labels = _kmeans(features, k, cfg.seed)
        if min(Counter(labels).values()) < min(cfg.min_size, len(features) // k):
            continue
        score = float(silhouette_score(features, labels))
        if score > best_score:
            best, best_score = k, score
    return best


def split_of(record: CallRecord, cfg: ClusterConfig) -> str:
    key = group_key(record.request, cfg.split_by)
    return "heldout" if in_slice(key, cfg.seed, cfg.heldout_fraction) else "train"


def describe(
    records: list[CallRecord], assignments: list[Assignment], embeddings: Any
) -> list[ClusterInfo]:
    total_cost = sum(r.cost_usd for r in records) or 0.0
    infos = []
    for c in sorted({a.cluster for a in assignments}):
        idx = [i for i, a in enumerate(assignments) if a.cluster == c]
        infos.append(_info(c, [records[i] for i in idx], [assignments[i] for i in idx],
                           embeddings[idx], total_cost))
    return infos


def _info(
    c: int, members: list[CallRecord], assigned: list[Assignment], emb: Any, total_cost: float
) -> ClusterInfo:
    import numpy as np

    kind, count = Counter(a.kind for a in assigned).most_common(1)[0]
    cost = sum(r.cost_usd for r in members)
    centroid = emb.mean(axis=0)
    centroid = centroid / (np.linalg.norm(centroid) or 1.0)
    cohesion = float(np.clip(emb @ centroid, 0, 1).mean())
    structured = sum(a.kind != "chat" for a in assigned) / len(assigned)
    short = sum(r.output_tokens <= 256 for r in members) / len(members)
    tools = Counter(t.get("function", t).get("name", "?") for r in members
                    for t in r.request.get("tools") or [])
    return ClusterInfo(
        cluster=c,
        kind=kind,
        kind_share=round(count / len(assigned), 3),
        size=len(members),
        train=sum(a.split == "train" for a in assigned),
        heldout=sum(a.split == "heldout" for a in assigned),
        cost_usd=round(cost, 8),
        cost_share=round(cost / total_cost, 4) if total_cost else 0.0,
        tokens=sum(r.input_tokens + r.output_tokens for r in members),
        replaceability=round(0.4 * structured + 0.3 * short + 0.3 * cohesion, 3),
        top_tools=[name for name, _ in tools.most_common(3)],
        example=prompt_text(members[0].request, 120).replace("\n", " "),
    )


def plot(features: Any, labels: list[int], infos: list[ClusterInfo], path: Any) -> None:
    """2-D PCA of the features, one colour per cluster, labelled with kind and size."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from sklearn.decomposition import PCA

    xy = PCA(n_components=2).fit_transform(features) if len(features) > 2 else np.zeros(
        (len(features), 2))
    fig, ax = plt.subplots(figsize=(7, 5), dpi=100)
    labels_arr = np.asarray(labels)
    for info in infos:
        pts = xy[labels_arr == info.cluster]
        ax.scatter(pts[:, 0], pts[:, 1], s=14, alpha=0.7,
                   label=f"{info.cluster}: {info.kind} (n={info.size})")
    ax.set_title("task clusters (PCA of prompt embeddings + request shape)")
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def load_clusters(run: RunDir, by: str) -> tuple[list[ClusterInfo], list[Assignment]]:
    folder = run.require(STAGE, by)
    from .artifacts import read_json

    infos = [ClusterInfo.model_validate(x) for x in read_json(folder / CLUSTERS)]
    return infos, list(read_jsonl(folder / ASSIGNMENTS, Assignment))
