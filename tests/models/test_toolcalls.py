"""Tests for slmstack.models.toolcalls: every dialect, every repair, validation, coercion, and
round-trip properties over generated calls."""

from __future__ import annotations

import json
import keyword
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slmstack.errors import ModelRetry, ToolCallError
from slmstack.models.toolcalls import (
    NOT_JSON,
    ParseResult,
    coerce_to_schema,
    load_json_lenient,
    parse_tool_calls,
    validate_call,
)
from slmstack.types import ToolCall, ToolSpec

WEATHER = ToolSpec(
    name="get_weather",
    description="Weather for a city",
    parameters={
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            "days": {"type": "array", "items": {"type": "integer"}},
        },
        "required": ["city"],
    },
)
FACTORIAL = ToolSpec(
    name="math.factorial",
    parameters={
        "type": "object",
        "properties": {"number": {"type": "integer"}},
        "required": ["number"],
    },
)
SEARCH = ToolSpec(
    name="search",
    parameters={
        "type": "object",
        "properties": {"query": {"type": "string"}, "limit": {"type": "integer"}},
        "required": ["query"],
    },
)
TOOLS = [WEATHER, FACTORIAL, SEARCH]
PARIS = [("get_weather", {"city": "Paris"})]


def pairs(result: ParseResult) -> list[tuple[str, dict[str, Any]]]:
    return [(c.name, c.arguments) for c in result.calls]


def typed(value: Any) -> Any:
    """A form of ``value`` where 1, 1.0 and True all differ (plain == conflates them)."""
    if isinstance(value, dict):
        return ("dict", [(k, typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [typed(v) for v in value])
    return (type(value).__name__, value)


# ---- dialects -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        '{"tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]}',
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>',
        '<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}',
        "<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n"
        "</function>\n</tool_call>",
        "<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n</function>",
        '<function=get_weather>{"city": "Paris"}</function>',
        '{"name": "get_weather", "arguments": {"city": "Paris"}}',
        '[{"name": "get_weather", "arguments": {"city": "Paris"}}]',
        '```json\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n```',
        '<|python_tag|>{"name": "get_weather", "parameters": {"city": "Paris"}}<|eom_id|>',
        '{"name": "get_weather", "parameters": {"city": "Paris"}}',
        '{"type": "function", "name": "get_weather", "parameters": {"city": "Paris"}}',
        '{"type": "function", "function": {"name": "get_weather", '
        '"arguments": "{\\"city\\": \\"Paris\\"}"}}',
        '[TOOL_CALLS] [{"name": "get_weather", "arguments": {"city": "Paris"}}]</s>',
        '[TOOL_CALLS]get_weather[ARGS]{"city": "Paris"}',
        '[TOOL_CALLS]get_weather[CALL_ID]abc123[ARGS]{"city": "Paris"}',
        'get_weather(city="Paris")',
        "```python\nget_weather(city='Paris')\n```",
        "[get_weather(city='Paris')]",
        '<|tool_call|>[{"name": "get_weather", "arguments": {"city": "Paris"}}]',
        'functools[{"name": "get_weather", "arguments": {"city": "Paris"}}]',
        "```tool_code\nget_weather(city='Paris')\n```",
    ],
)
def test_each_dialect_gives_the_call(text: str) -> None:
    assert pairs(parse_tool_calls(text, TOOLS)) == PARIS
    assert pairs(parse_tool_calls(text)) == PARIS


def test_envelope_plain_answer_is_content() -> None:
    result = parse_tool_calls('{"content": "It is sunny."}', TOOLS)
    assert result.calls == [] and result.content == "It is sunny."


def test_envelope_keeps_content_and_ids() -> None:
    text = json.dumps(
        {
            "tool_calls": [
                {"id": "call_1", "name": "search", "arguments": {"query": "a"}},
                {"name": "search", "arguments": {"query": "b"}},
            ],
            "content": "searching",
        }
    )
    result = parse_tool_calls(text, TOOLS)
    assert pairs(result) == [("search", {"query": "a"}), ("search", {"query": "b"})]
    assert result.calls[0].id == "call_1" and result.calls[1].id.startswith("call_")
    assert result.content == "searching"


