"""Routing: tables versioned in the store, task kinds, virtual names, streaming, shadows, report."""

from __future__ import annotations

import pytest

from slmstack.errors import ModelNotFound
from slmstack.router import build_router, virtual_models
from slmstack.store.records import Route, RoutingTable
from slmstack.types import Message, ToolSpec

from .helpers import LARGE, SMALL, calls, router_settings, tiers
from .test_escalation import ASK, BAD_CALL, GOOD_CALL, WEATHER


class FixedClassifier:
    """Stands in for TaskClassifier in control-flow tests (the real one: test_classifier.py)."""

    def __init__(self, label: str, prob: float) -> None:
        self.label, self.prob, self.seen = label, prob, []

    def predict(self, text: str) -> tuple[str, float]:
        self.seen.append(text)
        return self.label, self.prob


def _math_to_large() -> dict:
    return {"routes": {
        "chat": {"model": "small", "fallbacks": ["large"]},
        "tool_call": {"model": "small", "fallbacks": ["large"]},
        "math": {"model": "large"},
    }}


def test_the_store_table_replaces_the_settings_table_and_is_versioned(store) -> None:
    models = tiers(["small says hi"], ["large says hi"])
    models[SMALL].repeat_last = models[LARGE].repeat_last = True
    router = build_router(router_settings(), store=store, models=models, table_ttl_s=0)
    assert router.complete("hi").text == "small says hi"
    v1 = store.save_routing_table(RoutingTable(routes={"chat": Route(model=LARGE)}), "to large")
    assert router.complete("hi").text == "large says hi"
    before, after = calls(store)
    assert (before.routing_version, after.routing_version) == (None, v1.version)


def test_rollback_restores_the_previous_route(store) -> None:
    models = tiers(["small"], ["large"])
    models[SMALL].repeat_last = models[LARGE].repeat_last = True
    v1 = store.save_routing_table(RoutingTable(routes={"chat": Route(model=SMALL)}), "v1")
    v2 = store.save_routing_table(RoutingTable(routes={"chat": Route(model=LARGE)}), "v2")
    router = build_router(router_settings(), store=store, models=models, table_ttl_s=0)
    assert router.complete("hi").text == "large"
    v3 = store.rollback_routing_table()
    assert router.complete("hi").text == "small"
    first, second = calls(store)
    assert (first.routing_version, second.routing_version) == (v2.version, v3.version)
    assert v1.version < v2.version < v3.version


def test_unknown_kind_uses_the_tables_default_route(store) -> None:
    table = RoutingTable(routes={"chat": Route(model=LARGE)}, default="chat")
    store.save_routing_table(table)
    router = build_router(router_settings(), store=store, models=tiers([], [GOOD_CALL]))
    comp = router.complete(ASK, tools=[WEATHER])
    assert comp.route == "chat" and comp.kind_source == "default"


def test_classifier_picks_the_route_of_free_text() -> None:
    models = tiers([], ["42"])
    clf = FixedClassifier("math", 0.9)
    router = build_router(router_settings(**_math_to_large()), models=models, classifier=clf)
    comp = router.complete([Message.system("Be brief."), Message.user("6 times 7?")])
    assert (comp.route, comp.kind_source, comp.text) == ("math", "classifier", "42")
    assert clf.seen == ["Be brief.\n6 times 7?"]


def test_low_confidence_and_unknown_labels_fall_back_to_structure() -> None:
    for clf in (FixedClassifier("math", 0.3), FixedClassifier("poetry", 0.99)):
        router = build_router(router_settings(**_math_to_large(), min_confidence=0.5),
                              models=tiers(["ok"], []), classifier=clf)
        comp = router.complete("6 times 7?")
        assert (comp.route, comp.kind_source) == ("chat", "structure")


def test_a_classifier_cannot_turn_a_tool_call_into_another_kind() -> None:
    router = build_router(router_settings(**_math_to_large()), models=tiers([GOOD_CALL], []),
                          classifier=FixedClassifier("math", 0.99))
    assert router.complete(ASK, tools=[WEATHER]).route == "tool_call"


def test_sub_kinds_refine_structured_requests() -> None:
    routes = {"tool_call": {"model": "small"}, "tool_call/hard": {"model": "large"}}
    router = build_router(router_settings(routes=routes), models=tiers([], [GOOD_CALL]),
                          classifier=FixedClassifier("tool_call/hard", 0.8))
    assert router.complete(ASK, tools=[WEATHER]).route == "tool_call/hard"


def test_system_prompt_hints_name_a_kind_when_the_table_has_it() -> None:
    settings = router_settings(**_math_to_large())
    router = build_router(settings, models=tiers(["hi"], ["4"]))
    sys_math = [Message.system("Solve the problem step by step."), Message.user("2+2?")]
    assert router.complete(sys_math).route == "math"
    assert router.complete([Message.system("You are a pirate."), Message.user("hi")]).route == \
        "chat"


