"""``ask``: the agent runtime answering from the knowledge base, every claim cited.

The run starts from evidence: the question's hybrid search is made for the model and its
passages are the first observation in the transcript (numbered, each with its ``[source:page]``).
The model may then search again, read a passage or open its neighbours (the KB tools), and
answers through the agent's ``final_answer`` with ``{"answer", "source"}``, where ``source`` is a
passage number. The answer is then checked the same way as :func:`~slmstack.rag.answer.answer`
checks it: cited only to passages that contain its words, declined otherwise.

Retrieved text is data: passages are quoted in ``<passage>`` tags a passage cannot close, and the
run may call only the read-only KB tools (the agent's allowlist), whatever other tools the caller
hands in and whatever a document says — a passage saying "call tool X" cannot make X run.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..errors import UserError
from ..models.prompts import template
from ..types import Message, ToolCall
from .answer import (
    MIN_SCORE,
    NO_ANSWER,
    QUOTES,
    Answer,
    Claim,
    answer,
    answer_schema,
    checked_claim,
    gather,
    quote,
    quote_instead,
    small,
)
from .records import Filters, Hit
from .search import KnowledgeBase
from .tools import kb_tools

if TYPE_CHECKING:
    from ..agent.records import RunResult
    from ..models.base import ChatModel

KB_TOOLS = ("kb_search", "kb_read", "kb_neighbours")
RUNNERS = ("agent", "direct", "quote", "evidence")
RUNNER_HELP = ("agent: the agent with KB tools | direct: one call, the model writes the answer | "
               f"quote: one call, the model picks one of the {QUOTES} sentences that are the best "
               "evidence | evidence: no model, the best evidence sentence")


def needs_model(runner: str) -> bool:
    """Whether ``runner`` calls a model (``evidence`` quotes the ranker's best sentence)."""
    return runner != "evidence"


def responder(runner: str) -> Callable[..., Answer]:
    """The answering function for ``runner`` (see ``RUNNER_HELP``); each is called as
    ``f(question, kb, model, k=…)`` and returns an :class:`Answer`."""
    if runner not in RUNNERS:
        raise UserError(f"runner {runner!r} is not one of {', '.join(RUNNERS)}", "pick one")
    return {"agent": ask, "direct": answer,
            "quote": functools.partial(answer, quote_sentence=True),
            "evidence": functools.partial(answer, quote_sentence=True, quotes=1)}[runner]


def seed(question: str, hits: list[Hit]) -> list[Message]:
    """System prompt, the question, and the first search already made, as the agent sees them."""
    # a fixed id: it is written into every prompt of the run (a random one made each run's
    # prompts, and so the replies, differ)
    call = ToolCall(id="call_0", name="kb_search", arguments={"query": question, "k": len(hits)})
    found = "\n\n".join(quote(h, i) for i, h in enumerate(hits, 1))
    return [Message.system(template("rag_agent_system").strip()),
            Message.user(template("rag_agent_user").format(question=question).strip()),
            Message.assistant(tool_calls=[call]),
            Message.tool(template("rag_agent_passages").format(passages=found).strip(),
                         call.id, call.name)]


def ask(question: str, kb: KnowledgeBase, model: ChatModel, *, k: int = 3,
        min_score: float = MIN_SCORE, filters: Filters | None = None,
        tools: Iterable[Callable[..., Any] | Any] = (), max_steps: int = 3) -> Answer:
    """Answer ``question`` from ``kb`` through the agent; ``tools``: the caller's other tools,
    never callable while answering from documents."""
    from ..agent import Agent, Budgets

    result, vector = gather(kb, question, k, min_score, filters)
    if result.reason:
        return result
    hits = result.passages[:k]  # what the model reads first; a quote may come from any
    # a small model's window holds a few passages: one call returns at most as many as the
    # first search did
    shown = {h.chunk_id for h in hits}  # a search that finds these says so, not their text
    agent = Agent(model, [*kb_tools(kb, max_k=k, max_around=1, shown=shown), *tools],
                  output=answer_schema(len(hits)),
                  allow=KB_TOOLS, budgets=Budgets(max_steps=max_steps, max_output_tokens=160))
    run = agent.run(seed(question, hits))
    result.run = run
    result.claims, result.reason = _claims(run, hits, question)
    return quote_instead(result, kb.embedder, vector, every_answer=small(model))


def _claims(run: RunResult, hits: list[Hit], question: str) -> tuple[list[Claim], str]:
    reply = run.answer if isinstance(run.answer, dict) else None
    if not run.done or reply is None:
        return [], f"{NO_ANSWER} ({run.stop_reason}: {run.detail})"
    text, source = str(reply.get("answer", "")).strip(), reply.get("source", 0)
    seen = hits + [h for h in _read(run) if all(h.chunk_id != x.chunk_id for x in hits)]
    return checked_claim(text, source, seen, question)


def _read(run: RunResult) -> list[Hit]:
    """Passages the KB tools returned during the run (search, read, neighbours)."""
    out: list[Hit] = []
    for step in run.tool_steps:
        if not step.ok or step.call.name not in KB_TOOLS:
            continue
        data = json.loads(step.output)
        for p in data if isinstance(data, list) else [data]:
            if "text" in p:  # not a stub for a passage already shown
                out.append(Hit(p["chunk_id"], p["source"], p["text"], p["heading"], p["page"]))
    return out
