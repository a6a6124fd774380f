"""Grounded answering: retrieve → one constrained JSON reply (a short answer and the number of the
passage it comes from, or 0 to decline) → check → answer with ``[source:page]`` citations.

Built for small models: the model never sees a tool, so a passage that says "call tool X" cannot
make it call anything (a reply with tool calls is discarded); passages are quoted inside
``<passage>`` tags that a passage cannot close. The answer is declined, instead of guessed, when
the best passage is not similar enough to the question (``min_score``: all-MiniLM-L6-v2 cosine).
A model answer the passages do not support, one that only restates the question, or none at all
is not shown: the best evidence sentence is quoted in its place, with a note (``quote_instead``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import UserError
from ..models.prompts import template
from ..models.schema import enum_safe
from ..types import Completion, Message
from .embed import Embedder
from .records import Filters, Hit
from .search import KnowledgeBase, rrf
from .text import terms

if TYPE_CHECKING:
    from ..models.base import ChatModel

MIN_SCORE = 0.45
"""Decline below this question–passage cosine (calibrated on datasets/pydocqa's dev split)."""
MIN_SUPPORT = 0.8  # share of the answer's terms that must appear in the cited passage
LEXICAL_WEIGHT = 0.5  # evidence score = cosine(question, "heading: sentence") + this × term share
QUOTES = 3  # sentences offered to the model when it quotes
EVIDENCE_K = 5  # passages searched for the best evidence sentence (the model reads the first k)
SHORT = 3  # an answer of at most this many terms must sit in one of the QUOTES best sentences
ANSWERING_SHARE = 0.5  # a sentence scoring under this share of the best one answers nothing
SMALL_B = 1.0  # models up to this many billion parameters: every answer is checked that way
NOT_FOUND = "The knowledge base has no evidence for this question."


@dataclass(frozen=True)
class Evidence:
    sentence: str
    passage: int  # index into the hits
    score: float


@dataclass
class Claim:
    text: str
    passages: list[Hit]  # the passages that support it, best first

    @property
    def citation(self) -> str:
        return "".join(dict.fromkeys(p.citation for p in self.passages))


@dataclass
class Answer:
    question: str
    claims: list[Claim] = field(default_factory=list)
    passages: list[Hit] = field(default_factory=list)  # retrieved, best first
    reason: str = ""  # why it declined, when it did
    note: str = ""  # what the answering did besides the model's reply (e.g. quoted evidence)
    completion: Completion | None = None  # the model's reply (direct answering)
    run: Any = None  # the agent's RunResult (``ask``)
    ranked: list[Evidence] | None = None  # the passages' sentences, best evidence first

    @property
    def declined(self) -> bool:
        return not self.claims

    @property
    def text(self) -> str:
        if self.declined:
            return f"{NOT_FOUND} ({self.reason})" if self.reason else NOT_FOUND
        return " ".join(f"{c.text.rstrip()} {c.citation}" for c in self.claims)

    def to_json(self) -> dict[str, Any]:
        return {"question": self.question, "answer": self.text, "declined": self.declined,
                "reason": self.reason, "note": self.note,
                "claims": [{"text": c.text, "citation": c.citation,
                            "chunk_ids": [p.chunk_id for p in c.passages]} for c in self.claims],
                "passages": [{"chunk_id": h.chunk_id, "citation": h.citation}
                             for h in self.passages]}


def answer_schema(n: int) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "answer": {"type": "string", "maxLength": 240},
            "source": {"type": "integer", "enum": list(range(1, n + 1))},
        },
        "required": ["answer", "source"],
    }


def quote(hit: Hit, number: int) -> str:
    body = hit.text.replace("</passage", "</ passage").replace("<passage", "< passage")
    return f'<passage number="{number}" cite="{hit.citation}">\n{body}\n</passage>'


