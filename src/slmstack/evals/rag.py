"""Document-QA evaluation: retrieval and grounded answers over a question file and its corpus.

The question file is JSON lines with ``question``, ``answer``, ``source`` (a file name),
``evidence`` (a verbatim span of that file's text) and ``answerable`` (see datasets/pydocqa). A
passage is relevant when it contains the evidence (whitespace collapsed). Figures: retrieval
Recall@k; for answerable questions, the share whose answer cites a relevant passage and the share
whose answer contains the reference answer (or most of its words); for unanswerable ones, the
share declined.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UserError
from ..rag.text import normalise, terms

if TYPE_CHECKING:
    from rich.table import Table

    from ..models.base import ChatModel
    from ..rag.records import Hit
    from ..rag.search import KnowledgeBase


@dataclass
class QACase:
    id: str
    question: str
    answer: str | None
    source: str | None
    evidence: str | None
    answerable: bool
    split: str = "test"


REQUIRED = ("id", "question", "answerable")
FIELDS = frozenset(QACase.__dataclass_fields__)


def _case(path: Path, n: int, line: str) -> QACase:
    """One line of a question file, or a clear error naming the line and what it lacks."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise UserError(f"line {n} of {str(path)!r} is not JSON ({exc.msg})",
                        "write one JSON object per line") from None
    if not isinstance(row, dict) or any(k not in row for k in REQUIRED):
        raise UserError(f"line {n} of {str(path)!r} lacks {', '.join(REQUIRED)}",
                        "each question needs them; answerable ones also answer, source and "
                        "evidence (see datasets/pydocqa/README.md)")
    return QACase(**({"answer": None, "source": None, "evidence": None}
                     | {k: v for k, v in row.items() if k in FIELDS}))


def load_questions(path: str | Path, split: str | None = None) -> list[QACase]:
    p = Path(path).expanduser()
    if p.is_dir():
        p = p / "questions.jsonl"
    if not p.is_file():
        raise UserError(f"question file {str(p)!r} does not exist",
                        "pass --data pointing at a dataset folder or its questions.jsonl")
    cases = [_case(p, n, line) for n, line in enumerate(p.read_text("utf-8").splitlines(), 1)
             if line.strip()]
    splits = sorted({c.split for c in cases if c.split})
    if split not in (None, "all", *splits):
        raise UserError(f"{str(p)!r} has no split {split!r}",
                        f"pass --split all or one of {', '.join(splits)}")
    return [c for c in cases if split in (None, "all", c.split)]


def relevant(hit: Hit, case: QACase) -> bool:
    return bool(case.evidence) and normalise(case.evidence) in normalise(hit.text) and (
        case.source is None or hit.source == case.source)


def answer_correct(text: str, reference: str | None) -> bool:
    """The reference answer appears in the answer, or ≥ 60 % of its words do."""
    if not reference:
        return False
    if normalise(reference) in normalise(text):
        return True
    want, have = terms(reference), set(terms(text))
    return bool(want) and sum(w in have for w in want) / len(want) >= 0.6


@dataclass
class RagReport:
    n: int = 0
    k: int = 5
    retrieval_hits: int = 0  # answerable questions with a relevant passage in the top k
    answerable: int = 0
    cited_correct: int = 0
    answer_correct: int = 0
    unanswerable: int = 0
    declined_unanswerable: int = 0
    declined_answerable: int = 0
    quoted_instead: int = 0  # answers quoted from the evidence in place of the model's
    seconds: float = 0.0
    records: list[dict[str, Any]] = field(default_factory=list)

    def figures(self) -> dict[str, float]:
        a, u = max(self.answerable, 1), max(self.unanswerable, 1)
        out = {f"retrieval_recall@{self.k}": self.retrieval_hits / a}
        if self.records and "answer" in self.records[0]:
            out |= {"cites_correct_source": self.cited_correct / a,
                    "answer_correct": self.answer_correct / a,
                    "declined_unanswerable": self.declined_unanswerable / u,
                    "declined_answerable": self.declined_answerable / a,
                    "quoted_instead_of_the_model": self.quoted_instead / max(self.n, 1)}
        return out

    def table(self) -> Table:
        from rich.table import Table

        t = Table("figure", "value", title=f"doc QA: {self.answerable} answerable, "
                  f"{self.unanswerable} unanswerable, {self.seconds:.1f}s")
        for name, value in self.figures().items():
            t.add_row(name, f"{value:.3f}")
        return t

    def to_json(self) -> dict[str, Any]:
        return {"n": self.n, "figures": self.figures(), "seconds": round(self.seconds, 1),
                "records": self.records}


def run_rag(kb: KnowledgeBase, cases: list[QACase], model: ChatModel | None = None, *,
            k: int = 5, runner: str = "agent",
            progress: Callable[[int, int], None] | None = None) -> RagReport:
    """Retrieval recall for every case; with a model (or ``runner="evidence"``, which needs
    none), grounded answers too, from ``slmstack ask``'s runner (``rag.ask.RUNNER_HELP``)."""
    from ..rag.ask import needs_model, responder

    respond = responder(runner)
    report, t0 = RagReport(n=len(cases), k=k), time.perf_counter()
    for i, case in enumerate(cases):
        rec: dict[str, Any] = {"id": case.id, "answerable": case.answerable}
        hits = kb.search(case.question, k)
        if case.answerable:
            report.answerable += 1
            rec["retrieved"] = any(relevant(h, case) for h in hits)
            report.retrieval_hits += rec["retrieved"]
        else:
            report.unanswerable += 1
        if model is not None or not needs_model(runner):
            _score_answer(report, rec, case, respond(case.question, kb, model))
        report.records.append(rec)
        if progress:
            progress(i + 1, len(cases))
    report.seconds = time.perf_counter() - t0
    return report


def _score_answer(report: RagReport, rec: dict[str, Any], case: QACase, ans: Any) -> None:
    rec |= {"answer": ans.text, "declined": ans.declined, "note": ans.note,
            "citations": [c.citation for c in ans.claims]}
    report.quoted_instead += bool(ans.note)
    if case.answerable:
        rec["cited_correct"] = any(relevant(p, case) for c in ans.claims for p in c.passages)
        rec["answer_correct"] = not ans.declined and answer_correct(ans.text, case.answer)
        report.cited_correct += rec["cited_correct"]
        report.answer_correct += rec["answer_correct"]
        report.declined_answerable += ans.declined
    else:
        report.declined_unanswerable += ans.declined
