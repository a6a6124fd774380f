"""The ChatModel contract and the behaviour every backend shares.

A backend supplies two things: its *profile* (declared up front: chat format, whether the engine
can constrain decoding, whether it takes tools natively) and ``_generate`` / ``_generate_stream``
(one engine call on already-prepared messages). ``BaseChatModel`` does the rest identically for
every backend: tool prompting, the tool-call/JSON constraint, parsing and repair of the reply,
validation, usage, latency and cost.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from ..errors import ModelRetry, OutputValidationError, ToolCallError, UserError
from ..types import Completion, Message, StreamEvent, ToolCall, ToolChoice, ToolSpec, Usage
from . import grounding, parallel, prompts, redecode, toolcalls
from .catalog import ModelProfile
from .schema import check_schema, tool_calls_schema, validation_errors

PROSE_SCHEMA: dict[str, Any] = {
    "type": "object", "properties": {"content": {"type": "string"}}, "required": ["content"],
}
"""The reply form for prose where tool calls are in sight but not allowed (see _constraint)."""


@runtime_checkable
class ChatModel(Protocol):
    """What every backend, router and wrapper implements."""

    name: str

    def complete(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolSpec | dict[str, Any]] | None = None,
        tool_choice: ToolChoice = "auto",
        schema: dict[str, Any] | None = None,
        max_tokens: int = 512,
        temperature: float = 0.0,
        stop: list[str] | None = None,
        parallel_tool_calls: bool = True,
    ) -> Completion: ...

    def stream(
        self,
        messages: Sequence[Message],
        **kwargs: Any,
    ) -> Iterator[StreamEvent]: ...


@dataclass
class Request:
    """A normalised request, built once and handed to the engine."""

    messages: list[Message]
    tools: list[ToolSpec] = field(default_factory=list)
    tool_choice: ToolChoice = "auto"
    schema: dict[str, Any] | None = None  # the caller's output schema
    constraint: dict[str, Any] | None = None  # what the engine must emit (tool-call or output)
    max_tokens: int = 512
    temperature: float = 0.0
    stop: list[str] | None = None
    parallel_tool_calls: bool = True


@dataclass
class RawOutput:
    """One engine call's result, before slmstack interprets it."""

    text: str
    usage: Usage
    finish_reason: str = "stop"
    tool_calls: list[ToolCall] | None = None  # set when the engine parsed calls natively
    repairs: list[str] = field(default_factory=list)  # what slmstack changed before parsing


def as_tools(tools: Sequence[ToolSpec | dict[str, Any]] | None) -> list[ToolSpec]:
    out = []
    for t in tools or []:
        out.append(t if isinstance(t, ToolSpec) else ToolSpec.from_openai(t))
    return out


def as_messages(messages: Sequence[Message | dict[str, Any]] | str) -> list[Message]:
    if isinstance(messages, str):
        return [Message.user(messages)]
    return [m if isinstance(m, Message) else Message.model_validate(m) for m in messages]


