"""MCP servers as tools, through the official ``mcp`` SDK (stdio and streamable HTTP).

The SDK is async; the agent loop is a plain generator. ``MCPConnection`` runs the SDK's
``Client`` on an anyio blocking portal (an event loop in a helper thread) and offers a
synchronous ``tools()`` / ``call()``. Servers are declared in code (``MCPServerSpec``) or in
``slmstack.toml``::

    [agent.mcp.files]
    command = "python"
    args = ["-m", "my_files_server"]
    allow = ["read_*"]

    [agent.mcp.search]
    url = "http://127.0.0.1:8000/mcp"
    prefix = "search."
"""

from __future__ import annotations

import contextlib
import fnmatch
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import BackendUnavailable, ConfigError, ModelRetry
from ..types import ToolSpec
from .docstrings import parse_docstring
from .tools import Tool, _clean_schema


class MCPServerSpec(BaseModel):
    """One MCP server: a command to launch (stdio) or a streamable-HTTP URL."""

    model_config = ConfigDict(extra="forbid")

    name: str
    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] | None = None
    cwd: str | None = None
    url: str | None = None
    allow: list[str] | None = None  # tool-name patterns this agent may use (None: all)
    prefix: str = ""  # prepended to the server's tool names, e.g. "files."
    timeout_s: float = Field(30.0, gt=0)

    @model_validator(mode="after")
    def _one_transport(self) -> MCPServerSpec:
        if (self.command is None) == (self.url is None):
            raise ValueError("give exactly one of command (stdio) or url (streamable HTTP)")
        return self


def mcp_servers_from_toml(path: str | Path) -> list[MCPServerSpec]:
    """The ``[agent.mcp.NAME]`` tables of a slmstack.toml file."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read MCP servers from {str(p)!r}: {exc}", "fix it") from None
    tables = (data.get("agent") or {}).get("mcp") or {}
    specs = []
    for name, entry in tables.items():
        try:
            specs.append(MCPServerSpec.model_validate({"name": name, **entry}))
        except (ValidationError, TypeError) as exc:
            raise ConfigError(
                f"{str(p)!r}: [agent.mcp.{name}] is invalid: {_first_error(exc)}",
                "give command (+ args) for a stdio server or url for streamable HTTP",
            ) from None
    return specs


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        e = exc.errors()[0]
        where = ".".join(str(x) for x in e["loc"])
        return f"{where}: {e['msg']}" if where else e["msg"]
    return str(exc)


class MCPConnection:
    """A live session with one MCP server, usable from synchronous code."""

    def __init__(self, spec: MCPServerSpec) -> None:
        self.spec = spec
        self._stack = contextlib.ExitStack()
        self._portal: Any = None
        self._client: Any = None

    def __enter__(self) -> MCPConnection:
        self.open()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def open(self) -> None:
        from anyio.from_thread import start_blocking_portal

        try:
            self._portal = self._stack.enter_context(start_blocking_portal())
            client = self._portal.wrap_async_context_manager(self._sdk_client())
            self._client = self._stack.enter_context(client)
        except Exception as exc:  # noqa: BLE001 - any failure to start/connect is "unavailable"
            self.close()
            raise BackendUnavailable(
                f"MCP server {self.spec.name!r} ({self._where()}) did not connect: "
                f"{_root_cause(exc)}",
                "check the command/URL and that the server speaks MCP",
            ) from None

    def _sdk_client(self) -> Any:
        from mcp import Client, StdioServerParameters

        if self.spec.url is not None:
            target: Any = self.spec.url
        else:
            target = StdioServerParameters(
                command=self.spec.command or "",
                args=self.spec.args,
                env=self.spec.env,
                cwd=self.spec.cwd,
            )
        return Client(target, read_timeout_seconds=self.spec.timeout_s)

    def _where(self) -> str:
        return self.spec.url or " ".join([self.spec.command or "", *self.spec.args]).strip()

    def close(self) -> None:
        self._client = None
        try:
            self._stack.close()
        except Exception:  # noqa: BLE001, S110 - a server that dies on shutdown changes nothing
            pass
        self._stack = contextlib.ExitStack()

    def tools(self) -> list[Tool]:
        """The server's tools (those its ``allow`` patterns admit), as agent tools."""
        listed = self._call(self._client.list_tools)
        allow = self.spec.allow
        return [
            self._tool(t)
            for t in listed.tools
            if allow is None or any(fnmatch.fnmatchcase(t.name, p) for p in allow)
        ]

    def _tool(self, t: Any) -> Tool:
        description, parameters = _compact(t.description or "", t.input_schema)
        spec = ToolSpec(
            name=self.spec.prefix + t.name, description=description, parameters=parameters
        )
        remote = t.name

        def run(args: dict[str, Any]) -> str:
            return self.call(remote, args)

        return Tool(spec, run, source=f"mcp:{self.spec.name}")

    def call(self, name: str, arguments: dict[str, Any]) -> str:
        """Call a tool; an ``is_error`` result raises ModelRetry (it goes back to the model)."""
        result = self._call(self._client.call_tool, name, arguments)
        text = _result_text(result)
        if result.is_error:
            raise ModelRetry(text or f"MCP tool {name!r} reported an error")
        return text

    def _call(self, fn: Any, *args: Any) -> Any:
        if self._client is None:
            raise BackendUnavailable(
                f"MCP server {self.spec.name!r} is not connected", "open the connection first"
            )
        try:
            return self._portal.call(fn, *args)
        except ModelRetry:
            raise
        except Exception as exc:  # noqa: BLE001 - transport errors: the server is unusable
            raise BackendUnavailable(
                f"MCP server {self.spec.name!r} failed: {_root_cause(exc)}",
                "check that the server is still running",
            ) from None


def _compact(description: str, schema: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """Servers often send the whole docstring and pydantic titles; small models read every
    token, so keep the summary and move parameter docs into the schema."""
    doc = parse_docstring(description)
    params = _clean_schema(schema or {"type": "object", "properties": {}})
    for name, prop in (params.get("properties") or {}).items():
        if isinstance(prop, dict) and doc.params.get(name) and "description" not in prop:
            prop["description"] = doc.params[name]
    return doc.summary or description.strip(), params


def _result_text(result: Any) -> str:
    import json

    parts = []
    for block in result.content or []:
        text = getattr(block, "text", None)
        parts.append(text if text is not None else block.model_dump_json(exclude_none=True))
    if not parts and result.structured_content is not None:
        return json.dumps(result.structured_content, ensure_ascii=False, default=str)
    return "\n".join(parts)


def _root_cause(exc: BaseException) -> str:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}"
