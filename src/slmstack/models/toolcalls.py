"""Tool-call parsing and repair: turn what a small model wrote into validated ``ToolCall`` objects.

Small models call tools in many dialects and often break the JSON while doing it. This module
recognises the dialects, repairs the JSON, maps function names and argument keys onto the offered
tools, coerces values to each tool's JSON Schema, and explains in one line what is still wrong.

* ``parse_tool_calls(text, tools)`` → ``ParseResult`` (calls, leftover text, repair notes);
  never raises. Dialects: slmstack's envelope ``{"tool_calls": [...]}`` / ``{"content": ...}``,
  Hermes/Qwen ``<tool_call>{...}</tool_call>``, Qwen3-Coder
  ``<function=f><parameter=k>v</parameter>``, Llama-3 ``<|python_tag|>`` and
  ``{"name", "parameters"}``, OpenAI ``{"function": {...}}``, Mistral ``[TOOL_CALLS]``, bare or
  fenced JSON, and pythonic ``f(a=1)`` / ``[f(a=1), g()]``.
* ``validate_call(call, tools, repairs)`` → a coerced, schema-valid ``ToolCall``, or
  ``ToolCallError`` with a message the model can act on.
* ``load_json_lenient(text)`` → ``(value or NOT_JSON, repairs)``.
* ``coerce_to_schema(value, schema, repairs)`` → the value with obvious type slips fixed.

Every repair appends a human-readable note, so ``Completion.repairs`` shows what the stack fixed.
"""

from __future__ import annotations

import ast
import json
import math
import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..errors import ToolCallError
from ..types import ToolCall, ToolSpec
from . import currencies, dates, places
from .schema import arguments_schema, validation_errors

__all__ = [
    "NOT_JSON",
    "ParseResult",
    "coerce_to_schema",
    "load_json_lenient",
    "parse_tool_calls",
    "validate_call",
]


class _Sentinel:
    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name


NOT_JSON: Any = _Sentinel("NOT_JSON")
"""Returned by ``load_json_lenient`` when the text cannot be parsed or repaired into JSON."""

_NO: Any = _Sentinel("_NO")  # internal: "this conversion does not apply"


@dataclass
class ParseResult:
    """What ``parse_tool_calls`` found in a model's reply."""

    calls: list[ToolCall]
    content: str | None = None  # text outside the calls (or the model's plain answer)
    repairs: list[str] = field(default_factory=list)  # human-readable notes of what was fixed


# =============================================================================================
# Lenient JSON
# =============================================================================================

_MAX_DEPTH = 200  # nesting limit for the lenient reader (keeps clear of Python's recursion limit)
_MAX_TRIES = 64  # how many candidate starts ('{' or '[') to try in one text
_CUT = "closed unclosed brackets (the output looks cut off)"
_LOOP = re.compile(r'("(?:[^"\\]|\\.)*")(?:\s*,\s*\1){2,}')
_CLOSERS = {"{": "}", "[": "]"}


def cut_loop(text: str) -> str | None:
    """A reply cut off at max_tokens while repeating one list item (a small model's loop:
    ``["Italian food", "Italian food", …``) ended after the item's first time, its open
    brackets closed; None when the reply ends in no such loop."""
    loop = None
    for m in _LOOP.finditer(text):
        loop = m
    if loop is None:
        return None
    rest = re.sub(r'^\s*,?\s*"?', "", text[loop.end():])
    if rest and not loop.group(1)[1:].startswith(rest):
        return None  # the reply goes on after the repeats: not cut inside the loop
    head = text[:loop.start() + len(loop.group(1))]
    stack: list[str] = []
    in_string = escaped = False
    for ch in head:
        if in_string:
            escaped, in_string = (False, True) if escaped else (ch == "\\", ch != '"')
        elif ch == '"':
            in_string = True
        elif ch in _CLOSERS:
            stack.append(_CLOSERS[ch])
        elif ch in "}]" and stack:
            stack.pop()
    if in_string or not stack or stack[-1] != "]":
        return None
    return head + "".join(reversed(stack))

_LITERALS: dict[str, Any] = {
    "true": True,
    "false": False,
    "null": None,
    "True": True,
    "False": False,
    "None": None,
    "NaN": math.nan,
    "Infinity": math.inf,
}
_ESCAPES = {
    '"': '"',
    "\\": "\\",
    "/": "/",
    "'": "'",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
}
_WS = re.compile(r"\s*")
_NUM = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_STRICT_NUM = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_INT = re.compile(r"[+-]?[0-9]+")
_HEX4 = re.compile(r"[0-9a-fA-F]{4}")
_WORD = re.compile(r"[A-Za-z_$][\w$-]*")
_CHUNK = {'"': re.compile(r'[^"\\]*'), "'": re.compile(r"[^'\\]*")}
_SURROGATE = re.compile("[\ud800-\udfff]")
_OPENER = re.compile(r"[\[{]")
_DECODER = json.JSONDecoder()


class _Fail(Exception):
    """The text is not (repairable) JSON at this position."""


