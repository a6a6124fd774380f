"""The shadow decision: agreement with the incumbent, or non-inferiority under the verifier (the
candidate's replies accepted about as often as the incumbent's own). Real grounding verifier,
recorded replies built as the gateway records them."""

from __future__ import annotations

import pytest
from conftest import tool_record

from slmstack.distill.cli import default_verifier
from slmstack.distill.config import ShadowConfig
from slmstack.distill.replay import ReplayResult, recorded_completion, summarize
from slmstack.distill.shadow import _passes, shadow, verified
from slmstack.errors import ConfigError
from slmstack.store.records import CallRecord
from slmstack.types import ToolCall


def _result(record: CallRecord, call: ToolCall, agreement: float, verifier) -> ReplayResult:
    shadow_rec = record.model_copy(update={
        "response": {"text": None, "tool_calls": [call.model_dump()]}, "shadow_of": record.id})
    verdict = verifier(record, recorded_completion(shadow_rec))
    return ReplayResult(id=record.id, model="gguf:/s.gguf", agreement=agreement,
                        verdict=verdict, shadow=shadow_rec)


def _invented(record: CallRecord) -> CallRecord:
    """The incumbent's reply with a city nobody asked about."""
    return record.model_copy(update={"response": {"text": None, "tool_calls": [
        ToolCall(name="get_weather", arguments={"city": "Manchester"}).model_dump()]}})


def test_verified_counts_who_the_verifier_accepts_where_they_disagree():
    v = default_verifier()
    paris, lima, oslo = tool_record(0, "Paris"), tool_record(2, "Lima"), tool_record(4, "Oslo")
    lima_wrong = _invented(lima)  # the incumbent invented a value: the candidate did not
    records = {r.id: r for r in (paris, lima_wrong, oslo)}
    results = [
        _result(paris, ToolCall(name="get_weather", arguments={"city": "Paris"}), 1.0, v),
        _result(lima_wrong, ToolCall(name="get_weather", arguments={"city": "Lima"}), 0.0, v),
        _result(oslo, ToolCall(name="get_weather", arguments={"city": "Bergen"}), 0.0, v),
    ]
    out = verified(results, records, v, pass_at=1.0)
    assert out["candidate_pass"] == pytest.approx(2 / 3, abs=1e-3)
    assert out["incumbent_pass"] == pytest.approx(2 / 3, abs=1e-3)
    assert out["disagreements"] == 2
    assert out["only_candidate_passes"] == 1 and out["only_incumbent_passes"] == 1


def _summary(n: int, agreement: float, cand: float, inc: float) -> dict:
    return {"n": n, "agreement": agreement, "verdict": None,
            "verified": {"candidate_pass": cand, "incumbent_pass": inc}}


def test_non_inferior_rule():
    cfg = ShadowConfig(rule="non_inferior", ratio=0.95, floor=0.5, min_n=30)
    assert _passes(_summary(75, 0.59, 0.80, 0.82), cfg)  # 0.80 ≥ 0.95 × 0.82
    assert not _passes(_summary(75, 0.59, 0.70, 0.82), cfg)  # accepted less often
    assert not _passes(_summary(75, 0.40, 0.90, 0.82), cfg)  # doing another task
    assert not _passes(_summary(20, 0.90, 0.90, 0.82), cfg)  # too few requests to tell
    assert not _passes(_summary(75, 0.90, 0.90, 0.0), cfg)  # nothing to compare against
    low = {**_summary(75, 0.59, 0.80, 0.82), "verdict": 0.4}  # the verifier doubts most replies
    assert not _passes(low, cfg) and not _passes({**low, "agreement": 0.9}, ShadowConfig(bar=0.85))
    agreement = ShadowConfig(bar=0.85)
    assert not _passes(_summary(75, 0.59, 0.80, 0.82), agreement)
    assert _passes(_summary(75, 0.86, 0.10, 0.82), agreement)  # agreement ignores the rates


def test_summary_failed_replies_are_not_accepted():
    v = default_verifier()
    rec = tool_record(0, "Paris")
    ok = _result(rec, ToolCall(name="get_weather", arguments={"city": "Paris"}), 1.0, v)
    failed = ok.model_copy(update={"error": "backend down", "verdict": None, "agreement": 0.0})
    out = verified([failed], {rec.id: rec}, v, pass_at=1.0)
    assert out["candidate_pass"] == 0 and out["incumbent_pass"] == 1
    assert summarize([ok, failed])["errors"] == 1


def test_non_inferior_needs_a_verifier(tmp_path):
    from slmstack.distill.artifacts import RunDir

    with pytest.raises(ConfigError, match="verifier"):
        shadow(RunDir(tmp_path / "run"), ShadowConfig(rule="non_inferior"), verifier=None,
               show=False)


def test_kept_replies_are_scored_by_the_current_verifier():
    from slmstack.distill.replay import rescored

    rec = tool_record(0, "Paris")
    kept = _result(rec, ToolCall(name="get_weather", arguments={"city": "Bergen"}), 0.0,
                   lambda r, c: 1.0)  # an earlier run's verifier accepted everything
    assert kept.verdict == 1.0
    assert rescored(kept, rec, default_verifier()).verdict < 1.0  # "Bergen" was never asked
