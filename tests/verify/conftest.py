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
    """Trained on the corruptions of the first 160 train problems (about 3,000 steps)."""
    from slmstack.verify.data import examples, is_validation
    from slmstack.verify.model import StepClassifier, fit

    exs = examples(gsm8k, "train", 160)
    clf = fit([e for e in exs if not is_validation(e.problem)],
              [e for e in exs if is_validation(e.problem)], config={"test": True})
    folder = clf.save(tmp_path_factory.mktemp("verify-model"))
    return StepClassifier.load(folder)
