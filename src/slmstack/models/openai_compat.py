"""Any OpenAI-compatible chat server (vLLM, SGLang, llama.cpp, Ollama, hosted APIs) via ``openai``.

URI: ``openai+http://host:port/v1#model-name`` or ``openai+https://...``; the part after ``#`` is
the model name the server knows (``GET /v1/models`` lists them).

Capabilities are declared up front (constructor keywords, else the model's catalog entry in
``slmstack.toml``), never probed at call time:

* ``constrain`` — how ``Request.constraint`` reaches the server: ``"json_schema"`` (the OpenAI
  form; llama.cpp's ``llama-server``, vLLM, SGLang, Ollama), ``"json_object"`` (``{"type":
  "json_object", "schema": ...}``: llama-cpp-python's server) or ``"none"`` (prompt, then
  validate and repair). Catalog key: ``extra = {constrain = "json_object"}``.
* ``native_tools`` — send ``tools``/``tool_choice`` and read the server's structured
  ``tool_calls`` (a reply without them is parsed as text); otherwise the base class prompts for
  tools and the tool-call schema constrains the reply. Catalog key: ``native_tools = true``.

Streaming asks for ``stream_options={"include_usage": True}``; servers that send no usage chunk
(llama-cpp-python's) leave usage at zero for streamed calls.

HTTP goes through an injectable ``httpx.Client`` (tests pass ``httpx.MockTransport``). Errors are
mapped to slmstack's typed, one-line errors; no traceback text ever becomes a message.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import openai

from ..config import Settings
from ..errors import BackendUnavailable, ModelNotFound, SlmstackError, ToolCallError, UserError
from ..types import ToolCall, Usage, new_call_id
from .base import BaseChatModel, RawOutput, Request
from .catalog import Catalog, ModelProfile

ConstrainMode = Literal["json_schema", "json_object", "none"]
CONSTRAIN_MODES: tuple[str, ...] = ("json_schema", "json_object", "none")
SCHEMES = ("openai+http://", "openai+https://")
_MAX_QUOTE = 300


# ---- URIs ------------------------------------------------------------------------------------
def parse_uri(uri: str) -> tuple[str, str]:
    """``openai+http://host:8000/v1#model`` → (``http://host:8000/v1``, ``model``)."""
    if not uri.startswith(SCHEMES):
        raise UserError(
            f"model URI {uri!r} is not an OpenAI-compatible server URI",
            "write it as 'openai+http://host:port/v1#model-name' (or openai+https://...)",
        )
    base_url, _, model = uri.removeprefix("openai+").partition("#")
    host = base_url.split("://", 1)[1].split("/", 1)[0]
    if not host:
        raise UserError(
            f"model URI {uri!r} names no host", "write 'openai+http://host:port/v1#model'"
        )
    if not model.strip():
        raise UserError(
            f"model URI {uri!r} names no model",
            f"append '#model-name'; GET {base_url.rstrip('/')}/models lists the served models",
        )
    return base_url.rstrip("/"), model.strip()


