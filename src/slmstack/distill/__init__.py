"""LLM→SLM conversion: recorded traffic → curated data → task clusters → a fine-tuned small model
per cluster → shadow scoring → promotion as a new routing-table version.

Each step is a function over a run directory (:class:`~slmstack.distill.artifacts.RunDir`) that
writes its artifacts and a ``meta.json`` (config, inputs, metrics) and is skipped when its finished
artifact is already there, so ``distill run`` resumes after a crash. Heavy libraries (torch,
transformers, peft, sentence-transformers, scikit-learn, presidio) are imported inside the stages.
"""

from __future__ import annotations

from .artifacts import RunDir
from .config import DistillConfig
from .protocols import MemoryRoutingSink, RoutingSink, TraceSource, Verifier

__all__ = [
    "DistillConfig",
    "MemoryRoutingSink",
    "RoutingSink",
    "RunDir",
    "TraceSource",
    "Verifier",
]
