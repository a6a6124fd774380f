"""The typed records an agent run is made of: one per model call, tool call, guard action and
the final result. The loop yields them, the ``on_step`` hook receives them unchanged, and the
trace store persists exactly these (so the verifier and distillation read the same schema)."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from ..types import Completion, Message, ToolCall, Usage

StopReason = Literal["done", "loop", "max_steps", "max_tokens", "timeout", "budget", "error"]
STOP_REASONS: tuple[str, ...] = StopReason.__args__  # type: ignore[attr-defined]


class _Step(BaseModel):
    index: int  # position in the run, 0-based, over all records
    started_at: float = Field(default_factory=time.time)  # epoch seconds
    duration_s: float = 0.0
    usage: Usage = Field(default_factory=Usage)
    cost_usd: float = 0.0


class ModelStep(_Step):
    """One call to the model: what it was shown, what it answered (or why that was rejected)."""

    kind: Literal["model"] = "model"
    model: str = ""
    messages: list[Message]  # exactly what was sent (after folding)
    tool_names: list[str] = Field(default_factory=list)  # tools offered on this call
    tool_choice: str = "auto"
    completion: Completion | None = None
    error: str | None = None  # a ModelRetry message fed back to the model instead


class ToolStep(_Step):
    """One tool call and the observation the model gets back."""

    kind: Literal["tool"] = "tool"
    call: ToolCall
    source: str = "python"  # python | mcp:<server> | external
    ok: bool = True
    output: str = ""  # the observation text, as the model sees it
    error: str | None = None  # what was wrong (invalid arguments, exception), when not ok


GuardAction = Literal["select", "warn", "fold", "retry", "ground"]


class GuardStep(_Step):
    """The runtime stepping in: tool selection, a loop warning, a context fold, a retry, calls
    left out because their arguments were not grounded."""

    kind: Literal["guard"] = "guard"
    action: GuardAction
    detail: str
    message: Message | None = None  # what was added to the transcript, if anything
    kept: list[str] = Field(default_factory=list)  # fold: tool-call ids kept verbatim
    dropped: list[str] = Field(default_factory=list)  # fold: tool-call ids dropped


class FinalStep(_Step):
    """The end of the run: the answer (or the partial result), and why the run stopped."""

    kind: Literal["final"] = "final"
    stop_reason: StopReason
    detail: str = ""
    answer: Any = None
    pending_calls: list[ToolCall] = Field(default_factory=list)  # calls to external tools
    verdict: dict[str, Any] | None = None  # filled by the verifier policy when one is set
    wall_s: float = 0.0  # the whole run, start to stop


Step = Annotated[ModelStep | ToolStep | GuardStep | FinalStep, Field(discriminator="kind")]


class RunResult(BaseModel):
    """What ``Agent.run`` returns: the answer, why the run stopped, and everything it cost."""

    answer: Any = None
    stop_reason: StopReason
    detail: str = ""
    steps: list[Step] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    cost_usd: float = 0.0
    wall_s: float = 0.0
    pending_calls: list[ToolCall] = Field(default_factory=list)
    messages: list[Message] = Field(default_factory=list)  # the full transcript, unfolded

    @property
    def done(self) -> bool:
        return self.stop_reason == "done"

    @property
    def tool_steps(self) -> list[ToolStep]:
        return [s for s in self.steps if isinstance(s, ToolStep)]

    @property
    def model_steps(self) -> list[ModelStep]:
        return [s for s in self.steps if isinstance(s, ModelStep)]