def test_virtual_names_and_pinned_views() -> None:
    settings = router_settings()
    assert virtual_models(settings) == ["slmstack/auto", "slmstack/small", "slmstack/large"]
    models = tiers([], ["pinned"])
    large = build_router(settings, models=models, name="slmstack/large")
    comp = large.complete(ASK, tools=[WEATHER], tool_choice="auto")
    assert comp.kind_source == "pinned" and [a["model"] for a in comp.attempts] == [LARGE]
    with pytest.raises(ModelNotFound, match="slmstack/medium"):
        large.view("slmstack/medium")
    assert large.view("slmstack/auto").pin is None


def test_pinned_tier_does_not_escalate() -> None:
    router = build_router(router_settings(), models=tiers([BAD_CALL], [GOOD_CALL]),
                          name="slmstack/small")
    with pytest.raises(Exception, match="invalid call"):
        router.complete(ASK, tools=[WEATHER])


def test_free_text_streams_live_from_the_first_tier(store) -> None:
    router = build_router(router_settings(), store=store,
                          models=tiers(["The sky is blue."], []))
    events = list(router.stream("Why is the sky blue?", task_id="s1"))
    deltas = "".join(e.delta for e in events if e.delta)
    final = events[-1].completion
    assert deltas == "The sky is blue." == final.text and final.route == "chat"
    (rec,) = calls(store)
    assert rec.task_id == "s1" and rec.response["text"] == "The sky is blue."


def test_streamed_structured_output_is_checked_before_it_is_sent(store) -> None:
    router = build_router(router_settings(), store=store, models=tiers([BAD_CALL], [GOOD_CALL]))
    events = list(router.stream(ASK, tools=[WEATHER]))
    assert [e.delta for e in events] == [""] and events[0].completion.escalated
    assert events[0].completion.tool_calls[0].name == "get_weather"
    assert [r.escalated for r in calls(store)] == [True, False]


def test_stream_falls_back_when_the_first_backend_is_down(store) -> None:
    from slmstack.errors import BackendUnavailable

    down = BackendUnavailable("connection refused", "start it")
    router = build_router(router_settings(), store=store, models=tiers([down], ["from large"]))
    events = list(router.stream("hi"))
    assert "".join(e.delta for e in events) == "from large"
    assert calls(store)[0].escalation_reason.startswith("backend:")


def test_shadow_model_runs_beside_and_is_recorded_as_a_shadow(store) -> None:
    settings = router_settings(routes={"chat": {"model": "small", "shadow": "large"}})
    models = tiers(["incumbent"], ["candidate"])
    router = build_router(settings, store=store, models=models)
    assert router.complete("hi").text == "incumbent"
    router.close()  # waits for the shadow worker
    answer, shadow = sorted(calls(store), key=lambda r: r.shadow_of is not None)
    assert shadow.shadow_of == answer.id and shadow.response["text"] == "candidate"
    assert shadow.model == LARGE and answer.shadow_of is None


def test_report_counts_small_share_and_escalations(store) -> None:
    small = [GOOD_CALL, BAD_CALL, GOOD_CALL, GOOD_CALL]
    router = build_router(router_settings(), store=store, models=tiers(small, [GOOD_CALL]))
    for _ in range(4):
        router.complete(ASK, tools=[WEATHER])
    assert store.flush(10)
    report = store.report()
    assert report.total.answered == 4 and report.total.escalated == 1
    assert report.small_share == pytest.approx(3 / 4)
    assert report.escalation_rate == pytest.approx(1 / 4)


def test_tools_switched_off_make_a_chat_request() -> None:
    models = tiers(["plain answer"], [])
    router = build_router(router_settings(), models=models)
    comp = router.complete(ASK, tools=[ToolSpec(name="x")], tool_choice="none")
    assert comp.route == "chat" and comp.text == "plain answer"


def test_recorded_traffic_labels_requests_by_route_or_by_outcome(store) -> None:
    from slmstack.router.training import examples_from_store

    router = build_router(router_settings(), store=store,
                          models=tiers([GOOD_CALL, BAD_CALL, "hi"], [GOOD_CALL]))
    router.complete(ASK, tools=[WEATHER])
    router.complete([Message.user("Weather in Rome?")], tools=[WEATHER])  # escalated
    router.complete("hello")
    assert store.flush(10)
    texts, labels = examples_from_store(store)
    assert labels == ["tool_call", "tool_call", "chat"]  # retries are not new examples
    assert texts[1] == "Weather in Rome?"
    assert examples_from_store(store, label="outcome")[1] == ["tool_call", "tool_call/hard",
                                                               "chat"]
