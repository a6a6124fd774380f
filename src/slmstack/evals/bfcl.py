"""BFCL v4 (non-live, single-turn) function-calling evaluation.

Three jobs:

* **load** a category of the Berkeley Function Calling Leaderboard data (``BFCL_v4_<cat>.json`` plus
  ``possible_answer/BFCL_v4_<cat>.json``) into :class:`BfclCase` records whose tools are standard
  JSON-Schema :class:`~slmstack.types.ToolSpec` objects;
* **check** a model's calls against the possible answers with the rules of BFCL's official AST
  checker (``bfcl/eval_checker/ast_eval/ast_checker.py``, Python flavour), re-implemented here:
  exact function name, required params present, no unknown params, Python-style type check (an int
  is accepted for a float), values in the allowed list (strings compared after BFCL's
  standardisation), parallel calls matched to the answers in any order;
* **run** a :class:`~slmstack.models.base.ChatModel` over categories, either through the stack
  (``mode="stack"``: tools, constraint and repair) or as the unconstrained baseline
  (``mode="raw"``: tool prompt only, strict JSON parse), and report per-category accuracy.

The data is read where it lies (``--data``); nothing is copied. BFCL is Apache-2.0.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..errors import SlmstackError, UserError
from ..models import prompts
from ..progress import progress as progress_bar
from ..types import Completion, Message, ToolCall, ToolSpec

if TYPE_CHECKING:
    from rich.table import Table

    from ..models.base import ChatModel

__all__ = [
    "CATEGORIES",
    "BfclCase",
    "BfclReport",
    "CaseRecord",
    "CategoryStats",
    "CheckResult",
    "answer_calls",
    "check_call",
    "check_calls",
    "check_case",
    "load_category",
    "parse_strict",
    "run_bfcl",
    "run_case",
    "standardize_string",
    "to_json_schema",
    "to_tool_spec",
]

CATEGORIES: tuple[str, ...] = (
    "simple_python",
    "multiple",
    "parallel",
    "parallel_multiple",
    "irrelevance",
)
"""The non-live single-turn categories this module knows (file stems after ``BFCL_v4_``)."""

Mode = Literal["stack", "raw"]
_DATA_HINT = (
    "pass --data pointing at a BFCL v4 folder "
    "(BFCL_v4_<category>.json files and a possible_answer/ folder)"
)

# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


@dataclass
class BfclCase:
    """One BFCL question: the chat turns, the tools offered, and the accepted answers.

    ``ground_truth`` is a list of ``{func_name: {param: [allowed values...]}}`` (``None`` for
    irrelevance). ``functions`` keeps BFCL's own function docs, which the checker reads for its
    Python-style type rules.
    """

    id: str
    messages: list[Message]
    tools: list[ToolSpec]
    ground_truth: list[dict[str, Any]] | None
    functions: list[dict[str, Any]] = field(default_factory=list)
    category: str = ""


def load_category(data_dir: str | Path, category: str) -> list[BfclCase]:
    """Read one BFCL v4 category from ``data_dir``; raise UserError when files are missing."""
    root = _data_root(data_dir)
    rows = _read_jsonl(root / f"BFCL_v4_{category}.json", category)
    answers = _load_answers(root, category)
    return [_to_case(row, answers, category) for row in rows]


def _data_root(data_dir: str | Path) -> Path:
    root = Path(data_dir).expanduser()
    if not root.is_dir():
        raise UserError(f"BFCL data folder {str(root)!r} does not exist", _DATA_HINT)
    return root


def _read_jsonl(path: Path, category: str) -> list[dict[str, Any]]:
    if not path.is_file():
        raise UserError(
            f"BFCL file {str(path)!r} for category {category!r} does not exist",
            f"{_DATA_HINT}; known categories: {', '.join(CATEGORIES)}",
        )
    rows = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if line.strip():
                rows.append(_parse_line(line, path, lineno))
    return rows


def _parse_line(line: str, path: Path, lineno: int) -> dict[str, Any]:
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise UserError(
            f"BFCL file {str(path)!r} line {lineno} is not JSON ({exc.msg})",
            "re-download the BFCL v4 data; each line must be one JSON object",
        ) from None


def _load_answers(root: Path, category: str) -> dict[str, list[dict[str, Any]]] | None:
    if category == "irrelevance" or "irrelevance" in category:
        return None
    path = root / "possible_answer" / f"BFCL_v4_{category}.json"
    return {row["id"]: row["ground_truth"] for row in _read_jsonl(path, category)}


def _to_case(
    row: dict[str, Any], answers: dict[str, list[dict[str, Any]]] | None, category: str
) -> BfclCase:
    if answers is not None and row["id"] not in answers:
        raise UserError(
            f"case {row['id']!r} has no entry in possible_answer/BFCL_v4_{category}.json",
            "use question and answer files from the same BFCL v4 release",
        )
    functions = row.get("function") or []
    return BfclCase(
        id=row["id"],
        messages=_messages(row.get("question") or []),
        tools=[to_tool_spec(f) for f in functions],
        ground_truth=None if answers is None else answers[row["id"]],
        functions=functions,
        category=category,
    )


def _messages(question: list[Any]) -> list[Message]:
    """BFCL's ``question`` is a list of turns, each a list of messages; flatten them in order."""
    turns = question if question and isinstance(question[0], list) else [question]
    return [Message(role=m["role"], content=m.get("content")) for turn in turns for m in turn]


