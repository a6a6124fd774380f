"""BFCL v4 loader, AST checker and runner: hand-made cases and every row of the real data."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from slmstack.errors import ToolCallError, UserError
from slmstack.evals import bfcl
from slmstack.evals.bfcl import (
    CATEGORIES,
    BfclCase,
    answer_calls,
    check_call,
    check_calls,
    check_case,
    load_category,
    parse_strict,
    run_bfcl,
    standardize_string,
    to_json_schema,
    to_tool_spec,
)
from slmstack.models.schema import check_schema, validation_errors
from slmstack.types import Completion, Message, ToolCall, Usage

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "bfcl"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"BFCL data not at {DATA}")
ANSWERED = [c for c in CATEGORIES if c != "irrelevance"]


# ---- helpers ---------------------------------------------------------------------------------


def doc(name: str, props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "description": f"{name} does things",
        "parameters": {"type": "dict", "properties": props, "required": required or []},
    }


def call(name: str, **arguments: Any) -> ToolCall:
    return ToolCall(name=name, arguments=arguments)


AREA = doc(
    "geometry.area",
    {
        "base": {"type": "integer"},
        "height": {"type": "float"},
        "unit": {"type": "string"},
        "shape": {"type": "string", "enum": ["triangle", "square"]},
    },
    ["base", "height"],
)
AREA_ANSWER = {"geometry.area": {"base": [10], "height": [5.0], "unit": ["cm", ""], "shape": [""]}}


def check_area(c: ToolCall) -> bfcl.CheckResult:
    return check_calls("simple_python", [AREA], [c], [AREA_ANSWER])


_cache: dict[str, list[BfclCase]] = {}


def cases(category: str) -> list[BfclCase]:
    if category not in _cache:
        _cache[category] = load_category(DATA, category)
    return _cache[category]


# ---- standardisation -------------------------------------------------------------------------


def test_standardize_string_matches_bfcl_rules() -> None:
    assert standardize_string("San Diego, CA") == "sandiegoca"
    assert standardize_string("April 1, 2024") == standardize_string("april 1 2024")
    assert standardize_string("x**2 - 3/y_z ^ 1.5") == "x23yz15"
    assert standardize_string("it's") == 'it"s'
    assert standardize_string("New-York") == "newyork"


# ---- simple checks -----------------------------------------------------------------------


def test_exact_call_passes() -> None:
    assert check_area(call("geometry.area", base=10, height=5.0, unit="cm")).valid


def test_optional_param_may_be_omitted_when_empty_string_allowed() -> None:
    assert check_area(call("geometry.area", base=10, height=5.0)).valid


def test_int_accepted_for_float() -> None:
    assert check_area(call("geometry.area", base=10, height=5)).valid


def test_float_rejected_for_integer() -> None:
    r = check_area(call("geometry.area", base=10.0, height=5.0))
    assert not r.valid and r.error_type == "type_error:simple"
    assert "'base'" in (r.error or "") and "integer" in (r.error or "")


def test_bool_rejected_for_integer() -> None:
    assert not check_area(call("geometry.area", base=True, height=5.0)).valid


def test_string_compared_after_standardisation() -> None:
    assert check_area(call("geometry.area", base=10, height=5, unit="C.M.")).valid
    r = check_area(call("geometry.area", base=10, height=5, unit="mm"))
    assert not r.valid and r.error_type == "value_error:string"
    assert r.error == "param 'unit': value 'mm' not in allowed ['cm']"


def test_wrong_function_name() -> None:
    r = check_area(call("geometry_area", base=10, height=5))
    assert not r.valid and r.error_type == "wrong_func_name"
    assert r.error is not None and r.error.startswith("wrong function name")


def test_missing_required_param() -> None:
    r = check_area(call("geometry.area", base=10))
    assert r == bfcl.CheckResult(False, "missing required param 'height'", "missing_required")


def test_unexpected_param_not_in_doc() -> None:
    r = check_area(call("geometry.area", base=10, height=5, colour="red"))
    assert r == bfcl.CheckResult(False, "unexpected param 'colour'", "unexpected_param")


def test_param_in_doc_but_not_in_answer_is_unexpected() -> None:
    answer = {"geometry.area": {"base": [10], "height": [5.0]}}
    got = call("geometry.area", base=10, height=5, shape="square")
    r = check_calls("simple_python", [AREA], [got], [answer])
    assert not r.valid and r.error == "unexpected param 'shape'"


def test_param_whose_only_allowed_value_is_omission() -> None:
    r = check_area(call("geometry.area", base=10, height=5, shape="square"))
    assert not r.valid and r.error_type == "value_error:string"


def test_value_not_allowed() -> None:
    r = check_area(call("geometry.area", base=3, height=5))
    assert r.error == "param 'base': value 3 not in allowed [10]"


def test_optional_param_required_by_answer() -> None:
    answer = {"geometry.area": {"base": [10], "height": [5.0], "unit": ["cm"]}}
    r = check_calls("simple_python", [AREA], [call("geometry.area", base=10, height=5)], [answer])
    assert not r.valid and r.error_type == "missing_optional"


def test_simple_needs_exactly_one_call() -> None:
    good = call("geometry.area", base=10, height=5)
    r = check_calls("simple_python", [AREA], [good, good], [AREA_ANSWER])
    assert not r.valid and r.error_type == "wrong_count"
    assert not check_calls("simple_python", [AREA], [], [AREA_ANSWER]).valid


def test_variable_answer_type_accepted() -> None:
    """BFCL: an answer whose type differs from the doc's names a variable; that type passes."""
    d = doc("f", {"n": {"type": "integer"}}, ["n"])
    answer = {"f": {"n": ["count"]}}
    assert check_calls("simple", [d], [call("f", n="count")], [answer]).valid
    assert not check_calls("simple", [d], [call("f", n="other")], [answer]).valid


