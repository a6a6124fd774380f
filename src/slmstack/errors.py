"""Exceptions typed by who must act.

* ``UserError``   — the person running slmstack must fix something (config, a path, a URI).
* ``ModelRetry``  — goes back to the model as an observation (bad tool arguments,
  unparseable reply).
* ``BackendUnavailable`` — the router/fallback should try another model (server down, timeout).

Every message quotes the offending value with ``!r`` and says what to do next.
"""

from __future__ import annotations


class SlmstackError(Exception):
    """Base class. ``str(err)`` is a single line fit to show a user."""

    def __init__(self, what: str, hint: str = "") -> None:
        self.what = what
        self.hint = hint
        super().__init__(f"{what} — {hint}" if hint else what)


class UserError(SlmstackError):
    """Something the user must change: configuration, a path, a model URI, a schema."""


class ConfigError(UserError):
    pass


class ModelNotFound(UserError):
    pass


class InvalidSchema(UserError):
    pass


class ModelRetry(SlmstackError):
    """An error the model can fix if told: invalid arguments, unparseable output."""


class ToolCallError(ModelRetry):
    """A tool call that could not be parsed, repaired or validated."""


class OutputValidationError(ModelRetry):
    """Structured output that does not validate against the requested schema."""


class BackendUnavailable(SlmstackError):
    """The model backend could not be reached or timed out: fall back or retry later."""
