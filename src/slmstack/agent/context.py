"""Context budget: fold old steps so the transcript fits the model's window.

The transcript is ``head`` (system + the task) followed by *turns* (an assistant message and the
messages answering it). When it would overflow, the oldest turns are folded, one at a time, into
a compact memory appended to the task: each call is kept as one line, and the results that are
*cited* — referred to later by id, feeding a later call's arguments, or from a ``keep`` tool —
stay verbatim with their ids. The newest turn is never folded or cut: its results are what the
model is about to use. If even that does not fit, ``ContextFull`` is raised (nothing is silently
truncated).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..models.prompts import template
from ..types import Message, ToolCall

TokenCounter = Callable[[str], int]
_PER_MESSAGE = 4  # role markers and separators
_MIN_CITE = 3  # shorter argument values are too common to prove a result was used


def estimate_tokens(text: str) -> int:
    """A deliberately generous estimate (BPE tokenisers average 3.5-4.5 characters per token)."""
    return len(text) // 3 + 1


class ContextFull(Exception):
    """The newest step alone does not fit the context window."""


@dataclass
class Folded:
    messages: list[Message]
    kept: list[str] = field(default_factory=list)  # folded results kept verbatim (ids)
    dropped: list[str] = field(default_factory=list)  # folded results dropped (ids)


def message_tokens(m: Message, count: TokenCounter) -> int:
    text = m.content or ""
    if m.tool_calls:
        text += json.dumps([[c.name, c.arguments] for c in m.tool_calls], default=str)
    return count(text) + _PER_MESSAGE


def transcript_tokens(messages: Iterable[Message], count: TokenCounter) -> int:
    return sum(message_tokens(m, count) for m in messages)


def split_turns(messages: list[Message]) -> tuple[list[Message], list[list[Message]]]:
    """``(head, turns)``: head runs through the first user message; each turn starts at an
    assistant message."""
    first_user = next((i for i, m in enumerate(messages) if m.role == "user"), len(messages) - 1)
    head, turns = messages[: first_user + 1], []
    for m in messages[first_user + 1 :]:
        if m.role == "assistant" or not turns:
            turns.append([m])
        else:
            turns[-1].append(m)
    return head, turns


def fit(
    messages: list[Message],
    budget: int,
    count: TokenCounter = estimate_tokens,
    keep_ids: Iterable[str] = (),
) -> Folded:
    """The transcript as it can be sent within ``budget`` tokens (see the module docstring)."""
    if transcript_tokens(messages, count) <= budget:
        return Folded(list(messages))
    head, turns = split_turns(messages)
    cited = cited_ids(turns) | set(keep_ids)
    for k in _fold_points(head, turns, cited, budget, count):
        folded = _fold(head, turns[:k], turns[k:], cited)
        if transcript_tokens(folded.messages, count) <= budget:
            return folded
    bare = _fold(head, turns[:-1], turns[-1:], cited, notes=False) if len(turns) > 1 else None
    if bare and transcript_tokens(bare.messages, count) <= budget:
        return bare
    raise ContextFull(
        f"the task, the cited evidence and the newest step need more than {budget} tokens"
    )


def _fold_points(
    head: list[Message],
    turns: list[list[Message]],
    cited: set[str],
    budget: int,
    count: TokenCounter,
) -> Iterable[int]:
    """How many old turns to fold, smallest first, skipping those that estimate over budget
    (the estimate is additive, so each candidate costs O(1); the caller checks exactly)."""
    raw = [transcript_tokens(t, count) for t in turns]
    folded = [_memory_tokens(t, cited, count) for t in turns]
    fixed = transcript_tokens(head, count) + count(template("agent_memory"))
    kept_raw, memory = sum(raw), 0
    for k in range(1, len(turns)):
        kept_raw -= raw[k - 1]
        memory += folded[k - 1]
        if fixed + memory + kept_raw <= budget + 8 * k:  # slack for rounding per line
            yield k


def _memory_tokens(turn: list[Message], cited: set[str], count: TokenCounter) -> int:
    calls = {c.id: c for m in turn for c in m.tool_calls}
    lines = [
        _item(calls.get(m.tool_call_id or ""), m, keep=(m.tool_call_id or "") in cited)
        for m in turn
        if m.role == "tool"
    ]
    return count("\n".join(lines)) + 1 if lines else 0


def _fold(
    head: list[Message],
    old: list[list[Message]],
    rest: list[list[Message]],
    cited: set[str],
    *,
    notes: bool = True,
) -> Folded:
    """``notes=False`` lists the dropped calls on one line instead of one line each."""
    items, kept, dropped, brief = [], [], [], []
    calls = {c.id: c for turn in old for m in turn for c in m.tool_calls}
    for m in (m for turn in old for m in turn if m.role == "tool"):
        cid = m.tool_call_id or ""
        call = calls.get(cid)
        (kept if cid in cited else dropped).append(cid)
        if cid in cited or notes:
            items.append(_item(call, m, keep=cid in cited))
        else:
            brief.append(_signature(call, m))
    if brief:
        items.append("- not kept (not used later): " + ", ".join(brief))
    memory = template("agent_memory").format(items="\n".join(items)).rstrip()
    task = head[-1]
    new_task = task.model_copy(update={"content": f"{task.content or ''}\n\n{memory}"})
    out = [*head[:-1], new_task, *(m for turn in rest for m in turn)]
    return Folded(out, kept, dropped)


def _signature(call: ToolCall | None, result: Message) -> str:
    name = call.name if call else (result.name or "tool")
    args = json.dumps(call.arguments, ensure_ascii=False, default=str) if call else "{}"
    return f"{name}({args})"


def _item(call: ToolCall | None, result: Message, *, keep: bool) -> str:
    head = f"- {_signature(call, result)} [{result.tool_call_id}]"
    text = result.content or ""
    if keep:
        return f"{head} → {text}"
    if text.startswith("Error:"):
        return f"{head} → failed"
    return f"{head} → result not kept ({len(text)} characters, not used later)"


def cited_ids(turns: list[list[Message]]) -> set[str]:
    """Ids of tool results that later turns refer to: by id, or by reusing one of their values
    as a call argument."""
    cited: set[str] = set()
    results: list[tuple[str, str]] = []  # (id, text) seen so far
    for turn in turns:
        for m in turn:
            if m.role == "assistant":
                cited |= _referenced(m, results)
            elif m.role == "tool" and m.tool_call_id:
                results.append((m.tool_call_id, m.content or ""))
    return cited


def _referenced(m: Message, results: list[tuple[str, str]]) -> set[str]:
    text = m.content or ""
    values = [v for c in m.tool_calls for v in _scalars(c.arguments)]
    out = set()
    for rid, body in results:
        if rid in text or any(_mentions(body, v) for v in values):
            out.add(rid)
    return out


def _scalars(value: Any) -> Iterable[str]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _scalars(v)
    elif isinstance(value, list):
        for v in value:
            yield from _scalars(v)
    elif isinstance(value, bool) or value is None:
        return
    else:
        s = str(value).strip()
        if len(s) >= _MIN_CITE:
            yield s


def _mentions(body: str, value: str) -> bool:
    if value.lower() not in body.lower():
        return False
    return re.search(rf"(?<![\w.]){re.escape(value)}(?![\w])", body, re.IGNORECASE) is not None