def test_several_hermes_calls_and_text_around_them() -> None:
    text = (
        "Let me check.\n<tool_call>\n"
        '{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>\n'
        '<tool_call>\n{"name": "search", "arguments": {"query": "x"}}\n</tool_call>\nBye'
    )
    result = parse_tool_calls(text, TOOLS)
    assert pairs(result) == [*PARIS, ("search", {"query": "x"})]
    assert result.content == "Let me check.\nBye"


def test_hermes_missing_closing_tag_is_a_repair() -> None:
    text = (
        '<tool_call>{"name": "search", "arguments": {"query": "a"}}\n<tool_call>{"name": "search"'
    )
    result = parse_tool_calls(text, TOOLS)
    assert pairs(result) == [("search", {"query": "a"}), ("search", {})]
    assert any("</tool_call>" in r for r in result.repairs)


def test_closing_tag_inside_a_json_string_does_not_end_the_block() -> None:
    text = '<tool_call>{"name": "search", "arguments": {"query": "a</tool_call>b"}}</tool_call>!'
    result = parse_tool_calls(text, TOOLS)
    assert pairs(result) == [("search", {"query": "a</tool_call>b"})]
    assert result.content == "!"


def test_xml_values_are_json_when_they_parse() -> None:
    text = (
        "<tool_call>\n<function=search>\n<parameter=query>\n42\n</parameter>\n"
        "<parameter=limit>\n5\n</parameter>\n<parameter=extra>\n[1, 2]\n</parameter>\n"
        "<parameter=note>\nnot json\n</parameter>\n</function>\n</tool_call>"
    )
    # with tools, a string-typed parameter stays a string even when it looks like JSON
    assert pairs(parse_tool_calls(text, TOOLS)) == [
        ("search", {"query": "42", "limit": 5, "extra": [1, 2], "note": "not json"})
    ]
    assert parse_tool_calls(text).calls[0].arguments["query"] == 42


def test_xml_several_functions_and_missing_closers() -> None:
    text = (
        "<tool_call><function=search><parameter=query>a b</parameter></function></tool_call>"
        "<tool_call><function=get_weather><parameter=city>Paris"
    )
    assert pairs(parse_tool_calls(text, TOOLS)) == [("search", {"query": "a b"}), *PARIS]


def test_bare_json_array_of_calls_and_fence_with_prose() -> None:
    text = (
        "Sure, here you go:\n```json\n"
        '[{"name": "search", "arguments": {"query": "a"}}, '
        '{"name": "get_weather", "arguments": {"city": "Paris"}}]\n```\nDone.'
    )
    result = parse_tool_calls(text, TOOLS)
    assert pairs(result) == [("search", {"query": "a"}), *PARIS]
    assert result.content == "Sure, here you go:\nDone."


def test_python_tag_several_calls() -> None:
    text = (
        '<|python_tag|>{"name": "search", "parameters": {"query": "a"}}; '
        '{"name": "search", "parameters": {"query": "b"}}<|eom_id|>'
    )
    assert pairs(parse_tool_calls(text, TOOLS)) == [
        ("search", {"query": "a"}),
        ("search", {"query": "b"}),
    ]


def test_mistral_repeated_marker() -> None:
    text = '[TOOL_CALLS]search[ARGS]{"query": "a"}[TOOL_CALLS]get_weather[ARGS]{"city": "Paris"}'
    result = parse_tool_calls(text, TOOLS)
    assert pairs(result) == [("search", {"query": "a"}), *PARIS]


def test_mistral_call_id_is_kept() -> None:
    result = parse_tool_calls('[TOOL_CALLS]search[CALL_ID]abc123[ARGS]{"query": "a"}', TOOLS)
    assert result.calls[0].id == "abc123"


def test_pythonic_list_dotted_and_positional() -> None:
    text = "[math.factorial(number=5), search('cats', 3), get_weather(city='Paris', days=[1, 2])]"
    result = parse_tool_calls(text, TOOLS)
    assert pairs(result) == [
        ("math.factorial", {"number": 5}),
        ("search", {"query": "cats", "limit": 3}),
        ("get_weather", {"city": "Paris", "days": [1, 2]}),
    ]
    assert any("positional" in r for r in result.repairs)


