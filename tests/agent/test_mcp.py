"""MCP tools through the real SDK against a real server process: stdio and streamable HTTP."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from slmstack.agent import Agent, MCPConnection, MCPServerSpec, mcp_servers_from_toml
from slmstack.errors import BackendUnavailable, ConfigError
from slmstack.models.scripted import ScriptedModel

SERVER = Path(__file__).with_name("mcp_server.py")


def _tool_names(spec: MCPServerSpec) -> list[str]:
    with MCPConnection(spec) as conn:
        return [t.name for t in conn.tools()]


@pytest.mark.parametrize("transport", ["stdio", "http"])
def test_list_and_call_tools(transport: str, request: pytest.FixtureRequest) -> None:
    spec = request.getfixturevalue(f"{transport}_spec")
    with MCPConnection(spec) as conn:
        tools = {t.name: t for t in conn.tools()}
        assert set(tools) == {"find_home_city", "get_weather", "multiply"}
        weather = tools["get_weather"]
        assert weather.spec.description == "Get the current weather in a city."
        assert weather.spec.parameters["properties"]["city"] == {
            "type": "string",
            "description": "the city name, e.g. Oslo",
        }
        assert weather.source == f"mcp:{spec.name}"
        assert weather.invoke({"city": "oslo"}).output == (
            "It is -3 degrees Celsius and snowing in Oslo."
        )
        assert tools["multiply"].invoke({"a": 6, "b": 7}).output == "42"
        failed = tools["get_weather"].invoke({"city": "Atlantis"})
        assert not failed.ok and "no weather for 'Atlantis'" in failed.output


def test_allowlist_and_prefix(stdio_spec: MCPServerSpec) -> None:
    spec = stdio_spec.model_copy(update={"allow": ["get_*"], "prefix": "demo."})
    assert _tool_names(spec) == ["demo.get_weather"]


def test_agent_runs_mcp_tools(http_spec: MCPServerSpec) -> None:
    reply = '{"tool_calls": [{"name": "multiply", "arguments": {"a": 6, "b": 7}}]}'
    model = ScriptedModel([reply, '{"content": "6 times 7 is 42."}'])
    with Agent(model, mcp=[http_spec], allow=["multiply"]) as agent:
        assert [s.name for s in agent.tools.specs()] == ["multiply"]
        result = agent.run("What is 6 times 7?")
    assert result.stop_reason == "done"
    [step] = result.tool_steps
    assert step.source == "mcp:demo_http" and step.output == "42"


def test_unreachable_servers_are_clear_errors(tmp_path: Path) -> None:
    dead = MCPServerSpec(name="dead", url="http://127.0.0.1:9/mcp", timeout_s=5)
    with pytest.raises(BackendUnavailable, match="'dead'.*did not connect"):
        MCPConnection(dead).open()
    bogus = MCPServerSpec(name="bogus", command=sys.executable, args=["-c", "print('hi')"],
                          timeout_s=5)
    with pytest.raises(BackendUnavailable, match="'bogus'"):
        Agent(ScriptedModel([]), mcp=[bogus]).run("x")


def test_servers_from_toml(tmp_path: Path) -> None:
    cfg = tmp_path / "slmstack.toml"
    cfg.write_text(
        f'[agent.mcp.demo]\ncommand = {json.dumps(sys.executable)}\n'
        f'args = [{json.dumps(str(SERVER))}]\nallow = ["multiply"]\n'
        '[agent.mcp.web]\nurl = "http://127.0.0.1:8000/mcp"\nprefix = "web."\n'
    )
    demo, web = mcp_servers_from_toml(cfg)
    assert demo.name == "demo" and demo.command == sys.executable and demo.allow == ["multiply"]
    assert web.url == "http://127.0.0.1:8000/mcp" and web.prefix == "web."
    assert _tool_names(demo) == ["multiply"]
    cfg.write_text('[agent.mcp.both]\ncommand = "x"\nurl = "http://h/mcp"\n')
    with pytest.raises(ConfigError, match=r"\[agent.mcp.both\].*exactly one of command"):
        mcp_servers_from_toml(cfg)
    cfg.write_text('[agent.mcp.typo]\ncommand = "x"\nargz = []\n')
    with pytest.raises(ConfigError, match="argz"):
        mcp_servers_from_toml(cfg)
