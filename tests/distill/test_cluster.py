"""Clustering with the bundled MiniLM embedder and scikit-learn on recorded traffic."""

from __future__ import annotations

from conftest import traffic

from slmstack.distill.artifacts import RunDir, write_jsonl
from slmstack.distill.cluster import cluster, load_clusters
from slmstack.distill.config import ClusterConfig
from slmstack.distill.curate import EXAMPLES


def _run_with(tmp_path, records) -> RunDir:
    run = RunDir(tmp_path)
    write_jsonl(run.stage("curate") / EXAMPLES, records)
    run.finish("curate", config={}, inputs={}, metrics={}, started=0.0)
    return run


def test_tool_calls_and_chat_land_in_separate_clusters(tmp_path):
    run = _run_with(tmp_path, traffic(n_tool=20, n_chat=10))
    meta = cluster(run, ClusterConfig(heldout_fraction=0.25))
    infos, assignments = load_clusters(run, "test")
    assert meta["metrics"]["examples"] == 30
    assert {i.kind for i in infos} == {"tool_call", "chat"}
    assert all(i.kind_share == 1.0 for i in infos)  # no cluster mixes the two kinds
    tool = [i for i in infos if i.kind == "tool_call"]
    assert sum(i.size for i in tool) == 20
    assert sum(i.cost_share for i in tool) > 0.9  # tool calls carry most of the cost
    assert {a.split for a in assignments} == {"train", "heldout"}
    png = (run.root / "cluster" / "clusters.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_finished_stage_is_skipped(tmp_path):
    run = _run_with(tmp_path, traffic(n_tool=6, n_chat=4))
    first = cluster(run, ClusterConfig(k=2))
    again = cluster(run, ClusterConfig(k=2))
    assert again["finished_at"] == first["finished_at"]
