from __future__ import annotations

import json

import pytest

from slmstack.errors import UserError
from slmstack.evals.retrieval import (
    BeirData,
    bfcl_tools,
    load_beir,
    mrr_at,
    ndcg_at,
    recall_at,
    run_beir,
    run_tools,
)
from slmstack.rag.index import open_index
from slmstack.rag.search import KnowledgeBase

from .conftest import BFCL, PYDOCQA


def test_metrics_by_hand():
    rels = {"a": 1, "b": 1}
    assert ndcg_at(["a", "b", "c"], rels) == pytest.approx(1.0)
    assert ndcg_at(["c", "a"], rels) == pytest.approx((1 / 1.5849625) / (1 + 1 / 1.5849625))
    assert recall_at(["c", "a", "x", "y", "z", "b"], rels, 5) == 0.5
    assert mrr_at(["c", "x", "b"], rels) == pytest.approx(1 / 3)
    assert mrr_at(["c"], rels) == 0.0


def test_beir_folder_end_to_end(tmp_path, embedder):
    (tmp_path / "qrels").mkdir()
    corpus = [{"_id": "d1", "title": "Cats", "text": "Cats purr and chase mice."},
              {"_id": "d2", "title": "Rockets", "text": "Rockets burn fuel to reach orbit."},
              {"_id": "d3", "title": "Bread", "text": "Bread rises because yeast makes gas."}]
    queries = [{"_id": "q1", "text": "why does dough rise"},
               {"_id": "q2", "text": "what do felines hunt"}]
    (tmp_path / "corpus.jsonl").write_text("\n".join(json.dumps(r) for r in corpus))
    (tmp_path / "queries.jsonl").write_text("\n".join(json.dumps(r) for r in queries))
    (tmp_path / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\nq1\td3\t1\nq2\td1\t1\n")
    data = load_beir(tmp_path)
    report = run_beir(KnowledgeBase(open_index(":memory:"), embedder), data)
    assert set(report.rows) == {"bm25", "dense", "hybrid"}
    assert report.rows["dense"]["recall@5"] == 1.0 and report.rows["hybrid"]["mrr@10"] == 1.0
    with pytest.raises(UserError, match="corpus.jsonl"):
        load_beir(tmp_path / "nope")


@pytest.mark.skipif(not BFCL.is_dir(), reason=f"BFCL data not found at {BFCL}")
def test_bfcl_tool_retrieval_subset(embedder):
    specs, data = bfcl_tools(BFCL)
    assert len(specs) == 982 and len(data.queries) == 1000
    keep = list(data.queries)[::10]  # every 10th question, all 982 tools
    sub = BeirData(data.corpus, {q: data.queries[q] for q in keep},
                   {q: data.qrels[q] for q in keep}, "bfcl-sub")
    report = run_tools(KnowledgeBase(open_index(":memory:"), embedder), specs, sub)
    rows = report.rows
    assert rows["hybrid"]["recall@5"] >= 0.85
    assert rows["hybrid"]["ndcg@10"] > max(rows["bm25"]["ndcg@10"], rows["dense"]["ndcg@10"])


@pytest.mark.slow
def test_doc_qa_with_the_embedded_model(docs_kb, embedded_model):
    from slmstack.evals.rag import load_questions, run_rag

    # one constrained call per question (the agent path, `slmstack ask`, is test_answer.py's;
    # at three model steps per question it is too slow to run over a split in CI)
    cases = load_questions(PYDOCQA, "dev")
    report = run_rag(docs_kb, cases, embedded_model, runner="direct")
    figures = report.figures()
    assert figures["retrieval_recall@5"] >= 0.9
    assert figures["declined_unanswerable"] == 1.0
    assert figures["cites_correct_source"] > 0.0  # the measured rate is in the report


def test_the_best_evidence_sentence_cites_better_than_the_first_passage(docs_kb):
    from slmstack.evals.rag import load_questions, relevant, run_rag

    cases = [c for c in load_questions(PYDOCQA, "test") if c.answerable]
    report = run_rag(docs_kb, cases, None, runner="evidence")  # no model: the ranker's quote
    first = sum(relevant(docs_kb.search(c.question, 3)[0], c) for c in cases) / len(cases)
    assert report.figures()["cites_correct_source"] > first + 0.05
    assert all(r["citations"] for r in report.records if not r["declined"])


def test_pydocqa_dataset_is_well_formed():
    from slmstack.evals.rag import load_questions

    cases = load_questions(PYDOCQA, "all")
    assert len(cases) >= 40 and sum(not c.answerable for c in cases) >= 8
    assert (PYDOCQA / "LICENSE-PSF.txt").read_text().count("PSF") > 3
    for c in cases:
        if c.answerable:
            assert (PYDOCQA / "docs" / c.source).is_file() and c.evidence


def test_an_unknown_split_is_a_clear_error(tmp_path):
    from slmstack.errors import UserError
    from slmstack.evals.rag import load_questions

    (tmp_path / "questions.jsonl").write_text(
        '{"id": "a", "question": "q?", "answerable": false, "split": "dev"}\n'
        '{"id": "b", "question": "r?", "answerable": false, "split": "exam"}\n')
    assert [c.id for c in load_questions(tmp_path, "exam")] == ["b"]
    assert len(load_questions(tmp_path, "all")) == 2
    with pytest.raises(UserError, match="no split 'holdout'") as err:
        load_questions(tmp_path, "holdout")
    assert "dev, exam" in err.value.hint
    (tmp_path / "bad.jsonl").write_text('{"id": "a", "question": "q", "answerable": true}\n{"id"')
    with pytest.raises(UserError, match="line 2 of .* is not JSON"):
        load_questions(tmp_path / "bad.jsonl")
    (tmp_path / "bad.jsonl").write_text('{"id": "a", "question": "q?"}\n')
    with pytest.raises(UserError, match="line 1 of .* lacks id, question, answerable"):
        load_questions(tmp_path / "bad.jsonl")
