"""The learned task classifier on the real bundled MiniLM embedder, trained on a small real set:
GSM8K word problems ("math") and the repo's Python-docs questions ("docs"), scored held out."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from slmstack.errors import UserError
from slmstack.router import TaskClassifier, build_router
from slmstack.router.training import cluster_labels, examples_from_jsonl, examples_from_records

from .helpers import LARGE, SMALL, calls, router_settings, tiers

REPO = Path(__file__).resolve().parents[2]
GSM8K = REPO.parent / "shared" / "data" / "gsm8k" / "train.jsonl"
DOCS = REPO / "datasets" / "pydocqa" / "questions.jsonl"
pytestmark = pytest.mark.skipif(not GSM8K.is_file(), reason=f"GSM8K data not at {GSM8K}")


def _questions(path: Path, n: int) -> list[str]:
    lines = path.read_text("utf-8").splitlines()[:n]
    return [json.loads(line)["question"] for line in lines]


@pytest.fixture(scope="module")
def split() -> dict[str, tuple[list[str], list[str]]]:
    math, docs = _questions(GSM8K, 60), _questions(DOCS, 60)
    train = math[:40] + docs[:40], ["math"] * 40 + ["docs"] * 40
    test = math[40:] + docs[40:], ["math"] * 20 + ["docs"] * 20
    return {"train": train, "test": test}


@pytest.fixture(scope="module")
def classifier(split) -> TaskClassifier:
    return TaskClassifier.train(*split["train"])


def test_held_out_requests_get_their_kind(classifier, split) -> None:
    texts, labels = split["test"]
    predicted = [label for label, _ in classifier.predict_many(texts)]
    accuracy = sum(p == y for p, y in zip(predicted, labels, strict=True)) / len(labels)
    assert accuracy >= 0.9, list(zip(predicted, labels, strict=True))
    assert classifier.meta["metrics"]["cv_accuracy"] >= 0.9
    assert classifier.meta["inputs"]["per_label"] == {"math": 40, "docs": 40}


def test_saved_classifier_predicts_the_same(classifier, split, tmp_path) -> None:
    folder = classifier.save(tmp_path / "clf")
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["embedder"] == {"name": "all-MiniLM-L6-v2", "dim": 384}
    loaded = TaskClassifier.load(folder)
    texts = split["test"][0]
    before, after = classifier.predict_many(texts), loaded.predict_many(texts)
    assert [label for label, _ in after] == [label for label, _ in before]
    assert [p for _, p in after] == pytest.approx([p for _, p in before], abs=1e-6)


def test_loading_a_folder_without_a_classifier_says_what_to_do(tmp_path) -> None:
    with pytest.raises(UserError, match="slmstack router train"):
        TaskClassifier.load(tmp_path)


def test_router_sends_a_math_question_to_the_math_route(classifier, store, tmp_path) -> None:
    classifier.save(tmp_path / "clf")
    settings = router_settings(classifier=str(tmp_path / "clf"), routes={
        "chat": {"model": "small", "fallbacks": ["large"]}, "math": {"model": "large"},
        "docs": {"model": "small"}})
    models = tiers(["json.dumps"], ["18"])
    router = build_router(settings, store=store, models=models)
    question = "Janet has 3 boxes of 6 apples. How many apples does she have?"
    comp = router.complete(question)
    assert (comp.route, comp.kind_source, comp.text) == ("math", "classifier", "18")
    assert router.complete("Which function serialises an object to a JSON string?").route == \
        "docs"
    assert [r.model for r in calls(store)] == [LARGE, SMALL]
    texts, labels = examples_from_records(calls(store))
    assert labels == ["math", "docs"] and texts[0] == question


def test_clusters_of_unlabelled_traffic_follow_the_kinds(split) -> None:
    texts, labels = split["test"]
    found = cluster_labels(texts, 2)
    groups = {c: Counter(y for f, y in zip(found, labels, strict=True) if f == c)
              for c in set(found)}
    purity = sum(max(kinds.values()) for kinds in groups.values()) / len(texts)
    assert len(groups) == 2 and purity >= 0.9, groups


def test_bad_training_data_is_refused(tmp_path) -> None:
    with pytest.raises(UserError, match="at least two task kinds"):
        TaskClassifier.train(["a", "b"], ["chat", "chat"], embedder=object())
    bad = tmp_path / "ex.jsonl"
    bad.write_text('{"text": "hi", "kind": "chat"}\n{"text": "no kind"}\n')
    with pytest.raises(UserError, match="line 2 needs non-empty 'text' and 'kind'"):
        examples_from_jsonl(bad)
