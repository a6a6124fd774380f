"""LoRA fine-tuning throughput: slmstack's loop (``slmstack.distill.lora.train``: target-only
logits, no prompt-position output layer) vs plain transformers ``Trainer`` + peft, same model,
same examples, same LoRA config, same steps, in one run. Prints a table, writes JSON.

    python benchmarks/bench_lora.py                       # tiny random Qwen3 (CPU, seconds)
    python benchmarks/bench_lora.py --model smollm2 --steps 4
    python benchmarks/bench_lora.py --model qwen3-0.6b    # random-weight Qwen3-0.6B shape (GPU)
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "distill"))
from conftest import traffic  # noqa: E402  (the same recorded-traffic builder the tests use)

app = typer.Typer(add_completion=False)


def _model_dir(kind: str, tmp: Path) -> Path:
    from slmstack.distill.weights import materialize
    from slmstack.models.hf import save_tiny_qwen3

    if kind == "tiny":
        return save_tiny_qwen3(tmp / "tiny-qwen3", layers=2, hidden=64)
    if kind == "qwen3-0.6b":  # Qwen3-0.6B's shape, random weights (no download possible)
        return save_tiny_qwen3(tmp / "qwen3-0.6b-shape", layers=28, hidden=1024)
    cache = Path.home() / ".cache" / "slmstack" / "bench" / "smollm2-135m-instruct.q4_1-base"
    return materialize("embedded:smollm2-135m", cache)


def _examples(student, n: int):
    from slmstack.distill.finetune import build_examples

    return build_examples(student, traffic(n, 0), max_len=2048)


def _ours(path: Path, cfg, n: int) -> dict:
    import torch

    from slmstack.distill.lora import add_lora, train
    from slmstack.models.hf import HFChatModel

    student = HFChatModel(path)
    examples = _examples(student, n)
    torch.manual_seed(0)
    model = add_lora(student.model, cfg)
    stats = train(model, examples, cfg, pad_id=student.tokenizer.pad_token_id or 0)
    return {"tokens": stats.tokens, "seconds": stats.seconds,
            "loss": sum(stats.losses) / len(stats.losses)}  # mean over steps, as Trainer's


def _plain(path: Path, cfg, n: int) -> dict:
    import torch
    from transformers import DataCollatorForSeq2Seq, Trainer, TrainingArguments

    from slmstack.distill.lora import add_lora
    from slmstack.models.hf import HFChatModel

    student = HFChatModel(path)
    examples = _examples(student, n)
    rows = [{"input_ids": e.ids, "attention_mask": [1] * len(e.ids),
             "labels": [-100] * e.n_prompt + e.ids[e.n_prompt:]} for e in examples]
    torch.manual_seed(0)
    model = add_lora(student.model, cfg)
    args = TrainingArguments(
        output_dir=tempfile.mkdtemp(), per_device_train_batch_size=cfg.batch_size,
        max_steps=cfg.max_steps, learning_rate=cfg.lr, lr_scheduler_type="linear",
        warmup_steps=1, logging_steps=1, save_strategy="no", report_to=[], seed=cfg.seed,
        use_cpu=not torch.cuda.is_available(), bf16=torch.cuda.is_available(),
        dataloader_num_workers=0, remove_unused_columns=False,
    )
    collator = DataCollatorForSeq2Seq(student.tokenizer, padding=True, label_pad_token_id=-100)
    trainer = Trainer(model=model, args=args, train_dataset=rows, data_collator=collator)
    t0 = time.perf_counter()
    out = trainer.train()
    seconds = time.perf_counter() - t0
    mean_len = sum(len(e.ids) for e in examples) / len(examples)
    tokens = int(mean_len * cfg.batch_size * cfg.max_steps)
    return {"tokens": tokens, "seconds": seconds, "loss": out.training_loss}  # mean over steps


@app.command()
def main(
    model: Annotated[str, typer.Option(help="tiny | smollm2 | qwen3-0.6b")] = "tiny",
    steps: int = 6,
    batch_size: int = 4,
    examples: int = 16,
    out: Path = REPO / "benchmarks" / "bench_lora.json",
) -> None:
    import torch
    from rich.console import Console
    from rich.table import Table

    from slmstack.distill.config import FinetuneConfig

    cfg = FinetuneConfig(max_steps=steps, batch_size=batch_size, lr=1e-3, rank=16, alpha=32)
    path = _model_dir(model, Path(tempfile.mkdtemp()))
    _ours(path, cfg.model_copy(update={"max_steps": 1}), examples)  # warm-up (allocator, JIT)
    results = {"slmstack": _ours(path, cfg, examples), "transformers+peft": _plain(path, cfg,
                                                                                    examples)}
    for r in results.values():
        r["tokens_per_s"] = r["tokens"] / r["seconds"]
    ratio = results["slmstack"]["tokens_per_s"] / results["transformers+peft"]["tokens_per_s"]
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu"
    table = Table("trainer", "tokens", "seconds", "tokens/s", "mean loss",
                  title=f"LoRA, {model} on {device}, {steps} steps × {batch_size}")
    for name, r in results.items():
        table.add_row(name, str(r["tokens"]), f"{r['seconds']:.1f}", f"{r['tokens_per_s']:.1f}",
                      f"{r['loss']:.3f}")
    Console().print(table)
    Console().print(f"slmstack / plain = {ratio:.2f}×")
    out.write_text(json.dumps({"model": model, "device": device, "steps": steps,
                               "batch_size": batch_size, "threads": torch.get_num_threads(),
                               "results": results, "ratio": ratio}, indent=1))


if __name__ == "__main__":
    app()