class _Reader:
    """A forgiving recursive-descent JSON reader that notes every liberty it takes."""

    def __init__(self, text: str, pos: int = 0) -> None:
        self.s, self.i, self.depth = text, pos, 0
        self.notes: list[str] = []

    def note(self, msg: str) -> None:
        if msg not in self.notes:
            self.notes.append(msg)

    def peek(self) -> str:
        return self.s[self.i] if self.i < len(self.s) else ""

    def skip(self) -> None:
        """Skip whitespace and //, # and /* */ comments."""
        while True:
            self.i = _WS.match(self.s, self.i).end()  # type: ignore[union-attr]
            if self.s.startswith(("//", "#"), self.i):
                end = self.s.find("\n", self.i)
            elif self.s.startswith("/*", self.i):
                end = self.s.find("*/", self.i + 2)
                end = end + 2 if end >= 0 else end
            else:
                return
            self.i = len(self.s) if end < 0 else end
            self.note("removed comments")

    def value(self, nested: bool = True) -> Any:
        self.skip()
        c = self.peek()
        if not c:
            raise _Fail("unexpected end of text")
        if c in "{[":
            return self.container(c)
        if c in "\"'":
            return self.string()
        if c in "+-.0123456789":
            return self.number()
        return self.word(nested)

    def container(self, c: str) -> Any:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise _Fail("nested too deeply")
        try:
            return self.obj() if c == "{" else self.array()
        finally:
            self.depth -= 1

    def closed(self, end: str) -> bool:
        """True (and consumed) at the closing bracket or at the end of the text."""
        while True:
            self.skip()
            c = self.peek()
            if not c:
                self.note(_CUT)
                return True
            if c == end:
                self.i += 1
                return True
            if c in "]}":  # the other closer: this bracket was never closed
                self.note(f"inserted a missing {end!r}")
                return True
            if c != ",":
                return False
            self.i += 1
            self.note("removed extra commas")

    def separator(self, end: str) -> bool:
        """Consume the comma after an item; False when the container ends here unclosed."""
        self.skip()
        c = self.peek()
        if c == ",":
            self.i += 1
            self.skip()
            if self.peek() == end:
                self.note("removed trailing commas")
        elif c and c not in "]}":
            if not (c in "\"'{[+-.$_" or c.isalnum()):  # prose or a tag after cut-off JSON
                self.note(_CUT)
                return False
            self.note("inserted missing commas")
        return True

    def array(self) -> list[Any]:
        self.i += 1
        out: list[Any] = []
        while not self.closed("]"):
            out.append(self.value())
            if not self.separator("]"):
                break
        return out

    def obj(self) -> dict[str, Any]:
        self.i += 1
        out: dict[str, Any] = {}
        while not self.closed("}"):
            if not self.member(out):
                self.note(_CUT)
                break
            if not self.separator("}"):
                break
        return out

    def member(self, out: dict[str, Any]) -> bool:
        """Read ``key: value`` into ``out``; False when the text ends before the value."""
        key = self.key()
        self.skip()
        if self.peek() == ":":
            self.i += 1
            self.skip()
        elif self.peek():
            raise _Fail(f"expected ':' after key {key!r}")
        if not self.peek():
            self.note(f"dropped key {key!r}, cut off before its value")
            return False
        out[key] = self.value()
        return True

    def key(self) -> str:
        c = self.peek()
        if c in "\"'":
            return self.string()
        m = _WORD.match(self.s, self.i) or _NUM.match(self.s, self.i)
        if not m:
            raise _Fail("expected a key")
        self.i = m.end()
        self.note("quoted unquoted keys")
        return m.group()

    def string(self) -> str:
        quote = self.s[self.i]
        self.i += 1
        if quote == "'":
            self.note("replaced single quotes with double quotes")
        parts: list[str] = []
        while True:
            m = _CHUNK[quote].match(self.s, self.i)
            parts.append(m.group())  # type: ignore[union-attr]
            self.i = m.end()  # type: ignore[union-attr]
            if self.i >= len(self.s):
                self.note("closed an unterminated string")
                break
            if self.s[self.i] == quote:
                self.i += 1
                break
            parts.append(self.escape())
        return _join_surrogates("".join(parts))

    def escape(self) -> str:
        self.i += 1  # the backslash
        c = self.peek()
        self.i += 1
        if c == "u":
            hex4 = self.s[self.i : self.i + 4]
            if _HEX4.fullmatch(hex4):
                self.i += 4
                return chr(int(hex4, 16))
            if len(hex4) < 4:  # cut off inside the escape
                self.i = len(self.s)
                return ""
        if c in _ESCAPES:
            return _ESCAPES[c]
        if c:
            self.note("kept unknown escapes as written")
            return "\\" + c
        return ""

    def number(self) -> int | float:
        if self.s.startswith("-Infinity", self.i):
            self.i += len("-Infinity")
            return -math.inf
        m = _NUM.match(self.s, self.i)
        if not m:
            raise _Fail("expected a number")
        self.i = m.end()
        text = m.group()
        if not _STRICT_NUM.fullmatch(text):
            self.note(f"normalised number {text!r}")
        try:
            return int(text) if _INT.fullmatch(text) else float(text)
        except ValueError:  # e.g. more digits than int() accepts
            raise _Fail(f"bad number {text!r}") from None

    def word(self, nested: bool) -> Any:
        m = _WORD.match(self.s, self.i)
        if not m:
            raise _Fail("expected a value")
        word = m.group()
        if word in _LITERALS:
            self.i = m.end()
            if word in ("True", "False", "None"):
                self.note("replaced Python literals True/False/None")
            return _LITERALS[word]
        if not nested:
            raise _Fail(f"bare word {word!r}")
        self.i = m.end()
        self.note("quoted bare words")
        return word


def _join_surrogates(s: str) -> str:
    """Combine \\uD83D\\uDE00-style surrogate pairs into one character."""
    if not _SURROGATE.search(s):
        return s
    return s.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def _read(text: str, pos: int, whole: bool) -> tuple[Any, int, list[str]]:
    """Parse one JSON value at ``pos``: strict first, then leniently. Raises ``_Fail``."""
    try:
        value, end = _DECODER.raw_decode(text, pos)
        if not whole or not text[end:].strip():
            return value, end, []
    except (ValueError, RecursionError):
        pass
    reader = _Reader(text, pos)
    try:
        value = reader.value(nested=False)
    except RecursionError:
        raise _Fail("nested too deeply") from None
    end = reader.i
    reader.skip()
    if whole and reader.i < len(text):
        raise _Fail("text after the value")
    return value, end, reader.notes


def _unfence(text: str) -> str | None:
    """The inside of a text that is one Markdown code fence (closing fence optional), else None."""
    m = re.match(r"```[\w+-]*[ \t]*\n?", text)
    if not m:
        return None
    inner = text[m.end() :].rstrip()
    if inner.endswith("```"):
        inner = inner[:-3]
    return None if "```" in inner else inner.strip()


@dataclass
class _Span:
    value: Any
    start: int
    end: int
    notes: list[str]


def _json_spans(text: str) -> Iterator[_Span]:
    """Each JSON object/array embedded in ``text``, left to right, not overlapping."""
    pos = 0
    for _ in range(_MAX_TRIES):
        m = _OPENER.search(text, pos)
        if m is None:
            return
        try:
            value, end, notes = _read(text, m.start(), whole=False)
        except _Fail:
            pos = m.start() + 1
            continue
        yield _Span(value, m.start(), end, notes)
        pos = end