def retrieve(kb: KnowledgeBase, question: str, k: int, filters: Filters | None = None,
             vector: Any = None) -> tuple[list[Hit], float]:
    """The top ``k`` hybrid passages and the best dense cosine (the evidence strength)."""
    vector = kb.embedder.query(question) if vector is None else vector
    dense = kb.index.search_vector(vector, kb.candidates, filters)
    text = kb.index.search_text(question, kb.candidates, filters)
    return rrf([dense, text], k), (dense[0].score if dense else 0.0)


def gather(kb: KnowledgeBase, question: str, k: int, min_score: float,
           filters: Filters | None) -> tuple[Answer, Any]:
    """How every answer starts: the question's top ``max(k, EVIDENCE_K)`` passages in an
    :class:`Answer` (the model reads the first ``k``; a quote may come from any of them),
    declined with the reason when the best one is below ``min_score``, and the question's
    vector. An empty question is an error, not a decline."""
    if not question.strip():
        raise UserError("the question is empty", "ask something the documents could answer")
    vector = kb.embedder.query(question)
    found, strength = retrieve(kb, question, max(k, EVIDENCE_K), filters, vector)
    result = Answer(question, passages=found)
    if not found[:k] or strength < min_score:
        result.reason = f"best passage similarity {strength:.2f} < {min_score:.2f}"
    return result, vector


def evidence(question: str, hits: list[Hit], embedder: Embedder,
             vector: Any = None) -> list[Evidence]:
    """Every sentence of ``hits``, best evidence for ``question`` first: the cosine between the
    question and the sentence under its passage's heading (a sentence alone often lacks the name
    it is about), plus ``LEXICAL_WEIGHT`` × the share of the question's terms the sentence holds.
    The passage a question's best sentence sits in is more often the one that answers it than
    the passage ranked first as a whole (datasets/pydocqa: see the README's figures)."""
    found = [(i, s) for i, h in enumerate(hits) for s in sentences(h.text)]
    if not found:
        return []
    vector = embedder.query(question) if vector is None else vector
    rows = embedder.encode([f"{hits[i].heading}: {s}" if hits[i].heading else s
                            for i, s in found])
    asked = set(terms(question))
    out = [Evidence(s, i, float(cos) + LEXICAL_WEIGHT * len(asked.intersection(terms(s)))
                    / max(len(asked), 1)) for (i, s), cos in zip(found, rows @ vector, strict=True)]
    return sorted(out, key=lambda e: -e.score)


def answer(question: str, kb: KnowledgeBase, model: ChatModel | None, *, k: int = 3,
           min_score: float = MIN_SCORE, filters: Filters | None = None,
           quote_sentence: bool = False, quotes: int = QUOTES) -> Answer:
    """One constrained model call over the top ``k`` passages. ``quote_sentence``: the answer is
    one of the ``quotes`` sentences of those passages that are the best evidence for the
    question (:func:`evidence`), word for word (the schema's enum), cited to its passage. With
    ``quotes=1`` there is nothing to choose: the best sentence of the top ``EVIDENCE_K``
    passages is the answer, with no model call (``model`` may be None)."""
    result, vector = gather(kb, question, k, min_score, filters)
    if result.reason:
        return result
    hits = result.passages[:k]  # what the model reads
    schema = answer_schema(len(hits))
    offered: dict[str, int] = {}  # quotable sentence -> its passage's number
    if quote_sentence and quotes == 1:  # nothing to choose: no model call
        claim = evidence_claim(result, kb.embedder, vector)
        if claim is None:
            result.reason = "no sentence of the passages can be quoted"
        result.claims = [claim] if claim else []
        return result
    if quote_sentence:  # the sentences of the passages the model reads
        for e in ranked(result, kb.embedder, vector):
            if e.passage < len(hits) and len(offered) < quotes and enum_safe(e.sentence):
                offered.setdefault(e.sentence, e.passage + 1)
    passages = "\n\n".join(quote(h, i) for i, h in enumerate(hits, 1))
    if offered:
        schema = {"type": "object", "required": ["answer"], "properties": {
            "answer": {"type": "string", "enum": list(offered)}}}
        candidates = "\n".join(f"{i}. {s}" for i, s in enumerate(offered, 1))
        prompt = template("rag_quote_user").format(passages=passages, question=question,
                                                   candidates=candidates)
        system = template("rag_quote_system")
    else:
        prompt = template("rag_answer_user").format(passages=passages, question=question)
        system = template("rag_answer_system")
    messages = [Message.system(system.strip()), Message.user(prompt)]
    if model is None:
        raise ValueError("answer() needs a model unless it quotes one sentence (quotes=1)")
    completion = model.complete(messages, schema=schema, max_tokens=160)
    result.completion = completion
    result.claims, result.reason = _claims(completion, hits, offered, question)
    return quote_instead(result, kb.embedder, vector, every_answer=small(model))