def test_pythonic_accepts_json_literals_and_rejects_non_literals() -> None:
    result = parse_tool_calls("search(query='a', limit=null)", TOOLS)
    assert pairs(result) == [("search", {"query": "a", "limit": None})]
    assert any("true/false/null" in r for r in result.repairs)
    assert parse_tool_calls("search(query=os.system('x'))", TOOLS).calls == []
    assert parse_tool_calls("search(query=__import__('os'))", TOOLS).calls == []
    assert parse_tool_calls("search(**kw)", TOOLS).calls == []


def test_pythonic_without_tools_names_positional_args() -> None:
    assert pairs(parse_tool_calls("f(1, 'x', k=2)")) == [("f", {"arg0": 1, "arg1": "x", "k": 2})]


def test_pythonic_in_prose_needs_a_known_tool() -> None:
    result = parse_tool_calls("I will call get_weather(city='Paris') now.", TOOLS)
    assert pairs(result) == PARIS and result.content == "I will call now."
    assert parse_tool_calls("Use print('hi') in Python.", TOOLS).calls == []
    assert parse_tool_calls("I will call get_weather(city='Paris') now.").calls == []


def test_whole_reply_pythonic_with_positional_args_to_unknown_name_is_an_answer() -> None:
    assert parse_tool_calls("max(3, 5)", TOOLS).calls == []
    assert pairs(parse_tool_calls("lookup(word='x')", TOOLS)) == [("lookup", {"word": "x"})]


# ---- names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("factorial", "math.factorial"),
        ("Math_Factorial", "math.factorial"),
        ("GET-WEATHER", "get_weather"),
        ("getWeather", "get_weather"),
        ("functions.search", "search"),
    ],
)
def test_names_are_matched_onto_tools(written: str, meant: str) -> None:
    result = parse_tool_calls(json.dumps({"name": written, "arguments": {}}), TOOLS)
    assert [c.name for c in result.calls] == [meant]
    assert any(repr(written) in r and repr(meant) in r for r in result.repairs)


def test_ambiguous_name_is_not_guessed() -> None:
    tools = [ToolSpec(name="a.run"), ToolSpec(name="b.run")]
    assert parse_tool_calls('{"name": "run", "arguments": {}}', tools).calls[0].name == "run"


def test_unknown_name_in_call_syntax_still_gives_a_call() -> None:
    result = parse_tool_calls('<tool_call>{"name": "launch", "arguments": {}}</tool_call>', TOOLS)
    assert pairs(result) == [("launch", {})]
    assert pairs(parse_tool_calls('{"name": "launch", "arguments": {}}', TOOLS)) == [("launch", {})]


def test_json_without_call_shape_is_an_answer() -> None:
    for text in ['{"name": "Bob", "age": 3}', '{"answer": 42}', "[1, 2, 3]", "42", "null"]:
        result = parse_tool_calls(text, TOOLS)
        assert result.calls == [] and result.content == text


def test_loose_call_object_counts_only_for_a_known_tool() -> None:
    assert pairs(parse_tool_calls('{"name": "search", "query": "x"}', TOOLS)) == [
        ("search", {"query": "x"})
    ]
    assert parse_tool_calls('{"name": "search", "query": "x"}').calls == []


