"""The agent loop: a generator of typed step records.

model call → tool calls (run in parallel within a turn) → observations → … → an answer that
validates. Every record goes to the ``on_step`` hook unchanged, then to the caller of ``iter``.
Guards stop the run with an explicit reason: budgets, loops (after one corrective message),
repeated invalid output, a context window too small even after folding.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

from pydantic import BaseModel

from ..errors import ModelRetry, OutputValidationError, SlmstackError
from ..models.base import ChatModel
from ..models.grounding import evidence_from, ungrounded_required
from ..models.prompts import template
from ..types import Completion, Message, ToolCall, ToolSpec, Usage
from .budgets import Budgets, Spend
from .context import ContextFull, estimate_tokens, fit
from .loopguard import LoopGuard, LoopPolicy, signature
from .mcp import MCPConnection, MCPServerSpec
from .output import FINAL, OutputSpec
from .records import FinalStep, GuardStep, ModelStep, RunResult, Step, StopReason, ToolStep
from .retrieval import ToolGate
from .tools import Tool, ToolOutcome, ToolRegistry, as_tool
from .verdict import Verifier, VerifierHook, VerifierPolicy

_RESERVE = 64  # tokens kept free beside the transcript and the reply
ANSWER_SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "string"}},
    "required": ["answer"],
    "additionalProperties": False,
}


class Agent:
    """A model, its tools and its guards. ``run(task)`` → ``RunResult``; ``iter(task)`` yields
    the step records as they happen. Use ``with Agent(...) as agent`` to keep MCP sessions open
    across runs (otherwise each run opens and closes them).

    ``tools``: typed functions, ``Tool``s, or bare specs (external tools: the run hands their
    calls to the caller). ``output``: a pydantic model or JSON Schema the answer must validate
    against (offered as a ``final_answer`` tool). ``allow``: tool-name patterns (fnmatch).
    ``mcp``: servers whose tools join the registry. ``context_length``: defaults to the model
    profile's. ``tool_gate``: offer only tools related to the task (lets small models decline).
    ``verifier`` + ``verifier_policy``: scored into the final record (see ``verdict``).
    ``grounding="decline"``: a call whose required arguments are not found in the task or the
    tool results (see ``models.grounding``) is not made; when no call is left, the run ends with
    an answer that says which values are missing instead of acting on made-up ones.
    """

    def __init__(
        self,
        model: ChatModel,
        tools: Iterable[Tool | Callable[..., Any] | Any] = (),
        *,
        output: type[BaseModel] | dict[str, Any] | None = None,
        system: str | None = None,
        budgets: Budgets | dict[str, Any] | None = None,
        loop: LoopPolicy | dict[str, Any] | None = None,
        allow: Iterable[str] | None = None,
        mcp: Sequence[MCPServerSpec] = (),
        context_length: int | None = None,
        count_tokens: Callable[[str], int] = estimate_tokens,
        parallel_tool_calls: bool = True,
        temperature: float = 0.0,
        on_step: Callable[[Step], None] | None = None,
        tool_gate: ToolGate | None = None,
        verifier: Verifier | None = None,
        verifier_policy: VerifierPolicy = "off",
        grounding: Literal["off", "decline"] = "off",
    ) -> None:
        self.model = model
        self.allow = list(allow) if allow is not None else None
        self.local_tools = [as_tool(t) for t in tools]
        self.output = OutputSpec(output) if output is not None else None
        self.system = template("agent_system").strip() if system is None else system
        self.budgets = budgets if isinstance(budgets, Budgets) else Budgets(**(budgets or {}))
        self.loop_policy = loop if isinstance(loop, LoopPolicy) else LoopPolicy(**(loop or {}))
        self.mcp_specs = list(mcp)
        self.context_length = context_length or model.profile.context_length  # type: ignore[attr-defined]
        self.count_tokens = count_tokens
        self.parallel_tool_calls = parallel_tool_calls
        self.temperature = temperature
        self.on_step = on_step
        self.tool_gate = tool_gate
        self.grounding = grounding
        self.verdict = VerifierHook(verifier=verifier, policy=verifier_policy)
        self._stack: contextlib.ExitStack | None = None
        self._registry: ToolRegistry | None = None
        ToolRegistry(self.local_tools, allow=self.allow)  # name clashes fail here, not mid-run

    # ---- sessions --------------------------------------------------------------------------------
    def __enter__(self) -> Agent:
        self._stack = contextlib.ExitStack()
        try:
            self._registry = self._open(self._stack)
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._stack is not None:
            self._stack.close()
        self._stack, self._registry = None, None

    def _open(self, stack: contextlib.ExitStack) -> ToolRegistry:
        registry = ToolRegistry(self.local_tools, allow=self.allow)
        for spec in self.mcp_specs:
            conn = stack.enter_context(MCPConnection(spec))
            for t in conn.tools():
                registry.add(t)
        return registry

    @property
    def tools(self) -> ToolRegistry:
        """The tools a run offers (MCP tools only while the agent is entered)."""
        if self._registry is not None:
            return self._registry
        return ToolRegistry(self.local_tools, allow=self.allow)

    # ---- running ---------------------------------------------------------------------------------
    def run(self, task: str | Sequence[Message]) -> RunResult:
        box: list[_Run] = []
        steps = list(self._drive(task, box))
        final = steps[-1]
        assert isinstance(final, FinalStep)
        return _result(steps, final, box[0])

    def iter(self, task: str | Sequence[Message]) -> Iterator[Step]:
        return self._drive(task, None)

    def _drive(self, task: str | Sequence[Message], box: list[_Run] | None) -> Iterator[Step]:
        with contextlib.ExitStack() as stack:
            registry = self._registry if self._registry is not None else self._open(stack)
            run = _Run(self, registry, _task_messages(task, self.system))
            if box is not None:
                box.append(run)
            for step in run.steps():
                if self.on_step is not None:
                    self.on_step(step)
                yield step


def _task_messages(task: str | Sequence[Message], system: str) -> list[Message]:
    msgs = [Message.user(task)] if isinstance(task, str) else list(task)
    if system and not any(m.role == "system" for m in msgs):
        msgs = [Message.system(system), *msgs]
    return msgs


def _result(steps: list[Step], final: FinalStep, run: _Run) -> RunResult:
    usage, cost = Usage(), 0.0
    for s in steps:
        usage, cost = usage + s.usage, cost + s.cost_usd
    return RunResult(
        answer=final.answer,
        stop_reason=final.stop_reason,
        detail=final.detail,
        steps=steps,
        usage=usage,
        cost_usd=cost,
        wall_s=final.wall_s,
        pending_calls=final.pending_calls,
        messages=run.transcript,
    )


class _Stop(Exception):
    def __init__(self, reason: StopReason, detail: str, answer: Any = None, **extra: Any) -> None:
        super().__init__(detail)
        self.reason, self.detail, self.answer, self.extra = reason, detail, answer, extra


class _Run:
    """The state of one run; ``steps()`` is the loop."""

    def __init__(self, agent: Agent, registry: ToolRegistry, messages: list[Message]) -> None:
        self.agent = agent
        self.registry = registry
        self.transcript = messages
        self.spend = Spend(agent.budgets)
        self.guard = LoopGuard(agent.loop_policy)
        self.records: list[Step] = []
        self.retries = 0
        self.force_answer = False  # set by a second loop warning: the next turn has no tools
        self.mask: set[str] = set()  # set by a first loop warning: tools not offered next turn
        self.must_call = False  # a confident tool gate: a first reply in words is asked again
        self.call_asked = False  # … and was: the next reply must be a call
        self.warned = ""  # what the loop warning was about
        self.done_calls: dict[str, ToolOutcome] = {}  # successful calls, by signature
        self.reused: set[str] = set()  # ids of calls answered from done_calls
        self.last_fold: tuple[str, ...] = ()
        self.specs = registry.specs() + ([agent.output.tool] if agent.output else [])
        self.external = {t.name for t in registry if t.external}

    def _add(self, step: Step) -> Step:
        self.records.append(step)
        return step

    def _index(self) -> int:
        return len(self.records)

    # ---- the loop --------------------------------------------------------------------------------
    def steps(self) -> Iterator[Step]:
        try:
            yield from self._select_tools()
            while True:
                exceeded = self.spend.exceeded()
                if exceeded:
                    raise _Stop(*exceeded, answer=self._partial())
                yield from self._turn()
        except _Stop as stop:
            yield self._add(self._final(stop))

    def _select_tools(self) -> Iterator[Step]:
        """With a tool gate, offer only the tools related to the task (maybe none: decline)."""
        gate = self.agent.tool_gate
        candidates = [s for s in self.specs if s.name != FINAL]
        if gate is None or not candidates:
            return
        task = "\n".join(m.content or "" for m in self.transcript if m.role == "user")
        keep, scores = gate.select(task, candidates, parallel=self.agent.parallel_tool_calls)
        self.specs = [s for s in self.specs if s.name in keep or s.name == FINAL]
        shown = ", ".join(f"{n}={v:.2f}" for n, v in sorted(scores.items(), key=lambda x: -x[1]))
        detail = f"offered {keep or 'no tools'} (similarity {shown}; threshold {gate.threshold})"
        if keep and gate.confident is not None and scores[keep[0]] >= gate.confident:
            self.must_call = True
            detail += f"; {keep[0]} ≥ {gate.confident}: a first reply in words is asked again"
        yield self._add(GuardStep(index=self._index(), action="select", detail=detail))

    def _turn(self) -> Iterator[Step]:
        messages, fold = self._fitted()
        if fold is not None:
            yield self._add(fold)
        last = self._last_step()
        forced, masked = self.force_answer or last, self.mask
        self.mask = set()
        step, comp = self._call_model(messages, forced, masked)
        yield self._add(step)
        if forced:
            yield from self._forced_answer(step, comp, last and not self.force_answer)
            return
        if comp is None:
            yield from self._retry(step.error or "invalid reply")
            return
        if not comp.tool_calls and self._call_instead():
            yield self._add(GuardStep(
                index=self._index(), action="retry",
                detail="answered in words although a tool is plainly related: asked again, "
                       "for a call"))
            return
        self.transcript.append(comp.message())
        if not comp.tool_calls:
            yield from self._text_answer(comp)
            return
        yield from self._act(comp.tool_calls)

    def _last_step(self) -> bool:
        """Whether the next model call is the last the step budget allows and tools have already
        answered: it is offered no tools but the answer, so a run that gathered evidence ends
        with an answer built on it instead of one more call it has no step left to read. (A
        run whose calls all failed keeps its last step for one more call.)"""
        if self.spend.steps == 0 or self.spend.steps != self.agent.budgets.max_steps - 1:
            return False
        return any(isinstance(s, ToolStep) and s.ok for s in self.records)

    def _forced_answer(
        self, step: ModelStep, comp: Completion | None, budget: bool = False
    ) -> Iterator[Step]:
        """After a loop warning, or on the budget's last step, the model gets one turn with no
        tool but the answer; calling again (or not answering in the answer format) means it is
        still looping (or, on the last step, that it ran out of steps)."""
        wants_call = self.agent.output is not None  # the answer is a final_answer call
        if comp is None or bool(comp.tool_calls) != wants_call:
            if budget:
                b = self.agent.budgets.max_steps
                raise _Stop("max_steps", f"used all {b} model steps; no answer on the last one",
                            self._partial())
            raise _Stop("loop", f"{self.warned}; no answer after the warning", self._partial())
        self.transcript.append(comp.message())
        if self.agent.output is not None:
            yield from self._final_answer(comp.tool_calls[-1], forced=True)
            return
        answer = comp.parsed.get("answer") if isinstance(comp.parsed, dict) else comp.text
        raise _Stop("done", "the model answered when told to stop calling tools", answer)

    # ---- context ---------------------------------------------------------------------------------
    def _fitted(self) -> tuple[list[Message], GuardStep | None]:
        budget = self._context_budget()
        keep = [s.call.id for s in self.records if isinstance(s, ToolStep) and self._keeps(s)]
        try:
            folded = fit(self.transcript, budget, self.agent.count_tokens, keep)
        except ContextFull as exc:
            raise _Stop("max_tokens", f"context window full: {exc}", self._partial()) from None
        if not folded.dropped and not folded.kept:
            return folded.messages, None
        key = tuple(folded.dropped)
        if key == self.last_fold:
            return folded.messages, None
        self.last_fold = key
        detail = f"folded {len(folded.kept) + len(folded.dropped)} old results to fit {budget}"
        step = GuardStep(
            index=self._index(), action="fold", detail=detail,
            kept=folded.kept, dropped=folded.dropped,
        )
        return folded.messages, step

    def _keeps(self, s: ToolStep) -> bool:
        t = self.registry.get(s.call.name)
        return t is not None and t.keep and s.ok

    def _context_budget(self) -> int:
        count = self.agent.count_tokens
        tools_text = "".join(s.model_dump_json() for s in self.specs)
        overhead = count(tools_text) + _RESERVE
        return self.agent.context_length - self.spend.output_tokens() - overhead

    # ---- model -----------------------------------------------------------------------------------
    def _call_model(
        self, messages: list[Message], forced: bool, masked: set[str]
    ) -> tuple[ModelStep, Completion | None]:
        specs, choice, schema = self._offer(forced, masked)
        step = ModelStep(
            index=self._index(),
            model=getattr(self.agent.model, "name", ""),
            messages=messages,
            tool_names=[s.name for s in specs],
            tool_choice=choice,
        )
        t0 = time.perf_counter()
        try:
            comp = self.agent.model.complete(
                messages,
                tools=specs or None,
                tool_choice=choice,
                schema=schema,
                max_tokens=self.spend.output_tokens(),
                temperature=self.agent.temperature,
                # one answer: a final_answer turn is never continued into more calls
                parallel_tool_calls=self.agent.parallel_tool_calls and choice != FINAL,
            )
        except ModelRetry as exc:
            comp, step.error = None, str(exc)
        except SlmstackError as exc:
            raise _Stop("error", f"model call failed: {exc}", self._partial()) from None
        step.duration_s = time.perf_counter() - t0
        self.spend.steps += 1
        if comp is not None:
            step.completion, step.usage, step.cost_usd = comp, comp.usage, comp.cost_usd
            self.spend.add(comp.usage, comp.cost_usd)
        return step, comp

    def _offer(
        self, forced: bool, masked: set[str]
    ) -> tuple[list[ToolSpec], str, dict[str, Any] | None]:
        """(tools, tool_choice, schema) for the next model call."""
        output = self.agent.output
        if forced:
            if output is not None:
                return [output.tool], FINAL, None
            return [], "auto", ANSWER_SCHEMA
        specs = [s for s in self.specs if s.name not in masked]
        again = self.call_asked and not self._tools_answered()
        return specs, "required" if output is not None or (again and specs) else "auto", None

    def _tools_answered(self) -> bool:
        return any(m.role == "tool" for m in self.transcript)

    def _call_instead(self) -> bool:
        """Whether a reply in words is to be asked again as a call (once, before any tool has
        answered, when the tool gate found a plainly related tool)."""
        if not self.must_call or self.call_asked or self._tools_answered() \
                or self.agent.output is not None:
            return False
        self.call_asked = True
        return True

    def _retry(self, error: str, prompt: str = "agent_retry") -> Iterator[Step]:
        self.retries += 1
        if self.retries > self.agent.budgets.max_retries:
            raise _Stop("error", f"gave up after {self.retries} invalid replies: {error}",
                        self._partial())
        note = Message.user(template(prompt).format(error=error).strip())
        self.transcript.append(note)
        yield self._add(GuardStep(index=self._index(), action="retry", detail=error, message=note))

    # ---- answers ---------------------------------------------------------------------------------
    def _text_answer(self, comp: Completion) -> Iterator[Step]:
        """The model answered instead of calling: done, once the answer validates."""
        if self.agent.output is None:
            raise _Stop("done", "the model answered", comp.text or "")
        try:
            answer = self.agent.output.from_text(comp.text)
        except OutputValidationError as exc:
            yield from self._retry(str(exc), "agent_output_retry")
            return
        raise _Stop("done", "the answer validates", answer)

    # ---- tools -----------------------------------------------------------------------------------
    def _act(self, calls: list[ToolCall]) -> Iterator[Step]:
        final = [c for c in calls if c.name == FINAL]
        if final:
            yield from self._final_answer(final[-1])
            return
        if self.agent.grounding == "decline":
            calls = yield from self._grounded(calls)
        pending = [c for c in calls if c.name in self.external]
        if pending:
            yield from self._external(pending)
            return
        outcomes = self._run_tools(calls)
        steps = []
        for call, (outcome, secs) in zip(calls, outcomes, strict=True):
            steps.append(self._tool_step(call, outcome, secs))
            self.transcript.append(Message.tool(outcome.output, call.id, call.name))
        for s in steps:
            yield self._add(s)
        yield from self._after_tools(calls, [o for o, _ in outcomes])

    def _grounded(self, calls: list[ToolCall]) -> Iterator[Step]:
        """The calls whose required arguments the evidence supports; none left: decline."""
        evidence = evidence_from(self.transcript)
        specs = {s.name: s for s in self.specs}
        kept, missing = [], []
        for call in calls:
            spec = specs.get(call.name)
            names = ungrounded_required(call, spec, evidence) if spec is not None else []
            if names:
                missing.append(f"{call.name} needs {', '.join(names)}")
            else:
                kept.append(call)
        if not missing:
            return calls
        detail = "; ".join(missing)
        yield self._add(GuardStep(
            index=self._index(), action="ground",
            detail=f"values not found in the request: {detail}",
        ))
        if kept:
            return kept
        answer = template("agent_decline").format(missing=detail).strip()
        raise _Stop("done", f"declined: no value given for {detail}", answer)

    def _run_tools(self, calls: list[ToolCall]) -> list[tuple[ToolOutcome, float]]:
        def timed(call: ToolCall) -> tuple[ToolOutcome, float]:
            done = self.done_calls.get(signature([call]))
            if done is not None:  # the same call already succeeded in this run: reuse it
                self.reused.add(call.id)
                return done, 0.0
            t0 = time.perf_counter()
            outcome = self.registry.invoke(call)
            if outcome.ok:
                self.done_calls[signature([call])] = outcome
            return outcome, time.perf_counter() - t0

        if len(calls) == 1:
            return [timed(calls[0])]
        with ThreadPoolExecutor(max_workers=min(8, len(calls))) as pool:
            return list(pool.map(timed, calls))

    def _tool_step(self, call: ToolCall, outcome: ToolOutcome, secs: float) -> ToolStep:
        t = self.registry.get(call.name)
        return ToolStep(
            index=self._index(), call=call, source=t.source if t else "unknown",
            ok=outcome.ok, output=outcome.output, error=outcome.error, duration_s=secs,
        )

    def _after_tools(self, calls: list[ToolCall], outcomes: list[ToolOutcome]) -> Iterator[Step]:
        if all(not o.ok for o in outcomes):
            self.retries += 1
            if self.retries > self.agent.budgets.max_retries:
                errors = "; ".join(o.error or "" for o in outcomes)
                raise _Stop("error", f"every call failed {self.retries} times: {errors}",
                            self._partial())
        else:
            self.retries = 0
        known = all(c.id in self.reused for c in calls)
        found = self.guard.observe(calls, [o.output for o in outcomes], known=known)
        if found is None:
            return
        self.warned = f"loop detected ({found.kind}): {found.detail}"
        if self.guard.should_stop():
            raise _Stop("loop", self.warned, self._partial())
        note = Message.user(template("agent_loop_warning").format(detail=found.detail).strip())
        self.transcript.append(note)
        others = [s for s in self.specs if s.name not in found.tools and s.name != FINAL]
        if self.guard.detections >= 2 or not others:
            self.force_answer = True
        else:
            self.mask = set(found.tools)
        yield self._add(GuardStep(index=self._index(), action="warn", detail=found.detail,
                                  message=note))

    def _final_answer(self, call: ToolCall, forced: bool = False) -> Iterator[Step]:
        assert self.agent.output is not None
        try:
            answer = self.agent.output.validate(call.arguments)
        except OutputValidationError as exc:
            if forced:
                why = self.warned or "last step of the budget"
                raise _Stop("loop" if self.warned else "max_steps",
                            f"{why}: no valid answer ({exc})", self._partial()) from None
            text = template("agent_output_retry").format(error=exc).strip()
            self.transcript.append(Message.tool(text, call.id, call.name))
            yield from self._retry(str(exc), "agent_output_retry")
            return
        raise _Stop("done", "the answer validates", answer)

    def _external(self, calls: list[ToolCall]) -> Iterator[Step]:
        bad = [(c, self.registry.invoke(c)) for c in calls]
        bad = [(c, o) for c, o in bad if not o.ok]
        if not bad:
            raise _Stop("done", "calls handed to the caller", None, pending_calls=calls)
        for c, o in bad:
            self.transcript.append(Message.tool(o.output, c.id, c.name))
            yield self._add(self._tool_step(c, o, 0.0))
        yield from self._retry("; ".join(o.error or "" for _, o in bad))

    # ---- the end ---------------------------------------------------------------------------------
    def _partial(self) -> Any:
        """The best answer so far: the model's last words, else the evidence gathered."""
        for m in reversed(self.transcript):
            if m.role == "assistant" and m.content and not m.tool_calls:
                return m.content
        evidence = [
            {"id": s.call.id, "tool": s.call.name, "result": s.output}
            for s in self.records
            if isinstance(s, ToolStep) and s.ok
        ]
        return evidence or None

    def _final(self, stop: _Stop) -> FinalStep:
        final = FinalStep(
            index=self._index(),
            stop_reason=stop.reason,
            detail=stop.detail,
            answer=stop.answer,
            pending_calls=stop.extra.get("pending_calls", []),
            wall_s=self.spend.wall_s,
        )
        final.verdict = self.agent.verdict.judge([*self.records, final])
        if final.verdict is not None and final.verdict["action"] == "block":
            final.answer = None
            final.detail += (f"; answer withheld: the verifier scored the reasoning "
                             f"{final.verdict['score']:.2f} < {final.verdict['threshold']:g}")
        return final