class BaseChatModel:
    """Shared request preparation and reply interpretation; subclasses implement the engine."""

    name: str = "base"
    profile: ModelProfile
    # leave out optional arguments whose values the request does not contain (small models fill
    # every parameter they see); see ``grounding``. Set False on an instance to keep them.
    prune_ungrounded_optional: bool = True
    # constrain free-text string and number arguments of tool calls to what the request (user
    # messages and tool results) wrote: for the smallest models, copying beats inventing.
    # Backends turn it on; see ``grounding.extractive``.
    extractive_strings: bool = False

    # ---- engine hooks -------------------------------------------------------------------
    def _generate(self, req: Request) -> RawOutput:  # pragma: no cover - abstract
        raise NotImplementedError

    def _continue(self, req: Request, prefix: str, schema: dict[str, Any]) -> RawOutput | None:
        """The reply continued after the assistant text ``prefix``, constrained to ``schema``;
        None where the engine cannot continue a reply (then no calls are added, see
        ``parallel``)."""
        return None

    def _continues(self, req: Request) -> bool:
        """Whether ``_continue`` can extend this request's reply."""
        return False

    def _generate_stream(self, req: Request) -> Iterator[str | RawOutput]:
        """Yield text deltas, then one RawOutput. Default: no true streaming."""
        raw = self._generate(req)
        yield raw.text
        yield raw

    def price(self, usage: Usage) -> float:
        return self.profile.cost(usage)

    # ---- the contract ---------------------------------------------------------------------
    def complete(self, messages: Sequence[Message] | str, **kwargs: Any) -> Completion:
        req = self.prepare(messages, **kwargs)
        t0 = time.perf_counter()
        raw = self._settled(req, self._generate(req))
        return self._finish(req, raw, time.perf_counter() - t0)

    def _settled(self, req: Request, raw: RawOutput) -> RawOutput:
        """The engine's reply made whole: a tool-call reply cut off while it repeated a list
        item ended after the item's first time (``toolcalls.cut_loop``: the calls that were
        to follow are then asked for as any missing call is), values that are no value of
        their own decoded again (``redecode``), the calls the request still needs added
        (``parallel.more_calls``)."""
        if req.tools and raw.finish_reason == "length" and raw.tool_calls is None and (
                ended := toolcalls.cut_loop(raw.text)) is not None:
            raw = type(raw)(text=ended, usage=raw.usage, finish_reason="stop", repairs=[
                *raw.repairs, "ended a list that repeated one item until max_tokens after its "
                "first time"])
        return parallel.more_calls(self, req, redecode.redecode(self, req, raw))

    def stream(self, messages: Sequence[Message] | str, **kwargs: Any) -> Iterator[StreamEvent]:
        req = self.prepare(messages, **kwargs)
        t0 = time.perf_counter()
        show_deltas = req.constraint is None  # constrained JSON is not shown as prose
        for piece in self._generate_stream(req):
            if isinstance(piece, RawOutput):
                piece = self._settled(req, piece)
                yield StreamEvent(completion=self._finish(req, piece, time.perf_counter() - t0))
            elif show_deltas and piece:
                yield StreamEvent(delta=piece)

    # ---- preparation -----------------------------------------------------------------------
    def prepare(
        self,
        messages: Sequence[Message] | str,
        *,
        tools: Sequence[ToolSpec | dict[str, Any]] | None = None,
        tool_choice: ToolChoice = "auto",
        schema: Any = None,
        max_tokens: int = 512,
        temperature: float = 0.0,
        stop: list[str] | None = None,
        parallel_tool_calls: bool = True,
    ) -> Request:
        if max_tokens < 1:
            raise UserError(f"max_tokens must be ≥ 1, got {max_tokens!r}", "pass a positive number")
        tool_specs = as_tools(tools)
        tool_choice = _check_tool_choice(tool_choice, tool_specs)
        req = Request(
            messages=as_messages(messages),
            tools=[] if tool_choice == "none" else tool_specs,
            tool_choice=tool_choice,
            schema=check_schema(schema) if schema is not None else None,
            max_tokens=max_tokens,
            temperature=temperature,
            stop=stop,
            parallel_tool_calls=parallel_tool_calls,
        )
        req.constraint = self._constraint(req)
        req.messages = self._render(req)
        return req

    def offered(self, req: Request) -> list[ToolSpec]:
        """The tools a reply may call, as the decoder constrains them."""
        offered = req.tools
        if req.tool_choice not in ("auto", "required"):
            offered = [t for t in req.tools if t.name == req.tool_choice]
        return _extractive(offered, req.messages) if self.extractive_strings else offered

    def _constraint(self, req: Request) -> dict[str, Any] | None:
        if req.tools:
            return tool_calls_schema(
                self.offered(req),
                allow_text=req.tool_choice == "auto",
                # an engine that can continue a reply writes one call, and ``parallel`` adds the
                # others one by one, each checked (a small model left to write the whole list
                # repeats its first call until max_tokens cuts it off)
                parallel=req.parallel_tool_calls and not self._continues(req),
            )
        if req.schema is None and self._prose_after_calls(req):
            return PROSE_SCHEMA
        return req.schema

    def _prose_after_calls(self, req: Request) -> bool:
        """tool_choice="none" after tool turns, on an engine that constrains and a family without
        native tool calls: the transcript shows the calls as JSON text, and a small model copies
        one instead of answering, so the reply is constrained to ``{"content": …}`` (unwrapped)."""
        return (req.tool_choice == "none" and self.profile.can_constrain
                and not self.profile.native_tools
                and any(m.tool_calls for m in req.messages))

    def _render(self, req: Request) -> list[Message]:
        """Messages as this model family should see them (tool prompt, tool-role fallback)."""
        msgs = prompts.fold_tool_turns(req.messages, self.profile)
        if self.profile.default_system and not any(m.role == "system" for m in msgs):
            msgs = [Message.system(self.profile.default_system), *msgs]
        if req.tools and not self.profile.native_tools:
            msgs = prompts.with_tool_prompt(
                msgs, req.tools, req.tool_choice, parallel=req.parallel_tool_calls
            )
        elif req.constraint is PROSE_SCHEMA:
            msgs = prompts.with_no_tools_rule(msgs)
        elif req.schema is not None:
            # shown even when decoding is constrained: small models fill values better when
            # they can read the field names and types, not only be forced into them
            msgs = prompts.with_schema_prompt(msgs, req.schema)
        return msgs

    # ---- interpretation ----------------------------------------------------------------------
    def _finish(self, req: Request, raw: RawOutput, latency: float) -> Completion:
        comp = Completion(
            model=self.name,
            usage=raw.usage,
            latency_s=latency,
            cost_usd=self.price(raw.usage),
            raw_text=raw.text,
            finish_reason="length" if raw.finish_reason == "length" else "stop",
        )
        comp.repairs.extend(raw.repairs)
        try:
            if req.tools:
                self._interpret_tools(req, raw, comp)
            elif req.schema is not None:
                self._interpret_json(req, raw, comp)
            elif req.constraint is PROSE_SCHEMA:
                value, _ = toolcalls.load_json_lenient(raw.text)
                content = value.get("content") if isinstance(value, dict) else None
                comp.text = content if isinstance(content, str) else raw.text
            else:
                comp.text = raw.text
        except ModelRetry as exc:
            # the tokens were spent all the same: callers that account cost (the router,
            # the gateway) read them from the rejected completion
            exc.completion = comp  # type: ignore[attr-defined]
            raise
        return comp

    def _interpret_tools(self, req: Request, raw: RawOutput, comp: Completion) -> None:
        if raw.tool_calls is not None:
            parsed = toolcalls.ParseResult(calls=raw.tool_calls, content=raw.text or None)
        else:
            parsed = toolcalls.parse_tool_calls(raw.text, req.tools)
        comp.repairs.extend(parsed.repairs)
        calls = _validated(parsed.calls, req.tools, comp.repairs, cut=raw.finish_reason == "length")
        if self.prune_ungrounded_optional:
            calls = _prune(calls, req, comp.repairs)
        calls = _drop_repeats(calls, comp.repairs)
        if not calls and req.tool_choice != "auto":
            raise ToolCallError(
                f"model {self.name!r} was required to call a tool but replied {raw.text!r:.200}",
                "retry, use a model that follows tool prompts, or set tool_choice='auto'",
            )
        # ids a server gave are its own (some templates check their form: Mistral's 9 letters)
        comp.tool_calls = calls if raw.tool_calls is not None else _stable_ids(calls, req)
        comp.text = parsed.content if not calls else (parsed.content or None)
        if calls:
            comp.finish_reason = "tool_calls"

    def _interpret_json(self, req: Request, raw: RawOutput, comp: Completion) -> None:
        assert req.schema is not None
        value, repairs = toolcalls.load_json_lenient(raw.text)
        comp.repairs.extend(repairs)
        errors = ["reply is not JSON"] if value is toolcalls.NOT_JSON else []
        if not errors:
            value = toolcalls.coerce_to_schema(value, req.schema, comp.repairs)
            errors = validation_errors(value, req.schema)
        if errors:
            raise OutputValidationError(
                f"model {self.name!r} reply does not match the schema ({'; '.join(errors[:3])}): "
                f"{raw.text!r:.200}",
                ("the reply was cut at max_tokens: retry with a larger max_tokens"
                 if raw.finish_reason == "length" else
                 "retry or use a stronger model (a grammar cannot enforce every JSON Schema "
                 "keyword, e.g. a wide number range)") + "; the reply is kept in raw_text",
            )
        comp.parsed = value
        comp.text = json.dumps(value, ensure_ascii=False)


