"""The OpenAI chat-completions wire format: request models (they make the OpenAPI schema) and
their translation to slmstack's ``Message``/``ToolSpec`` and back to OpenAI JSON."""

from __future__ import annotations

import json
import time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..types import Completion, Message, ToolCall, ToolSpec
from .errors import GatewayError


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class ContentPart(_Loose):
    type: Literal["text", "refusal", "image_url", "input_audio", "file"]
    text: str | None = None
    refusal: str | None = None


class FunctionCall(_Loose):
    name: str
    arguments: str = ""


class ToolCallIn(_Loose):
    id: str
    type: Literal["function"] = "function"
    function: FunctionCall


Content = str | list[ContentPart]


class SystemMessage(_Loose):
    role: Literal["system", "developer"]
    content: Content
    name: str | None = None


class UserMessage(_Loose):
    role: Literal["user"]
    content: Content
    name: str | None = None


class AssistantMessage(_Loose):
    role: Literal["assistant"]
    content: Content | None = None
    name: str | None = None
    tool_calls: list[ToolCallIn] | None = None


class ToolMessage(_Loose):
    role: Literal["tool"]
    content: Content
    tool_call_id: str


ChatMessage = Annotated[SystemMessage | UserMessage | AssistantMessage | ToolMessage,
                        Field(discriminator="role")]


class FunctionDef(_Loose):
    name: str = Field(pattern=r"^[a-zA-Z0-9_-]{1,64}$")
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class Tool(_Loose):
    type: Literal["function"] = "function"
    function: FunctionDef


class NamedFunction(_Loose):
    name: str


class NamedToolChoice(_Loose):
    type: Literal["function"] = "function"
    function: NamedFunction


class JsonSchemaSpec(_Loose):
    name: str = "output"
    description: str | None = None
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    strict: bool | None = None


class TextFormat(_Loose):
    type: Literal["text"]


class JsonObjectFormat(_Loose):
    type: Literal["json_object"]


class JsonSchemaFormat(_Loose):
    type: Literal["json_schema"]
    json_schema: JsonSchemaSpec


ResponseFormat = Annotated[
    TextFormat | JsonObjectFormat | JsonSchemaFormat, Field(discriminator="type")
]


class StreamOptions(_Loose):
    include_usage: bool = False


class ChatCompletionRequest(_Loose):
    model: str
    messages: list[ChatMessage] = Field(min_length=1)
    tools: list[Tool] | None = None
    tool_choice: Literal["none", "auto", "required"] | NamedToolChoice | None = None
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormat | None = None
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    n: int | None = Field(default=None, ge=1, le=1)
    stop: str | list[str] | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    seed: int | None = None
    user: str | None = None


class EmbeddingRequest(_Loose):
    model: str
    input: str | list[str] | list[int] | list[list[int]]
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = Field(default=None, ge=1)
    user: str | None = None


# ---- request → slmstack ------------------------------------------------------------------------
def to_messages(req: ChatCompletionRequest) -> list[Message]:
    return [_message(m, i) for i, m in enumerate(req.messages)]


def _message(m: Any, i: int) -> Message:
    text = _text(m.content, i)
    if isinstance(m, SystemMessage):
        return Message.system(text or "")
    if isinstance(m, UserMessage):
        return Message.user(text or "")
    if isinstance(m, ToolMessage):
        return Message.tool(text or "", m.tool_call_id)
    calls = [_tool_call(c, i) for c in m.tool_calls or []]
    return Message.assistant(text, calls)


def _text(content: str | list[ContentPart] | None, i: int) -> str | None:
    if content is None or isinstance(content, str):
        return content
    other = [p.type for p in content if p.type not in ("text", "refusal")]
    if other:
        raise GatewayError(
            400, f"messages[{i}] has content parts of type {other[0]!r}; this gateway's models "
            "read text only", param=f"messages[{i}].content", code="unsupported_content",
        )
    return "".join((p.text if p.type == "text" else p.refusal) or "" for p in content)


def _tool_call(c: ToolCallIn, i: int) -> ToolCall:
    from ..models.openai_compat import parse_arguments

    try:
        args = parse_arguments(c.function.name, c.function.arguments)
    except Exception as exc:
        raise GatewayError(400, f"messages[{i}].tool_calls: {exc}",
                           param=f"messages[{i}].tool_calls", code="invalid_request") from None
    return ToolCall(id=c.id, name=c.function.name, arguments=args)


