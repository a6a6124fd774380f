"""What every ``slmstack`` sub-command shares: the two consoles, the one-line error wrapper and
the common options. A leaf module, so each package's CLI imports it directly (``slmstack.cli``
imports those CLIs)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from .errors import SlmstackError

__all__ = ["ConfigOpt", "StoreOpt", "err", "friendly", "out"]

out = Console()
err = Console(stderr=True)

ConfigOpt = Annotated[Path | None, typer.Option("--config", help="path to slmstack.toml")]
StoreOpt = Annotated[
    str | None,
    typer.Option("--store", help="trace store URL or SQLite path (default: store.url setting)"),
]


def friendly(fn: Any) -> Any:
    """Turn slmstack errors into a one-line message and exit code 1."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except SlmstackError as exc:
            # the message is escaped: rich would take "[rag]" or "['cm']" in it for style tags
            err.print(f"[bold red]error:[/] {escape(str(exc))}", markup=True, highlight=False,
                      soft_wrap=True)
            raise typer.Exit(1) from None

    return wrapper