def test_any_type_is_checked_as_string() -> None:
    d = doc("f", {"x": {"type": "any"}}, ["x"])
    assert check_calls("simple", [d], [call("f", x="Hello")], [{"f": {"x": ["hello"]}}]).valid
    assert not check_calls("simple", [d], [call("f", x=3)], [{"f": {"x": ["3"]}}]).valid


# ---- lists, tuples, dicts --------------------------------------------------------------------

LISTS = doc(
    "f",
    {
        "names": {"type": "array", "items": {"type": "string"}},
        "point": {"type": "tuple", "items": {"type": "float"}},
        "ints": {"type": "array", "items": {"type": "integer"}},
    },
)


def check_lists(answer: dict[str, list[Any]], **arguments: Any) -> bfcl.CheckResult:
    return check_calls("simple", [LISTS], [call("f", **arguments)], [{"f": answer}])


def test_list_elements_standardised_and_ordered() -> None:
    answer = {"names": [["New York", "LA"], ["LA", "New York"]]}
    assert check_lists(answer, names=["new york", "la"]).valid
    assert check_lists(answer, names=["L.A.", "NEW-YORK"]).valid
    r = check_lists(answer, names=["LA"])
    assert not r.valid and r.error_type == "value_error:list/tuple"


def test_tuple_accepts_list_and_python_tuple() -> None:
    answer = {"point": [[1.5, 2.5]]}
    assert check_lists(answer, point=[1.5, 2.5]).valid
    assert bfcl._check_param(
        "point", (1.5, 2.5), LISTS["parameters"]["properties"]["point"], answer["point"]
    ).valid


def test_nested_item_type_checked_one_level() -> None:
    r = check_lists({"ints": [[1, 2]]}, ints=[1, "2"])
    assert not r.valid and r.error_type == "type_error:nested"
    assert not check_lists({"ints": [[1, 2]]}, ints="1,2").valid


def test_empty_list_for_optional_list_param() -> None:
    assert check_lists({"ints": ["", [1]]}, ints=[]).valid
    assert not check_lists({"ints": [[1]]}, ints=[]).valid


DICTS = doc(
    "book",
    {
        "budget": {"type": "dict", "properties": {"min": {"type": "integer"}}},
        "rooms": {"type": "array", "items": {"type": "dict"}},
    },
)
BUDGET = {"min": [300], "max": [400], "currency": ["USD", ""]}


def check_dicts(answer: dict[str, list[Any]], **arguments: Any) -> bfcl.CheckResult:
    return check_calls("simple", [DICTS], [call("book", **arguments)], [{"book": answer}])


def test_dict_values_compared_per_key() -> None:
    assert check_dicts({"budget": [BUDGET]}, budget={"min": 300, "max": 400}).valid
    assert check_dicts(
        {"budget": [BUDGET]}, budget={"min": 300, "max": 400, "currency": "usd"}
    ).valid


