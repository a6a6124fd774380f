"""``slmstack serve`` (the gateway under uvicorn) and ``slmstack keys create|list|revoke|
verify-audit``. Commands parse arguments and call the library."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from ..console import ConfigOpt, friendly

app = typer.Typer(no_args_is_help=True, help="Manage the gateway's API keys and audit log.")



def _gateway_settings(config: Path | None) -> Any:
    from ..config import load_settings
    from .settings import GatewaySettings

    return GatewaySettings.from_settings(load_settings(config))


def _console() -> Any:
    from ..console import out

    return out


@friendly
def serve(
    host: Annotated[str | None, typer.Option(help="address (default: gateway.host)")] = None,
    port: Annotated[int | None, typer.Option(help="port (default: gateway.port)")] = None,
    store: Annotated[str | None, typer.Option(help="trace store URL or SQLite path")] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level")] = "info",
    config: ConfigOpt = None,
) -> None:
    """Serve the OpenAI-compatible gateway (chat, models, embeddings, health, metrics)."""
    from ..config import load_settings
    from .serve import run

    settings = load_settings(config)
    if store is not None:
        settings = settings.model_copy(update={"store": {**settings.store, "url": store}})
    run(settings, host=host, port=port, log_level=log_level)


@app.command()
@friendly
def create(
    name: Annotated[str, typer.Option(help="who or what the key is for")] = "",
    budget: Annotated[float | None, typer.Option(help="USD this key may spend")] = None,
    rpm: Annotated[int | None, typer.Option(help="requests per minute")] = None,
    config: ConfigOpt = None,
) -> None:
    """Create a key. It is shown once: only its hash is stored."""
    from .audit import AuditLog
    from .keys import KeyStore

    gw = _gateway_settings(config)
    key, text = KeyStore(gw.keys_path).create(name, budget_usd=budget, rpm=rpm)
    AuditLog(gw.audit_path).append("key_created", key_id=key.id, name=name, budget_usd=budget,
                                   rpm=rpm)
    _console().print(f"key id {key.id} ({name or 'no name'}) — copy it now, it is not shown again:")
    typer.echo(text)


@app.command("list")
@friendly
def list_keys(config: ConfigOpt = None) -> None:
    """Keys: id, name, created, budget, rate limit, revoked."""
    from rich.table import Table

    from .keys import KeyStore

    gw = _gateway_settings(config)
    t = Table("id", "name", "created", "budget $", "rpm", "revoked")
    for k in KeyStore(gw.keys_path).keys():
        t.add_row(k.id, k.name, _when(k.created_at),
                  "-" if k.budget_usd is None else f"{k.budget_usd:g}",
                  "-" if k.rpm is None else str(k.rpm),
                  "" if k.revoked_at is None else _when(k.revoked_at))
    _console().print(t)


@app.command()
@friendly
def revoke(key_id: Annotated[str, typer.Argument(help="the key's id (see `keys list`)")],
           config: ConfigOpt = None) -> None:
    """Revoke a key; a running gateway refuses it within a second."""
    from .audit import AuditLog
    from .keys import KeyStore

    gw = _gateway_settings(config)
    key = KeyStore(gw.keys_path).revoke(key_id)
    AuditLog(gw.audit_path).append("key_revoked", key_id=key.id)
    _console().print(f"revoked {key.id} ({key.name or 'no name'})")


@app.command("verify-audit")
@friendly
def verify_audit_cmd(
    path: Annotated[Path | None, typer.Argument(help="audit log (default: gateway.audit_path)")]
    = None,
    config: ConfigOpt = None,
) -> None:
    """Check the audit log's hash chain; exit 1 at the first altered, missing or moved entry."""
    from ..errors import UserError
    from .audit import verify_audit

    target = path or _gateway_settings(config).audit_path
    if not Path(target).is_file():
        raise UserError(f"audit log {str(target)!r} does not exist", "pass its path")
    check = verify_audit(target)
    if not check.ok:
        raise UserError(f"audit log {str(target)!r} is broken at line {check.line}: "
                        f"{check.problem} ({check.entries} entries before it verify)",
                        "keep the file as evidence; investigate who wrote it")
    _console().print(f"ok: {check.entries} entries, head {check.head}")


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))