# ---- repairs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "note"),
    [
        ("{'name': 'get_weather', 'arguments': {'city': 'Paris'}}", "single quotes"),
        ('{"name": "get_weather", "arguments": {"city": "Paris",},}', "trailing comma"),
        ('{"name": "get_weather", "arguments": {"city": "Paris"}', "cut off"),
        ('{"name": "get_weather", "arguments": {"city": "Paris', "unterminated string"),
        ('{"name": "get_weather", "arguments": {"city": "Paris"}, "x": ', "cut off"),
        ('{name: "get_weather", arguments: {city: "Paris"}}', "unquoted keys"),
        ('{"name": "get_weather", // the tool\n "arguments": {"city": "Paris"}}', "comments"),
        ('{"name": "get_weather", /* c */ "arguments": {"city": "Paris"}}', "comments"),
        ('{"name": "get_weather" "arguments": {"city": "Paris"}}', "missing commas"),
        ('{"function": "get_weather", "arguments": {"city": "Paris"}}', "'function'"),
        ('{"tool": "get_weather", "args": {"city": "Paris"}}', "'tool'"),
        ('{"tool_name": "get_weather", "params": {"city": "Paris"}}', "'tool_name'"),
        ('{"func": "get_weather", "input": {"city": "Paris"}}', "'func'"),
        ('{"name": "get_weather", "args": {"city": "Paris"}}', "'args'"),
        ('{"name": "get_weather", "params": {"city": "Paris"}}', "'params'"),
        ('{"name": "get_weather", "input": {"city": "Paris"}}', "'input'"),
        ('{"name": "get_weather", "parameters": {"city": "Paris"}}', "'parameters'"),
        ('{"name": "get_weather", "arguments": "{\\"city\\": \\"Paris\\"}"}', "JSON string"),
        ('{"tool_call": {"name": "get_weather", "arguments": {"city": "Paris"}}}', "'tool_call'"),
    ],
)
def test_repairs_are_applied_and_noted(text: str, note: str) -> None:
    result = parse_tool_calls(text, TOOLS)
    assert pairs(result) == PARIS
    assert any(note in r for r in result.repairs), result.repairs


def test_python_literals_are_repaired() -> None:
    value, repairs = load_json_lenient("{'a': True, 'b': False, 'c': None}")
    assert value == {"a": True, "b": False, "c": None}
    assert any("Python literals" in r for r in repairs)


def test_lenient_json_details() -> None:
    assert load_json_lenient('{"a": 1}') == ({"a": 1}, [])
    assert load_json_lenient("  [1, 2,]  ")[0] == [1, 2]
    assert load_json_lenient('{"s": "\\ud83d\\ude00 \\u00e9"')[0] == {"s": "😀 é"}
    assert load_json_lenient("{'it\\'s': 'a \"b\"'}")[0] == {"it's": 'a "b"'}
    assert load_json_lenient('{"a": [1, {"b": 2')[0] == {"a": [1, {"b": 2}]}
    assert load_json_lenient('[{"a": 1]')[0] == [{"a": 1}]
    assert load_json_lenient("Result: {'x': +1, 'y': .5} -- ok")[0] == {"x": 1, "y": 0.5}
    assert load_json_lenient('```json\n{"a": 1}\n```') == (
        {"a": 1},
        ["removed a Markdown code fence"],
    )
    assert load_json_lenient("# note\n{'a': 1} # done")[0] == {"a": 1}
    assert load_json_lenient("[[[")[0] == [[[]]]  # cut off: closed
    for hopeless in ["", "   ", "hello there", "{:}", "} ]", "{'a' 1}"]:
        assert load_json_lenient(hopeless) == (NOT_JSON, []), hopeless
    assert repr(NOT_JSON) == "NOT_JSON"


def test_deep_nesting_does_not_crash() -> None:
    assert load_json_lenient("[" * 5000)[0] is NOT_JSON
    assert parse_tool_calls("[" * 5000 + "f()").calls == []
    assert parse_tool_calls("{" * 3000).content == "{" * 3000


def test_nothing_parses_returns_stripped_text() -> None:
    assert parse_tool_calls("  The answer is 4.  ", TOOLS) == ParseResult([], "The answer is 4.")
    assert parse_tool_calls("   ") == ParseResult([], None)
    assert parse_tool_calls("<tool_call>oops</tool_call>", TOOLS).content == (
        "<tool_call>oops</tool_call>"
    )


# ---- validate_call --------------------------------------------------------------------------


def _check(call: ToolCall, tools: list[ToolSpec] = TOOLS) -> tuple[ToolCall, list[str]]:
    repairs: list[str] = []
    return validate_call(call, tools, repairs), repairs


def test_valid_call_keeps_id_and_is_a_new_object() -> None:
    call = ToolCall(id="call_x", name="get_weather", arguments={"city": "Paris"})
    out, repairs = _check(call)
    assert out is not call and out.id == "call_x" and out.arguments == {"city": "Paris"}
    assert repairs == []


