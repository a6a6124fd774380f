"""A bounded queue drained by one background thread in batches.

``submit`` never blocks and never raises: when the queue is full the item is dropped and counted.
Errors while writing are logged and counted; a failing batch is retried item by item so one bad
record loses only itself.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel

log = logging.getLogger("slmstack.store")

Item = tuple[str, Any]  # (kind, payload)
_STOP = ("__stop__", None)


class WriterStats(BaseModel):
    enqueued: int = 0  # accepted into the queue
    written: int = 0  # committed to the database
    dropped: int = 0  # refused because the queue was full
    failed: int = 0  # could not be written (see the log)
    errors: int = 0  # write attempts that raised (a failed batch counts once, then per item)
    batches: int = 0
    queue_depth: int = 0
    max_queue_depth: int = 0  # the deepest the queue got since start
    queue_size: int = 0


class BackgroundWriter:
    def __init__(
        self,
        write: Callable[[Sequence[Item]], None],
        *,
        queue_size: int,
        batch_size: int,
        linger_s: float = 0.02,
    ) -> None:
        self._write = write
        self._batch_size = batch_size
        self._linger_s = linger_s
        self._queue: queue.Queue[Item] = queue.Queue(maxsize=queue_size)
        self._stats = WriterStats(queue_size=queue_size)
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0  # submitted but not yet written or failed
        self._thread = threading.Thread(target=self._run, name="slmstack-store", daemon=True)
        self._thread.start()

    def submit(self, kind: str, payload: Any) -> bool:
        """Queue one item; False (and a counted drop) when the queue is full or closed."""
        with self._lock:
            if not self._thread.is_alive():
                self._stats.dropped += 1
                return False
            try:
                self._queue.put_nowait((kind, payload))
            except queue.Full:
                self._stats.dropped += 1
                return False
            self._stats.enqueued += 1
            self._pending += 1
            depth = self._queue.qsize()
            if depth > self._stats.max_queue_depth:
                self._stats.max_queue_depth = depth
            return True

    def stats(self) -> WriterStats:
        with self._lock:
            return self._stats.model_copy(update={"queue_depth": self._queue.qsize()})

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Wait until everything submitted so far is written (or failed); False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def close(self, timeout: float | None = 30.0) -> None:
        if not self._thread.is_alive():
            return
        self.flush(timeout)
        try:
            self._queue.put(_STOP, timeout=timeout)
        except queue.Full:
            log.error("trace store: writer still busy after %ss; closing anyway", timeout)
            return
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            items = [b for b in batch if b[0] != _STOP[0]]
            stop = len(items) < len(batch)
            if items:
                self._write_batch(items)
            if stop:
                return

    def _next_batch(self) -> list[Item]:
        """The first waiting item, then whatever arrives within ``linger_s`` (up to a batch): a
        transaction costs far more than a record, so a trickle is committed in groups."""
        batch = [self._queue.get()]
        deadline = time.monotonic() + self._linger_s
        while len(batch) < self._batch_size and batch[-1][0] != _STOP[0]:
            try:
                batch.append(self._queue.get(timeout=max(deadline - time.monotonic(), 0)))
            except queue.Empty:
                break
        return batch

    def _write_batch(self, items: list[Item]) -> None:
        try:
            self._write(items)
            self._done(written=len(items), batches=1)
        except Exception:  # a writer error must never reach the caller
            log.exception("trace store: a batch of %d records failed; retrying one by one",
                          len(items))
            self._bump(errors=1)
            for item in items:
                self._write_one(item)

    def _write_one(self, item: Item) -> None:
        try:
            self._write([item])
            self._done(written=1, batches=1)
        except Exception:
            log.exception("trace store: dropped one %s record that could not be written", item[0])
            self._done(failed=1, errors=1)

    def _bump(self, **counts: int) -> None:
        with self._lock:
            for k, v in counts.items():
                setattr(self._stats, k, getattr(self._stats, k) + v)

    def _done(self, written: int = 0, failed: int = 0, **counts: int) -> None:
        with self._idle:
            self._stats.written += written
            self._stats.failed += failed
            for k, v in counts.items():
                setattr(self._stats, k, getattr(self._stats, k) + v)
            self._pending -= written + failed
            self._idle.notify_all()