@pytest.mark.parametrize(
    ("budget", "error_type"),
    [
        ({"min": 300}, "value_error:dict_key"),  # missing 'max'
        ({"min": 300, "max": 400, "tax": 1}, "value_error:dict_key"),  # unknown key
        ({"min": 300, "max": 401}, "value_error:dict_value"),
    ],
)
def test_dict_mismatches(budget: dict[str, Any], error_type: str) -> None:
    r = check_dicts({"budget": [BUDGET]}, budget=budget)
    assert not r.valid and r.error_type == error_type


def test_list_of_dicts_compared_in_order() -> None:
    answer = {"rooms": [[{"beds": [2]}, {"beds": [1], "view": ["sea", ""]}]]}
    assert check_dicts(answer, rooms=[{"beds": 2}, {"beds": 1, "view": "Sea"}]).valid
    assert not check_dicts(answer, rooms=[{"beds": 1}, {"beds": 2}]).valid
    r = check_dicts(answer, rooms=[{"beds": 2}])
    assert not r.valid and r.error_type == "value_error:list_dict_count"


# ---- multiple, parallel, irrelevance -----------------------------------------------------------

WEATHER = doc("weather.get", {"city": {"type": "string"}, "days": {"type": "integer"}}, ["city"])
TIME = doc("time.get", {"city": {"type": "string"}}, ["city"])


def test_multiple_picks_the_answers_function() -> None:
    answer = [{"time.get": {"city": ["Paris"]}}]
    assert check_calls("multiple", [WEATHER, TIME], [call("time.get", city="paris")], answer).valid
    r = check_calls("multiple", [WEATHER, TIME], [call("weather.get", city="Paris")], answer)
    assert not r.valid and r.error_type == "wrong_func_name"


def test_parallel_matches_in_any_order() -> None:
    answer = [
        {"weather.get": {"city": ["Paris"], "days": [3]}},
        {"weather.get": {"city": ["Rome"], "days": ["", 1]}},
        {"time.get": {"city": ["Oslo"]}},
    ]
    calls = [
        call("time.get", city="Oslo"),
        call("weather.get", city="Rome"),
        call("weather.get", city="Paris", days=3),
    ]
    for cat in ("parallel", "parallel_multiple"):
        assert check_calls(cat, [WEATHER, TIME], calls, answer).valid
        assert check_calls(cat, [WEATHER, TIME], calls[::-1], answer).valid
    r = check_calls("parallel", [WEATHER, TIME], calls[:2], answer)
    assert not r.valid and r.error_type == "wrong_count"
    dup = [calls[0], calls[2], calls[2]]  # one model call cannot serve two answers
    r = check_calls("parallel", [WEATHER, TIME], dup, answer)
    assert not r.valid and r.error_type == "parallel:no_match"
    assert "expected call 1" in (r.error or "")


def test_irrelevance_is_correct_iff_no_call() -> None:
    assert check_calls("irrelevance", [WEATHER], [], None).valid
    r = check_calls("irrelevance", [WEATHER], [call("weather.get", city="x")], None)
    assert not r.valid and r.error_type == "irrelevance:called"


def test_check_call_without_doc() -> None:
    r = check_call(None, call("x"), {"x": {}})
    assert not r.valid and r.error_type == "missing_doc"


# ---- JSON Schema conversion ------------------------------------------------------------------


def test_to_json_schema_recursive() -> None:
    src = {
        "type": "dict",
        "properties": {
            "w": {"type": "float", "description": "weight", "default": 1.0},
            "pt": {"type": "tuple", "items": {"type": "integer"}},
            "x": {"type": "any", "description": "anything"},
            "kind": {"type": "string", "enum": ["a", "b"]},
            "opts": {
                "type": "dict",
                "properties": {"deep": {"type": "array", "items": {"type": "dict"}}},
                "required": ["deep"],
            },
        },
        "required": ["w"],
        "optional": ["x"],
    }
    out = to_json_schema(src)
    assert out == {
        "type": "object",
        "properties": {
            "w": {"type": "number", "description": "weight", "default": 1.0},
            "pt": {"type": "array", "items": {"type": "integer"}},
            "x": {"description": "anything"},
            "kind": {"type": "string", "enum": ["a", "b"]},
            "opts": {
                "type": "object",
                "properties": {"deep": {"type": "array", "items": {"type": "object"}}},
                "required": ["deep"],
            },
        },
        "required": ["w"],
    }
    check_schema(out)
    assert validation_errors({"w": 2, "pt": [1, 2], "x": [None]}, out) == []
    assert validation_errors({"w": "2"}, out)


