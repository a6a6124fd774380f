"""OpenAI-style error bodies, and slmstack's typed errors mapped to HTTP statuses.

Every error the gateway answers has the shape clients already parse::

    {"error": {"message": "...", "type": "invalid_request_error", "param": null, "code": "..."}}
"""

from __future__ import annotations

from typing import Any

from ..errors import BackendUnavailable, ModelNotFound, ModelRetry, SlmstackError, UserError


class GatewayError(Exception):
    """An answer other than 200, with the OpenAI error fields."""

    def __init__(
        self, status: int, message: str, *, type: str = "invalid_request_error",
        code: str | None = None, param: str | None = None, headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return error_body(self.message, self.type, self.code, self.param)


def error_body(message: str, type: str, code: str | None = None,
               param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def from_exception(exc: BaseException, model: str) -> GatewayError:
    """Who must act decides the status: the caller (4xx) or the upstream (502)."""
    if isinstance(exc, GatewayError):
        return exc
    if isinstance(exc, ModelNotFound):
        return GatewayError(404, str(exc), code="model_not_found", param="model")
    if isinstance(exc, UserError):
        return GatewayError(400, str(exc), code="invalid_request")
    if isinstance(exc, ModelRetry):
        return GatewayError(
            422, f"model {model!r} could not produce a valid reply: {exc}",
            type="model_output_error", code="output_validation_failed",
        )
    if isinstance(exc, BackendUnavailable):
        return GatewayError(502, str(exc), type="upstream_error", code="upstream_unavailable")
    if isinstance(exc, SlmstackError):
        return GatewayError(502, str(exc), type="upstream_error", code="upstream_error")
    return GatewayError(
        500, f"internal error while serving {model!r}: {type(exc).__name__}: {exc}"[:500],
        type="server_error", code="internal_error",
    )
