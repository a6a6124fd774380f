"""slmstack.toml → typed settings. The one place that reads environment variables.

Search order: an explicit path, ``$SLMSTACK_CONFIG``, ``./slmstack.toml``; no file means defaults.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import ConfigError

DEFAULT_MODEL = "embedded:smollm2-135m"


def _validation_error(exc: ValidationError, where: str, hint: str) -> ConfigError:
    first = exc.errors()[0]
    loc = ".".join(str(x) for x in first["loc"])
    shown = "input" in first and first["type"] != "missing"
    got = f" (got {first['input']!r:.80})" if shown else ""
    return ConfigError(f"{where}{loc}: {first['msg']}{got}", hint)


class Section(BaseModel):
    """Base of each part's settings table (``[store]``, ``[gateway]``, …): unknown keys are an
    error, and ``from_settings`` validates the raw table that ``Settings`` keeps for the part."""

    model_config = ConfigDict(extra="forbid")
    section: ClassVar[str] = ""

    @classmethod
    def from_settings(cls, settings: Any = None) -> Self:
        """This part's table of a ``Settings`` (raw dict or already validated); defaults if none."""
        if isinstance(settings, cls):
            return settings
        raw = getattr(settings, cls.section, None) if settings is not None else None
        if isinstance(raw, cls):
            return raw
        try:
            return cls.model_validate(raw or {})
        except ValidationError as exc:
            hint = f"fix the [{cls.section}] table in slmstack.toml (see README 'Configuration')"
            raise _validation_error(exc, f"{cls.section}.", hint) from None


class EmbeddedSettings(BaseModel):
    n_ctx: int = 4096
    n_threads: int | None = None  # None: llama.cpp picks (all physical cores)
    n_gpu_layers: int = 0
    seed: int = 0
    # llama.cpp evaluates only what a prompt adds to the last one; the split changes the logits
    # slightly, so a greedy reply can depend on the calls before it. False: every call starts
    # from an empty context (the same reply for the same request, always; slower prompts)
    reuse_prompt: bool = True


class HTTPSettings(BaseModel):
    timeout_s: float = 60.0
    max_retries: int = 1
    api_key_env: str = "OPENAI_API_KEY"  # the env var holding the key for openai+ URIs


class Settings(BaseModel):
    """All of slmstack.toml. Unknown top-level keys are an error (a typo must not pass silently).

    Each part's own table (``[store]``, ``[agent]``, ``[rag]``, ``[verify]``, ``[router]``,
    ``[gateway]``, ``[distill]``) is kept raw here and validated by that part's settings model
    (``XxxSettings.from_settings(settings)``), so reading the config never imports heavy parts.
    """

    model_config = ConfigDict(extra="forbid")

    default_model: str = DEFAULT_MODEL
    aliases: dict[str, str] = Field(default_factory=dict)  # short name → model URI
    models: dict[str, dict[str, Any]] = Field(default_factory=dict)  # user catalog entries
    embedded: EmbeddedSettings = Field(default_factory=EmbeddedSettings)
    http: HTTPSettings = Field(default_factory=HTTPSettings)
    store: dict[str, Any] = Field(default_factory=dict)
    agent: dict[str, Any] = Field(default_factory=dict)
    rag: dict[str, Any] = Field(default_factory=dict)
    verify: dict[str, Any] = Field(default_factory=dict)
    router: dict[str, Any] = Field(default_factory=dict)
    gateway: dict[str, Any] = Field(default_factory=dict)
    distill: dict[str, Any] = Field(default_factory=dict)

    def api_key(self) -> str | None:
        return os.environ.get(self.http.api_key_env)

    def resolve(self, uri: str | None) -> str:
        uri = uri or os.environ.get("SLMSTACK_MODEL") or self.default_model
        return self.aliases.get(uri, uri)


def load_settings(path: str | Path | None = None) -> Settings:
    path = path or os.environ.get("SLMSTACK_CONFIG")
    if path is None and Path("slmstack.toml").is_file():
        path = "slmstack.toml"
    settings = _from_file(Path(path)) if path is not None else Settings()
    if url := os.environ.get("SLMSTACK_STORE_URL"):
        settings.store = {**settings.store, "url": url}
    return settings


def _from_file(p: Path) -> Settings:
    try:
        data = tomllib.loads(p.read_text("utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"config file {str(p)!r} not found", "create it or unset SLMSTACK_CONFIG"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        msg = f"config file {str(p)!r} is not valid TOML: {exc}"
        raise ConfigError(msg, "fix the syntax") from exc
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        hint = "see README.md 'Configuration' for the keys"
        raise _validation_error(exc, f"config file {str(p)!r}: ", hint) from None
