"""Tools: typed Python functions (JSON Schema from type hints + docstring, pydantic validation of
arguments), MCP tools and external tools behind one ``Tool`` type, plus the per-agent registry
with its allowlist.

A tool never raises into the loop: ``Tool.invoke`` returns a ``ToolOutcome`` whose text is the
observation the model reads, saying what was wrong when the arguments were invalid or the tool
failed.
"""

from __future__ import annotations

import asyncio
import fnmatch
import inspect
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, get_type_hints

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from ..errors import ModelRetry, UserError
from ..types import ToolCall, ToolSpec
from .docstrings import parse_docstring

__all__ = ["Tool", "ToolOutcome", "ToolRegistry", "as_tool", "tool"]


@dataclass
class ToolOutcome:
    ok: bool
    output: str  # the observation text
    error: str | None = None


class Tool:
    """A tool as the agent runs it: a spec the model sees and a way to call it.

    ``run(arguments) -> Any`` does the work (None for an *external* tool: calling it ends the run
    and hands the validated calls to the caller). ``validate(arguments) -> dict`` raises
    ``ValidationError`` or ``ModelRetry`` when the arguments are wrong.
    """

    def __init__(
        self,
        spec: ToolSpec,
        run: Callable[[dict[str, Any]], Any] | None,
        *,
        validate: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        source: str = "python",
        keep: bool = False,
    ) -> None:
        self.spec = spec
        self._run = run
        self._validate = validate
        self.source = source if run is not None else "external"
        self.keep = keep  # always keep this tool's results verbatim when folding context

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def external(self) -> bool:
        return self._run is None

    @classmethod
    def external_tool(cls, spec: ToolSpec | dict[str, Any]) -> Tool:
        """A tool the caller executes: the run stops with the calls in ``pending_calls``."""
        spec = spec if isinstance(spec, ToolSpec) else ToolSpec.from_openai(spec)
        return cls(spec, None)

    def validate(self, arguments: dict[str, Any]) -> dict[str, Any]:
        return self._validate(arguments) if self._validate else arguments

    def invoke(self, arguments: dict[str, Any]) -> ToolOutcome:
        """Validate, run, and render the result; failures become observations, never raises."""
        try:
            args = self.validate(arguments)
        except ValidationError as exc:
            return _failed(f"invalid arguments for {self.name}: {_validation_text(exc)}")
        except ModelRetry as exc:
            return _failed(f"invalid arguments for {self.name}: {exc}")
        if self._run is None:
            return ToolOutcome(True, "")
        try:
            return ToolOutcome(True, render(self._run(args)))
        except ModelRetry as exc:
            return _failed(f"{self.name} failed: {exc}")
        except Exception as exc:  # noqa: BLE001 - a failing tool is an observation, not a crash
            return _failed(f"{self.name} raised {type(exc).__name__}: {exc}")


def _failed(text: str) -> ToolOutcome:
    return ToolOutcome(False, "Error: " + text + ". Fix the call and try again.", text)


def _validation_text(exc: ValidationError) -> str:
    parts = []
    for e in exc.errors()[:4]:
        where = ".".join(str(p) for p in e["loc"]) or "(arguments)"
        got = f" (got {e['input']!r:.60})" if e["type"] != "missing" else ""
        parts.append(f"{where}: {e['msg']}{got}")
    return "; ".join(parts)


def render(value: Any) -> str:
    """A tool's return value as observation text."""
    if isinstance(value, str):
        return value
    if isinstance(value, BaseModel):
        return value.model_dump_json()
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(value)


# ---- typed Python functions ------------------------------------------------------------------


def tool(
    fn: Callable[..., Any] | None = None, *, name: str | None = None, keep: bool = False
) -> Any:
    """Make a typed function a ``Tool`` (usable bare, ``@tool``, or ``@tool(name=...)``)."""
    if fn is None:
        return lambda f: _from_function(f, name=name, keep=keep)
    return _from_function(fn, name=name, keep=keep)


def as_tool(obj: Tool | Callable[..., Any] | ToolSpec | dict[str, Any]) -> Tool:
    """Accept a Tool, a typed function, or a bare spec (an external tool)."""
    if isinstance(obj, Tool):
        return obj
    if isinstance(obj, (ToolSpec, dict)):
        return Tool.external_tool(obj)
    if callable(obj):
        return _from_function(obj)
    raise UserError(f"not a tool: {obj!r:.80}", "pass a typed function, a Tool or a ToolSpec")