# ---------------------------------------------------------------------------------------------
# BFCL function docs -> JSON Schema
# ---------------------------------------------------------------------------------------------

_JSON_TYPES: dict[str, str | None] = {
    "dict": "object",
    "object": "object",
    "HashMap": "object",
    "Hashtable": "object",
    "float": "number",
    "number": "number",
    "double": "number",
    "integer": "integer",
    "int": "integer",
    "long": "integer",
    "short": "integer",
    "byte": "integer",
    "Bigint": "integer",
    "string": "string",
    "String": "string",
    "char": "string",
    "boolean": "boolean",
    "bool": "boolean",
    "array": "array",
    "list": "array",
    "tuple": "array",
    "ArrayList": "array",
    "Array": "array",
    "Queue": "array",
    "Stack": "array",
    "any": None,
    "Any": None,
}
"""BFCL's python-ish type names -> JSON Schema types (``None``: no type constraint)."""

_KEPT_KEYWORDS = (
    "description",
    "enum",
    "default",
    "format",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
    "pattern",
)
"""Keywords copied as they are; others (e.g. BFCL's non-standard ``optional``) are dropped."""


def to_json_schema(doc: dict[str, Any]) -> dict[str, Any]:
    """Convert one BFCL parameter doc (recursively) to standard JSON Schema."""
    out: dict[str, Any] = {}
    json_type = _JSON_TYPES.get(doc.get("type", "any"))
    if json_type is not None:
        out["type"] = json_type
    out.update({k: doc[k] for k in _KEPT_KEYWORDS if k in doc})
    if isinstance(doc.get("items"), dict):
        out["items"] = to_json_schema(doc["items"])
    if isinstance(doc.get("properties"), dict):
        out["properties"] = {k: to_json_schema(v) for k, v in doc["properties"].items()}
    if isinstance(doc.get("required"), list):
        out["required"] = list(doc["required"])
    return out


def to_tool_spec(function: dict[str, Any]) -> ToolSpec:
    """A BFCL function doc as a ToolSpec; the name is kept as is (dots included)."""
    params = to_json_schema(function.get("parameters") or {"type": "dict"})
    params["type"] = "object"
    params.setdefault("properties", {})
    return ToolSpec(
        name=function["name"],
        description=function.get("description", "") or "",
        parameters=params,
    )