def _validated(
    calls: list[ToolCall], tools: list[ToolSpec], repairs: list[str], cut: bool
) -> list[ToolCall]:
    """Each call validated; when the reply was cut off at max_tokens, a broken last call after
    good ones is dropped (it was cut, not wrong) instead of failing the whole reply."""
    out = []
    for i, call in enumerate(calls):
        try:
            out.append(toolcalls.validate_call(call, tools, repairs))
        except ToolCallError:
            if not (cut and out and i == len(calls) - 1):
                raise
            repairs.append(f"{call.name}: dropped the last call, cut off at max_tokens")
    return out


def _extractive(tools: list[ToolSpec], messages: list[Message]) -> list[ToolSpec]:
    texts = grounding.span_texts(messages)
    spans, numbers = grounding.text_spans(texts), grounding.number_mentions(texts)
    return [
        t.model_copy(update={"parameters": grounding.extractive(t.parameters, spans, numbers)})
        for t in tools
    ]


def _prune(calls: list[ToolCall], req: Request, repairs: list[str]) -> list[ToolCall]:
    evidence = grounding.evidence_from(req.messages)
    specs = {t.name: t for t in req.tools}
    pruned = [grounding.prune_ungrounded(
        c, specs[c.name], evidence, repairs, [o.arguments for o in calls if o is not c],
        varies=_varying(c, calls), alone=sum(o.name == c.name for o in calls) == 1)
        for c in calls]
    # the rules that read a reply's calls to one tool together, each call's record apart
    by_record = (
        (grounding.choices_by_record, "added optional argument {key!r} = {value!r:.60} (the "
         "request names it in this call's part)"),
        (grounding.the_same_for, "added optional argument {key!r} = {value!r:.60} (the "
         "request asks for the same as the first call)"),
        (grounding.items_by_record, "{key!r} = {value!r:.60} (the items the request names in "
         "this call's part)"))
    for name in dict.fromkeys(c.name for c in pruned):
        for rule, why in by_record:
            mine = [i for i, c in enumerate(pruned) if c.name == name]
            changed = rule(specs[name], [pruned[i].arguments for i in mine], evidence)
            for i, extra in zip(mine, changed, strict=True):
                repairs += [f"{name}: " + why.format(key=k, value=v) for k, v in extra.items()]
                pruned[i] = pruned[i].model_copy(update={"arguments": {**pruned[i].arguments,
                                                                        **extra}})
    return pruned


