"""The egress allowlist: the gateway refuses to start when a configured upstream is not allowed,
naming the host and the config key to change."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from slmstack.cli import app as cli
from slmstack.config import Settings
from slmstack.errors import ConfigError
from slmstack.models.openai_compat import OpenAIChatModel
from slmstack.server import create_app
from slmstack.server.egress import allowed, host_port
from slmstack.store import Route, RoutingTable

from .conftest import gateway_settings


def _with(tmp_path: Path, **top) -> Settings:
    base = gateway_settings(tmp_path, **top.pop("gateway", {}))
    return base.model_copy(update=top)


def test_loopback_upstreams_are_allowed_by_default(tmp_path, store) -> None:
    s = _with(tmp_path, aliases={"local": "openai+http://127.0.0.1:8000/v1#qwen"})
    assert "local" in create_app(s, store=store).state.parts.pool.names


@pytest.mark.parametrize("top, host, where", [
    ({"aliases": {"big": "openai+https://api.example.com/v1#gpt"}}, "api.example.com",
     "aliases.big"),
    ({"default_model": "openai+http://10.0.0.9:8000/v1#m"}, "10.0.0.9", "default_model"),
    ({"router": {"tiers": {"large": "openai+http://gpu.corp:80/v1#q"}}}, "gpu.corp",
     "router.tiers.large"),
    ({"gateway": {"models": ["openai+http://[fd00::1]:9000/v1#m"]}}, "fd00::1",
     "gateway.models[0]"),
])
def test_an_unlisted_upstream_stops_the_gateway(tmp_path, store, top, host, where) -> None:
    with pytest.raises(ConfigError) as info:
        create_app(_with(tmp_path, **top), store=store, models={})
    msg = str(info.value)
    assert repr(host) in msg and where in msg and "gateway.egress_allow" in msg


def test_patterns_and_ports(tmp_path, store) -> None:
    s = _with(tmp_path, aliases={"big": "openai+http://gpu1.corp.example:8000/v1#q"},
              gateway={"egress_allow": ["*.corp.example"]})
    create_app(s, store=store, models={})
    assert allowed("gpu1.corp.example", 8000, ["gpu1.corp.example:8000"])
    assert not allowed("gpu1.corp.example", 8001, ["gpu1.corp.example:8000"])
    assert not allowed("corp.example.evil.net", None, ["*.corp.example"])
    assert host_port("openai+https://H.Example:443/v1#m") == ("h.example", 443)


def test_routing_table_and_injected_models_are_checked(tmp_path, store) -> None:
    s = gateway_settings(tmp_path)
    remote = OpenAIChatModel("http://203.0.113.5:8000/v1", "m")
    with pytest.raises(ConfigError, match="'203.0.113.5'.*model 'remote'"):
        create_app(s, store=store, models={"remote": remote})
    store.save_routing_table(RoutingTable(routes={"chat": Route(
        model="small", fallbacks=["openai+http://198.51.100.7/v1#big"])}))
    with pytest.raises(ConfigError, match="'198.51.100.7'.*routing table v1"):
        create_app(s, store=store, models={})


def test_serve_refuses_to_start(tmp_path: Path) -> None:
    cfg = tmp_path / "slmstack.toml"
    cfg.write_text(
        '[aliases]\nbig = "openai+http://llm.example.org:8000/v1#m"\n'
        f'[store]\nurl = "{tmp_path / "t.db"}"\n'
        f'[gateway]\nkeys_path = "{tmp_path / "k.json"}"\naudit_path = "{tmp_path / "a.jsonl"}"\n')
    res = CliRunner().invoke(cli, ["serve", "--config", str(cfg), "--port", "0"])
    assert res.exit_code == 1
    assert "'llm.example.org'" in res.output and "gateway.egress_allow" in res.output