RESTATES = "the answer only restates the question"
UNSUPPORTED = "no passage supports the answer"
NO_ANSWER = "no answer from the model"
QUOTABLE = (RESTATES, UNSUPPORTED, NO_ANSWER)
"""Why a model answer is rejected, when the best evidence sentence is quoted in its place."""


def restates(text: str, question: str) -> bool:
    """Whether ``text`` says nothing the question does not ("How often must the pump be
    oiled" for "How often must the pump be oiled?"): a small model that finds no answer in
    the passages often echoes the question, and every word of an echo is in the passages."""
    asked = set(terms(question))
    return all(t in asked for t in terms(text))


def ranked(result: Answer, embedder: Embedder, vector: Any = None) -> list[Evidence]:
    """The sentences of ``result.passages``, best evidence first (:func:`evidence`; computed
    once per answer)."""
    if result.ranked is None:
        result.ranked = evidence(result.question, result.passages, embedder, vector)
    return result.ranked


def evidence_claim(result: Answer, embedder: Embedder, vector: Any = None) -> Claim | None:
    """The best evidence sentence of the answer's passages (:func:`evidence`), quoted word for
    word and cited to its passage; None when no sentence can be quoted."""
    for e in ranked(result, embedder, vector):
        if enum_safe(e.sentence):
            return Claim(e.sentence,
                         supporting_passages(e.sentence, result.passages, e.passage + 1))
    return None


def small(model: ChatModel) -> bool:
    """Whether ``model`` is a small one (≤ ``SMALL_B`` billion parameters, by its catalog
    profile; unknown sizes, 0, are not): such models copy spans of the passages more or less
    at random, so each of their answers must sit in one of the best evidence sentences."""
    return 0 < model.profile.params_b <= SMALL_B


def answering_passages(result: Answer, embedder: Embedder, vector: Any = None) -> list[Hit]:
    """The passages of the ``QUOTES`` best evidence sentences that hold the model's answer, best
    first — empty when none does; a sentence scoring under ``ANSWERING_SHARE`` of the best
    one does not count (in a small knowledge base every sentence is among the best three).
    Found somewhere in a passage, a word proves nothing ("fashion" is in many sentences); it
    answers the question only when a sentence that answers it says it."""
    claim = result.claims[0]
    out: list[Hit] = []
    best = ranked(result, embedder, vector)[:QUOTES]
    for e in best:
        if e.score < ANSWERING_SHARE * best[0].score:
            break  # a few passages: the third best sentence may be about something else
        hit = result.passages[e.passage]
        if support(claim.text, e.sentence) >= MIN_SUPPORT and hit not in out:
            out.append(hit)
    return out


