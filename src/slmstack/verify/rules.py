"""The deterministic checks, run together over a (clipped) trace."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from .extract import Computation, computations
from .numerals import fmt
from .provenance import Known, StepOrigins, answer_unknowns, trace_origins
from .support import citation_findings, failed_tool_findings, tool_findings
from .trace import MAX_STEP_CHARS, MAX_STEPS, Trace
from .verdict import Finding

P_ARITHMETIC = 0.95  # a stated result that is not what the expression gives
P_INVENTED = 0.9  # an operand nothing in the trace gives
P_FACT = 0.6  # a value a step asserts ("each book is 15") that nothing gives
P_COUNT = 0.35  # … when it is a small count (3 days named, 4 legs): often world knowledge
P_UNCHECKED = 0.3  # an expression the evaluator refused (too large, not arithmetic)


@dataclass
class RuleReport:
    trace: Trace  # the clipped trace the rules saw
    comps: list[list[Computation]]
    origins: list[StepOrigins]
    known: Known
    findings: list[Finding] = field(default_factory=list)
    clipped: bool = False

    @property
    def checked(self) -> int:
        return sum(c.computed is not None for cs in self.comps for c in cs)

    def step_p(self, i: int) -> float:
        return max((f.p_flaw for f in self.findings if f.step == i), default=0.0)

    def answer_p(self) -> float:
        return max((f.p_flaw for f in self.findings if f.step is None), default=0.0)


def clip(trace: Trace) -> tuple[Trace, bool]:
    """The trace cut to what the checks read (MAX_STEPS steps of MAX_STEP_CHARS each)."""
    def cut(s: str) -> str:
        return s[:MAX_STEP_CHARS]

    clipped = Trace(
        question=cut(trace.question), steps=[cut(s) for s in trace.steps[:MAX_STEPS]],
        tool_results=[t.model_copy(update={"output": cut(t.output)})
                      for t in trace.tool_results[:MAX_STEPS]],
        evidence=[e.model_copy(update={"text": cut(e.text)}) for e in trace.evidence[:MAX_STEPS]],
        answer=cut(trace.answer), meta=trace.meta,
    )
    return clipped, clipped.text_size() < trace.text_size()


def run_rules(trace: Trace) -> RuleReport:
    t, clipped = clip(trace)
    comps = [computations(s, i) for i, s in enumerate(t.steps)]
    origins, known = trace_origins(t, comps)
    report = RuleReport(t, comps, origins, known, clipped=clipped)
    report.findings += arithmetic_findings(comps)
    grounded = bool(t.tool_results or t.evidence)
    report.findings += provenance_findings(origins, t.answer, known, grounded)
    texts: list[tuple[int | None, str]] = [*enumerate(t.steps), (None, t.answer)]
    report.findings += citation_findings(t, texts)
    report.findings += tool_findings(t, texts) + failed_tool_findings(t)
    return report


def arithmetic_findings(comps: list[list[Computation]]) -> list[Finding]:
    out = []
    for c in (c for cs in comps for c in cs):
        if c.error:
            out.append(Finding(step=c.step, kind="arithmetic", severity="warning",
                               explanation=f"could not recompute {c.expr[:60]!r}: {c.error}",
                               p_flaw=P_UNCHECKED))
        elif not c.ok:
            assert c.computed is not None
            out.append(Finding(step=c.step, kind="arithmetic", severity="error",
                               explanation=f"{c.expr} = {fmt(c.computed)}, not "
                                           f"{c.stated_text.strip()!r}", p_flaw=P_ARITHMETIC))
    return out


def _invented(step: int, v: Fraction, what: str, fact: bool | None = None) -> Finding:
    """``fact``: None for an operand, True/False for an asserted value in a grounded / an
    ungrounded trace."""
    if fact is False:
        return Finding(step=step, kind="provenance", severity="warning", p_flaw=P_COUNT,
                       explanation=f"{what}, which nothing before it gives")
    count = v.denominator == 1 and 0 < v <= 12
    p = P_FACT if fact else (P_COUNT if count else P_INVENTED)
    return Finding(step=step, kind="provenance", severity="error" if p >= 0.5 else "warning",
                   p_flaw=p, explanation=f"{what}, which neither the question, a tool result, "
                                         "the evidence nor an earlier step gives")


def provenance_findings(origins: list[StepOrigins], answer: str, known: Known,
                        grounded: bool = False) -> list[Finding]:
    """Invented operands are errors; values a step merely asserts are errors only when the
    trace is grounded in tools or evidence (in a word problem a step often states what it
    worked out in its head)."""
    out = []
    for i, o in enumerate(origins):
        for v in dict.fromkeys(o.unknown):
            out.append(_invented(i, v, f"uses {fmt(v)}"))
        for v in o.unknown_facts:
            out.append(_invented(i, v, f"states {fmt(v)}", fact=grounded))
    bad = answer_unknowns(answer, known)
    if bad:
        out.append(Finding(where="answer", kind="provenance", severity="error",
                           p_flaw=P_INVENTED,
                           explanation=f"the answer's {', '.join(fmt(v) for v in bad[:5])} "
                                       "comes from no step, tool result or evidence"))
    return out
