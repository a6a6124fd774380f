"""The labelled GSM8K step set: clean reference solutions and their corruptions, split by
problem so that no held-out problem is ever seen in training."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

from ..errors import UserError
from .corrupt import Example, clean, corruptions

DEFAULT_DATA = Path("../shared/data/gsm8k")


def gsm8k_dir(path: str | Path | None = None) -> Path:
    """The GSM8K folder (``train.jsonl``, ``test.jsonl``): the argument, ``$SLMSTACK_GSM8K``,
    or ``../shared/data/gsm8k`` beside the working directory."""
    import os

    folder = Path(path or os.environ.get("SLMSTACK_GSM8K") or DEFAULT_DATA).expanduser()
    if not (folder / "train.jsonl").is_file():
        raise UserError(f"no GSM8K train.jsonl in {str(folder)!r}",
                        "pass --data FOLDER (with train.jsonl and test.jsonl) or set "
                        "SLMSTACK_GSM8K")
    return folder


def problems(folder: Path, split: str, limit: int | None = None
             ) -> Iterator[tuple[str, str, str]]:
    """(problem id, question, reference solution) for a split, in file order."""
    with (folder / f"{split}.jsonl").open(encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            if limit is not None and i >= limit:
                return
            row = json.loads(line)
            yield f"{split}:{i}", row["question"], row["answer"]


def examples(folder: Path, split: str, limit: int | None = None, seed: int = 0
             ) -> list[Example]:
    out: list[Example] = []
    for pid, q, a in problems(folder, split, limit):
        out.append(clean(pid, q, a))
        out.extend(corruptions(pid, q, a, seed))
    return out


def is_validation(problem: str, share: float = 0.1) -> bool:
    """A fixed ``share`` of the training problems, chosen by a hash of their id, to calibrate
    the decision threshold on (never the held-out test problems)."""
    h = int(hashlib.sha256(problem.encode()).hexdigest()[:8], 16)
    return h / 0xFFFFFFFF < share


def data_hash(folder: Path, split: str) -> str:
    return hashlib.sha256((folder / f"{split}.jsonl").read_bytes()).hexdigest()[:16]
