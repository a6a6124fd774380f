"""RouterSettings from slmstack.toml: defaults, the default routing table, clear config errors."""

from __future__ import annotations

import pytest

from slmstack.config import Settings, load_settings
from slmstack.errors import ConfigError
from slmstack.router import RouterSettings, structural_kind
from slmstack.router.kinds import fits, hinted_kind, request_text
from slmstack.types import Message, ToolSpec


def test_defaults_route_every_kind_to_the_embedded_model() -> None:
    rs = RouterSettings.from_settings(Settings())
    table = rs.default_table()
    assert set(table.routes) == {"tool_call", "extract", "chat"} and table.default == "chat"
    assert all(r.model == "embedded:smollm2-135m" and not r.fallbacks
               for r in table.routes.values())
    assert rs.virtual_names() == ["slmstack/auto", "slmstack/small"]


def test_tier_names_in_routes_resolve_to_uris(tmp_path) -> None:
    cfg = tmp_path / "slmstack.toml"
    cfg.write_text(
        '[router]\ntiers = { small = "embedded:smollm2-135m", large = "gguf:/m/big.gguf" }\n'
        '[router.routes.tool_call]\nmodel = "small"\nfallbacks = ["large"]\n'
        'constraints = { max_tokens = 128 }\nverify = "escalate"\n'
        '[router.routes.math]\nmodel = "large"\n'
    )
    table = RouterSettings.from_settings(load_settings(cfg)).default_table()
    assert table.routes["tool_call"].fallbacks == ["gguf:/m/big.gguf"]
    assert table.routes["math"].model == "gguf:/m/big.gguf"
    assert table.default == "tool_call"  # no 'chat' route: the first one is the default


@pytest.mark.parametrize(("router", "message"), [
    ({"tiers": {}}, "router.tiers is empty"),
    ({"tierz": {}}, "router.tierz: Extra inputs"),
    ({"name": "auto"}, "must look like 'slmstack/<something>'"),
    ({"routes": {"chat": {"model": "small", "verify": "maybe"}}}, "router.routes.chat.verify"),
    ({"min_confidence": 2}, "router.min_confidence"),
])
def test_bad_router_settings_say_what_is_wrong(router: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")) as info:
        RouterSettings.from_settings(Settings(router=router))
    assert "slmstack.toml" in str(info.value)


def test_structural_kinds() -> None:
    tool = [ToolSpec(name="f")]
    assert structural_kind(tool, "auto", None) == "tool_call"
    assert structural_kind(tool, "none", {"type": "object"}) == "extract"
    assert structural_kind(None, "auto", None) == "chat"


def test_label_fitting_and_hints() -> None:
    assert fits("math", "chat") and fits("tool_call/hard", "tool_call")
    assert not fits("math", "tool_call") and not fits("chat", "extract")
    msgs = [Message.system("Translate the text into German."), Message.user("Good morning")]
    assert hinted_kind(msgs, RouterSettings().hints) == "translate"
    assert hinted_kind([Message.user("translate this")], RouterSettings().hints) is None
    assert request_text(msgs) == "Translate the text into German.\nGood morning"
