"""Features that relate a step to the question (roles, cue words × operation) and the
operation model, on real text and a real scikit-learn fit."""

from __future__ import annotations

import numpy as np
import pytest

from slmstack.errors import UserError
from slmstack.verify.features import RULE_NAMES, cue_set, op_inputs
from slmstack.verify.model import StepClassifier
from slmstack.verify.opmodel import OpModel, op_features
from slmstack.verify.relate import (
    content_words,
    effective_ops,
    question_view,
    role_features,
    target_clause,
)
from slmstack.verify.rules import run_rules
from slmstack.verify.trace import Trace

PIZZA = ("Albert buys 2 large pizzas and 2 small pizzas. A large pizza has 16 slices and a small "
         "pizza has 8 slices. How many pieces does he eat?")


def test_question_view_reads_clauses_sentence_cues_and_the_ask():
    q = "Natalia sold 48 clips in April, and then she sold half as many clips in May. " \
        "How many clips did she sell altogether?"
    view = question_view(q, cue_set)
    assert 48.0 in view.numbers and 0.5 in view.numbers
    assert "half" in view.sentence_cues[48.0]
    assert "total" in view.ask
    assert "may" in target_clause(view, content_words("She sold 24 clips in May"))


def test_a_swapped_quantity_matches_its_clause_worse_than_the_right_one():
    view = question_view(PIZZA, cue_set)
    words = content_words("He eats 16 from the small pizza because 2 x 16 = 32")
    right = role_features(view, content_words("He eats 16 from the small pizza because 2 x 8"),
                          [2.0, 8.0], set())
    wrong = role_features(view, words, [2.0, 16.0], {8.0})
    margin, unused_minus_own = 2, 5
    assert wrong[margin] < right[margin]
    assert wrong[unused_minus_own] > 0


def test_multiplying_by_a_fraction_is_read_as_dividing():
    assert effective_ops("*", [60.0, 0.5]) == "/"
    assert effective_ops("/", [3.0, 0.25]) == "*"
    assert effective_ops("*", [60.0, 2.0]) == "*"


def test_operation_model_learns_which_operation_words_call_for():
    texts = ["half of the apples", "she split them in half", "half as many cookies",
             "in total they have", "altogether there are", "the total number is",
             "each box holds", "every one of the boxes has", "per hour she earns",
             "how many are left", "remaining after she gave away", "after eating some left"] * 3
    ops = (["/"] * 3 + ["+"] * 3 + ["*"] * 3 + ["-"] * 3) * 3
    model = OpModel.fit(texts, ops)
    p = model.proba(["half of the pies", "the total of both", "how many left"])
    assert p.shape == (3, 4)
    assert p[0].argmax() == 3 and p[1].argmax() == 0 and p[2].argmax() == 1
    fit_half, _, ratio_half = op_features(p[:1], ["*"])[0]  # × where the words say ÷
    fit_ok, _, ratio_ok = op_features(p[:1], ["/"])[0]
    assert fit_half < fit_ok and ratio_half > ratio_ok


def test_op_inputs_hide_numbers_and_operator_signs():
    rep = run_rules(Trace(question=PIZZA, steps=["He eats 2 x 16 = <<2*16=32>>32 large slices"],
                          answer="32"))
    ((text, ops),) = op_inputs(rep)
    assert ops == "*"
    assert not any(c.isdigit() for c in text) and "*" not in text and " x " not in text
    assert "q_large" in text


def test_a_model_scores_only_the_features_it_was_trained_on(small_classifier):
    names = small_classifier.meta["config"]["features"]
    older = StepClassifier(small_classifier.model, small_classifier.threshold,
                           {"config": {"features": list(names)}},
                           op_model=small_classifier.op_model)
    assert older.columns() is None or len(older.columns()) == len(names)
    assert names == RULE_NAMES
    broken = StepClassifier(small_classifier.model, 0.5,
                            {"config": {"features": [*names[:-1], "no_such_feature"]}})
    rep = run_rules(Trace(question=PIZZA, steps=["2 x 16 = 32"], answer="32"))
    with pytest.raises(UserError, match="no_such_feature"):
        broken.step_probs([rep])
    probs = older.step_probs([rep])
    assert len(probs[0]) == 1 and np.isfinite(probs[0][0])