def test_validate_matches_name_coerces_and_renames_keys() -> None:
    call = ToolCall(name="Get-Weather", arguments={"City": "Paris", "UNIT": "Celsius", "days": "3"})
    out, repairs = _check(call)
    assert out.name == "get_weather"
    assert out.arguments == {"city": "Paris", "unit": "celsius", "days": [3]}
    assert any("'City'" in r and "'city'" in r for r in repairs)
    assert all(r.startswith("get_weather: ") for r in repairs)


def test_validate_drops_null_optional_arguments_with_a_note() -> None:
    out, repairs = _check(ToolCall(name="get_weather", arguments={"city": "P", "unit": None}))
    assert out.arguments == {"city": "P"}
    assert any("'unit'" in r for r in repairs)


def test_unknown_function_error_lists_names() -> None:
    with pytest.raises(ToolCallError) as info:
        _check(ToolCall(name="launch_rocket", arguments={}))
    message = str(info.value)
    assert "'launch_rocket'" in message
    assert all(repr(t.name) in message for t in TOOLS)
    assert isinstance(info.value, ModelRetry) and "\n" not in message


def test_unknown_function_without_tools() -> None:
    with pytest.raises(ToolCallError, match="no functions are available"):
        _check(ToolCall(name="x"), [])


def test_missing_required_argument_error() -> None:
    with pytest.raises(ToolCallError) as info:
        _check(ToolCall(name="math.factorial", arguments={}))
    message = str(info.value)
    assert "'math.factorial'" in message and "missing required argument 'number'" in message
    assert "integer" in message and "call math.factorial again with 'number'" in message


def test_unknown_argument_error() -> None:
    with pytest.raises(ToolCallError) as info:
        _check(ToolCall(name="get_weather", arguments={"city": "P", "country": "FR"}))
    message = str(info.value)
    assert "unknown argument 'country' = 'FR'" in message
    assert "call get_weather again with 'country' left out" in message
    assert "['city', 'unit', 'days']" in message


def test_unknown_argument_allowed_by_additional_properties() -> None:
    tool = ToolSpec(
        name="t", parameters={"type": "object", "properties": {}, "additionalProperties": True}
    )
    out, _ = _check(ToolCall(name="t", arguments={"anything": 1}), [tool])
    assert out.arguments == {"anything": 1}


def test_wrong_type_error_quotes_the_value() -> None:
    with pytest.raises(ToolCallError) as info:
        _check(ToolCall(name="math.factorial", arguments={"number": "five"}))
    message = str(info.value)
    assert "argument 'number' = 'five'" in message and "not of type 'integer'" in message
    assert "call math.factorial again with 'number' as an integer" in message


def test_bad_enum_and_nested_item_errors_in_one_line() -> None:
    call = ToolCall(name="get_weather", arguments={"city": "P", "unit": "kelvin", "days": [1, "x"]})
    with pytest.raises(ToolCallError) as info:
        _check(call)
    message = str(info.value)
    assert "'unit' = 'kelvin'" in message and "['celsius', 'fahrenheit']" in message
    assert "'days' = [1, 'x'] is invalid at days/1" in message
    assert "\n" not in message and "call get_weather again with" in message


def test_validate_call_on_parse_output_end_to_end() -> None:
    result = parse_tool_calls("<tool_call>{'name': 'factorial', 'arguments': {'number': '5'", TOOLS)
    repairs = list(result.repairs)
    calls = [validate_call(c, TOOLS, repairs) for c in result.calls]
    assert [(c.name, c.arguments) for c in calls] == [("math.factorial", {"number": 5})]
    assert any("coerced argument 'number'" in r for r in repairs)