def test_tool_spec_keeps_dotted_name() -> None:
    spec = to_tool_spec(AREA)
    assert spec.name == "geometry.area"
    assert spec.description == "geometry.area does things"
    assert spec.parameters["type"] == "object"
    assert spec.parameters["properties"]["height"] == {"type": "number"}
    assert spec.parameters["required"] == ["base", "height"]


# ---- loading -----------------------------------------------------------------------------


def test_missing_data_dir_is_a_user_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(UserError) as exc:
        load_category(missing, "simple_python")
    assert str(missing) in str(exc.value) and "--data" in str(exc.value)


def test_missing_files_are_user_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="BFCL_v4_parallel.json.*--data"):
        load_category(tmp_path, "parallel")
    row = {"id": "parallel_0", "question": [[{"role": "user", "content": "hi"}]], "function": []}
    (tmp_path / "BFCL_v4_parallel.json").write_text(json.dumps(row) + "\n")
    with pytest.raises(UserError, match="possible_answer"):
        load_category(tmp_path, "parallel")
    with pytest.raises(UserError, match="--data"):
        run_bfcl(object(), tmp_path / "nope", ["simple_python"], progress=False)  # type: ignore[arg-type]


def test_load_tiny_folder(tmp_path: Path) -> None:
    (tmp_path / "possible_answer").mkdir()
    row = {
        "id": "simple_0",
        "question": [[{"role": "user", "content": "area?"}]],
        "function": [AREA],
    }
    (tmp_path / "BFCL_v4_simple.json").write_text(json.dumps(row) + "\n\n")
    answer = {"id": "simple_0", "ground_truth": [AREA_ANSWER]}
    (tmp_path / "possible_answer" / "BFCL_v4_simple.json").write_text(json.dumps(answer))
    [case] = load_category(str(tmp_path), "simple")
    assert case.messages == [Message.user("area?")]
    assert case.tools[0].name == "geometry.area" and case.ground_truth == [AREA_ANSWER]
    assert check_case(case, answer_calls(case.ground_truth, case.functions)).valid


@needs_data
@pytest.mark.parametrize("category", CATEGORIES)
def test_load_real_category(category: str) -> None:
    loaded = cases(category)
    assert len(loaded) >= 200
    assert len({c.id for c in loaded}) == len(loaded)
    for case in loaded:
        assert case.messages and case.messages[-1].role == "user"
        assert (case.ground_truth is None) == (category == "irrelevance")
        for tool in case.tools:
            check_schema(tool.parameters)
            assert tool.parameters["type"] == "object"


# ---- the checker on every real row -----------------------------------------------------------


@needs_data
@pytest.mark.parametrize("category", ANSWERED)
def test_ground_truth_passes_for_every_row(category: str) -> None:
    for case in cases(category):
        result = check_case(case, answer_calls(case.ground_truth, case.functions))
        assert result.valid, (case.id, result.error)


GREEDY_ORDER_SENSITIVE = {"parallel_178"}
"""Rows whose answers overlap, so BFCL's greedy matching depends on the calls' order."""


@needs_data
@pytest.mark.parametrize("category", ANSWERED)
def test_parallel_rows_pass_in_reverse_order(category: str) -> None:
    failed = set()
    for case in cases(category):
        calls = answer_calls(case.ground_truth, case.functions)[::-1]
        if "parallel" in category:
            if not check_case(case, calls).valid:
                failed.add(case.id)
        elif len(calls) == 1:
            assert not check_case(case, calls + calls).valid, case.id
    assert failed <= GREEDY_ORDER_SENSITIVE


@needs_data
def test_parallel_matching_is_greedy_like_bfcl() -> None:
    """parallel_178's first answer allows Microsoft *or* Apple on Jan 1; if Apple's Jan-1 call
    comes first, BFCL's greedy matching gives it to that answer and Microsoft's is left over."""
    case = next(c for c in cases("parallel") if c.id == "parallel_178")
    calls = answer_calls(case.ground_truth, case.functions)
    assert check_case(case, calls).valid
    r = check_case(case, calls[::-1])
    assert not r.valid and r.error_type == "parallel:no_match"


