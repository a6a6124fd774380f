"""Fixtures: the GSM8K files (read in place from ../shared/data) and a step classifier really
trained on a small slice of them (once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

GSM8K = Path(__file__).resolve().parents[3] / "shared" / "data" / "gsm8k"


@pytest.fixture(scope="session")
def gsm8k() -> Path:
    if not (GSM8K / "train.jsonl").is_file():
        pytest.skip(f"GSM8K not found at {GSM8K}")
    return GSM8K


@pytest.fixture(scope="session")
def small_classifier(gsm8k, tmp_path_factory):
    """Trained on the corruptions of the first 160 train problems (about 3,000 steps), its
    threshold set on the clean validation solutions among the first 600 (66 of them: with the
    16 among the first 160 the threshold is the single worst score, and as likely to flag one
    clean test solution in ten as one in fifty)."""
    from slmstack.verify.data import examples, is_validation
    from slmstack.verify.model import StepClassifier, fit

    exs = examples(gsm8k, "train", 160)
    val = [e for e in examples(gsm8k, "train", 600) if is_validation(e.problem)]
    clf = fit([e for e in exs if not is_validation(e.problem)], val, config={"test": True})
    folder = clf.save(tmp_path_factory.mktemp("verify-model"))
    return StepClassifier.load(folder)