def load_json_lenient(text: str) -> tuple[Any, list[str]]:
    """Parse ``text`` as JSON, repairing what small models break; ``(NOT_JSON, [])`` if hopeless.

    Handles code fences, text around the value, single quotes, trailing commas, unclosed
    strings/brackets (truncated output), Python literals, unquoted keys and comments.
    """
    if not isinstance(text, str) or not text.strip():
        return NOT_JSON, []
    body, notes = text.strip(), []
    inner = _unfence(body)
    if inner is not None:
        body = inner
        notes.append("removed a Markdown code fence")
    try:
        value, _, more = _read(body, 0, whole=True)
        return value, notes + more
    except _Fail:
        pass
    embedded = max(_json_spans(body), key=lambda span: span.end - span.start, default=None)
    if embedded is None:
        return NOT_JSON, []
    return embedded.value, [*notes, *embedded.notes, "ignored text around the JSON value"]


# =============================================================================================
# Function names
# =============================================================================================


def _norm_name(name: str) -> str:
    return re.sub(r"[\s_.\-/:]+", "", name).lower()


def _segments(name: str) -> list[str]:
    return [_norm_name(p) for p in re.split(r"[./:]+", name) if p]


def _same_name(a: str, b: str) -> bool:
    return _norm_name(a) == _norm_name(b) != ""


def _suffix_name(a: str, b: str) -> bool:
    """One name is the other with a namespace dropped: ``factorial`` ~ ``math.factorial``."""
    short, long = sorted((_segments(a), _segments(b)), key=len)
    return 0 < len(short) < len(long) and long[-len(short) :] == short


_NAME_RULES: tuple[tuple[str, Callable[[str, str], bool]], ...] = (
    ("ignoring case and separators", _same_name),
    ("namespace dropped or added", _suffix_name),
)


def _resolve(name: str, tools: list[ToolSpec] | None, repairs: list[str]) -> ToolSpec | None:
    """The offered tool ``name`` means: exact, case/separator-insensitive, or a unique suffix."""
    if not tools:
        return None
    for tool in tools:
        if tool.name == name:
            return tool
    for rule, matches in _NAME_RULES:
        found = [t for t in tools if matches(name, t.name)]
        if len(found) == 1:
            repairs.append(f"matched function name {name!r} to tool {found[0].name!r} ({rule})")
            return found[0]
    return None


# =============================================================================================
# Calls from JSON values
# =============================================================================================

_NAME_KEYS = ("name", "function", "tool", "tool_name", "function_name", "func")
_ARG_KEYS = ("arguments", "parameters", "args", "params", "input", "tool_input", "kwargs")
_ENVELOPE_KEYS = ("tool_calls", "tool_call", "function_call", "calls")
_META_KEYS = frozenset({"type", "id", "index"})

_Found = tuple[list[ToolCall], str | None]


def _properties(schema: Any) -> dict[str, Any]:
    props = schema.get("properties") if isinstance(schema, dict) else None
    return props if isinstance(props, dict) else {}


def _pick_name(d: dict[str, Any]) -> tuple[str | None, str | None]:
    for key in _NAME_KEYS:
        value = d.get(key)
        if isinstance(value, str) and value.strip():
            return key, value.strip()
    return None, None


def _call_id(d: dict[str, Any]) -> dict[str, str]:
    value = d.get("id")
    return {"id": value} if isinstance(value, str) and value else {}


def _positional(values: list[Any], tool: ToolSpec | None, name: str, notes: list[str]) -> dict:
    params = list(_properties(tool.parameters)) if tool else []
    keys = [params[i] if i < len(params) else f"arg{i}" for i in range(len(values))]
    notes.append(f"mapped positional arguments of {name} onto {keys!r}")
    return dict(zip(keys, values, strict=True))


def _to_arguments(raw: Any, tool: ToolSpec | None, name: str, notes: list[str]) -> dict[str, Any]:
    """A call's arguments as a dict, whatever shape the model gave them."""
    if isinstance(raw, str):
        if not raw.strip():
            return {}
        value, more = load_json_lenient(raw)
        if value is not NOT_JSON:
            notes.append("parsed the arguments from a JSON string")
            notes.extend(more)
            raw = value
    if raw is None:
        return {}
    if isinstance(raw, dict):
        return {k if isinstance(k, str) else json.dumps(k): v for k, v in raw.items()}
    return _positional(raw if isinstance(raw, list) else [raw], tool, name, notes)


def _call_from_dict(
    d: dict[str, Any], tools: list[ToolSpec] | None, repairs: list[str], strong: bool
) -> ToolCall | None:
    """A call from one JSON object, or None when it does not look like one.

    ``strong``: the object sits where only calls go (a tag, an envelope), so a name is enough.
    Otherwise it needs an arguments key or ``"type": "function"``, or a name that is a tool.
    """
    if isinstance(d.get("function"), dict):  # OpenAI: {"type": "function", "function": {...}}
        inner = _call_from_dict(d["function"], tools, repairs, True)
        return inner.model_copy(update=_call_id(d)) if inner else None
    notes: list[str] = []
    name_key, name = _pick_name(d)
    if name_key is None or name is None:
        return None
    args_key = next((k for k in _ARG_KEYS if k in d), None)
    tool = _resolve(name, tools, notes)
    if tool is None and not (strong or args_key or d.get("type") == "function"):
        return None
    if name_key != "name":
        notes.append(f"read the function name from key {name_key!r}")
    raw = d[args_key] if args_key else _loose_arguments(d, name_key, notes)
    if args_key not in (None, "arguments"):
        notes.append(f"read the arguments from key {args_key!r}")
    arguments = _to_arguments(raw, tool, name, notes)
    repairs.extend(notes)
    return ToolCall(name=tool.name if tool else name, arguments=arguments, **_call_id(d))


def _loose_arguments(d: dict[str, Any], name_key: str, notes: list[str]) -> dict[str, Any]:
    rest = {k: v for k, v in d.items() if k != name_key and k not in _META_KEYS}
    if rest:
        notes.append("took the arguments from the call's top-level keys")
    return rest


def _content_text(value: Any) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text or None


def _envelope(d: dict[str, Any], tools: list[ToolSpec] | None, repairs: list[str]) -> _Found | None:
    """slmstack's own ``{"tool_calls": [...], "content": ...}`` (and near misses of it)."""
    key = next((k for k in _ENVELOPE_KEYS if k in d), None)
    items = d.get(key) if key else None
    items = [items] if isinstance(items, dict) else items
    if key is None or not isinstance(items, list):
        return None
    if key != "tool_calls":
        repairs.append(f"read the calls from key {key!r}")
    calls = []
    for item in items:
        call = _call_from_dict(item, tools, repairs, True) if isinstance(item, dict) else None
        if call is None:
            repairs.append(f"ignored an entry of {key!r} that is not a call: {item!r:.80}")
        else:
            calls.append(call)
    return calls, _content_text(d.get("content"))


