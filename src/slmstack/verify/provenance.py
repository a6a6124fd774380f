"""Where each number comes from: the question, a tool result, retrieved evidence, an earlier
step, or a computation the trace states. A number from none of them is an invented value."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction

from .extract import Computation
from .numerals import mentions, numbers, scaled, spaced, unit_constants, values
from .trace import Trace, plain

ALWAYS = frozenset(Fraction(v) for v in (0, 1, 2, 100))


@dataclass
class Known:
    """Values established so far, and which of them came from outside the reasoning."""

    given: set[Fraction] = field(default_factory=set)  # question, tools, evidence, constants
    derived: set[Fraction] = field(default_factory=set)  # stated by earlier steps
    written: set[Fraction] = field(default_factory=set)  # given because a text writes them
    computed: set[Fraction] = field(default_factory=set)  # earlier computations' results, parts
    worded: set[Fraction] = field(default_factory=set)  # numbers steps write in words ("three")

    def has(self, v: Fraction) -> bool:
        return self.source(v) != "unknown"

    def source(self, v: Fraction) -> str:
        for w in _forms(v):
            if w in self.given:
                return "given"
            if w in self.derived:
                return "derived"
        return "unknown"

    def weak(self, v: Fraction) -> bool:
        """Given only as a constant (0, 1, 2, 100, the units the texts name) or a multiple the
        question's words name ("half" of a value): no text writes it, no earlier step states it
        — where a changed operand ("24 × 2" for "14 × 2", the 24 of a day's hours) hides."""
        return not _among(v, self.written) and not _among(v, self.derived)

    def prose(self, v: Fraction) -> bool:
        """Derived only from an earlier step's words, not from any of its computations."""
        return not _among(v, self.computed)


def _forms(v: Fraction) -> tuple[Fraction, Fraction, Fraction]:
    """``abs(v)`` as written and scaled by 100 either way (20% used as 0.2, or 0.2 written as
    20), in the order they are looked for."""
    v = v if v.numerator >= 0 else -v
    return v, v * 100, v / 100


def _among(v: Fraction, values: set[Fraction]) -> bool:
    """``v`` in ``values`` in one of its ``_forms``."""
    return any(w in values for w in _forms(v))


def written_values(trace: Trace) -> set[Fraction]:
    """The values the question, the tool results (and their arguments) and the evidence write."""
    texts = [trace.question] + [t.output for t in trace.tool_results if t.ok]
    texts += [e.text for e in trace.evidence]
    texts += [str(v) for t in trace.tool_results for v in t.arguments.values()]
    out: set[Fraction] = set()
    for text in texts:
        out |= values(text)
    return out


def given_values(trace: Trace, written: set[Fraction] | None = None) -> set[Fraction]:
    out = set(ALWAYS) | (written_values(trace) if written is None else written)
    out |= unit_constants(" ".join([trace.question, *trace.steps]))
    return out | scaled(out, trace.question)


@dataclass
class StepOrigins:
    """For one step: its operands by origin, and the values it states."""

    given: int = 0
    derived: int = 0
    unknown: list[Fraction] = field(default_factory=list)
    reused_given: int = 0  # operands from the question already used by an earlier step
    weak: int = 0  # given operands no text writes (Known.weak)
    prose: int = 0  # derived operands no earlier computation gives (Known.prose)
    unknown_facts: list[Fraction] = field(default_factory=list)  # "each book is 12", from where?


def trace_origins(trace: Trace, comps: list[list[Computation]]
                  ) -> tuple[list[StepOrigins], Known]:
    written = written_values(trace)
    known = Known(given=given_values(trace, written), written=written)
    used: set[Fraction] = set()
    out = []
    for i, step_comps in enumerate(comps):
        origins = StepOrigins()
        step_used: set[Fraction] = set()
        text = plain(trace.steps[i])
        nums = numbers(text)
        stated = facts(trace.steps[i], step_comps, nums)
        results = {abs(c.stated) for c in step_comps if c.stated is not None}
        results |= {abs(v) for c in step_comps for v in c.parts}
        origins.unknown_facts = sorted(v for v in stated if v not in results
                                       and not known.has(v))
        known.derived |= stated
        for comp in step_comps:
            _classify(comp, known, origins, used, step_used)
            parts = {abs(v) for v in comp.parts[:-1]}  # not the result itself
            parts |= {abs(comp.stated)} if comp.stated is not None else set()
            known.derived |= parts
            known.computed |= parts
        used |= step_used
        known.derived.update(nums)
        known.derived |= spaced(text)  # "$282 000"
        known.worded |= {m.value for m in mentions(text) if m.word}
        out.append(origins)
    return out, known


def facts(step: str, comps: list[Computation], nums: list[Fraction] | None = None
          ) -> set[Fraction]:
    """Numbers a step states besides its written computations ("There are 4 letters …")."""
    counts = Counter(numbers(plain(step)) if nums is None else nums)
    for c in comps:
        counts.subtract(c.magnitudes)
        counts.subtract([abs(c.stated)] if c.stated is not None else [])
    return {v for v, n in counts.items() if n > 0}


def _classify(comp: Computation, known: Known, origins: StepOrigins,
              used: set[Fraction], step_used: set[Fraction]) -> None:
    for v, m in zip(comp.operands, comp.magnitudes, strict=True):
        where = known.source(m)
        if where == "given":
            origins.given += 1
            if m in used and m not in ALWAYS:
                origins.reused_given += 1
            step_used.add(m)
            origins.weak += known.weak(m)
        elif where == "derived":
            origins.derived += 1
            origins.prose += known.prose(m)
        else:
            origins.unknown.append(v)


CITATION = re.compile(r"\[[^\[\]\n]{1,80}\]")


def answer_unknowns(answer: str, known: Known) -> list[Fraction]:
    """Numbers in the answer (citation markers aside) that nothing in the trace gives (a step
    may give it in words: "so it took three days" for the answer 3)."""
    text = CITATION.sub(" ", answer)
    return [m.value for m in mentions(text, words=False)
            if not known.has(m.value) and m.value not in known.worded]
