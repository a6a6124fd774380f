"""The distilled classifier, really trained (real MiniLM table, real scikit-learn) on a small
slice of GSM8K train problems and measured on test problems it never saw."""

from __future__ import annotations

import json

from slmstack.verify.data import examples, is_validation
from slmstack.verify.evaluate import evaluate_examples
from slmstack.verify.features import RULE_NAMES, TokenEmbedder
from slmstack.verify.model import META_FILE, StepClassifier
from slmstack.verify.verifier import ProcessVerifier


def test_split_is_by_problem(gsm8k):
    exs = examples(gsm8k, "train", 120)
    val = {e.problem for e in exs if is_validation(e.problem)}
    fit = {e.problem for e in exs if not is_validation(e.problem)}
    assert val and fit and not val & fit
    kinds = {e.kind for e in exs}
    assert {"clean", "wrong_operation", "swapped_quantity", "cancel_out"} <= kinds
    assert all(e.answer_right for e in exs if e.kind == "cancel_out")


def test_embedder_is_minilm_token_table():
    emb = TokenEmbedder()
    v = emb.encode(["half of the apples are left", "half of the apples are left", ""])
    assert v.shape == (3, 384)
    assert abs(float(v[0] @ v[1]) - 1) < 1e-5 and float(abs(v[2]).sum()) == 0


def test_saved_model_has_meta_and_loads(small_classifier, tmp_path):
    folder = small_classifier.save(tmp_path / "m")
    meta = json.loads((folder / META_FILE).read_text())
    assert meta["id"].startswith("gbt-") and 0 < meta["threshold"] < 1
    assert meta["config"]["features"][: len(RULE_NAMES)] == RULE_NAMES
    assert meta["train_steps"] > 1000 and meta["train_flawed"] > 100
    again = StepClassifier.load(folder)
    assert again.threshold == small_classifier.threshold


def test_classifier_adds_to_the_rules_on_unseen_problems(gsm8k, small_classifier):
    held_out = examples(gsm8k, "test", 60)
    rules = evaluate_examples(ProcessVerifier(None), held_out)
    both = evaluate_examples(ProcessVerifier(small_classifier), held_out)
    assert both["step"]["recall"] > rules["step"]["recall"]
    assert both["step"]["f1"] > rules["step"]["f1"]
    assert both["clean_false_alarm"] <= 0.1
