"""``slmstack report`` (costs, SLM share, escalation, latency) and ``slmstack store …``
(migrate, info, prune, export-otlp, routing). Commands parse arguments and call the library."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from ..console import ConfigOpt, StoreOpt, friendly

app = typer.Typer(no_args_is_help=True, help="Manage the trace store.")

SinceOpt = Annotated[
    str | None, typer.Option("--since", help="start: 24h, 7d, 2026-01-31, unix seconds")
]
UntilOpt = Annotated[str | None, typer.Option("--until", help="end (exclusive), same forms")]


def _settings(config: Path | None) -> Any:
    from ..config import load_settings

    return load_settings(config)


def _url(store: str | None, settings: Any) -> str:
    from .settings import StoreSettings

    return store or StoreSettings.from_settings(settings).url


def _open(store: str | None, config: Path | None, *, must_exist: bool = True) -> Any:
    """Open the store; refuse to conjure an empty SQLite file for commands that only read."""
    from ..errors import UserError
    from .engine import normalize_url
    from .trace import TraceStore

    settings = _settings(config)
    url = _url(store, settings)
    norm = normalize_url(url)
    if must_exist and norm.startswith("sqlite:///"):
        path = Path(norm.removeprefix("sqlite:///"))
        if not path.is_file():
            raise UserError(
                f"trace store {str(path)!r} does not exist",
                "pass --store URL/PATH, set store.url in slmstack.toml, or record traffic first",
            )
    return TraceStore(url, settings=settings)


def _console() -> Any:
    from ..console import out

    return out


@friendly
def report(
    since: SinceOpt = "24h",
    until: UntilOpt = None,
    store: StoreOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    top: Annotated[int, typer.Option(help="costliest N tasks to list")] = 20,
    config: ConfigOpt = None,
) -> None:
    """Cost per task, route and model; share served by small models; escalation; p50/p95."""
    from .pricing import PriceTable
    from .render import render
    from .window import parse_when

    window = parse_when(since), parse_when(until)
    prices = PriceTable.from_settings(_settings(config))
    with _open(store, config) as ts:
        rep = ts.report(*window, prices)
    if as_json:
        typer.echo(rep.model_dump_json(indent=2))
    else:
        _console().print(render(rep, top_tasks=top))


@app.command()
@friendly
def migrate(store: StoreOpt = None, config: ConfigOpt = None) -> None:
    """Create the store or bring its schema up to date."""
    from .engine import make_engine
    from .migrations import LATEST, current_version
    from .migrations import migrate as run_migrations

    engine = make_engine(_url(store, _settings(config)))
    try:
        before = current_version(engine)
        applied = run_migrations(engine)
    finally:
        engine.dispose()
    note = f"applied {applied}" if applied else "already up to date"
    _console().print(f"schema v{before} → v{LATEST} ({note})")


@app.command()
@friendly
def info(store: StoreOpt = None, config: ConfigOpt = None) -> None:
    """Schema version, rows per table, current routing-table version."""
    from rich.table import Table

    with _open(store, config) as ts:
        t = Table("table", "rows", title=f"{ts.url} · schema v{ts.schema_version}")
        for name, n in ts.counts().items():
            t.add_row(name, f"{n:,}")
        cur = ts.current_routing_table()
    _console().print(t)
    _console().print(f"routing table: {'none' if cur is None else f'v{cur.version}'}")


@app.command()
@friendly
def prune(
    older_than: Annotated[
        str | None, typer.Option(help="e.g. 30d, 12h (default: store.retention_days)")
    ] = None,
    store: StoreOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Delete traces older than the retention period (routing tables are kept)."""
    from ..errors import UserError
    from .window import parse_days

    days = None if older_than is None else parse_days(older_than)
    with _open(store, config) as ts:
        if days is None and ts.settings.retention_days is None:
            raise UserError("no retention period given",
                            "pass --older-than 30d or set store.retention_days in slmstack.toml")
        deleted = ts.prune(days)
    _console().print(", ".join(f"{k}: {v:,}" for k, v in deleted.items()) + " rows deleted")


@app.command("export-otlp")
@friendly
def export_otlp(
    endpoint: Annotated[str, typer.Option(help="OTLP/HTTP collector, e.g. http://127.0.0.1:4318")],
    since: SinceOpt = None,
    until: UntilOpt = None,
    content: Annotated[bool, typer.Option(help="include messages and tool I/O")] = False,
    timeout: Annotated[float, typer.Option(help="seconds per request")] = 10.0,
    store: StoreOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Send stored traces as OpenTelemetry GenAI spans to an OTLP collector."""
    from .window import parse_when

    with _open(store, config) as ts:
        n = ts.export_otlp(endpoint, parse_when(since), parse_when(until),
                           include_content=content, timeout_s=timeout)
    _console().print(f"{n:,} spans sent to {endpoint}")


@app.command()
@friendly
def routing(
    store: StoreOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="print every version as JSON")] = False,
    config: ConfigOpt = None,
) -> None:
    """Routing-table versions, oldest first."""
    from rich.table import Table

    from .render import _when

    with _open(store, config) as ts:
        versions = ts.routing_history()
    if as_json:
        typer.echo(json.dumps([v.model_dump(mode="json") for v in versions], indent=2))
        return
    t = Table("version", "created", "routes", "note")
    for v in versions:
        routes = ", ".join(f"{k}→{r.model}" for k, r in sorted(v.routes.items()))
        t.add_row(str(v.version), _when(v.created_at), routes, v.note)
    _console().print(t)
