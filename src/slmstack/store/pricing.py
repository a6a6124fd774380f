"""What a call cost: catalog prices per million tokens, or a GPU-hour rate for local models.

The price table is the one at report time, so a changed price re-prices history. Models the
table does not know keep the cost recorded with the call.
"""

from __future__ import annotations

from typing import Any, Literal

from ..models.catalog import Catalog, ModelProfile
from .records import CallRecord
from .settings import StoreSettings

Basis = Literal["gpu-hour", "tokens", "recorded"]


class PriceTable:
    def __init__(self, catalog: Catalog | None = None,
                 gpu_hour_usd: dict[str, float] | None = None) -> None:
        self.catalog = catalog or Catalog.builtin()
        self.gpu_hour_usd = {k.lower(): float(v) for k, v in (gpu_hour_usd or {}).items()}

    @classmethod
    def from_settings(cls, settings: Any = None) -> PriceTable:
        """Builtin catalog + the user's ``[models.*]`` entries + ``[store] gpu_hour_usd``."""
        catalog = Catalog.builtin().with_user_models(getattr(settings, "models", None) or {})
        return cls(catalog, StoreSettings.from_settings(settings).gpu_hour_usd)

    def gpu_rate(self, model: str) -> float | None:
        """USD per GPU-hour for ``model``: the longest key that is a substring of the model id."""
        key = model.lower()
        hits = [k for k in self.gpu_hour_usd if k in key]
        return self.gpu_hour_usd[max(hits, key=len)] if hits else None

    def profile(self, model: str) -> ModelProfile | None:
        prof = self.catalog.lookup(model)
        return prof if prof.match else None  # lookup's fallback profile has no match patterns

    def basis(self, model: str) -> Basis:
        if self.gpu_rate(model) is not None:
            return "gpu-hour"
        return "tokens" if self.profile(model) is not None else "recorded"

    def cost(self, model: str, input_tokens: int, output_tokens: int,
             latency_s: float) -> float | None:
        """USD for one call, or None when the table has no price for ``model``."""
        rate = self.gpu_rate(model)
        if rate is not None:
            return latency_s * rate / 3600
        prof = self.profile(model)
        if prof is None:
            return None
        return (input_tokens * prof.price_in + output_tokens * prof.price_out) / 1e6

    def cost_of(self, rec: CallRecord) -> float:
        priced = self.cost(rec.model, rec.input_tokens, rec.output_tokens, rec.latency_s)
        return rec.cost_usd if priced is None else priced