def _calls_from_value(
    value: Any, tools: list[ToolSpec] | None, repairs: list[str], strong: bool
) -> _Found | None:
    """Calls in a parsed JSON value: an envelope, one call object, or a list of call objects."""
    if isinstance(value, dict):
        found = _envelope(value, tools, repairs)
        if found is not None:
            return found
        call = _call_from_dict(value, tools, repairs, strong)
        return ([call], None) if call else None
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        notes: list[str] = []
        calls = [_call_from_dict(v, tools, notes, strong) for v in value]
        if all(calls):
            repairs.extend(notes)
            return [c for c in calls if c], None
    return None


def _scan_calls(
    text: str, tools: list[ToolSpec] | None, strong: bool
) -> tuple[list[ToolCall], list[tuple[int, int]], list[str]]:
    """Calls in every JSON object/array found in ``text``, with their spans and repair notes."""
    calls: list[ToolCall] = []
    spans: list[tuple[int, int]] = []
    notes: list[str] = []
    for span in _json_spans(text):
        local: list[str] = []
        found = _calls_from_value(span.value, tools, local, strong)
        if found and found[0]:
            calls.extend(found[0])
            spans.append((span.start, span.end))
            notes.extend(span.notes + local)
    return calls, spans, notes


# =============================================================================================
# Pythonic calls: f(a=1), [f(a=1), g(b=[1, 2])], math.factorial(5)
# =============================================================================================

_JSON_NAMES = {"true": True, "false": False, "null": None}


class _JsonNames(ast.NodeTransformer):
    """Turns JSON's true/false/null, written inside a Python call, into Python constants."""

    def __init__(self) -> None:
        self.changed = False

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id not in _JSON_NAMES:
            return node
        self.changed = True
        return ast.copy_location(ast.Constant(_JSON_NAMES[node.id]), node)


def _jsonable(value: Any) -> Any:
    """A literal_eval result as JSON data (tuples and sets become lists), or _NO."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple | set | frozenset):
        items = [_jsonable(v) for v in value]
        return _NO if any(v is _NO for v in items) else items
    if isinstance(value, dict):
        if not all(k is None or isinstance(k, str | int | float | bool) for k in value):
            return _NO
        out = {k if isinstance(k, str) else json.dumps(k): _jsonable(v) for k, v in value.items()}
        return _NO if any(v is _NO for v in out.values()) else out
    return _NO


def _literal(node: ast.expr, notes: list[str]) -> Any:
    fixer = _JsonNames()
    node = fixer.visit(node)
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _NO
    if fixer.changed:
        notes.append("replaced JSON true/false/null inside a Python call")
    return _jsonable(value)


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _call_nodes(src: str) -> list[ast.Call] | None:
    """The call expressions when ``src`` is nothing but calls (statements or a list), else None."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(src.strip(), mode="exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    nodes: list[ast.Call] = []
    for stmt in tree.body:
        expr = stmt.value if isinstance(stmt, ast.Expr) else None
        items = expr.elts if isinstance(expr, ast.List | ast.Tuple) else [expr]
        if not items or not all(isinstance(n, ast.Call) for n in items):
            return None
        nodes.extend(n for n in items if isinstance(n, ast.Call))
    return nodes or None


def _acceptable(tool: ToolSpec | None, tools: list | None, level: str, positional: bool) -> bool:
    """Whether a pythonic call to an unknown name counts.

    level 'tag': inside a tool-call marker, always; 'whole': the reply is only this call, unless it
    has positional arguments (``max(3, 5)`` may be an answer); 'prose': only known tools.
    """
    if tool is not None or not tools or level == "tag":
        return True
    return level == "whole" and not positional


def _pythonic_call(
    node: ast.Call, tools: list[ToolSpec] | None, notes: list[str], level: str
) -> ToolCall | None:
    name = _dotted(node.func)
    if name is None or any(isinstance(a, ast.Starred) for a in node.args):
        return None
    if any(k.arg is None for k in node.keywords):  # **kwargs
        return None
    tool = _resolve(name, tools, notes)
    if not _acceptable(tool, tools, level, bool(node.args)):
        return None
    values = [_literal(a, notes) for a in node.args]
    keywords = {str(k.arg): _literal(k.value, notes) for k in node.keywords}
    if any(v is _NO for v in [*values, *keywords.values()]):
        return None
    arguments = _positional(values, tool, name, notes) if values else {}
    arguments.update(keywords)
    return ToolCall(name=tool.name if tool else name, arguments=arguments)


def _pythonic_calls(
    src: str, tools: list[ToolSpec] | None, repairs: list[str], level: str
) -> list[ToolCall] | None:
    """Calls when ``src`` is Python call syntax with literal arguments (parsed, never evaluated)."""
    nodes = _call_nodes(src)
    if not nodes:
        return None
    notes: list[str] = []
    calls = []
    for node in nodes:
        call = _pythonic_call(node, tools, notes, level)
        if call is None:
            return None
        calls.append(call)
    repairs.extend(notes)
    return calls


# =============================================================================================
# Qwen3-Coder XML: <function=NAME><parameter=KEY>VALUE</parameter></function>
# =============================================================================================

_FUNC_TAG = re.compile(r"<function\s*=\s*[\"']?([^>\"'\s]+)[\"']?\s*>", re.I)
_FUNC_END = re.compile(r"</function>", re.I)
_PARAM_TAG = re.compile(r"<parameter\s*=\s*[\"']?([^>\"']+?)[\"']?\s*>", re.I)
_PARAM_END = re.compile(r"</parameter>", re.I)


def _find(pattern: re.Pattern[str], text: str, start: int, limit: int) -> int:
    m = pattern.search(text, start, limit)
    return m.start() if m else limit


def _xml_value(raw: str, schema: Any) -> Any:
    raw = raw[1:] if raw.startswith("\n") else raw
    raw = raw[:-1] if raw.endswith("\n") else raw
    if isinstance(schema, dict) and schema.get("type") == "string":
        return raw
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return raw


