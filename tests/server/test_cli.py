"""``slmstack keys create|list|revoke|verify-audit`` on real files."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from slmstack.cli import app
from slmstack.server.keys import KeyStore

runner = CliRunner()


def _config(tmp_path: Path) -> Path:
    cfg = tmp_path / "slmstack.toml"
    cfg.write_text(f'[gateway]\nkeys_path = "{tmp_path / "k.json"}"\n'
                   f'audit_path = "{tmp_path / "a.jsonl"}"\n')
    return cfg


def test_keys_lifecycle_and_audit(tmp_path: Path) -> None:
    cfg = str(_config(tmp_path))
    res = runner.invoke(app, ["keys", "create", "--name", "ci", "--budget", "2.5", "--rpm", "30",
                              "--config", cfg])
    assert res.exit_code == 0, res.output
    key = res.output.strip().splitlines()[-1]
    assert key.startswith("sk-slm-")
    ks = KeyStore(tmp_path / "k.json")
    rec = ks.authenticate(f"Bearer {key}")
    assert (rec.name, rec.budget_usd, rec.rpm) == ("ci", 2.5, 30)
    assert key not in (tmp_path / "k.json").read_text()

    res = runner.invoke(app, ["keys", "list", "--config", cfg])
    assert rec.id in res.output and "ci" in res.output and "2.5" in res.output
    res = runner.invoke(app, ["keys", "revoke", rec.id, "--config", cfg])
    assert res.exit_code == 0 and "revoked" in res.output
    res = runner.invoke(app, ["keys", "revoke", "nope", "--config", cfg])
    assert res.exit_code == 1 and "no API key with id 'nope'" in res.output

    res = runner.invoke(app, ["keys", "verify-audit", "--config", cfg])
    assert res.exit_code == 0 and "ok: 2 entries" in res.output
    log = tmp_path / "a.jsonl"
    lines = log.read_text().splitlines()
    first = json.loads(lines[0])
    assert first["event"] == "key_created" and first["key_id"] == rec.id
    first["name"] = "someone else"
    log.write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")
    res = runner.invoke(app, ["keys", "verify-audit", "--config", cfg])
    assert res.exit_code == 1 and "line 1" in res.output and "altered" in res.output
