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

``acomplete`` is the same call awaited on an event loop through a caller-supplied transport (the
gateway's pooled HTTP/1.1 client, ``slmstack.server.upstream``): the same request body, headers,
reply handling, retries (the ``openai`` client's policy) and error mapping, without a thread.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import math
import random
import time
import zlib
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import openai

from ..config import Settings
from ..errors import BackendUnavailable, ModelNotFound, SlmstackError, ToolCallError, UserError
from ..types import Completion, Message, ToolCall, Usage, new_call_id
from . import parallel
from .base import BaseChatModel, RawOutput, Request
from .catalog import Catalog, ModelProfile

ConstrainMode = Literal["json_schema", "json_object", "none"]
CONSTRAIN_MODES: tuple[str, ...] = ("json_schema", "json_object", "none")
SCHEMES = ("openai+http://", "openai+https://")
_MAX_QUOTE = 300
# the openai client's retry policy (openai._constants), for the awaited path
INITIAL_RETRY_DELAY_S, MAX_RETRY_DELAY_S, MAX_RETRY_AFTER_S = 0.5, 8.0, 120.0


class HTTPReply(Protocol):
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes


AsyncPost = Callable[[str, list[tuple[bytes, bytes]], bytes], Awaitable[HTTPReply]]
"""``post(url, headers, body)`` → the reply; raises OSError when the request could not be sent
or its reply not read (the server is "not reachable")."""


class AsyncPathDeclined(Exception):
    """The awaited path met a reply it does not handle the way the ``openai`` client would (a
    redirect, an encoded body): the caller makes the call through ``complete`` instead."""


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
        self.own_http_client = http_client is None  # False: the caller's client must carry it
        self._wire_headers: list[tuple[bytes, bytes]] | None = None
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
        return self._raw_output(resp)

    def _raw_output(self, resp: Any) -> RawOutput:
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

    # ---- the awaited path ------------------------------------------------------------------
    async def acomplete(
        self, messages: Sequence[Message] | str, *, post: AsyncPost, **kwargs: Any
    ) -> Completion:
        """``complete`` with its one HTTP call awaited through ``post`` (see AsyncPost); raises
        AsyncPathDeclined (before any reply is used) where ``complete`` must be used instead."""
        req = self.prepare(messages, **kwargs)
        t0 = time.perf_counter()
        resp = await self._apost(self._kwargs(req), post)
        # more_calls only continues replies of engines with ``_continue``; this one has none, so
        # it never makes a (blocking) call here
        raw = parallel.more_calls(self, req, self._raw_output(resp))
        return self._finish(req, raw, time.perf_counter() - t0)

    async def _apost(self, kw: dict[str, Any], post: AsyncPost) -> Any:
        """POST /chat/completions with the openai client's headers, timeout and retries."""
        url, body = f"{self.base_url}/chat/completions", json.dumps(kw).encode()
        retries, timeout = self.settings.http.max_retries, self.settings.http.timeout_s
        for attempt in range(retries + 1):
            last, headers = attempt == retries, None
            try:
                async with asyncio.timeout(timeout):
                    reply = await post(url, self._headers(), body)
            except TimeoutError:
                if last:
                    raise self._unreachable(f"no answer within {timeout:g} s") from None
            except OSError as exc:
                if last:
                    raise self._unreachable(_one_line(str(exc)) or type(exc).__name__) from None
            else:
                if reply.status < 300:
                    return _reply_json(self.base_url, reply)
                if reply.status < 400:
                    raise AsyncPathDeclined(f"{reply.status} reply (the client follows redirects)")
                headers = reply.headers
                if last or not _should_retry(reply.status, headers):
                    raise self._status_error(reply.status, _reply_message(reply)) from None
            await asyncio.sleep(_retry_delay(attempt, headers))
        raise AssertionError("unreachable")  # the last attempt returns or raises

    def _headers(self) -> list[tuple[bytes, bytes]]:
        """The openai client's own request headers (key, organisation, user agent ...)."""
        if self._wire_headers is None:
            c = self._client
            merged = {**c.default_headers, **c.auth_headers, "Accept-Encoding": "identity"}
            self._wire_headers = [(k.lower().encode(), v.encode()) for k, v in merged.items()
                                  if isinstance(v, str)]
        return self._wire_headers

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
            raise self._status_error(exc.status_code, _server_message(exc)) from None
        except openai.APIConnectionError as exc:
            raise self._unreachable(self._reason(exc)) from None
        except openai.APIError as exc:
            raise _unreadable(self.base_url, exc.message) from None

    def _unreachable(self, reason: str) -> BackendUnavailable:
        return BackendUnavailable(
            f"model server at {self.base_url!r} is not reachable ({reason})",
            "start the server or check the URL in the model URI",
        )

    def _reason(self, exc: openai.APIConnectionError) -> str:
        if isinstance(exc, openai.APITimeoutError):
            return f"no answer within {self.settings.http.timeout_s:g} s"
        cause = exc.__cause__ or exc.__context__
        return _one_line(str(cause) if cause else "") or type(cause or exc).__name__

    def _status_error(self, status: int, said: str) -> SlmstackError:
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
    return _said(exc.body, lambda: _response_text(exc))


def _said(body: Any, text: Callable[[], str]) -> str:
    said: Any = None
    if isinstance(body, dict):
        said = body.get("message") or body.get("detail") or body.get("error")
    elif isinstance(body, str):
        said = body
    if not said:
        said = text()
    return _one_line(said if isinstance(said, str) else json.dumps(said))


def _reply_message(reply: HTTPReply) -> str:
    """As ``_server_message`` for a reply of the awaited path (the openai client's body rule:
    the JSON's ``error`` member, else the JSON, else the text)."""
    try:
        raw = _reply_body(reply)
    except (AsyncPathDeclined, zlib.error):
        raw = reply.body
    text = raw.decode("utf-8", "replace").strip()
    body: Any = text
    try:
        body = json.loads(text)
    except ValueError:
        pass
    else:
        body = body.get("error", body) if isinstance(body, dict) else body
    return _said(body, lambda: text)


def _reply_json(base_url: str, reply: HTTPReply) -> Any:
    """A 2xx reply's JSON; its text when it is not JSON-typed (as the openai client's raw post)."""
    body = reply.body
    try:
        body = _reply_body(reply)
        content_type = reply.headers.get("content-type", "*").split(";")[0].strip()
        if not content_type.endswith("json"):
            return body.decode("utf-8", "replace")
        return json.loads(body)
    except (ValueError, zlib.error):
        raise _unreadable(base_url, body.decode("utf-8", "replace")) from None


def _unreadable(base_url: str, said: str) -> BackendUnavailable:
    return BackendUnavailable(
        f"model server at {base_url!r} sent a reply slmstack cannot read ({_one_line(said)!r})",
        "check that the URL points at an OpenAI-compatible /v1 endpoint",
    )


def _reply_body(reply: HTTPReply) -> bytes:
    """The body, undoing gzip/deflate (asked for ``identity``, a server may compress anyway;
    zlib.error when it does not decompress); another encoding: AsyncPathDeclined."""
    encoding = reply.headers.get("content-encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        return reply.body
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompress(reply.body, 16 + zlib.MAX_WBITS)
    if encoding == "deflate":  # zlib-wrapped as the spec says, or raw as some servers send it
        try:
            return zlib.decompress(reply.body)
        except zlib.error:
            return zlib.decompress(reply.body, -zlib.MAX_WBITS)
    raise AsyncPathDeclined(f"reply encoded as {encoding!r} (httpx may decode it)")


def _should_retry(status: int, headers: dict[str, str]) -> bool:
    """The openai client's rule: x-should-retry, else 408, 409, 429 and 5xx."""
    after = _retry_after(headers)
    if after is not None and after > MAX_RETRY_AFTER_S:
        return False
    flag = headers.get("x-should-retry")
    if flag in ("true", "false"):
        return flag == "true"
    return status in (408, 409, 429) or status >= 500


def _retry_delay(attempt: int, headers: dict[str, str] | None) -> float:
    """Retry-After when the server sets one (≤ 2 min), else 0.5 s doubling to 8 s, -0–25 %."""
    after = _retry_after(headers) if headers is not None else None
    if after is not None and 0 < after <= MAX_RETRY_AFTER_S:
        return after
    backoff = min(INITIAL_RETRY_DELAY_S * 2.0**attempt, MAX_RETRY_DELAY_S)
    return backoff * (1 - 0.25 * random.random())


def _retry_after(headers: dict[str, str]) -> float | None:
    for name, divisor in (("retry-after-ms", 1000), ("retry-after", 1)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            delay = float(value)
        except ValueError:
            continue
        return delay / divisor if math.isfinite(delay) else MAX_RETRY_AFTER_S + 1
    date = email.utils.parsedate_tz(headers.get("retry-after") or "")
    return None if date is None else email.utils.mktime_tz(date) - time.time()


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
