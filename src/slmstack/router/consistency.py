"""A self-consistency verifier for escalation: re-ask the same model a few times with sampling and
score the answer by how many samples agree with it (a model that is unsure of an answer rarely
repeats it). Needs no labels and no larger model, and costs only calls on the tier being judged.

Agreement is ``slmstack.distill.score.agreement`` for tool calls (BFCL's checker, the answer as
the expected call) and structured output; for free text, the final numbers of the two answers
when the answer has one, else the normalised text.

    verifier = AgreementVerifier(models, samples=2)   # models: {uri: ChatModel} or uri -> model
    router = build_router(settings, models=models, verifier=verifier)
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import SlmstackError
from ..store.records import CallRecord
from ..types import Completion
from .recording import response_of

_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


def final_number(text: str | None) -> str | None:
    """The last number in a text, without thousands separators or a trailing '.0'."""
    found = _NUMBER.findall(text or "")
    if not found:
        return None
    value = found[-1].replace(",", "")
    return value[:-2] if value.endswith(".0") else value


def text_agreement(answer: str | None, other: str | None) -> bool:
    number = final_number(answer)
    if number is not None:
        return number == final_number(other)
    return " ".join((answer or "").lower().split()) == " ".join((other or "").lower().split())


class AgreementVerifier:
    """``verifier(record, completion) -> share of samples agreeing with the answer`` in [0, 1]."""

    def __init__(self, models: Mapping[str, Any] | Callable[[str], Any], *, samples: int = 2,
                 temperature: float = 0.7, max_tokens: int | None = None,
                 store: Any = None) -> None:
        if samples < 1:
            from ..errors import UserError

            raise UserError(f"samples must be ≥ 1, got {samples!r}", "use 1 to 5 samples")
        self._model = models.__getitem__ if isinstance(models, Mapping) else models
        self.samples, self.temperature, self.max_tokens = samples, temperature, max_tokens
        self.store = store  # samples are recorded as shadow calls of the judged call: paid for,
        self.calls, self.cost_usd = 0, 0.0  # never answering

    def __call__(self, record: CallRecord, completion: Completion) -> float:
        from ..distill.tasks import complete_kwargs, request_messages

        model = self._model(record.model)
        messages = request_messages(record.request)
        kw = complete_kwargs(record, self.max_tokens or record.request.get("max_tokens") or 256)
        kw["temperature"] = self.temperature
        agree = sum(self._agrees(record, model, messages, kw) for _ in range(self.samples))
        return agree / self.samples

    def _agrees(self, record: CallRecord, model: Any, messages: Any, kw: dict[str, Any]) -> bool:
        t0 = time.time()
        try:
            sample = model.complete(messages, **kw)
        except SlmstackError as exc:  # a sample the model cannot even produce validly disagrees
            self._record(record, getattr(exc, "completion", None), t0, str(exc))
            return False
        self._record(record, sample, t0, None)
        if record.request.get("tools") or record.request.get("response_format"):
            from ..distill.score import agreement

            return agreement(record, sample) == 1.0
        return text_agreement(record.response.get("text"), sample.text)

    def _record(self, record: CallRecord, sample: Completion | None, t0: float,
                error: str | None) -> None:
        self.calls += 1
        self.cost_usd += sample.cost_usd if sample is not None else 0.0
        if self.store is None:
            return
        self.store.record(CallRecord(
            task_id=record.task_id, parent_id=record.id, ts=t0, route=record.route,
            routing_version=record.routing_version, model=record.model, tier=record.tier,
            request={**record.request, "metadata": {"verifier": "agreement"},
                     "temperature": self.temperature},
            response=response_of(sample), shadow_of=record.id, error=error,
            input_tokens=sample.usage.input_tokens if sample else 0,
            output_tokens=sample.usage.output_tokens if sample else 0,
            latency_s=time.time() - t0, cost_usd=sample.cost_usd if sample else 0.0,
        ))