def quote_instead(result: Answer, embedder: Embedder, vector: Any = None, *,
                  every_answer: bool = False) -> Answer:
    """A model answer rejected for a ``QUOTABLE`` reason — it only restated the question (a
    small model's usual reply when it finds nothing), the passages do not support it, or there
    was none — is replaced by the best evidence sentence of the passages, quoted word for word
    and cited: the passages passed the similarity gate (``min_score``), which is what decides
    whether the documents hold evidence, and a quote claims nothing they do not say. ``note``
    says so. A reply that asked for tools stays declined.

    A short answer (≤ ``SHORT`` terms), or with ``every_answer`` (a :func:`small` model's) any
    answer, must also sit in one of the best evidence sentences (``answering_passages``); it is
    then cited to that sentence's passage, else replaced like an unsupported one."""
    if len(result.claims) == 1 and (every_answer or len(terms(result.claims[0].text)) <= SHORT):
        cited = answering_passages(result, embedder, vector)
        if cited:
            result.claims[0].passages = cited[:2]
        else:
            result.reason = (f"{UNSUPPORTED} ({result.claims[0].text!r:.60}): no sentence that "
                             "answers the question holds it")
            result.claims = []
    if not result.declined or not result.reason.startswith(QUOTABLE):
        return result
    claim = evidence_claim(result, embedder, vector)
    if claim is not None:
        result.note = f"{result.reason}; the best evidence sentence is quoted instead"
        result.claims, result.reason = [claim], ""
    return result


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n\s*\n")
_WRAPPED = re.compile(r"(?<=\S)[ \t]*\n(?=[ \t]*[^\s*#>|`-])")  # a line wrapped mid-sentence


def sentences(text: str) -> list[str]:
    """``text``'s sentences (and paragraphs without a full stop), wrapped lines joined."""
    out = [p.strip(" \t-*#>|") for p in _SENTENCE_END.split(_WRAPPED.sub(" ", text))]
    return list(dict.fromkeys(p for p in out if 3 <= len(p) <= 300))


def _claims(completion: Completion, hits: list[Hit], offered: dict[str, int] | None = None,
            question: str = "") -> tuple[list[Claim], str]:
    if completion.tool_calls:
        names = ", ".join(c.name for c in completion.tool_calls)
        return [], f"the model asked for tools ({names}); answers may not call tools"
    reply = completion.parsed if isinstance(completion.parsed, dict) else {}
    source, text = reply.get("source", 0), str(reply.get("answer", "")).strip()
    if offered and text in offered:
        source = offered[text]  # a quoted sentence is cited to the passage it was taken from
    # a quoted sentence (offered) cannot restate the question: the check is for free answers
    return checked_claim(text, source, hits, "" if offered else question)


def checked_claim(text: str, source: Any, passages: list[Hit], question: str = ""
                  ) -> tuple[list[Claim], str]:
    """A model's answer ``text`` (citing passage number ``source``) as a claim cited to the
    ``passages`` that support it, or no claim and the ``QUOTABLE`` reason: empty, only
    restating ``question`` (when given), or supported by no passage."""
    if not text:
        return [], NO_ANSWER
    if question and restates(text, question):
        return [], f"{RESTATES} ({text!r:.60})"
    cited = supporting_passages(text, passages, source if isinstance(source, int) else 0)
    if not cited:
        return [], f"{UNSUPPORTED} ({text!r:.60})"
    return [Claim(text, cited)], ""


def supporting_passages(text: str, hits: list[Hit], chosen: int, most: int = 2) -> list[Hit]:
    """The passages the answer is cited to: those that support it (the model's choice first, then
    by retrieval rank), at most ``most``; empty when none does."""
    order = ([hits[chosen - 1]] if 1 <= chosen <= len(hits) else []) + hits
    out: list[Hit] = []
    for h in order:
        if all(h.chunk_id != o.chunk_id for o in out) and support(text, h.text) >= MIN_SUPPORT:
            out.append(h)
    return out[:most]


def support(claim: str, passage: str) -> float:
    """Share of the claim's terms found in the passage."""
    want = terms(claim)
    if not want:
        return 0.0
    have = set(terms(passage))
    return sum(w in have for w in want) / len(want)