# ---------------------------------------------------------------------------------------------
# The AST checker (BFCL's rules, Python flavour)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    """Whether the calls are accepted; if not, why (``error``) and a BFCL-like ``error_type``."""

    valid: bool
    error: str | None = None
    error_type: str | None = None


_OK = CheckResult(True)

_PY_TYPES: dict[str, type] = {
    "string": str,
    "integer": int,
    "float": float,
    "boolean": bool,
    "array": list,
    "tuple": list,
    "dict": dict,
    "any": str,
}
"""What BFCL's checker expects a Python value to be, per doc type ("any" is checked as str)."""

_STANDARDIZE = re.compile(r"[ ,./\-_*^]")


def _fail(error_type: str, error: str) -> CheckResult:
    return CheckResult(False, error, error_type)


def standardize_string(text: str) -> str:
    """BFCL's string normalisation: drop spaces and ``,./-_*^``, lowercase, ' -> "."""
    return _STANDARDIZE.sub("", text).lower().replace("'", '"')


def _std(value: Any) -> Any:
    return standardize_string(value) if type(value) is str else value


def check_case(case: BfclCase, calls: Sequence[ToolCall]) -> CheckResult:
    """Check a model's calls for one loaded case."""
    return check_calls(case.category, case.functions, calls, case.ground_truth)


def check_calls(
    category: str,
    functions: Sequence[dict[str, Any]],
    calls: Sequence[ToolCall],
    ground_truth: Sequence[dict[str, Any]] | None,
) -> CheckResult:
    """Dispatch by category the way BFCL does: irrelevance, parallel*, multiple*, else simple."""
    if "irrelevance" in category or ground_truth is None:
        return _check_irrelevance(calls)
    if "parallel" in category:
        return _check_parallel(functions, calls, ground_truth)
    if len(calls) != len(ground_truth) or len(calls) != 1:
        return _fail(
            "wrong_count",
            f"wrong number of calls: expected {len(ground_truth)}, got {len(calls)}",
        )
    answer = ground_truth[0]
    doc = functions[0] if "multiple" not in category else _find_doc(functions, answer)
    return check_call(doc, calls[0], answer)


def _check_irrelevance(calls: Sequence[ToolCall]) -> CheckResult:
    if not calls:
        return _OK
    names = [c.name for c in calls]
    return _fail("irrelevance:called", f"expected no call, got calls to {names!r}")


def _find_doc(functions: Sequence[dict[str, Any]], answer: dict[str, Any]) -> dict[str, Any] | None:
    name = next(iter(answer))
    return next((f for f in functions if f.get("name") == name), None)


def _check_parallel(
    functions: Sequence[dict[str, Any]],
    calls: Sequence[ToolCall],
    ground_truth: Sequence[dict[str, Any]],
) -> CheckResult:
    """Each answer, in order, takes the first still-unmatched call that passes (BFCL's greedy)."""
    if len(calls) != len(ground_truth):
        return _fail(
            "wrong_count",
            f"wrong number of calls: expected {len(ground_truth)}, got {len(calls)}",
        )
    matched: set[int] = set()
    for i, answer in enumerate(ground_truth):
        doc = _find_doc(functions, answer)
        errors = []
        for j, call in enumerate(calls):
            if j in matched:
                continue
            result = check_call(doc, call, answer)
            if result.valid:
                matched.add(j)
                break
            errors.append(f"call {j}: {result.error}")
        else:
            name = next(iter(answer))
            return _fail(
                "parallel:no_match",
                f"no call matches expected call {i} ({name!r}): {'; '.join(errors)}",
            )
    return _OK


