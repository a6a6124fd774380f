"""``slmstack router …``: train the task classifier, show / save / roll back the routing table,
explain how a prompt would be routed. Commands parse arguments and call the library."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from ..console import ConfigOpt, StoreOpt, friendly

app = typer.Typer(no_args_is_help=True, help="Route requests: routing table and classifier.")



def _console() -> Any:
    from ..console import err, out

    return out, err


def _settings(config: Path | None) -> Any:
    from ..config import load_settings

    return load_settings(config)


def _store(store: str | None, settings: Any, *, must_exist: bool) -> Any:
    from ..errors import UserError
    from ..store import StoreSettings, TraceStore
    from ..store.engine import normalize_url

    url = store or StoreSettings.from_settings(settings).url
    norm = normalize_url(url)
    if norm.startswith("sqlite:///") and not Path(norm.removeprefix("sqlite:///")).is_file():
        if must_exist:
            raise UserError(f"trace store {url!r} does not exist",
                            "pass --store URL/PATH or set store.url in slmstack.toml")
        return None
    return TraceStore(url, settings=settings)


@app.command()
@friendly
def train(
    out_dir: Annotated[Path, typer.Option("--out", help="folder to write the classifier to")],
    examples: Annotated[Path | None, typer.Option(
        help='labelled JSON lines: {"text": ..., "kind": ...}')] = None,
    from_store: Annotated[bool, typer.Option(help="train on the store's routed traffic")] = False,
    label: Annotated[str, typer.Option(help="store labels: route | outcome")] = "route",
    clusters: Annotated[int | None, typer.Option(
        help="cluster the --examples texts (kind ignored) into K groups")] = None,
    store: StoreOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Train the task-kind classifier (MiniLM embeddings + logistic regression)."""
    from ..errors import UserError
    from . import training
    from .classifier import TaskClassifier

    if (examples is None) == (not from_store):
        raise UserError("give exactly one of --examples FILE or --from-store",
                        "see `slmstack router train --help`")
    source = "store" if from_store else str(examples)
    if from_store:
        with _store(store, _settings(config), must_exist=True) as ts:
            texts, labels = training.examples_from_store(ts, label=label)  # type: ignore[arg-type]
    else:
        texts, labels = training.examples_from_jsonl(examples)  # type: ignore[arg-type]
    if clusters is not None:
        labels, source = training.cluster_labels(texts, clusters), f"{source} (k={clusters})"
    out, err = _console()
    with err.status(f"embedding {len(texts)} examples and fitting…"):
        clf = TaskClassifier.train(texts, labels, source=source)
    folder = clf.save(out_dir)
    out.print_json(json.dumps({"saved": str(folder), **clf.meta["metrics"],
                               "labels": clf.meta["inputs"]["per_label"]}))


@app.command()
@friendly
def show(store: StoreOpt = None, config: ConfigOpt = None) -> None:
    """The routing table in force (the store's current version, else the settings' table)."""
    from rich.table import Table

    from .settings import RouterSettings

    settings = _settings(config)
    rs = RouterSettings.from_settings(settings)
    ts = _store(store, settings, must_exist=False)
    table = (ts.current_routing_table() if ts is not None else None) or rs.default_table()
    if ts is not None:
        ts.close()
    out, _ = _console()
    t = Table("kind", "model", "escalation chain", "constraints", "verify",
              title=f"routing table v{table.version} ({table.note or 'no note'}); "
                    f"default route {table.default!r}")
    for kind, r in sorted(table.routes.items()):
        verify = "off" if r.verify == "off" else f"{r.verify} < {r.verify_threshold:g}"
        t.add_row(kind, r.model, " → ".join(r.fallbacks) or "-",
                  json.dumps(r.constraints) if r.constraints else "-", verify)
    out.print(t)
    out.print(f"virtual models: {', '.join(rs.virtual_names())}")
    out.print(f"classifier: {rs.classifier or 'none (structure and hints only)'}")


@app.command()
@friendly
def save(
    table_file: Annotated[Path, typer.Argument(help="routing table as JSON (RoutingTable)")],
    note: Annotated[str, typer.Option(help="why this version")] = "",
    store: StoreOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Store a routing table as the next version (the router picks it up within seconds)."""
    from pydantic import ValidationError

    from ..errors import UserError
    from ..store.records import RoutingTable

    try:
        table = RoutingTable.model_validate_json(table_file.read_text("utf-8"))
    except (OSError, ValidationError) as exc:
        raise UserError(f"cannot read a routing table from {str(table_file)!r}: {exc}",
                        "write RoutingTable JSON: {\"routes\": {kind: {\"model\": uri}}}") from None
    with _new(store, config) as ts:
        saved = ts.save_routing_table(table, note or f"saved from {table_file.name}")
    _console()[0].print(f"routing table v{saved.version} saved")


@app.command()
@friendly
def rollback(store: StoreOpt = None, config: ConfigOpt = None) -> None:
    """Write a new version equal to the previous one."""
    with _store(store, _settings(config), must_exist=True) as ts:
        table = ts.rollback_routing_table()
    _console()[0].print(f"routing table v{table.version}: {table.note}")


@app.command()
@friendly
def explain(
    prompt: Annotated[str, typer.Argument(help="the user message")],
    system: Annotated[str | None, typer.Option(help="system prompt")] = None,
    tools: Annotated[bool, typer.Option(help="the request offers tools")] = False,
    schema: Annotated[bool, typer.Option(help="the request asks for a JSON schema")] = False,
    store: StoreOpt = None,
    config: ConfigOpt = None,
) -> None:
    """How a request would be routed: task kind, what decided it, the model chain."""
    from ..types import Message, ToolSpec
    from .build import build_router
    from .recording import RoutedRequest

    settings = _settings(config)
    ts = _store(store, settings, must_exist=False)
    router = build_router(settings, store=ts)
    msgs = ([Message.system(system)] if system else []) + [Message.user(prompt)]
    req = RoutedRequest(messages=msgs, tools=[ToolSpec(name="tool")] if tools else [],
                        schema={"type": "object"} if schema else None)
    plan = router.plan(req)
    d = plan.decision
    _console()[0].print_json(json.dumps({
        "kind": d.kind, "structural": d.structural, "decided_by": d.source,
        "confidence": d.confidence, "chain": plan.chain, "routing_version": plan.version,
    }))
    if ts is not None:
        ts.close()


def _new(store: str | None, config: Path | None) -> Any:
    from ..store import StoreSettings, TraceStore

    settings = _settings(config)
    return TraceStore(store or StoreSettings.from_settings(settings).url, settings=settings)