def to_kwargs(req: ChatCompletionRequest, default_max: int, limit: int) -> dict[str, Any]:
    """The ``ChatModel.complete`` keywords a request asks for."""
    max_tokens = req.max_completion_tokens or req.max_tokens or default_max
    if max_tokens > limit:
        raise GatewayError(
            400, f"max_tokens={max_tokens!r} is over this gateway's limit of {limit}; ask for "
            "fewer (the operator sets gateway.max_tokens)", param="max_tokens",
            code="max_tokens_too_large",
        )
    kw: dict[str, Any] = {
        "max_tokens": max_tokens,
        "temperature": 0.0 if req.temperature is None else req.temperature,
        "stop": [req.stop] if isinstance(req.stop, str) else req.stop,
        "schema": _schema(req),
        "parallel_tool_calls": True if req.parallel_tool_calls is None else req.parallel_tool_calls,
    }
    if req.tools:
        kw["tools"] = [_tool_spec(t) for t in req.tools]
        kw["tool_choice"] = _tool_choice(req.tool_choice)
    elif req.tool_choice not in (None, "none", "auto"):
        raise GatewayError(400, f"tool_choice={_dump(req.tool_choice)!r} needs tools",
                           param="tool_choice", code="invalid_request")
    return kw


def _schema(req: ChatCompletionRequest) -> dict[str, Any] | None:
    fmt = req.response_format
    if fmt is None or fmt.type == "text":
        return None
    if fmt.type == "json_object":
        return {"type": "object"}
    if fmt.json_schema.schema_ is None:
        raise GatewayError(400, "response_format.json_schema has no 'schema'",
                           param="response_format.json_schema.schema", code="invalid_request")
    return fmt.json_schema.schema_


def _tool_spec(t: Tool) -> ToolSpec:
    params = t.function.parameters or {"type": "object", "properties": {}}
    return ToolSpec(name=t.function.name, description=t.function.description or "",
                    parameters=params)


def _tool_choice(choice: Any) -> str:
    if choice is None:
        return "auto"
    return choice if isinstance(choice, str) else choice.function.name


def _dump(value: Any) -> Any:
    return value.model_dump() if isinstance(value, BaseModel) else value


# ---- slmstack → response -------------------------------------------------------------------------
def completion_id(request_id: str) -> str:
    return "chatcmpl-" + request_id[:24]


def finish_reason(comp: Completion) -> str:
    return comp.finish_reason if comp.finish_reason in ("stop", "length", "tool_calls") else "stop"


def usage(comp: Completion) -> dict[str, int]:
    u = comp.usage
    return {"prompt_tokens": u.input_tokens, "completion_tokens": u.output_tokens,
            "total_tokens": u.input_tokens + u.output_tokens}


def message_json(comp: Completion) -> dict[str, Any]:
    msg: dict[str, Any] = {"role": "assistant", "content": comp.text, "refusal": None}
    if comp.tool_calls:
        msg["tool_calls"] = [c.to_openai() for c in comp.tool_calls]
    return msg


def completion_json(comp: Completion, model: str, cid: str) -> dict[str, Any]:
    return {
        "id": cid,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message_json(comp), "logprobs": None,
                     "finish_reason": finish_reason(comp)}],
        "usage": usage(comp),
        "system_fingerprint": None,
    }


def chunk_json(cid: str, model: str, created: int, delta: dict[str, Any],
               finish: str | None = None) -> str:
    body = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
            "system_fingerprint": None,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}
    return "data: " + json.dumps(body, ensure_ascii=False) + "\n\n"


def usage_chunk(cid: str, model: str, created: int, comp: Completion) -> str:
    body = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
            "system_fingerprint": None, "choices": [], "usage": usage(comp)}
    return "data: " + json.dumps(body) + "\n\n"


def tool_call_deltas(comp: Completion) -> list[dict[str, Any]]:
    """One delta per call: id, name and the whole arguments string at once (as vLLM does)."""
    return [{"tool_calls": [{"index": i, "id": c.id, "type": "function",
                             "function": {"name": c.name,
                                          "arguments": json.dumps(c.arguments)}}]}
            for i, c in enumerate(comp.tool_calls)]


DONE = "data: [DONE]\n\n"
