"""A run directory: one sub-folder per stage, each with its artifacts and a ``meta.json``.

A stage is *finished* when its ``meta.json`` says so; the meta file is written last and
atomically (write to a temporary file, then rename), so a stage killed at any point is either
finished with all its artifacts or is run again from the start (or from its own checkpoints).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from ..errors import UserError

M = TypeVar("M", bound=BaseModel)

STAGES = ("collect", "curate", "cluster", "select", "finetune", "shadow", "promote")


def write_text_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, "utf-8")
    tmp.replace(path)


def write_json(path: Path, value: Any) -> None:
    write_text_atomic(path, json.dumps(value, indent=1, ensure_ascii=False, default=str) + "\n")


def read_json(path: Path) -> Any:
    return json.loads(path.read_text("utf-8"))


def write_jsonl(path: Path, items: Iterable[BaseModel]) -> int:
    lines = [item.model_dump_json() for item in items]
    write_text_atomic(path, "".join(line + "\n" for line in lines))
    return len(lines)


def read_jsonl(path: Path, model: type[M]) -> Iterator[M]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield model.model_validate_json(line)


class RunDir:
    """The folder of one distillation run."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser().resolve()
        if self.root.exists() and not self.root.is_dir():
            raise UserError(f"run folder {str(self.root)!r} is a file", "pass a folder path")
        self.root.mkdir(parents=True, exist_ok=True)

    def stage(self, name: str) -> Path:
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def meta_path(self, name: str) -> Path:
        return self.root / name / "meta.json"

    def finished(self, name: str) -> bool:
        meta = self.meta(name)
        return bool(meta and meta.get("finished"))

    def meta(self, name: str) -> dict[str, Any] | None:
        path = self.meta_path(name)
        return read_json(path) if path.is_file() else None

    def finish(
        self,
        name: str,
        *,
        config: dict[str, Any],
        inputs: dict[str, Any],
        metrics: dict[str, Any],
        started: float,
    ) -> dict[str, Any]:
        """Mark a stage finished; the last write of every stage."""
        meta = {
            "stage": name,
            "finished": True,
            "started_at": started,
            "finished_at": time.time(),
            "seconds": round(time.time() - started, 3),
            "config": config,
            "inputs": inputs,
            "metrics": metrics,
        }
        write_json(self.meta_path(name), meta)
        return meta

    def require(self, name: str, by: str) -> Path:
        """The folder of a finished earlier stage, or a clear error naming what to run."""
        if not self.finished(name):
            raise UserError(
                f"stage {by!r} needs stage {name!r}, which has not finished in {str(self.root)!r}",
                f"run `slmstack distill {name} --run {self.root}` first (or `distill run`)",
            )
        return self.root / name

    def invalidate_after(self, name: str) -> None:
        """Forget the stages after ``name`` (their inputs changed): their meta goes, not data."""
        for later in STAGES[STAGES.index(name) + 1 :]:
            self.meta_path(later).unlink(missing_ok=True)