# ---- coerce_to_schema -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "schema", "expected"),
    [
        ("5", {"type": "integer"}, 5),
        ("-5", {"type": "integer"}, -5),
        ("2.5", {"type": "number"}, 2.5),
        ("7", {"type": "number"}, 7.0),
        (7, {"type": "number"}, 7.0),
        (7, {"type": ["integer", "number"]}, 7),
        (5.0, {"type": "integer"}, 5),
        ("5.0", {"type": "integer"}, 5),
        ("true", {"type": "boolean"}, True),
        ("False", {"type": "boolean"}, False),
        (3, {"type": "string"}, "3"),
        (2.5, {"type": "string"}, "2.5"),
        ("x", {"type": "array"}, ["x"]),
        (4, {"type": "array", "items": {"type": "string"}}, ["4"]),
        ("[1, 2]", {"type": "array", "items": {"type": "integer"}}, [1, 2]),
        ('{"a": "1"}', {"type": "object", "properties": {"a": {"type": "integer"}}}, {"a": 1}),
        ("CELSIUS", {"type": "string", "enum": ["celsius", "fahrenheit"]}, "celsius"),
        ("2", {"enum": [1, 2, 3]}, 2),
        ("5", {"type": ["integer", "null"]}, 5),
        ("5", {"anyOf": [{"type": "integer"}, {"type": "null"}]}, 5),
        ("5", {"oneOf": [{"type": "boolean"}, {"type": "number"}]}, 5.0),
        ("x", {"anyOf": [{"type": "string"}, {"type": "integer"}]}, "x"),
        ("null", {"type": "null"}, None),
        (
            {"Inner": {"n": "1"}, "list": ["2", 3.0]},
            {
                "type": "object",
                "properties": {
                    "inner": {"type": "object", "properties": {"n": {"type": "number"}}},
                    "list": {"type": "array", "items": {"type": "integer"}},
                },
            },
            {"inner": {"n": 1.0}, "list": [2, 3]},
        ),
        (
            {"p": {"x": "1"}},
            {
                "type": "object",
                "properties": {"p": {"$ref": "#/$defs/P"}},
                "$defs": {"P": {"type": "object", "properties": {"x": {"type": "integer"}}}},
            },
            {"p": {"x": 1}},
        ),
        (["1", "a"], {"type": "array", "prefixItems": [{"type": "integer"}]}, [1, "a"]),
    ],
)
def test_coerce_to_schema(value: Any, schema: dict, expected: Any) -> None:
    repairs: list[str] = []
    assert typed(coerce_to_schema(value, schema, repairs)) == typed(expected)
    assert bool(repairs) == (typed(value) != typed(expected))  # every change is noted


@pytest.mark.parametrize(
    ("value", "schema"),
    [
        ("five", {"type": "integer"}),
        ("2.5", {"type": "integer"}),
        (True, {"type": "integer"}),
        ("yes?", {"type": "boolean"}),
        (True, {"type": "string"}),
        (None, {"type": "array"}),
        ("nope", {"type": "object"}),
        ("kelvin", {"enum": ["celsius"]}),
        ("x", {"anyOf": [{"type": "integer"}, {"type": "boolean"}]}),
        (5, {"type": "integer"}),
        ({"a": 1}, {"$ref": "#/nowhere"}),
        ({"a": 1}, {"type": 5, "properties": [], "items": "x", "anyOf": "y"}),
    ],
)
def test_coerce_leaves_what_it_cannot_fix(value: Any, schema: dict) -> None:
    repairs: list[str] = []
    assert typed(coerce_to_schema(value, schema, repairs)) == typed(value)
    assert repairs == []


def test_coerce_does_not_mutate_its_input() -> None:
    value = {"a": "1", "b": ["2"]}
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "integer"},
            "b": {"type": "array", "items": {"type": "integer"}},
        },
    }
    assert coerce_to_schema(value, schema, []) == {"a": 1, "b": [2]}
    assert value == {"a": "1", "b": ["2"]}


# ---- properties -----------------------------------------------------------------------------

IDENT = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,11}", fullmatch=True).filter(
    lambda s: not keyword.iskeyword(s)
)
NAMES = st.lists(IDENT, min_size=1, max_size=3).map(".".join)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
JSON_ARGS = st.dictionaries(st.text(max_size=8), VALUES, max_size=4)
PY_ARGS = st.dictionaries(IDENT, VALUES, max_size=4)


