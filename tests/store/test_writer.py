"""Writes never block or fail the caller: bounded queue, counted drops, errors logged and counted,
and a load test with zero drops at a sustained rate."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from sqlalchemy import text

from slmstack.store import CallRecord, StoreSettings, TraceStore
from slmstack.store.writer import BackgroundWriter

LOAD_RATE = 4000  # records/s, from 4 threads
LOAD_SECONDS = 2.0


def realistic_record(i: int) -> CallRecord:
    """About 1 KB, like a short chat call through the gateway."""
    msgs = [{"role": "system", "content": "You are a helpful assistant." * 3},
            {"role": "user", "content": f"question {i}: " + "what is the capital of France? " * 8}]
    return CallRecord(task_id=f"task-{i // 5}", route=["chat", "tool_call"][i % 2],
                      model="embedded:smollm2-135m", request={"messages": msgs, "max_tokens": 64},
                      response={"text": "Paris is the capital of France. " * 4},
                      input_tokens=120, output_tokens=40, latency_s=0.3, cost_usd=2e-6)


def test_full_queue_drops_and_counts_without_blocking() -> None:
    started, release = threading.Event(), threading.Event()
    written: list[int] = []

    def slow_write(items: list) -> None:
        started.set()
        release.wait(10)
        written.extend(p for _, p in items)

    w = BackgroundWriter(slow_write, queue_size=5, batch_size=100)
    assert w.submit("call", 0)
    assert started.wait(5)  # the writer holds item 0 and is stuck in the database
    t0 = time.perf_counter()
    accepted = [w.submit("call", i) for i in range(1, 11)]
    assert time.perf_counter() - t0 < 0.5  # submit never waits for the writer
    assert accepted == [True] * 5 + [False] * 5
    s = w.stats()
    assert (s.enqueued, s.dropped, s.queue_depth, s.written) == (6, 5, 5, 0)
    release.set()
    assert w.flush(5)
    assert sorted(written) == list(range(6))
    assert (w.stats().written, w.stats().dropped, w.stats().queue_depth) == (6, 5, 0)
    w.close()
    assert not w.submit("call", 99) and w.stats().dropped == 6  # closed: counted, not raised


def test_bad_record_is_logged_and_counted_the_rest_is_written(
    sqlite_store: TraceStore, caplog
) -> None:
    good = [CallRecord(model="m") for _ in range(20)]
    with caplog.at_level(logging.ERROR, logger="slmstack.store"):
        sqlite_store.record_many(good[:10])
        sqlite_store.record_step({"kind": "model", "weird": {1, 2}}, task_id="t")  # not JSON
        sqlite_store.record_many(good[10:])
        assert sqlite_store.flush()
    s = sqlite_store.stats()
    assert (s.written, s.failed, s.dropped) == (20, 1, 0)
    assert s.errors >= 1
    assert {r.id for r in sqlite_store.model_calls()} == {r.id for r in good}
    assert "could not be written" in caplog.text


def test_database_failure_never_reaches_the_caller(tmp_path: Path) -> None:
    with TraceStore(str(tmp_path / "t.db")) as ts:
        with ts.engine.begin() as conn:
            conn.execute(text("DROP TABLE model_calls"))
        assert ts.record(CallRecord(model="m")) is True  # accepted; the failure is the writer's
        assert ts.flush()
        assert (ts.stats().written, ts.stats().failed) == (0, 1)


def test_load_zero_drops_at_sustained_rate(tmp_path: Path) -> None:
    # the shipped queue (5 s of backlog at this rate): a smaller one made the test fail when a
    # busy machine stalled the writer's disk for half a second, which a user's store rides out
    settings = StoreSettings(batch_size=500)
    threads, per_thread = 4, int(LOAD_RATE * LOAD_SECONDS / 4)
    records = [realistic_record(i) for i in range(threads * per_thread)]
    with TraceStore(str(tmp_path / "load.db"), settings) as ts:
        def produce(k: int) -> None:
            mine = records[k::threads]
            start = time.perf_counter()
            for j, rec in enumerate(mine):  # paced: record j is due at j / (rate / threads)
                delay = start + j * threads / LOAD_RATE - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                ts.record(rec)

        workers = [threading.Thread(target=produce, args=(k,)) for k in range(threads)]
        t0 = time.perf_counter()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        elapsed = time.perf_counter() - t0
        assert ts.flush(60)
        s = ts.stats()
        n = sum(1 for _ in ts.model_calls())
    achieved = len(records) / elapsed
    print(f"load: {len(records)} records at {achieved:.0f}/s, max queue {s.max_queue_depth}")
    assert achieved > 0.8 * LOAD_RATE  # the rate was really offered
    assert s.dropped == 0 and s.failed == 0
    assert s.written == n == len(records)
    assert s.max_queue_depth < settings.queue_size
