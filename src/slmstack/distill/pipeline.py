"""``distill run``: the stages in order, each skipped when finished; ``status``: where a run is."""

from __future__ import annotations

from typing import Any

from .artifacts import STAGES, RunDir, read_json
from .cluster import cluster
from .collect import collect
from .config import DistillConfig
from .curate import curate
from .finetune import finetune
from .promote import promote
from .protocols import RoutingSink, Verifier
from .select import select
from .shadow import shadow


def run(
    run_dir: RunDir,
    source: Any,
    sink: RoutingSink,
    cfg: DistillConfig,
    *,
    verifier: Verifier | None = None,
    show: bool = True,
) -> dict[str, Any]:
    """Chain collect → curate → cluster → select → finetune → shadow → promote."""
    from rich.console import Console

    console = Console(stderr=True, quiet=not show)
    steps = {
        "collect": lambda: collect(run_dir, source, cfg.collect),
        "curate": lambda: curate(run_dir, cfg.curate),
        "cluster": lambda: cluster(run_dir, cfg.cluster),
        "select": lambda: select(run_dir, cfg.select, verifier=verifier, show=show),
        "finetune": lambda: finetune(run_dir, cfg.finetune, show=show),
        "shadow": lambda: shadow(run_dir, cfg.shadow, verifier=verifier, show=show),
        "promote": lambda: promote(run_dir, sink),
    }
    metas = {}
    for i, name in enumerate(STAGES, 1):
        skipped = run_dir.finished(name)
        console.rule(f"[bold]{i}/{len(STAGES)} {name}[/]" + (" (done, skipped)" if skipped
                                                               else ""))
        metas[name] = steps[name]()
    return metas


def status(run_dir: RunDir) -> dict[str, Any]:
    """Each stage (finished or not, seconds, headline metrics) and each target's standing."""
    stages = {}
    for name in STAGES:
        meta = run_dir.meta(name)
        stages[name] = {"finished": bool(meta and meta.get("finished")),
                        "seconds": (meta or {}).get("seconds")}
    return {"run": str(run_dir.root), "stages": stages, "targets": _targets(run_dir)}


def _targets(run_dir: RunDir) -> list[dict[str, Any]]:
    root = run_dir.root
    if not run_dir.finished("select"):
        return []
    selection = read_json(root / "select" / "selection.json")
    students = _maybe(root / "finetune" / "students.json")
    decisions = _maybe(root / "shadow" / "decisions.json")
    promoted = set(((run_dir.meta("promote") or {}).get("metrics") or {}).get("promoted", []))
    rows = []
    for t in selection:
        kind = t["kind"]
        base_score = t["scores"].get(t["base"] or "", {}).get("agreement")
        d = decisions.get(kind, {})
        rows.append({
            "kind": kind, "clusters": t["clusters"], "train": len(t["train_ids"]),
            "heldout": len(t["heldout_ids"]), "incumbent": t["incumbent"], "base": t["base"],
            "base_agreement": base_score, "student": students.get(kind, {}).get("uri"),
            "shadow_agreement": d.get("agreement"), "passed": d.get("passed"),
            "verified": d.get("verified"),
            "promoted": kind in promoted,
        })
    return rows


def _maybe(path: Any) -> dict[str, Any]:
    return read_json(path) if path.is_file() else {}
