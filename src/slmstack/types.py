"""The shared vocabulary: messages, tools, tool calls, completions, usage.

Every component passes these plain pydantic models to the next; nothing else crosses a boundary.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field

Role = Literal["system", "user", "assistant", "tool"]


def new_call_id() -> str:
    return "call_" + uuid.uuid4().hex[:12]


class ToolCall(BaseModel):
    """One function call a model asked for, with arguments already parsed to a dict."""

    id: str = Field(default_factory=new_call_id)
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)

    def to_openai(self) -> dict[str, Any]:
        import json

        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": json.dumps(self.arguments)},
        }


class Message(BaseModel):
    role: Role
    content: str | None = None
    tool_calls: list[ToolCall] = Field(default_factory=list)
    tool_call_id: str | None = None
    name: str | None = None

    @classmethod
    def system(cls, text: str) -> Message:
        return cls(role="system", content=text)

    @classmethod
    def user(cls, text: str) -> Message:
        return cls(role="user", content=text)

    @classmethod
    def assistant(
        cls, text: str | None = None, tool_calls: list[ToolCall] | None = None
    ) -> Message:
        return cls(role="assistant", content=text, tool_calls=tool_calls or [])

    @classmethod
    def tool(cls, content: str, tool_call_id: str, name: str | None = None) -> Message:
        return cls(role="tool", content=content, tool_call_id=tool_call_id, name=name)

    def to_openai(self) -> dict[str, Any]:
        out: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.tool_calls:
            out["tool_calls"] = [c.to_openai() for c in self.tool_calls]
        if self.tool_call_id:
            out["tool_call_id"] = self.tool_call_id
        if self.name and self.role == "tool":
            out["name"] = self.name
        return out


class ToolSpec(BaseModel):
    """A tool as the model sees it: name, description, JSON Schema of its arguments."""

    name: str
    description: str = ""
    parameters: dict[str, Any] = Field(
        default_factory=lambda: {"type": "object", "properties": {}}
    )

    def to_openai(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }

    @classmethod
    def from_openai(cls, tool: dict[str, Any]) -> ToolSpec:
        fn = tool.get("function", tool)
        return cls(
            name=fn["name"],
            description=fn.get("description", "") or "",
            parameters=fn.get("parameters") or {"type": "object", "properties": {}},
        )


class Usage(BaseModel):
    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
        )


FinishReason = Literal["stop", "length", "tool_calls", "error"]


class Completion(BaseModel):
    """What every backend returns: text and/or tool calls, usage, model id, latency, cost."""

    text: str | None = None
    tool_calls: list[ToolCall] = Field(default_factory=list)
    parsed: Any = None  # the validated JSON value when a schema was given
    usage: Usage = Field(default_factory=Usage)
    model: str = ""
    latency_s: float = 0.0
    cost_usd: float = 0.0
    finish_reason: FinishReason = "stop"
    raw_text: str | None = None  # what the engine actually produced, before parsing/repair
    repairs: list[str] = Field(default_factory=list)  # what the stack fixed, for audit

    def message(self) -> Message:
        return Message.assistant(self.text, self.tool_calls)


class StreamEvent(BaseModel):
    """One streamed piece: a text delta, or (at the end) the whole Completion."""

    delta: str = ""
    completion: Completion | None = None


ToolChoice = Literal["auto", "required", "none"] | str
"""'auto' | 'required' | 'none' | the name of one function that must be called."""
