"""``slmstack distill …``: one command per conversion stage, ``run`` to chain them, ``status``.

Traces come from the trace store (``--store URL``) or a JSON-lines file of CallRecords
(``--traces``); routing-table versions go to the store or to a JSON file (``--routing``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ..console import friendly

app = typer.Typer(no_args_is_help=True, help="Turn recorded LLM traffic into promoted SLMs.")

RunOpt = Annotated[Path, typer.Option("--run", help="run folder (artifacts + meta.json)")]
StoreOpt = Annotated[str | None, typer.Option("--store", help="trace store URL")]
TracesOpt = Annotated[Path | None, typer.Option("--traces", help="JSON-lines CallRecords")]
RoutingOpt = Annotated[
    Path | None, typer.Option("--routing", help="routing-table versions JSON (without --store)")
]
CfgOpt = Annotated[Path | None, typer.Option("--config", help="TOML with a distill table")]
ForceOpt = Annotated[bool, typer.Option("--force", help="redo the stage even if finished")]
VerifyOpt = Annotated[bool, typer.Option(
    "--verify", help="score replies: tool calls by grounding (the right function, values from "
    "the request), text by the process verifier (rules + step classifier)")]


def _store(url: str) -> Any:
    from ..errors import UserError

    try:
        from ..store import TraceStore  # type: ignore[attr-defined]
    except ImportError:
        raise UserError(
            f"this slmstack has no trace store to open {url!r}",
            "pass --traces FILE.jsonl (and --routing FILE.json) instead",
        ) from None
    return TraceStore(url)


def _source(store: str | None, traces: Path | None) -> Any:
    from ..errors import UserError
    from .protocols import read_jsonl_records

    if store:
        return _store(store)
    if traces:
        return read_jsonl_records(traces)
    raise UserError("no traces given", "pass --store URL or --traces FILE.jsonl")


def _sink(store: str | None, routing: Path | None) -> Any:
    from ..errors import UserError
    from .protocols import MemoryRoutingSink

    if store:
        return _store(store)
    if routing:
        return MemoryRoutingSink(path=routing)
    raise UserError("no routing table given", "pass --store URL or --routing FILE.json")


def _verifier(on: bool) -> Any:
    if not on:
        return None
    return default_verifier()


def default_verifier() -> Any:
    """Tool calls scored by grounding (a reply without calls scores 1.0 there), text by the
    process verifier (a reply with only calls scores 1.0 there): the lower of the two."""
    from ..router import GroundingVerifier, all_of
    from ..verify import ProcessVerifier

    return all_of(GroundingVerifier(), ProcessVerifier().score_call)


def _ctx(run: Path, config: Path | None) -> tuple[Any, Any]:
    from .artifacts import RunDir
    from .config import DistillConfig

    return RunDir(run), DistillConfig.load(config)


def _show(meta: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.pretty import Pretty

    Console().print(Pretty(meta.get("metrics", meta), max_length=12, max_string=120))


@app.command("collect")
@friendly
def collect_cmd(run: RunOpt, store: StoreOpt = None, traces: TracesOpt = None,
                config: CfgOpt = None, force: ForceOpt = False) -> None:
    """Select model calls (time window, routes, models) from the store."""
    from .collect import collect

    rd, cfg = _ctx(run, config)
    _show(collect(rd, _source(store, traces), cfg.collect, force=force))


@app.command("curate")
@friendly
def curate_cmd(run: RunOpt, config: CfgOpt = None, force: ForceOpt = False) -> None:
    """Redact PII, drop failed/escalated/low-integrity/duplicate calls; report what went."""
    from .curate import curate

    rd, cfg = _ctx(run, config)
    _show(curate(rd, cfg.curate, force=force))


@app.command("cluster")
@friendly
def cluster_cmd(run: RunOpt, config: CfgOpt = None, force: ForceOpt = False) -> None:
    """Embed and cluster the prompts; table + clusters.png."""
    from .cluster import cluster, load_clusters

    rd, cfg = _ctx(run, config)
    cluster(rd, cfg.cluster, force=force)
    _cluster_table(load_clusters(rd, "cluster")[0])


def _cluster_table(infos: list[Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table("cluster", "kind", "size", "train/held", "cost share", "replaceable",
                  "top tools", "example")
    for i in infos:
        table.add_row(str(i.cluster), f"{i.kind} ({i.kind_share:.0%})", str(i.size),
                      f"{i.train}/{i.heldout}", f"{i.cost_share:.1%}", f"{i.replaceability:.2f}",
                      ", ".join(i.top_tools), i.example[:50])
    Console().print(table)


@app.command("select")
@friendly
def select_cmd(run: RunOpt, config: CfgOpt = None, force: ForceOpt = False,
               verify: VerifyOpt = False) -> None:
    """Score candidate small models on held-out requests of each task kind."""
    from .select import select

    rd, cfg = _ctx(run, config)
    _show(select(rd, cfg.select, verifier=_verifier(verify), force=force))


@app.command("finetune")
@friendly
def finetune_cmd(run: RunOpt, config: CfgOpt = None, force: ForceOpt = False) -> None:
    """LoRA-train the selected model on each target's curated examples; export merged weights."""
    from .finetune import finetune

    rd, cfg = _ctx(run, config)
    _show(finetune(rd, cfg.finetune, force=force))


