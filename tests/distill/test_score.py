from __future__ import annotations

from conftest import CURRENCY, WEATHER, tool_record

from slmstack.distill.score import agreement
from slmstack.store.records import CallRecord
from slmstack.types import Completion, ToolCall


def _comp(*calls: ToolCall, text: str | None = None) -> Completion:
    return Completion(tool_calls=list(calls), text=text)


def test_same_call_agrees_and_wrong_value_does_not():
    rec = tool_record(0, "Paris")
    assert agreement(rec, _comp(ToolCall(name="get_weather", arguments={"city": "paris"})))
    assert not agreement(rec, _comp(ToolCall(name="get_weather", arguments={"city": "Lima"})))
    assert not agreement(rec, _comp(ToolCall(name="convert_currency", arguments={})))
    assert not agreement(rec, _comp(text="It is sunny."))


def test_optional_default_and_number_types():
    rec = tool_record(0, "Oslo")
    with_default = ToolCall(name="get_weather", arguments={"city": "Oslo", "unit": "celsius"})
    other_unit = ToolCall(name="get_weather", arguments={"city": "Oslo", "unit": "fahrenheit"})
    assert agreement(rec, _comp(with_default))
    assert not agreement(rec, _comp(other_unit))
    money = tool_record(1, "x")  # amount 20 (int) in the incumbent's call
    call = ToolCall(name="convert_currency",
                    arguments={"amount": 20.0, "source": "EUR", "target": "USD"})
    assert agreement(money, _comp(call))


def test_parallel_calls_in_any_order_and_no_call_cases():
    a = ToolCall(name="get_weather", arguments={"city": "Riga"})
    b = ToolCall(name="get_weather", arguments={"city": "Oslo"})
    rec = CallRecord(request={"messages": [{"role": "user", "content": "x"}],
                              "tools": [WEATHER.to_openai(), CURRENCY.to_openai()]},
                     response={"tool_calls": [a.model_dump(), b.model_dump()]})
    assert agreement(rec, _comp(b, a))
    assert not agreement(rec, _comp(a))
    declined = rec.model_copy(update={"response": {"text": "no tool fits"}})
    assert agreement(declined, _comp(text="sorry"))
    assert not agreement(declined, _comp(a))


def test_text_and_json_agreement():
    chat = CallRecord(request={"messages": [{"role": "user", "content": "hi"}]},
                      response={"text": "Hello  there."})
    assert agreement(chat, Completion(text="Hello there.")) == 1.0
    assert agreement(chat, Completion(text="Hi.")) == 0.0
    extract = CallRecord(request={"messages": [{"role": "user", "content": "x"}],
                                  "response_format": {"type": "json_schema",
                                                      "json_schema": {"schema": {}}}},
                         response={"parsed": {"a": 1}})
    assert agreement(extract, Completion(parsed={"a": 1})) == 1.0
    assert agreement(extract, Completion(parsed={"a": 2})) == 0.0
