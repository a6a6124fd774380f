"""The CLI: help is instant, user mistakes are one line on stderr with exit code 1, and the chat
command streams a real answer from the embedded model."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from slmstack.cli import app

runner = CliRunner()


def _one_line_error(result, needle: str) -> None:
    assert result.exit_code == 1, result.output
    text = result.stderr.strip()
    assert text.startswith("error:"), text
    assert "Traceback" not in text
    assert needle in text, text


def test_help_does_not_import_heavy_parts():
    code = (
        "import sys; from typer.testing import CliRunner; from slmstack.cli import app;"
        "r = CliRunner().invoke(app, ['--help']); assert r.exit_code == 0, r.output;"
        "heavy = [m for m in ('torch', 'transformers', 'llama_cpp', 'sentence_transformers',"
        " 'sklearn') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_models_lists_the_catalog():
    result = runner.invoke(app, ["models"])
    assert result.exit_code == 0, result.output
    assert "smollm2-135m" in result.output and "qwen3.5-9b" in result.output


def test_unknown_model_scheme_is_one_line():
    result = runner.invoke(app, ["chat", "hi", "--model", "nope:thing"])
    _one_line_error(result, "unknown model URI 'nope:thing'")


def test_missing_gguf_file_is_one_line(tmp_path):
    result = runner.invoke(app, ["chat", "hi", "--model", f"gguf:{tmp_path}/missing.gguf"])
    _one_line_error(result, "missing.gguf")


def test_bad_schema_is_one_line(tmp_path):
    result = runner.invoke(app, ["chat", "hi", "--schema", "{not json"])
    _one_line_error(result, "--schema")
    broken = tmp_path / "s.json"
    broken.write_text('{"type": "object",\n "properties": {city}}')
    result = runner.invoke(app, ["chat", "hi", "--schema", str(broken)])
    _one_line_error(result, f"--schema file {str(broken)!r} is not valid JSON")
    assert "line 2, column" in result.stderr


def test_schema_that_is_not_json_schema_is_one_line(embedded_model, monkeypatch):
    monkeypatch.setattr("slmstack.cli._model", lambda uri, config: embedded_model)
    result = runner.invoke(app, ["chat", "hi", "--schema", '{"type": "strnig"}'])
    _one_line_error(result, "strnig")


def test_dead_server_is_one_line():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = runner.invoke(app, ["chat", "hi", "--model", f"openai+http://127.0.0.1:{port}/v1#m"])
    _one_line_error(result, f"127.0.0.1:{port}")


def test_unrepairable_reply_is_one_line(monkeypatch):
    from slmstack.models.scripted import ScriptedModel

    model = ScriptedModel(["this is not json at all"], name="scripted")
    monkeypatch.setattr("slmstack.cli._model", lambda uri, config: model)
    schema = '{"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}'
    result = runner.invoke(app, ["chat", "hi", "--schema", schema])
    _one_line_error(result, "this is not json at all")


def test_bad_config_is_one_line(tmp_path):
    cfg = tmp_path / "slmstack.toml"
    cfg.write_text("default_model = [")
    result = runner.invoke(app, ["models", "--config", str(cfg)])
    _one_line_error(result, "not valid TOML")


def test_bfcl_bad_mode_is_one_line(tmp_path):
    result = runner.invoke(app, ["eval", "bfcl", "--data", str(tmp_path), "--mode", "fast"])
    _one_line_error(result, "--mode 'fast'")


@pytest.mark.slow
def test_chat_streams_a_real_answer(embedded_model, monkeypatch):
    monkeypatch.setattr("slmstack.cli._model", lambda uri, config: embedded_model)
    result = runner.invoke(app, ["chat", "What is the capital of France?", "--max-tokens", "24"])
    assert result.exit_code == 0, result.output
    assert len(result.stdout.strip()) > 0
    assert "tokens" in result.stderr  # the usage footer


@pytest.mark.slow
def test_chat_with_schema_prints_valid_json(embedded_model, monkeypatch):
    monkeypatch.setattr("slmstack.cli._model", lambda uri, config: embedded_model)
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    result = runner.invoke(
        app, ["chat", "Name a city in Japan.", "--schema", json.dumps(schema), "--max-tokens", "40"]
    )
    assert result.exit_code == 0, result.output
    last = result.stdout.strip().splitlines()[-1]
    assert isinstance(json.loads(last)["city"], str)
