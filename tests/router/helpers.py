"""Helpers for router tests: scripted tiers for control flow, reading back recorded calls."""

from __future__ import annotations

from typing import Any

from slmstack.config import Settings
from slmstack.models.scripted import ScriptedModel
from slmstack.store import TraceStore

SMALL, LARGE = "scripted:small", "scripted:large"


def router_settings(**router: Any) -> Settings:
    return Settings(router={"tiers": {"small": SMALL, "large": LARGE}, **router})


def tiers(small: list[Any], large: list[Any]) -> dict[str, ScriptedModel]:
    return {SMALL: ScriptedModel(small, name=SMALL), LARGE: ScriptedModel(large, name=LARGE)}


def calls(store: TraceStore) -> list[Any]:
    assert store.flush(10)
    return list(store.model_calls())