def check_call(doc: dict[str, Any] | None, call: ToolCall, answer: dict[str, Any]) -> CheckResult:
    """BFCL's simple-function check: one call against one ``{func_name: {param: allowed}}``."""
    expected_name, allowed = next(iter(answer.items()))
    if doc is None:
        return _fail("missing_doc", f"no function doc named {expected_name!r} among the tools")
    if call.name != doc["name"]:
        return _fail(
            "wrong_func_name",
            f"wrong function name: expected {doc['name']!r}, got {call.name!r}",
        )
    params = (doc.get("parameters") or {}).get("properties") or {}
    for name in (doc.get("parameters") or {}).get("required") or []:
        if name not in call.arguments:
            return _fail("missing_required", f"missing required param {name!r}")
    for name, value in call.arguments.items():
        if name not in params or name not in allowed:
            return _fail("unexpected_param", f"unexpected param {name!r}")
        result = _check_param(name, value, params[name], allowed[name])
        if not result.valid:
            return result
    return _check_omitted(call.arguments, allowed)


def _check_omitted(arguments: dict[str, Any], allowed: dict[str, list[Any]]) -> CheckResult:
    for name, values in allowed.items():
        if name not in arguments and "" not in values:
            return _fail(
                "missing_optional",
                f"missing param {name!r}: optional in the doc but the answer needs one of "
                f"{values!r}",
            )
    return _OK


def _check_param(name: str, value: Any, spec: dict[str, Any], allowed: list[Any]) -> CheckResult:
    type_name = spec.get("type", "any")
    expected = _PY_TYPES.get(type_name)
    if expected is None:  # a type BFCL's Python checker does not know: compare values only
        return _check_membership(name, value, allowed)
    nested = None
    if type_name in ("array", "tuple"):
        nested = _PY_TYPES.get((spec.get("items") or {}).get("type", ""))
    if type_name == "tuple" and type(value) is tuple:
        value = list(value)
    if type_name == "float" and type(value) is int:
        value = float(value)  # Python's int -> float promotion is accepted
    result, is_variable = _check_type(name, value, allowed, type_name, expected, nested)
    if not result.valid:
        return result
    if is_variable:
        return _check_membership(name, value, allowed)
    return _check_value(name, value, allowed, expected, nested)


def _answer_type(allowed: list[Any]) -> type | None:
    """The type of the first non-optional allowed value (BFCL uses it to spot variables)."""
    return next((type(a) for a in allowed if a != ""), None)


def _check_type(
    name: str,
    value: Any,
    allowed: list[Any],
    type_name: str,
    expected: type,
    nested: type | None,
) -> tuple[CheckResult, bool]:
    """BFCL's type_checker: (result, is_variable). A value of the answer's own type is accepted
    when the answer's type differs from the doc's (the answer then names a variable)."""
    answer_type = _answer_type(allowed)
    is_variable = answer_type is not None and answer_type is not expected
    if type(value) is expected:
        if nested is None or _nested_types_ok(value, allowed, nested):
            return _OK, is_variable
        return _fail(
            "type_error:nested",
            f"wrong item type for param {name!r}: expected {type_name} of "
            f"{nested.__name__}, got {value!r}",
        ), False
    if answer_type is not None and type(value) is answer_type:
        return _OK, True
    return _fail(
        "type_error:simple",
        f"wrong type for param {name!r}: expected {type_name}, got {type(value).__name__} "
        f"(value {value!r})",
    ), False


def _nested_types_ok(value: list[Any], allowed: list[Any], nested: type) -> bool:
    """One level deep, as BFCL: every item has the items' type (or that of the answer's items)
    for at least one allowed answer; a non-list answer (e.g. ``""``) lets it pass."""
    for answer in allowed:
        if type(answer) is not list:
            return True
        item_type = _answer_type(answer)
        if all(type(v) is nested or type(v) is item_type for v in value):
            return True
    return False


def _check_value(
    name: str, value: Any, allowed: list[Any], expected: type, nested: type | None
) -> CheckResult:
    if expected is dict:
        return _check_dict(name, value, allowed)
    if expected is list and nested is dict:
        return _check_list_of_dicts(name, value, allowed)
    if expected is str:
        return _check_string(name, value, allowed)
    if expected is list:
        return _check_list(name, value, allowed)
    return _check_membership(name, value, allowed)


