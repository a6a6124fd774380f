"""Model URIs → backends. One registry, used by the built-ins and third parties alike.

A backend registers a factory ``(uri: str, settings: Settings) -> ChatModel`` under its URI
scheme in the ``slmstack.backends`` entry-point group (see pyproject.toml for the built-in ones):

    embedded:smollm2-135m                 the model shipped with slmstack (llama.cpp, in-process)
    gguf:/path/model.gguf                 any GGUF file (llama.cpp, in-process)
    openai+http://host:8000/v1#model      an OpenAI-compatible server (vLLM, SGLang, llama.cpp)
    hf:/path/to/model[+/path/adapter]     transformers, in-process (optional LoRA adapter)
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from ..config import Settings, load_settings
from ..errors import ModelNotFound

Factory = Callable[[str, Settings], Any]


@cache
def factories() -> dict[str, Factory]:
    found: dict[str, Factory] = {}
    for ep in entry_points(group="slmstack.backends"):
        found[ep.name] = ep  # loaded lazily: heavy backends import torch only when used
    return found


def scheme_of(uri: str) -> str:
    head = uri.split(":", 1)[0] if ":" in uri else ""
    return head.split("+", 1)[0] if head.startswith("openai+") else head


def load_model(uri: str | None = None, settings: Settings | None = None) -> Any:
    """Build the ChatModel a URI names; unknown schemes fail with the list of known ones."""
    settings = settings or load_settings()
    uri = settings.resolve(uri)
    scheme = scheme_of(uri)
    found = factories()
    if scheme not in found:
        raise ModelNotFound(
            f"unknown model URI {uri!r}",
            f"use one of the schemes {sorted(found)!r}, e.g. 'embedded:smollm2-135m', "
            "'gguf:/path/model.gguf', 'openai+http://host:8000/v1#model', 'hf:/path/to/model'",
        )
    ep = found[scheme]
    factory = ep.load() if hasattr(ep, "load") else ep
    return factory(uri, settings)
