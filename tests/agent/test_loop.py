"""The loop's control flow with a deterministic scripted model: every guard, every stop reason."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter

from slmstack.agent import (
    Agent,
    Budgets,
    FinalStep,
    GuardStep,
    LoopPolicy,
    ModelStep,
    RunResult,
    Step,
    ToolStep,
)
from slmstack.errors import BackendUnavailable, ToolCallError, UserError
from slmstack.models.base import Request
from slmstack.models.catalog import ModelProfile
from slmstack.models.scripted import ScriptedModel
from slmstack.types import ToolSpec


def calls(*items: tuple[str, dict[str, Any]]) -> str:
    return json.dumps({"tool_calls": [{"name": n, "arguments": a} for n, a in items]})


def answer(text: str) -> str:
    return json.dumps({"content": text})


def get_stock(symbol: str) -> str:
    """Get the stock price of a company.

    Args:
        symbol: ticker symbol, e.g. ACME
    """
    return {"ACME": "ACME trades at 12.5 USD", "INITECH": "INITECH trades at 7 USD"}.get(
        symbol, f"unknown symbol {symbol!r}"
    )


def get_news(symbol: str) -> str:
    """Latest headline about a company."""
    return f"{symbol}: quarterly results published"


def shown(req: Request) -> str:
    return "\n".join(m.content or "" for m in req.messages)


# ---- done ---------------------------------------------------------------------------------------


def test_tool_then_answer_records_every_step() -> None:
    model = ScriptedModel([calls(("get_stock", {"symbol": "ACME"})), answer("ACME is at 12.5 USD")])
    seen: list[Step] = []
    result = Agent(model, [get_stock], on_step=seen.append).run("What does ACME trade at?")
    assert result.stop_reason == "done" and result.answer == "ACME is at 12.5 USD"
    assert [s.kind for s in result.steps] == ["model", "tool", "model", "final"]
    assert seen == result.steps and all(a is b for a, b in zip(seen, result.steps, strict=True))
    tool_step = result.steps[1]
    assert isinstance(tool_step, ToolStep) and tool_step.output == "ACME trades at 12.5 USD"
    second = result.steps[2]
    assert isinstance(second, ModelStep)
    last = second.messages[-1]
    assert last.role == "tool" and last.tool_call_id == tool_step.call.id
    assert "ACME trades at 12.5 USD" in shown(model.calls[1])  # the model saw the observation
    assert result.usage.total_tokens == sum(s.usage.total_tokens for s in result.steps) > 0
    assert [m.role for m in result.messages] == ["system", "user", "assistant", "tool", "assistant"]
    assert [s.index for s in result.steps] == [0, 1, 2, 3]


def test_step_records_serialise_and_come_back_unchanged() -> None:
    model = ScriptedModel([calls(("get_stock", {"symbol": "ACME"})), answer("12.5")])
    result = Agent(model, [get_stock]).run("ACME?")
    adapter = TypeAdapter(list[Step])
    restored = adapter.validate_json(adapter.dump_json(result.steps))
    assert restored == result.steps
    assert RunResult.model_validate_json(result.model_dump_json()).steps == result.steps


def test_declining_is_a_done_answer_without_calls() -> None:
    model = ScriptedModel([answer("No tool fits; I cannot check the weather.")])
    result = Agent(model, [get_stock]).run("Will it rain tomorrow?")
    assert result.stop_reason == "done" and not result.tool_steps
    assert model.calls[0].tool_choice == "auto"  # declining is allowed by the constraint
    assert "content" in json.dumps(model.calls[0].constraint)


def test_parallel_calls_run_concurrently() -> None:
    barrier = threading.Barrier(2, timeout=5)

    def left(x: int) -> int:
        """Left."""
        barrier.wait()  # only returns when the other call runs at the same time
        return x

    def right(x: int) -> int:
        """Right."""
        barrier.wait()
        return -x

    model = ScriptedModel([calls(("left", {"x": 1}), ("right", {"x": 2})), answer("1 and -2")])
    result = Agent(model, [left, right]).run("both")
    assert result.stop_reason == "done"
    assert [(s.call.name, s.output, s.ok) for s in result.tool_steps] == [
        ("left", "1", True),
        ("right", "-2", True),
    ]


# ---- invalid arguments and failing tools --------------------------------------------------------


def test_schema_invalid_call_is_fed_back_and_corrected() -> None:
    model = ScriptedModel(
        [
            calls(("get_stock", {"ticker": "ACME", "symbol": 5})),
            calls(("get_stock", {"symbol": "ACME"})),
            answer("12.5 USD"),
        ]
    )
    result = Agent(model, [get_stock]).run("ACME?")
    assert result.stop_reason == "done" and result.answer == "12.5 USD"
    first = result.steps[0]
    assert isinstance(first, ModelStep) and first.completion is None and first.error
    retry = result.steps[1]
    assert isinstance(retry, GuardStep) and retry.action == "retry"
    assert retry.message is not None and "ticker" in (retry.message.content or "")
    assert "ticker" in shown(model.calls[1])  # the next request told the model what was wrong


def test_pydantic_only_violation_goes_back_as_an_observation() -> None:
    def book(day: dt.date) -> str:
        """Book a day."""
        return f"booked {day:%d %B %Y}"

    model = ScriptedModel(
        [
            calls(("book", {"day": "tomorrow"})),  # a string, so the JSON Schema passes
            calls(("book", {"day": "2025-05-01"})),
            answer("Booked."),
        ]
    )
    result = Agent(model, [book]).run("Book May 1st 2025")
    bad, good = result.tool_steps
    assert not bad.ok and "day" in bad.output and "'tomorrow'" in bad.output
    assert good.ok and good.output == "booked 01 May 2025"
    assert bad.output in shown(model.calls[1])
    assert result.stop_reason == "done"


def test_retries_are_bounded() -> None:
    def broken(x: int) -> int:
        """Always fails."""
        raise RuntimeError("disk on fire")

    replies = [calls(("broken", {"x": i})) for i in range(10)]
    model = ScriptedModel(replies)
    result = Agent(model, [broken], budgets=Budgets(max_retries=2, max_steps=10)).run("go")
    assert result.stop_reason == "error" and "disk on fire" in result.detail
    assert len(result.model_steps) == 3  # the first try and two retries


def test_unparseable_replies_are_bounded() -> None:
    model = ScriptedModel([ToolCallError("garbled"), ToolCallError("garbled"), answer("ok")])
    result = Agent(model, [get_stock], budgets=Budgets(max_retries=1)).run("go")
    assert result.stop_reason == "error" and "garbled" in result.detail
    assert len(model.calls) == 2


def test_backend_failure_stops_with_error() -> None:
    model = ScriptedModel([calls(("get_stock", {"symbol": "ACME"})), BackendUnavailable("down")])
    result = Agent(model, [get_stock]).run("ACME?")
    assert result.stop_reason == "error" and "down" in result.detail
    first_id = result.tool_steps[0].call.id
    assert result.answer == [
        {"id": first_id, "tool": "get_stock", "result": "ACME trades at 12.5 USD"}
    ]


# ---- loops --------------------------------------------------------------------------------------


def test_repeating_one_call_forever_stops_with_loop() -> None:
    model = ScriptedModel([calls(("get_stock", {"symbol": "ACME"}))], repeat_last=True)
    result = Agent(model, [get_stock], budgets=Budgets(max_steps=50)).run("ACME?")
    assert result.stop_reason == "loop" and "get_stock" in result.detail
    assert len(model.calls) == 3  # two identical turns, then the no-tools turn it wasted
    warn = next(s for s in result.steps if isinstance(s, GuardStep))
    assert warn.action == "warn" and "repeating" in shown(model.calls[2])
    assert model.calls[2].tools == []  # the corrective turn offers no tools
    assert result.answer[0]["result"] == "ACME trades at 12.5 USD"  # the partial result
    assert [s.ok for s in result.tool_steps] == [True, True]


def test_repeat_bound_follows_the_policy() -> None:
    model = ScriptedModel([calls(("get_stock", {"symbol": "ACME"}))], repeat_last=True)
    policy = LoopPolicy(repeats=4, warn=False)
    result = Agent(model, [get_stock], loop=policy, budgets={"max_steps": 50}).run("ACME?")
    assert result.stop_reason == "loop" and len(model.calls) == 4


def test_oscillation_stops_with_loop() -> None:
    a, b = calls(("get_stock", {"symbol": "ACME"})), calls(("get_news", {"symbol": "ACME"}))
    model = ScriptedModel([a, b] * 20)
    result = Agent(model, [get_stock, get_news], budgets={"max_steps": 50}).run("ACME?")
    assert result.stop_reason == "loop" and "alternating" in result.detail
    assert len(model.calls) == 5  # A B A B, then the no-tools turn


def test_no_new_information_stops_with_loop() -> None:
    # different symbols, but every observation is one already seen
    replies = [calls(("get_news", {"symbol": "ACME"}))]
    replies += [calls(("get_stock", {"symbol": f"X{i}"})) for i in range(20)]
    model = ScriptedModel(replies)

    def get_stock(symbol: str) -> str:
        """Stock price."""
        return "market closed"

    result = Agent(model, [get_stock, get_news], budgets={"max_steps": 50}).run("prices?")
    assert result.stop_reason == "loop" and "nothing new" in result.detail


def test_the_first_warning_withdraws_the_looping_tool() -> None:
    a = calls(("get_stock", {"symbol": "ACME"}))
    news = calls(("get_news", {"symbol": "ACME"}))
    model = ScriptedModel([a, a, news, answer("up, results out")])
    result = Agent(model, [get_stock, get_news]).run("ACME?")
    assert result.stop_reason == "done" and result.answer == "up, results out"
    assert [t.name for t in model.calls[2].tools] == ["get_news"]  # get_stock withdrawn
    assert [t.name for t in model.calls[3].tools] == ["get_stock", "get_news"]  # and back


def test_calling_a_known_result_after_the_warning_leaves_only_answering() -> None:
    a = calls(("get_stock", {"symbol": "ACME"}))
    news = calls(("get_news", {"symbol": "ACME"}))
    model = ScriptedModel([a, a, news, a, json.dumps({"answer": "12.5"})])
    result = Agent(model, [get_stock, get_news]).run("ACME?")
    assert result.stop_reason == "done" and result.answer == "12.5"
    assert model.calls[4].tools == [] and model.calls[4].schema is not None
    warns = [s for s in result.steps if isinstance(s, GuardStep) and s.action == "warn"]
    assert len(warns) == 2 and "again after the warning" in warns[1].detail


def test_the_warning_lets_the_model_recover() -> None:
    a = calls(("get_stock", {"symbol": "ACME"}))
    model = ScriptedModel([a, a, json.dumps({"answer": "ACME is at 12.5 USD."})])
    result = Agent(model, [get_stock]).run("ACME?")
    assert result.stop_reason == "done" and result.answer == "ACME is at 12.5 USD."
    assert len(result.tool_steps) == 2 and result.tool_steps[1].duration_s == 0.0  # reused


# ---- budgets ------------------------------------------------------------------------------------


def test_max_steps_gives_partial_answer() -> None:
    replies = [calls(("get_stock", {"symbol": s})) for s in ("ACME", "INITECH", "ACME2")]
    model = ScriptedModel(replies)
    result = Agent(model, [get_stock], budgets={"max_steps": 3}).run("all?")
    assert result.stop_reason == "max_steps" and "3 model steps" in result.detail
    assert "no answer on the last one" in result.detail
    assert model.calls[2].tools == [] and model.calls[2].schema is not None  # answer only
    assert [e["result"] for e in result.answer] == [
        "ACME trades at 12.5 USD",
        "INITECH trades at 7 USD",
    ]


def test_the_last_step_of_the_budget_answers_from_what_was_gathered() -> None:
    replies = [calls(("get_stock", {"symbol": "ACME"})), calls(("get_news", {"symbol": "ACME"})),
               json.dumps({"answer": "ACME is at 12.5 USD."})]
    model = ScriptedModel(replies)
    result = Agent(model, [get_stock, get_news], budgets={"max_steps": 3}).run("ACME?")
    assert result.stop_reason == "done" and result.answer == "ACME is at 12.5 USD."
    assert model.calls[1].tools and model.calls[2].tools == []
    assert [s.call.name for s in result.tool_steps] == ["get_stock", "get_news"]


def test_token_budget() -> None:
    replies = [calls(("get_stock", {"symbol": s})) for s in ("ACME", "INITECH", "A", "B")]
    model = ScriptedModel(replies)
    result = Agent(model, [get_stock], budgets={"max_tokens": 400, "max_steps": 9}).run("all?")
    assert result.stop_reason == "max_tokens"
    assert result.usage.total_tokens >= 400
    assert result.usage.total_tokens - result.model_steps[-1].usage.total_tokens < 400
    for req in model.calls:  # each call may only produce what is left of the budget
        assert req.max_tokens <= 384


def test_cost_budget() -> None:
    profile = ModelProfile(name="priced", price_in=1000.0, price_out=1000.0, can_constrain=True)
    replies = [calls(("get_stock", {"symbol": s})) for s in ("ACME", "INITECH", "A", "B")]
    model = ScriptedModel(replies, profile=profile)
    result = Agent(model, [get_stock], budgets={"max_cost_usd": 0.2}).run("all?")
    assert result.stop_reason == "budget" and result.cost_usd >= 0.2
    assert result.cost_usd == pytest.approx(sum(s.cost_usd for s in result.model_steps))


def test_timeout() -> None:
    def slow(req: Request) -> str:
        time.sleep(0.2)
        return calls(("get_stock", {"symbol": f"S{len(slow_model.calls)}"}))

    slow_model = ScriptedModel([slow], repeat_last=True)
    result = Agent(slow_model, [get_stock], budgets={"timeout_s": 0.5, "max_steps": 50}).run("go")
    assert result.stop_reason == "timeout" and result.wall_s >= 0.5
    assert len(slow_model.calls) <= 4


def test_bad_budget_keys_are_user_errors() -> None:
    with pytest.raises(UserError, match="max_stepz"):
        Agent(ScriptedModel([]), budgets={"max_stepz": 3})


# ---- output schemas -----------------------------------------------------------------------------


class Quote(BaseModel):
    symbol: str
    price: float


def test_pydantic_output_via_final_answer_with_retry() -> None:
    model = ScriptedModel(
        [
            calls(("get_stock", {"symbol": "ACME"})),
            calls(("final_answer", {"symbol": "ACME", "price": "cheap"})),
            calls(("final_answer", {"symbol": "ACME", "price": 12.5})),
        ]
    )
    result = Agent(model, [get_stock], output=Quote).run("Quote ACME")
    assert result.stop_reason == "done" and result.answer == Quote(symbol="ACME", price=12.5)
    assert all(req.tool_choice == "required" for req in model.calls)
    assert {t.name for t in model.calls[0].tools} == {"get_stock", "final_answer"}
    assert "price" in shown(model.calls[2])  # told what was wrong with the first answer


def test_non_object_json_schema_output_is_wrapped() -> None:
    model = ScriptedModel([calls(("final_answer", {"answer": 42}))])
    result = Agent(model, output={"type": "integer"}).run("6*7?")
    assert result.answer == 42
    assert model.calls[0].tools[0].parameters["properties"]["answer"] == {"type": "integer"}


# ---- external tools, allowlist, verifier hook ---------------------------------------------------


def test_external_tools_hand_calls_to_the_caller() -> None:
    send = ToolSpec(
        name="send_email",
        parameters={"type": "object", "properties": {"to": {"type": "string"}}, "required": ["to"]},
    )
    model = ScriptedModel([calls(("send_email", {"to": "bob@example.com"}))])
    result = Agent(model, [send]).run("mail bob")
    assert result.stop_reason == "done" and result.answer is None
    assert [(c.name, c.arguments) for c in result.pending_calls] == [
        ("send_email", {"to": "bob@example.com"})
    ]


def test_allowlist_hides_tools_from_the_model() -> None:
    model = ScriptedModel([calls(("get_news", {"symbol": "ACME"})), answer("no news tool")])
    result = Agent(model, [get_stock, get_news], allow=["get_stock"]).run("news?")
    assert [t.name for t in model.calls[0].tools] == ["get_stock"]
    assert not result.tool_steps  # the call to a hidden tool was refused and fed back
    assert result.steps[0].error and "get_news" in result.steps[0].error  # type: ignore[union-attr]


def test_verifier_hook_records_a_verdict() -> None:
    seen: list[list[Step]] = []

    def verifier(steps: Any) -> float:
        seen.append(list(steps))
        return 0.25

    model = ScriptedModel([answer("hi")])
    result = Agent(model, verifier=verifier, verifier_policy="flag").run("hello")
    final = result.steps[-1]
    assert isinstance(final, FinalStep)
    assert final.verdict == {"score": 0.25, "policy": "flag", "threshold": 0.5, "action": "flag"}
    assert [s.kind for s in seen[0]] == ["model", "final"]
    off = Agent(ScriptedModel([answer("hi")]), verifier=verifier).run("hello")
    assert off.steps[-1].verdict is None  # type: ignore[union-attr]


def test_loop_with_an_output_schema_forces_final_answer() -> None:
    a = calls(("get_stock", {"symbol": "ACME"}))
    final = calls(("final_answer", {"symbol": "ACME", "price": 12.5}))
    model = ScriptedModel([a, a, final])
    result = Agent(model, [get_stock], output=Quote).run("Quote ACME")
    assert result.stop_reason == "done" and result.answer == Quote(symbol="ACME", price=12.5)
    assert model.calls[2].tool_choice == "final_answer"
    assert [t.name for t in model.calls[2].tools] == ["final_answer"]


# ---- grounding ----------------------------------------------------------------------------------


def test_grounding_drops_a_call_with_a_made_up_value_and_keeps_the_real_one() -> None:
    model = ScriptedModel([
        calls(("get_stock", {"symbol": "ACME"}), ("get_news", {"symbol": "GLOBEX"})),
        answer("ACME trades at 12.5 USD."),
    ])
    result = Agent(model, [get_stock, get_news], grounding="decline").run("ACME's price?")
    assert [s.call.arguments for s in result.tool_steps] == [{"symbol": "ACME"}]
    ground = [s for s in result.steps if isinstance(s, GuardStep) and s.action == "ground"]
    assert len(ground) == 1 and "get_news needs symbol" in ground[0].detail
    assert result.stop_reason == "done" and result.answer == "ACME trades at 12.5 USD."


def test_grounding_declines_when_every_call_is_made_up() -> None:
    model = ScriptedModel([calls(("get_stock", {"symbol": "GLOBEX"}))])
    result = Agent(model, [get_stock], grounding="decline").run("How are the markets today?")
    assert result.stop_reason == "done" and result.tool_steps == []
    assert "get_stock needs symbol" in result.detail and "symbol" in result.answer
    off = Agent(ScriptedModel([calls(("get_stock", {"symbol": "GLOBEX"})), answer("ok")]),
                [get_stock]).run("How are the markets today?")
    assert [s.call.arguments for s in off.tool_steps] == [{"symbol": "GLOBEX"}]


def test_values_from_tool_results_are_grounded() -> None:
    model = ScriptedModel([
        calls(("get_stock", {"symbol": "ACME"})),
        calls(("get_news", {"symbol": "USD"})),  # taken from the first result
        answer("done"),
    ])
    result = Agent(model, [get_stock, get_news], grounding="decline").run("ACME's price?")
    assert [s.call.name for s in result.tool_steps] == ["get_stock", "get_news"]


def test_the_process_verifier_blocks_an_answer_reached_by_wrong_arithmetic() -> None:
    from slmstack.verify.verifier import ProcessVerifier

    task = "Tom has 3 apples and buys 4 more. How many apples?"
    flawed = "Tom has 3 apples and buys 4 more.\n3 + 4 = 8\nSo Tom has 8 apples."
    sound = "Tom has 3 apples and buys 4 more.\n3 + 4 = 7\nSo Tom has 7 apples."
    verifier = ProcessVerifier()
    blocked = Agent(ScriptedModel([flawed]), verifier=verifier, verifier_policy="block").run(task)
    assert blocked.answer is None and "answer withheld" in blocked.detail
    verdict = blocked.steps[-1].verdict  # type: ignore[union-attr]
    assert verdict["action"] == "block" and verdict["verifier"].startswith("rules")
    assert any(f["kind"] == "arithmetic" for f in verdict["findings"])
    ok = Agent(ScriptedModel([sound]), verifier=verifier, verifier_policy="block").run(task)
    assert ok.answer == sound and ok.steps[-1].verdict["action"] == "accept"  # type: ignore
    flagged = Agent(ScriptedModel([flawed]), verifier=verifier, verifier_policy="flag").run(task)
    assert flagged.answer == flawed and flagged.steps[-1].verdict["action"] == "flag"  # type: ignore