def _xml_params(body: str, tool: ToolSpec | None, notes: list[str]) -> dict[str, Any]:
    params = list(_PARAM_TAG.finditer(body))
    if not params and body.strip():  # Llama-3.1 custom tools: <function=NAME>{json}</function>
        value, more = load_json_lenient(body)
        if isinstance(value, dict):
            notes.extend(more)
            return value
    props = _properties(tool.parameters) if tool else {}
    out: dict[str, Any] = {}
    for n, p in enumerate(params):
        limit = params[n + 1].start() if n + 1 < len(params) else len(body)
        raw = body[p.end() : _find(_PARAM_END, body, p.end(), limit)]
        key = p.group(1).strip()
        out[key] = _xml_value(raw, props.get(key))
    return out


def _xml_calls(
    text: str, tools: list[ToolSpec] | None, repairs: list[str]
) -> tuple[list[ToolCall], int]:
    """The calls and where the last one ends."""
    funcs = list(_FUNC_TAG.finditer(text))
    calls, end = [], 0
    for n, m in enumerate(funcs):
        limit = funcs[n + 1].start() if n + 1 < len(funcs) else len(text)
        end = _find(_FUNC_END, text, m.end(), limit)
        tool = _resolve(m.group(1), tools, repairs)
        arguments = _xml_params(text[m.end() : end], tool, repairs)
        calls.append(ToolCall(name=tool.name if tool else m.group(1), arguments=arguments))
        end = min(end + len("</function>"), len(text)) if end < limit else end
    return calls, end


# =============================================================================================
# The dialect parsers, tried in order
# =============================================================================================

_OPEN_TAG = re.compile(r"<(tool_call|function_call)>", re.I)
_PREFIX = re.compile(r"<\|python_tag\|>|<\|tool_call\|>|\bfunctools(?=\s*\[)")
_END_TOKENS = re.compile(r"<\|(?:eom_id|eot_id|im_end|end)\|>|</s>")
_MISTRAL = re.compile(r"\[TOOL_CALLS\]")
_MISTRAL_NAMED = re.compile(r"\s*([\w.\-]+)\s*(?:\[CALL_ID\]\s*([\w\-]+)\s*)?\[ARGS\]")
_CALL_START = re.compile(r"(?<![\w.])[A-Za-z_][\w.]*\s*\(")
_EMPTY_FENCE = re.compile(r"```[\w+-]*\s*(?:```[ \t]*\n?|$)")


def _clean(text: str) -> str | None:
    return text.strip() or None


def _outside(text: str, spans: list[tuple[int, int]]) -> str | None:
    """The text outside ``spans``, tidied (fences left empty by removing a call are dropped)."""
    joined, last = "", 0
    for start, end in sorted(spans):
        joined = _glue(joined, text[last:start])
        last = max(last, end)
    return _clean(_EMPTY_FENCE.sub("", _glue(joined, text[last:])))


def _glue(left: str, right: str) -> str:
    """Join two pieces around a removed call: a line break if either side had one, else a space."""
    if not left.strip() or not right.strip():
        return left.strip() or right.strip()
    gap = left[len(left.rstrip()) :] + right[: len(right) - len(right.lstrip())]
    return left.rstrip() + ("\n" if "\n" in gap else " ") + right.lstrip()


def _calls_in_fragment(
    fragment: str, tools: list[ToolSpec] | None, repairs: list[str]
) -> list[ToolCall] | None:
    """Calls in text that sits inside a tool-call marker (so any call-shaped thing counts)."""
    if _FUNC_TAG.search(fragment):
        return _xml_calls(fragment, tools, repairs)[0] or None
    body = _unfence(fragment.strip())
    body = fragment if body is None else body
    calls = _pythonic_calls(body, tools, repairs, "tag")
    if calls:
        return calls
    calls, _, notes = _scan_calls(body, tools, strong=True)
    repairs.extend(notes)
    return calls or None


def _json_end(text: str, start: int, limit: int) -> int:
    """Where valid JSON opening a block ends (so a closing tag inside a string is skipped)."""
    first = _WS.match(text, start).end()  # type: ignore[union-attr]
    try:
        return _DECODER.raw_decode(text[:limit], first)[1]
    except (ValueError, RecursionError):
        return start


def _parse_tagged(text: str, tools: list[ToolSpec] | None) -> ParseResult | None:
    """Hermes / Qwen ``<tool_call>...</tool_call>`` blocks (closing tag optional)."""
    opens = list(_OPEN_TAG.finditer(text))
    if not opens:
        return None
    calls: list[ToolCall] = []
    spans: list[tuple[int, int]] = []
    repairs: list[str] = []
    for n, m in enumerate(opens):
        limit = opens[n + 1].start() if n + 1 < len(opens) else len(text)
        closing = f"</{m.group(1).lower()}>"
        close = _find(re.compile(closing, re.I), text, _json_end(text, m.end(), limit), limit)
        close = -1 if close == limit else close
        found = _calls_in_fragment(text[m.end() : limit if close < 0 else close], tools, repairs)
        if found:
            calls.extend(found)
            spans.append((m.start(), limit if close < 0 else close + len(closing)))
            if close < 0:
                repairs.append(f"added a missing {closing} tag")
    return ParseResult(calls, _outside(text, spans), repairs) if calls else None


def _parse_xml_bare(text: str, tools: list[ToolSpec] | None) -> ParseResult | None:
    """Qwen3-Coder ``<function=...>`` blocks without the ``<tool_call>`` wrapper."""
    first = _FUNC_TAG.search(text)
    if first is None:
        return None
    repairs: list[str] = []
    calls, end = _xml_calls(text[first.start() :], tools, repairs)
    span = (first.start(), first.start() + end)
    return ParseResult(calls, _outside(text, [span]), repairs)


def _parse_prefixed(text: str, tools: list[ToolSpec] | None) -> ParseResult | None:
    """Llama-3 ``<|python_tag|>`` (and Granite ``<|tool_call|>``, Phi ``functools[...]``)."""
    m = _PREFIX.search(text)
    if m is None:
        return None
    rest = _PREFIX.sub("\n", _END_TOKENS.sub("", text[m.end() :]))
    repairs: list[str] = []
    calls = _calls_in_fragment(rest, tools, repairs)
    return ParseResult(calls, _clean(text[: m.start()]), repairs) if calls else None


def _mistral_part(part: str, tools: list[ToolSpec] | None, repairs: list[str]) -> list[ToolCall]:
    m = _MISTRAL_NAMED.match(part)
    if m is None:
        return _calls_in_fragment(part, tools, repairs) or []
    value, more = load_json_lenient(part[m.end() :])
    repairs.extend(more)
    call = {"name": m.group(1), "arguments": {} if value is NOT_JSON else value}
    if m.group(2):
        call["id"] = m.group(2)
    found = _call_from_dict(call, tools, repairs, True)
    return [found] if found else []


