"""API keys: shown once, hashed at rest, refused when wrong, malformed or revoked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from slmstack.errors import UserError
from slmstack.server import keys as keys_mod
from slmstack.server.errors import GatewayError
from slmstack.server.keys import KeyStore


def _refused(ks: KeyStore, header: str | None) -> GatewayError:
    with pytest.raises(GatewayError) as info:
        ks.authenticate(header)
    assert info.value.status == 401
    return info.value


def test_key_is_stored_only_as_a_salted_hash(tmp_path: Path) -> None:
    ks = KeyStore(tmp_path / "keys.json")
    rec, text = ks.create("ci", budget_usd=1.5, rpm=10)
    raw = (tmp_path / "keys.json").read_text()
    secret = text.split(".", 1)[1]
    assert secret not in raw and text not in raw
    stored = json.loads(raw)["keys"][0]
    assert stored["id"] == rec.id and len(stored["salt"]) == 32 and len(stored["hash"]) == 64
    assert (tmp_path / "keys.json").stat().st_mode & 0o077 == 0  # owner-only file
    other, other_text = ks.create("second")
    assert other.salt != rec.salt and other_text != text
    assert ks.authenticate(f"Bearer {text}").id == rec.id
    assert ks.authenticate(f"bearer {other_text}").budget_usd is None


def test_wrong_malformed_missing_and_revoked_keys_are_refused(tmp_path: Path) -> None:
    ks = KeyStore(tmp_path / "keys.json")
    rec, text = ks.create("x")
    assert "no API key" in _refused(ks, None).message
    assert "malformed" in _refused(ks, "Bearer hello").message
    assert "malformed" in _refused(ks, f"Basic {text}").message
    wrong = text[:-4] + ("aaaa" if not text.endswith("aaaa") else "bbbb")
    assert "invalid API key" in _refused(ks, f"Bearer {wrong}").message
    unknown = "sk-slm-000000000000." + text.split(".", 1)[1]
    assert "invalid API key" in _refused(ks, f"Bearer {unknown}").message
    ks.revoke(rec.id)
    assert "revoked" in _refused(ks, f"Bearer {text}").message
    with pytest.raises(UserError, match="no API key with id 'nope'"):
        ks.revoke("nope")


def test_a_running_store_sees_revocation_by_another_process(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keys_mod, "RELOAD_EVERY_S", 0.0)
    serving = KeyStore(tmp_path / "keys.json")
    rec, text = KeyStore(tmp_path / "keys.json").create("late")  # another writer (the CLI)
    assert serving.authenticate(f"Bearer {text}").id == rec.id
    KeyStore(tmp_path / "keys.json").revoke(rec.id)
    _refused(serving, f"Bearer {text}")


def test_a_damaged_key_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_text("{not json")
    with pytest.raises(UserError, match="not a valid key file"):
        KeyStore(path)
