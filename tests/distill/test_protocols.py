from __future__ import annotations

import pytest

from slmstack.distill.artifacts import RunDir
from slmstack.distill.promote import promoted_table, rollback
from slmstack.distill.protocols import MemoryRoutingSink, read_jsonl_records
from slmstack.errors import UserError
from slmstack.store.records import Route, RoutingTable


def test_sink_versions_promote_and_rollback(tmp_path):
    path = tmp_path / "routing.json"
    sink = MemoryRoutingSink(RoutingTable(routes={"tool_call": Route(model="big")}), path=path)
    new = promoted_table(sink.current_routing_table(), "tool_call", "small")
    sink.save_routing_table(new, "promote")
    assert sink.current_routing_table().routes["tool_call"].model == "small"
    assert sink.current_routing_table().routes["tool_call"].fallbacks == ["big"]
    back = rollback(MemoryRoutingSink(path=path))  # reopened from disk
    assert back.version == 3 and back.routes["tool_call"].model == "big"
    assert MemoryRoutingSink(path=path).current_routing_table().version == 3


def test_rollback_without_history_is_a_user_error():
    with pytest.raises(UserError, match="no earlier routing-table version"):
        MemoryRoutingSink(RoutingTable()).rollback_routing_table()


def test_unfinished_stage_names_what_to_run(tmp_path):
    with pytest.raises(UserError, match="distill collect"):
        RunDir(tmp_path).require("collect", "curate")


def test_bad_trace_line_is_quoted(tmp_path):
    bad = tmp_path / "t.jsonl"
    bad.write_text('{"ts": "yesterday"}\n')
    with pytest.raises(UserError, match="line 1"):
        list(read_jsonl_records(bad))
