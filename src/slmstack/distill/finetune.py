"""Stage 5 — fine-tune: LoRA on a target's training examples, the incumbent's outputs as targets.

Prompts are rendered by the very code that will serve the student (``HFChatModel.prepare`` and
its chat template: tool prompt, default system message), and targets are what that backend's
constrained decoder emits (``{"tool_calls": [...]}`` with arguments in schema order, the
schema's JSON, or the text), so training and serving see the same tokens; the loss is taken on
those target tokens only. A validation slice of the training split (whole groups, as the
cluster stage splits) drives early stopping. The result is exported as merged transformers
weights (``hf:<folder>``), the LoRA adapter (``hf:<base>+<adapter>``) and — when the base is a
GGUF model — a GGUF file the embedded llama.cpp backend serves exactly like the base
(``gguf:<file>``, constrained by the same grammars). With ``keep_better``, the student and its
base both answer the validation requests on their serving backends and the student is kept
only when it agrees with the incumbent at least as often.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from ..errors import SlmstackError, UserError
from ..progress import progress
from ..store.records import CallRecord
from .artifacts import RunDir, read_jsonl, write_json
from .config import FinetuneConfig
from .curate import EXAMPLES
from .lora import Checkpoint, Example, add_lora, train
from .replay import ResultLog, replay_one, summarize
from .score import response_calls
from .select import Target, load_targets
from .tasks import (
    complete_kwargs,
    group_key,
    in_slice,
    request_messages,
    request_schema,
    task_kind,
)
from .weights import materialize, save_plain, slug, weights_source

STAGE = "finetune"


def ordered(value: Any, schema: dict[str, Any] | None, required_first: bool = False) -> Any:
    """``value`` with object keys in the order constrained decoding emits them: the schema's
    property order (xgrammar), or its required properties first (llama.cpp's grammars)."""
    if not isinstance(schema, dict):
        return value
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        keys = [k for k in props if k in value]
        if required_first:
            required = set(schema.get("required") or [])
            keys = [k for k in keys if k in required] + [k for k in keys if k not in required]
        keys += [k for k in value if k not in props]
        return {k: ordered(value[k], props.get(k), required_first) for k in keys}
    if isinstance(value, list):
        return [ordered(v, schema.get("items"), required_first) for v in value]
    return value


def target_text(record: CallRecord, required_first: bool = False) -> str | None:
    """What the student should emit for this request, or None when it has nothing to learn."""
    kind = task_kind(record.request)
    if kind == "tool_call":
        return _tool_target(record, required_first)
    if kind == "extract":
        parsed = record.response.get("parsed")
        schema = request_schema(record.request)
        return None if parsed is None else json.dumps(ordered(parsed, schema, required_first),
                                                      ensure_ascii=False)
    return record.response.get("text") or None


def _tool_target(record: CallRecord, required_first: bool) -> str | None:
    from .tasks import request_tools

    tools = {t.name: t for t in request_tools(record.request)}
    calls = response_calls(record.response)
    if not calls:
        text = record.response.get("text")
        return json.dumps({"content": text}, ensure_ascii=False) if text else None
    out = [{"name": c.name, "arguments": ordered(c.arguments, tools[c.name].parameters
                                                if c.name in tools else None, required_first)}
           for c in calls]
    return json.dumps({"tool_calls": out}, ensure_ascii=False)


def build_examples(
    student: Any, records: list[CallRecord], max_len: int, required_first: bool = False
) -> list[Example]:
    """Token sequences as ``student`` (an HFChatModel) would see them and its serving backend
    emit them (``required_first``: llama.cpp's grammars, for a student served as GGUF)."""
    tok = student.tokenizer
    eos = student.stop_ids[0] if student.stop_ids else tok.eos_token_id
    out = []
    for r in records:
        target = target_text(r, required_first)
        if target is None:
            continue
        try:
            req = student.prepare(request_messages(r.request), **complete_kwargs(r, 256))
        except SlmstackError:
            continue
        prompt = tok(student.render(req.messages), add_special_tokens=False)["input_ids"]
        answer = tok(target, add_special_tokens=False)["input_ids"] + [eos]
        if len(prompt) + len(answer) <= max_len:
            out.append(Example(ids=list(prompt) + list(answer), n_prompt=len(prompt)))
    return out


def finetune(
    run: RunDir, cfg: FinetuneConfig, *, force: bool = False, show: bool = True
) -> dict[str, Any]:
    if run.finished(STAGE) and not force:
        return run.meta(STAGE) or {}
    started = time.time()
    targets = [t for t in load_targets(run, STAGE) if t.finetune]
    records = {r.id: r for r in read_jsonl(run.require("curate", STAGE) / EXAMPLES, CallRecord)}
    split_by = ((run.meta("cluster") or {}).get("config") or {}).get("split_by", "request")
    results = {t.kind: finetune_target(run, t, records, cfg, show, split_by) for t in targets}
    write_json(run.stage(STAGE) / "students.json", results)
    return run.finish(STAGE, config=cfg.model_dump(), inputs={"select": "selection.json"},
                      metrics=results, started=started)


def validation_split(
    records: list[CallRecord], cfg: FinetuneConfig, split_by: str = "request"
) -> tuple[list[CallRecord], list[CallRecord]]:
    """(fit, validation): whole groups of the training split go to validation."""
    fit, val = [], []
    for r in records:
        chosen = in_slice(group_key(r.request, split_by), f"val{cfg.seed}", cfg.val_fraction)
        (val if chosen else fit).append(r)
    return fit, val


def finetune_target(
    run: RunDir, target: Target, records: dict[str, CallRecord], cfg: FinetuneConfig,
    show: bool, split_by: str = "request",
) -> dict[str, Any]:
    """Train one student; returns its URI and training metrics (resumes from a checkpoint)."""
    assert target.base is not None
    folder = run.stage(STAGE) / target.kind
    name = slug(target.base)
    out = folder / f"{name}-student"
    done = folder / "result.json"
    if done.is_file() and (out / "config.json").is_file():
        return json.loads(done.read_text("utf-8"))
    student = _load_student(target.base, folder / f"{name}-base", cfg)
    train_records = [records[i] for i in target.train_ids if i in records][: cfg.max_examples]
    fit, val = validation_split(train_records, cfg, split_by)
    gguf = serves_as_gguf(target.base, cfg)
    examples = build_examples(student, fit, cfg.max_len, required_first=gguf)
    val_examples = build_examples(student, val, cfg.max_len, required_first=gguf)
    if not examples:
        raise UserError(
            f"no training example of kind {target.kind!r} fits max_len={cfg.max_len}",
            "raise distill.finetune.max_len or record more traffic of this kind",
        )
    result = _train_and_export(student, examples, val_examples, folder, out, cfg, show, target)
    if cfg.keep_better and val:
        result.update(_compare_on_validation(folder, target.base, result["uri"], val, cfg, show))
    write_json(done, result)
    return result


def serves_as_gguf(base_uri: str, cfg: FinetuneConfig) -> bool:
    """Whether the student is exported (and served) as a GGUF file."""
    _, gguf = weights_source(base_uri)
    if cfg.export == "gguf" and gguf is None:
        raise UserError(f"cannot export a GGUF student of {base_uri!r}: it is no GGUF model",
                        "set distill.finetune.export to 'auto' or 'hf'")
    return cfg.export != "hf" and gguf is not None


def _load_student(base_uri: str, base_dir: Path, cfg: FinetuneConfig) -> Any:
    from ..models.hf import HFChatModel, _torch

    torch = _torch()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    path = materialize(base_uri, base_dir)
    dtype = None if torch.cuda.is_available() else getattr(torch, cfg.dtype)  # GPU: bf16/fp16
    return HFChatModel(path, dtype=dtype)


def _train_and_export(
    student: Any, examples: list[Example], val: list[Example], folder: Path, out: Path,
    cfg: FinetuneConfig, show: bool, target: Target,
) -> dict[str, Any]:
    model = add_lora(student.model, cfg)
    pad = student.tokenizer.pad_token_id
    pad = pad if pad is not None else student.stop_ids[0]
    with progress(show) as bar:
        task = bar.add_task(f"LoRA {target.kind}", total=None)

        def on_step(step: int, steps: int, loss: float) -> None:
            bar.update(task, completed=step, total=steps,
                       description=f"LoRA {target.kind} loss {loss:.3f}")

        stats = train(model, examples, cfg, pad_id=pad, val=val or None,
                      checkpoint=Checkpoint(folder / "checkpoint.pt"), on_step=on_step)
    model.save_pretrained(str(folder / "adapter"))
    touched = _lora_modules(model)
    merged = model.merge_and_unload()
    save_plain(merged, student.tokenizer, out)
    uris = {"hf_uri": f"hf:{out}", "uri": f"hf:{out}"}
    gguf = _gguf_export(target.base, merged, touched, out.with_name(out.name + ".gguf"), cfg)
    if gguf is not None:
        uris.update(uri=f"gguf:{gguf['path']}", gguf=gguf)
    return {
        **uris, "base": target.base, "examples": len(examples), "val_examples": len(val),
        "steps": stats.steps, "resumed_from": stats.resumed_from,
        "best_step": stats.best_step, "stopped_early": stats.stopped_early,
        "tokens_per_s": round(stats.tokens_per_s, 1), "seconds": round(stats.seconds, 1),
        "first_loss": stats.losses[0] if stats.losses else None,
        "final_loss": _tail_mean(stats.losses), "losses": stats.losses,
        "val_losses": stats.val_losses,
    }


def _lora_modules(model: Any) -> list[str]:
    """transformers names of the modules LoRA wraps (peft's prefix removed)."""
    prefix = "base_model.model."
    return [n.removeprefix(prefix) for n, m in model.named_modules() if hasattr(m, "lora_A")]


def _gguf_export(
    base_uri: str, merged: Any, touched: list[str], path: Path, cfg: FinetuneConfig
) -> dict[str, Any] | None:
    """The student as a GGUF file beside the base's (None when not wanted or not possible)."""
    if not serves_as_gguf(base_uri, cfg):
        return None
    from .gguf_export import export_gguf

    folder, gguf = weights_source(base_uri)
    assert gguf is not None

    state = merged.state_dict()
    weights = {f"{n}.weight": state[f"{n}.weight"].detach().float().cpu().numpy()
               for n in touched}
    return export_gguf(folder / gguf, path, weights, cfg.gguf_type)


def _compare_on_validation(
    folder: Path, base: str, student: str, val: list[CallRecord], cfg: FinetuneConfig,
    show: bool,
) -> dict[str, Any]:
    """Student vs its base on the validation requests; the base is kept unless beaten."""
    from ..models.registry import load_model

    log = ResultLog(folder / "validation.jsonl")
    val = val[: cfg.val_limit]
    scores = {}
    for role, uri in (("base", base), ("student", student)):
        todo = [r for r in val if not log.has(uri, r)]
        model = load_model(uri) if todo else None
        with progress(show) as bar:
            task = bar.add_task(f"validate {role}", total=len(todo))
            for r in todo:
                log.add(replay_one(model, uri, r, 256, None))
                bar.advance(task)
        scores[role] = summarize(log.results(uri, val))["agreement"]
    kept = "student" if scores["student"] >= scores["base"] else "base"
    out: dict[str, Any] = {"val_agreement": scores, "kept": kept, "student_uri": student}
    if kept == "base":
        out["uri"] = base
    return out


def _tail_mean(losses: list[float], n: int = 5) -> float | None:
    tail = losses[-n:]
    return round(sum(tail) / len(tail), 4) if tail else None