def _mutants(case: BfclCase) -> dict[str, list[ToolCall]]:
    """Broken versions of the oracle calls, keyed by what was broken."""
    good = answer_calls(case.ground_truth, case.functions)
    out: dict[str, list[ToolCall]] = {}
    renamed = copy.deepcopy(good)
    renamed[0].name += "_v2"
    out["rename"] = renamed
    extra = copy.deepcopy(good)
    extra[0].arguments["zz_not_a_param"] = 1
    out["unknown_param"] = extra
    for i, c in enumerate(good):
        required = _doc(case, c.name)["parameters"].get("required", [])
        present = [p for p in required if p in c.arguments]
        if present:
            dropped = copy.deepcopy(good)
            del dropped[i].arguments[present[0]]
            out["drop_required"] = dropped
            break
    for i, c in enumerate(good):
        for param, value in c.arguments.items():
            new = _perturb(value)
            if new is not None:
                changed = copy.deepcopy(good)
                changed[i].arguments[param] = new
                out["perturb"] = changed
                return out
    return out


def _doc(case: BfclCase, name: str) -> dict[str, Any]:
    return next(f for f in case.functions if f["name"] == name)


def _perturb(value: Any) -> Any:
    if type(value) in (int, float):
        return value + 12345
    if type(value) is str and value:
        return "zzqq " + value
    return None


@needs_data
@pytest.mark.parametrize("category", ANSWERED)
def test_broken_calls_fail_for_every_row(category: str) -> None:
    seen: dict[str, int] = {}
    for case in cases(category):
        for kind, calls in _mutants(case).items():
            seen[kind] = seen.get(kind, 0) + 1
            result = check_case(case, calls)
            assert not result.valid, (case.id, kind, calls)
            assert result.error
    n = len(cases(category))
    assert seen["rename"] == seen["unknown_param"] == n
    assert seen["drop_required"] > 0.9 * n and seen["perturb"] > 0.9 * n


@needs_data
def test_real_rows_report_bfcl_like_errors() -> None:
    case = next(c for c in cases("simple_python") if c.id == "simple_python_0")
    bad = [call("calculate_triangle_area", base=3, height=5)]
    assert check_case(case, bad).error == "param 'base': value 3 not in allowed [10]"
    assert check_case(case, []).error_type == "wrong_count"
    irrelevant = cases("irrelevance")[0]
    assert check_case(irrelevant, []).valid
    assert not check_case(irrelevant, answer_calls([{"determine_body_mass_index": {}}])).valid


# ---- strict parsing of the raw baseline -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ('{"tool_calls": [{"name": "f", "arguments": {"a": 1}}]}', ["f"]),
        ('  [{"name": "f", "arguments": {}}, {"name": "g", "arguments": {}}]\n', ["f", "g"]),
        ('{"name": "f", "arguments": {"a": 1}}', ["f"]),
        ('{"content": "no tool fits"}', []),
        ('```json\n{"name": "f", "arguments": {}}\n```', []),
        ('Sure! {"name": "f", "arguments": {}}', []),
        ('{"name": "f", "arguments": "{\\"a\\": 1}"}', []),
        ('[{"name": "f", "arguments": {}}, {"name": 3}]', []),
        ('{"tool_calls": {"name": "f"}}', []),
        ("42", []),
        ("", []),
        (None, []),
    ],
)
def test_parse_strict(text: str | None, names: list[str]) -> None:
    assert [c.name for c in parse_strict(text)] == names


# ---- end-to-end with a scripted model -----------------------------------------------------------


class ScriptedModel:
    """Answers each question from its ground truth: via tool calls when given tools (stack
    mode), as JSON text otherwise (raw mode). ``raise_on`` ids raise a ToolCallError;
    ``fenced`` wraps raw replies in a Markdown fence (which the strict parser rejects)."""

    name = "scripted"

    def __init__(
        self, loaded: list[BfclCase], *, raise_on: set[str] = frozenset(), fenced: bool = False
    ) -> None:
        self.by_question = {c.messages[-1].content: c for c in loaded}
        self.raise_on = set(raise_on)
        self.fenced = fenced
        self.requests: list[dict[str, Any]] = []

    def complete(self, messages: list[Message], **kwargs: Any) -> Completion:
        self.requests.append({"messages": messages, **kwargs})
        case = self.by_question[messages[-1].content]
        if case.id in self.raise_on:
            raise ToolCallError(f"could not parse a call for {case.id!r}", "retry")
        calls = answer_calls(case.ground_truth, case.functions)
        usage = Usage(input_tokens=10, output_tokens=5)
        if kwargs.get("tools"):
            return Completion(tool_calls=calls, usage=usage, latency_s=0.01, raw_text="<calls>")
        body = [{"name": c.name, "arguments": c.arguments} for c in calls]
        text = json.dumps({"tool_calls": body} if body else {"content": "none fits"})
        if self.fenced:
            text = f"```json\n{text}\n```"
        return Completion(text=text, raw_text=text, usage=usage, latency_s=0.02)