def _parse_mistral(text: str, tools: list[ToolSpec] | None) -> ParseResult | None:
    """Mistral ``[TOOL_CALLS] [{...}]`` and ``[TOOL_CALLS]name[ARGS]{...}``."""
    parts = _MISTRAL.split(_END_TOKENS.sub("", text))
    if len(parts) < 2:
        return None
    repairs: list[str] = []
    calls = [c for part in parts[1:] for c in _mistral_part(part, tools, repairs)]
    return ParseResult(calls, _clean(parts[0]), repairs) if calls else None


def _parse_whole(text: str, tools: list[ToolSpec] | None) -> ParseResult | None:
    """The whole reply (maybe fenced) is one JSON value or nothing but pythonic calls."""
    body = text.strip()
    inner = _unfence(body)
    body = body if inner is None else inner
    try:
        value, _, notes = _read(body, 0, whole=True)
    except _Fail:
        value, notes = NOT_JSON, []
    repairs = (["removed a Markdown code fence"] if inner is not None else []) + notes
    if value is not NOT_JSON:
        found = _calls_from_value(value, tools, repairs, strong=False)
        if found is not None:
            return ParseResult(found[0], found[1], repairs)
        if isinstance(value, dict) and "content" in value:  # {"content": "..."}: a plain answer
            return ParseResult([], _content_text(value["content"]), notes)
        return ParseResult([], _clean(text))
    calls = _pythonic_calls(body, tools, repairs, "whole")
    return ParseResult(calls, None, repairs) if calls else None


def _parse_embedded_json(text: str, tools: list[ToolSpec] | None) -> ParseResult | None:
    """Call objects somewhere in prose or code fences."""
    calls, spans, notes = _scan_calls(text, tools, strong=False)
    return ParseResult(calls, _outside(text, spans), notes) if calls else None