def _not_allowed(name: str, value: Any, allowed: list[Any], kind: str) -> CheckResult:
    shown = [a for a in allowed if a != ""]
    return _fail(f"value_error:{kind}", f"param {name!r}: value {value!r} not in allowed {shown!r}")


def _check_membership(name: str, value: Any, allowed: list[Any]) -> CheckResult:
    return _OK if value in allowed else _not_allowed(name, value, allowed, "others")


def _check_string(name: str, value: str, allowed: list[Any]) -> CheckResult:
    options = [standardize_string(a) for a in allowed if type(a) is str]
    if standardize_string(value) in options:
        return _OK
    return _not_allowed(name, value, allowed, "string")


def _check_list(name: str, value: list[Any], allowed: list[Any]) -> CheckResult:
    got = [_std(v) for v in value]
    options = [[_std(v) for v in a] for a in allowed if isinstance(a, list)]
    if "" in allowed:  # BFCL reads an omitted-marker as an empty list here
        options.append([])
    return _OK if got in options else _not_allowed(name, value, allowed, "list/tuple")


def _check_dict(name: str, value: dict[str, Any], allowed: list[Any]) -> CheckResult:
    """Some allowed dict (each key -> allowed values) must accept every key/value of ``value``."""
    result = _fail("value_error:dict", f"param {name!r}: no allowed value to compare with")
    for answer in allowed:
        if isinstance(answer, dict):
            result = _check_one_dict(name, value, answer)
            if result.valid:
                return result
    return result


def _check_one_dict(name: str, value: dict[str, Any], answer: dict[str, list[Any]]) -> CheckResult:
    for key, item in value.items():
        if key not in answer:
            return _fail("value_error:dict_key", f"param {name!r}: unexpected dict key {key!r}")
        if _std(item) not in [_std(a) for a in answer[key]]:
            return _fail(
                "value_error:dict_value",
                f"param {name!r}: value {item!r} for key {key!r} not in allowed "
                f"{[a for a in answer[key] if a != '']!r}",
            )
    for key, options in answer.items():
        if key not in value and "" not in options:
            return _fail("value_error:dict_key", f"param {name!r}: missing dict key {key!r}")
    return _OK


def _check_list_of_dicts(name: str, value: list[Any], allowed: list[Any]) -> CheckResult:
    """Dicts compared position by position against one allowed list of dicts."""
    result = _fail("value_error:list_dict", f"param {name!r}: no allowed value to compare with")
    for answer in allowed:
        answer = [] if answer == "" else answer
        if not isinstance(answer, list):
            continue
        if len(answer) != len(value):
            result = _fail(
                "value_error:list_dict_count",
                f"param {name!r}: expected {len(answer)} dicts, got {len(value)}",
            )
            continue
        result = _check_dict_items(name, value, answer)
        if result.valid:
            return result
    return result


def _check_dict_items(name: str, value: list[Any], answer: list[Any]) -> CheckResult:
    for item, expected in zip(value, answer, strict=True):
        if not isinstance(item, dict):
            return _fail("value_error:list_dict", f"param {name!r}: item {item!r} is not a dict")
        result = _check_dict(name, item, [expected])
        if not result.valid:
            return result
    return _OK


def answer_calls(
    ground_truth: Sequence[dict[str, Any]] | None,
    functions: Sequence[dict[str, Any]] = (),
) -> list[ToolCall]:
    """Calls built from each answer's first allowed values: an oracle for tests and baselines.

    Optional params (``""`` allowed) are left out when their first value is ``""``; with the
    function docs given, a required param takes its first real value and an optional param the
    doc does not list is left out (two BFCL answers need this).
    """
    calls = []
    for answer in ground_truth or []:
        name, allowed = next(iter(answer.items()))
        doc = _find_doc(functions, answer) or {}
        calls.append(ToolCall(name=name, arguments=_first_values(allowed, doc)))
    return calls