# ---- the backend -----------------------------------------------------------------------------
class OpenAIChatModel(BaseChatModel):
    """One model on an OpenAI-compatible server; ``_generate`` is one chat-completions call."""

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        settings: Settings | None = None,
        name: str | None = None,
        constrain: ConstrainMode | None = None,
        native_tools: bool | None = None,
        supports_tool_role: bool | None = None,
        api_key: str | None = None,
        http_client: Any = None,
    ) -> None:
        self.settings = settings or Settings()
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.name = name or f"openai+{self.base_url}#{model}"
        self.constrain, self.profile = self._declare(constrain, native_tools, supports_tool_role)
        self._client = openai.OpenAI(
            base_url=self.base_url,
            api_key=api_key or self.settings.api_key() or "not-needed",
            timeout=self.settings.http.timeout_s,
            max_retries=self.settings.http.max_retries,
            http_client=http_client,
        )

    def _declare(
        self, constrain: Any, native_tools: bool | None, tool_role: bool | None
    ) -> tuple[ConstrainMode, ModelProfile]:
        """Capabilities from the keywords, else the catalog entry (slmstack.toml may override)."""
        profile = Catalog.builtin().with_user_models(self.settings.models).lookup(self.model)
        mode = _constrain_mode(constrain or profile.extra.get("constrain", "json_schema"))
        native = profile.native_tools if native_tools is None else native_tools
        role = profile.supports_tool_role if tool_role is None else tool_role
        changes = {
            "can_constrain": mode != "none",
            "native_tools": native,
            "supports_tool_role": role,
        }
        return mode, profile.replace(**changes)

    def close(self) -> None:
        self._client.close()

    # ---- request ---------------------------------------------------------------------------
    def _kwargs(self, req: Request) -> dict[str, Any]:
        kw: dict[str, Any] = {
            "model": self.model,
            "messages": [m.to_openai() for m in req.messages],
            "max_tokens": req.max_tokens,
            "temperature": req.temperature,
        }
        if req.stop:
            kw["stop"] = req.stop
        if req.tools and self.profile.native_tools:
            kw.update(_tool_kwargs(req))
        elif req.constraint is not None and self.constrain != "none":
            kw["response_format"] = response_format(req.constraint, self.constrain)
        return kw

    # ---- engine ----------------------------------------------------------------------------
    def _generate(self, req: Request) -> RawOutput:
        # the client's low-level post returns the JSON as a dict: it skips building the SDK's
        # response models (about half the client-side CPU of a call), with the same retries and
        # error mapping
        with self._mapped_errors():
            resp = self._client.post("/chat/completions", body=self._kwargs(req), cast_to=object)
        choices = resp.get("choices") if isinstance(resp, dict) else None
        if not choices:
            raise BackendUnavailable(
                f"model server at {self.base_url!r} returned no choices for {self.model!r}",
                "check the server logs; retry or fall back to another model",
            )
        choice = choices[0]
        message = choice.get("message") or {}
        native = self.profile.native_tools
        calls = [_tool_call_dict(c) for c in message.get("tool_calls") or []] if native else []
        usage = resp.get("usage") or {}
        return RawOutput(
            text=message.get("content") or "",
            usage=Usage(
                input_tokens=usage.get("prompt_tokens") or 0,
                output_tokens=usage.get("completion_tokens") or 0,
            ),
            finish_reason=choice.get("finish_reason") or "stop",
            tool_calls=calls or None,  # none sent: the base class parses the text
        )

    def _generate_stream(self, req: Request) -> Iterator[str | RawOutput]:
        acc = _StreamState()
        with self._mapped_errors(), self._open_stream(self._kwargs(req)) as stream:
            for chunk in stream:
                delta = acc.add(chunk)
                if delta:
                    yield delta
        yield acc.result(self.profile.native_tools)

    def _open_stream(self, kw: dict[str, Any]) -> Any:
        """Ask for usage in the last chunk; a server refusing ``stream_options`` gets none."""
        create = self._client.chat.completions.create
        try:
            return create(stream=True, stream_options={"include_usage": True}, **kw)
        except (openai.BadRequestError, openai.UnprocessableEntityError):
            return create(stream=True, **kw)

    # ---- errors ----------------------------------------------------------------------------
    @contextmanager
    def _mapped_errors(self) -> Iterator[None]:
        try:
            yield
        except openai.APIStatusError as exc:
            raise self._status_error(exc) from None
        except openai.APIConnectionError as exc:
            raise BackendUnavailable(
                f"model server at {self.base_url!r} is not reachable ({self._reason(exc)})",
                "start the server or check the URL in the model URI",
            ) from None
        except openai.APIError as exc:
            raise BackendUnavailable(
                f"model server at {self.base_url!r} sent a reply slmstack cannot read "
                f"({_one_line(exc.message)!r})",
                "check that the URL points at an OpenAI-compatible /v1 endpoint",
            ) from None

    def _reason(self, exc: openai.APIConnectionError) -> str:
        if isinstance(exc, openai.APITimeoutError):
            return f"no answer within {self.settings.http.timeout_s:g} s"
        cause = exc.__cause__ or exc.__context__
        return _one_line(str(cause) if cause else "") or type(cause or exc).__name__

    def _status_error(self, exc: openai.APIStatusError) -> SlmstackError:
        status, said = exc.status_code, _server_message(exc)
        if status == 404:
            return ModelNotFound(
                f"model server at {self.base_url!r} does not serve model {self.model!r} "
                f"(404: {said!r})",
                f"GET {self.base_url}/models lists the served models; fix the name after '#' "
                "in the model URI (and check that the URL ends in /v1)",
            )
        if status in (401, 403):
            return self._auth_error(status, said)
        if status in (400, 413, 422) or _is_validation_error(status, said):
            return self._rejected(status, said)
        if status == 429 or status >= 500:
            return BackendUnavailable(
                f"model server at {self.base_url!r} failed on {self.model!r} ({status}: {said!r})",
                "retry later, check the server logs, or fall back to another model",
            )
        return UserError(
            f"model server at {self.base_url!r} answered {status} for {self.model!r} ({said!r})",
            "check the model URI and the server's documentation",
        )

    def _rejected(self, status: int, said: str) -> UserError:
        return UserError(
            f"model server at {self.base_url!r} rejected the request for {self.model!r} "
            f"({status}: {said!r})",
            "shorten the messages, lower max_tokens or simplify the schema/tools; if the server "
            f"cannot take constrain={self.constrain!r}, use 'json_object' (llama-cpp-python's "
            "server) or 'none'",
        )

    def _auth_error(self, status: int, said: str) -> UserError:
        env = self.settings.http.api_key_env
        if self.settings.api_key() is None:
            hint = f"set the server's API key in ${env} (the variable named by http.api_key_env)"
        else:
            hint = f"the key in ${env} was refused; check it (http.api_key_env names the variable)"
        return UserError(
            f"model server at {self.base_url!r} refused access to {self.model!r} "
            f"({status}: {said!r})",
            hint,
        )


