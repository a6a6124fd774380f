"""An append-only, hash-chained audit log (JSON lines).

Each entry carries ``seq``, ``ts``, ``event``, its fields, ``prev`` (the previous entry's hash) and
``hash`` = sha256 of the entry's canonical JSON without ``hash``. Changing, inserting, deleting or
reordering any entry breaks the chain at that point, and :func:`verify_audit` says where.
(Cutting entries off the end leaves a valid shorter chain: keep the last ``hash`` elsewhere —
``slmstack keys verify-audit`` prints it — to detect that too.)

Writers append under an exclusive file lock and re-read the tail when another process (the CLI,
a second gateway) appended since, so every process extends one chain.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ..errors import UserError

GENESIS = "0" * 64
_TAIL_BYTES = 65536


def entry_hash(entry: dict[str, Any]) -> str:
    body = {k: v for k, v in entry.items() if k != "hash"}
    canon = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                       default=str)
    return hashlib.sha256(canon.encode()).hexdigest()


class AuditLog:
    def __init__(self, path: str | Path, *, fsync: bool = False) -> None:
        self.path = Path(path)
        self.fsync = fsync
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._f = os.fdopen(fd, "ab", buffering=0)
        self._end = -1  # file size after our last write; another size means someone appended
        self._seq, self._head = 0, GENESIS

    def append(self, event: str, **fields: Any) -> dict[str, Any]:
        """Add one entry and return it (with its ``hash``)."""
        with self._lock:
            fcntl.flock(self._f, fcntl.LOCK_EX)
            try:
                size = os.fstat(self._f.fileno()).st_size
                if size != self._end:
                    self._seq, self._head = _read_tail(self.path)
                entry = {"seq": self._seq + 1, "ts": time.time(), "event": event, **fields,
                         "prev": self._head}
                entry["hash"] = entry_hash(entry)
                line = json.dumps(entry, ensure_ascii=False, default=str) + "\n"
                self._f.write(line.encode())
                if self.fsync:
                    os.fsync(self._f.fileno())
                self._end = size + len(line.encode())
                self._seq, self._head = entry["seq"], entry["hash"]
            finally:
                fcntl.flock(self._f, fcntl.LOCK_UN)
        return entry

    @property
    def head(self) -> str:
        return self._head

    def close(self) -> None:
        self._f.close()


def _read_tail(path: Path) -> tuple[int, str]:
    """(seq, hash) of the last entry, or (0, GENESIS) for an empty log."""
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        f.seek(max(0, size - _TAIL_BYTES))
        lines = [ln for ln in f.read().splitlines() if ln.strip()]
    if not lines:
        return 0, GENESIS
    try:
        last = json.loads(lines[-1])
        return int(last["seq"]), str(last["hash"])
    except (ValueError, KeyError, TypeError):
        raise UserError(
            f"the last line of audit log {str(path)!r} is not an audit entry: {lines[-1][:80]!r}",
            "run `slmstack keys verify-audit` to find the damage; move the file aside to start "
            "a new chain (keep the old one as evidence)",
        ) from None


class AuditCheck(BaseModel):
    ok: bool
    entries: int  # entries that verified before the first problem (all, when ok)
    head: str  # hash of the last verified entry
    line: int | None = None  # 1-based line of the first problem
    problem: str | None = None


def verify_audit(path: str | Path) -> AuditCheck:
    """Walk the chain; report the first entry whose hash, link or sequence number is wrong."""
    prev, seq, n = GENESIS, 0, 0
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, start=1):
            if not raw.strip():
                continue
            problem = _check_line(raw, prev, seq)
            if problem:
                return AuditCheck(ok=False, entries=n, head=prev, line=lineno, problem=problem)
            entry = json.loads(raw)
            prev, seq, n = entry["hash"], entry["seq"], n + 1
    return AuditCheck(ok=True, entries=n, head=prev)


def _check_line(raw: bytes, prev: str, seq: int) -> str | None:
    try:
        entry = json.loads(raw)
    except ValueError:
        return f"not JSON: {raw[:80]!r}"
    if not isinstance(entry, dict) or "hash" not in entry:
        return "not an audit entry (no 'hash')"
    if entry_hash(entry) != entry["hash"]:
        return f"entry {entry.get('seq')!r} was altered (its hash does not match its content)"
    if entry.get("prev") != prev:
        return (f"entry {entry.get('seq')!r} does not follow the previous entry "
                "(an entry before it was removed, inserted or reordered)")
    if entry.get("seq") != seq + 1:
        return f"entry {entry.get('seq')!r} should be number {seq + 1}"
    return None