def _varying(call: ToolCall, calls: list[ToolCall]) -> set[str]:
    """The arguments of ``call`` that the reply's other calls to its tool give other values."""
    others = [o.arguments for o in calls if o is not call and o.name == call.name]
    return {k for k, v in call.arguments.items() if any(k not in o or o[k] != v for o in others)}


def _drop_repeats(calls: list[ToolCall], repairs: list[str]) -> list[ToolCall]:
    """Small models often repeat one call verbatim in a parallel list; once is what they mean."""
    seen: set[str] = set()
    kept = []
    for c in calls:
        key = json.dumps([c.name, c.arguments], sort_keys=True, default=str)
        if key in seen:
            repairs.append(f"{c.name}: dropped a verbatim repeat of the same call")
            continue
        seen.add(key)
        kept.append(c)
    return kept


def _check_tool_choice(choice: Any, tools: list[ToolSpec]) -> ToolChoice:
    if isinstance(choice, dict):  # OpenAI form {"type": "function", "function": {"name": ...}}
        choice = (choice.get("function") or {}).get("name", "")
    if choice in ("auto", "none"):
        return choice
    if not tools:
        raise UserError(f"tool_choice={choice!r} needs tools", "pass tools=[...] or use 'auto'")
    if choice == "required" or choice in {t.name for t in tools}:
        return choice
    raise UserError(
        f"tool_choice={choice!r} names no offered tool",
        f"use 'auto', 'required', 'none' or one of {[t.name for t in tools]!r}",
    )


def _stable_ids(calls: list[ToolCall], req: Request) -> list[ToolCall]:
    """``calls`` with ids derived from the request and each call's place in the reply. A chat
    template writes the ids of earlier calls into the next prompt, so random ids (made up when
    parsing a model's text) made the same conversation a different prompt — and possibly a
    different reply — on every run; these are the same for the same request, and differ from
    step to step (each request holds the results before it)."""
    if not calls:
        return calls
    seed = hashlib.sha256(json.dumps([m.model_dump(mode="json") for m in req.messages],
                                     sort_keys=True).encode()).hexdigest()
    return [c.model_copy(update={"id": "call_" + hashlib.sha256(
        f"{seed}:{i}".encode()).hexdigest()[:12]}) for i, c in enumerate(calls)]