# ---- request pieces --------------------------------------------------------------------------
def response_format(schema: dict[str, Any], mode: ConstrainMode) -> dict[str, Any]:
    """The ``response_format`` that makes the server emit JSON valid under ``schema``."""
    if mode == "json_object":
        return {"type": "json_object", "schema": schema}
    return {
        "type": "json_schema",
        "json_schema": {"name": "output", "schema": schema, "strict": True},
    }


def _tool_kwargs(req: Request) -> dict[str, Any]:
    choice: Any = req.tool_choice
    if choice not in ("auto", "required", "none"):
        choice = {"type": "function", "function": {"name": choice}}
    return {
        "tools": [t.to_openai() for t in req.tools],
        "tool_choice": choice,
        "parallel_tool_calls": req.parallel_tool_calls,
    }


def _constrain_mode(mode: Any) -> ConstrainMode:
    if mode not in CONSTRAIN_MODES:
        raise UserError(
            f"constrain={mode!r} is not a known output-constraint mode",
            f"use one of {list(CONSTRAIN_MODES)!r}",
        )
    return mode  # type: ignore[no-any-return]


# ---- response pieces -------------------------------------------------------------------------
def _usage(usage: Any) -> Usage:
    if usage is None:
        return Usage()
    return Usage(
        input_tokens=getattr(usage, "prompt_tokens", 0) or 0,
        output_tokens=getattr(usage, "completion_tokens", 0) or 0,
    )


def _tool_call_dict(call: dict[str, Any]) -> ToolCall:
    fn = call.get("function") or {}
    return _make_call(call.get("id"), fn.get("name") or "", fn.get("arguments"))


def _make_call(call_id: str | None, name: str, raw_arguments: Any) -> ToolCall:
    args = parse_arguments(name, raw_arguments)
    return ToolCall(id=call_id or new_call_id(), name=name, arguments=args)


def parse_arguments(name: str, raw: Any) -> dict[str, Any]:
    """A call's JSON-string arguments as a dict; malformed JSON goes through the lenient loader."""
    if isinstance(raw, dict):
        return raw
    if raw is None or not str(raw).strip():
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        from .toolcalls import load_json_lenient

        value, _ = load_json_lenient(raw)
    if not isinstance(value, dict):
        raise ToolCallError(
            f"tool call {name!r} has arguments that are not a JSON object: {raw!r:.200}",
            "retry the call; the arguments must be a JSON object matching the tool's schema",
        )
    return value


@dataclass
class _CallParts:
    id: str = ""
    name: str = ""
    arguments: str = ""


class _StreamState:
    """Accumulates streamed chunks: text, tool-call fragments, finish reason, usage."""

    def __init__(self) -> None:
        self.text: list[str] = []
        self.calls: dict[int, _CallParts] = {}
        self.finish = "stop"
        self.usage = Usage()

    def add(self, chunk: Any) -> str:
        if getattr(chunk, "usage", None) is not None:
            self.usage = _usage(chunk.usage)
        if not chunk.choices:
            return ""
        choice = chunk.choices[0]
        self.finish = choice.finish_reason or self.finish
        for part in getattr(choice.delta, "tool_calls", None) or []:
            self._add_call(part)
        delta = choice.delta.content or ""
        self.text.append(delta)
        return delta

    def _add_call(self, part: Any) -> None:
        parts = self.calls.setdefault(part.index or 0, _CallParts())
        parts.id = part.id or parts.id
        if part.function is not None:
            parts.name = part.function.name or parts.name
            parts.arguments += part.function.arguments or ""

    def result(self, native_tools: bool) -> RawOutput:
        """Structured calls only when the server sent some; otherwise the base parses the text."""
        calls = None
        if native_tools and self.calls:
            parts = [self.calls[i] for i in sorted(self.calls)]
            calls = [_make_call(p.id, p.name, p.arguments) for p in parts]
        return RawOutput("".join(self.text), self.usage, self.finish, calls)


# ---- text helpers ----------------------------------------------------------------------------
def _server_message(exc: openai.APIStatusError) -> str:
    """The server's own words, first line only (some servers append a traceback)."""
    body = exc.body
    said: Any = None
    if isinstance(body, dict):
        said = body.get("message") or body.get("detail") or body.get("error")
    elif isinstance(body, str):
        said = body
    if not said:
        said = _response_text(exc)
    return _one_line(said if isinstance(said, str) else json.dumps(said))


def _response_text(exc: openai.APIStatusError) -> str:
    try:
        return exc.response.text
    except Exception:  # a streamed response that was never read
        return exc.response.reason_phrase or ""


def _is_validation_error(status: int, said: str) -> bool:
    """llama-cpp-python's server answers a request it cannot validate with a 500."""
    return status == 500 and "validation error" in said.lower()


def _one_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    first = lines[0] if lines else ""
    if len(lines) > 1 and first.endswith(":"):  # "1 validation error:" → keep the detail line
        first = f"{first} {lines[1]}"
    return first if len(first) <= _MAX_QUOTE else first[: _MAX_QUOTE - 1] + "…"


def from_uri(uri: str, settings: Settings) -> OpenAIChatModel:
    base_url, model = parse_uri(uri)
    return OpenAIChatModel(base_url, model, settings=settings, name=uri)
