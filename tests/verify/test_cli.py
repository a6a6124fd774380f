from __future__ import annotations

import json

from typer.testing import CliRunner

from slmstack.cli import app

runner = CliRunner()


def test_check_prints_findings(tmp_path):
    trace = tmp_path / "t.json"
    trace.write_text(json.dumps({"question": "Tom has 48 marbles and gives away half.",
                                 "steps": ["48 / 2 = 25"], "answer": "25"}))
    res = runner.invoke(app, ["verify", "check", str(trace), "--rules-only"])
    assert res.exit_code == 0, res.output
    assert "arithmetic" in res.output and "48/2 = 24" in res.output
    res = runner.invoke(app, ["verify", "check", str(trace), "--rules-only", "--json"])
    assert json.loads(res.output)[0]["score"] < 0.5


def test_check_bad_file_is_one_line_error(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    res = runner.invoke(app, ["verify", "check", str(bad), "--rules-only"])
    assert res.exit_code == 1 and "is not JSON" in res.output
    res = runner.invoke(app, ["verify", "check", str(tmp_path / "missing.json")])
    assert res.exit_code == 1 and "cannot read trace file" in res.output


def test_verify_trace_is_short_for_verify_check_trace(tmp_path):
    trace = tmp_path / "t.json"
    trace.write_text(json.dumps({"question": "Tom has 48 marbles and gives away half.",
                                 "steps": ["48 / 2 = 25"], "answer": "25"}))
    res = runner.invoke(app, ["verify", str(trace), "--rules-only"])
    assert res.exit_code == 0, res.output
    assert "48/2 = 24" in res.output
    res = runner.invoke(app, ["verify", "-", "--rules-only", "--json"],
                        input=trace.read_text())
    assert res.exit_code == 0 and json.loads(res.output)[0]["score"] < 0.5
    res = runner.invoke(app, ["verify", str(tmp_path / "missing.json")])
    assert res.exit_code == 1 and "cannot read trace file" in res.output
    res = runner.invoke(app, ["verify", "tarin"])  # a typo of a sub-command stays a typo
    assert res.exit_code == 2 and "No such command" in res.output


def test_eval_rules_only_on_a_few_problems(gsm8k, tmp_path):
    out = tmp_path / "m.json"
    res = runner.invoke(app, ["verify", "eval", "--data", str(gsm8k), "--limit", "8",
                              "--rules-only", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert json.loads(out.read_text())["data"]["problems"] == 8


def test_train_then_eval_with_that_model(gsm8k, tmp_path):
    model = tmp_path / "model"
    res = runner.invoke(app, ["verify", "train", "--data", str(gsm8k), "--limit", "60",
                              "--out", str(model)])
    assert res.exit_code == 0, res.output
    assert (model / "meta.json").is_file() and "saved gbt-" in res.output
    res = runner.invoke(app, ["verify", "eval", "--data", str(gsm8k), "--limit", "5",
                              "--model", str(model)])
    assert res.exit_code == 0, res.output
    assert "step f1" in res.output


def test_train_without_data_says_where_to_point(tmp_path):
    res = runner.invoke(app, ["verify", "train", "--data", str(tmp_path)])
    assert res.exit_code == 1 and "no GSM8K train.jsonl" in res.output