def _from_function(fn: Callable[..., Any], *, name: str | None = None, keep: bool = False) -> Tool:
    doc = parse_docstring(inspect.getdoc(fn) or "")
    args_model = _arguments_model(fn, doc.params)
    spec = ToolSpec(
        name=name or fn.__name__,
        description=doc.summary,
        parameters=_clean_schema(args_model.model_json_schema()),
    )

    def validate(arguments: dict[str, Any]) -> dict[str, Any]:
        model = args_model.model_validate(arguments)
        return {k: getattr(model, k) for k in type(model).model_fields}

    def run(args: dict[str, Any]) -> Any:
        result = fn(**args)
        return asyncio.run(result) if inspect.iscoroutine(result) else result

    return Tool(spec, run, validate=validate, keep=keep)


def _arguments_model(fn: Callable[..., Any], docs: dict[str, str]) -> type[BaseModel]:
    from pydantic import Field

    hints = _parameter_hints(fn)
    fields: dict[str, Any] = {}
    for p in inspect.signature(fn).parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise UserError(
                f"tool {fn.__name__!r} takes *{p.name}; tools need named, typed parameters",
                "replace *args/**kwargs with explicit parameters",
            )
        if p.name not in hints:
            raise UserError(
                f"tool {fn.__name__!r} parameter {p.name!r} has no type hint",
                f"annotate it, e.g. `{p.name}: str`",
            )
        default = ... if p.default is p.empty else p.default
        fields[p.name] = (hints[p.name], Field(default, description=docs.get(p.name)))
    config = ConfigDict(extra="forbid")
    return create_model(f"{fn.__name__}_arguments", __config__=config, **fields)


def _parameter_hints(fn: Callable[..., Any]) -> dict[str, Any]:
    """Resolved parameter annotations (the return annotation may name a local class)."""
    params = {k: v for k, v in getattr(fn, "__annotations__", {}).items() if k != "return"}
    target = inspect.unwrap(fn)
    shim = SimpleNamespace(__annotations__=params, __globals__=getattr(target, "__globals__", {}))
    try:
        return get_type_hints(shim, include_extras=True)  # Annotated[int, Field(le=5)] bounds
    except NameError as exc:
        raise UserError(
            f"tool {getattr(fn, '__name__', fn)!r}: cannot resolve a type hint ({exc})",
            "import the types its parameters use at module level",
        ) from None


def _clean_schema(schema: Any) -> Any:
    """Drop pydantic's ``title`` noise (small models read every token of the schema)."""
    if isinstance(schema, dict):
        return {
            k: _clean_schema(v)
            for k, v in schema.items()
            if not (k == "title" and isinstance(v, str))
        }
    if isinstance(schema, list):
        return [_clean_schema(v) for v in schema]
    return schema


# ---- the registry ------------------------------------------------------------------------------


class ToolRegistry:
    """The tools one agent may use: unique names, filtered by an allowlist of name patterns."""

    def __init__(self, tools: Iterable[Any] = (), *, allow: Iterable[str] | None = None) -> None:
        self.allow = list(allow) if allow is not None else None
        self._tools: dict[str, Tool] = {}
        for t in tools:
            self.add(as_tool(t))

    def add(self, t: Tool) -> None:
        if not self.allowed(t.name):
            return
        if t.name in self._tools:
            raise UserError(
                f"two tools are named {t.name!r} ({self._tools[t.name].source}, {t.source})",
                "rename one (tool(fn, name=...)) or give the MCP server a prefix",
            )
        self._tools[t.name] = t

    def allowed(self, name: str) -> bool:
        return self.allow is None or any(fnmatch.fnmatchcase(name, p) for p in self.allow)

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def specs(self) -> list[ToolSpec]:
        return [t.spec for t in self._tools.values()]

    def __len__(self) -> int:
        return len(self._tools)

    def __iter__(self) -> Any:
        return iter(self._tools.values())

    def invoke(self, call: ToolCall) -> ToolOutcome:
        t = self._tools.get(call.name)
        if t is None:
            known = ", ".join(sorted(self._tools)) or "none"
            return _failed(f"there is no tool {call.name!r} (tools: {known})")
        return t.invoke(call.arguments)