@app.command("shadow")
@friendly
def shadow_cmd(run: RunOpt, config: CfgOpt = None, force: ForceOpt = False,
               verify: VerifyOpt = False) -> None:
    """Replay held-out requests on the students; score agreement with the incumbent."""
    from .shadow import shadow

    rd, cfg = _ctx(run, config)
    _show(shadow(rd, cfg.shadow, verifier=_verifier(verify), force=force))


@app.command("promote")
@friendly
def promote_cmd(run: RunOpt, store: StoreOpt = None, routing: RoutingOpt = None,
                force: ForceOpt = False) -> None:
    """Write a routing-table version sending each passing kind to its student."""
    from .artifacts import RunDir
    from .promote import promote

    _show(promote(RunDir(run), _sink(store, routing), force=force))


@app.command("rollback")
@friendly
def rollback_cmd(store: StoreOpt = None, routing: RoutingOpt = None) -> None:
    """Restore the previous routing-table version (as a new version)."""
    from .promote import rollback

    table = rollback(_sink(store, routing))
    typer.echo(f"routing table v{table.version}: {table.note}")


@app.command("run")
@friendly
def run_cmd(run: RunOpt, store: StoreOpt = None, traces: TracesOpt = None,
            routing: RoutingOpt = None, config: CfgOpt = None, verify: VerifyOpt = False) -> None:
    """All stages in order; finished stages are skipped, so this also resumes a run."""
    from .pipeline import run as run_all

    rd, cfg = _ctx(run, config)
    run_all(rd, _source(store, traces), _sink(store, routing), cfg, verifier=_verifier(verify))
    _status(rd)


@app.command("status")
@friendly
def status_cmd(run: RunOpt) -> None:
    """Which stages finished, and where each task kind stands."""
    from .artifacts import RunDir

    _status(RunDir(run))


def _status(rd: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    from .pipeline import status

    st = status(rd)
    console = Console()
    stages = Table("stage", "finished", "seconds", title=st["run"])
    for name, s in st["stages"].items():
        stages.add_row(name, "yes" if s["finished"] else "-", str(s["seconds"] or ""))
    console.print(stages)
    if st["targets"]:
        t = Table("kind", "train/held", "incumbent", "base agr.", "student", "shadow agr.",
                  "verifier: student / incumbent", "promoted")
        for r in st["targets"]:
            v = r.get("verified") or {}
            t.add_row(r["kind"], f"{r['train']}/{r['heldout']}", r["incumbent"][-40:],
                      _pct(r["base_agreement"]), (r["student"] or "-")[-40:],
                      _pct(r["shadow_agreement"]),
                      f"{_pct(v['candidate_pass'])} / {_pct(v['incumbent_pass'])}" if v else "-",
                      "yes" if r["promoted"] else "no")
        console.print(t)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.0%}"
