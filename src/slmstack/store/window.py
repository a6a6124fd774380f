"""Time arguments: ``24h``, ``7d``, ``30m``, ``90s``, ``2w`` (ago), ISO dates, unix seconds."""

from __future__ import annotations

import re
import time
from datetime import datetime

from ..errors import UserError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_AGO = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)


def parse_when(text: str | None, *, now: float | None = None) -> float | None:
    """Unix seconds for a CLI time argument; None passes through."""
    if text is None or not text.strip():
        return None
    now = time.time() if now is None else now
    m = _AGO.match(text)
    if m:
        return now - float(m.group(1)) * _UNITS[m.group(2).lower()]
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text.strip()).timestamp()
    except ValueError:
        raise UserError(
            f"time {text!r} is not a duration, a date or unix seconds",
            "use e.g. 24h, 7d, 30m, 2026-01-31, 2026-01-31T12:00 or 1767225600",
        ) from None


def parse_days(text: str) -> float:
    """Days in a duration such as ``30d`` or ``12h`` (a bare number means days)."""
    m = _AGO.match(text)
    if m:
        return float(m.group(1)) * _UNITS[m.group(2).lower()] / 86400
    try:
        return float(text)
    except ValueError:
        raise UserError(
            f"duration {text!r} is not a number of days or a duration", "use e.g. 30d or 12h"
        ) from None