def _step_columns(question: str, steps: list[str], answer: str) -> dict[str, list[float]]:
    """The rule features of each step of a trace, by feature name."""
    from slmstack.verify.features import RULE_NAMES, TokenEmbedder, step_matrix
    from slmstack.verify.rules import run_rules
    from slmstack.verify.trace import Trace

    x = step_matrix([run_rules(Trace(question=question, steps=steps, answer=answer))],
                    TokenEmbedder())
    return {n: x[:, j].tolist() for j, n in enumerate(RULE_NAMES)}


PLANTS = ("Mary has 2 plants on each of 40 ledges and gets 18 more. She gives away 40. How many "
          "are left?")


def test_operands_no_text_writes_and_steps_that_do_nothing_are_features():
    """``weak_given``: an operand given only as a constant or a multiple the question's words
    name (the 20 of "half" of 40 where the step should use its own 4); ``prose_derived``: one an
    earlier step only says in words; ``identity_op``: dividing by 1."""
    col = _step_columns("Billy has $10. He spends half of it, then buys 40 gumballs at $.05 "
                        "each. A bag holds 300 candies.",
                        ["He spent $2 on gumballs because 40 * .05 = 2.",
                         "He then spent 20 - 4 = 16 dollars.",
                         "A third bag has 300 / 1 = 300 candies.",
                         "He has $6 left.", "So 6 + 2 = 8."], "8")
    assert col["weak_given"][:2] == [0.0, 1.0]  # 20 is only 40 × half
    assert col["identity_op"][:3] == [0.0, 0.0, 1.0]
    assert col["prose_derived"][4] == 1.0  # the 6 of "He has $6 left."
    assert col["prose_derived"][0] == 0.0


def test_a_result_nothing_uses_marks_the_steps_after_it():
    """``dangling_before`` / ``next_after_dangling``: "2 × 40 = 80" that no later step uses,
    before "40 + 18" (which should have taken the 80): a swapped quantity leaves one behind."""
    col = _step_columns(PLANTS, ["She had 2 * 40 = 80 plants.",
                                 "Then she had 40 + 18 = 58 plants.",
                                 "She is left with 58 - 40 = 18 plants."], "18")
    assert col["next_after_dangling"] == [0.0, 1.0, 0.0]
    assert col["dangling_before"] == [0.0, 1.0, 1.0]
    sound = _step_columns(PLANTS, ["She had 2 * 40 = 80 plants.",
                                   "Then she had 80 + 18 = 98 plants.",
                                   "She is left with 98 - 40 = 58 plants."], "58")
    assert sound["dangling_before"] == [0.0, 0.0, 0.0]


def test_how_values_flow_through_the_steps():
    """``uses_prev_result``, ``result_fanout``, ``operand_age`` of a three-step solution."""
    col = _step_columns(PLANTS, ["She had 2 * 40 = 80 plants.",
                                 "Then she had 80 + 18 = 98 plants.",
                                 "She is left with 98 - 40 = 58 plants, 80 of them old: "
                                 "58 + 80 = 138."], "58")
    assert col["uses_prev_result"] == [0.0, 1.0, 1.0]
    assert col["result_fanout"] == [2.0, 1.0, 0.0]
    assert col["operand_age"] == [0.0, 1.0, 2.0]



def test_the_operation_model_trains_the_same_under_any_hash_seed():
    """A step applying several operations gives one row per operation; their order once came
    from a set of strings, so it changed with Python's hash seed, and with it the fitted
    model's last digits and every classifier trained on its probabilities (a dozen trainings of
    the same code set thresholds from 0.89 to 0.92)."""
    import os
    import subprocess
    import sys

    code = (
        "import hashlib\n"
        "from sklearn.linear_model import LogisticRegression\n"
        "from slmstack.verify.opmodel import OpModel\n"
        "seen = []\n"
        "fit = LogisticRegression.fit\n"
        "LogisticRegression.fit = lambda self, x, y: (seen.append(list(y)), fit(self, x, y))[1]\n"
        "texts = [f'split the {w} q_friends' for w in 'apples pears plums figs'.split()] * 2\n"
        "OpModel.fit(texts, ['/*-', '+*', '-/', '*+-/'] * 2)\n"
        "print(seen)\n")
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, env={**os.environ, "PYTHONHASHSEED": seed}).stdout
            for seed in ("1", "2", "3", "4")}
    assert len(runs) == 1, runs
