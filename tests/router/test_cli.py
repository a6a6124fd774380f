"""``slmstack router …``: show, save, rollback, explain, train."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from slmstack.cli import app

from .test_classifier import DOCS, GSM8K

runner = CliRunner()
CONFIG = """
[router]
tiers = { small = "embedded:smollm2-135m", large = "gguf:/models/big.gguf" }
[router.routes.tool_call]
model = "small"
fallbacks = ["large"]
verify = "escalate"
verify_threshold = 0.4
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "slmstack.toml"
    path.write_text(CONFIG)
    return path


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["router", *args])
    return result.exit_code, result.output


def test_show_prints_the_settings_table_without_a_store(config, tmp_path, monkeypatch) -> None:
    from slmstack import cli

    monkeypatch.setattr(cli.out, "width", 160)  # the table's columns, untruncated
    code, out = _run("show", "--config", str(config), "--store", str(tmp_path / "none.db"))
    assert code == 0, out
    assert "tool_call" in out and "gguf:/models/big.gguf" in out and "escalate < 0.4" in out
    assert "slmstack/auto, slmstack/small, slmstack/large" in out
    assert not (tmp_path / "none.db").exists()


def test_save_show_and_rollback_versions(config, tmp_path) -> None:
    db = str(tmp_path / "t.db")
    table = tmp_path / "table.json"
    table.write_text(json.dumps({"routes": {"chat": {"model": "gguf:/models/big.gguf"}}}))
    assert _run("save", str(table), "--store", db, "--config", str(config)) == (
        0, "routing table v1 saved\n")
    code, out = _run("show", "--store", db, "--config", str(config))
    assert code == 0 and "routing table v1" in out and "chat" in out
    code, out = _run("rollback", "--store", db, "--config", str(config))
    assert code == 1 and "has no earlier version" in out


def test_save_refuses_a_file_that_is_not_a_routing_table(tmp_path) -> None:
    bad = tmp_path / "t.json"
    bad.write_text('{"routes": {"chat": {"fallbacks": []}}}')
    code, out = _run("save", str(bad), "--store", str(tmp_path / "t.db"))
    assert code == 1 and "cannot read a routing table" in out and "model" in out


def test_explain_shows_kind_source_and_chain(config, tmp_path) -> None:
    code, out = _run("explain", "What is the weather?", "--tools", "--config", str(config),
                     "--store", str(tmp_path / "none.db"))
    assert code == 0, out
    got = json.loads(out)
    assert got["kind"] == "tool_call" and got["decided_by"] == "structure"
    assert got["chain"] == ["embedded:smollm2-135m", "gguf:/models/big.gguf"]


@pytest.mark.skipif(not GSM8K.is_file(), reason="GSM8K data missing")
def test_train_writes_a_classifier_with_meta(tmp_path) -> None:
    rows = [{"text": json.loads(x)["question"], "kind": "math"}
            for x in GSM8K.read_text().splitlines()[:15]]
    rows += [{"text": json.loads(x)["question"], "kind": "docs"}
             for x in DOCS.read_text().splitlines()[:15]]
    examples = tmp_path / "ex.jsonl"
    examples.write_text("\n".join(json.dumps(r) for r in rows))
    code, out = _run("train", "--examples", str(examples), "--out", str(tmp_path / "clf"))
    assert code == 0, out
    meta = json.loads((tmp_path / "clf" / "meta.json").read_text())
    assert meta["inputs"]["per_label"] == {"math": 15, "docs": 15}
    assert meta["metrics"]["cv_accuracy"] >= 0.8


def test_train_needs_exactly_one_source(tmp_path) -> None:
    code, out = _run("train", "--out", str(tmp_path / "clf"))
    assert code == 1 and "exactly one of --examples FILE or --from-store" in out
