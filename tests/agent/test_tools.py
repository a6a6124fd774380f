"""Typed Python functions as tools: schemas from hints and docstrings, pydantic validation,
failures as observations, the registry and its allowlist."""

from __future__ import annotations

import datetime as dt
from typing import Literal

import pytest
from pydantic import BaseModel

from slmstack.agent import Tool, ToolRegistry, as_tool, tool
from slmstack.agent.docstrings import parse_docstring
from slmstack.errors import ModelRetry, UserError
from slmstack.types import ToolCall, ToolSpec


def book_room(room: str, day: dt.date, people: int = 2, kind: Literal["small", "big"] = "small"):
    """Book a meeting room.

    Args:
        room: the room's name, e.g. Aurora
        day: the day to book
        people: how many
            people will come
        kind: room size

    Returns:
        a confirmation
    """
    return {"room": room, "day": day.isoformat(), "people": people, "kind": kind}


def test_schema_from_hints_and_docstring() -> None:
    t = tool(book_room)
    assert t.name == "book_room" and t.spec.description == "Book a meeting room."
    props = t.spec.parameters["properties"]
    assert props["room"] == {"type": "string", "description": "the room's name, e.g. Aurora"}
    assert props["day"]["format"] == "date"
    assert props["people"] == {
        "type": "integer",
        "default": 2,
        "description": "how many people will come",
    }
    assert props["kind"]["enum"] == ["small", "big"]
    assert t.spec.parameters["required"] == ["room", "day"]
    assert t.spec.parameters["additionalProperties"] is False
    assert "title" not in str(t.spec.parameters)


def test_valid_call_runs_with_converted_types() -> None:
    out = tool(book_room).invoke({"room": "Aurora", "day": "2025-03-04", "people": "3"})
    assert out.ok and out.error is None
    assert out.output == '{"room": "Aurora", "day": "2025-03-04", "people": 3, "kind": "small"}'


def test_invalid_arguments_become_an_observation_saying_what_is_wrong() -> None:
    out = tool(book_room).invoke({"room": "Aurora", "day": "next tuesday", "colour": "red"})
    assert not out.ok
    assert out.output.startswith("Error: invalid arguments for book_room")
    assert "day" in out.output and "'next tuesday'" in out.output
    assert "colour" in out.output and "Extra inputs are not permitted" in out.output
    missing = tool(book_room).invoke({})
    assert "room: Field required" in missing.output and "day: Field required" in missing.output


def test_tool_exceptions_become_observations() -> None:
    def divide(a: float, b: float) -> float:
        """Divide a by b."""
        return a / b

    def strict(x: int) -> int:
        """Only even numbers."""
        if x % 2:
            raise ModelRetry(f"x must be even, got {x!r}", "pass an even number")
        return x

    out = tool(divide).invoke({"a": 1, "b": 0})
    assert not out.ok and out.error == "divide raised ZeroDivisionError: float division by zero"
    retry = tool(strict).invoke({"x": 3})
    assert retry.output == "Error: strict failed: x must be even, got 3 — pass an even number. " \
        "Fix the call and try again."


def test_return_values_are_rendered() -> None:
    class Point(BaseModel):
        x: int
        y: int

    def origin() -> Point:
        """The origin."""
        return Point(x=0, y=0)

    assert tool(origin).invoke({}).output == '{"x":0,"y":0}'
    assert tool(lambda: "plain", name="plain").invoke({}).output == "plain"


def test_async_functions_are_awaited() -> None:
    async def shout(text: str) -> str:
        """Upper-case a text."""
        return text.upper()

    assert tool(shout).invoke({"text": "hi"}).output == "HI"


def test_decorator_forms_and_bad_functions() -> None:
    @tool(name="renamed", keep=True)
    def f(a: int) -> int:
        """Identity."""
        return a

    assert isinstance(f, Tool) and f.name == "renamed" and f.keep

    def untyped(a):  # type: ignore[no-untyped-def]
        return a

    def star(*args: int) -> int:
        return 0

    with pytest.raises(UserError, match="'a' has no type hint"):
        tool(untyped)
    with pytest.raises(UserError, match=r"\*args"):
        tool(star)
    with pytest.raises(UserError, match="not a tool"):
        as_tool(42)


def test_external_tool_from_spec() -> None:
    t = as_tool({"type": "function", "function": {"name": "send", "parameters": {}}})
    assert t.external and t.source == "external" and t.invoke({"a": 1}).ok
    assert as_tool(ToolSpec(name="x")).external


def test_registry_allowlist_and_unknown_names() -> None:
    def read_file(path: str) -> str:
        """Read a file."""
        return "data"

    def delete_file(path: str) -> str:
        """Delete a file."""
        return "gone"

    reg = ToolRegistry([read_file, delete_file], allow=["read_*"])
    assert [s.name for s in reg.specs()] == ["read_file"]
    refused = reg.invoke(ToolCall(name="delete_file", arguments={"path": "/etc"}))
    assert not refused.ok and "there is no tool 'delete_file' (tools: read_file)" in refused.output
    with pytest.raises(UserError, match="two tools are named 'read_file'"):
        ToolRegistry([read_file, read_file])


@pytest.mark.parametrize(
    "doc",
    [
        "Sum.\n\nArgs:\n    a (int): first\n    b: second\n        line two\n\nReturns:\n    x",
        "Sum.\n\n:param a: first\n:param int b: second\n    line two\n:returns: x",
        "Sum.\n\nParameters\n----------\na : int\n    first\nb : int\n    second\n    line two\n"
        "\nReturns\n-------\nint",
    ],
    ids=["google", "rest", "numpy"],
)
def test_docstring_styles(doc: str) -> None:
    parsed = parse_docstring(doc)
    assert parsed.summary == "Sum."
    assert parsed.params == {"a": "first", "b": "second line two"}