@needs_data
@pytest.mark.parametrize("mode", ["stack", "raw"])
def test_run_bfcl_with_oracle_model(mode: str) -> None:
    loaded = [c for cat in CATEGORIES for c in cases(cat)[:15]]
    model = ScriptedModel(loaded)
    report = run_bfcl(model, DATA, CATEGORIES, limit=15, mode=mode, progress=False)  # type: ignore[arg-type]
    assert report.model == "scripted" and report.mode == mode
    assert set(report.categories) == set(CATEGORIES)
    for stats in report.categories.values():
        assert stats.n == 15 and stats.accuracy == 1.0
        assert stats.input_tokens == 150 and stats.output_tokens == 75
        assert stats.mean_latency_s == pytest.approx(0.01 if mode == "stack" else 0.02)
    assert report.overall_accuracy == 1.0
    first = model.requests[0]
    if mode == "stack":
        assert first["tools"] and first["tool_choice"] == "auto"
        assert first["temperature"] == 0
        for req in model.requests:
            parallel = "parallel" in model.by_question[req["messages"][-1].content].category
            assert req["parallel_tool_calls"] is parallel
        assert first["max_tokens"] == 256
    else:
        assert "tools" not in first and first["messages"][0].role == "system"
        assert "You can call these functions" in first["messages"][0].content


@needs_data
def test_run_bfcl_counts_model_errors_and_raw_prose_as_wrong() -> None:
    loaded = cases("parallel")[:4] + cases("irrelevance")[:4]
    model = ScriptedModel(loaded, raise_on={"parallel_1", "irrelevance_2"})
    report = run_bfcl(model, DATA, ["parallel", "irrelevance"], limit=4, progress=False)  # type: ignore[arg-type]
    assert [r.valid for r in report.records] == [True, False, True, True, True, True, False, True]
    failed = report.records[1]
    assert failed.error and "could not parse a call" in failed.error
    assert failed.error_type == "model_error:ToolCallError"
    assert report.categories["parallel"].accuracy == 0.75

    fenced = ScriptedModel(loaded, fenced=True)
    raw = run_bfcl(fenced, DATA, ["parallel", "irrelevance"], limit=4, mode="raw", progress=False)  # type: ignore[arg-type]
    assert raw.categories["parallel"].accuracy == 0.0
    assert raw.categories["irrelevance"].accuracy == 1.0
    assert raw.records[0].raw_text is not None and raw.records[0].raw_text.startswith("```")
    assert raw.records[0].error_type == "wrong_count"


@needs_data
def test_report_table_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    from rich.console import Console

    loaded = cases("simple_python")[:3] + cases("multiple")[:3]
    report = run_bfcl(ScriptedModel(loaded), DATA, "simple_python", limit=3, progress=True)  # type: ignore[arg-type]
    report.records += run_bfcl(
        ScriptedModel(loaded),
        DATA,
        ["multiple"],
        limit=3,  # type: ignore[arg-type]
        progress=False,
    ).records
    Console(width=120).print(report.table())
    out = capsys.readouterr().out
    assert "simple_python" in out and "multiple" in out and "100.0" in out
    data = report.to_json()
    json.dumps(data)  # serialisable
    assert data["categories"]["multiple"]["n"] == 3
    assert data["categories"]["multiple"]["accuracy"] == 1.0
    assert data["records"][0]["id"] == "simple_python_0"
    assert data["records"][0]["calls"][0]["name"] == "calculate_triangle_area"


def test_run_bfcl_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="mode"):
        run_bfcl(object(), tmp_path, ["simple_python"], mode="fast")  # type: ignore[arg-type]
    with pytest.raises(UserError, match="limit"):
        run_bfcl(object(), tmp_path, ["simple_python"], limit=-1)  # type: ignore[arg-type]
