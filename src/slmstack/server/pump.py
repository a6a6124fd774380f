"""Run a blocking call or iterator on its own thread and await its results with a timeout.

A stream's iterator is owned by one thread from start to end, so it is always closed there
(an embedded model holds its engine lock inside the generator; closing it releases the lock),
even when the client disconnects or the gateway stops waiting after a timeout.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from typing import Any

_END = object()


class UpstreamTimeout(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"no answer within {seconds:g} s")
        self.seconds = seconds


async def call(fn: Callable[[], Any], timeout: float, executor: Executor | None = None) -> Any:
    """``fn()`` on a worker thread; UpstreamTimeout if it takes longer than ``timeout``.
    (The thread is abandoned, not killed: it finishes on its own and its result is dropped.)"""
    loop = asyncio.get_running_loop()
    try:
        return await asyncio.wait_for(loop.run_in_executor(executor, fn), timeout)
    except TimeoutError:
        raise UpstreamTimeout(timeout) from None


class Pump:
    """Iterates ``make()`` on a daemon thread; ``await next(timeout)`` hands items over."""

    def __init__(self, make: Callable[[], Iterator[Any]]) -> None:
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[tuple[Any, BaseException | None]] = asyncio.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(make,), daemon=True,
                                        name="slmstack-stream")
        self._thread.start()

    def _put(self, item: Any, exc: BaseException | None = None) -> None:
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, (item, exc))
        except RuntimeError:  # the loop is gone (server shutting down)
            self._stop.set()

    def _run(self, make: Callable[[], Iterator[Any]]) -> None:
        it: Iterator[Any] | None = None
        try:
            it = make()
            for item in it:
                if self._stop.is_set():
                    break
                self._put(item)
            self._put(_END)
        except BaseException as exc:  # handed to the awaiting side, which decides
            self._put(_END, exc)
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()

    async def next(self, timeout: float) -> Any:
        """The next item; StopAsyncIteration at the end; the iterator's own exception; or
        UpstreamTimeout when nothing came within ``timeout`` seconds."""
        try:
            item, exc = await asyncio.wait_for(self._queue.get(), timeout)
        except TimeoutError:
            self.stop()
            raise UpstreamTimeout(timeout) from None
        if exc is not None:
            raise exc
        if item is _END:
            raise StopAsyncIteration
        return item

    def stop(self) -> None:
        """Ask the thread to stop after its current item (and close the iterator)."""
        self._stop.set()
