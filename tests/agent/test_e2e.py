"""End to end: the embedded SmolLM2-135M answers a two-tool question through a real MCP server.

"What is the weather where Bob lives?" needs two calls in sequence: the city comes from the first
tool's result, not from the question. Nothing is scripted: the model decides every step; the
runtime contributes the tool schema constraint, the loop guard (a repeated call withdraws that
tool for a turn, a second repeat leaves only answering) and the observations.
"""

from __future__ import annotations

import pytest

from slmstack.agent import Agent, MCPServerSpec


@pytest.mark.slow
def test_embedded_model_answers_a_two_tool_question_over_mcp(
    embedded_model, stdio_spec: MCPServerSpec
) -> None:
    with Agent(embedded_model, mcp=[stdio_spec], parallel_tool_calls=False) as agent:
        result = agent.run("What is the weather where Bob lives?")

    ok_calls = [(s.call.name, s.call.arguments, s.output) for s in result.tool_steps if s.ok]
    assert ("find_home_city", {"person": "Bob"}, "Oslo") in ok_calls
    weather = [c for c in ok_calls if c[0] == "get_weather"]
    assert weather and weather[0][1] == {"city": "Oslo"}  # taken from the first tool's result
    assert result.stop_reason == "done", result.detail
    assert isinstance(result.answer, str)
    assert "-3" in result.answer and "snow" in result.answer.lower()
    assert all(s.source == "mcp:demo" for s in result.tool_steps)
