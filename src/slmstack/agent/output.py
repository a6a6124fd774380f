"""The caller's output type (a pydantic model or a JSON Schema) as a ``final_answer`` tool.

Offering the final answer as a tool whose parameters are the output schema keeps a constrained
small model inside the schema on every turn (``tool_choice="required"``): each turn is either a
real tool call or the answer, and the answer's arguments are validated like any tool call.
Non-object schemas are wrapped as ``{"answer": <schema>}``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import OutputValidationError
from ..models.prompts import template
from ..models.schema import check_schema, validation_errors
from ..models.toolcalls import NOT_JSON, coerce_to_schema, load_json_lenient
from ..types import ToolSpec
from .tools import _clean_schema, _validation_text

FINAL = "final_answer"


class OutputSpec:
    def __init__(self, output: type[BaseModel] | dict[str, Any]) -> None:
        self.model = output if isinstance(output, type) and issubclass(output, BaseModel) else None
        schema = _clean_schema(check_schema(output))
        self.wrapped = schema.get("type") != "object"
        self.schema = (
            {"type": "object", "properties": {"answer": schema}, "required": ["answer"]}
            if self.wrapped
            else schema
        )
        self.tool = ToolSpec(
            name=FINAL, description=template("agent_final_answer").strip(), parameters=self.schema
        )

    def validate(self, arguments: dict[str, Any]) -> Any:
        """The answer from ``final_answer``'s arguments; OutputValidationError says what's wrong."""
        if self.model is not None:
            try:
                return self.model.model_validate(arguments)
            except ValidationError as exc:
                raise OutputValidationError(_validation_text(exc)) from None
        value = coerce_to_schema(arguments, self.schema, [])
        errors = validation_errors(value, self.schema)
        if errors:
            raise OutputValidationError("; ".join(errors[:3]))
        return value["answer"] if self.wrapped else value

    def from_text(self, text: str | None) -> Any:
        """An answer the model wrote as text instead of calling ``final_answer``."""
        value, _ = load_json_lenient(text or "")
        if value is NOT_JSON:
            raise OutputValidationError(f"reply {text!r:.80} is not JSON")
        if self.wrapped and not (isinstance(value, dict) and set(value) == {"answer"}):
            value = {"answer": value}
        if not isinstance(value, dict):
            raise OutputValidationError(f"reply {text!r:.80} is not a JSON object")
        return self.validate(value)
