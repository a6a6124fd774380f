"""Known model families: context length, chat/tool format, size, tier, default prices.

The built-in table lives in ``catalog.toml`` (data, not code); users add or override entries in
``slmstack.toml`` under ``[models.NAME]`` with the same keys.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from ..errors import ConfigError
from ..types import Usage


@dataclass(frozen=True)
class ModelProfile:
    """Everything slmstack must know about a model family, declared up front."""

    name: str = "unknown"
    match: tuple[str, ...] = ()
    context_length: int = 4096
    chat_format: str = "chatml"
    tool_format: str = "json"
    params_b: float = 0.0
    tier: str = "small"
    price_in: float = 0.0  # USD per 1M input tokens
    price_out: float = 0.0  # USD per 1M output tokens
    # engine capabilities (set by the backend, not the family):
    can_constrain: bool = False  # grammar / guided decoding available
    native_tools: bool = False  # engine takes tools and returns structured calls itself
    supports_tool_role: bool = False  # chat template renders role="tool" messages
    # used when the caller gives no system message (some templates otherwise inject their own,
    # e.g. SmolLM2's, which makes the 135M model drift into French)
    default_system: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def cost(self, usage: Usage) -> float:
        return (usage.input_tokens * self.price_in + usage.output_tokens * self.price_out) / 1e6

    def replace(self, **changes: Any) -> ModelProfile:
        return dataclasses.replace(self, **changes)


_FIELDS = {f.name for f in dataclasses.fields(ModelProfile)}


def _profile(name: str, entry: dict[str, Any]) -> ModelProfile:
    unknown = set(entry) - _FIELDS
    if unknown:
        raise ConfigError(
            f"model entry {name!r} has unknown keys {sorted(unknown)!r}",
            f"use only {sorted(_FIELDS - {'name', 'extra'})!r}",
        )
    data = dict(entry)
    data["match"] = tuple(str(m).lower() for m in data.get("match", [name]))
    return ModelProfile(name=name, **data)


class Catalog:
    def __init__(self, entries: dict[str, ModelProfile]) -> None:
        self.entries = entries

    @classmethod
    def builtin(cls) -> Catalog:
        text = resources.files("slmstack").joinpath("catalog.toml").read_text("utf-8")
        return cls({k: _profile(k, v) for k, v in tomllib.loads(text).items()})

    def with_user_models(self, models: dict[str, dict[str, Any]]) -> Catalog:
        entries = dict(self.entries)
        for name, entry in models.items():
            base = entries.get(name)
            merged = {**_as_entry(base), **entry} if base else entry
            entries[name] = _profile(name, merged)
        return Catalog(entries)

    def lookup(self, model_id: str) -> ModelProfile:
        """Best profile for a model id or file name (longest matching pattern wins)."""
        key = model_id.lower().replace("_", "-")
        if key in self.entries:
            return self.entries[key]
        best, best_len = None, 0
        for prof in self.entries.values():
            for pat in prof.match:
                if pat in key and len(pat) > best_len:
                    best, best_len = prof, len(pat)
        return best or ModelProfile(name=model_id)


def _as_entry(p: ModelProfile) -> dict[str, Any]:
    d = dataclasses.asdict(p)
    for k in ("name", "extra", "can_constrain", "native_tools", "supports_tool_role"):
        d.pop(k)
    d["match"] = list(p.match)
    return d