def _call_at(
    text: str, start: int, tools: list[ToolSpec], notes: list[str]
) -> tuple[list[ToolCall], int] | None:
    close = text.find(")", start)
    for _ in range(_MAX_TRIES // 4):
        if close < 0:
            return None
        calls = _pythonic_calls(text[start : close + 1], tools, notes, "prose")
        if calls:
            return calls, close + 1
        close = text.find(")", close + 1)
    return None


def _parse_embedded_pythonic(text: str, tools: list[ToolSpec] | None) -> ParseResult | None:
    """``get_weather(city="Paris")`` inside prose; only calls to offered tools count."""
    if not tools:
        return None
    calls: list[ToolCall] = []
    spans: list[tuple[int, int]] = []
    notes: list[str] = []
    for m in _CALL_START.finditer(text):
        if spans and m.start() < spans[-1][1]:
            continue
        found = _call_at(text, m.start(), tools, notes)
        if found:
            calls.extend(found[0])
            spans.append((m.start(), found[1]))
    return ParseResult(calls, _outside(text, spans), notes) if calls else None


_PARSERS = (
    _parse_tagged,
    _parse_xml_bare,
    _parse_prefixed,
    _parse_mistral,
    _parse_whole,
    _parse_embedded_json,
    _parse_embedded_pythonic,
)


def parse_tool_calls(text: str, tools: list[ToolSpec] | None = None) -> ParseResult:
    """Find the tool calls in a model's reply, whatever dialect it used. Never raises.

    With ``tools``, names are matched onto the offered tools (exactly, ignoring case and
    separators, or by a unique namespace suffix) and positional arguments onto their parameters.
    Calls in an unmistakable call syntax are kept even under an unknown name, so that
    ``validate_call`` can tell the model; looser shapes count only when they name an offered tool.
    """
    if not isinstance(text, str) or not text.strip():
        return ParseResult(calls=[], content=None)
    offered = list(tools) if tools else None
    for parser in _PARSERS:
        result = parser(text, offered)
        if result is not None:
            return result
    return ParseResult(calls=[], content=_clean(text))


# =============================================================================================
# Coercion to a JSON Schema
# =============================================================================================

_MAX_SCHEMA_DEPTH = 64


@dataclass
class _Coercion:
    root: dict[str, Any]
    repairs: list[str]

    def note(self, path: str, old: Any, new: Any) -> None:
        self.repairs.append(f"coerced {_where(path)} from {old!r:.60} to {new!r:.60}")


def _where(path: str) -> str:
    return f"argument {path!r}" if path else "the value"


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _pointer(root: Any, pointer: str) -> Any:
    node = root
    for part in [p for p in pointer.split("/") if p]:
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def _deref(schema: Any, root: dict[str, Any]) -> Any:
    """Follow local ``$ref``s (``#/$defs/X``); sibling keywords override the target's."""
    for _ in range(16):
        ref = schema.get("$ref") if isinstance(schema, dict) else None
        if not (isinstance(ref, str) and ref.startswith("#")):
            break
        target = _pointer(root, ref[1:])
        if not isinstance(target, dict):
            break
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def _valid(value: Any, schema: Any, root: dict[str, Any]) -> bool:
    if not isinstance(schema, dict):
        return True
    full = dict(schema)
    for key in ("$defs", "definitions"):
        if key in root and key not in full:
            full[key] = root[key]
    try:
        return not validation_errors(value, full)
    except Exception:  # a broken or non-JSON schema: coercion never raises
        return False


def _schema_types(schema: dict[str, Any]) -> list[str]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return [kind]
    if isinstance(kind, list):
        return [k for k in kind if isinstance(k, str)]
    if "properties" in schema:
        return ["object"]
    if "items" in schema or "prefixItems" in schema:
        return ["array"]
    return []


def _is_type(value: Any, kind: str) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    checks = {"string": str, "boolean": bool, "array": list, "object": dict}
    if kind in checks:
        return isinstance(value, checks[kind])
    return value is None if kind == "null" else True


def _parse_number(text: str) -> Any:
    text = text.strip()
    try:
        if _INT.fullmatch(text):
            return int(text)
        if _NUM.fullmatch(text):
            return float(text)
    except ValueError:
        pass
    return _NO


def _to_integer(value: Any) -> Any:
    if isinstance(value, str):
        value = _parse_number(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value if _is_type(value, "integer") else _NO


def _to_number(value: Any) -> Any:
    return _parse_number(value) if isinstance(value, str) else _NO


def _as_float(value: int) -> int | float:
    as_float = float(value) if abs(value) < 2**53 else None  # only where it stays exact
    return value if as_float is None else as_float


def _to_boolean(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return _NO


def _to_string(value: Any) -> Any:
    return str(value) if _is_type(value, "number") else _NO


def _json_text(value: Any, kind: type) -> Any:
    if not isinstance(value, str):
        return _NO
    try:
        parsed, _, _ = _read(value.strip(), 0, whole=True)
    except _Fail:
        return _NO
    return parsed if isinstance(parsed, kind) else _NO


def _to_array(value: Any) -> Any:
    parsed = _json_text(value, list)
    if parsed is not _NO:
        return parsed
    return _NO if value is None else [value]


def _to_object(value: Any) -> Any:
    return _json_text(value, dict)


def _to_null(value: Any) -> Any:
    return None if isinstance(value, str) and value.strip() in ("null", "None") else _NO


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "integer": _to_integer,
    "number": _to_number,
    "boolean": _to_boolean,
    "string": _to_string,
    "array": _to_array,
    "object": _to_object,
    "null": _to_null,
}


def _norm_key(key: str) -> str:
    return re.sub(r"[\s_\-]+", "", key).lower()


def _remap_keys(obj: dict[str, Any], props: dict[str, Any], co: _Coercion, path: str) -> dict:
    """Rename keys that differ from a schema property only by case, '-' or '_'."""
    out: dict[str, Any] = {}
    for key, value in obj.items():
        target = key
        if key not in props:
            hits = [p for p in props if _norm_key(p) == _norm_key(key) and p not in obj]
            if len(hits) == 1 and hits[0] not in out:
                target = hits[0]
                co.repairs.append(f"renamed {_where(_join(path, key))} to {target!r}")
        out[target] = value
    return out


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _coerce_object(obj: dict, schema: dict, co: _Coercion, path: str, depth: int) -> dict:
    props = _properties(schema)
    extra = schema.get("additionalProperties")
    out = {}
    for key, value in _remap_keys(obj, props, co, path).items():
        sub = props.get(key, extra)
        out[key] = _coerce(value, sub, co, _join(path, key), depth + 1)
    return out


def _coerce_array(arr: list, schema: dict, co: _Coercion, path: str, depth: int) -> list:
    items, prefix = schema.get("items"), _list(schema.get("prefixItems"))
    if isinstance(items, list):  # draft-7 tuple form
        items, prefix = schema.get("additionalItems"), items
    subs = [prefix[i] if i < len(prefix) else items for i in range(len(arr))]
    pairs = enumerate(zip(arr, subs, strict=True))
    out = [_coerce(v, sub, co, _join(path, i), depth + 1) for i, (v, sub) in pairs]
    if _looped_choices(out, schema, items):
        out = _unique_choices(out, co, path)
    return out


def _looped_choices(values: list[Any], schema: dict, items: Any) -> bool:
    """An array of enum choices with no length limit of its own, as long as the enum or longer,
    that repeats a choice: a small model looping on one choice ("G", "C", "G", "G", …) until a
    cap (``grounding.extractive`` caps such arrays at the enum's size) or the token limit."""
    if "maxItems" in schema or not isinstance(items, dict):
        return False
    enum = items.get("enum")
    return isinstance(enum, list) and len(values) >= len(enum) > 0 and len(
        {json.dumps(v, sort_keys=True, default=str) for v in values}) < len(values)


def _unique_choices(values: list[Any], co: _Coercion, path: str) -> list[Any]:
    """Each choice once, in the order first given."""
    seen: list[str] = []
    kept = []
    for v in values:
        key = json.dumps(v, sort_keys=True, default=str)
        if key not in seen:
            seen.append(key)
            kept.append(v)
    if len(kept) < len(values):
        co.repairs.append(f"dropped {len(values) - len(kept)} repeated choice(s) in {_where(path)}")
    return kept


def _coerce_inside(value: Any, schema: dict, co: _Coercion, path: str, depth: int) -> Any:
    if isinstance(value, dict):
        return _coerce_object(value, schema, co, path, depth)
    if isinstance(value, list):
        return _coerce_array(value, schema, co, path, depth)
    return value


def _coerce_types(
    value: Any, kinds: list[str], schema: dict, co: _Coercion, path: str, depth: int
) -> Any:
    if not any(_is_type(value, k) for k in kinds):
        for kind in kinds:
            new = _CONVERTERS[kind](value) if kind in _CONVERTERS else _NO
            if new is not _NO:
                co.note(path, value, new)
                value = new
                break
    if type(value) is int and "number" in kinds and "integer" not in kinds:
        as_float = _as_float(value)  # a "number" slot holds a float (Python tools expect one)
        if as_float is not value:
            co.note(path, value, as_float)
            value = as_float
    return _coerce_inside(value, schema, co, path, depth)


def _coerce_union(value: Any, branches: list[Any], co: _Coercion, path: str, depth: int) -> Any:
    if any(_valid(value, b, co.root) for b in branches):
        return value
    for branch in branches:
        trial = _Coercion(co.root, [])
        new = _coerce(value, branch, trial, path, depth + 1)
        if _valid(new, branch, co.root):
            co.repairs.extend(trial.repairs)
            return new
    return value


def _same_json(a: Any, b: Any) -> bool:
    return a == b and isinstance(a, bool) == isinstance(b, bool)


def _coerce_enum(value: Any, enum: list[Any], co: _Coercion, path: str) -> Any:
    if not isinstance(value, str) or any(_same_json(value, e) for e in enum):
        return value
    text = value.strip()
    hits = [e for e in enum if isinstance(e, str) and e.strip().lower() == text.lower()]
    hits = hits or [e for e in enum if not isinstance(e, str) and json.dumps(e) == text]
    if len(hits) != 1:
        return value
    co.note(path, value, hits[0])
    return hits[0]


_PATH_NAME = re.compile(r"[A-Za-z_][\w-]*")


def _coerce_layout(value: str, schema: dict, co: _Coercion, path: str) -> str:
    """A date written another way than the parameter asks ("March 17, 1915" for YYYY-MM-DD),
    a US city without the state a "City, ST" parameter asks for ("Chicago" → "Chicago, IL"),
    a currency's name for a currency parameter ("British pounds" → "GBP")."""
    key = names[-1] if (names := _PATH_NAME.findall(path)) else ""
    new = currencies.conform(places.conform(dates.conform(value, schema), schema), schema, key)
    if new != value:
        co.note(path, value, new)
    return new


def _coerce(value: Any, schema: Any, co: _Coercion, path: str, depth: int) -> Any:
    schema = _deref(schema, co.root)
    if not isinstance(schema, dict) or depth > _MAX_SCHEMA_DEPTH:
        return value
    for sub in _list(schema.get("allOf")):
        value = _coerce(value, sub, co, path, depth + 1)
    for key in ("anyOf", "oneOf"):
        if _list(schema.get(key)):
            value = _coerce_union(value, schema[key], co, path, depth)
    kinds = _schema_types(schema)
    if kinds:
        value = _coerce_types(value, kinds, schema, co, path, depth)
    if isinstance(schema.get("enum"), list):
        value = _coerce_enum(value, schema["enum"], co, path)
    elif isinstance(value, str):
        value = _coerce_layout(value, schema, co, path)
    if "const" in schema:
        value = _coerce_enum(value, [schema["const"]], co, path)
    return value


def coerce_to_schema(value: Any, schema: dict[str, Any], repairs: list[str]) -> Any:
    """``value`` with obvious type slips fixed to match ``schema``; never raises.

    Numeric strings → numbers, integers in "number" slots → floats, "true"/"false" → booleans,
    numbers → strings, one value → a
    one-item array, JSON text → object/array, enum values matched ignoring case, object keys
    matched ignoring case/'-'/'_'. Follows type lists, anyOf/oneOf/allOf, local $refs, nested
    properties and items. What cannot be fixed is left for validation to report.
    """
    if not isinstance(schema, dict):
        return value
    return _coerce(value, schema, _Coercion(schema, repairs), "", 0)


# =============================================================================================
# Validation
# =============================================================================================


@dataclass
class _Problem:
    what: str  # what is wrong, quoting the value
    fix: str  # completes "call NAME again with ..."


def _article(kind: Any) -> str:
    kind = str(kind)
    return kind if kind == "null" else ("an " if kind[:1] in "aeiou" else "a ") + kind


def _expect(schema: Any) -> str:
    """What a property's schema asks for, in words."""
    if not isinstance(schema, dict):
        return "a value"
    if isinstance(schema.get("enum"), list):
        return f"one of {schema['enum']!r}"
    if "const" in schema:
        return f"exactly {schema['const']!r}"
    kind = schema.get("type")
    if isinstance(kind, list):
        return " or ".join(_article(k) for k in kind)
    if kind == "array" and isinstance(schema.get("items"), dict):
        return f"an array (each item {_expect(schema['items'])})"
    return _article(kind) if isinstance(kind, str) else "a value matching its schema"


def _missing(args: dict, schema: dict) -> list[_Problem]:
    props = _properties(schema)
    return [
        _Problem(
            f"missing required argument {key!r} ({_expect(props.get(key))})",
            f"{key!r} set to {_expect(props.get(key))}",
        )
        for key in _list(schema.get("required"))
        if isinstance(key, str) and key not in args
    ]


def _unknown(args: dict, schema: dict) -> list[_Problem]:
    if schema.get("additionalProperties") is not False:
        return []
    props = _properties(schema)
    patterns = [p for p in schema.get("patternProperties") or {} if isinstance(p, str)]
    return [
        _Problem(
            f"unknown argument {key!r} = {value!r:.80}",
            f"{key!r} left out (accepted arguments: {list(props)!r})",
        )
        for key, value in args.items()
        if key not in props and not any(re.search(p, key) for p in patterns)
    ]


def _invalid(args: Any, schema: dict, skip_root: bool) -> list[_Problem]:
    props = _properties(schema)
    problems, seen = [], set()
    for error in validation_errors(args, schema):
        where, _, message = error.partition(": ")
        key = where.split("/")[0]
        if key in seen or (where == "(root)" and skip_root):
            continue
        seen.add(key)
        if where == "(root)" or not isinstance(args, dict):
            what = f"arguments {args!r:.80} are invalid: {message}"
            problems.append(_Problem(what, "arguments that match its schema"))
        else:
            value = args.get(key)
            problems.append(
                _Problem(
                    f"argument {key!r} = {value!r:.80} is invalid{_at(where, key)}: {message}",
                    f"{key!r} as {_expect(props.get(key))}",
                )
            )
    return problems


def _at(where: str, key: str) -> str:
    return "" if where == key else f" at {where}"


def _drop_null_optionals(args: Any, schema: dict, repairs: list[str]) -> Any:
    """Drop ``key: null`` for optional keys whose schema rejects null (null means 'not given')."""
    if not isinstance(args, dict):
        return args
    props, required = _properties(schema), set(_list(schema.get("required")))
    out = {}
    for key, value in args.items():
        if value is None and key in props and key not in required:
            if not _valid(None, props[key], schema):
                repairs.append(f"dropped optional argument {key!r} = None (treated as not given)")
                continue
        out[key] = value
    return out


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _unknown_function(name: str, tools: list[ToolSpec]) -> ToolCallError:
    names = [t.name for t in tools]
    if not names:
        return ToolCallError(
            f"unknown function {name!r}: no functions are available",
            "answer in plain text without calling a function",
        )
    return ToolCallError(
        f"unknown function {name!r}; the available functions are {names!r}",
        "call one of those by its exact name",
    )


def validate_call(call: ToolCall, tools: list[ToolSpec], repairs: list[str]) -> ToolCall:
    """``call`` checked against the offered ``tools``: name matched, arguments coerced and valid.

    Raises ``ToolCallError`` (a ``ModelRetry``) with one line naming the function, each bad
    argument and its value, and what to send instead. Repairs are appended to ``repairs``.
    """
    notes: list[str] = []
    tool = _resolve(call.name, tools, notes)
    if tool is None:
        raise _unknown_function(call.name, tools)
    schema = arguments_schema(tool)
    arguments = coerce_to_schema(dict(call.arguments), schema, notes)
    arguments = _drop_null_optionals(arguments, schema, notes)
    problems = _missing(arguments, schema) if isinstance(arguments, dict) else []
    problems += _unknown(arguments, schema) if isinstance(arguments, dict) else []
    problems += _invalid(arguments, schema, skip_root=bool(problems))
    repairs.extend(f"{tool.name}: {note}" for note in notes)
    if problems:
        raise ToolCallError(
            _one_line(f"invalid call to {tool.name!r}: " + "; ".join(p.what for p in problems)),
            _one_line(f"call {tool.name} again with " + ", ".join(p.fix for p in problems)),
        )
    return ToolCall(id=call.id, name=tool.name, arguments=arguments)
