"""The egress allowlist: the gateway refuses to start if any configured upstream is not allowed.

Upstreams are the ``openai+http(s)://`` model URIs anywhere in the configuration (default model,
aliases, model lists, router routes, gateway fallbacks ...), the current routing table in the
trace store, and OpenAI-compatible models handed to ``create_app``. Allowlist entries are
``fnmatch`` patterns over the host (``*.corp.example``) or ``host:port``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from fnmatch import fnmatch
from typing import Any
from urllib.parse import urlsplit

from ..errors import ConfigError

SCHEMES = ("openai+http://", "openai+https://")


def upstream_uris(tree: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """(config key, URI) for every OpenAI-compatible model URI in a nested config value."""
    if isinstance(tree, str):
        if tree.startswith(SCHEMES):
            yield where or "(value)", tree
    elif isinstance(tree, dict):
        for k, v in tree.items():
            yield from upstream_uris(k, f"{where}.{k}".lstrip(".") + " (key)")
            yield from upstream_uris(v, f"{where}.{k}".lstrip("."))
    elif isinstance(tree, list | tuple):
        for i, v in enumerate(tree):
            yield from upstream_uris(v, f"{where}[{i}]")


def host_port(uri: str) -> tuple[str, int | None]:
    url = urlsplit(uri.removeprefix("openai+").split("#", 1)[0])
    try:
        port = url.port
    except ValueError:
        port = None
    return (url.hostname or "").lower(), port


def allowed(host: str, port: int | None, allow: Iterable[str]) -> bool:
    for pattern in allow:
        pattern = pattern.lower().strip()
        if fnmatch(host, pattern) or (port is not None and fnmatch(f"{host}:{port}", pattern)):
            return True
    return False


def check_egress(places: Iterable[tuple[str, str]], allow: list[str]) -> None:
    """Raise ConfigError naming the first upstream host outside ``allow`` and where it is set."""
    for where, uri in places:
        host, port = host_port(uri)
        if not allowed(host, port, allow):
            raise ConfigError(
                f"upstream host {host!r} (from {where} = {uri!r}) is not in the gateway's egress "
                f"allowlist {allow!r}",
                f"add {host!r} to gateway.egress_allow in slmstack.toml if the gateway may send "
                f"requests (and their prompts) there, or change {where}",
            )


def configured_upstreams(settings: Any, store: Any = None,
                         models: dict[str, Any] | None = None) -> list[tuple[str, str]]:
    places = list(upstream_uris(settings.model_dump(mode="json")))
    table = store.current_routing_table() if store is not None else None
    if table is not None:
        dump = table.model_dump(mode="json")["routes"]
        places += upstream_uris(dump, f"routing table v{table.version} routes")
    from ..models.openai_compat import OpenAIChatModel

    for name, model in (models or {}).items():
        if isinstance(model, OpenAIChatModel):
            places.append((f"model {name!r}", f"openai+{model.base_url}"))
    return places
