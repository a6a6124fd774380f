"""LoRA training with peft: a short, resumable loop over (prompt, target) token sequences.

The loss is taken on target tokens only, and logits are computed only for the positions that
hold targets (``logits_to_keep``): with a 49k-token vocabulary, most of a small model's output
layer work would otherwise go to prompt positions nobody learns from. Checkpoints (adapter,
optimiser, scheduler, step) are written atomically every ``save_every`` steps, and the example
order is a pure function of the seed, so a killed run continues where its checkpoint left it.

With validation examples, the loss on them is measured before training and every
``eval_every`` steps; training stops after ``patience`` measurements without improvement and
the adapter of the best measurement is what the model keeps — the untouched base (LoRA's B
matrices start at zero) when no step beat it.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import FinetuneConfig

LENGTH_GROUP = 8  # batches whose examples are sorted by length together


@dataclass
class Example:
    ids: list[int]
    n_prompt: int  # ids[:n_prompt] is the prompt; the rest is the target


@dataclass
class TrainStats:
    steps: int = 0
    resumed_from: int = 0
    tokens: int = 0  # real (non-pad) tokens processed in this session
    target_tokens: int = 0
    seconds: float = 0.0
    losses: list[float] = field(default_factory=list)
    val_losses: list[list[float]] = field(default_factory=list)  # [step, loss] per measurement
    best_step: int | None = None  # the step whose adapter the model keeps (0: the base)
    stopped_early: bool = False

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.seconds if self.seconds else 0.0


def add_lora(model: Any, cfg: FinetuneConfig) -> Any:
    import peft

    lora = peft.LoraConfig(
        r=cfg.rank, lora_alpha=cfg.alpha, lora_dropout=cfg.dropout,
        target_modules="all-linear", task_type="CAUSAL_LM",
    )
    return peft.get_peft_model(model, lora)


def total_steps(n_examples: int, cfg: FinetuneConfig) -> int:
    if cfg.max_steps is not None:
        return cfg.max_steps
    return max(1, math.ceil(cfg.epochs * n_examples / cfg.batch_size))


def example_order(n: int, steps: int, cfg: FinetuneConfig,
                  lengths: list[int] | None = None) -> list[int]:
    """Indices for every step, epoch after epoch, each epoch shuffled by (seed, epoch).

    With ``lengths``, each run of ``LENGTH_GROUP`` batches of a shuffled epoch is sorted by
    length, so a batch pads its sequences to similar lengths (less work on padding), while the
    batches' order stays random.
    """
    order: list[int] = []
    epoch = 0
    group = LENGTH_GROUP * cfg.batch_size
    while len(order) < steps * cfg.batch_size:
        rng = random.Random(cfg.seed * 1000 + epoch)
        perm = list(range(n))
        rng.shuffle(perm)
        if lengths is not None:
            perm = _length_grouped(perm, lengths, group, cfg.batch_size, rng)
        order.extend(perm)
        epoch += 1
    return order


def _length_grouped(perm: list[int], lengths: list[int], group: int, batch: int,
                    rng: random.Random) -> list[int]:
    batches = []
    for i in range(0, len(perm), group):
        chunk = sorted(perm[i : i + group], key=lambda j: lengths[j])
        batches.extend(chunk[k : k + batch] for k in range(0, len(chunk), batch))
    rng.shuffle(batches)
    return [j for b in batches for j in b]


def collate(batch: list[Example], pad_id: int, device: str) -> tuple[Any, Any, Any, int]:
    """Right-padded ids, attention mask, labels (-100 off-target) and the first target slot."""
    import torch

    width = max(len(e.ids) for e in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    labels = torch.full((len(batch), width), -100, dtype=torch.long)
    for row, e in enumerate(batch):
        ids[row, : len(e.ids)] = torch.tensor(e.ids)
        mask[row, : len(e.ids)] = 1
        labels[row, e.n_prompt : len(e.ids)] = torch.tensor(e.ids[e.n_prompt :])
    start = min(e.n_prompt for e in batch) - 1  # first position whose logits predict a target
    return ids.to(device), mask.to(device), labels.to(device), start


def batch_loss(model: Any, batch: list[Example], pad_id: int, device: str,
               reduction: str = "mean") -> Any:
    import torch

    ids, mask, labels, start = collate(batch, pad_id, device)
    keep = ids.shape[1] - start
    logits = model(input_ids=ids, attention_mask=mask, logits_to_keep=keep).logits
    return torch.nn.functional.cross_entropy(
        logits[:, :-1].float().reshape(-1, logits.shape[-1]),
        labels[:, start + 1 :].reshape(-1),
        ignore_index=-100,
        reduction=reduction,
    )


def eval_loss(model: Any, examples: list[Example], pad_id: int, batch_size: int) -> float:
    """Mean loss per target token over ``examples`` (no gradients; eval mode)."""
    import torch

    device = str(next(model.parameters()).device)
    was_training = model.training
    model.eval()
    total, n = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(examples), batch_size):
            batch = examples[i : i + batch_size]
            total += float(batch_loss(model, batch, pad_id, device, reduction="sum"))
            n += sum(len(e.ids) - e.n_prompt for e in batch)
    model.train(was_training)
    return round(total / max(1, n), 5)


@dataclass
class Best:
    """The best validation measurement so far and the adapter weights it was taken with."""

    loss: float = math.inf
    step: int | None = None
    adapter: dict[str, Any] | None = None
    bad: int = 0  # measurements since the best one
    stopped: bool = False


def _adapter_copy(model: Any) -> dict[str, Any]:
    import peft

    return {k: v.detach().clone() for k, v in peft.get_peft_model_state_dict(model).items()}


class Checkpoint:
    """Adapter + optimiser + scheduler + validation state, saved atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def save(self, step: int, model: Any, opt: Any, sched: Any, stats: TrainStats,
             best: Best) -> None:
        import peft
        import torch

        state = {"step": step, "adapter": peft.get_peft_model_state_dict(model),
                 "opt": opt.state_dict(), "sched": sched.state_dict(), "losses": stats.losses,
                 "val_losses": stats.val_losses, "best": vars(best)}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        torch.save(state, tmp)
        tmp.replace(self.path)

    def restore(self, model: Any, opt: Any, sched: Any) -> tuple[int, TrainStats, Best]:
        if not self.path.is_file():
            return 0, TrainStats(), Best()
        import peft
        import torch

        state = torch.load(self.path, map_location="cpu", weights_only=False)
        peft.set_peft_model_state_dict(model, state["adapter"])
        opt.load_state_dict(state["opt"])
        sched.load_state_dict(state["sched"])
        step = int(state["step"])
        stats = TrainStats(resumed_from=step, losses=list(state["losses"]),
                           val_losses=list(state.get("val_losses", [])))
        return step, stats, Best(**state.get("best", {}))


