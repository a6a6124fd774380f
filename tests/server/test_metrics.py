"""The Prometheus text: counters with labels, a cumulative histogram, the store's counters."""

from __future__ import annotations

from slmstack.server.metrics import BUCKETS, Metrics
from slmstack.store import WriterStats


def test_histogram_is_cumulative_and_counters_add() -> None:
    m = Metrics()
    for seconds in (0.0005, 0.003, 0.003, 2.0, 1000.0):
        m.observe(seconds, path="/v1/x")
    m.inc("slmstack_gateway_requests_total", path="/v1/x", status="200")
    m.inc("slmstack_gateway_requests_total", path="/v1/x", status="200")
    text = m.render(WriterStats(enqueued=3, written=3))
    lines = [ln for ln in text.splitlines()
             if ln.startswith("slmstack_gateway_request_seconds_bucket")]
    buckets = {ln.split('le="')[1].split('"')[0]: float(ln.rsplit(" ", 1)[1]) for ln in lines}
    assert len(buckets) == len(BUCKETS) + 1
    assert buckets["0.001"] == 1 and buckets["0.005"] == 3 and buckets["2.5"] == 4
    assert buckets["60"] == 4 and buckets["+Inf"] == 5
    assert 'slmstack_gateway_request_seconds_count{path="/v1/x"} 5' in text
    assert 'slmstack_gateway_requests_total{path="/v1/x",status="200"} 2' in text
    assert "slmstack_store_records_written_total 3" in text
    assert "# TYPE slmstack_store_queue_depth gauge" in text