def render(fmt: str, name: str, args: dict[str, Any]) -> str:
    call = json.dumps({"name": name, "arguments": args})
    return {
        "envelope": json.dumps({"tool_calls": [{"name": name, "arguments": args}]}),
        "bare": call,
        "hermes": f"<tool_call>\n{call}\n</tool_call>",
        "fenced": f"Calling:\n```json\n{call}\n```",
        "llama3": json.dumps({"name": name, "parameters": args}),
        "python_tag": "<|python_tag|>" + json.dumps({"name": name, "parameters": args}),
        "openai": json.dumps({"function": {"name": name, "arguments": json.dumps(args)}}),
        "mistral": f"[TOOL_CALLS] [{call}]",
        "mistral_args": f"[TOOL_CALLS]{name}[ARGS]{json.dumps(args)}",
    }[fmt]


JSON_FORMATS = [
    "envelope",
    "bare",
    "hermes",
    "fenced",
    "llama3",
    "python_tag",
    "openai",
    "mistral",
    "mistral_args",
]


def assert_round_trip(text: str, name: str, args: dict[str, Any], tools=None) -> None:
    result = parse_tool_calls(text, tools)
    assert [c.name for c in result.calls] == [name], text
    assert typed(result.calls[0].arguments) == typed(args), text


@settings(max_examples=200, deadline=None)
@given(fmt=st.sampled_from(JSON_FORMATS), name=NAMES, args=JSON_ARGS)
def test_json_formats_round_trip(fmt: str, name: str, args: dict[str, Any]) -> None:
    text = render(fmt, name, args)
    assert_round_trip(text, name, args)
    assert_round_trip(text, name, args, [ToolSpec(name=name)])


@settings(max_examples=200, deadline=None)
@given(fmt=st.sampled_from(JSON_FORMATS), name=NAMES, args=JSON_ARGS)
def test_trailing_comma_round_trips(fmt: str, name: str, args: dict[str, Any]) -> None:
    text = render(fmt, name, args)
    cut = text.rindex("}")
    assert_round_trip(text[:cut] + "," + text[cut:], name, args)


@settings(max_examples=200, deadline=None)
@given(fmt=st.sampled_from(JSON_FORMATS), name=NAMES, args=JSON_ARGS)
def test_missing_last_brace_round_trips(fmt: str, name: str, args: dict[str, Any]) -> None:
    text = render(fmt, name, args)
    cut = text.rindex("}")
    assert_round_trip(text[:cut] + text[cut + 1 :], name, args)


@settings(max_examples=200, deadline=None)
@given(name=NAMES, args=PY_ARGS, listed=st.booleans())
def test_pythonic_round_trips(name: str, args: dict[str, Any], listed: bool) -> None:
    text = f"{name}({', '.join(f'{k}={v!r}' for k, v in args.items())})"
    assert_round_trip(f"[{text}]" if listed else text, name, args)
    assert_round_trip(text, name, args, [ToolSpec(name=name)])


@settings(max_examples=200, deadline=None)
@given(value=VALUES)
def test_lenient_json_round_trips(value: Any) -> None:
    text = json.dumps(value)
    assert typed(load_json_lenient(text)[0]) == typed(value)
    if text.endswith(("}", "]")) and len(text) > 2:  # drop the last closer, or add a comma
        assert typed(load_json_lenient(text[:-1])[0]) == typed(value)
        assert typed(load_json_lenient(text[:-1] + "," + text[-1])[0]) == typed(value)


FRAGMENTS = st.sampled_from(
    [
        "{", "}", "[", "]", '"', "'", ",", ":", "\\", "\\u12", "<tool_call>", "</tool_call>",
        "[TOOL_CALLS]", "[ARGS]", "[CALL_ID]", "<|python_tag|>", "<function=", "<function=f>",
        "<parameter=x>", "</parameter>", "</function>", "f(", "search(", ")", "true", "None",
        "```json\n", "```", "\n", "name", "arguments", '"name": ', "=", "1", "-", ".", "#",
        "/*", "//", "tool_calls", "content", "\x00",
    ]
)  # fmt: skip
MESSY = st.lists(FRAGMENTS | st.text(max_size=3), max_size=25).map("".join)


