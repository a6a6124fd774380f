"""slmstack.toml → Settings: defaults, aliases, parts' raw sections, and one-line config errors."""

from __future__ import annotations

import pytest

from slmstack.config import DEFAULT_MODEL, Settings, load_settings
from slmstack.errors import ConfigError


def test_no_file_means_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SLMSTACK_CONFIG", raising=False)
    monkeypatch.delenv("SLMSTACK_MODEL", raising=False)
    s = load_settings()
    assert s.default_model == DEFAULT_MODEL
    assert s.resolve(None) == DEFAULT_MODEL


def test_file_in_cwd_is_read_and_aliases_resolve(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SLMSTACK_CONFIG", raising=False)
    monkeypatch.delenv("SLMSTACK_MODEL", raising=False)
    (tmp_path / "slmstack.toml").write_text(
        'default_model = "fast"\n[aliases]\nfast = "gguf:/models/q.gguf"\n'
        "[embedded]\nn_ctx = 2048\n[store]\nurl = \"sqlite:///t.db\"\n"
    )
    s = load_settings()
    assert s.resolve(None) == "gguf:/models/q.gguf"
    assert s.embedded.n_ctx == 2048
    assert s.store == {"url": "sqlite:///t.db"}  # raw section; the store validates it


def test_env_model_overrides_default(monkeypatch):
    monkeypatch.setenv("SLMSTACK_MODEL", "gguf:/x.gguf")
    assert Settings().resolve(None) == "gguf:/x.gguf"
    assert Settings().resolve("embedded:smollm2-135m") == "embedded:smollm2-135m"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("default_model = ", "not valid TOML"),
        ("[embedded]\nn_ctx = 'big'\n", "embedded.n_ctx"),
        ("defualt_model = 'x'\n", "defualt_model"),  # a typo must not pass silently
    ],
)
def test_bad_config_names_the_problem(tmp_path, text, needle):
    p = tmp_path / "slmstack.toml"
    p.write_text(text)
    with pytest.raises(ConfigError) as exc:
        load_settings(p)
    assert needle in str(exc.value)
    assert str(p) in str(exc.value)


def test_missing_explicit_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml")


def test_part_sections_are_validated_by_the_part(monkeypatch):
    from slmstack.store import StoreSettings

    monkeypatch.delenv("SLMSTACK_STORE_URL", raising=False)
    assert StoreSettings.from_settings(Settings()).url.startswith("sqlite")
    good = Settings(store={"url": "postgresql://db/x", "retention_days": 30})
    assert StoreSettings.from_settings(good).retention_days == 30
    with pytest.raises(ConfigError, match=r"store\.queue_size.*-1"):
        StoreSettings.from_settings(Settings(store={"queue_size": -1}))
    with pytest.raises(ConfigError, match=r"store\.ulr"):
        StoreSettings.from_settings(Settings(store={"ulr": "x"}))


def test_store_url_from_env(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SLMSTACK_CONFIG", raising=False)
    monkeypatch.setenv("SLMSTACK_STORE_URL", "postgresql://db/traces")
    assert load_settings().store["url"] == "postgresql://db/traces"