def _first_values(allowed: dict[str, list[Any]], doc: dict[str, Any]) -> dict[str, Any]:
    params = doc.get("parameters") or {}
    props, required = params.get("properties"), params.get("required") or []
    out = {}
    for key, values in allowed.items():
        optional = "" in values and key not in required
        real = [v for v in values if v != ""]
        if not real or (optional and (values[0] == "" or (props and key not in props))):
            continue
        out[key] = _realize(real[0])
    return out


def _realize(value: Any) -> Any:
    """Nested answers hold dicts of allowed lists; pick their first values too."""
    if isinstance(value, dict):
        return _first_values(value, {})
    if isinstance(value, list):
        return [_first_values(v, {}) if isinstance(v, dict) else v for v in value]
    return value


# ---------------------------------------------------------------------------------------------
# Running a model
# ---------------------------------------------------------------------------------------------


@dataclass
class CaseRecord:
    """What happened on one case."""

    id: str
    category: str
    valid: bool
    error: str | None
    raw_text: str | None
    calls: list[dict[str, Any]] = field(default_factory=list)
    error_type: str | None = None
    latency_s: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass
class CategoryStats:
    category: str
    n: int
    correct: int
    mean_latency_s: float
    input_tokens: int
    output_tokens: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.n if self.n else 0.0


@dataclass
class BfclReport:
    """Per-case records and per-category statistics of one run."""

    model: str
    mode: str
    records: list[CaseRecord] = field(default_factory=list)

    @property
    def categories(self) -> dict[str, CategoryStats]:
        by_cat: dict[str, list[CaseRecord]] = {}
        for rec in self.records:
            by_cat.setdefault(rec.category, []).append(rec)
        return {cat: _stats(cat, recs) for cat, recs in by_cat.items()}

    @property
    def overall_accuracy(self) -> float:
        """Unweighted mean of the category accuracies (as BFCL summarises)."""
        stats = list(self.categories.values())
        return sum(s.accuracy for s in stats) / len(stats) if stats else 0.0

    def table(self) -> Table:
        from rich.table import Table

        table = Table(title=f"BFCL v4 — {self.model} ({self.mode})")
        for col in ("category", "n", "accuracy %", "mean latency s", "tokens"):
            table.add_column(col, justify="left" if col == "category" else "right")
        for s in self.categories.values():
            table.add_row(
                s.category,
                str(s.n),
                f"{100 * s.accuracy:.1f}",
                f"{s.mean_latency_s:.3f}",
                str(s.input_tokens + s.output_tokens),
            )
        table.add_section()
        overall = f"{100 * self.overall_accuracy:.1f}"
        table.add_row("overall", str(len(self.records)), overall, "", "")
        return table

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "mode": self.mode,
            "overall_accuracy": self.overall_accuracy,
            "categories": {
                cat: {**asdict(s), "accuracy": s.accuracy} for cat, s in self.categories.items()
            },
            "records": [asdict(r) for r in self.records],
        }


def _stats(category: str, records: list[CaseRecord]) -> CategoryStats:
    n = len(records)
    return CategoryStats(
        category=category,
        n=n,
        correct=sum(r.valid for r in records),
        mean_latency_s=sum(r.latency_s for r in records) / n if n else 0.0,
        input_tokens=sum(r.input_tokens for r in records),
        output_tokens=sum(r.output_tokens for r in records),
    )