@settings(max_examples=200, deadline=None)
@given(text=st.text() | MESSY, with_tools=st.booleans())
def test_parse_never_raises(text: str, with_tools: bool) -> None:
    result = parse_tool_calls(text, TOOLS if with_tools else None)
    assert isinstance(result, ParseResult)
    assert all(isinstance(c, ToolCall) for c in result.calls)
    value, repairs = load_json_lenient(text)
    assert value is NOT_JSON or json.dumps(value) is not None
    assert all(isinstance(r, str) for r in repairs)


@settings(max_examples=200, deadline=None)
@given(value=VALUES, schema_of=VALUES)
def test_coerce_never_raises(value: Any, schema_of: Any) -> None:
    schemas = [
        {"type": "integer"},
        {"type": ["array", "null"], "items": {"type": "number"}},
        {"type": "object", "properties": {"a": {"type": "boolean"}}, "additionalProperties": {}},
        {"anyOf": [{"type": "string"}, {"type": "integer"}]},
        {"enum": ["a", 1, None]},
    ]
    if isinstance(schema_of, dict):
        schemas.append(schema_of)
    for schema in schemas:
        coerce_to_schema(value, schema, [])


def test_a_rejected_reply_still_carries_its_usage_and_raw_text() -> None:
    """Tokens spent on a reply that fails validation are cost all the same: the error carries
    the rejected completion so the router and gateway can account for it."""
    from slmstack.errors import OutputValidationError, ToolCallError
    from slmstack.models.scripted import ScriptedModel

    model = ScriptedModel(["not json at all", "I will not call anything"])
    with pytest.raises(OutputValidationError) as bad_json:
        model.complete("x", schema={"type": "object"})
    comp = bad_json.value.completion
    assert comp.raw_text == "not json at all" and comp.usage.output_tokens > 0
    tool = ToolSpec(name="f", parameters={"type": "object", "properties": {}})
    with pytest.raises(ToolCallError) as no_call:
        model.complete("x", tools=[tool], tool_choice="required")
    assert no_call.value.completion.raw_text == "I will not call anything"


def test_a_reply_cut_off_in_a_loop_of_one_list_item_ends_after_its_first_time() -> None:
    from slmstack.models.toolcalls import cut_loop

    head = '{"tool_calls": [{"name": "find", "arguments": {"city": "Oslo, Norway", "diet": ['
    loop = ", ".join(['"Thai \\"hot\\" food"'] * 7)
    want = head + '"Thai \\"hot\\" food"]}}]}'
    assert cut_loop(head + loop + ', "Thai \\"ho') == want  # cut inside the next repeat
    assert cut_loop(head + loop + ", ") == want
    assert json.loads(want)["tool_calls"][0]["arguments"]["diet"] == ['Thai "hot" food']
    # a list that repeats an item and goes on, or repeats it only twice, is no loop
    assert cut_loop(head + loop + '], "n": 4}}]}') is None
    assert cut_loop(head + '"a", "a", "b') is None
    assert cut_loop('{"a": "x", "x", "x", "x"') is None  # not inside a list


def test_a_loop_cut_reply_gives_its_calls_and_says_what_was_done() -> None:
    from slmstack.models.base import BaseChatModel, RawOutput
    from slmstack.models.catalog import ModelProfile
    from slmstack.types import Usage

    class Looping(BaseChatModel):
        name = "looping"
        profile = ModelProfile(name="looping", context_length=4096)

        def _generate(self, req: Any) -> RawOutput:
            text = ('{"tool_calls": [{"name": "find", "arguments": {"city": "Oslo", "diet": ['
                    + ", ".join(['"vegan"'] * 40))
            return RawOutput(text=text, usage=Usage(input_tokens=9, output_tokens=256),
                             finish_reason="length")

    tool = ToolSpec(name="find", parameters={"type": "object", "properties": {
        "city": {"type": "string"}, "diet": {"type": "array", "items": {"type": "string"}}},
        "required": ["city"]})
    comp = Looping().complete("Find vegan food in Oslo.", tools=[tool])
    assert [(c.name, c.arguments) for c in comp.tool_calls] == [
        ("find", {"city": "Oslo", "diet": ["vegan"]})]
    assert any("repeated one item until max_tokens" in r for r in comp.repairs)