def _optimiser(model: Any, steps: int, cfg: FinetuneConfig) -> tuple[list[Any], Any, Any]:
    import torch

    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.0)
    warmup = max(1, min(10, steps // 10))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(1, steps - warmup)))
    )
    return params, opt, sched


def _measure(model: Any, val: list[Example], step: int, cfg: FinetuneConfig, pad_id: int,
             stats: TrainStats, best: Best) -> None:
    """One validation measurement: remember the best adapter, count measurements since."""
    loss = eval_loss(model, val, pad_id, cfg.batch_size)
    stats.val_losses.append([step, loss])
    if loss < best.loss - cfg.min_delta:
        best.loss, best.step, best.adapter, best.bad = loss, step, _adapter_copy(model), 0
    else:
        best.bad += 1
        best.stopped = best.bad >= cfg.patience


def train(
    model: Any,
    examples: list[Example],
    cfg: FinetuneConfig,
    *,
    pad_id: int,
    val: list[Example] | None = None,
    checkpoint: Checkpoint | None = None,
    on_step: Callable[[int, int, float], None] | None = None,
) -> TrainStats:
    """Train the LoRA-wrapped ``model`` in place; returns what it did in this session.

    With ``val``, the model ends with the adapter of its best validation measurement.
    """
    import torch

    steps = total_steps(len(examples), cfg)
    order = example_order(len(examples), steps, cfg, [len(e.ids) for e in examples])
    params, opt, sched = _optimiser(model, steps, cfg)
    done, stats, best = (checkpoint.restore(model, opt, sched) if checkpoint
                         else (0, TrainStats(), Best()))
    device = str(next(model.parameters()).device)
    if val and not stats.val_losses:
        _measure(model, val, 0, cfg, pad_id, stats, best)  # the base, before any step
    model.train()
    t0 = time.perf_counter()
    for step in range(done, steps):
        if best.stopped:
            break
        batch = [examples[i] for i in order[step * cfg.batch_size : (step + 1) * cfg.batch_size]]
        loss = batch_loss(model, batch, pad_id, device)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        stats.losses.append(round(float(loss.detach()), 4))
        stats.tokens += sum(len(e.ids) for e in batch)
        stats.target_tokens += sum(len(e.ids) - e.n_prompt for e in batch)
        stats.steps = step + 1
        if val and ((step + 1) % cfg.eval_every == 0 or step + 1 == steps):
            _measure(model, val, step + 1, cfg, pad_id, stats, best)
        if checkpoint and ((step + 1) % cfg.save_every == 0 or step + 1 == steps
                           or best.stopped):
            checkpoint.save(step + 1, model, opt, sched, stats, best)
        if on_step:
            on_step(step + 1, steps, stats.losses[-1])
    stats.seconds = time.perf_counter() - t0
    stats.steps = max(stats.steps, done)
    _keep_best(model, stats, best)
    model.eval()
    return stats


def _keep_best(model: Any, stats: TrainStats, best: Best) -> None:
    stats.stopped_early = best.stopped
    if best.adapter is not None:
        import peft

        peft.set_peft_model_state_dict(model, best.adapter)
        stats.best_step = best.step