def run_bfcl(
    model: ChatModel,
    data_dir: str | Path,
    categories: Iterable[str] | str | None = None,
    *,
    limit: int | None = None,
    mode: Mode = "stack",
    progress: bool = True,
    max_tokens: int = 256,
) -> BfclReport:
    """Run ``model`` over BFCL categories (all known ones when None) and check every answer.

    ``mode="stack"`` offers the tools through ``model.complete(tools=...)``; ``mode="raw"`` shows
    them in the prompt only and parses the reply strictly (the no-constraint, no-repair baseline).
    A ``SlmstackError`` from the model marks that case wrong; the run goes on.
    """
    if mode not in ("stack", "raw"):
        raise UserError(f"unknown BFCL mode {mode!r}", "use 'stack' or 'raw'")
    if limit is not None and limit < 0:
        raise UserError(f"limit must be ≥ 0, got {limit!r}", "pass a non-negative number or None")
    cats = [categories] if isinstance(categories, str) else list(categories or CATEGORIES)
    cases = [c for cat in cats for c in load_category(data_dir, cat)[:limit]]
    report = BfclReport(model=getattr(model, "name", type(model).__name__), mode=mode)
    with progress_bar(progress) as bar:
        task = bar.add_task("BFCL", total=len(cases))
        for case in cases:
            bar.update(task, description=f"BFCL {case.category}")
            report.records.append(run_case(model, case, mode=mode, max_tokens=max_tokens))
            bar.advance(task)
    return report


def run_case(
    model: ChatModel, case: BfclCase, *, mode: Mode = "stack", max_tokens: int = 256
) -> CaseRecord:
    """Ask the model one case and check its calls; model errors become a wrong record."""
    t0 = time.perf_counter()
    try:
        comp, calls = _ask(model, case, mode, max_tokens)
    except SlmstackError as exc:
        return CaseRecord(
            id=case.id,
            category=case.category,
            valid=False,
            error=str(exc),
            raw_text=None,
            error_type=f"model_error:{type(exc).__name__}",
            latency_s=time.perf_counter() - t0,
        )
    result = check_case(case, calls)
    return CaseRecord(
        id=case.id,
        category=case.category,
        valid=result.valid,
        error=result.error,
        raw_text=comp.raw_text if comp.raw_text is not None else comp.text,
        calls=[{"name": c.name, "arguments": c.arguments} for c in calls],
        error_type=result.error_type,
        latency_s=comp.latency_s or (time.perf_counter() - t0),
        input_tokens=comp.usage.input_tokens,
        output_tokens=comp.usage.output_tokens,
    )


def _ask(
    model: ChatModel, case: BfclCase, mode: Mode, max_tokens: int
) -> tuple[Completion, list[ToolCall]]:
    if mode == "stack":
        comp = model.complete(
            case.messages,
            tools=case.tools,
            tool_choice="auto",
            # what a caller would set for this request: BFCL's category says whether the task
            # wants several calls at once (parallel*) or exactly one
            parallel_tool_calls="parallel" in case.category,
            max_tokens=max_tokens,
            temperature=0.0,
        )
        return comp, list(comp.tool_calls)
    prompt = prompts.with_tool_prompt(case.messages, case.tools, "auto")
    comp = model.complete(prompt, max_tokens=max_tokens, temperature=0.0)
    text = comp.text if comp.text is not None else comp.raw_text
    return comp, parse_strict(text)


def parse_strict(text: str | None) -> list[ToolCall]:
    """The raw baseline's parser: the whole stripped reply must be JSON of the form
    ``{"tool_calls": [{"name", "arguments"}...]}``, a list of such calls, or one call object.
    Anything else (prose, code fences, bad JSON, a malformed call) means no call."""
    try:
        value = json.loads((text or "").strip())
    except ValueError:
        return []
    if isinstance(value, dict):
        value = value["tool_calls"] if "tool_calls" in value else [value]
    if not isinstance(value, list):
        return []
    calls = []
    for item in value:
        if not _is_call(item):
            return []
        calls.append(ToolCall(name=item["name"], arguments=item["arguments"]))
    return calls


def _is_call(item: Any) -> bool:
    return (
        isinstance(item, dict)
        and isinstance(item.get("name"), str)
        and isinstance(item.get("arguments"), dict)
    )
