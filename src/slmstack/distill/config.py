"""Settings of a distillation run, one section per stage (stored in every stage's meta.json)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from ..errors import ConfigError


class CollectConfig(BaseModel):
    since: float | None = None  # unix seconds, inclusive
    until: float | None = None  # unix seconds, exclusive
    routes: list[str] = Field(default_factory=list)  # empty: all
    models: list[str] = Field(default_factory=list)  # empty: all


class CurateConfig(BaseModel):
    min_verdict: float = 0.5  # calls the verifier scored lower are dropped
    drop_escalated: bool = True
    score_threshold: float = 0.4  # presidio confidence above which a finding is redacted


class ClusterConfig(BaseModel):
    method: Literal["kmeans", "hdbscan"] = "kmeans"
    k: int | None = None  # None: pick k in [2, k_max] by silhouette
    k_max: int = 8
    kind_weight: float = 1.0  # weight of the request-shape one-hot next to the text embedding
    heldout_fraction: float = 0.25
    split_by: Literal["request", "tools"] = "request"  # what a train/held-out split keeps whole
    min_size: int = 4
    seed: int = 0


class SelectConfig(BaseModel):
    candidates: list[str] = Field(default_factory=lambda: ["embedded:smollm2-135m"])
    heldout_limit: int = 20  # held-out requests per cluster each candidate answers
    min_train: int = 8  # clusters with fewer training examples are not fine-tuned
    max_tokens: int = 256


class FinetuneConfig(BaseModel):
    epochs: float = 2.0
    max_steps: int | None = None  # overrides epochs when set
    lr: float = 2e-4
    rank: int = 16
    alpha: int = 32
    dropout: float = 0.0
    batch_size: int = 4  # examples per optimiser step (one right-padded batch)
    max_len: int = 1024  # prompt + target tokens; longer examples are skipped
    max_examples: int | None = None
    save_every: int = 10  # optimiser steps between resumable checkpoints
    # early stopping: a validation slice of the training split (whole groups, as in cluster)
    val_fraction: float = 0.1  # 0: no validation, train all steps
    eval_every: int = 10  # optimiser steps between validation-loss measurements
    patience: int = 3  # measurements without improvement before training stops
    min_delta: float = 0.001  # a smaller fall of the validation loss is no improvement
    # the student must beat its base on the validation slice (tool-call / output agreement
    # with the incumbent, served like in production); otherwise the base is kept
    keep_better: bool = True
    val_limit: int = 40  # validation requests replayed for that comparison
    export: Literal["auto", "hf", "gguf"] = "auto"  # auto: GGUF when the base model is one
    gguf_type: Literal["q8_0", "f16", "f32"] = "q8_0"  # of the tensors LoRA changed
    threads: int | None = None
    seed: int = 0
    dtype: Literal["float32", "bfloat16"] = "float32"


class ShadowConfig(BaseModel):
    """When a candidate is promoted. Under either rule, with a verifier set, the mean verifier
    score of its replies must be ≥ ``verify_bar``. ``rule = "agreement"``: its replies agree
    with the incumbent's on ≥ ``bar`` of the shadow requests. ``rule = "non_inferior"`` (needs
    a verifier): the
    verifier accepts (score ≥ ``pass_at``) the candidate's replies at least ``ratio`` times as
    often as the incumbent's own replies to the same requests, it agrees with the incumbent on
    ≥ ``floor`` of them, and at least ``min_n`` requests were shadowed. Agreement alone cannot
    promote a candidate past an incumbent that is itself often wrong: a student right where the
    teacher is wrong counts as a disagreement."""

    limit: int = 50  # held-out requests replayed per target
    rule: Literal["agreement", "non_inferior"] = "agreement"
    bar: float = 0.9
    verify_bar: float = 0.5
    ratio: float = 0.95
    floor: float = 0.5
    pass_at: float = 1.0
    min_n: int = 30
    max_tokens: int = 256


class DistillConfig(BaseModel):
    collect: CollectConfig = Field(default_factory=CollectConfig)
    curate: CurateConfig = Field(default_factory=CurateConfig)
    cluster: ClusterConfig = Field(default_factory=ClusterConfig)
    select: SelectConfig = Field(default_factory=SelectConfig)
    finetune: FinetuneConfig = Field(default_factory=FinetuneConfig)
    shadow: ShadowConfig = Field(default_factory=ShadowConfig)

    @classmethod
    def load(cls, path: Path | None) -> DistillConfig:
        """Read the ``[distill]`` table of a TOML file (or the whole file); defaults if None."""
        if path is None:
            return cls()
        import tomllib

        from pydantic import ValidationError

        try:
            data = tomllib.loads(Path(path).read_text("utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(
                f"cannot read distill config {str(path)!r}: {exc}", "fix the file's TOML"
            ) from None
        try:
            return cls.model_validate(data.get("distill", data))
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            raise ConfigError(
                f"distill config {str(path)!r}: {where}: {err['msg']} (got {err.get('input')!r})",
                "see slmstack.distill.config for the allowed settings",
            ) from None
