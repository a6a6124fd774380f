"""Routing tables are versioned data: every save and rollback writes a new version."""

from __future__ import annotations

import threading

import pytest

from slmstack.errors import UserError
from slmstack.store import Route, RoutingTable, TraceStore


def table(model: str, **routes: str) -> RoutingTable:
    return RoutingTable(routes={"chat": Route(model=model, fallbacks=["large"]),
                                **{k: Route(model=v) for k, v in routes.items()}})


def test_save_current_history(store: TraceStore) -> None:
    assert store.current_routing_table() is None
    assert store.routing_history() == []
    v1 = store.save_routing_table(table("small", extract="tiny").model_copy(update={"version": 99}),
                                  "initial")
    assert (v1.version, v1.note) == (1, "initial")  # the caller's version number is ignored
    v2 = store.save_routing_table(table("student"), "promote student")
    assert store.current_routing_table() == v2
    assert v2.version == 2 and v2.routes["chat"].fallbacks == ["large"]
    assert [t.version for t in store.routing_history()] == [1, 2]
    assert store.routing_history()[0].routes["extract"].model == "tiny"


def test_rollback_writes_new_versions_walking_back(store: TraceStore) -> None:
    with pytest.raises(UserError, match="no routing table"):
        store.rollback_routing_table()
    for m in ("a", "b", "c"):
        store.save_routing_table(table(m), f"use {m}")
    r4 = store.rollback_routing_table()
    assert (r4.version, r4.routes["chat"].model, r4.note) == (4, "b", "rollback of v3 to v2")
    r5 = store.rollback_routing_table()
    assert (r5.version, r5.routes["chat"].model, r5.note) == (5, "a", "rollback of v4 to v1")
    with pytest.raises(UserError, match="no earlier version"):
        store.rollback_routing_table()
    store.save_routing_table(table("d"), "use d")
    r7 = store.rollback_routing_table()
    assert (r7.version, r7.routes["chat"].model) == (7, "a")
    assert [t.routes["chat"].model for t in store.routing_history()] == list("abcbada")


def test_concurrent_saves_get_distinct_versions(store: TraceStore) -> None:
    errors: list[BaseException] = []

    def save(i: int) -> None:
        try:
            store.save_routing_table(table(f"m{i}"), str(i))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert [t.version for t in store.routing_history()] == list(range(1, 9))
    assert sorted(t.note for t in store.routing_history()) == [str(i) for i in range(8)]
