"""A deterministic scripted model: a test double for agent/router control flow, never for users.

Each call consumes the next reply of the script. A reply is the raw text the engine "produced"
(it goes through the same tool-call parsing, repair and validation as a real model's text), a
ready ``Completion``, an exception to raise, or a callable ``(Request) -> str | Completion``.
The requests it saw are kept in ``calls`` so tests can assert on what the model was shown.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from ..errors import UserError
from ..types import Completion, Usage
from .base import BaseChatModel, RawOutput, Request
from .catalog import ModelProfile

Reply = str | Completion | BaseException | Callable[[Request], "str | Completion"]


class ScriptedModel(BaseChatModel):
    def __init__(
        self,
        replies: Iterable[Reply],
        *,
        name: str = "scripted",
        profile: ModelProfile | None = None,
        repeat_last: bool = False,
    ) -> None:
        self.replies = list(replies)
        self.name = name
        self.profile = profile or ModelProfile(name=name, can_constrain=True, context_length=8192)
        self.repeat_last = repeat_last
        self.calls: list[Request] = []
        self._next = 0

    def _take(self, req: Request) -> str | Completion:
        if self._next >= len(self.replies):
            if not (self.repeat_last and self.replies):
                raise UserError(
                    f"scripted model {self.name!r} ran out of replies after {self._next} calls",
                    "give the script more replies or set repeat_last=True",
                )
            reply = self.replies[-1]
        else:
            reply = self.replies[self._next]
        self._next += 1
        if isinstance(reply, BaseException):
            raise reply
        return reply(req) if callable(reply) else reply

    def complete(self, messages: Any, **kwargs: Any) -> Completion:
        req = self.prepare(messages, **kwargs)
        self.calls.append(req)
        t0 = time.perf_counter()
        reply = self._take(req)
        if isinstance(reply, Completion):
            return reply
        return self._finish(req, _raw(reply, req), time.perf_counter() - t0)

    def _generate(self, req: Request) -> RawOutput:  # used by stream()
        self.calls.append(req)
        reply = self._take(req)
        text = reply.text or "" if isinstance(reply, Completion) else reply
        return _raw(text, req)


def _raw(text: str, req: Request) -> RawOutput:
    words = sum(len(m.content or "") for m in req.messages) // 4
    return RawOutput(text=text, usage=Usage(input_tokens=words, output_tokens=len(text) // 4 + 1))
