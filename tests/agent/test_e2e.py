"""End to end: the embedded SmolLM2-135M runs a two-tool question through a real MCP server.

"What is the weather where Bob lives?" needs two calls in sequence: the city comes from the first
tool's result, not from the question. Nothing is scripted: the model decides every step. Whether
a 135M model gets the two hops right flips with a word of prompt, so this test does not assert it
(the BFCL agent evaluation measures how often small models get such tasks right; the scripted
tests in test_loop.py pin the control flow). What it asserts is what the runtime guarantees
whatever the model does: every call it makes is valid against the MCP tool's schema and reaches
the server; a failing tool's error comes back as an observation that says what to fix; the run
stops with a clear reason inside its step budget; every step is recorded with its usage.
"""

from __future__ import annotations

import pytest

from slmstack.agent import Agent, MCPServerSpec

HOMES = {"alice": "Lyon", "bob": "Oslo", "chen": "Taipei"}
WEATHER = {"lyon": "It is 21 degrees Celsius and sunny in Lyon.",
           "oslo": "It is -3 degrees Celsius and snowing in Oslo.",
           "taipei": "It is 29 degrees Celsius and raining in Taipei."}


@pytest.mark.slow
def test_embedded_model_runs_a_two_tool_question_over_mcp(
    embedded_model, stdio_spec: MCPServerSpec
) -> None:
    with Agent(embedded_model, mcp=[stdio_spec], parallel_tool_calls=False,
               budgets={"max_steps": 6}) as agent:
        result = agent.run("What is the weather where Bob lives?")

    assert result.stop_reason in {"done", "loop", "max_steps"}, result.detail
    model_steps = [s for s in result.steps if s.kind == "model"]
    assert 1 <= len(model_steps) <= 6
    assert all(s.completion is not None and s.completion.usage.output_tokens > 0
               for s in model_steps if s.error is None)
    assert result.tool_steps, "the model made no call although both tools fit the question"
    for step in result.tool_steps:
        assert step.source == "mcp:demo"
        assert step.call.name in {"find_home_city", "get_weather", "multiply"}
        # The schema constraint leaves the model no way to send malformed arguments: every
        # failure is the tool's own answer to a value it does not know, fed back to the model.
        if step.ok and step.call.name == "multiply":
            assert step.output == str(step.call.arguments["a"] * step.call.arguments["b"])
        elif step.ok:
            arg = next(iter(step.call.arguments.values())).strip().lower()
            table = HOMES if step.call.name == "find_home_city" else WEATHER
            assert step.output == table[arg]
        else:
            assert step.output.startswith("Error:") and "known:" in step.output
            assert "Fix the call" in step.output
    if result.stop_reason == "done":
        assert isinstance(result.answer, str) and result.answer.strip()
